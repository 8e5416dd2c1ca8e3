"""The data overview: service shares per step against hand counts."""

import pandas as pd
import pytest

from progression.analyses.overview import SEED002_SERVICE_SHARES, service_shares


def test_service_shares_count_persons_on_each_step_held_in_the_year():
    spells = pd.DataFrame({
        "person_id": [1, 1, 2, 3, 4, 5],
        "paragraph": ["SEL85", "SEL108", "SEL85", "SEL82b", "SEL103", "SEL85"],
        "start_date": pd.to_datetime(["2021-01-01", "2022-06-01", "2022-12-31", "2020-01-01", "2022-01-01", "2019-01-01"]),
        "end_date": pd.to_datetime(["2022-05-31", None, None, "2022-01-01", None, "2021-12-31"]),
    })
    out = service_shares(spells, year=2022).set_index("step")
    # persons 1, 2, 3 hold a staircase service in 2022; 4 holds only a side service, 5 ended in 2021
    assert (out["n_target_group"] == 3).all()
    assert out.loc["SEL85", "n_persons"] == 2 and out.loc["SEL108", "n_persons"] == 1
    assert out.loc["SEL82", "n_persons"] == 1 and out.loc["SEL107", "n_persons"] == 0
    assert out.loc["SEL85", "share"] == pytest.approx(2 / 3)
    assert out["share"].sum() == pytest.approx(4 / 3)  # several steps per person, as in seed 002


def test_seed002_reference_sums_to_105_percent():
    assert SEED002_SERVICE_SHARES.sum() == pytest.approx(1.05)
