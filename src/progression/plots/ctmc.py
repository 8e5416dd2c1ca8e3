"""Figures of continuous-time multi-state models (:mod:`progression.transitions.ctmc`).

Free functions over tidy tables: each takes ``ax=None``, imports matplotlib inside, and returns the
Axes (or the Figure, for the multi-panel figures); none calls ``show()``. States take the colours of
:func:`progression.plots.transitions.step_colours`, and ratios on log axes read as plain numbers
(0.5, 1, 2). Words come from the label registry in the report's language
(:func:`progression.plots.style.word`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from progression.plots._base import draws, new_axes
from progression.plots.style import code_names, figure_size, step_colours, word
from progression.texts import code_label


def _names(labels: Mapping[str, str] | None) -> dict[str, str]:
    return {**code_names("step"), **{str(k): v for k, v in (labels or {}).items()}}

__all__ = [
    "plot_transition_probabilities",
    "plot_sojourn",
    "plot_sojourn_panels",
    "plot_hazard_ratios",
    "plot_hazard_ratio_panels",
    "plot_estimates_vs_truth",
    "plot_prevalence",
]

_NICE = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)


def _require(frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks columns {missing}; columns present: {list(frame.columns)}")


def _plain_log_axis(axis, low: float, high: float) -> None:
    """Ticks at 0.1, 0.2, 0.5, 1, 2, ... written as plain numbers on a log axis (no 4×10⁻¹)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

    low = max(low, 1e-4)
    high = max(high, low * 1.01)
    ticks = [t for t in _NICE if low / 1.5 <= t <= high * 1.5] or [1.0]
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


@draws
def plot_transition_probabilities(frame: pd.DataFrame, *, from_state: Hashable | None = None,
                                  labels: Mapping[str, str] | None = None, ax=None):
    """Probability of being in each state over time, from one starting state.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``time``, ``from_state``, ``to_state``, ``probability``, as returned by
        ``progression.transitions.ctmc.transition_probabilities(model.qmatrix(ci="none"), times)``.
    from_state : state label, optional
        Starting state; default the first one in ``frame``.
    labels : mapping, optional
        Display labels of the states.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from progression.transitions import ctmc
    >>> q = np.array([[-0.3, 0.2, 0.1], [0.1, -0.3, 0.2], [0.0, 0.0, 0.0]])
    >>> curves = ctmc.transition_probabilities(q, np.linspace(0, 10, 11))
    >>> len(plot_transition_probabilities(curves, from_state=1).get_lines())
    3
    """
    _require(frame, ["time", "from_state", "to_state", "probability"])
    ax = new_axes(ax)
    start = frame["from_state"].iloc[0] if from_state is None else from_state
    rows = frame[frame["from_state"] == start]
    if rows.empty:
        raise ValueError(f"from_state {start!r} not in frame; states are {sorted(frame['from_state'].unique())}")
    names = _names(labels)
    colours = step_colours([str(s) for s in rows["to_state"].unique()])
    for target, curve in rows.groupby("to_state", sort=False):
        ax.plot(curve["time"], curve["probability"], label=names.get(str(target), str(target)),
                color=colours[str(target)])
    ax.set_xlabel(word("plot_time"))
    ax.set_ylabel(word("plot_probability_from", state=names.get(str(start), str(start))))
    ax.set_ylim(0, 1)
    ax.legend(title=word("plot_state"), frameon=False, fontsize="small")
    return ax


@draws
def plot_sojourn(sojourn: pd.DataFrame, *, labels: Mapping[str, str] | None = None, ax=None):
    """Mean sojourn time in each state with its interval (``MultiStateModel.sojourn()``, reset index).

    Parameters
    ----------
    sojourn : DataFrame
        Columns ``state``, ``estimate``, ``conf_low``, ``conf_high``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _require(sojourn, ["state", "estimate", "conf_low", "conf_high"])
    ax = new_axes(ax)
    names = _names(labels)
    states = [str(s) for s in sojourn["state"]]
    colours = step_colours(states)
    y = np.arange(len(sojourn))
    ax.errorbar(sojourn["estimate"], y, fmt="none", capsize=3, ecolor="#555555",
                xerr=[sojourn["estimate"] - sojourn["conf_low"], sojourn["conf_high"] - sojourn["estimate"]])
    ax.scatter(sojourn["estimate"], y, c=[colours[s] for s in states], zorder=3)
    ax.set_yticks(y, [names.get(s, s) for s in states])
    ax.invert_yaxis()
    ax.set_xlabel(word("plot_mean_sojourn"))
    return ax


@draws
def plot_sojourn_panels(sojourn: pd.DataFrame, curves: pd.DataFrame, *, from_state: Hashable,
                        labels: Mapping[str, str] | None = None):
    """Mean sojourn times (left) and P(t) from one state (right), in one figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=figure_size(2, panel=(4.5, 3.8)), layout="constrained",
                             gridspec_kw={"width_ratios": [1, 1.1]})
    plot_sojourn(sojourn, labels=labels, ax=axes[0])
    plot_transition_probabilities(curves, from_state=from_state, labels=labels, ax=axes[1])
    axes[1].set_xlabel(word("plot_years"))
    axes[1].legend(title=word("plot_state"), frameon=False, fontsize="x-small")
    return fig


@draws
def plot_hazard_ratios(frame: pd.DataFrame, *, labels: Mapping[str, str] | None = None, show_term: bool = True,
                       ax=None):
    """Forest plot of hazard ratios with their confidence limits, on a log scale with plain tick labels.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``from_state``, ``to_state``, ``term``, ``estimate``, ``conf_low``, ``conf_high``,
        as returned by ``MultiStateModel.hazard_ratios()``.
    labels : mapping, optional
        Display labels of the states.
    show_term : bool, default=True
        Put the term in each row label (leave it out when a panel shows one term).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    _require(frame, ["from_state", "to_state", "term", "estimate", "conf_low", "conf_high"])
    ax = new_axes(ax)
    names = _names(labels)
    rows = [f"{names.get(str(a), a)} \u2192 {names.get(str(b), b)}" for a, b in zip(frame["from_state"],
                                                                                   frame["to_state"])]
    if show_term:
        rows = [f"{code_label(t, 'term')}: {r}" for t, r in zip(frame["term"], rows)]
    y = np.arange(len(frame))[::-1]
    colours = step_colours([str(s) for s in frame["from_state"]])
    errors = [frame["estimate"] - frame["conf_low"], frame["conf_high"] - frame["estimate"]]
    ax.errorbar(frame["estimate"], y, xerr=errors, fmt="none", capsize=3, ecolor="#555555")
    ax.scatter(frame["estimate"], y, c=[colours[str(s)] for s in frame["from_state"]], zorder=3, s=18)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    finite = pd.concat([frame["conf_low"], frame["conf_high"]]).replace([np.inf, -np.inf], np.nan).dropna()
    if len(finite):
        _plain_log_axis(ax.xaxis, float(finite.min()), float(finite.max()))
    ax.set_yticks(list(y), rows)
    ax.set_xlabel(word("plot_hazard_ratio"))
    return ax


@draws
def plot_hazard_ratio_panels(frame: pd.DataFrame, *, terms: Sequence[str], labels: Mapping[str, str] | None = None):
    """One forest plot per covariate, for the terms whose name starts with one of ``terms``.

    Parameters
    ----------
    frame : DataFrame
        The hazard ratios (``MultiStateModel.hazard_ratios()`` or its disclosed table).
    terms : sequence of str
        Covariates to draw, e.g. ``["recovery_oriented", "severity"]`` (a categorical covariate draws
        each of its levels' terms).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    shown = [t for t in pd.unique(frame["term"]) if str(t).split("[")[0] in set(terms)]
    if not shown:
        raise ValueError(f"no terms {list(terms)} in the table; terms are {list(pd.unique(frame['term']))}")
    n_rows = int((frame["term"] == shown[0]).sum())
    size = figure_size(len(shown), panel=(3.2, 0.26 * n_rows + 1.4))
    fig, axes = plt.subplots(1, len(shown), figsize=(min(size[0] + 2.6, 9.0), size[1]), squeeze=False,
                             sharey=True, layout="constrained")
    for ax, term in zip(axes[0], shown):
        plot_hazard_ratios(frame[frame["term"] == term], labels=labels, show_term=False, ax=ax)
        ax.set_title(code_label(term, "term"), fontsize=9.5)
        ax.tick_params(axis="y", labelsize=7.5)
    return fig


@draws
def plot_estimates_vs_truth(comparison: pd.DataFrame, *, ax=None):
    """Estimated against generating intensities (log scales), comparable ones apart from the others.

    Parameters
    ----------
    comparison : DataFrame
        Columns ``term``, ``estimate``, ``conf_low``, ``conf_high``, ``truth``, ``comparable``
        (:func:`progression.analyses.transitions.ctmc_truth`); the ``baseline`` rows are drawn.

    Returns
    -------
    matplotlib.axes.Axes
    """
    _require(comparison, ["term", "estimate", "conf_low", "conf_high", "truth", "comparable"])
    ax = new_axes(ax, figsize=(5.0, 4.6))
    base = comparison[(comparison["term"] == "baseline") & comparison["estimate"].notna() & (comparison["truth"] > 0)]
    for ok, marker, colour in ((True, "o", "#0072B2"), (False, "x", "#D55E00")):
        rows = base[base["comparable"].astype(bool) == ok]
        ax.errorbar(rows["truth"], rows["estimate"], fmt=marker, capsize=2, color=colour,
                    yerr=[rows["estimate"] - rows["conf_low"], rows["conf_high"] - rows["estimate"]],
                    label=word("plot_comparable") if ok else word("plot_not_comparable"))
    lims = [base["truth"].min() / 2, base["truth"].max() * 2]
    ax.plot(lims, lims, color="grey", linewidth=1)
    ax.set(xscale="log", yscale="log", xlabel=word("plot_generating_intensity"), ylabel=word("plot_estimated_interval"))
    low = min(lims[0], float(base["conf_low"].min()))
    high = max(lims[1], float(base["conf_high"].max()))
    _plain_log_axis(ax.xaxis, low, high)
    _plain_log_axis(ax.yaxis, low, high)
    ax.legend(frameon=False)
    return ax


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
        colour = step_colours([str(state)])[str(state)]  # a step keeps its colour of every figure
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
