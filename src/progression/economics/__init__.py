"""Budget economics in the style of SØM: discounting, refusion, cash flows by payer, potentials.

SØM (*Den Socialøkonomiske Investeringsmodel*, Social- og Boligstyrelsen) is a *budget-economic*
calculation: an intervention's own cost plus the changes in public spending that follow from its
effects, year by year and by payer (kommune, region, stat), at prices after refusion. The pieces:

* :mod:`~progression.economics.discounting`: :func:`discount_factors` and :func:`present_value` with
  Finansministeriet's step profiles; :func:`price_factor` and :func:`reprice` between price years;
* :mod:`~progression.economics.refusion`: the central refusion scheme for expensive single cases
  (SEL § 176): :func:`state_refusion`, :func:`split_case_costs`, :func:`unit_costs_after_refusion` and
  the year-indexed :data:`REFUSION_THRESHOLDS`;
* :mod:`~progression.economics.budget`: :func:`budget_consequences`, effects × unit costs → yearly cash
  flows by payer and area, with the net present value, the break-even year and the wrong-pocket split
  (:class:`BudgetConsequences`);
* :mod:`~progression.economics.som`: the SØM cohorts and potentials of Social- og Boligstyrelsen (2024)
  (:func:`som_cohort`, :func:`success_potential`, :func:`success_contrast`) and :func:`effect_adjusted_potential`, which
  replaces the descriptive contrast by an effect estimate.

Money is in DKK with an explicit price year. Positive cash flows are *gains* to a public budget
(savings), negative ones are costs.

Examples
--------
>>> from progression.economics import discount_factors
>>> [round(v, 6) for v in discount_factors([10, 40, 80])]
[0.708919, 0.265136, 0.108916]
"""

from progression.economics.budget import AREAS, BudgetConsequences, area_of, budget_consequences, consequence_effects
from progression.economics.discounting import (
    DISCOUNT_PROFILES,
    discount_factors,
    present_value,
    price_factor,
    reprice,
)
from progression.economics.refusion import (
    REFUSION_THRESHOLDS,
    refusion_thresholds,
    split_case_costs,
    state_refusion,
    unit_costs_after_refusion,
)
from progression.economics.som import (
    CONTRAST_COVARIATES,
    SuccessPotential,
    effect_adjusted_potential,
    one_year_per_person,
    som_cohort,
    success_contrast,
    success_potential,
)

__all__ = [
    "DISCOUNT_PROFILES", "discount_factors", "present_value", "price_factor", "reprice",
    "REFUSION_THRESHOLDS", "refusion_thresholds", "state_refusion", "split_case_costs",
    "unit_costs_after_refusion",
    "BudgetConsequences", "budget_consequences", "consequence_effects", "AREAS", "area_of",
    "SuccessPotential", "success_potential", "effect_adjusted_potential", "CONTRAST_COVARIATES",
    "one_year_per_person", "som_cohort", "success_contrast",
]
