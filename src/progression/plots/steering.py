"""Figures of the steering tools: free functions over the disclosed tables of :mod:`progression.analyses.steering`.

Each function is decorated with :func:`~progression.plots._base.draws` (the figure records the tables it
draws, so :meth:`~progression.chain.run_context.RunContext.save_figure` can check they were disclosed),
takes ``ax=None`` (or returns a Figure for several panels), imports matplotlib lazily and returns what it
drew on. Labels come from :mod:`progression.texts` in ``language``. A suppressed value (missing after
disclosure control) is drawn as a grey "·" at zero, never left out silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression.plots._base import draws, new_axes
from progression.texts import has_text, text

__all__ = ["plot_reproduction", "plot_decomposition", "plot_per_capita", "plot_followup"]

#: Parts of a change (Okabe-Ito: told apart with colour-vision deficiencies).
_PART_COLOURS = {"demography": "#CC79A7", "per_capita": "#009E73", "coverage": "#56B4E9", "unit_cost": "#E69F00",
                 "volume": "#0072B2", "price": "#E69F00", "deviation_volume": "#0072B2", "deviation_price": "#E69F00"}
_SUPPRESSED = "·"


def _label(key: str, language: str | None = None) -> str:
    name = f"steering_{key}"
    return text("labels", name, language=language) if has_text("labels", name, language=language) else key


@draws
def plot_reproduction(growth: pd.DataFrame, *, language: str | None = None, figsize=(9, 6.5)):
    """Published growth beside growth recomputed from the tables' own levels (two panels: bn kr. and percent).

    Each row is one line of a table: the published value (black bar) with the tolerance around it
    (grey band), the recomputed value (dot) and the range the rounding of its inputs allows (line).

    Parameters
    ----------
    growth : DataFrame
        :func:`progression.analyses.steering.seed004_growth` (as written).
    language : {"en", "da"}, optional
        Default: the current language (:func:`progression.texts.set_language`).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from progression.analyses.steering import seed004_growth
    >>> fig = plot_reproduction(seed004_growth())
    >>> len(fig.axes)
    2
    """
    import matplotlib.pyplot as plt

    measures = ["average_growth_bn", "growth_rate_pct"]
    sizes = [int((growth["measure"] == m).sum()) for m in measures]
    fig, axes = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 1]})
    for ax, measure, n in zip(axes, measures, sizes):
        part = growth[growth["measure"] == measure].reset_index(drop=True)
        y = np.arange(len(part))[::-1]
        ax.barh(y, 2 * part["tolerance"], left=part["published"] - part["tolerance"], height=0.7, color="#e0e0e0",
                label=_label("tolerance", language))
        ax.hlines(y, part["bound_low"], part["bound_high"], color="#009E73", lw=2, label=_label("rounding_bounds", language))
        ax.plot(part["recomputed"], y, "o", color="#009E73", ms=5, label=_label("recomputed", language))
        ax.plot(part["published"], y, "|", color="black", ms=12, mew=2, label=_label("published", language))
        ax.set_yticks(y, [f"{t} · {lab}" for t, lab in zip(part["table"], part["label"])], fontsize=7)
        ax.set_xlabel(_label(measure, language), fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="lower center", ncol=4, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


@draws
def plot_decomposition(table: pd.DataFrame, *, parts: Sequence[str], label_col: str = "label", scale: float = 1.0,
                       unit: str = "", language: str | None = None, ax=None, figsize=(8, 3.5)):
    """Horizontal stacked bars of the parts of a change, one bar per row, with the total change marked.

    Positive parts stack to the right of zero, negative ones to the left; the black tick is the
    change (their sum). A row whose change is suppressed is drawn as a grey "·" at zero; a missing
    part beside a shown change is not a factor of that row and is left out.

    Parameters
    ----------
    table : DataFrame
        A disclosed table with ``change`` and the ``parts`` columns.
    parts : sequence of str
        Columns of the parts (``["demography", "per_capita"]``, ``["volume", "price"]``, …).
    label_col : str, default "label"
        Column of the bar labels.
    scale : float, default 1.0
        Divide the amounts by this (1e6 for mio. kr.).
    unit : str
        Axis label.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> table = pd.DataFrame({"label": ["a", "b"], "change": [3.0, -1.0], "volume": [2.0, -2.0], "price": [1.0, 1.0]})
    >>> ax = plot_decomposition(table, parts=["volume", "price"])
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['a', 'b']
    """
    ax = new_axes(ax, figsize)
    rows = table.reset_index(drop=True)
    y = np.arange(len(rows))[::-1]
    right, left = np.zeros(len(rows)), np.zeros(len(rows))
    for part in parts:
        values = rows[part].to_numpy(dtype=float) / scale
        shown = np.nan_to_num(values)
        positive = np.where(shown > 0, shown, 0.0)
        negative = np.where(shown < 0, shown, 0.0)
        colour = _PART_COLOURS.get(part, None)
        ax.barh(y, positive, left=right, height=0.6, color=colour, label=_label(part, language))
        ax.barh(y, negative, left=left, height=0.6, color=colour)
        right, left = right + positive, left + negative
    change = rows["change"].to_numpy(dtype=float) / scale
    for yi in y[np.isnan(change)]:  # a suppressed row (a part missing beside a shown change is not a factor)
        ax.text(0, yi, _SUPPRESSED, ha="center", va="center", color="grey", fontsize=14)
    ax.plot(change, y, "|", color="black", ms=14, mew=2, label=_label("change", language))
    ax.axvline(0, color="black", lw=0.6)
    ends = np.concatenate([left, right, np.nan_to_num(change), [0.0]])
    pad = 0.06 * (ends.max() - ends.min() or 1.0)
    ax.set_xlim(ends.min() - pad, ends.max() + pad)
    ax.set_yticks(y, rows[label_col].astype(str), fontsize=8)
    ax.set_xlabel(unit, fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return ax


@draws
def plot_per_capita(series: pd.DataFrame, *, reference: Mapping[str, float] | None = None, language: str | None = None,
                    ax=None, figsize=(7, 3.5)):
    """Spending per inhabitant of the age group by year, one line per spending area.

    Parameters
    ----------
    series : DataFrame
        :func:`progression.analyses.steering.accounts_series` (as written); the rows of function "all".
    reference : mapping of str to float, optional
        Area -> a published level to mark in 2008 (Finansministeriet 2009: adults 7,776, children 9,105
        kr.), drawn as a cross.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> series = pd.DataFrame({"area": ["adults"] * 2, "function": ["all"] * 2, "year": [2008, 2009],
    ...                        "per_capita": [7776.0, 7850.0], "price_year": [2009] * 2})
    >>> len(plot_per_capita(series, reference={"adults": 7776.0}).lines)
    2
    """
    ax = new_axes(ax, figsize)
    total = series[series["function"] == "all"]
    for area, part in total.groupby("area", sort=False):
        line, = ax.plot(part["year"], part["per_capita"], marker="o", ms=3, label=_label(f"area_{area}", language))
        if reference is not None and area in reference:
            ax.plot([2008], [reference[area]], "x", color=line.get_color(), ms=9, mew=2)
    price_year = int(total["price_year"].iloc[0]) if "price_year" in total and len(total) else None
    ax.set_ylabel(_label("per_capita_axis", language).format(price_year=price_year), fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


@draws
def plot_followup(path: pd.DataFrame, *, scale: float = 1e6, language: str | None = None, axes=None, figsize=(9, 5.5)):
    """The year's forecast at the end of each month against the budget and the actual year (top), and the
    deviation from the budget split into volume and price (bottom).

    Parameters
    ----------
    path : DataFrame
        :func:`progression.analyses.steering.followup_by_month` (as written).
    scale : float, default 1e6
        Amounts in mio. kr.
    axes : pair of Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> path = pd.DataFrame({"month": [6, 12], "budget": [1e9, 1e9], "spending": [1.02e9, 1.01e9],
    ...                      "actual_spending": [1.01e9, 1.01e9], "deviation": [2e7, 1e7],
    ...                      "deviation_volume": [1.5e7, 0.8e7], "deviation_price": [0.5e7, 0.2e7]})
    >>> len(plot_followup(path).axes)
    2
    """
    if axes is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2, 1, figsize=figsize, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top, bottom = axes
    month = path["month"].to_numpy()
    top.plot(month, path["spending"] / scale, "o-", color="#0072B2", label=_label("forecast", language))
    top.axhline(path["budget"].iloc[0] / scale, ls="--", color="black", lw=1, label=_label("budget", language))
    top.axhline(path["actual_spending"].iloc[0] / scale, ls=":", color="#D55E00", lw=1.5, label=_label("actual", language))
    for m in month[path["spending"].isna().to_numpy()]:
        top.annotate(_SUPPRESSED, (m, 0.5), xycoords=("data", "axes fraction"), ha="center", color="grey", fontsize=14)
    top.set_ylabel(_label("mdkk", language), fontsize=8)
    top.legend(fontsize=7, loc="best")
    top.grid(alpha=0.3)
    up, down = np.zeros(len(path)), np.zeros(len(path))
    for part in ("deviation_volume", "deviation_price"):
        values = np.nan_to_num(path[part].to_numpy(dtype=float) / scale)
        positive, negative = np.where(values > 0, values, 0.0), np.where(values < 0, values, 0.0)
        bottom.bar(month, positive, bottom=up, width=0.6, color=_PART_COLOURS[part], label=_label(part, language))
        bottom.bar(month, negative, bottom=down, width=0.6, color=_PART_COLOURS[part])
        up, down = up + positive, down + negative
        for m in month[path[part].isna().to_numpy()]:
            bottom.text(m, 0, _SUPPRESSED, ha="center", va="center", color="grey", fontsize=14)
    bottom.plot(month, path["deviation"] / scale, "_", color="black", ms=14, mew=2, label=_label("deviation", language))
    bottom.axhline(0, color="black", lw=0.6)
    bottom.set_xticks(range(1, 13))
    bottom.set_xlabel(_label("month", language), fontsize=8)
    bottom.set_ylabel(_label("deviation_axis", language), fontsize=8)
    bottom.legend(fontsize=7, loc="best")
    bottom.grid(alpha=0.3)
    for ax in axes:
        ax.tick_params(labelsize=8)
    fig = top.figure
    fig.tight_layout()
    return fig
