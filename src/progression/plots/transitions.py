"""Figures for step transitions: free functions over the tidy tables of :mod:`progression.transitions` and
:mod:`progression.analyses.transitions`.

Each function takes a (disclosed) table and ``ax=None``, imports matplotlib inside, and returns the
Axes (or the Figure, for the multi-panel figures). Each step has one colour in every figure
(:func:`progression.plots.style.step_colours`, from the Okabe-Ito palette, which readers with
colour-vision deficiencies tell apart; re-exported here). Cells that disclosure control suppressed are
drawn as such (grey, "·"), never silently left out; tables that did not pass disclosure control are
hidden below ``min_cell`` persons as well. Words come from the label registry in the report's language
(:func:`progression.plots.style.word`); steps and states are named by ``labels`` or the registry.

References
----------
Okabe, M. & Ito, K. (2008). *Color Universal Design (CUD): how to make figures and presentations
that are friendly to colorblind people*. J*Fly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression.plots._base import draws, new_axes
from progression.plots.style import (
    EXIT_COLOURS,
    NONE_COLOUR,
    STEP_PALETTE,
    SUPPRESSED_COLOUR,
    SUPPRESSED_MARK,
    figure_size,
    step_colours,
    word,
)
from progression.staircase import EXIT_STATUSES, as_staircase
from progression.texts import code_label, localise_number


def _names(labels: Mapping[str, str] | None, vocabulary: str = "step") -> dict[str, str]:
    """Display names of states: ``labels`` first, then the registry's (in the current language)."""
    from progression.plots.style import code_names

    return {**code_names(vocabulary), **{str(k): v for k, v in (labels or {}).items()}}


def _scenario(name) -> str:
    """A projection scenario's name in the current language ("step-down x 1.2" -> "trin ned × 1,2")."""
    import re

    found = re.fullmatch(r"step-down x ([\d.]+)", str(name))
    if found:
        return word("plot_stepdown_scenario", factor=localise_number(found.group(1), _language()))
    return code_label(name, "scenario")


def _language() -> str:
    from progression.texts import current_language

    return current_language()


def _percent(value: float) -> str:
    return localise_number(f"{100 * value:.0f}%", _language())

__all__ = [
    "STEP_PALETTE",
    "NONE_COLOUR",
    "EXIT_COLOURS",
    "SUPPRESSED_MARK",
    "step_colours",
    "plot_transition_heatmap",
    "plot_matrix_panels",
    "plot_flow_bars",
    "plot_alluvial",
    "plot_km",
    "plot_km_panels",
    "plot_projection",
    "plot_projection_panels",
]

#: Destinations relative to the start step (Tol's high-contrast scheme, apart from the step colours).
_CATEGORY_COLOURS = {
    "none": "#004488", "lower": "#6699CC", "none_or_lower": "#004488", "same": "#DDAA33", "higher": "#BB5566",
    **EXIT_COLOURS,
}
_SUPPRESSED_COLOUR = SUPPRESSED_COLOUR


def _select(frame: pd.DataFrame, where: Mapping | None) -> pd.DataFrame:
    if not where:
        return frame
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        if column not in frame.columns:
            raise ValueError(f"where: column {column!r} not in the frame; columns: {list(frame.columns)}")
        mask &= (frame[column].astype(str) == str(value)).to_numpy()
    if not mask.any():
        raise ValueError(f"where={dict(where)} selects no rows")
    return frame[mask]


def _size_column(frame: pd.DataFrame, fallback: str = "n") -> str:
    return next((c for c in ("n_described", "n_persons") if c in frame.columns), fallback)


@draws
def plot_transition_heatmap(summary: pd.DataFrame, *, where: Mapping | None = None, value: str = "prob",
                            from_col: str = "from_step", to_col: str = "to_step", min_cell: int = 5,
                            labels: Mapping[str, str] | None = None, colorbar: bool = True, staircase=None,
                            short_columns: bool = False, ax=None):
    """Annotated heatmap of a transition matrix (rows = from step, columns = destination).

    Parameters
    ----------
    summary : DataFrame
        ``TransitionMatrix.summary()``, or its disclosed version (``ctx.write_result``).
    where : mapping, optional
        Group values selecting one matrix, e.g. ``{"municipality_set": "case"}``.
    value : str, default="prob"
        Column shown; probabilities are annotated in percent.
    min_cell : int, default=5
        Cells with fewer persons (``n_described``, ``n_persons`` or ``n``) are hidden and marked
        ``<min_cell``; cells suppressed by disclosure control are grey with "·".
    labels : mapping, optional
        Display labels for steps and states.
    colorbar : bool, default=True
        Draw the colour bar.
    staircase : Staircase or StaircaseParams, optional
        The order of the rows and columns (for tables read back from CSV files).
    short_columns : bool, default=False
        Name the columns by their short names (``§85``), for narrow panels.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> from progression.transitions import TransitionMatrix
    >>> ax = plot_transition_heatmap(TransitionMatrix(n_boot=0).fit(load_example("panel_year")).summary())
    >>> ax.get_ylabel()
    'from step'
    """
    import seaborn as sns

    ax = new_axes(ax, figsize=(6.4, 4.6))
    frame = _select(summary, where)
    wide = frame.pivot_table(index=from_col, columns=to_col, values=value, observed=False, aggfunc="first",
                             dropna=False)
    wide.index, wide.columns = wide.index.astype(str), wide.columns.astype(str)
    wide = wide.reindex(index=_categories(frame[from_col], staircase), columns=_categories(frame[to_col], staircase))
    sizes = frame.pivot_table(index=from_col, columns=to_col, values=_size_column(frame), observed=False,
                              aggfunc="first", dropna=False)
    sizes.index, sizes.columns = sizes.index.astype(str), sizes.columns.astype(str)
    sizes = sizes.reindex_like(wide)
    small = (sizes < min_cell) & (sizes > 0)
    suppressed = wide.isna() & sizes.isna()
    shown = wide.mask(small)
    is_prob = value in ("prob", "share", "conf_low", "conf_high")
    annot = shown.map(lambda v: "" if pd.isna(v) else (_percent(v) if is_prob else f"{v:,.0f}"))
    cbar_kws = {"label": word("plot_share_of_row") if is_prob else value, "shrink": 0.8}
    sns.heatmap(shown, ax=ax, annot=annot.to_numpy(), fmt="", cmap="Blues", cbar=colorbar, linewidths=0.5,
                vmin=0, vmax=1 if is_prob else None, cbar_kws=cbar_kws if colorbar else None,
                annot_kws={"fontsize": "small"})
    for (i, j), mark in [*((ij, SUPPRESSED_MARK) for ij in zip(*np.nonzero(suppressed.to_numpy()))),
                         *((ij, f"<{min_cell}") for ij in zip(*np.nonzero(small.to_numpy())))]:
        from matplotlib.patches import Rectangle

        ax.add_patch(Rectangle((j, i), 1, 1, facecolor=_SUPPRESSED_COLOUR, edgecolor="white", linewidth=0.5))
        ax.text(j + 0.5, i + 0.5, mark, ha="center", va="center", color="#555555",
                fontsize="x-large" if mark == SUPPRESSED_MARK else "small", fontweight="bold")
    names = _names(labels)
    column_names = _names(None, "step_short") if short_columns else names
    ax.set_yticks(np.arange(len(wide.index)) + 0.5, [names.get(str(t), str(t)) for t in wide.index], rotation=0)
    if short_columns:
        ax.set_xticks(np.arange(len(wide.columns)) + 0.5, [column_names.get(str(t), str(t)) for t in wide.columns],
                      rotation=90, fontsize="small")
    else:
        ax.set_xticks(np.arange(len(wide.columns)) + 0.5, [column_names.get(str(t), str(t)) for t in wide.columns],
                      rotation=45, ha="right")
    ax.set_ylabel(word("plot_from_step"))
    ax.set_xlabel(word("plot_to_step_or_exit"))
    return ax


@draws
def plot_matrix_panels(table: pd.DataFrame, *, by: str, values: Sequence, titles: Sequence[str] | None = None,
                       labels: Mapping[str, str] | None = None, min_cell: int = 5, value: str = "prob"):
    """Transition matrices side by side (one per value of ``by``), sharing rows and one colour bar.

    The row labels are drawn once, on the left, and the colour bar once, on the right, so that no
    label runs into a neighbouring panel.

    Parameters
    ----------
    table : DataFrame
        Matrices in one long table, e.g. the disclosed ``transitions_by_group`` table.
    by : str
        The column telling the matrices apart (e.g. ``group``).
    values : sequence
        The values of ``by`` to draw, left to right.
    titles : sequence of str, optional
        Panel titles (default: the values' names in the registry, e.g. "case municipalities").

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> from progression.transitions import TransitionMatrix
    >>> panel = load_example("panel_year").assign(sex_group=lambda d: d["person_id"] % 2)
    >>> table = TransitionMatrix(n_boot=0).fit(panel, groups=["sex_group"]).summary()
    >>> fig = plot_matrix_panels(table, by="sex_group", values=[0, 1])
    >>> len(fig.axes)
    3
    """
    import matplotlib.pyplot as plt

    values = list(values)
    fig, axes = plt.subplots(1, len(values), figsize=figure_size(len(values), panel=(4.4, 3.6)), sharey=True,
                             layout="constrained", squeeze=False)
    for k, (ax, group) in enumerate(zip(axes[0], values)):
        plot_transition_heatmap(table, where={by: group}, value=value, min_cell=min_cell, labels=labels,
                                colorbar=False, short_columns=True, ax=ax)
        ax.set_title(str(titles[k]) if titles else code_label(group, by), fontsize=10)
        if k:
            ax.set_ylabel("")
            ax.tick_params(axis="y", left=False, labelleft=False)
    mappable = axes[0][0].collections[0]
    fig.colorbar(mappable, ax=axes[0].tolist(), shrink=0.8, label=word("plot_share_of_row"))
    return fig


@draws
def plot_flow_bars(flow: pd.DataFrame, *, group_col: str | None = None, reference: pd.DataFrame | None = None,
                   reference_label: str | None = None, reference_col: str = "share", combine_down: bool = True,
                   category_col: str = "category", share_col: str = "share", min_cell: int = 5, ax=None):
    """Stacked bars of a cohort flow per group, next to published figures.

    Parameters
    ----------
    flow : DataFrame
        ``CohortFlow.summary()`` (or its disclosed version).
    group_col : str, optional
        Group column; one bar per group value.
    reference : DataFrame, optional
        Columns ``group``, ``category`` and ``reference_col`` (e.g.
        :data:`progression.transitions.published.PUBLISHED_FLOW_FROM_SEL85`), drawn as hatched bars.
    reference_label : str, optional
        What the reference bars are, e.g. ``"calibration target"`` when the synthetic data were
        generated to match them (:func:`progression.transitions.published.reference_role`); written in
        the current language. Default: "published".
    combine_down : bool, default=True
        Show ``none`` and ``lower`` together as ``none_or_lower`` (the report's grouping).
    min_cell : int, default=5
        Bars of groups with fewer persons in the cohort (or a suppressed cohort) are not drawn.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax, figsize=(7.5, 3.6))
    data = flow.copy()
    data[category_col] = data[category_col].astype(str)
    if combine_down:
        data[category_col] = data[category_col].replace({"none": "none_or_lower", "lower": "none_or_lower"})
    keys = [group_col] if group_col else []
    shares = data.groupby([*keys, category_col], observed=True, sort=False)[share_col].sum(min_count=1).reset_index()
    cohort = data.groupby(keys, observed=True)["n_cohort"].first() if keys else pd.Series([data["n_cohort"].iloc[0]])
    bars: list[tuple[str, dict[str, float], bool]] = []
    for key, rows in (shares.groupby(keys, observed=True, sort=False) if keys else [((), shares)]):
        key = key[0] if isinstance(key, tuple) and len(key) == 1 else key
        n = cohort.loc[key] if keys else cohort.iloc[0]
        if not n >= min_cell:  # hidden (NaN) or small cohorts are not drawn
            continue
        n_text = localise_number(f"{int(n):,}", _language())
        label = f"{code_label(key, 'group')} (n = {n_text})" if keys else f"{word('plot_this_panel')} (n = {n_text})"
        bars.append((label, dict(zip(rows[category_col], rows[share_col])), False))
    if reference is not None:
        what = code_label(reference_label, "role") if reference_label else word("published")
        for group, rows in reference.groupby("group", sort=False):
            bars.append((f"{what}: {code_label(group, 'group')}", dict(zip(rows["category"], rows[reference_col])),
                         True))
    order = list(dict.fromkeys(c for c in _CATEGORY_COLOURS if any(c in b[1] for b in bars)))
    order += [c for b in bars for c in b[1] if c not in order]
    for i, (label, values, is_reference) in enumerate(bars):
        left = 0.0
        for category in order:
            width = values.get(category, 0.0)
            if pd.isna(width):  # suppressed: a grey block at the end of the bar
                continue
            if not width:
                continue
            name = code_label(category, "destination")
            ax.barh(i, width, left=left, color=_CATEGORY_COLOURS.get(category, "#cccccc"),
                    hatch="//" if is_reference else None, edgecolor="white",
                    label=name if name not in ax.get_legend_handles_labels()[1] else None)
            if width >= 0.04:
                colour = "white" if category in ("none", "none_or_lower", "died", "emigrated", "higher") else "black"
                ax.text(left + width / 2, i, _percent(width), ha="center", va="center", fontsize="small",
                        color=colour, bbox={"boxstyle": "round,pad=0.15", "facecolor": _CATEGORY_COLOURS.get(
                            category, "#cccccc"), "edgecolor": "none"} if is_reference else None)
            left += width
        if left < 1 - 1e-9 and any(pd.isna(v) for v in values.values()):
            ax.barh(i, 1 - left, left=left, color=_SUPPRESSED_COLOUR, edgecolor="white")
            ax.text(left + (1 - left) / 2, i, SUPPRESSED_MARK, ha="center", va="center")
    ax.set_yticks(range(len(bars)), [b[0] for b in bars])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(word("plot_share_of_cohort"))
    ax.legend(frameon=False, fontsize="small", ncol=min(len(order), 3), loc="upper center",
              bbox_to_anchor=(0.5, -0.18))
    return ax


@draws
def plot_alluvial(counts: pd.DataFrame, *, where: Mapping | None = None, from_col: str = "from_step",
                  to_col: str = "to_step", n_col: str = "n", min_cell: int = 5,
                  from_states: Sequence[str] | None = None, labels: Mapping[str, str] | None = None,
                  left_title: str | None = None, right_title: str | None = None, staircase=None, ax=None):
    """Alluvial (two-column Sankey) figure of flows between states, band widths proportional to counts.

    Parameters
    ----------
    counts : DataFrame
        One row per (from, to) with a count, e.g. ``TransitionMatrix.summary()`` or
        ``CohortFlow.summary()`` (with ``to_col="category"``).
    where : mapping, optional
        Group values selecting one set of flows.
    min_cell : int, default=5
        Flows with fewer persons (``n_persons`` if present, else ``n_col``) are not drawn, nor are
        flows suppressed by disclosure control (the caption says so).
    from_states : sequence of str, optional
        Origins to draw (default: all).

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path

    ax = new_axes(ax, figsize=(7.5, 5.5))
    frame = _select(counts, where)
    if from_states is not None:
        frame = frame[frame[from_col].astype(str).isin([str(s) for s in from_states])]
    size = frame["n_persons"] if "n_persons" in frame else frame[n_col]
    frame = frame[(frame[n_col] > 0) & (size >= min_cell)]
    total = frame[n_col].sum()
    if total == 0:
        raise ValueError("no flows to draw (all empty or below min_cell)")
    names = _names(labels)
    left_order = [c for c in _categories(counts[from_col], staircase) if c in set(frame[from_col].astype(str))]
    right_order = [c for c in _categories(counts[to_col], staircase) if c in set(frame[to_col].astype(str))]
    gap = 0.02
    left_pos, left_scale = _stack(frame.groupby(frame[from_col].astype(str))[n_col].sum().reindex(left_order)
                                  / total, gap)
    right_pos, right_scale = _stack(frame.groupby(frame[to_col].astype(str))[n_col].sum().reindex(right_order)
                                    / total, gap)
    colours = step_colours([*left_order, *right_order], staircase=staircase)
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
                    f"{names.get(state, state)} ({_percent(height / (left_scale if side == 'left' else right_scale))})",
                    ha=align, va="center", fontsize="small")
    ax.text(x0 + w / 2, 1.04, left_title or word("plot_from"), ha="center", fontweight="bold")
    ax.text(x1 - w / 2, 1.04, right_title or word("plot_to"), ha="center", fontweight="bold")
    ax.set_xlim(-0.25, 1.25)
    ax.set_ylim(1.08, -0.02)
    ax.axis("off")
    return ax


def _categories(values: pd.Series, staircase=None) -> list[str]:
    """The states of a column in the staircase's order (steps, then exits), others after them.

    A categorical column keeps its own order; a column read back from a CSV file is put in order here.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [str(c) for c in values.cat.categories]
    present = [str(v) for v in pd.unique(values.dropna())]
    order = [*as_staircase(staircase).steps, *EXIT_STATUSES]
    return [s for s in order if s in present] + [s for s in present if s not in order]


def _stack(shares: pd.Series, gap: float) -> tuple[dict[str, tuple[float, float]], float]:
    """Bottom and height of each state's block, with gaps, scaled to fit in [0, 1]; and the scale."""
    scale = 1 - gap * max(len(shares) - 1, 0)
    out, bottom = {}, 0.0
    for state, share in shares.items():
        out[state] = (bottom, share * scale)
        bottom += share * scale + gap
    return out, scale


@draws
def plot_km(km: pd.DataFrame, *, by: str | None = "step", x: str = "years", ci: bool = True,
            labels: Mapping[str, str] | None = None, ylabel: str | None = None, ax=None):
    """Kaplan-Meier step curves with pointwise intervals, one line per value of ``by``.

    Parameters
    ----------
    km : DataFrame
        :func:`~progression.transitions.durations.time_on_step` or
        :func:`~progression.transitions.durations.time_to_reentry` (cut by
        :func:`~progression.transitions.durations.km_disclosed`).
    by : str or None, default="step"
        Column with one curve per value (None: one curve), coloured by :func:`step_colours`.
    x : {"years", "time"}
        Time axis in years or in periods.
    labels : mapping, optional
        Display labels of the curves.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    groups = km.groupby(km[by].astype(str), observed=True, sort=False) if by else [(None, km)]
    colours = step_colours(km[by].astype(str).unique() if by else ())
    names = _names(labels)
    for key, curve in groups:
        curve = curve.sort_values(x)
        xs = np.r_[0.0, curve[x].to_numpy()]
        ys = np.r_[1.0, curve["survival"].to_numpy()]
        line, = ax.step(xs, ys, where="post", label=names.get(key, key) if by else None,
                        color=colours.get(key) if by else None)
        if ci and "conf_low" in curve:
            ax.fill_between(xs, np.r_[1.0, curve["conf_low"]], np.r_[1.0, curve["conf_high"]], step="post",
                            color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(word("plot_years") if x == "years" else word("plot_periods"))
    ax.set_ylabel(ylabel or word("plot_share_on_step"))
    if by:
        ax.legend(frameon=False, fontsize="small")
    return ax


@draws
def plot_km_panels(on_step: pd.DataFrame, reentry: pd.DataFrame, *, labels: Mapping[str, str] | None = None):
    """Time on each step (left) and time to re-entry by the step left (right), as Kaplan-Meier curves.

    Parameters
    ----------
    on_step : DataFrame
        The disclosed ``transitions_time_on_step`` table (its ``grouping == "all"`` rows are drawn).
    reentry : DataFrame
        The disclosed ``transitions_reentry_curve`` table.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=figure_size(2, panel=(4.5, 3.8)), layout="constrained")
    overall = on_step[on_step["grouping"] == "all"] if "grouping" in on_step else on_step
    plot_km(overall, by="step", labels=labels, ax=axes[0])
    axes[0].set_title(word("plot_time_on_step"), fontsize=9.5)
    plot_km(reentry, by="left_step", labels=labels, ylabel=word("plot_share_without_services"), ax=axes[1])
    axes[1].set_title(word("plot_time_to_reentry"), fontsize=9.5, wrap=True)
    return fig


@draws
def plot_projection(projection: pd.DataFrame, *, states: Sequence[str] | None = None, kind: str | None = "step",
                    labels: Mapping[str, str] | None = None, legend: bool = True, staircase=None, ax=None):
    """Projected citizens per step by year, with bootstrap bands when present.

    Parameters
    ----------
    projection : DataFrame
        :func:`~progression.transitions.projection.project_occupancy` output (``kind`` optional).
    states : sequence of str, optional
        States to draw (default: all of ``kind``).
    kind : {"step", "exit", None}, default="step"
        Draw steps, cumulative exits, or both (when the table has a ``kind`` column).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    frame = projection if kind is None or "kind" not in projection else projection[projection["kind"] == kind]
    names = _names(labels)
    wanted = list(states) if states is not None else _categories(frame["state"], staircase)
    colours = step_colours(wanted, staircase=staircase)
    for state in wanted:
        rows = frame[frame["state"].astype(str) == state].sort_values("year")
        if rows.empty:
            continue
        line, = ax.plot(rows["year"], rows["n"], marker="o", markersize=3, label=names.get(state, state),
                        color=colours[state])
        if {"conf_low", "conf_high"} <= set(rows.columns):
            ax.fill_between(rows["year"], rows["conf_low"], rows["conf_high"], color=line.get_color(), alpha=0.2,
                            linewidth=0)
    ax.set_xlabel(word("plot_year"))
    ax.set_ylabel(word("plot_citizens"))
    if legend:
        ax.legend(frameon=False, fontsize="small", ncol=2)
    return ax


@draws
def plot_projection_panels(projection: pd.DataFrame, *, states: Sequence[str] | None = None,
                           labels: Mapping[str, str] | None = None, scenario_col: str = "scenario"):
    """One projection panel per scenario, sharing the y axis and one legend below.

    Parameters
    ----------
    projection : DataFrame
        The disclosed ``transitions_projection`` table (``scenario``, ``year``, ``state``, ``n``, band).
    states : sequence of str, optional
        States to draw (default: all).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    scenarios = list(pd.unique(projection[scenario_col]))
    fig, axes = plt.subplots(1, len(scenarios), figsize=figure_size(len(scenarios), panel=(3.4, 3.8)), sharey=True,
                             layout="constrained", squeeze=False)
    for k, (ax, name) in enumerate(zip(axes[0], scenarios)):
        plot_projection(projection[projection[scenario_col] == name], states=states, kind=None, labels=labels,
                        legend=False, ax=ax)
        ax.set_title(_scenario(name), fontsize=9.5)
        if k:
            ax.set_ylabel("")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=min(len(names), 3), frameon=False, fontsize="small")
    return fig
