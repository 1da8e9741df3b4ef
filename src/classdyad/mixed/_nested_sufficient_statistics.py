"""Profiled (RE)ML deviance of fully nested designs from per-group sufficient statistics.

The study's models are nested: observations within students within classrooms within schools,
e.g. ``(1 | school/classroom) + (1 | student)`` or ``(1 | classroom) + (1 + wave | student)``.
When every random-effects term but the finest (the one with the most levels) is a random
intercept and each term's levels lie within a single level of the next coarser term, the
marginal covariance ``V = I + Z Lambda Lambda' Z'`` (in units of ``sigma^2``) is block diagonal by
the coarsest term, and the quantities the profiled deviance needs, ``log|V|`` (equal to lme4's
``log|L_theta|^2``) and ``A = E' V^-1 E`` with ``E = [X y]``, follow from a recursion over the
levels from the finest to the coarsest (Sherman-Morrison for each random intercept; Woodbury
with a ``q x q`` block for the finest term):

- finest term, level ``g`` with ``M_g = Lambda' Z_g' Z_g Lambda + I`` and
  ``J_g = Lambda' Z_g' [1 E]``: ``log|V_g| = log|M_g|`` and
  ``[1 E]' V_g^-1 [1 E] = [1 E]'[1 E] - J_g' M_g^-1 J_g``;
- a random intercept ``phi = theta^2`` of a group ``h`` whose finer groups give ``t = 1' V^-1 1``
  and ``w = E' V^-1 1`` (sums over the finer groups in ``h``): with ``d = 1 + phi t``,
  ``log|V_h| = sum log|V_g| + log d``, ``E' V_h^-1 E = sum E' V_g^-1 E - phi w w' / d``, and
  ``h`` passes ``t / d`` and ``w / d`` on to the next coarser term.

``A`` is therefore ``E'E`` less the sum of all those rank-``q`` corrections, and only the
per-group ``t`` and ``w`` travel up the levels. With ``A = [[A_xx, a], [a', a_yy]]``,
``R_X R_X' = A_xx`` and ``r^2 = a_yy - a' A_xx^-1 a`` (the penalized residual sum of squares),
giving lme4's profiled deviances (Bates et al. 2015, eq. 34 and 41). The per-group statistics
``Z_g' Z_g``, ``Z_g' [1 E]`` and ``1' [1 E]`` are computed once per design, so an evaluation costs
O(groups x (p + 1)^2), whatever the number of observations; a new response changes only
the response's column of them (:meth:`NestedSufficientStatistics.with_response`).

The gradient in theta is exact, by reverse-mode differentiation of the recursion: the adjoint
of ``A`` is ``c [[beta beta', -beta], [-beta', 1]]`` (``c = dof / r^2``) plus ``A_xx^-1`` in
the fixed block for REML; it is passed down the levels (each group's ``t`` and ``w`` receive
the adjoints of their coarser group's), and for the finest term
``dD / dLambda = sum_g 2 G_g Lambda Q_g - 2 H_g Omega_g P_g'`` with ``G_g = Z_g' Z_g``,
``H_g = Z_g'[1 E]``, ``P_g = M_g^-1 J_g``, ``Omega_g`` the adjoint of ``[1 E]' V_g^-1 [1 E]``
and ``Q_g = M_g^-1 + P_g Omega_g P_g'``. A deviance with its gradient costs about two deviance
evaluations. The same reverse pass with ``c`` any constant gives the gradient of
``log|V| (+ log|R_X|^2) + c r^2`` (:meth:`NestedSufficientStatistics.parts_gradients`): with
``c = 1 / sigma^2`` that of the deviance at a fixed sigma, from which Satterthwaite's Hessian is
differenced (:mod:`~classdyad.mixed._satterthwaite`).

Beta, ``R_X`` and ``r^2`` come from the same recursion; the conditional modes and their variances
(asked for after the fit, if at all) come from the general solver
(:class:`~classdyad.mixed._penalized_least_squares.PenalizedLeastSquares`), built on first use.

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01

Henderson, H. V. & Searle, S. R. (1981). On deriving the inverse of a sum of matrices. *SIAM
Review*, 23(1), 53-60 (the Sherman-Morrison-Woodbury identities).
"""

from __future__ import annotations

import copy
import itertools
import math

import numpy as np
from scipy.linalg import lapack

from classdyad.mixed._formula import MixedDesign
from classdyad.mixed._nested_finest_term import (
    InterceptCells,
    PatternCells,
    finest_forward,
    finest_gradient,
    row_dot,
)
from classdyad.mixed._penalized_least_squares import (
    Evaluation,
    PenalizedLeastSquares,
    theta_layout,
)
from classdyad.mixed._penalized_least_squares_start import slope_start

__all__ = ["NestedSufficientStatistics"]

_LOG_2PI = float(np.log(2.0 * np.pi))
_NOT_POSITIVE_DEFINITE = "the penalized least-squares matrix is not positive definite"
_START_FLOOR = 0.1  # smallest starting theta of a random intercept (a zero one would stay there)


def _segments(keys: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """A stable order of ``keys`` (None where they come sorted) and where each key's run starts
    in it (keys 0..K-1, all present), for sums by ``numpy.add.reduceat``."""
    if keys.size > 1 and (keys[1:] >= keys[:-1]).all():
        order, sorted_keys = None, keys
    else:
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))
    return order, starts


class NestedSufficientStatistics:
    """Sufficient statistics of a fully nested design and its profiled deviance in theta.

    Build with :meth:`detect`, which returns ``None`` for designs the recursion does not cover
    (a single random-effects term, crossed or partly nested terms, or a coarser term with more
    than a random intercept). The interface is the one the optimiser and Satterthwaite's step
    use from :class:`~classdyad.mixed._penalized_least_squares.PenalizedLeastSquares`.
    """

    has_analytic_gradient = True

    def __init__(self, design: MixedDesign, chain: list[int], parents: list[np.ndarray]):
        terms = design.random_terms
        self.design = design
        self.n, self.p = design.fixed.shape
        self.q_sizes = [t.n_effects for t in terms]
        self.theta_slices, self.triangles, self.lower, self.theta_start = theta_layout(
            self.q_sizes)
        self.primary = chain[0]  # the finest term (names as the general solver's)
        finest = terms[self.primary]
        self.q1, self.j1 = finest.n_effects, finest.n_levels
        self.finest_intercept = finest.effect_names == ("(Intercept)",)
        self._parents = parents
        self._codes, self._z = finest.codes, finest.matrix
        p = self.p
        e = np.empty((self.n, p + 2), order="F")  # [1 X y], by columns (for the sums)
        e[:, 0] = 1.0
        self._centre(design, e[:, 1 : p + 1])
        e[:, p + 1] = self._centred_response(design)
        # per-group sums by bincount (cheaper than sorting the observations by group)
        self.level_sums = self._group_sums(e)  # 1'[1 E] per group
        if self.finest_intercept:  # Z_g = 1: Z_g'Z_g is the size, Z_g'[1 E] = 1'[1 E]
            self.gram = self.level_sums[:, :1, None]
            self.cross = self.level_sums[:, None, :]
        else:
            self.gram = np.empty((self.j1, self.q1, self.q1))
            self.cross = np.empty((self.j1, self.q1, p + 2))  # Z_g'[1 E]
            for r in range(self.q1):
                z_r = self._z[:, r]
                for s in range(r, self.q1):
                    self.gram[:, r, s] = self.gram[:, s, r] = np.bincount(
                        self._codes, z_r * self._z[:, s], minlength=self.j1)
                self.cross[:, r, :] = self._group_sums(e * z_r[:, None])
        self._finest_layouts()
        self.total = e[:, 1:].T @ e[:, 1:]  # E'E
        # the coarser terms, finest first: theta index, ``parent`` (a finer group's group here)
        # and the segments that sum each finer level's groups into theirs
        # (parent and starts None: the finest term's cells already come summed per group)
        self.levels: list[tuple[int, np.ndarray | None, np.ndarray | None,
                                np.ndarray | None]] = []
        # the finest term's groups pooled in cells within their coarser group, where that
        # shrinks them (always for a random intercept)
        self.cells: InterceptCells | PatternCells | None = None
        if self.finest_intercept:
            self.cells = InterceptCells(self.level_sums, parents[0])
        else:
            self.cells = PatternCells.build(self.gram, self.cross, self.level_sums, parents[0])
        for i, (k, parent) in enumerate(zip(chain[1:], parents, strict=True)):
            if i == 0 and isinstance(self.cells, InterceptCells):
                self.levels.append((self.theta_slices[k].start, None, None, None))
                continue
            if i == 0 and self.cells is not None:  # (the cells come sorted by coarser group)
                parent = self.cells.cell_parent
            order, starts = _segments(parent)
            self.levels.append((self.theta_slices[k].start, parent, order, starts))
        self._general: PenalizedLeastSquares | None = None
        # a general solver of the same design for another response (after a refit)
        self._general_base: PenalizedLeastSquares | None = None
        self._last_phi_gradients: tuple[bytes, bool, dict[int, float]] = (b"", True, {})
        self._last_forward: tuple[bytes, float, np.ndarray | None] = (b"", 0.0, None)

    def _group_sums(self, values: np.ndarray) -> np.ndarray:
        """Sums of the columns of ``values`` over each finest group, (groups, columns)."""
        out = np.empty((self.j1, values.shape[1]))
        for c in range(values.shape[1]):
            out[:, c] = np.bincount(self._codes, values[:, c], minlength=self.j1)
        return out

    def _finest_layouts(self) -> None:
        """Views of the finest term's statistics in the layouts its step uses."""
        self.cross_xy = self.cross[:, :, 1:]  # Z_g'[X y], as the general solver names it
        if self.q1 == 2:
            self.gram3 = np.stack([self.gram[:, 0, 0], self.gram[:, 0, 1], self.gram[:, 1, 1]],
                                  axis=1)
            self.cross0 = np.ascontiguousarray(self.cross[:, 0, :])
            self.cross1 = np.ascontiguousarray(self.cross[:, 1, :])

    def _centre(self, design: MixedDesign, out: np.ndarray) -> None:
        """Centre the fixed effects' columns other than the intercept (when there is one).

        ``X_c = X T`` with ``T^-1 = I + e_0 m'`` (``m`` the columns' means, 0 for the
        intercept's column ``e_0``) leaves ``r^2`` and ``|R_X|`` unchanged; it removes the
        cancellation between ``E'E`` and the corrections, which otherwise costs about two
        digits of the deviance (and the optimiser's last steps). Beta and ``R_X`` are mapped
        back in :meth:`solve`. ``X_c`` is written to ``out`` (and kept as a view of it).
        """
        x = design.fixed
        sums = np.ones(self.n)  # (matrix products: cheaper than reductions along the rows)
        if "(Intercept)" in design.fixed_names:  # the first column of ones (others are dropped)
            self._intercept = design.fixed_names.index("(Intercept)")
        else:
            ones = np.flatnonzero(sums @ (x != 1.0) == 0.0)
            self._intercept = int(ones[0]) if ones.size else None
        self._means = np.zeros(self.p)
        if self._intercept is not None:
            self._means = (sums @ x) / self.n
            self._means[self._intercept] = 0.0
        np.subtract(x, self._means, out=out)
        self._x = out

    def _centred_response(self, design: MixedDesign) -> np.ndarray:
        """``y`` less the offset, centred when there is an intercept (its mean kept)."""
        y = design.response - design.offset if design.parsed.offsets else design.response
        self._y_mean = float(y.mean()) if self._intercept is not None else 0.0
        self._y = y - self._y_mean
        return self._y

    @classmethod
    def detect(cls, design: MixedDesign) -> NestedSufficientStatistics | None:
        """The nested recursion for ``design``, or ``None`` where it does not apply."""
        terms = design.random_terms
        if len(terms) < 2:
            return None  # one term: the general solver is already per level
        chain = sorted(range(len(terms)), key=lambda k: -terms[k].n_levels)
        if any(terms[k].effect_names != ("(Intercept)",) for k in chain[1:]):
            return None
        parents = []
        for fine, coarse in itertools.pairwise(chain):
            parent = np.zeros(terms[fine].n_levels, dtype=np.int64)
            parent[terms[fine].codes] = terms[coarse].codes
            if not np.array_equal(parent[terms[fine].codes], terms[coarse].codes):
                return None  # a finer level spans several coarser ones: not nested
            parents.append(parent)
        return cls(design, chain, parents)

    def with_response(self, response: np.ndarray) -> NestedSufficientStatistics:
        """The same design with a new response: only the response's sums are recomputed."""
        new = copy.copy(self)
        new._last_phi_gradients, new._last_forward = (b"", True, {}), (b"", 0.0, None)
        new.design = self.design.with_response(np.asarray(response, dtype=float))
        y = new._centred_response(new.design)
        p, codes = self.p, self._codes
        new.level_sums = self.level_sums.copy()
        new.level_sums[:, p + 1] = np.bincount(codes, y, minlength=self.j1)
        if self.finest_intercept:
            new.cross = new.level_sums[:, None, :]
        else:
            new.cross = self.cross.copy()
            for r in range(self.q1):
                new.cross[:, r, p + 1] = np.bincount(codes, y * self._z[:, r], minlength=self.j1)
        new._finest_layouts()
        if isinstance(self.cells, InterceptCells):
            new.cells = self.cells.with_response_sums(new.level_sums)
        elif self.cells is not None:
            new.cells = copy.copy(self.cells)
            new.cells.set_sums(new.level_sums, new.cross)
        new.total = self.total.copy()
        new.total[p, :p] = new.total[:p, p] = self._x.T @ y
        new.total[p, p] = y @ y
        # the general solver is redone for the new response only if it is asked for
        new._general, new._general_base = None, self._general or self._general_base
        return new

    # ------------------------------------------------------------- parameters
    def lambda_factor(self, theta: np.ndarray, k: int) -> np.ndarray:
        """The q_k x q_k lower-triangular relative covariance factor of term ``k``."""
        q = self.q_sizes[k]
        if q == 1:
            return theta[self.theta_slices[k]].reshape(1, 1).copy()
        out = np.zeros((q, q))
        rows, cols = self.triangles[k]
        out[rows, cols] = theta[self.theta_slices[k]]
        return out

    def moment_start(self) -> np.ndarray:
        """Starting theta from moment estimates, as the general solver's
        (:func:`~classdyad.mixed._penalized_least_squares_start.moment_start`): one-way
        analyses of variance of the least-squares residuals for the random intercepts,
        per-level least squares for a finest term with several effects."""
        theta = self.theta_start.copy()
        p = self.p
        try:
            beta = np.linalg.solve(self.total[:p, :p], self.total[:p, p])
        except np.linalg.LinAlgError:
            return theta
        s2 = max((self.total[p, p] - beta @ self.total[:p, p]) / max(self.n - p, 1), 1e-12)
        sizes = self.level_sums[:, 0]
        sums = self.level_sums[:, p + 1] - self.level_sums[:, 1 : p + 1] @ beta
        if self.finest_intercept:
            variances = self._nested_anova(sizes, sums, s2 * (self.n - p))
            if variances is not None:
                indices = [self.theta_slices[self.primary].start] + [i for i, *_ in self.levels]
                theta[indices] = np.clip(np.sqrt(variances[1:] / variances[0]), _START_FLOOR,
                                         10.0)
                return theta
        variances: dict[int, float] = {}
        within = s2
        if not self.finest_intercept:
            start = slope_start(self, beta, s2, self._y - self._x @ beta)
            if start is not None:
                theta[self.theta_slices[self.primary]], within = start
        else:
            variances[self.theta_slices[self.primary].start] = _one_way(sizes, sums, s2)
        for (index, *_), parent in zip(self.levels, self._parents, strict=True):
            sizes, sums = np.bincount(parent, sizes), np.bincount(parent, sums)
            variances[index] = _one_way(sizes, sums, s2)
        for index, tau2 in variances.items():
            theta[index] = np.clip(np.sqrt(tau2 / within), 0.1, 10.0)
        return theta

    def _nested_anova(self, sizes: np.ndarray, sums: np.ndarray,
                      residual_ss: float) -> np.ndarray | None:
        """Variances ``(sigma^2, tau_finest^2, ..., tau_coarsest^2)`` of a nested
        random-intercept model by the analysis of variance of the least-squares residuals
        (Henderson's method I), or None where the equations have no positive ``sigma^2``.

        With ``S_h`` and ``n_h`` a group's residual sum and size at level ``k``, the expected
        between-group sum of squares is ``E[sum_h S_h^2 / n_h] = (G_k - 1) sigma^2 +
        sum_j a_kj tau_j^2``, where ``a_kj = sum_h (sum_{g of level j in h} n_g^2) / n_h -
        sum_g n_g^2 / n`` for a level ``j`` no coarser than ``k`` and ``n - sum_g n_g^2 / n``
        for a coarser one; the within-group sum of squares of the finest level has expectation
        ``(n - G_finest) sigma^2``. The least-squares fit's own degrees of freedom are ignored.
        """
        level_sizes, level_sums = [sizes], [sums]
        for parent in self._parents:
            level_sizes.append(np.bincount(parent, level_sizes[-1]))
            level_sums.append(np.bincount(parent, level_sums[-1]))
        n, k_levels = float(self.n), len(level_sizes)
        inverse_sizes = [1.0 / s for s in level_sizes]
        squares = [s * s for s in level_sizes]
        square_totals = [float(q.sum()) for q in squares]
        rows = [[n - sizes.size] + [0.0] * k_levels]
        values = [residual_ss - float(sums @ (sums * inverse_sizes[0]))]
        carried: list[np.ndarray] = []  # level j's squared sizes summed up to level k
        for k in range(k_levels):
            carried = [np.bincount(self._parents[k - 1], q) for q in carried] + [squares[k]]
            rows.append([level_sizes[k].size - 1.0]
                        + [float(carried[j] @ inverse_sizes[k]) - square_totals[j] / n
                           for j in range(k + 1)]
                        + [n - square_totals[j] / n for j in range(k + 1, k_levels)])
            values.append(float(level_sums[k] @ (level_sums[k] * inverse_sizes[k])))
        equations = np.array(rows)
        try:
            variances = np.linalg.solve(equations, values)
        except np.linalg.LinAlgError:
            return None
        if not variances[0] > 0.0:
            return None
        return np.maximum(variances, 0.0)

    # ------------------------------------------------------------- evaluation
    def _forward(self, theta: np.ndarray, *, keep: bool = False):
        """``log|V|``, the Cholesky factor of ``A`` and what the gradient reuses; ``keep``
        keeps the first two for :meth:`solve` at the same theta (the optimiser's points)."""
        lam = self.lambda_factor(theta, self.primary)
        if self.cells is not None:
            log_det, correction, u, pieces = self.cells.forward(lam)
        else:
            log_det, u, correction, pieces = finest_forward(self, theta)
        states = []
        values = theta.tolist()  # (Python floats: cheaper than numpy scalars)
        for index, _parent, order, starts in self.levels:
            # sums of [t, w] over the finer level's groups (cells come sorted already)
            if starts is not None:
                u = np.add.reduceat(u if order is None else u.take(order, axis=0), starts,
                                    axis=0)
            t, w = u[:, 0], u[:, 1:]
            phi = values[index] ** 2
            d = 1.0 + phi * t
            r = 1.0 / d
            log_det += float(np.log(d).sum())
            u = u * r[:, None]
            correction += phi * (w.T @ u[:, 1:])
            states.append((t, w, r, phi))
        factor, info = lapack.dpotrf(self.total - correction, lower=1, clean=1,
                                     overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError(_NOT_POSITIVE_DEFINITE)
        if keep:
            self._last_forward = (theta.tobytes(), log_det, factor)
        return log_det, factor, (pieces, states, lam)

    def _deviance(self, log_det: float, factor: np.ndarray, reml: bool) -> tuple[float, float]:
        p = self.p
        pwrss = float(factor[p, p] ** 2)
        if reml:
            dof = self.n - p
            log_det_rx = 2.0 * math.fsum(map(math.log, factor.diagonal()[:p].tolist()))
            return log_det + log_det_rx + dof * (1.0 + _LOG_2PI + np.log(pwrss / dof)), pwrss
        return log_det + self.n * (1.0 + _LOG_2PI + np.log(pwrss / self.n)), pwrss

    def solve(self, theta: np.ndarray, *, modes: bool = False) -> Evaluation:
        """``log|L|^2``, ``log|R_X|^2``, ``r^2``, ``R_X`` and beta at ``theta`` (no conditional
        modes: ``modes`` is accepted for the general solver's signature). Raises
        ``numpy.linalg.LinAlgError`` when a factor is not positive definite."""
        del modes
        theta = np.asarray(theta, dtype=float)
        key, log_det, factor = self._last_forward
        if key != theta.tobytes():  # (the optimiser's last evaluation is usually at theta)
            log_det, factor, _ = self._forward(theta)
        p = self.p
        rx = factor[:p, :p]
        beta, info = lapack.dtrtrs(rx, factor[p, :p], lower=1, trans=1)
        if info != 0:
            raise np.linalg.LinAlgError("the penalized least-squares factor is singular")
        log_det_rx = float(2.0 * np.sum(np.log(np.diagonal(rx))))
        if self._intercept is not None:  # back from the centred columns (see _centre)
            i = self._intercept
            beta[i] += self._y_mean - self._means @ beta
            t_inverse = np.eye(p)
            t_inverse[i] += self._means
            rx, info = lapack.dpotrf(t_inverse.T @ (rx @ rx.T) @ t_inverse, lower=1, clean=1)
            if info != 0:
                raise np.linalg.LinAlgError("the fixed effects' factor is not positive definite")
        return Evaluation(theta, log_det, log_det_rx, float(factor[p, p] ** 2), beta, rx)

    def deviance_parts(self, theta: np.ndarray) -> tuple[float, float, float]:
        """``log|L|^2``, ``log|R_X|^2`` and ``r^2`` at ``theta``, the numbers :meth:`solve`
        gives, without beta and ``R_X`` (the two-coordinate points of Satterthwaite's
        Richardson scheme, used here where the gradient's points fail, need no more)."""
        log_det, factor, _ = self._forward(np.asarray(theta, dtype=float))
        p = self.p
        if not np.all(np.diagonal(factor)[:p]):  # as solve() does
            raise np.linalg.LinAlgError("the penalized least-squares factor is singular")
        return (log_det, float(2.0 * np.sum(np.log(np.diagonal(factor)[:p]))),
                float(factor[p, p] ** 2))

    def profiled_deviance(self, theta: np.ndarray, *, reml: bool, keep: bool = False) -> float:
        """lme4's profiled deviance (ML) or REML criterion at ``theta`` (inf if not computable);
        ``keep`` keeps the factor for :meth:`solve` at the same theta."""
        try:
            log_det, factor, _ = self._forward(np.asarray(theta, dtype=float), keep=keep)
        except np.linalg.LinAlgError:
            return np.inf
        return self._deviance(log_det, factor, reml)[0]

    # the same profiled deviance and sigma as the general solver (both read only n, p and ev)
    deviance_from = PenalizedLeastSquares.deviance_from
    sigma = PenalizedLeastSquares.sigma

    def deviance_and_gradient(self, theta: np.ndarray, *, reml: bool) -> tuple[float, np.ndarray]:
        """Profiled deviance and its exact gradient in theta (see the module docstring)."""
        theta = np.asarray(theta, dtype=float)
        try:
            log_det, factor, extra = self._forward(theta, keep=True)
            rx_inverse = _triangular_inverse(factor[: self.p, : self.p])
        except np.linalg.LinAlgError:
            return np.inf, np.full(theta.size, np.nan)
        deviance, pwrss = self._deviance(log_det, factor, reml)
        p = self.p
        # dD / dA = c v v' with v = [beta, -1] (+ A_xx^-1 in the fixed block for REML)
        v = _residual_direction(factor, rx_inverse)
        adjoint = np.multiply.outer(v, ((self.n - p if reml else self.n) / pwrss) * v)
        if reml:
            adjoint[:p, :p] += rx_inverse.T @ rx_inverse
        phi_gradients: dict[int, float] = {}  # dD / d(theta^2) of the coarser intercepts
        self._last_phi_gradients = (theta.tobytes(), reml, phi_gradients)
        return float(deviance), self._backward(theta, extra, adjoint, phi_gradients)

    def parts_gradients(self, theta: np.ndarray, weights: tuple[float, ...], *,
                        reml: bool) -> tuple[np.ndarray, np.ndarray, float]:
        """Exact gradients in theta of ``log|L|^2 (+ log|R_X|^2 for REML) + c r^2``, one row
        per weight ``c`` in ``weights`` (one forward pass, a backward pass per weight: the
        deviance at a fixed sigma is ``c = 1 / sigma^2``, and the gradient is affine in ``c``),
        with ``(R_X R_X')^-1`` and ``r^2`` at theta. Raises ``numpy.linalg.LinAlgError`` where
        a factor is not positive definite."""
        theta = np.asarray(theta, dtype=float)
        _, factor, extra = self._forward(theta)
        p = self.p
        rx_inverse = _triangular_inverse(factor[:p, :p])
        unit = rx_inverse.T @ rx_inverse  # A_xx^-1 (of the centred columns)
        v = _residual_direction(factor, rx_inverse)
        grads = np.empty((len(weights), theta.size))
        for row, weight in enumerate(weights):
            adjoint = np.multiply.outer(v, weight * v)  # the adjoint of A: weight v v' ...
            if reml:
                adjoint[:p, :p] += unit  # ... + A_xx^-1 from log|R_X|^2
            grads[row] = self._backward(theta, extra, adjoint, {})
        if self._intercept is not None:  # back from the centred columns (see _centre):
            # (R_X R_X')^-1 = T U T' with T = (I + e_i m')^-1 = I - e_i m'
            i = self._intercept
            unit[i] -= self._means @ unit
            unit[:, i] -= unit @ self._means
        return grads, unit, float(factor[p, p] ** 2)

    def _backward(self, theta: np.ndarray, extra, adjoint: np.ndarray,
                  phi_gradients: dict[int, float]) -> np.ndarray:
        """The reverse pass: the gradient in theta for the adjoint ``adjoint`` of ``A``, from
        what :meth:`_forward` kept (``extra``); fills ``phi_gradients`` with
        ``dD / d(theta^2)`` of the coarser intercepts."""
        pieces, states, lam = extra
        values = theta.tolist()
        grad = np.zeros(theta.size)
        u_bar = None  # adjoints of the groups' [t, w] / d (none at the top)
        for (index, parent, _order, _starts), (t, w, r, phi) in zip(
                reversed(self.levels), reversed(states), strict=True):
            aw = w @ adjoint
            quad = row_dot(aw, w)  # w' A_bar w per group
            below = np.empty((t.size, self.p + 2))  # the adjoints passed to the finer groups
            t_new, w_new = below[:, 0], below[:, 1:]
            if u_bar is None:  # the coarsest level: nothing above it
                # (t - quad) r + r^2 t phi quad, and t_new = r (phi + r phi^2 quad)
                rq = r * quad
                g_phi = float(t @ r) - float(quad @ r) + phi * float(rq @ (r * t))
                np.multiply(rq, phi * phi, out=t_new)
                np.multiply(aw, (-2.0 * phi) * r[:, None], out=w_new)
            else:
                t_bar = u_bar[:, 0]
                inner = phi * quad - row_dot(u_bar[:, 1:], w)  # phi quad - cross
                g_phi = float((t - quad) @ r) + float((r * r * t) @ (inner - t_bar * t))
                np.multiply(r * inner, phi, out=t_new)
                t_new += r * t_bar
                np.multiply(u_bar[:, 1:] - 2.0 * phi * aw, r[:, None], out=w_new)
            t_new += phi
            t_new *= r
            grad[index] = 2.0 * values[index] * g_phi
            phi_gradients[index] = g_phi
            u_bar = below if parent is None else below.take(parent, axis=0)
        index = self.theta_slices[self.primary]
        if self.cells is not None:
            grad[index] = self.cells.gradient(lam, adjoint, u_bar, pieces,
                                              self.triangles[self.primary])
        else:
            grad[index] = finest_gradient(self, theta, pieces, adjoint, u_bar)
        return grad

    def rises_from_zero(self, theta: np.ndarray, *, reml: bool) -> np.ndarray | None:
        """Which elements of ``theta`` at zero have a positive derivative of the deviance in
        ``theta^2`` (the deviance rises as they leave zero), from the last gradient evaluated
        at ``theta``; None when that gradient was at another point."""
        key, last_reml, phi_gradients = self._last_phi_gradients
        if key != np.asarray(theta, dtype=float).tobytes() or last_reml != reml:
            return None
        rising = np.zeros(theta.size, dtype=bool)
        for index, value in phi_gradients.items():
            rising[index] = theta[index] == 0.0 and value > 0.0
        return rising

    # --------------------------------------------------- after the fit (general solver)
    def general(self) -> PenalizedLeastSquares:
        """The general solver for the same design and response (built once, on first use)."""
        if self._general is None:
            base = self._general_base
            self._general = (PenalizedLeastSquares(self.design) if base is None
                             else base.with_response(self.design.response))
        return self._general

    def random_effects(self, ev: Evaluation) -> list[np.ndarray]:
        """Conditional modes b = Lambda u per term, each an (n_levels, q_k) array."""
        general = self.general()
        return general.random_effects(general.solve(ev.theta, modes=True))

    def conditional_variances(self, theta: np.ndarray, sigma: float) -> list[np.ndarray]:
        """Conditional covariance blocks of b per level, (n_levels, q_k, q_k) per term."""
        return self.general().conditional_variances(theta, sigma)


def _residual_direction(factor: np.ndarray, rx_inverse: np.ndarray) -> np.ndarray:
    """``v = [beta, -1]`` (of the centred columns), with ``dr^2 / dA = v v'``."""
    p = rx_inverse.shape[0]
    v = np.empty(p + 1)
    v[:p] = rx_inverse.T @ factor[p, :p]
    v[p] = -1.0
    return v


def _triangular_inverse(lower: np.ndarray) -> np.ndarray:
    """The inverse of a lower-triangular factor; ``numpy.linalg.LinAlgError`` where singular."""
    inverse, info = lapack.dtrtri(lower, lower=1)
    if info != 0:
        raise np.linalg.LinAlgError("the penalized least-squares factor is singular")
    return inverse


def _one_way(sizes: np.ndarray, sums: np.ndarray, s2: float) -> float:
    """One-way ANOVA estimate of a random intercept's variance from its groups' sizes and
    residual sums (the general solver's moment start)."""
    total = sizes.sum()
    levels = max(len(sizes) - 1, 1)
    n0 = (total - np.sum(sizes**2) / total) / levels
    ms_between = np.sum(sums**2 / np.maximum(sizes, 1e-12)) / levels
    return max((ms_between - s2) / max(n0, 1e-12), 0.0)
