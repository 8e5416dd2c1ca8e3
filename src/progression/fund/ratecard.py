"""The rate card of a result-payment fund and the payment rules applied to its contracts.

Payments follow a rate card, as in international outcomes funds:

    payment = min(cap, Σ_o price_o · max(0, outcomes_o − counterfactual_o)),

so outcomes that would have happened anyway (deadweight) are never paid (:func:`outcome_payment`).

A payment rule is a pluggable piece of the simulation (:mod:`progression.fund.simulate`): any object
with the two methods of :class:`PaymentRule`, applied to the simulated outcomes of one intervention's
contracts (:class:`Contracts`). :class:`RateCardPayment` is the rate card's own rule; the rules for
small volumes (a minimum number of citizens, pooling across municipalities, credibility-weighted outcome
rates, caps) are the classes of :mod:`progression.design.payment_rules`, which have the same two methods,
and :func:`progression.fund.compare_rules` runs the fund under several of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from progression.exceptions import ParameterError

__all__ = ["RateCard", "outcome_payment", "Contracts", "PaymentRule", "RateCardPayment"]

class RateCard:
    """A validated rate card: price per verified outcome, caps and contracted counterfactuals.

    Parameters
    ----------
    table : DataFrame
        The :class:`~progression.schemas.RateCard` table, one row per intervention × outcome:
        ``price_dkk`` (per outcome above the counterfactual), ``cap_dkk`` (cap per participant,
        missing = none; equal on all rows of an intervention), ``counterfactual_rate`` (share
        reaching the outcome anyway), ``window_months`` (measurement window), ``price_year`` and
        ``gain_payer`` (whose gain the price returns).
    contract_caps : mapping of str to float, default=None
        Cap per contract (one municipality, one cohort year) by intervention, DKK.

    Attributes
    ----------
    table : DataFrame
    contract_caps : dict

    Raises
    ------
    DataContractError
        When the table breaks the data contract (e.g. a price above its cap).
    ParameterError
        When an intervention's rows have different caps, prices are in several price years, or a
        contract cap names an unknown intervention or is not positive.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> card = RateCard(load_example("rate_card"))
    >>> card
    RateCard(4 interventions, 8 outcomes, price year 2024)
    >>> card.rows("ips")[["outcome", "price_dkk", "counterfactual_rate"]]
                  outcome  price_dkk  counterfactual_rate
    0            employed    60000.0                  0.1
    1  no_psych_admission    20000.0                  0.8
    >>> card.participant_cap("ips"), card.contract_cap("ips")
    (90000.0, inf)
    >>> card.scaled(1.5, interventions=["ips"]).rows("ips")["price_dkk"].tolist()
    [90000.0, 30000.0]
    """

    def __init__(self, table: pd.DataFrame, *, contract_caps: Mapping[str, float] | None = None):
        from progression.schemas import validate_tables  # on first use: simulation workers skip pandera's import
        validate_tables({"rate_card": table})
        caps = table.groupby("intervention")["cap_dkk"].nunique(dropna=False)
        mixed = caps[caps > 1].index.tolist()
        if mixed:
            raise ParameterError(
                f"rate_card: cap_dkk (per participant) must be the same on every row of an intervention; "
                f"differs for {mixed[:5]}"
            )
        if table["price_year"].nunique() > 1:
            raise ParameterError(
                f"rate_card: all prices must be in one price year; "
                f"found {sorted(table['price_year'].unique().tolist())} "
                "(move them with progression.economics.reprice)"
            )
        contract_caps = dict(contract_caps or {})
        unknown = sorted(set(contract_caps) - set(table["intervention"]))
        bad = {k: v for k, v in contract_caps.items() if not v > 0}
        if unknown or bad:
            raise ParameterError(f"contract_caps: unknown interventions {unknown} or caps not > 0 {bad}")
        self.table = table.reset_index(drop=True)
        self.contract_caps = contract_caps

    def __repr__(self) -> str:
        return (f"RateCard({self.table['intervention'].nunique()} interventions, "
                f"{len(self.table)} outcomes, price year {int(self.table['price_year'].iloc[0])})")

    @property
    def price_year(self) -> int:
        """The price year of every price on the card."""
        return int(self.table["price_year"].iloc[0])

    def rows(self, intervention: str) -> pd.DataFrame:
        """The rate-card rows of one intervention."""
        return self.table[self.table["intervention"] == intervention]

    def participant_cap(self, intervention: str) -> float:
        """Cap per participant (inf if none)."""
        caps = self.rows(intervention)["cap_dkk"].dropna()
        return float(caps.iloc[0]) if len(caps) else math.inf

    def contract_cap(self, intervention: str) -> float:
        """Cap per contract (inf if none)."""
        return float(self.contract_caps.get(intervention, math.inf))

    def scaled(self, factor: float, interventions=None) -> "RateCard":
        """A copy with the prices of ``interventions`` (default all) multiplied by ``factor``; caps unchanged."""
        table = self.table.copy()
        chosen = table["intervention"].isin(interventions) if interventions is not None else slice(None)
        table.loc[chosen, "price_dkk"] = table.loc[chosen, "price_dkk"] * factor
        return RateCard(table, contract_caps=self.contract_caps)


def outcome_payment(outcomes, participants, *, prices, counterfactual_rates, cap=math.inf, axis: int = 0):
    """The rate-card payment rule: min(cap, Σ_o price_o · max(0, outcomes_o − counterfactual_o)).

    Parameters
    ----------
    outcomes : array-like
        Counts of participants reaching each outcome; outcomes along ``axis``.
    participants : array-like
        Participants per contract, broadcastable to ``outcomes`` without ``axis``.
    prices, counterfactual_rates : array-like of shape (n_outcomes,)
        Price per outcome above the counterfactual, and the contracted share reaching each
        outcome anyway (counterfactual_o = rate_o × participants).
    cap : float or array-like, default=inf
        Cap on the contract's payment (e.g. cap per participant × participants).
    axis : int, default=0

    Returns
    -------
    ndarray
        Payment per contract.

    Examples
    --------
    Two IPS contracts of 10 participants at the example rate card's prices: the first has 5 employed
    (1 expected anyway) and 9 without a psychiatric admission (8 expected), the second nothing above
    its counterfactual:

    >>> outcome_payment([[5, 1], [9, 7]], [10, 10], prices=[60_000, 20_000], counterfactual_rates=[0.1, 0.8])
    array([260000.,      0.])
    >>> outcome_payment([[5, 1], [9, 7]], [10, 10], prices=[60_000, 20_000], counterfactual_rates=[0.1, 0.8],
    ...                 cap=200_000)
    array([200000.,      0.])
    """
    y = np.asarray(outcomes, dtype=float)
    axis = axis % y.ndim
    shape = [1] * y.ndim
    shape[axis] = -1
    price = np.asarray(prices, dtype=float).reshape(shape)
    rate = np.asarray(counterfactual_rates, dtype=float).reshape(shape)
    contract_shape = y.shape[:axis] + y.shape[axis + 1:]
    n = np.expand_dims(np.broadcast_to(np.asarray(participants, dtype=float), contract_shape), axis)
    payable = (price * np.maximum(0.0, y - rate * n)).sum(axis=axis)
    return np.minimum(cap, payable)


@dataclass(frozen=True)
class Contracts:
    """What a payment rule sees of one intervention: its contracts and the terms of its rate card.

    A contract is one intervention in one municipality for one cohort year. Arrays of shape ``(C,)``
    run over the contracts, arrays of shape ``(K,)`` over the intervention's outcomes.

    Attributes
    ----------
    participants : ndarray of int, shape (C,)
        Participants of each contract.
    municipality : ndarray of int, shape (C,)
        Index of each contract's municipality (into the simulation's sorted municipality codes).
    cohort : ndarray of int, shape (C,)
        Cohort year of each contract (0 = the first).
    payment_year : ndarray of int, shape (C,)
        Year its outcomes are measured and paid.
    prices : ndarray, shape (K,)
        Price per outcome above the counterfactual (0 = not on the card).
    counterfactual_rates : ndarray, shape (K,)
        Contracted share of participants reaching each outcome anyway.
    caps : ndarray, shape (C,)
        Cap on each contract's payment (inf = none).
    region : ndarray of int, shape (C,), optional
        Index of each contract's region (into the simulation's sorted region names), when the
        simulation's contracts table has a ``region`` column; None otherwise.
    intervention : str, default=""
        The intervention the contracts are for.
    outcomes : tuple of str, default=()
        The names of the K outcomes, in the order of ``prices``.

    Examples
    --------
    >>> import numpy as np
    >>> contracts = Contracts(participants=np.array([10, 10]), municipality=np.array([0, 1]),
    ...                       cohort=np.array([0, 0]), payment_year=np.array([1, 1]),
    ...                       prices=np.array([60_000.0, 20_000.0]), counterfactual_rates=np.array([0.1, 0.8]),
    ...                       caps=np.array([np.inf, np.inf]))
    >>> contracts.priced(0.5).prices
    array([30000., 10000.])
    >>> contracts.pools("year").tolist(), contracts.region is None
    ([0, 0], True)
    >>> RateCardPayment().pay(np.array([[[5, 1], [9, 7]]]), contracts)    # one draw, two outcomes, two contracts
    array([[260000.,      0.]])
    """

    participants: np.ndarray
    municipality: np.ndarray
    cohort: np.ndarray
    payment_year: np.ndarray
    prices: np.ndarray
    counterfactual_rates: np.ndarray
    caps: np.ndarray
    region: np.ndarray | None = None
    intervention: str = ""
    outcomes: tuple = ()

    def priced(self, scale: float) -> "Contracts":
        """The same contracts with every price multiplied by ``scale`` (caps unchanged)."""
        return replace(self, prices=self.prices * scale)

    def pools(self, by: str) -> np.ndarray:
        """Pool of each contract (integer codes 0 … G−1), shape (C,): the contracts paid together.

        A pool never spans payment years: a payment cannot wait for later cohorts.

        Parameters
        ----------
        by : {"year", "region"}
            ``"year"``: every municipality's contract of the same payment year (a national pool);
            ``"region"``: the contracts of one region and payment year.

        Raises
        ------
        ParameterError
            When ``by`` is unknown, or is ``"region"`` and the contracts carry no region.
        """
        if by == "year":
            keys = self.payment_year
        elif by == "region":
            if self.region is None:
                raise ParameterError("pooling by region needs the region of every contract: give the "
                                     "simulation's contracts table a 'region' column")
            keys = np.asarray(self.region, dtype=np.int64) * (int(self.payment_year.max(initial=0)) + 1) \
                + self.payment_year
        else:
            raise ParameterError(f"by: expected 'year' or 'region'; got {by!r}")
        return np.unique(np.asarray(keys, dtype=np.int64), return_inverse=True)[1].reshape(-1)


@runtime_checkable
class PaymentRule(Protocol):
    """The seam of the simulation where a payment rule plugs in.

    :func:`~progression.fund.simulate` calls ``rule.pay(outcomes, contracts)`` once per intervention and
    chunk of draws, with ``outcomes`` of shape (draws, K, C): the number of each contract's participants
    who reach each outcome with the intervention. It returns the payment of each contract in each draw,
    shape (draws, C), in DKK of the card's price year; the simulation sums them by payment year and by
    municipality. A rule may look across contracts (pool municipalities, shrink a contract's outcome
    rate towards the others', hold back payment below a minimum number of citizens) and spread a pooled
    payment back over the contracts.

    ``rule.proportional(contracts)`` says whether the payments are proportional to the prices (the rate
    card without caps): the neutral prices then come from the stored draws; otherwise the simulation
    re-draws the same outcomes (common random numbers) at each trial price.

    A rule must be picklable (a module-level class), as the draws run in worker processes.

    Examples
    --------
    A rule that pays nothing for contracts under 15 participants, the rate card otherwise:

    >>> import numpy as np
    >>> class MinimumFifteen:
    ...     def pay(self, outcomes, contracts):
    ...         paid = RateCardPayment().pay(outcomes, contracts)
    ...         return np.where(contracts.participants >= 15, paid, 0.0)
    ...     def proportional(self, contracts):
    ...         return RateCardPayment().proportional(contracts)
    >>> isinstance(MinimumFifteen(), PaymentRule), isinstance(RateCardPayment(), PaymentRule)
    (True, True)
    >>> contracts = Contracts(participants=np.array([10, 20]), municipality=np.array([0, 1]),
    ...                       cohort=np.array([0, 0]), payment_year=np.array([1, 1]), prices=np.array([60_000.0]),
    ...                       counterfactual_rates=np.array([0.1]), caps=np.array([np.inf, np.inf]))
    >>> MinimumFifteen().pay(np.array([[[5, 6]]]), contracts)
    array([[     0., 240000.]])
    """

    def pay(self, outcomes: np.ndarray, contracts: Contracts) -> np.ndarray: ...

    def proportional(self, contracts: Contracts) -> bool: ...


@dataclass(frozen=True)
class RateCardPayment:
    """The rate card's payment rule, contract by contract: :func:`outcome_payment` with the contract's cap.

    Examples
    --------
    >>> import numpy as np
    >>> contracts = Contracts(participants=np.array([10, 10]), municipality=np.array([0, 1]),
    ...                       cohort=np.array([0, 0]), payment_year=np.array([1, 1]),
    ...                       prices=np.array([100.0, 40.0]), counterfactual_rates=np.array([0.3, 0.5]),
    ...                       caps=np.array([np.inf, 300.0]))
    >>> outcomes = np.array([[[5, 6], [2, 9]]])          # one draw, two outcomes, two contracts
    >>> RateCardPayment().pay(outcomes, contracts).tolist()
    [[200.0, 300.0]]
    """

    def pay(self, outcomes: np.ndarray, contracts: Contracts) -> np.ndarray:
        """Payments (draws, C) for outcomes (draws, K, C)."""
        return outcome_payment(outcomes, contracts.participants, prices=contracts.prices,
                               counterfactual_rates=contracts.counterfactual_rates, cap=contracts.caps, axis=1)

    def proportional(self, contracts: Contracts) -> bool:
        """Payments scale with the prices unless a cap can bind."""
        return not np.isfinite(contracts.caps).any()
