"""Project the staircase over a horizon and pay it under every model, with bands from the transition bootstrap.

:class:`PaymentSimulation` takes today's citizens per municipality and state, the yearly inflow, the
support-level chain and a step transition matrix P (with, optionally, a source of bootstrap replicates of
P), and evaluates every model on

* the **baseline** paths;
* the **counterfactuals without progression** of botilbud residents: without step-downs, without
  support-level falls, and without either (:func:`~progression.payment.without_progression`), for the
  progression penalty;
* the **behaviour scenarios**: step-downs and support-level falls of botilbud residents more likely by a
  factor 1 + x (assumptions about how providers respond to result-based payment).

The **progression penalty** of a model is the provider revenue over the horizon without progression
minus the revenue with it, R_cf − R; per event it is divided by the expected progression events E of the
baseline, and the **neutral bonus** is the bonus per verified event that makes progression revenue-neutral,
(R_cf − R) / (v E). The result-based bonus defaults to the neutral bonus of its base, so progression is
revenue-neutral under ``result_based`` by construction.

Replicates are evaluated in fixed chunks (:func:`progression._parallel.map_chunks`): chunk c draws its
replicates of P from the named stream ``"<name>.<c>"`` of the seed, so the numbers are identical for any
``n_jobs`` and backend. Point estimates use P itself; the bands are percentile intervals over the
replicates and carry the uncertainty of the step transitions only (the support-level chain, the stock
and the inflow are held fixed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from progression._parallel import map_chunks
from progression._tidy import percentile_interval
from progression._validation import check_level, check_positive_int
from progression.exceptions import NotFittedError, ParameterError, StatisticalWarning
from progression.payment.models import ITEMS, PaymentRules, StateTariffs, payments
from progression.payment.paths import (
    StateSpace,
    _step_array,
    joint_matrix,
    progression_rates,
    project,
    scale_progression,
)
from progression.payment.tariffs import MODELS

__all__ = ["PaymentInputs", "PaymentSimulation", "VARIANTS", "PAYERS_OF_ITEMS"]

#: The counterfactuals every model is evaluated on besides the baseline (the scenarios follow them).
VARIANTS = ("baseline", "no_stepdown", "no_less_support", "no_progression")
#: Item -> (payer, quantity) in the tidy tables.
PAYERS_OF_ITEMS = {
    "kommune_gross": ("kommune", "gross_cost"), "stat_refusion": ("stat", "refusion"),
    "kommune_net": ("kommune", "net_cost"), "region": ("region", "cost"), "provider_revenue": ("provider", "revenue"),
    "provider_cost": ("provider", "cost"), "provider_margin": ("provider", "margin"),
    "beyond_capacity": ("kommune", "beyond_capacity"), "other_services": ("kommune", "other_services"),
    "bonus": ("kommune", "bonus"),
    "collective": ("kommune", "collective"),
}
_MUNICIPAL_ITEMS = ("kommune_gross", "stat_refusion", "kommune_net")


@dataclass(frozen=True)
class PaymentInputs:
    """What the paths start from: today's citizens, the inflow, the support-level chain, places and the key.

    Parameters
    ----------
    space : StateSpace
    tariffs : StateTariffs
    support, entry : ndarray
        Q_s (n_service, L, L) and e_s (n_service, L) (:func:`~progression.payment.support_matrices`).
    stock, inflow : ndarray of shape (M, K)
        Citizens per municipality and state today, and new citizens per year
        (:func:`~progression.payment.stock_and_inflow`).
    capacity : ndarray of shape (n_botilbud,)
        Places per botilbud step (pooled over the municipalities).
    key : ndarray of shape (M,)
        Shares of collective payments (sum 1).
    municipalities : tuple of int
        Municipality codes, in the order of the rows of ``stock``.
    start_year : int
        Year of the stock; the projection pays the years after it.
    n_persons : ndarray of shape (M,), optional
        Citizens on a service step today per municipality (for disclosure of municipal results).
    exposure : ndarray of shape (K,), optional
        Full-year equivalents per citizen of each state (:func:`~progression.payment.exposure_factors`);
        default 1. Payments use citizens × exposure; the stock, events and paths count citizens.

    Examples
    --------
    See :class:`PaymentSimulation`; the inputs of a run's data come from
    :func:`progression.analyses.payment.prepare`.
    """

    space: StateSpace
    tariffs: StateTariffs
    support: np.ndarray
    entry: np.ndarray
    stock: np.ndarray
    inflow: np.ndarray
    capacity: np.ndarray
    key: np.ndarray
    municipalities: tuple[int, ...]
    start_year: int
    n_persons: np.ndarray | None = None
    exposure: np.ndarray | None = None

    def __post_init__(self):
        M, K = np.shape(self.stock)
        if np.shape(self.inflow) != (M, K) or K != self.space.n_states:
            raise ParameterError(f"stock and inflow must have shape (municipalities, {self.space.n_states}); got "
                                 f"{np.shape(self.stock)} and {np.shape(self.inflow)}")
        if len(self.key) != M or len(self.municipalities) != M:
            raise ParameterError(f"key and municipalities need one entry per row of stock ({M}); got "
                                 f"{len(self.key)} and {len(self.municipalities)}")
        if not np.isclose(np.sum(self.key), 1.0):
            raise ParameterError(f"key must sum to 1; got {np.sum(self.key)!r}")
        if len(self.capacity) != len(self.space.botilbud):
            raise ParameterError(f"capacity needs one value per botilbud step {self.space.botilbud}; "
                                 f"got {len(self.capacity)}")


def _variants(P: np.ndarray, Q: np.ndarray, space: StateSpace, factors: Sequence[float]):
    yield "baseline", P, Q
    yield "no_stepdown", *scale_progression(P, Q, space, stepdown=0.0)
    yield "no_less_support", *scale_progression(P, Q, space, less_support=0.0)
    yield "no_progression", *scale_progression(P, Q, space, stepdown=0.0, less_support=0.0)
    for x in factors:
        yield f"progression_x{1 + x:g}", *scale_progression(P, Q, space, stepdown=1 + x, less_support=1 + x)


def _evaluate(P: np.ndarray, inputs: PaymentInputs, rules: PaymentRules, bonus: float, years: int,
              factors: Sequence[float], models: Sequence[str], areas: Sequence[int],
              variants: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Every variant and model for a stack of step matrices P (B, S, S + 3)."""
    space = inputs.space
    T = years
    names, national, events_out, steps_out = [], [], [], []
    municipal = area_years = None
    # no BLAS anywhere below (einsum's own loops): the same bits in every process, thread and machine load
    for name, Pv, Qv in _variants(P, inputs.support, space, factors):
        if variants is not None and name not in variants:
            continue
        J = joint_matrix(Pv, Qv, inputs.entry, space)
        X = project(inputs.stock, J, inputs.inflow, years=T)  # (B, M, T + 1, K)
        rates = progression_rates(Pv, Qv, space)  # (B, 2, K)
        events = np.einsum("bmtk,bjk->bjmt", X[..., :-1, :], rates)  # moves into year t, (B, 2, M, T)
        occupancy = X[..., 1:, :] if inputs.exposure is None else X[..., 1:, :] * inputs.exposure
        paid = payments(occupancy, events.sum(axis=1), space=space, tariffs=inputs.tariffs, rules=rules,
                        capacity=inputs.capacity, key=inputs.key, bonus=bonus, models=models)
        names.append(name)
        national.append(np.stack([paid[m]["area"] for m in models], axis=1))  # (B, models, items, T)
        events_out.append(events.sum(axis=2))  # (B, 2, T)
        if name == "baseline":
            per_muni = np.stack([paid[m]["municipality"] for m in models], axis=1)  # (B, models, 3, M, T)
            municipal = per_muni.sum(axis=-1)
            area_years = per_muni[..., list(areas), :]
            occ = X.sum(axis=1)  # (B, T + 1, K): the whole area
            steps_out = np.stack([occ[..., space.step_index == i].sum(axis=-1) for i in range(len(space.steps))],
                                 axis=-1)  # (B, T + 1, S)
    return {"national": np.stack(national, axis=1), "events": np.stack(events_out, axis=1), "municipal": municipal,
            "area_years": area_years, "steps": steps_out, "variants": np.asarray(names)}


def _chunk(size: int, seed: int, draw: Callable, point: np.ndarray, inputs, rules, bonus, years, factors, models,
           areas) -> dict[str, np.ndarray]:
    reps = np.asarray(draw(size, seed), dtype=float)
    if reps.shape != (size, *point.shape):
        raise ParameterError(f"draw(size, seed) must return replicates of shape ({size}, {point.shape[0]}, "
                             f"{point.shape[1]}); got {reps.shape}")
    empty = ~np.isfinite(reps).all(axis=-1, keepdims=True)  # a row without transitions in a replicate
    reps = np.where(empty, point, reps)
    out = _evaluate(reps, inputs, rules, bonus, years, factors, models, areas)
    out.pop("variants")
    return out


class PaymentSimulation:
    """The staircase projected over a horizon and paid under every payment model, with bootstrap bands.

    Parameters
    ----------
    rules : PaymentRules
    years : int, default=10
        Horizon (years after the stock's year).
    n_boot : int, default=1000
        Bootstrap replicates of the step transitions (0: no bands).
    seed : int, default=0
        The run seed; chunk c of the replicates uses the named stream ``"<name>.<c>"``.
    cl : float, default=0.95
        Confidence level of the percentile bands.
    stepdown_increase : sequence of float, default=(0.1, 0.25)
        Behaviour scenarios: step-downs and support-level falls of botilbud residents 1 + x times as likely.
    chunk_size : int, default=250
        Replicates per chunk (fixes the streams: results do not depend on ``n_jobs``).
    n_jobs : int, default=1
        Parallel workers (joblib).
    name : str, default="payment.bootstrap"
        Name of the random stream.
    models : sequence of str, default=MODELS
    status_quo : str, default="activity_differentiated"
        The model the others are compared with.

    Attributes
    ----------
    bonus_ : float
        The result-based bonus used (the neutral bonus of the base when ``rules.bonus_dkk`` is None).
    point_ : dict of ndarray
        Every quantity at the point estimate of P.
    replicates_ : dict of ndarray or None
        Every quantity per bootstrap replicate.
    years_ : list of int
        The projected calendar years.

    Examples
    --------
    One municipality with 100 residents of § 108 at one support level; each year 10 % move to no service.

    >>> from progression.payment import StateSpace, tariff_table, StateTariffs, PaymentRules, PaymentInputs
    >>> space = StateSpace.from_staircase(n_levels=1)
    >>> t = tariff_table([{"step": s, "support_level": 1, "takst_dkk": 1000.0} for s in space.service])
    >>> tariffs = StateTariffs.from_tables(t, space, average=t.set_index("step")["takst_dkk"])
    >>> P = np.zeros((6, 9)); P[np.arange(6), np.arange(6)] = 1.0; P[5, 5], P[5, 0] = 0.9, 0.1
    >>> stock = np.zeros((1, space.n_states)); stock[0, space.state("SEL108", 1)] = 100
    >>> inputs = PaymentInputs(space=space, tariffs=tariffs, support=np.ones((5, 1, 1)), entry=np.ones((5, 1)),
    ...                        stock=stock, inflow=np.zeros_like(stock), capacity=np.array([0, 0, 100.0]),
    ...                        key=np.ones(1), municipalities=(101,), start_year=2024)
    >>> sim = PaymentSimulation(rules=PaymentRules(planned_occupancy=1.0), years=2, n_boot=0).fit(inputs, P)
    >>> s = sim.summary().set_index(["model", "payer", "item", "year"])["estimate"]
    >>> round(s[("activity_differentiated", "kommune", "net_cost", "2025")])  # 90 residents x 1,000 kr. x 365.25
    32872500
    >>> pen = sim.penalty().set_index(["model", "event", "quantity"])["estimate"]
    >>> float(round(pen[("activity_differentiated", "any", "events")], 1))
    19.0
    >>> round(pen[("objective", "any", "neutral_bonus")])
    0
    """

    def __init__(self, *, rules: PaymentRules, years: int = 10, n_boot: int = 1000, seed: int = 0, cl: float = 0.95,
                 stepdown_increase: Sequence[float] = (0.1, 0.25), chunk_size: int = 250, n_jobs: int = 1,
                 name: str = "payment.bootstrap", models: Sequence[str] = MODELS,
                 status_quo: str = "activity_differentiated"):
        self.rules, self.years, self.n_boot, self.seed, self.cl = rules, years, n_boot, seed, cl
        self.stepdown_increase, self.chunk_size, self.n_jobs, self.name = stepdown_increase, chunk_size, n_jobs, name
        self.models, self.status_quo = models, status_quo

    def _check(self):
        check_positive_int(self.years, name="years")
        check_positive_int(self.n_boot, name="n_boot", minimum=0)
        check_positive_int(self.chunk_size, name="chunk_size")
        check_level(self.cl)
        unknown = [m for m in self.models if m not in MODELS]
        if unknown or self.status_quo not in self.models:
            raise ParameterError(f"models must be among {list(MODELS)} and include status_quo {self.status_quo!r}; "
                                 f"got {list(self.models)}")
        if 0 < self.n_boot < 100:
            import warnings

            warnings.warn(f"n_boot={self.n_boot} gives rough percentile bands; use 1000 or more", StatisticalWarning,
                          stacklevel=3)
        if any(x <= -1 for x in self.stepdown_increase):
            raise ParameterError(f"stepdown_increase values must exceed -1; got {list(self.stepdown_increase)}")

    def fit(self, inputs: PaymentInputs, transition, *, draw: Callable | None = None,
            areas: Sequence[int] = ()) -> "PaymentSimulation":
        """Evaluate every model on the paths of ``transition`` (and of the replicates ``draw`` gives).

        Parameters
        ----------
        inputs : PaymentInputs
        transition : DataFrame or ndarray
            The yearly step transition matrix P (rows = steps, columns = steps and exits).
        draw : callable, optional
            ``draw(size, seed)`` -> ``size`` replicates of P, shape (size, S, S + 3): e.g. a citizen bootstrap of
            the transition model refitted with ``n_boot=size, seed=seed``. Must be picklable for process
            backends.
        areas : sequence of int
            Municipality codes whose yearly results are kept (all municipalities keep horizon totals).

        Returns
        -------
        self
        """
        self._check()
        space = inputs.space
        point = _step_array(transition, space)
        if not np.isfinite(point).all():
            bad = [space.steps[i] for i in np.flatnonzero(~np.isfinite(point).all(axis=1))]
            raise ParameterError(f"transition: row(s) {bad} have no estimate (no transitions observed from them)")
        unknown = [a for a in areas if a not in inputs.municipalities]
        if unknown:
            raise ParameterError(f"areas {unknown} are not among the municipalities of the inputs")
        area_idx = [inputs.municipalities.index(a) for a in areas]
        self.inputs_, self.areas_ = inputs, list(areas)
        models = list(self.models)
        if self.rules.bonus_dkk is None:
            zero = _evaluate(point[None], inputs, self.rules, 0.0, self.years, (), ["result_based"], area_idx,
                             variants=("baseline", "no_progression"))
            revenue = zero["national"][0, :, 0, ITEMS.index("provider_revenue")].sum(axis=-1)
            events = zero["events"][0, 0].sum()
            self.bonus_ = float((revenue[1] - revenue[0]) / (self.rules.verified_share * events)) if events > 0 else 0.0
        else:
            self.bonus_ = float(self.rules.bonus_dkk)
        factors = list(self.stepdown_increase)
        self.point_ = _evaluate(point[None], inputs, self.rules, self.bonus_, self.years, factors, models, area_idx)
        self.variants_ = [str(v) for v in self.point_.pop("variants")]
        self.replicates_ = None
        if draw is not None and self.n_boot > 0:
            parts = map_chunks(_chunk, self.n_boot, seed=self.seed, name=self.name, chunk_size=self.chunk_size,
                               n_jobs=self.n_jobs, args=(draw, point, inputs, self.rules, self.bonus_, self.years,
                                                         factors, models, area_idx))
            self.replicates_ = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        self.years_ = [inputs.start_year + t for t in range(1, self.years + 1)]
        return self

    # -- tidy views ----------------------------------------------------------------------------------
    def _fitted(self):
        if not hasattr(self, "point_"):
            raise NotFittedError("PaymentSimulation is not fitted; call fit(inputs, transition) first")

    def _interval(self, point: np.ndarray, reps: np.ndarray | None) -> dict[str, np.ndarray]:
        point = np.asarray(point, dtype=float)
        if reps is None:
            nan = np.full(point.shape, np.nan)
            return {"estimate": point, "std_error": nan, "conf_low": nan, "conf_high": nan}
        low, high = percentile_interval(reps, cl=self.cl, axis=0)
        return {"estimate": point, "std_error": np.std(reps, axis=0, ddof=1), "conf_low": low, "conf_high": high}

    def _get(self, key: str) -> tuple[np.ndarray, np.ndarray | None]:
        reps = None if self.replicates_ is None else self.replicates_[key]
        return self.point_[key][0], reps

    def _variant(self, name: str) -> int:
        return self.variants_.index(name)

    def summary(self) -> pd.DataFrame:
        """Payments by model, payer and year (and the horizon total), for the whole area and the ``areas``.

        Returns
        -------
        DataFrame
            ``area`` (``national`` or a municipality code), ``model``, ``payer``, ``item``, ``year`` (a year or
            ``total``), ``estimate``, ``std_error``, ``conf_low``, ``conf_high`` (DKK at the price year).
        """
        self._fitted()
        point, reps = self._get("national")
        base = self._variant("baseline")
        point, reps = point[base], None if reps is None else reps[:, base]
        frames = [self._frame(point, reps, area="national", items=ITEMS)]
        if self.areas_:
            p_area, r_area = self._get("area_years")
            for j, code in enumerate(self.areas_):
                frames.append(self._frame(p_area[:, :, j], None if r_area is None else r_area[:, :, :, j],
                                          area=str(code), items=_MUNICIPAL_ITEMS))
        return pd.concat(frames, ignore_index=True)

    def _frame(self, point: np.ndarray, reps: np.ndarray | None, *, area: str, items) -> pd.DataFrame:
        # point (models, items, T); add the horizon total as one more "year"
        point = np.concatenate([point, point.sum(axis=-1, keepdims=True)], axis=-1)
        if reps is not None:
            reps = np.concatenate([reps, reps.sum(axis=-1, keepdims=True)], axis=-1)
        values = self._interval(point, reps)
        years = [str(y) for y in self.years_] + ["total"]
        rows = []
        for i, model in enumerate(self.models):
            for j, item in enumerate(items):
                payer, quantity = PAYERS_OF_ITEMS[item]
                for t, year in enumerate(years):
                    rows.append({"area": area, "model": model, "payer": payer, "item": quantity, "year": year,
                                 **{k: float(v[i, j, t]) for k, v in values.items()}})
        return pd.DataFrame(rows)

    def penalty(self) -> pd.DataFrame:
        """The progression penalty per model: provider revenue lost per event and in total, and the neutral bonus.

        Rows per model and event type (``step_down``, ``less_support``, ``any``; the counterfactual removes that
        type of progression of botilbud residents) and quantity: ``events`` (expected over the horizon),
        ``revenue_lost_total`` (R_cf − R), ``revenue_lost_per_event``, ``margin_lost_per_event``,
        ``neutral_bonus`` ((R_cf − R) / (v E): the bonus per verified event that makes progression
        revenue-neutral for the providers), ``municipality_saving_per_event`` (the municipality's net cost
        without that progression minus with it, per event).

        Returns
        -------
        DataFrame
            ``model``, ``event``, ``quantity``, ``estimate``, ``std_error``, ``conf_low``, ``conf_high``.
        """
        self._fitted()
        point, reps = self._get("national")
        ev_point, ev_reps = self._get("events")
        v = self.rules.verified_share
        rev, margin, net = (ITEMS.index(i) for i in ("provider_revenue", "provider_margin", "kommune_net"))

        def quantities(nat, ev):
            # nat (..., V, models, items, T) -> totals over the horizon; ev (..., V, 2, T)
            tot = nat.sum(axis=-1)
            base = tot[..., self._variant("baseline"), :, :]
            out = {}
            for event, variant, kinds in (("step_down", "no_stepdown", [0]), ("less_support", "no_less_support", [1]),
                                          ("any", "no_progression", [0, 1])):
                cf = tot[..., self._variant(variant), :, :]
                n = ev[..., self._variant("baseline"), kinds, :].sum(axis=(-1, -2))[..., None]
                with np.errstate(invalid="ignore", divide="ignore"):
                    lost = cf[..., rev] - base[..., rev]
                    out[event] = {
                        "events": np.broadcast_to(n, lost.shape),
                        "revenue_lost_total": lost,
                        "revenue_lost_per_event": lost / n,
                        "margin_lost_per_event": (cf[..., margin] - base[..., margin]) / n,
                        "neutral_bonus": lost / (v * n),
                        "municipality_saving_per_event": (cf[..., net] - base[..., net]) / n,
                    }
            return out

        q_point = quantities(point, ev_point)
        q_reps = None if reps is None else quantities(reps, ev_reps)
        rows = []
        for event, table in q_point.items():
            for quantity, values in table.items():
                stats = self._interval(values, None if q_reps is None else q_reps[event][quantity])
                for i, model in enumerate(self.models):
                    rows.append({"model": model, "event": event, "quantity": quantity,
                                 **{k: float(s[i]) for k, s in stats.items()}})
        return pd.DataFrame(rows)

    def scenarios(self) -> pd.DataFrame:
        """Behaviour scenarios (assumptions): more progression under result-based payment, and what it costs.

        For each increase x (step-downs and support-level falls of botilbud residents 1 + x times as likely)
        over the horizon: ``events`` and ``extra_events`` (against the baseline paths), ``bonuses_paid`` under
        ``result_based`` (for every verified event), ``saving_before_bonuses`` (the municipality's net cost
        without bonuses, baseline minus scenario), ``saving_after_bonuses`` (net cost of result-based payment,
        baseline minus scenario), ``net_cost_vs_status_quo`` (result-based payment in the scenario minus the
        status quo on today's behaviour), and, were the bonus paid only for events beyond the expected
        (no deadweight, as an outcomes rate card pays), ``bonuses_for_extra_events`` and
        ``net_cost_vs_status_quo_if_extra_events_paid``.

        Returns
        -------
        DataFrame
            ``scenario``, ``increase``, ``quantity``, ``estimate``, ``std_error``, ``conf_low``, ``conf_high``.
        """
        self._fitted()
        point, reps = self._get("national")
        ev_point, ev_reps = self._get("events")
        rb, sq = self.models.index("result_based"), self.models.index(self.status_quo)
        net, bonus = ITEMS.index("kommune_net"), ITEMS.index("bonus")
        base = self._variant("baseline")

        def extra_bonus(extra):
            return self.bonus_ * self.rules.verified_share * extra

        def quantities(nat, ev, v):
            tot, n = nat.sum(axis=-1), ev.sum(axis=(-1, -2))
            return {
                "events": n[..., v], "extra_events": n[..., v] - n[..., base],
                "bonuses_paid": tot[..., v, rb, bonus],
                "saving_before_bonuses": (tot[..., base, rb, net] - tot[..., base, rb, bonus])
                - (tot[..., v, rb, net] - tot[..., v, rb, bonus]),
                "saving_after_bonuses": tot[..., base, rb, net] - tot[..., v, rb, net],
                "net_cost_vs_status_quo": tot[..., v, rb, net] - tot[..., base, sq, net],
                "bonuses_for_extra_events": extra_bonus(n[..., v] - n[..., base]),
                "net_cost_vs_status_quo_if_extra_events_paid": tot[..., v, rb, net] - tot[..., v, rb, bonus]
                + extra_bonus(n[..., v] - n[..., base]) - tot[..., base, sq, net],
            }

        rows = []
        for x in self.stepdown_increase:
            v = self._variant(f"progression_x{1 + x:g}")
            q_point = quantities(point, ev_point, v)
            q_reps = None if reps is None else quantities(reps, ev_reps, v)
            for quantity, value in q_point.items():
                stats = self._interval(value, None if q_reps is None else q_reps[quantity])
                rows.append({"scenario": f"progression +{100 * x:g} %", "increase": float(x), "quantity": quantity,
                             **{k: float(s) for k, s in stats.items()}})
        return pd.DataFrame(rows)

    def municipalities(self) -> pd.DataFrame:
        """Each municipality's net cost over the horizon per model, and the difference from the status quo.

        Returns
        -------
        DataFrame
            ``municipality``, ``n_persons`` (citizens on a service step today), ``model``, ``quantity``
            (``net_cost``, ``vs_status_quo``), ``estimate``, ``std_error``, ``conf_low``, ``conf_high``.
        """
        self._fitted()
        point, reps = self._get("municipal")  # (models, 3, M)
        net = _MUNICIPAL_ITEMS.index("kommune_net")
        sq = self.models.index(self.status_quo)
        n_persons = self.inputs_.n_persons if self.inputs_.n_persons is not None else np.full(len(self.inputs_.key),
                                                                                              np.nan)
        rows = []
        for quantity, p, r in (("net_cost", point[:, net], None if reps is None else reps[:, :, net]),
                               ("vs_status_quo", point[:, net] - point[sq, net],
                                None if reps is None else reps[:, :, net] - reps[:, sq, net][:, None])):
            stats = self._interval(p, r)
            for i, model in enumerate(self.models):
                for j, code in enumerate(self.inputs_.municipalities):
                    rows.append({"municipality": int(code), "n_persons": float(n_persons[j]), "model": model,
                                 "quantity": quantity, **{k: float(s[i, j]) for k, s in stats.items()}})
        return pd.DataFrame(rows)

    def paths(self) -> pd.DataFrame:
        """Projected citizens per step and year (baseline paths; year 0 is today's stock), with bands.

        Returns
        -------
        DataFrame
            ``year``, ``step``, ``estimate``, ``std_error``, ``conf_low``, ``conf_high``.
        """
        self._fitted()
        point, reps = self._get("steps")  # (T + 1, S)
        stats = self._interval(point, reps)
        years = [self.inputs_.start_year + t for t in range(self.years + 1)]
        rows = [{"year": year, "step": step, **{k: float(s[t, i]) for k, s in stats.items()}}
                for t, year in enumerate(years) for i, step in enumerate(self.inputs_.space.steps)]
        return pd.DataFrame(rows)
