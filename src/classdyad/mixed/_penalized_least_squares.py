"""Profiled (RE)ML deviance of a linear mixed model by penalized least squares.

The method is lme4's (Bates et al. 2015, sections 3.1-3.4). The random effects are
``b = Lambda_theta u`` with spherical ``u ~ N(0, sigma^2 I)``; ``Lambda_theta`` is block diagonal
with one lower-triangular ``q_k x q_k`` factor per random-effects term, repeated for each of its
levels, whose lower triangle (column by column) is the parameter vector ``theta``. For given
``theta`` the conditional modes ``u`` and the fixed effects ``beta`` solve the penalized
least-squares system with matrix::

    [ Lambda' Z' Z Lambda + I    Lambda' Z' X ]
    [ X' Z Lambda                X' X         ]

and, with ``L_theta`` the Cholesky factor of the upper-left block, ``R_X`` the Cholesky factor of
the Schur complement of ``X`` and ``r^2`` the penalized residual sum of squares, the profiled
deviances are (lme4's eq. 34 and 41)::

    ML:   log|L|^2 + n (1 + log(2 pi r^2 / n))
    REML: log|L|^2 + log|R_X|^2 + (n - p) (1 + log(2 pi r^2 / (n - p)))

How the Cholesky factor is computed here (the fast part). One random-effects term, the
*primary* one (the term with the most random effects, e.g. students), is eliminated first: every
observation belongs to exactly one of its levels, so its block of ``Lambda' Z' Z Lambda + I`` is
block diagonal with one small ``q x q`` block per level, and its elimination only needs per-level
sufficient statistics ``Z_j' Z_j`` and ``Z_j' [Z_rest X y]`` computed once before optimisation
(a per-group Woodbury identity; with a single grouping factor this is all there is, and an
evaluation costs O(levels * (p + 1)^2) whatever the number of observations). The other terms
(e.g. classrooms and schools, or the second factor of a crossed design) are few, and their Schur
complement, together with ``X`` and ``y``, is a small dense matrix factored by one dense Cholesky
decomposition, whose last rows give ``R_X`` and ``r``. All products are formed once from the
data's cross-products, so an evaluation never touches the n observations; the sums
``sum_j W_j' C_j W_j`` over the primary levels go through a sparse map, precomputed from the
sparsity of ``Z_primary' Z_rest``, from the per-level ``q x q`` matrices ``C_j`` to the entries
they touch. The dense part grows with the square of the number of random effects outside the
primary term (hundreds are cheap; tens of thousands, e.g. two large crossed factors, are not).
In nested designs a second term is eliminated by a diagonal block first, which shrinks the dense
part (:mod:`~classdyad.mixed._nested_elimination`).

An evaluation is a few dozen small array operations, so their fixed costs matter as much as the
arithmetic: the cross-products are sums over observations by ``bincount`` (no sparse design
matrix is built), a single term with two effects per level (a random slope) works on the three
distinct entries of its symmetric 2 x 2 blocks, the dense factorisation calls LAPACK directly,
and ``beta`` and the conditional modes are solved for only when asked for (a deviance needs
neither).

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from classdyad.mixed._formula import MixedDesign
from classdyad.mixed._nested_elimination import NestedElimination
from classdyad.mixed._penalized_least_squares_gradient import (
    lower_triangular_inverse,
    single_term_deviance_and_gradient,
)
from classdyad.mixed._penalized_least_squares_start import moment_start

__all__ = ["Evaluation", "PenalizedLeastSquares", "lower_triangle_indices", "theta_layout"]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class Evaluation:
    """Everything one penalized least-squares solve at ``theta`` yields."""

    theta: np.ndarray
    log_det_l: float  # log|L_theta|^2
    log_det_rx: float  # log|R_X|^2
    pwrss: float  # penalized weighted residual sum of squares r^2
    beta: np.ndarray | None  # fixed effects (solved with ``modes=True``; None otherwise)
    rx: np.ndarray  # lower-triangular Cholesky factor of the fixed-effects Schur complement
    u_primary: np.ndarray | None = None  # (J1, q1) spherical modes of the primary term
    u_rest: np.ndarray | None = None  # spherical modes of the other terms, concatenated
    # Cholesky factor of the [rest, X, y] Schur complement (of [kept rest, X, y] after the
    # second elimination of :mod:`~classdyad.mixed._nested_elimination` when not ``modes``)
    factor: np.ndarray | None = None


def _cholesky(matrix: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor by LAPACK's dpotrf (numpy's wrapper costs more than the work here).

    Raises ``numpy.linalg.LinAlgError`` when ``matrix`` is not positive definite.
    """
    factor, info = lapack.dpotrf(matrix, lower=1, clean=1, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError("the penalized least-squares matrix is not positive definite")
    return factor


def lower_triangle_indices(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of a q x q lower triangle, column by column (lme4's theta order)."""
    rows, cols = [], []
    for c in range(q):
        for r in range(c, q):
            rows.append(r)
            cols.append(c)
    return np.array(rows), np.array(cols)


def theta_layout(q_sizes: list[int]) -> tuple[list[slice], list, np.ndarray, np.ndarray]:
    """Where each term's theta lies, its triangle's indices, the lower bounds (0 on diagonals,
    as lme4) and lme4's start (1 on diagonals, 0 elsewhere), in formula order."""
    slices, triangles, lower, start = [], [], [], 0
    for q in q_sizes:
        rows, cols = lower_triangle_indices(q)
        triangles.append((rows, cols))
        slices.append(slice(start, start + len(rows)))
        lower += [0.0 if r == c else -np.inf for r, c in zip(rows, cols, strict=True)]
        start += len(rows)
    bounds = np.array(lower)
    return slices, triangles, bounds, np.where(bounds == 0.0, 1.0, 0.0)


class PenalizedLeastSquares:
    """Sufficient statistics of a linear mixed model and its profiled deviance in theta.

    Parameters
    ----------
    design
        The model's design (:func:`classdyad.mixed._formula.build_design`).
    """

    def __init__(self, design: MixedDesign):
        terms = design.random_terms
        self.design = design
        self.n = design.n_obs
        self.p = design.fixed.shape[1]
        self.q_sizes = [t.n_effects for t in terms]
        self.theta_slices, self.triangles, self.lower, self.theta_start = theta_layout(
            self.q_sizes)
        sizes = [t.n_levels * t.n_effects for t in terms]
        self.primary = int(np.argmax(sizes))
        self.rest = [k for k in range(len(terms)) if k != self.primary]
        self._precompute()

    # ------------------------------------------------------------------ setup
    def _precompute(self) -> None:
        design = self.design
        primary = design.random_terms[self.primary]
        n, p = self.n, self.p
        q1, j1 = primary.n_effects, primary.n_levels
        self.q1, self.j1 = q1, j1
        codes, z1 = primary.codes, primary.matrix
        xy = np.empty((n, p + 1))
        xy[:, :p] = design.fixed
        xy[:, p] = design.response - design.offset
        # per-level sufficient statistics of the primary term: Z_j'Z_j and Z_j'[X y], as sums
        # over each level's observations (bincount: cheaper than building a sparse indicator)
        self.gram = np.empty((j1, q1, q1))
        self.cross_xy = np.empty((j1, q1, p + 1))
        for r in range(q1):
            for s in range(r, q1):
                sums = np.bincount(codes, z1[:, r] * z1[:, s], minlength=j1)
                self.gram[:, r, s] = self.gram[:, s, r] = sums
            weighted = xy * z1[:, r : r + 1]
            for c in range(p + 1):
                self.cross_xy[:, r, c] = np.bincount(codes, weighted[:, c], minlength=j1)
        self.cross_flat = self.cross_xy.reshape(-1, p + 1)
        self.cross_x = np.ascontiguousarray(self.cross_flat[:, :p])  # Z_j'X, (J1 q1, p)
        if q1 == 2:  # layouts for the closed form (:meth:`_two_by_two_blocks`)
            self._gram3 = np.stack([self.gram[:, 0, 0], self.gram[:, 0, 1], self.gram[:, 1, 1]],
                                   axis=1)
            self._inverse_signs = np.array([1.0, -1.0, 1.0])
            w0, w1, zero = self.cross_xy[:, 0, :], self.cross_xy[:, 1, :], np.zeros((j1, p + 1))
            self._cross_layout = np.stack([np.concatenate([w0, zero], axis=1),
                                           np.concatenate([w1, w0], axis=1),
                                           np.concatenate([zero, w1], axis=1)], axis=1)
        self.q_rest = qr = sum(design.random_terms[k].n_levels * self.q_sizes[k]
                               for k in self.rest)
        self.m = m = qr + p + 1
        self.total = np.empty((m, m))
        self.total[qr:, qr:] = xy.T @ xy
        if qr:
            # cross-products with the other terms' columns, as sums over the observations
            # (bincount on the columns' indices: no sparse Z_rest needs to be built)
            columns = self._rest_columns()
            flat = np.concatenate([a * qr + b for a, _ in columns for b, _ in columns])
            weights = np.concatenate([va * vb for _, va in columns for _, vb in columns])
            self.total[:qr, :qr] = np.bincount(flat, weights, qr * qr).reshape(qr, qr)
            rest_xy = np.zeros(qr * (p + 1))
            for index, values in columns:
                rest_xy += np.bincount((index[:, None] * (p + 1) + np.arange(p + 1)).ravel(),
                                       (values[:, None] * xy).ravel(), qr * (p + 1))
            self.total[:qr, qr:] = rest_xy.reshape(qr, p + 1)
            self.total[qr:, :qr] = self.total[:qr, qr:].T
            # W = Z_primary' Z_rest (J1 q1 x q_rest), from the same pairs per observation
            w_rows, w_cols, w_values = [], [], []
            for r in range(q1):
                for index, values in columns:
                    w_rows.append(codes * q1 + r)
                    w_cols.append(index)
                    w_values.append(z1[:, r] * values)
            self.w_rest = sp.csr_matrix(
                (np.concatenate(w_values), (np.concatenate(w_rows), np.concatenate(w_cols))),
                shape=(j1 * q1, qr),
            )  # duplicates summed
            self.w_rest.eliminate_zeros()
            self.pattern = self._pair_pattern()
            # transposes kept once (as CSC views: no copy); scipy makes a new object per .T
            self.w_rest_t = self.w_rest.T
            self.pattern_t = self.pattern.T
        self._rest_scaling_pattern()
        self._response_statistics()  # as :meth:`with_response` computes them
        self.nested = NestedElimination.detect(self)  # nested designs: second elimination

    def _pair_pattern(self) -> sp.csr_matrix:
        """Sparse map from per-level matrices C_j (flattened) to sum_j W_j' C_j W_j (rest block).

        W_j (q1 x q_rest) is the primary term's cross-product with the other terms at level j; the
        entry (a, b) of the sum is sum_j sum_{r,s} W_j[r, a] C_j[r, s] W_j[s, b].
        """
        w, q1, qr = self.w_rest, self.q1, self.q_rest
        nnz_rows = np.repeat(np.arange(w.shape[0]), np.diff(w.indptr))
        level = nnz_rows // q1
        within = nnz_rows % q1
        counts = np.bincount(level, minlength=self.j1)
        level_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
        per = counts[level]  # for each nonzero: how many partners it has
        a = np.repeat(np.arange(w.nnz), per)
        block_start = np.repeat(np.cumsum(per) - per, per)
        b = level_start[level[a]] + (np.arange(a.size) - block_start)
        coefficient = w.data[a] * w.data[b]
        target = w.indices[a] * qr + w.indices[b]
        source = level[a] * q1 * q1 + within[a] * q1 + within[b]
        return sp.csr_matrix(
            (coefficient, (target, source)), shape=(qr * qr, self.j1 * q1 * q1)
        )

    def _rest_scaling_pattern(self) -> None:
        """Where theta enters D = blockdiag(Lambda_rest): positions and theta indices."""
        rows, cols, index = [], [], []
        offset = 0
        for k in self.rest:
            term = self.design.random_terms[k]
            q = term.n_effects
            tr, tc = self.triangles[k]
            theta_ids = np.arange(self.theta_slices[k].start, self.theta_slices[k].stop)
            base = offset + np.arange(term.n_levels)[:, None] * q
            rows.append((base + tr[None, :]).ravel())
            cols.append((base + tc[None, :]).ravel())
            index.append(np.broadcast_to(theta_ids, (term.n_levels, len(tr))).ravel())
            offset += term.n_levels * q
        self._d_rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        self._d_cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        self._d_index = np.concatenate(index) if index else np.zeros(0, np.int64)
        self.rest_diagonal_only = bool(np.all(self._d_rows == self._d_cols))

    def _rest_columns(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each column of ``Z_rest`` (the non-primary terms side by side, q_rest wide) as
        (its column index per observation, its value per observation), one per effect."""
        columns, offset = [], 0
        for k in self.rest:
            term = self.design.random_terms[k]
            q = term.n_effects
            for r in range(q):
                columns.append((offset + term.codes * q + r, term.matrix[:, r]))
            offset += term.n_levels * q
        return columns

    def moment_start(self) -> np.ndarray:
        """Starting theta from moment estimates
        (:func:`~classdyad.mixed._penalized_least_squares_start.moment_start`)."""
        return moment_start(self)

    def with_response(self, response: np.ndarray) -> PenalizedLeastSquares:
        """The same design with a new response: only the response's cross-products are redone.

        ``response`` has one value per observation of the design (before the offset is
        subtracted). Everything else (per-level Gram matrices, the fixed effects' and the other
        terms' cross-products, the sparse maps, the nested elimination) is shared. The
        response's cross-products are computed by the same code as for a new fit, so a refit
        and a fit of the same data give the same numbers.
        """
        new = copy.copy(self)
        new.design = self.design.with_response(np.asarray(response, dtype=float))
        new.cross_xy = self.cross_xy.copy()
        new.cross_flat = new.cross_xy.reshape(-1, self.p + 1)
        if self.q1 == 2:
            new._cross_layout = self._cross_layout.copy()
        new.total = self.total.copy()
        new._response_statistics()
        if self.nested is not None:
            new.nested = self.nested.with_total(new.total)
        return new

    def _response_statistics(self) -> None:
        """Write the response's cross-products (with Z_primary, X, Z_rest and itself) in place."""
        design = self.design
        y = design.response - design.offset
        p, qr, q1, j1 = self.p, self.q_rest, self.q1, self.j1
        primary = design.random_terms[self.primary]
        for r in range(q1):
            self.cross_xy[:, r, p] = np.bincount(primary.codes, primary.matrix[:, r] * y,
                                                 minlength=j1)
        if q1 == 2:
            w0, w1 = self.cross_xy[:, 0, p], self.cross_xy[:, 1, p]
            layout = self._cross_layout
            layout[:, 0, p], layout[:, 1, p] = w0, w1
            layout[:, 1, 2 * p + 1], layout[:, 2, 2 * p + 1] = w0, w1
        x_y = design.fixed.T @ y
        self.total[qr + p, qr : qr + p] = self.total[qr : qr + p, qr + p] = x_y
        self.total[qr + p, qr + p] = y @ y
        if qr:
            rest_y = np.zeros(qr)
            for index, values in self._rest_columns():
                rest_y += np.bincount(index, values * y, minlength=qr)
            self.total[:qr, qr + p] = self.total[qr + p, :qr] = rest_y

    # ------------------------------------------------------------- parameters
    def lambda_factor(self, theta: np.ndarray, k: int) -> np.ndarray:
        """The q_k x q_k lower-triangular relative covariance factor of term ``k``."""
        q = self.q_sizes[k]
        out = np.zeros((q, q))
        rows, cols = self.triangles[k]
        out[rows, cols] = theta[self.theta_slices[k]]
        return out

    def _rest_scaling(self, theta: np.ndarray) -> np.ndarray | sp.csr_matrix:
        """Lambda of the other terms (q_rest square): a vector when diagonal, else sparse."""
        if self.rest_diagonal_only:
            d = np.ones(self.q_rest)
            d[self._d_rows] = theta[self._d_index]
            return d
        return sp.csr_matrix(
            (theta[self._d_index], (self._d_rows, self._d_cols)), shape=(self.q_rest, self.q_rest)
        )

    # ------------------------------------------------------------- evaluation
    def _primary_blocks(self, theta: np.ndarray, *, matrices: bool = True):
        """Per-level pieces of the primary term at ``theta``.

        Returns ``log sum_j |B_j|`` with ``B_j = Lambda' Z_j' Z_j Lambda + I``, the inverses
        ``B_j^-1`` (or ``B_j`` itself when q = 1), ``C_j = Lambda B_j^-1 Lambda'`` (flattened)
        and ``C_j Z_j' [X y]`` stacked as a (J1 * q1, p + 1) matrix. With ``matrices=False``
        the closed form for q = 2 leaves out ``B_j^-1`` and ``C_j`` (``None``): a deviance with
        a single random-effects term needs neither.
        """
        lam1 = self.lambda_factor(theta, self.primary)
        if self.q1 == 1:
            lam = lam1[0, 0]
            b = lam * lam * self.gram[:, 0, 0] + 1.0
            c = lam * lam / b
            return float(np.sum(np.log(b))), b, c, self.cross_xy[:, 0, :] * c[:, None]
        if self.q1 == 2:
            return self._two_by_two_blocks(lam1, matrices)
        b = lam1.T @ self.gram @ lam1
        b[:, np.arange(self.q1), np.arange(self.q1)] += 1.0
        sign, log_det = np.linalg.slogdet(b)
        if np.any(sign <= 0):
            raise np.linalg.LinAlgError("a per-level block is not positive definite")
        inv_b = np.linalg.inv(b)
        c = lam1 @ inv_b @ lam1.T
        cw_xy = (c @ self.cross_xy).reshape(-1, self.p + 1)
        return float(np.sum(log_det)), inv_b, c.ravel(), cw_xy

    def _two_by_two_blocks(self, lam1: np.ndarray, matrices: bool):
        """:meth:`_primary_blocks` for q = 2 in closed form, on (levels x 3) arrays.

        Each symmetric 2 x 2 block is kept as its three distinct entries (00, 01, 11). With
        ``Lambda = [[l0, 0], [l1, l2]]`` the entries of ``B_j = Lambda' G_j Lambda + I`` are
        linear in those of ``G_j`` and the entries of ``C_j = Lambda B_j^-1 Lambda'`` linear in
        those of ``B_j^-1``, so each is one (levels x 3) @ (3 x 3) product; ``C_j Z_j'[X y]`` is
        one product over the levels with a layout of ``Z_j'[X y]`` built once. Batched 2 x 2
        products and inverses through numpy's stacked linear algebra cost several times more.
        """
        l0, l1, l2 = float(lam1[0, 0]), float(lam1[1, 0]), float(lam1[1, 1])
        to_b = np.array([[l0 * l0, 0.0, 0.0],
                         [2.0 * l0 * l1, l0 * l2, 0.0],
                         [l1 * l1, l1 * l2, l2 * l2]])
        b = self._gram3 @ to_b
        b[:, 0] += 1.0
        b[:, 2] += 1.0
        det = b[:, 0] * b[:, 2] - b[:, 1] * b[:, 1]
        if det.min() <= 0:
            raise np.linalg.LinAlgError("a per-level block is not positive definite")
        inv3 = b[:, ::-1] * (self._inverse_signs / det[:, None])  # (b11, -b01, b00) / det
        to_c = np.array([[l0 * l0, l0 * l1, l1 * l1],
                         [0.0, l0 * l2, 2.0 * l1 * l2],
                         [0.0, 0.0, l2 * l2]])
        c3 = inv3 @ to_c
        # rows (c00 w0 + c01 w1, c01 w0 + c11 w1) of C_j Z_j'[X y]
        cw_xy = np.einsum("jk,jkm->jm", c3, self._cross_layout).reshape(-1, self.p + 1)
        log_det = float(np.sum(np.log(det)))
        if not matrices:
            return log_det, None, None, cw_xy
        full = [0, 1, 1, 2]
        return log_det, inv3[:, full].reshape(self.j1, 2, 2), c3[:, full].ravel(), cw_xy

    def solve(self, theta: np.ndarray, *, modes: bool = False) -> Evaluation:
        """Solve the penalized least-squares problem at ``theta``.

        The deviance, ``R_X`` and ``r^2`` come from the Cholesky factor alone; ``modes=True``
        also solves for ``beta`` and the conditional modes. Raises
        ``numpy.linalg.LinAlgError`` when a factor is not positive definite.
        """
        theta = np.asarray(theta, dtype=float)
        blocks = self._primary_blocks(theta, matrices=modes or self.q_rest > 0)
        return self._solve_blocks(theta, blocks, modes=modes)

    def _solve_blocks(self, theta: np.ndarray, blocks, *, modes: bool) -> Evaluation:
        log_det_primary, inv_b, c, cw_xy = blocks
        qr, p, m = self.q_rest, self.p, self.m
        schur = np.empty((m, m), order="F")  # LAPACK's layout: no copy in dpotrf
        xy_block = self.total[qr:, qr:] - self.cross_flat.T @ cw_xy
        if not modes and self.nested is not None:  # two-stage elimination (nested designs)
            log_det_rest, log_det_rx, pwrss, rx, factor = self.nested.factor(
                self._rest_scaling(theta), c, cw_xy, xy_block)
            return Evaluation(theta, log_det_primary + log_det_rest, log_det_rx, pwrss, None, rx,
                              factor=factor)
        schur[qr:, qr:] = xy_block
        d = None
        if qr:
            rest_rest = self.total[:qr, :qr] - (self.pattern @ c).reshape(qr, qr)
            rest_xy = self.total[:qr, qr:] - np.asarray(self.w_rest_t @ cw_xy)
            d = self._rest_scaling(theta)
            if isinstance(d, np.ndarray):
                rest_rest = rest_rest * d[:, None] * d[None, :]
                rest_xy = rest_xy * d[:, None]
            else:
                rest_rest = np.asarray(d.T @ np.asarray(d.T @ rest_rest).T)
                rest_xy = np.asarray(d.T @ rest_xy)
            rest_rest[np.diag_indices(qr)] += 1.0
            schur[:qr, :qr] = rest_rest
            schur[:qr, qr:] = rest_xy
            schur[qr:, :qr] = rest_xy.T
        factor = _cholesky(schur)
        log_diag = np.log(np.diagonal(factor))
        log_det_rest = float(2.0 * np.sum(log_diag[:qr]))
        rx = factor[qr : qr + p, qr : qr + p]
        log_det_rx = float(2.0 * np.sum(log_diag[qr : qr + p]))
        pwrss = float(factor[-1, -1] ** 2)
        beta = u_primary = u_rest = None
        if modes:
            # [u_rest; beta] solves L11' x = l21 (L11 the factor without y's row and column)
            solution, info = lapack.dtrtrs(factor[:-1, :-1], factor[-1, :-1], lower=1, trans=1)
            if info != 0:
                raise np.linalg.LinAlgError("the penalized least-squares factor is singular")
            beta, u_rest = solution[qr:], solution[:qr]
            u_primary = self._primary_modes(theta, d, beta, u_rest, inv_b)
        return Evaluation(theta, log_det_primary + log_det_rest, log_det_rx, pwrss, beta, rx,
                          u_primary, u_rest, factor)

    def _primary_modes(self, theta, d, beta, u_rest, inv_b) -> np.ndarray:
        """Spherical modes of the primary term given ``beta`` and the other terms' modes."""
        p = self.p
        fitted = (self.cross_x @ beta).reshape(self.j1, self.q1)
        if self.q_rest:
            b_rest = d * u_rest if isinstance(d, np.ndarray) else d @ u_rest
            fitted = fitted + (self.w_rest @ b_rest).reshape(self.j1, self.q1)
        residual = self.cross_xy[..., p] - fitted  # W_j,y - W_j [b_rest; beta]
        lam1 = self.lambda_factor(theta, self.primary)
        if self.q1 == 1:
            return (lam1[0, 0] * residual[:, 0] / inv_b)[:, None]
        rhs = residual @ lam1  # Lambda' w per level, as rows
        return (inv_b @ rhs[..., None])[..., 0]

    @property
    def has_analytic_gradient(self) -> bool:
        """Whether :meth:`deviance_and_gradient` applies (a single random-effects term)."""
        return self.q_rest == 0

    def rest_scaling(self, theta: np.ndarray) -> np.ndarray | sp.csr_matrix:
        """Lambda of the non-primary terms: a vector when diagonal, else a sparse matrix."""
        return self._rest_scaling(theta)

    def deviance_and_gradient(self, theta: np.ndarray, *, reml: bool) -> tuple[float, np.ndarray]:
        """Profiled deviance and its exact gradient in theta, for a single random-effects term
        (:func:`~classdyad.mixed._penalized_least_squares_gradient.single_term_deviance_and_gradient`).
        """
        return single_term_deviance_and_gradient(self, theta, reml=reml)

    def profiled_deviance(self, theta: np.ndarray, *, reml: bool) -> float:
        """lme4's profiled deviance (ML) or REML criterion at ``theta`` (inf if not computable)."""
        try:
            ev = self.solve(theta)
        except np.linalg.LinAlgError:
            return np.inf
        return self.deviance_from(ev, reml=reml)

    def deviance_from(self, ev: Evaluation, *, reml: bool) -> float:
        """Profiled deviance from a solved evaluation."""
        if reml:
            dof = self.n - self.p
            return ev.log_det_l + ev.log_det_rx + dof * (1.0 + _LOG_2PI + np.log(ev.pwrss / dof))
        return ev.log_det_l + self.n * (1.0 + _LOG_2PI + np.log(ev.pwrss / self.n))

    def sigma(self, ev: Evaluation, *, reml: bool) -> float:
        """Residual standard deviation at a solved evaluation (lme4's ``sigma()``)."""
        return float(np.sqrt(ev.pwrss / (self.n - self.p if reml else self.n)))

    def deviance_at(self, theta: np.ndarray, sigma: float, *, reml: bool) -> float:
        """Deviance as a function of (theta, sigma), not profiled (lmerTest's ``devfun_vp``)."""
        ev = self.solve(theta)
        s2 = sigma * sigma
        dev = ev.log_det_l + ev.pwrss / s2 + self.n * (_LOG_2PI + np.log(s2))
        if reml:
            dev += ev.log_det_rx - self.p * (_LOG_2PI + np.log(s2))
        return float(dev)

    def beta_covariance(self, theta: np.ndarray, sigma: float) -> np.ndarray:
        """Covariance matrix of the fixed effects at (theta, sigma): sigma^2 (R_X R_X')^-1."""
        ev = self.solve(theta)
        inv = lower_triangular_inverse(ev.rx)
        return sigma * sigma * (inv.T @ inv)

    def random_effects(self, ev: Evaluation) -> list[np.ndarray]:
        """Conditional modes b = Lambda u per term, each an (n_levels, q_k) array."""
        out: list[np.ndarray] = [np.zeros(0)] * len(self.q_sizes)
        out[self.primary] = ev.u_primary @ self.lambda_factor(ev.theta, self.primary).T
        offset = 0
        for k in self.rest:
            term = self.design.random_terms[k]
            size = term.n_levels * term.n_effects
            u = ev.u_rest[offset : offset + size].reshape(term.n_levels, term.n_effects)
            out[k] = u @ self.lambda_factor(ev.theta, k).T
            offset += size
        return out

    def conditional_variances(self, theta: np.ndarray, sigma: float) -> list[np.ndarray]:
        """Conditional covariance blocks of b per level, (n_levels, q_k, q_k) per term.

        ``sigma^2 Lambda (Lambda' Z' Z Lambda + I)^-1 Lambda'`` restricted to each level's block,
        as lme4's ``ranef(condVar = TRUE)``.
        """
        full = self._augmented_inverse_blocks(theta)
        out: list[np.ndarray] = [np.zeros(0)] * len(self.q_sizes)
        for k, blocks in full.items():
            lam = self.lambda_factor(theta, k)
            out[k] = sigma * sigma * (lam @ blocks @ lam.T)
        return out

    def _augmented_inverse_blocks(self, theta: np.ndarray) -> dict[int, np.ndarray]:
        """Diagonal blocks of (Lambda' Z' Z Lambda + I)^-1 for each term and level."""
        lam1 = self.lambda_factor(theta, self.primary)
        qr = self.q_rest
        b = lam1.T @ self.gram @ lam1 + np.eye(self.q1)
        chol = np.linalg.cholesky(b)
        inv_b = np.linalg.inv(b)
        out: dict[int, np.ndarray] = {}
        if qr == 0:
            out[self.primary] = inv_b
            return out
        d = self._rest_scaling(theta)
        cross = self.w_rest.toarray().reshape(self.j1, self.q1, qr)
        if isinstance(d, np.ndarray):
            total = self.total[:qr, :qr] * d[:qr, None] * d[None, :qr]
            cross = cross * d[None, None, :qr]
        else:
            dr = d[:qr, :qr]
            total = np.asarray(dr.T @ (dr.T @ self.total[:qr, :qr]).T)
            cross = np.asarray((dr.T @ cross.reshape(-1, qr).T).T).reshape(self.j1, self.q1, qr)
        w = lam1.T @ cross
        v = np.linalg.solve(chol, w)
        stacked = v.reshape(-1, qr)
        schur = total - stacked.T @ stacked + np.eye(qr)
        schur_inv = np.linalg.inv(schur)
        t = np.linalg.solve(np.transpose(chol, (0, 2, 1)), v)  # B^-1 A12, (J1, q1, qr)
        t_s = (t.reshape(-1, qr) @ schur_inv).reshape(t.shape)
        out[self.primary] = inv_b + t_s @ np.transpose(t, (0, 2, 1))
        offset = 0
        for k in self.rest:
            term = self.design.random_terms[k]
            q = term.n_effects
            size = term.n_levels * q
            block = schur_inv[offset : offset + size, offset : offset + size]
            idx = np.arange(term.n_levels)[:, None] * q + np.arange(q)[None, :]
            out[k] = block[idx[:, :, None], idx[:, None, :]]
            offset += size
        return out
