"""Matrix exponentials of many small matrices at once.

``scipy.linalg.expm`` loops over a stack of matrices in Python, which costs tens of microseconds per
matrix; a panel likelihood needs one exponential per distinct (time lag, covariate pattern), often
hundreds of thousands.  This module applies the scaling-and-squaring Padé algorithm of Higham (2005) to
the whole stack with batched numpy operations, choosing the Padé degree and the number of squarings
for each matrix from its 1-norm.

References
----------
Higham, N. J. (2005). The scaling and squaring method for the matrix exponential revisited.
SIAM Journal on Matrix Analysis and Applications, 26(4), 1179-1193.
"""

from __future__ import annotations

import numpy as np

# Largest 1-norm for which the degree-m Padé approximant is accurate to double precision (Higham 2005,
# Table 2.3), and the approximant's coefficients.
_THETA = {
    3: 1.495585217958292e-2,
    5: 2.539398330063230e-1,
    7: 9.504178996162932e-1,
    9: 2.097847961257068e0,
    13: 5.371920351148152e0,
}
_PADE = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (
        17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0,
        2162160.0, 110880.0, 3960.0, 90.0, 1.0,
    ),
    13: (
        64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
        129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
        40840800.0, 960960.0, 16380.0, 182.0, 1.0,
    ),
}
_CHUNK = 40_000


def expm_stack(a: np.ndarray) -> np.ndarray:
    """Exponential of each matrix in a stack.

    Parameters
    ----------
    a : ndarray of shape (G, n, n)
        Real matrices.

    Returns
    -------
    ndarray of shape (G, n, n)
        ``expm(a[g])`` for every ``g``.

    Notes
    -----
    Scaling and squaring with a Padé approximant of degree 3, 5, 7, 9 or 13 chosen per matrix
    (Higham 2005): ``exp(A) = r_m(A / 2**s) ** (2**s)``.
    """
    a = np.asarray(a, dtype=float)
    out = np.empty_like(a)
    for start in range(0, a.shape[0], _CHUNK):
        stop = start + _CHUNK
        out[start:stop] = _expm_chunk(a[start:stop])
    return out


def _expm_chunk(a: np.ndarray) -> np.ndarray:
    norm = np.abs(a).sum(axis=-2).max(axis=-1)
    degree = np.full(norm.shape, 13)
    for m in (9, 7, 5, 3):
        degree[norm <= _THETA[m]] = m
    squarings = np.zeros(norm.shape, dtype=int)
    big = degree == 13
    squarings[big] = np.maximum(0, np.ceil(np.log2(norm[big] / _THETA[13]))).astype(int)

    out = np.empty_like(a)
    for m in np.unique(degree):
        idx = np.flatnonzero(degree == m)
        s = squarings[idx]
        scaled = a[idx] / (2.0 ** s)[:, None, None]
        r = _pade(scaled, int(m))
        for k in range(int(s.max(initial=0))):
            more = s > k
            r[more] = r[more] @ r[more]
        out[idx] = r
    return out


def _pade(a: np.ndarray, m: int) -> np.ndarray:
    """Degree-m diagonal Padé approximant r_m(A) = (V - U)^{-1} (V + U) of exp(A)."""
    b = _PADE[m]
    eye = np.broadcast_to(np.eye(a.shape[-1]), a.shape)
    a2 = a @ a
    if m == 13:
        a4 = a2 @ a2
        a6 = a4 @ a2
        u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
        v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    else:
        power = eye
        odd = b[1] * eye
        v = b[0] * eye
        for k in range(2, m + 1, 2):
            power = power @ a2 if k > 2 else a2
            odd = odd + b[k + 1] * power
            v = v + b[k] * power
        u = a @ odd
    return np.linalg.solve(v - u, v + u)


def expm_frechet_adjoint(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Adjoint of the Fréchet derivative of the exponential, for a stack of matrices.

    Parameters
    ----------
    a, w : ndarray of shape (G, n, n)

    Returns
    -------
    ndarray of shape (G, n, n)
        ``L(a[g].T, w[g])`` where ``L(A, E) = d/dh expm(A + hE)`` at ``h = 0``.

    Notes
    -----
    For any direction ``E``, ``sum(w * L(A, E)) = sum(L(A.T, w) * E)``, so the gradient of a
    function of ``expm(A)`` with respect to ``A`` needs one derivative per matrix rather than one per
    parameter.  ``L(A, E)`` is the upper-right block of ``expm([[A, E], [0, A]])`` (Higham 2008,
    Functions of Matrices, eq. 3.16); ``w`` is rescaled to the norm of ``A`` first, since the block
    norm decides the number of squarings.
    """
    g, n, _ = a.shape
    at = np.swapaxes(a, -1, -2)
    a_norm = np.abs(a).sum(axis=-1).max(axis=-1)
    w_norm = np.abs(w).sum(axis=-2).max(axis=-1)
    scale = np.where(w_norm > 0, np.maximum(a_norm, 1e-8) / np.where(w_norm > 0, w_norm, 1.0), 1.0)
    out = np.empty_like(w)
    for start in range(0, g, _CHUNK // 4):
        sl = slice(start, start + _CHUNK // 4)
        block = np.zeros((at[sl].shape[0], 2 * n, 2 * n))
        block[:, :n, :n] = at[sl]
        block[:, n:, n:] = at[sl]
        block[:, :n, n:] = w[sl] * scale[sl, None, None]
        out[sl] = _expm_chunk(block)[:, :n, n:] / scale[sl, None, None]
    return out
