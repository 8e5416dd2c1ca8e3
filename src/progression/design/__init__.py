"""Designing the fund's pilot."""
from progression.design.closed_forms import *  # noqa: F401,F403
from progression.design.simulate import PilotScenario, PilotSimulation, simulate_pilots, randomised_waves  # noqa
from progression.design.estimates import binary_outcomes, anova_icc, design_inputs  # noqa
from progression.design.planner import mde_grid, power_curves, pilot_plan, resource_shift, size_profile  # noqa
from progression.design.payment_rules import (  # noqa
    PaymentRule, RateCardRule, MinimumVolume, Pooled, Credibility, Capped, evaluate_rules, admissions_bonus)
