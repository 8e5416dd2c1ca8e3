"""The panel-data likelihood of a continuous-time Markov model and its analytic gradient.

For intervals between consecutive observations of a subject (state r at the start, s at the end,
length t, covariates z at the start) the likelihood is the product of

* ``P(t; z)[r, s]`` with ``P(t; z) = expm(t Q(z))`` (Kalbfleisch & Lawless 1985), or
* ``sum_{k != D} P(t; z)[r, k] Q(z)[k, D]`` when s = D is a state whose entry time is exact
  (msm's ``deathexact``: the subject is in some state k just before t and jumps to D at t).

Intensities are log-linear in the covariates, ``q_rs(z) = q_rs0 exp(beta_rs' (z - zbar))``, and the
parameters are ``log q_rs0`` followed by ``beta`` (one per transition and covariate term, covariate by
covariate as in msm).  Intervals are collapsed into distinct (covariate pattern, r, s, t) cells; each
pattern's intensity matrix is decomposed once per evaluation and each cell costs O(K) (see
``_spectral``).

References
----------
Kalbfleisch, J. D. & Lawless, J. F. (1985). The analysis of panel data under a Markov assumption.
Journal of the American Statistical Association, 80(392), 863-871.

Jackson, C. H. (2011). Multi-state models for panel data: the msm package for R. Journal of
Statistical Software, 38(8), 1-29.
"""

from __future__ import annotations

import numpy as np

from ._data import Panel, QSpec
from ._spectral import Cells, Decomposition, pade_terms, spectral_terms

_MAX_RATE = 1e8


class PanelLikelihood:
    """-2 log-likelihood of panel data as a function of the log-scale parameters.

    Parameters
    ----------
    spec : QSpec
        Allowed transitions and exact-death states.
    panel : Panel
        Intervals with their covariate design.
    means : ndarray of shape (n_terms,)
        Values the covariates are centred at (their means over interval starts, or zeros).

    Attributes
    ----------
    x : ndarray (n_patterns, n_terms)
        Distinct centred covariate patterns.
    n_groups : int
        Distinct (pattern, interval length) pairs.
    n_cells : int
        Distinct (pattern, from, to, length) cells.
    """

    def __init__(self, spec: QSpec, panel: Panel, means: np.ndarray):
        self.spec = spec
        self.n_terms = panel.x.shape[1]
        self.n_params = spec.n_transitions * (1 + self.n_terms)
        self.x, pattern = _distinct_rows(panel.x - means)
        exact = np.isin(panel.to_idx, spec.death_idx)
        self._cells = [
            _cells(pattern[keep], panel.from_idx[keep], panel.to_idx[keep], panel.dt[keep], death)
            for keep, death in ((~exact, False), (exact, True))
        ]
        self._cells = [c for c in self._cells if len(c)]
        self.n_groups = len(_unique_rows(np.column_stack([pattern, panel.dt]))[0])
        self.n_cells = sum(len(c) for c in self._cells)

    def rates(self, params: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Intensities of the allowed transitions at each covariate pattern (or at the rows of ``x``)."""
        a = self.spec.n_transitions
        x = self.x if x is None else x
        beta = params[a:].reshape(self.n_terms, a)
        with np.errstate(over="ignore"):
            return np.exp(params[:a] + x @ beta)

    def minus2loglik(self, params: np.ndarray) -> float:
        """-2 log-likelihood at ``params``."""
        return -2.0 * self._evaluate(self.rates(params), gradient=False)[0]

    def minus2loglik_and_gradient(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """-2 log-likelihood and its gradient with respect to ``params``."""
        loglik, scores = self._scores(params)
        grad = np.concatenate([scores.sum(axis=0), (self.x.T @ scores).ravel()])
        return -2.0 * loglik, -2.0 * grad

    def hessian(self, params: np.ndarray, step: float = 1e-4) -> np.ndarray:
        """Hessian of the -2 log-likelihood, from 2 x n_transitions evaluations of the scores.

        Notes
        -----
        ``log L = sum_c l_c(eta_c)`` over covariate patterns c, with ``eta_c = theta + B' x_c`` the log
        intensities of pattern c.  Shifting ``theta_a`` shifts ``eta_{c,a}`` of every pattern at once,
        so central differences of the per-pattern scores in the n_transitions directions of theta give
        every pattern's Hessian ``H_c`` of ``l_c``; the Hessian in all parameters is
        ``sum_c (z_c z_c') kron H_c`` with ``z_c = (1, x_c)``, exactly as if each parameter had
        been perturbed.
        """
        a = self.spec.n_transitions
        z = np.column_stack([np.ones(len(self.x)), self.x])
        full = np.empty((z.shape[1], a, z.shape[1], a))
        for j in range(a):
            e = np.zeros_like(params)
            e[j] = step
            column = (self._scores(params + e)[1] - self._scores(params - e)[1]) / (2.0 * step)  # H_c[:, j]
            full[:, :, :, j] = np.einsum("ct,cu,ca->tau", z, z, column)
        full = full.reshape(self.n_params, self.n_params)
        return -(full + full.T)

    def _scores(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """log-likelihood and its derivatives with respect to each pattern's log intensities.

        The derivative with respect to the intensity matrix, ``dlogL/dQ``, goes through
        ``q_rs = exp(eta_rs)`` and ``q_rr = -sum_s q_rs``; shape (n_patterns, n_transitions).
        """
        rates = self.rates(params)
        loglik, dq = self._evaluate(rates, gradient=True)
        fr, to = self.spec.from_idx, self.spec.to_idx
        return loglik, rates * (dq[:, fr, to] - dq[:, fr, fr])

    def _evaluate(self, rates: np.ndarray, gradient: bool) -> tuple[float, np.ndarray | None]:
        """log-likelihood and ``dlogL/dQ`` (n_patterns, K, K), spectral where well conditioned.

        Intensities beyond ``_MAX_RATE`` (an optimiser's wild trial step) give a log-likelihood of
        ``-inf``, so that line searches step back instead of overflowing.
        """
        q = self.spec.build(rates)
        if not (rates < _MAX_RATE).all():
            return -np.inf, np.zeros(q.shape)
        dec = Decomposition(q)
        loglik, dq = 0.0, np.zeros(q.shape)
        for cells in self._cells:
            spectral = dec.spectral[cells.pattern]
            terms = [spectral_terms(dec, cells if spectral.all() else cells.subset(spectral), gradient)]
            if not spectral.all():
                terms.append(pade_terms(q, cells.subset(~spectral), gradient))
            for value, grad in terms:
                loglik += value
                if gradient:
                    dq += grad
        return loglik, dq


def _cells(pattern, row, col, dt, death: bool) -> Cells:
    """Distinct (pattern, row, col, dt) combinations, sorted, with their counts."""
    keys, inverse = _unique_rows(np.column_stack([pattern, row, col, dt]))
    counts = np.bincount(inverse, minlength=len(keys)).astype(float)
    return Cells(keys[:, 0].astype(int), keys[:, 1].astype(int), keys[:, 2].astype(int), keys[:, 3], counts, death)


def _distinct_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``x`` and, for each row, the index of its distinct row."""
    if x.shape[1] == 0:
        return np.zeros((1, 0)), np.zeros(len(x), dtype=int)
    return _unique_rows(x)


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a 2-D array in lexicographic order, and the index of each row's distinct row.

    (``np.unique(axis=0)`` does the same through a structured view, many times slower.)
    """
    order = np.lexsort(a.T[::-1])
    ordered = a[order]
    new = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)][: len(a)]
    inverse = np.empty(len(a), dtype=int)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse
