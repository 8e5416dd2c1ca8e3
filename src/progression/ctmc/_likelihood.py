"""The panel-data likelihood of a continuous-time Markov model and its analytic gradient.

For intervals between consecutive observations of a subject (state r at the start, s at the end,
length t, covariates z at the start) the likelihood is the product of

* ``P(t; z)[r, s]`` with ``P(t; z) = expm(t Q(z))`` (Kalbfleisch & Lawless 1985), or
* ``sum_{k != D} P(t; z)[r, k] Q(z)[k, D]`` when s = D is a state whose entry time is exact
  (msm's ``deathexact``: the subject is in some state k just before t and jumps to D at t).

Intensities are log-linear in the covariates, ``q_rs(z) = q_rs0 exp(beta_rs' (z - zbar))``, and the
parameters are ``log q_rs0`` followed by ``beta`` (one per transition and covariate term).  Intervals
are grouped by covariate pattern z and, within a pattern, by length t: each pattern's intensity matrix
is decomposed once and each distinct (z, t) costs a few small products (see ``_kernel``).  The gradient
uses the adjoint of the Fréchet derivative of the exponential, one pass for all parameters.

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
from ._kernel import TransitionKernel

_TINY = 1e-300


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
    """

    def __init__(self, spec: QSpec, panel: Panel, means: np.ndarray):
        self.spec = spec
        self.n_terms = panel.x.shape[1]
        self.n_params = spec.n_transitions * (1 + self.n_terms)
        self.x, pattern = _distinct_rows(panel.x - means)
        groups, group = np.unique(np.column_stack([pattern, panel.dt]), axis=0, return_inverse=True)
        group = group.ravel()
        self.pattern, self.dt = groups[:, 0].astype(int), groups[:, 1]
        self.n_groups = len(groups)
        exact = np.isin(panel.to_idx, spec.death_idx)
        self._panel_cells = self._cells(group[~exact], panel.from_idx[~exact], panel.to_idx[~exact])
        self._death_cells = self._cells(group[exact], panel.from_idx[exact], panel.to_idx[exact])

    def _cells(self, group, r, s):
        """Distinct (group, from, to) cells with their interval counts."""
        k = self.spec.n_states
        cells, counts = np.unique((group * k + r) * k + s, return_counts=True)
        return cells // (k * k), (cells // k) % k, cells % k, counts.astype(float)

    def rates(self, params: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Intensities of the allowed transitions at each covariate pattern (or at the rows of ``x``)."""
        a = self.spec.n_transitions
        x = self.x if x is None else x
        beta = params[a:].reshape(self.n_terms, a)
        return np.exp(params[:a] + x @ beta)

    def minus2loglik(self, params: np.ndarray) -> float:
        """-2 log-likelihood at ``params``."""
        q = self.spec.build(self.rates(params))
        return -2.0 * self._loglik(q, TransitionKernel(q, self.pattern, self.dt).p)

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
        per_pattern = np.empty((len(self.x), a, a))
        for j in range(a):
            e = np.zeros_like(params)
            e[j] = step
            per_pattern[:, :, j] = (self._scores(params + e)[1] - self._scores(params - e)[1]) / (2.0 * step)
        z = np.column_stack([np.ones(len(self.x)), self.x])
        full = np.einsum("ct,cu,cab->taub", z, z, per_pattern).reshape(self.n_params, self.n_params)
        return -(full + full.T)

    def _scores(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """log-likelihood and its derivatives with respect to each pattern's log intensities.

        Notes
        -----
        With ``W = dlogL/dP`` for every group, ``dlogL/dQ = t L(t Q', W) + P' C`` where ``L`` is the
        Fréchet derivative of ``expm`` and ``C`` collects the exact-death terms; the chain rule
        through ``q_rs = exp(eta_rs)`` (and ``q_rr = -sum_s q_rs``) gives the scores, shape
        (n_patterns, n_transitions).
        """
        rates = self.rates(params)
        q = self.spec.build(rates)
        kernel = TransitionKernel(q, self.pattern, self.dt)
        p = kernel.p
        loglik = self._loglik(q, p)

        g, r, s, n = self._panel_cells
        w = np.zeros_like(p)
        w[g, r, s] = n / np.maximum(p[g, r, s], _TINY)
        direct = np.zeros_like(q)
        g, r, d, n = self._death_cells
        if len(g):
            qd = q[self.pattern[g], :, d]
            c = n / np.maximum(np.einsum("ik,ik->i", p[g, r, :], qd), _TINY)
            np.add.at(w, (g, r), c[:, None] * qd)
            np.add.at(direct, (self.pattern[g], slice(None), d), c[:, None] * p[g, r, :])
        dq = kernel.adjoint(w) + direct

        fr, to = self.spec.from_idx, self.spec.to_idx
        return loglik, rates * (dq[:, fr, to] - dq[:, fr, fr])

    def _loglik(self, q: np.ndarray, p: np.ndarray) -> float:
        g, r, s, n = self._panel_cells
        total = n @ np.log(np.maximum(p[g, r, s], _TINY))
        g, r, d, n = self._death_cells
        if len(g):
            qd = q[self.pattern[g], :, d]
            total += n @ np.log(np.maximum(np.einsum("ik,ik->i", p[g, r, :], qd), _TINY))
        return float(total)


def _distinct_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``x`` and, for each row, the index of its distinct row."""
    if x.shape[1] == 0:
        return np.zeros((1, 0)), np.zeros(len(x), dtype=int)
    uniq, inverse = np.unique(x, axis=0, return_inverse=True)
    return uniq, inverse.ravel()
