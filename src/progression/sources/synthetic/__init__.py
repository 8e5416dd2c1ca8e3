"""A synthetic Denmark: register-like tables generated from a known model, calibrated to the reports.

``generate(params, staircase, seed=...)`` returns every table of the data contract
(:data:`progression.schemas.SCHEMAS`) and the truth that generated them: municipalities with
socioeconomic criteria and accounts, persons in the target group, service spells from a
continuous-time multi-state process over the staircase, assessments from latent functioning and
recovery, person-year outcomes and costs, and preventive interventions with known effects.
The model and every default are documented in ``docs/synthetic.md``.
"""

from .dataset import SyntheticData, generate

__all__ = ["SyntheticData", "generate"]
