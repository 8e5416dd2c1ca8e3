"""Monte Carlo simulation of a result-payment fund's payments, gains and balances.

Ekspertudvalget på socialområdet (2024), *Anbefalinger til en bæredygtig faglig og økonomisk udvikling
på socialområdet*, afsnit 3.3, recommends a pilot *statslig resultatbetalingsfond*: the state pays
municipalities for predefined, verified results of well-tested preventive interventions, and the pilot
must be budget-neutral. Target groups are small (VIVE 2024, *Styringsgennemgang af socialpsykiatrien*),
so payments are noisy; :func:`simulate` draws

* the true effect of each intervention on each outcome from its estimate's sampling distribution, and
* the outcomes of each municipality's participants in each year (binomial),

then applies a payment rule to each intervention's contracts and returns the distribution of the fund's
balance for the state (state gain − payments) and for the public sector (kommune + region + stat gains
− payments), the probability of budget neutrality, the neutral price per outcome
(:meth:`FundSimulation.neutral_price`) and a ranking of interventions (:meth:`FundSimulation.ranking`).

The payment rule is a pluggable piece (``payment_rule=``; see
:class:`~progression.fund.ratecard.PaymentRule`): the default :class:`~progression.fund.ratecard.RateCardPayment`
pays each contract by the rate card. The rule is applied in ``_simulate_chunk`` (and, for neutral prices
with a rule that is not proportional to the prices, in ``_payments_pv_chunk``) to the outcomes drawn
for one intervention's contracts.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from progression.constants import PAYERS
from progression.economics.discounting import discount_factors
from progression.exceptions import ParameterError, StatisticalWarning
from progression.fund.inputs import GAIN_COLUMNS
from progression.fund.ratecard import Contracts, PaymentRule, RateCard, RateCardPayment

__all__ = ["simulate", "FundSimulation"]

_EFFECT_COLUMNS = ("intervention", "outcome", "effect", "effect_std_error", "baseline_rate", *GAIN_COLUMNS.values())


_QUANTITIES = ("payments_dkk", *GAIN_COLUMNS.values())


@dataclass
class _InterventionPlan:
    name: str
    outcomes: list[str]
    effect: np.ndarray            # (K,) estimated effect on P(outcome)
    effect_std_error: np.ndarray         # (K,)
    p0: np.ndarray                # (K,) true baseline rate
    gains: np.ndarray             # (K, 3) PV gain per extra outcome by payer
    contracts: Contracts          # the contracts and the terms of the card, what the payment rule sees
    offset: int                   # years from cohort to outcome and payment
    cost_per_participant: float

    @property
    def n(self) -> np.ndarray:
        """(C,) participants per contract."""
        return self.contracts.participants

    @property
    def cohort(self) -> np.ndarray:
        """(C,) cohort year of each contract."""
        return self.contracts.cohort

    @property
    def payment_year(self) -> np.ndarray:
        """(C,) cash year of each contract's outcomes, gains and payment."""
        return self.contracts.payment_year

    @property
    def price(self) -> np.ndarray:
        """(K,) price per outcome (0 = not on the card)."""
        return self.contracts.prices


@dataclass
class _Plan:
    interventions: list[_InterventionPlan]
    municipalities: np.ndarray    # (M,) codes
    years: int
    n_cash_years: int
    discount: np.ndarray          # (T,) discount factors by cash year
    rule: PaymentRule             # the payment rule applied to each intervention's contracts
    regions: np.ndarray | None = None  # (R,) region names, when the contracts table has a region column


def _check_columns(frame: pd.DataFrame, name: str, required) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ParameterError(f"{name}: missing column(s) {missing}; columns present: {list(frame.columns)}")


def _check_interventions(interventions: pd.DataFrame) -> None:
    _check_columns(interventions, "interventions", _EFFECT_COLUMNS)
    dup = interventions.duplicated(["intervention", "outcome"])
    if dup.any():
        raise ParameterError(f"interventions: (intervention, outcome) must be unique; duplicated "
                             f"{interventions.loc[dup, ['intervention', 'outcome']].head(5).values.tolist()}")
    checks = {
        "baseline_rate": (interventions["baseline_rate"] >= 0) & (interventions["baseline_rate"] <= 1),
        "effect_std_error": interventions["effect_std_error"] >= 0,
        "effect": (interventions["effect"] >= -1) & (interventions["effect"] <= 1),
    }
    for col, ok in checks.items():
        if not ok.all():
            rows = interventions.loc[~ok, ["intervention", "outcome", col]].head(5).values.tolist()
            raise ParameterError(f"interventions: column '{col}' out of range in {int((~ok).sum())} row(s): {rows}")
    if "cost_per_participant_dkk" in interventions:
        n_costs = interventions.groupby("intervention")["cost_per_participant_dkk"].nunique()
        if (n_costs > 1).any():
            raise ParameterError("interventions: cost_per_participant_dkk must be equal on all rows of an "
                                 f"intervention; differs for {n_costs[n_costs > 1].index.tolist()[:5]}")


def _participants_by_contract(municipalities: pd.DataFrame, years: int) -> pd.DataFrame:
    _check_columns(municipalities, "municipalities", ("municipality", "intervention", "participants"))
    frame = municipalities.copy()
    if "year" not in frame:
        frame = frame.merge(pd.DataFrame({"year": range(years)}), how="cross")
    bad_year = ~frame["year"].between(0, years - 1)
    if bad_year.any():
        raise ParameterError(f"municipalities: 'year' must be a cohort year 0…{years - 1}; found "
                             f"{sorted(frame.loc[bad_year, 'year'].unique().tolist())[:5]}")
    n = frame["participants"].to_numpy(dtype=float)
    bad = (n < 0) | (n != np.round(n)) | ~np.isfinite(n)
    if bad.any():
        raise ParameterError(f"municipalities: 'participants' must be whole numbers ≥ 0; found {n[bad][:5].tolist()}")
    dup = frame.duplicated(["municipality", "intervention", "year"])
    if dup.any():
        examples = frame.loc[dup, ["municipality", "intervention", "year"]].head(5).values.tolist()
        raise ParameterError("municipalities: one row per municipality, intervention (and year) expected; "
                             f"duplicated {examples}")
    return frame[frame["participants"] > 0]


def _check_keys(names: list[str], rate_card: RateCard, contracts: pd.DataFrame, interventions: pd.DataFrame) -> None:
    unknown = sorted((set(rate_card.table["intervention"]) | set(contracts["intervention"])) - set(names))
    if unknown:
        raise ParameterError(f"interventions: no effect rows for intervention(s) {unknown} named in the rate "
                             f"card or municipalities; interventions with effects: {names}")
    card_keys = set(map(tuple, rate_card.table[["intervention", "outcome"]].values.tolist()))
    effect_keys = set(map(tuple, interventions[["intervention", "outcome"]].values.tolist()))
    if card_keys - effect_keys:
        raise ParameterError(f"rate_card: outcome(s) without an effect row: {sorted(card_keys - effect_keys)[:5]}")


def _intervention_plan(name: str, effects: pd.DataFrame, rate_card: RateCard, contracts: pd.DataFrame,
                       muni_index: Mapping, region_index: Mapping | None = None) -> _InterventionPlan:
    eff = effects.reset_index(drop=True)
    card = rate_card.rows(name).set_index("outcome")
    # contracts sorted by size: neighbouring binomial draws then share n, which the sampler caches
    rows = contracts.sort_values("participants", kind="stable")
    n = rows["participants"].to_numpy(dtype=np.int64)
    window = card["window_months"].max() if len(card) else 12
    cost = float(eff["cost_per_participant_dkk"].iloc[0]) if "cost_per_participant_dkk" in eff else 0.0
    cohort = rows["year"].to_numpy(dtype=np.int64)
    offset = int(math.ceil(window / 12))
    contracts = Contracts(
        participants=n, municipality=rows["municipality"].map(muni_index).to_numpy(dtype=np.int64),
        cohort=cohort, payment_year=cohort + offset,
        prices=eff["outcome"].map(card["price_dkk"]).fillna(0.0).to_numpy(dtype=float),
        counterfactual_rates=(eff["outcome"].map(card["counterfactual_rate"]).fillna(eff["baseline_rate"])
                              .to_numpy(dtype=float)),
        caps=np.minimum(rate_card.participant_cap(name) * n, rate_card.contract_cap(name)).astype(float),
        region=None if region_index is None else rows["region"].map(region_index).to_numpy(dtype=np.int64),
        intervention=name, outcomes=tuple(eff["outcome"]),
    )
    return _InterventionPlan(
        name=name, outcomes=eff["outcome"].tolist(),
        effect=eff["effect"].to_numpy(dtype=float),
        effect_std_error=eff["effect_std_error"].to_numpy(dtype=float),
        p0=eff["baseline_rate"].to_numpy(dtype=float), gains=eff[list(GAIN_COLUMNS.values())].to_numpy(dtype=float),
        contracts=contracts, offset=offset, cost_per_participant=cost,
    )


def _build_plan(interventions: pd.DataFrame, rate_card: RateCard, municipalities: pd.DataFrame,
                years: int, rates, rule: PaymentRule) -> _Plan:
    _check_interventions(interventions)
    if "price_year" in interventions and not interventions["price_year"].eq(rate_card.price_year).all():
        raise ParameterError(f"interventions: gains must be in the rate card's price year {rate_card.price_year}; "
                             f"found {sorted(interventions['price_year'].unique().tolist())}")
    contracts = _participants_by_contract(municipalities, years)
    names = list(dict.fromkeys(interventions["intervention"]))
    _check_keys(names, rate_card, contracts, interventions)
    muni_codes = np.array(sorted(contracts["municipality"].unique()))
    muni_index = {m: i for i, m in enumerate(muni_codes)}
    regions = _regions(contracts)
    region_index = None if regions is None else {r: i for i, r in enumerate(regions)}
    plans = [_intervention_plan(name, interventions[interventions["intervention"] == name], rate_card,
                                contracts[contracts["intervention"] == name], muni_index, region_index)
             for name in names]
    n_cash_years = years + max((p.offset for p in plans), default=0)
    discount = discount_factors(np.arange(n_cash_years), rates=rates).to_numpy()
    return _Plan(interventions=plans, municipalities=muni_codes, years=years,
                 n_cash_years=n_cash_years, discount=discount, rule=rule, regions=regions)


def _regions(contracts: pd.DataFrame) -> np.ndarray | None:
    """The sorted region names of the contracts' ``region`` column (None without one); one region per municipality."""
    if "region" not in contracts:
        return None
    if contracts["region"].isna().any():
        raise ParameterError("municipalities: 'region' is missing for municipalities "
                             f"{sorted(contracts.loc[contracts['region'].isna(), 'municipality'].unique())[:5]}")
    per_municipality = contracts.groupby("municipality")["region"].nunique()
    if (per_municipality > 1).any():
        raise ParameterError("municipalities: one region per municipality expected; several for "
                             f"{per_municipality[per_municipality > 1].index.tolist()[:5]}")
    return np.array(sorted(contracts["region"].unique()))


def _draw_outcomes(ip: _InterventionPlan, rng: np.random.Generator, n_draws: int):
    """True effects δ (B, K) and outcomes with the intervention y1 (B, K, C) of one chunk.

    δ ~ N(effect, se²) is drawn once per draw and outcome (shared by all municipalities and
    years) and clipped so that p1 = p0 + δ lies in [0, 1]; then y1 ~ Bin(n, p1) per contract.
    """
    k = len(ip.outcomes)
    delta = ip.effect + ip.effect_std_error * rng.standard_normal((n_draws, k))
    delta = np.clip(delta, -ip.p0, 1.0 - ip.p0)
    y1 = rng.binomial(ip.n, (ip.p0 + delta)[:, :, None], size=(n_draws, k, len(ip.n)))
    return delta, y1


def _sum_by(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the last axis of ``values`` within ``groups`` (0 … n_groups−1), shape (..., n_groups).

    Adds in a fixed order without BLAS, whose multithreaded sums may differ in the last bits
    between processes: results must not depend on ``n_jobs``.
    """
    order = np.argsort(groups, kind="stable")
    ordered = groups[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(order) else np.array([], int)
    out = np.zeros(values.shape[:-1] + (n_groups,), dtype=values.dtype)
    if len(order):
        out[..., ordered[starts]] = np.add.reduceat(values[..., order], starts, axis=-1)
    return out


def _caused_by_year(ip: _InterventionPlan, rng: np.random.Generator, delta: np.ndarray, y1: np.ndarray,
                    n_years: int) -> np.ndarray:
    """Outcomes caused by the intervention (y1 − y0), summed by cash year, shape (B, K, T).

    Potential outcomes are coupled per participant (reached anyway / only with the intervention /
    not at all). Given y1, the caused outcomes of a contract are Bin(y1, δ/p1) when δ ≥ 0; when
    δ < 0, Bin(n − y1, −δ/(1 − p1)) participants lose an outcome they would have reached. Gains
    are linear in these counts, and a sum of independent binomials with one probability is
    binomial, so they are drawn per year rather than per contract.
    """
    p1 = ip.p0 + delta
    gain = delta >= 0
    share = np.where(gain, np.divide(delta, p1, out=np.zeros_like(p1), where=p1 > 0),
                     np.divide(-delta, 1.0 - p1, out=np.zeros_like(p1), where=p1 < 1))
    share = np.clip(share, 0.0, 1.0)  # δ/p1 can exceed 1 by a rounding error when p0 is 0 or 1
    reached = _sum_by(y1, ip.payment_year, n_years)                    # (B, K, T)
    at_risk = _sum_by(ip.n, ip.payment_year, n_years)                  # (T,)
    trials = np.where(gain[:, :, None], reached, at_risk - reached)
    moved = rng.binomial(trials, share[:, :, None])
    return np.where(gain[:, :, None], moved, -moved)


def _payments(plan: _Plan, ip: _InterventionPlan, y1: np.ndarray, price_scale: float) -> np.ndarray:
    """The payment rule applied to one intervention's outcomes (B, K, C) at ``price_scale`` × the card: (B, C)."""
    return plan.rule.pay(y1, ip.contracts.priced(price_scale))


def _rng(seed: int, chunk: int, n_chunks: int, intervention: int, n_interventions: int) -> np.random.Generator:
    """Generator of one chunk and intervention: SeedSequence(seed).spawn → chunk → spawn → intervention.

    Rebuilt from scratch each time, so any chunk or intervention can be re-drawn identically
    (common random numbers) whatever ran before or in which process.
    """
    chunk_seq = np.random.SeedSequence(seed).spawn(n_chunks)[chunk]
    return np.random.default_rng(chunk_seq.spawn(n_interventions)[intervention])


def _simulate_chunk(plan: _Plan, seed: int, chunk: int, n_chunks: int, n_draws: int) -> dict:
    """Draw one chunk: yearly flows per draw, PV payments per municipality, per-contract moments."""
    n_int, T = len(plan.interventions), plan.n_cash_years
    flows = np.zeros((n_draws, n_int, T, len(_QUANTITIES)))
    muni = np.zeros((n_draws, len(plan.municipalities)))
    moments = []
    for i, ip in enumerate(plan.interventions):
        rng = _rng(seed, chunk, n_chunks, i, n_int)
        delta, y1 = _draw_outcomes(ip, rng, n_draws)
        caused = _caused_by_year(ip, rng, delta, y1, T)                 # (B, K, T)
        pay = _payments(plan, ip, y1, 1.0)                                   # (B, C)
        flows[:, i, :, 0] = _sum_by(pay, ip.payment_year, T)
        flows[:, i, :, 1:] = np.einsum("bkt,kp->btp", caused, ip.gains)
        muni += _sum_by(pay * plan.discount[ip.payment_year], ip.contracts.municipality, len(plan.municipalities))
        moments.append(np.stack([pay.sum(0), (pay ** 2).sum(0), (pay > 0).sum(0)]))
    return {"flows": flows, "municipality": muni, "moments": moments}


def _payments_pv_chunk(plan: _Plan, seed: int, chunk: int, n_chunks: int, n_draws: int,
                       targets: list[int], price_scale: float) -> np.ndarray:
    """PV payments per draw of the ``targets`` interventions at ``price_scale`` × the card (same draws)."""
    total = np.zeros(n_draws)
    for i in targets:
        ip = plan.interventions[i]
        _, y1 = _draw_outcomes(ip, _rng(seed, chunk, n_chunks, i, len(plan.interventions)), n_draws)
        total += (_payments(plan, ip, y1, price_scale) * plan.discount[ip.payment_year]).sum(axis=1)
    return total


def _chunk_sizes(n_draws: int, chunk_size: int) -> list[int]:
    full, rest = divmod(n_draws, chunk_size)
    return [chunk_size] * full + ([rest] if rest else [])


def _as_seed(seed) -> int:
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2 ** 63))
    if isinstance(seed, (int, np.integer)) and seed >= 0:
        return int(seed)
    raise ParameterError(f"seed: expected an int ≥ 0 or a numpy Generator; got {seed!r}")


def simulate(interventions: pd.DataFrame, rate_card: RateCard | pd.DataFrame, municipalities: pd.DataFrame,
             *, years: int, n_draws: int, seed, n_jobs: int = 1, rates=None,
             chunk_size: int = 500, payment_rule: PaymentRule | None = None) -> "FundSimulation":
    """Monte Carlo simulation of a result-payment fund's payments, gains and balances.

    Parameters
    ----------
    interventions : DataFrame
        One row per intervention × outcome: ``effect`` (estimated change in the probability of the
        outcome per participant), ``effect_std_error`` (its standard error), ``baseline_rate`` (true
        share reaching the outcome without the intervention), and the present-value public gain
        per extra outcome by payer ``gain_kommune_dkk``, ``gain_region_dkk``, ``gain_stat_dkk``
        (see :func:`gains_per_outcome`). Optional: ``cost_per_participant_dkk`` (the
        intervention's own cost, paid by the kommune) and ``price_year`` (must be the rate card's).
    rate_card : RateCard or DataFrame
        Outcomes not on the card are not paid but their gains count.
    municipalities : DataFrame
        ``municipality``, ``intervention``, ``participants`` per cohort year, optionally ``year``
        (cohort 0 … years−1; without it the same number every year) and ``region`` (the
        municipality's region, for payment rules that pool the contracts of a region).
    years : int
        Number of cohort years.
    n_draws : int
    seed : int or numpy.random.Generator
    n_jobs : int, default=1
        Parallel workers (joblib); the results are identical for any ``n_jobs``.
    rates : see :func:`~progression.economics.discount_factors`
        Discounting of yearly flows (year 0 = first cohort year).
    chunk_size : int, default=500
        Draws per seeded chunk (part of the random stream: keep it fixed to reproduce results).
    payment_rule : PaymentRule, optional
        How each intervention's contracts are paid given their outcomes (see
        :class:`~progression.fund.ratecard.PaymentRule`); default :class:`~progression.fund.ratecard.RateCardPayment`,
        the rate card contract by contract.

    Returns
    -------
    FundSimulation

    Notes
    -----
    Contract = one intervention in one municipality for one cohort year. For each draw the true
    effect is drawn once (effect uncertainty), then each contract's outcomes (binomial noise, see
    ``_draw_outcomes``). Payment per contract by the payment rule; the rate card's is
    min(cap, Σ_o price_o · max(0, y1_o − rate_o · n));
    gains = Σ_o (y1_o − y0_o) · gain_o by payer. Outcomes, gains and payments fall
    ceil(window_months / 12) years after the cohort year. Draws are split into chunks seeded by
    ``SeedSequence(seed).spawn``, one child per chunk and intervention, so results do not depend
    on ``n_jobs``. Binomial outcomes of different outcomes of one intervention are independent.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> effects = pd.DataFrame({"intervention": ["ips"], "outcome": ["employed"], "effect": [0.10],
    ...                         "effect_std_error": [0.03], "baseline_rate": [0.20], "gain_kommune_dkk": [20_000.0],
    ...                         "gain_region_dkk": [5_000.0], "gain_stat_dkk": [150_000.0]})
    >>> card = pd.DataFrame({"intervention": ["ips"], "outcome": ["employed"], "price_dkk": [100_000.0],
    ...                      "cap_dkk": [np.nan], "counterfactual_rate": [0.20], "window_months": [12],
    ...                      "price_year": [2024], "gain_payer": ["stat"]})
    >>> contracts = pd.DataFrame({"municipality": [101, 147, 751], "intervention": "ips", "participants": [20, 8, 30]})
    >>> sim = simulate(effects, card, contracts, years=5, n_draws=1000, seed=1)
    >>> sim
    FundSimulation(1000 draws, 1 interventions, 3 municipalities, 5 years)
    >>> round(float(sim.prob_neutral()["state"]), 2)
    0.91
    """
    if not isinstance(rate_card, RateCard):
        rate_card = RateCard(rate_card)
    for name, value in (("years", years), ("n_draws", n_draws), ("chunk_size", chunk_size)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ParameterError(f"{name}: expected an int ≥ 1; got {value!r}")
    if not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ParameterError(f"n_jobs: expected a non-zero int (-1 = all cores); got {n_jobs!r}")
    seed = _as_seed(seed)
    if payment_rule is None:
        payment_rule = RateCardPayment()
    elif not isinstance(payment_rule, PaymentRule):
        raise ParameterError(f"payment_rule: expected an object with pay(outcomes, contracts) and "
                             f"proportional(contracts) (see progression.fund.PaymentRule); got {payment_rule!r}")
    plan = _build_plan(interventions, rate_card, municipalities, years, rates, payment_rule)
    sizes = _chunk_sizes(n_draws, chunk_size)
    parts = Parallel(n_jobs=n_jobs)(
        delayed(_simulate_chunk)(plan, seed, c, len(sizes), b) for c, b in enumerate(sizes)
    )
    flows = np.concatenate([p["flows"] for p in parts])
    municipality = np.concatenate([p["municipality"] for p in parts])
    moments = [sum(p["moments"][i] for p in parts) for i in range(len(plan.interventions))]
    return FundSimulation(plan=plan, rate_card=rate_card, seed=seed, chunk_sizes=sizes, n_jobs=n_jobs,
                          rates=rates, flows=flows, municipality_pv=municipality, moments=moments)


@dataclass
class FundSimulation:
    """Result of :func:`simulate`: draws of payments, gains and balances, and their summaries.

    Attributes
    ----------
    flows : ndarray of shape (n_draws, n_interventions, n_cash_years, 4)
        Undiscounted payments and gains by payer (kommune, region, stat) per draw, intervention
        and cash year.
    municipality_pv : ndarray of shape (n_draws, n_municipalities)
        Discounted payments to each municipality over the horizon, per draw.

    Examples
    --------
    One IPS outcome paid at 100,000 kr. in three municipalities for five cohort years:

    >>> import numpy as np, pandas as pd
    >>> effects = pd.DataFrame({"intervention": ["ips"], "outcome": ["employed"], "effect": [0.10],
    ...                         "effect_std_error": [0.03], "baseline_rate": [0.20], "gain_kommune_dkk": [20_000.0],
    ...                         "gain_region_dkk": [5_000.0], "gain_stat_dkk": [150_000.0]})
    >>> card = pd.DataFrame({"intervention": ["ips"], "outcome": ["employed"], "price_dkk": [100_000.0],
    ...                      "cap_dkk": [np.nan], "counterfactual_rate": [0.20], "window_months": [12],
    ...                      "price_year": [2024], "gain_payer": ["stat"]})
    >>> contracts = pd.DataFrame({"municipality": [101, 147, 751], "intervention": "ips", "participants": [20, 8, 30]})
    >>> sim = simulate(effects, card, contracts, years=5, n_draws=1000, seed=1)
    >>> sim.prob_neutral().round(2)
    state     0.91
    public    0.96
    Name: prob_neutral, dtype: float64
    >>> sim.neutral_price()[["outcome", "price_dkk", "neutral_price_dkk"]].round(-2)
        outcome  price_dkk  neutral_price_dkk
    0  employed   100000.0           138400.0
    >>> sim.ranking()[["intervention", "prob_loss", "price_to_gain"]].round(2)
      intervention  prob_loss  price_to_gain
    0          ips       0.09           0.67
    """

    plan: _Plan
    rate_card: RateCard
    seed: int
    chunk_sizes: list[int]
    n_jobs: int
    rates: object
    flows: np.ndarray
    municipality_pv: np.ndarray
    moments: list = field(repr=False)

    def __repr__(self) -> str:
        return (f"FundSimulation({self.n_draws} draws, {len(self.intervention_names)} interventions, "
                f"{len(self.plan.municipalities)} municipalities, {self.plan.years} years)")

    @property
    def n_draws(self) -> int:
        return self.flows.shape[0]

    @property
    def intervention_names(self) -> list[str]:
        return [ip.name for ip in self.plan.interventions]

    def _costs(self) -> np.ndarray:
        """PV of each intervention's own cost (deterministic: participants are fixed), shape (I,)."""
        return np.array([ip.cost_per_participant * float((ip.n * self.plan.discount[ip.cohort]).sum())
                         for ip in self.plan.interventions])

    @cached_property
    def draws(self) -> pd.DataFrame:
        """Present values per draw and intervention: payments, gains by payer, cost and balances.

        ``state_balance_dkk`` = state gain − payments (the fund's own budget);
        ``public_balance_dkk`` = kommune + region + stat gains − payments (Ekspertudvalget på
        socialområdet 2024, afsnit 3.3: "budgetgevinster for de offentlige kasser"); ``public_net_dkk`` =
        public gains − the interventions' own cost;
        ``kommune_net_dkk`` = kommune gain + payments − own cost (the municipality's incentive).
        """
        pv = np.einsum("dits,t->dis", self.flows, self.plan.discount)
        n_d, n_i = pv.shape[:2]
        frame = pd.DataFrame(pv.reshape(n_d * n_i, -1), columns=list(_QUANTITIES))
        frame.insert(0, "intervention", np.tile(self.intervention_names, n_d))
        frame.insert(0, "draw", np.repeat(np.arange(n_d), n_i))
        frame["cost_dkk"] = np.tile(self._costs(), n_d)
        public_gain = frame[list(GAIN_COLUMNS.values())].sum(axis=1)
        frame["public_gain_dkk"] = public_gain
        frame["state_balance_dkk"] = frame[GAIN_COLUMNS["stat"]] - frame["payments_dkk"]
        frame["public_balance_dkk"] = public_gain - frame["payments_dkk"]
        frame["public_net_dkk"] = public_gain - frame["cost_dkk"]
        frame["kommune_net_dkk"] = frame[GAIN_COLUMNS["kommune"]] + frame["payments_dkk"] - frame["cost_dkk"]
        return frame

    def fund_draws(self) -> pd.DataFrame:
        """The :attr:`draws` summed over interventions: one row per draw (the whole fund)."""
        return self.draws.drop(columns="intervention").groupby("draw").sum()

    def summary(self, *, quantiles=(0.05, 0.5, 0.95)) -> pd.DataFrame:
        """Distribution of the whole fund's present values over the draws.

        Returns
        -------
        DataFrame
            One row per quantity (payments, gains, balances): ``mean``, ``std``, the quantiles and
            ``prob_nonnegative`` (for a balance: the probability of budget neutrality).
        """
        fund = self.fund_draws()
        out = pd.DataFrame({"mean": fund.mean(), "std": fund.std(ddof=1)})
        for q in quantiles:
            out[f"q{round(q * 100):02d}"] = fund.quantile(q)
        out["prob_nonnegative"] = (fund >= 0).mean()
        out.index.name = "quantity"
        return out

    def prob_neutral(self) -> pd.Series:
        """Probability that the fund is budget-neutral (balance ≥ 0) for the state and the public sector."""
        fund = self.fund_draws()
        return pd.Series({"state": float((fund["state_balance_dkk"] >= 0).mean()),
                          "public": float((fund["public_balance_dkk"] >= 0).mean())}, name="prob_neutral")

    def expected_flows(self) -> pd.DataFrame:
        """Mean undiscounted payments and gains by intervention and cash year (tidy)."""
        mean = self.flows.mean(axis=0)                                  # (I, T, 4)
        idx = pd.MultiIndex.from_product([self.intervention_names, range(self.plan.n_cash_years)],
                                         names=["intervention", "year"])
        return pd.DataFrame(mean.reshape(-1, len(_QUANTITIES)), index=idx, columns=list(_QUANTITIES)).reset_index()

    def municipality_years(self) -> pd.DataFrame:
        """Payments per intervention, municipality and cohort year: mean, sd and P(paid > 0) over draws."""
        frames = []
        for ip, (s1, s2, n_paid) in zip(self.plan.interventions, self.moments):
            mean = s1 / self.n_draws
            var = np.maximum(s2 / self.n_draws - mean ** 2, 0.0) * self.n_draws / max(self.n_draws - 1, 1)
            frames.append(pd.DataFrame({
                "intervention": ip.name, "municipality": self.plan.municipalities[ip.contracts.municipality],
                "cohort_year": ip.cohort, "payment_year": ip.payment_year, "participants": ip.n,
                "mean_payment_dkk": mean, "sd_payment_dkk": np.sqrt(var), "prob_paid": n_paid / self.n_draws,
            }))
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values(["intervention", "municipality", "cohort_year"], ignore_index=True)

    def municipality_summary(self, *, quantiles=(0.05, 0.95)) -> pd.DataFrame:
        """Discounted payments to each municipality over the horizon: mean, quantiles, P(nothing paid)."""
        pv = pd.DataFrame(self.municipality_pv, columns=pd.Index(self.plan.municipalities, name="municipality"))
        out = pd.DataFrame({"mean_payment_dkk": pv.mean()})
        for q in quantiles:
            out[f"q{round(q * 100):02d}"] = pv.quantile(q)
        out["prob_unpaid"] = (pv <= 0).mean()
        return out.reset_index()

    def ranking(self, *, by: str = "state_balance_dkk") -> pd.DataFrame:
        """Interventions ranked by expected net gain, with their risk.

        Returns
        -------
        DataFrame
            Per intervention: expected state balance, public balance and public net gain (gains −
            own cost), ``prob_loss`` (P(state balance < 0)), the 5th percentiles ``q05_state`` and
            ``q05_public``, and ``price_to_gain`` (highest price / gain of the card's
            ``gain_payer`` over its outcomes; > 1 pays more than that payer expects to gain).
            Sorted by the expectation of ``by``, best first.
        """
        draws = self.draws
        grouped = draws.groupby("intervention", sort=False)
        out = pd.DataFrame({
            "expected_state_balance_dkk": grouped["state_balance_dkk"].mean(),
            "expected_public_balance_dkk": grouped["public_balance_dkk"].mean(),
            "expected_public_net_dkk": grouped["public_net_dkk"].mean(),
            "prob_loss": grouped["state_balance_dkk"].apply(lambda s: float((s < 0).mean())),
            "q05_state": grouped["state_balance_dkk"].quantile(0.05),
            "q05_public": grouped["public_balance_dkk"].quantile(0.05),
            "price_to_gain": pd.Series({ip.name: self._price_to_gain(ip) for ip in self.plan.interventions}),
        })
        key = {"state_balance_dkk": "expected_state_balance_dkk", "public_balance_dkk": "expected_public_balance_dkk",
               "public_net_dkk": "expected_public_net_dkk"}.get(by)
        if key is None:
            raise ParameterError("by: expected 'state_balance_dkk', 'public_balance_dkk' or 'public_net_dkk'; "
                                 f"got {by!r}")
        out.index.name = "intervention"
        return out.sort_values(key, ascending=False).reset_index()

    def _price_to_gain(self, ip: _InterventionPlan) -> float:
        card = self.rate_card.rows(ip.name).set_index("outcome")
        ratios = []
        for k, outcome in enumerate(ip.outcomes):
            if outcome in card.index:
                gain = ip.gains[k, list(PAYERS).index(card.loc[outcome, "gain_payer"])]
                ratios.append(ip.price[k] / gain if gain > 0 else math.inf)
        return max(ratios) if ratios else np.nan

    # -- neutral prices ----------------------------------------------------------------------

    def _gain_pv(self, perspective: str) -> np.ndarray:
        """PV gain per draw and intervention for the perspective, shape (D, I)."""
        pv = np.einsum("dits,t->dis", self.flows, self.plan.discount)
        if perspective == "state":
            return pv[:, :, 1 + list(PAYERS).index("stat")]
        return pv[:, :, 1:].sum(axis=2)

    def _payments_at(self, targets: list[int], scale: float) -> np.ndarray:
        """PV payments per draw of ``targets`` with prices × ``scale`` (same random draws).

        When the payment rule is proportional to the prices (the rate card without caps) the stored
        payments are scaled; otherwise the outcomes are re-drawn from the simulation's seed (common
        random numbers) unless the scale is 0 or 1.
        """
        at_card = np.einsum("dit,t->d", self.flows[:, targets][..., 0], self.plan.discount)
        proportional = all(self.plan.rule.proportional(self.plan.interventions[i].contracts) for i in targets)
        if scale in (0.0, 1.0) or proportional:
            return scale * at_card
        n_chunks = len(self.chunk_sizes)
        parts = Parallel(n_jobs=self.n_jobs)(
            delayed(_payments_pv_chunk)(self.plan, self.seed, c, n_chunks, b, targets, scale)
            for c, b in enumerate(self.chunk_sizes)
        )
        return np.concatenate(parts)

    def _solve_scale(self, targets: list[int], perspective: str, probability: float | None, xtol: float) -> float:
        gain = self._gain_pv(perspective)[:, targets].sum(axis=1)

        @lru_cache(maxsize=None)
        def excess(scale: float) -> float:
            balance = gain - self._payments_at(targets, scale)
            return float(balance.mean()) if probability is None else float((balance >= 0).mean()) - probability

        if excess(0.0) < 0:
            warnings.warn(f"{[self.intervention_names[i] for i in targets]}: not neutral even at price 0 "
                          f"({perspective} perspective)", StatisticalWarning, stacklevel=3)
            return np.nan
        hi = 1.0
        while excess(hi) >= 0:
            hi *= 2.0
            if hi > 2.0 ** 40:
                return math.inf        # caps bind: neutral at any price
        from scipy.optimize import brentq  # on first use: simulation workers skip its import
        return float(brentq(excess, 0.0, hi, xtol=xtol * hi))

    def neutral_price(self, *, perspective: str = "state", probability: float | None = None,
                      scope: str = "intervention", xtol: float = 1e-4) -> pd.DataFrame:
        """Prices per outcome that make the fund budget-neutral, by root-finding.

        The rate card's prices of an intervention are scaled by one factor λ (caps held fixed);
        λ solves E[gain − payments(λ)] = 0 or, with ``probability`` = q, P(gain − payments(λ) ≥ 0) = q,
        on the same random draws (common random numbers; with caps the draws are regenerated
        from the simulation's seed).

        Parameters
        ----------
        perspective : {"state", "public"}, default="state"
            Whose gains the payments must not exceed.
        probability : float, default=None
            Target probability of neutrality; ``None`` = neutral in expectation.
        scope : {"intervention", "fund"}, default="intervention"
            One factor per intervention, or one for the whole fund.
        xtol : float, default=1e-4
            Tolerance on λ, relative to the bracket.

        Returns
        -------
        DataFrame
            Per priced outcome: ``price_dkk`` (the card), ``scale`` (λ) and ``neutral_price_dkk``
            (λ × price; inf when the caps keep payments below the gain at any price, NaN when even
            price 0 is not neutral).
        """
        if perspective not in ("state", "public"):
            raise ParameterError(f"perspective: expected 'state' or 'public'; got {perspective!r}")
        if probability is not None and not 0 < probability < 1:
            raise ParameterError(f"probability: expected a value in (0, 1) or None; got {probability}")
        if scope not in ("intervention", "fund"):
            raise ParameterError(f"scope: expected 'intervention' or 'fund'; got {scope!r}")
        n_int = len(self.plan.interventions)
        priced = [i for i, ip in enumerate(self.plan.interventions) if ip.price.any()]
        groups = [[i] for i in priced] if scope == "intervention" else [priced]
        scales = {}
        for targets in groups:
            scale = self._solve_scale(targets, perspective, probability, xtol)
            scales.update({i: scale for i in targets})
        rows = []
        for i in range(n_int):
            ip = self.plan.interventions[i]
            for k, outcome in enumerate(ip.outcomes):
                if ip.price[k] > 0:
                    rows.append({"intervention": ip.name, "outcome": outcome, "price_dkk": ip.price[k],
                                 "scale": scales[i], "neutral_price_dkk": scales[i] * ip.price[k]})
        out = pd.DataFrame(rows)
        out["perspective"] = perspective
        out["target"] = "expectation" if probability is None else f"P(neutral) = {probability:g}"
        return out
