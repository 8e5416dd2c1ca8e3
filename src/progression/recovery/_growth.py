"""REML/ML for a linear growth model with correlated random intercepts and slopes per citizen, nested in
municipalities with their own random intercept (and slope), from per-citizen sufficient statistics.

Model: y = X b + Z u_i + Z v_m + e, with Z = [1, t], u_i ~ N(0, G), v_m ~ N(0, H), e ~ N(0, s2 I).
With G = s2 Gamma and H = s2 Eta, a citizen's covariance is s2 A_i, A_i = I + Z_i Gamma Z_i', and by
Woodbury every quadratic form reduces to 2 x 2 algebra on Z_i'Z_i, Z_i'X_i and Z_i'y_i:

    u'A_i^-1 v = u'v - (Z_i'u)' C_i (Z_i'v),   C_i = Gamma (I + Z_i'Z_i Gamma)^-1,
    log|A_i| = log|I + Z_i'Z_i Gamma|.

A municipality adds V_m = A_m + W_m Eta W_m' (W_m the stacked Z_i), handled by the same identity one
level up with S_m = sum_i Z_i'A_i^-1 Z_i. The profiled REML criterion is

    -2 l_R = (N - p) (1 + log(2 pi s2_hat)) + log|V*| + log|X'V*^-1 X|,  s2_hat = r'V*^-1 r / (N - p),

so one evaluation costs O(citizens) vectorised work, and national data fit in seconds where a
general mixed-model routine loops over groups (Laird & Ware 1982; Pinheiro & Bates 2000, ch. 2;
Bates et al. 2015 for the profiled criterion that lme4 uses).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse


@dataclass
class GrowthFit:
    """Estimates of :func:`fit_growth` (variances on the data's scale)."""

    beta: np.ndarray
    cov_beta: np.ndarray
    G: np.ndarray
    H: np.ndarray | None
    sigma2: float
    objective: float
    converged: bool
    citizen_effects: np.ndarray
    municipality_effects: np.ndarray | None


def _inv2(m: np.ndarray) -> np.ndarray:
    """Inverse of a stack of 2 x 2 matrices."""
    det = m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    out = np.empty_like(m)
    out[:, 0, 0], out[:, 1, 1] = m[:, 1, 1] / det, m[:, 0, 0] / det
    out[:, 0, 1], out[:, 1, 0] = -m[:, 0, 1] / det, -m[:, 1, 0] / det
    return out


def _logdet2(m: np.ndarray) -> np.ndarray:
    return np.log(m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0])


def _chol(theta: np.ndarray) -> np.ndarray:
    """Lower-triangular 2 x 2 factor from (l11, l21, l22), or (l11,) for an intercept-only component."""
    if theta.size == 1:
        return np.array([[theta[0], 0.0], [0.0, 0.0]])
    return np.array([[theta[0], 0.0], [theta[1], theta[2]]])


class _Stats:
    """Per-citizen sufficient statistics and the citizen -> municipality map.

    Symmetric 2 x 2 blocks are kept as their three components (a, b, c) = ([0,0], [0,1], [1,1]) and
    2 x p blocks as two rows, so every per-citizen operation is plain vectorised arithmetic.
    """

    def __init__(self, y, X, t, person_codes, municipality_codes):
        self.N, self.p = X.shape
        n_persons = int(person_codes.max()) + 1
        rows_to_person = sparse.csr_matrix((np.ones(self.N), (person_codes, np.arange(self.N))),
                                           shape=(n_persons, self.N))
        self.a = rows_to_person @ np.ones(self.N)
        self.b = rows_to_person @ t
        self.c = rows_to_person @ (t * t)
        self.zx0, self.zx1 = rows_to_person @ X, rows_to_person @ (X * t[:, None])
        self.zy0, self.zy1 = rows_to_person @ y, rows_to_person @ (y * t)
        self.XX, self.Xy, self.yy = X.T @ X, X.T @ y, float(y @ y)
        self.muni = self.to_muni = None
        if municipality_codes is not None:
            self.muni = np.full(n_persons, -1, dtype=np.int64)
            self.muni[person_codes] = municipality_codes
            if np.any(self.muni[person_codes] != municipality_codes) or np.any(self.muni < 0):
                raise ValueError("each citizen must lie in exactly one municipality (nested random effects)")
            n_muni = int(municipality_codes.max()) + 1
            self.to_muni = sparse.csr_matrix((np.ones(n_persons), (self.muni, np.arange(n_persons))),
                                             shape=(n_muni, n_persons))


def _stack(a, b, c) -> np.ndarray:
    """Stack of symmetric 2 x 2 matrices from their components."""
    return np.stack([np.stack([a, b], -1), np.stack([b, c], -1)], -2)


def _pieces(s: _Stats, gamma: np.ndarray, eta: np.ndarray | None):
    """V*^-1 cross products X'V X, X'V y, y'V y and log|V*|, plus what the BLUPs need."""
    (g11, g12), (_, g22) = gamma
    a, b, c = s.a, s.b, s.c
    # m = I + ZZ Gamma (not symmetric); C = Gamma m^-1 = (Gamma^-1 + ZZ)^-1 (symmetric)
    m11, m12 = 1 + a * g11 + b * g12, a * g12 + b * g22
    m21, m22 = b * g11 + c * g12, 1 + b * g12 + c * g22
    det = m11 * m22 - m12 * m21
    logdet = float(np.log(det).sum())
    c11 = (g11 * m22 - g12 * m21) / det
    c12 = (g12 * m11 - g11 * m12) / det
    c22 = (g12 * -m12 + g22 * m11) / det
    r0, r1 = c11[:, None] * s.zx0 + c12[:, None] * s.zx1, c12[:, None] * s.zx0 + c22[:, None] * s.zx1
    q0, q1 = c11 * s.zy0 + c12 * s.zy1, c12 * s.zy0 + c22 * s.zy1
    XVX = s.XX - s.zx0.T @ r0 - s.zx1.T @ r1
    XVy = s.Xy - s.zx0.T @ q0 - s.zx1.T @ q1
    yVy = s.yy - float(s.zy0 @ q0 + s.zy1 @ q1)
    # Z'A^-1 Z = ZZ - ZZ C ZZ, Z'A^-1 X = ZX - ZZ (C ZX), Z'A^-1 y likewise
    k11, k12, k21, k22 = a * c11 + b * c12, a * c12 + b * c22, b * c11 + c * c12, b * c12 + c * c22
    zaz = (a - (k11 * a + k12 * b), b - (k11 * b + k12 * c), c - (k21 * b + k22 * c))
    zax = (s.zx0 - (a[:, None] * r0 + b[:, None] * r1), s.zx1 - (b[:, None] * r0 + c[:, None] * r1))
    zay = (s.zy0 - (a * q0 + b * q1), s.zy1 - (b * q0 + c * q1))
    muni = None
    if eta is not None:
        S = _stack(*(s.to_muni @ v for v in zaz))
        R = np.stack([s.to_muni @ zax[0], s.to_muni @ zax[1]], 1)
        r = np.column_stack([s.to_muni @ zay[0], s.to_muni @ zay[1]])
        mm = np.eye(2) + S @ eta
        D = eta @ _inv2(mm)
        logdet += float(_logdet2(mm).sum())
        DR, Dr = D @ R, np.einsum("mab,mb->ma", D, r)
        XVX = XVX - np.einsum("mab,mac->bc", R, DR)
        XVy = XVy - np.einsum("mab,ma->b", R, Dr)
        yVy -= float(np.einsum("ma,ma->", r, Dr))
        muni = (S, D)
    return XVX, XVy, yVy, logdet, (zaz, zax, zay, muni)


def _criterion(theta, s: _Stats, n_citizen: int, reml: bool) -> float:
    lc = _chol(theta[:n_citizen])
    gamma = lc @ lc.T
    eta = None
    if theta.size > n_citizen:
        lm = _chol(theta[n_citizen:])
        eta = lm @ lm.T
    XVX, XVy, yVy, logdet, _ = _pieces(s, gamma, eta)
    sign, logdet_x = np.linalg.slogdet(XVX)
    if sign <= 0:
        return np.inf
    beta = np.linalg.solve(XVX, XVy)
    rss = yVy - XVy @ beta
    dof = s.N - s.p if reml else s.N
    if rss <= 0:
        return np.inf
    # -2 log likelihood (REML: of the residual contrasts), constants included as in lme4's REMLcrit/deviance
    return dof * (1 + np.log(2 * np.pi * rss / dof)) + logdet + (logdet_x if reml else 0.0)


def fit_growth(y, X, t, person_codes, municipality_codes=None, *, municipality_slope: bool = True,
               reml: bool = True) -> GrowthFit:
    """Fit the growth model; codes (one per row) are 0..k-1 integers, each citizen in one municipality."""
    s = _Stats(np.asarray(y, float), np.asarray(X, float), np.asarray(t, float), person_codes, municipality_codes)
    start = [np.array([0.5, 0.0, 0.1])]
    if municipality_codes is not None:
        start.append(np.array([0.2, 0.0, 0.05]) if municipality_slope else np.array([0.2]))
    theta0 = np.concatenate(start)
    res = optimize.minimize(_criterion, theta0, args=(s, 3, reml), method="L-BFGS-B",
                            options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8})
    converged = bool(res.success)
    if not converged:  # e.g. a line search stalling at the optimum: polish without gradients
        polish = optimize.minimize(_criterion, res.x if np.isfinite(res.fun) else theta0, args=(s, 3, reml),
                                   method="Nelder-Mead", options={"maxiter": 20000, "xatol": 1e-9, "fatol": 1e-11})
        # converged when the polish succeeds or finds no better point than where L-BFGS-B stopped
        converged = bool(polish.success) or abs(polish.fun - res.fun) <= 1e-8 * max(1.0, abs(res.fun))
        res = polish if polish.fun <= res.fun or not np.isfinite(res.fun) else res
    converged = converged and bool(np.isfinite(res.fun))
    lc = _chol(res.x[:3])
    gamma = lc @ lc.T
    eta = None
    if municipality_codes is not None:
        lm = _chol(res.x[3:])
        eta = lm @ lm.T
    XVX, XVy, yVy, _, (zaz, zax, zay, muni) = _pieces(s, gamma, eta)
    beta = np.linalg.solve(XVX, XVy)
    sigma2 = (yVy - XVy @ beta) / (s.N - s.p if reml else s.N)
    # BLUPs: u_i = Gamma Z_i'V^-1 r, v_m = Eta W_m'V^-1 r, with Z_i'A_i^-1 r_i = zay_i - zax_i b
    zar = np.column_stack([zay[0] - zax[0] @ beta, zay[1] - zax[1] @ beta])
    if muni is None:
        u, v = zar @ gamma, None
    else:
        S, D = muni
        tot = np.column_stack([s.to_muni @ zar[:, 0], s.to_muni @ zar[:, 1]])
        dtot = np.einsum("mab,mb->ma", D, tot)
        u = (zar - np.einsum("iab,ib->ia", _stack(*zaz), dtot[s.muni])) @ gamma
        v = (tot - np.einsum("mab,mb->ma", S, dtot)) @ eta
    return GrowthFit(
        beta=beta, cov_beta=sigma2 * np.linalg.inv(XVX), G=sigma2 * gamma, H=None if eta is None else sigma2 * eta,
        sigma2=float(sigma2), objective=float(res.fun), converged=converged,
        citizen_effects=u, municipality_effects=v,
    )
