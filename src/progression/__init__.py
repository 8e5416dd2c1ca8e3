"""progression: reproducible research on the Danish specialised adult social area.

The public API in one place; each name lives in its topic package (imported on first use, so
``import progression`` stays light):

* running and extending: :class:`RunContext`, :func:`load_params`, :func:`run_chain`, :func:`declare`,
  :func:`load_example`;
* recovery-oriented progression (:mod:`progression.recovery`): :class:`ReliableChange`,
  :func:`cronbach_alpha`, :func:`wilson_interval`, :class:`TrajectoryModel`;
* step transitions (:mod:`progression.transitions`): :class:`TransitionMatrix`, :class:`CohortFlow`,
  :class:`MultiStateModel`, :func:`project_occupancy`, :func:`time_on_step`;
* spending variation (:mod:`progression.variation`): :class:`SpendingVariationModel`, :func:`shapley_r2`;
* steering tools (:mod:`progression.steering`): :func:`growth_table`, :func:`price_volume`,
  :func:`budget_followup`;
* preventive interventions and the fund (:mod:`progression.evaluation`, :mod:`progression.economics`,
  :mod:`progression.fund`): :func:`ipw`, :func:`aipw`, :func:`did_2x2`, :class:`CallawaySantAnna`,
  :func:`discount_factors`, :func:`budget_consequences`, :class:`RateCard`, :func:`simulate_fund`;
* the pilot's design (:mod:`progression.design`): :func:`cluster_mde`, :func:`stepped_wedge_mde`,
  :func:`simulate_pilots`.

Examples
--------
>>> import progression
>>> progression.TransitionMatrix.__module__
'progression.transitions.discrete'
>>> "RunContext" in progression.__all__
True
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

_API = {
    "RunContext": "progression.chain.run_context",
    "load_params": "progression.config",
    "run_chain": "progression.chain.runner",
    "declare": "progression.disclosure",
    "load_example": "progression.datasets",
    "ReliableChange": "progression.recovery",
    "cronbach_alpha": "progression.recovery",
    "wilson_interval": "progression.recovery",
    "TrajectoryModel": "progression.recovery",
    "TransitionMatrix": "progression.transitions",
    "CohortFlow": "progression.transitions",
    "MultiStateModel": "progression.transitions.ctmc",
    "project_occupancy": "progression.transitions.projection",
    "time_on_step": "progression.transitions.durations",
    "SpendingVariationModel": "progression.variation",
    "shapley_r2": "progression.variation",
    "growth_table": "progression.steering",
    "price_volume": "progression.steering",
    "budget_followup": "progression.steering",
    "ipw": "progression.evaluation",
    "aipw": "progression.evaluation",
    "did_2x2": "progression.evaluation",
    "CallawaySantAnna": "progression.evaluation",
    "discount_factors": "progression.economics",
    "budget_consequences": "progression.economics",
    "RateCard": "progression.fund",
    "simulate_fund": ("progression.fund", "simulate"),
    "cluster_mde": "progression.design",
    "stepped_wedge_mde": "progression.design",
    "simulate_pilots": "progression.design",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    where = _API.get(name)
    if where is None:
        raise AttributeError(f"module 'progression' has no attribute {name!r}")
    module, attribute = where if isinstance(where, tuple) else (where, name)
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
