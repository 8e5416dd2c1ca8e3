"""Recovery-oriented progression: instruments, change per citizen, group comparisons and trajectories.

Modules
-------
instruments
    Instrument registry (VUM 2.0, WHO-5, Brief INSPIRE-O, QPR-15, Recovery Star, GAS), item scoring and
    cut-offs.
reliability
    Cronbach's alpha of an instrument's items in the data, for instruments without a declared
    reliability, beside the declared values.
change
    Baseline/follow-up pairing, Jacobson-Truax reliable change, progression / maintenance / degression
    (:class:`ReliableChange` for several instruments), clinical significance, and the context of a
    change (target group, step, municipality, move on the staircase).
domains
    Moves per VUM domain (or Recovery Star area) and the domain-summary score.
groups
    Shares and mean change by group with intervals, latent (true-change) shares, funnel limits,
    empirical-Bayes shrinkage.
bootstrap
    Shares of reliable and of true change with a bootstrap that re-estimates the threshold.
comparison
    Municipalities compared within comparable target groups (funnel limits and shrinkage).
trajectories
    Mixed-effects growth models (per instrument), the ordinal model of VUM levels, staircase moves
    against change (ANCOVA).

Examples
--------
>>> from progression.datasets import load_example
>>> from progression.recovery import ReliableChange, group_shares
>>> rc = ReliableChange().fit(load_example("assessments"), {"QPR15": 0.89})
>>> group_shares(rc.changes_)[["change_class", "count"]]
  change_class  count
0  progression      8
1  maintenance     49
2   degression     13
"""

from progression.recovery.bootstrap import BOOTSTRAP_METHODS, bootstrap_shares
from progression.recovery.change import (
    CHANGE_CLASSES,
    CLINICAL_STATUSES,
    ReliableChange,
    add_context,
    change_per_citizen,
    classify_change,
    clinical_significance,
    clinical_status_counts,
    jacobson_truax_cutoffs,
    pair_assessments,
    reliable_change,
    reliable_change_threshold,
)
from progression.recovery.comparison import municipality_comparison
from progression.recovery.domains import (
    DOMAIN_MOVES,
    domain_move_shares,
    domain_summary_by_group,
    recovery_star_transitions,
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
    cutoff_value,
    flag_cutoffs,
    gas_tscore,
    get_instrument,
    list_instruments,
    load_instruments,
    recovery_star_stage,
    register_instrument,
    score,
)
from progression.recovery.reliability import cronbach_alpha, instrument_alpha, reliability_table
from progression.recovery.trajectories import (
    InstrumentTrajectories,
    OrdinalLevelModel,
    TrajectoryModel,
    binned_means,
    move_change_table,
    step_move_ancova,
    trajectory_frame,
    vum_ordinal_trend,
    years_since,
)

__all__ = [
    "BOOTSTRAP_METHODS",
    "BUILTIN_CONFIGS",
    "CHANGE_CLASSES",
    "CLINICAL_STATUSES",
    "DOMAIN_MOVES",
    "Instrument",
    "InstrumentTrajectories",
    "OrdinalLevelModel",
    "ReliableChange",
    "TrajectoryModel",
    "add_context",
    "binned_means",
    "bootstrap_shares",
    "change_per_citizen",
    "classify_change",
    "clinical_significance",
    "clinical_status_counts",
    "cronbach_alpha",
    "cutoff_value",
    "domain_move_shares",
    "domain_summary_by_group",
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
    "municipality_comparison",
    "pair_assessments",
    "recovery_star_stage",
    "recovery_star_transitions",
    "register_instrument",
    "reliability_table",
    "reliable_change",
    "reliable_change_threshold",
    "score",
    "shrink_means",
    "shrink_shares",
    "step_move_ancova",
    "trajectory_frame",
    "vum_domain_moves",
    "vum_domain_summary",
    "vum_ordinal_trend",
    "wilson_interval",
    "years_since",
]
