"""Sections of the analysis notebooks. Each analysis owns its section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import Section


class ProgressionParams(Section):
    """10_progression: instruments, pairing windows, reliable change."""

    instruments: list[str] = Field(default_factory=lambda: ["VUM", "WHO5", "INSPIRE_O", "QPR15"])
    followup_months: int = Field(12, gt=0, le=120, description="target time from baseline to follow-up")
    window_months: int = Field(3, ge=0, le=24, description="tolerance around the follow-up target")
    rci_threshold: float = Field(1.96, gt=0, description="|RCI| above this is reliable change")
    group_by: list[str] = Field(default_factory=lambda: ["target_group"])


class TransitionsParams(Section):
    """20_transitions: panels, matrices, bootstrap, multi-state model, projections."""

    period: Literal["month", "quarter", "year"] = "year"
    start_year: int = Field(2014, ge=2000, le=2100)
    end_year: int = Field(2024, ge=2000, le=2100)
    bootstrap_reps: int = Field(1000, ge=0, le=100_000, description="citizen-level bootstrap replicates")
    flow_from_step: str = Field("SEL85", description="step of the cohort flow figure")
    flow_years: tuple[int, int] = Field((2020, 2022), description="cohort flow from year to year")
    case_municipalities: list[int] = Field(default_factory=lambda: [265, 169, 657, 751])
    ctmc_covariates: list[str] = Field(default_factory=lambda: ["age", "severity", "recovery_oriented"])
    projection_years: int = Field(5, ge=1, le=30)
    stepdown_scenario: float = Field(1.2, gt=0, description="multiplier on step-down intensities in the scenario")


class VariationParams(Section):
    """30_spending_variation: outcome, criteria, year."""

    year: int = Field(2022, ge=2000, le=2100)
    adult_functions: list[str] = Field(default_factory=lambda: ["53850", "53851", "53852", "53838"])
    child_functions: list[str] = Field(default_factory=lambda: ["52800"])
    criteria: list[str] = Field(default_factory=lambda: [
        "share_no_employment_20_59", "share_no_vocational_25_49", "share_cheap_rentals",
        "share_psychiatric_patients", "share_social_family_housing", "share_children_low_education",
        "share_single_65plus", "share_low_income", "share_handicap_diagnoses",
    ])
    weights: Literal["none", "population"] = "population"
    bootstrap_reps: int = Field(500, ge=0, le=100_000)
    cv_folds: int = Field(10, ge=2, le=98)


class FundParams(Section):
    """40_fund_evaluation: effects, economics, the fund simulation."""

    horizon_years: int = Field(10, ge=1, le=100)
    discount_profile: Literal["fm2021", "fm2013", "flat5"] = "fm2021"
    price_year: int = Field(2024, ge=1990, le=2100)
    n_draws: int = Field(10_000, ge=10, le=1_000_000)
    neutrality_probability: float = Field(0.8, gt=0, lt=1, description="target probability of budget neutrality")
