"""Step transitions on the indsatstrappe.

* :mod:`~progression.transitions.discrete`: transition matrices and cohort flows over periods, with a
  citizen bootstrap;
* :mod:`~progression.transitions.durations`: time on a step and time to re-entry (Kaplan-Meier);
* :mod:`~progression.transitions.projection`: occupancy projections and step-down scenarios;
* :mod:`~progression.transitions.ctmc`: the continuous-time multi-state model (msm's vocabulary).
"""

from progression.transitions.discrete import (
    SEED002_FLOW_FROM_SEL85,
    CohortFlow,
    TransitionMatrix,
    add_person_columns,
    citizen_bootstrap,
    label_municipalities,
    transition_counts,
    transition_pairs,
)

__all__ = [
    "SEED002_FLOW_FROM_SEL85",
    "TransitionMatrix",
    "CohortFlow",
    "transition_pairs",
    "transition_counts",
    "citizen_bootstrap",
    "label_municipalities",
    "add_person_columns",
]
