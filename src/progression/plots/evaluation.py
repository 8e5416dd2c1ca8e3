"""Figures for effect estimation: forest plot of estimates, event-study plot and love plot.

Each function takes a tidy frame from :mod:`progression.evaluation`, draws on ``ax`` (or the current axes)
and returns the Axes. Matplotlib is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from progression.exceptions import DataContractError

_INTERVAL = ["estimate", "conf_low", "conf_high"]


def _axes(ax):
    import matplotlib.pyplot as plt

    return ax if ax is not None else plt.gca()


def _require(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataContractError(f"{name}: column(s) {missing} not found; columns present: {list(frame.columns)}")
    if frame.empty:
        raise DataContractError(f"{name} has no rows; expected at least one estimate")


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
        contrast, IPW, AIPW, DiD and Callaway–Sant'Anna rows stacked with ``pandas.concat``.
    truth : float or mapping of outcome to float, optional
        Known effect (synthetic data) drawn as a dashed vertical line.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes
    """
    _require(results, ["method", "outcome", *_INTERVAL], "results")
    ax = _axes(ax)
    several = results["outcome"].nunique() > 1
    labels = [f"{m} — {o}" if several else str(m) for m, o in zip(results["method"], results["outcome"])]
    y = np.arange(len(results))[::-1]
    estimate = results["estimate"].to_numpy(dtype=float)
    error = np.vstack([estimate - results["conf_low"].to_numpy(float), results["conf_high"].to_numpy(float) - estimate])
    ax.errorbar(estimate, y, xerr=error, fmt="o", color="C0", ecolor="C0", capsize=3)
    ax.axvline(0, color="grey", linewidth=0.8)
    if truth is not None:
        values = truth if isinstance(truth, Mapping) else {o: truth for o in results["outcome"].unique()}
        for outcome, value in values.items():
            ax.axvline(value, color="C3", linestyle="--", linewidth=1,
                       label="truth" if not several else f"truth ({outcome})")
        ax.legend(loc="best", frameon=False)
    ax.set_yticks(y, labels)
    ax.set_xlabel("effect estimate (interval)")
    return ax


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
        :func:`event_study` or ``CallawaySantAnna.aggregate("event")``, possibly stacked).
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
    ax = _axes(ax)
    methods = list(dict.fromkeys(results["method"]))
    offsets = np.linspace(-0.15, 0.15, len(methods)) if len(methods) > 1 else [0.0]
    for k, (method, offset) in enumerate(zip(methods, offsets)):
        part = results[results["method"] == method].sort_values("event_time")
        x = part["event_time"].to_numpy(float) + offset
        estimate = part["estimate"].to_numpy(float)
        error = np.vstack([estimate - part["conf_low"].to_numpy(float), part["conf_high"].to_numpy(float) - estimate])
        ax.errorbar(x, estimate, yerr=error, fmt="o-", color=f"C{k}", capsize=3, label=method)
    if truth is not None:
        truth = pd.Series(truth).sort_index()
        ax.plot(truth.index, truth.to_numpy(), "--", color="black", linewidth=1, label="truth")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.axvline(reference + 0.5, color="grey", linestyle=":", linewidth=0.8)
    ax.set_xlabel("years since start")
    ax.set_ylabel("effect estimate")
    ax.legend(loc="best", frameon=False)
    return ax


def plot_love(balance: pd.DataFrame, *, threshold: float = 0.1, absolute: bool = True, ax=None):
    """Love plot: standardised mean differences of each covariate before and after weighting.

    Parameters
    ----------
    balance : DataFrame
        Output of :func:`balance_table` (``covariate``, ``smd_unweighted``, ``smd_weighted``).
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
    ax = _axes(ax)
    order = balance.sort_values("smd_unweighted", key=lambda s: s.abs())
    y = np.arange(len(order))
    transform = np.abs if absolute else (lambda v: v)
    ax.scatter(transform(order["smd_unweighted"].to_numpy(float)), y, marker="o", facecolors="none",
               edgecolors="C3", label="unweighted")
    ax.scatter(transform(order["smd_weighted"].to_numpy(float)), y, marker="o", color="C0", label="weighted")
    for x in ([threshold] if absolute else [-threshold, threshold]):
        ax.axvline(x, color="grey", linestyle="--", linewidth=0.8)
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_yticks(y, order["covariate"].astype(str).tolist())
    ax.set_xlabel("absolute standardised mean difference" if absolute else "standardised mean difference")
    ax.legend(loc="best", frameon=False)
    return ax
