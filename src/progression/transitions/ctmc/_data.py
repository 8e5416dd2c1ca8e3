"""The model specification (which transitions are allowed) and the panel it is fitted to.

Checks follow msm's (Jackson 2011): the intensity matrix must be square with non-negative
off-diagonal entries; every state in the data must be a state of the matrix; observations of a
subject must be ordered in time; a subject needs at least two observations; an observed move must be
possible through the allowed transitions.  Each error names the column, what was expected and what was
found, with a few example subjects.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from progression._validation import as_list, check_columns, check_no_missing
from progression.constants import DAYS_PER_YEAR
from progression.exceptions import DataContractError, ParameterError


@dataclass(frozen=True)
class QSpec:
    """Allowed transitions of a model and their initial intensities.

    Attributes
    ----------
    states : pandas.Index
        State labels in matrix order.
    from_idx, to_idx : ndarray of int
        Positions of the allowed transitions, row by row like msm.
    init : ndarray of float
        Initial intensities of the allowed transitions (the off-diagonal values of the qmatrix).
    death_idx : ndarray of int
        Positions of the states whose entry times are known exactly (msm ``deathexact``).
    """

    states: pd.Index
    from_idx: np.ndarray
    to_idx: np.ndarray
    init: np.ndarray
    death_idx: np.ndarray

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_transitions(self) -> int:
        return len(self.from_idx)

    @property
    def transition_labels(self) -> list[tuple[Hashable, Hashable]]:
        return [(self.states[r], self.states[s]) for r, s in zip(self.from_idx, self.to_idx)]

    def build(self, rates: np.ndarray) -> np.ndarray:
        """Intensity matrices from the rates of the allowed transitions.

        Parameters
        ----------
        rates : ndarray of shape (..., n_transitions)

        Returns
        -------
        ndarray of shape (..., n_states, n_states)
            Off-diagonal entries from ``rates``, diagonal minus the row sums.
        """
        rates = np.asarray(rates, dtype=float)
        k = self.n_states
        q = np.zeros(rates.shape[:-1] + (k, k))
        q[..., self.from_idx, self.to_idx] = rates
        diag = np.arange(k)
        q[..., diag, diag] = -q.sum(axis=-1) + 0.0  # + 0.0 turns -0.0 into 0.0
        return q

    def frame(self, q: np.ndarray) -> pd.DataFrame:
        """A matrix labelled with the states on both axes."""
        return pd.DataFrame(q, index=self.states.copy(), columns=self.states.copy())

    def reachable(self) -> np.ndarray:
        """``reach[r, s]`` is True when state s can be reached from r (r itself included)."""
        reach = np.eye(self.n_states, dtype=bool)
        reach[self.from_idx, self.to_idx] = True
        for _ in range(self.n_states):
            reach = reach | ((reach.astype(int) @ reach.astype(int)) > 0)
        return reach


def qspec_from(qmatrix, death_states: Sequence[Hashable] = ()) -> QSpec:
    """Validate an intensity matrix and read the allowed transitions from it.

    Parameters
    ----------
    qmatrix : pandas.DataFrame or array_like of shape (K, K)
        Nonzero off-diagonal entries mark allowed transitions and are their initial intensities;
        the diagonal is ignored. A DataFrame's index (equal to its columns) labels the states; an
        array's states are ``1..K`` as in msm.
    death_states : sequence of labels, default=()
        Absorbing states whose entry times are exact (msm ``deathexact``).

    Returns
    -------
    QSpec
    """
    if isinstance(qmatrix, pd.DataFrame):
        if not qmatrix.index.equals(qmatrix.columns):
            raise ParameterError(
                "qmatrix: a DataFrame's index and columns must be the same state labels in the same "
                f"order; found index {list(qmatrix.index)} and columns {list(qmatrix.columns)}"
            )
        states = pd.Index(qmatrix.index)
        values = qmatrix.to_numpy()
    else:
        values = np.asarray(qmatrix)
        states = pd.Index(range(1, values.shape[0] + 1)) if values.ndim == 2 else pd.Index([])
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ParameterError(f"qmatrix must be a square matrix; found shape {values.shape}")
    if not np.issubdtype(values.dtype, np.number) or not np.isfinite(values.astype(float)).all():
        raise ParameterError("qmatrix must hold finite numbers; found non-numeric or missing entries")
    if states.has_duplicates:
        raise ParameterError(f"qmatrix: state labels must be unique; found {list(states)}")
    values = values.astype(float)
    off = ~np.eye(len(states), dtype=bool)
    negative = np.argwhere((values < 0) & off)
    if len(negative):
        where = ", ".join(f"{states[r]}->{states[s]}" for r, s in negative[:5])
        raise ParameterError(
            f"qmatrix: off-diagonal entries should not be negative; found {len(negative)} ({where})"
        )
    from_idx, to_idx = np.nonzero((values > 0) & off)
    if len(from_idx) == 0:
        raise ParameterError("qmatrix allows no transition: every off-diagonal entry is zero")
    death_idx = _death_positions(states, death_states, from_idx, to_idx)
    return QSpec(states, from_idx, to_idx, values[from_idx, to_idx], death_idx)


def _death_positions(states, death_states, from_idx, to_idx) -> np.ndarray:
    if isinstance(death_states, (str, bytes)) or not isinstance(death_states, Sequence):
        death_states = [death_states]
    unknown = [d for d in death_states if d not in states]
    if unknown:
        raise ParameterError(
            f"death_states: {unknown} are not states of qmatrix; states are {list(states)}"
        )
    idx = np.array([states.get_loc(d) for d in death_states], dtype=int)
    leaving = [states[d] for d in idx if d in from_idx]
    if leaving:
        raise ParameterError(
            f"death_states must be absorbing (no allowed transition out of them); {leaving} have some"
        )
    unreachable = [states[d] for d in idx if d not in to_idx]
    if unreachable:
        raise ParameterError(f"death_states {unreachable} cannot be entered: no allowed transition into them")
    return idx


@dataclass(frozen=True)
class Covariate:
    """How one covariate column becomes design terms: numeric as is, else one dummy per level."""

    column: str
    levels: tuple | None

    @property
    def terms(self) -> list[str]:
        if self.levels is None:
            return [self.column]
        return [f"{self.column}[{level}]" for level in self.levels[1:]]

    def encode(self, values: pd.Series) -> np.ndarray:
        if self.levels is None:
            return values.to_numpy(dtype=float).reshape(-1, 1)
        return np.column_stack([(values == level).to_numpy(dtype=float) for level in self.levels[1:]])


@dataclass(frozen=True)
class Panel:
    """The intervals between consecutive observations of each subject.

    Attributes
    ----------
    from_idx, to_idx : ndarray of int
        State positions at the start and end of each interval.
    dt : ndarray of float
        Interval lengths.
    x : ndarray of shape (n_intervals, n_terms)
        Covariate design at the start of each interval (uncentred), as msm uses it.
    covariates : list of Covariate
    n_subjects, n_observations : int
    """

    from_idx: np.ndarray
    to_idx: np.ndarray
    dt: np.ndarray
    x: np.ndarray
    covariates: list[Covariate]
    n_subjects: int
    n_observations: int

    @property
    def terms(self) -> list[str]:
        return [t for c in self.covariates for t in c.terms]


def prepare_panel(
    data: pd.DataFrame,
    *,
    subject: str,
    time: str,
    state: str,
    spec: QSpec,
    covariates: Sequence[str] | None = None,
) -> Panel:
    """Validate panel data and turn it into intervals between consecutive observations.

    Rows of one subject need not be adjacent, but must be in time order.  Datetime times are
    converted to years (days / 365.25, :data:`progression.constants.DAYS_PER_YEAR`).
    """
    covariates = as_list(covariates, name="covariates") if covariates else []
    check_columns(data, [subject, time, state, *covariates])
    check_no_missing(data, [subject, time, state, *covariates])
    codes = spec.states.get_indexer(data[state])
    if (codes < 0).any():
        bad = pd.unique(data.loc[codes < 0, state])
        raise DataContractError(
            f"column '{state}': {int((codes < 0).sum())} rows hold states not in qmatrix "
            f"(e.g. {pd.Series(bad[:5]).tolist()}); states of qmatrix are {spec.states.tolist()}"
        )
    subj_codes, subj_ids = pd.factorize(data[subject], sort=False)
    order = np.argsort(subj_codes, kind="stable")
    subj_codes, codes = subj_codes[order], codes[order]
    t = _times(data[time])[order]
    same = subj_codes[1:] == subj_codes[:-1]
    _check_counts(subj_codes, subj_ids, subject)
    _check_order(t, same, subj_codes, subj_ids, subject, time)
    start = np.flatnonzero(same)
    from_idx, to_idx = codes[start], codes[start + 1]
    _check_moves(spec, from_idx, to_idx, subj_codes[start], subj_ids, state)
    encoders = [_covariate(data[c], c) for c in covariates]
    rows = data.iloc[order[start]]
    x = np.column_stack([e.encode(rows[e.column]) for e in encoders]) if encoders else np.zeros((len(start), 0))
    return Panel(from_idx, to_idx, t[start + 1] - t[start], x, encoders, len(subj_ids), len(data))


def _times(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(values):
        days = (values - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
        return days.to_numpy(dtype=float) / DAYS_PER_YEAR
    if not pd.api.types.is_numeric_dtype(values):
        raise DataContractError(f"column '{values.name}' must hold numbers or datetimes; found {values.dtype}")
    return values.to_numpy(dtype=float)


def _name_subjects(ids) -> str:
    ids = list(ids)
    shown = ", ".join(str(i) for i in ids[:3])
    return shown + (f" and {len(ids) - 3} others" if len(ids) > 3 else "")


def _check_counts(subj_codes, subj_ids, subject: str) -> None:
    counts = np.bincount(subj_codes, minlength=len(subj_ids))
    single = np.flatnonzero(counts == 1)
    if len(single):
        raise DataContractError(
            f"column '{subject}': {len(single)} subjects have only one observation, which gives no "
            f"transition (subjects {_name_subjects(subj_ids[single])}); drop them, e.g. "
            f"data.groupby('{subject}').filter(lambda g: len(g) > 1)"
        )


def _check_order(t, same, subj_codes, subj_ids, subject: str, time: str) -> None:
    bad = same & (np.diff(t) <= 0)
    if bad.any():
        ids = subj_ids[np.unique(subj_codes[1:][bad])]
        raise DataContractError(
            f"column '{time}': observations within {len(ids)} subjects are not ordered by strictly "
            f"increasing time (column '{subject}': {_name_subjects(ids)}); sort the data by "
            f"['{subject}', '{time}'] and remove duplicate times"
        )


def _check_moves(spec: QSpec, from_idx, to_idx, subj_codes, subj_ids, state: str) -> None:
    after_death = np.isin(from_idx, spec.death_idx)
    if after_death.any():
        ids = subj_ids[np.unique(subj_codes[after_death])]
        raise DataContractError(
            f"column '{state}': {len(ids)} subjects are observed again after entering a death state "
            f"(subjects {_name_subjects(ids)}); a death must be a subject's last observation"
        )
    impossible = ~spec.reachable()[from_idx, to_idx]
    if impossible.any():
        pairs = pd.Series(list(zip(spec.states[from_idx[impossible]], spec.states[to_idx[impossible]])))
        moves = ", ".join(f"{a}->{b} ({n})" for (a, b), n in pairs.value_counts().head(5).items())
        ids = subj_ids[np.unique(subj_codes[impossible])]
        raise DataContractError(
            f"column '{state}': data inconsistent with the allowed transitions of qmatrix: "
            f"{int(impossible.sum())} observed moves cannot happen through them ({moves}; subjects "
            f"{_name_subjects(ids)})"
        )


def _covariate(values: pd.Series, column: str) -> Covariate:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        if values.nunique() < 2:
            raise DataContractError(f"covariate '{column}' has a single value; its effect cannot be estimated")
        return Covariate(column, None)
    if isinstance(values.dtype, pd.CategoricalDtype):
        levels = tuple(values.cat.categories)
    else:
        levels = tuple(sorted(pd.unique(values)))
    if len(levels) < 2:
        raise DataContractError(f"covariate '{column}' has a single level; its effect cannot be estimated")
    return Covariate(column, levels)
