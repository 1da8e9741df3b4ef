"""Multilevel (1-1-1) mediation with a within/between split: :func:`mediation`.

Method. In a 1-1-1 design the exposure X (e.g. low SES), the mediators M_k (e.g. the rates of
positive and negative interactions) and the outcome Y (e.g. teacher-reported closeness) are all
measured on students in classes. Their effects within classes and between classes differ in
general, and a single coefficient mixes the two. Following Zhang, Zyphur & Preacher (2009), each
level-1 predictor is split into its class mean and its deviation from that mean (CWC(M):
centring within clusters, with the cluster means re-entered), in both regressions:

    M_k = a0 + aW_k (X - X.j) + aB_k X.j + covariates + u_j (+ v_i) + e        (one per mediator)
    Y   = b0 + sum_k [bW_k (M_k - M_k.j) + bB_k M_k.j] + c'W (X - X.j) + c'B X.j
             + covariates + u_j (+ v_i) + e

with a random intercept u_j for the cluster and, optionally, v_i for repeated measures of the same
student, fitted by REML with :func:`classdyad.mixed.lmm`. The within-class indirect effect via
M_k is ``aW_k bW_k``, the between-class one ``aB_k bB_k``; their sums over the mediators are the
total indirect effects, ``c'`` the direct effects, ``c' + sum_k a_k b_k`` the total effects and
the ratio of total indirect to total effect the proportion mediated. With
``decomposition="none"`` X and M_k enter as they are (one, overall, set of effects); without a
cluster the regressions are ordinary least squares, the single-level mediation model.

Intervals for the indirect, total and proportion effects are Monte Carlo intervals (Preacher &
Selig 2012; :mod:`classdyad.analysis.monte_carlo`): the coefficients of each model are drawn
jointly from their estimated sampling distribution; the a-path models of several mediators are
drawn jointly with the cross-covariance implied by their residual correlation
(:func:`classdyad.analysis.monte_carlo.draw_parallel_coefficients`), the outcome model
independently of them (its estimates are asymptotically independent of the a paths). A cluster
bootstrap is offered for comparison: clusters are resampled with replacement (students keep all
their rows), every model is refitted and percentile intervals are taken. The Monte Carlo
intervals rest on the random-intercept models; where the paths vary between clusters (random
slopes, as in Bauer, Preacher & Gil's data) the cluster bootstrap is the more honest interval,
and visibly wider.

Beside the Monte Carlo (or bootstrap) intervals of the main ``effects`` table, the result holds
first-order delta-method (Sobel) standard errors, z tests and normal intervals of the derived
effects in their own table (``delta_method``: columns ``delta_std_error``, ``delta_p_value``,
``delta_ci_lower``, ...), and the R-squared of every path model (``r_squared``: Nakagawa &
Schielzeth's marginal and conditional R-squared for mixed models, ``1 - RSS / TSS`` for least
squares); see :mod:`classdyad.analysis.mediation_inference`. For random a, b and c' paths see
:func:`classdyad.analysis.random_slope_mediation`.

Validation. On single-level data the path coefficients and indirect effects equal lavaan's
``sem()`` (0.6-14) with ``:=`` defined effects to 1e-6; standard errors differ by the factor
``sqrt((n - p) / n)`` (least squares against maximum likelihood). On Bauer, Preacher & Gil's
(2006) two-level data the within-class paths and indirect effect match lavaan's two-level model
(``sem(..., cluster = "id")``) to 1e-4 relative; the between-class effects differ because lavaan
treats cluster means as latent variables while CWC(M) uses the observed means, which contain
sampling error and attenuate the between-class paths (Lüdtke et al. 2008) - see
``tests/analysis/test_mediation_golden.py``.

References
----------
Zhang, Z., Zyphur, M. J. & Preacher, K. J. (2009). Testing multilevel mediation using
hierarchical linear models: problems and solutions. *Organizational Research Methods*, 12(4),
695-719. doi:10.1177/1094428108327450

Preacher, K. J. & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals for indirect
effects. *Communication Methods and Measures*, 6(2), 77-98.

Bauer, D. J., Preacher, K. J. & Gil, K. M. (2006). Conceptualizing and testing random indirect
effects and moderated mediation in multilevel models. *Psychological Methods*, 11(2), 142-163.

Lüdtke, O., Marsh, H. W., Robitzsch, A., Trautwein, U., Asparouhov, T. & Muthén, B. (2008). The
multilevel latent covariate model. *Psychological Methods*, 13(3), 203-229.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from classdyad.analysis.centering import cluster_means
from classdyad.analysis.mediation_inference import delta_method_table, r_squared_table
from classdyad.analysis.mediation_results import (
    MediationResult,
    conclusion_sentence,
    mediation_verdict,
)
from classdyad.analysis.model_input import (
    prepare_columns,
    require_variation,
    require_within_variation,
)
from classdyad.analysis.monte_carlo import (
    draw_coefficients,
    draw_parallel_coefficients,
    interval_from_draws,
    monte_carlo_p_value,
)
from classdyad.analysis.path_models import PathFit, fit_path_model
from classdyad.errors import (
    ConvergenceWarning,
    DataError,
    EstimationError,
    SingularFitWarning,
    check_option,
)

__all__ = ["MediationResult", "mediation"]

_SUFFIX = {"within": "_w", "between": "_b", "overall": ""}


@dataclass(frozen=True)
class _Spec:
    """The model, in the internal column names X, M0.., Y, G (cluster), R (repeated), C0.."""

    n_mediators: int
    covariates: tuple[str, ...]
    components: tuple[str, ...]
    random: tuple[str, ...]
    confidence: float

    def exposure_terms(self) -> list[str]:
        return [f"X{_SUFFIX[c]}" for c in self.components]

    def mediator_terms(self) -> list[str]:
        return [f"M{k}{_SUFFIX[c]}" for k in range(self.n_mediators) for c in self.components]


def _as_names(value: str | Sequence[str], what: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    if not names and what == "mediators":
        raise DataError("give at least one mediator column, e.g. mediators=['negative_rate']")
    if len(set(names)) != len(names):
        raise DataError(f"the {what} {list(names)} name a column twice; give each once")
    return names


def _decompose(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Add ``<col>_b`` (cluster mean over the rows used) and ``<col>_w`` (deviation) columns."""
    out = frame.copy()
    codes = pd.factorize(out["G"])[0]
    for column in columns:
        values = out[column].to_numpy(dtype=float)
        means = cluster_means(values, codes)[codes]
        out[f"{column}_b"] = means
        out[f"{column}_w"] = values - means
    return out


def _fit_models(frame: pd.DataFrame, spec: _Spec) -> tuple[list[PathFit], PathFit]:
    mediators = [f"M{k}" for k in range(spec.n_mediators)]
    if "within" in spec.components:
        frame = _decompose(frame, ["X", *mediators])
    exposure_terms = spec.exposure_terms()
    a_fits = [
        fit_path_model(m, [*exposure_terms, *spec.covariates], frame, random=spec.random,
                       confidence=spec.confidence)
        for m in mediators
    ]
    b_fit = fit_path_model(
        "Y", [*spec.mediator_terms(), *exposure_terms, *spec.covariates], frame,
        random=spec.random, confidence=spec.confidence,
    )
    needed = [(fit, exposure_terms) for fit in a_fits]
    needed.append((b_fit, [*spec.mediator_terms(), *exposure_terms]))
    for fit, terms in needed:
        lost = [t for t in terms if t not in fit.estimates.index]
        if lost:
            raise EstimationError(
                f"{fit.formula!r}: the path(s) {lost} could not be estimated (collinear with "
                "other predictors); drop the covariates that duplicate the exposure or a "
                "mediator"
            )
    return a_fits, b_fit


def _derived(a_coefficients: Sequence, b_coefficients, spec: _Spec) -> dict[tuple, np.ndarray]:
    """Indirect, total indirect, total and proportion mediated from path coefficients.

    Works on scalars (point estimates) and on arrays (Monte Carlo draws) alike.
    """
    out: dict[tuple, np.ndarray] = {}
    for component in spec.components:
        suffix = _SUFFIX[component]
        total_indirect = 0.0
        for k, a in enumerate(a_coefficients):
            indirect = np.asarray(a[f"X{suffix}"]) * np.asarray(b_coefficients[f"M{k}{suffix}"])
            out[(component, "indirect", k)] = indirect
            total_indirect = total_indirect + indirect
        total = total_indirect + np.asarray(b_coefficients[f"X{suffix}"])
        out[(component, "total_indirect", None)] = np.asarray(total_indirect)
        out[(component, "total", None)] = total
        with np.errstate(divide="ignore", invalid="ignore"):
            out[(component, "proportion_mediated", None)] = np.asarray(total_indirect) / total
    return out


def _monte_carlo(a_fits, b_fit, spec: _Spec, n_draws: int, rng) -> dict[tuple, np.ndarray]:
    a_draws = draw_parallel_coefficients(a_fits, spec.exposure_terms(), n_draws, rng)
    b_draws = draw_coefficients(
        b_fit, [*spec.mediator_terms(), *spec.exposure_terms()], n_draws, rng
    )
    return _derived(a_draws, b_draws, spec)


def _bootstrap(
    frame: pd.DataFrame, spec: _Spec, n_bootstrap: int, rng: np.random.Generator
) -> tuple[dict[tuple, np.ndarray], int]:
    """Cluster bootstrap: resample clusters (or rows without clusters) and refit every model."""
    if "G" in frame:
        codes, _ = pd.factorize(frame["G"])
        members = [np.flatnonzero(codes == g) for g in range(codes.max() + 1)]
    else:
        members = [np.array([i]) for i in range(len(frame))]
    collected: dict[tuple, list[float]] = {}
    failed = 0
    for _ in range(n_bootstrap):
        pick = rng.integers(0, len(members), len(members))
        rows = np.concatenate([members[g] for g in pick])
        sample = frame.iloc[rows].reset_index(drop=True)
        copy = np.repeat(np.arange(len(pick)), [members[g].size for g in pick])
        if "G" in sample:
            sample["G"] = copy
        if "R" in sample:
            sample["R"] = copy.astype(str) + ":" + sample["R"].astype(str)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SingularFitWarning)
                warnings.simplefilter("ignore", ConvergenceWarning)
                a_fits, b_fit = _fit_models(sample, spec)
        except (EstimationError, DataError):
            failed += 1
            continue
        values = _derived([f.estimates for f in a_fits], b_fit.estimates, spec)
        for key, value in values.items():
            collected.setdefault(key, []).append(float(value))
    return {key: np.asarray(v) for key, v in collected.items()}, failed


def _model_row(fit: PathFit, term: str) -> dict[str, float]:
    row = fit.table.loc[fit.table["term"] == term].iloc[0]
    return {name: float(row[name]) for name in
            ("estimate", "std_error", "ci_low", "ci_high", "p_value")}


def _effects_table(
    a_fits, b_fit, spec: _Spec, draws: dict[tuple, np.ndarray], method: str,
    mediator_names: tuple[str, ...],
) -> pd.DataFrame:
    point = _derived([f.estimates for f in a_fits], b_fit.estimates, spec)
    rows: list[dict] = []
    for component in spec.components:
        suffix = _SUFFIX[component]
        for k, name in enumerate(mediator_names):
            rows.append({"component": component, "effect": "a", "mediator": name,
                         **_model_row(a_fits[k], f"X{suffix}"), "method": "model"})
        for k, name in enumerate(mediator_names):
            rows.append({"component": component, "effect": "b", "mediator": name,
                         **_model_row(b_fit, f"M{k}{suffix}"), "method": "model"})
        derived_keys = [(component, "indirect", k) for k in range(len(mediator_names))]
        derived_keys.append((component, "total_indirect", None))
        for key in derived_keys:
            rows.append(_derived_row(key, point, draws, method, mediator_names, spec))
        rows.append({"component": component, "effect": "direct", "mediator": None,
                     **_model_row(b_fit, f"X{suffix}"), "method": "model"})
        for key in ((component, "total", None), (component, "proportion_mediated", None)):
            rows.append(_derived_row(key, point, draws, method, mediator_names, spec))
    return pd.DataFrame(rows, columns=["component", "effect", "mediator", "estimate",
                                       "std_error", "ci_low", "ci_high", "p_value", "method"])


def _derived_row(key, point, draws, method, mediator_names, spec: _Spec) -> dict:
    component, effect, k = key
    values = draws[key]
    low, high = interval_from_draws(values, spec.confidence)
    proportion = effect == "proportion_mediated"
    return {
        "component": component,
        "effect": effect,
        "mediator": None if k is None else mediator_names[k],
        "estimate": float(point[key]),
        "std_error": float("nan") if proportion else float(np.std(values, ddof=1)),
        "ci_low": low,
        "ci_high": high,
        "p_value": float("nan") if proportion else monte_carlo_p_value(values),
        "method": method,
    }


def mediation(
    data: pd.DataFrame,
    *,
    exposure: str,
    mediators: str | Sequence[str],
    outcome: str,
    cluster: str | None,
    covariates: Sequence[str] = (),
    decomposition: Literal["within_between", "none"] = "within_between",
    repeated: str | None = None,
    n_draws: int = 20_000,
    interval: Literal["monte_carlo", "bootstrap"] = "monte_carlo",
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    rng: int | np.random.Generator | None = None,
) -> MediationResult:
    """Multilevel 1-1-1 mediation with the within/between split and Monte Carlo intervals.

    Parameters
    ----------
    data
        One row per observation (e.g. student x wave).
    exposure
        Numeric or 0/1 (boolean) column, e.g. ``"low_ses"``.
    mediators
        One or more numeric columns, fitted together in the outcome model, e.g.
        ``["positive_rate", "negative_rate"]``.
    outcome
        Numeric column, e.g. ``"teacher_closeness"``.
    cluster
        The cluster column (e.g. ``"classroom"``): random intercept, and the unit of the
        within/between split; ``None`` for single-level data (ordinary least squares).
    covariates
        Further predictors of every model, entered as they are (factors allowed).
    decomposition
        ``"within_between"``: group-mean centred predictors plus cluster means in every model
        (Zhang, Zyphur & Preacher 2009); ``"none"``: the predictors as they are.
    repeated
        A column identifying repeated measures of the same unit (e.g. ``"student"`` for
        student x wave rows): adds a random intercept for it.
    n_draws
        Monte Carlo draws (``interval="monte_carlo"``).
    interval
        ``"monte_carlo"`` (Preacher & Selig 2012) or ``"bootstrap"`` (cluster bootstrap,
        percentile intervals) for the indirect, total and proportion effects; the a, b and direct
        paths always carry their model-based (Satterthwaite t) intervals and tests.
    n_bootstrap
        Bootstrap replications (``interval="bootstrap"``).
    confidence
        Level of all intervals.
    rng
        Seed or generator for the draws.

    Returns
    -------
    MediationResult
        ``effects`` (tidy, one row per effect), ``conclusion`` and ``verdict`` per component, the
        fitted models; ``to_frame()``, ``summary()``, HTML display.

    Notes
    -----
    Rows with a missing value in any of the named columns are dropped before the cluster means
    are computed, so every model uses the same rows. The formulas are in the module docstring
    of :mod:`classdyad.analysis.mediation`. Validated against lavaan 0.6-14 ``sem()`` (single
    level: 1e-6; two-level within-class effects: 1e-4 relative).

    Examples
    --------
    >>> result = mediation(data, exposure="low_ses", mediators=["positive_rate",
    ...     "negative_rate"], outcome="teacher_closeness", cluster="classroom",
    ...     covariates=["boy"], repeated="student", rng=1)  # doctest: +SKIP
    >>> result.conclusion["within"]  # doctest: +SKIP
    """
    check_option("decomposition", decomposition, ("within_between", "none"))
    check_option("interval", interval, ("monte_carlo", "bootstrap"))
    if not 0.0 < confidence < 1.0:
        raise DataError(f"confidence must be between 0 and 1, e.g. 0.95; got {confidence!r}")
    if not isinstance(n_draws, int | np.integer) or n_draws < 100:
        raise DataError(f"n_draws must be an integer of at least 100 (20000 is usual); got "
                        f"{n_draws!r}")
    if not isinstance(n_bootstrap, int | np.integer) or n_bootstrap < 10:
        raise DataError(f"n_bootstrap must be an integer of at least 10 (1000 is usual); got "
                        f"{n_bootstrap!r}")
    mediator_names = _as_names(mediators, "mediators")
    covariate_names = _as_names(covariates, "covariates")
    named = [exposure, outcome, *mediator_names, *covariate_names]
    overlap = {name for name in named if named.count(name) > 1}
    if overlap:
        raise DataError(f"column(s) {sorted(overlap)} appear in two roles; the exposure, the "
                        "mediators, the outcome and the covariates must be different columns")
    if cluster is None and decomposition == "within_between":
        raise DataError("decomposition='within_between' needs a cluster column (e.g. "
                        "cluster='classroom'); for single-level data use decomposition='none'")
    roles: dict[str, list[str]] = {"exposure": [exposure], "mediator": list(mediator_names),
                                   "outcome": [outcome], "covariate": list(covariate_names)}
    if cluster is not None:
        roles["cluster"] = [cluster]
    if repeated is not None:
        roles["repeated-measures identifier"] = [repeated]
    frame = prepare_columns(data, roles, numeric=[exposure, *mediator_names, outcome])
    require_variation(frame, exposure, "exposure")
    for name in mediator_names:
        require_variation(frame, name, "mediator")
    require_variation(frame, outcome, "outcome")
    n_clusters = None
    if cluster is not None:
        n_clusters = int(frame[cluster].nunique())
        if n_clusters < 3:
            raise DataError(f"the cluster {cluster!r} has {n_clusters} level(s) in the complete "
                            "rows; a multilevel model needs several clusters (20 or more for "
                            "trustworthy between-cluster effects), or pass cluster=None")
    if cluster is not None:
        for name in mediator_names:
            require_within_variation(frame, name, "mediator", cluster, hint=(
                "mediation() fits the 1-1-1 design, in which the mediator varies between "
                "students; for a cluster-level mediator (a 2-2-1 or 1-2-1 design) fit the "
                "paths between cluster means, or give a mediator measured per student"))
    if decomposition == "within_between":
        for name, role in [(exposure, "exposure"), *[(m, "mediator") for m in mediator_names]]:
            require_within_variation(frame, name, role, cluster)
            if frame.groupby(cluster)[name].mean().nunique() < 2:
                raise DataError(f"the {role} {name!r} has the same mean in every {cluster!r}, so "
                                "its between-cluster effect is not defined; use "
                                "decomposition='none'")

    work = pd.DataFrame({"X": frame[exposure], "Y": frame[outcome]})
    for k, name in enumerate(mediator_names):
        work[f"M{k}"] = frame[name]
    for k, name in enumerate(covariate_names):
        values = frame[name]
        work[f"C{k}"] = values.astype(float) if pd.api.types.is_bool_dtype(values) else values
    random: list[str] = []
    if cluster is not None:
        work["G"] = frame[cluster].astype(str)
        random.append("G")
    if repeated is not None:
        work["R"] = frame[repeated].astype(str)
        random.append("R")
    spec = _Spec(
        n_mediators=len(mediator_names),
        covariates=tuple(f"C{k}" for k in range(len(covariate_names))),
        components=("within", "between") if decomposition == "within_between" else ("overall",),
        random=tuple(random),
        confidence=confidence,
    )
    generator = np.random.default_rng(rng)
    a_fits, b_fit = _fit_models(work, spec)
    failed = 0
    if interval == "monte_carlo":
        draws = _monte_carlo(a_fits, b_fit, spec, int(n_draws), generator)
    else:
        draws, failed = _bootstrap(work, spec, int(n_bootstrap), generator)
        if failed > n_bootstrap // 2:
            raise EstimationError(f"{failed} of {n_bootstrap} bootstrap samples could not be "
                                  "fitted; use interval='monte_carlo'")
    effects = _effects_table(a_fits, b_fit, spec, draws, interval, mediator_names)
    delta = delta_method_table(
        a_fits, b_fit, spec.exposure_terms(), [*spec.mediator_terms(), *spec.exposure_terms()],
        lambda a, b: _derived(a, b, spec), mediator_names, confidence,
    )
    r_squared = r_squared_table(
        a_fits, b_fit,
        [work[f"M{k}"].to_numpy() for k in range(len(mediator_names))] + [work["Y"].to_numpy()],
        [*mediator_names, outcome],
    )
    conclusion: dict[str, str] = {}
    verdict: dict[str, str] = {}
    for component in spec.components:
        rows = effects.loc[effects["component"] == component].set_index("effect")
        indirect = tuple(float(v) for v in
                         rows.loc["total_indirect", ["estimate", "ci_low", "ci_high"]])
        direct = tuple(float(v) for v in rows.loc["direct", ["estimate", "ci_low", "ci_high"]])
        verdict[component] = mediation_verdict(indirect, direct)
        conclusion[component] = conclusion_sentence(
            component=component, exposure=exposure, outcome=outcome, mediators=mediator_names,
            indirect=indirect, direct=direct, confidence=confidence,
        )
    return MediationResult(
        exposure=exposure,
        mediators=mediator_names,
        outcome=outcome,
        cluster=cluster,
        repeated=repeated,
        covariates=covariate_names,
        decomposition=decomposition,
        interval=interval,
        confidence=confidence,
        n_obs=len(work),
        n_clusters=n_clusters,
        n_draws=int(n_draws),
        n_bootstrap=int(n_bootstrap) if interval == "bootstrap" else 0,
        n_bootstrap_failed=failed,
        effects=effects,
        conclusion=conclusion,
        verdict=verdict,
        a_models=tuple(a_fits),
        b_model=b_fit,
        legend={"X": exposure, "Y": outcome,
                **{f"M{k}": name for k, name in enumerate(mediator_names)},
                **{f"C{k}": name for k, name in enumerate(covariate_names)},
                **({"G": cluster} if cluster is not None else {}),
                **({"R": repeated} if repeated is not None else {})},
        delta_method=delta,
        r_squared=r_squared,
    )
