"""Generalized linear (mixed) models for counts and proportions: :func:`glmm`.

Method. Poisson, negative-binomial (NB2 and NB1) and binomial models, optionally with zero
inflation (counts; glmmTMB's ``ziformula``), with random intercepts for one or several nested or
crossed grouping factors are fitted by maximum likelihood as lme4's ``glmer`` and glmmTMB fit
them (Bates et al. 2015): the random effects are integrated out by the Laplace approximation
(``n_agq = 1``) or, for a single grouping factor, by adaptive Gauss-Hermite quadrature
(``n_agq > 1``; Pinheiro & Bates 1995), with conditional modes from penalized iteratively
reweighted least squares (:mod:`classdyad.mixed._generalized_mixed_deviance`); the deviance is
minimised over the variance parameters and the fixed effects together
(:mod:`classdyad.mixed._generalized_mixed_fit`). Wald z tests and intervals use the
finite-difference Hessian of the deviance, as lme4's ``vcov`` (``use.hessian = TRUE``) and
glmmTMB's ``sdreport`` do. The negative-binomial models are glmmTMB's ``nbinom2`` (variance
``mu + mu^2 / k``, the shape ``k`` estimated) and ``nbinom1`` (variance ``mu (1 + phi)``); zero
inflation mixes a structural zero with probability ``logistic(G gamma)`` into the count model
(Lambert 1992; :mod:`classdyad.mixed._glmm_families`). A formula without random-effects terms is
a generalized linear model, fitted as R's ``glm`` / ``MASS::glm.nb`` / glmmTMB
(:mod:`classdyad.mixed._generalized_linear_fit`).

Degenerate input is refused or flagged rather than given a silent wrong number: negative or
non-integer counts and all-zero counts (binomial: no successes or no failures at all) are
errors; a predictor whose non-zero rows have only zero counts (separation) warns; variance
components at zero are flagged as singular (:class:`SingularFitWarning`); an optimiser that does
not meet its tolerance warns (:class:`ConvergenceWarning`) and sets ``converged = False``; an NB2
shape that runs off to infinity (no overdispersion) warns.

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01
Lambert, D. (1992). Zero-inflated Poisson regression, with an application to defects in
manufacturing. *Technometrics*, 34(1), 1-14.
Brooks, M. E. et al. (2017). glmmTMB balances speed and flexibility among packages for
zero-inflated generalized linear mixed modeling. *The R Journal*, 9(2), 378-400.
Pinheiro, J. C. & Bates, D. M. (1995). Approximations to the log-likelihood function in the
nonlinear mixed-effects model. *Journal of Computational and Graphical Statistics*, 4(1), 12-35.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.special
import scipy.stats

from classdyad.errors import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    EstimationError,
    FormulaError,
    OptionError,
    SingularFitWarning,
    check_option,
)
from classdyad.mixed._blas_threads import limit_blas_threads
from classdyad.mixed._formula import MixedDesign, parse_formula
from classdyad.mixed._generalized_design import (
    align_rows,
    build_glm_or_glmm_design,
    build_zero_inflation_design,
)
from classdyad.mixed._generalized_linear_fit import GlmData, fit_glm
from classdyad.mixed._generalized_mixed_deviance import GlmmProblem
from classdyad.mixed._generalized_mixed_fit import GlmmEstimate, fit_glmm
from classdyad.mixed._generalized_mixed_results import (
    OFFSET_COLUMN,
    GeneralizedMixedModelResult,
)
from classdyad.mixed._glmm_families import COUNT_FAMILIES, FAMILIES, FamilyName, get_family
from classdyad.mixed._model_input import check_design, estimation_failure

__all__ = ["GeneralizedMixedModelResult", "glmm"]

_CBIND = re.compile(r"^\s*cbind\((.*)\)\s*$", re.DOTALL)
_SUCCESSES = "_glmm_successes"


def _evaluate(data: pd.DataFrame, expression: str, formula: str) -> np.ndarray:
    expression = expression.strip()
    if expression in data.columns:
        return pd.to_numeric(data[expression], errors="coerce").to_numpy(dtype=float)
    try:
        return np.asarray(data.eval(expression), dtype=float)
    except Exception as error:  # pandas raises many kinds of evaluation errors
        raise FormulaError(
            f"formula {formula!r}: cannot evaluate {expression!r} on the data ({error}); "
            "use column names and + - * / inside cbind()"
        ) from None


def _binomial_inputs(
    formula: str, data: pd.DataFrame, weights: str | Sequence[float] | np.ndarray | None
) -> tuple[str, pd.DataFrame, str | None]:
    """Rewrite a ``cbind(successes, failures)`` response; returns formula, data, trials column."""
    lhs, rhs = formula.split("~", 1)
    match = _CBIND.match(lhs)
    if match is None:
        if weights is None:
            return formula, data, None
        if isinstance(weights, str):
            if weights not in data.columns:
                raise DataError(
                    f"weights column {weights!r} is not in the data; use one of "
                    f"{', '.join(map(str, data.columns))}"
                )
            trials = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
        else:
            trials = np.asarray(weights, dtype=float)
            if trials.shape != (len(data),):
                raise DataError(
                    f"weights has {trials.size} values for {len(data)} rows; give one number "
                    "of trials per row or the name of a column"
                )
        data = data.assign(_glmm_trials=trials)
        return formula, data, "_glmm_trials"
    if weights is not None:
        raise FormulaError(
            f"formula {formula!r}: give the trials either by cbind(successes, failures) or by "
            "weights= with a proportion response, not both"
        )
    parts = [p for p in re.split(r",(?![^(]*\))", match.group(1))]
    if len(parts) != 2:
        raise FormulaError(
            f"formula {formula!r}: cbind() needs two arguments, successes and failures, "
            "e.g. cbind(incidence, size - incidence)"
        )
    successes = _evaluate(data, parts[0], formula)
    failures = _evaluate(data, parts[1], formula)
    data = data.assign(**{_SUCCESSES: successes, "_glmm_trials": successes + failures})
    return f"{_SUCCESSES} ~{rhs}", data, "_glmm_trials"


def _check_response(
    family: FamilyName, y: np.ndarray, trials: np.ndarray, name: str
) -> None:
    if family == "binomial":
        if np.any(trials < 0) or np.any(np.abs(trials - np.round(trials)) > 1e-8):
            raise DataError(f"the numbers of trials of {name!r} must be whole numbers >= 0")
        if np.any(y < -1e-8) or np.any(y > trials + 1e-8) or np.any(
            np.abs(y - np.round(y)) > 1e-6
        ):
            raise DataError(
                f"response {name!r} must be successes between 0 and the number of trials (a "
                "proportion times weights= must be a whole number); check the response and "
                "weights"
            )
        if y.sum() == 0 or np.all(y == trials):
            which = "no successes" if y.sum() == 0 else "only successes"
            raise EstimationError(
                f"response {name!r} has {which} in all {len(y)} rows; the fixed effects are not "
                "estimable (the maximum-likelihood estimate is infinite); check the response"
            )
        return
    if np.any(y < 0) or np.any(np.abs(y - np.round(y)) > 1e-8):
        raise DataError(
            f"response {name!r} must hold counts (whole numbers >= 0) for family={family!r}; "
            "use family='binomial' for proportions or lmm() for continuous outcomes"
        )
    if not np.any(y > 0):
        raise EstimationError(
            f"all {len(y)} counts of {name!r} are zero; a count model cannot be estimated (the "
            "maximum-likelihood rate is zero, its log minus infinity); check the response column "
            "or the rows selected"
        )


def _check_separation(family: FamilyName, design: MixedDesign, y: np.ndarray,
                      trials: np.ndarray) -> None:
    x = design.fixed
    for j, name in enumerate(design.fixed_names):
        nonzero = x[:, j] != 0
        if name == "(Intercept)" or nonzero.all() or not nonzero.any():
            continue
        if family == "binomial":
            sub_y, sub_n = y[nonzero], trials[nonzero]
            degenerate = sub_y.sum() == 0 or np.all(sub_y == sub_n)
        else:
            degenerate = not np.any(y[nonzero] > 0)
        if degenerate:
            warnings.warn(
                f"every row where {name!r} is non-zero has "
                f"{'all-zero counts' if family != 'binomial' else 'the same outcome'}; its "
                "estimate runs off to infinity (separation) and its standard error is "
                "meaningless; merge categories or remove this predictor",
                DataWarning,
                stacklevel=3,
            )


def _fixed_table(beta: np.ndarray, cov: np.ndarray, names: tuple[str, ...],
                 level: float) -> pd.DataFrame:
    variance = np.diag(cov)
    se = np.sqrt(np.where(variance > 0, variance, np.nan))
    z = beta / se
    crit = scipy.stats.norm.ppf(0.5 + level / 2.0)
    return pd.DataFrame({
        "term": list(names),
        "estimate": beta,
        "std_error": se,
        "df": np.inf,
        "statistic": z,
        "p_value": 2.0 * scipy.stats.norm.sf(np.abs(z)),
        "ci_low": beta - crit * se,
        "ci_high": beta + crit * se,
    })


def glmm(
    formula: str,
    data: pd.DataFrame,
    *,
    family: FamilyName = "poisson",
    zero_inflation: str | None = None,
    offset: str | Sequence[float] | np.ndarray | None = None,
    weights: str | Sequence[float] | np.ndarray | None = None,
    n_agq: int = 1,
    reference: Mapping[str, Any] | None = None,
    confidence_level: float = 0.95,
) -> GeneralizedMixedModelResult:
    """Fit a generalized linear mixed model with random intercepts, as lme4's ``glmer``.

    The model is ``g(E[y | b]) = offset + X beta + Z b`` with independent normal random
    intercepts ``b`` per level of each grouping factor; ``g`` is the log link for counts and the
    logit link for binomial outcomes. The log-likelihood is the Laplace approximation
    (``n_agq = 1``) or adaptive Gauss-Hermite quadrature with ``n_agq`` points. With
    ``zero_inflation`` a count is a structural zero with probability
    ``pi = logistic(G gamma)`` and otherwise follows the count model (glmmTMB's ``ziformula``).
    A formula without random-effects terms fits a generalized linear model (R's ``glm``,
    ``MASS::glm.nb``).

    Parameters
    ----------
    formula
        lme4-style formula with random intercepts only, e.g.
        ``"negative ~ low_ses + non_western + offset(np.log(minutes)) + (1 | school/classroom)"``;
        without random terms (``"negative ~ low_ses + offset(np.log(minutes))"``) a GLM.
        Binomial outcomes: ``cbind(successes, failures) ~ ...`` (``failures`` may be an
        expression such as ``size - incidence``), or a proportion response with ``weights=``
        the numbers of trials, or a 0/1 response.
    data
        One row per observation; rows with a missing value in a variable of the formula are
        dropped.
    family
        ``"poisson"``, ``"negative_binomial"`` (NB2: variance ``mu + mu^2 / k``; glmmTMB's
        ``nbinom2``, ``MASS::glm.nb``), ``"negative_binomial_1"`` (NB1: variance
        ``mu (1 + phi)``; glmmTMB's ``nbinom1``) or ``"binomial"``.
    zero_inflation
        Count families only: a one-sided formula for the logit of the probability of a
        structural zero, ``"~ 1"`` (one probability) or ``"~ x + ..."`` (glmmTMB's
        ``ziformula``); ``None`` (default) for no zero inflation.
    offset
        A known term added to the linear predictor: a column name (used as is, e.g. a column
        holding ``log(minutes)``) or one value per row of ``data``; added to any ``offset()`` in
        the formula.
    weights
        Binomial only: the number of trials per row (column name or values), with the response
        the proportion of successes (lme4's ``weights``).
    n_agq
        1 for the Laplace approximation; more (up to 25) for adaptive Gauss-Hermite quadrature,
        which needs a single grouping factor (as lme4's ``nAGQ``).
    reference
        ``{column: level}`` to make ``column`` categorical with ``level`` as reference level.
    confidence_level
        Level of the Wald confidence intervals in ``fixed_effects``.

    Returns
    -------
    GeneralizedMixedModelResult
        Fixed effects with Wald z tests, variance components (link scale; empty for a GLM),
        zero-inflation coefficients (``zero_inflation``), log-likelihood, AIC/BIC, conditional
        modes (``random_effects()``), ``predict(newdata, type=...)``, ``summary()``,
        ``compare``.

    Notes
    -----
    Validated against ``lme4::glmer`` 1.1-31 (Poisson with offset, single and nested grouping;
    binomial ``cbpp``; ``nAGQ = 10``) and ``glmmTMB`` 1.1.5 (``nbinom2``; Poisson and binomial
    models) under R 4.2.2: fixed effects, standard errors, variance components and
    log-likelihood to 1e-3 relative. Standard errors agree with glmmTMB (exact derivatives of the
    Laplace approximation) to about 1e-5; lme4's finite-difference standard errors can differ
    from both by up to about 1% (cbpp: 1.3%), because lme4 evaluates its deviance with a PIRLS
    tolerance of 1e-7. For ``n_agq > 1`` lme4's ``logLik`` leaves out the saturated model's
    log-likelihood; ``loglik`` here is always the full log-likelihood, comparable across
    ``n_agq``.

    Zero-inflated Poisson / NB2 / NB1 mixed models and NB1 were validated against glmmTMB
    1.1.5, GLMs against ``glm`` (R 4.2.2) and ``MASS::glm.nb`` 7.3-58.2 (NB2 standard errors as
    ``glm.nb``: Fisher information with the shape held fixed) and zero-inflated / NB1 GLMs
    against glmmTMB without random effects (observed information); see
    ``tests/mixed/test_glmm_counts_golden.py`` for the tolerances.

    Examples
    --------
    >>> fit = glmm("negative ~ low_ses + offset(np.log(minutes)) + (1 | classroom)",
    ...            lessons, family="poisson")  # doctest: +SKIP
    >>> fit.fixed_effects  # doctest: +SKIP
    """
    check_option("family", family, FAMILIES)
    if zero_inflation is not None:
        if not isinstance(zero_inflation, str):
            raise OptionError(
                f"zero_inflation={zero_inflation!r} is not allowed; use a one-sided formula "
                "string such as '~ 1' or '~ low_ses', or None"
            )
        if family not in COUNT_FAMILIES:
            raise OptionError(
                f"zero_inflation is for count families; family={family!r} has none; use one of "
                f"{', '.join(map(repr, COUNT_FAMILIES))} or leave zero_inflation out"
            )
    if isinstance(n_agq, bool) or not isinstance(n_agq, int | np.integer) or not 1 <= n_agq <= 25:
        raise OptionError(f"n_agq={n_agq!r} is not allowed; use a whole number from 1 to 25")
    if not 0.0 < confidence_level < 1.0:
        raise OptionError(
            f"confidence_level={confidence_level!r} is not allowed; use a number between 0 and 1"
        )
    if not isinstance(data, pd.DataFrame):
        raise DataError("data must be a pandas DataFrame with one row per observation")
    if not isinstance(formula, str) or formula.count("~") != 1:
        raise FormulaError(f"formula {formula!r} must be a string like 'y ~ x + (1 | group)'")
    if weights is not None and family != "binomial":
        raise OptionError("weights= gives binomial trials; leave it out for count families")
    original_formula = formula
    trials_column = None
    if family == "binomial":
        formula, data, trials_column = _binomial_inputs(formula, data, weights)
    offset_array = False
    if offset is not None:
        if isinstance(offset, str):
            if offset not in data.columns:
                raise DataError(
                    f"offset column {offset!r} is not in the data; use one of "
                    f"{', '.join(map(str, data.columns))}"
                )
            formula = f"{formula} + offset({offset})"
        else:
            values = np.asarray(offset, dtype=float)
            if values.shape != (len(data),):
                raise DataError(
                    f"offset has {values.size} values for {len(data)} rows; give one per row "
                    "or the name of a column"
                )
            data = data.assign(**{OFFSET_COLUMN: values})
            formula = f"{formula} + offset({OFFSET_COLUMN})"
            offset_array = True
    if trials_column is not None:
        data = data.loc[data[trials_column].notna()]
    response_name = parse_formula(formula).response
    if zero_inflation is not None:
        data = align_rows(data, formula, zero_inflation, response_name, reference)
    design = build_glm_or_glmm_design(formula, data, reference)
    check_design(design, model="glmm", family=family)
    zi_design = None
    if zero_inflation is not None:
        zi_design = build_zero_inflation_design(
            zero_inflation, response_name, data.loc[design.rows], reference
        )
    for term in design.random_terms:
        if term.effect_names != ("(Intercept)",):
            raise FormulaError(
                f"formula {original_formula!r}: glmm() fits random intercepts only, but "
                f"{term.name!r} has random effects {list(term.effect_names)}; write (1 | "
                f"{term.name}) or use lmm() for random slopes of a continuous outcome"
            )
    if n_agq > 1 and not design.random_terms:
        raise OptionError(
            f"n_agq={n_agq}: the formula has no random-effects term, so there is nothing to "
            "integrate; leave n_agq at 1 for a generalized linear model"
        )
    if n_agq > 1 and len(design.random_terms) != 1:
        raise OptionError(
            f"n_agq={n_agq} needs a single grouping factor (as lme4's nAGQ > 1); this formula has "
            f"{len(design.random_terms)}; use n_agq=1 (Laplace) for nested or crossed factors"
        )
    y = design.response
    if trials_column is None:
        trials = np.ones_like(y)
    else:
        trials = design.data[trials_column].to_numpy(dtype=float)
        if _CBIND.match(original_formula.split("~", 1)[0]) is None:
            y = y * trials
    name = parse_formula(original_formula).response
    _check_response(family, y, trials, name)
    _check_separation(family, design, y, trials)

    fam = get_family(family, None if zi_design is None else zi_design.fixed)
    with estimation_failure(original_formula):
        if design.random_terms:
            problem = GlmmProblem.build(
                fam, y, design.fixed, [t.codes for t in design.random_terms],
                offset=design.offset, trials=trials,
            )
            limit_blas_threads()
            estimate = fit_glmm(problem, n_agq=int(n_agq))
        else:
            estimate = fit_glm(GlmData(fam, y, design.fixed, design.offset, trials))
    if not (np.isfinite(estimate.deviance) and np.isfinite(estimate.beta).all()):
        raise EstimationError(
            f"the model {original_formula!r} could not be estimated: the likelihood is not "
            "finite at the estimates; check the response for extreme values and try centring "
            "and scaling the predictors"
        )
    return _result(original_formula, family, design, estimate, int(n_agq), offset_array,
                   confidence_level, zero_inflation, zi_design)


def _result(
    formula: str,
    family: FamilyName,
    design: MixedDesign,
    estimate: GlmmEstimate,
    n_agq: int,
    offset_array: bool,
    level: float,
    zero_inflation: str | None = None,
    zi_design: MixedDesign | None = None,
) -> GeneralizedMixedModelResult:
    if not estimate.converged:
        warnings.warn(
            f"the fit of {formula!r} did not converge (Newton decrement "
            f"{estimate.newton_decrement:.2g}); treat the estimates with care: rescale "
            "predictors, simplify the random effects or check for separation",
            ConvergenceWarning,
            stacklevel=3,
        )
    singular = bool(estimate.singular.any())
    if singular:
        names = [t.name for t, s in zip(design.random_terms, estimate.singular, strict=True) if s]
        warnings.warn(
            f"boundary (singular) fit: the variance of the random intercepts of {names} is "
            "estimated at zero; the data show no variation between these groups beyond the "
            "fixed effects; consider removing the term",
            SingularFitWarning,
            stacklevel=3,
        )
    if estimate.shape_at_bound:
        warnings.warn(
            "the negative-binomial overdispersion went to zero (NB2 shape to infinity, NB1 "
            "dispersion to zero): the counts show no overdispersion beyond the random effects; "
            "use family='poisson'",
            DataWarning,
            stacklevel=3,
        )
    has_shape = family in ("negative_binomial", "negative_binomial_1")
    n_zi = len(estimate.zero_inflation)
    n_params = len(estimate.beta) + len(estimate.theta) + int(has_shape) + n_zi
    loglik = -0.5 * estimate.deviance
    n = design.n_obs
    variance = pd.DataFrame({
        "group": [t.name for t in design.random_terms],
        "term": "(Intercept)",
        "variance": estimate.theta**2,
        "std_dev": estimate.theta,
    })
    correlations = pd.DataFrame(columns=["group", "term1", "term2", "correlation", "covariance"])
    if not design.random_terms:
        method = "maximum likelihood"
    elif n_agq == 1:
        method = "Laplace"
    else:
        method = f"adaptive Gauss-Hermite quadrature (nAGQ = {n_agq})"
    zi_table = None
    if zi_design is not None:
        zi_table = _fixed_table(estimate.zero_inflation, estimate.cov_zero_inflation,
                                zi_design.fixed_names, level)
        largest = float(np.max(zi_design.fixed @ estimate.zero_inflation))
        if largest < -9.0 or zi_table["std_error"].isna().any():
            warnings.warn(
                f"the zero-inflation model {zero_inflation!r} is at its boundary: the "
                f"probability of a structural zero is estimated at (nearly) zero (at most "
                f"{scipy.special.expit(largest):.2g}), or its coefficients' standard errors are "
                "not available; the count model alone explains the zeros, so fit without "
                "zero_inflation (or with '~ 1' instead of '~ x')",
                DataWarning,
                stacklevel=3,
            )
    return GeneralizedMixedModelResult(
        formula=formula,
        family=family,
        method=method,
        fixed_effects=_fixed_table(estimate.beta, estimate.cov_beta, design.fixed_names, level),
        variance_components=variance,
        correlations=correlations,
        loglik=loglik,
        n_parameters=n_params,
        aic=-2.0 * loglik + 2.0 * n_params,
        bic=-2.0 * loglik + np.log(n) * n_params,
        deviance=estimate.deviance,
        n_obs=n,
        n_groups={t.name: t.n_levels for t in design.random_terms},
        converged=estimate.converged,
        singular=singular,
        sigma=1.0,
        theta=estimate.theta,
        beta=estimate.beta,
        fixed_covariance=estimate.cov_beta,
        conditional_modes=tuple(m[:, None] for m in estimate.modes),
        conditional_variances=tuple((s**2)[:, None, None] for s in estimate.mode_sds),
        design=design,
        ml_refit=None,
        shape=estimate.shape if family == "negative_binomial" else float("nan"),
        n_agq=n_agq,
        offset_array=offset_array,
        dispersion=estimate.shape if family == "negative_binomial_1" else float("nan"),
        zero_inflation=zi_table,
        zero_inflation_formula=zero_inflation,
        zero_inflation_design=zi_design,
    )
