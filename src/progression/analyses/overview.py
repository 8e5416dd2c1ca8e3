"""The steps of the data notebook (``00_data``): hand the validated tables over, and describe them in
aggregates beside the figures Social- og Boligstyrelsen (2024) published.

Each step returns a tidy table carrying its disclosure declaration (:mod:`progression.disclosure`).
On the bundled synthetic data the published figures are **calibration targets**: the generator was
tuned to them, so a synthetic result beside them shows that it hit its targets, not that anything was
reproduced (:func:`progression.transitions.published.reference_role`).

Examples
--------
>>> from progression.datasets import load_example
>>> table = persons_by_target_group(load_example("persons"))
>>> list(table.columns)
['target_group', 'sex', 'n_persons']
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from progression._tidy import stream_seed
from progression.disclosure import declare
from progression.panel import data_panel
from progression.staircase import as_staircase
from progression.transitions import CohortFlow, label_municipalities
from progression.transitions.published import PUBLISHED_FLOW_FROM_SEL85, PUBLISHED_SERVICE_SHARES, REPORT_GROUPING

__all__ = ["PUBLISHED_YEAR", "save_inputs", "yearly_panel", "persons_by_target_group", "persons_by_paragraph",
           "spells_in_year", "service_shares", "cohort_flow_by_set"]

#: The year of the published shares of the target group by service.
PUBLISHED_YEAR = 2022


def save_inputs(tables: Mapping[str, pd.DataFrame], truth: Mapping | None, data_dir: str | Path) -> pd.DataFrame:
    """Write the validated input tables (Parquet) and the synthetic truth (JSON) to the run's data folder.

    The data folder never leaves the research server.

    Returns
    -------
    DataFrame
        ``table`` and ``rows``, for display (not a result: the tables describe persons).
    """
    data_dir = Path(data_dir)
    for name, frame in tables.items():
        frame.to_parquet(data_dir / f"{name}.parquet", index=False)
    if truth is not None:
        (data_dir / "truth.json").write_text(json.dumps(truth, indent=2, sort_keys=True))
    return pd.DataFrame({"table": list(tables), "rows": [len(frame) for frame in tables.values()]})


def yearly_panel(data_dir: str | Path, *, start: int, end: int, staircase=None) -> pd.DataFrame:
    """Build the yearly person-period panel the later notebooks share (:func:`progression.panel.data_panel`)."""
    return data_panel(data_dir, period="year", start=start, end=end, staircase=staircase)


def persons_by_target_group(persons: pd.DataFrame) -> pd.DataFrame:
    """Persons by target group and sex (counts adding up to all persons)."""
    out = persons.groupby(["target_group", "sex"]).size().rename("n_persons").reset_index()
    return declare(out, counts=["n_persons"], margins={"n_persons": []})


def persons_by_paragraph(spells: pd.DataFrame) -> pd.DataFrame:
    """Persons with at least one spell, by service paragraph (a person can hold several)."""
    out = spells.groupby("paragraph")["person_id"].nunique().rename("n_persons").reset_index().sort_values("paragraph")
    return declare(out, counts=["n_persons"])


def spells_in_year(spells: pd.DataFrame, year: int) -> pd.DataFrame:
    """Spells that overlap calendar year ``year`` (open spells run on)."""
    first, last = pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year, month=12, day=31)
    overlaps = (spells["start_date"] <= last) & (spells["end_date"].isna() | (spells["end_date"] >= first))
    return spells[overlaps]


def service_shares(spells: pd.DataFrame, *, year: int | None = None, staircase=None) -> pd.DataFrame:
    """Persons holding each step's services during ``year``, as counts and shares, beside the published shares.

    The denominator is everyone holding any service on the staircase during the year; a person
    holding several steps counts on each (as in Social- og Boligstyrelsen 2024, Figure 4), so shares
    can sum above 1.

    Parameters
    ----------
    spells : DataFrame
        Table ``spells``.
    year : int, optional
        Default: the last year the spells start in, at most :data:`PUBLISHED_YEAR`.

    Returns
    -------
    DataFrame
        ``step``, ``label``, ``n_persons``, ``n_target_group`` (counts), ``share`` (resting on both),
        ``published_share`` (public) and ``year`` (a label).
    """
    stairs = as_staircase(staircase)
    year = int(min(PUBLISHED_YEAR, spells["start_date"].dt.year.max())) if year is None else year
    held = spells_in_year(spells, year)
    step = held["paragraph"].map(stairs.step_of)
    held = held.assign(step=step).dropna(subset=["step"])
    total = held["person_id"].nunique()
    steps = list(stairs.service_steps)
    n = held.groupby("step")["person_id"].nunique().reindex(steps, fill_value=0)
    labels = stairs.labels("en")
    out = pd.DataFrame({"step": steps, "label": [labels[s] for s in steps], "n_persons": n.to_numpy(),
                        "n_target_group": total})
    out["share"] = out["n_persons"] / total if total else float("nan")
    out["published_share"] = out["step"].map(PUBLISHED_SERVICE_SHARES)
    out["year"] = year
    return declare(out, counts=["n_persons", "n_target_group"], stats={"share": ["n_persons", "n_target_group"]},
                   safe=["published_share"], labels=["year"])


def cohort_flow_by_set(panel: pd.DataFrame, *, from_step: str, start: int, stop: int,
                       sets: Mapping[str, Sequence[int]], n_boot: int, seed: int, staircase=None) -> pd.DataFrame:
    """A cohort flow nationally and per municipality set, beside the published shares.

    Destinations are grouped as in the report (:data:`progression.transitions.published.REPORT_GROUPING`):
    no service or a lower step, the same step, a higher step; deaths, emigrations and moves are left
    out of the denominator. The bootstrap draws from the random stream ``overview.flow`` of the run's
    ``seed``.

    Returns
    -------
    DataFrame
        ``group`` ("national", then each set name and "rest"), ``category``, ``n``, ``n_cohort``,
        ``share`` (with ``conf_low``/``conf_high`` when ``n_boot > 0``) and ``published_share``;
        declared (counts, shares resting on them, categories adding up within a group, the
        published shares public).
    """
    labelled = panel.assign(group=label_municipalities(panel["municipality"], dict(sets), other="rest"))

    def fit(groups):
        flow = CohortFlow(from_step=from_step, start=start, stop=stop, relabel=REPORT_GROUPING,
                          n_boot=n_boot, seed=stream_seed(seed, "overview.flow"), staircase=staircase).fit(
            labelled, groups=groups)
        return flow.summary()

    out = pd.concat([fit([]).assign(group="national"), fit(["group"])], ignore_index=True)
    out["group"] = out["group"].astype(str)
    out["category"] = out["category"].astype(str)
    published = PUBLISHED_FLOW_FROM_SEL85.replace({"group": {"case municipalities": "case"}})
    out = out.merge(published[["group", "category", "share"]].rename(columns={"share": "published_share"}),
                    on=["group", "category"], how="left")
    columns = ["group", "category", "n", "n_cohort", "share", "conf_low", "conf_high", "published_share"]
    out = out[[c for c in columns if c in out.columns]]
    return declare(out, counts=["n", "n_cohort"],
                   stats={c: ["n", "n_cohort"] for c in ("share", "conf_low", "conf_high") if c in out},
                   margins={"n": ["group"]}, safe=["published_share"])
