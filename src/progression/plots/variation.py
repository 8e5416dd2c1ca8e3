"""Figures of the spending-variation analysis: spending by municipality, the decomposition of R²,
caterpillar and funnel plots, and the split of spending into coverage and unit cost.

Each function takes disclosed tidy tables (the tables :mod:`progression.analyses.variation` returns, after
``ctx.write_result``) and ``ax=None``, imports matplotlib only through :func:`progression.plots._base.new_axes`
(or inside the function), draws and returns the Axes (or the Figure of a multi-panel function). Nothing is
estimated here. Suppressed cells are drawn as such, never silently left out. Words, areas and criteria are
named by the label registry in the report's language (:func:`progression.plots.style.word`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression.plots._base import draws, new_axes
from progression.plots.style import PAGE_WIDTH, word
from progression.texts import code_label, current_language, label, localise_number


def _wrapped(title: str, width: int = 46) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(title, width)) or title


def _number(value: float, spec: str) -> str:
    return localise_number(format(value, spec), current_language())

__all__ = [
    "plot_spending_by_municipality",
    "plot_spending_panels",
    "plot_shapley_decomposition",
    "plot_shapley_panels",
    "plot_caterpillar",
    "plot_funnel",
    "plot_benchmark_panels",
    "plot_unit_cost_split",
]

#: Above, below and within an interval (vermillion, blue, grey: Okabe-Ito).
_POSITION_COLOURS = {"above": "#D55E00", "below": "#0072B2", "within": "#8c8c8c"}
_SUPPRESSED = "#9e9e9e"
#: The age group each area's spending is divided by (for titles).
_AGE_GROUPS = {"adults": "18–66", "children": "0–22"}


def _subplots(n_rows: int, n_cols: int, figsize):
    import matplotlib.pyplot as plt

    return plt.subplots(n_rows, n_cols, figsize=(min(figsize[0], PAGE_WIDTH), figsize[1]), squeeze=False)


def _rows(table: pd.DataFrame, **where) -> pd.DataFrame:
    for column, value in where.items():
        table = table[table[column] == value]
    return table


# -- spending per inhabitant -----------------------------------------------------------------------------
def _draw_spending(ax, values: np.ndarray, mean, low, high) -> None:
    values = np.sort(values)
    colours = np.full(len(values), _POSITION_COLOURS["within"], dtype=object)
    if low is not None:
        colours[values < low] = _POSITION_COLOURS["below"]
    if high is not None:
        colours[values > high] = _POSITION_COLOURS["above"]
    ax.bar(np.arange(len(values)), values, width=0.85, color=list(colours))
    if mean is not None:
        ax.axhline(mean, color="black", linewidth=1, label=word("plot_mean_value", value=_number(mean, ",.0f")))
        ax.legend(fontsize=7)
    for threshold in (low, high):
        if threshold is not None:
            ax.axhline(threshold, color="black", linestyle=":", linewidth=1)
    ax.set_xticks([])
    ax.set_xlabel(word("plot_municipalities_sorted", n=len(values)))
    ax.set_ylabel(word("plot_spending_per_inhabitant"))


@draws
def plot_spending_by_municipality(data: pd.DataFrame, *, value: str = "spend_per_capita", mean: float | None = None,
                                  low: float | None = None, high: float | None = None, ax=None):
    """Spending per inhabitant of each municipality as sorted bars, with the mean and two thresholds.

    The layout of figur 2.1 and 2.2 of Finansministeriet, Indenrigs- og Socialministeriet & KL (2009),
    *Det specialiserede socialområde – redskaber til styring og prioritering* (bars by municipality, the
    national average as a line); the thresholds the report counts municipalities against are dotted.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per municipality.
    value : str, default="spend_per_capita"
        Spending per inhabitant.
    mean : float, optional
        The (population-weighted) national mean, drawn as a solid line.
    low, high : float, optional
        Thresholds, drawn as dotted lines; bars under ``low`` and over ``high`` are coloured.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"spend_per_capita": [9_500.0, 6_500.0, 8_000.0]})
    >>> ax = plot_spending_by_municipality(data, mean=8_000.0, low=7_000.0, high=9_000.0)
    >>> [round(bar.get_height()) for bar in ax.patches]
    [6500, 8000, 9500]
    """
    ax = new_axes(ax, figsize=(6, 3.6))
    _draw_spending(ax, data[value].to_numpy(dtype=float), mean, low, high)
    return ax


@draws
def plot_spending_panels(spending: pd.DataFrame, summary: pd.DataFrame):
    """One panel per area of :func:`plot_spending_by_municipality`, with the area's mean and thresholds.

    Parameters
    ----------
    spending : pandas.DataFrame
        The cross-section (``area``, ``spend_per_capita``, ``year``).
    summary : pandas.DataFrame
        The spending summary (``area``, ``weighted_mean``, ``low``, ``high``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    areas = list(dict.fromkeys(summary["area"]))
    fig, axes = _subplots(1, len(areas), figsize=(4.5 * len(areas), 3.4))
    for ax, area in zip(axes[0], areas):
        row = _rows(summary, area=area).iloc[0]
        part = _rows(spending, area=area)
        _draw_spending(ax, part["spend_per_capita"].to_numpy(dtype=float), row["weighted_mean"], row["low"],
                       row["high"])
        age = _AGE_GROUPS.get(area)
        name, year = code_label(area, "area"), int(part["year"].iloc[0])
        ax.set_title(word("plot_area_title", area=name, age=age, year=year) if age else
                     word("plot_area_title_no_age", area=name, year=year), fontsize=9)
    fig.tight_layout()
    return fig


# -- Shapley decomposition -------------------------------------------------------------------------------
def _draw_shapley(ax, table: pd.DataFrame, share: bool, labels: Mapping[str, str] | None) -> float:
    frame = table[table["term"] != "R2"]
    total_row = table[table["term"] == "R2"]
    total = float(total_row["estimate"].iloc[0]) if len(total_row) else float(frame["estimate"].sum())
    column = "share" if share else "estimate"
    frame = frame.sort_values(column)
    names = [labels.get(t, t) if labels and t in labels else label(t, default=code_label(t, "term"))
             for t in frame["term"]]
    values = frame[column].to_numpy(dtype=float)
    low, high = ("share_conf_low", "share_conf_high") if share else ("conf_low", "conf_high")
    errors = None
    if low in frame.columns:
        errors = np.vstack([values - frame[low].to_numpy(dtype=float), frame[high].to_numpy(dtype=float) - values])
        errors = np.nan_to_num(errors.clip(min=0))
    ax.barh(names, values, xerr=errors, color="#0072B2", ecolor="#333333", capsize=3)
    ax.set_xlabel(word("plot_share_explained") if share else word("plot_part_of_r2"))
    ax.set_title(word("plot_shapley_title", total=_number(total, ".2f")))
    ax.axvline(0, color="black", linewidth=0.8)
    return total


@draws
def plot_shapley_decomposition(table: pd.DataFrame, *, share: bool = False, labels: Mapping[str, str] | None = None,
                               ax=None):
    """Horizontal bars of each criterion's (or group's) part of R², with bootstrap intervals when given.

    Parameters
    ----------
    table : pandas.DataFrame
        One decomposition: ``term``, ``estimate``, ``share`` and, from the bootstrap, ``conf_low``,
        ``conf_high``, ``share_conf_low``, ``share_conf_high``; a row ``term == "R2"`` gives the total
        shown in the title.
    share : bool, default=False
        Show parts as shares of R² (summing to 1) instead of R² points.
    labels : mapping, optional
        Display names of the terms (e.g. English labels of Danish criteria).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax, figsize=(5.5, 3))
    _draw_shapley(ax, table, share, labels)
    return ax


@draws
def plot_shapley_panels(shapley: pd.DataFrame, *, models: Sequence[str] = ("seed004 criteria", "all criteria, groups"),
                        labels: Mapping[str, str] | None = None):
    """The decompositions of both areas (rows) and two models (columns) in one figure.

    Parameters
    ----------
    shapley : pandas.DataFrame
        The Shapley table (``area``, ``model``, ``term``, ``estimate``, intervals).
    models : sequence of str
        The values of ``model`` to show, one column each.
    labels : mapping, optional
        Display names of the terms.

    Returns
    -------
    matplotlib.figure.Figure
    """
    areas = list(dict.fromkeys(shapley["area"]))
    fig, axes = _subplots(len(areas), len(models), figsize=(4.5 * len(models), 2.9 * len(areas)))
    for row, area in zip(axes, areas):
        for ax, model in zip(row, models):
            total = _draw_shapley(ax, _rows(shapley, area=area, model=model), False, labels)
            ax.set_title(word("plot_area_model_title", area=code_label(area, "area"), model=code_label(model, "model"),
                              total=_number(total, ".2f")), fontsize=8.5)
            ax.tick_params(axis="y", labelsize=7.5)
    fig.tight_layout()
    return fig


# -- expected against actual -----------------------------------------------------------------------------
def _annotate(ax, frame: pd.DataFrame, x, y: str, id_col: str, labels: Mapping | None, *, log_x: bool = False) -> None:
    """Name a few municipalities at their points; names that would run into each other are stacked above one
    another, each joined to its point by a thin line."""
    hits = []
    for key, name in (labels or {}).items():
        hit = np.flatnonzero(frame[id_col].to_numpy() == key)
        if len(hit):
            hits.append((float(x[hit[0]]), float(frame[y].iloc[hit[0]]), str(name)))
    if not hits:
        return
    xs = np.log10(np.asarray(x, dtype=float)) if log_x else np.asarray(x, dtype=float)
    span = float(np.nanmax(xs) - np.nanmin(xs)) or 1.0
    placed: list[tuple[float, int]] = []
    for px, py, name in sorted(hits):
        position = (np.log10(px) if log_x else px) / span
        level = 0
        while any(abs(position - q) < 0.09 and level == lv for q, lv in placed):
            level += 1
        placed.append((position, level))
        ax.annotate(name, (px, py), fontsize=7, xytext=(4, 4 + 10 * level), textcoords="offset points",
                    arrowprops={"arrowstyle": "-", "color": "#777777", "linewidth": 0.5} if level else None)


def _draw_caterpillar(ax, benchmark: pd.DataFrame, id_col: str, labels: Mapping | None) -> None:
    frame = benchmark.sort_values("residual").reset_index(drop=True)
    x = np.arange(len(frame))
    ax.vlines(x, frame["pred_low"] - frame["expected"], frame["pred_high"] - frame["expected"], color="#c0c0c0",
              linewidth=2)
    for position, colour in _POSITION_COLOURS.items():
        part = (frame["position"] == position).to_numpy()
        ax.scatter(x[part], frame.loc[part, "residual"], s=14, color=colour, label=code_label(position, "position"),
                   zorder=3)
    _annotate(ax, frame, x, "residual", id_col, labels)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel(word("plot_sorted_by_residual"))
    ax.set_ylabel(word("plot_actual_minus_expected"))
    ax.legend(title=word("plot_vs_prediction_interval"), fontsize=7, title_fontsize=7)


@draws
def plot_caterpillar(benchmark: pd.DataFrame, *, id_col: str = "municipality", labels: Mapping | None = None, ax=None):
    """Actual minus expected spending per municipality, sorted, with the prediction interval around zero.

    Parameters
    ----------
    benchmark : pandas.DataFrame
        One area's rows of the benchmark table (``residual``, ``expected``, ``pred_low``, ``pred_high``,
        ``position``).
    id_col : str, default="municipality"
    labels : mapping, optional
        Id → name of the municipalities to annotate (e.g. ``SPECIAL_MUNICIPALITIES``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Points coloured by whether the municipality lies above, below or within its interval.
    """
    ax = new_axes(ax, figsize=(6, 3.5))
    _draw_caterpillar(ax, benchmark, id_col, labels)
    return ax


def _draw_funnel(ax, funnel: pd.DataFrame, id_col: str, labels: Mapping | None) -> None:
    styles = ["--", ":", "-."]
    for i, (level, part) in enumerate(funnel.groupby("level", sort=True)):
        part = part.sort_values("size")
        style = styles[i % len(styles)]
        ax.plot(part["size"], part["limit_high"], style, color="#555555", linewidth=1,
                label=word("plot_limits", level=_number(100 * level, "g") + "%"))
        ax.plot(part["size"], part["limit_low"], style, color="#555555", linewidth=1)
    points = funnel.drop_duplicates(id_col).reset_index(drop=True)
    ax.scatter(points["size"], points["deviation"], s=14, color="#0072B2", zorder=3)
    _annotate(ax, points, points["size"].to_numpy(), "deviation", id_col, labels, log_x=True)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_xlabel(word("plot_population_log"))
    ax.set_ylabel(word("plot_actual_minus_expected"))
    ax.legend(fontsize=7)


@draws
def plot_funnel(funnel: pd.DataFrame, *, id_col: str = "municipality", labels: Mapping | None = None, ax=None):
    """Funnel plot: deviation from expected spending against population, with control limits.

    Parameters
    ----------
    funnel : pandas.DataFrame
        One area's rows of the funnel table (``size``, ``deviation``, ``level``, ``limit_low``,
        ``limit_high``; one row per municipality and level).
    id_col : str, default="municipality"
    labels : mapping, optional
        Id → name of the municipalities to annotate.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax, figsize=(6, 3.5))
    _draw_funnel(ax, funnel, id_col, labels)
    return ax


@draws
def plot_benchmark_panels(benchmark: pd.DataFrame, funnel: pd.DataFrame, *, labels: Mapping | None = None):
    """Per area (rows): the caterpillar plot (left) and the funnel plot (right).

    Parameters
    ----------
    benchmark, funnel : pandas.DataFrame
        The benchmark and funnel tables of both areas (``area`` column).
    labels : mapping, optional
        Id → name of the municipalities to annotate.

    Returns
    -------
    matplotlib.figure.Figure
    """
    areas = list(dict.fromkeys(benchmark["area"]))
    fig, axes = _subplots(len(areas), 2, figsize=(PAGE_WIDTH, 3.4 * len(areas)))
    for (left, right), area in zip(axes, areas):
        _draw_caterpillar(left, _rows(benchmark, area=area), "municipality", labels)
        _draw_funnel(right, _rows(funnel, area=area), "municipality", labels)
        name = code_label(area, "area")
        left.set_title(_wrapped(word("plot_caterpillar_title", area=name)), fontsize=8.5)
        right.set_title(_wrapped(word("plot_funnel_title", area=name)), fontsize=8.5)
    fig.tight_layout()
    return fig


# -- coverage × unit cost --------------------------------------------------------------------------------
@draws
def plot_unit_cost_split(decomposition: pd.DataFrame, *, ax=None):
    """Coverage against unit cost, both as log differences from the country, one point per municipality.

    Points on a diagonal line x + y = c spend the same per inhabitant; the lines are drawn at c = 0 (the
    national level) and ±log(1.25). Municipalities whose unit cost is suppressed but whose coverage is shown
    are grey ticks on the x axis at their coverage; the number of municipalities with both suppressed is
    written in the corner.

    Parameters
    ----------
    decomposition : pandas.DataFrame
        The disclosed unit-cost table: ``log_diff_coverage`` and ``log_diff_unit_cost`` per municipality.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> split = pd.DataFrame({"log_diff_coverage": [0.1, -0.2, None], "log_diff_unit_cost": [0.0, 0.3, None]})
    >>> ax = plot_unit_cost_split(split)
    >>> [t.get_text() for t in ax.texts]
    ['· 1 municipality suppressed (too few recipients to show)']
    """
    ax = new_axes(ax, figsize=(5, 5))
    coverage, cost = decomposition["log_diff_coverage"], decomposition["log_diff_unit_cost"]
    both = coverage.notna() & cost.notna()
    x, y = coverage[both].to_numpy(dtype=float), cost[both].to_numpy(dtype=float)
    ax.scatter(x, y, s=14, color="#0072B2", zorder=3)
    reach = max(np.abs(np.r_[x, y]).max(initial=0.1) * 1.1, 0.1)
    grid = np.array([-reach, reach])
    for level, style in ((0.0, "-"), (np.log(1.25), ":"), (-np.log(1.25), ":")):
        ax.plot(grid, level - grid, style, color="#555555", linewidth=1)
    partly = coverage.notna() & cost.isna()
    if partly.any():
        ax.plot(coverage[partly], np.full(int(partly.sum()), -reach), "|", color=_SUPPRESSED, markersize=12,
                label=word("plot_with_cost_suppressed", n=int(partly.sum())))
        ax.legend(fontsize=7, loc="upper right")
    hidden = int((coverage.isna() & cost.isna()).sum())
    if hidden:
        note = word("plot_municipality_suppressed") if hidden == 1 else word("plot_municipalities_suppressed",
                                                                            n=hidden)
        ax.text(0.02, 0.98, note, transform=ax.transAxes, fontsize=7, va="top", color="#555555")
    ax.set_xlim(-reach, reach)
    ax.set_ylim(-reach, reach)
    ax.set_xlabel(word("plot_log_coverage"))
    ax.set_ylabel(word("plot_log_unit_cost"))
    ax.set_title(word("plot_equal_spending"), fontsize=9)
    return ax
