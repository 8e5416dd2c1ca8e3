"""Person-years: register outcomes, public costs by service and payer, and the unit costs.

Each person in the data has one row per calendar year from the year of the first service in the
window to the year of death, emigration or the extract. Outcomes are drawn with keyed uniforms on
(person, year, outcome), so the untreated potential outcomes of intervention participants use the
same random numbers as their observed outcomes.

* ``disability_pension_weeks``: 52 x the part of the year after a person-specific onset age
  ``19 + Exp(mean)`` (mean by target group, severity and employability) and before age 67.
* ``employment_weeks``: ``52 * clip(L, 0, 1)`` of a latent index
  ``L = mu + sigma (sqrt(rho) e + sqrt(1 - rho) n_y)`` (``e`` = employability); ``mu`` falls with
  severity, botilbud, disability pension and age; intervention shifts act in years after enrolment.
* ``psych_inpatient_days``: admitted with probability ``p`` (logistic; by target group, severity,
  time on §107), times ``exp(effect)`` after an intervention; days ``1 + lognormal``.
* ``education_weeks``, ``employment_measure_hours``, ``somatic_inpatient_days``,
  ``outpatient_contacts``, ``justice_contact``: simple logistic, lognormal and Poisson models.

Levels are calibrated to Social- og Boligstyrelsen (2024), *Kommunernes omlægning til Borgeren ved roret*,
Figur 13 and 14: employment about 3 weeks, employment measures about 50 hours, disability pension 33
(cognitive) and 26 (mental) weeks, psychiatric inpatient days about 7 (mental) and 2 (cognitive).

Costs are unit costs (an illustrative table in ``cost_price_year`` prices) times exposure. Service
costs are paid by the municipality, except the state's refusion of very expensive cases
(SEL §176, thresholds in :data:`REFUSION_2024`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, ndtri

from progression.constants import PAYERS
from ._calendar import calendar_year, year_start
from ._columns import strings
from ._random import keyed_uniform
from .interventions import INTERVENTIONS
from .persons import GROUPS
from .spells import PARAGRAPH_CODES

#: Unit costs: item -> list of (payer, unit, DKK, source). All are illustrative assumptions of the
#: right order of magnitude, in 2024 prices; ``cost_price_year`` rescales nothing (a label only).
UNIT_COSTS: dict[str, list[tuple[str, str, float, str]]] = {
    "SEL108": [("kommune", "year", 900_000, "illustrative assumption: long-term residential care")],
    "SEL107": [("kommune", "year", 650_000, "illustrative assumption: temporary residential care")],
    "ABL105": [("kommune", "year", 550_000, "illustrative assumption: residential-like housing with support")],
    "SEL85": [("kommune", "year", 100_000, "illustrative assumption: home support")],
    "SEL82a": [("kommune", "year", 15_000, "illustrative assumption: preventive group support")],
    "SEL82b": [("kommune", "year", 25_000, "illustrative assumption: time-limited individual support")],
    "SEL103": [("kommune", "year", 120_000, "illustrative assumption: sheltered employment")],
    "SEL104": [("kommune", "year", 100_000, "illustrative assumption: activity and social services")],
    "SEL97": [("kommune", "year", 30_000, "illustrative assumption: companion scheme")],
    "disability_pension": [("stat", "year", 220_000, "illustrative assumption: førtidspension, full rate")],
    "psych_inpatient": [("region", "day", 5_500, "illustrative assumption: psychiatric bed-day"),
                        ("kommune", "day", 500, "illustrative assumption: municipal co-financing")],
    "somatic_inpatient": [("region", "day", 7_000, "illustrative assumption: somatic bed-day"),
                          ("kommune", "day", 700, "illustrative assumption: municipal co-financing")],
    "outpatient": [("region", "contact", 1_800, "illustrative assumption: outpatient contact"),
                   ("kommune", "contact", 150, "illustrative assumption: municipal co-financing")],
    "employment_measures": [("kommune", "hour", 300, "illustrative assumption: active labour-market measure")],
    "education": [("stat", "week", 1_600, "illustrative assumption: SU and education places")],
    "justice": [("stat", "case", 25_000, "illustrative assumption: police, courts and prison service")],
}
#: SEL §176 refusion at 2024 rates: (threshold DKK, state share above it). 910,000 kr. is VIVE (2024),
#: *Styringsgennemgang af socialpsykiatrien*, section 2.2.1; the two upper thresholds are the 2022 values 1.68 and
#: 2.12 million scaled by 910/860 [check].
REFUSION_2024 = ((910_000, 0.25), (1_777_674, 0.50), (2_243_488, 0.75))
REFUSION_MAX_AGE = 67
PENSION_AGE = 67
CHUNK_ROWS = 1_000_000

#: Disability pension onset age = 19 + Exp(mean), mean = base[group] * exp(b_sev (s-2) + b_emp e).
FP_ONSET = {"base_mean_years": (9.0, 21.0, 7.0), "severity": -0.5, "employability": 0.5}
EMPLOYMENT = {"intercept": (-0.75, -0.85, -0.80), "sigma": 0.9, "rho": 0.6, "employability": 0.55, "severity": -0.25,
              "botilbud": -0.8, "disability_pension": -0.55, "age10": -0.15}
PSYCH_ADMISSION = {"logit": (-2.9, -1.35, -1.8), "severity": 0.4, "sel107": 1.0,
                   "mean_days": (25.0, 30.0, 28.0), "log_sd": 1.0}
SOMATIC = {"logit": -2.4, "age10": 0.3, "mean_days": 7.0}
OUTPATIENT_MEAN = {"base": 1.8, "psych": (0.6, 1.6, 1.2), "severity": 0.15}
JUSTICE = {"logit": (-3.2, -2.7, -2.9), "age10": -0.4, "male": 0.4}
EDUCATION = {"p_under_30": 0.10, "p_30_plus": 0.015, "weeks": (5, 44)}
MEASURES = {"logit": (0.35, -0.1, 0.2), "disability_pension": -1.6, "botilbud": -1.0, "employability": 0.3,
            "age10": -0.3, "mean_hours": 170.0, "log_sd": 0.9}


def unit_costs_table(price_year: int) -> pd.DataFrame:
    """The ``unit_costs`` table (services, transfers, health, interventions)."""
    rows = [(item, payer, unit, float(cost), source) for item, entries in UNIT_COSTS.items()
            for payer, unit, cost, source in entries]
    rows += [(s.code, "kommune", "participant", float(s.cost_dkk), "illustrative assumption: intervention price")
             for s in INTERVENTIONS]
    cols = list(zip(*rows))
    return pd.DataFrame({"item": pd.array(cols[0], dtype="str"), "payer": pd.array(cols[1], dtype="str"),
                         "unit": pd.array(cols[2], dtype="str"), "cost_dkk": np.array(cols[3], dtype=float),
                         "price_year": np.int64(price_year), "source": pd.array(cols[4], dtype="str")})


class PersonYearIndex:
    """Row positions of person-years: persons (internal indices) x their years in the window."""

    def __init__(self, persons: np.ndarray, first_year: np.ndarray, last_year: np.ndarray, n_total: int):
        self.persons = persons
        self.first_year = first_year
        self.n_years = np.maximum(last_year - first_year + 1, 0)
        self.offset = np.concatenate([[0], np.cumsum(self.n_years)])
        self.position = np.full(n_total, -1, np.int64)
        self.position[persons] = np.arange(len(persons))
        owner = np.repeat(np.arange(len(persons)), self.n_years)
        self.person = persons[owner]
        self.year = first_year[owner] + (np.arange(len(owner)) - self.offset[owner])

    def __len__(self) -> int:
        return len(self.year)

    def exposure(self, person, start, end, key, n_keys: int) -> np.ndarray:
        """Years of exposure per person-year and key, shape (rows, n_keys), of intervals [start, end)."""
        pos = self.position[person]
        ok = pos >= 0
        pos, start, end, key = pos[ok], start[ok], end[ok], key[ok]
        lo = self.first_year[pos]
        hi = lo + self.n_years[pos] - 1
        ys = np.maximum(calendar_year(start), lo)
        ye = np.minimum(calendar_year(np.maximum(end - 1e-9, start)), hi)
        count = np.maximum(ye - ys + 1, 0)
        rep = np.repeat(np.arange(len(pos)), count)
        first = np.concatenate([[0], np.cumsum(count)])[:-1]
        y = ys[rep] + (np.arange(len(rep)) - first[rep])
        bounds = year_start(np.arange(y.min(initial=2000), y.max(initial=2000) + 2)) if len(y) else np.zeros(2)
        y0 = y.min(initial=2000)
        overlap = np.minimum(end[rep], bounds[y - y0 + 1]) - np.maximum(start[rep], bounds[y - y0])
        row = self.offset[pos[rep]] + (y - self.first_year[pos[rep]])
        flat = np.bincount(row * n_keys + key[rep], weights=np.maximum(overlap, 0), minlength=len(self) * n_keys)
        return flat.reshape(len(self), n_keys)


def build_index(persons: np.ndarray, first_service_t: np.ndarray, t_end: np.ndarray, params, n_total: int
                ) -> PersonYearIndex:
    """Person-years from the first service year (at the earliest ``start_year``) to the last year in the data."""
    first = np.maximum(calendar_year(first_service_t), params.start_year)
    last = np.minimum(calendar_year(np.maximum(t_end - 1e-9, first_service_t)), params.end_year)
    return PersonYearIndex(persons, first, last, n_total)


def _keyed(seed, name, person, year, slot):
    return keyed_uniform(seed, name, person, year, slot=slot)


def draw_outcomes(index: PersonYearIndex, occupancy: np.ndarray, pop, treatment: dict, *, seed: int,
                  t_end: np.ndarray, effects: bool = True) -> dict[str, np.ndarray]:
    """Outcomes of every person-year.

    Parameters
    ----------
    index : PersonYearIndex
    occupancy : ndarray, shape (rows, 7)
        Years spent in each simulated state in each person-year.
    pop : Population
    treatment : dict
        ``intervention`` and ``year`` of enrolment by internal person index (-1 / NaN when none).
    seed : int
    t_end : ndarray
        End of each person's path (death, emigration or extract) by internal index.
    effects : bool, default=True
        Whether intervention effects act.

    Notes
    -----
    Rows are drawn in chunks of :data:`CHUNK_ROWS` to bound memory; keyed uniforms make the result
    independent of the chunking.
    """
    parts = [_draw_rows(index.person[a:a + CHUNK_ROWS], index.year[a:a + CHUNK_ROWS], occupancy[a:a + CHUNK_ROWS],
                        pop, treatment, seed=seed, t_end=t_end, effects=effects)
             for a in range(0, max(len(index), 1), CHUNK_ROWS)]
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}


def _draw_rows(p, y, occupancy, pop, treatment, *, seed, t_end, effects) -> dict[str, np.ndarray]:
    """Outcomes of the person-years (person ``p``, year ``y``) with the given state occupancy."""
    start_y = year_start(y)
    ylen = year_start(y + 1) - start_y
    alive = np.clip((np.minimum(t_end[p], start_y + ylen) - start_y) / ylen, 0, 1)
    group, sev_c, emp = pop.group[p], pop.severity[p] - 2.0, pop.employability[p]
    age = y - np.floor(1970 + pop.birth_t[p]).astype(np.int64)
    frac = occupancy / ylen[:, None]
    botilbud = frac[:, 3:6].sum(axis=1)
    u = lambda name, slot: _keyed(seed, name, p, y, slot)  # noqa: E731

    fp_mean = np.asarray(FP_ONSET["base_mean_years"])[group] * np.exp(
        FP_ONSET["severity"] * sev_c + FP_ONSET["employability"] * emp)
    fp_onset_t = pop.birth_t[p] + 19 + fp_mean * -np.log(_keyed(seed, "fp_onset", p, np.zeros_like(y), 0))
    pension_t = pop.birth_t[p] + PENSION_AGE
    fp_years = np.clip(np.minimum(np.minimum(t_end[p], start_y + ylen), pension_t) - np.maximum(fp_onset_t, start_y),
                       0, None)
    fp_frac = fp_years / ylen

    k = treatment["intervention"][p]
    after = effects & (k >= 0) & (y > treatment["year"][p])
    kk = np.where(after, k, 0)
    spec = lambda field: np.array([getattr(s, field) for s in INTERVENTIONS])[kk]  # noqa: E731
    emp_shift = np.where(after, spec("employment_shift") + spec("employment_shift_per_severity") * sev_c, 0.0)
    psych_log = np.where(after, spec("psych_log_rr") + spec("psych_log_rr_per_severity") * sev_c, 0.0)

    e = EMPLOYMENT
    mu = (np.asarray(e["intercept"])[group] + e["severity"] * sev_c + e["botilbud"] * botilbud
          + e["disability_pension"] * fp_frac + e["age10"] * (age - 40) / 10 + emp_shift)
    latent = mu + e["sigma"] * (np.sqrt(e["rho"]) * emp + np.sqrt(1 - e["rho"]) * ndtri(u("employment", 0)))
    employment_weeks = 52 * np.clip(latent, 0, 1) * alive

    pa = PSYCH_ADMISSION
    p_adm = expit(np.asarray(pa["logit"])[group] + pa["severity"] * sev_c + pa["sel107"] * frac[:, 3])
    admitted = u("psych", 0) < np.minimum(p_adm * np.exp(psych_log), 1.0)
    days = 1 + _lognormal(u("psych", 1), np.asarray(pa["mean_days"])[group] - 1, pa["log_sd"])
    psych_days = np.where(admitted, np.minimum(np.round(days), np.ceil(366 * alive)), 0.0)

    som_p = expit(SOMATIC["logit"] + SOMATIC["age10"] * (age - 40) / 10)
    som_days = np.where(u("somatic", 0) < som_p, np.minimum(
        np.round(1 - np.log(u("somatic", 1)) * (SOMATIC["mean_days"] - 1)), np.ceil(366 * alive)), 0.0)

    out_mean = (OUTPATIENT_MEAN["base"] + np.asarray(OUTPATIENT_MEAN["psych"])[group]) * np.exp(
        OUTPATIENT_MEAN["severity"] * sev_c) * alive
    outpatient = _poisson_inverse(u("outpatient", 0), out_mean)

    ju = JUSTICE
    justice = u("justice", 0) < expit(np.asarray(ju["logit"])[group] + ju["age10"] * (age - 35) / 10
                                      + ju["male"] * pop.male[p])

    ed = EDUCATION
    in_edu = u("education", 0) < np.where(age < 30, ed["p_under_30"], ed["p_30_plus"])
    education_weeks = np.where(in_edu, np.round(ed["weeks"][0] + (ed["weeks"][1] - ed["weeks"][0])
                                                * u("education", 1)) * alive, 0.0)

    me = MEASURES
    p_meas = expit(np.asarray(me["logit"])[group] + me["disability_pension"] * fp_frac + me["botilbud"] * botilbud
                   + me["employability"] * emp + me["age10"] * (age - 40) / 10)
    hours = np.where(u("measures", 0) < p_meas, np.round(_lognormal(u("measures", 1), me["mean_hours"], me["log_sd"])),
                     0.0)
    return {
        "employment_weeks": np.round(employment_weeks, 1), "education_weeks": education_weeks,
        "disability_pension_weeks": np.round(52 * fp_frac, 1), "employment_measure_hours": np.round(hours * alive),
        "psych_inpatient_days": psych_days, "somatic_inpatient_days": som_days,
        "outpatient_contacts": outpatient.astype(float), "justice_contact": justice,
    }


def _lognormal(u: np.ndarray, mean, log_sd: float) -> np.ndarray:
    """Lognormal quantiles with the given mean and log-scale sd."""
    return np.exp(np.log(mean) - log_sd**2 / 2 + log_sd * ndtri(u))


def _poisson_inverse(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Poisson quantiles by inversion (vectorised over small means)."""
    k = np.zeros(len(u), np.int64)
    pmf = np.exp(-mean)
    cdf = pmf.copy()
    todo = u > cdf
    while todo.any():
        k[todo] += 1
        pmf[todo] *= mean[todo] / k[todo]
        cdf[todo] += pmf[todo]
        todo = todo & (u > cdf) & (pmf > 1e-14)
    return k


def person_years_table(index: PersonYearIndex, outcomes: dict, residence: np.ndarray, person_ids: np.ndarray,
                       muni_codes: np.ndarray) -> pd.DataFrame:
    """The ``person_years`` table."""
    return pd.DataFrame({"person_id": person_ids[index.person].astype(np.int64), "year": index.year.astype(np.int64),
                         "municipality": muni_codes[residence].astype(np.int64), **outcomes}, copy=False)


def _refusion(total: np.ndarray) -> np.ndarray:
    """State refusion of a municipality's yearly cost of one person (SEL §176, tiered)."""
    out = np.zeros_like(total)
    bounds = [b for b, _ in REFUSION_2024] + [np.inf]
    for (lo, share), hi in zip(REFUSION_2024, bounds[1:]):
        out += share * np.clip(np.minimum(total, hi) - lo, 0, None)
    return out


def person_year_costs_table(index: PersonYearIndex, paragraph_exposure: np.ndarray, outcomes: dict, pop,
                            enrolments: dict, person_ids: np.ndarray, price_year: int) -> pd.DataFrame:
    """The ``person_year_costs`` table: one row per person, year, service and payer with a positive cost.

    Sorted by person, year, service and payer; built in chunks of person-year rows to bound memory.
    """
    services = sorted(set(PARAGRAPH_CODES) | set(UNIT_COSTS) | {s.code for s in INTERVENTIONS})
    pos = index.position[enrolments["person"]]
    known = pos >= 0
    enrol_row = index.offset[pos[known]] + calendar_year(enrolments["t"][known]) - index.first_year[pos[known]]
    valid = (enrol_row >= index.offset[pos[known]]) & (enrol_row < index.offset[pos[known] + 1])
    enrol_row, enrol_k = enrol_row[valid], enrolments["intervention"][known][valid]
    parts = []
    for a in range(0, max(len(index), 1), CHUNK_ROWS):
        b = min(a + CHUNK_ROWS, len(index))
        sel = (enrol_row >= a) & (enrol_row < b)
        parts.append(_cost_rows(a, paragraph_exposure[a:b], {k: v[a:b] for k, v in outcomes.items()},
                                index.year[a:b] - np.floor(1970 + pop.birth_t[index.person[a:b]]).astype(np.int64),
                                enrol_row[sel], enrol_k[sel], services))
    r, svc, pay, cost = (np.concatenate(c) for c in zip(*parts))
    del parts
    return pd.DataFrame({
        "person_id": person_ids[index.person[r]].astype(np.int64), "year": index.year[r].astype(np.int64),
        "service": strings(svc, services), "payer": strings(pay, PAYERS), "cost_dkk": cost,
        "price_year": np.full(len(r), price_year, np.int64),
    }, copy=False)


def _cost_rows(first_row: int, exposure: np.ndarray, outcomes: dict, age: np.ndarray, enrol_row: np.ndarray,
               enrol_k: np.ndarray, services: list[str]) -> tuple[np.ndarray, ...]:
    """Rows, service codes, payer codes and costs of one chunk of person-years, sorted."""
    service_cost = exposure * np.array([UNIT_COSTS[c][0][2] for c in PARAGRAPH_CODES])[None, :]
    total = service_cost.sum(axis=1)
    refusion = np.where(age < REFUSION_MAX_AGE, _refusion(total), 0.0)
    share = np.divide(refusion, total, out=np.zeros_like(total), where=total > 0)
    rows = np.arange(first_row, first_row + len(total))
    out = []

    def add(row_idx, service, payer, cost):
        keep = cost > 0
        out.append((row_idx[keep], np.full(keep.sum(), services.index(service), np.int16),
                    np.full(keep.sum(), PAYERS.index(payer), np.int8), np.round(cost[keep], 2)))

    for j, code in enumerate(PARAGRAPH_CODES):
        add(rows, code, "kommune", service_cost[:, j] * (1 - share))
        add(rows, code, "stat", service_cost[:, j] * share)
    volumes = {"disability_pension": outcomes["disability_pension_weeks"] / 52,
               "psych_inpatient": outcomes["psych_inpatient_days"],
               "somatic_inpatient": outcomes["somatic_inpatient_days"],
               "outpatient": outcomes["outpatient_contacts"],
               "employment_measures": outcomes["employment_measure_hours"],
               "education": outcomes["education_weeks"],
               "justice": outcomes["justice_contact"].astype(float)}
    for item, volume in volumes.items():
        for payer, _, unit_cost, _ in UNIT_COSTS[item]:
            add(rows, item, payer, volume * unit_cost)
    for k, spec in enumerate(INTERVENTIONS):
        sel = enrol_k == k
        add(enrol_row[sel], spec.code, "kommune", np.full(sel.sum(), float(spec.cost_dkk)))
    r, svc, pay, cost = (np.concatenate(c) for c in zip(*out))
    order = np.lexsort((pay, svc, r))
    return r[order], svc[order], pay[order], cost[order]


def truth() -> dict:
    """Generating parameters of outcomes and costs."""
    return {
        "groups": list(GROUPS), "disability_pension_onset": FP_ONSET, "employment": EMPLOYMENT,
        "psych_admission": PSYCH_ADMISSION, "somatic": SOMATIC, "outpatient_mean": OUTPATIENT_MEAN,
        "justice": JUSTICE, "education": EDUCATION, "employment_measures": MEASURES,
        "pension_age": PENSION_AGE, "refusion_2024": [list(r) for r in REFUSION_2024],
        "refusion_max_age": REFUSION_MAX_AGE,
        "unit_costs": {k: [list(e) for e in v] for k, v in UNIT_COSTS.items()},
    }
