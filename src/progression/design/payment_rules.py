"""Payment rules for small volumes, and the bonus for fewer preventable admissions.

VIVE (2024), *Styringsgennemgang af socialpsykiatrien*, section 2.3.1, warns that the target groups are
too small to pay against an average expected result: with 10 citizens in a contract, chance alone moves
the outcome rate by ±10 percentage points. A rate-card fund then pays for noise. The rules here act on
simulated outcomes per contract (one municipality, one cohort) and can be stacked:

* :class:`RateCardRule` — price · max(0, y − r·n), capped per contract (the rule of
  :func:`progression.fund.outcome_payment`);
* :class:`MinimumVolume` — no payment for contracts with fewer than ``min_participants`` citizens;
* :class:`Pooled` — contracts of a pool (e.g. the municipalities of a project or region) are paid on
  their pooled result, shared by participants;
* :class:`Credibility` — the contract's rate is shrunk towards the contracted counterfactual with
  the empirical-Bayes (Bühlmann) weight Z = n/(n + k), k = r(1 − r)/τ², τ² the variance of true
  contract rates around the counterfactual, before paying;
* :class:`Capped` — the total payment of a year is scaled down pro rata to a budget cap.

Every rule works through two seams:

* as a callable ``rule(outcomes, participants, *, price, counterfactual_rate, groups=None)`` →
  payments with the shape of ``outcomes`` (draws × contracts), one outcome at one price:
  :func:`evaluate_rules` simulates stylised contracts under a true effect and under no effect and
  reports, per rule, the variance of payments, the probability of budget neutrality and the
  probability of paying when the true effect is zero;
* as a payment rule of the fund simulator (:class:`progression.fund.PaymentRule`):
  ``rule.pay(outcomes, contracts)`` pays the K outcomes of one intervention's contracts at the rate
  card's prices, counterfactual rates and caps, so ``progression.fund.simulate(...,
  payment_rule=Pooled(Credibility(0.01), by="region"))`` runs the fund under it, and
  :func:`progression.fund.compare_rules` runs the fund under each of several rules, with the
  estimated effects and with none.

The rules are frozen dataclasses at module level: they pickle into the simulation's worker processes.

:func:`admissions_bonus` simulates the proposal VIVE (2024), section 3.3.2, cites: a bonus of up to 1 bn kr. a
year to municipalities whose preventable admissions per 1,000 citizens fall.

References
----------
Bühlmann, H. & Gisler, A. (2005). A Course in Credibility Theory and its Applications. Springer, ch. 3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from progression import _validation as chk
from progression._tidy import stream
from progression.exceptions import ParameterError
from progression.fund.ratecard import Contracts, outcome_payment

__all__ = ["PaymentRule", "RateCardRule", "MinimumVolume", "Pooled", "Credibility", "Capped",
           "evaluate_rules", "admissions_bonus"]


def _arrays(outcomes, participants):
    y = np.asarray(outcomes, dtype=float)
    n = np.broadcast_to(np.asarray(participants, dtype=float), y.shape[-1:])
    if y.ndim == 1:
        y = y[None, :]
    return y, n


def _sum_within(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the last axis of ``values`` within ``groups`` (0 … n_groups−1), in a fixed order (no BLAS).

    The sums must not depend on the process they run in: results are the same for any ``n_jobs``.
    """
    order = np.argsort(groups, kind="stable")
    ordered = groups[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    out = np.zeros(values.shape[:-1] + (n_groups,), dtype=values.dtype)
    out[..., ordered[starts]] = np.add.reduceat(values[..., order], starts, axis=-1)
    return out


def _example_contracts() -> Contracts:
    """Two contracts of 10 and 20 citizens in two regions, one outcome at 1,000 kr. above a rate of 0.3."""
    return Contracts(participants=np.array([10, 20]), municipality=np.array([0, 1]), cohort=np.array([0, 0]),
                     payment_year=np.array([1, 1]), prices=np.array([1000.0]), counterfactual_rates=np.array([0.3]),
                     caps=np.array([np.inf, np.inf]), region=np.array([0, 1]), intervention="ips",
                     outcomes=("employed",))


class PaymentRule:
    """Base class: ``rule(outcomes, participants, *, price, counterfactual_rate, groups=None)``, and
    ``rule.pay(outcomes, contracts)`` / ``rule.proportional(contracts)`` in the fund simulator.

    ``outcomes`` is (draws, contracts) or (contracts,) counts of participants reaching the outcome;
    ``participants`` (contracts,); ``groups`` (contracts,) integer pool of each contract (used by
    :class:`Pooled`). Returns the payment per draw and contract (2-D).

    In the fund simulator (:class:`progression.fund.PaymentRule`) ``pay`` takes the outcomes
    (draws, K, C) of one intervention's C contracts and its :class:`~progression.fund.Contracts`
    (participants, K prices and counterfactual rates, caps, payment years, regions) and returns
    (draws, C); ``proportional`` says whether the payments scale with the prices.

    Subclass it (a callable and a ``label``) to try a rule of one's own in :func:`evaluate_rules`, and
    give it ``pay`` and ``proportional`` to run it in :func:`progression.fund.simulate`.

    Examples
    --------
    >>> import numpy as np
    >>> class PerOutcome(PaymentRule):
    ...     label = "per outcome"
    ...     def __call__(self, outcomes, participants, *, price, counterfactual_rate, groups=None):
    ...         return price * np.atleast_2d(np.asarray(outcomes, dtype=float))
    >>> PerOutcome()([5, 9], [10, 20], price=1000, counterfactual_rate=0.3)
    array([[5000., 9000.]])
    """

    label = "rule"

    def __call__(self, outcomes, participants, *, price: float, counterfactual_rate: float, groups=None):
        raise NotImplementedError

    def pay(self, outcomes: np.ndarray, contracts: Contracts) -> np.ndarray:
        """Payments (draws, C) of one intervention's contracts for outcomes (draws, K, C)."""
        raise NotImplementedError(f"{type(self).__name__} has no pay(outcomes, contracts): it cannot run in "
                                  "the fund simulation")

    def proportional(self, contracts: Contracts) -> bool:
        """Whether the payments are proportional to the prices (False: neutral prices re-draw)."""
        return False


@dataclass(frozen=True)
class RateCardRule(PaymentRule):
    """price · max(0, y − r·n), at most ``cap_per_contract``.

    In the fund simulator: :func:`~progression.fund.outcome_payment` over the intervention's outcomes
    with the card's caps (and ``cap_per_contract`` where lower): the fund's default rule,
    :class:`~progression.fund.RateCardPayment`, to the last bit.

    Parameters
    ----------
    cap_per_contract : float, default=inf
        Most a contract is paid.
    label : str, default="rate card"

    Examples
    --------
    Two contracts of 10 and 20 citizens with 5 and 9 outcomes against a counterfactual rate of 0.3
    (3 and 6 expected): 2 and 3 outcomes paid.

    >>> RateCardRule()([5, 9], [10, 20], price=1000, counterfactual_rate=0.3)
    array([[2000., 3000.]])
    >>> RateCardRule(cap_per_contract=2500)([5, 9], [10, 20], price=1000, counterfactual_rate=0.3)
    array([[2000., 2500.]])

    The same in the fund simulator's terms (one draw, one outcome, two contracts):

    >>> RateCardRule(cap_per_contract=2500).pay(np.array([[[5, 9]]]), _example_contracts())
    array([[2000., 2500.]])
    """

    cap_per_contract: float = math.inf
    label: str = "rate card"

    def __call__(self, outcomes, participants, *, price, counterfactual_rate, groups=None):
        y, n = _arrays(outcomes, participants)
        return np.minimum(self.cap_per_contract, price * np.maximum(0.0, y - counterfactual_rate * n))

    def pay(self, outcomes, contracts):
        """Payments (draws, C) for outcomes (draws, K, C): the rate card, contract by contract."""
        caps = contracts.caps if math.isinf(self.cap_per_contract) else np.minimum(contracts.caps,
                                                                                  self.cap_per_contract)
        return outcome_payment(outcomes, contracts.participants, prices=contracts.prices,
                               counterfactual_rates=contracts.counterfactual_rates, cap=caps, axis=1)

    def proportional(self, contracts):
        """Payments scale with the prices unless a cap can bind."""
        return math.isinf(self.cap_per_contract) and not np.isfinite(contracts.caps).any()


@dataclass(frozen=True)
class MinimumVolume(PaymentRule):
    """No payment for contracts with fewer than ``min_participants`` citizens; ``base`` otherwise.

    Parameters
    ----------
    min_participants : int
        Smallest contract paid.
    base : PaymentRule, default=RateCardRule()
        The rule paying the contracts large enough.
    label : str, default="minimum volume"

    Examples
    --------
    >>> MinimumVolume(15)([5, 9], [10, 20], price=1000, counterfactual_rate=0.3)
    array([[   0., 3000.]])
    >>> MinimumVolume(15).pay(np.array([[[5, 9]]]), _example_contracts())
    array([[   0., 3000.]])
    """

    min_participants: int
    base: PaymentRule = RateCardRule()
    label: str = "minimum volume"

    def __call__(self, outcomes, participants, *, price, counterfactual_rate, groups=None):
        y, n = _arrays(outcomes, participants)
        paid = self.base(y, n, price=price, counterfactual_rate=counterfactual_rate, groups=groups)
        return np.where(n >= self.min_participants, paid, 0.0)

    def pay(self, outcomes, contracts):
        """Payments (draws, C): ``base`` for the contracts of at least ``min_participants``, 0 for the rest."""
        paid = self.base.pay(outcomes, contracts)
        return np.where(contracts.participants >= self.min_participants, paid, 0.0)

    def proportional(self, contracts):
        """As ``base``: holding back small contracts does not depend on the prices."""
        return self.base.proportional(contracts)


@dataclass(frozen=True)
class Pooled(PaymentRule):
    """Pay each pool of contracts on its pooled outcomes, shared in proportion to participants.

    Parameters
    ----------
    base : PaymentRule, default=RateCardRule()
        The rule applied to each pool's outcomes and participants.
    label : str, default="pooled"
    by : {"year", "region"}, default="year"
        The pools in the fund simulator (:meth:`progression.fund.Contracts.pools`): every
        municipality's contract of one payment year (``"year"``, a national pool), or those of one
        region and payment year (``"region"``). A pool's cap is the sum of its contracts' caps. As a
        callable the pools are the ``groups`` given.

    Raises
    ------
    ParameterError
        When called without ``groups``; in the fund simulator, when ``by`` is ``"region"`` and the
        contracts carry no region.

    Examples
    --------
    The two contracts in one pool: 14 outcomes against 9 expected, 5 paid, shared 1:2:

    >>> Pooled()([5, 9], [10, 20], price=1000, counterfactual_rate=0.3, groups=[0, 0]).round(0)
    array([[1667., 3333.]])
    >>> Pooled(by="year").pay(np.array([[[5, 9]]]), _example_contracts()).round(0)
    array([[1667., 3333.]])

    By region the two contracts (in two regions) are paid alone, as by the rate card:

    >>> Pooled(by="region").pay(np.array([[[5, 9]]]), _example_contracts())
    array([[2000., 3000.]])
    """

    base: PaymentRule = RateCardRule()
    label: str = "pooled"
    by: str = "year"

    def __call__(self, outcomes, participants, *, price, counterfactual_rate, groups=None):
        y, n = _arrays(outcomes, participants)
        if groups is None:
            raise ParameterError("Pooled needs groups: the pool (integer code) of every contract")
        codes, g = np.unique(np.asarray(groups), return_inverse=True)
        pooled_y = np.stack([np.bincount(g, weights=row, minlength=len(codes)) for row in y])
        pooled_n = np.bincount(g, weights=n, minlength=len(codes))
        paid = self.base(pooled_y, pooled_n, price=price, counterfactual_rate=counterfactual_rate)
        return paid[:, g] * (n / pooled_n[g])

    def pay(self, outcomes, contracts):
        """Payments (draws, C): ``base`` on each pool's summed outcomes, shared by participants."""
        g = contracts.pools(self.by)
        n_pools = int(g.max()) + 1 if len(g) else 0
        first = np.unique(g, return_index=True)[1]                  # the first contract of each pool
        n = contracts.participants
        pooled_n = _sum_within(np.asarray(n), g, n_pools)
        pooled = replace(contracts, participants=pooled_n, municipality=contracts.municipality[first],
                         cohort=contracts.cohort[first], payment_year=contracts.payment_year[first],
                         caps=_sum_within(np.asarray(contracts.caps, dtype=float), g, n_pools),
                         region=None if contracts.region is None else contracts.region[first])
        paid = self.base.pay(_sum_within(np.asarray(outcomes), g, n_pools), pooled)
        return paid[:, g] * (n / pooled_n[g])

    def proportional(self, contracts):
        """As ``base``: sharing a pool's payment does not depend on the prices."""
        return self.base.proportional(contracts)


@dataclass(frozen=True)
class Credibility(PaymentRule):
    """Shrink each contract's rate towards the counterfactual, Z = n/(n + k), k = r(1 − r)/τ², then pay.

    ``between_variance`` is τ², the variance of the contracts' true rates around the counterfactual:
    given (the municipal variance of the outcome, plus the spread of effects one expects), or
    ``"estimate"``, estimated from the contracts paid together (empirical Bayes, Bühlmann–Straub).

    Parameters
    ----------
    between_variance : float, mapping or "estimate"
        τ² (> 0; inf = no shrinkage, the rate card). In the fund simulator also a mapping from an
        outcome, or an (intervention, outcome) pair, to its τ² (the pair first; outcomes without a
        price need none). ``"estimate"``: in each draw, τ² of each outcome estimated from the contracts
        of the same payment year (as a callable: from all the contracts of the draw), see Notes.
    base : PaymentRule, default=RateCardRule()
        The rule paying the shrunk outcomes.
    label : str, default="credibility"

    Raises
    ------
    ParameterError
        When called with ``between_variance`` not above 0 or an unknown word, or (fund simulator) a
        priced outcome has no τ² in the mapping.

    Notes
    -----
    With r the counterfactual rate and y/n the contract's rate, the rule pays on
    n · (Z y/n + (1 − Z) r), Z = n/(n + k), k = r(1 − r)/τ² (Bühlmann & Gisler 2005, ch. 3): with the
    rate card's max(0, ·) that is Z times the contract's excess over the counterfactual, outcome by
    outcome. A contract of n = k citizens keeps half its excess.

    With ``"estimate"`` the collective mean is the contracted r (known), and over the C contracts paid
    together E[Σ_c n_c (y_c/n_c − r)²] = τ² Σ_c n_c + C r(1 − r), so
    τ̂² = max(0, (Σ_c n_c (y_c/n_c − r)² − C r(1 − r)) / Σ_c n_c) (Bühlmann & Gisler 2005, ch. 4, with
    the collective mean given). When the contracts scatter no more than chance allows, τ̂² = 0 and
    nothing is paid; a common true effect shows as scatter around r and is paid in part.

    References
    ----------
    Bühlmann, H. & Gisler, A. (2005). A Course in Credibility Theory and its Applications. Springer.

    Examples
    --------
    With τ² = 0.01 and r = 0.3, k = 21: the contract of 10 keeps Z = 0.32 of its excess, that of 20
    Z = 0.49:

    >>> Credibility(between_variance=0.01)([5, 9], [10, 20], price=1000, counterfactual_rate=0.3).round(0)
    array([[ 645., 1463.]])
    >>> Credibility({"employed": 0.01}).pay(np.array([[[5, 9]]]), _example_contracts()).round(0)
    array([[ 645., 1463.]])

    Estimated from the two contracts: 4 of 10 and 7 of 20 scatter no more than chance around 0.3, so
    nothing is paid; 8 of 10 and 15 of 20 do, and keep most of their excess:

    >>> Credibility("estimate")([[4, 7], [8, 15]], [10, 20], price=1000, counterfactual_rate=0.3).round(0)
    array([[   0.,    0.],
           [4534., 8560.]])
    """

    between_variance: float | Mapping | str
    base: PaymentRule = RateCardRule()
    label: str = "credibility"

    @property
    def _estimated(self) -> bool:
        v = self.between_variance
        if isinstance(v, str) and v != "estimate":
            raise ParameterError(f"between_variance: expected a τ² > 0, a mapping or 'estimate'; got {v!r}")
        return isinstance(v, str)

    def __call__(self, outcomes, participants, *, price, counterfactual_rate, groups=None):
        y, n = _arrays(outcomes, participants)
        r = counterfactual_rate
        if self._estimated:
            z = _estimated_weights(y[:, None, :], n, np.array([[r]]), np.zeros(len(n), dtype=np.int64), 1)[:, 0]
        else:
            if isinstance(self.between_variance, Mapping):
                raise ParameterError("between_variance: a mapping by outcome works in the fund simulator only; "
                                     "give one τ² here")
            if not self.between_variance > 0:
                raise ParameterError(f"between_variance must be > 0; got {self.between_variance!r}")
            k = r * (1 - r) / self.between_variance
            z = n / (n + k)
        shrunk = z * y / n + (1 - z) * r
        return self.base(shrunk * n, n, price=price, counterfactual_rate=r, groups=groups)

    def _variances(self, contracts: Contracts) -> np.ndarray:
        """τ² of each of the contracts' K outcomes."""
        v = self.between_variance
        if not isinstance(v, Mapping):
            tau2 = np.full(len(contracts.prices), float(v))
        else:
            if len(contracts.outcomes) != len(contracts.prices):
                raise ParameterError("between_variance: a mapping by outcome needs the contracts' outcome names")
            found = []
            for outcome, price in zip(contracts.outcomes, contracts.prices):
                value = v.get((contracts.intervention, outcome), v.get(outcome))
                if value is None and price > 0:
                    raise ParameterError(f"between_variance: no τ² for {contracts.intervention!r}, {outcome!r}")
                found.append(math.inf if value is None else float(value))
            tau2 = np.array(found)
        if not (tau2 > 0).all():
            raise ParameterError(f"between_variance must be > 0; got {tau2.tolist()}")
        return tau2

    def pay(self, outcomes, contracts):
        """Payments (draws, C): ``base`` on the outcomes shrunk, outcome by outcome, towards the counterfactual."""
        y = np.asarray(outcomes, dtype=float)
        r = np.asarray(contracts.counterfactual_rates, dtype=float)[:, None]      # (K, 1)
        n = np.asarray(contracts.participants, dtype=float)                    # (C,)
        if self._estimated:
            year = np.unique(contracts.payment_year, return_inverse=True)[1].reshape(-1)
            z = _estimated_weights(y, n, r, year, int(year.max()) + 1 if len(year) else 0)   # (B, K, C)
        else:
            k = r * (1 - r) / self._variances(contracts)[:, None]
            z = n[None, :] / (n[None, :] + k)                                 # (K, C)
        shrunk = z * y + (1 - z) * (r * n)
        return self.base.pay(shrunk, contracts)

    def proportional(self, contracts):
        """As ``base``: the weights do not depend on the prices."""
        return self.base.proportional(contracts)


def _estimated_weights(y: np.ndarray, n: np.ndarray, r: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Credibility weights Z (draws, K, C) with τ² estimated per draw, outcome and group of contracts.

    ``y`` (draws, K, C) outcomes, ``n`` (C,) participants, ``r`` (K, 1) counterfactual rates; see
    :class:`Credibility` (Notes). Z = n τ̂² / (n τ̂² + r(1 − r)), 1 where both are 0 (an outcome without
    chance: r is 0 or 1).
    """
    n = np.asarray(n, dtype=float)
    sigma2 = r * (1 - r)                                                         # (K, 1)
    scatter = _sum_within((y - r * n) ** 2 / n, groups, n_groups)               # (B, K, G)
    count = _sum_within(np.ones(len(n)), groups, n_groups)                      # (G,)
    total = _sum_within(n, groups, n_groups)                                    # (G,)
    tau2 = np.maximum(0.0, (scatter - count * sigma2) / total)
    signal = tau2[..., groups] * n                                              # (B, K, C)
    noise = signal + sigma2
    return np.divide(signal, noise, out=np.ones_like(signal), where=noise > 0)


@dataclass(frozen=True)
class Capped(PaymentRule):
    """Scale the total payment of a draw down to at most ``cap_total`` (pro rata).

    Parameters
    ----------
    cap_total : float or mapping
        Most paid over all contracts of a draw (a year's budget). In the fund simulator: most paid
        for one intervention's contracts of one payment year, or a mapping from the intervention to
        that amount (an intervention not named is not capped).
    base : PaymentRule, default=RateCardRule()
    label : str, default="capped"

    Examples
    --------
    >>> Capped(cap_total=4000)([5, 9], [10, 20], price=1000, counterfactual_rate=0.3)
    array([[1600., 2400.]])
    >>> Capped(cap_total={"ips": 4000}).pay(np.array([[[5, 9]]]), _example_contracts())
    array([[1600., 2400.]])
    """

    cap_total: float | Mapping
    base: PaymentRule = RateCardRule()
    label: str = "capped"

    def __call__(self, outcomes, participants, *, price, counterfactual_rate, groups=None):
        if isinstance(self.cap_total, Mapping):
            raise ParameterError("cap_total: a mapping by intervention works in the fund simulator only")
        paid = self.base(outcomes, participants, price=price, counterfactual_rate=counterfactual_rate, groups=groups)
        return paid * _cap_factor(paid.sum(axis=-1, keepdims=True), self.cap_total)

    def _cap(self, contracts: Contracts) -> float:
        cap = self.cap_total
        if isinstance(cap, Mapping):
            cap = cap.get(contracts.intervention, math.inf)
        if not cap > 0:
            raise ParameterError(f"cap_total must be > 0; got {cap!r}")
        return float(cap)

    def pay(self, outcomes, contracts):
        """Payments (draws, C): ``base``, each payment year's total scaled down to the cap."""
        paid = self.base.pay(outcomes, contracts)
        cap = self._cap(contracts)
        if math.isinf(cap):
            return paid
        g = np.unique(contracts.payment_year, return_inverse=True)[1].reshape(-1)
        n_years = int(g.max()) + 1 if len(g) else 0
        return paid * _cap_factor(_sum_within(paid, g, n_years), cap)[:, g]

    def proportional(self, contracts):
        """False when the cap can bind: payments then grow less than the prices."""
        return math.isinf(self._cap(contracts)) and self.base.proportional(contracts)


def _cap_factor(total: np.ndarray, cap: float) -> np.ndarray:
    """The factor scaling each ``total`` down to at most ``cap`` (1 where it is below)."""
    return np.where(total > cap, cap / np.where(total > 0, total, 1.0), 1.0)


def _rule_chunk(rules, participants, groups, *, baseline_rate, effect, between_variance, price, gain, seed, name,
                chunk, size):
    rng = stream(seed, f"{name}.chunk{chunk}")
    n = participants
    out = []
    for scenario, delta in (("effect", effect), ("no_effect", 0.0)):
        a = rng.standard_normal((size, len(n))) * math.sqrt(between_variance)
        p0 = np.clip(baseline_rate + a, 0.0, 1.0)
        p1 = np.clip(p0 + delta, 0.0, 1.0)
        y1 = rng.binomial(n.astype(np.int64), p1)
        caused = (p1 - p0) * n   # expected outcomes the intervention causes (the gain does not depend on the rule)
        gains = gain * caused.sum(axis=1)
        for label, rule in rules.items():
            paid = rule(y1, n, price=price, counterfactual_rate=baseline_rate, groups=groups).sum(axis=1)
            out.append(pd.DataFrame({"rule": label, "scenario": scenario, "draw": np.arange(chunk * size,
                                                                                       (chunk + 1) * size),
                                     "payment_dkk": paid, "gain_dkk": gains}))
    return pd.concat(out, ignore_index=True)


def evaluate_rules(rules: Mapping[str, PaymentRule], participants, *, baseline_rate: float, effect: float,
                   price: float, gain_per_outcome: float, between_variance: float = 0.0, groups=None,
                   n_draws: int = 2000, seed: int = 0, n_jobs: int = 1, chunk_size: int = 250,
                   name: str = "design.payment_rules") -> pd.DataFrame:
    """Simulate contracts under the true effect and under no effect, and pay them by each rule.

    Each draw gives every contract c true rates p₀_c = r + a_c (a_c ~ N(0, τ²): municipalities differ
    around the contracted counterfactual r) and p₁_c = p₀_c + δ, and outcomes y_c ~ Bin(n_c, p₁_c). The
    public gain is ``gain_per_outcome`` × the outcomes the intervention causes, Σ n_c(p₁_c − p₀_c).

    Parameters
    ----------
    rules : mapping of str to PaymentRule
    participants : array of int
        Citizens per contract.
    baseline_rate : float
        Contracted counterfactual rate r (the average expected result).
    effect : float
        True effect δ on the rate in the "effect" scenario.
    price : float
        Price per outcome above the counterfactual (DKK).
    gain_per_outcome : float
        Public gain per caused outcome (DKK).
    between_variance : float, default=0
        τ², variance of the contracts' true rates around r.
    groups : array of int, optional
        Pool of each contract (for :class:`Pooled`).
    n_draws, seed, n_jobs, chunk_size, name :
        Simulation size and the named random streams (results do not depend on ``n_jobs``).

    Returns
    -------
    DataFrame
        One row per rule and scenario: ``mean_payment_dkk, sd_payment_dkk, variance_payment``,
        ``p_budget_neutral`` (gain ≥ payment), ``p_paying`` (any payment), ``mean_gain_dkk``.

    Examples
    --------
    >>> import numpy as np
    >>> n = np.array([8, 12, 20, 40, 60])
    >>> rules = {"rate card": RateCardRule(), "minimum 25": MinimumVolume(25)}
    >>> out = evaluate_rules(rules, n, baseline_rate=0.3, effect=0.0, price=100_000, gain_per_outcome=100_000,
    ...                      n_draws=500, seed=1)
    >>> out.loc[out["scenario"] == "no_effect", ["rule", "p_paying"]].round(2).to_string(index=False)
    '      rule  p_paying\\nminimum 25      0.68\\n rate card      0.95'
    """
    n = np.asarray(participants, dtype=float)
    if n.ndim != 1 or (n < 1).any():
        raise ParameterError("participants must be a 1-D array of contract sizes >= 1")
    n_draws = chk.check_positive_int(n_draws, name="n_draws")
    if not rules:
        raise ParameterError("rules must name at least one payment rule")
    n_chunks = math.ceil(n_draws / chunk_size)
    kw = dict(baseline_rate=baseline_rate, effect=effect, between_variance=between_variance, price=price,
              gain=gain_per_outcome, seed=seed, name=name, size=chunk_size)
    tasks = [delayed(_rule_chunk)(dict(rules), n, groups, chunk=c, **kw) for c in range(n_chunks)]
    parts = Parallel(n_jobs=n_jobs)(tasks) if n_jobs != 1 else [t[0](*t[1], **t[2]) for t in tasks]
    draws = pd.concat(parts, ignore_index=True)
    draws = draws[draws["draw"] < n_draws]
    rows = []
    for (rule, scenario), d in draws.groupby(["rule", "scenario"], sort=True):
        pay, gain = d["payment_dkk"].to_numpy(), d["gain_dkk"].to_numpy()
        rows.append({"rule": rule, "scenario": scenario, "n_contracts": len(n), "n_persons": int(n.sum()),
                     "mean_payment_dkk": pay.mean(), "sd_payment_dkk": pay.std(ddof=1),
                     "variance_payment": pay.var(ddof=1), "mean_gain_dkk": gain.mean(),
                     "p_budget_neutral": float((gain - pay >= 0).mean()), "p_paying": float((pay > 0).mean())})
    return pd.DataFrame(rows)


def admissions_bonus(population, *, rate_per_1000: float, price_per_admission: float, yearly_cap: float = 1e9,
                     true_change: float = 0.0, n_years: int = 4, min_fall_z: float = 0.0,
                     n_draws: int = 1000, seed: int = 0, name: str = "design.bonus") -> pd.DataFrame:
    """Simulate the bonus for fewer preventable admissions per 1,000 citizens, with a yearly cap.

    Each municipality's admissions in year t are Poisson(pop · rate_t/1000), rate_t = rate·(1 +
    true_change)^t. A municipality whose rate per 1,000 falls from the year before receives
    ``price_per_admission`` × the admissions avoided, (rate_{t−1} − rate_t)·pop/1000, when the fall
    exceeds ``min_fall_z`` standard errors of the difference (0: any fall); the year's total is
    scaled down pro rata to ``yearly_cap`` (VIVE 2024, section 3.3.2: up to 1 bn kr. a year).

    Parameters
    ----------
    population : array of float
        Citizens per municipality (public figures).
    rate_per_1000 : float
        Preventable admissions per 1,000 citizens and year.
    price_per_admission : float
        Bonus per avoided admission (DKK).
    yearly_cap : float, default=1e9
    true_change : float, default=0
        True yearly relative change of the rate (−0.05: a 5 % fall a year); 0 = no true change.
    n_years : int, default=4
        Bonus years.
    min_fall_z : float, default=0
        Pay only falls larger than this many standard errors (Poisson) of the year-on-year difference.
    n_draws, seed, name :
        Simulation size and the named random stream.

    Returns
    -------
    DataFrame
        One row: ``mean_bonus_dkk`` (per year), ``sd_bonus_dkk``, ``p_cap_binds``, ``share_paid``
        (municipality-years paid), ``mean_true_saving_dkk`` (price × admissions truly avoided),
        ``p_paying``.

    Examples
    --------
    >>> pop = np.full(98, 60_000.0)
    >>> out = admissions_bonus(pop, rate_per_1000=10, price_per_admission=30_000, n_draws=200, seed=1)
    >>> print(f"{out['share_paid'].iloc[0]:.2f} {out['p_paying'].iloc[0]:.2f}")
    0.50 1.00
    """
    pop = np.asarray(population, dtype=float)
    if pop.ndim != 1 or (pop <= 0).any():
        raise ParameterError("population must be a 1-D array of positive citizen counts")
    n_years = chk.check_positive_int(n_years, name="n_years")
    rng = stream(seed, name)
    rates = rate_per_1000 * (1 + true_change) ** np.arange(n_years + 1)
    expected = pop[None, None, :] * rates[None, :, None] / 1000
    counts = rng.poisson(np.broadcast_to(expected, (n_draws, n_years + 1, len(pop))))
    per_1000 = counts / pop * 1000
    fall = per_1000[:, :-1] - per_1000[:, 1:]                           # (draws, years, municipalities)
    se = np.sqrt(counts[:, :-1] + counts[:, 1:]) / pop * 1000
    paid_mask = fall > min_fall_z * se
    bonus = np.where(paid_mask & (fall > 0), fall * pop / 1000 * price_per_admission, 0.0)
    total = bonus.sum(axis=2)                                          # (draws, years)
    capped = np.minimum(total, yearly_cap)
    true_saving = max(0.0, -(rates[1:] - rates[:-1]).mean()) * pop.sum() / 1000 * price_per_admission
    return pd.DataFrame([{
        "rate_per_1000": rate_per_1000, "true_change": true_change, "min_fall_z": min_fall_z,
        "yearly_cap_dkk": yearly_cap, "mean_bonus_dkk": float(capped.mean()), "sd_bonus_dkk": float(capped.std(ddof=1)),
        "p_cap_binds": float((total > yearly_cap).mean()), "share_paid": float((bonus > 0).mean()),
        "mean_true_saving_dkk": float(true_saving), "p_paying": float((capped > 0).any(axis=1).mean()),
    }])
