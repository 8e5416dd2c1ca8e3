"""Spending variation between municipalities: how much do objective criteria explain?

See ``docs``-level background in domain.md §5: the outcome is net operating expenditure per inhabitant of
the relevant age, the explanatory variables the socioeconomic criteria of the equalisation law.
"""

from progression.variation.model import SPECIAL_MUNICIPALITIES, FunnelData, SpendingVariationModel
from progression.variation.shapley import shapley_r2, shapley_r2_bootstrap, subset_r2

__all__ = [
    "SPECIAL_MUNICIPALITIES",
    "FunnelData",
    "SpendingVariationModel",
    "shapley_r2",
    "shapley_r2_bootstrap",
    "subset_r2",
]
