"""The naive contrast: a plain difference in means between two groups, shown beside the effect estimates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from progression import _validation as chk
from progression.evaluation._inference import cluster_codes, if_variance, result_row, tidy_frame

__all__ = ["naive_contrast"]


def naive_contrast(
    data: pd.DataFrame,
    *,
    outcome: str | Sequence[str],
    group: str,
    cluster: str | None = None,
    method: str | None = None,
    cl: float = 0.95,
) -> pd.DataFrame:
    """Difference in mean outcome between ``group == 1`` and ``group == 0``, with a Wald interval.

    This is the comparison SØM-style calculations make (successes against non-successes, or participants
    against non-participants). It is *not* an effect: the groups differ in who they are, so it carries the
    selection bias that the weighting and difference-in-differences estimators remove. Reporting it beside
    them makes the bias visible.

    Parameters
    ----------
    data : DataFrame
        One row per person (or person-period).
    outcome : str or list of str
        Numeric outcome column(s).
    group : str
        0/1 (or boolean) column: 1 = success / participant, 0 = the comparison group.
    cluster : str, optional
        Column to cluster the standard error on (e.g. ``"person_id"`` for a person-year panel).
    method : str, optional
        Label of the ``method`` column; default ``"naive contrast (<group>)"``.
    cl : float, default=0.95
        Confidence level.

    Returns
    -------
    DataFrame
        One row per outcome with ``outcome, method, estimand, estimate, std_error, conf_low, conf_high,
        p_value, n_treated, n_control``; ``estimand`` is ``"difference in means"``.

    Raises
    ------
    DataContractError
        A column is missing, holds missing values, ``group`` is not 0/1, or a group is empty.

    Notes
    -----
    Δ = ȳ₁ − ȳ₀ with influence function φᵢ = Gᵢ(yᵢ − ȳ₁)/p − (1−Gᵢ)(yᵢ − ȳ₀)/(1−p), p = mean(G); without
    clusters its variance is the unpooled (Welch) s₁²/n₁ + s₀²/n₀ up to a factor (n−1)/n.

    Examples
    --------
    Employment the year after starting IPS in the example data, starters against eligible citizens not
    started (the trials of :func:`~progression.evaluation.trials.trial_frame`); compare :func:`ipw`:

    >>> from progression.datasets import example_trials
    >>> frame = example_trials("ips")
    >>> frame = frame.dropna(subset=["employed"])
    >>> naive_contrast(frame, outcome="employed", group="treated", cluster="person_id")[
    ...     ["estimate", "conf_low", "conf_high", "n_treated", "n_control"]].round(3)
       estimate  conf_low  conf_high  n_treated  n_control
    0      0.35     0.221       0.48         61        567
    """
    chk.check_frame(data)
    outcomes = chk.as_list(outcome, name="outcome")
    cl = chk.check_level(cl)
    chk.check_columns(data, [*outcomes, group, cluster])
    chk.check_no_missing(data, [*outcomes, group, cluster])
    g = chk.binary_values(data, group)
    n1, n0 = chk.check_both_groups(g, group)
    clusters = cluster_codes(data, cluster)
    p = n1 / g.size
    rows = []
    for name in outcomes:
        y = chk.numeric_values(data, name)
        mean1, mean0 = y[g == 1].mean(), y[g == 0].mean()
        phi = g * (y - mean1) / p - (1 - g) * (y - mean0) / (1 - p)
        rows.append(
            result_row(
                outcome=name,
                method=method or f"naive contrast ({group})",
                estimand="difference in means",
                estimate=mean1 - mean0,
                std_error=float(np.sqrt(if_variance(phi, clusters))),
                n_treated=n1,
                n_control=n0,
                cl=cl,
            )
        )
    return tidy_frame(rows)
