"""The plan's steps for a power analysis, with the mediation tests (H3) computed leanly.

A power analysis needs, from each model of the plan, only the estimates, standard errors and p
values of its tested effects. :func:`power_steps` returns :func:`classdyad.study.plan.plan_steps`
with the fit of every H3 step (:func:`classdyad.analysis.mediation` of a background gap through
positive and negative interactions) replaced by one that computes exactly those numbers the same
way and nothing else:

* the same rows, columns, cluster-mean centring (pandas' group means, as ``mediation``), formulas
  and REML fits (:func:`classdyad.mixed.lmm`, Satterthwaite t tests of the a, b and direct paths);
* the a-path models (each mediator on the exposure) do not involve the outcome: the steps of one
  exposure with the same complete rows (the usual case: the outcomes are observed on the same
  rows) share one pair of a-path fits, computed once, so of the plan's three models per step
  only the outcome model is fitted again (the same numbers: the same computation on the same
  data; a :meth:`~classdyad.mixed.LinearMixedModelResult.refit` would start the optimiser
  elsewhere and move Satterthwaite's p values by about 1e-9);
* the same Monte Carlo draws from the same generator
  (:func:`~classdyad.analysis.monte_carlo.draw_parallel_coefficients` for the a paths,
  :func:`~classdyad.analysis.monte_carlo.draw_coefficients` for the outcome model), so the
  indirect and total effects get the same standard errors and Monte Carlo p values;
* what is left out: the percentile intervals (their sorts), the delta-method table, the
  R-squared table, the sentences and the input checks' error messages.

Whenever the data are not plainly fit for the model (a group, mediator or outcome without
variation, fewer than three classes, a mediator constant within every class) or a fit fails or
drops a path, the plan's own step runs instead, before any draw, so errors, notes and draws are
the plan's. ``tests/simulate/test_power_steps.py`` checks on several replicate studies that
both give the same estimates, standard errors and p values.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from classdyad.analysis.monte_carlo import (
    draw_coefficients,
    draw_parallel_coefficients,
    monte_carlo_p_value,
)
from classdyad.analysis.path_models import PathFit
from classdyad.errors import ClassdyadError, ClassdyadWarning
from classdyad.mixed import LinearMixedModelResult, lmm
from classdyad.study import gaps
from classdyad.study.gaps import FitNote
from classdyad.study.plan import EXPOSURES, MEDIATORS, PlanStep, StepOutput, plan_steps

__all__ = ["power_steps"]

_COMPONENTS = (("within", "_w"), ("between", "_b"))


class _NotPlain(Exception):
    """The data or a fit need the plan's own step (its checks, messages and notes)."""


def power_steps(dataset: pd.DataFrame, *, hypotheses: tuple[str, ...],
                rng: np.random.Generator, n_draws: int) -> list[PlanStep]:
    """:func:`~classdyad.study.plan.plan_steps` with lean fits of the H3 mediation steps.

    The steps, their order, ids and use of ``rng`` are the plan's; an H3 step's rows hold the
    plan's ``hypothesis, outcome, effect, contrast, level, estimate, std_error, p_value, n`` and
    ``model`` (no intervals).
    """
    steps = plan_steps(dataset, hypotheses=hypotheses, rng=rng, n_draws=n_draws)
    if "H3" not in hypotheses:
        return steps
    covariates = ["boy"] if dataset["boy"].nunique() > 1 else []
    repeated = "student" if dataset.groupby("student").size().max() > 1 else None
    contrast_rows: dict[str, pd.DataFrame] = {}
    caches: dict[str, dict[tuple[str, ...], Any]] = {}
    out = []
    for step in steps:
        if step.hypothesis != "H3" or step.fit is None:
            out.append(step)
            continue
        _h, exposure, outcome = step.model_id.split("/")
        contrast = EXPOSURES[exposure]
        if contrast not in contrast_rows:
            contrast_rows[contrast] = gaps.contrast_rows(dataset, contrast).dropna(
                subset=list(MEDIATORS))
        rows = contrast_rows[contrast]
        # the plan's step: the contrast's other group term, when it varies, is a covariate
        others = [t for t in gaps.CONTRASTS[contrast] if t != exposure
                  and rows[t].dropna().nunique() > 1]
        out.append(PlanStep(step.hypothesis, step.model_id, step.description,
                            _lean_mediation(step, rows, exposure, outcome,
                                            [*covariates, *others], repeated, rng, n_draws,
                                            caches.setdefault(contrast, {}))))
    return out


def _varies_within(values: np.ndarray, codes: np.ndarray, n_groups: int) -> bool:
    """``require_within_variation``'s condition: some class has a range above the tolerance."""
    high = np.full(n_groups, -np.inf)
    low = np.full(n_groups, np.inf)
    np.maximum.at(high, codes, values)
    np.minimum.at(low, codes, values)
    return bool(((high - low) > 1e-12 * max(1.0, float(np.abs(values).max()))).any())


def _complete_rows(rows: pd.DataFrame, names: list[str], outcome: str,
                   cache: dict[tuple[str, ...], Any]
                   ) -> tuple[pd.DataFrame, pd.DataFrame, bytes]:
    """The rows with every named column observed, the columns that do not depend on the
    exposure (outcome, mediators and their class means, classes, students) and the positions
    of those rows in ``rows``; shared by the exposures whose models name the same columns, or
    :class:`_NotPlain`."""
    key = (outcome, *sorted(names))
    if key in cache:
        return cache[key]
    frame = rows.loc[:, names]
    complete = frame.notna().all(axis=1).to_numpy()
    frame = frame.loc[complete].reset_index(drop=True)
    if len(frame) < 10:
        raise _NotPlain
    base = pd.DataFrame({"Y": _numeric(frame[outcome])})
    for k, name in enumerate(MEDIATORS):
        base[f"M{k}"] = _numeric(frame[name])
    base["G"] = frame["classroom"].astype(str)
    if "student" in frame.columns:
        base["R"] = frame["student"].astype(str)
    codes, levels = pd.factorize(base["G"], sort=False)
    if len(levels) < 3:
        raise _NotPlain
    for column in ("M0", "M1"):
        values = base[column].to_numpy()
        if not _varies_within(values, codes, len(levels)):
            raise _NotPlain
        means = base[column].groupby(codes, sort=False).transform("mean")  # G's groups
        if means.nunique() < 2:  # no between-class effect
            raise _NotPlain
        base[f"{column}_b"] = means
        base[f"{column}_w"] = base[column] - means
    cache[key] = (frame, base, np.flatnonzero(complete).tobytes())
    return cache[key]


def _numeric(values: pd.Series) -> np.ndarray:
    """A numeric column as floats, or :class:`_NotPlain` where ``mediation`` might object."""
    if not (pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values)):
        raise _NotPlain
    out = values.to_numpy(dtype=float)
    if not np.isfinite(out).all() or np.unique(out).size < 2:
        raise _NotPlain
    return out


def _work_frame(rows: pd.DataFrame, exposure: str, outcome: str, covariates: list[str],
                repeated: str | None,
                cache: dict[tuple[str, ...], Any]
                ) -> tuple[pd.DataFrame, tuple[str | bytes, ...]]:
    """The columns ``mediation`` fits (X, Y, M0, M1, C0.., G, R and the centred parts) and what
    the models' designs depend on (the exposure, covariates and rows: not the outcome, which
    only the outcome model's response is), or :class:`_NotPlain` where its input checks might
    object."""
    names = list(dict.fromkeys([exposure, *MEDIATORS, outcome, *covariates, "classroom",
                                *([repeated] if repeated else [])]))
    frame, base, positions = _complete_rows(rows, names, outcome, cache)
    work = base.copy()
    work["X"] = _numeric(frame[exposure])
    for k, name in enumerate(covariates):
        values = frame[name]
        work[f"C{k}"] = values.astype(float) if pd.api.types.is_bool_dtype(values) else values
    codes, levels = pd.factorize(work["G"], sort=False)
    if not _varies_within(work["X"].to_numpy(), codes, len(levels)):
        raise _NotPlain
    means = work["X"].groupby(codes, sort=False).transform("mean")  # G's groups
    if means.nunique() < 2:
        raise _NotPlain
    work["X_b"] = means
    work["X_w"] = work["X"] - means
    return work, (exposure, *covariates, repeated or "", positions)


def _path_fit(fit: LinearMixedModelResult, formula: str, residuals: bool) -> PathFit:
    names = list(fit.fixed_effects["term"])
    return PathFit(formula, pd.Series(fit.beta, index=names),
                   pd.DataFrame(fit.fixed_covariance, index=names, columns=names),
                   fit.fixed_effects, fit.n_obs, fit,
                   fit.design.response - fit.predict() if residuals else np.empty(0))


def _fit_paths(work: pd.DataFrame, design: tuple[str | bytes, ...], n_covariates: int,
               repeated: bool, cache: dict[tuple[str, ...], Any]
               ) -> tuple[list[PathFit], PathFit, list[FitNote]]:
    """The a-path fits, the outcome model's fit and the a-path fits' notes.

    The a-path models (a mediator on the exposure) do not involve the outcome: the steps of one
    exposure whose rows are the same share their fits (and notes), which are the same numbers.
    """
    random = " + (1 | G)" + (" + (1 | R)" if repeated else "")
    covariates = [f"C{k}" for k in range(n_covariates)]
    exposure_terms = ["X_w", "X_b"]
    mediator_terms = ["M0_w", "M0_b", "M1_w", "M1_b"]
    key = ("a paths", *design)
    if key not in cache:
        a_formulas = [" + ".join([f"M{k} ~ 1", *exposure_terms, *covariates]) + random
                      for k in range(2)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ClassdyadWarning)
            first = lmm(a_formulas[0], work)
            first_path = _path_fit(first, a_formulas[0], True)
            # refitted after the first fit's residuals, so that the general solver built for
            # its conditional modes is shared (only the response's cross-products are redone)
            second = first.refit(work["M1"].to_numpy(dtype=float), warm_start=False)
            a_fits = [first_path, _path_fit(second, a_formulas[1], True)]
        if any(t not in a.estimates.index for a in a_fits for t in exposure_terms):
            raise _NotPlain  # a path lost to collinearity: the plan's step says which
        cache[key] = (a_fits, [FitNote(str(w.message), w.category) for w in caught
                               if issubclass(w.category, ClassdyadWarning)])
    a_fits, a_notes = cache[key]
    b_formula = " + ".join(["Y ~ 1", *mediator_terms, *exposure_terms, *covariates]) + random
    b_fit = _path_fit(lmm(b_formula, work), b_formula, False)
    if any(t not in b_fit.estimates.index for t in [*mediator_terms, *exposure_terms]):
        raise _NotPlain
    return a_fits, b_fit, list(a_notes)


def _row(step: PlanStep, outcome: str, exposure: str, effect: str, level: str,
         estimate: float, std_error: float, p_value: float, n: int) -> dict[str, Any]:
    return {"hypothesis": "H3", "outcome": outcome, "effect": effect, "contrast": exposure,
            "level": level, "estimate": float(estimate), "std_error": float(std_error),
            "p_value": float(p_value), "n": n, "model": step.model_id}


def _model_values(fit: PathFit) -> dict[str, tuple[float, float, float]]:
    """term -> (estimate, standard error, p value) of the fit's table."""
    table = fit.table
    return {term: (float(e), float(s), float(p)) for term, e, s, p in zip(
        table["term"], table["estimate"], table["std_error"], table["p_value"], strict=True)}


def _lean_mediation(step: PlanStep, rows: pd.DataFrame, exposure: str, outcome: str,
                    covariates: list[str], repeated: str | None, rng: np.random.Generator,
                    n_draws: int, cache: dict[tuple[str, ...], Any]):
    plan_fit = step.fit
    assert plan_fit is not None

    def fit() -> StepOutput:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ClassdyadWarning)
            try:
                work, design = _work_frame(rows, exposure, outcome, covariates, repeated,
                                           cache)
                a_fits, b_fit, a_notes = _fit_paths(work, design, len(covariates),
                                                    repeated is not None, cache)
            except (_NotPlain, ClassdyadError, ValueError, ArithmeticError,
                    np.linalg.LinAlgError):
                work = None
        if work is None:
            return plan_fit()
        notes = (*a_notes, *(FitNote(str(w.message), w.category) for w in caught
                             if issubclass(w.category, ClassdyadWarning)))
        a_draws = draw_parallel_coefficients(a_fits, ["X_w", "X_b"], n_draws, rng)
        b_draws = draw_coefficients(b_fit, ["M0_w", "M0_b", "M1_w", "M1_b", "X_w", "X_b"],
                                    n_draws, rng)
        n = len(work)
        a_values = [_model_values(f) for f in a_fits]
        b_values = _model_values(b_fit)
        out = []
        for level, suffix in _COMPONENTS:
            exposure_term = f"X{suffix}"
            for k, mediator in enumerate(MEDIATORS):
                out.append(_row(step, outcome, exposure, f"a:{mediator}", level,
                                *a_values[k][exposure_term], n))
            for k, mediator in enumerate(MEDIATORS):
                out.append(_row(step, outcome, exposure, f"b:{mediator}", level,
                                *b_values[f"M{k}{suffix}"], n))
            point_total = 0.0
            draws_total: Any = 0.0
            for k, mediator in enumerate(MEDIATORS):
                term = f"M{k}{suffix}"
                point = float(a_fits[k].estimates[exposure_term]) * float(
                    b_fit.estimates[term])
                draws = a_draws[k][exposure_term] * b_draws[term]
                point_total = point_total + point
                draws_total = draws_total + draws
                out.append(_row(step, outcome, exposure, f"indirect:{mediator}", level, point,
                                np.std(draws, ddof=1), monte_carlo_p_value(draws), n))
            out.append(_row(step, outcome, exposure, "indirect_total", level, point_total,
                            np.std(draws_total, ddof=1), monte_carlo_p_value(draws_total), n))
            direct = b_values[exposure_term]
            out.append(_row(step, outcome, exposure, "direct", level, *direct, n))
            total_draws = draws_total + b_draws[exposure_term]
            out.append(_row(step, outcome, exposure, "total", level,
                            point_total + float(b_fit.estimates[exposure_term]),
                            np.std(total_draws, ddof=1), monte_carlo_p_value(total_draws), n))
            out.append(_row(step, outcome, exposure, "proportion_mediated", level,
                            _ratio(point_total, point_total
                                   + float(b_fit.estimates[exposure_term])),
                            math.nan, math.nan, n))
        return (f"1-1-1 mediation, within/between classes (lean): {b_fit.formula}", notes,
                out, ())

    return fit


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator != 0 else math.nan
