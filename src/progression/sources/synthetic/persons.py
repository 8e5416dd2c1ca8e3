"""Persons: the stock at the start of the burn-in, the entrants after it, and their fixed traits.

Every person gets, once and for all (stream ``"persons"``):

* target group, sex, severity 1-3, childhood services, an *employability* trait ``e ~ N(0, 1)``
  (negatively correlated with severity) that drives employment and intervention uptake;
* an entry time, an entry step and an entry municipality (weights ``pop_2022 * exp(kappa * z_m)``,
  so the target group is denser where the socioeconomic index ``z`` is high);
* a death time from a Gompertz hazard ``h(a) = m * exp(alpha + gamma * a)`` (``m`` by target group
  and severity), an emigration time (constant hazard), and the moves between municipalities
  (Poisson process; destinations weighted by population, half within the region).

Death, emigration and moves do not depend on the step a person is on: they are censoring events.
Entrants at 18 come from the children's area (Social- og Boligstyrelsen 2024, *Kommunernes omlægning til
Borgeren ved roret*, «Kontakter på tværs af velfærdsområder»); at scale 1 the entry counts give about
72,000 adults in services in 2022 (Social- og Boligstyrelsen 2024, «Målgruppens omfang»).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._calendar import year_start
from ._random import generator

GROUPS = ("kognitivt_handicap", "sindslidelse", "begge")
STATES = ("none", "SEL82", "SEL85", "SEL107", "ABL105", "SEL108", "out")
SERVICE_STATES = (1, 2, 3, 4, 5)

#: New persons per year at scale 1, by target group (tuned so 2022 matches Social- og Boligstyrelsen
#: 2024, «Målgruppens omfang»).
ENTRANTS_PER_YEAR = {"kognitivt_handicap": 3330.0, "sindslidelse": 3220.0, "begge": 450.0}
#: Persons in services at the start of the burn-in, at scale 1.
INITIAL_STOCK = {"kognitivt_handicap": 35000.0, "sindslidelse": 21000.0, "begge": 5300.0}
ENTRANT_GROWTH = 0.01  # yearly growth of the number of entrants
SHARE_ENTERING_AT_18 = {"kognitivt_handicap": 0.45, "sindslidelse": 0.12, "begge": 0.35}
SEVERITY_PROBS = {"kognitivt_handicap": (0.30, 0.45, 0.25), "sindslidelse": (0.35, 0.45, 0.20),
                  "begge": (0.20, 0.45, 0.35)}
MALE_SHARE = {"kognitivt_handicap": 0.60, "sindslidelse": 0.48, "begge": 0.58}
#: P(childhood services): entering at 18 / entering at 19-24 / entering at 25+ (Social- og Boligstyrelsen 2024,
#: «Kontakter på tværs af velfærdsområder»).
CHILDHOOD_PROBS = {"kognitivt_handicap": (0.50, 0.18, 0.05), "sindslidelse": (0.60, 0.30, 0.06),
                   "begge": (0.65, 0.30, 0.08)}
#: Entry step probabilities over (SEL82, SEL85, SEL107, ABL105, SEL108): at 18 / later.
ENTRY_STATE_PROBS = {
    ("kognitivt_handicap", True): (0.03, 0.62, 0.12, 0.19, 0.04),
    ("kognitivt_handicap", False): (0.17, 0.69, 0.06, 0.05, 0.03),
    ("sindslidelse", True): (0.05, 0.75, 0.11, 0.07, 0.02),
    ("sindslidelse", False): (0.23, 0.66, 0.08, 0.02, 0.01),
    ("begge", True): (0.03, 0.62, 0.12, 0.19, 0.04),
    ("begge", False): (0.13, 0.67, 0.09, 0.08, 0.03),
}
#: Step probabilities of the initial stock over (SEL82, SEL85, SEL107, ABL105, SEL108).
INITIAL_STATE_PROBS = {"kognitivt_handicap": (0.05, 0.60, 0.10, 0.20, 0.05),
                       "sindslidelse": (0.08, 0.72, 0.09, 0.08, 0.03),
                       "begge": (0.05, 0.57, 0.12, 0.21, 0.05)}
#: Mean years already spent on the initial step (for the start date of the first spell only).
INITIAL_ELAPSED_YEARS = (0.5, 3.0, 1.0, 5.0, 8.0)
#: Ages: later entrants 19 + Gamma(shape, scale) or 19 + Exp(mean), at most 80; the stock 18 + width * Beta(a, b).
ENTRY_AGE = {"kognitivt_handicap": ("exponential", 18.0), "sindslidelse": ("gamma", 2.0, 7.0),
             "begge": ("exponential", 18.0)}
MAX_ENTRY_AGE = 80.0
STOCK_AGE = {"kognitivt_handicap": (62, 1.2, 2.0), "sindslidelse": (55, 1.8, 2.8), "begge": (62, 1.2, 2.0)}
GOMPERTZ = {"alpha": -10.3, "gamma": 0.095}
MORTALITY_MULTIPLIER = {"kognitivt_handicap": 2.5, "sindslidelse": 2.5, "begge": 3.0}
MORTALITY_SEVERITY_LOG = 0.3
EMIGRATION_RATE = 0.002
MOVE_RATE = {"at_30": 0.045, "age_log_slope": -0.03, "min": 0.01, "max": 0.08}
MOVE_WITHIN_REGION = 0.55
ENTRY_SOCIOECONOMIC_KAPPA = 0.35
EMPLOYABILITY_SEVERITY_CORR = -0.3


@dataclass
class Population:
    """Arrays over persons (internal index = position); times in years since 1970."""

    group: np.ndarray
    male: np.ndarray
    severity: np.ndarray
    childhood: np.ndarray
    employability: np.ndarray
    birth_t: np.ndarray
    t0: np.ndarray
    state0: np.ndarray
    seg_start0: np.ndarray
    muni0: np.ndarray
    death_t: np.ndarray
    emig_t: np.ndarray
    move_offsets: np.ndarray
    move_t: np.ndarray
    move_to: np.ndarray
    move_from: np.ndarray

    @property
    def n(self) -> int:
        return len(self.group)


def _choice(rng, probs, size) -> np.ndarray:
    return rng.choice(len(probs), size=size, p=np.asarray(probs) / np.sum(probs))


def _gompertz_death_age(age0, multiplier, rng) -> np.ndarray:
    """Age at death given survival to ``age0`` (inverse of the cumulative Gompertz hazard)."""
    a, g = GOMPERTZ["alpha"], GOMPERTZ["gamma"]
    e = rng.exponential(size=len(age0))
    return np.log(np.exp(g * age0) + e * g / (multiplier * np.exp(a))) / g


def _entrants(groups_n: dict, t_from: float, t_to: float, scale: float, rng) -> dict:
    """Entry times, groups and ages of the persons entering between ``t_from`` and ``t_to``."""
    years = np.arange(int(np.floor(1970 + t_from)), int(np.ceil(1970 + t_to)) + 1)
    starts = year_start(years)
    lengths = year_start(years + 1) - starts
    out = {"group": [], "t": [], "age": [], "at18": []}
    for g, name in enumerate(GROUPS):
        counts = rng.poisson(groups_n[name] * scale * (1 + ENTRANT_GROWTH) ** (years - 2022))
        t = np.repeat(starts, counts) + rng.random(counts.sum()) * np.repeat(lengths, counts)
        t = t[(t >= t_from) & (t < t_to)]
        at18 = rng.random(len(t)) < SHARE_ENTERING_AT_18[name]
        kind, *shape = ENTRY_AGE[name]
        later = 19 + (rng.gamma(*shape, size=len(t)) if kind == "gamma" else rng.exponential(*shape, size=len(t)))
        age = np.where(at18, 18.0, np.minimum(later, MAX_ENTRY_AGE))
        out["group"].append(np.full(len(t), g, np.int8))
        out["t"].append(t)
        out["age"].append(age)
        out["at18"].append(at18)
    res = {k: np.concatenate(v) for k, v in out.items()}
    order = np.argsort(res["t"], kind="stable")
    return {k: v[order] for k, v in res.items()}


def _initial_stock(scale: float, t0: float, rng) -> dict:
    """Groups and ages of the persons in services at the start of the burn-in."""
    groups, ages = [], []
    for g, name in enumerate(GROUPS):
        n = rng.poisson(INITIAL_STOCK[name] * scale)
        width, a, b = STOCK_AGE[name]
        age = 18 + width * rng.beta(a, b, size=n)
        groups.append(np.full(n, g, np.int8))
        ages.append(age)
    group = np.concatenate(groups)
    return {"group": group, "t": np.full(len(group), t0), "age": np.concatenate(ages),
            "at18": np.zeros(len(group), bool)}


def _moves(t0, t_end, age0, muni0, regions, weights, rng):
    """Poisson moves between ``t0`` and ``t_end``; returns offsets, times, from and to municipalities."""
    rate = np.clip(MOVE_RATE["at_30"] * np.exp(MOVE_RATE["age_log_slope"] * (age0 - 30)),
                   MOVE_RATE["min"], MOVE_RATE["max"])
    counts = rng.poisson(rate * np.maximum(t_end - t0, 0))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    owner = np.repeat(np.arange(len(t0)), counts)
    times = t0[owner] + rng.random(len(owner)) * (t_end - t0)[owner]
    order = np.lexsort((times, owner))
    times = times[order]
    rank = np.arange(len(owner)) - offsets[owner]
    dest = np.empty(len(owner), np.int64)
    source = np.empty(len(owner), np.int64)
    current = muni0.astype(np.int64).copy()
    region_codes, region_of = np.unique(regions, return_inverse=True)
    cdf_all = np.cumsum(weights) / weights.sum()
    cdf_region = [np.cumsum(np.where(region_of == r, weights, 0)) for r in range(len(region_codes))]
    for k in range(int(rank.max(initial=-1)) + 1):
        at = np.flatnonzero(rank == k)
        who = owner[at]
        src = current[who]
        within = rng.random(len(at)) < MOVE_WITHIN_REGION
        new = src.copy()
        todo = np.ones(len(at), bool)
        while todo.any():
            u = rng.random(todo.sum())
            idx = np.flatnonzero(todo)
            draw = np.searchsorted(cdf_all, u * cdf_all[-1], side="right")
            for r in range(len(region_codes)):
                sel = within[idx] & (region_of[src[idx]] == r)
                cdf = cdf_region[r]
                draw[sel] = np.searchsorted(cdf, u[sel] * cdf[-1], side="right")
            new[idx] = np.minimum(draw, len(weights) - 1)
            todo = new == src
        dest[at], source[at] = new, src
        current[who] = new
    return offsets, times, source, dest


def draw_population(params, muni, *, t_burn_in: float, t_extract: float, seed: int) -> Population:
    """Draw the initial stock and the entrants with all their fixed traits and censoring times.

    Parameters
    ----------
    params : SyntheticParams
        Uses ``scale``.
    muni : MunicipalityModel
        Socioeconomic index, populations and regions.
    t_burn_in, t_extract : float
        Start of the burn-in and the extract time (years since 1970).
    seed : int
        Master seed.
    """
    rng = generator(seed, "persons")
    stock = _initial_stock(params.scale, t_burn_in, rng)
    new = _entrants(ENTRANTS_PER_YEAR, t_burn_in, t_extract, params.scale, rng)
    both = {k: np.concatenate([stock[k], new[k]]) for k in stock}
    n = len(both["group"])
    group, t0, age0, at18 = both["group"], both["t"], both["age"], both["at18"]
    is_stock = np.arange(n) < len(stock["group"])

    severity = np.empty(n, np.int8)
    male = np.empty(n, bool)
    childhood = np.empty(n, bool)
    state0 = np.empty(n, np.int8)
    for g, name in enumerate(GROUPS):
        sel = group == g
        severity[sel] = 1 + _choice(rng, SEVERITY_PROBS[name], sel.sum())
        male[sel] = rng.random(sel.sum()) < MALE_SHARE[name]
        p18, p_young, p_older = CHILDHOOD_PROBS[name]
        p_child = np.where(at18[sel], p18, np.where(age0[sel] < 25, p_young, p_older))
        childhood[sel] = rng.random(sel.sum()) < p_child
        for flag in (True, False):
            s = sel & (at18 == flag) & ~is_stock
            state0[s] = 1 + _choice(rng, ENTRY_STATE_PROBS[(name, flag)], s.sum())
        s = sel & is_stock
        state0[s] = 1 + _choice(rng, INITIAL_STATE_PROBS[name], s.sum())
    sev_c = severity - 2.0
    employability = (EMPLOYABILITY_SEVERITY_CORR * sev_c / 0.74
                     + np.sqrt(1 - EMPLOYABILITY_SEVERITY_CORR**2) * rng.standard_normal(n))

    elapsed = rng.exponential(np.asarray(INITIAL_ELAPSED_YEARS)[state0 - 1])
    elapsed = np.minimum(elapsed, np.maximum(age0 - 18.0, 0.0))
    seg_start0 = np.where(is_stock, t0 - elapsed, t0)
    birth_t = t0 - age0

    multiplier = np.array([MORTALITY_MULTIPLIER[g] for g in GROUPS])[group] * np.exp(MORTALITY_SEVERITY_LOG * sev_c)
    death_t = birth_t + _gompertz_death_age(age0, multiplier, rng)
    emig_t = t0 + rng.exponential(1 / EMIGRATION_RATE, size=n)

    weights = muni.pop_2022 * np.exp(ENTRY_SOCIOECONOMIC_KAPPA * muni.socioeconomic_index)
    muni0 = np.searchsorted(np.cumsum(weights), rng.random(n) * weights.sum(), side="right").astype(np.int64)
    t_end = np.minimum(np.minimum(death_t, emig_t), t_extract)
    offsets, move_t, move_from, move_to = _moves(t0, t_end, age0, muni0, muni.regions, muni.pop_2022, rng)
    return Population(group=group, male=male, severity=severity, childhood=childhood,
                      employability=employability, birth_t=birth_t, t0=t0, state0=state0,
                      seg_start0=seg_start0, muni0=muni0, death_t=death_t, emig_t=emig_t,
                      move_offsets=offsets, move_t=move_t, move_to=move_to, move_from=move_from)


def truth(params) -> dict:
    """Generating parameters of the population."""
    return {
        "groups": list(GROUPS), "entrants_per_year_at_scale_1": ENTRANTS_PER_YEAR,
        "entrant_growth_per_year": ENTRANT_GROWTH, "initial_stock_at_scale_1": INITIAL_STOCK,
        "share_entering_at_18": SHARE_ENTERING_AT_18, "severity_probs": SEVERITY_PROBS,
        "male_share": MALE_SHARE, "childhood_probs_at18_19to24_25plus": CHILDHOOD_PROBS,
        "entry_state_probs_SEL82_SEL85_SEL107_ABL105_SEL108": {
            f"{g}|{'at18' if a else 'later'}": p for (g, a), p in ENTRY_STATE_PROBS.items()},
        "initial_state_probs": INITIAL_STATE_PROBS, "initial_elapsed_years_by_step": INITIAL_ELAPSED_YEARS,
        "entry_age_after_19": ENTRY_AGE, "max_entry_age": MAX_ENTRY_AGE, "stock_age_width_beta_a_b": STOCK_AGE,
        "gompertz": GOMPERTZ,
        "mortality_multiplier": MORTALITY_MULTIPLIER, "mortality_severity_log_hr": MORTALITY_SEVERITY_LOG,
        "emigration_rate": EMIGRATION_RATE, "move_rate": MOVE_RATE, "move_within_region": MOVE_WITHIN_REGION,
        "entry_socioeconomic_kappa": ENTRY_SOCIOECONOMIC_KAPPA,
        "employability_severity_corr": EMPLOYABILITY_SEVERITY_CORR, "scale": params.scale,
    }
