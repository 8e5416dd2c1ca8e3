"""What every plotting function shares: axes creation and the record of the tables a figure draws.

A figure leaves a run only when it is drawn from disclosed tables
(:meth:`progression.chain.run_context.RunContext.save_figure`). Plotting functions decorated with
:func:`draws` record, on the figure, every table they were given and whether it passed disclosure
control.
"""

from __future__ import annotations

import functools

import pandas as pd

from progression.disclosure import DISCLOSED_ATTR

__all__ = ["new_axes", "draws", "record_sources"]


def new_axes(ax=None, figsize=None):
    """``ax``, or the axes of a new figure (matplotlib imported only here)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def record_sources(fig, what: str, tables) -> None:
    """Record on ``fig`` the tables ``what`` drew, each with its results name (None: not disclosed)."""
    sources = getattr(fig, "_progression_sources", [])
    for table in tables:
        if isinstance(table, pd.DataFrame):
            sources.append((what, table.attrs.get(DISCLOSED_ATTR)))
        else:
            sources.append((what, getattr(table, "disclosed", None)))
    fig._progression_sources = sources


def _figure_of(result):
    if hasattr(result, "figure") and result.figure is not None:
        return result.figure
    if hasattr(result, "savefig"):
        return result
    if hasattr(result, "flat"):
        first = next(iter(result.flat), None)
        return getattr(first, "figure", None)
    return None


def draws(function):
    """Decorate a plotting function: record the DataFrames it is given on the figure it draws on."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        result = function(*args, **kwargs)
        fig = _figure_of(result)
        tables = [a for a in [*args, *kwargs.values()] if isinstance(a, pd.DataFrame) or hasattr(a, "disclosed")]
        if fig is not None and tables:
            record_sources(fig, function.__name__, tables)
        return result
    return wrapper
