"""Spending variation between municipalities: how much do objective criteria explain?

The outcome is net operating expenditure per inhabitant of the relevant age (adults: function 5.38 per
18–66-year-old; children: 5.28 per 0–22-year-old), the explanatory variables are the socioeconomic
criteria of the equalisation law, as shares. Seed 004 (Finansministeriet 2009) reports that they explain
about 40 % of the variation for adults and just under half for children.

Modules: :mod:`~progression.variation.model` (OLS/WLS, fit statistics, influence, benchmarks),
:mod:`~progression.variation.shapley` (Shapley/LMG decomposition of R²), :mod:`~progression.variation.panel`
(between/within, random-intercept ICC), :mod:`~progression.variation.descriptive` (spending per
inhabitant, seed 004's summary numbers, recipients × unit cost). Figures: :mod:`progression.plots.variation`.
"""

from progression.variation.descriptive import (
    SEED004_ADULTS,
    SEED004_CHILDREN,
    SEED004_REPORTED,
    describe_spending,
    per_capita_spending,
    register_recipients,
    spending_panel,
    unit_cost_decomposition,
    unit_cost_variance_shares,
)
from progression.variation.model import SPECIAL_MUNICIPALITIES, FunnelData, SpendingVariationModel
from progression.variation.panel import RandomInterceptDecomposition, between_within, random_intercept_icc
from progression.variation.shapley import shapley_r2, shapley_r2_bootstrap, subset_r2

__all__ = [
    "SEED004_ADULTS",
    "SEED004_CHILDREN",
    "SEED004_REPORTED",
    "SPECIAL_MUNICIPALITIES",
    "FunnelData",
    "RandomInterceptDecomposition",
    "SpendingVariationModel",
    "between_within",
    "describe_spending",
    "per_capita_spending",
    "random_intercept_icc",
    "register_recipients",
    "shapley_r2",
    "shapley_r2_bootstrap",
    "spending_panel",
    "subset_r2",
    "unit_cost_decomposition",
    "unit_cost_variance_shares",
]
