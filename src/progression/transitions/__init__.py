"""Step transitions on the indsatstrappe.

* :mod:`~progression.transitions.discrete`: transition matrices and cohort flows over periods, with a
  citizen bootstrap; their ``summary()`` tables carry their disclosure declaration;
* :mod:`~progression.transitions.durations`: time on a step and time to re-entry (Kaplan-Meier);
* :mod:`~progression.transitions.projection`: occupancy projections and step-down scenarios;
* :mod:`~progression.transitions.ctmc`: the continuous-time multi-state model (msm's vocabulary);
* :mod:`~progression.transitions.published`: the published figures the results are read beside.

Examples
--------
>>> from progression.datasets import load_example
>>> from progression.transitions import TransitionMatrix
>>> tm = TransitionMatrix(n_boot=0).fit(load_example("panel_year"))
>>> tm.matrix().shape
(6, 9)
"""

from progression.transitions.discrete import (
    CohortFlow,
    TransitionMatrix,
    add_person_columns,
    citizen_bootstrap,
    flow_declaration,
    label_municipalities,
    matrix_declaration,
    transition_counts,
    transition_pairs,
)

__all__ = [
    "TransitionMatrix",
    "CohortFlow",
    "matrix_declaration",
    "flow_declaration",
    "transition_pairs",
    "transition_counts",
    "citizen_bootstrap",
    "label_municipalities",
    "add_person_columns",
]
