"""Moves per domain (item) between two assessments: VUM functioning domains and Recovery Star areas.

VUM levels are ordinal and mean different things in different domains, so besides the reliable change
of the mean level (:mod:`progression.recovery.change`) each domain's move between baseline and
follow-up is counted: improved (a lower level), same or worse. A citizen's *domain-summary score* is
the number of domains improved minus the number worsened: progression when positive, degression when
negative.

Examples
--------
>>> from progression.datasets import load_example
>>> moves = vum_domain_moves(load_example("assessments"))
>>> domain_move_shares(moves).head(3)[["domain", "move", "n", "count"]]
       domain      move     n  count
0  egenomsorg  improved  1073    305
1  egenomsorg      same  1073    481
2  egenomsorg     worse  1073    287
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from progression._validation import check_columns
from progression.recovery.change import CHANGE_CLASSES, classify_change, pair_assessments
from progression.recovery.instruments import Instrument, get_instrument, recovery_star_stage, score

__all__ = ["DOMAIN_MOVES", "vum_domain_moves", "vum_domain_summary", "domain_move_shares",
           "domain_summary_by_group", "recovery_star_transitions"]

#: The move of one domain between two assessments.
DOMAIN_MOVES = ("improved", "same", "worse")


def vum_domain_moves(
    assessments: pd.DataFrame,
    *,
    instrument: str | Instrument | Mapping[str, Any] = "VUM",
    follow_up_months: float = 12.0,
    window_months: float = 3.0,
    index_dates: pd.Series | None = None,
    person_col: str = "person_id",
    date_col: str = "assessment_date",
    instrument_col: str = "instrument",
    item_col: str = "item",
    score_col: str = "score",
) -> pd.DataFrame:
    """Per-domain moves between a baseline and a follow-up VUM assessment.

    Dates are paired per person as in :func:`progression.recovery.change.pair_assessments`; domains
    scored 9 (not relevant) or missing at either date are left out. Lower levels are better, so a lower
    follow-up level is ``improved``. Any per-item ordinal instrument works the same way through
    ``instrument`` (e.g. Recovery Star areas, where higher is better; see :func:`recovery_star_transitions`).

    Parameters
    ----------
    assessments : DataFrame
        The assessments table (one row per person, date, instrument and item).
    instrument : str, Instrument or mapping, default="VUM"
    follow_up_months, window_months, index_dates :
        The pairing of dates, as in :func:`~progression.recovery.change.pair_assessments`.
    person_col, date_col, instrument_col, item_col, score_col : str
        Column names.

    Returns
    -------
    DataFrame
        ``person_col``, ``item_col``, ``baseline_date``, ``follow_up_date``, ``pre``, ``post``,
        ``level_change`` (post - pre) and ``move`` (ordered categorical improved < same < worse).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> moves = vum_domain_moves(load_example("assessments"))
    >>> moves["move"].value_counts().to_dict()
    {'same': 2617, 'improved': 1748, 'worse': 1672}
    """
    ins = get_instrument(instrument)
    scored = score(assessments, ins, person_col=person_col, date_col=date_col, instrument_col=instrument_col,
                   item_col=item_col, score_col=score_col)  # validates ranges and codes
    rows = assessments.loc[assessments[instrument_col] == ins.name, [person_col, date_col, item_col, score_col]].copy()
    rows[item_col] = rows[item_col].astype(str)
    rows[date_col] = pd.to_datetime(rows[date_col])
    rows = rows[rows[score_col].notna() & ~rows[score_col].isin(ins.missing_codes)]
    pairs = pair_assessments(scored[scored["valid"]], person_col=person_col, date_col=date_col,
                             follow_up_months=follow_up_months, window_months=window_months, index_dates=index_dates)
    pre = rows.rename(columns={date_col: "baseline_date", score_col: "pre"})
    post = rows.rename(columns={date_col: "follow_up_date", score_col: "post"})
    out = pairs.merge(pre, on=[person_col, "baseline_date"]).merge(post, on=[person_col, "follow_up_date", item_col])
    out["level_change"] = out["post"] - out["pre"]
    sign = -1 if ins.direction == "lower_better" else 1
    codes = np.where(sign * out["level_change"] > 0, 0, np.where(out["level_change"] == 0, 1, 2))
    out["move"] = pd.Categorical.from_codes(codes, categories=list(DOMAIN_MOVES), ordered=True)
    cols = [person_col, item_col, "baseline_date", "follow_up_date", "pre", "post", "level_change", "move"]
    return out[cols].sort_values([person_col, item_col], ignore_index=True)


def vum_domain_summary(moves: pd.DataFrame, *, person_col: str = "person_id") -> pd.DataFrame:
    """Domain-summary score per person from :func:`vum_domain_moves`.

    Parameters
    ----------
    moves : DataFrame
        :func:`vum_domain_moves`.
    person_col : str, default="person_id"

    Returns
    -------
    DataFrame
        ``n_domains``, ``n_improved``, ``n_same``, ``n_worse``, ``net_improved`` (improved - worse),
        ``mean_level_change`` (mean of post - pre; negative is better) and ``change_class``: progression
        when more domains improved than worsened, degression when more worsened, else maintenance.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> summary = vum_domain_summary(vum_domain_moves(load_example("assessments")))
    >>> summary["change_class"].value_counts().to_dict()
    {'progression': 498, 'degression': 478, 'maintenance': 165}
    """
    check_columns(moves, {"person_col": person_col, "move": "move", "level_change": "level_change"},
                  name="vum_domain_summary")
    counts = pd.crosstab(moves[person_col], moves["move"]).reindex(columns=list(DOMAIN_MOVES), fill_value=0)
    out = pd.DataFrame({
        "n_domains": counts.sum(axis=1),
        "n_improved": counts["improved"],
        "n_same": counts["same"],
        "n_worse": counts["worse"],
    })
    out["net_improved"] = out["n_improved"] - out["n_worse"]
    out["mean_level_change"] = moves.groupby(person_col)["level_change"].mean()
    out["change_class"] = classify_change(out["net_improved"].astype(float), direction="higher_better", critical=0.5)
    out.columns.name = None
    return out.reset_index()


def recovery_star_transitions(moves: pd.DataFrame, *, item_col: str = "item") -> pd.DataFrame:
    """Stage-to-stage counts per Recovery Star area, from ``vum_domain_moves(..., instrument="RECOVERY_STAR")``.

    Killaspy et al. (2012) found weak inter-rater reliability for the summed star, so change is
    reported per area and by stage of the Journey of Change (two points per stage [check]).

    Parameters
    ----------
    moves : DataFrame
        ``item_col``, ``pre`` and ``post`` area scores (1–10).
    item_col : str, default="item"

    Returns
    -------
    DataFrame
        ``item_col``, ``from_stage``, ``to_stage``, ``count`` (pairs that occur only).

    Examples
    --------
    >>> import pandas as pd
    >>> moves = pd.DataFrame({"item": ["hope", "hope", "work"], "pre": [3, 4, 7], "post": [5, 4, 6]})
    >>> recovery_star_transitions(moves)
       item      from_stage        to_stage  count
    0  hope  accepting_help  accepting_help      1
    1  hope  accepting_help       believing      1
    2  work        learning       believing      1
    """
    check_columns(moves, {"item_col": item_col, "pre": "pre", "post": "post"}, name="recovery_star_transitions")
    d = pd.DataFrame({
        item_col: moves[item_col].to_numpy(),
        "from_stage": recovery_star_stage(moves["pre"].reset_index(drop=True)),
        "to_stage": recovery_star_stage(moves["post"].reset_index(drop=True)),
    })
    out = d.groupby([item_col, "from_stage", "to_stage"], observed=True).size().rename("count").reset_index()
    return out


def domain_move_shares(moves: pd.DataFrame, *, item_col: str = "item", min_group_size: int = 5) -> pd.DataFrame:
    """Citizens by move per domain, from :func:`vum_domain_moves`.

    Parameters
    ----------
    moves : DataFrame
        One row per citizen x domain with ``move``.
    min_group_size : int, default 5
        Shares of domains with fewer citizens are set missing.

    Returns
    -------
    DataFrame
        ``domain``, ``move`` (improved / same / worse), ``n`` (citizens with the domain relevant at both
        dates), ``count`` and ``share``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> shares = domain_move_shares(vum_domain_moves(load_example("assessments")))
    >>> shares[shares["domain"] == "mobilitet"][["move", "n", "count", "share"]].round(3)
           move    n  count  share
    6  improved  822    206  0.251
    7      same  822    447  0.544
    8     worse  822    169  0.206
    """
    check_columns(moves, {"item_col": item_col, "move": "move"}, name="moves")
    domains = moves.groupby([item_col, "move"], observed=False).size().rename("count").reset_index()
    domains["n"] = domains.groupby(item_col)["count"].transform("sum")
    domains["share"] = domains["count"] / domains["n"]
    domains = domains.rename(columns={item_col: "domain"})[["domain", "move", "n", "count", "share"]]
    domains.loc[domains["n"] < min_group_size, "share"] = np.nan
    return domains


def domain_summary_by_group(moves: pd.DataFrame, groups: pd.Series, *, person_col: str = "person_id",
                            min_group_size: int = 5) -> pd.DataFrame:
    """The domain-summary score (:func:`vum_domain_summary`) for all citizens and per group.

    Parameters
    ----------
    moves : DataFrame
        :func:`vum_domain_moves`.
    groups : Series
        The group of each person (indexed by person id, named after the grouping, e.g. ``target_group``).
    min_group_size : int, default 5
        Means and shares of groups with fewer citizens are set missing.

    Returns
    -------
    DataFrame
        The grouping column ("all" first, then each group), ``n``, ``mean_net_improved`` (domains improved
        minus worsened), ``mean_level_change`` (negative is better), ``n_<class>`` (citizens classified by
        the domain summary) and ``share_<class>``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> persons = load_example("persons").set_index("person_id")
    >>> out = domain_summary_by_group(vum_domain_moves(load_example("assessments")), persons["target_group"])
    >>> list(out["target_group"])
    ['all', 'begge', 'kognitivt_handicap', 'sindslidelse']
    """
    name = groups.name or "group"
    summary = vum_domain_summary(moves, person_col=person_col)
    summary[name] = summary[person_col].map(groups)
    rows = []
    for group, d in [("all", summary), *summary.groupby(name, sort=True)]:
        row = {name: group, "n": len(d), "mean_net_improved": d["net_improved"].mean(),
               "mean_level_change": d["mean_level_change"].mean()}
        for cls in CHANGE_CLASSES:
            row[f"n_{cls}"] = int((d["change_class"] == cls).sum())
        rows.append(row)
    out = pd.DataFrame(rows)
    for cls in CHANGE_CLASSES:
        out[f"share_{cls}"] = out[f"n_{cls}"] / out["n"]
    small = out["n"] < min_group_size
    out.loc[small, [c for c in out.columns if c.startswith(("mean_", "share_"))]] = np.nan
    return out
