"""Figures of continuous-time multi-state models (``progression.transitions.ctmc``).

Free functions over tidy frames: each takes ``ax=None`` (the current Axes then), imports matplotlib
inside, returns the Axes and never calls ``show()``.
"""

from __future__ import annotations

from collections.abc import Hashable

import pandas as pd

from progression.plots._base import draws, new_axes


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


@draws
def plot_prevalence(frame: pd.DataFrame, *, states=None, ax=None):
    """Observed (solid) against expected (dashed) percentage in each state over time (msm
    ``plot.prevalence.msm``), all states on one Axes in one colour each.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``time``, ``state``, ``observed_percent``, ``expected_percent``, as returned by
        ``MultiStateModel.prevalence()`` (after disclosure control: a suppressed observed percentage is
        marked with a grey dot on the time axis).
    states : sequence, optional
        States to draw; default all.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> table = pd.DataFrame({"time": [0, 1, 0, 1], "state": ["a", "a", "b", "b"],
    ...                       "observed_percent": [100.0, 60.0, 0.0, 40.0],
    ...                       "expected_percent": [100.0, 55.0, 0.0, 45.0]})
    >>> ax = plot_prevalence(table)
    >>> len(ax.get_lines())
    4
    """
    _require(frame, ["time", "state", "observed_percent", "expected_percent"])
    ax = new_axes(ax)
    chosen = list(dict.fromkeys(frame["state"])) if states is None else list(states)
    hidden_shown = False
    for i, state in enumerate(chosen):
        rows = frame[frame["state"] == state].sort_values("time")
        if rows.empty:
            raise ValueError(f"state {state!r} not in frame; states are {list(dict.fromkeys(frame['state']))}")
        colour = f"C{i % 10}"
        ax.plot(rows["time"], rows["observed_percent"], color=colour, label=f"{state}: observed")
        ax.plot(rows["time"], rows["expected_percent"], color=colour, linestyle="--", label=f"{state}: expected")
        hidden = rows["observed_percent"].isna()
        if hidden.any():
            ax.plot(rows.loc[hidden, "time"], [0.0] * int(hidden.sum()), linestyle="none", marker="o", markersize=3,
                    color="grey", label=None if hidden_shown else "suppressed")
            hidden_shown = True
    ax.set_xlabel("time")
    ax.set_ylabel("percentage in state")
    ax.set_ylim(0, 100)
    ax.legend(fontsize="small", ncol=2)
    return ax
