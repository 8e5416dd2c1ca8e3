"""Effect estimation of preventive interventions from register-like data.

Every estimator takes a DataFrame plus column names and returns a tidy frame with one row per estimator and
outcome (:data:`EFFECT_COLUMNS`: ``outcome, method, estimand, estimate, std_error, conf_low, conf_high,
p_value, n_treated, n_control``), so naive contrasts, weighting and difference-in-differences estimates
stack with ``pandas.concat`` and plot with :func:`progression.plots.evaluation.plot_effects`.

- Naive: :func:`naive_contrast` (success vs non-success, participants vs non-participants).
- Weighting: :func:`propensity_scores`, :func:`propensity_weights`, :func:`ipw`, :func:`aipw`.
- Diagnostics: :func:`balance_table`, :func:`effective_sample_size`, :func:`overlap_summary`.
- Panels: :func:`did_2x2`, :func:`twfe`, :func:`event_study`, :class:`CallawaySantAnna` and the effect per
  starter :func:`per_starter_effect`; timing from participation records with :func:`first_treated`.
- Target-trial emulation on register tables (:mod:`progression.evaluation.trials`): who is eligible when,
  starters against eligible citizens not (yet) started, their covariates and outcomes.
- Seeded data with known effects: :mod:`progression.evaluation.simulate`.
"""

from progression.evaluation._inference import EFFECT_COLUMNS
from progression.evaluation.balance import balance_table, effective_sample_size, overlap_summary
from progression.evaluation.did import did_2x2, event_study, twfe
from progression.evaluation.naive import naive_contrast
from progression.evaluation.propensity import (
    default_propensity_model,
    design_matrix,
    propensity_scores,
    propensity_weights,
)
from progression.evaluation.staggered import CallawaySantAnna, per_starter_effect
from progression.evaluation.timing import first_treated
from progression.evaluation.weighting import aipw, ipw

__all__ = [
    "EFFECT_COLUMNS",
    "CallawaySantAnna",
    "aipw",
    "balance_table",
    "default_propensity_model",
    "design_matrix",
    "did_2x2",
    "effective_sample_size",
    "event_study",
    "first_treated",
    "ipw",
    "naive_contrast",
    "overlap_summary",
    "per_starter_effect",
    "propensity_scores",
    "propensity_weights",
    "twfe",
]
