"""The staircase step a citizen holds on a given date, and the step move between two assessments.

Assessments fall on single days, so the step of an assessment is read off the service spells running
that day rather than off a period panel: the highest step among the spells held on the date (the
staircase's default rule, seed 002), with side services (e.g. SEL103) ignored and the no-service step
when no step spell runs. Spell end dates are inclusive and a missing end date means the spell is open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from progression.exceptions import DataContractError
from progression.recovery.instruments import _require_columns
from progression.staircase import Staircase, as_staircase

__all__ = ["service_start", "steps_on_dates", "staircase_moves"]

_SPELL_COLS = ("person_col", "paragraph_col", "start_col", "end_col")


def _step_spells(spells, stairs: Staircase, person_col, paragraph_col, start_col, end_col, what) -> pd.DataFrame:
    _require_columns(spells, dict(zip(_SPELL_COLS, (person_col, paragraph_col, start_col, end_col))), what)
    counts = spells[paragraph_col].value_counts().to_dict()
    stairs.check_paragraphs(counts, counts=counts, column=paragraph_col)
    level = spells[paragraph_col].map({p: stairs.level_of(s) for p, s in stairs.paragraphs.items()})
    on_step = spells[level.notna()].assign(_level=level[level.notna()])
    on_step[start_col] = pd.to_datetime(on_step[start_col])
    on_step[end_col] = pd.to_datetime(on_step[end_col])
    return on_step


def service_start(
    spells: pd.DataFrame,
    *,
    staircase=None,
    person_col: str = "person_id",
    paragraph_col: str = "paragraph",
    start_col: str = "start_date",
    end_col: str = "end_date",
) -> pd.Series:
    """First start date of a spell on a step of the staircase, per person (side services ignored).

    Returns
    -------
    Series
        Indexed by ``person_col``, named ``service_start``.
    """
    stairs = as_staircase(staircase)
    on_step = _step_spells(spells, stairs, person_col, paragraph_col, start_col, end_col, "service_start")
    return on_step.groupby(person_col)[start_col].min().rename("service_start")


def steps_on_dates(
    spells: pd.DataFrame,
    queries: pd.DataFrame,
    *,
    staircase=None,
    date_col: str = "date",
    person_col: str = "person_id",
    paragraph_col: str = "paragraph",
    start_col: str = "start_date",
    end_col: str = "end_date",
    municipality_col: str | None = "municipality",
) -> pd.DataFrame:
    """The step each person holds on each date: the highest step among the spells running that day.

    Parameters
    ----------
    spells : DataFrame
        Service spells (person, paragraph, start, end and, optionally, the acting municipality).
    queries : DataFrame
        ``person_col`` and ``date_col``; one row per question (repeats are answered alike).
    staircase : Staircase or StaircaseParams, optional
        Defaults to the seed-002 staircase.
    municipality_col : str or None, default="municipality"
        Spell column of the acting municipality to carry along (that of the spell deciding the step,
        the latest-starting one on a tie); None to skip.

    Returns
    -------
    DataFrame
        ``queries`` in their order with ``step`` (ordered categorical of the staircase), ``level`` and,
        when asked, ``municipality`` (missing on the no-service step).
    """
    stairs = as_staircase(staircase)
    what = "steps_on_dates"
    _require_columns(queries, {"person_col": person_col, "date_col": date_col}, what)
    on_step = _step_spells(spells, stairs, person_col, paragraph_col, start_col, end_col, what)
    keep = [person_col, start_col, end_col, "_level"]
    if municipality_col is not None:
        _require_columns(spells, {"municipality_col": municipality_col}, what)
        keep.append(municipality_col)
    q = queries[[person_col, date_col]].drop_duplicates()
    q = q.assign(**{date_col: pd.to_datetime(q[date_col])})
    m = q.merge(on_step[keep], on=person_col, how="inner")
    m = m[(m[start_col] <= m[date_col]) & (m[end_col].isna() | (m[end_col] >= m[date_col]))]
    m = m.sort_values([person_col, date_col, "_level", start_col], ascending=[True, True, False, False], kind="stable")
    held = m.drop_duplicates([person_col, date_col])
    cols = [person_col, date_col, "_level"] + ([municipality_col] if municipality_col is not None else [])
    out = queries[[person_col, date_col]].assign(**{date_col: pd.to_datetime(queries[date_col])})
    out = out.merge(held[cols], on=[person_col, date_col], how="left")
    out["level"] = out["_level"].fillna(stairs.none_level).astype(float)
    names = dict(zip(stairs.levels, stairs.steps))
    out["step"] = pd.Categorical(out["level"].map(names), dtype=stairs.dtype)
    out = out.drop(columns="_level")
    if municipality_col is not None:
        out[municipality_col] = out[municipality_col].astype("Int64")
    return out[[person_col, date_col, "step", "level"] + ([municipality_col] if municipality_col is not None else [])]


def staircase_moves(
    pairs: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    staircase=None,
    person_col: str = "person_id",
    baseline_col: str = "baseline_date",
    follow_up_col: str = "follow_up_date",
    municipality_col: str | None = "municipality",
    **spell_cols: str,
) -> pd.DataFrame:
    """Step at baseline and at follow-up, and the move between them (down / same / up).

    Parameters
    ----------
    pairs : DataFrame
        One row per person with a baseline and a follow-up date (e.g. from ``change_per_citizen``).
    spell_cols : str
        ``paragraph_col``, ``start_col``, ``end_col`` as in :func:`steps_on_dates`.

    Returns
    -------
    DataFrame
        ``person_col``, ``step_baseline``, ``step_follow_up``, ``move`` (ordered categorical down < same <
        up, by step level) and, when asked, ``municipality`` (acting municipality at baseline).
    """
    what = "staircase_moves"
    _require_columns(pairs, {"person_col": person_col, "baseline_col": baseline_col, "follow_up_col": follow_up_col},
                     what)
    if pairs[person_col].duplicated().any():
        dups = pairs.loc[pairs[person_col].duplicated(), person_col].tolist()[:5]
        raise DataContractError(f"{what}: pairs must have one row per {person_col!r}; repeated: {dups}")
    both = pd.concat([pairs[[person_col, baseline_col]].rename(columns={baseline_col: "date"}),
                      pairs[[person_col, follow_up_col]].rename(columns={follow_up_col: "date"})])
    steps = steps_on_dates(spells, both, staircase=staircase, date_col="date", person_col=person_col,
                           municipality_col=municipality_col, **spell_cols).drop_duplicates([person_col, "date"])
    steps = steps.set_index([person_col, "date"])
    base_key = pd.MultiIndex.from_arrays([pairs[person_col], pd.to_datetime(pairs[baseline_col])])
    follow_key = pd.MultiIndex.from_arrays([pairs[person_col], pd.to_datetime(pairs[follow_up_col])])
    base, follow = steps.reindex(base_key), steps.reindex(follow_key)
    out = pd.DataFrame({person_col: pairs[person_col].to_numpy(),
                        "step_baseline": base["step"].to_numpy(), "step_follow_up": follow["step"].to_numpy()})
    diff = np.sign(follow["level"].to_numpy() - base["level"].to_numpy())
    out["move"] = pd.Categorical.from_codes((diff + 1).astype(int), categories=["down", "same", "up"], ordered=True)
    if municipality_col is not None:
        out[municipality_col] = base[municipality_col].to_numpy()
    return out
