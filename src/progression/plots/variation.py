"""Figures of the spending-variation analysis: R² decomposition, caterpillar and funnel plots.

Each function takes the tidy output of :mod:`progression.variation` and ``ax=None``, imports matplotlib
inside, draws on the given (or current) Axes and returns it. Nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["plot_caterpillar", "plot_funnel", "plot_shapley_decomposition"]

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
