"""Assemble the synthetic Denmark: every table of the contract plus the truth."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import assessments, interventions, municipalities, outcomes, persons, process, spells, truth
from ._calendar import calendar_year, day_number, to_datetime, year_start
from ._columns import strings

GENERATOR_VERSION = "1.0"


@dataclass
class SyntheticData:
    """Generated tables (keyed by contract name) and the truth that generated them.

    Attributes
    ----------
    tables : dict of str to DataFrame
        One DataFrame per table of :data:`progression.schemas.SCHEMAS`.
    truth : dict
        Every generating parameter and the realised calibration figures (JSON-serialisable).
    """

    tables: dict[str, pd.DataFrame]
    truth: dict = field(default_factory=dict)

    def write(self, out_dir: str | Path) -> Path:
        """Write ``<table>.parquet`` for each table and ``truth.json``; same data give identical bytes.

        Returns
        -------
        Path
            The output folder.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables.items():
            table = pa.Table.from_pandas(frame, preserve_index=False)
            pq.write_table(table, out / f"{name}.parquet", compression="zstd")
        (out / "truth.json").write_text(truth.dumps(self.truth), encoding="utf-8")
        return out


def _persons_table(pop, keep, person_ids, muni, t_extract) -> pd.DataFrame:
    idx = np.flatnonzero(keep)
    died = (pop.death_t[idx] <= pop.emig_t[idx]) & (pop.death_t[idx] < t_extract)
    emigrated = (pop.emig_t[idx] < pop.death_t[idx]) & (pop.emig_t[idx] < t_extract)
    return pd.DataFrame({
        "person_id": person_ids[idx].astype(np.int64),
        "birth_year": calendar_year(pop.birth_t[idx]).astype(np.int64),
        "sex": strings(pop.male[idx].astype(np.int32), ["K", "M"]),
        "target_group": strings(pop.group[idx], persons.GROUPS),
        "severity": pop.severity[idx].astype(np.int64),
        "municipality": muni.codes[pop.muni0[idx]].astype(np.int64),
        "childhood_services": pop.childhood[idx].astype(bool),
        "death_date": pd.Series(to_datetime(day_number(pop.death_t[idx]))).where(died).to_numpy(),
        "emigration_date": pd.Series(to_datetime(day_number(pop.emig_t[idx]))).where(emigrated).to_numpy(),
    })


def _residence(pop, index, t_end: np.ndarray) -> np.ndarray:
    """Municipality index of residence at the end of each person-year (or at death/emigration)."""
    when = np.minimum(year_start(index.year + 1), t_end[index.person]) - 1e-7
    owner = np.repeat(np.arange(pop.n), np.diff(pop.move_offsets))
    span = 1000.0
    key = owner * span + pop.move_t
    pos = np.searchsorted(key, index.person * span + when, side="right")
    count = pos - pop.move_offsets[index.person]
    return np.where(count > 0, pop.move_to[np.maximum(pos - 1, 0)], pop.muni0[index.person])


def _potential_outcomes(pop, ctx, paths, keep, first_service, t_end, treatment, params, seed, levels) -> dict:
    """True ATTs of the interventions from observed and untreated potential paths of the participants."""
    enr = paths["enrolments"]
    in_data = keep[enr["person"]]
    part, k, te = enr["person"][in_data], enr["intervention"][in_data], enr["t"][in_data]
    order = np.argsort(part)
    part, k, te = part[order], k[order], te[order]
    untreated = process.simulate_paths(pop, ctx, seed=seed, persons=part, effects=False)
    index = outcomes.build_index(part, first_service[part], t_end[part], params, pop.n)
    potential = {}
    for label, segs, effects in (("y1", paths["segments"], True), ("y0", untreated["segments"], False)):
        occupancy = index.exposure(segs["person"], segs["start"], segs["end"], segs["state"].astype(np.int64), 7)
        potential[label] = outcomes.draw_outcomes(index, occupancy, pop, treatment, seed=seed, t_end=t_end,
                                                  effects=effects)
    follow_year = calendar_year(te) + 1
    pos = index.position[part]
    row = index.offset[pos] + follow_year - index.first_year[pos]
    followup = (follow_year <= params.end_year) & (row < index.offset[pos + 1])
    row = np.where(followup, row, 0)
    y = {lab: {name: np.where(followup, v[row], np.nan) for name, v in potential[lab].items()} for lab in potential}
    esc1 = interventions.escalated(paths["segments"], part, te, levels)
    esc0 = interventions.escalated(untreated["segments"], part, te, levels)
    info = {"intervention": k, "followup": followup, "escalation_followup": te + 2.0 <= ctx.t_extract}
    return interventions.true_effects(info, y["y1"], y["y0"], esc1, esc0, pop.severity[part])


def generate(params, staircase, *, seed: int) -> SyntheticData:
    """Generate a synthetic Denmark with known truth.

    Parameters
    ----------
    params : SyntheticParams
        Scale, years and calibration knobs (``progression.config.SyntheticParams``).
    staircase : StaircaseParams
        Steps and paragraph map; decides which transitions are step-ups and step-downs.
    seed : int
        Master seed; the same seed and parameters give identical tables.

    Returns
    -------
    SyntheticData
        ``tables`` (every contract table) and ``truth``.
    """
    seed = int(seed)
    muni = municipalities.draw_municipalities(params, seed)
    years_df = municipalities.municipality_years(muni, params, seed)
    accounts, spending_truth = municipalities.municipal_accounts(muni, years_df, params, seed)

    t_window = spells.window_start(params)
    t_extract = float(year_start([params.end_year + 1])[0])
    t_burn = float(year_start([params.start_year - params.burn_in_years])[0])
    pop = persons.draw_population(params, muni, t_burn_in=t_burn, t_extract=t_extract, seed=seed)
    offers = interventions.offer_years(muni, seed)
    ctx = process.build_context(params, staircase, muni, offers, t_extract=t_extract,
                                first_year=params.start_year - params.burn_in_years)
    paths = process.simulate_paths(pop, ctx, seed=seed)
    seg = paths["segments"]

    on_step = (seg["state"] >= 1) & (seg["state"] <= 5)
    keep = np.zeros(pop.n, bool)
    keep[seg["person"][on_step & (seg["end"] >= t_window)]] = True
    person_ids = np.zeros(pop.n, np.int64)
    person_ids[keep] = np.arange(1, keep.sum() + 1)
    first_service = np.full(pop.n, np.inf)
    np.minimum.at(first_service, seg["person"][on_step], seg["start"][on_step])
    t_end = np.minimum(np.minimum(pop.death_t, pop.emig_t), t_extract)

    episodes = spells.true_episodes(seg, pop, seed)
    spell_table, quirks = spells.recorded_spells(episodes, person_ids, muni.codes, params, t_window=t_window, seed=seed)

    enr = paths["enrolments"]
    enrol_keep = keep[enr["person"]]
    enrolments = {k: v[enrol_keep] for k, v in enr.items()}
    treatment = {"intervention": np.full(pop.n, -1, np.int64), "year": np.full(pop.n, 10_000, np.int64)}
    treatment["intervention"][enrolments["person"]] = enrolments["intervention"]
    treatment["year"][enrolments["person"]] = calendar_year(enrolments["t"])

    index = outcomes.build_index(np.flatnonzero(keep), first_service[keep], t_end[keep], params, pop.n)
    occupancy = index.exposure(seg["person"], seg["start"], seg["end"], seg["state"].astype(np.int64), 7)
    drawn = outcomes.draw_outcomes(index, occupancy, pop, treatment, seed=seed, t_end=t_end)
    del occupancy
    exposure = index.exposure(episodes["person"].to_numpy(), episodes["start"].to_numpy(),
                              episodes["end"].to_numpy(), episodes["code"].to_numpy(), len(spells.PARAGRAPH_CODES))
    del episodes
    costs = outcomes.person_year_costs_table(index, exposure, drawn, pop, enrolments, person_ids,
                                             params.cost_price_year)
    del exposure
    person_years = outcomes.person_years_table(index, drawn, _residence(pop, index, t_end), person_ids, muni.codes)
    del drawn, index
    assessment_table, scores = assessments.generate(seg, keep, pop, muni, person_ids, first_service, seed=seed)

    tables = {
        "municipalities": municipalities.municipalities_table(muni),
        "municipality_years": years_df,
        "municipal_accounts": accounts,
        "persons": _persons_table(pop, keep, person_ids, muni, t_extract),
        "spells": spell_table,
        "moves": spells.moves_table(pop, person_ids, muni.codes, t_window=t_window),
        "assessments": assessment_table,
        "person_years": person_years,
        "person_year_costs": costs,
        "unit_costs": outcomes.unit_costs_table(params.cost_price_year),
        "interventions": interventions.interventions_table(params.cost_price_year),
        "participations": interventions.participations_table(enrolments, pop, muni, person_ids, t_extract),
        "rate_card": interventions.rate_card_table(params.cost_price_year),
    }
    effects = _potential_outcomes(pop, ctx, paths, keep, first_service, t_end, treatment, params, seed, ctx.levels)
    truth_dict = {
        "generator_version": GENERATOR_VERSION, "seed": seed,
        "params": params.model_dump(mode="json"), "staircase": staircase.model_dump(mode="json"),
        "time": {"burn_in_start": params.start_year - params.burn_in_years, "window": [params.start_year,
                 params.end_year], "extract_date": f"{params.end_year}-12-31", "days_per_year": 365.25},
        "price_years": {"municipal_accounts": params.spending_price_year, "costs": params.cost_price_year},
        "municipalities": {
            "criteria_level_loading_idio_sd_log_trend": {k: list(v) for k, v in municipalities.CRITERIA.items()},
            "criteria_year_sd": municipalities.CRITERIA_YEAR_SD,
            "population": municipalities.POPULATION, "function_split": municipalities.FUNCTION_SPLIT,
            "socioeconomic_index": dict(zip(muni.codes.tolist(), muni.socioeconomic_index)),
            "practice_adults": dict(zip(muni.codes.tolist(), muni.practice)),
            "practice_children": dict(zip(muni.codes.tolist(), muni.practice_children)),
            "child_adult_practice_corr": municipalities.CHILD_ADULT_PRACTICE_CORR,
            "case_municipalities": list(municipalities.CASE_MUNICIPALITIES),
        },
        "spending": spending_truth,
        "persons": persons.truth(params),
        "process": process.truth(params, staircase, ctx),
        "spells": {**spells.truth(params), "realised": quirks},
        "assessments": {**assessments.truth(), "realised": assessments.change_truth(scores),
                        "vum_levels": assessments.vum_level_truth(scores)},
        "outcomes": outcomes.truth(),
        "interventions": {**interventions.truth(), "offers": {
            spec.code: {str(c): int(y) for c, y in zip(muni.codes, offers[:, k]) if np.isfinite(y)}
            for k, spec in enumerate(interventions.INTERVENTIONS)}, "true_effects": effects},
        "calibration": {"targets": truth.TARGETS, "realised": truth.realised(tables, staircase, spending_truth)},
    }
    return SyntheticData(tables=tables, truth=truth.to_jsonable(truth_dict))
