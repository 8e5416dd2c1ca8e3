"""Descriptive tables of panel data: observed transition counts and crude starting intensities."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from progression._validation import check_columns, check_no_missing
from progression.exceptions import StatisticalWarning

from ._data import prepare_panel, qspec_from


def statetable(data: pd.DataFrame, *, subject: str, time: str, state: str) -> pd.DataFrame:
    """Counts of moves between consecutive observations of the same subject (msm ``statetable.msm``).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation.
    subject, time, state : str
        Column names; rows are taken in time order within each subject.

    Returns
    -------
    pandas.DataFrame
        Rows: state at an observation (``from``); columns: state at the next one (``to``).
    """
    check_columns(data, [subject, time, state])
    check_no_missing(data, [subject, time, state])
    ordered = data.sort_values([subject, time], kind="stable")
    same = ordered[subject].to_numpy()[1:] == ordered[subject].to_numpy()[:-1]
    states = ordered[state].to_numpy()
    moves = pd.DataFrame({"from": states[:-1][same], "to": states[1:][same]})
    table = pd.crosstab(moves["from"], moves["to"])
    labels = sorted(set(table.index) | set(table.columns))
    return table.reindex(index=labels, columns=labels, fill_value=0).rename_axis(index="from", columns="to")


def crude_inits(data: pd.DataFrame, *, subject: str, time: str, state: str, qmatrix) -> pd.DataFrame:
    """Crude starting intensities from the observed moves (msm ``crudeinits.msm``).

    ``q_rs = n_rs / T_r``, where ``n_rs`` counts intervals that start in r and end in s and ``T_r`` is
    the total length of intervals starting in r, for the transitions allowed by ``qmatrix``.

    Parameters
    ----------
    data : pandas.DataFrame
    subject, time, state : str
        Column names.
    qmatrix : pandas.DataFrame or array_like of shape (K, K)
        Pattern of allowed transitions (nonzero off-diagonal entries).

    Returns
    -------
    pandas.DataFrame
        Intensity matrix with the diagonal set to minus the row sums.

    Notes
    -----
    Unlike msm, an allowed transition never observed between consecutive observations gets half a
    move (``0.5 / T_r``) rather than zero, so the model keeps its pattern; a ``StatisticalWarning``
    names those transitions.  A state never observed at the start of an interval keeps the
    ``qmatrix`` values.
    """
    spec = qspec_from(qmatrix)
    panel = prepare_panel(data, subject=subject, time=time, state=state, spec=spec)
    k = spec.n_states
    counts = np.zeros((k, k))
    np.add.at(counts, (panel.from_idx, panel.to_idx), 1.0)
    exposure = np.bincount(panel.from_idx, weights=panel.dt, minlength=k)
    n = counts[spec.from_idx, spec.to_idx]
    t = exposure[spec.from_idx]
    rates = np.where(t > 0, np.maximum(n, 0.5) / np.where(t > 0, t, 1.0), spec.init)
    unobserved = [f"{a}->{b}" for (a, b), m, e in zip(spec.transition_labels, n, t) if m == 0 and e > 0]
    if unobserved:
        warnings.warn(
            f"crude_inits: allowed transitions {unobserved} are never observed between consecutive "
            "observations; they start at half a move per exposure time",
            StatisticalWarning, stacklevel=2,
        )
    return spec.frame(spec.build(rates))
