"""Linear mixed models with lme4's formulas and lme4/lmerTest's answers: :func:`lmm`.

Method. The model is ``y = X beta + Z b + e`` with ``b ~ N(0, sigma^2 Lambda Lambda')`` and
``e ~ N(0, sigma^2 I)``, fitted as lme4 fits it (Bates et al. 2015): for each value of the
relative covariance parameters ``theta`` a penalized least-squares problem gives ``beta``, the
conditional modes and the profiled (REML or ML) deviance
(:mod:`classdyad.mixed._penalized_least_squares`, which explains the per-group sufficient
statistics that make an evaluation independent of the number of observations). Fully nested
designs (random intercepts of schools, classrooms, ... above a finest term such as students with
any random effects) are evaluated instead by a recursion over the levels on per-group sufficient
statistics, pooled by group size or pattern, with exact reverse-mode gradients
(:mod:`classdyad.mixed._nested_sufficient_statistics`); the general solver then serves only for
the conditional modes, when they are asked for. The deviance is
minimised over ``theta`` with the diagonal elements of each relative covariance factor bounded
below by zero, as in lme4, starting from moment estimates (a one-way analysis of variance of the
least-squares residuals for random intercepts, or Henderson's method I where they are nested;
per-level least squares for a term with several effects)
(:mod:`classdyad.mixed._linear_mixed_optimiser`): safeguarded Newton steps for a single
parameter; otherwise quasi-Newton steps from a Hessian by differences of the exact gradient
(:mod:`classdyad.mixed._penalized_least_squares_gradient`), with L-BFGS-B as the fallback; a
restart away from a zero bound whenever that lowers the deviance; and Newton steps to a
projected gradient of 1e-7, so that theta is found to about 1e-9 relative.

Standard errors come from ``sigma^2 (R_X R_X')^-1``; degrees of freedom and p-values from
Satterthwaite's approximation as in lmerTest (:mod:`classdyad.mixed._satterthwaite`), computed
when ``fixed_effects`` is first read (a fit that only needs estimates, e.g. in a bootstrap,
never pays for it); confidence intervals are ``estimate +- t(df) SE``. The conditional modes are
likewise formed when first asked for. :meth:`LinearMixedModelResult.refit` fits the same design
to a new response, reusing every sufficient statistic that does not involve the response and
starting from this fit's theta and the optimiser's last Hessian. Fits
run with one BLAS thread, limited once for the whole process (:mod:`classdyad.mixed._blas_threads`).

Conventions follow lme4: ``loglik`` of a REML fit is minus half the REML criterion; the number of
parameters is ``p + length(theta) + 1``; ``singular`` is lme4's ``isSingular`` (a diagonal element
of ``theta`` below 1e-4); rank-deficient fixed effects are dropped with a warning; a grouping factor
with as many levels as observations is an error.

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01

Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest package: tests in linear
mixed effects models. *Journal of Statistical Software*, 82(13). doi:10.18637/jss.v082.i13
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.special
from numpy.typing import ArrayLike

from classdyad.errors import (
    ConvergenceWarning,
    DataError,
    EstimationError,
    FormulaError,
    OptionError,
    SingularFitWarning,
)
from classdyad.mixed._blas_threads import limit_blas_threads
from classdyad.mixed._formula import (
    MixedDesign,
    build_design,
    drop_collinear,
    fixed_terms,
)
from classdyad.mixed._formula_parsing import parse_formula
from classdyad.mixed._linear_mixed_optimiser import optimise
from classdyad.mixed._mixed_results import Deferred, MixedModelResult
from classdyad.mixed._model_input import check_design, estimation_failure
from classdyad.mixed._nested_sufficient_statistics import NestedSufficientStatistics
from classdyad.mixed._penalized_least_squares import PenalizedLeastSquares
from classdyad.mixed._penalized_least_squares_gradient import lower_triangular_inverse
from classdyad.mixed._satterthwaite import SatterthwaiteState, satterthwaite_state

__all__ = ["FixedEffectTests", "LinearMixedModelResult", "lmm"]

_SINGULAR_TOL = 1e-4  # lme4's isSingular(tol = 1e-4)


@dataclass(frozen=True)
class _Prepared:
    """What a refit reuses: the sufficient statistics of the design and the fit's options."""

    pls: PenalizedLeastSquares | NestedSufficientStatistics
    reml: bool
    confidence_level: float
    theta: np.ndarray  # where a refit starts, with the optimiser's Hessian there (or None)
    hessian: np.ndarray | None


def _solver(design: MixedDesign) -> PenalizedLeastSquares | NestedSufficientStatistics:
    """The per-group recursion of fully nested designs
    (:mod:`~classdyad.mixed._nested_sufficient_statistics`), else the general solver."""
    nested = NestedSufficientStatistics.detect(design)
    return PenalizedLeastSquares(design) if nested is None else nested


@dataclass(frozen=True, eq=False)
class LinearMixedModelResult(MixedModelResult):
    """Result of :func:`lmm`; see :class:`classdyad.mixed._mixed_results.MixedModelResult`.

    ``reml_criterion`` is lme4's REML criterion (``-2 loglik``) for REML fits, ``nan`` for ML.
    ``fixed_effects`` (with Satterthwaite degrees of freedom) and the conditional modes are
    computed when first read; :meth:`refit` fits the same model to a new response.
    """

    reml_criterion: float = float("nan")
    prepared: _Prepared | None = field(default=None, repr=False)
    tests: Callable[[], FixedEffectTests] | None = field(default=None, repr=False)

    def fixed_effect_tests(self) -> FixedEffectTests:
        """The numbers of ``fixed_effects`` (estimates, standard errors, Satterthwaite degrees
        of freedom, t statistics and p values) as arrays, computed once for both."""
        if self.tests is None:
            raise EstimationError(
                "this result holds no fixed-effect tests; fit the model with lmm() again"
            )
        return self.tests()

    def refit(self, response: ArrayLike, *, warm_start: bool = True) -> LinearMixedModelResult:
        """Fit the same model (formula, rows, REML or ML) to a new response vector.

        Everything that depends only on the design (the formula's matrices, the grouping
        factors' codes and the per-level cross-products of the random effects with each other
        and with the fixed effects) is reused; only the response's cross-products are
        recomputed before the optimisation, which starts, as lme4's ``refit`` does, from this
        fit's theta (with the optimiser's curvature there). This is what parametric bootstraps
        and simulation-based power analyses need: the result equals ``lmm`` on the data with
        the response replaced (to the optimiser's tolerance).

        Parameters
        ----------
        response
            One value per row used by the fit (``n_obs`` values, in the order of
            ``design.rows``), on the scale of the formula's left-hand side (after any
            transformation it applies), all finite.
        warm_start
            Start the optimiser from this fit's theta (the default, as lme4's ``refit``), or,
            with ``False``, from where :func:`lmm` starts, so that the result is the very
            numbers ``lmm`` gives on the data with the response replaced (not only equal to
            the optimiser's tolerance), as a check against ``lmm`` needs.

        Returns
        -------
        LinearMixedModelResult
            A complete result for the new response (its ``design.response`` is the new vector;
            ``design.data`` still holds the original rows).
        """
        if self.prepared is None:
            raise EstimationError(
                "this result holds no prepared design to refit; fit the model with lmm() again"
            )
        values = np.asarray(response, dtype=float)
        if values.shape != (self.n_obs,):
            raise DataError(
                f"refit() needs one response value per row used by the fit ({self.n_obs}), got "
                f"an array of shape {values.shape}; pass a 1-D array in the order of "
                "fit.design.rows"
            )
        if not np.all(np.isfinite(values)):
            raise DataError(
                "refit() got missing or infinite response values; a refit keeps the rows of the "
                "original fit, so fill or drop them there and fit again with lmm()"
            )
        prepared = self.prepared
        limit_blas_threads()
        pls = prepared.pls.with_response(values)
        return _fit_prepared(pls, reml=prepared.reml,
                             confidence_level=prepared.confidence_level, stacklevel=3,
                             start=prepared.theta if warm_start else None,
                             hessian=prepared.hessian if warm_start else None)

    def refit_with(self, formula: str, response: ArrayLike,
                   fixed: Mapping[str, ArrayLike]) -> LinearMixedModelResult:
        """Fit another model on this fit's rows and random-effects terms, from arrays.

        A study that fits several models to the same rows (a mediation's mediator and outcome
        models) builds the grouping factors' codes once: ``formula`` must have this fit's
        random-effects part and plain column names as fixed effects; ``fixed`` gives those
        columns, in the formula's order (``"(Intercept)"`` for the column of ones). The result
        equals :func:`lmm` of ``formula`` on the same rows (the same matrices, so the same
        numbers); rank-deficient columns are dropped with a warning, as there.

        Parameters
        ----------
        formula
            The model, e.g. ``"y ~ 1 + m + x + (1 | g)"`` after a fit of ``"m ~ 1 + x + (1 | g)"``.
        response
            One value per row used by this fit (in the order of ``design.rows``), all finite.
        fixed
            ``{column name: values}`` of the formula's fixed effects, one value per row.

        Returns
        -------
        LinearMixedModelResult
            Its ``design.data`` holds this fit's rows (not the new columns), so ``predict``
            needs ``newdata``.
        """
        if self.prepared is None:
            raise EstimationError(
                "this result holds no prepared design; fit the model with lmm() again"
            )
        design = _design_with_fixed(self.design, formula, response, fixed)
        limit_blas_threads()
        check_design(design, model="lmm")
        _check_dimensions(design)
        with estimation_failure(formula):
            return _fit_prepared(_solver(design), reml=self.prepared.reml,
                                 confidence_level=self.prepared.confidence_level,
                                 stacklevel=3)


def _design_with_fixed(design: MixedDesign, formula: str, response: ArrayLike,
                       fixed: Mapping[str, ArrayLike]) -> MixedDesign:
    """``design`` (its rows and random terms) with ``formula``'s response and fixed columns,
    built as :func:`~classdyad.mixed._formula.build_design` builds plain numeric columns."""
    parsed = parse_formula(formula)
    if parsed.random != design.parsed.random or parsed.offsets != design.parsed.offsets:
        raise FormulaError(
            f"formula {formula!r} has other random-effects or offset terms than "
            f"{design.formula!r}; refit_with() keeps the fit's random effects: fit the new "
            "model with lmm()"
        )
    intercept, items = fixed_terms(parsed.fixed)
    names = [*(["(Intercept)"] if intercept else []), *items]
    if list(fixed) != names:
        raise FormulaError(
            f"formula {formula!r} has the fixed effects {names}, got the columns "
            f"{list(fixed)}; give one array per fixed effect, in the formula's order"
        )
    n = design.n_obs
    x_full = np.empty((n, len(names)))
    values = [np.asarray(fixed[name], dtype=float) for name in names]
    y = np.array(response, dtype=float)
    for name, column in [*zip(names, values, strict=True), (parsed.response, y)]:
        if column.shape != (n,):
            raise DataError(
                f"refit_with() needs one value of {name!r} per row used by the fit ({n}), got "
                f"an array of shape {column.shape}; pass 1-D arrays in the order of "
                "fit.design.rows"
            )
    for j, column in enumerate(values):
        x_full[:, j] = column
    keep, dropped = drop_collinear(x_full, names, stacklevel=4)
    return dataclasses.replace(
        design, formula=formula, parsed=parsed, response_name=parsed.response, response=y,
        fixed=np.ascontiguousarray(x_full[:, keep]),
        fixed_names=tuple(names[j] for j in keep.tolist()), dropped_columns=dropped,
        fixed_spec=None, kept_columns=keep, fixed_direct=(intercept, tuple(items)))


def _variance_tables(
    pls: PenalizedLeastSquares | NestedSufficientStatistics, theta: np.ndarray, sigma: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    variances: dict[str, list[Any]] = {"group": [], "term": [], "variance": [], "std_dev": []}
    correlations: dict[str, list[Any]] = {
        "group": [], "term1": [], "term2": [], "correlation": [], "covariance": []
    }
    for k, term in enumerate(pls.design.random_terms):
        lam = pls.lambda_factor(theta, k)
        cov = sigma * sigma * lam @ lam.T
        sd = np.sqrt(np.diag(cov))
        for r, name in enumerate(term.effect_names):
            for column, value in zip(variances, (term.name, name, cov[r, r], sd[r]), strict=True):
                variances[column].append(value)
        for c in range(term.n_effects):
            for r in range(c + 1, term.n_effects):
                denominator = sd[r] * sd[c]
                row = (term.name, term.effect_names[c], term.effect_names[r],
                       cov[r, c] / denominator if denominator > 0 else np.nan, cov[r, c])
                for column, value in zip(correlations, row, strict=True):
                    correlations[column].append(value)
    for column, value in zip(variances, ("Residual", "", sigma * sigma, sigma), strict=True):
        variances[column].append(value)
    return pd.DataFrame(variances), pd.DataFrame(correlations)


@dataclass(frozen=True)
class FixedEffectTests:
    """The fixed effects' t tests as arrays, one element per term of ``terms``: what
    ``fixed_effects`` tabulates (without the intervals), for callers that need only numbers
    (a power analysis reads them for thousands of fits)."""

    terms: tuple[str, ...]
    estimate: np.ndarray
    std_error: np.ndarray
    df: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray


def _fixed_tests(design: MixedDesign, beta: np.ndarray,
                 state: SatterthwaiteState) -> FixedEffectTests:
    se = np.sqrt(np.diag(state.beta_covariance))
    df = state.term_df()
    statistic = beta / se
    return FixedEffectTests(tuple(design.fixed_names), beta, se, df, statistic,
                            2.0 * scipy.special.stdtr(df, -np.abs(statistic)))


def _fixed_table(tests: FixedEffectTests, confidence_level: float) -> pd.DataFrame:
    quantile = scipy.special.stdtrit(tests.df, 0.5 + confidence_level / 2.0)
    return pd.DataFrame(
        {
            "term": list(tests.terms),
            "estimate": tests.estimate,
            "std_error": tests.std_error,
            "df": tests.df,
            "statistic": tests.statistic,
            "p_value": tests.p_value,
            "ci_low": tests.estimate - quantile * tests.std_error,
            "ci_high": tests.estimate + quantile * tests.std_error,
        }
    )


def _fit(design: MixedDesign, *, reml: bool, confidence_level: float) -> LinearMixedModelResult:
    limit_blas_threads()
    return _fit_single_threaded(design, reml=reml, confidence_level=confidence_level)


def _check_dimensions(design: MixedDesign) -> None:
    n, p = design.fixed.shape
    if n <= p:
        raise EstimationError(
            f"{n} observations for {p} fixed effects; a linear mixed model needs more "
            "observations than fixed effects; simplify the fixed part of the formula"
        )
    if p == 0:
        raise EstimationError(
            "the model has no fixed effects; keep at least the intercept (drop '0 +' / '- 1')"
        )


def _fit_single_threaded(
    design: MixedDesign, *, reml: bool, confidence_level: float
) -> LinearMixedModelResult:
    _check_dimensions(design)
    return _fit_prepared(_solver(design), reml=reml,
                         confidence_level=confidence_level, stacklevel=4)


def _once(function: Callable[[], Any]) -> Callable[[], Any]:
    """``function`` computed on the first call and kept (``functools.cache`` without the cost
    of copying the wrapped function's attributes, which is a fit's hot path)."""
    kept: list[Any] = []

    def call() -> Any:
        if not kept:
            kept.append(function())
        return kept[0]

    return call


def _fit_prepared(
    pls: PenalizedLeastSquares | NestedSufficientStatistics,
    *,
    reml: bool,
    confidence_level: float,
    stacklevel: int,
    start: np.ndarray | None = None,
    hessian: np.ndarray | None = None,
) -> LinearMixedModelResult:
    """Optimise and assemble the result; Satterthwaite's step and the conditional modes are
    computed when first asked for (``fixed_effects``, ``random_effects()``)."""
    design = pls.design
    n, p = design.fixed.shape
    theta, deviance, converged, hessian = optimise(pls, reml, start, hessian)
    method = "REML" if reml else "ML"
    if not converged:
        warnings.warn(
            f"the {method} optimiser for {design.formula!r} stopped before reaching its "
            "tolerance; the estimates may be off: simplify the random-effects structure or "
            "rescale predictors",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    singular = any(t < _SINGULAR_TOL for t, bound in zip(theta.tolist(), pls.lower.tolist(),
                                                         strict=True) if bound == 0.0)
    if singular:
        warnings.warn(
            f"boundary (singular) fit for {design.formula!r}: a random-effect variance is "
            "estimated at (or near) zero or a correlation at +-1; consider removing that "
            "random-effects term (lme4: isSingular)",
            SingularFitWarning,
            stacklevel=stacklevel,
        )
    ev = pls.solve(theta, modes=True)
    sigma = pls.sigma(ev, reml=reml)
    rx_inverse = lower_triangular_inverse(ev.rx)
    fixed_covariance = sigma * sigma * (rx_inverse.T @ rx_inverse)
    tables = _once(lambda: _variance_tables(pls, theta, sigma))
    n_parameters = p + theta.size + 1

    def tests() -> FixedEffectTests:
        limit_blas_threads()
        with estimation_failure(design.formula):  # computed on first use, after the fit
            state = satterthwaite_state(pls, theta, sigma, reml=reml)
        return _fixed_tests(design, ev.beta, state)

    fixed_tests = _once(tests)

    n_groups: dict[str, int] = {}
    for term in design.random_terms:
        n_groups.setdefault(term.name, term.n_levels)
    return LinearMixedModelResult(
        formula=design.formula,
        family="gaussian",
        method=method,
        fixed_effects=Deferred(lambda: _fixed_table(fixed_tests(), confidence_level)),
        variance_components=Deferred(lambda: tables()[0]),
        correlations=Deferred(lambda: tables()[1]),
        loglik=-deviance / 2.0,
        n_parameters=n_parameters,
        aic=deviance + 2.0 * n_parameters,
        bic=deviance + np.log(n) * n_parameters,
        deviance=deviance,
        n_obs=n,
        n_groups=n_groups,
        converged=converged,
        singular=singular,
        sigma=sigma,
        theta=theta,
        beta=ev.beta,
        fixed_covariance=fixed_covariance,
        conditional_modes=Deferred(lambda: tuple(pls.random_effects(ev))),
        conditional_variances=_once(
            lambda: tuple(pls.conditional_variances(theta, sigma))
        ),
        design=design,
        ml_refit=(
            functools.partial(_fit, design, reml=False, confidence_level=confidence_level)
            if reml else None
        ),
        reml_criterion=deviance if reml else float("nan"),
        prepared=_Prepared(pls, reml, confidence_level, theta, hessian),
        tests=fixed_tests,
    )


def lmm(
    formula: str,
    data: pd.DataFrame,
    *,
    reml: bool = True,
    reference: Mapping[str, Any] | None = None,
    confidence_level: float = 0.95,
) -> LinearMixedModelResult:
    """Fit a linear mixed model with lme4's formula syntax, by REML (default) or ML.

    Parameters
    ----------
    formula
        lme4-style formula, e.g. ``"mathgain ~ mathkind + ses + (1 | schoolid/classid)"``; see
        :mod:`classdyad.mixed._formula` for factors, interactions, transformations and the
        random-effects syntax (``(1 | g)``, ``(1 + x | g)``, ``(1 + x || g)``, ``(1 | a/b)``).
    data
        One row per observation; rows with a missing value in a variable the formula uses are
        dropped.
    reml
        Restricted maximum likelihood (lme4's default); ``False`` for maximum likelihood.
    reference
        ``{column: level}`` to make ``column`` categorical with ``level`` as reference level.
    confidence_level
        Level of the confidence intervals in ``fixed_effects``.

    Returns
    -------
    LinearMixedModelResult
        Fixed effects with Satterthwaite df and p-values (as ``lmerTest::lmer``), variance
        components, log-likelihood, AIC/BIC, conditional modes (``random_effects()``),
        ``predict``, ``summary()``, ``compare``.

    Notes
    -----
    Validated against ``lme4::lmer`` 1.1-31 and ``lmerTest`` 3.1-3 (R 4.2.2): estimates, standard
    errors, variance components and log-likelihood to 1e-4 relative (1e-7 typically),
    Satterthwaite df to 1e-6.

    Examples
    --------
    >>> fit = lmm("Reaction ~ Days + (Days | Subject)", sleepstudy)  # doctest: +SKIP
    >>> fit.fixed_effects  # doctest: +SKIP
    """
    if not isinstance(reml, bool):
        raise OptionError(f"reml={reml!r} is not allowed; use True (REML) or False (ML)")
    if not 0.0 < confidence_level < 1.0:
        raise DataError(f"confidence_level must be between 0 and 1, got {confidence_level!r}")
    limit_blas_threads()
    design = build_design(formula, data, reference=reference)
    check_design(design, model="lmm")
    _check_dimensions(design)
    with estimation_failure(formula):
        return _fit_prepared(_solver(design), reml=reml,
                             confidence_level=confidence_level, stacklevel=3)
