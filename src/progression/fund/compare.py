"""The fund under several payment rules: what each costs in noise, in neutrality and in paying for nothing.

VIVE (2024), *Styringsgennemgang af socialpsykiatrien*, warns that the target groups are too small to pay
against an average expected result: a fund paying each contract by the rate card pays for chance. Rules
for small volumes (a minimum number of citizens before paying, pooling across municipalities,
credibility-weighted outcome rates, caps; :mod:`progression.design.payment_rules`) pay less for noise
and less for true effects. :func:`compare_rules` runs :func:`~progression.fund.simulate` under each rule
on the same random draws in three worlds: with the estimated effects (their sampling uncertainty
included), with no true effect, and with no true effect and the contracted counterfactual right (chance
alone), and sets side by side the spread of the fund's payments, the probability of budget neutrality
for the state and the public sector, and the probability of paying when nothing works.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from progression.exceptions import ParameterError
from progression.fund.ratecard import PaymentRule, RateCard
from progression.fund.simulate import simulate

__all__ = ["SCENARIOS", "compare_rules"]

#: The worlds each rule is run in: the estimated effects; no true effect on any outcome; no true effect and
#: every priced outcome's baseline rate at the card's counterfactual rate (what is paid, is paid for chance).
SCENARIOS = ("estimated_effects", "no_effect", "chance_only")


def compare_rules(interventions: pd.DataFrame, rate_card: RateCard | pd.DataFrame, municipalities: pd.DataFrame,
                  rules: Mapping[str, PaymentRule], *, years: int, n_draws: int, seed, n_jobs: int = 1,
                  rates=None, chunk_size: int = 500, paying_threshold: float = 0.0,
                  scenarios=SCENARIOS) -> pd.DataFrame:
    """Simulate the fund under each payment rule, with the estimated effects and with no true effect.

    Parameters
    ----------
    interventions, rate_card, municipalities :
        As in :func:`~progression.fund.simulate` (a ``region`` column in ``municipalities`` lets a rule
        pool the contracts of a region).
    rules : mapping of str to PaymentRule
        Name → rule (:class:`~progression.fund.PaymentRule`; e.g. the classes of
        :mod:`progression.design.payment_rules`, or :class:`~progression.fund.RateCardPayment`).
    years, n_draws, seed, n_jobs, rates, chunk_size :
        As in :func:`~progression.fund.simulate`. Every rule and scenario runs on the same seed, so the
        rules pay for the same outcomes (common random numbers) and their differences are the rules'.
    paying_threshold : float, default=0
        Present value (DKK) above which the fund counts as paying in ``prob_paying_above``.
    scenarios : sequence of str, default=SCENARIOS
        The worlds to run (a subset of :data:`SCENARIOS`).

    Returns
    -------
    DataFrame
        One row per scenario and rule (:data:`SCENARIOS`: ``estimated_effects``, the true effects drawn
        from the estimates' sampling distributions; ``no_effect``, every effect 0 without uncertainty;
        ``chance_only``, no effect and the baseline rate of every priced outcome at the card's
        counterfactual rate, so that nothing is paid for deadweight), over the present values of the
        whole fund: ``mean_payment_dkk``, ``sd_payment_dkk`` (the spread of
        payments over the draws), ``mean_state_balance_dkk``, ``mean_public_balance_dkk``,
        ``prob_neutral_state`` and ``prob_neutral_public`` (P(balance ≥ 0)), ``prob_paying`` (P(payments
        > 0)), ``prob_paying_above`` (P(payments > ``paying_threshold``)) and ``paying_threshold_dkk``.
        Without an effect the gains are 0: neutrality means paying nothing, and every krone paid is
        paid for chance or (``no_effect``, where the contracted counterfactual is below the baseline rate)
        for deadweight.

    Raises
    ------
    ParameterError
        When ``rules`` is empty, ``paying_threshold`` is negative, a scenario is unknown, or as
        :func:`~progression.fund.simulate`.

    Examples
    --------
    One outcome in ten municipalities of 6 to 60 participants: held back below 20 citizens, the fund pays
    for chance less often when the intervention does nothing.

    >>> import numpy as np, pandas as pd
    >>> from progression.design import MinimumVolume, RateCardRule
    >>> effects = pd.DataFrame({"intervention": ["ips"], "outcome": ["employed"], "effect": [0.10],
    ...                         "effect_std_error": [0.03], "baseline_rate": [0.20], "gain_kommune_dkk": [20_000.0],
    ...                         "gain_region_dkk": [5_000.0], "gain_stat_dkk": [150_000.0]})
    >>> card = pd.DataFrame({"intervention": ["ips"], "outcome": ["employed"], "price_dkk": [100_000.0],
    ...                      "cap_dkk": [np.nan], "counterfactual_rate": [0.20], "window_months": [12],
    ...                      "price_year": [2024], "gain_payer": ["stat"]})
    >>> contracts = pd.DataFrame({"municipality": [101, 147, 151, 153, 155, 157, 159, 161, 163, 165],
    ...                           "intervention": "ips", "participants": [6, 6, 8, 8, 10, 10, 12, 30, 40, 60]})
    >>> rules = {"rate card": RateCardRule(), "at least 20": MinimumVolume(20)}
    >>> out = compare_rules(effects, card, contracts, rules, years=1, n_draws=1000, seed=1,
    ...                     scenarios=("estimated_effects", "no_effect"))
    >>> out[["rule", "scenario", "prob_neutral_state", "prob_paying"]].round(2)
              rule           scenario  prob_neutral_state  prob_paying
    0    rate card  estimated_effects                0.87         1.00
    1  at least 20  estimated_effects                0.98         1.00
    2    rate card          no_effect                0.01         0.99
    3  at least 20          no_effect                0.20         0.80
    """
    if not rules:
        raise ParameterError("rules: name at least one payment rule")
    if not paying_threshold >= 0:
        raise ParameterError(f"paying_threshold: expected a present value ≥ 0; got {paying_threshold!r}")
    unknown = sorted(set(scenarios) - set(SCENARIOS))
    if unknown or not len(scenarios):
        raise ParameterError(f"scenarios: expected some of {list(SCENARIOS)}; got {list(scenarios)}")
    if not isinstance(rate_card, RateCard):
        rate_card = RateCard(rate_card)
    null = interventions.assign(effect=0.0, effect_std_error=0.0)
    contracted = null.merge(rate_card.table[["intervention", "outcome", "counterfactual_rate"]],
                            on=["intervention", "outcome"], how="left")["counterfactual_rate"]
    worlds = {"estimated_effects": interventions, "no_effect": null,
              "chance_only": null.assign(baseline_rate=contracted.fillna(null["baseline_rate"]).to_numpy())}
    rows = []
    for scenario in scenarios:
        for name, rule in rules.items():
            sim = simulate(worlds[scenario], rate_card, municipalities, years=years, n_draws=n_draws, seed=seed,
                           n_jobs=n_jobs, rates=rates, chunk_size=chunk_size, payment_rule=rule)
            fund = sim.fund_draws()
            paid = fund["payments_dkk"].to_numpy()
            rows.append({
                "rule": name, "scenario": scenario,
                "mean_payment_dkk": float(paid.mean()), "sd_payment_dkk": float(np.std(paid, ddof=1)),
                "mean_state_balance_dkk": float(fund["state_balance_dkk"].mean()),
                "mean_public_balance_dkk": float(fund["public_balance_dkk"].mean()),
                "prob_neutral_state": float((fund["state_balance_dkk"] >= 0).mean()),
                "prob_neutral_public": float((fund["public_balance_dkk"] >= 0).mean()),
                "prob_paying": float((paid > 0).mean()),
                "prob_paying_above": float((paid > paying_threshold).mean()),
                "paying_threshold_dkk": float(paying_threshold),
            })
    return pd.DataFrame(rows)
