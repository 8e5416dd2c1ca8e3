"""Payment models for botilbud: what each costs the municipality, and what it rewards.

Botilbud are paid by activity: a day rate (*takst*) per resident, mostly differentiated by the resident's
support need, so a provider whose resident improves (needs less support) or steps down the staircase
loses revenue (VIVE (2024), *Styringsgennemgang af socialpsykiatrien*, section 2.3.1). This package puts
numbers on that incentive and on the alternatives VIVE reviews, for a municipality or the country over a
horizon:

- Tariffs (:mod:`~progression.payment.tariffs`): :func:`tariff_table` (day rates by step and support level,
  shaped like the takster on Tilbudsportalen), :func:`support_level` (from VUM functioning levels),
  :func:`average_tariffs`, :func:`group_tariffs` (DRG-inspired) and :func:`resource_homogeneity` (how much
  of the cost variance a grouping explains); the model names :data:`MODELS`.
- Paths (:mod:`~progression.payment.paths`): :class:`StateSpace` (step × support level), the support-level
  chain from VUM reassessments (:func:`support_levels`, :func:`support_transitions`, :func:`level_mix`,
  :func:`support_matrices`), today's citizens and inflow (:func:`stock_and_inflow`), the yearly transitions
  of states (:func:`joint_matrix`), the share of a panel year spent on the step (:func:`exposure_factors`),
  :func:`project`, :func:`progression_rates`, and the counterfactuals and scenarios
  (:func:`without_progression`, :func:`scale_progression`).
- Models (:mod:`~progression.payment.models`): :class:`PaymentRules`, :class:`StateTariffs`,
  :func:`payments` (all seven models, by payer and year), :func:`path_occupancy` (one citizen's path, for
  hand checks), :func:`refusion_table`.
- Simulation (:mod:`~progression.payment.simulate`): :class:`PaymentInputs`, :class:`PaymentSimulation`
  (bootstrap bands in chunks on named streams; the progression penalty and the neutral bonus; behaviour
  scenarios; municipalities).

Money is in DKK at the tariff table's price year; a year has 365.25 days.
"""

from progression.payment.models import ITEMS, PaymentRules, StateTariffs, path_occupancy, payments, refusion_table
from progression.payment.paths import (
    StateSpace,
    exposure_factors,
    joint_matrix,
    level_mix,
    progression_rates,
    project,
    scale_progression,
    stock_and_inflow,
    support_levels,
    support_matrices,
    support_transitions,
    without_progression,
)
from progression.payment.simulate import PAYERS_OF_ITEMS, VARIANTS, PaymentInputs, PaymentSimulation
from progression.payment.tariffs import (
    MODELS,
    average_tariffs,
    group_tariffs,
    resource_homogeneity,
    support_level,
    tariff_table,
)

__all__ = [
    "MODELS", "ITEMS", "VARIANTS", "PAYERS_OF_ITEMS",
    "tariff_table", "support_level", "average_tariffs", "group_tariffs", "resource_homogeneity",
    "StateSpace", "support_levels", "support_transitions", "level_mix", "support_matrices", "stock_and_inflow",
    "exposure_factors",
    "joint_matrix", "progression_rates", "project", "without_progression", "scale_progression",
    "PaymentRules", "StateTariffs", "payments", "path_occupancy", "refusion_table",
    "PaymentInputs", "PaymentSimulation",
]
