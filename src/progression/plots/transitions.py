"""Figures for step transitions: free functions over the tidy frames of :mod:`progression.transitions`,
:mod:`progression.transitions.durations` and :mod:`progression.transitions.projection`.

Each takes ``ax=None``, imports matplotlib (and seaborn) inside, and returns the Axes. A figure leaves
the research server too, so cells and flows resting on fewer than ``min_cell`` persons (default 5)
are hidden unless told otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "plot_transition_heatmap",
    "plot_flow_bars",
    "plot_alluvial",
    "plot_km",
    "plot_projection",
]

_CATEGORY_COLOURS = {
    "none": "#1b9e77", "lower": "#66c2a5", "none_or_lower": "#1b9e77", "same": "#bdbdbd",
    "higher": "#d95f02", "died": "#525252", "emigrated": "#969696", "moved": "#7570b3",
}


def _axes(ax, figsize=None):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _select(frame: pd.DataFrame, where: Mapping | None) -> pd.DataFrame:
    if not where:
        return frame
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        if column not in frame.columns:
            raise ValueError(f"where: column {column!r} not in the frame; columns: {list(frame.columns)}")
        mask &= (frame[column] == value).to_numpy()
    if not mask.any():
        raise ValueError(f"where={dict(where)} selects no rows")
    return frame[mask]


def plot_transition_heatmap(summary: pd.DataFrame, *, where: Mapping | None = None, value: str = "prob",
                            from_col: str = "from_step", to_col: str = "to_step", min_cell: int = 5,
                            labels: Mapping[str, str] | None = None, ax=None):
    """Annotated heatmap of a transition matrix (rows = from step, columns = destination).

    Parameters
    ----------
    summary : DataFrame
        ``TransitionMatrix.summary`` (or :func:`~progression.transitions.transition_counts`).
    where : mapping, optional
        Group values selecting one matrix, e.g. ``{"municipality_set": "case"}``.
    value : str, default="prob"
        Column shown; probabilities are annotated in percent.
    min_cell : int, default=5
        Cells with fewer persons (``n_persons``, else ``n``) are blanked and marked "<min_cell".
    labels : mapping, optional
        Display labels for steps and states.
    """
    import seaborn as sns

    ax = _axes(ax, figsize=(7, 5))
    frame = _select(summary, where)
    wide = frame.pivot_table(index=from_col, columns=to_col, values=value, observed=False, aggfunc="first")
    size_col = "n_persons" if "n_persons" in frame else "n"
    sizes = frame.pivot_table(index=from_col, columns=to_col, values=size_col, observed=False, aggfunc="first")
    hidden = (sizes < min_cell) & (sizes > 0)
    shown = wide.mask(hidden)
    is_prob = value in ("prob", "share") or value.startswith("ci_")
    annot = shown.map(lambda v: "" if pd.isna(v) else (f"{100 * v:.0f}%" if is_prob else f"{v:,.0f}"))
    sns.heatmap(shown, ax=ax, annot=annot.to_numpy(), fmt="", cmap="Blues", cbar=True, linewidths=0.5,
                vmin=0, vmax=1 if is_prob else None, cbar_kws={"label": value})
    for i, j in zip(*np.nonzero(hidden.to_numpy())):  # seaborn leaves masked cells unannotated
        ax.text(j + 0.5, i + 0.5, f"<{min_cell}", ha="center", va="center", fontsize="small", color="grey")
    names = labels or {}
    ax.set_yticklabels([names.get(t.get_text(), t.get_text()) for t in ax.get_yticklabels()], rotation=0)
    ax.set_xticklabels([names.get(t.get_text(), t.get_text()) for t in ax.get_xticklabels()], rotation=45,
                       ha="right")
    ax.set_ylabel("From step")
    ax.set_xlabel("To step or exit")
    return ax


def plot_flow_bars(flow: pd.DataFrame, *, group_col: str | None = None, reference: pd.DataFrame | None = None,
                   combine_down: bool = True, category_col: str = "category", share_col: str = "share",
                   min_cell: int = 5, ax=None):
    """Stacked bars of a cohort flow per group, next to reference figures (e.g. seed 002).

    Parameters
    ----------
    flow : DataFrame
        ``CohortFlow.summary``.
    group_col : str, optional
        Group column; one bar per group value.
    reference : DataFrame, optional
        Columns ``group``, ``category``, ``share`` (e.g.
        :data:`progression.transitions.SEED002_FLOW_FROM_SEL85`), drawn as hatched bars.
    combine_down : bool, default=True
        Show ``none`` and ``lower`` together as ``none_or_lower`` (seed 002's grouping).
    min_cell : int, default=5
        Bars of groups with fewer persons in the cohort are not drawn.
    """
    ax = _axes(ax, figsize=(8, 4))
    data = flow.copy()
    data[category_col] = data[category_col].astype(str)
    if combine_down:
        data[category_col] = data[category_col].replace({"none": "none_or_lower", "lower": "none_or_lower"})
    keys = [group_col] if group_col else []
    shares = data.groupby([*keys, category_col], observed=True, sort=False)[share_col].sum().reset_index()
    cohort = data.groupby(keys, observed=True)["n_cohort"].first() if keys else pd.Series([data["n_cohort"].iloc[0]])
    bars: list[tuple[str, dict[str, float], bool]] = []
    for key, rows in (shares.groupby(keys, observed=True, sort=False) if keys else [((), shares)]):
        key = key[0] if isinstance(key, tuple) and len(key) == 1 else key
        n = cohort.loc[key] if keys else cohort.iloc[0]
        if not n >= min_cell:  # hidden (NaN) or small cohorts are not drawn
            continue
        label = f"{key} (n={int(n):,})" if keys else f"this panel (n={int(n):,})"
        bars.append((label, dict(zip(rows[category_col], rows[share_col])), False))
    if reference is not None:
        for group, rows in reference.groupby("group", sort=False):
            bars.append((f"seed 002: {group}", dict(zip(rows["category"], rows["share"])), True))
    order = list(dict.fromkeys(c for c in _CATEGORY_COLOURS if any(c in b[1] for b in bars)))
    order += [c for b in bars for c in b[1] if c not in order]
    for i, (label, values, is_reference) in enumerate(bars):
        left = 0.0
        for category in order:
            width = values.get(category, 0.0)
            if not width or np.isnan(width):
                continue
            ax.barh(i, width, left=left, color=_CATEGORY_COLOURS.get(category, "#cccccc"),
                    hatch="//" if is_reference else None, edgecolor="white",
                    label=category if category not in ax.get_legend_handles_labels()[1] else None)
            if width >= 0.04:
                ax.text(left + width / 2, i, f"{100 * width:.0f}%", ha="center", va="center", fontsize="small")
            left += width
    ax.set_yticks(range(len(bars)), [b[0] for b in bars])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("Share of the cohort")
    ax.legend(frameon=False, fontsize="small", ncol=min(len(order), 4), loc="upper center",
              bbox_to_anchor=(0.5, -0.15))
    return ax


def plot_alluvial(counts: pd.DataFrame, *, where: Mapping | None = None, from_col: str = "from_step",
                  to_col: str = "to_step", n_col: str = "n", min_cell: int = 5,
                  labels: Mapping[str, str] | None = None, left_title: str = "from", right_title: str = "to",
                  ax=None):
    """Alluvial (two-column Sankey) figure of flows between states, band widths proportional to counts.

    Parameters
    ----------
    counts : DataFrame
        One row per (from, to) with a count, e.g. ``TransitionMatrix.summary`` or
        ``CohortFlow.summary`` (with ``to_col="category"``).
    where : mapping, optional
        Group values selecting one set of flows.
    min_cell : int, default=5
        Flows with fewer persons (``n_persons`` if present, else ``n_col``) are not drawn.
    """
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path

    ax = _axes(ax, figsize=(7, 6))
    frame = _select(counts, where)
    size = frame["n_persons"] if "n_persons" in frame else frame[n_col]
    frame = frame[(frame[n_col] > 0) & (size >= min_cell)]
    total = frame[n_col].sum()
    if total == 0:
        raise ValueError("no flows to draw (all empty or below min_cell)")
    names = labels or {}
    left_order = [c for c in _categories(counts[from_col]) if c in set(frame[from_col].astype(str))]
    right_order = [c for c in _categories(counts[to_col]) if c in set(frame[to_col].astype(str))]
    gap = 0.02
    left_pos, left_scale = _stack(frame.groupby(frame[from_col].astype(str))[n_col].sum().reindex(left_order)
                                  / total, gap)
    right_pos, right_scale = _stack(frame.groupby(frame[to_col].astype(str))[n_col].sum().reindex(right_order)
                                    / total, gap)
    colours = _palette(left_order)
    left_fill = {k: v[0] for k, v in left_pos.items()}
    right_fill = {k: v[0] for k, v in right_pos.items()}
    rank = {**{("f", c): i for i, c in enumerate(left_order)}, **{("t", c): i for i, c in enumerate(right_order)}}
    flows = sorted(zip(frame[from_col].astype(str), frame[to_col].astype(str), frame[n_col] / total),
                   key=lambda r: (rank[("f", r[0])], rank[("t", r[1])]))
    x0, x1, w = 0.1, 0.9, 0.04
    xm = (x0 + x1) / 2
    for f, t, share in flows:
        y0, y1 = left_fill[f], right_fill[t]
        h0, h1 = share * left_scale, share * right_scale
        left_fill[f] += h0
        right_fill[t] += h1
        path = Path([(x0 + w, y0), (xm, y0), (xm, y1), (x1 - w, y1), (x1 - w, y1 + h1), (xm, y1 + h1),
                     (xm, y0 + h0), (x0 + w, y0 + h0), (x0 + w, y0)],
                    [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4, Path.CURVE4,
                     Path.CURVE4, Path.CLOSEPOLY])
        ax.add_patch(PathPatch(path, facecolor=colours[f], alpha=0.45, edgecolor="none"))
    for side, positions, x, align in (("left", left_pos, x0, "right"), ("right", right_pos, x1, "left")):
        for state, (bottom, height) in positions.items():
            ax.add_patch(Rectangle((x if side == "left" else x - w, bottom), w, height,
                                   facecolor=colours.get(state, "#737373"), edgecolor="none"))
            ax.text(x - 0.01 if side == "left" else x + 0.01, bottom + height / 2,
                    f"{names.get(state, state)} ({100 * height / (left_scale if side == 'left' else right_scale):.0f}%)",
                    ha=align, va="center", fontsize="small")
    ax.text(x0 + w / 2, 1.04, left_title, ha="center", fontweight="bold")
    ax.text(x1 - w / 2, 1.04, right_title, ha="center", fontweight="bold")
    ax.set_xlim(-0.25, 1.25)
    ax.set_ylim(1.08, -0.02)
    ax.axis("off")
    return ax


def _categories(values: pd.Series) -> list[str]:
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories]
    return [str(v) for v in pd.unique(values)]


def _stack(shares: pd.Series, gap: float) -> tuple[dict[str, tuple[float, float]], float]:
    """Bottom and height of each state's block, with gaps, scaled to fit in [0, 1]; and the scale."""
    scale = 1 - gap * max(len(shares) - 1, 0)
    out, bottom = {}, 0.0
    for state, share in shares.items():
        out[state] = (bottom, share * scale)
        bottom += share * scale + gap
    return out, scale


def _palette(states: Sequence[str]) -> dict[str, str]:
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return {s: matplotlib.colors.to_hex(cmap(i / max(len(states) - 1, 1))) for i, s in enumerate(states)}


def plot_km(km: pd.DataFrame, *, by: str | None = "step", x: str = "years", ci: bool = True,
            ylabel: str = "Share still on the step", ax=None):
    """Kaplan-Meier step curves with pointwise intervals, one line per value of ``by``.

    Parameters
    ----------
    km : DataFrame
        :func:`~progression.transitions.durations.time_on_step` or :func:`~progression.transitions.durations.time_to_reentry`.
    by : str or None, default="step"
        Column with one curve per value (None: one curve).
    x : {"years", "time"}
        Time axis in years or in periods.
    """
    ax = _axes(ax)
    groups = km.groupby(by, observed=True, sort=False) if by else [(None, km)]
    for key, curve in groups:
        curve = curve.sort_values(x)
        xs = np.r_[0.0, curve[x].to_numpy()]
        ys = np.r_[1.0, curve["survival"].to_numpy()]
        line, = ax.step(xs, ys, where="post", label=str(key) if by else None)
        if ci and "ci_lower" in curve:
            ax.fill_between(xs, np.r_[1.0, curve["ci_lower"]], np.r_[1.0, curve["ci_upper"]], step="post",
                            color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("Years" if x == "years" else "Periods")
    ax.set_ylabel(ylabel)
    if by:
        ax.legend(frameon=False, fontsize="small")
    return ax


def plot_projection(projection: pd.DataFrame, *, states: Sequence[str] | None = None, kind: str | None = "step",
                    labels: Mapping[str, str] | None = None, ax=None):
    """Projected citizens per step by year, with bootstrap bands when present.

    Parameters
    ----------
    projection : DataFrame
        :func:`~progression.transitions.projection.project_occupancy` output.
    states : sequence of str, optional
        States to draw (default: all of ``kind``).
    kind : {"step", "exit", None}, default="step"
        Draw steps, cumulative exits, or both.
    """
    ax = _axes(ax)
    frame = projection if kind is None else projection[projection["kind"] == kind]
    names = labels or {}
    wanted = list(states) if states is not None else _categories(frame["state"])
    for state in wanted:
        rows = frame[frame["state"].astype(str) == state].sort_values("year")
        if rows.empty:
            continue
        line, = ax.plot(rows["year"], rows["n"], marker="o", markersize=3, label=names.get(state, state))
        if {"n_lower", "n_upper"} <= set(rows.columns):
            ax.fill_between(rows["year"], rows["n_lower"], rows["n_upper"], color=line.get_color(), alpha=0.2,
                            linewidth=0)
    ax.set_xlabel("Year")
    ax.set_ylabel("Citizens")
    ax.legend(frameon=False, fontsize="small", ncol=2)
    return ax
