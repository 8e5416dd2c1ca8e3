"""Figures of budget consequences and of the result-payment fund.

Free functions over tidy (disclosed) frames: :func:`cashflow_waterfall` (who pays, who gains),
:func:`fund_balance_distribution` (simulated balance with the neutrality line), :func:`potential_bars`
(a SØM potential by year and area) and :func:`rate_card_table`. Each takes ``ax=None``, imports
matplotlib inside and returns the Axes; the ``plot_*_panels`` functions draw one panel per intervention
(or potential, or balance) and return the Figure, sized for the report's column. Suppressed cells are
marked, never left out silently. Words, payers and areas are named by the label registry in the report's
language (:func:`progression.plots.style.word`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from progression.economics.discounting import discount_factors
from progression.plots._base import draws, new_axes
from progression.plots.evaluation import SUPPRESSED_COLOUR
from progression.plots.style import PAGE_WIDTH, word
from progression.texts import code_label, current_language, localise_number

__all__ = ["cashflow_waterfall", "fund_balance_distribution", "potential_bars", "rate_card_table",
           "plot_cashflow_panels", "plot_potential_panels", "plot_fund_balances"]

#: Gains, costs and the net (bluish green, vermillion, dark blue: Okabe-Ito).
_GAIN_COLOUR, _COST_COLOUR, _NET_COLOUR = "#009E73", "#D55E00", "#0b3d60"
_FIGSIZE = (7, 4)


def _suppressed_note(ax, what: str) -> None:
    """Say on the axes that some of what it would show was suppressed."""
    ax.text(0.01, 0.98, word("plot_flows_suppressed", what=what), transform=ax.transAxes, va="top", fontsize=7,
            color=SUPPRESSED_COLOUR)


def _waterfall_steps(flows: pd.DataFrame, by: str, rates, discounted: bool) -> pd.DataFrame:
    """Costs then gains of each ``by`` group (present values), in plotting order."""
    weight = discount_factors(flows["year"], rates=rates).to_numpy() if discounted else 1.0
    pv = flows.assign(_pv=flows["amount_dkk"].to_numpy() * weight)
    cost = pv["_pv"].clip(upper=0).groupby(pv[by]).sum()
    gain = pv["_pv"].clip(lower=0).groupby(pv[by]).sum()
    steps = pd.concat([
        pd.DataFrame({"label": [f"{code_label(g, by)}: {word('plot_cost')}" for g in cost.index],
                      "amount": cost.to_numpy()}),
        pd.DataFrame({"label": [f"{code_label(g, by)}: {word('plot_gain')}" for g in gain.index],
                      "amount": gain.to_numpy()}),
    ], ignore_index=True)
    return steps[steps["amount"] != 0].reset_index(drop=True)


@draws
def cashflow_waterfall(flows: pd.DataFrame, *, by: str = "payer", rates=None, discounted: bool = True, ax=None):
    """Waterfall of an intervention's cash flows: costs and gains by payer (or area), then the net.

    Parameters
    ----------
    flows : DataFrame
        ``year``, ``amount_dkk`` and the ``by`` column, e.g. :attr:`BudgetConsequences.flows
        <progression.economics.BudgetConsequences.flows>` (positive = gain).
    by : str, default="payer"
        Column that splits the bars (``payer``, ``area`` or ``item``).
    rates : see :func:`~progression.economics.discount_factors`
    discounted : bool, default=True
        Present values; ``False`` sums the undiscounted flows.
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib Axes
    """
    missing = [c for c in ("year", "amount_dkk", by) if c not in flows.columns]
    if missing:
        raise ValueError(f"flows: missing column(s) {missing}; columns present: {list(flows.columns)}")
    ax = new_axes(ax, figsize=_FIGSIZE)
    if flows["amount_dkk"].isna().any():
        _suppressed_note(ax, f"{int(flows['amount_dkk'].isna().sum())} flows")
    steps = _waterfall_steps(flows.dropna(subset=["amount_dkk"]), by, rates, discounted)
    start = np.concatenate([[0.0], np.cumsum(steps["amount"].to_numpy())[:-1]])
    colours = np.where(steps["amount"] < 0, _COST_COLOUR, _GAIN_COLOUR)
    ax.bar(steps["label"], steps["amount"], bottom=start, color=colours)
    net = float(steps["amount"].sum())
    ax.bar([word("plot_net")], [net], color=_NET_COLOUR)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel(word("plot_present_value_dkk") if discounted else word("plot_dkk_undiscounted"))
    ax.set_title(word("plot_costs_and_gains_by", by=word(by)))
    ax.tick_params(axis="x", labelrotation=35, labelsize=7.5)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
    return ax


@draws
def fund_balance_distribution(draws: pd.DataFrame, *, column: str = "state_balance_dkk", bins: int = 50, ax=None):
    """Histogram of a simulated fund balance with the neutrality line (0) and the mean.

    Parameters
    ----------
    draws : DataFrame
        :meth:`FundSimulation.fund_draws <progression.fund.FundSimulation.fund_draws>` (one row per
        draw) or :attr:`FundSimulation.draws` (summed over interventions per ``draw``).
    column : str, default="state_balance_dkk"
        ``state_balance_dkk`` or ``public_balance_dkk`` (any column of the draws).
    bins : int, default=50
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib Axes
    """
    if column not in draws.columns:
        raise ValueError(f"draws: no column '{column}'; columns present: {list(draws.columns)}")
    values = draws.groupby("draw")[column].sum() if "intervention" in draws.columns else draws[column]
    from matplotlib.ticker import MaxNLocator

    ax = new_axes(ax, figsize=_FIGSIZE)
    ax.hist(values / 1e6, bins=min(bins, max(10, len(values) // 8)), color="#009E73", edgecolor="white",
            linewidth=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.axvline(0, color="black", linestyle="--", label=word("plot_budget_neutral"))
    ax.axvline(values.mean() / 1e6, color=_NET_COLOUR, label=word("plot_mean"))
    share = float((values >= 0).mean())
    what = code_label(column, "quantity").removesuffix(" (kr.)")
    ax.set_xlabel(word("plot_balance_axis", what=what), fontsize=8)
    ax.set_ylabel(word("plot_draws"))
    ax.set_title(word("plot_p_balance", share=localise_number(f"{share:.2f}", current_language())), fontsize=9)
    ax.legend(fontsize=7)
    return ax


@draws
def potential_bars(table: pd.DataFrame, *, ax=None):
    """A SØM potential per citizen by year after success, stacked by area (as Social- og Boligstyrelsen 2024,
    *Kommunernes omlægning til Borgeren ved roret*, Fig. 15 and 16).

    Parameters
    ----------
    table : DataFrame
        :attr:`SuccessPotential.table <progression.economics.SuccessPotential.table>`: ``rel_year``,
        ``area``, ``potential_dkk`` (summed over payers here). Positive = successes cost less.
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib Axes
    """
    missing = [c for c in ("rel_year", "area", "potential_dkk") if c not in table.columns]
    if missing:
        raise ValueError(f"table: missing column(s) {missing}; columns present: {list(table.columns)}")
    ax = new_axes(ax, figsize=_FIGSIZE)
    if table["potential_dkk"].isna().any():
        _suppressed_note(ax, f"{int(table['potential_dkk'].isna().sum())} cells")
    wide = table.pivot_table(index="rel_year", columns="area", values="potential_dkk", aggfunc="sum").fillna(0.0)
    x = np.arange(len(wide))
    up, down = np.zeros(len(wide)), np.zeros(len(wide))
    for k, area in enumerate(wide.columns):
        v = wide[area].to_numpy()
        bottom = np.where(v >= 0, up, down)
        ax.bar(x, v, bottom=bottom, color=f"C{k}", label=code_label(area, "area"))
        up, down = up + np.clip(v, 0, None), down + np.clip(v, None, 0)
    ax.plot(x, wide.sum(axis=1).to_numpy(), "o", color="black", label=word("plot_net"))
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(x, [word("plot_year_n", n=int(y) + 1) for y in wide.index])
    ax.set_ylabel(word("plot_dkk_per_citizen"))
    total = localise_number(f"{wide.to_numpy().sum():,.0f}", current_language())
    ax.set_title(word("plot_potential_over", n=len(wide), total=total), fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


@draws
def rate_card_table(rate_card: pd.DataFrame, *, ax=None):
    """The rate card as a table figure (intervention, outcome, price, cap, counterfactual, window).

    Parameters
    ----------
    rate_card : DataFrame
        The :class:`~progression.schemas.RateCard` table (or ``RateCard.table``).
    ax : matplotlib Axes, default=None

    Returns
    -------
    matplotlib Axes
    """
    columns = {"intervention": "intervention", "outcome": "outcome", "price_dkk": "price (DKK)",
               "cap_dkk": "cap per participant", "counterfactual_rate": "counterfactual",
               "window_months": "window (months)"}
    shown = rate_card[[c for c in columns if c in rate_card.columns]].copy()
    for col in ("price_dkk", "cap_dkk"):
        if col in shown:
            shown[col] = shown[col].map(lambda v: "—" if pd.isna(v) else f"{v:,.0f}")
    if "counterfactual_rate" in shown:
        shown["counterfactual_rate"] = shown["counterfactual_rate"].map(lambda v: f"{v:.0%}")
    ax = new_axes(ax, figsize=(9, 0.45 * len(rate_card) + 1))
    ax.axis("off")
    table = ax.table(cellText=shown.astype(str).to_numpy(), colLabels=[columns[c] for c in shown.columns],
                     loc="center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.auto_set_column_width(list(range(shown.shape[1])))
    return ax


def _panels(n: int, width: float, height: float, *, max_cols: int = 3):
    """``n`` panels in rows of at most ``max_cols``, the figure within the report's column."""
    import matplotlib.pyplot as plt

    cols = max(1, min(n, max_cols))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(min(width * cols, PAGE_WIDTH), height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


@draws
def plot_cashflow_panels(cashflows: pd.DataFrame, *, by: str = "payer", rates=None):
    """Waterfalls of the present values per participant, one panel per intervention.

    Parameters
    ----------
    cashflows : DataFrame
        ``intervention``, ``year``, ``amount_dkk`` and the ``by`` column (the fund's cash-flow table).
    by : str, default="payer"
    rates : see :func:`~progression.economics.discount_factors`

    Returns
    -------
    matplotlib Figure
    """
    names = sorted(cashflows["intervention"].unique())
    fig, axes = _panels(len(names), 4.5, 3.9, max_cols=2)
    for ax, k in zip(axes, names):
        cashflow_waterfall(cashflows[cashflows["intervention"] == k], by=by, rates=rates, ax=ax)
        ax.set_title(code_label(k, "intervention"), fontsize=9.5)
    fig.tight_layout()
    return fig


#: Titles of the SØM potential panels (Social- og Boligstyrelsen 2024, Fig. 15 and 16).
POTENTIAL_TITLES = {"employment": "§85, not on førtidspension: work or education",
                    "botilbud": "botilbud resident: no botilbud the year after"}


@draws
def plot_potential_panels(table: pd.DataFrame):
    """The SØM potentials by year after success and area, one panel per potential.

    Parameters
    ----------
    table : DataFrame
        ``potential``, ``rel_year``, ``area``, ``potential_dkk`` (the fund's SØM potential table).

    Returns
    -------
    matplotlib Figure
    """
    kinds = list(dict.fromkeys(table["potential"]))
    fig, axes = _panels(len(kinds), 6.5, 3.4, max_cols=1)
    for ax, kind in zip(axes, kinds):
        potential_bars(table[table["potential"] == kind], ax=ax)
        ax.set_title(code_label(kind, "potential_title"), fontsize=9)
    fig.tight_layout()
    return fig


@draws
def plot_fund_balances(draws: pd.DataFrame, *, panels=(("effects", "state_balance_dkk"),
                                                        ("effects", "public_balance_dkk"),
                                                        ("SØM contrasts", "state_balance_dkk"))):
    """Simulated balances of the fund, one panel per (design, balance).

    Parameters
    ----------
    draws : DataFrame
        One row per draw and ``design`` with the balance columns (the fund's simulated draws).
    panels : sequence of (design, column)
        What each panel shows; a design other than the first is named in its title.

    Returns
    -------
    matplotlib Figure
    """
    fig, axes = _panels(len(panels), 3.0, 3.3)
    first = panels[0][0]
    for ax, (design, column) in zip(axes, panels):
        fund_balance_distribution(draws[draws["design"] == design], column=column, ax=ax)
        if design != first:
            ax.set_title(f"{ax.get_title()}\n({code_label(design, 'design')})", fontsize=9)
    handles, names = axes[0].get_legend_handles_labels()
    for ax in axes:  # one legend under the panels, off the bars
        ax.get_legend().remove()
    fig.legend(handles, names, loc="lower center", ncol=len(names), frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig
