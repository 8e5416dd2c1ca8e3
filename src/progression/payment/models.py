"""What each payment model pays: the municipality, the state (refusion), the region, and the botilbud providers.

Notation (per year t; D = 365.25 days; botilbud step s with places C_s; x_{s,l} residents at support
level l, N_s = Σ_l x_{s,l}; d_{s,l} the day rate of the tariff table, \\bar d_s the average rate of the step
(:func:`~progression.payment.average_tariffs`), o the planned occupancy, φ the fixed-cost share):

* ``activity_average`` (one takst per place): the municipality pays N_s \\bar d_s D.
* ``activity_differentiated`` (takst by support level): Σ_l x_{s,l} d_{s,l} D.
* ``group_tariff`` (DRG-inspired): Σ_l x_{s,l} g_{s,l} D, g the residents' mean group tariff
  (:func:`~progression.payment.group_tariffs`, groups of functioning level × target group).
* ``objective`` (objective financing): the budget \\bar d_s D o C_s a year, shared by the municipalities by a
  key (population or expected use), whatever their use.
* ``result_based``: a base β N_s \\bar d_s D plus a bonus b for each verified progression (a step down, or
  a lower support level on the same step) of a resident.
* ``special_places_80_20`` (særlige pladser): a place costs p_s = o \\bar d_s D a year; the municipality
  pays 80 % of it for a used place and, shared by the key, for an idle one; the region pays 20 % of the
  budgeted costs p_s C_s.
* ``deficit_guarantee`` (KKR Hovedstaden): differentiated takster, plus, in the first ``guarantee_years``,
  the fixed costs φ \\bar d_s D of each place vacant beyond the planned occupancy, max(o C_s − N_s, 0),
  shared by the municipalities by the key.

Under the capacity-based models (objective, 80/20) residents beyond the places (N_s > C_s) are bought
by differentiated takst from other providers (``beyond_capacity``); the providers paid under the model serve
the places. The provider's cost is φ \\bar d_s D o max(C_s, N_s) (fixed) plus (1 − φ) Σ_l x_{s,l} d_{s,l} D
(variable; capacity-based models: the places' fixed costs and the residents within them), so at planned
occupancy and today's mix every per-day model just covers it. The state refunds each citizen-year's cost
to the municipality above the thresholds of the central refusion scheme
(:func:`progression.economics.state_refusion`; payments not attributable to a citizen, such as objective
financing, give no refusion). Other service steps (§ 85, § 82) are paid by
their differentiated takst under every model. Identities (tested): municipal gross payments + region =
provider revenue + beyond capacity + other services; net = gross − refusion.

Occupancy is in full-year equivalents (citizens times the share of the year on the step,
:func:`~progression.payment.exposure_factors`); a takst is paid per day.

References
----------
VIVE (2024), *Styringsgennemgang af socialpsykiatrien*, section 2.1.2 (KKR Hovedstaden's deficit
guarantee: fixed costs at 50 % of the takst for 3 years), 2.2.1 (the central refusion scheme), 2.3.1
(activity-based payment and the four alternatives of Dalsgaard, Kloppenborg et al. 2023) and 3.1.2 (the
special places: municipalities 80 %, regions 20 %, objective financing of idle places).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from progression.constants import DAYS_PER_YEAR
from progression.exceptions import ParameterError
from progression.payment.paths import StateSpace
from progression.payment.tariffs import MODELS

__all__ = ["PaymentRules", "StateTariffs", "ITEMS", "payments", "refusion_table", "path_occupancy"]

#: What :func:`payments` returns per model: the municipality's gross payments, the state's refusion, the
#: municipality's net cost, the region's payment, the revenue, cost and margin of the botilbud providers paid
#: under the model, places bought beyond the capacity (capacity-based models: by differentiated takst from
#: other providers), other services (non-botilbud steps), the bonuses and the collective (key-shared) payments.
ITEMS = ("kommune_gross", "stat_refusion", "kommune_net", "region", "provider_revenue", "provider_cost",
         "provider_margin", "beyond_capacity", "other_services", "bonus", "collective")


def refusion_table(bands: Sequence, *, year: int) -> pd.DataFrame:
    """The refusion bands of the parameters as the table :func:`progression.economics.state_refusion` takes.

    Examples
    --------
    >>> refusion_table([{"threshold_dkk": 910_000, "share": 0.25}], year=2024).to_dict("records")
    [{'year': 2024, 'threshold_dkk': 910000.0, 'refusion_share': 0.25}]
    """
    rows = [b.model_dump() if hasattr(b, "model_dump") else dict(b) for b in bands]
    return pd.DataFrame({"year": [int(year)] * len(rows), "threshold_dkk": [float(r["threshold_dkk"]) for r in rows],
                         "refusion_share": [float(r["share"]) for r in rows]})


@dataclass(frozen=True)
class PaymentRules:
    """The rules around the tariffs: occupancy, fixed costs, guarantee, shares, bonus, refusion.

    Parameters
    ----------
    planned_occupancy : float, default=0.95
        Occupancy the takst is computed at (*forudsat belægningsprocent*).
    fixed_cost_share : float, default=0.5
        φ, the share of the takst that is fixed costs (KKR Hovedstaden: 50 %).
    guarantee_years : int, default=3
        Years the deficit guarantee covers vacant places.
    municipal_share : float, default=0.8
        The municipalities' share of the special places' budgeted costs (the region pays the rest).
    result_base_share : float, default=1.0
        β, the base payment of result-based payment as a share of the average takst.
    bonus_dkk : float or None, default=None
        b, the bonus per verified progression (None: set by :class:`~progression.payment.PaymentSimulation`
        to the bonus that makes progression revenue-neutral for the base).
    verified_share : float, default=1.0
        v, the share of progression events verified and paid.
    refusion : DataFrame, optional
        Bands ``year, threshold_dkk, refusion_share`` (:func:`refusion_table`); default the 2024 bands of
        :data:`progression.economics.REFUSION_THRESHOLDS`.
    price_year : int, default=2024
        Year whose refusion bands apply.

    Examples
    --------
    >>> rules = PaymentRules()
    >>> rules.refund([900_000.0, 1_000_000.0]).tolist()  # 25 % of the part above 910,000 kr. (2024)
    [0.0, 22500.0]
    """

    planned_occupancy: float = 0.95
    fixed_cost_share: float = 0.5
    guarantee_years: int = 3
    municipal_share: float = 0.8
    result_base_share: float = 1.0
    bonus_dkk: float | None = None
    verified_share: float = 1.0
    refusion: pd.DataFrame | None = field(default=None, compare=False)
    price_year: int = 2024

    def __post_init__(self):
        for name in ("planned_occupancy", "municipal_share", "verified_share"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ParameterError(f"{name} must lie in (0, 1]; got {value!r}")
        for name in ("fixed_cost_share", "result_base_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ParameterError(f"{name} must lie in [0, 1]; got {value!r}")
        if self.bonus_dkk is not None and self.bonus_dkk < 0:
            raise ParameterError(f"bonus_dkk must be None or ≥ 0; got {self.bonus_dkk!r}")

    @classmethod
    def from_params(cls, payment) -> "PaymentRules":
        """The rules of a ``payment`` parameter section."""
        return cls(planned_occupancy=payment.planned_occupancy, fixed_cost_share=payment.fixed_cost_share,
                   guarantee_years=payment.guarantee_years, municipal_share=payment.municipal_share,
                   result_base_share=payment.result_base_share, bonus_dkk=payment.bonus_dkk,
                   verified_share=payment.verified_share,
                   refusion=refusion_table(payment.refusion, year=payment.price_year), price_year=payment.price_year)

    def refund(self, cost) -> np.ndarray:
        """The state's refusion of yearly costs per citizen (:func:`progression.economics.state_refusion`)."""
        from progression.economics import state_refusion

        table = self.refusion
        if table is None:
            from progression.economics import REFUSION_THRESHOLDS

            table = REFUSION_THRESHOLDS[REFUSION_THRESHOLDS["year"] == self.price_year][
                ["year", "threshold_dkk", "refusion_share"]]
        return state_refusion(np.asarray(cost, dtype=float), year=self.price_year, table=table)


@dataclass(frozen=True)
class StateTariffs:
    """Yearly amounts per state: differentiated, average and group tariffs (0 off the service steps).

    Build it with :meth:`from_tables`.

    Examples
    --------
    >>> from progression.payment import tariff_table
    >>> space = StateSpace.from_staircase(n_levels=2)
    >>> t = tariff_table([{"step": s, "support_level": lvl, "takst_dkk": 100.0 * lvl}
    ...                   for s in space.service for lvl in (1, 2)])
    >>> st = StateTariffs.from_tables(t, space, average=pd.Series({s: 150.0 for s in space.service}))
    >>> st.differentiated[space.state("SEL108", 2)], st.average[space.state("SEL108", 2)]
    (np.float64(73050.0), np.float64(54787.5))
    """

    differentiated: np.ndarray
    average: np.ndarray
    group: np.ndarray
    step_average: np.ndarray  # yearly average takst of each botilbud step

    @classmethod
    def from_tables(cls, tariffs: pd.DataFrame, space: StateSpace, *, average: pd.Series,
                    group: pd.DataFrame | None = None, group_mix: pd.DataFrame | None = None) -> "StateTariffs":
        """Per-state yearly amounts.

        Parameters
        ----------
        tariffs : DataFrame
            A :func:`~progression.payment.tariff_table`.
        average : Series
            Day rate per step (:func:`~progression.payment.average_tariffs`).
        group : DataFrame, optional
            Group day rates (:func:`~progression.payment.group_tariffs`): ``support_level``, the grouping columns,
            ``takst_dkk``.
        group_mix : DataFrame, optional
            Residents per ``step``, ``support_level`` and the other grouping columns (``n_persons``): the mix by
            which a state's group tariff averages the groups' rates. Without a group table the group tariff is
            the differentiated one.
        """
        K = space.n_states
        diff, avg = np.zeros(K), np.zeros(K)
        rates = tariffs.set_index(["step", "support_level"])["takst_dkk"]
        for k in range(K):
            if space.service_mask[k]:
                step = space.steps[space.step_index[k]]
                diff[k] = rates[(step, int(space.level[k]))] * DAYS_PER_YEAR
                avg[k] = (average[step] if space.botilbud_mask[k] else rates[(step, int(space.level[k]))]) \
                    * DAYS_PER_YEAR
        grp = diff.copy()
        if group is not None and group_mix is not None:
            keys = [c for c in group.columns if c not in ("n_persons", "takst_dkk")]
            mix = group_mix.merge(group[[*keys, "takst_dkk"]], on=keys, how="left")
            for k in np.flatnonzero(space.botilbud_mask):
                step = space.steps[space.step_index[k]]
                rows = mix[(mix["step"] == step) & (mix["support_level"] == space.level[k])]
                w = rows["n_persons"].to_numpy(dtype=float)
                if w.sum() > 0:
                    grp[k] = np.average(rows["takst_dkk"].to_numpy(dtype=float), weights=w) * DAYS_PER_YEAR
        step_avg = np.asarray([average[s] * DAYS_PER_YEAR for s in space.botilbud])
        return cls(differentiated=diff, average=avg, group=grp, step_average=step_avg)


def payments(occupancy: np.ndarray, events: np.ndarray, *, space: StateSpace, tariffs: StateTariffs,
             rules: PaymentRules, capacity: np.ndarray, key: np.ndarray, bonus: float | None = None,
             models: Sequence[str] = MODELS) -> dict[str, dict[str, np.ndarray]]:
    """What every model pays, year by year: per municipality and for the whole area.

    Parameters
    ----------
    occupancy : ndarray of shape (..., M, T, K)
        Citizen-years per municipality, year and state (a citizen in a state at the start of a year is
        paid the whole year).
    events : ndarray of shape (..., M, T)
        Progression events of botilbud residents in each year (step-downs and support-level falls into the
        year); the verified share of them earns the result-based bonus.
    space : StateSpace
    tariffs : StateTariffs
    rules : PaymentRules
    capacity : ndarray of shape (n_botilbud,)
        Places per botilbud step in the whole area (pooled: a municipality uses any place).
    key : ndarray of shape (M,)
        Each municipality's share of collective payments (sums to 1).
    bonus : float, optional
        The result-based bonus (default ``rules.bonus_dkk``, and 0 when that is None).
    models : sequence of str
        Models to compute.

    Returns
    -------
    dict
        model -> ``{"area": array (..., len(ITEMS), T), "municipality": array (..., 3, M, T)}``; the area's items
        in :data:`ITEMS` order, the municipalities' ``kommune_gross``, ``stat_refusion``, ``kommune_net``.

    Examples
    --------
    One resident of § 108 at support level 3 in year 1 and level 2 in year 2 (one place, planned
    occupancy 1): the differentiated takst falls with the support need, the average does not.

    >>> from progression.payment import tariff_table, average_tariffs
    >>> space = StateSpace.from_staircase(n_levels=3)
    >>> t = tariff_table([{"step": s, "support_level": l, "takst_dkk": 1000.0 * l}
    ...                   for s in space.service for l in (1, 2, 3)])
    >>> avg = average_tariffs(t, pd.DataFrame({"step": ["SEL108"], "support_level": [2], "n_persons": [1]}))
    >>> x, ev = path_occupancy([("SEL108", 3), ("SEL108", 2)], space)
    >>> out = payments(x, ev, space=space, tariffs=StateTariffs.from_tables(t, space, average=avg),
    ...                rules=PaymentRules(planned_occupancy=1.0), capacity=np.array([0, 0, 1.0]), key=np.ones(1))
    >>> i = ITEMS.index("kommune_gross")
    >>> [round(v) for v in out["activity_differentiated"]["area"][i]]
    [1095750, 730500]
    >>> [round(v) for v in out["activity_average"]["area"][i]]
    [730500, 730500]
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ParameterError(f"models {unknown} are unknown; models are {list(MODELS)}")
    X = np.asarray(occupancy, dtype=float)
    events = np.asarray(events, dtype=float)
    key = np.asarray(key, dtype=float)
    C = np.asarray(capacity, dtype=float)
    T = X.shape[-2]
    o, phi, mu, beta = rules.planned_occupancy, rules.fixed_cost_share, rules.municipal_share, rules.result_base_share
    b = float(rules.bonus_dkk if bonus is None and rules.bonus_dkk is not None else (bonus or 0.0))
    v = rules.verified_share
    member = space.membership  # (K, S_b)
    S = member.shape[1]
    dbar = tariffs.step_average  # yearly, (S_b,)
    d, a, g = tariffs.differentiated, tariffs.average, tariffs.group
    other = space.service_mask & ~space.botilbud_mask
    refund = rules.refund
    bot = space.botilbud_mask.astype(float)
    # every per-state quantity in one matrix product: per botilbud step the residents, their takster and the
    # refusion of those (for the capacity-based models), then the sums over the botilbud steps of each model's
    # per-citizen payment and its refusion, and the other services
    per_step = [member, member * d[:, None], member * refund(d)[:, None]]
    sums = {"a": a * bot, "ra": refund(a) * bot, "g": g * bot, "rg": refund(g) * bot, "ba": beta * a * bot,
            "rba": refund(beta * a) * bot, "d": d * bot, "rd": refund(d) * bot, "other": d * other,
            "rother": refund(d) * other}
    W = np.concatenate(per_step + [np.stack(list(sums.values()), axis=1)], axis=1)
    F = np.einsum("...k,kf->...f", X, W)  # (..., M, T, 3 S_b + 10); no BLAS: the same bits in any thread
    N_m, Xd_m, Rd_m = F[..., :S], F[..., S:2 * S], F[..., 2 * S:3 * S]  # (..., M, T, S_b)

    def total(name):
        return F[..., 3 * S + list(sums).index(name)]  # (..., M, T)

    other_m, ref_other_m = total("other"), total("rother")
    Fn = F[..., :2 * S].sum(axis=-3)
    N, Xd = Fn[..., :S], Fn[..., S:]  # (..., T, S_b): the whole area
    idle = np.maximum(C - N, 0.0)
    over = np.maximum(N - C, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        omega = np.where(N > 0, over / np.where(N > 0, N, 1.0), 0.0)  # share of residents bought beyond capacity
    fixed_cost = phi * dbar * o * np.maximum(C, N)
    provider_cost = (fixed_cost + (1 - phi) * Xd).sum(axis=-1)  # (..., T): providers serving every resident
    capacity_cost = (phi * dbar * o * C + (1 - phi) * (1 - omega) * Xd).sum(axis=-1)  # serving the places
    first_years = (np.arange(1, T + 1) <= rules.guarantee_years).astype(float)[:, None]
    price = o * dbar  # yearly price of a place (special places)
    beyond_m = np.einsum("...ts,...mts->...mt", omega, Xd_m)  # bought beyond capacity, per municipality
    beyond_ref_m = np.einsum("...ts,...mts->...mt", omega, Rd_m)
    out: dict[str, dict[str, np.ndarray]] = {}
    for model in models:
        collective = np.zeros(N.shape)  # (..., T, S_b), shared by the key
        region = np.zeros(N.shape[:-1])
        bonus_m = np.zeros(X.shape[:-1])
        beyond = np.zeros(N.shape[:-1])
        cost = provider_cost
        if model == "activity_average":
            use_m, ref_m = total("a"), total("ra")
            revenue = (N * dbar).sum(axis=-1)
        elif model in ("activity_differentiated", "deficit_guarantee"):
            use_m, ref_m = total("d"), total("rd")
            if model == "deficit_guarantee":
                collective = phi * dbar * np.maximum(o * C - N, 0.0) * first_years
            revenue = (Xd + collective).sum(axis=-1)
        elif model == "group_tariff":
            use_m, ref_m = total("g"), total("rg")
            revenue = total("g").sum(axis=-2)
        elif model == "result_based":
            use_m, ref_m = total("ba"), total("rba")
            bonus_m = b * v * events
            revenue = beta * (N * dbar).sum(axis=-1) + b * v * events.sum(axis=-2)
        elif model == "objective":
            collective = np.broadcast_to(dbar * o * C, N.shape).copy()
            use_m, ref_m = beyond_m, beyond_ref_m
            revenue = (dbar * o * C * np.ones(N.shape)).sum(axis=-1)
            beyond, cost = (omega * Xd).sum(axis=-1), capacity_cost
        elif model == "special_places_80_20":
            collective = mu * price * idle
            region = ((1 - mu) * price * C).sum(axis=-1) * np.ones(N.shape[:-1])
            inside = 1 - omega
            use_m = np.einsum("...ts,...mts->...mt", inside * mu * price, N_m) + beyond_m
            ref_m = np.einsum("...ts,...mts->...mt", inside * refund(mu * price), N_m) + beyond_ref_m
            revenue = (price * C * np.ones(N.shape)).sum(axis=-1)
            beyond, cost = (omega * Xd).sum(axis=-1), capacity_cost
        gross_m = use_m + key[:, None] * collective.sum(axis=-1)[..., None, :] + bonus_m + other_m
        stat_m = ref_m + ref_other_m
        net_m = gross_m - stat_m
        gross, stat = gross_m.sum(axis=-2), stat_m.sum(axis=-2)
        others = other_m.sum(axis=-2)
        area = np.stack([gross, stat, gross - stat, region, revenue, cost, revenue - cost, beyond, others,
                         bonus_m.sum(axis=-2), collective.sum(axis=-1)], axis=-2)
        out[model] = {"area": area, "municipality": np.stack([gross_m, stat_m, net_m], axis=-3)}
    return out


def path_occupancy(path: Sequence[tuple[str, int | None]], space: StateSpace) -> tuple[np.ndarray, np.ndarray]:
    """One citizen's path as occupancy and progression events: the input of :func:`payments` for a hand check.

    Parameters
    ----------
    path : sequence of (step, support level)
        The state in each year (level None off the service steps).

    Returns
    -------
    (ndarray, ndarray)
        Occupancy of shape (1, T, K) and events of shape (1, T): an event in year t when the citizen, a
        botilbud resident in year t - 1, is on a lower step, or on the same step at a lower support level,
        in year t (as the projection counts the moves into year t).

    Examples
    --------
    >>> space = StateSpace.from_staircase(n_levels=3)
    >>> x, ev = path_occupancy([("SEL108", 3), ("SEL108", 2), ("SEL85", 1)], space)
    >>> x.shape, ev.tolist()
    ((1, 3, 19), [[0.0, 1.0, 1.0]])
    """
    T = len(path)
    x = np.zeros((1, T, space.n_states))
    events = np.zeros((1, T))
    levels = dict(zip(space.steps, space.staircase.levels))
    for t, (step, level) in enumerate(path):
        x[0, t, space.state(step, level)] = 1.0
        if t > 0 and path[t - 1][0] in space.botilbud:
            before, before_level = path[t - 1]
            lower = levels[step] < levels[before] if step in levels else False
            if lower or (step == before and (level or 0) < (before_level or 0)):
                events[0, t] = 1.0
    return x, events
