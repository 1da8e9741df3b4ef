"""Omega from factor models: hierarchical omega (Schmid-Leiman) and omega from a one-factor CFA.

**Omega hierarchical and total** (McDonald, 1999; Zinbarg et al., 2005), computed as
``psych::omega`` does with its defaults (Revelle, 2022):

1. ``R``: the item correlation matrix (pairwise by default).
2. ``n_factors`` factors by minimum residual (``fm = "minres"``): the loadings ``L`` minimise the
   squared off-diagonal residuals ``sum_{i != j} (r_ij - (L L')_ij)^2``; the communalities are
   ``h2 = diag(L L')``, the uniquenesses ``u2 = 1 - h2``.
3. An oblique oblimin rotation (``gamma = 0``, quartimin; Jennrich, 2002, gradient projection as in
   GPArotation) from the varimax solution gives the pattern ``P`` and factor correlations
   ``Phi``.
4. Schmid & Leiman (1957): the loadings ``b`` of the factors on a general factor come from a
   one-factor minres model of ``Phi`` (three or more factors). With two factors the model is
   not identified, and, like psych's ``option = "equal"``, both get ``sqrt(|phi_12|)`` (the
   second with the sign of ``phi_12``). General loadings ``g = P b``; group loadings
   ``P * sqrt(1 - b^2)``.
5. Items whose general loading is negative are reversed (psych's ``flip = TRUE``), then
   ``omega_h = (sum g)^2 / sum(R)`` and ``omega_t = (sum(R) - sum(u2)) / sum(R)``;
   ``omega_limit = (sum g)^2 / (sum(R) - sum(u2))`` (psych's ``omega.lim``).

Differences from psych: psych stops the oblimin iterations when the projected gradient falls
below 1e-5 and optimises the uniquenesses with ``optim``'s default tolerance; here both are run
to much tighter tolerances, so the two agree to about 1e-4 (the golden tests' tolerance), not to
machine precision. Like psych, loadings are bounded so that no uniqueness of a minres fit falls
below 0.005.

**Omega from a one-factor CFA** (maximum likelihood, as ``lavaan::cfa(model, std.lv = TRUE)``):
the loadings ``lambda`` and residual variances ``theta`` minimise the normal-theory discrepancy
``log|Sigma| + tr(S Sigma^-1)`` with ``Sigma = lambda lambda' + diag(theta)`` and ``S`` the
covariance matrix of the complete cases (divisor ``n``, lavaan's default), and
``omega = (sum lambda)^2 / ((sum lambda)^2 + sum theta)`` (McDonald, 1999; Raykov, 1997).

Validated against psych 2.2.9 with GPArotation 2022.10.2 and lavaan 0.6-14 (R 4.2.2) on psych's
``bfi`` agreeableness and conscientiousness items
(``tests/measures/golden/reliability_factor_models.R``).

References
----------
Jennrich, R. I. (2002). A simple general method for oblique rotation. *Psychometrika*, 67(1),
7-19.

McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.

Raykov, T. (1997). Estimation of composite reliability for congeneric measures. *Applied
Psychological Measurement*, 21(2), 173-184.

Schmid, J., & Leiman, J. M. (1957). The development of hierarchical factor solutions.
*Psychometrika*, 22(1), 53-61.

Zinbarg, R. E., Revelle, W., Yovel, I., & Li, W. (2005). Cronbach's alpha, Revelle's beta, and
McDonald's omega_H. *Psychometrika*, 70(1), 123-133.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from classdyad.errors import ConvergenceWarning, DataError, DataWarning, check_option
from classdyad.measures.reliability import (
    _MIN_UNIQUENESS,
    _MISSING,
    MissingPolicy,
    _minres_one_factor,
    _numeric_items,
    _warn,
)

__all__ = ["CfaOmega", "OmegaHierarchical", "cfa_omega", "omega_hierarchical"]


@dataclass(frozen=True)
class OmegaHierarchical:
    """Omega hierarchical and total from a Schmid-Leiman solution.

    Attributes
    ----------
    omega_hierarchical
        ``(sum g)^2 / sum(R)``: the share of total score variance due to the general factor.
    omega_total
        ``(sum(R) - sum(u2)) / sum(R)``: the share due to all common factors.
    omega_limit
        ``(sum g)^2 / (sum(R) - sum(u2))``: omega hierarchical of an infinitely long test.
    n_factors
        Group factors extracted.
    loadings
        One row per item: ``item``, ``reversed`` (flipped because its general loading was
        negative), ``general``, ``group_1`` ... ``group_k``, ``h2``, ``u2``, ``p2`` (share of
        the communality due to the general factor).
    factor_correlations
        The oblimin factor correlations ``Phi``.
    general_loadings
        The loadings of the group factors on the general factor.
    n_observations, n_items
        Rows and items used.
    """

    omega_hierarchical: float
    omega_total: float
    omega_limit: float
    n_factors: int
    loadings: pd.DataFrame = field(repr=False)
    factor_correlations: pd.DataFrame = field(repr=False)
    general_loadings: pd.Series = field(repr=False)
    n_observations: int
    n_items: int

    def to_frame(self) -> pd.DataFrame:
        """The Schmid-Leiman loadings, one row per item (the omegas are attributes)."""
        return self.loadings.copy()

    def _repr_html_(self) -> str:
        return (f"<p><b>Omega hierarchical</b> = {self.omega_hierarchical:.3f}, omega total = "
                f"{self.omega_total:.3f} ({self.n_factors} group factors, {self.n_items} "
                f"items, {self.n_observations} rows)</p>" + self.loadings.to_html(index=False))


@dataclass(frozen=True)
class CfaOmega:
    """Omega from a one-factor confirmatory factor model fitted by maximum likelihood.

    Attributes
    ----------
    omega
        ``(sum lambda)^2 / ((sum lambda)^2 + sum theta)``.
    loadings, residual_variances
        ``lambda`` (factor variance fixed at 1) and ``theta``, by item, in the items' units.
    chi_square, df
        The likelihood-ratio test of the one-factor model, ``n F_ML`` on ``k (k - 3) / 2``
        degrees of freedom (lavaan's ``chisq``).
    n_observations, n_items
        Complete rows and items used.
    """

    omega: float
    loadings: pd.Series = field(repr=False)
    residual_variances: pd.Series = field(repr=False)
    chi_square: float
    df: int
    n_observations: int
    n_items: int

    def to_frame(self) -> pd.DataFrame:
        """One row per item: ``item``, ``loading``, ``residual_variance``."""
        return pd.DataFrame({"item": self.loadings.index, "loading": self.loadings.to_numpy(),
                             "residual_variance": self.residual_variances.to_numpy()})

    def _repr_html_(self) -> str:
        return (f"<p><b>Omega (one-factor CFA, ML)</b> = {self.omega:.3f} (chi-square "
                f"{self.chi_square:.2f} on {self.df} df; {self.n_observations} complete rows)</p>"
                + self.to_frame().to_html(index=False))


# --- minres factors, varimax and oblimin -----------------------------------------------------


def _minres(corr: np.ndarray, n_factors: int) -> np.ndarray:
    """Unrotated minres loadings (principal axes of ``R`` with the fitted communalities)."""
    k = corr.shape[0]
    off = ~np.eye(k, dtype=bool)
    max_h2 = 1.0 - _MIN_UNIQUENESS

    def principal(communality: np.ndarray) -> np.ndarray:
        reduced = corr.copy()
        np.fill_diagonal(reduced, communality)
        values, vectors = np.linalg.eigh(reduced)
        order = np.argsort(values)[::-1][:n_factors]
        return vectors[:, order] * np.sqrt(np.maximum(values[order], 0.0))

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        loadings = flat.reshape(k, n_factors)
        resid = np.where(off, corr - loadings @ loadings.T, 0.0)
        penalty_h2 = np.maximum((loadings**2).sum(axis=1) - max_h2, 0.0)
        value = (resid**2).sum() + 1e6 * (penalty_h2**2).sum()
        gradient = -4.0 * resid @ loadings + 4e6 * (penalty_h2[:, None] * loadings)
        return float(value), gradient.ravel()

    smc = 1.0 - 1.0 / np.diag(np.linalg.pinv(corr))
    start = principal(smc)
    fit = optimize.minimize(objective, start.ravel(), jac=True, method="L-BFGS-B",
                            options={"ftol": 1e-16, "gtol": 1e-11, "maxiter": 20_000,
                                     "maxcor": 30})
    loadings = fit.x.reshape(k, n_factors)
    h2 = np.minimum((loadings**2).sum(axis=1), max_h2)
    # the same solution in its principal-axes orientation
    return principal(h2)


def _varimax(loadings: np.ndarray, eps: float = 1e-12, max_iter: int = 5000) -> np.ndarray:
    """Kaiser-normalised varimax (the algorithm of R's ``stats::varimax``)."""
    norm = np.sqrt((loadings**2).sum(axis=1))
    x = loadings / norm[:, None]
    p, m = x.shape
    rotation = np.eye(m)
    d = 0.0
    for _ in range(max_iter):
        z = x @ rotation
        b = x.T @ (z**3 - z @ np.diag((z**2).sum(axis=0)) / p)
        u, s, vt = np.linalg.svd(b)
        rotation = u @ vt
        d_past, d = d, s.sum()
        if d < d_past * (1 + eps):
            break
    return (x @ rotation) * norm[:, None]


def _quartimin(loadings: np.ndarray) -> tuple[float, np.ndarray]:
    """Oblimin with gamma = 0: criterion and its gradient with respect to the loadings."""
    m = loadings.shape[1]
    x = (loadings**2) @ (1.0 - np.eye(m))
    return float((loadings**2 * x).sum() / 4.0), loadings * x


def _oblimin(loadings: np.ndarray, eps: float = 1e-8, max_iter: int = 100_000
             ) -> tuple[np.ndarray, np.ndarray]:
    """Oblique gradient-projection rotation (Jennrich, 2002; GPArotation's ``GPFoblq``)."""
    t = np.eye(loadings.shape[1])
    rotated = loadings @ np.linalg.inv(t).T
    f, gq = _quartimin(rotated)
    gradient = -(rotated.T @ gq @ np.linalg.inv(t)).T
    step = 1.0
    converged = False
    for _ in range(max_iter):
        projected = gradient - t @ np.diag((t * gradient).sum(axis=0))
        size = np.sqrt((projected**2).sum())
        if size < eps:
            converged = True
            break
        step *= 2.0
        for _ in range(11):
            x = t - step * projected
            t_new = x / np.sqrt((x**2).sum(axis=0))
            rotated = loadings @ np.linalg.inv(t_new).T
            f_new, gq = _quartimin(rotated)
            if f - f_new > 0.5 * size**2 * step:
                break
            step /= 2.0
        t, f = t_new, f_new
        gradient = -(rotated.T @ gq @ np.linalg.inv(t)).T
    if not converged:
        warnings.warn("the oblimin rotation did not converge; omega hierarchical may be "
                      "inaccurate (try fewer factors)", ConvergenceWarning, stacklevel=3)
    return rotated, t.T @ t


def omega_hierarchical(items: pd.DataFrame, *, n_factors: int = 3,
                       missing: MissingPolicy = "pairwise") -> OmegaHierarchical:
    """Omega hierarchical and omega total from a Schmid-Leiman solution (as ``psych::omega``).

    Parameters
    ----------
    items
        Wide data: one row per respondent, one numeric column per item. Items whose general
        loading is negative are reversed automatically (reported in ``loadings["reversed"]``).
    n_factors
        Group factors (psych's default 3). With 2 the general loadings are set equal (not
        identified; psych's ``option = "equal"``).
    missing
        ``"pairwise"`` correlations (psych's default) or ``"listwise"``.

    Returns
    -------
    OmegaHierarchical

    Notes
    -----
    minres factoring, oblimin rotation, Schmid-Leiman transformation; see the module docstring.
    Validated against ``psych::omega`` (psych 2.2.9, GPArotation 2022.10.2) to 1e-4.
    """
    check_option("missing", missing, _MISSING)
    if isinstance(n_factors, bool) or not isinstance(n_factors, int | np.integer) or n_factors < 2:
        raise DataError(f"n_factors={n_factors!r} must be a whole number >= 2; for one factor use "
                        f"mcdonald_omega (omega total) or cfa_omega")
    data = _numeric_items(items, missing=missing)
    n_obs, k = data.shape
    names = list(data.columns)
    if k < 2 * n_factors:
        raise DataError(f"{k} items are too few for {n_factors} group factors; use at least "
                        f"{2 * n_factors} items (three per factor is better) or fewer factors")
    if (data.std() == 0).any() or data.std().isna().any():
        raise DataError("an item has no variance; leave it out")
    corr = data.corr().to_numpy()
    if not np.isfinite(corr).all():
        raise DataError("some item pairs were never answered together; use missing='listwise' "
                        "or leave out one item of each such pair")
    unrotated = _minres(corr, n_factors)
    h2 = (unrotated**2).sum(axis=1)
    u2 = 1.0 - h2
    start = _varimax(unrotated)
    # psych's fa() convention: factors ordered by explained variance, columns summing positive
    start = start[:, np.argsort(-(start**2).sum(axis=0), kind="stable")]
    start = start * np.where(start.sum(axis=0) < 0, -1.0, 1.0)
    pattern, phi = _oblimin(start)
    if n_factors == 2:
        root = np.sqrt(abs(phi[0, 1]))
        general_on_factors = np.array([root, np.sign(phi[0, 1]) * root])
    else:
        general_on_factors = _minres_one_factor(phi)
    general = pattern @ general_on_factors
    group = pattern * np.sqrt(np.maximum(1.0 - general_on_factors**2, 0.0))
    key = np.where(general < 0, -1.0, 1.0)
    flipped = corr * np.outer(key, key)
    total = flipped.sum()
    general, group = general * key, group * key[:, None]
    omega_h = general.sum() ** 2 / total
    loadings = pd.DataFrame({"item": names, "reversed": key < 0, "general": general})
    for f in range(n_factors):
        loadings[f"group_{f + 1}"] = group[:, f]
    loadings["h2"] = h2
    loadings["u2"] = u2
    loadings["p2"] = general**2 / h2
    labels = [f"group_{f + 1}" for f in range(n_factors)]
    return OmegaHierarchical(
        omega_hierarchical=float(omega_h), omega_total=float((total - u2.sum()) / total),
        omega_limit=float(general.sum() ** 2 / (total - u2.sum())), n_factors=int(n_factors),
        loadings=loadings, factor_correlations=pd.DataFrame(phi, index=labels, columns=labels),
        general_loadings=pd.Series(general_on_factors, index=labels), n_observations=n_obs,
        n_items=k)


# --- one-factor CFA by maximum likelihood ----------------------------------------------------


def cfa_omega(items: pd.DataFrame) -> CfaOmega:
    """Omega from a one-factor CFA by maximum likelihood (as ``lavaan::cfa(std.lv = TRUE)``).

    Parameters
    ----------
    items
        Wide data: one row per respondent, one numeric column per item, all keyed in the same
        direction (recode reverse-keyed items first). Rows with a missing answer are left out
        (lavaan's default, listwise).

    Returns
    -------
    CfaOmega

    Notes
    -----
    ``omega = (sum lambda)^2 / ((sum lambda)^2 + sum theta)`` from the ML estimates; see the
    module docstring. Validated against lavaan 0.6-14 to 1e-6. A negative loading means an
    item is keyed the other way: it is kept, with a :class:`~classdyad.errors.DataWarning`,
    because omega of the unrecoded sum score is what the formula then gives.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> factor = rng.normal(size=500)
    >>> items = pd.DataFrame({f"i{j}": factor + rng.normal(size=500) for j in range(4)})
    >>> round(cfa_omega(items).omega, 2)
    0.77
    """
    data = _numeric_items(items, missing="listwise")
    n_obs, k = data.shape
    names = list(data.columns)
    if k < 3:
        _warn("a one-factor CFA needs at least three items")
        nan = pd.Series(np.full(k, np.nan), index=names)
        return CfaOmega(np.nan, nan, nan.copy(), np.nan, 0, n_obs, k)
    x = data.to_numpy()
    centered = x - x.mean(axis=0)
    cov = centered.T @ centered / n_obs
    if (np.diag(cov) <= 0).any():
        raise DataError("an item has no variance; leave it out")
    # work on the correlation scale, then rescale: the ML solution is scale-equivariant
    sd = np.sqrt(np.diag(cov))
    s = cov / np.outer(sd, sd)
    _, log_det_s = np.linalg.slogdet(s)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        lam, psi = theta[:k], theta[k:]
        sigma = np.outer(lam, lam) + np.diag(psi)
        sign, log_det = np.linalg.slogdet(sigma)
        if sign <= 0:
            return 1e10, np.zeros_like(theta)
        inverse = np.linalg.inv(sigma)
        value = log_det + np.trace(s @ inverse) - log_det_s - k
        g = inverse - inverse @ s @ inverse
        return float(value), np.r_[2.0 * g @ lam, np.diag(g)]

    values, vectors = np.linalg.eigh(s)
    start_lambda = vectors[:, -1] * np.sqrt(values[-1]) * 0.9
    start_lambda *= np.sign(start_lambda.sum()) or 1.0
    start = np.r_[start_lambda, np.maximum(1.0 - start_lambda**2, 0.1)]
    fit = optimize.minimize(objective, start, jac=True, method="BFGS",
                            options={"gtol": 1e-12, "maxiter": 10_000})
    if not np.isfinite(fit.fun) or np.abs(fit.jac).max() > 1e-6:
        warnings.warn("the one-factor CFA did not converge; omega may be inaccurate",
                      ConvergenceWarning, stacklevel=2)
    lam = fit.x[:k] * sd
    psi = fit.x[k:] * sd**2
    if lam.sum() < 0:
        lam = -lam
    if (lam < 0).any():
        negative = [n for n, v in zip(names, lam, strict=True) if v < 0]
        warnings.warn(f"item(s) {negative} load negatively on the factor; recode reverse-keyed "
                      f"items before computing omega", DataWarning, stacklevel=2)
    if (psi < 0).any():
        warnings.warn("a residual variance is negative (a Heywood case); omega is reported as "
                      "the formula gives it, as lavaan does", DataWarning, stacklevel=2)
    common = lam.sum() ** 2
    return CfaOmega(
        omega=float(common / (common + psi.sum())), loadings=pd.Series(lam, index=names),
        residual_variances=pd.Series(psi, index=names), chi_square=float(n_obs * fit.fun),
        df=k * (k - 3) // 2, n_observations=n_obs, n_items=k)
