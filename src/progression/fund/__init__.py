"""A result-payment fund: rate card, payment rules, a Monte Carlo simulator of its budget, and its inputs.

Ekspertudvalget på socialområdet (2024), *Anbefalinger til en bæredygtig faglig og økonomisk udvikling på
socialområdet*, afsnit 3.3, recommends a pilot *statslig resultatbetalingsfond*: the state pays
municipalities for predefined, verified results of well-tested preventive interventions, and the pilot
must be budget-neutral for the public sector.

* :mod:`~progression.fund.ratecard`: the :class:`RateCard`, the rate card's payment
  (:func:`outcome_payment`) and the seam where payment rules plug in (:class:`PaymentRule`,
  :class:`Contracts`, :class:`RateCardPayment`);
* :mod:`~progression.fund.simulate`: :func:`simulate` and its result :class:`FundSimulation` (balances,
  probability of budget neutrality, neutral prices, ranking);
* :mod:`~progression.fund.compare`: :func:`compare_rules`, the fund under several payment rules, with the
  estimated effects and with none (the rules for small volumes are in
  :mod:`progression.design.payment_rules`);
* :mod:`~progression.fund.inputs`: the tables the simulation takes (:func:`gains_per_outcome`,
  :func:`fund_interventions`, :func:`fund_contracts`).

Examples
--------
>>> import pandas as pd
>>> from progression.fund import outcome_payment
>>> float(outcome_payment([[12]], [30], prices=[50_000], counterfactual_rates=[0.3])[0])
150000.0
"""

from progression.fund.inputs import (
    GAIN_COLUMNS,
    fund_contracts,
    fund_interventions,
    gains_per_outcome,
    participant_means,
)
from progression.fund.compare import SCENARIOS, compare_rules
from progression.fund.ratecard import Contracts, PaymentRule, RateCard, RateCardPayment, outcome_payment
from progression.fund.simulate import FundSimulation, simulate

__all__ = [
    "RateCard", "outcome_payment", "Contracts", "PaymentRule", "RateCardPayment",
    "simulate", "FundSimulation", "compare_rules", "SCENARIOS",
    "GAIN_COLUMNS", "gains_per_outcome", "participant_means", "fund_interventions", "fund_contracts",
]
