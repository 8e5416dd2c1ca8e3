"""Preventive interventions: who offers them, who takes part, their true effects and the rate card.

Each intervention is offered in a few municipalities from a staggered start year. A person who is
eligible (target group, step, age) in an offering municipality enrols with hazard
``lambda_k * exp(-0.5 (severity - 2) - 0.3 (age - 40)/10 + 0.6 employability)``: less severe, younger
and more employable persons take part more often, and the same traits drive the outcomes, so naive
comparisons are confounded. Enrolment is a competing event of the multi-state simulation (at most one
intervention per person).

True effects (per intervention, heterogeneous by severity ``s``; ``s - 2`` is centred):

* step escalation: step-up and re-entry intensities times ``exp(esc + esc_s (s - 2))`` from enrolment on;
* employment: the latent employment index shifted by ``emp + emp_s (s - 2)`` in every year after the
  enrolment year;
* psychiatric admission: the yearly admission probability times ``exp(psych + psych_s (s - 2))`` in
  every year after the enrolment year.

The true ATTs in the truth are means over the actual participants of ``Y(1) - Y(0)``, where ``Y(0)``
comes from re-simulating each participant with the effects switched off and the same random numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ._calendar import day_number, to_datetime
from ._columns import strings
from ._random import generator


@dataclass(frozen=True)
class InterventionSpec:
    """One preventive intervention and its true effects."""

    code: str
    name: str
    target_group: str
    description: str
    eligible_states: tuple[str, ...]
    min_age: float
    max_age: float
    enrol_rate: float
    cost_dkk: float
    duration_years: float
    n_municipalities: int
    offer_years: tuple[int, int]
    escalation_log_hr: float
    escalation_log_hr_per_severity: float
    employment_shift: float
    employment_shift_per_severity: float
    psych_log_rr: float
    psych_log_rr_per_severity: float


#: Uptake log hazard ratios (per severity step, per 10 years of age, per sd of employability).
UPTAKE = {"severity": -0.5, "age10": -0.3, "employability": 0.6}

# Sources: Ekspertudvalget på socialområdet (2024), *Anbefalinger til en bæredygtig faglig og økonomisk udvikling
# på socialområdet*; VIVE (2024), *Styringsgennemgang af socialpsykiatrien*.
INTERVENTIONS: tuple[InterventionSpec, ...] = (
    InterventionSpec(
        code="ips", name="Individual Placement and Support (IPS)", target_group="sindslidelse",
        description="Individual job support for citizens with mental illness on §82 or §85 "
                    "(Ekspertudvalget på socialområdet 2024, section 6.1, note 1: SØM about 50,000 kr. "
                    "saved per participant)",
        eligible_states=("SEL82", "SEL85"), min_age=18, max_age=60, enrol_rate=0.06, cost_dkk=60_000,
        duration_years=1.5, n_municipalities=20, offer_years=(2014, 2020),
        escalation_log_hr=-0.10, escalation_log_hr_per_severity=0.0,
        employment_shift=0.45, employment_shift_per_severity=-0.15,
        psych_log_rr=-0.05, psych_log_rr_per_severity=0.0),
    InterventionSpec(
        code="sel82_group", name="Forebyggende gruppeforløb (§82a)", target_group="alle",
        description="A time-limited preventive group course under §82a (VIVE 2024, section 2.6: no evidence "
                    "yet that §82 reduces psychiatric admissions)",
        eligible_states=("SEL82", "SEL85"), min_age=18, max_age=70, enrol_rate=0.08, cost_dkk=15_000,
        duration_years=0.5, n_municipalities=30, offer_years=(2016, 2022),
        escalation_log_hr=-0.25, escalation_log_hr_per_severity=0.10,
        employment_shift=0.05, employment_shift_per_severity=0.0,
        psych_log_rr=0.0, psych_log_rr_per_severity=0.0),
    InterventionSpec(
        code="flexstoette", name="Flexstøtte (intensiv, fleksibel §85)", target_group="alle",
        description="Intensive, flexible §85 support that scales up in crises (Rudersdal model)",
        eligible_states=("SEL85",), min_age=18, max_age=70, enrol_rate=0.05, cost_dkk=80_000,
        duration_years=1.0, n_municipalities=12, offer_years=(2017, 2021),
        escalation_log_hr=-0.50, escalation_log_hr_per_severity=-0.15,
        employment_shift=0.05, employment_shift_per_severity=0.0,
        psych_log_rr=-0.25, psych_log_rr_per_severity=-0.10),
    InterventionSpec(
        code="housing_first", name="Housing First for unge", target_group="alle",
        description="Housing First with floating support for young people out of homelessness "
                    "(the Implement example of a Danish outcomes fund)",
        eligible_states=("none", "SEL82", "SEL107"), min_age=18, max_age=29, enrol_rate=0.15,
        cost_dkk=120_000, duration_years=2.0, n_municipalities=8, offer_years=(2015, 2020),
        escalation_log_hr=-0.35, escalation_log_hr_per_severity=0.0,
        employment_shift=0.20, employment_shift_per_severity=0.0,
        psych_log_rr=-0.30, psych_log_rr_per_severity=0.0),
)

#: Rate card of an illustrative result-payment fund: (intervention, outcome, price, cap, counterfactual
#: rate, window in months, payer that harvests the gain). Prices are illustrative assumptions.
RATE_CARD = (
    ("ips", "employed", 60_000, 90_000, 0.10, 12, "stat"),
    ("ips", "no_psych_admission", 20_000, 90_000, 0.80, 12, "region"),
    ("sel82_group", "no_escalation_24m", 40_000, 40_000, 0.90, 24, "kommune"),
    ("flexstoette", "no_escalation_24m", 150_000, 180_000, 0.85, 24, "kommune"),
    ("flexstoette", "no_psych_admission", 30_000, 180_000, 0.80, 12, "region"),
    ("housing_first", "no_escalation_24m", 120_000, 200_000, 0.80, 24, "kommune"),
    ("housing_first", "employed", 60_000, 200_000, 0.10, 12, "stat"),
    ("housing_first", "no_psych_admission", 30_000, 200_000, 0.80, 12, "region"),
)


def offer_years(muni, seed: int) -> np.ndarray:
    """First year each municipality offers each intervention; shape (municipalities, interventions), inf = never.

    Municipalities are drawn with weights ``sqrt(population) * (3 if recovery-oriented else 1)``.
    """
    rng = generator(seed, "interventions")
    out = np.full((len(muni.codes), len(INTERVENTIONS)), np.inf)
    weights = np.sqrt(muni.pop_2022) * np.where(np.isnan(muni.recovery_start_year), 1.0, 3.0)
    for k, spec in enumerate(INTERVENTIONS):
        chosen = rng.choice(len(muni.codes), size=spec.n_municipalities, replace=False, p=weights / weights.sum())
        out[np.sort(chosen), k] = rng.integers(spec.offer_years[0], spec.offer_years[1] + 1,
                                               size=spec.n_municipalities)
    return out


def interventions_table(price_year: int) -> pd.DataFrame:
    """The ``interventions`` table."""
    return pd.DataFrame({
        "intervention": pd.array([s.code for s in INTERVENTIONS], dtype="str"),
        "name": pd.array([s.name for s in INTERVENTIONS], dtype="str"),
        "target_group": pd.array([s.target_group for s in INTERVENTIONS], dtype="str"),
        "cost_per_participant_dkk": np.array([s.cost_dkk for s in INTERVENTIONS], dtype=float),
        "price_year": np.int64(price_year),
        "description": pd.array([s.description for s in INTERVENTIONS], dtype="str"),
    })


def rate_card_table(price_year: int) -> pd.DataFrame:
    """The ``rate_card`` table (illustrative prices, caps and counterfactual rates)."""
    cols = list(zip(*RATE_CARD))
    return pd.DataFrame({
        "intervention": pd.array(cols[0], dtype="str"), "outcome": pd.array(cols[1], dtype="str"),
        "price_dkk": np.array(cols[2], dtype=float), "cap_dkk": np.array(cols[3], dtype=float),
        "counterfactual_rate": np.array(cols[4], dtype=float), "window_months": np.array(cols[5], dtype=np.int64),
        "price_year": np.int64(price_year), "gain_payer": pd.array(cols[6], dtype="str"),
    })


def participations_table(enrolments: dict, pop, muni, person_ids: np.ndarray, t_extract: float) -> pd.DataFrame:
    """The ``participations`` table from the simulated enrolments.

    A participation ends after the intervention's duration, at death or emigration; it is open
    (``end_date`` missing) when that is after the extract date.
    """
    idx, k, t, m = enrolments["person"], enrolments["intervention"], enrolments["t"], enrolments["municipality"]
    duration = np.array([s.duration_years for s in INTERVENTIONS])[k]
    end = np.minimum(t + duration, np.minimum(pop.death_t[idx], pop.emig_t[idx]))
    end_day = day_number(end)
    frame = pd.DataFrame({
        "person_id": person_ids[idx].astype(np.int64),
        "intervention": strings(k, [s.code for s in INTERVENTIONS]),
        "municipality": muni.codes[m].astype(np.int64),
        "start_date": to_datetime(day_number(t)),
        "end_date": pd.Series(to_datetime(end_day)).where(end <= t_extract).to_numpy(),
    })
    return frame.sort_values(["person_id", "start_date"]).reset_index(drop=True)


def truth() -> dict:
    """Specifications and uptake model of the interventions."""
    return {"uptake_log_hr": UPTAKE, "specs": {s.code: asdict(s) for s in INTERVENTIONS},
            "rate_card_columns": ["intervention", "outcome", "price_dkk", "cap_dkk", "counterfactual_rate",
                                  "window_months", "gain_payer"],
            "rate_card": [list(r) for r in RATE_CARD]}


def escalated(segments: dict, person: np.ndarray, t_enrol: np.ndarray, levels: np.ndarray,
              horizon_years: float = 2.0) -> np.ndarray:
    """Whether each person reached a higher step than at ``t_enrol`` within ``horizon_years`` after it."""
    seg = pd.DataFrame({"person": segments["person"], "start": segments["start"], "end": segments["end"],
                        "level": levels[segments["state"]]})
    who = pd.DataFrame({"person": person, "t": t_enrol, "row": np.arange(len(person))})
    m = seg.merge(who, on="person")
    at_enrol = m[(m["start"] <= m["t"]) & (m["end"] > m["t"])].groupby("row")["level"].max()
    m["level0"] = at_enrol.reindex(m["row"]).to_numpy()
    up = m[(m["start"] > m["t"]) & (m["start"] <= m["t"] + horizon_years) & (m["level"] > m["level0"])]
    return np.isin(np.arange(len(person)), up["row"].unique())


def true_effects(participants: dict, y1: dict, y0: dict, esc1: np.ndarray, esc0: np.ndarray,
                 severity: np.ndarray) -> dict:
    """True ATTs per intervention and outcome: means over participants of Y(1) - Y(0).

    Parameters
    ----------
    participants : dict
        ``intervention`` index per participant and ``followup`` (bool: the year after the enrolment
        year is in the data) and ``escalation_followup`` (24 months after enrolment are in the data).
    y1, y0 : dict of ndarray
        Outcomes of the year after the enrolment year, observed and untreated (NaN without follow-up).
    esc1, esc0 : ndarray of bool
        Step escalation within 24 months, observed and untreated.
    severity : ndarray
        Severity per participant.
    """
    outcomes = {
        "employment_weeks": (y1["employment_weeks"], y0["employment_weeks"], "followup"),
        "employed": (y1["employment_weeks"] > 0, y0["employment_weeks"] > 0, "followup"),
        "psych_inpatient_days": (y1["psych_inpatient_days"], y0["psych_inpatient_days"], "followup"),
        "psych_admission": (y1["psych_inpatient_days"] > 0, y0["psych_inpatient_days"] > 0, "followup"),
        "no_psych_admission": (y1["psych_inpatient_days"] == 0, y0["psych_inpatient_days"] == 0, "followup"),
        "escalation_24m": (esc1, esc0, "escalation_followup"),
        "no_escalation_24m": (~esc1, ~esc0, "escalation_followup"),
    }
    out = {}
    for k, spec in enumerate(INTERVENTIONS):
        mine = participants["intervention"] == k
        entry = {"n_participants": int(mine.sum()), "outcomes": {}}
        for name, (a, b, window) in outcomes.items():
            sel = mine & participants[window]
            diff = a[sel].astype(float) - b[sel].astype(float)
            entry["outcomes"][name] = {
                "n": int(sel.sum()), "att": float(diff.mean()) if sel.any() else None,
                "mean_y1": float(a[sel].astype(float).mean()) if sel.any() else None,
                "mean_y0": float(b[sel].astype(float).mean()) if sel.any() else None,
                "att_by_severity": {int(s): float(diff[severity[sel] == s].mean())
                                    for s in (1, 2, 3) if (severity[sel] == s).any()},
            }
        out[spec.code] = entry
    out["outcome_definitions"] = {
        "employment_weeks": "employment weeks in the calendar year after the enrolment year",
        "employed": "employment_weeks > 0 in that year",
        "psych_inpatient_days": "psychiatric inpatient days in that year",
        "psych_admission": "psych_inpatient_days > 0 in that year",
        "no_psych_admission": "psych_inpatient_days == 0 in that year",
        "escalation_24m": "a higher step than at enrolment within 24 months (true steps)",
        "no_escalation_24m": "no higher step within 24 months",
        "population": "participants in the data whose follow-up lies within the window",
    }
    return out
