"""Figures of the spending-variation analysis: spending by municipality, R² decomposition, caterpillar and
funnel plots, and the split of spending into coverage and unit cost.

Each function takes the tidy output of :mod:`progression.variation` and ``ax=None``, imports matplotlib
inside, draws on the given (or current) Axes and returns it. Nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "plot_caterpillar",
    "plot_funnel",
    "plot_shapley_decomposition",
    "plot_spending_by_municipality",
    "plot_unit_cost_split",
]

_POSITION_COLOURS = {"above": "#b2182b", "below": "#2166ac", "within": "#7f7f7f"}


def _axes(ax):
    import matplotlib.pyplot as plt

    return plt.gca() if ax is None else ax


def plot_shapley_decomposition(
    decomposition: pd.Series | pd.DataFrame,
    *,
    share: bool = False,
    labels: Mapping[str, str] | None = None,
    ax=None,
):
    """Horizontal bars of each criterion's (or group's) part of R², with bootstrap intervals when given.

    Parameters
    ----------
    decomposition : pandas.Series or pandas.DataFrame
        Output of ``shapley_r2`` (a Series) or ``shapley_r2_bootstrap`` (a frame with ``estimate``,
        ``conf_low``, ``conf_high``, ``share`` …; its ``"R2"`` row is shown in the title).
    share : bool, default=False
        Show parts as shares of R² (summing to 1) instead of R² points.
    labels : mapping, optional
        Display names of the terms (e.g. English labels of Danish criteria).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    if isinstance(decomposition, pd.Series):
        frame = decomposition.to_frame("estimate")
        total = decomposition.attrs.get("r2", decomposition.sum())
        frame["share"] = frame["estimate"] / total
    else:
        frame = decomposition.drop(index="R2", errors="ignore").copy()
        total = decomposition.loc["R2", "estimate"] if "R2" in decomposition.index else frame["estimate"].sum()
    column = "share" if share else "estimate"
    frame = frame.sort_values(column)
    names = [labels.get(t, t) if labels else t for t in frame.index]
    values = frame[column].to_numpy()
    errors = None
    low, high = ("share_conf_low", "share_conf_high") if share else ("conf_low", "conf_high")
    if low in frame.columns:
        errors = np.vstack([values - frame[low].to_numpy(), frame[high].to_numpy() - values]).clip(min=0)
    ax.barh(names, values, xerr=errors, color="#4c72b0", ecolor="#333333", capsize=3)
    ax.set_xlabel("share of explained variance" if share else "part of R²")
    ax.set_title(f"Shapley decomposition of R² = {total:.2f}")
    ax.axvline(0, color="black", linewidth=0.8)
    return ax


def plot_caterpillar(
    benchmark: pd.DataFrame,
    *,
    id_col: str = "municipality",
    labels: Mapping | None = None,
    ax=None,
):
    """Actual minus expected spending per municipality, sorted, with the prediction interval around zero.

    Parameters
    ----------
    benchmark : pandas.DataFrame
        Output of ``SpendingVariationModel.benchmark()``.
    id_col : str, default="municipality"
    labels : mapping, optional
        Id → name of the municipalities to annotate (e.g. ``SPECIAL_MUNICIPALITIES``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Points coloured by whether the municipality lies above, below or within its interval.
    """
    ax = _axes(ax)
    frame = benchmark.sort_values("residual").reset_index(drop=True)
    x = np.arange(len(frame))
    lower = frame["pi_low"] - frame["expected"]
    upper = frame["pi_high"] - frame["expected"]
    ax.vlines(x, lower, upper, color="#c0c0c0", linewidth=2)
    for position, colour in _POSITION_COLOURS.items():
        part = frame["position"] == position
        ax.scatter(x[part], frame.loc[part, "residual"], s=14, color=colour, label=position, zorder=3)
    for key, name in (labels or {}).items():
        hit = frame.index[frame[id_col] == key]
        if len(hit):
            ax.annotate(str(name), (x[hit[0]], frame.loc[hit[0], "residual"]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("municipalities, sorted by actual − expected")
    ax.set_ylabel("actual − expected spending per inhabitant")
    ax.legend(title="vs. prediction interval", fontsize=7, title_fontsize=7)
    return ax


def plot_funnel(funnel, *, id_col: str = "municipality", labels: Mapping | None = None, ax=None):
    """Funnel plot: deviation from expected spending against population, with control limits.

    Parameters
    ----------
    funnel : FunnelData
        Output of ``SpendingVariationModel.funnel()``.
    id_col : str, default="municipality"
    labels : mapping, optional
        Id → name of the municipalities to annotate.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    points, limits = funnel.points, funnel.limits
    styles = ["--", ":", "-."]
    for i, (level, part) in enumerate(limits.groupby("level", sort=True)):
        style = styles[i % len(styles)]
        ax.plot(part["size"], part["upper"], style, color="#555555", linewidth=1, label=f"{level:.1%} limits")
        ax.plot(part["size"], part["lower"], style, color="#555555", linewidth=1)
    ax.scatter(points["size"], points["deviation"], s=14, color="#4c72b0", zorder=3)
    for key, name in (labels or {}).items():
        hit = points.loc[points[id_col] == key]
        if len(hit):
            ax.annotate(str(name), (hit["size"].iloc[0], hit["deviation"].iloc[0]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("population (log scale)")
    ax.set_ylabel("actual − expected spending per inhabitant")
    ax.legend(fontsize=7)
    return ax


def plot_spending_by_municipality(
    data: pd.DataFrame,
    *,
    value: str,
    mean: float | None = None,
    low: float | None = None,
    high: float | None = None,
    ax=None,
):
    """Spending per inhabitant of each municipality as sorted bars, with the mean and two thresholds.

    The layout of seed 004's Figures 2.1 and 2.2 (bars by municipality, the national average as a line);
    the thresholds the report counts municipalities against are drawn as dotted lines.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per municipality.
    value : str
        Spending per inhabitant.
    mean : float, optional
        The (population-weighted) national mean, drawn as a solid line.
    low, high : float, optional
        Thresholds, drawn as dotted lines; bars under ``low`` and over ``high`` are coloured.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    values = np.sort(data[value].to_numpy(dtype=float))
    colours = np.full(len(values), "#7f7f7f", dtype=object)
    if low is not None:
        colours[values < low] = _POSITION_COLOURS["below"]
    if high is not None:
        colours[values > high] = _POSITION_COLOURS["above"]
    ax.bar(np.arange(len(values)), values, width=0.85, color=list(colours))
    if mean is not None:
        ax.axhline(mean, color="black", linewidth=1, label=f"mean {mean:,.0f}")
    for threshold in (low, high):
        if threshold is not None:
            ax.axhline(threshold, color="black", linestyle=":", linewidth=1)
    ax.set_xticks([])
    ax.set_xlabel(f"{len(values)} municipalities, sorted")
    ax.set_ylabel("spending per inhabitant")
    if mean is not None:
        ax.legend(fontsize=7)
    return ax


def plot_unit_cost_split(decomposition: pd.DataFrame, *, ax=None):
    """Coverage against unit cost, both as log differences from the country, one point per municipality.

    Points on a diagonal line x + y = c spend the same per inhabitant; the lines are drawn at c = 0 (the
    national level) and ±log(1.25). Takes the (disclosure-controlled) output of
    ``unit_cost_decomposition``; rows with a suppressed value are left out.

    Parameters
    ----------
    decomposition : pandas.DataFrame
        ``log_diff_coverage`` and ``log_diff_unit_cost`` per municipality.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    shown = decomposition.dropna(subset=["log_diff_coverage", "log_diff_unit_cost"])
    x, y = shown["log_diff_coverage"].to_numpy(), shown["log_diff_unit_cost"].to_numpy()
    ax.scatter(x, y, s=14, color="#4c72b0", zorder=3)
    reach = max(np.abs(np.r_[x, y]).max(initial=0.1) * 1.1, 0.1)
    grid = np.array([-reach, reach])
    for level, style in ((0.0, "-"), (np.log(1.25), ":"), (-np.log(1.25), ":")):
        ax.plot(grid, level - grid, style, color="#555555", linewidth=1)
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-reach, reach)
    ax.set_xlabel("log(recipients per inhabitant / national)")
    ax.set_ylabel("log(cost per recipient / national)")
    ax.set_title("equal spending per inhabitant along the diagonals", fontsize=9)
    return ax
