"""Commitments, volume × unit cost, the dispositionsregnskab forecast and the budget follow-up."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.constants import DAYS_PER_MONTH, DAYS_PER_YEAR
from progression.datasets import example_truth, load_example
from progression.exceptions import DataContractError, ParameterError
from progression.steering import (
    budget_followup,
    budget_from_base,
    commitments,
    forecast_by_month,
    forecast_year,
    yearly_volume,
)

UNIT_COSTS = pd.DataFrame({"item": ["SEL85", "SEL108", "SEL82a", "psych_inpatient"],
                           "payer": ["kommune", "kommune", "kommune", "region"],
                           "unit": ["year", "month", "day", "day"],
                           "cost_dkk": [100_000.0, 75_000.0, 50.0, 5_500.0]})


@pytest.fixture
def spells() -> pd.DataFrame:
    """Three commitments with days that can be counted by hand (2024 is a leap year)."""
    return pd.DataFrame({
        "spell_id": [1, 2, 3, 4],
        "person_id": [1, 2, 3, 4],
        "paragraph": ["SEL85", "SEL108", "SEL85", "SEL110"],
        "start_date": pd.to_datetime(["2023-07-01", "2024-01-01", "2024-05-15", "2024-01-01"]),
        "end_date": pd.to_datetime([None, "2024-03-31", "2024-08-31", None]),
        "planned_end": pd.to_datetime([None, "2024-03-31", None, None]),
    })


def test_commitments_convert_prices_per_unit_to_a_day_and_name_what_they_leave_out(spells):
    priced = commitments(spells, UNIT_COSTS)
    assert priced["paragraph"].tolist() == ["SEL85", "SEL108", "SEL85"]
    assert priced["daily_price"].tolist() == pytest.approx([100_000 / DAYS_PER_YEAR, 75_000 / DAYS_PER_MONTH,
                                                            100_000 / DAYS_PER_YEAR])
    assert priced.attrs["excluded"] == {"SEL110": 1}
    own = commitments(spells.assign(takst=[10.0, 20.0, 30.0, 40.0]), price_col="takst", price_unit="week")
    assert own["daily_price"].tolist() == pytest.approx([10 / 7, 20 / 7, 30 / 7, 40 / 7])


def test_commitment_errors(spells):
    with pytest.raises(ParameterError, match="give either unit_costs"):
        commitments(spells)
    with pytest.raises(ParameterError, match=r"services \['SEL110'\] have no price per day, week, month or year"):
        commitments(spells, UNIT_COSTS, services=["SEL85", "SEL110"])
    with pytest.raises(DataContractError, match="more than one price per unit of time"):
        commitments(spells, pd.concat([UNIT_COSTS, UNIT_COSTS.iloc[:1]]))
    with pytest.raises(ParameterError, match="price_unit must be one of"):
        commitments(spells.assign(takst=1.0), price_col="takst", price_unit="fortnight")
    with pytest.raises(DataContractError, match="missing or negative price"):
        commitments(spells.assign(takst=[1.0, np.nan, 1.0, 1.0]), price_col="takst")


def test_yearly_volume_counts_days_inclusively(spells):
    priced = commitments(spells, UNIT_COSTS)
    volume = yearly_volume(priced, years=[2023, 2024], by="paragraph").set_index(["year", "paragraph"])
    sel85_days = 366 + 109  # person 1 all 2024; person 3 15 May to 31 August
    assert volume.loc[(2024, "SEL85"), "user_years"] == pytest.approx(sel85_days / DAYS_PER_YEAR)
    assert volume.loc[(2024, "SEL85"), "n_persons"] == 2
    assert volume.loc[(2024, "SEL108"), "user_years"] == pytest.approx(91 / DAYS_PER_YEAR)
    assert volume.loc[(2023, "SEL85"), "user_years"] == pytest.approx(184 / DAYS_PER_YEAR)
    assert volume.loc[(2024, "SEL85"), "unit_cost"] == pytest.approx(100_000)
    assert (2023, "SEL108") not in volume.index
    # the share of the two largest persons: both SEL85 persons make up all of it
    assert volume.loc[(2024, "SEL85"), "dominance_share"] == pytest.approx(1.0)


def test_open_spells_run_to_the_extract_date(spells):
    priced = commitments(spells, UNIT_COSTS)
    volume = yearly_volume(priced, years=[2024], by="paragraph", extract_end="2024-06-30").set_index("paragraph")
    assert volume.loc["SEL85", "user_years"] == pytest.approx((182 + 109) / DAYS_PER_YEAR)


def test_forecast_uses_only_what_is_known_at_the_end_of_the_month(spells):
    priced = commitments(spells, UNIT_COSTS)
    march = forecast_year(priced, year=2024, month=3).set_index("paragraph")
    # person 1 runs on (booked to 31 December); person 2 ended 31 March; person 3 not yet visited
    assert march.loc["SEL85", "user_years"] == pytest.approx(366 / DAYS_PER_YEAR)
    assert march.loc["SEL85", "user_years_to_date"] == pytest.approx(91 / DAYS_PER_YEAR)
    assert march.loc["SEL108", "user_years"] == pytest.approx(91 / DAYS_PER_YEAR)
    february = forecast_year(priced, year=2024, month=2).set_index("paragraph")
    # the end on 31 March is not known at the end of February: booked to 31 December
    assert february.loc["SEL108", "user_years"] == pytest.approx(366 / DAYS_PER_YEAR)
    planned = forecast_year(priced, year=2024, month=2, planned_end_col="planned_end").set_index("paragraph")
    assert planned.loc["SEL108", "user_years"] == pytest.approx(91 / DAYS_PER_YEAR)
    assert february.attrs["as_of"] == "2024-02-29"


def test_december_forecast_is_the_year(spells):
    priced = commitments(spells, UNIT_COSTS)
    december = forecast_year(priced, year=2024, month=12, by=())
    actual = yearly_volume(priced, years=[2024], by=())
    assert december["spending"].item() == pytest.approx(actual["spending"].item(), rel=1e-12)
    path = forecast_by_month(priced, year=2024, months=[1, 12])
    assert path["month"].tolist() == [1, 12]
    with pytest.raises(ParameterError, match="month must be 1 to 12"):
        forecast_year(priced, year=2024, month=13)


def test_budget_follow_up_splits_the_deviation_exactly(spells):
    priced = commitments(spells, UNIT_COSTS)
    base = yearly_volume(priced, years=[2023], by="paragraph")
    budget = budget_from_base(base, base_year=2023, volume_change=0.5, price_change=0.02)
    assert budget.loc[0, "budget"] == pytest.approx(184 / DAYS_PER_YEAR * 1.5 * 100_000 * 1.02)
    forecast = forecast_year(priced, year=2024, month=6)
    out = budget_followup(forecast, budget).set_index("paragraph")
    assert (out["deviation_volume"] + out["deviation_price"] - out["deviation"]).abs().max() < 1e-6
    # SEL108 has no budget: all of its deviation is volume
    assert out.loc["SEL108", "deviation_price"] == 0
    assert out.loc["SEL108", "deviation_volume"] == pytest.approx(out.loc["SEL108", "spending"])
    # SEL85: the price part is the assumed 2 % the unit cost did not rise
    q0, q1 = out.loc["SEL85", "budget_user_years"], out.loc["SEL85", "user_years"]
    assert out.loc["SEL85", "deviation_price"] == pytest.approx(-2_000 * (q0 + q1) / 2)
    with pytest.raises(DataContractError, match="no rows for base_year=2022"):
        budget_from_base(base, base_year=2022)
    with pytest.raises(ParameterError, match="volume_change must be a relative change above -1"):
        budget_from_base(base, base_year=2023, volume_change=-1.0)


def test_register_spending_recovers_the_generators_costs():
    """Spells × unit cost against the generator's costs of the same services (summed over payers).

    The generator costs the simulated occupancy; the register records it with a few late closures, and
    leaves out a known share of §82 spells. The same amounts must come out for the services recorded in
    full, and about 1 − the unrecorded share for §82.
    """
    truth = example_truth()
    priced = commitments(load_example("spells"), load_example("unit_costs"))
    volume = yearly_volume(priced, years=range(2012, 2025), by="paragraph")
    costs = load_example("person_year_costs")
    generated = costs[costs["year"].between(2012, 2024)].groupby(["year", "service"])["cost_dkk"].sum()
    ratio = volume.set_index(["year", "paragraph"])["spending"] / generated.rename_axis(["year", "paragraph"])
    ratio = ratio.dropna()
    full = ratio[~ratio.index.get_level_values("paragraph").str.startswith("SEL82")]
    assert (full - 1).abs().max() < 0.006
    sel82 = ratio[ratio.index.get_level_values("paragraph").str.startswith("SEL82")]
    expected = 1 - truth["params"]["sel82_unrecorded_share"]
    assert sel82.mean() == pytest.approx(expected, abs=0.03)


def test_forecast_of_the_example_year_is_close_and_converges():
    priced = commitments(load_example("spells"), load_example("unit_costs"))
    actual = yearly_volume(priced, years=[2024], by=())["spending"].item()
    path = forecast_by_month(priced, year=2024, by=())
    error = (path["spending"] / actual - 1).abs()
    assert error.iloc[-1] < 1e-12
    assert error.max() < 0.02  # the balance of new and ended commitments is small in a stable year
