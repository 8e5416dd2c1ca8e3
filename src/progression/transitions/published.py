"""Published figures of the staircase that the analyses are read beside.

Social- og Boligstyrelsen (2024), *Kommunernes omlægning til Borgeren ved roret*, follows the citizens
who received socialpædagogisk støtte in their own home (§85) in 2020 to the support they received in
2022 (the text beside Figures 11 and 12), and shows the share of the target group holding each service
in 2022 (Figure 4).

**Calibration targets, not reproductions.** The bundled synthetic data were generated to match these
figures (:data:`progression.sources.synthetic.truth.TARGETS`), so on synthetic data a result beside them
shows that the generator hit its targets; only on register data is the comparison an independent check.
:func:`reference_role` says which, in words for captions.

Examples
--------
>>> from progression.transitions.published import PUBLISHED_FLOW_FROM_SEL85
>>> PUBLISHED_FLOW_FROM_SEL85.groupby("group")["share"].sum().round(2).tolist()
[1.0, 1.0]
"""

from __future__ import annotations

import pandas as pd

__all__ = ["SOURCE", "PUBLISHED_FLOW_FROM_SEL85", "PUBLISHED_SERVICE_SHARES", "REPORT_GROUPING", "reference_role"]

#: The report the figures come from.
SOURCE = "Social- og Boligstyrelsen (2024), Kommunernes omlægning til Borgeren ved roret"

#: Of those on §85 in own home in 2020, where they were in 2022: no service or a lower step, and a
#: higher step, are in the report's text; "same" is the remainder (the report gives none).
PUBLISHED_FLOW_FROM_SEL85 = pd.DataFrame({
    "group": ["case municipalities"] * 3 + ["national"] * 3,
    "category": ["none_or_lower", "same", "higher"] * 2,
    "share": [0.30, 0.66, 0.04, 0.26, 0.69, 0.05],
    "source": [f"{SOURCE}, text beside Figures 11-12 (same: the remainder)"] * 6,
})

#: Share of the target group holding each service in 2022 (Figure 4; sums to 105 %: a citizen can
#: hold several).
PUBLISHED_SERVICE_SHARES = pd.Series(
    {"SEL82": 0.09, "SEL85": 0.59, "SEL107": 0.11, "ABL105": 0.19, "SEL108": 0.07}, name="published_share"
)

#: The report's grouping of destinations (a :class:`~progression.transitions.CohortFlow` ``relabel``): no
#: service and a lower step together; deaths, emigrations and moves are not in its denominator.
REPORT_GROUPING = {"none": "none_or_lower", "lower": "none_or_lower", "died": None, "emigrated": None,
                   "moved": None}


def reference_role(source: str) -> str:
    """What a published figure is beside a result from data of ``source`` (``synthetic`` or ``files``).

    Parameters
    ----------
    source : str
        ``data.source`` of the run.

    Returns
    -------
    str
        ``"calibration target"`` for the synthetic data (the generator was tuned to the figure),
        ``"independent check"`` for register data.

    Examples
    --------
    >>> reference_role("synthetic")
    'calibration target'
    """
    return "calibration target" if source == "synthetic" else "independent check"
