"""Transition probabilities P(t) = expm(tQ) for many intervals, and the adjoint of their derivative.

Intervals that share an intensity matrix (the same covariate pattern) share its eigendecomposition
``Q = U diag(lambda) U^{-1}``, so each interval length costs only a few small products
(Kalbfleisch & Lawless 1985; Jackson 2011 section 2.2).  For the gradient, with ``W = dlogL/dP``,

    sum_t  t L(t Q', W_t) = U^{-T} [ sum_t Phi(t) o (U' W_t U^{-T}) ] U',
    Phi_ij(t) = (exp(t lambda_i) - exp(t lambda_j)) / (lambda_i - lambda_j)   (t exp(t lambda_i) if equal),

where ``L`` is the Fréchet derivative of the exponential and ``o`` the elementwise product: the
eigenvector form of Kalbfleisch & Lawless's derivative, applied to the adjoint so that one pass serves
every parameter.  Matrices whose eigenvectors are ill-conditioned (nearly defective, e.g. equal exit
rates along a progressive chain) use the scaling-and-squaring Padé exponential and its block-matrix
Fréchet derivative instead.
"""

from __future__ import annotations

import numpy as np

from ._expm import expm_frechet_adjoint, expm_stack

# Largest condition number of the eigenvector matrix accepted; P(t) then carries a relative error
# of about COND_MAX * machine epsilon.
COND_MAX = 1e5
_CHUNK = 50_000


class TransitionKernel:
    """Transition matrices of groups of intervals, each group a (pattern, length) pair.

    Parameters
    ----------
    q : ndarray of shape (C, K, K)
        Intensity matrix of each covariate pattern.
    pattern : ndarray of int, shape (G,)
        Pattern of each group, sorted (groups of a pattern are contiguous).
    dt : ndarray of shape (G,)
        Interval length of each group.

    Attributes
    ----------
    p : ndarray of shape (G, K, K)
        ``expm(dt[g] * q[pattern[g]])``.
    """

    def __init__(self, q: np.ndarray, pattern: np.ndarray, dt: np.ndarray):
        self.q, self.pattern, self.dt = q, pattern, dt
        lam, u = np.linalg.eig(q)
        u_inv = np.linalg.inv(u)
        cond = np.abs(u).sum(axis=-2).max(axis=-1) * np.abs(u_inv).sum(axis=-2).max(axis=-1)
        self.lam, self.u, self.u_inv = lam, u, u_inv
        self.spectral = np.isfinite(cond) & (cond < COND_MAX)
        self.by_eigen = self.spectral[pattern]
        self.p = np.empty((len(dt),) + q.shape[1:])
        self._fill_p()

    def _fill_p(self) -> None:
        for idx in _chunks(np.flatnonzero(self.by_eigen)):
            c = self.pattern[idx]
            e = np.exp(self.dt[idx, None] * self.lam[c])
            self.p[idx] = ((self.u[c] * e[:, None, :]) @ self.u_inv[c]).real
        idx = np.flatnonzero(~self.by_eigen)
        if len(idx):
            self.p[idx] = expm_stack(self.dt[idx, None, None] * self.q[self.pattern[idx]])

    def adjoint(self, w: np.ndarray) -> np.ndarray:
        """Gradient with respect to each pattern's Q of ``sum_g <w[g], P_g>``.

        Parameters
        ----------
        w : ndarray of shape (G, K, K)

        Returns
        -------
        ndarray of shape (C, K, K)
            ``sum over groups g of pattern c of dt[g] * L(dt[g] * Q_c', w[g])``.
        """
        out = np.zeros(self.q.shape)
        spectral = np.zeros(self.q.shape, dtype=complex)
        for idx in _chunks(np.flatnonzero(self.by_eigen)):
            c = self.pattern[idx]
            lam = self.lam[c]
            m = np.swapaxes(self.u[c], -1, -2) @ w[idx] @ np.swapaxes(self.u_inv[c], -1, -2)
            _add_sorted(spectral, c, _phi(lam, self.dt[idx]) * m)
        good = np.flatnonzero(self.spectral)
        ut, uit = np.swapaxes(self.u[good], -1, -2), np.swapaxes(self.u_inv[good], -1, -2)
        out[good] = (uit @ spectral[good] @ ut).real
        idx = np.flatnonzero(~self.by_eigen)
        if len(idx):
            a = self.dt[idx, None, None] * self.q[self.pattern[idx]]
            _add_sorted(out, self.pattern[idx], self.dt[idx, None, None] * expm_frechet_adjoint(a, w[idx]))
        return out


def _phi(lam: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Divided differences ``(exp(t l_i) - exp(t l_j)) / (l_i - l_j)``, shape (G, K, K).

    Where ``t (l_i - l_j) / 2 = x`` is small (the diagonal included) the identity
    ``t exp(t (l_i + l_j) / 2) sinh(x) / x`` with a series for ``sinh(x) / x`` avoids cancellation.
    """
    e = np.exp(t[:, None] * lam)
    d = lam[:, :, None] - lam[:, None, :]
    x = 0.5 * t[:, None, None] * d
    close = np.abs(x) < 1e-3
    out = (e[:, :, None] - e[:, None, :]) / np.where(close, 1.0, d)
    g, i, j = np.nonzero(close)
    xc = x[g, i, j]
    out[g, i, j] = t[g] * np.exp(0.5 * t[g] * (lam[g, i] + lam[g, j])) * (1.0 + xc * xc / 6.0 + xc**4 / 120.0)
    return out


def _add_sorted(out: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``out[index] += values`` summing repeated indices, for sorted ``index``."""
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    out[index[starts]] += np.add.reduceat(values, starts, axis=0)


def _chunks(idx: np.ndarray):
    for start in range(0, len(idx), _CHUNK):
        yield idx[start : start + _CHUNK]
