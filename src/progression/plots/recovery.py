"""Figures for recovery-oriented progression, drawn from the disclosed tables of
:mod:`progression.analyses.progression`.

Each single-panel function takes a tidy table and ``ax=None``, imports matplotlib inside and returns the
Axes; the ``*_panels`` functions draw one panel per instrument (or target group) and return the Figure.
A suppressed cell (missing after disclosure control) is never silently left out: hidden bins, bars,
heatmap cells and municipalities are drawn hatched or grey and say so in the legend. Words, instruments,
classes and groups are named by the label registry in the report's language
(:func:`progression.plots.style.word`); change classes keep :data:`CLASS_COLOURS` in every figure.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> histogram = pd.DataFrame({"bin_low": [-1.0, 0.0, 1.0], "bin_high": [0.0, 1.0, 2.0], "n": [12, float("nan"), 30]})
>>> ax = plot_rci_distribution(histogram)
>>> [float(bar.get_height()) for bar in ax.containers[0]], len(ax.containers[1])   # shown bins, hidden bins
([12.0, 30.0], 1)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from progression.constants import TARGET_GROUPS
from progression.plots._base import draws, new_axes
from progression.plots.style import CLASS_COLOURS, HIDDEN_STYLE, PAGE_WIDTH, word
from progression.recovery.instruments import get_instrument
from progression.texts import code_label, current_language, localise_number

__all__ = [
    "CLASS_COLOURS",
    "plot_rci_distribution",
    "plot_rci_panels",
    "plot_shares_by_group",
    "plot_share_panels",
    "plot_trajectory",
    "plot_trajectory_panels",
    "plot_move_change_heatmap",
    "plot_move_change_panels",
    "plot_funnel",
    "plot_funnel_panels",
    "plot_estimates_vs_truth",
    "plot_truth_panels",
]

_HIDDEN = HIDDEN_STYLE
_MOVES = ("down", "same", "up")


def _hidden_label() -> str:
    return word("plot_hidden")


def _percent(value: float) -> str:
    return localise_number(f"{100 * value:.0f}%", current_language())


def _panels(n: int, *, ncols: int = 2, size=(5.0, 3.6), sharey: bool = False):
    import matplotlib.pyplot as plt

    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(min(size[0] * ncols, PAGE_WIDTH), size[1] * nrows),
                             squeeze=False, sharey=sharey, constrained_layout=True)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _figure_legend(fig, axes, *, ncol: int = 5) -> None:
    """One legend under the panels, with every entry any panel has (each once)."""
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), ncol), frameon=False,
               fontsize="small")


def _better(instrument: str) -> str:
    """``instrument (lower is better)``, the title of an instrument's panel."""
    direction = get_instrument(instrument).direction
    key = "plot_lower_is_better" if direction == "lower_better" else "plot_higher_is_better"
    return word(key, instrument=code_label(instrument, "instrument"))


def _per_instrument(table: pd.DataFrame, draw, *, title=_better, legend: bool = True, **panels):
    """A figure with one panel per instrument of ``table``: ``draw(rows, ax)`` on each, titled ``title(instrument)``,
    with one legend under the panels."""
    instruments = list(dict.fromkeys(table["instrument"]))
    fig, axes = _panels(len(instruments), **panels)
    for ax, instrument in zip(axes, instruments):
        draw(table[table["instrument"] == instrument], ax)
        ax.set_title(title(instrument), loc="left")
    if legend:
        _figure_legend(fig, axes)
    return fig


@draws
def plot_rci_distribution(histogram: pd.DataFrame, *, critical: float = 1.96, legend: bool = True, ax=None):
    """Citizens per bin of the reliable change index, with the band of no reliable change shaded.

    Parameters
    ----------
    histogram : DataFrame
        ``bin_low``, ``bin_high``, ``n`` for one instrument (:func:`progression.analyses.progression.rci_histogram`,
        disclosed: a hidden bin has a missing ``n`` and is drawn hatched at the foot of the axis).
    critical : float, default 1.96
        The reliable change index beyond which change is reliable.
    legend : bool, default True
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> histogram = pd.DataFrame({"bin_low": [-2.0, 0.0, 2.0], "bin_high": [0.0, 2.0, 4.0], "n": [40, 55, np.nan]})
    >>> ax = plot_rci_distribution(histogram)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['|RC| ≤ 1.96: no reliable change', 'citizens', 'hidden (too few citizens)']
    """
    ax = new_axes(ax)
    width = (histogram["bin_high"] - histogram["bin_low"]).to_numpy(float)
    n = histogram["n"].to_numpy(float)
    shown = ~np.isnan(n)
    ax.bar(histogram["bin_low"][shown], n[shown], width=width[shown], align="edge", color="#56B4E9",
           edgecolor="white", label=word("plot_citizens"))
    if (~shown).any():
        foot = 0.04 * max(np.nanmax(n) if shown.any() else 1.0, 1.0)
        ax.bar(histogram["bin_low"][~shown], foot, width=width[~shown], align="edge", label=_hidden_label(),
               **_HIDDEN)
    critical_text = localise_number(f"{critical:g}", current_language())
    ax.axvspan(-critical, critical, color="grey", alpha=0.15, label=word("plot_no_reliable_change",
                                                                          critical=critical_text))
    for v in (-critical, critical):
        ax.axvline(v, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel(word("plot_rci_axis"))
    ax.set_ylabel(word("plot_citizens"))
    if legend:
        ax.legend(frameon=False, fontsize="small")
    return ax


@draws
def plot_rci_panels(histogram: pd.DataFrame, *, critical: float = 1.96):
    """One :func:`plot_rci_distribution` panel per instrument of a disclosed ``rci_histogram`` table.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> histogram = pd.DataFrame({"instrument": "WHO5", "bin_low": [-1.0, 0.0, 1.0],
    ...                           "bin_high": [0.0, 1.0, 2.0], "n": [12, np.nan, 30]})
    >>> fig = plot_rci_panels(histogram)
    >>> fig.axes[0].get_title(loc="left")
    'WHO-5 (higher is better)'
    """
    return _per_instrument(histogram, lambda d, ax: plot_rci_distribution(d, critical=critical, legend=False, ax=ax))


@draws
def plot_shares_by_group(shares: pd.DataFrame, *, group_col: str, class_col: str = "change_class",
                         share_col: str = "share", legend: bool = True, ax=None):
    """Stacked horizontal bars of the shares progressing / maintaining / degressing per group.

    The part of a bar whose shares were suppressed is drawn hatched (it holds at least two hidden
    classes, or the whole group when its size is hidden), so no group silently disappears.

    Parameters
    ----------
    shares : DataFrame
        One row per group x class with ``share`` (e.g. the disclosed ``shares_by`` table).
    group_col : str
        The column naming the groups (one bar each, top to bottom in order of appearance).
    legend : bool, default True
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> shares = pd.DataFrame({"instrument": "WHO5", "grouping": ["all"] * 3 + ["target_group"] * 3,
    ...                        "group": ["all"] * 3 + ["begge"] * 3,
    ...                        "change_class": ["progression", "maintenance", "degression"] * 2,
    ...                        "share": [0.2, 0.7, 0.1, np.nan, 0.8, np.nan]})
    >>> ax = plot_shares_by_group(shares, group_col="group")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['all', 'both']
    """
    ax = new_axes(ax)
    order = list(dict.fromkeys(shares[group_col].astype(str)))
    wide = (shares.assign(_g=shares[group_col].astype(str), _c=shares[class_col].astype(str))
            .pivot(index="_g", columns="_c", values=share_col).reindex(order))
    classes = [c for c in CLASS_COLOURS if c in wide.columns] + [c for c in wide.columns if c not in CLASS_COLOURS]
    y = np.arange(len(order))[::-1]
    left = np.zeros(len(order))
    for c in classes:
        vals = wide[c].fillna(0).to_numpy(float)
        ax.barh(y, vals, left=left, color=CLASS_COLOURS.get(c), label=code_label(c, "change_class"))
        left += vals
    hidden = wide[classes].isna().any(axis=1).to_numpy()
    if hidden.any():
        ax.barh(y[hidden], 1 - left[hidden], left=left[hidden], label=_hidden_label(), **_HIDDEN)
    ax.set_yticks(y)
    ax.set_yticklabels([code_label(g, group_col) for g in order])
    ax.set_xlim(0, 1)
    ax.set_xlabel(word("plot_share_of_citizens"))
    if legend:
        ax.legend(frameon=False, fontsize="small", ncol=len(classes) + int(hidden.any()), loc="lower center",
                  bbox_to_anchor=(0.5, 1.0))
    return ax


@draws
def plot_share_panels(shares: pd.DataFrame, *, groupings: Sequence[str] = ("all", "target_group", "step")):
    """One :func:`plot_shares_by_group` panel per instrument: all citizens, then each grouping's groups.

    Parameters
    ----------
    shares : DataFrame
        The disclosed ``shares_by`` table (``instrument``, ``grouping``, ``group``, ``change_class``, ``share``).
    groupings : sequence of str
        The groupings shown, in order.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> shares = pd.DataFrame({"instrument": "WHO5", "grouping": ["all"] * 3 + ["target_group"] * 3,
    ...                        "group": ["all"] * 3 + ["begge"] * 3,
    ...                        "change_class": ["progression", "maintenance", "degression"] * 2,
    ...                        "share": [0.2, 0.7, 0.1, np.nan, 0.8, np.nan]})
    >>> fig = plot_share_panels(shares)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['all citizens', 'target group: both']
    """
    shown = shares[shares["grouping"].isin(groupings)]
    shown = shown.assign(_rank=shown["grouping"].map({g: i for i, g in enumerate(groupings)}))
    shown = shown.sort_values(["instrument", "_rank"], kind="stable")
    label = [word("plot_all_citizens") if grouping == "all" else
             f"{code_label(grouping, 'grouping')}: "
             f"{code_label(group, 'step_short' if grouping == 'step' else 'group')}"
             for grouping, group in zip(shown["grouping"], shown["group"].astype(str))]
    return _per_instrument(shown.assign(label=label), lambda d, ax: plot_shares_by_group(
        d, group_col="label", legend=False, ax=ax), size=(4.5, 4.0))


@draws
def plot_trajectory(means: pd.DataFrame, *, observed: pd.DataFrame | None = None, label: str | None = None,
                    legend: bool = True, ax=None):
    """Mean trajectory with its confidence band, and observed means per year.

    Parameters
    ----------
    means : DataFrame
        ``time``, ``estimate``, ``conf_low``, ``conf_high`` (``trajectory_means`` of one instrument).
    observed : DataFrame, optional
        ``time`` and ``estimate`` (``trajectory_observed``); a hidden year is marked on the time axis.
    label : str, optional
        The model line's legend entry (default "model mean" in the current language).
    legend : bool, default True
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> means = pd.DataFrame({"instrument": "WHO5", "time": [0.0, 5.0, 10.0], "estimate": [48.0, 50.0, 52.0],
    ...                       "conf_low": [46.0, 49.0, 49.0], "conf_high": [50.0, 51.0, 55.0]})
    >>> observed = pd.DataFrame({"instrument": "WHO5", "time": [0.5, 1.5], "estimate": [48.5, np.nan]})
    >>> ax = plot_trajectory(means, observed=observed)
    >>> len(ax.lines)
    3
    """
    ax = new_axes(ax)
    t = means["time"].to_numpy(float)
    ax.fill_between(t, means["conf_low"], means["conf_high"], alpha=0.25, color="#0072B2", linewidth=0)
    ax.plot(t, means["estimate"], color="#0072B2", label=label or word("plot_model_mean"))
    if observed is not None:
        seen = observed["estimate"].notna()
        ax.plot(observed["time"][seen], observed["estimate"][seen], "o", color="black", markersize=4,
                label=word("plot_observed_mean"))
        if (~seen).any():
            ax.plot(observed["time"][~seen], np.zeros((~seen).sum()), "|", color="#7f7f7f", markersize=10,
                    transform=ax.get_xaxis_transform(), label=word("plot_year_hidden"))
    ax.set_xlabel(word("plot_years_since_start"))
    ax.set_ylabel(word("plot_score"))
    if legend:
        ax.legend(frameon=False, fontsize="small")
    return ax


@draws
def plot_trajectory_panels(means: pd.DataFrame, observed: pd.DataFrame):
    """One :func:`plot_trajectory` panel per instrument.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> means = pd.DataFrame({"instrument": "WHO5", "time": [0.0, 5.0, 10.0], "estimate": [48.0, 50.0, 52.0],
    ...                       "conf_low": [46.0, 49.0, 49.0], "conf_high": [50.0, 51.0, 55.0]})
    >>> observed = pd.DataFrame({"instrument": "WHO5", "time": [0.5, 1.5], "estimate": [48.5, np.nan]})
    >>> fig = plot_trajectory_panels(means, observed)
    >>> fig.axes[0].get_title(loc="left")
    'WHO-5 (higher is better)'
    """
    def draw(rows, ax):
        instrument = rows["instrument"].iloc[0]
        plot_trajectory(rows, observed=observed[observed["instrument"] == instrument], legend=False, ax=ax)

    return _per_instrument(means, draw)


@draws
def plot_move_change_heatmap(table: pd.DataFrame, *, ax=None):
    """Heatmap of staircase move (rows) against change class (columns): the share of each move group.

    Parameters
    ----------
    table : DataFrame
        ``move``, ``change_class``, ``share`` of one instrument (the disclosed ``move_classes`` table);
        a hidden cell is grey with a "·".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> table = pd.DataFrame({"instrument": "VUM", "move": np.repeat(["down", "same", "up"], 3),
    ...                       "change_class": ["progression", "maintenance", "degression"] * 3,
    ...                       "share": [np.nan, 0.8, np.nan, 0.1, 0.8, 0.1, 0.0, 0.8, 0.2]})
    >>> ax = plot_move_change_heatmap(table)
    >>> [t.get_text() for t in ax.texts][:3]
    ['·', '80%', '·']
    """
    from matplotlib.patches import Rectangle

    ax = new_axes(ax)
    classes = [c for c in CLASS_COLOURS if c in set(table["change_class"])]
    grid = (table.pivot(index="move", columns="change_class", values="share")
            .reindex(index=list(_MOVES), columns=classes).to_numpy(float))
    ax.imshow(np.ma.masked_invalid(grid), cmap="Greens", vmin=0, vmax=1, aspect="auto")
    for (i, j), value in np.ndenumerate(grid):
        if np.isnan(value):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="#eeeeee", edgecolor="#9e9e9e",
                                   hatch="///", linewidth=0))
            ax.text(j, i, "·", ha="center", va="center", fontsize="xx-large", fontweight="bold", color="#555555")
        else:
            ax.text(j, i, _percent(value), ha="center", va="center", color="white" if value > 0.6 else "black")
    ax.set_xticks(range(len(classes)))
    ax.set_xticklabels([code_label(c, "change_class") for c in classes], rotation=20, ha="right")
    ax.set_yticks(range(len(_MOVES)))
    ax.set_yticklabels([code_label(m, "move") for m in _MOVES])
    ax.set_xlabel(word("plot_change_in_functioning"))
    ax.set_ylabel(word("plot_move_on_staircase"))
    return ax


@draws
def plot_move_change_panels(move_classes: pd.DataFrame):
    """One :func:`plot_move_change_heatmap` per instrument, side by side.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> table = pd.DataFrame({"instrument": "VUM", "move": np.repeat(["down", "same", "up"], 3),
    ...                       "change_class": ["progression", "maintenance", "degression"] * 3,
    ...                       "share": [np.nan, 0.8, np.nan, 0.1, 0.8, 0.1, 0.0, 0.8, 0.2]})
    >>> fig = plot_move_change_panels(table)
    >>> fig.axes[0].get_title(loc="left")
    'VUM 2.0'
    """
    fig = _per_instrument(move_classes, lambda d, ax: plot_move_change_heatmap(d, ax=ax),
                          title=lambda i: code_label(i, "instrument"), legend=False,
                          ncols=min(move_classes["instrument"].nunique(), 2), size=(4.5, 3.0))
    for ax in fig.axes[1:]:
        ax.set_ylabel("")
    return fig


@draws
def plot_funnel(funnel: pd.DataFrame, *, levels: Sequence[float] = (0.95, 0.998), legend: bool = True, ax=None):
    """Funnel plot: municipality shares against size with exact binomial control limits.

    Municipalities whose share is hidden but whose size is shown are marked by a tick along the top of the axes at
    their size; those whose size is hidden too cannot be placed and are only counted (see
    :func:`plot_funnel_panels`).

    Parameters
    ----------
    funnel : DataFrame
        ``n``, ``share`` and ``target`` (one group of the disclosed ``municipalities`` table).
    levels : sequence of float, default (0.95, 0.998)
        Coverage of the limits drawn.
    legend : bool, default True
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> funnel = pd.DataFrame({"instrument": "VUM", "target_group": "sindslidelse",
    ...                        "n": [60.0, 25.0, 8.0, np.nan], "share": [0.15, 0.08, np.nan, np.nan], "target": 0.12})
    >>> ax = plot_funnel(funnel)
    >>> len(ax.collections[0].get_offsets())
    2
    """
    from progression.recovery.groups import funnel_limits

    ax = new_axes(ax)
    target = funnel["target"].dropna()
    n_max = max(float(funnel["n"].max(skipna=True)) if funnel["n"].notna().any() else 10.0, 10.0)
    if len(target):
        target = float(target.iloc[0])
        grid = np.unique(np.round(np.geomspace(1, n_max * 1.05, 200)))
        curves = funnel_limits(target, grid, levels=levels)
        for level, style in zip(levels, ["--", ":", "-."]):
            label = f"{100 * level:g}"
            shown_level = localise_number(f"{100 * level:g}%", current_language())
            ax.plot(grid, curves[f"lower_{label}"], style, color="grey", label=word("plot_limits", level=shown_level))
            ax.plot(grid, curves[f"upper_{label}"], style, color="grey")
        ax.axhline(target, color="black", linewidth=1, label=word("plot_national_share"))
    shown = funnel["share"].notna()
    ax.scatter(funnel["n"][shown], funnel["share"][shown], s=20, color="#D55E00", zorder=3,
               label=word("plot_municipality"))
    placeable = ~shown & funnel["n"].notna()
    if placeable.any():  # a rug along the top edge, away from the shares
        ax.plot(funnel["n"][placeable], np.full(placeable.sum(), 0.97), "|", color="#7f7f7f", markersize=9,
                transform=ax.get_xaxis_transform(), label=word("plot_share_hidden_size_shown"))
    ax.set_xscale("log")
    ax.set_xlim(4, n_max * 1.1)
    ticks = [t for t in (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000) if t <= n_max * 1.1]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.xaxis.set_minor_formatter("")
    ax.set_xlabel(word("plot_citizens_log"))
    ax.set_ylabel(word("share"))
    if legend:
        ax.legend(frameon=False, fontsize="small")
    return ax


@draws
def plot_funnel_panels(municipalities: pd.DataFrame, *, instrument: str, within: str = "target_group",
                       groups: Sequence[str] = TARGET_GROUPS, change_class: str = "progression"):
    """One :func:`plot_funnel` panel per target group of one instrument, with what is hidden counted.

    Each title says how many of the municipalities with paired citizens are shown, how many have their
    share hidden while their size is shown (ticks along the top), and how many have their size hidden
    too. The y axis is fitted to what is shown.

    Parameters
    ----------
    municipalities : DataFrame
        The disclosed ``municipalities`` table.
    instrument : str
    within : str, default "target_group"
    groups : sequence of str, default :data:`progression.constants.TARGET_GROUPS`
        Panel order (groups not in the table are skipped).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> funnel = pd.DataFrame({"instrument": "VUM", "target_group": "sindslidelse",
    ...                        "n": [60.0, 25.0, 8.0, np.nan], "share": [0.15, 0.08, np.nan, np.nan], "target": 0.12})
    >>> fig = plot_funnel_panels(funnel, instrument="VUM")
    >>> print(fig.axes[0].get_title(loc="left"))
    mental illness: 2 of 4 municipalities shown
    1 with the share hidden, 1 with the size hidden too
    """
    data = municipalities[municipalities["instrument"] == instrument]
    present = [g for g in groups if g in set(data[within])] + sorted(set(data[within]) - set(groups))
    fig, axes = _panels(len(present), ncols=min(len(present), 2), size=(4.5, 3.6), sharey=True)
    top = max(0.5, 1.2 * float(data["share"].max(skipna=True)) if data["share"].notna().any() else 0.5)
    for ax, group in zip(axes, present):
        d = data[data[within] == group]
        plot_funnel(d, legend=False, ax=ax)
        ax.set_ylim(0, min(1.0, top))
        shown = int(d["share"].notna().sum())
        size_only = int((d["share"].isna() & d["n"].notna()).sum())
        ax.set_title(word("plot_funnel_panel_title", group=code_label(group, "target_group"), shown=shown,
                          total=len(d), size_only=size_only, hidden=len(d) - shown - size_only),
                     loc="left", fontsize="small")
    _figure_legend(fig, axes, ncol=3)
    fig.suptitle(word("plot_funnel_suptitle", change_class=code_label(change_class, "change_class"),
                      instrument=code_label(instrument, "instrument")), fontsize="medium")
    return fig


@draws
def plot_estimates_vs_truth(comparison: pd.DataFrame, *, label_cols: Sequence[str] = ("instrument", "group",
                                                                                      "change_class"), ax=None):
    """Estimates with their intervals (dots and bars) beside the true values (crosses), one row each.

    Parameters
    ----------
    comparison : DataFrame
        ``estimate``, ``conf_low``, ``conf_high`` and ``truth`` (the disclosed ``truth_comparison``); rows
        with a missing estimate are left out.
    label_cols : sequence of str
        Columns joined into each row's label.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> comparison = pd.DataFrame({"instrument": "WHO5", "group": "all",
    ...                            "change_class": ["progression", "progression", None],
    ...                            "quantity": ["rci_share", "latent_share", "mean_change"],
    ...                            "estimate": [0.11, 0.08, 1.2], "conf_low": [0.07, 0.05, -0.5],
    ...                            "conf_high": [0.15, 0.12, 2.9], "truth": [0.12, 0.07, 0.8]})
    >>> ax = plot_estimates_vs_truth(comparison, label_cols=["instrument", "quantity"])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['WHO-5 · share with reliable change', 'WHO-5 · share with true change', 'WHO-5 · mean change']
    """
    ax = new_axes(ax)
    data = comparison.dropna(subset=["estimate"]).reset_index(drop=True)
    labels = data[list(label_cols)].apply(
        lambda r: " · ".join(code_label(v, c) for c, v in r.items() if pd.notna(v)), axis=1)
    y = np.arange(len(data))[::-1]
    err = np.vstack([data["estimate"] - data["conf_low"], data["conf_high"] - data["estimate"]]).clip(min=0)
    ax.errorbar(data["estimate"], y, xerr=err, fmt="o", color="#0072B2", markersize=4, capsize=2,
                label=word("plot_estimate_ci"))
    ax.scatter(data["truth"], y, marker="x", color="#D55E00", zorder=3, label=word("truth"))
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    return ax


@draws
def plot_truth_panels(comparison: pd.DataFrame, pairing: pd.DataFrame, *, group: str = "all"):
    """Estimates against the synthetic truth: reliable-change shares, latent shares, standardised mean change.

    Shares progressing and degressing of ``group``; the mean change is divided by the instrument's
    baseline standard deviation (``sd_pre`` of the disclosed ``pairing`` table) so the instruments share
    one axis.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> comparison = pd.DataFrame({"instrument": "WHO5", "group": "all",
    ...                            "change_class": ["progression", "progression", None],
    ...                            "quantity": ["rci_share", "latent_share", "mean_change"],
    ...                            "estimate": [0.11, 0.08, 1.2], "conf_low": [0.07, 0.05, -0.5],
    ...                            "conf_high": [0.15, 0.12, 2.9], "truth": [0.12, 0.07, 0.8]})
    >>> pairing = pd.DataFrame({"instrument": ["WHO5"], "sd_pre": [20.0]})
    >>> fig = plot_truth_panels(comparison, pairing)
    >>> [ax.get_title(loc="left") for ax in fig.axes]
    ['share with reliable change', 'share with true change beyond the threshold', 'mean change / baseline SD']
    """
    shown = comparison[(comparison["group"] == group) & (comparison["change_class"] != "maintenance")].copy()
    sd_pre = shown["instrument"].map(pairing.set_index("instrument")["sd_pre"])
    is_mean = shown["quantity"] == "mean_change"
    cols = ["estimate", "conf_low", "conf_high", "truth"]
    shown.loc[is_mean, cols] = shown.loc[is_mean, cols].div(sd_pre[is_mean], axis=0)
    titles = {"rci_share": word("plot_truth_rci"), "latent_share": word("plot_truth_latent"),
              "mean_change": word("plot_truth_mean")}
    fig, axes = _panels(len(titles), ncols=3, size=(3.0, 4.5))
    for ax, (quantity, title) in zip(axes, titles.items()):
        plot_estimates_vs_truth(shown[shown["quantity"] == quantity], label_cols=["instrument", "change_class"], ax=ax)
        ax.set_title(title, loc="left", fontsize="small", wrap=True)
    return fig
