"""Time on a step and time to re-entry, by Kaplan-Meier on the person-period panel.

An *episode* is a run of L consecutive periods of one person on the same step. Time counts periods
from the episode's first period (time 0): when the next period is observed on another step, the
*event* happens at time L; when the panel ends (window end, or death, emigration or a move, which are
never steps) the episode is *censored* at time L - 1, the last period known to be on the step (or,
with ``exits="event"``, a death, emigration or move there is an event at L - 1).
Episodes already running in the first period of the window have an unknown start (left truncation)
and are left out by default.

*Re-entry*: after leaving all services (a run on the no-service step that follows a step), the time
until a step is held again: whether citizens "come back" is one of the flows a social director follows
(Social- og Boligstyrelsen 2024, *Kommunernes omlægning til Borgeren ved roret*, on faglig styring).

The Kaplan-Meier estimator (Kaplan & Meier 1958) is

    S(t) = prod_{t_k <= t} (1 - d_k / r_k),

with d_k events at t_k and r_k episodes still at risk (duration >= t_k). Pointwise intervals use
Greenwood's variance on the log(-log) scale (Kalbfleisch & Prentice 2002, section 1.4). Shares
re-entering within a horizon get a bootstrap over citizens as well, because a citizen can leave and
come back several times.

**Disclosure.** With the numbers at risk shown, each step of a curve reveals the events and
censorings at its time, so a small count cannot be hidden by suppressing one cell:
:func:`km_disclosed` cuts each curve before its first small count and declares what is left. The
re-entry shares (:func:`reentry_shares`) carry their declaration.

References
----------
Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete observations. *Journal of
the American Statistical Association*, 53(282), 457-481.

Kalbfleisch, J. D. & Prentice, R. L. (2002). *The Statistical Analysis of Failure Time Data*, 2nd ed.
Wiley.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from progression._tidy import percentile_interval, z_value
from progression._validation import check_columns
from progression.disclosure import declare
from progression.exceptions import ParameterError
from progression.panel import PERIODS_PER_YEAR
from progression.staircase import STATUSES, as_staircase
from progression.transitions._panel import check_bootstrap, coded_panel, panel_period
from progression.transitions.discrete import citizen_bootstrap

__all__ = ["kaplan_meier", "step_episodes", "time_on_step", "reentry_episodes", "time_to_reentry",
           "reentry_shares", "median_time", "km_disclosed", "KM_COUNTS"]

#: The counts of a Kaplan-Meier table, each revealing persons' events or censorings.
KM_COUNTS = ("n_at_risk", "n_events", "n_censored")


def kaplan_meier(durations, events, *, cl: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier survival with Greenwood log(-log) intervals.

    Parameters
    ----------
    durations : array-like of float
        Time to event or censoring (>= 0).
    events : array-like of bool
        True for an observed event, False for censoring.
    cl : float, default=0.95
        Confidence level.

    Returns
    -------
    DataFrame
        One row per distinct time: ``time``, ``n_at_risk``, ``n_events``, ``n_censored``,
        ``survival``, ``std_error`` (Greenwood), ``conf_low``, ``conf_high``.

    Notes
    -----
    At a tied time events come before censorings (a censored episode was at risk at its time).
    Var(S) = S^2 sum d_k / (r_k (r_k - d_k)); the interval is exp(-exp(log(-log S) +- z se_loglog))
    with se_loglog = sqrt(sum d_k / (r_k (r_k - d_k))) / |log S|.

    Examples
    --------
    >>> km = kaplan_meier([1, 2, 2, 3, 4], [True, True, False, True, False])
    >>> km["survival"].round(3).tolist()
    [0.8, 0.6, 0.3, 0.3]
    """
    t = np.asarray(durations, dtype="float64")
    e = np.asarray(events, dtype=bool)
    if t.shape != e.shape:
        raise ParameterError(f"durations and events differ in length: {t.shape} vs {e.shape}")
    if len(t) and (np.isnan(t).any() or (t < 0).any()):
        raise ParameterError(f"durations must be non-negative numbers; found {np.sort(t[np.isnan(t) | (t < 0)])[:5]}")
    times, inverse = np.unique(t, return_inverse=True)
    n_events = np.bincount(inverse, weights=e, minlength=len(times))
    n_censored = np.bincount(inverse, weights=~e, minlength=len(times))
    at_risk = (n_events + n_censored)[::-1].cumsum()[::-1]
    return _km_table(times, at_risk, n_events, n_censored, cl)


def _km_table(times, at_risk, n_events, n_censored, cl) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1 - n_events / at_risk)
        terms = np.where(n_events > 0, n_events / (at_risk * (at_risk - n_events)), 0.0)
        greenwood = np.cumsum(terms)
        z = z_value(cl)
        se_loglog = np.sqrt(greenwood) / np.abs(np.log(survival))
        log_minus_log = np.log(-np.log(survival))
        lower = np.exp(-np.exp(log_minus_log + z * se_loglog))
        upper = np.exp(-np.exp(log_minus_log - z * se_loglog))
    # no event yet (S = 1) or all gone (S = 0): the log(-log) interval degenerates to the point
    lower = np.where(survival >= 1, 1.0, np.where(survival <= 0, 0.0, lower))
    upper = np.where(survival >= 1, 1.0, np.where(survival <= 0, 0.0, upper))
    se = np.where(survival > 0, survival * np.sqrt(np.where(np.isfinite(greenwood), greenwood, 0)), np.nan)
    return pd.DataFrame({
        "time": times, "n_at_risk": at_risk.astype("int64"), "n_events": n_events.astype("int64"),
        "n_censored": n_censored.astype("int64"), "survival": survival,
        "std_error": se, "conf_low": lower, "conf_high": upper,
    })


def median_time(km: pd.DataFrame, *, by: Sequence[str] = (), x: str = "time") -> pd.DataFrame | float:
    """Smallest time with survival <= 0.5 (NaN when the curve stays above one half).

    Parameters
    ----------
    km : DataFrame
        Kaplan-Meier curves in time order (:func:`kaplan_meier`, :func:`time_on_step`, ...).
    by : sequence of str
        Columns identifying the curves (none: one curve, a float is returned).
    x : {"time", "years"}
        The time column.

    Returns
    -------
    float or DataFrame
        The median of one curve, or the ``by`` columns and ``median_time`` per curve.

    Examples
    --------
    >>> median_time(kaplan_meier([1, 2, 2, 3, 4], [True, True, False, True, False]))
    3.0
    """
    def one(frame):
        below = frame.loc[frame["survival"] <= 0.5, x]
        return float(below.iloc[0]) if len(below) else np.nan

    if not by:
        return one(km)
    return km.groupby(list(by), observed=True).apply(one, include_groups=False).rename("median_time").reset_index()


# -- episodes --------------------------------------------------------------------------------------
def _runs(person: np.ndarray, step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end positions of runs of equal (person, step)."""
    new = np.r_[True, (person[1:] != person[:-1]) | (step[1:] != step[:-1])]
    starts = np.flatnonzero(new)
    ends = np.r_[starts[1:] - 1, len(person) - 1]
    return starts, ends


def _episodes(panel: pd.DataFrame, *, staircase, groups, person_col, period_col, step_col, status_col, period,
              exits: str) -> tuple[pd.DataFrame, object, str]:
    """All runs with their duration, event flag, destination and a flag for a left-truncated start."""
    stairs = as_staircase(staircase)
    check_columns(panel, {f"groups[{i}]": g for i, g in enumerate(groups)}, name="durations")
    if exits not in ("censor", "event"):
        raise ParameterError(f"exits must be 'censor' or 'event'; got {exits!r}")
    panel, pnum, step, status = coded_panel(panel, stairs=stairs, person_col=person_col, period_col=period_col,
                                          step_col=step_col, status_col=status_col, period=period)
    person = panel[person_col].to_numpy()
    starts, ends = _runs(person, step)
    last_of_person = np.r_[person[1:] != person[:-1], True]
    has_next = ~last_of_person[ends]
    nxt = np.minimum(ends + 1, len(person) - 1)
    length = (ends - starts + 1).astype("float64")
    exit_row = status[ends] != 0
    event = has_next | ((exits == "event") & exit_row)
    # a new step after L periods is seen in period L (counting from 0); death, emigration or a move
    # happen in the run's last period, L - 1, which is also where a censored run was last seen
    duration = np.where(has_next, length, length - 1)
    destination = np.where(has_next, np.asarray(stairs.steps, dtype=object)[step[nxt]],
                           np.where(exit_row, np.asarray(STATUSES, dtype=object)[status[ends]], "censored"))
    first_row = np.r_[True, person[1:] != person[:-1]][starts]
    frame = panel.iloc[starts][[person_col, period_col, *groups]].reset_index(drop=True)
    frame["step"] = pd.Categorical.from_codes(step[starts], dtype=stairs.dtype)
    frame["duration"] = duration
    frame["event"] = event
    frame["destination"] = destination
    frame["prevalent"] = first_row & (pnum[starts] == pnum.min())
    frame["after_step"] = ~first_row & (np.r_[-1, step][starts] != stairs.steps.index(stairs.none_step))
    return frame, stairs, panel.attrs["period"]


def step_episodes(panel: pd.DataFrame, *, groups: Sequence[str] = (), include_prevalent: bool = False,
                  exits: Literal["censor", "event"] = "censor", staircase=None, person_col: str = "person_id",
                  period_col: str = "period", step_col: str = "step", status_col: str = "status",
                  period: str | None = None) -> pd.DataFrame:
    """Runs of consecutive periods on one step, with duration and end.

    Parameters
    ----------
    panel : DataFrame
        Person-period panel (:func:`progression.panel.build_panel`).
    groups : sequence of str
        Panel columns recorded at the episode's first period.
    include_prevalent : bool, default=False
        Keep episodes already running in the window's first period (their start is unknown, so
        their durations are too short).
    exits : {"censor", "event"}, default="censor"
        Death, emigration and moves censor the episode, or end it as an event (leaving the step
        for any reason, as a sojourn time in a multi-state model).

    Returns
    -------
    DataFrame
        ``person_col``, ``period_col`` (first period), groups, ``step``, ``duration`` (periods),
        ``event``, ``destination`` (next step, exit status, or ``censored``), ``years`` (duration in
        years).

    Raises
    ------
    ParameterError
        When ``exits`` is unknown.
    DataContractError
        When a column is missing or holds a value that is not a step or status.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> episodes = step_episodes(load_example("panel_year"))
    >>> episodes.head(3)
       person_id     period   step  duration  event destination  years
    0          2 2021-01-01  SEL82       1.0   True        none    1.0
    1          2 2022-01-01   none       2.0  False    censored    2.0
    2          3 2013-01-01   none       2.0  False        died    2.0
    >>> episodes.groupby("step", observed=True)["event"].mean().round(2)["SEL108"]
    np.float64(0.19)
    """
    frame, _, period = _episodes(panel, staircase=staircase, groups=list(groups), person_col=person_col,
                                 period_col=period_col, step_col=step_col, status_col=status_col, period=period,
                                 exits=exits)
    if not include_prevalent:
        frame = frame[~frame["prevalent"]]
    frame = frame.drop(columns=["prevalent", "after_step"]).reset_index(drop=True)
    frame["years"] = frame["duration"] * (1 / PERIODS_PER_YEAR[period])
    return frame


def _km_by(episodes: pd.DataFrame, keys: list[str], cl: float, period: str) -> pd.DataFrame:
    parts = []
    for key, frame in (episodes.groupby(keys, observed=True, sort=True) if keys else [((), episodes)]):
        km = kaplan_meier(frame["duration"], frame["event"], cl=cl)
        key = key if isinstance(key, tuple) else (key,)
        for position, (name, value) in enumerate(zip(keys, key)):
            km.insert(position, name, value)
        parts.append(km)
    out = pd.concat(parts, ignore_index=True)
    out.insert(len(keys) + 1, "years", out["time"] * (1 / PERIODS_PER_YEAR[period]))
    return out


def time_on_step(panel: pd.DataFrame, *, groups: Sequence[str] = (), steps: Sequence[str] | None = None,
                 cl: float = 0.95, include_prevalent: bool = False,
                 exits: Literal["censor", "event"] = "censor", staircase=None, person_col: str = "person_id",
                 period_col: str = "period", step_col: str = "step", status_col: str = "status",
                 period: str | None = None) -> pd.DataFrame:
    """Kaplan-Meier curves of the time on each step, by step and group.

    Parameters
    ----------
    panel : DataFrame
        Person-period panel; a monthly panel gives the finest durations.
    groups : sequence of str
        Group columns (value at the episode's start).
    steps : sequence of str, optional
        Steps to report (default: every step but the no-service step).
    cl, include_prevalent, exits, staircase
        See :func:`kaplan_meier` and :func:`step_episodes`.

    Returns
    -------
    DataFrame
        ``step``, groups, ``time`` (periods), ``years``, ``n_at_risk``, ``n_events``, ``n_censored``,
        ``survival`` (share still on the step), ``std_error``, ``conf_low``, ``conf_high``. Cut it
        with :func:`km_disclosed` before it leaves the research server.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> km = time_on_step(load_example("panel_year"), steps=["SEL108"])
    >>> bool(km["survival"].is_monotonic_decreasing)
    True
    """
    stairs = as_staircase(staircase)
    steps = list(steps) if steps is not None else list(stairs.service_steps)
    stairs.check_steps(steps, column="steps")
    episodes = step_episodes(panel, groups=groups, include_prevalent=include_prevalent, exits=exits,
                             staircase=stairs, person_col=person_col, period_col=period_col, step_col=step_col,
                             status_col=status_col, period=period)
    episodes = episodes[episodes["step"].isin(steps)]
    episodes["step"] = episodes["step"].cat.remove_unused_categories()
    if episodes.empty:
        raise ParameterError(f"no episodes on steps {steps}")
    period = panel_period(panel, period, period_col)
    return _km_by(episodes, ["step", *groups], cl, period)


def reentry_episodes(panel: pd.DataFrame, *, groups: Sequence[str] = (), staircase=None,
                     person_col: str = "person_id", period_col: str = "period", step_col: str = "step",
                     status_col: str = "status", period: str | None = None) -> pd.DataFrame:
    """Spells out of services after a step: duration until a step is held again (the event).

    Parameters
    ----------
    panel : DataFrame
        Person-period panel (:func:`progression.panel.build_panel`).
    groups : sequence of str
        Panel columns recorded at the first period out.
    staircase : Staircase or StaircaseParams, optional
        Defaults to the report's staircase.

    Returns
    -------
    DataFrame
        ``person_col``, ``period_col`` (first period without services), groups, ``left_step`` (the
        step left), ``duration`` (periods out), ``event`` (re-entered), ``destination`` (step
        re-entered, exit status or ``censored``), ``years``.

    Raises
    ------
    DataContractError
        When a column is missing or holds a value that is not a step or status.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> reentry_episodes(load_example("panel_year")).head(3)
       person_id     period left_step  duration  event destination  years
    0          2 2022-01-01     SEL82       2.0  False    censored    2.0
    1          3 2013-01-01     SEL85       2.0  False        died    2.0
    2          5 2011-01-01     SEL85       2.0   True       SEL85    2.0
    """
    frame, stairs, period = _episodes(panel, staircase=staircase, groups=list(groups), person_col=person_col,
                                      period_col=period_col, step_col=step_col, status_col=status_col,
                                      period=period, exits="censor")
    previous = frame.groupby(person_col, sort=False)["step"].shift(1)
    out = frame[(frame["step"] == stairs.none_step) & frame["after_step"]].copy()
    out.insert(len(groups) + 2, "left_step", previous[out.index])
    out = out.drop(columns=["step", "prevalent", "after_step"]).reset_index(drop=True)
    out["years"] = out["duration"] * (1 / PERIODS_PER_YEAR[period])
    return out


def time_to_reentry(panel: pd.DataFrame, *, groups: Sequence[str] = (), cl: float = 0.95, staircase=None,
                    person_col: str = "person_id", period_col: str = "period", step_col: str = "step",
                    status_col: str = "status", period: str | None = None) -> pd.DataFrame:
    """Kaplan-Meier curve of the time out of services before re-entry (survival = still out).

    Parameters
    ----------
    panel : DataFrame
        Person-period panel (:func:`progression.panel.build_panel`).
    groups : sequence of str
        Group columns (value at the first period out); may include ``"left_step"``.
    cl : float, default=0.95
        Confidence level of the pointwise intervals (Greenwood, log(-log) scale).
    staircase : Staircase or StaircaseParams, optional

    Returns
    -------
    DataFrame
        The columns of :func:`time_on_step` without ``step``: ``time``, ``years``, ``n_at_risk``,
        ``n_events``, ``n_censored``, ``survival`` (share still out of services), ``std_error``,
        ``conf_low``, ``conf_high``. Cut it with :func:`km_disclosed` before it leaves the server.

    Raises
    ------
    ParameterError
        When no one leaves all services within the panel.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> km = time_to_reentry(load_example("panel_year"))
    >>> km[["years", "n_at_risk", "survival"]].head(3).round(3)
       years  n_at_risk  survival
    0    0.0       4094     1.000
    1    1.0       3585     0.882
    2    2.0       2745     0.808
    """
    episodes = reentry_episodes(panel, groups=[g for g in groups if g != "left_step"], staircase=staircase,
                                person_col=person_col, period_col=period_col, step_col=step_col,
                                status_col=status_col, period=period)
    if episodes.empty:
        raise ParameterError("no one leaves all services within the panel: no re-entry episodes")
    period = panel_period(panel, period, period_col)
    return _km_by(episodes, list(groups), cl, period)


def reentry_shares(panel: pd.DataFrame, *, horizons: Sequence[float] = (1, 2), groups: Sequence[str] = (),
                   n_boot: int = 1000, cl: float = 0.95, seed: int | np.random.Generator | None = 0,
                   staircase=None, person_col: str = "person_id", period_col: str = "period",
                   step_col: str = "step", status_col: str = "status", period: str | None = None) -> pd.DataFrame:
    """Share re-entering services within each horizon (years) after leaving all services.

    The share is 1 - S(h) from the Kaplan-Meier curve of :func:`time_to_reentry` (re-entry at
    most h years after the first period without services). Intervals come from a bootstrap over
    citizens: every replicate recomputes the Kaplan-Meier curve from the resampled citizens'
    episodes.

    Parameters
    ----------
    horizons : sequence of float, default=(1, 2)
        Horizons in years; with a yearly panel, re-entry "within 1 year" is re-entry in the next
        year. Use a monthly panel for finer horizons.
    groups : sequence of str
        Group columns (value at the first period out; ``"left_step"`` allowed).
    n_boot, cl, seed
        Citizen bootstrap replicates, confidence level and seed.

    Returns
    -------
    DataFrame
        Groups, ``horizon_years``, ``share``, ``conf_low``, ``conf_high`` (with a bootstrap),
        ``n_episodes``, ``n_persons``; declared for disclosure control (episodes and persons are
        counts, the share and its limits rest on the persons, the horizon is a label).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> shares = reentry_shares(load_example("panel_year"), n_boot=0)
    >>> shares["horizon_years"].tolist(), bool(shares["share"].is_monotonic_increasing)
    ([1.0, 2.0], True)
    """
    check_bootstrap(n_boot, cl)
    episodes = reentry_episodes(panel, groups=[g for g in groups if g != "left_step"], staircase=staircase,
                                person_col=person_col, period_col=period_col, step_col=step_col,
                                status_col=status_col, period=period)
    if episodes.empty:
        raise ParameterError("no one leaves all services within the panel: no re-entry episodes")
    period = panel_period(panel, period, period_col)
    per_year = PERIODS_PER_YEAR[period]
    horizon_periods = np.floor(np.asarray(horizons, dtype="float64") * per_year + 1e-9)
    groups = list(groups)
    if groups:
        grouped = episodes.groupby(groups, sort=True, observed=True)
        gcode, keys = grouped.ngroup().to_numpy(), grouped.size().reset_index()[groups]
    else:
        gcode, keys = np.zeros(len(episodes), dtype="int64"), pd.DataFrame(index=[0])
    duration = episodes["duration"].to_numpy().astype("int64")
    n_times = int(duration.max()) + 1
    n_groups = len(keys)
    kind = (~episodes["event"].to_numpy()).astype("int64")  # 0 event, 1 censored
    cell = (gcode * n_times + duration) * 2 + kind
    point = np.bincount(cell, minlength=n_groups * n_times * 2).reshape(1, n_groups, n_times, 2)
    share = _share_within(point, horizon_periods)[0]
    out = keys.loc[np.repeat(np.arange(n_groups), len(horizon_periods))].reset_index(drop=True)
    out["horizon_years"] = np.tile(np.asarray(horizons, dtype="float64"), n_groups)
    out["share"] = share.ravel()
    if n_boot:
        person_code = pd.factorize(episodes[person_col])[0]
        boot = citizen_bootstrap(person_code, cell, n_cells=n_groups * n_times * 2, n_boot=n_boot, seed=seed)
        reps = _share_within(boot.reshape(n_boot, n_groups, n_times, 2), horizon_periods)
        low, high = percentile_interval(reps, cl=cl)
        out["conf_low"], out["conf_high"] = low.ravel(), high.ravel()
    sizes = episodes.groupby(groups, observed=True, sort=True) if groups else None
    out["n_episodes"] = np.repeat(sizes.size().to_numpy() if groups else [len(episodes)], len(horizon_periods))
    persons = sizes[person_col].nunique().to_numpy() if groups else [episodes[person_col].nunique()]
    out["n_persons"] = np.repeat(persons, len(horizon_periods))
    return declare(out, counts=["n_episodes", "n_persons"],
                   stats={c: "n_persons" for c in ("share", "conf_low", "conf_high") if c in out},
                   labels=["horizon_years"])


def _share_within(counts: np.ndarray, horizons: np.ndarray) -> np.ndarray:
    """1 - KM survival at each horizon from (replicate, group, time, event/censored) counts."""
    events, censored = counts[..., 0], counts[..., 1]
    at_risk = (events + censored)[..., ::-1].cumsum(axis=-1)[..., ::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1 - events / np.where(at_risk > 0, at_risk, 1), 1.0)
    survival = np.cumprod(factor, axis=-1)
    index = horizons.astype("int64")
    beyond = index >= survival.shape[-1]  # nobody followed that long: undefined
    share = 1 - survival[..., np.minimum(index, survival.shape[-1] - 1)]
    share[..., beyond] = np.nan
    return share


def km_disclosed(km: pd.DataFrame, *, by: Sequence[str], min_cell_size: int) -> pd.DataFrame:
    """Kaplan-Meier curves cut for disclosure control, and declared.

    Each curve (a value of the ``by`` columns) stops before the first time with 1 .. min_cell_size - 1
    episodes at risk, ending or censored: with the numbers at risk shown, each step of a curve reveals
    the events and censorings at its time (d = r (1 - S(t) / S(t-)), c = r - d - r_next), so a
    small count cannot be hidden by suppressing one cell.

    Parameters
    ----------
    km : DataFrame
        A table of :func:`time_on_step`, :func:`time_to_reentry` or :func:`kaplan_meier`.
    by : sequence of str
        The columns that identify a curve.
    min_cell_size : int
        The smallest count of episodes that may be shown.

    Returns
    -------
    DataFrame
        The rows before each curve's cut, declaring :data:`KM_COUNTS` as counts, the survival and
        its interval as resting on ``n_at_risk`` and the times as labels.

    Examples
    --------
    >>> km = kaplan_meier(np.repeat([1, 2, 3, 4], [40, 30, 3, 27]), np.ones(100, dtype=bool))
    >>> km_disclosed(km, by=[], min_cell_size=5)["time"].tolist()
    [1.0, 2.0]
    """
    counts = km[list(KM_COUNTS)]
    small = ((counts > 0) & (counts < min_cell_size)).any(axis=1)
    keys = list(by)
    cut = small.groupby([km[k] for k in keys], observed=True, sort=False).cummax() if keys else small.cummax()
    out = km[~cut.to_numpy(dtype=bool)].reset_index(drop=True)
    stats = {c: "n_at_risk" for c in ("survival", "std_error", "conf_low", "conf_high") if c in out}
    return declare(out, counts=list(KM_COUNTS), stats=stats, labels=[c for c in ("time", "years") if c in out])
