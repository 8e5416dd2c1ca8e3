"""Change per citizen: baseline/follow-up pairing, reliable change, clinical significance and context.

Reliable change follows Jacobson & Truax (1991), J Consult Clin Psychol 59:12-19:
SE = s_pre sqrt(1 - r_xx), S_diff = sqrt(2) SE, RC = (x_post - x_pre) / S_diff, and |RC| > 1.96 is
reliable change. Each citizen is classified as *progression* (reliable improvement), *maintenance* or
*degression* (reliable deterioration), taking the instrument's direction into account: for VUM levels,
where lower is better, a reliable decrease is progression.

:class:`ReliableChange` does this for several instruments at once, each with its own reliability and
baseline standard deviation; :func:`add_context` adds what a citizen's change is compared by (target
group, step, municipality, the move on the staircase, the year).

Examples
--------
>>> from progression.datasets import load_example
>>> from progression.recovery import ReliableChange
>>> assessments = load_example("assessments")
>>> rc = ReliableChange().fit(assessments, {"QPR15": 0.89})
>>> rc.summary()[["instrument", "n_baseline", "n_paired"]]
  instrument  n_baseline  n_paired
0      QPR15         861        70
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from progression._validation import check_columns
from progression.constants import DAYS_PER_MONTH
from progression.exceptions import DataContractError, NotFittedError, ParameterError
from progression.recovery.instruments import Instrument, cutoff_value, get_instrument, score
from progression.staircase import steps_on_dates

__all__ = [
    "CHANGE_CLASSES",
    "pair_assessments",
    "reliable_change",
    "reliable_change_threshold",
    "jacobson_truax_cutoffs",
    "classify_change",
    "clinical_significance",
    "change_per_citizen",
    "ReliableChange",
    "add_context",
    "clinical_status_counts",
]

#: The three classes of a citizen's change (Ekspertudvalget på socialområdet 2024, section 6.2:
#: "progression, fastholdelse, degression").
CHANGE_CLASSES = ("progression", "maintenance", "degression")
#: Jacobson-Truax clinical status, from best to worst.
CLINICAL_STATUSES = ("recovered", "improved", "unchanged", "deteriorated")


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
    (ties go to the earlier date). A month is :data:`progression.constants.DAYS_PER_MONTH` days.

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

    Examples
    --------
    >>> import pandas as pd
    >>> dates = pd.DataFrame({"person_id": [1, 1, 1],
    ...                       "assessment_date": pd.to_datetime(["2021-01-05", "2021-11-20", "2022-02-01"])})
    >>> pair_assessments(dates)
       person_id baseline_date follow_up_date    months
    0          1    2021-01-05     2022-02-01  12.87885
    """
    check_columns(frame, {"person_col": person_col, "date_col": date_col}, name="pair_assessments")
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
        base = _closest(dates, idx, "_index", baseline_window_months * DAYS_PER_MONTH, person_col, date_col)
    base = base.rename(columns={date_col: "baseline_date"})[[person_col, "baseline_date"]]
    cand = dates.merge(base, on=person_col)
    cand = cand[cand[date_col] > cand["baseline_date"]]
    target = base.assign(_target=base["baseline_date"] + pd.to_timedelta(follow_up_months * DAYS_PER_MONTH, "D"))
    follow = _closest(cand, target[[person_col, "_target"]], "_target", window_months * DAYS_PER_MONTH,
                      person_col, date_col).rename(columns={date_col: "follow_up_date"})
    out = base.merge(follow[[person_col, "follow_up_date"]], on=person_col, how="left" if keep_unpaired else "inner")
    out["months"] = (out["follow_up_date"] - out["baseline_date"]).dt.days / DAYS_PER_MONTH
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

    Examples
    --------
    >>> reliable_change([32.0], [53.0], sd_pre=7.5, reliability=0.80).round(2)
    array([4.43])
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
    """Smallest raw change that is reliable: critical x S_diff (Jacobson & Truax 1991).

    Parameters
    ----------
    sd_pre : float
        Standard deviation of the baseline scores (of a reference population).
    reliability : float
        Test-retest reliability (or Cronbach's alpha) of the score.
    critical : float, default=1.96
        Critical value of the reliable change index.

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        When ``sd_pre`` is not positive or ``reliability`` not in (0, 1).

    Notes
    -----
    S_diff = √2 · sd_pre · √(1 − reliability), the standard error of a difference of two scores.

    References
    ----------
    Jacobson, N. S. & Truax, P. (1991). Clinical significance: a statistical approach to defining
    meaningful change in psychotherapy research. Journal of Consulting and Clinical Psychology 59(1), 12–19.

    Examples
    --------
    >>> round(reliable_change_threshold(sd_pre=7.5, reliability=0.80), 2)
    9.3
    """
    return critical * _s_diff(sd_pre, reliability)


def jacobson_truax_cutoffs(
    *, mean_dys: float, sd_dys: float, mean_func: float, sd_func: float, direction: str = "higher_better",
    z: float = 2.0,
) -> dict[str, float]:
    """Clinical cut-offs a, b and c of Jacobson & Truax (1991).

    a = M_dys + z s_dys (toward the functional side), b = M_func - z s_func (toward the dysfunctional
    side), c = (s_func M_dys + s_dys M_func) / (s_func + s_dys); with ``direction="lower_better"`` the
    signs of the z-terms flip. Jacobson & Truax use z = 2; some software uses 1.96.

    Parameters
    ----------
    mean_dys, sd_dys : float
        Mean and standard deviation of a dysfunctional (clinical) population.
    mean_func, sd_func : float
        Mean and standard deviation of a functional population.
    direction : {"higher_better", "lower_better"}, default="higher_better"
    z : float, default=2.0

    Returns
    -------
    dict of str to float
        ``a``, ``b``, ``c``.

    Raises
    ------
    ParameterError
        When a standard deviation is not positive, or the functional mean is not on the better side.

    Examples
    --------
    >>> jacobson_truax_cutoffs(mean_dys=40, sd_dys=7.5, mean_func=60, sd_func=7.5)
    {'a': 55.0, 'b': 45.0, 'c': 50.0}
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

    Parameters
    ----------
    rci : array-like or Series
        Reliable change indices.
    direction : {"higher_better", "lower_better"}, default="higher_better"
    critical : float, default=1.96

    Returns
    -------
    Categorical or Series
        Ordered categorical progression < maintenance < degression; a Series named ``change_class``
        (indexed like ``rci``) for a Series.

    Examples
    --------
    >>> list(classify_change([2.5, 0.3, -2.1], direction="lower_better"))
    ['degression', 'maintenance', 'progression']
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

    Parameters
    ----------
    pre, post : array-like or Series
        Baseline and follow-up scores.
    rci : array-like or Series
        Reliable change indices (missing gives a missing status).
    cutoff : float
        Clinical cut-off (e.g. c of :func:`jacobson_truax_cutoffs`).
    direction : {"higher_better", "lower_better"}, default="higher_better"
    critical : float, default=1.96

    Returns
    -------
    Categorical or Series
        Ordered categorical of :data:`CLINICAL_STATUSES`; a Series named ``clinical_status`` for a
        Series ``pre``.

    References
    ----------
    Jacobson, N. S. & Truax, P. (1991). Journal of Consulting and Clinical Psychology 59(1), 12–19.

    Examples
    --------
    >>> list(clinical_significance([40.0, 40.0, 60.0], [60.0, 48.0, 40.0], [3.0, 2.5, -3.0], cutoff=52.0))
    ['recovered', 'improved', 'deteriorated']
    """
    sign = _direction_sign(direction)
    pre_a, post_a, r = (np.asarray(v, dtype=float) for v in (pre, post, rci))
    better = sign * r > critical
    worse = sign * r < -critical
    crossed = (sign * (pre_a - cutoff) < 0) & (sign * (post_a - cutoff) >= 0)
    labels = np.select([better & crossed, better, worse], ["recovered", "improved", "deteriorated"], "unchanged")
    labels = np.where(np.isnan(r), None, labels)
    cat = pd.Categorical(labels, categories=list(CLINICAL_STATUSES), ordered=True)
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

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> out = change_per_citizen(load_example("assessments"), "QPR15")
    >>> out.attrs["n_paired"], round(out.attrs["threshold"], 2), out["change_class"].value_counts().to_dict()
    (70, 9.1, {'maintenance': 49, 'degression': 13, 'progression': 8})
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


class ReliableChange:
    """Reliable change per citizen for several instruments, each with its own reliability.

    For every instrument the baseline is a citizen's first valid assessment and the follow-up the one
    closest to baseline + ``follow_up_months`` within ± ``window_months`` (:func:`pair_assessments`);
    the change is classified by the Jacobson-Truax reliable change index (:func:`change_per_citizen`).
    s_pre is the standard deviation of the first valid score of *every* citizen assessed, not only of
    those followed up, so attrition does not narrow the reliable-change threshold.

    Parameters
    ----------
    critical : float, default 1.96
        |RC| above this is reliable change.
    follow_up_months, window_months : float, default 12 and 3
        Target time from baseline to follow-up and the tolerance around it.
    cutoffs : mapping of str to str, optional
        Instrument -> name of its declared cut-off, for the clinical status (recovered / improved /
        unchanged / deteriorated); the cut-off is moved to ``scale`` (:func:`cutoff_value`).
    scale : {"scaled", "raw"}, default "scaled"
        The score compared.

    Attributes
    ----------
    changes_ : DataFrame
        One row per instrument x paired citizen: ``instrument`` and the columns of
        :func:`change_per_citizen` (``clinical_status`` missing where no cut-off is given).
    parameters_ : DataFrame
        Per instrument: ``n_baseline``, ``n_paired``, ``sd_pre``, ``reliability``, ``threshold`` (the
        smallest reliable change on ``scale``), ``critical``, ``direction``, ``scale``, ``cutoff_name``,
        ``cutoff``.

    Notes
    -----
    threshold = critical x sqrt(2) x s_pre x sqrt(1 - r_xx) (Jacobson & Truax 1991).

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical approach to defining
    meaningful change in psychotherapy research. J Consult Clin Psychol, 59(1), 12-19.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> rc = ReliableChange(cutoffs={"WHO5": "poor_wellbeing"})
    >>> rc = rc.fit(load_example("assessments"), {"WHO5": 0.85, "QPR15": 0.89})
    >>> rc.summary()[["instrument", "n_paired", "threshold", "cutoff"]].round(2)
      instrument  n_paired  threshold  cutoff
    0       WHO5       246      20.76    52.0
    1      QPR15        70       9.25     NaN
    """

    def __init__(self, *, critical: float = 1.96, follow_up_months: float = 12.0, window_months: float = 3.0,
                 cutoffs: Mapping[str, str] | None = None, scale: str = "scaled"):
        self.critical = critical
        self.follow_up_months = follow_up_months
        self.window_months = window_months
        self.cutoffs = cutoffs
        self.scale = scale

    def fit(self, assessments: pd.DataFrame, reliabilities: pd.DataFrame | Mapping[str, float],
            *, person_col: str = "person_id") -> "ReliableChange":
        """Pair, score and classify every instrument of ``reliabilities``; returns self.

        Parameters
        ----------
        assessments : DataFrame
            Long assessment format (:func:`progression.recovery.instruments.score`).
        reliabilities : DataFrame or mapping
            ``instrument`` and ``reliability`` columns (e.g. :func:`progression.recovery.reliability_table`;
            rows with a missing reliability are left out), or a mapping instrument -> reliability.
        """
        if isinstance(reliabilities, Mapping):
            reliabilities = pd.DataFrame({"instrument": list(reliabilities),
                                          "reliability": list(reliabilities.values())})
        check_columns(reliabilities, ["instrument", "reliability"], name="reliabilities")
        reliabilities = reliabilities.dropna(subset=["reliability"])
        cutoffs = dict(self.cutoffs or {})
        frames, params = [], []
        for name, rel in zip(reliabilities["instrument"], reliabilities["reliability"]):
            ins = get_instrument(name)
            cut = cutoff_value(ins, cutoffs[name], scale=self.scale) if name in cutoffs else None
            scored = score(assessments, ins, person_col=person_col)
            first = scored[scored["valid"]].groupby(person_col, sort=False).head(1)  # score() sorts by date
            ch = change_per_citizen(assessments, ins, scale=self.scale, reliability=float(rel), critical=self.critical,
                                    sd_pre=float(first[self.scale].std(ddof=1)), cutoff=cut, person_col=person_col,
                                    follow_up_months=self.follow_up_months, window_months=self.window_months)
            if "clinical_status" not in ch:
                ch["clinical_status"] = pd.Categorical([None] * len(ch), categories=list(CLINICAL_STATUSES),
                                                       ordered=True)
            frames.append(ch.assign(instrument=name))
            a = ch.attrs
            params.append({"instrument": name, "n_baseline": a["n_baseline"], "n_paired": a["n_paired"],
                           "sd_pre": a["sd_pre"], "reliability": a["reliability"], "threshold": a["threshold"],
                           "critical": self.critical, "direction": ins.direction, "scale": self.scale,
                           "cutoff_name": cutoffs.get(name), "cutoff": np.nan if cut is None else cut})
        if not frames:
            raise DataContractError("ReliableChange.fit: no instrument with a reliability to classify change by")
        changes = pd.concat(frames, ignore_index=True)
        changes.attrs = {}
        self.changes_ = changes[["instrument"] + [c for c in changes.columns if c != "instrument"]]
        self.parameters_ = pd.DataFrame(params)
        return self

    def summary(self) -> pd.DataFrame:
        """The pairing and reliable-change parameters per instrument (see ``parameters_``)."""
        if not hasattr(self, "parameters_"):
            raise NotFittedError("ReliableChange is not fitted yet: call fit(assessments, reliabilities) first")
        return self.parameters_.copy()

    def __repr__(self) -> str:
        if hasattr(self, "parameters_"):
            return f"ReliableChange(instruments={list(self.parameters_['instrument'])}, n_paired={len(self.changes_)})"
        return "ReliableChange(not fitted)"


def add_context(
    changes: pd.DataFrame,
    persons: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    staircase=None,
    person_col: str = "person_id",
) -> pd.DataFrame:
    """Add target group, step and acting municipality at baseline, step at follow-up, the move and the year.

    The step on a date is the highest step held that day (:func:`progression.staircase.steps_on_dates`);
    ``move`` compares the levels at baseline and follow-up (down / same / up). ``municipality`` is the
    acting municipality of the baseline step's spell, else the person's municipality in ``persons``;
    ``year`` is the baseline year.

    Parameters
    ----------
    changes : DataFrame
        One row per paired citizen (and instrument) with ``baseline_date`` and ``follow_up_date``
        (:attr:`ReliableChange.changes_`).
    persons, spells : DataFrame
        The persons (``target_group``, ``municipality``) and their service spells.
    staircase : Staircase or StaircaseParams, optional
        Defaults to the staircase of Social- og Boligstyrelsen (2024), *Kommunernes omlægning til
        Borgeren ved roret*.

    Returns
    -------
    DataFrame
        ``changes`` with ``target_group``, ``step``, ``step_follow_up``, ``move``, ``municipality`` and
        ``year``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> rc = ReliableChange().fit(load_example("assessments"), {"QPR15": 0.89})
    >>> changes = add_context(rc.changes_, load_example("persons"), load_example("spells"))
    >>> changes["move"].value_counts().sort_index().to_dict()
    {'down': 6, 'same': 62, 'up': 2}
    """
    check_columns(persons, {"person_col": person_col, "target_group": "target_group",
                            "municipality": "municipality"}, name="persons")
    check_columns(changes, {"person_col": person_col, "baseline_date": "baseline_date",
                            "follow_up_date": "follow_up_date"}, name="changes")
    queries = pd.concat([changes[[person_col, "baseline_date"]].rename(columns={"baseline_date": "date"}),
                         changes[[person_col, "follow_up_date"]].rename(columns={"follow_up_date": "date"})])
    steps = steps_on_dates(spells, queries.drop_duplicates(), staircase=staircase, person_col=person_col)
    steps = steps.set_index([person_col, "date"])
    base = steps.reindex(pd.MultiIndex.from_arrays([changes[person_col], changes["baseline_date"]]))
    follow = steps.reindex(pd.MultiIndex.from_arrays([changes[person_col], changes["follow_up_date"]]))
    who = persons.set_index(person_col)
    out = changes.copy()
    out["target_group"] = out[person_col].map(who["target_group"]).to_numpy()
    out["step"] = base["step"].astype(str).to_numpy()
    out["step_follow_up"] = follow["step"].astype(str).to_numpy()
    diff = np.sign(follow["level"].to_numpy() - base["level"].to_numpy())
    out["move"] = pd.Categorical.from_codes((diff + 1).astype(int), categories=["down", "same", "up"], ordered=True)
    acting = pd.Series(base["municipality"].to_numpy(), dtype="Int64")
    fallback = pd.Series(out[person_col].map(who["municipality"]).to_numpy(), dtype="Int64")
    out["municipality"] = acting.fillna(fallback).to_numpy()
    out["year"] = pd.to_datetime(out["baseline_date"]).dt.year
    return out


def clinical_status_counts(changes: pd.DataFrame, parameters: pd.DataFrame) -> pd.DataFrame:
    """Citizens by Jacobson-Truax clinical status per instrument with a cut-off.

    Only citizens who start on the dysfunctional side of the cut-off can *recover*, so the counts are
    given for all paired citizens and for those (``_below``).

    Parameters
    ----------
    changes : DataFrame
        :attr:`ReliableChange.changes_` (``instrument``, ``pre``, ``clinical_status``).
    parameters : DataFrame
        :meth:`ReliableChange.summary` (``instrument``, ``cutoff``, ``direction``).

    Returns
    -------
    DataFrame
        ``instrument``, ``clinical_status``, ``n`` (paired citizens), ``count``, ``share``, and
        ``n_below``, ``count_below``, ``share_below``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> rc = ReliableChange(cutoffs={"WHO5": "poor_wellbeing"}).fit(load_example("assessments"), {"WHO5": 0.85})
    >>> clinical_status_counts(rc.changes_, rc.summary())[["clinical_status", "n", "count"]]
      clinical_status    n  count
    0       recovered  246     20
    1        improved  246      8
    2       unchanged  246    188
    3    deteriorated  246     30
    """
    check_columns(changes, ["instrument", "pre", "clinical_status"], name="changes")
    check_columns(parameters, ["instrument", "cutoff", "direction"], name="parameters")
    par = parameters.set_index("instrument")
    d = changes.dropna(subset=["clinical_status"])
    sign = np.where(d["instrument"].map(par["direction"]) == "higher_better", 1.0, -1.0)
    below = sign * (d["pre"] - d["instrument"].map(par["cutoff"])) < 0
    frames = []
    for label, sub in (("", d), ("_below", d[below])):
        t = sub.groupby(["instrument", "clinical_status"], observed=False).size().rename(f"count{label}").reset_index()
        t[f"n{label}"] = t.groupby("instrument")[f"count{label}"].transform("sum")
        t[f"share{label}"] = t[f"count{label}"] / t[f"n{label}"].where(t[f"n{label}"] > 0)
        frames.append(t)
    out = frames[0].merge(frames[1], on=["instrument", "clinical_status"], how="left")
    out = out[out["instrument"].isin(d["instrument"].unique())]
    return out[["instrument", "clinical_status", "n", "count", "share", "n_below", "count_below",
                "share_below"]].reset_index(drop=True)
