"""Spending variation between municipalities: how much do objective criteria explain?

The outcome is net operating expenditure per inhabitant of the relevant age (adults: function 5.38 per
18–66-year-old; children: 5.28 per 0–22-year-old), the explanatory variables are the socioeconomic
criteria of the equalisation law, as shares. Finansministeriet, Indenrigs- og Socialministeriet & KL
(2009), *Det specialiserede socialområde – redskaber til styring og prioritering*, afsnit 2, reports that
they explain about 40 % of the variation for adults and just under half for children.

Modules: :mod:`~progression.variation.model` (OLS/WLS, fit statistics, influence, benchmarks, funnel),
:mod:`~progression.variation.shapley` (Shapley/LMG decomposition of R²), :mod:`~progression.variation.panel`
(between/within, random-intercept ICC), :mod:`~progression.variation.descriptive` (spending per
inhabitant, the report's summary numbers, recipients × unit cost). The notebook's steps are in
:mod:`progression.analyses.variation`, the figures in :mod:`progression.plots.variation`.

Examples
--------
>>> from progression.variation import SEED004_REPORTED
>>> SEED004_REPORTED["adults"]["weighted_mean"]
7776.0
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
from progression.variation.model import SPECIAL_MUNICIPALITIES, SpendingVariationModel
from progression.variation.panel import RandomInterceptDecomposition, between_within
from progression.variation.shapley import shapley_r2, shapley_r2_bootstrap, subset_r2

__all__ = [
    "SEED004_ADULTS",
    "SEED004_CHILDREN",
    "SEED004_REPORTED",
    "SPECIAL_MUNICIPALITIES",
    "RandomInterceptDecomposition",
    "SpendingVariationModel",
    "between_within",
    "describe_spending",
    "per_capita_spending",
    "register_recipients",
    "shapley_r2",
    "shapley_r2_bootstrap",
    "spending_panel",
    "subset_r2",
    "unit_cost_decomposition",
    "unit_cost_variance_shares",
]
