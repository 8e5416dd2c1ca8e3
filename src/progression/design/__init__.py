"""Designing the fund's pilot: power, minimum detectable effects, and payment rules that hold at small volumes.

- Closed forms (:mod:`~progression.design.closed_forms`): :func:`cluster_mde`, :func:`cluster_power`,
  :func:`clusters_needed`, :func:`persons_needed` for two-arm cluster trials; :func:`stepped_wedge_mde`,
  :func:`stepped_wedge_power`, :func:`stepped_wedge_clusters_needed`, :func:`stepped_wedge_persons_needed`
  for the cross-sectional stepped wedge of Hussey & Hughes (2007); :func:`gls_effect_variance` for any
  design (GLS or two-way fixed effects), the independent check of the closed forms.
- Inputs from data (:mod:`~progression.design.estimates`): :func:`binary_outcomes`, :func:`anova_icc`,
  :func:`design_inputs`.
- Simulation (:mod:`~progression.design.simulate`): :class:`PilotScenario`, :func:`simulate_pilots`
  (the project's TWFE and Callaway–Sant'Anna estimators, GLS, cluster means; joblib, named streams).
- The planner (:mod:`~progression.design.planner`): :func:`mde_grid`, :func:`power_curves`,
  :func:`pilot_plan`, :func:`resource_shift`.
- Payment rules (:mod:`~progression.design.payment_rules`): :class:`RateCardRule`,
  :class:`MinimumVolume`, :class:`Pooled`, :class:`Credibility`, :class:`Capped`,
  :func:`evaluate_rules`, :func:`admissions_bonus`.

All effects are on the outcome's scale; with ``sd=1`` the closed forms work in standard deviations.
The test level is ``1 − cl`` (the library's confidence-level vocabulary; ``cl=0.95`` is α = 0.05).
"""

from progression.design.closed_forms import (
    cluster_mde,
    cluster_power,
    cluster_variance,
    clusters_needed,
    design_effect,
    gls_effect_variance,
    mde_from_se,
    parallel_design,
    persons_needed,
    power_from_se,
    staggered_design,
    stepped_wedge_clusters_needed,
    stepped_wedge_design,
    stepped_wedge_mde,
    stepped_wedge_persons_needed,
    stepped_wedge_power,
    stepped_wedge_variance,
)
from progression.design.estimates import OUTCOME_RULES, anova_icc, binary_outcomes, design_inputs
from progression.design.payment_rules import (
    Capped,
    Credibility,
    MinimumVolume,
    PaymentRule,
    Pooled,
    RateCardRule,
    admissions_bonus,
    evaluate_rules,
)
from progression.design.planner import DESIGNS, mde_grid, pilot_plan, power_curves, resource_shift, size_profile
from progression.design.simulate import ESTIMATORS, PilotScenario, PilotSimulation, randomised_waves, simulate_pilots

__all__ = [
    "DESIGNS", "ESTIMATORS", "OUTCOME_RULES",
    "cluster_mde", "cluster_power", "cluster_variance", "clusters_needed", "design_effect", "persons_needed",
    "stepped_wedge_design", "parallel_design", "staggered_design", "stepped_wedge_variance", "stepped_wedge_mde",
    "stepped_wedge_power", "stepped_wedge_clusters_needed", "stepped_wedge_persons_needed",
    "gls_effect_variance", "power_from_se", "mde_from_se",
    "binary_outcomes", "anova_icc", "design_inputs",
    "PilotScenario", "PilotSimulation", "simulate_pilots", "randomised_waves",
    "mde_grid", "power_curves", "pilot_plan", "resource_shift", "size_profile",
    "PaymentRule", "RateCardRule", "MinimumVolume", "Pooled", "Credibility", "Capped", "evaluate_rules",
    "admissions_bonus",
]
