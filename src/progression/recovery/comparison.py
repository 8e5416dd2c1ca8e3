"""Municipalities compared within comparable groups: funnel limits and empirical-Bayes shrinkage.

Ekspertudvalget på socialområdet (2024, section 6.2) asks for cross-municipal comparisons of citizens'
progression "inden for sammenlignelige målgrupper", and VIVE (2024, *Styringsgennemgang af
socialpsykiatrien*) warns that the groups are small. So each municipality's share of a change class is
set against the national share *of its target group* with exact binomial funnel limits, and small
municipalities are shrunk toward that national value.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from progression._validation import check_choice, check_columns
from progression.exceptions import DataContractError, StatisticalWarning
from progression.recovery.change import CHANGE_CLASSES
from progression.recovery.groups import funnel_data, shrink_means, shrink_shares

__all__ = ["municipality_comparison"]


def municipality_comparison(
    changes: pd.DataFrame,
    *,
    within: str = "target_group",
    change_class: str = "progression",
    levels: Sequence[float] = (0.95, 0.998),
    cl: float = 0.95,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Municipalities compared within comparable groups: funnel limits and empirical-Bayes shrinkage.

    Within each instrument and group (``within``), each municipality's share of ``change_class`` is set
    against the national share of the group (exact binomial funnel limits, :func:`funnel_data`) and
    shrunk toward it (beta-binomial, :func:`shrink_shares`); its mean change is shrunk too
    (normal-normal, :func:`shrink_means`, on municipalities with at least 2 citizens). Groups with fewer
    than 3 municipalities, or where no citizen (or every citizen) is in ``change_class``, are left out.

    Parameters
    ----------
    changes : DataFrame
        One row per instrument x citizen: ``instrument``, ``municipality``, ``within``,
        ``change_class`` and ``change`` (:func:`progression.recovery.add_context`).
    within : str, default "target_group"
        The column of the comparable groups.
    change_class : str, default "progression"
        The class whose share is compared.
    levels : sequence of float, default (0.95, 0.998)
        Coverage of the funnel limits.
    cl : float, default 0.95
        Level of the shrunk estimates' posterior intervals.
    min_group_size : int, default 5
        Statistics of municipalities with fewer citizens are set missing.

    Returns
    -------
    DataFrame
        ``instrument``, ``within``, ``municipality``, ``n``, ``count``, ``share``, ``target`` (the
        national share of the group, from ``count_target`` of ``n_target`` citizens), funnel limits
        ``lower_<L>``/``upper_<L>`` and ``outside_<L>`` (1 outside, 0 inside), ``shrunk_share`` with
        ``shrunk_conf_low``/``shrunk_conf_high``, ``mean_change``, ``shrunk_mean`` with
        ``shrunk_mean_conf_low``/``shrunk_mean_conf_high``, ``little_variation`` (the shrinkage pulled
        every municipality to the national value), ``n_target``, ``count_target`` and ``suppress``.

    Raises
    ------
    DataContractError
        When no group has 3 or more municipalities.

    References
    ----------
    Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance. Statistics in
    Medicine, 24(8), 1185-1202.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> from progression.recovery import ReliableChange, add_context
    >>> rc = ReliableChange().fit(load_example("assessments"), {"QPR15": 0.89})
    >>> changes = add_context(rc.changes_, load_example("persons"), load_example("spells"))
    >>> table = municipality_comparison(changes)
    >>> table.groupby("target_group")["n_target"].first().to_dict()
    {'begge': 5, 'kognitivt_handicap': 39, 'sindslidelse': 26}
    """
    check_choice(change_class, CHANGE_CLASSES, name="change_class")
    check_columns(changes, {"within": within, "municipality": "municipality", "instrument": "instrument",
                            "change_class": "change_class", "change": "change"}, name="municipality_comparison")
    frames = []
    for (instrument, group), data in changes.groupby(["instrument", within], sort=True):
        counts = data.groupby("municipality").agg(n=("change_class", "size"),
                                                  count=("change_class", lambda s: int((s == change_class).sum())),
                                                  mean_change=("change", "mean"), sd=("change", "std"))
        counts = counts.reset_index()
        if len(counts) < 3 or counts["count"].sum() in (0, counts["n"].sum()):
            continue  # too few municipalities, or no one (everyone) in the class: nothing to compare
        funnel = funnel_data(counts, group_col="municipality", levels=levels, min_group_size=min_group_size)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", StatisticalWarning)
            shrunk = shrink_shares(counts, group_col="municipality", cl=cl, min_group_size=min_group_size)
            several = counts[counts["n"] >= 2].assign(std_error=lambda d: d["sd"] / np.sqrt(d["n"]))
            several = several[several["std_error"] > 0]
            means = (shrink_means(several.rename(columns={"mean_change": "mean"}), group_col="municipality", cl=cl)
                     if len(several) >= 3 else None)
        t = funnel.merge(shrunk[["municipality", "shrunk_share", "conf_low", "conf_high"]]
                         .rename(columns={"conf_low": "shrunk_conf_low", "conf_high": "shrunk_conf_high"}),
                         on="municipality")
        t = t.merge(counts[["municipality", "mean_change"]], on="municipality")
        if means is not None:
            t = t.merge(means[["municipality", "shrunk_mean", "conf_low", "conf_high"]]
                        .rename(columns={"conf_low": "shrunk_mean_conf_low", "conf_high": "shrunk_mean_conf_high"}),
                        on="municipality", how="left")
        t["little_variation"] = any(issubclass(w.category, StatisticalWarning) for w in caught)
        t["n_target"], t["count_target"] = int(counts["n"].sum()), int(counts["count"].sum())
        frames.append(t.assign(instrument=instrument, **{within: group}))
    if not frames:
        raise DataContractError(f"municipality_comparison: no {within} group has 3 or more municipalities")
    out = pd.concat(frames, ignore_index=True)
    fixed = ("instrument", within, "municipality", "n", "count", "suppress", "little_variation", "target",
             "n_target", "count_target")
    stats_cols = [c for c in out.columns if c not in fixed and not c.startswith("outside_")]
    out.loc[out["suppress"], stats_cols] = np.nan
    for c in [c for c in out.columns if c.startswith("outside_")]:
        out[c] = out[c].astype(float).mask(out["suppress"])  # 1 outside, 0 inside, missing when suppressed
    first = ["instrument", within, "municipality"]
    return out[first + [c for c in out.columns if c not in first]]
