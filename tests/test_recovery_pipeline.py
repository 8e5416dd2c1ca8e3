"""End to end on synthetic long-format assessments that satisfy the project's data contract."""

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import StatisticalWarning
from progression.recovery import (
    TrajectoryModel,
    change_per_citizen,
    funnel_data,
    group_shares,
    score,
    shrink_shares,
    years_since,
)


def simulate_who5(seed, n_persons=400):
    """WHO-5 items at 0, 6 and 12 months; half the citizens truly improve by 2 item points at 12 months."""
    rng = np.random.default_rng(seed)
    rows = []
    start = pd.Timestamp("2022-01-01")
    improves = rng.uniform(size=n_persons) < 0.5
    municipality = rng.choice([101, 147, 265, 657, 751], size=n_persons)
    level = rng.normal(1.8, 0.6, n_persons)
    for p in range(n_persons):
        for months, gain in ((0, 0.0), (6, 1.0 * improves[p]), (12, 2.0 * improves[p])):
            date = start + pd.Timedelta(days=int(months * 30.44) + int(rng.integers(0, 10)))
            items = np.clip(np.round(level[p] + gain + rng.normal(0, 0.5, 5)), 0, 5)
            rows += [
                {"person_id": p + 1, "assessment_date": date, "instrument": "WHO5", "item": str(i + 1), "score": float(s)}
                for i, s in enumerate(items)
            ]
    df = pd.DataFrame(rows)
    df["person_id"] = df["person_id"].astype("int64")
    persons = pd.DataFrame({"person_id": np.arange(1, n_persons + 1), "improves": improves, "municipality": municipality})
    return df, persons, start


def test_synthetic_assessments_meet_the_data_contract():
    schemas = pytest.importorskip("progression.schemas")
    df, _, _ = simulate_who5(1, n_persons=20)
    schemas.Assessments.validate(df, lazy=True)


def test_pipeline_separates_improvers_from_stable_citizens():
    df, persons, start = simulate_who5(2)
    paired = change_per_citizen(df, "WHO5", reliability=0.84)
    assert paired.attrs["n_paired"] == paired.attrs["n_baseline"] == len(persons)
    changes = paired.merge(persons, on="person_id")
    by_truth = group_shares(changes, by="improves").set_index(["improves", "change_class"])
    assert by_truth.loc[(True, "progression"), "share"] > 0.8
    assert by_truth.loc[(False, "progression"), "share"] < 0.1
    shares = group_shares(changes, by="municipality")
    prog = shares[shares["change_class"] == "progression"]
    funnel = funnel_data(prog, group_col="municipality")
    assert funnel["target"].iloc[0] == pytest.approx(changes["change_class"].eq("progression").mean())
    # municipalities do not differ in truth, so shrinkage pulls them (almost) to the pooled share
    with pytest.warns(StatisticalWarning, match="little or no between-group variation"):
        shrunk = shrink_shares(prog, group_col="municipality")
    assert np.ptp(shrunk["shrunk_share"]) < 0.5 * np.ptp(shrunk["share"])


def test_trajectory_on_scored_assessments_finds_the_improvement():
    df, persons, start = simulate_who5(3, n_persons=200)
    scored = score(df, "WHO5").merge(persons, on="person_id")
    scored["years"] = years_since(scored, pd.Series(start, index=persons["person_id"]))
    model = TrajectoryModel().fit(scored[scored["improves"]])
    slope = model.summary().set_index("term").loc["years", "estimate"]
    # items gain 2 points in one year, the raw sum about 10 (less clipping at 5), the index about 40
    assert 25 < slope < 45
