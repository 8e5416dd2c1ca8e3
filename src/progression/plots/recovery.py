"""Figures for recovery-oriented progression: free functions over the tidy frames of
:mod:`progression.recovery`. Each takes ``ax=None``, imports matplotlib inside, returns the Axes.

A figure is an aggregate that leaves the research server too: functions that draw groups or bins
hide those below ``min_cell`` persons (default 5) unless told otherwise.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "plot_rci_distribution",
    "plot_shares_by_group",
    "plot_trajectory",
    "plot_move_change_heatmap",
    "plot_funnel",
    "plot_estimates_vs_truth",
]

_CLASS_COLOURS = {"progression": "#1b9e77", "maintenance": "#bdbdbd", "degression": "#d95f02"}


def _axes(ax):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_rci_distribution(
    changes: pd.DataFrame,
    *,
    rci_col: str = "rci",
    critical: float = 1.96,
    bins: int | Sequence[float] = 30,
    min_cell: int = 5,
    ax=None,
):
    """Histogram of reliable change indices with the +/- ``critical`` bands shaded.

    Bins holding fewer than ``min_cell`` citizens are not drawn (set ``min_cell=0`` to draw all).
    """
    ax = _axes(ax)
    x = changes[rci_col].dropna().to_numpy(dtype=float)
    counts, edges = np.histogram(x, bins=bins)
    shown = np.where(counts >= min_cell, counts, 0)
    ax.bar(edges[:-1], shown, width=np.diff(edges), align="edge", color="#6baed6", edgecolor="white",
           label=f"citizens (bins < {min_cell} hidden)" if min_cell > 0 else "citizens")
    ax.axvspan(-critical, critical, color="grey", alpha=0.15, label=f"|RC| <= {critical:g}: no reliable change")
    for v in (-critical, critical):
        ax.axvline(v, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("Reliable change index (positive = score increased)")
    ax.set_ylabel("Citizens")
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_shares_by_group(
    shares: pd.DataFrame,
    *,
    group_col: str,
    class_col: str = "change_class",
    share_col: str = "share",
    drop_suppressed: bool = True,
    ax=None,
):
    """Stacked horizontal bars of progression / maintenance / degression shares per group.

    ``shares`` is the output of :func:`progression.recovery.groups.group_shares`; groups flagged
    ``suppress``, or with a share hidden by disclosure control (missing), are left out when
    ``drop_suppressed`` is True.
    """
    ax = _axes(ax)
    data = shares
    if drop_suppressed:
        if "suppress" in data.columns:
            data = data[~data["suppress"].astype(bool)]
        hidden = data.loc[data[share_col].isna(), group_col].unique()
        data = data[~data[group_col].isin(hidden)]
    wide = data.pivot_table(index=group_col, columns=class_col, values=share_col, observed=False, aggfunc="sum")
    classes = [c for c in _CLASS_COLOURS if c in wide.columns] + [c for c in wide.columns if c not in _CLASS_COLOURS]
    left = np.zeros(len(wide))
    labels = wide.index.astype(str)
    for c in classes:
        vals = wide[c].fillna(0).to_numpy()
        ax.barh(labels, vals, left=left, color=_CLASS_COLOURS.get(c), label=str(c))
        left += vals
    ax.set_xlim(0, 1)
    ax.set_xlabel("Share of citizens")
    ax.legend(frameon=False, fontsize="small", ncol=len(classes), loc="lower center", bbox_to_anchor=(0.5, 1.0))
    return ax


def plot_trajectory(
    trajectory: pd.DataFrame,
    *,
    observed: pd.DataFrame | None = None,
    time_col: str = "time",
    label: str = "model mean",
    ax=None,
):
    """Mean trajectory with its confidence band (from ``TrajectoryModel.mean_trajectory``).

    ``observed`` may hold group means to overlay (columns ``time_col`` and ``mean``).
    """
    ax = _axes(ax)
    t = trajectory[time_col].to_numpy()
    ax.fill_between(t, trajectory["conf_low"], trajectory["conf_high"], alpha=0.25, color="#3182bd", linewidth=0)
    ax.plot(t, trajectory["estimate"], color="#08519c", label=label)
    if observed is not None:
        ax.plot(observed[time_col], observed["mean"], "o", color="black", markersize=4, label="observed mean")
    ax.set_xlabel("Years since service start")
    ax.set_ylabel("Score")
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_move_change_heatmap(table: pd.DataFrame, *, fmt: str = ".0%", cmap: str = "Greens", ax=None):
    """Heatmap of staircase move (rows) against change class (columns), from ``move_change_table``."""
    import seaborn as sns

    ax = _axes(ax)
    sns.heatmap(table.astype(float), annot=True, fmt=fmt, cmap=cmap, cbar=False, ax=ax, vmin=0)
    ax.set_xlabel("Change in functioning / recovery")
    ax.set_ylabel("Move on the staircase")
    return ax


def plot_funnel(
    funnel: pd.DataFrame,
    *,
    levels: Sequence[float] = (0.95, 0.998),
    drop_suppressed: bool = True,
    ax=None,
):
    """Funnel plot: group shares against group size with exact binomial control limits.

    ``funnel`` is the output of :func:`progression.recovery.groups.funnel_data`.
    """
    from progression.recovery.groups import funnel_limits

    ax = _axes(ax)
    data = funnel[~funnel["suppress"].astype(bool)] if drop_suppressed and "suppress" in funnel else funnel
    target = float(funnel["target"].iloc[0])
    n_max = max(float(funnel["n"].max()), 10.0)
    grid = np.unique(np.round(np.geomspace(1, n_max * 1.05, 200)))
    curves = funnel_limits(target, grid, levels=levels)
    styles = ["--", ":", "-."]
    for i, level in enumerate(levels):
        label = f"{100 * level:g}"
        ax.plot(grid, curves[f"lower_{label}"], styles[i % 3], color="grey", label=f"{label}% limits")
        ax.plot(grid, curves[f"upper_{label}"], styles[i % 3], color="grey")
    ax.axhline(target, color="black", linewidth=1, label="national value")
    ax.scatter(data["n"], data["share"], s=18, color="#d95f02", zorder=3)
    ax.set_xlabel("Citizens in group")
    ax.set_ylabel("Share")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_estimates_vs_truth(
    comparison: pd.DataFrame,
    *,
    label_cols: Sequence[str] = ("instrument", "group", "change_class"),
    ax=None,
):
    """Estimates with their intervals (dots and bars) beside the true values (crosses), one row each.

    ``comparison`` holds ``estimate``, ``conf_low``, ``conf_high`` and ``truth`` (e.g. from
    :func:`progression.analyses.progression.truth_comparison`); rows with a missing estimate are left out.
    """
    ax = _axes(ax)
    data = comparison.dropna(subset=["estimate"]).reset_index(drop=True)
    labels = data[list(label_cols)].apply(lambda r: " · ".join(str(v) for v in r if pd.notna(v)), axis=1)
    y = np.arange(len(data))[::-1]
    err = np.vstack([data["estimate"] - data["conf_low"], data["conf_high"] - data["estimate"]]).clip(min=0)
    ax.errorbar(data["estimate"], y, xerr=err, fmt="o", color="#3182bd", markersize=4, capsize=2,
                label="estimate (95% CI)")
    ax.scatter(data["truth"], y, marker="x", color="#d95f02", zorder=3, label="truth")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    return ax
