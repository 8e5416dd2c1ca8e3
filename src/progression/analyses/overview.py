"""The data overview of ``00_data``: who holds which step, next to seed 002's national figures."""

from __future__ import annotations

import pandas as pd

from progression.staircase import as_staircase

#: Seed 002 (Fig. 4, 2022): share of the target group holding each service (sums to 105 %: a
#: citizen can hold several).
SEED002_SERVICE_SHARES = pd.Series(
    {"SEL82": 0.09, "SEL85": 0.59, "SEL107": 0.11, "ABL105": 0.19, "SEL108": 0.07}, name="seed002_share"
)


def spells_in_year(spells: pd.DataFrame, year: int) -> pd.DataFrame:
    """Spells that overlap calendar year ``year`` (open spells run on)."""
    first, last = pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year, month=12, day=31)
    overlaps = (spells["start_date"] <= last) & (spells["end_date"].isna() | (spells["end_date"] >= first))
    return spells[overlaps]


def service_shares(spells: pd.DataFrame, *, year: int, staircase=None) -> pd.DataFrame:
    """Persons holding each step's services during ``year``, as counts and shares.

    The denominator is everyone holding any service on the staircase during the year; a person
    holding several steps counts on each (as in seed 002, Fig. 4), so shares can sum above 1.

    Returns
    -------
    DataFrame
        ``step``, ``label``, ``n_persons``, ``n_target_group``, ``share``, ``seed002_share``.
    """
    stairs = as_staircase(staircase)
    held = spells_in_year(spells, year)
    step = held["paragraph"].map(stairs.step_of)
    held = held.assign(step=step).dropna(subset=["step"])
    total = held["person_id"].nunique()
    steps = [s for s in stairs.steps if s != stairs.none_step]
    n = held.groupby("step")["person_id"].nunique().reindex(steps, fill_value=0)
    labels = stairs.labels("en")
    out = pd.DataFrame({"step": steps, "label": [labels[s] for s in steps], "n_persons": n.to_numpy(),
                        "n_target_group": total})
    out["share"] = out["n_persons"] / total if total else float("nan")
    out["seed002_share"] = out["step"].map(SEED002_SERVICE_SHARES)
    return out


#: Seed 002's grouping of destinations: no service and a lower step together; deaths, emigrations and
#: moves are not in the report's denominator.
SEED002_RELABEL = {"none": "none_or_lower", "lower": "none_or_lower", "died": None, "emigrated": None, "moved": None}


def cohort_flow_by_set(panel: pd.DataFrame, *, from_step: str, start: int, stop: int,
                       sets: dict[str, list[int]], n_boot: int, seed: int, staircase=None) -> pd.DataFrame:
    """A cohort flow nationally and per municipality set, with seed 002's figures beside it.

    Returns
    -------
    DataFrame
        ``group`` ("national", then each set name and "rest"), ``category``, ``n``, ``n_cohort``,
        ``share`` (with ``ci_lower``/``ci_upper`` when ``n_boot > 0``) and ``seed002_share``.
    """
    from progression.transitions import SEED002_FLOW_FROM_SEL85, CohortFlow, label_municipalities

    labelled = panel.assign(group=label_municipalities(panel["municipality"], sets, other="rest"))
    def fit(groups):
        flow = CohortFlow(from_step=from_step, start=start, stop=stop, relabel=SEED002_RELABEL,
                          n_boot=n_boot, seed=seed, staircase=staircase).fit(labelled, groups=groups)
        return flow.summary
    national = fit([]).assign(group="national")
    by_set = fit(["group"])
    out = pd.concat([national, by_set], ignore_index=True)
    out["group"] = out["group"].astype(str)
    out["category"] = out["category"].astype(str)
    reference = SEED002_FLOW_FROM_SEL85.replace({"group": {"case municipalities": "case"}})
    out = out.merge(reference[["group", "category", "share"]].rename(columns={"share": "seed002_share"}),
                    on=["group", "category"], how="left")
    columns = ["group", "category", "n", "n_cohort", "share", "ci_lower", "ci_upper", "seed002_share"]
    return out[[c for c in columns if c in out.columns]]
