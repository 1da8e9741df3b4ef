"""The finest term of :mod:`~classdyad.mixed._nested_sufficient_statistics`: its step of the
recursion and the reverse-mode gradient of the deviance in its relative covariance factor.

A random intercept (:class:`InterceptCells`): a group's ``d = 1 + phi n_g`` depends only on its
size, so the groups are pooled into cells of equal size within each coarser group (a student
observed in 1, 2 or 3 waves: three cells per classroom). The correction to ``E'E`` is
``phi sum_s (sum_{g of size s} w_g w_g') / d_s``, with the sums of ``w_g w_g'`` per size formed
once, and the coarser groups receive ``sum_cells (n c, w_cell) / d`` (``c`` groups of size
``n``, ``w_cell`` the sum of their ``w``); an evaluation then costs O(cells x (p + 1) +
sizes x (p + 1)^2) instead of O(groups x (p + 1)^2).

Several random effects (e.g. ``(1 + wave | student)``): the per-group Woodbury step.

For level ``g`` with ``G_g = Z_g' Z_g``, ``H_g = Z_g' [1 E]``, ``M_g = Lambda' G_g Lambda + I``,
``J_g = Lambda' H_g`` and ``P_g = M_g^-1 J_g``, the step gives ``log|M_g|``, the rows
``[t, w] = 1'[1 E] - J_g[:, 0]' P_g`` passed to the next coarser term and the correction
``sum_g J_g,E' P_g,E`` to ``E'E``. With ``Omega_g`` the adjoint of ``[1 E]' V_g^-1 [1 E]`` (the
adjoint of ``A`` in the ``E`` block, plus ``(e_0 z_g' + z_g e_0') / 2`` from the coarser term's
adjoint ``z_g`` of ``[t, w]``) and ``Q_g = M_g^-1 + P_g Omega_g P_g'``, the derivative is
``dD / dLambda = sum_g 2 G_g Lambda Q_g - 2 H_g Omega_g P_g'`` (lower triangle). Two effects per
level (a random slope) are worked on the three distinct entries of the symmetric 2 x 2 blocks
in closed form: numpy's stacked 2 x 2 inverses and products cost several times more.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the recursion imports this module: no import at run time
    from classdyad.mixed._nested_sufficient_statistics import NestedSufficientStatistics

__all__ = [
    "InterceptCells",
    "PatternCells",
    "dense_codes",
    "finest_forward",
    "finest_gradient",
    "row_dot",
]

_NOT_POSITIVE_DEFINITE = "a per-level block is not positive definite"


class InterceptCells:
    """A finest random intercept's groups pooled by (coarser group, size) (module docstring).

    ``level_sums`` holds ``1'[1 E]`` per group (sizes first), ``parent`` each group's coarser
    group. The cells are sorted by coarser group: ``cell_parent`` is non-decreasing. What the
    cells pass up is summed over each coarser group here: where the table of sizes by coarser
    groups is small, as one product of the sizes' ``1 / d`` with the cells' sums laid out in
    that table (``pooled``), else over the cells.
    """

    def __init__(self, level_sums: np.ndarray, parent: np.ndarray):
        sizes = level_sums[:, 0]
        whole = sizes.astype(np.int64)
        if np.array_equal(whole, sizes):  # counts of rows (always, unless weighted)
            size_keys, size_index = dense_codes(whole, int(whole.max()) + 1)
            self.size_values = size_keys.astype(float)
        else:
            self.size_values, size_index = np.unique(sizes, return_inverse=True)
        n_sizes = self.size_values.size
        cell_keys, cell_of_group = dense_codes(parent * n_sizes + size_index,
                                               (int(parent.max()) + 1) * n_sizes)
        self.cell_parent = cell_keys // n_sizes
        self.cell_size = cell_keys % n_sizes
        self.cell_n = self.size_values.take(self.cell_size)
        cell_t = np.bincount(cell_of_group) * self.cell_n  # sum of n over the cell
        self.cell_tn = cell_t * self.cell_n
        self.size_counts = np.bincount(size_index, minlength=n_sizes).astype(float)
        self._cells = _order_and_starts(cell_of_group)
        # the groups in order of size, each size's groups a slice of that order
        self._by_size = np.argsort(size_index, kind="stable")
        self._size_bounds = np.concatenate(([0], np.cumsum(self.size_counts, dtype=np.int64)))
        self.cell_u = np.empty((cell_keys.size, level_sums.shape[1]))  # [t, w] per cell
        self.cell_u[:, 0] = cell_t
        self.n_parents = int(parent.max()) + 1
        self.pooled = n_sizes * self.n_parents <= 8 * cell_keys.size + 256
        self._parent_starts = np.flatnonzero(np.concatenate(
            ([True], self.cell_parent[1:] != self.cell_parent[:-1])))
        self.set_sums(level_sums, None)

    def set_sums(self, level_sums: np.ndarray, cross: np.ndarray | None) -> None:
        """The sums that involve the response: ``w`` per cell and ``w w'`` per size (``cross``,
        the groups' ``Z_g'[1 E]``, is ``1'[1 E]`` again here)."""
        del cross
        w = level_sums[:, 1:]
        order, starts = self._cells
        cell_u = np.empty_like(self.cell_u)  # (a new array: a refit's copy shares the old one)
        cell_u[:, 0] = self.cell_u[:, 0]
        cell_u[:, 1:] = np.add.reduceat(w if order is None else w.take(order, axis=0), starts,
                                        axis=0)
        self.cell_u = cell_u
        # what the gradient weighs the cells' adjoints by: (n c n, n w_cell)
        self.cell_weights = cell_u * self.cell_n[:, None]
        self.cell_weights[:, 0] = self.cell_tn
        if self.pooled:
            self.pooled_u, self.pooled_weights = self._pooled(cell_u), self._pooled(
                self.cell_weights)
        width = w.shape[1]
        bounds = self._size_bounds.tolist()
        self.size_ww = np.empty((len(bounds) - 1, width * width))  # flattened w w'
        self._w_by_size = by_size = w.take(self._by_size, axis=0)
        if len(bounds) > 5 and by_size.size * width <= 250_000:  # many sizes: one pass
            products = (by_size[:, :, None] * by_size[:, None, :]).reshape(len(by_size), -1)
            self.size_ww = np.add.reduceat(products, bounds[:-1], axis=0)
            return
        for s in range(len(bounds) - 1):
            block = by_size[bounds[s] : bounds[s + 1]]
            self.size_ww[s] = (block.T @ block).ravel()

    def with_response_sums(self, level_sums: np.ndarray) -> InterceptCells:
        """A copy for a new response: ``level_sums`` differs from this one's only in its last
        column (the response's sums), so only what involves that column is recomputed."""
        new = copy.copy(self)
        y = level_sums[:, -1]
        order, starts = self._cells
        new.cell_u = self.cell_u.copy()
        new.cell_u[:, -1] = np.add.reduceat(y if order is None else y.take(order), starts)
        new.cell_weights = self.cell_weights.copy()
        new.cell_weights[:, -1] = new.cell_u[:, -1] * self.cell_n
        if self.pooled:
            new.pooled_u, new.pooled_weights = self._pooled(new.cell_u), self._pooled(
                new.cell_weights)
        new._w_by_size = by_size = self._w_by_size.copy()
        by_size[:, -1] = y.take(self._by_size)
        width = by_size.shape[1]
        new.size_ww = self.size_ww.copy()
        square = new.size_ww.reshape(-1, width, width)
        # per size, the sums of the groups' w w_y (w_y: the response's entry of w)
        with_y = np.add.reduceat(by_size * by_size[:, -1:], self._size_bounds[:-1], axis=0)
        square[:, -1, :] = with_y
        square[:, :, -1] = with_y
        return new

    def _pooled(self, per_cell: np.ndarray) -> np.ndarray:
        """Rows per cell laid out by (size, coarser group): (sizes, groups x columns), zeros
        where a coarser group has no group of a size."""
        table = np.zeros((self.size_values.size, self.n_parents, per_cell.shape[1]))
        table[self.cell_size, self.cell_parent] = per_cell
        return table.reshape(self.size_values.size, -1)

    def forward(self, lam: np.ndarray):
        """``log|V|``, the correction to ``E'E``, the sums of the cells' ``[t, w] / d`` per
        coarser group, and what :meth:`gradient` reuses (``lam``: the 1 x 1 relative
        covariance factor)."""
        phi = float(lam[0, 0]) ** 2
        d_size = 1.0 + phi * self.size_values
        r_size = 1.0 / d_size
        log_det = float(self.size_counts @ np.log(d_size))
        correction = ((phi * r_size) @ self.size_ww).reshape(self.cell_u.shape[1] - 1, -1)
        if self.pooled:
            u = (r_size @ self.pooled_u).reshape(self.n_parents, -1)
            return log_det, correction, u, (phi, r_size, None)
        r_cell = r_size.take(self.cell_size)
        u = np.add.reduceat(self.cell_u * r_cell[:, None], self._parent_starts, axis=0)
        return log_det, correction, u, (phi, r_size, r_cell)

    def gradient(self, lam: np.ndarray, adjoint: np.ndarray, u_bar: np.ndarray,
                 pieces, triangle=None) -> np.ndarray:
        """``dD / dtheta`` from the adjoint of ``A`` and the adjoints ``u_bar`` of the coarser
        groups' sums of ``[t, w] / d`` (``triangle`` is not needed for a 1 x 1 factor)."""
        del triangle
        phi, r_size, r_cell = pieces
        theta = float(lam[0, 0])
        quad = self.size_ww @ adjoint.ravel()  # sum_g w_g' A_bar w_g per size
        if self.pooled:  # sum over sizes of r^2 (sum over their cells of u_bar . weights)
            passed = (r_size * r_size) @ (self.pooled_weights @ u_bar.ravel())
        else:
            passed = (r_cell * r_cell) @ row_dot(u_bar.take(self.cell_parent, axis=0),
                                                 self.cell_weights)
        g_phi = (self.size_counts @ (self.size_values * r_size)
                 + quad @ (r_size * (phi * self.size_values * r_size - 1.0)) - passed)
        return np.array([2.0 * theta * float(g_phi)])


class PatternCells:
    """A finest term with several random effects, its groups pooled by (coarser group, pattern).

    Groups with the same ``Z_g' Z_g``, ``Z_g' 1`` and size (a student observed in the same
    waves) share ``M_g``, so with ``K = Lambda M^-1 Lambda'`` per pattern the rows passed up
    are ``[t, w]_cell = sum 1'[1 E] - (K Z'1)' sum Z_g'[1 E]`` over a cell's groups and the
    correction is ``sum_p sum_rs K_p[r, s] sum_{g of p} H_g,E[r]' H_g,E[s]``, with those sums
    formed once per response. In the gradient of the module docstring ``H_g Omega_g H_g'``
    summed over a pattern's groups is ``sum H_g,E A_bar H_g,E'`` (from the same sums) plus
    ``(Z'1 v' + v 1'Z) / 2`` with ``v = sum_cells (sum_g H_g) z_cell``, so that
    ``dD / dLambda = 2 sum_p G_p Lambda M_p^-1 (c_p I + Lambda' S_p Lambda M_p^-1) - S_p Lambda
    M_p^-1`` (``c_p`` groups of pattern ``p``, ``S_p`` that sum). Build with :meth:`build`,
    which returns None when pooling would not shrink the groups by half.
    """

    def __init__(self, gram, cross, level_sums, parent, pattern, n_patterns):
        q = gram.shape[1]
        self.q = q
        firsts = np.unique(pattern, return_index=True)[1]
        self.gram_p = gram[firsts]
        self.h0_p = cross[firsts, :, 0]
        cell_keys, cell_of_group = dense_codes(parent * n_patterns + pattern,
                                               (int(parent.max()) + 1) * n_patterns)
        self.cell_parent = cell_keys // n_patterns
        cell_pattern = cell_keys % n_patterns
        self.cell_pattern = cell_pattern
        self.pattern_counts = np.bincount(pattern, minlength=n_patterns).astype(float)
        self.pattern_of_cell = (cell_pattern[None, :] == np.arange(n_patterns)[:, None]) * 1.0
        self._cells = _order_and_starts(cell_of_group)
        self._pattern_groups = [np.flatnonzero(pattern == k) for k in range(n_patterns)]
        self.set_sums(level_sums, cross)

    @classmethod
    def build(cls, gram, cross, level_sums, parent) -> PatternCells | None:
        """The pooled cells, or None when there are more than half as many as groups."""
        groups = gram.shape[0]
        keys = np.concatenate([gram.reshape(groups, -1), cross[:, :, 0], level_sums[:, :1]],
                              axis=1)
        n_patterns, pattern = _row_patterns(keys)
        cells = np.unique(parent * n_patterns + pattern).size
        if cells > groups // 2:
            return None
        return cls(gram, cross, level_sums, parent, pattern, n_patterns)

    def set_sums(self, level_sums: np.ndarray, cross: np.ndarray) -> None:
        """The sums that involve the response: per cell ``1'[1 E]`` and ``Z'[1 E]``, per
        pattern the products of the groups' ``Z_g'E`` rows."""
        order, starts = self._cells
        groups, q, width = cross.shape
        flat = cross.reshape(groups, -1)
        self.cell_u0 = np.add.reduceat(level_sums if order is None else level_sums[order],
                                       starts, axis=0)
        self.cell_h = np.add.reduceat(flat if order is None else flat[order], starts,
                                      axis=0).reshape(-1, q, width)
        e = width - 1
        self.hh = np.empty((len(self._pattern_groups), q, q, e * e))
        for k, members in enumerate(self._pattern_groups):
            block = cross[members][:, :, 1:].reshape(members.size, q * e)
            self.hh[k] = (block.T @ block).reshape(q, e, q, e).transpose(0, 2, 1, 3).reshape(
                q, q, e * e)
        self.hh = self.hh.reshape(-1, e * e)

    def forward(self, lam: np.ndarray):
        """``log|V|``, the correction to ``E'E``, ``[t, w]`` per cell and what
        :meth:`gradient` reuses."""
        q = self.q
        m = lam.T @ self.gram_p @ lam
        m[:, np.arange(q), np.arange(q)] += 1.0
        sign, log_det = np.linalg.slogdet(m)
        if np.any(sign <= 0):
            raise np.linalg.LinAlgError(_NOT_POSITIVE_DEFINITE)
        m_inv = np.linalg.inv(m)
        k = lam @ m_inv @ lam.T  # Lambda M^-1 Lambda' per pattern
        e = self.cell_u0.shape[1] - 1
        correction = (k.reshape(-1) @ self.hh).reshape(e, e)
        kh = (k @ self.h0_p[:, :, None])[:, :, 0]
        u = self.cell_u0 - np.einsum("cq,cqj->cj", kh[self.cell_pattern], self.cell_h)
        return float(self.pattern_counts @ log_det), correction, u, m_inv

    def gradient(self, lam: np.ndarray, adjoint: np.ndarray, u_bar: np.ndarray,
                 m_inv: np.ndarray, triangle) -> np.ndarray:
        """``dD / dtheta`` of the finest term (see the class docstring)."""
        q = self.q
        s = (self.hh @ adjoint.ravel()).reshape(-1, q, q)
        v = self.pattern_of_cell @ np.einsum("cqj,cj->cq", self.cell_h, u_bar)
        s += 0.5 * (self.h0_p[:, :, None] * v[:, None, :] + v[:, :, None] * self.h0_p[:, None, :])
        lm = lam @ m_inv  # Lambda M^-1
        inner = lam.T @ s @ lm
        inner[:, np.arange(q), np.arange(q)] += self.pattern_counts[:, None]
        lam_bar = 2.0 * np.sum(self.gram_p @ lm @ inner - s @ lm, axis=0)
        rows, cols = triangle
        return lam_bar[rows, cols]


def _row_patterns(keys: np.ndarray) -> tuple[int, np.ndarray]:
    """The distinct rows of ``keys``: their number and each row's index among them (sorted).

    Rows are told apart by a fixed linear combination of their entries (one sort of numbers,
    much cheaper than sorting rows), checked exactly afterwards; where two distinct rows share
    a combination, by ``numpy.unique`` on the rows.
    """
    weights = np.linspace(1.0, 2.0, keys.shape[1]) * np.pi
    values, first, pattern = np.unique(keys @ weights, return_index=True, return_inverse=True)
    if np.array_equal(keys[first][pattern], keys):
        return values.size, pattern.ravel()
    patterns, pattern = np.unique(keys, axis=0, return_inverse=True)
    return len(patterns), pattern.ravel()


def dense_codes(keys: np.ndarray, space: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of non-negative integer ``keys`` below ``space``, sorted, and each
    key's index among them (``numpy.unique(keys, return_inverse=True)``; by a table over
    ``range(space)`` where that is not much larger than ``keys``)."""
    if space > 4 * keys.size + 64:
        observed, codes = np.unique(keys, return_inverse=True)
        return observed, codes.ravel()
    present = np.zeros(space, dtype=bool)
    present[keys] = True
    rank = np.cumsum(present, dtype=np.int64) - 1
    return np.flatnonzero(present), rank[keys]


def _order_and_starts(keys: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
    """A stable order of ``keys`` (None where they are sorted already) and where each key's run
    starts in it, for sums by ``numpy.add.reduceat``."""
    if keys.size > 1 and (keys[1:] >= keys[:-1]).all():
        order, sorted_keys = None, keys
    else:
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
    return order, np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))


def finest_forward(stats: NestedSufficientStatistics, theta: np.ndarray):
    """``log sum_g |M_g|``, the rows ``[t, w]`` per group, the correction to ``E'E`` and what
    :func:`finest_gradient` reuses. Raises ``numpy.linalg.LinAlgError`` when an ``M_g`` is not
    positive definite."""
    lam = stats.lambda_factor(theta, stats.primary)
    if stats.q1 == 2:
        return _two_by_two_forward(stats, lam)
    m = lam.T @ stats.gram @ lam
    m[:, np.arange(stats.q1), np.arange(stats.q1)] += 1.0
    sign, log_det = np.linalg.slogdet(m)
    if np.any(sign <= 0):
        raise np.linalg.LinAlgError(_NOT_POSITIVE_DEFINITE)
    m_inv = np.linalg.inv(m)
    j = lam.T @ stats.cross
    pm = m_inv @ j
    rows = stats.level_sums - np.einsum("gq,gqj->gj", j[:, :, 0], pm)
    width = stats.p + 1
    correction = j[:, :, 1:].reshape(-1, width).T @ pm[:, :, 1:].reshape(-1, width)
    return float(np.sum(log_det)), rows, correction, (m_inv, pm)


def _two_by_two_forward(stats: NestedSufficientStatistics, lam: np.ndarray):
    l0, l1, l2 = float(lam[0, 0]), float(lam[1, 0]), float(lam[1, 1])
    to_m = np.array([[l0 * l0, 0.0, 0.0],
                     [2.0 * l0 * l1, l0 * l2, 0.0],
                     [l1 * l1, l1 * l2, l2 * l2]])
    m = stats.gram3 @ to_m  # entries (00, 01, 11) of M_g
    m[:, 0] += 1.0
    m[:, 2] += 1.0
    det = m[:, 0] * m[:, 2] - m[:, 1] * m[:, 1]
    if not det.min() > 0.0:
        raise np.linalg.LinAlgError(_NOT_POSITIVE_DEFINITE)
    i00, i01, i11 = m[:, 2] / det, -m[:, 1] / det, m[:, 0] / det
    h0, h1 = stats.cross0, stats.cross1
    j0, j1 = l0 * h0 + l1 * h1, l2 * h1
    p0 = i00[:, None] * j0 + i01[:, None] * j1
    p1 = i01[:, None] * j0 + i11[:, None] * j1
    rows = stats.level_sums - j0[:, :1] * p0 - j1[:, :1] * p1
    correction = j0[:, 1:].T @ p0[:, 1:] + j1[:, 1:].T @ p1[:, 1:]
    return float(np.sum(np.log(det))), rows, correction, (i00, i01, i11, p0, p1)


def finest_gradient(
    stats: NestedSufficientStatistics, theta: np.ndarray, pieces, adjoint: np.ndarray,
    z: np.ndarray,
) -> np.ndarray:
    """``dD / dtheta`` of the finest term from the adjoint of ``A`` and the adjoints ``z`` of its
    groups' ``[t, w]`` (see the module docstring)."""
    lam = stats.lambda_factor(theta, stats.primary)
    if stats.q1 == 2:
        return _two_by_two_gradient(stats, lam, pieces, adjoint, z)
    m_inv, pm = pieces
    h = stats.cross
    pm_e = pm[:, :, 1:]
    pe, pz = pm[:, :, 0], np.einsum("gqj,gj->gq", pm, z)
    he, hz = h[:, :, 0], np.einsum("gqj,gj->gq", h, z)
    pa_t = np.transpose(pm_e @ adjoint, (0, 2, 1))
    q = (m_inv + pm_e @ pa_t
         + 0.5 * (pe[:, :, None] * pz[:, None, :] + pz[:, :, None] * pe[:, None, :]))
    hop = (h[:, :, 1:] @ pa_t
           + 0.5 * (he[:, :, None] * pz[:, None, :] + hz[:, :, None] * pe[:, None, :]))
    lam_bar = 2.0 * np.sum(stats.gram @ lam @ q, axis=0) - 2.0 * np.sum(hop, axis=0)
    rows, cols = stats.triangles[stats.primary]
    return lam_bar[rows, cols]


_ONES: dict[int, np.ndarray] = {}


def row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products of two (rows, k) arrays (a product and a matrix-vector product:
    cheaper than ``einsum`` or a reduction along the rows' short axis)."""
    k = a.shape[1]
    ones = _ONES.get(k)
    if ones is None:
        ones = _ONES[k] = np.ones(k)
        ones.flags.writeable = False
    return np.multiply(a, b) @ ones


def _two_by_two_gradient(stats, lam, pieces, adjoint, z) -> np.ndarray:
    i00, i01, i11, p0, p1 = pieces
    l0, l1, l2 = float(lam[0, 0]), float(lam[1, 0]), float(lam[1, 1])
    h0, h1 = stats.cross0, stats.cross1
    p0e, p1e = p0[:, 1:], p1[:, 1:]
    pa0, pa1 = p0e @ adjoint, p1e @ adjoint
    pz0, pz1 = row_dot(p0, z), row_dot(p1, z)
    pe0, pe1 = p0[:, 0], p1[:, 0]
    q00 = i00 + row_dot(pa0, p0e) + pe0 * pz0
    q01 = i01 + row_dot(pa0, p1e) + 0.5 * (pe0 * pz1 + pz0 * pe1)
    q11 = i11 + row_dot(pa1, p1e) + pe1 * pz1
    hz0, hz1 = row_dot(h0, z), row_dot(h1, z)
    hop00 = row_dot(h0[:, 1:], pa0) + 0.5 * (h0[:, 0] * pz0 + hz0 * pe0)
    hop10 = row_dot(h1[:, 1:], pa0) + 0.5 * (h1[:, 0] * pz0 + hz1 * pe0)
    hop11 = row_dot(h1[:, 1:], pa1) + 0.5 * (h1[:, 0] * pz1 + hz1 * pe1)
    g00, g01, g11 = stats.gram3[:, 0], stats.gram3[:, 1], stats.gram3[:, 2]
    gl00, gl01 = g00 * l0 + g01 * l1, g01 * l2
    gl10, gl11 = g01 * l0 + g11 * l1, g11 * l2
    return 2.0 * np.array([
        np.sum(gl00 * q00 + gl01 * q01 - hop00),
        np.sum(gl10 * q00 + gl11 * q01 - hop10),
        np.sum(gl10 * q01 + gl11 * q11 - hop11),
    ])
