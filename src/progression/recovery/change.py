"""Change per citizen: baseline/follow-up pairing, reliable change and clinical significance.

Reliable change follows Jacobson & Truax (1991), J Consult Clin Psychol 59:12-19:
SE = s_pre sqrt(1 - r_xx), S_diff = sqrt(2) SE, RC = (x_post - x_pre) / S_diff, and |RC| > 1.96 is
reliable change. Each citizen is classified as *progression* (reliable improvement), *maintenance* or
*degression* (reliable deterioration), taking the instrument's direction into account: for VUM levels,
where lower is better, a reliable decrease is progression.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from progression.exceptions import DataContractError, ParameterError
from progression.recovery.instruments import (
    Instrument,
    _require_columns,
    get_instrument,
    recovery_star_stage,
    score,
)

__all__ = [
    "CHANGE_CLASSES",
    "pair_assessments",
    "reliable_change",
    "reliable_change_threshold",
    "jacobson_truax_cutoffs",
    "classify_change",
    "clinical_significance",
    "change_per_citizen",
    "vum_domain_moves",
    "vum_domain_summary",
    "recovery_star_transitions",
]

CHANGE_CLASSES = ("progression", "maintenance", "degression")
_DAYS_PER_MONTH = 365.25 / 12


def _direction_sign(direction: str) -> int:
    if direction not in ("higher_better", "lower_better"):
        raise ParameterError(f"direction must be 'higher_better' or 'lower_better'; got {direction!r}")
    return 1 if direction == "higher_better" else -1


def pair_assessments(
    frame: pd.DataFrame,
    *,
    person_col: str = "person_id",
    date_col: str = "assessment_date",
    follow_up_months: float = 12.0,
    window_months: float = 3.0,
    index_dates: pd.Series | None = None,
    baseline_window_months: float = 3.0,
    keep_unpaired: bool = False,
) -> pd.DataFrame:
    """Choose a baseline and a follow-up assessment date per person by window rules.

    Baseline is the person's first assessment date, or, when ``index_dates`` (person -> service start)
    is given, the assessment closest to the index date within +/- ``baseline_window_months``.
    Follow-up is the assessment closest to baseline + ``follow_up_months`` within +/- ``window_months``
    (ties go to the earlier date). A month is 365.25/12 days.

    Parameters
    ----------
    frame : DataFrame
        At least ``person_col`` and ``date_col``; one row per assessment (repeated rows per date are
        collapsed).
    index_dates : Series, optional
        Service start (or other index) date per person, indexed by person id.
    keep_unpaired : bool, default=False
        Keep persons without a follow-up in the window (with missing follow-up) so attrition shows.

    Returns
    -------
    DataFrame
        ``person_col``, ``baseline_date``, ``follow_up_date``, ``months`` (baseline to follow-up).
    """
    _require_columns(frame, {"person_col": person_col, "date_col": date_col}, "pair_assessments")
    for name, value in (("follow_up_months", follow_up_months), ("window_months", window_months),
                        ("baseline_window_months", baseline_window_months)):
        if not np.isfinite(value) or value < 0:
            raise ParameterError(f"{name} must be a non-negative number; got {value!r}")
    dates = frame[[person_col, date_col]].dropna().drop_duplicates()
    dates[date_col] = pd.to_datetime(dates[date_col])
    dates = dates.sort_values([person_col, date_col])
    if index_dates is None:
        base = dates.groupby(person_col, as_index=False)[date_col].min()
    else:
        idx = pd.to_datetime(pd.Series(index_dates)).rename("_index").rename_axis(person_col).reset_index()
        base = _closest(dates, idx, "_index", baseline_window_months * _DAYS_PER_MONTH, person_col, date_col)
    base = base.rename(columns={date_col: "baseline_date"})[[person_col, "baseline_date"]]
    cand = dates.merge(base, on=person_col)
    cand = cand[cand[date_col] > cand["baseline_date"]]
    target = base.assign(_target=base["baseline_date"] + pd.to_timedelta(follow_up_months * _DAYS_PER_MONTH, "D"))
    follow = _closest(cand, target[[person_col, "_target"]], "_target", window_months * _DAYS_PER_MONTH,
                      person_col, date_col).rename(columns={date_col: "follow_up_date"})
    out = base.merge(follow[[person_col, "follow_up_date"]], on=person_col, how="left" if keep_unpaired else "inner")
    out["months"] = (out["follow_up_date"] - out["baseline_date"]).dt.days / _DAYS_PER_MONTH
    return out.sort_values(person_col, ignore_index=True)


def _closest(dates, targets, target_col, max_days, person_col, date_col):
    m = dates.merge(targets, on=person_col)
    m["_dist"] = (m[date_col] - m[target_col]).abs().dt.total_seconds() / 86400.0
    m = m[m["_dist"] <= max_days + 1e-9]
    return m.sort_values([person_col, "_dist", date_col]).drop_duplicates(person_col)


def reliable_change(pre, post, *, sd_pre: float, reliability: float):
    """Jacobson-Truax reliable change index, one per citizen (positive = increase).

    Parameters
    ----------
    pre, post : array-like or Series
        Baseline and follow-up scores of the same citizens.
    sd_pre : float
        Standard deviation of baseline scores (sample or norm group).
    reliability : float
        Reliability r_xx of the instrument (test-retest or internal consistency), in (0, 1).

    Returns
    -------
    ndarray or Series
        RC = (post - pre) / S_diff with S_diff = sqrt(2) s_pre sqrt(1 - r_xx); a Series when ``pre`` is one.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical approach to defining
    meaningful change in psychotherapy research. J Consult Clin Psychol, 59(1), 12-19.
    """
    s_diff = _s_diff(sd_pre, reliability)
    pre_a, post_a = np.asarray(pre, dtype=float), np.asarray(post, dtype=float)
    if pre_a.shape != post_a.shape:
        raise ParameterError(f"pre and post must have the same length; got {pre_a.shape} and {post_a.shape}")
    rc = (post_a - pre_a) / s_diff
    return pd.Series(rc, index=pre.index, name="rci") if isinstance(pre, pd.Series) else rc


def _s_diff(sd_pre: float, reliability: float) -> float:
    if not np.isfinite(sd_pre) or sd_pre <= 0:
        raise ParameterError(f"sd_pre must be a positive number; got {sd_pre!r}")
    if reliability is None or not 0 < reliability < 1:
        raise ParameterError(f"reliability must lie in (0, 1); got {reliability!r}")
    return float(np.sqrt(2.0) * sd_pre * np.sqrt(1.0 - reliability))


def reliable_change_threshold(*, sd_pre: float, reliability: float, critical: float = 1.96) -> float:
    """Smallest raw change that is reliable: critical x S_diff (Jacobson & Truax 1991)."""
    return critical * _s_diff(sd_pre, reliability)


def jacobson_truax_cutoffs(
    *, mean_dys: float, sd_dys: float, mean_func: float, sd_func: float, direction: str = "higher_better",
    z: float = 2.0,
) -> dict[str, float]:
    """Clinical cut-offs a, b and c of Jacobson & Truax (1991).

    a = M_dys + z s_dys (toward the functional side), b = M_func - z s_func (toward the dysfunctional
    side), c = (s_func M_dys + s_dys M_func) / (s_func + s_dys); with ``direction="lower_better"`` the
    signs of the z-terms flip. Jacobson & Truax use z = 2; some software uses 1.96.
    """
    sign = _direction_sign(direction)
    if sd_dys <= 0 or sd_func <= 0:
        raise ParameterError(f"sd_dys and sd_func must be positive; got {sd_dys!r} and {sd_func!r}")
    if sign * (mean_func - mean_dys) <= 0:
        raise ParameterError(
            f"mean_func ({mean_func}) must lie on the better side of mean_dys ({mean_dys}) for direction={direction!r}"
        )
    return {
        "a": mean_dys + sign * z * sd_dys,
        "b": mean_func - sign * z * sd_func,
        "c": (sd_func * mean_dys + sd_dys * mean_func) / (sd_func + sd_dys),
    }


def classify_change(rci, *, direction: str = "higher_better", critical: float = 1.96):
    """Progression / maintenance / degression from reliable change indices (or any standardised change).

    Progression when sign x RC > critical, degression when sign x RC < -critical (sign = +1 when higher
    is better, -1 when lower is better), maintenance otherwise; missing RC gives a missing class.
    """
    sign = _direction_sign(direction)
    r = np.asarray(rci, dtype=float) * sign
    codes = np.where(np.isnan(r), -1, np.where(r > critical, 0, np.where(r < -critical, 2, 1)))
    cat = pd.Categorical.from_codes(codes, categories=list(CHANGE_CLASSES), ordered=True)
    return pd.Series(cat, index=rci.index, name="change_class") if isinstance(rci, pd.Series) else cat


def clinical_significance(pre, post, rci, *, cutoff: float, direction: str = "higher_better",
                          critical: float = 1.96):
    """Jacobson-Truax clinical significance: recovered / improved / unchanged / deteriorated.

    *Recovered*: reliable improvement and the follow-up score on the functional side of ``cutoff``
    (having started on the dysfunctional side); *improved*: reliable improvement otherwise;
    *deteriorated*: reliable deterioration; *unchanged*: the rest.
    """
    sign = _direction_sign(direction)
    pre_a, post_a, r = (np.asarray(v, dtype=float) for v in (pre, post, rci))
    better = sign * r > critical
    worse = sign * r < -critical
    crossed = (sign * (pre_a - cutoff) < 0) & (sign * (post_a - cutoff) >= 0)
    labels = np.select([better & crossed, better, worse], ["recovered", "improved", "deteriorated"], "unchanged")
    labels = np.where(np.isnan(r), None, labels)
    cat = pd.Categorical(labels, categories=["recovered", "improved", "unchanged", "deteriorated"], ordered=True)
    return pd.Series(cat, index=pre.index, name="clinical_status") if isinstance(pre, pd.Series) else cat


def change_per_citizen(
    assessments: pd.DataFrame,
    instrument: str | Instrument | Mapping[str, Any],
    *,
    scale: str = "scaled",
    method: str = "rci",
    sd_pre: float | None = None,
    reliability: float | None = None,
    critical: float = 1.96,
    cutoff: float | None = None,
    follow_up_months: float = 12.0,
    window_months: float = 3.0,
    index_dates: pd.Series | None = None,
    person_col: str = "person_id",
    date_col: str = "assessment_date",
    instrument_col: str = "instrument",
    item_col: str = "item",
    score_col: str = "score",
) -> pd.DataFrame:
    """Score an instrument, pair baseline and follow-up, and classify each citizen's change.

    Parameters
    ----------
    assessments : DataFrame
        Long assessment format (see :func:`progression.recovery.instruments.score`).
    instrument : str, Instrument or mapping
    scale : {"scaled", "raw"}, default="scaled"
        Which score to compare; the instrument's cut-offs on the other scale are not used.
    method : {"rci", "mcid"}, default="rci"
        ``"rci"``: Jacobson-Truax reliable change, |RC| > ``critical``. ``"mcid"``: a change of at least
        the instrument's declared clinically relevant change (e.g. 10 WHO-5 index points).
    sd_pre : float, optional
        Baseline standard deviation; defaults to the SD (ddof=1) of the paired baseline scores.
    reliability : float, optional
        Defaults to the instrument's declared reliability; required when it has none.
    cutoff : float, optional
        Clinical cut-off (e.g. from :func:`jacobson_truax_cutoffs`) for ``clinical_status``.

    Returns
    -------
    DataFrame
        One row per paired citizen: ``person_col``, ``baseline_date``, ``follow_up_date``, ``months``,
        ``pre``, ``post``, ``change`` (post - pre), ``rci`` (NaN for method "mcid"), ``change_class`` and,
        with a cut-off, ``clinical_status``. ``attrs`` holds ``sd_pre``, ``reliability``, ``threshold``,
        ``n_baseline`` (persons with a valid baseline) and ``n_paired``.
    """
    ins = get_instrument(instrument)
    if scale not in ("scaled", "raw"):
        raise ParameterError(f"scale must be 'scaled' or 'raw'; got {scale!r}")
    if method not in ("rci", "mcid"):
        raise ParameterError(f"method must be 'rci' or 'mcid'; got {method!r}")
    scored = score(assessments, ins, person_col=person_col, date_col=date_col, instrument_col=instrument_col,
                   item_col=item_col, score_col=score_col)
    scored = scored[scored["valid"]]
    pairs = pair_assessments(scored, person_col=person_col, date_col=date_col, follow_up_months=follow_up_months,
                             window_months=window_months, index_dates=index_dates)
    values = scored[[person_col, date_col, scale]]
    out = pairs.merge(values.rename(columns={date_col: "baseline_date", scale: "pre"}), on=[person_col, "baseline_date"])
    out = out.merge(values.rename(columns={date_col: "follow_up_date", scale: "post"}),
                    on=[person_col, "follow_up_date"])
    out["change"] = out["post"] - out["pre"]
    if method == "rci":
        rel = ins.reliability_value if reliability is None else reliability
        if rel is None:
            raise ParameterError(
                f"instrument '{ins.name}' declares no reliability: pass reliability= (with its source in your notes)"
            )
        if sd_pre is None:
            if len(out) < 2:
                raise DataContractError(f"change_per_citizen({ins.name}): {len(out)} paired citizen(s); need 2 to "
                                        "estimate sd_pre, or pass sd_pre=")
            sd_pre = float(out["pre"].std(ddof=1))
        out["rci"] = reliable_change(out["pre"], out["post"], sd_pre=sd_pre, reliability=rel)
        out["change_class"] = classify_change(out["rci"], direction=ins.direction, critical=critical)
        threshold = reliable_change_threshold(sd_pre=sd_pre, reliability=rel, critical=critical)
    else:
        crc = ins.clinically_relevant_change
        if crc is None or crc.get("scale", "raw") != scale:
            raise ParameterError(
                f"method='mcid' needs a clinically relevant change on the {scale!r} scale; instrument "
                f"'{ins.name}' declares {crc!r}"
            )
        threshold = float(crc["value"])
        rel = reliability
        out["rci"] = np.nan
        # a change of exactly the threshold counts: scale the change so that |x| >= threshold maps past 1
        out["change_class"] = classify_change(out["change"] / threshold, direction=ins.direction,
                                              critical=1.0 - 1e-12)
    if cutoff is not None:
        standard = out["rci"] if method == "rci" else out["change"] / threshold
        crit = critical if method == "rci" else 1.0 - 1e-12
        out["clinical_status"] = clinical_significance(out["pre"], out["post"], standard, cutoff=cutoff,
                                                       direction=ins.direction, critical=crit)
    out.attrs.update({"instrument": ins.name, "scale": scale, "method": method, "sd_pre": sd_pre,
                      "reliability": rel, "threshold": threshold,
                      "n_baseline": int(scored[person_col].nunique()), "n_paired": int(len(out))})
    return out


_MOVES = ("improved", "same", "worse")


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

    Dates are paired per person as in :func:`pair_assessments`; domains scored 9 (not relevant) or
    missing at either date are left out. Lower levels are better, so a lower follow-up level is
    ``improved``. Any per-item ordinal instrument works the same way through ``instrument`` (e.g.
    Recovery Star areas, where higher is better; see :func:`recovery_star_transitions`).

    Returns
    -------
    DataFrame
        ``person_col``, ``item_col``, ``baseline_date``, ``follow_up_date``, ``pre``, ``post``,
        ``level_change`` (post - pre) and ``move`` (ordered categorical improved < same < worse).
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
    out["move"] = pd.Categorical.from_codes(codes, categories=list(_MOVES), ordered=True)
    cols = [person_col, item_col, "baseline_date", "follow_up_date", "pre", "post", "level_change", "move"]
    return out[cols].sort_values([person_col, item_col], ignore_index=True)


def vum_domain_summary(moves: pd.DataFrame, *, person_col: str = "person_id") -> pd.DataFrame:
    """Domain-summary score per person from :func:`vum_domain_moves`.

    Returns
    -------
    DataFrame
        ``n_domains``, ``n_improved``, ``n_same``, ``n_worse``, ``net_improved`` (improved - worse),
        ``mean_level_change`` (mean of post - pre; negative is better) and ``change_class``: progression
        when more domains improved than worsened, degression when more worsened, else maintenance.
    """
    _require_columns(moves, {"person_col": person_col, "move": "move", "level_change": "level_change"},
                     "vum_domain_summary")
    counts = pd.crosstab(moves[person_col], moves["move"]).reindex(columns=list(_MOVES), fill_value=0)
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

    Returns
    -------
    DataFrame
        ``item_col``, ``from_stage``, ``to_stage``, ``count`` (pairs that occur only).
    """
    _require_columns(moves, {"item_col": item_col, "pre": "pre", "post": "post"}, "recovery_star_transitions")
    d = pd.DataFrame({
        item_col: moves[item_col].to_numpy(),
        "from_stage": recovery_star_stage(moves["pre"].reset_index(drop=True)),
        "to_stage": recovery_star_stage(moves["post"].reset_index(drop=True)),
    })
    out = d.groupby([item_col, "from_stage", "to_stage"], observed=True).size().rename("count").reset_index()
    return out
