"""Seeded simulation of panel data from a continuous-time Markov model with known parameters."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from progression.exceptions import ParameterError

from ._extract import as_generator


def simulate_panel(
    qmatrix,
    n_subjects: int,
    obs_times,
    *,
    covariates: pd.DataFrame | None = None,
    beta: dict[str, object] | None = None,
    death_states: Sequence[Hashable] = (),
    start=None,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate panel observations of a continuous-time Markov chain with known intensities.

    Each subject's path is simulated exactly (exponential sojourns, jumps in proportion to the
    intensities) and recorded at the observation times; entries into ``death_states`` are recorded
    at their exact times and end the record; a subject is observed once in any other absorbing state
    and then no more (as in msm's ``simmulti.msm``).

    Parameters
    ----------
    qmatrix : pandas.DataFrame or array_like of shape (K, K)
        Intensities for covariates equal to zero (off-diagonal entries; the diagonal is ignored).
    n_subjects : int
        Number of subjects, numbered ``1..n_subjects``.
    obs_times : array_like of shape (m,) or (n_subjects, m)
        Increasing observation times, shared or one row per subject.
    covariates : pandas.DataFrame, optional
        ``n_subjects`` rows of numeric, time-fixed covariates; copied into the output.
    beta : dict {column: K x K array_like}, optional
        Log hazard ratios: ``q_rs(z) = q_rs * exp(sum_c beta[c][r, s] * z_c)``.
    death_states : sequence of state labels, default=()
        Absorbing states whose entry times are recorded exactly.
    start : state label or array_like of labels, optional
        Initial state of every subject (or of each); default the first state.
    seed : int or numpy.random.Generator, optional
        Random seed; the same seed and inputs give the same panel.

    Returns
    -------
    pandas.DataFrame
        Columns ``subject``, ``time``, ``state`` and the covariates, sorted by subject and time.
    """
    rng = np.random.default_rng(seed)
    states, q = as_generator(qmatrix)
    n = _positive_int(n_subjects, "n_subjects")
    times = _obs_times(obs_times, n)
    z, names = _covariates(covariates, n)
    rates = _subject_rates(q, z, names, beta, states)
    current = _start(start, states, n)
    death = np.array([states.get_loc(d) for d in _labels(death_states, states, "death_states")], dtype=int)

    marks, death_time, death_state = _paths(rates, times, current, death, rng)
    filled = _forward_fill(marks)
    frame = _records(filled, times, death_time, death_state, states, rates)
    if names:
        frame = frame.join(covariates.reset_index(drop=True).set_axis(np.arange(1, n + 1)), on="subject")
    return frame.reset_index(drop=True)


def _paths(rates, times, current, death, rng):
    """Simulate all paths at once; mark the state at the first observation of each sojourn."""
    n, m = times.shape
    exit_rate = rates.sum(axis=2)
    marks = np.full((n, m), -1)
    death_time = np.full(n, np.nan)
    death_state = np.full(n, -1)
    clock = times[:, 0].copy()
    active = np.arange(n)
    while len(active):
        s = current[active]
        rate = exit_rate[active, s]
        with np.errstate(divide="ignore"):
            leave = clock[active] + rng.exponential(1.0, len(active)) / rate
        own = times[active]
        lo = (own < clock[active, None]).sum(axis=1)
        hi = (own < leave[:, None]).sum(axis=1)
        seen = lo < hi
        marks[active[seen], lo[seen]] = s[seen]
        moves = leave < own[:, -1]
        active, s, leave = active[moves], s[moves], leave[moves]
        cum = np.cumsum(rates[active, s], axis=1)
        nxt = (cum > rng.random(len(active))[:, None] * cum[:, -1:]).argmax(axis=1)
        current[active], clock[active] = nxt, leave
        dead = np.isin(nxt, death)
        death_time[active[dead]], death_state[active[dead]] = leave[dead], nxt[dead]
        active = active[~dead]
    return marks, death_time, death_state


def _forward_fill(marks: np.ndarray) -> np.ndarray:
    idx = np.where(marks >= 0, np.arange(marks.shape[1]), 0)
    np.maximum.accumulate(idx, axis=1, out=idx)
    return np.take_along_axis(marks, idx, axis=1)


def _records(filled, times, death_time, death_state, states, rates) -> pd.DataFrame:
    n, m = times.shape
    subject = np.repeat(np.arange(1, n + 1), m)
    keep = (times < death_time[:, None]) | np.isnan(death_time)[:, None]
    absorbing = rates.sum(axis=2)[np.arange(n)[:, None], filled] == 0
    first_absorbed = np.cumsum(absorbing, axis=1)
    keep &= (first_absorbed == 0) | (absorbing & (first_absorbed == 1))
    frame = pd.DataFrame({"subject": subject, "time": times.ravel(), "code": filled.ravel()})[keep.ravel()]
    died = np.flatnonzero(death_state >= 0)
    deaths = pd.DataFrame({"subject": died + 1, "time": death_time[died], "code": death_state[died]})
    frame = pd.concat([frame, deaths]).sort_values(["subject", "time"], kind="stable")
    frame["state"] = states[frame.pop("code").to_numpy()]
    return frame.set_index(np.arange(len(frame)))


def _subject_rates(q, z, names, beta, states) -> np.ndarray:
    """Off-diagonal intensities of each subject, shape (n, K, K)."""
    base = q.copy()
    np.fill_diagonal(base, 0.0)
    beta = {} if beta is None else dict(beta)
    unknown = [b for b in beta if b not in names]
    if unknown:
        raise ParameterError(f"beta: {unknown} are not columns of covariates; columns are {names}")
    log_hr = np.zeros((z.shape[0],) + q.shape)
    for j, name in enumerate(names):
        if name in beta:
            b = np.asarray(beta[name], dtype=float)
            if b.shape != q.shape:
                raise ParameterError(f"beta['{name}'] must have shape {q.shape}; found {b.shape}")
            log_hr += z[:, j, None, None] * b
    return base * np.exp(log_hr)


def _obs_times(obs_times, n: int) -> np.ndarray:
    times = np.asarray(obs_times, dtype=float)
    if times.ndim == 1:
        times = np.broadcast_to(times, (n, len(times))).copy()
    if times.ndim != 2 or times.shape[0] != n or times.shape[1] < 2:
        raise ParameterError(
            f"obs_times must have shape (m,) or ({n}, m) with m >= 2; found {np.asarray(obs_times).shape}"
        )
    if not (np.diff(times, axis=1) > 0).all():
        raise ParameterError("obs_times must be strictly increasing (within each subject)")
    return times


def _covariates(covariates, n: int):
    if covariates is None:
        return np.zeros((n, 0)), []
    if not isinstance(covariates, pd.DataFrame) or len(covariates) != n:
        raise ParameterError(f"covariates must be a DataFrame with n_subjects={n} rows")
    return covariates.to_numpy(dtype=float), [str(c) for c in covariates.columns]


def _start(start, states, n: int) -> np.ndarray:
    if start is None:
        return np.zeros(n, dtype=int)
    labels = [start] * n if np.ndim(start) == 0 else list(start)
    if len(labels) != n:
        raise ParameterError(f"start must be one state or {n} states; found {len(labels)}")
    codes = states.get_indexer(labels)
    if (codes < 0).any():
        raise ParameterError(f"start: states not in qmatrix, e.g. {labels[int(np.argmax(codes < 0))]!r}")
    return codes


def _labels(values, states, name: str) -> list:
    values = [values] if isinstance(values, str) or np.ndim(values) == 0 else list(values)
    unknown = [v for v in values if v not in states]
    if unknown:
        raise ParameterError(f"{name}: {unknown} are not states; states are {list(states)}")
    return values


def _positive_int(value, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(f"{name} must be a positive integer; found {value!r}")
    return int(value)
