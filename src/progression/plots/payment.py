"""Figures of notebook 50_payment_models, each drawn from a disclosed table.

Model, payer and quantity names are shown with their labels in the report's language
(:mod:`progression.texts`, section ``labels``). A suppressed value (missing) is drawn as a grey "·"
where its bar or point would be.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> t = pd.DataFrame({"model": ["objective", "activity_average"], "event": "any",
...                   "quantity": "revenue_lost_per_event", "estimate": [0.0, 1e6], "conf_low": [0.0, 9e5],
...                   "conf_high": [0.0, 1.1e6]})
>>> ax = plot_penalty(t)
>>> [tick.get_text() for tick in ax.get_yticklabels()][:1]
['objective financing']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression.plots._base import draws, new_axes
from progression.texts import has_text, text

__all__ = ["plot_paths", "plot_net_cost", "plot_horizon", "plot_penalty", "plot_scenarios", "plot_municipalities"]

_MILLION = 1e6
_SUPPRESSED = "·"


def _label(key: str, language: str) -> str:
    name = f"payment.{key}"  # this topic's labels are prefixed, so they never clash with another topic's
    return text("labels", name, language=language) if has_text("labels", name, language=language) else key


def _suppressed_marks(ax, positions, values, *, horizontal: bool) -> None:
    for pos, value in zip(positions, values):
        if pd.isna(value):
            x, y = (0, pos) if horizontal else (pos, 0)
            ax.annotate(_SUPPRESSED, (x, y), color="grey", ha="center", va="center", fontsize=14)


@draws
def plot_paths(paths: pd.DataFrame, *, steps: Sequence[str] | None = None, labels: Mapping[str, str] | None = None,
               language: str = "en", ax=None):
    """Projected citizens per step and year with their bootstrap band (``payment_paths``).

    Parameters
    ----------
    paths : DataFrame
        ``year``, ``step``, ``estimate``, ``conf_low``, ``conf_high``.
    steps : sequence of str, optional
        Steps drawn (default all but the no-service step ``none``).
    labels : mapping, optional
        Step -> display label (e.g. ``Staircase.labels(language)``).

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, figsize=(7, 4))
    steps = list(steps) if steps is not None else [s for s in dict.fromkeys(paths["step"]) if s != "none"]
    for step in steps:
        rows = paths[paths["step"] == step]
        line, = ax.plot(rows["year"], rows["estimate"], marker="o", ms=3, label=(labels or {}).get(step, step))
        ax.fill_between(rows["year"], rows["conf_low"], rows["conf_high"], color=line.get_color(), alpha=0.2, lw=0)
        _suppressed_marks(ax, rows["year"], rows["estimate"], horizontal=False)
    ax.set_xlabel(_label("year", language))
    ax.set_ylabel(_label("citizens", language))
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize="small", ncol=2)
    return ax


@draws
def plot_net_cost(models: pd.DataFrame, *, item: str = "net_cost", payer: str = "kommune", area: str = "national",
                  language: str = "en", ax=None):
    """One payer's yearly amount under each model, with bootstrap bands (``payment_models``).

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, figsize=(8, 4.5))
    rows = models[(models["area"].astype(str) == area) & (models["payer"] == payer) & (models["item"] == item)
                  & (models["year"].astype(str) != "total")]
    for model, part in rows.groupby("model", sort=False):
        years = part["year"].astype(int)
        line, = ax.plot(years, part["estimate"] / _MILLION, marker="o", ms=3, label=_label(model, language))
        ax.fill_between(years, part["conf_low"] / _MILLION, part["conf_high"] / _MILLION, color=line.get_color(),
                        alpha=0.15, lw=0)
        _suppressed_marks(ax, years, part["estimate"], horizontal=False)
    ax.set_xlabel(_label("year", language))
    ax.set_ylabel(f"{_label(item, language)}, {_label('mio_dkk', language)}")
    ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


@draws
def plot_horizon(models: pd.DataFrame, *, area: str = "national", language: str = "en"):
    """Totals over the horizon per model: the municipality's net cost and the state's refusion (left), the
    providers' revenue and margin (right), with bootstrap intervals.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    rows = models[(models["area"].astype(str) == area) & (models["year"].astype(str) == "total")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    order = list(dict.fromkeys(rows["model"]))
    y = np.arange(len(order))
    for ax, pairs in zip(axes, ((("kommune", "net_cost"), ("stat", "refusion")),
                                (("provider", "revenue"), ("provider", "margin")))):
        height = 0.8 / len(pairs)
        for j, (payer, item) in enumerate(pairs):
            part = rows[(rows["payer"] == payer) & (rows["item"] == item)].set_index("model").reindex(order)
            est = part["estimate"] / _MILLION
            err = np.vstack([est - part["conf_low"] / _MILLION, part["conf_high"] / _MILLION - est])
            pos = y + (j - (len(pairs) - 1) / 2) * height
            ax.barh(pos, est.fillna(0), height=height, xerr=np.nan_to_num(err), capsize=2,
                    label=_label(f"{payer}.{item}", language))
            _suppressed_marks(ax, pos, est, horizontal=True)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel(_label("mio_dkk", language))
        ax.legend(frameon=False, fontsize="small", loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    axes[0].set_yticks(y, [_label(m, language) for m in order])
    axes[0].invert_yaxis()
    fig.tight_layout()
    return fig


@draws
def plot_penalty(penalty: pd.DataFrame, *, event: str = "any", quantity: str = "revenue_lost_per_event",
                 language: str = "en", ax=None):
    """The progression penalty per model: revenue a provider loses per progression event, with intervals
    (``payment_progression_penalty``).

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, figsize=(7, 4))
    rows = penalty[(penalty["event"] == event) & (penalty["quantity"] == quantity)]
    y = np.arange(len(rows))
    est = rows["estimate"].to_numpy(dtype=float) / 1e3
    low = rows["conf_low"].to_numpy(dtype=float) / 1e3
    high = rows["conf_high"].to_numpy(dtype=float) / 1e3
    colors = ["tab:red" if v > 0 else "tab:green" for v in np.nan_to_num(est)]
    ax.barh(y, np.nan_to_num(est), color=colors, xerr=np.nan_to_num(np.vstack([est - low, high - est])), capsize=2)
    _suppressed_marks(ax, y, est, horizontal=True)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, [_label(m, language) for m in rows["model"]])
    ax.invert_yaxis()
    ax.set_xlabel(f"{_label(quantity, language)}, {_label('thousand_dkk', language)}")
    return ax


@draws
def plot_scenarios(scenarios: pd.DataFrame, *, quantities: Sequence[str] = (
        "saving_before_bonuses", "bonuses_for_extra_events", "bonuses_paid"), language: str = "en", ax=None):
    """Behaviour scenarios under result-based payment: what the municipality saves and pays in bonuses
    (``payment_scenarios``), per scenario.

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, figsize=(8, 4))
    names = list(dict.fromkeys(scenarios["scenario"]))
    width = 0.8 / len(quantities)
    for j, quantity in enumerate(quantities):
        part = scenarios[scenarios["quantity"] == quantity].set_index("scenario").reindex(names)
        est = part["estimate"] / _MILLION
        err = np.vstack([est - part["conf_low"] / _MILLION, part["conf_high"] / _MILLION - est])
        pos = np.arange(len(names)) + (j - (len(quantities) - 1) / 2) * width
        ax.bar(pos, est.fillna(0), width=width, yerr=np.nan_to_num(err), capsize=2, label=_label(quantity, language))
        _suppressed_marks(ax, pos, est, horizontal=False)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylabel(_label("mio_dkk", language))
    ax.legend(frameon=False, fontsize="small")
    return ax


@draws
def plot_municipalities(municipalities: pd.DataFrame, *, models: Sequence[str] | None = None,
                        quantity: str = "vs_status_quo", language: str = "en", ax=None):
    """Each municipality's net cost over the horizon against the status quo, sorted, one series per model
    (``payment_municipalities``); suppressed municipalities are counted in the legend and not drawn.

    Returns
    -------
    matplotlib Axes
    """
    ax = new_axes(ax, figsize=(8, 4))
    rows = municipalities[municipalities["quantity"] == quantity]
    models = list(models) if models is not None else list(dict.fromkeys(rows["model"]))
    for model in models:
        part = rows[rows["model"] == model]
        values = part["estimate"].to_numpy(dtype=float) / _MILLION
        shown = np.sort(values[~np.isnan(values)])
        hidden = int(np.isnan(values).sum())
        label = _label(model, language) + (f" ({hidden} {_SUPPRESSED})" if hidden else "")
        ax.plot(np.arange(len(shown)), shown, marker="o", ms=2, lw=0.8, label=label)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(_label("municipalities_sorted", language))
    ax.set_ylabel(f"{_label(quantity, language)}, {_label('mio_dkk', language)}")
    ax.legend(frameon=False, fontsize="small")
    return ax
