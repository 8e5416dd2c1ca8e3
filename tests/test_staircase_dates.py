"""Step on an assessment date from spells (highest step held that day) and the move between two dates."""

import pandas as pd
import pytest

from progression.config import StaircaseParams
from progression.exceptions import DataContractError
from progression.staircase import service_start, staircase_moves, steps_on_dates
from progression.staircase import Staircase


def spells_frame(rows):
    out = pd.DataFrame(rows, columns=["person_id", "paragraph", "municipality", "start_date", "end_date"])
    out["start_date"] = pd.to_datetime(out["start_date"])
    out["end_date"] = pd.to_datetime(out["end_date"])
    return out


SPELLS = spells_frame([
    (1, "SEL85", 101, "2019-01-01", "2020-06-30"),
    (1, "SEL108", 147, "2020-03-01", None),        # open spell, higher step, another municipality
    (1, "SEL103", 101, "2018-01-01", None),        # side service: never a step
    (2, "SEL107", 265, "2020-01-01", "2020-12-31"),
    (2, "SEL85", 265, "2021-01-01", "2021-12-31"),
    (3, "SEL82a", 751, "2021-05-01", "2021-05-31"),
])


def test_highest_step_held_on_the_date_with_its_municipality():
    queries = pd.DataFrame({"person_id": [1, 1, 1, 2, 2, 3, 3, 4],
                            "date": pd.to_datetime(["2019-06-01", "2020-03-01", "2021-01-01", "2020-12-31",
                                                    "2021-01-01", "2021-05-31", "2021-06-01", "2021-01-01"])})
    out = steps_on_dates(SPELLS, queries)
    assert out["step"].astype(str).tolist() == ["SEL85", "SEL108", "SEL108", "SEL107", "SEL85", "SEL82", "none",
                                                "none"]
    assert out["level"].tolist() == [2.0, 5.0, 5.0, 3.0, 2.0, 1.0, 0.0, 0.0]
    assert out["municipality"].tolist()[:6] == [101, 147, 147, 265, 265, 751]
    assert out["municipality"].iloc[6:].isna().all()
    assert out["step"].cat.ordered


def test_a_custom_staircase_decides_the_order():
    params = StaircaseParams.model_validate({"steps": [
        {"name": "none", "level": 0, "paragraphs": []},
        {"name": "home", "level": 1, "paragraphs": ["SEL85", "SEL82a"]},
        {"name": "residential", "level": 2, "paragraphs": ["SEL107", "SEL108"]},
    ]})
    stairs = Staircase.from_params(params)
    queries = pd.DataFrame({"person_id": [1, 2], "date": pd.to_datetime(["2020-04-01", "2021-06-01"])})
    out = steps_on_dates(SPELLS, queries, staircase=stairs)
    assert out["step"].astype(str).tolist() == ["residential", "home"]


def test_moves_between_baseline_and_follow_up():
    pairs = pd.DataFrame({"person_id": [1, 2, 3],
                          "baseline_date": pd.to_datetime(["2019-06-01", "2020-06-01", "2021-05-10"]),
                          "follow_up_date": pd.to_datetime(["2020-06-01", "2021-06-01", "2021-05-20"])})
    out = staircase_moves(pairs, SPELLS)
    assert out["move"].astype(str).tolist() == ["up", "down", "same"]
    assert out["step_baseline"].astype(str).tolist() == ["SEL85", "SEL107", "SEL82"]
    assert out["municipality"].tolist() == [101, 265, 751]


def test_service_start_ignores_side_services():
    start = service_start(SPELLS)
    assert start.loc[1] == pd.Timestamp("2019-01-01")
    assert start.loc[3] == pd.Timestamp("2021-05-01")


def test_unknown_paragraph_and_repeated_persons_are_named():
    bad = pd.concat([SPELLS, spells_frame([(5, "SEL999", 101, "2020-01-01", None)])])
    with pytest.raises(DataContractError, match="SEL999"):
        service_start(bad)
    pairs = pd.DataFrame({"person_id": [1, 1], "baseline_date": pd.to_datetime(["2020-01-01"] * 2),
                          "follow_up_date": pd.to_datetime(["2021-01-01"] * 2)})
    with pytest.raises(DataContractError, match="one row per 'person_id'"):
        staircase_moves(pairs, SPELLS)
