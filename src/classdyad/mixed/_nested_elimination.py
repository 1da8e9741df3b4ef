"""A second block elimination for nested designs, for the penalized least-squares deviance.

:class:`~classdyad.mixed._penalized_least_squares.PenalizedLeastSquares` eliminates the primary
term (e.g. students) level by level and factors the Schur complement of everything else, the
other terms' random effects, ``X`` and ``y``, as one dense matrix. When the design is nested
another term's block of that Schur complement is diagonal too: with students nested in
classrooms every student's cross-products touch a single classroom, so after eliminating the
students the classrooms are still coupled only to themselves (and to the schools, ``X`` and
``y``). Such a term is eliminated by a second, diagonal, Schur complement before the dense
Cholesky factorisation, which then covers only the remaining terms (e.g. schools), ``X`` and
``y``. With ``a`` the diagonal block (scaled by ``Lambda`` and with the identity added), ``B``
its rows of the Schur complement and ``C`` the remaining block::

    [ diag(a)  B ]         F = chol(C - B' diag(a)^-1 B)
    [ B'       C ]         log|L_rest|^2 = sum log a + 2 sum log diag(F) (kept terms' rows)

and ``R_X`` and ``r`` are the last rows of ``F``, as in the single-stage factorisation (the Schur
complement of the random effects in ``[X y]`` does not depend on the order of elimination). The
term is found from the structure of the data: a term qualifies when its block is structurally
diagonal (no observation and no level of the primary term links two of its columns), so crossed
designs, or nested ones whose levels the primary term's levels cross, keep the single-stage path.
It applies when the primary term has one random effect per level, all the other terms have
diagonal relative covariance factors and the eliminated term has at least 50 levels, to the
deviances and (with :meth:`NestedElimination.modes_and_inverse`) the gradients evaluated while
optimising; the final solve for ``beta`` and the conditional modes keeps the single-stage factor.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg import lapack

if TYPE_CHECKING:  # the solver imports this module: no import at run time
    from classdyad.mixed._penalized_least_squares import PenalizedLeastSquares

__all__ = ["NestedElimination"]

_NOT_POSITIVE_DEFINITE = "the penalized least-squares matrix is not positive definite"
# below this many columns the single-stage dense factor costs no more than the extra steps
_MIN_ELIMINATED = 50


class NestedElimination:
    """Precomputed pieces of the two-stage elimination (see the module docstring).

    Build with :meth:`detect`, which returns ``None`` when no other term has a diagonal block.
    """

    def __init__(self, pls: PenalizedLeastSquares, eliminated: np.ndarray, kept: np.ndarray):
        qr, p = pls.q_rest, pls.p
        total = pls.total
        self.eliminated, self.kept, self.p = eliminated, kept, p
        self.n_eliminated = ne = eliminated.size
        self.n_kept = nk = kept.size
        # the entries of the other terms' block that the elimination needs, in one sparse map
        # (one product per evaluation): the diagonal of the eliminated block, its rows at the
        # kept columns and the kept block
        rows = np.concatenate([eliminated * qr + eliminated,
                               (eliminated[:, None] * qr + kept[None, :]).ravel(),
                               (kept[:, None] * qr + kept[None, :]).ravel()])
        self.pattern = pls.pattern[rows]
        self.total_entries = total[:qr, :qr].ravel()[rows]
        self.ends = (ne, ne + ne * nk)
        self.total_rest_xy = total[:qr, qr:]
        self.m = nk + p + 1
        self.w_rest_t = pls.w_rest.T.tocsr()  # CSR: faster products than a CSC view
        # original positions of [eliminated, kept, X] (the reduced problem's order)
        self.order = np.concatenate([eliminated, kept, qr + np.arange(p)])
        self.span = (int(eliminated[0]), int(eliminated[-1]) + 1)  # a contiguous range

    def with_total(self, total: np.ndarray) -> NestedElimination:
        """The same elimination for a new response (``total`` with the new ``y`` column)."""
        new = copy.copy(self)
        new.total_rest_xy = total[: self.total_rest_xy.shape[0], self.total_rest_xy.shape[0] :]
        return new

    @classmethod
    def detect(cls, pls: PenalizedLeastSquares) -> NestedElimination | None:
        """The largest other term whose block of the Schur complement is diagonal, or None (also
        when that term has fewer than 50 columns: the second stage would not pay for itself; and
        for a primary term with several effects per level, which keeps the single-stage path)."""
        qr = pls.q_rest
        if qr < _MIN_ELIMINATED or not pls.rest_diagonal_only or pls.q1 != 1:
            return None
        structure = pls.total[:qr, :qr] != 0.0
        structure |= (np.diff(pls.pattern.indptr) > 0).reshape(qr, qr)
        best, offset = None, 0
        for k in pls.rest:
            term = pls.design.random_terms[k]
            width = term.n_levels * term.n_effects
            if width >= _MIN_ELIMINATED and (best is None or width > best[1] - best[0]):
                block = structure[offset : offset + width, offset : offset + width]
                if np.count_nonzero(block) == np.count_nonzero(np.diagonal(block)):
                    best = (offset, offset + width)
            offset += width
        if best is None:
            return None
        columns = np.arange(qr)
        eliminated = columns[best[0] : best[1]]
        kept = np.concatenate([columns[: best[0]], columns[best[1] :]])
        return cls(pls, eliminated, kept)

    def _reduced(self, d, c, cw_xy, xy_block) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The diagonal ``a``, the rows ``B`` (with ``y``'s column) and the reduced factor."""
        nk, (end_diagonal, end_cross) = self.n_kept, self.ends
        d_e, d_k = d[self.eliminated], d[self.kept]
        entries = self.total_entries - self.pattern @ c
        a = entries[:end_diagonal] * d_e * d_e + 1.0
        if not a.min() > 0.0:
            raise np.linalg.LinAlgError(_NOT_POSITIVE_DEFINITE)
        rest_xy = self.total_rest_xy - np.asarray(self.w_rest_t @ cw_xy)
        cross = np.empty((self.n_eliminated, self.m))
        cross[:, :nk] = entries[end_diagonal:end_cross].reshape(self.n_eliminated, nk) * d_k
        cross[:, nk:] = rest_xy[self.eliminated]
        cross *= d_e[:, None]
        schur = np.empty((self.m, self.m), order="F")
        if nk:
            kept = entries[end_cross:].reshape(nk, nk) * d_k[:, None] * d_k
            kept[np.diag_indices(nk)] += 1.0
            schur[:nk, :nk] = kept
            kept_xy = rest_xy[self.kept] * d_k[:, None]
            schur[:nk, nk:] = kept_xy
            schur[nk:, :nk] = kept_xy.T
        schur[nk:, nk:] = xy_block
        schur -= (cross / a[:, None]).T @ cross
        factor, info = lapack.dpotrf(schur, lower=1, clean=1, overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError(_NOT_POSITIVE_DEFINITE)
        return a, cross, factor

    def factor(
        self, d: np.ndarray, c: np.ndarray, cw_xy: np.ndarray, xy_block: np.ndarray
    ) -> tuple[float, float, float, np.ndarray, np.ndarray]:
        """``log|L_rest|^2``, ``log|R_X|^2``, ``r^2``, ``R_X`` and the reduced Cholesky factor.

        ``d`` is the diagonal of ``Lambda`` of the other terms, ``c`` and ``cw_xy`` the primary
        term's per-level pieces and ``xy_block`` the ``[X y]`` block after the first stage.
        Raises ``numpy.linalg.LinAlgError`` when a block is not positive definite.
        """
        a, _, factor = self._reduced(d, c, cw_xy, xy_block)
        return self._log_det(a, factor), *self.fixed_part(factor), factor

    def fixed_part(self, factor: np.ndarray) -> tuple[float, float, np.ndarray]:
        """``log|R_X|^2``, ``r^2`` and ``R_X`` from the reduced factor."""
        k, p = self.n_kept, self.p
        rx = factor[k : k + p, k : k + p]
        log_det_rx = float(2.0 * np.sum(np.log(np.diagonal(rx))))
        return log_det_rx, float(factor[-1, -1] ** 2), rx

    def _log_det(self, a: np.ndarray, factor: np.ndarray) -> float:
        diagonal = np.diagonal(factor)[: self.n_kept]
        return float(np.sum(np.log(a)) + 2.0 * np.sum(np.log(diagonal)))

    def modes_and_inverse(self, d, c, cw_xy, xy_block, *, reml: bool):
        """:meth:`factor` with the solution and the inverse the gradient needs.

        Returns ``log|L_rest|^2``, the reduced factor, ``[u_rest; beta]`` (the other terms'
        columns in their original order) and the inverse of the Schur complement of the
        primary term in ``[Z_rest Lambda_rest, X]`` (``Z_rest`` only for ML), also in the
        original order. With ``E = diag(a)^-1 B`` and ``G`` the inverse of the reduced block,
        that inverse is ``[[diag(a)^-1 + E G E', -E G], [-G E', G]]``; the kept part of the
        solution solves the reduced triangular system and the eliminated part is
        ``(b_y - B x_kept) / a``.
        """
        nk, p = self.n_kept, self.p
        a, cross, factor = self._reduced(d, c, cw_xy, xy_block)
        kept, info = lapack.dtrtrs(factor[:-1, :-1], factor[-1, :-1], lower=1, trans=1)
        if info != 0:
            raise np.linalg.LinAlgError("the penalized least-squares factor is singular")
        solution = np.empty(self.n_eliminated + nk + p)
        solution[self.order] = np.concatenate([(cross[:, -1] - cross[:, :-1] @ kept) / a, kept])
        size = nk + p if reml else nk
        g = np.zeros((0, 0))
        if size:  # (none: ML with the eliminated term the only other one)
            inverse_factor, info = lapack.dtrtri(factor[:size, :size], lower=1)
            if info != 0:
                raise np.linalg.LinAlgError("a triangular factor is singular")
            g = inverse_factor.T @ inverse_factor
        e = cross[:, :size] / a[:, None]
        eg = e @ g
        # written into the original order by slices: the eliminated term's columns
        # [lo, hi) sit between the kept ones before them and those after them (and X)
        lo, hi = self.span
        total = (hi - lo) + size  # q_rest (+ p)
        inverse = np.empty((total, total))
        inverse[lo:hi, lo:hi] = eg @ e.T
        inverse.reshape(-1)[lo * (total + 1) : hi * (total + 1) : total + 1] += 1.0 / a
        pieces = ((slice(0, lo), slice(0, lo)), (slice(hi, total), slice(lo, size)))
        for rows, block in pieces:  # (positions in the original order, in the reduced one)
            inverse[lo:hi, rows] = -eg[:, block]
            inverse[rows, lo:hi] = -eg[:, block].T
            for columns, other in pieces:
                inverse[rows, columns] = g[block, other]
        return self._log_det(a, factor), factor, solution, inverse
