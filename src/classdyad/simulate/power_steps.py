"""The plan's steps for a power analysis, with the mediation tests (H3) computed leanly.

A power analysis needs, from each model of the plan, only the estimates, standard errors and p
values of its tested effects. :func:`power_steps` returns :func:`classdyad.study.plan.plan_steps`
with the fit of every H3 step (:func:`classdyad.analysis.mediation` of a background gap through
positive and negative interactions) replaced by one that computes exactly those numbers the same
way and nothing else:

* the same rows, columns, cluster-mean centring, formulas and REML fits
  (:func:`classdyad.mixed.lmm`, Satterthwaite t tests of the a, b and direct paths);
* the a-path models (each mediator on the exposure) do not involve the outcome: the steps of one
  exposure with the same complete rows (where the outcomes are observed on the same
  rows) share one pair of a-path fits, computed once, so of the plan's three models per step
  only the outcome model is fitted again (the same numbers: the same computation on the same
  data; a :meth:`~classdyad.mixed.LinearMixedModelResult.refit` would start the optimiser
  elsewhere and move Satterthwaite's p values by about 1e-9), on the a paths' rows and grouping
  factors (:meth:`~classdyad.mixed.LinearMixedModelResult.refit_with`: the matrices ``lmm``
  builds, without a data frame and formula parsing per model); the fits' tests are read as
  arrays (:meth:`~classdyad.mixed.LinearMixedModelResult.fixed_effect_tests`), not tables;
* the same Monte Carlo draws from the same generator
  (:func:`~classdyad.analysis.monte_carlo.draw_parallel_coefficients` for the a paths,
  :func:`~classdyad.analysis.monte_carlo.draw_coefficients` for the outcome model, computed
  into arrays kept across the steps: :mod:`classdyad.simulate.power_draws`), so the
  indirect and total effects get the same standard errors and Monte Carlo p values;
* the columns are built with numpy from arrays converted once per dataset
  (:mod:`classdyad.simulate.power_columns`; the class means equal pandas' to rounding), and
  the fits' numbers are read by position, not through pandas labels;
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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from classdyad.errors import ClassdyadError, ClassdyadWarning
from classdyad.mixed import LinearMixedModelResult, lmm
from classdyad.simulate.power_columns import MediationColumns, NotPlain, StepColumns
from classdyad.simulate.power_draws import MediationDraws
from classdyad.study import gaps
from classdyad.study.gaps import FitNote
from classdyad.study.plan import EXPOSURES, MEDIATORS, PlanStep, StepOutput, plan_steps

__all__ = ["power_steps"]

_COMPONENTS = (("within", "_w"), ("between", "_b"))
_EXPOSURE_TERMS = ("X_w", "X_b")
_MEDIATOR_TERMS = ("M0_w", "M0_b", "M1_w", "M1_b")
#: the outcome model's terms that are drawn, in the plan's order
_OUTCOME_DRAWN = (*_MEDIATOR_TERMS, *_EXPOSURE_TERMS)


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
    repeated = "student" if gaps.repeated_students(dataset) else None
    columns = MediationColumns(dataset, covariates, repeated)
    shared = _Shared(columns, MediationDraws(n_draws), {})
    out = []
    for step in steps:
        if step.hypothesis != "H3" or step.fit is None:
            out.append(step)
            continue
        _h, exposure, outcome = step.model_id.split("/")
        contrast = EXPOSURES[exposure]
        # the plan's step: the contrast's other group term, when it varies, is a covariate
        others = [t for t in gaps.CONTRASTS[contrast] if t != exposure
                  and columns.varies(contrast, t)]
        out.append(PlanStep(step.hypothesis, step.model_id, step.description,
                            _lean_mediation(step, shared, contrast, exposure, outcome, others,
                                            rng)))
    return out


@dataclass(frozen=True)
class _Shared:
    """What the steps of one dataset share: its columns, the draws' arrays, the a-path fits."""

    columns: MediationColumns
    draws: MediationDraws
    a_paths: dict[tuple[Any, ...],
                  tuple[LinearMixedModelResult, list[_PathValues], list[FitNote]]]


@dataclass(frozen=True)
class _PathValues:
    """What the steps use of one fit: its terms, estimates, covariance, Satterthwaite table
    columns (estimate, standard error, p value) and residuals (a paths)."""

    formula: str
    terms: tuple[str, ...]
    beta: np.ndarray
    covariance: np.ndarray
    table: np.ndarray  # (terms, 3): estimate, std_error, p_value
    residuals: np.ndarray

    @classmethod
    def of(cls, fit: LinearMixedModelResult, formula: str, residuals: bool) -> _PathValues:
        tests = fit.fixed_effect_tests()
        return cls(formula, tests.terms, np.asarray(fit.beta, dtype=float),
                   np.asarray(fit.fixed_covariance, dtype=float),
                   np.column_stack([tests.estimate, tests.std_error, tests.p_value]),
                   _conditional_residuals(fit) if residuals else np.empty(0))

    def positions(self, terms: tuple[str, ...]) -> list[int] | None:
        """Where ``terms`` are among the fit's terms (``None`` if one was dropped)."""
        try:
            return [self.terms.index(t) for t in terms]
        except ValueError:
            return None

    def values(self, term: str) -> tuple[float, float, float]:
        """(estimate, standard error, p value) of ``term``."""
        estimate, std_error, p_value = self.table[self.terms.index(term)]
        return float(estimate), float(std_error), float(p_value)


def _conditional_residuals(fit: LinearMixedModelResult) -> np.ndarray:
    """``y - X beta - Z b`` with the conditional modes ``b`` (as ``response - predict()``).

    For random intercepts of classes and of students within them (``(1 | G) + (1 | R)``, or
    ``(1 | G)`` alone) the penalized least-squares equations of the modes solve in closed form
    per class: with relative standard deviations ``a`` (class) and ``c`` (student), ``n_s``
    rows and residual sum ``S_s`` of ``y - X beta`` per student,
    ``u_g = a sum_s S_s / (1 + c^2 n_s) / (1 + a^2 sum_s n_s / (1 + c^2 n_s))`` and
    ``u_s = c (S_s - a n_s u_g) / (1 + c^2 n_s)``, and the modes are ``a u_g`` and ``c u_s``
    (the numbers of :meth:`~classdyad.mixed.LinearMixedModelResult.predict`'s sparse solve, to
    rounding: 1e-13). Other designs take ``predict()``.
    """
    design = fit.design
    residual = design.response - design.fixed @ fit.beta - design.offset
    terms = design.random_terms
    theta = np.asarray(fit.theta, dtype=float)
    by_name = {t.name: (k, t) for k, t in enumerate(terms)}
    plain = (len(terms) == theta.size and set(by_name) in ({"G"}, {"G", "R"})
             and all(t.n_effects == 1 and (t.matrix == 1.0).all() for t in terms))
    if not plain:
        return design.response - fit.predict()
    k_class, classes = by_name["G"]
    a = theta[k_class]
    if "R" not in by_name:
        sizes = np.bincount(classes.codes, minlength=classes.n_levels)
        sums = np.bincount(classes.codes, weights=residual, minlength=classes.n_levels)
        u_class = a * sums / (1.0 + a * a * sizes)
        return residual - (a * u_class)[classes.codes]
    k_student, students = by_name["R"]
    c = theta[k_student]
    class_of = np.zeros(students.n_levels, dtype=np.int64)
    class_of[students.codes] = classes.codes
    if not (class_of[students.codes] == classes.codes).all():  # students not nested
        return design.response - fit.predict()
    sizes = np.bincount(students.codes, minlength=students.n_levels).astype(float)
    sums = np.bincount(students.codes, weights=residual, minlength=students.n_levels)
    shrink = 1.0 / (1.0 + c * c * sizes)
    u_class = a * np.bincount(class_of, weights=sums * shrink, minlength=classes.n_levels) / (
        1.0 + a * a * np.bincount(class_of, weights=sizes * shrink,
                                  minlength=classes.n_levels))
    u_student = c * (sums - a * sizes * u_class[class_of]) * shrink
    return residual - (a * u_class)[classes.codes] - (c * u_student)[students.codes]


def _fit_paths(work: dict[str, Any], step: StepColumns, design: tuple[Any, ...],
               n_covariates: int, shared: _Shared
               ) -> tuple[list[_PathValues], _PathValues, list[FitNote]]:
    """The a-path fits, the outcome model's fit and the a-path fits' notes.

    The a-path models (a mediator on the exposure) do not involve the outcome: the steps of one
    exposure whose rows are the same share their fits (and notes), which are the same numbers.
    """
    random = " + (1 | G)" + (" + (1 | R)" if "R" in work else "")
    covariates = [f"C{k}" for k in range(n_covariates)]
    if design not in shared.a_paths:
        frame = pd.DataFrame(work, copy=False)
        a_formulas = [" + ".join([f"M{k} ~ 1", *_EXPOSURE_TERMS, *covariates]) + random
                      for k in range(2)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ClassdyadWarning)
            first = lmm(a_formulas[0], frame)
            first_path = _PathValues.of(first, a_formulas[0], True)
            # the same design: only the response's cross-products are redone
            second = first.refit(work["M1"], warm_start=False)
            a_fits = [first_path, _PathValues.of(second, a_formulas[1], True)]
        if any(a.positions(_EXPOSURE_TERMS) is None for a in a_fits):
            raise NotPlain  # a path lost to collinearity: the plan's step says which
        shared.a_paths[design] = (first, a_fits, [FitNote(str(w.message), w.category)
                                                  for w in caught
                                                  if issubclass(w.category, ClassdyadWarning)])
    first, a_fits, a_notes = shared.a_paths[design]
    b_terms = [*_MEDIATOR_TERMS, *_EXPOSURE_TERMS, *covariates]
    b_formula = " + ".join(["Y ~ 1", *b_terms]) + random
    # the outcome model on the a paths' rows and grouping factors (lmm on the same frame
    # builds the same matrices: the same numbers)
    b_columns = {"(Intercept)": np.ones(len(work["Y"])), **{t: work[t] for t in b_terms}}
    b_fit = _PathValues.of(first.refit_with(b_formula, work["Y"], b_columns), b_formula, False)
    if b_fit.positions(_OUTCOME_DRAWN) is None:
        raise NotPlain
    return a_fits, b_fit, list(a_notes)


def _row(step: PlanStep, outcome: str, exposure: str, effect: str, level: str,
         estimate: float, std_error: float, p_value: float, n: int) -> dict[str, Any]:
    return {"hypothesis": "H3", "outcome": outcome, "effect": effect, "contrast": exposure,
            "level": level, "estimate": float(estimate), "std_error": float(std_error),
            "p_value": float(p_value), "n": n, "model": step.model_id}


def _drawn(fit: _PathValues, terms: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and covariance of ``terms`` (by position)."""
    positions = fit.positions(terms)
    assert positions is not None
    return fit.beta[positions], fit.covariance[np.ix_(positions, positions)]


def _lean_mediation(step: PlanStep, shared: _Shared, contrast: str, exposure: str,
                    outcome: str, others: list[str], rng: np.random.Generator):
    plan_fit = step.fit
    assert plan_fit is not None

    def fit() -> StepOutput:
        columns = shared.columns
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ClassdyadWarning)
            try:
                rows = columns.step(contrast, exposure, outcome, others)
                work = columns.work(rows, exposure, others)
                design = ("a paths", exposure, *columns.covariates, *others,
                          columns.repeated or "", rows.key)
                a_fits, b_fit, a_notes = _fit_paths(work, rows, design,
                                                    len(columns.covariates) + len(others),
                                                    shared)
            except (NotPlain, ClassdyadError, ValueError, ArithmeticError,
                    np.linalg.LinAlgError):
                work = None
        if work is None:
            return plan_fit()
        notes = (*a_notes, *(FitNote(str(w.message), w.category) for w in caught
                             if issubclass(w.category, ClassdyadWarning)))
        draws = shared.draws
        a_parts = [_drawn(f, _EXPOSURE_TERMS) for f in a_fits]
        a_draws = draws.parallel([m for m, _c in a_parts], [c for _m, c in a_parts],
                                 [f.residuals for f in a_fits], rng)
        b_draws = draws.single(*_drawn(b_fit, _OUTCOME_DRAWN), rng)
        n = len(rows.positions)
        a_beta = [dict(zip(_EXPOSURE_TERMS, m, strict=True)) for m, _c in a_parts]
        b_beta = dict(zip(_OUTCOME_DRAWN, _drawn(b_fit, _OUTCOME_DRAWN)[0], strict=True))
        out = []
        for e, (level, suffix) in enumerate(_COMPONENTS):
            exposure_term = f"X{suffix}"
            for k, mediator in enumerate(MEDIATORS):
                out.append(_row(step, outcome, exposure, f"a:{mediator}", level,
                                *a_fits[k].values(exposure_term), n))
            for k, mediator in enumerate(MEDIATORS):
                out.append(_row(step, outcome, exposure, f"b:{mediator}", level,
                                *b_fit.values(f"M{k}{suffix}"), n))
            point_total = 0.0
            indirect = []
            for k, mediator in enumerate(MEDIATORS):
                term = f"M{k}{suffix}"
                point = float(a_beta[k][exposure_term]) * float(b_beta[term])
                product = draws.product(a_draws[:, 2 * k + e],
                                        b_draws[:, _OUTCOME_DRAWN.index(term)],
                                        f"indirect {k}")
                indirect.append(product)
                point_total = point_total + point
                out.append(_row(step, outcome, exposure, f"indirect:{mediator}", level, point,
                                *draws.summary(product), n))
            # the plan's 0.0 + first + second (adding 0.0 changes no draw's sign or value)
            draws_total = draws.add(indirect[0], indirect[1], "indirect total")
            out.append(_row(step, outcome, exposure, "indirect_total", level, point_total,
                            *draws.summary(draws_total), n))
            direct = b_fit.values(exposure_term)
            out.append(_row(step, outcome, exposure, "direct", level, *direct, n))
            total_draws = draws.add(draws_total,
                                    b_draws[:, _OUTCOME_DRAWN.index(exposure_term)], "total")
            direct_estimate = float(b_beta[exposure_term])
            out.append(_row(step, outcome, exposure, "total", level,
                            point_total + direct_estimate, *draws.summary(total_draws), n))
            out.append(_row(step, outcome, exposure, "proportion_mediated", level,
                            _ratio(point_total, point_total + direct_estimate),
                            math.nan, math.nan, n))
        return (f"1-1-1 mediation, within/between classes (lean): {b_fit.formula}", notes,
                out, ())

    return fit


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator != 0 else math.nan
