"""Figures of continuous-time multi-state models (``progression.transitions.ctmc``).

Free functions over tidy frames: each takes ``ax=None`` (the current Axes then), imports matplotlib
inside, returns the Axes and never calls ``show()``.
"""

from __future__ import annotations

from collections.abc import Hashable

import pandas as pd


def plot_transition_probabilities(frame: pd.DataFrame, *, from_state: Hashable | None = None, ax=None):
    """Probability of being in each state over time, from one starting state.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``time``, ``from_state``, ``to_state``, ``probability``, as returned by
        ``progression.transitions.ctmc.transition_probabilities(model.qmatrix(ci="none"), times)``.
    from_state : state label, optional
        Starting state; default the first one in ``frame``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    _require(frame, ["time", "from_state", "to_state", "probability"])
    ax = plt.gca() if ax is None else ax
    start = frame["from_state"].iloc[0] if from_state is None else from_state
    rows = frame[frame["from_state"] == start]
    if rows.empty:
        raise ValueError(f"from_state {start!r} not in frame; states are {sorted(frame['from_state'].unique())}")
    for target, curve in rows.groupby("to_state", sort=False):
        ax.plot(curve["time"], curve["probability"], label=str(target))
    ax.set_xlabel("time")
    ax.set_ylabel(f"probability of being in state, starting in {start}")
    ax.set_ylim(0, 1)
    ax.legend(title="state")
    return ax


def plot_hazard_ratios(frame: pd.DataFrame, *, ax=None):
    """Forest plot of hazard ratios with their confidence limits, on a log scale.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``from_state``, ``to_state``, ``term``, ``estimate``, ``conf_low``, ``conf_high``,
        as returned by ``MultiStateModel.hazard_ratios()``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    _require(frame, ["from_state", "to_state", "term", "estimate", "conf_low", "conf_high"])
    ax = plt.gca() if ax is None else ax
    labels = [f"{t}: {a} \u2192 {b}" for t, a, b in zip(frame["term"], frame["from_state"], frame["to_state"])]
    y = range(len(frame))[::-1]
    errors = [frame["estimate"] - frame["conf_low"], frame["conf_high"] - frame["estimate"]]
    ax.errorbar(frame["estimate"], list(y), xerr=errors, fmt="o", capsize=3)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(list(y), labels)
    ax.set_xlabel("hazard ratio")
    return ax


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}; columns present: {list(frame.columns)}")
