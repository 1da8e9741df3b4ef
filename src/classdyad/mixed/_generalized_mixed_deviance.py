"""Laplace and adaptive Gauss-Hermite deviances of a GLMM with random intercepts.

The model (in the notation of Bates et al. 2015) is

    eta = offset + X beta + U u,    U = Z Lambda(theta),    u ~ N(0, I_q),

where ``Z`` holds one indicator column per level of each grouping factor and ``Lambda`` is
diagonal with ``theta_k`` (the standard deviation of factor ``k``'s intercepts, the response
scale being fixed by the family) on the columns of factor ``k``.

Conditional modes (PIRLS)
    For fixed ``(theta, beta)`` the conditional mode ``u_hat`` minimises the penalized deviance
    ``-2 sum log p(y | eta) + |u|^2``. Newton steps solve ``M delta = U' s - u`` with
    ``M = I + U' W U`` (``s``: score, ``W``: weights of :mod:`glmm_families`), halving the step
    when the penalized deviance does not decrease (lme4's penalized iteratively reweighted least
    squares). With ``beta`` added to the unknowns the same iteration gives lme4's ``nAGQ = 0``
    fit, used here for starting values.

Solving with ``M``
    Random intercepts make each factor's block of ``M`` diagonal. The factor with the most levels
    is eliminated first (``D``, diagonal); the remaining factors (for ``(1 | school/classroom)``:
    the schools) form a small dense Schur complement ``S = C - B' D^-1 B``, factorised by
    Cholesky. So ``log det M = sum log D + log det S`` and every solve costs O(n + q_rest^3): a
    single grouping factor is a vector of per-group Newton steps, nested and crossed factors a
    small dense system (block elimination with a Schur complement, Golub & Van Loan 2013).

Laplace deviance (``nAGQ = 1``)
    ``-2 log L ~ -2 sum log p(y | u_hat) + |u_hat|^2 + log det M(u_hat)``, with ``M`` at the
    mode (Bates et al. 2015; lme4's ``glmer`` returns the same quantity).

Adaptive Gauss-Hermite quadrature (``nAGQ > 1``, one grouping factor)
    Each group's integral ``int prod_i p(y_i | u) phi(u) du`` is evaluated with Gauss-Hermite
    nodes ``x_k`` and weights ``w_k`` centred at the group's mode and scaled by its conditional
    standard deviation ``sigma_j = M_jj^(-1/2)``:
    ``L_j ~ sqrt(2) sigma_j sum_k w_k exp(x_k^2) p(y_j | u_k) phi(u_k)``,
    ``u_k = u_hat_j + sqrt(2) sigma_j x_k`` (Pinheiro & Bates 1995; Pinheiro & Bates 2000,
    chapter 7). One node reproduces the Laplace deviance.

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01
Pinheiro, J. C. & Bates, D. M. (1995). Approximations to the log-likelihood function in the
nonlinear mixed-effects model. *Journal of Computational and Graphical Statistics*, 4(1), 12-35.
Pinheiro, J. C. & Bates, D. M. (2000). *Mixed-Effects Models in S and S-PLUS*. Springer.
Golub, G. H. & Van Loan, C. F. (2013). *Matrix Computations* (4th ed.). Johns Hopkins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.special import logsumexp

from classdyad.mixed._glmm_families import GlmmFamily

__all__ = ["GlmmProblem", "Mode", "RandomInterceptSystem"]

_LOG_2PI = float(np.log(2.0 * np.pi))


def _pairs(
    first: np.ndarray, second: np.ndarray, n_second: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed level pairs of two factors: per-row pair index and the pairs' (row, column)."""
    unique, pair_id = np.unique(first * n_second + second, return_inverse=True)
    return pair_id.ravel(), unique // n_second, unique % n_second


def _coo_apply(index_out: np.ndarray, index_in: np.ndarray, values: np.ndarray,
               vector: np.ndarray, size: int) -> np.ndarray:
    """``A @ vector`` for a matrix ``A`` given by entries (out index, in index, value)."""
    if vector.ndim == 1:
        return np.bincount(index_out, values * vector[index_in], size)
    m = vector.shape[1]
    flat = (index_out[:, None] * m + np.arange(m)[None, :]).ravel()
    return np.bincount(flat, (values[:, None] * vector[index_in]).ravel(), size * m).reshape(
        size, m
    )


def _same_row_combinations(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs ``(e1, e2)`` of entries that lie in the same row (``e1 == e2`` too)."""
    if rows.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    start = np.searchsorted(sorted_rows, sorted_rows, side="left")
    count = np.searchsorted(sorted_rows, sorted_rows, side="right") - start
    first = np.repeat(order, count)
    within = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    second = order[np.repeat(start, count) + within]
    return first, second


class RandomInterceptSystem:
    """``M = I + U' W U`` for random intercepts, factorised for solves and its log-determinant.

    Factors are in the problem's internal order (most levels first). The block ``B`` that couples
    the first factor to the others is kept as a list of entries (one per observed pair of levels)
    and applied with ``bincount``, so no dense matrix products are formed.
    """

    def __init__(self, problem: GlmmProblem, theta: np.ndarray, weights: np.ndarray):
        p = problem
        self.problem = p
        self.d0 = 1.0 + theta[0] ** 2 * np.bincount(p.codes[0], weights, p.n_levels[0])
        self.q0 = p.n_levels[0]
        self.q_rest = p.q - self.q0
        self.chol: tuple[np.ndarray, bool] | None = None
        self.s_diagonal: np.ndarray | None = None
        logdet = float(np.log(self.d0).sum())
        if self.q_rest:
            self.b_values = np.concatenate([
                theta[0] * theta[k] * np.bincount(pair_id, weights, n_pairs)
                for k, pair_id, n_pairs in p.b_blocks
            ])
            self.b_scaled = self.b_values / self.d0[p.b_rows]
            if p.nested_pair:
                # two factors, the first nested in the second: S is diagonal
                s_diagonal = (1.0 + theta[1] ** 2 * np.bincount(p.codes[1], weights, self.q_rest)
                              - np.bincount(p.b_cols, self.b_values * self.b_scaled,
                                            self.q_rest))
                if np.all(s_diagonal > 0.0):
                    self.s_diagonal = s_diagonal
                    logdet += float(np.log(s_diagonal).sum())
                else:
                    logdet = np.inf
            else:
                logdet = self._factor_schur(theta, weights, logdet)
        self.logdet = logdet

    @property
    def failed(self) -> bool:
        """True when the Schur complement was not positive definite (no solves possible)."""
        return bool(self.q_rest) and self.chol is None and self.s_diagonal is None

    def _factor_schur(self, theta: np.ndarray, weights: np.ndarray, logdet: float) -> float:
        p = self.problem
        c = np.zeros((self.q_rest, self.q_rest))
        for k, m, pair_id, rows, cols in p.c_pairs:
            c[rows, cols] = theta[k] * theta[m] * np.bincount(pair_id, weights, len(rows))
        c = c + c.T - np.diag(np.diag(c)) + np.eye(self.q_rest)
        first, second = p.b_combos
        cross = np.bincount(
            p.b_cols[first] * self.q_rest + p.b_cols[second],
            self.b_values[first] * self.b_scaled[second],
            self.q_rest * self.q_rest,
        ).reshape(self.q_rest, self.q_rest)
        try:
            self.chol = scipy.linalg.cho_factor(c - cross, lower=True, check_finite=False)
        except np.linalg.LinAlgError:
            self.chol = None
            return np.inf
        return logdet + 2.0 * float(np.log(np.diag(self.chol[0])).sum())

    def _solve_rest(self, rhs: np.ndarray) -> np.ndarray:
        if self.s_diagonal is not None:
            return rhs / (self.s_diagonal if rhs.ndim == 1 else self.s_diagonal[:, None])
        return scipy.linalg.cho_solve(self.chol, rhs, check_finite=False)

    def rest_inverse(self) -> np.ndarray:
        """``S^-1``, the inverse of the Schur complement (dense; diagonal for a nested pair)."""
        if self.s_diagonal is not None:
            return np.diag(1.0 / self.s_diagonal)
        return scipy.linalg.cho_solve(self.chol, np.eye(self.q_rest), check_finite=False)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``M^-1 rhs`` for a vector or a matrix of right-hand sides (rows: random effects)."""
        d0 = self.d0 if rhs.ndim == 1 else self.d0[:, None]
        if not self.q_rest:
            return rhs / d0
        p = self.problem
        top, rest = rhs[: self.q0], rhs[self.q0 :]
        reduced = rest - _coo_apply(p.b_cols, p.b_rows, self.b_scaled, top, self.q_rest)
        rest = self._solve_rest(reduced)
        top = top - _coo_apply(p.b_rows, p.b_cols, self.b_values, rest, self.q0)
        return np.concatenate([top / d0, rest])

    def inverse_diagonal(self, s_inv: np.ndarray | None = None) -> np.ndarray:
        """Diagonal of ``M^-1`` (conditional variances of ``u``); ``s_inv``: the caller's
        :meth:`rest_inverse`, when it has one already."""
        if not self.q_rest:
            return 1.0 / self.d0
        p = self.problem
        if self.s_diagonal is not None:
            s_inv = 1.0 / self.s_diagonal
            top = 1.0 / self.d0 + np.bincount(p.b_rows, self.b_scaled**2 * s_inv[p.b_cols],
                                              self.q0)
            return np.concatenate([top, s_inv])
        if s_inv is None:
            s_inv = self.rest_inverse()
        first, second = p.b_combos
        top = 1.0 / self.d0 + np.bincount(
            p.b_rows[first],
            self.b_scaled[first] * self.b_scaled[second]
            * s_inv[p.b_cols[first], p.b_cols[second]],
            self.q0,
        )
        return np.concatenate([top, np.diag(s_inv)])


@dataclass
class Mode:
    """Conditional modes at ``(theta, beta, shape)`` and the pieces of the deviance there.

    ``shape`` is the family's packed parameter vector (NB2 shape or NB1 dispersion, then
    zero-inflation coefficients; see :mod:`classdyad.mixed._glmm_families`).
    """

    u: np.ndarray
    beta: np.ndarray
    loglik: float
    system: RandomInterceptSystem
    fixed_eta: np.ndarray
    weights: np.ndarray
    converged: bool

    @property
    def penalized_deviance(self) -> float:
        """``-2 sum log p(y | u) + |u|^2`` (without the family's constant)."""
        return -2.0 * self.loglik + float(self.u @ self.u)

    @property
    def laplace(self) -> float:
        """Laplace deviance without the family's constant."""
        return self.penalized_deviance + self.system.logdet


@dataclass(eq=False)
class GlmmProblem:
    """Data of a random-intercept GLMM on arrays, in the engine's internal factor order.

    ``codes`` are 0-based level codes per grouping factor, sorted so that the factor with the
    most levels comes first (``order`` maps back: internal factor ``i`` is the caller's factor
    ``order[i]``).
    """

    family: GlmmFamily
    y: np.ndarray
    x: np.ndarray
    offset: np.ndarray
    trials: np.ndarray
    codes: list[np.ndarray]
    n_levels: list[int]
    order: np.ndarray
    n: int = field(init=False)
    q: int = field(init=False)
    constant: float = field(init=False)

    def __post_init__(self) -> None:
        self.n = len(self.y)
        self.q = int(sum(self.n_levels))
        self.constant = self.family.constant(self.y, self.trials)
        starts = np.concatenate([[0], np.cumsum(self.n_levels)])
        self.starts = starts
        rows = np.concatenate([c + s for c, s in zip(self.codes, starts[:-1], strict=True)])
        cols = np.tile(np.arange(self.n), len(self.codes))
        self.zt = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(self.q, self.n))
        self.z = self.zt.T.tocsr()
        rest_start = starts[1:-1] - self.n_levels[0]
        self.b_blocks = []
        b_rows, b_cols = [], []
        for k in range(1, len(self.codes)):
            pair_id, rows, cols = _pairs(self.codes[0], self.codes[k], self.n_levels[k])
            self.b_blocks.append((k, pair_id, len(rows)))
            b_rows.append(rows)
            b_cols.append(cols + rest_start[k - 1])
        self.b_rows = np.concatenate(b_rows or [np.zeros(0, np.int64)])
        self.b_cols = np.concatenate(b_cols or [np.zeros(0, np.int64)])
        self.b_combos = _same_row_combinations(self.b_rows)
        # two factors with each level of the first inside one level of the second
        self.nested_pair = len(self.codes) == 2 and len(self.b_rows) == self.n_levels[0]
        self.c_pairs = []
        for k in range(1, len(self.codes)):
            for m in range(k, len(self.codes)):
                pair_id, rows, cols = _pairs(self.codes[k], self.codes[m], self.n_levels[m])
                self.c_pairs.append(
                    (k, m, pair_id, rows + rest_start[k - 1], cols + rest_start[m - 1])
                )

    @classmethod
    def build(
        cls,
        family: GlmmFamily,
        y: np.ndarray,
        x: np.ndarray,
        codes: list[np.ndarray],
        *,
        offset: np.ndarray | None = None,
        trials: np.ndarray | None = None,
    ) -> GlmmProblem:
        """Problem from arrays; ``codes`` in the caller's order (reordered internally)."""
        n_levels = [int(c.max()) + 1 for c in codes]
        order = np.argsort([-m for m in n_levels], kind="stable")
        return cls(
            family=family,
            y=np.asarray(y, float),
            x=np.asarray(x, float),
            offset=np.zeros(len(y)) if offset is None else np.asarray(offset, float),
            trials=np.ones(len(y)) if trials is None else np.asarray(trials, float),
            codes=[np.asarray(codes[i], np.int64) for i in order],
            n_levels=[n_levels[i] for i in order],
            order=order,
        )

    def theta_expanded(self, theta: np.ndarray) -> np.ndarray:
        """``theta`` repeated over each factor's levels (the diagonal of ``Lambda``)."""
        return np.repeat(theta, self.n_levels)

    def random_eta(self, theta: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``U u = Z Lambda u``."""
        return self.z @ (self.theta_expanded(theta) * u)

    def random_cross(self, theta: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``U' values`` for a vector or an (n, m) matrix."""
        lam = self.theta_expanded(theta)
        out = self.zt @ values
        return lam * out if values.ndim == 1 else lam[:, None] * out

    def mode(
        self,
        theta: np.ndarray,
        beta: np.ndarray,
        shape: float | np.ndarray,
        u_start: np.ndarray,
        *,
        update_beta: bool = False,
        tol: float = 1e-10,
        max_iter: int = 60,
    ) -> Mode:
        """Conditional modes by PIRLS (with ``beta`` too when ``update_beta``)."""
        u = u_start.copy()
        beta = beta.copy()
        fixed_eta = self.offset + self.x @ beta
        eta = fixed_eta + self.random_eta(theta, u)
        with np.errstate(over="ignore", invalid="ignore"):
            ll, score, w = self.family.derivatives(self.y, eta, self.trials, shape)
            pdev = -2.0 * ll.sum() + u @ u
        if not np.isfinite(pdev):
            # a warm start far from this theta's modes: start from zero instead
            u = np.zeros_like(u)
            eta = fixed_eta.copy()
            ll, score, w = self.family.derivatives(self.y, eta, self.trials, shape)
            pdev = -2.0 * ll.sum()
        converged = False
        for _ in range(max_iter):
            system = RandomInterceptSystem(self, theta, w)
            if system.failed:
                break
            rhs_u = self.random_cross(theta, score) - u
            if update_beta:
                cross = self.random_cross(theta, w[:, None] * self.x)
                solved = system.solve(np.column_stack([rhs_u, cross]))
                m_rhs, m_cross = solved[:, 0], solved[:, 1:]
                xwx = self.x.T @ (w[:, None] * self.x) - cross.T @ m_cross
                rhs_b = self.x.T @ score - cross.T @ m_rhs
                try:
                    delta_b = np.linalg.solve(xwx, rhs_b)
                except np.linalg.LinAlgError:
                    break
                delta_u = m_rhs - m_cross @ delta_b
                size = max(np.abs(delta_u).max(initial=0.0), np.abs(delta_b).max())
            else:
                delta_b = None
                delta_u = system.solve(rhs_u)
                size = np.abs(delta_u).max(initial=0.0)
            if size < tol:
                converged = True
                break
            step = 1.0
            while True:
                u_new = u + step * delta_u
                beta_new = beta if delta_b is None else beta + step * delta_b
                fixed_new = fixed_eta if delta_b is None else self.offset + self.x @ beta_new
                eta_new = fixed_new + self.random_eta(theta, u_new)
                # a long trial step may overflow exp(eta): its deviance is then infinite and
                # the step is halved
                with np.errstate(over="ignore", invalid="ignore"):
                    ll_new, score_new, w_new = self.family.derivatives(
                        self.y, eta_new, self.trials, shape
                    )
                    pdev_new = -2.0 * ll_new.sum() + u_new @ u_new
                if pdev_new <= pdev + 1e-12 * abs(pdev) or step < 1e-6:
                    break
                step *= 0.5
            if not np.isfinite(pdev_new):
                break
            u, beta, fixed_eta, ll, score, w, pdev = (
                u_new, beta_new, fixed_new, ll_new, score_new, w_new, pdev_new
            )
        else:
            system = RandomInterceptSystem(self, theta, w)
        return Mode(u, beta, float(ll.sum()), system, fixed_eta, w, converged)

    def laplace_deviance(self, mode: Mode) -> float:
        """``-2`` times the Laplace approximation to the log-likelihood."""
        return mode.laplace - 2.0 * self.constant

    def agq_deviance(
        self, mode: Mode, theta: np.ndarray, shape: float | np.ndarray, n_agq: int
    ) -> float:
        """``-2`` times the adaptive Gauss-Hermite approximation (one grouping factor)."""
        nodes, node_weights = np.polynomial.hermite.hermgauss(n_agq)
        sigma = 1.0 / np.sqrt(mode.system.d0)
        u_nodes = mode.u[:, None] + np.sqrt(2.0) * sigma[:, None] * nodes[None, :]
        codes = self.codes[0]
        eta = mode.fixed_eta[:, None] + theta[0] * u_nodes[codes]
        terms = self.family.loglik_terms(self.y, eta, self.trials, shape)
        q = self.n_levels[0]
        group_ll = np.column_stack(
            [np.bincount(codes, terms[:, k], q) for k in range(n_agq)]
        )
        log_integrand = (np.log(node_weights) + nodes**2)[None, :] + group_ll \
            - 0.5 * u_nodes**2 - 0.5 * _LOG_2PI
        log_groups = np.log(np.sqrt(2.0) * sigma) + logsumexp(log_integrand, axis=1)
        return float(-2.0 * log_groups.sum() - 2.0 * self.constant)
