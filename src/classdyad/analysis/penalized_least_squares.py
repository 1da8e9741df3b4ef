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

References
----------
Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects models using
lme4. *Journal of Statistical Software*, 67(1), 1-48. doi:10.18637/jss.v067.i01
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from classdyad.analysis.formula import MixedDesign

__all__ = ["Evaluation", "PenalizedLeastSquares"]

_LOG_2PI = float(np.log(2.0 * np.pi))


@dataclass(frozen=True)
class Evaluation:
    """Everything one penalized least-squares solve at ``theta`` yields."""

    theta: np.ndarray
    log_det_l: float  # log|L_theta|^2
    log_det_rx: float  # log|R_X|^2
    pwrss: float  # penalized weighted residual sum of squares r^2
    beta: np.ndarray
    rx: np.ndarray  # lower-triangular Cholesky factor of the fixed-effects Schur complement
    u_primary: np.ndarray | None = None  # (J1, q1) spherical modes of the primary term
    u_rest: np.ndarray | None = None  # spherical modes of the other terms, concatenated
    factor: np.ndarray | None = None  # Cholesky factor of the [rest, X, y] Schur complement


def _lower_triangle(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of a q x q lower triangle, column by column (lme4's theta order)."""
    rows, cols = [], []
    for c in range(q):
        for r in range(c, q):
            rows.append(r)
            cols.append(c)
    return np.array(rows), np.array(cols)


class PenalizedLeastSquares:
    """Sufficient statistics of a linear mixed model and its profiled deviance in theta.

    Parameters
    ----------
    design
        The model's design (:func:`classdyad.analysis.formula.build_design`).
    """

    def __init__(self, design: MixedDesign):
        terms = design.random_terms
        self.design = design
        self.n = design.n_obs
        self.p = design.fixed.shape[1]
        self.q_sizes = [t.n_effects for t in terms]
        # theta layout in formula order, with lower bounds 0 on diagonals as lme4
        self.theta_slices, lower, start = [], [], 0
        self.triangles = []
        for q in self.q_sizes:
            rows, cols = _lower_triangle(q)
            self.triangles.append((rows, cols))
            self.theta_slices.append(slice(start, start + len(rows)))
            lower += [0.0 if r == c else -np.inf for r, c in zip(rows, cols, strict=True)]
            start += len(rows)
        self.lower = np.array(lower)
        self.theta_start = np.array([1.0 if b == 0.0 else 0.0 for b in self.lower])
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
        indicator = sp.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(j1, n))
        # per-level sufficient statistics of the primary term: Z_j'Z_j and Z_j'[X y]
        self.gram = np.empty((j1, q1, q1))
        self.cross_xy = np.empty((j1, q1, p + 1))
        for r in range(q1):
            for s in range(r, q1):
                sums = np.bincount(codes, z1[:, r] * z1[:, s], minlength=j1)
                self.gram[:, r, s] = self.gram[:, s, r] = sums
            self.cross_xy[:, r, :] = indicator @ (xy * z1[:, r : r + 1])
        self.cross_flat = self.cross_xy.reshape(-1, p + 1)
        if q1 == 2:
            self._gram_vectors = (self.gram[:, 0, 0].copy(), self.gram[:, 0, 1].copy(),
                                  self.gram[:, 1, 1].copy())
            self._cross_vectors = (self.cross_xy[:, 0, :].copy(), self.cross_xy[:, 1, :].copy())
        z_rest = [self._term_matrix(k) for k in self.rest]
        self.q_rest = qr = int(sum(m.shape[1] for m in z_rest))
        self.m = m = qr + p + 1
        self.total = np.empty((m, m))
        self.total[qr:, qr:] = xy.T @ xy
        if qr:
            zr = sp.hstack(z_rest, format="csr")
            self.total[:qr, :qr] = (zr.T @ zr).toarray()
            self.total[:qr, qr:] = np.asarray(zr.T @ xy)
            self.total[qr:, :qr] = self.total[:qr, qr:].T
            z1_sparse = sp.csr_matrix(
                (z1.ravel(), (np.repeat(np.arange(n), q1),
                              (codes[:, None] * q1 + np.arange(q1)).ravel())),
                shape=(n, j1 * q1),
            )
            self.w_rest = (z1_sparse.T @ zr).tocsr()
            self.w_rest.sum_duplicates()
            self.pattern = self._pair_pattern()
            # transposes built once: scipy makes a new matrix object for every .T
            self.w_rest_t = self.w_rest.T.tocsr()
            self.pattern_t = self.pattern.T.tocsr()
        self._rest_scaling_pattern()

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
        self._rest_diagonal_only = bool(np.all(self._d_rows == self._d_cols))

    def _term_matrix(self, k: int) -> sp.csc_matrix:
        term = self.design.random_terms[k]
        q, n = term.n_effects, self.n
        return sp.csc_matrix(
            (term.matrix.ravel(), (np.repeat(np.arange(n), q),
                                   (term.codes[:, None] * q + np.arange(q)).ravel())),
            shape=(n, term.n_levels * q),
        )

    def moment_start(self) -> np.ndarray:
        """Starting theta: lme4's (1 on diagonals, 0 elsewhere), with random intercepts set from
        a one-way analysis of variance of the least-squares residuals per grouping factor.

        For an intercept term with ``J`` levels of sizes ``n_j`` and residual means ``m_j``,
        ``tau^2 = (MS_between - s^2) / n0`` (``n0`` the ANOVA average group size) and
        ``theta = tau / s_w`` (``s_w^2`` the least-squares variance, less ``tau^2`` when there is
        a single grouping factor), kept within [0.1, 10]. Only a starting point: it saves
        optimiser iterations, the optimum is the same.
        """
        theta = self.theta_start.copy()
        p, qr = self.p, self.q_rest
        xx, xy = self.total[qr : qr + p, qr : qr + p], self.total[qr : qr + p, qr + p]
        yy = self.total[qr + p, qr + p]
        try:
            beta = np.linalg.solve(xx, xy)
        except np.linalg.LinAlgError:
            return theta
        s2 = max((yy - beta @ xy) / max(self.n - p, 1), 1e-12)
        intercept_variances: dict[int, float] = {}
        offset = 0
        for k, term in enumerate(self.design.random_terms):
            width = term.n_levels * term.n_effects
            if term.effect_names == ("(Intercept)",):
                if k == self.primary:
                    sizes = self.gram[:, 0, 0]
                    sums = self.cross_xy[:, 0, p] - self.cross_xy[:, 0, :p] @ beta
                else:
                    block = slice(offset, offset + width)
                    sizes = np.diag(self.total[block, block])
                    sums = self.total[block, qr + p] - self.total[block, qr : qr + p] @ beta
                total = sizes.sum()
                levels = max(len(sizes) - 1, 1)
                n0 = (total - np.sum(sizes**2) / total) / levels
                ms_between = np.sum(sums**2 / np.maximum(sizes, 1e-12)) / levels
                intercept_variances[k] = max((ms_between - s2) / max(n0, 1e-12), 0.0)
            elif k == self.primary and term.n_effects > 1:
                start = self._slope_start(beta, s2)
                if start is not None:
                    theta[self.theta_slices[k]] = start
            if k != self.primary:
                offset += width
        # with one grouping factor the residual variance is what its variance leaves of the
        # least-squares one (with several, the one-way estimates overlap: keep s^2)
        within = s2
        if len(intercept_variances) == 1:
            within = max(s2 - sum(intercept_variances.values()), 0.2 * s2)
        for k, tau2 in intercept_variances.items():
            theta[self.theta_slices[k]] = np.clip(np.sqrt(tau2 / within), 0.1, 10.0)
        return theta

    def _slope_start(self, beta: np.ndarray, s2: float) -> np.ndarray | None:
        """Starting theta of the primary term from per-level least-squares coefficients.

        ``b_j = G_j^-1 Z_j' r`` (``r`` the least-squares residuals) has covariance about
        ``Sigma + s^2 G_j^-1``, so ``Sigma`` is estimated by the covariance of the ``b_j`` minus
        the average ``s^2 G_j^-1``, over the levels where ``G_j`` is well conditioned.
        """
        p, q = self.p, self.q1
        z_r = self.cross_xy[..., p] - self.cross_xy[..., :p] @ beta
        usable = np.linalg.cond(self.gram) < 1e8
        if usable.sum() <= 2 * q:
            return None
        gram_inv = np.linalg.inv(self.gram[usable])
        coefficients = (gram_inv @ z_r[usable][..., None])[..., 0]
        sigma = np.cov(coefficients, rowvar=False) - s2 * gram_inv.mean(axis=0)
        values, vectors = np.linalg.eigh(sigma / s2)
        values = np.clip(values, 1e-2, 1e2)
        try:
            lam = np.linalg.cholesky((vectors * values) @ vectors.T)
        except np.linalg.LinAlgError:
            return None
        rows, cols = self.triangles[self.primary]
        return lam[rows, cols]

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
        if self._rest_diagonal_only:
            d = np.ones(self.q_rest)
            d[self._d_rows] = theta[self._d_index]
            return d
        return sp.csr_matrix(
            (theta[self._d_index], (self._d_rows, self._d_cols)), shape=(self.q_rest, self.q_rest)
        )

    # ------------------------------------------------------------- evaluation
    def _primary_blocks(self, theta: np.ndarray):
        """Per-level pieces of the primary term at ``theta``.

        Returns ``log sum_j |B_j|`` with ``B_j = Lambda' Z_j' Z_j Lambda + I``, the inverses
        ``B_j^-1`` (or ``B_j`` itself when q = 1), ``C_j = Lambda B_j^-1 Lambda'`` (flattened)
        and ``C_j Z_j' [X y]`` stacked as a (J1 * q1, p + 1) matrix.
        """
        lam1 = self.lambda_factor(theta, self.primary)
        if self.q1 == 1:
            lam = lam1[0, 0]
            b = lam * lam * self.gram[:, 0, 0] + 1.0
            c = lam * lam / b
            return float(np.sum(np.log(b))), b, c, self.cross_xy[:, 0, :] * c[:, None]
        if self.q1 == 2:
            return self._two_by_two_blocks(lam1)
        b = lam1.T @ self.gram @ lam1
        b[:, np.arange(self.q1), np.arange(self.q1)] += 1.0
        sign, log_det = np.linalg.slogdet(b)
        if np.any(sign <= 0):
            raise np.linalg.LinAlgError("a per-level block is not positive definite")
        inv_b = np.linalg.inv(b)
        c = lam1 @ inv_b @ lam1.T
        cw_xy = (c @ self.cross_xy).reshape(-1, self.p + 1)
        return float(np.sum(log_det)), inv_b, c.ravel(), cw_xy

    def _two_by_two_blocks(self, lam1: np.ndarray):
        """:meth:`_primary_blocks` for q = 2 in closed form, on vectors over the levels.

        Batched 2 x 2 matrix products and inverses through numpy's stacked linear algebra cost
        more per call than the whole arithmetic written out.
        """
        l0, l1, l2 = lam1[0, 0], lam1[1, 0], lam1[1, 1]
        g00, g01, g11 = self._gram_vectors
        b00 = l0 * l0 * g00 + 2.0 * l0 * l1 * g01 + l1 * l1 * g11 + 1.0
        b01 = l2 * (l0 * g01 + l1 * g11)
        b11 = l2 * l2 * g11 + 1.0
        det = b00 * b11 - b01 * b01
        if np.any(det <= 0):
            raise np.linalg.LinAlgError("a per-level block is not positive definite")
        i00, i01, i11 = b11 / det, -b01 / det, b00 / det
        # C = Lambda B^-1 Lambda' with Lambda = [[l0, 0], [l1, l2]]
        c00 = l0 * l0 * i00
        c01 = l0 * (l1 * i00 + l2 * i01)
        c11 = l1 * l1 * i00 + 2.0 * l1 * l2 * i01 + l2 * l2 * i11
        w0, w1 = self._cross_vectors
        cw_xy = np.empty((self.j1, 2, self.p + 1))
        cw_xy[:, 0, :] = c00[:, None] * w0 + c01[:, None] * w1
        cw_xy[:, 1, :] = c01[:, None] * w0 + c11[:, None] * w1
        inv_b = np.empty((self.j1, 2, 2))
        inv_b[:, 0, 0], inv_b[:, 1, 1] = i00, i11
        inv_b[:, 0, 1] = inv_b[:, 1, 0] = i01
        c = np.empty((self.j1, 2, 2))
        c[:, 0, 0], c[:, 1, 1] = c00, c11
        c[:, 0, 1] = c[:, 1, 0] = c01
        return float(np.sum(np.log(det))), inv_b, c.ravel(), cw_xy.reshape(-1, self.p + 1)

    def solve(self, theta: np.ndarray, *, modes: bool = False) -> Evaluation:
        """Solve the penalized least-squares problem at ``theta``.

        Raises ``numpy.linalg.LinAlgError`` when a factor is not positive definite.
        """
        theta = np.asarray(theta, dtype=float)
        return self._solve_blocks(theta, self._primary_blocks(theta), modes=modes)

    def _solve_blocks(self, theta: np.ndarray, blocks, *, modes: bool) -> Evaluation:
        log_det_primary, inv_b, c, cw_xy = blocks
        qr, p, m = self.q_rest, self.p, self.m
        schur = np.empty((m, m))
        schur[qr:, qr:] = self.total[qr:, qr:] - self.cross_flat.T @ cw_xy
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
        factor = np.linalg.cholesky(schur)
        diag = np.diagonal(factor)
        log_det_rest = float(2.0 * np.sum(np.log(diag[:qr])))
        rx = factor[qr : qr + p, qr : qr + p]
        log_det_rx = float(2.0 * np.sum(np.log(np.abs(np.diagonal(rx)))))
        pwrss = float(diag[-1] ** 2)
        solution = scipy.linalg.solve_triangular(
            factor[:-1, :-1].T, factor[-1, :-1], lower=False, check_finite=False
        )
        beta = solution[qr:]
        u_primary = u_rest = None
        if modes:
            u_rest = solution[:qr]
            fitted = self.cross_xy[..., :p] @ beta  # (J1, q1)
            if qr:
                b_rest = d * u_rest if isinstance(d, np.ndarray) else d @ u_rest
                fitted = fitted + (self.w_rest @ b_rest).reshape(self.j1, self.q1)
            residual = self.cross_xy[..., p] - fitted  # W_j,y - W_j [b_rest; beta]
            lam1 = self.lambda_factor(theta, self.primary)
            if self.q1 == 1:
                u_primary = (lam1[0, 0] * residual[:, 0] / inv_b)[:, None]
            else:
                rhs = residual @ lam1  # Lambda' w per level, as rows
                u_primary = (inv_b @ rhs[..., None])[..., 0]
        return Evaluation(theta, log_det_primary + log_det_rest, log_det_rx, pwrss, beta, rx,
                          u_primary, u_rest, factor)

    @property
    def has_analytic_gradient(self) -> bool:
        """Whether :meth:`deviance_and_gradient` applies (a single random-effects term)."""
        return self.q_rest == 0

    def rest_scaling(self, theta: np.ndarray) -> np.ndarray | sp.csr_matrix:
        """Lambda of the non-primary terms: a vector when diagonal, else a sparse matrix."""
        return self._rest_scaling(theta)

    def deviance_and_gradient(self, theta: np.ndarray, *, reml: bool) -> tuple[float, np.ndarray]:
        """Profiled deviance and its exact gradient in theta, for a single random-effects term.

        With ``B_j = Lambda' G_j Lambda + I`` (``G_j = Z_j' Z_j``), ``E_t`` the derivative of
        ``Lambda`` in ``theta_t`` (a one at (r, c)), spherical modes ``u_j`` and
        ``s_j = Z_j' (y - X beta - Z Lambda u)``::

            d log|L|^2 / d theta_t   = 2 sum_j (B_j^-1 Lambda' G_j)[c, r]
            d r^2 / d theta_t        = -2 sum_j s_j[r] u_j[c]            (envelope theorem)
            d log|R_X|^2 / d theta_t = -2 sum_j ((B_j^-1 Lambda' K_j)[c, r]
                                                 - (G_j Lambda N_j)[r, c])

        with ``K_j = Z_j'X (R_X' R_X)^-1 X'Z_j`` and ``N_j = B_j^-1 Lambda' K_j Lambda B_j^-1``.
        Returns ``(inf, nan)`` where the factorisation fails.
        """
        theta = np.asarray(theta, dtype=float)
        try:
            blocks = self._primary_blocks(theta)
            ev = self._solve_blocks(theta, blocks, modes=True)
        except np.linalg.LinAlgError:
            return np.inf, np.full(theta.size, np.nan)
        p, q = self.p, self.q1
        dof = self.n - self.p if reml else self.n
        if q == 1:
            return self.deviance_from(ev, reml=reml), self._scalar_gradient(theta, ev, reml, dof)
        lam = self.lambda_factor(theta, self.primary)
        j1 = self.j1
        inv_b, gram = blocks[1], self.gram
        w_x = self.cross_xy[..., :p]
        u = ev.u_primary
        # X_j = B_j^-1 Lambda' and G_j Lambda, as stacked 2-D products
        x_mat = (inv_b.reshape(-1, q) @ lam.T).reshape(j1, q, q)
        g_lam = (gram.reshape(-1, q) @ lam).reshape(j1, q, q)
        s = self.cross_xy[..., p] - w_x @ ev.beta - (g_lam @ u[..., None])[..., 0]
        rows, cols = self.triangles[self.primary]
        a1 = (x_mat @ gram).sum(axis=0)
        grad = 2.0 * a1[cols, rows] - 2.0 * dof * (s.T @ u)[rows, cols] / ev.pwrss
        if reml:
            rx_inv = scipy.linalg.solve_triangular(ev.rx, np.eye(p), lower=True, check_finite=False)
            v = (w_x.reshape(-1, p) @ rx_inv.T).reshape(j1, q, p)
            k = v @ np.transpose(v, (0, 2, 1))
            y = x_mat @ k  # B^-1 Lambda' K
            a3 = y.sum(axis=0)
            # sum_j G Lambda N with N = B^-1 Lambda' K Lambda B^-1 = y X'
            a4 = ((g_lam @ y) @ np.transpose(x_mat, (0, 2, 1))).sum(axis=0)
            grad -= 2.0 * (a3[cols, rows] - a4[rows, cols])
        return self.deviance_from(ev, reml=reml), grad

    def _scalar_gradient(
        self, theta: np.ndarray, ev: Evaluation, reml: bool, dof: int
    ) -> np.ndarray:
        """:meth:`deviance_and_gradient` for a random intercept (q = 1), as vector operations."""
        lam = float(theta[0])
        g = self.gram[:, 0, 0]
        b = lam * lam * g + 1.0
        u = ev.u_primary[:, 0]
        w_x = self.cross_xy[:, 0, : self.p]
        s = self.cross_xy[:, 0, self.p] - w_x @ ev.beta - g * lam * u
        grad = 2.0 * np.sum(lam * g / b) - 2.0 * dof * float(s @ u) / ev.pwrss
        if reml:
            rx_inv = scipy.linalg.solve_triangular(ev.rx, w_x.T, lower=True, check_finite=False)
            k = np.sum(rx_inv * rx_inv, axis=0)  # w_x,j (R_X' R_X)^-1 w_x,j'
            grad -= 2.0 * np.sum(lam * k / (b * b))
        return np.array([grad])

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
        inv = scipy.linalg.solve_triangular(ev.rx, np.eye(self.p), lower=True, check_finite=False)
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
