"""Likelihood terms of distinct observed moves, through each pattern's eigendecomposition.

A cell is a distinct (covariate pattern c, from state r, to state s, interval length t) with its
count n of intervals.  With ``Q_c = U diag(lambda) U^{-1}`` (Kalbfleisch & Lawless 1985):

* a panel cell contributes ``n log P_rs(t)``, ``P_rs(t) = sum_i U_ri (U^{-1})_is exp(t lambda_i)``;
* an exact-death cell (s = D) contributes ``n log sum_k P_rk(t) q_kD`` with
  ``sum_k P_rk(t) q_kD = sum_i U_ri (U^{-1} Q)_iD exp(t lambda_i)``;

so each cell costs O(K).  For the gradient, the derivative of ``P(t)`` in the direction E is
``U [Phi(t) o (U^{-1} E U)] U^{-1}`` with ``Phi_ij(t) = (exp(t l_i) - exp(t l_j)) / (l_i - l_j)``;
the weight of a cell in ``dlogL/dP`` is rank one (``e_r e_s'`` times ``n / P_rs``), so the
adjoint collects, per (c, r, s), sums over the cells' lengths of ``w exp(t lambda_i)`` and
``w t^k exp(t lambda_i)`` (k = 1, 2, 3).  These give ``sum_t w Phi(t)`` exactly for distinct
eigenvalues and by a Taylor expansion (relative error below 1e-10) for close ones.

Patterns whose eigenvector matrix is ill-conditioned (nearly defective ``Q``) use the
scaling-and-squaring Padé exponential and its block-matrix Fréchet derivative instead.

References
----------
Kalbfleisch, J. D. & Lawless, J. F. (1985). The analysis of panel data under a Markov assumption.
Journal of the American Statistical Association, 80(392), 863-871.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ._expm import expm_frechet_adjoint, expm_stack

# Largest condition number of the eigenvector matrix accepted; transition probabilities then carry a
# relative error of about COND_MAX * machine epsilon.
COND_MAX = 1e5
# Below this |lambda_i - lambda_j| * t, divided differences use the Taylor expansion.
_CLOSE = 1e-3
_TINY = 1e-300


@dataclass(frozen=True)
class Cells:
    """Distinct (pattern, row, col, dt) cells of one kind, sorted in that order, with counts.

    ``death`` marks exact-death cells, whose ``col`` is the death state.
    """

    pattern: np.ndarray
    row: np.ndarray
    col: np.ndarray
    dt: np.ndarray
    count: np.ndarray
    death: bool

    def __len__(self) -> int:
        return len(self.count)

    def subset(self, keep: np.ndarray) -> Cells:
        return Cells(self.pattern[keep], self.row[keep], self.col[keep], self.dt[keep], self.count[keep], self.death)

    @cached_property
    def key_starts(self) -> np.ndarray:
        """First cell of each distinct (pattern, row, col) key."""
        c, r, s = self.pattern, self.row, self.col
        return np.flatnonzero(np.r_[True, (np.diff(c) != 0) | (np.diff(r) != 0) | (np.diff(s) != 0)])

    @cached_property
    def key_t_max(self) -> np.ndarray:
        """Longest interval of each key."""
        return np.maximum.reduceat(self.dt, self.key_starts)


class Decomposition:
    """Eigendecompositions of the intensity matrices of all patterns.

    Attributes
    ----------
    q : ndarray (C, K, K)
    lam, u, u_inv : eigenvalues and eigenvector matrices (complex where needed)
    spectral : ndarray of bool (C,)
        Patterns whose eigenvectors are well conditioned (``cond < COND_MAX``).
    """

    def __init__(self, q: np.ndarray):
        self.q = q
        self.lam, self.u = np.linalg.eig(q)
        try:
            self.u_inv = np.linalg.inv(self.u)
        except np.linalg.LinAlgError:  # an exactly defective Q somewhere in the stack
            self.u_inv = np.linalg.pinv(self.u)
        with np.errstate(all="ignore"):
            cond = _norm1(self.u) * _norm1(self.u_inv)
        self.spectral = np.isfinite(cond) & (cond < COND_MAX)
        self.v = self.u_inv @ q  # (U^{-1} Q), for exact-death cells


def spectral_terms(dec: Decomposition, cells: Cells, gradient: bool):
    """log-likelihood of ``cells`` and, if asked, its derivative with respect to each pattern's Q.

    Returns
    -------
    loglik : float
    dq : ndarray (C, K, K) or None
    """
    if not len(cells):
        return 0.0, np.zeros(dec.q.shape)
    c, r, s, t = cells.pattern, cells.row, cells.col, cells.dt
    e = np.exp(t[:, None] * dec.lam[c])
    right = dec.v if cells.death else dec.u_inv
    value = np.einsum("ni,ni,ni->n", dec.u[c, r, :], right[c, :, s], e).real
    value = np.maximum(value, _TINY)
    loglik = float(cells.count @ np.log(value))
    if not gradient:
        return loglik, None

    w = cells.count / value
    starts = cells.key_starts
    kc, kr, ks = c[starts], r[starts], s[starts]
    we = w[:, None] * e
    phi = _summed_divided_differences(dec.lam[kc], cells.key_t_max, we, t, starts)
    outer = dec.u[kc, kr, :][:, :, None] * right[kc, :, ks][:, None, :]
    in_basis = np.zeros(dec.q.shape, dtype=np.result_type(phi, outer))
    pattern_starts = np.flatnonzero(np.r_[True, np.diff(kc) != 0])
    in_basis[kc[pattern_starts]] = np.add.reduceat(phi * outer, pattern_starts, axis=0)
    dq = (np.swapaxes(dec.u_inv, -1, -2) @ in_basis @ np.swapaxes(dec.u, -1, -2)).real
    if cells.death:
        summed = np.add.reduceat(we, starts, axis=0)
        rows = np.einsum("ni,nij->nj", dec.u[kc, kr, :] * summed, dec.u_inv[kc]).real  # sum w P_r.(t)
        np.add.at(dq, (kc, slice(None), ks), rows)
    return loglik, dq


def _summed_divided_differences(lam, t_max, we, t, starts):
    """``sum over a key's cells of w Phi_ij(t)``, shape (n_keys, K, K).

    ``we`` holds ``w exp(t lambda)`` per cell; distinct eigenvalues use
    ``(sum w e^{t l_i} - sum w e^{t l_j}) / (l_i - l_j)``, close ones (the diagonal included) expand
    ``exp(t l_j) = exp(t l_i) exp(-t gap)`` to third order in ``t gap``, which needs the sums of
    ``w t^k exp(t lambda)``, k = 1, 2, 3.
    """
    gap = lam[:, :, None] - lam[:, None, :]
    close = np.abs(gap) * t_max[:, None, None] < _CLOSE
    e = np.add.reduceat(we, starts, axis=0)
    out = (e[:, :, None] - e[:, None, :]) / np.where(close, 1.0, gap)
    moments = [np.add.reduceat(we * t[:, None], starts, axis=0)]
    off_diagonal = close & ~np.eye(lam.shape[1], dtype=bool)
    if off_diagonal.any():
        moments += [np.add.reduceat(we * t[:, None] ** k, starts, axis=0) for k in (2, 3)]
        near = moments[0][:, :, None] - gap * moments[1][:, :, None] / 2.0 + gap**2 * moments[2][:, :, None] / 6.0
    else:
        near = np.broadcast_to(moments[0][:, :, None], out.shape)
    return np.where(close, near, out)


def pade_terms(q: np.ndarray, cells: Cells, gradient: bool):
    """The same as ``spectral_terms`` through ``expm`` of each distinct (pattern, dt)."""
    if not len(cells):
        return 0.0, np.zeros(q.shape)
    keys, group = np.unique(np.column_stack([cells.pattern, cells.dt]), axis=0, return_inverse=True)
    group = group.ravel()
    pattern, dt = keys[:, 0].astype(int), keys[:, 1]
    a = dt[:, None, None] * q[pattern]
    p = expm_stack(a)
    r, s = cells.row, cells.col
    if cells.death:
        qd = q[cells.pattern, :, s]
        value = np.einsum("nk,nk->n", p[group, r, :], qd)
    else:
        value = p[group, r, s]
    value = np.maximum(value, _TINY)
    loglik = float(cells.count @ np.log(value))
    if not gradient:
        return loglik, None
    w = cells.count / value
    weights = np.zeros_like(p)
    dq = np.zeros(q.shape)
    if cells.death:
        np.add.at(weights, (group, r), w[:, None] * qd)
        np.add.at(dq, (cells.pattern, slice(None), s), w[:, None] * p[group, r, :])
    else:
        np.add.at(weights, (group, r, s), w)
    np.add.at(dq, pattern, dt[:, None, None] * expm_frechet_adjoint(a, weights))
    return loglik, dq


def _norm1(a: np.ndarray) -> np.ndarray:
    return np.abs(a).sum(axis=-2).max(axis=-1)
