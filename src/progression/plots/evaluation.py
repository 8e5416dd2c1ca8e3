"""Figures for effect estimation: forest plot of estimates, event-study plot and love plot, and their panels.

Each function takes a tidy (disclosed) frame from :mod:`progression.evaluation` or from the fund analysis,
draws on ``ax`` (or new axes) and returns the Axes; the ``*_panels`` functions draw one panel per
intervention (and outcome) and return the Figure. A suppressed estimate (missing after disclosure
control) is drawn as a grey "·" with the label "suppressed", never left out silently. Matplotlib is
imported inside the functions. Words, interventions and outcomes are named by the label registry in the
report's language (:func:`progression.plots.style.word`); panel figures fit the report's column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression.exceptions import DataContractError
from progression.plots._base import draws, new_axes
from progression.plots.style import PAGE_WIDTH, word
from progression.texts import code_label

__all__ = ["plot_effects", "plot_event_study", "plot_love", "plot_effect_panels", "plot_balance_panels",
           "plot_event_panels", "SUPPRESSED_COLOUR"]

_INTERVAL = ["estimate", "conf_low", "conf_high"]
#: How a suppressed cell is drawn.
SUPPRESSED_COLOUR = "0.6"


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataContractError(f"{name}: column(s) {missing} not found; columns present: {list(frame.columns)}")
    if frame.empty:
        raise DataContractError(f"{name} has no rows; expected at least one estimate")


def _mark_suppressed(ax, x, y, *, label: bool = True) -> None:
    """Grey dots with the word "suppressed" where estimates were suppressed."""
    if len(x):
        ax.scatter(x, y, marker="o", s=12, color=SUPPRESSED_COLOUR, label=word("plot_suppressed") if label else None,
                   zorder=3)


def _wrapped(title: str, width: int = 34) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(title, width)) or title


def _figure(n_rows: int, n_cols: int, width: float, height: float):
    import matplotlib.pyplot as plt

    return plt.subplots(n_rows, n_cols, figsize=(min(width * n_cols, PAGE_WIDTH), height * n_rows), squeeze=False)


@draws
def plot_effects(
    results: pd.DataFrame,
    *,
    truth: float | Mapping[str, float] | None = None,
    ax=None,
):
    """Forest plot: one row per estimate (method, and outcome when several), with its interval.

    Parameters
    ----------
    results : DataFrame
        Tidy effect rows (``method``, ``outcome``, ``estimate``, ``conf_low``, ``conf_high``), e.g. the naive
        contrast, IPW, AIPW, DiD and Callaway–Sant'Anna rows stacked with ``pandas.concat``. Rows whose
        estimate is missing (suppressed) are drawn as a grey dot at 0.
    truth : float or mapping of outcome to float, optional
        Known effect (synthetic data) drawn as a dashed vertical line.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"method": ["naive", "AIPW"], "outcome": "employed", "estimate": [0.2, None],
    ...                      "conf_low": [0.1, None], "conf_high": [0.3, None]})
    >>> ax = plot_effects(rows, truth=0.1)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['naive', 'AIPW']
    """
    _require(results, ["method", "outcome", *_INTERVAL], "results")
    ax = new_axes(ax, figsize=(6, 0.4 * len(results) + 1))
    several = results["outcome"].nunique() > 1
    labels = [f"{m} — {o}" if several else str(m) for m, o in zip(results["method"], results["outcome"])]
    y = np.arange(len(results))[::-1]
    estimate = results["estimate"].to_numpy(dtype=float)
    shown = ~np.isnan(estimate)
    error = np.vstack([estimate - results["conf_low"].to_numpy(float), results["conf_high"].to_numpy(float) - estimate])
    ax.errorbar(estimate[shown], y[shown], xerr=error[:, shown], fmt="o", color="C0", ecolor="C0", capsize=3)
    _mark_suppressed(ax, np.zeros((~shown).sum()), y[~shown])
    ax.axvline(0, color="grey", linewidth=0.8)
    if truth is not None:
        values = truth if isinstance(truth, Mapping) else {o: truth for o in results["outcome"].unique()}
        for outcome, value in values.items():
            ax.axvline(value, color="C3", linestyle="--", linewidth=1,
                       label=word("truth") if not several else f"{word('truth')} ({code_label(outcome, 'outcome')})")
    if truth is not None or not shown.all():
        ax.legend(loc="best", frameon=False)
    ax.set_yticks(y, labels)
    ax.set_xlabel(word("plot_effect_interval"))
    return ax


@draws
def plot_event_study(
    results: pd.DataFrame,
    *,
    truth: pd.Series | Mapping[int, float] | None = None,
    reference: int = -1,
    ax=None,
):
    """Event-study plot: effect by time since start, one series per method.

    Parameters
    ----------
    results : DataFrame
        Rows with ``event_time``, ``method``, ``estimate``, ``conf_low``, ``conf_high`` (from
        :func:`event_study` or ``CallawaySantAnna.aggregate("event")``, possibly stacked). Suppressed
        estimates (missing) are grey dots at 0.
    truth : Series or mapping of event time to effect, optional
        Known effects, drawn as a dashed line.
    reference : int, default=-1
        Reference event time; a dotted vertical line marks the start between it and the next period.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    _require(results, ["event_time", "method", *_INTERVAL], "results")
    ax = new_axes(ax, figsize=(6, 4))
    methods = list(dict.fromkeys(results["method"]))
    offsets = np.linspace(-0.15, 0.15, len(methods)) if len(methods) > 1 else [0.0]
    for k, (method, offset) in enumerate(zip(methods, offsets)):
        part = results[results["method"] == method].sort_values("event_time")
        x = part["event_time"].to_numpy(float) + offset
        estimate = part["estimate"].to_numpy(float)
        shown = ~np.isnan(estimate)
        error = np.vstack([estimate - part["conf_low"].to_numpy(float), part["conf_high"].to_numpy(float) - estimate])
        ax.errorbar(x[shown], estimate[shown], yerr=error[:, shown], fmt="o-", color=f"C{k}", capsize=3, label=method)
        _mark_suppressed(ax, x[~shown], np.zeros((~shown).sum()), label=k == 0)
    if truth is not None:
        truth = pd.Series(truth).sort_index()
        ax.plot(truth.index, truth.to_numpy(), "--", color="black", linewidth=1, label=word("truth"))
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvline(reference + 0.5, color="grey", linestyle=":", linewidth=0.8)
    ax.set_xlabel(word("plot_years_since_start_event"))
    ax.set_ylabel(word("plot_effect_estimate"))
    ax.legend(loc="best", frameon=False, fontsize=7)
    return ax


@draws
def plot_love(balance: pd.DataFrame, *, threshold: float = 0.1, absolute: bool = True, ax=None):
    """Love plot: standardised mean differences of each covariate before and after weighting.

    Parameters
    ----------
    balance : DataFrame
        Output of :func:`balance_table` (``covariate``, ``smd_unweighted``, ``smd_weighted``); suppressed
        differences (missing) are grey dots at 0.
    threshold : float, default=0.1
        Balance threshold drawn as dashed lines (Austin & Stuart 2015).
    absolute : bool, default=True
        Plot |SMD|.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    _require(balance, ["covariate", "smd_unweighted", "smd_weighted"], "balance")
    ax = new_axes(ax, figsize=(5, 0.25 * len(balance) + 1))
    order = balance.sort_values("smd_unweighted", key=lambda s: s.abs())
    y = np.arange(len(order))
    transform = np.abs if absolute else (lambda v: v)
    before = transform(order["smd_unweighted"].to_numpy(float))
    after = transform(order["smd_weighted"].to_numpy(float))
    ax.scatter(before, y, marker="o", facecolors="none", edgecolors="C3", label=word("plot_unweighted"))
    ax.scatter(after, y, marker="o", color="C0", label=word("plot_weighted"))
    hidden = np.isnan(before) | np.isnan(after)
    _mark_suppressed(ax, np.zeros(hidden.sum()), y[hidden])
    for x in ([threshold] if absolute else [-threshold, threshold]):
        ax.axvline(x, color="grey", linestyle="--", linewidth=0.8)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_yticks(y, order["covariate"].astype(str).tolist())
    ax.set_xlabel(word("plot_abs_smd") if absolute else word("plot_smd"))
    ax.legend(loc="best", frameon=False)
    return ax


def _truth_of(effects: pd.DataFrame | None, intervention: str, outcome: str) -> float | None:
    """The ``truth`` of an intervention and outcome in an effects table (None when absent or missing)."""
    if effects is None or "truth" not in effects:
        return None
    rows = effects[(effects["intervention"] == intervention) & (effects["outcome"] == outcome)]["truth"].dropna()
    return float(rows.iloc[0]) if len(rows) else None


@draws
def plot_effect_panels(effects: pd.DataFrame, outcomes: Sequence[str]):
    """Forest plots of every estimator, one panel per intervention and outcome, the truth dashed.

    Parameters
    ----------
    effects : DataFrame
        ``intervention``, ``outcome``, ``method``, ``design``, the estimate with its interval and optionally
        ``truth`` (e.g. the fund's effects table).
    outcomes : sequence of str
        The outcomes shown (columns of panels).

    Returns
    -------
    matplotlib Figure
    """
    _require(effects, ["intervention", "design", *_INTERVAL], "effects")
    names = sorted(effects["intervention"].unique())
    fig, axes = _figure(len(names), len(outcomes), 3.0, 2.3)
    for i, k in enumerate(names):
        for j, o in enumerate(outcomes):
            rows = effects[(effects["intervention"] == k) & (effects["outcome"] == o)]
            ax = axes[i, j]
            if rows.empty:
                ax.axis("off")
                continue
            plot_effects(rows.assign(method=rows["method"].map(lambda m: code_label(m, "method_short"))),
                         truth=_truth_of(rows, k, o), ax=ax)
            ax.set_title(_wrapped(f"{code_label(k, 'intervention')}: {code_label(o, 'outcome')}"), fontsize=8)
            ax.tick_params(axis="both", labelsize=7)
            ax.xaxis.label.set_fontsize(7.5)
            if ax.get_legend() and (i, j) != (0, 0):  # the truth and the suppressed mark: one legend
                ax.get_legend().remove()
            elif ax.get_legend():
                ax.legend(fontsize=6.5, frameon=False, loc="best")
    fig.tight_layout()
    return fig


@draws
def plot_balance_panels(balance: pd.DataFrame, *, threshold: float = 0.1):
    """Love plots, one panel per intervention (``intervention`` column of a balance table).

    Returns
    -------
    matplotlib Figure
    """
    _require(balance, ["intervention", "covariate", "smd_unweighted", "smd_weighted"], "balance")
    names = sorted(balance["intervention"].unique())
    cols = min(len(names), 2)
    rows = -(-len(names) // cols)
    fig, grid = _figure(rows, cols, 4.5, 5.5)
    axes = grid.flat
    for ax, k in zip(axes, names):
        plot_love(balance[balance["intervention"] == k], threshold=threshold, ax=ax)
        ax.set_title(code_label(k, "intervention"), fontsize=9.5)
        ax.tick_params(axis="y", labelsize=6.5)
    for ax in list(grid.flat)[len(names):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


@draws
def plot_event_panels(events: pd.DataFrame, *, truth: pd.DataFrame | None = None, at: int = 1):
    """Event studies, one panel per outcome (rows) and intervention (columns).

    Parameters
    ----------
    events : DataFrame
        ``intervention``, ``outcome``, ``event_time``, ``method`` and the estimate with its interval.
    truth : DataFrame, optional
        A table with ``intervention``, ``outcome`` and ``truth`` (e.g. the effects table): the true effect
        drawn at event time ``at``.
    at : int, default=1
        Event time of the true effect (the year after the start).

    Returns
    -------
    matplotlib Figure
    """
    _require(events, ["intervention", "outcome", "event_time", "method", *_INTERVAL], "events")
    names = sorted(events["intervention"].unique())
    outcomes = list(dict.fromkeys(events["outcome"]))
    fig, axes = _figure(len(outcomes), len(names), 4.5, 3.25)
    for j, k in enumerate(names):
        for i, o in enumerate(outcomes):
            rows = events[(events["intervention"] == k) & (events["outcome"] == o)]
            true = _truth_of(truth, k, o)
            plot_event_study(rows, truth=None if true is None else {at: true}, ax=axes[i, j])
            axes[i, j].set_title(_wrapped(f"{code_label(k, 'intervention')}: {code_label(o, 'outcome')}", 24),
                                 fontsize=7.5)
            axes[i, j].tick_params(labelsize=7)
            axes[i, j].xaxis.label.set_fontsize(7.5)
            axes[i, j].yaxis.label.set_fontsize(7.5)
            if axes[i, j].get_legend() and (i, j) != (0, 0):
                axes[i, j].get_legend().remove()
    fig.tight_layout()
    return fig
