"""Figures of notebook 45_pilot_design, each drawn from a disclosed table.

Words, designs and outcomes are named by the label registry in the report's language
(:func:`progression.plots.style.word`); colours are colour-blind safe (Okabe-Ito) and the figures fit
the report's column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from progression.plots._base import draws, new_axes
from progression.plots.style import PAGE_WIDTH, word
from progression.texts import code_label

__all__ = ["plot_mde_grid", "plot_power_curves", "plot_simulation_check", "plot_payment_rules",
           "plot_resource_shift"]

def _design(design: str) -> str:
    return code_label(design, "design")


def _wrapped(words: str, width: int = 30) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(words, width)) or words


def _legend_below(fig, axes) -> None:
    """One legend under the panels, out of the way of the lines."""
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))


def _panels(n: int, width: float = 4.4, height: float = 3.4):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, n, figsize=(min(width * n, PAGE_WIDTH), height), squeeze=False)
    return fig, axes[0]


@draws
def plot_mde_grid(grid: pd.DataFrame):
    """MDE relative to the baseline rate against the number of municipalities, one panel per outcome.

    Parameters
    ----------
    grid : DataFrame
        ``outcome, design, n_municipalities, mde_relative`` (:func:`progression.design.mde_grid`).

    Returns
    -------
    matplotlib.figure.Figure
    """
    outcomes = list(dict.fromkeys(grid["outcome"]))
    fig, axes = _panels(len(outcomes))
    for ax, outcome in zip(axes, outcomes):
        rows = grid[grid["outcome"] == outcome]
        for design, part in rows.groupby("design", sort=False):
            ax.plot(part["n_municipalities"], 100 * part["mde_relative"], marker="o", label=_design(design))
        ax.set_xlabel(word("plot_municipalities_in_pilot"))
        ax.set_title(code_label(outcome, "outcome"), fontsize=9.5)
        ax.set_ylim(bottom=0)
    axes[0].set_ylabel(_wrapped(word("plot_mde_axis"), 36))
    _legend_below(fig, axes)
    return fig


@draws
def plot_power_curves(curves: pd.DataFrame, *, target: float = 0.8):
    """Power against the relative effect, one panel per outcome, one line per design.

    Parameters
    ----------
    curves : DataFrame
        ``outcome, design, relative_effect, power`` (:func:`progression.design.power_curves`).
    target : float, default=0.8
        Power drawn as a dashed line.

    Returns
    -------
    matplotlib.figure.Figure
    """
    outcomes = list(dict.fromkeys(curves["outcome"]))
    fig, axes = _panels(len(outcomes))
    for ax, outcome in zip(axes, outcomes):
        rows = curves[curves["outcome"] == outcome]
        for design, part in rows.groupby("design", sort=False):
            ax.plot(100 * part["relative_effect"], part["power"], label=_design(design))
        ax.axhline(target, color="grey", ls="--", lw=0.8)
        ax.set_xlabel(word("plot_true_effect_axis"))
        ax.set_ylim(0, 1)
        ax.set_title(code_label(outcome, "outcome"), fontsize=9.5)
    axes[0].set_ylabel(word("plot_power"))
    _legend_below(fig, axes)
    return fig


@draws
def plot_simulation_check(checks: pd.DataFrame, ax=None):
    """Simulated power (± 2 Monte Carlo standard errors) against the closed form's power.

    Parameters
    ----------
    checks : DataFrame
        ``scenario, estimator, closed_form_power, power, power_mc_se``; rows without a closed form
        are drawn at the right edge with an open marker.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax, figsize=(5.2, 4.4))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    for (scenario, estimator), row in checks.set_index(["scenario", "estimator"]).iterrows():
        x = row["closed_form_power"]
        open_marker = not np.isfinite(x)
        x = 0.98 if open_marker else x
        ax.errorbar(x, row["power"], yerr=2 * row["power_mc_se"], fmt="o", mfc="white" if open_marker else None,
                    capsize=3, label=f"{code_label(estimator, 'estimator')}: {code_label(scenario, 'scenario')}")
    ax.set_xlabel(word("plot_power_closed_form"))
    ax.set_ylabel(word("plot_power_simulated"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=6, loc="upper left")
    return ax


@draws
def plot_payment_rules(rules: pd.DataFrame):
    """Two panels per rule: the probability of paying with no true effect and the probability of budget
    neutrality with the target effect; beside them the standard deviation of the payments.

    Parameters
    ----------
    rules : DataFrame
        :func:`progression.design.evaluate_rules` output (``rule, scenario, p_paying,
        p_budget_neutral, sd_payment_dkk, mean_payment_dkk``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    null = rules[rules["scenario"] == "no_effect"].set_index("rule")
    effect = rules[rules["scenario"] == "effect"].set_index("rule")
    labels = list(effect.index)
    y = np.arange(len(labels))
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 3, figsize=(PAGE_WIDTH, 0.32 * len(labels) + 1.9), sharey=True,
                             layout="constrained")
    fig.get_layout_engine().set(w_pad=0.12)
    axes[0].barh(y, null.loc[labels, "mean_payment_dkk"] / 1e6, color="#D55E00")
    axes[0].set_xlabel(_wrapped(word("plot_mean_payment_null"), 26))
    axes[1].barh(y, effect.loc[labels, "p_budget_neutral"], color="#009E73")
    axes[1].set_xlabel(_wrapped(word("plot_p_neutral_effect"), 26))
    axes[1].set_xlim(0, 1)
    axes[2].barh(y, effect.loc[labels, "sd_payment_dkk"] / 1e6, color="#0072B2")
    axes[2].set_xlabel(_wrapped(word("plot_sd_payments"), 26))
    axes[0].set_yticks(y, [code_label(r, "rule") for r in labels], fontsize=8)
    for ax in axes:
        ax.xaxis.label.set_fontsize(8)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    return fig


@draws
def plot_resource_shift(shift: pd.DataFrame, ax=None):
    """Net transfer per inhabitant of municipalities running and not running the pilot, by year.

    Parameters
    ----------
    shift : DataFrame
        :func:`progression.design.resource_shift` output; suppressed cells are drawn as hatched bars
        at zero.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax, figsize=(6, 3.8))
    periods = sorted(shift["period"].unique())
    x = np.arange(len(periods))
    for offset, (group, color) in zip((-0.2, 0.2), (("running", "#009E73"), ("not_running", "#999999"))):
        rows = shift[shift["group"] == group].set_index("period").reindex(periods)
        values = rows["net_dkk_per_inhabitant"].to_numpy(dtype=float)
        hidden = np.isnan(values) & (rows["n_municipalities"].fillna(0).to_numpy() > 0)
        ax.bar(x + offset, np.nan_to_num(values), width=0.4, color=color, label=code_label(group, "group"))
        if hidden.any():
            ax.bar((x + offset)[hidden], 0.0, width=0.4, hatch="//", edgecolor="black", fill=False)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x)
    ax.set_xticklabels([str(p) for p in periods])
    ax.set_xlabel(word("plot_pilot_year"))
    ax.set_ylabel(word("plot_net_transfer"))
    ax.legend(fontsize=8)
    return ax
