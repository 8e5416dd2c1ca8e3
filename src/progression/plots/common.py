"""Figures any analysis can use: bars and lines over a tidy, disclosed table (axis words from the label registry).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> table = pd.DataFrame({"year": [2020, 2021, 2020, 2021], "step": ["a", "a", "b", "b"], "n_persons": [10, 12, 7, 9]})
>>> ax = plot_lines(table, x="year", y="n_persons", hue="step")
>>> [line.get_label() for line in ax.get_lines()]
['a', 'b']
"""

from __future__ import annotations

import pandas as pd

from progression.plots._base import draws, new_axes
from progression.texts import label

__all__ = ["plot_bars", "plot_lines"]


@draws
def plot_bars(table: pd.DataFrame, *, x: str, y: str, hue: str | None = None, ax=None):
    """Bars of ``y`` by ``x`` (grouped by ``hue``); a suppressed value (missing) is drawn as a hatched stub.

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, figsize=(7, 3.5))
    groups = [(None, table)] if hue is None else list(table.groupby(hue, sort=False, observed=True))
    width = 0.8 / len(groups)
    categories = list(dict.fromkeys(table[x]))
    for k, (name, rows) in enumerate(groups):
        positions = [categories.index(v) + (k - (len(groups) - 1) / 2) * width for v in rows[x]]
        values = rows[y].astype(float)
        bars = ax.bar(positions, values.fillna(0), width=width, label=None if name is None else str(name))
        for bar, missing in zip(bars, values.isna()):
            if missing:
                bar.set_hatch("//")
                bar.set_height(ax.get_ylim()[1] * 0.02)
                bar.set_facecolor("none")
                bar.set_edgecolor("grey")
    ax.set_xticks(range(len(categories)), [str(c) for c in categories])
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    if hue is not None:
        ax.legend(frameon=False, fontsize="small")
    return ax


@draws
def plot_lines(table: pd.DataFrame, *, x: str, y: str, hue: str | None = None, ax=None):
    """Lines of ``y`` over ``x`` (one per ``hue``); suppressed values leave gaps.

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, figsize=(7, 3.5))
    groups = [(None, table)] if hue is None else list(table.groupby(hue, sort=False, observed=True))
    for name, rows in groups:
        ax.plot(rows[x], rows[y].astype(float), marker="o", label=None if name is None else str(name))
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    if hue is not None:
        ax.legend(frameon=False, fontsize="small")
    return ax
