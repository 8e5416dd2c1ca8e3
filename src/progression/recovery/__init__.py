"""Recovery-oriented progression: instruments, change per citizen, group comparisons and trajectories.

Modules
-------
instruments
    Instrument registry (VUM 2.0, WHO-5, Brief INSPIRE-O, QPR-15, Recovery Star, GAS) and item scoring.
change
    Baseline/follow-up pairing, Jacobson-Truax reliable change, progression / maintenance / degression.
groups
    Shares and mean change by group with intervals, funnel-plot data, empirical-Bayes shrinkage.
trajectories
    Mixed-effects growth model, ordinal model for VUM levels, staircase move vs change (ANCOVA).
reliability
    Cronbach's alpha of an instrument's items in the data, for instruments without a declared reliability.
steps
    The staircase step held on an assessment date, and the step move between two assessments.
"""

from progression.recovery.change import (
    CHANGE_CLASSES,
    change_per_citizen,
    classify_change,
    clinical_significance,
    jacobson_truax_cutoffs,
    pair_assessments,
    reliable_change,
    recovery_star_transitions,
    reliable_change_threshold,
    vum_domain_moves,
    vum_domain_summary,
)
from progression.recovery.groups import (
    funnel_data,
    funnel_limits,
    group_mean_change,
    group_shares,
    latent_change_shares,
    shrink_means,
    shrink_shares,
    wilson_interval,
)
from progression.recovery.instruments import (
    BUILTIN_CONFIGS,
    Instrument,
    flag_cutoffs,
    gas_tscore,
    get_instrument,
    list_instruments,
    load_instruments,
    recovery_star_stage,
    register_instrument,
    score,
)
from progression.recovery.reliability import cronbach_alpha, instrument_alpha
from progression.recovery.trajectories import (
    OrdinalLevelModel,
    TrajectoryModel,
    binned_means,
    move_change_table,
    step_move_ancova,
    years_since,
)

__all__ = [
    "BUILTIN_CONFIGS",
    "CHANGE_CLASSES",
    "Instrument",
    "OrdinalLevelModel",
    "TrajectoryModel",
    "binned_means",
    "change_per_citizen",
    "classify_change",
    "clinical_significance",
    "cronbach_alpha",
    "flag_cutoffs",
    "funnel_data",
    "funnel_limits",
    "gas_tscore",
    "get_instrument",
    "group_mean_change",
    "group_shares",
    "instrument_alpha",
    "jacobson_truax_cutoffs",
    "latent_change_shares",
    "list_instruments",
    "load_instruments",
    "move_change_table",
    "pair_assessments",
    "recovery_star_stage",
    "recovery_star_transitions",
    "register_instrument",
    "reliable_change",
    "reliable_change_threshold",
    "score",
    "shrink_means",
    "shrink_shares",
    "step_move_ancova",
    "vum_domain_moves",
    "vum_domain_summary",
    "wilson_interval",
    "years_since",
]
