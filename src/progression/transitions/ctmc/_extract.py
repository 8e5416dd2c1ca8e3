"""Quantities derived from an intensity matrix Q: functions of a bare Q, for scenarios.

Each function takes a labelled DataFrame (states on both axes) or an array (states ``1..K`` as in
msm); only the off-diagonal entries are read and the diagonal is set to minus the row sums.  A fitted
``MultiStateModel`` has methods of the same names that add confidence limits.

References
----------
Jackson, C. H. (2011). Multi-state models for panel data: the msm package for R. Journal of
Statistical Software, 38(8), 1-29 (section 2 and the msm functions ``pmatrix.msm``,
``sojourn.msm``, ``pnext.msm``, ``totlos.msm``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd
import scipy.linalg

from progression.exceptions import ParameterError


def as_generator(qmatrix) -> tuple[pd.Index, np.ndarray]:
    """State labels and a generator matrix (diagonal = minus the off-diagonal row sums)."""
    if isinstance(qmatrix, pd.DataFrame):
        if not qmatrix.index.equals(qmatrix.columns):
            raise ParameterError("qmatrix: a DataFrame's index and columns must be the same state labels")
        states, q = pd.Index(qmatrix.index), qmatrix.to_numpy(dtype=float).copy()
    else:
        q = np.array(qmatrix, dtype=float)
        if q.ndim != 2 or q.shape[0] != q.shape[1]:
            raise ParameterError(f"qmatrix must be a square matrix; found shape {q.shape}")
        states = pd.Index(range(1, q.shape[0] + 1))
    off = ~np.eye(len(states), dtype=bool)
    if (q[off] < 0).any() or not np.isfinite(q).all():
        raise ParameterError("qmatrix: off-diagonal entries must be finite and non-negative")
    np.fill_diagonal(q, 0.0)
    np.fill_diagonal(q, -q.sum(axis=1))
    return states, q


def pmatrix(qmatrix, t: float = 1.0) -> pd.DataFrame:
    """Transition probability matrix ``P(t) = expm(t Q)``.

    Parameters
    ----------
    qmatrix : pandas.DataFrame or array_like of shape (K, K)
        Intensity matrix.
    t : float, default=1.0
        Time interval, in the time unit of Q.

    Returns
    -------
    pandas.DataFrame
        ``P[r, s]``: probability of being in s at time t given r at time 0.
    """
    states, q = as_generator(qmatrix)
    return _frame(pmatrix_array(q, _nonnegative(t, "t")), states)


def sojourn(qmatrix) -> pd.DataFrame:
    """Mean sojourn time in each transient state, ``-1 / q_rr``.

    Returns
    -------
    pandas.DataFrame
        Index: transient states; column ``estimate``.
    """
    states, q = as_generator(qmatrix)
    transient = np.diag(q) < 0
    return pd.DataFrame({"estimate": sojourn_array(q)}, index=states[transient])


def pnext(qmatrix) -> pd.DataFrame:
    """Probability that each state is the next one entered, ``-q_rs / q_rr``.

    Returns
    -------
    pandas.DataFrame
        Rows: current state; columns: next state. Rows of absorbing states are zero.
    """
    states, q = as_generator(qmatrix)
    return _frame(pnext_array(q), states)


def totlos(qmatrix, start: Hashable | dict | None = None, tot: float = np.inf) -> pd.DataFrame:
    """Expected total time spent in each state up to time ``tot``.

    Parameters
    ----------
    qmatrix : pandas.DataFrame or array_like of shape (K, K)
    start : state label or dict of {state: probability}, optional
        Starting state or distribution at time 0; default the first state.
    tot : float, default=inf
        Horizon. With an infinite horizon absorbing states get ``inf``, and every transient state
        must be able to reach an absorbing one.

    Returns
    -------
    pandas.DataFrame
        Index: states; column ``estimate``.

    Notes
    -----
    ``start' ∫_0^tot expm(uQ) du``, from the upper-right block of ``expm([[Q, I], [0, 0]] tot)``
    (Van Loan 1978), or ``start_T' (-Q_TT)^{-1}`` over the transient states T when ``tot`` is infinite.
    """
    states, q = as_generator(qmatrix)
    return pd.DataFrame({"estimate": totlos_array(q, start_vector(states, start), tot)}, index=states)


def transition_probabilities(qmatrix, times: Iterable[float]) -> pd.DataFrame:
    """Tidy transition probabilities over a grid of times (for plotting).

    Returns
    -------
    pandas.DataFrame
        Columns ``time``, ``from_state``, ``to_state``, ``probability``.
    """
    states, q = as_generator(qmatrix)
    frames = []
    for t in times:
        long = _frame(pmatrix_array(q, _nonnegative(t, "times")), states).stack()
        frames.append(pd.DataFrame({"time": float(t), "probability": long.to_numpy()},
                                   index=long.index.set_names(["from_state", "to_state"])))
    return pd.concat(frames).reset_index()[["time", "from_state", "to_state", "probability"]]


def pmatrix_array(q: np.ndarray, t: float) -> np.ndarray:
    return scipy.linalg.expm(t * q)


def sojourn_array(q: np.ndarray) -> np.ndarray:
    d = np.diag(q)
    return -1.0 / d[d < 0]


def pnext_array(q: np.ndarray) -> np.ndarray:
    d = -np.diag(q)
    out = np.where(d[:, None] > 0, q / np.where(d > 0, d, 1.0)[:, None], 0.0)
    np.fill_diagonal(out, 0.0)
    return out


def totlos_array(q: np.ndarray, start: np.ndarray, tot: float) -> np.ndarray:
    tot = _nonnegative(tot, "tot")
    k = len(q)
    if np.isfinite(tot):
        block = np.zeros((2 * k, 2 * k))
        block[:k, :k], block[:k, k:] = q, np.eye(k)
        return start @ scipy.linalg.expm(tot * block)[:k, k:]
    transient = np.diag(q) < 0
    if transient.all():
        raise ParameterError("totlos: an infinite horizon needs an absorbing state; give a finite tot")
    out = np.full(k, np.inf)
    q_tt = q[np.ix_(transient, transient)]
    if np.linalg.matrix_rank(q_tt) < q_tt.shape[0]:
        raise ParameterError("totlos: some transient states never reach an absorbing state; give a finite tot")
    out[transient] = np.linalg.solve(-q_tt.T, start[transient])
    return out


def start_vector(states: pd.Index, start) -> np.ndarray:
    """A starting distribution over ``states`` from a label, a dict or None (the first state)."""
    vec = np.zeros(len(states))
    if start is None:
        vec[0] = 1.0
        return vec
    weights = start if isinstance(start, dict) else {start: 1.0}
    unknown = [s for s in weights if s not in states]
    if unknown:
        raise ParameterError(f"start: {unknown} are not states; states are {list(states)}")
    for label, w in weights.items():
        vec[states.get_loc(label)] = w
    if (vec < 0).any() or not np.isclose(vec.sum(), 1.0):
        raise ParameterError(f"start: probabilities must be non-negative and sum to 1; found sum {vec.sum()}")
    return vec


def _nonnegative(value: float, name: str) -> float:
    value = float(value)
    if not value >= 0:
        raise ParameterError(f"{name} must be a non-negative number; found {value}")
    return value


def _frame(values: np.ndarray, states: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(values, index=states.copy(), columns=states.copy())
