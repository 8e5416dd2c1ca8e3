"""Passage quantities of a Markov chain: expected first-passage times, expected numbers of visits and
passage probabilities (msm ``efpt.msm``, ``envisits.msm``, ``ppass.msm``), as functions of a bare
intensity matrix and as methods of a fitted model with delta-method limits.

* Expected first-passage time into a set of states ``A``: ``m = (-Q_BB)^{-1} 1`` over the other states
  ``B``, when A is reached for sure; infinite from a state that may be absorbed elsewhere first
  (Harrison & Knottenbelt 2001; msm ``efpt.msm``).
* Expected number of visits (entries) to each state within ``[0, tot]``: ``v_k = sum_j T_j q_jk``,
  with ``T`` the expected time spent in each state (``totlos``); an absorbing state is entered at most
  once (msm ``envisits.msm``).
* Passage probability: the probability of having visited s by time ``tot``, the (r, s) entry of
  ``expm(tot Q_s)`` where ``Q_s`` is Q with s made absorbing (msm ``ppass.msm``).

References
----------
Harrison, P. G. & Knottenbelt, W. J. (2001). Passage-time distributions in large Markov chains.
Performance Evaluation Review, 30(1), 77-85.

Jackson, C. H. (2011). Multi-state models for panel data: the msm package for R. Journal of
Statistical Software, 38(8), 1-29.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd
import scipy.linalg

from progression.exceptions import ParameterError

from ._extract import _nonnegative, as_generator, start_vector, totlos_array
from ._piecewise import piecewise_pmatrix


# ----------------------------------------------------------------------- arrays
def _absorbing(q: np.ndarray) -> np.ndarray:
    off = q.copy()
    np.fill_diagonal(off, 0.0)
    return ~(off > 0).any(axis=1)


def efpt_array(q: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Expected first-passage time from each state into the states ``target`` (boolean mask)."""
    k = len(q)
    out = np.full(k, np.nan)
    out[target] = 0.0
    absorbing = _absorbing(q)
    out[absorbing & ~target] = np.inf
    reduced = q.copy()
    reduced[target] = 0.0
    p = scipy.linalg.expm(reduced)
    p[p < 1e-16] = 0.0
    others = absorbing & ~target
    start = ~target & ~others
    lost = p[np.ix_(start, others)].sum(axis=1) > 0 if others.any() else np.zeros(start.sum(), dtype=bool)
    idx = np.flatnonzero(start)
    out[idx[lost]] = np.inf
    rest = np.isnan(out)
    if rest.any():
        out[rest] = np.linalg.solve(-q[np.ix_(rest, rest)], np.ones(rest.sum()))
    return out


def envisits_array(q: np.ndarray, start: np.ndarray, tot: float) -> np.ndarray:
    """Expected number of entries into each state within ``[0, tot]`` from the distribution ``start``."""
    absorbing = _absorbing(q)
    off = q.copy()
    np.fill_diagonal(off, 0.0)
    if np.isfinite(tot):
        return totlos_array(q, start, tot) @ off
    if not absorbing.any():
        raise ParameterError("envisits: an infinite horizon needs an absorbing state; give a finite tot")
    time = totlos_array(q, start, tot)
    out = np.ones(len(q))
    rem = ~absorbing
    out[rem] = time[rem] @ off[np.ix_(rem, rem)]
    return out


def ppass_array(q: np.ndarray, tot: float, *, qmatrices=None, cuts=(), t1: float = 0.0) -> np.ndarray:
    """Passage probabilities (from-state x to-state) within ``tot``; piecewise with ``qmatrices``/``cuts``."""
    k = len(q)
    out = np.empty((k, k))
    for s in range(k):
        if qmatrices is None:
            reduced = q.copy()
            reduced[s] = 0.0
            out[:, s] = scipy.linalg.expm(tot * reduced)[:, s]
        else:
            pieces = []
            for qp in qmatrices:
                reduced = np.array(qp, dtype=float).copy()
                reduced[s] = 0.0
                pieces.append(reduced)
            out[:, s] = piecewise_pmatrix(pieces, cuts, t1, t1 + tot)[:, s]
    return out


def _target_mask(states: pd.Index, tostate) -> np.ndarray:
    targets = [tostate] if isinstance(tostate, (str, int, np.integer)) or np.ndim(tostate) == 0 else list(tostate)
    unknown = [t for t in targets if t not in states]
    if unknown:
        raise ParameterError(f"tostate: {unknown} are not states; states are {list(states)}")
    mask = np.zeros(len(states), dtype=bool)
    mask[[states.get_loc(t) for t in targets]] = True
    return mask


# ----------------------------------------------------------------------- functions of a bare Q
def efpt(qmatrix, tostate) -> pd.DataFrame:
    """Expected first-passage time into ``tostate`` from each state (msm ``efpt.msm``).

    Parameters
    ----------
    qmatrix : pandas.DataFrame or array_like of shape (K, K)
        Intensity matrix.
    tostate : state label or list of labels
        Target state(s).

    Returns
    -------
    pandas.DataFrame
        Index: states; column ``estimate`` (0 in the target, ``inf`` from states that may be absorbed
        elsewhere first).

    Examples
    --------
    >>> import numpy as np
    >>> q = np.array([[-0.2, 0.2, 0.0], [0.1, -0.3, 0.2], [0.0, 0.0, 0.0]])
    >>> efpt(q, 3)["estimate"].round(2).tolist()
    [12.5, 7.5, 0.0]
    """
    states, q = as_generator(qmatrix)
    return pd.DataFrame({"estimate": efpt_array(q, _target_mask(states, tostate))}, index=states)


def envisits(qmatrix, start: Hashable | dict | None = None, tot: float = np.inf) -> pd.DataFrame:
    """Expected number of visits (entries) to each state within ``tot`` (msm ``envisits.msm``).

    Parameters
    ----------
    qmatrix : pandas.DataFrame or array_like of shape (K, K)
    start : state label or dict {state: probability}, optional
        Starting state or distribution; default the first state (the start is not a visit).
    tot : float, default=inf
        Horizon.

    Returns
    -------
    pandas.DataFrame
        Index: states; column ``estimate``.

    Examples
    --------
    >>> import numpy as np
    >>> q = np.array([[-0.2, 0.2, 0.0], [0.1, -0.3, 0.2], [0.0, 0.0, 0.0]])
    >>> envisits(q, start=1)["estimate"].round(2).tolist()
    [0.5, 1.5, 1.0]
    """
    states, q = as_generator(qmatrix)
    tot = _nonnegative(tot, "tot")
    return pd.DataFrame({"estimate": envisits_array(q, start_vector(states, start), tot)}, index=states)


def ppass(qmatrix, tot: float) -> pd.DataFrame:
    """Probability of having visited each state within ``tot`` from each state (msm ``ppass.msm``).

    Parameters
    ----------
    qmatrix : pandas.DataFrame or array_like of shape (K, K)
    tot : float
        Horizon.

    Returns
    -------
    pandas.DataFrame
        Rows: starting state; columns: the state passed through.

    Examples
    --------
    >>> import numpy as np
    >>> q = np.array([[-0.2, 0.2, 0.0], [0.1, -0.3, 0.2], [0.0, 0.0, 0.0]])
    >>> round(float(ppass(q, 1000).loc[1, 3]), 3)
    1.0
    """
    states, q = as_generator(qmatrix)
    tot = _nonnegative(tot, "tot")
    return pd.DataFrame(ppass_array(q, tot), index=states.copy(), columns=states.copy())


# ----------------------------------------------------------------------- methods of a fitted model
class PassageMethods:
    """Passage methods of a fitted model, with delta-method limits."""

    def efpt(self, tostate, covariates="mean", ci: str = "delta", cl: float | None = None) -> pd.DataFrame:
        """Expected first-passage time into ``tostate`` from each state (msm ``efpt.msm``).

        Parameters
        ----------
        tostate : state label or list of labels
        covariates : "mean" or dict, default="mean"
        ci : {"delta", "none"}, default="delta"
            Limits on the log scale (msm simulates or bootstraps them instead).
        cl : float, optional

        Returns
        -------
        pandas.DataFrame
            Index: state; ``estimate`` and, with ``ci="delta"``, ``std_error``, ``conf_low``, ``conf_high``.
        """
        x = self._design_row(covariates)
        mask = _target_mask(self._spec.states, tostate)
        index = pd.Index(self.states_, name="state")

        def values(params):
            return efpt_array(self._q_at(params, x), mask)

        return self._tidy_vector(values, "log", index, ci, cl)

    def envisits(self, start: Hashable | dict | None = None, tot: float = np.inf, covariates="mean",
                 ci: str = "delta", cl: float | None = None) -> pd.DataFrame:
        """Expected number of visits to each state within ``tot`` (msm ``envisits.msm``).

        Parameters
        ----------
        start : state label or dict, optional
            Default the first state.
        tot : float, default=inf
        covariates : "mean" or dict, default="mean"
        ci : {"delta", "none"}, default="delta"
            Limits on the log scale.
        cl : float, optional

        Returns
        -------
        pandas.DataFrame
            Index: state; ``estimate`` (and the CI columns).
        """
        x = self._design_row(covariates)
        tot = _nonnegative(tot, "tot")
        start_vec = start_vector(self._spec.states, start)
        index = pd.Index(self.states_, name="state")

        def values(params):
            return envisits_array(self._q_at(params, x), start_vec, tot)

        return self._tidy_vector(values, "log", index, ci, cl)

    def ppass(self, tot: float, covariates="mean", ci: str = "delta", cl: float | None = None) -> pd.DataFrame:
        """Probability of passing through each state within ``tot`` (msm ``ppass.msm``).

        For a model with cut points (``pci``) the periods' intensities apply from time 0, as msm.

        Parameters
        ----------
        tot : float
        covariates : "mean" or dict, default="mean"
        ci : {"delta", "none"}, default="delta"
            ``"none"``: the K x K matrix; ``"delta"``: a tidy frame with limits on the logit scale.
        cl : float, optional

        Returns
        -------
        pandas.DataFrame
        """
        tot = _nonnegative(tot, "tot")
        cuts = getattr(self, "pci_", None) or []
        base = {} if isinstance(covariates, str) and covariates == "mean" else dict(covariates)
        if cuts:
            levels = next(c.levels for c in self._panel.covariates if c.column == "timeperiod")
            designs = [self._design_row({**base, "timeperiod": level}) for level in levels]
        else:
            designs = [self._design_row(covariates)]

        def matrix(params):
            qs = [self._q_at(params, x) for x in designs]
            if cuts:
                return ppass_array(qs[0], tot, qmatrices=qs, cuts=cuts)
            return ppass_array(qs[0], tot)

        if ci == "none":
            return self._spec.frame(matrix(self.params_.to_numpy()))
        k = len(self.states_)
        rows, cols = np.divmod(np.arange(k * k), k)
        return self._tidy_pairs(rows, cols, *self._delta(lambda p: matrix(p).ravel(), "logit", cl))
