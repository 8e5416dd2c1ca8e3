"""The steps of the progression analysis as tidy tables, one call per table of notebook ``10_progression``.

Each function stacks the building blocks of :mod:`progression.recovery` over instruments and groupings
and returns a long table with an ``instrument`` column. Group statistics on fewer than
``min_group_size`` citizens are set missing here already (their counts are left for the run's
disclosure control, which also hides small counts).
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from progression.exceptions import DataContractError, ParameterError, StatisticalWarning
from progression.recovery.change import CHANGE_CLASSES, change_per_citizen, vum_domain_moves, vum_domain_summary
from progression.recovery.groups import (
    _latent_shares,
    funnel_data,
    group_mean_change,
    group_shares,
    shrink_means,
    shrink_shares,
)
from progression.recovery.instruments import _require_columns, get_instrument, score
from progression.recovery.reliability import instrument_alpha
from progression.staircase import service_start, steps_on_dates
from progression.recovery.trajectories import (
    OrdinalLevelModel,
    TrajectoryModel,
    binned_means,
    move_change_table,
    step_move_ancova,
    years_since,
)

__all__ = [
    "GROUPINGS",
    "reliability_table",
    "cutoff_value",
    "change_table",
    "add_context",
    "shares_by",
    "mean_change_by",
    "bootstrap_shares",
    "municipality_comparison",
    "municipality_summary",
    "vum_domain_table",
    "step_move_table",
    "move_class_counts",
    "trajectory_frame",
    "fit_trajectories",
    "fit_vum_ordinal",
    "clinical_table",
    "truth_comparison",
]

#: Groupings of :func:`shares_by` and :func:`mean_change_by` ("all" is always added first).
GROUPINGS = ("target_group", "step", "year", "municipality")
_STATS = ("share", "conf_low", "conf_high")


def reliability_table(
    assessments: pd.DataFrame, instruments: Sequence[str], *, prefer: str = "declared", alpha: float = 0.05
) -> pd.DataFrame:
    """Reliability per instrument: the declared value, Cronbach's alpha of the baseline items, and the one used.

    Parameters
    ----------
    prefer : {"declared", "alpha"}, default="declared"
        ``"declared"``: the instrument's declared reliability where it has one (e.g. QPR-15's 0.89), else
        alpha from the data; ``"alpha"``: alpha from the data for every instrument.

    Returns
    -------
    DataFrame
        ``instrument``, ``n`` (citizens with every baseline item answered), ``k``, ``alpha``,
        ``conf_low``, ``conf_high`` (Feldt), ``declared``, ``reliability`` (used) and ``source``.
    """
    if prefer not in ("declared", "alpha"):
        raise ParameterError(f"prefer must be 'declared' or 'alpha'; got {prefer!r}")
    rows = []
    for name in instruments:
        ins = get_instrument(name)
        est = instrument_alpha(assessments, ins, alpha=alpha)
        declared = ins.reliability_value
        use_declared = prefer == "declared" and declared is not None
        rows.append({**est, "declared": np.nan if declared is None else declared,
                     "reliability": declared if use_declared else est["alpha"],
                     "source": (f"declared: {ins.reliability['source']}" if use_declared
                                else "Cronbach's alpha of the baseline items in these data")})
    return pd.DataFrame(rows, columns=["instrument", "n", "k", "alpha", "conf_low", "conf_high", "declared",
                                       "reliability", "source"])


def cutoff_value(instrument, name: str, *, scale: str = "scaled") -> float:
    """A declared cut-off expressed on ``scale`` ("raw" or "scaled"); e.g. WHO-5 raw 13 is index 52."""
    ins = get_instrument(instrument)
    if ins.scaled == "gas_t":
        raise ParameterError(f"instrument '{ins.name}': cut-offs cannot be moved between scales of a GAS T-score")
    cut = ins.cutoff(name)
    value = float(cut["value"])
    if cut["scale"] == scale:
        return value
    offset = float(ins.scale_raw(np.array([0.0]))[0])
    slope = float(ins.scale_raw(np.array([1.0]))[0]) - offset
    return offset + slope * value if scale == "scaled" else (value - offset) / slope


def change_table(
    assessments: pd.DataFrame,
    reliabilities: pd.DataFrame,
    *,
    cutoffs: dict[str, str] | None = None,
    critical: float = 1.96,
    follow_up_months: float = 12.0,
    window_months: float = 3.0,
    scale: str = "scaled",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reliable change per citizen for every instrument of ``reliabilities`` (see :func:`change_per_citizen`).

    Parameters
    ----------
    reliabilities : DataFrame
        ``instrument`` and ``reliability`` (e.g. from :func:`reliability_table`).
    cutoffs : dict, optional
        Instrument -> name of its declared cut-off for the clinical status (recovered / improved /
        unchanged / deteriorated).

    Returns
    -------
    changes : DataFrame
        One row per instrument x paired citizen: ``instrument`` and the columns of
        :func:`change_per_citizen` (``clinical_status`` missing where no cut-off is given).
    parameters : DataFrame
        Per instrument: ``n_baseline``, ``n_paired``, ``sd_pre``, ``reliability``, ``threshold`` (raw
        change that is reliable, on ``scale``), ``critical``, ``direction``, ``scale``, ``cutoff_name``,
        ``cutoff``.

    Notes
    -----
    s_pre is the SD of the first valid score of every citizen assessed (``n_baseline``), not only of
    those with a follow-up, so attrition does not narrow the reliable-change threshold.
    """
    _require_columns(reliabilities, {"instrument": "instrument", "reliability": "reliability"}, "change_table")
    cutoffs = dict(cutoffs or {})
    frames, params = [], []
    for name, rel in zip(reliabilities["instrument"], reliabilities["reliability"]):
        ins = get_instrument(name)
        cut = cutoff_value(ins, cutoffs[name], scale=scale) if name in cutoffs else None
        scored = score(assessments, ins)
        first = scored[scored["valid"]].groupby("person_id", sort=False).head(1)  # score() sorts by date
        ch = change_per_citizen(assessments, ins, scale=scale, reliability=float(rel), critical=critical,
                                sd_pre=float(first[scale].std(ddof=1)), cutoff=cut,
                                follow_up_months=follow_up_months, window_months=window_months)
        if "clinical_status" not in ch:
            ch["clinical_status"] = pd.Categorical([None] * len(ch),
                                                   categories=["recovered", "improved", "unchanged", "deteriorated"],
                                                   ordered=True)
        frames.append(ch.assign(instrument=name))
        a = ch.attrs
        params.append({"instrument": name, "n_baseline": a["n_baseline"], "n_paired": a["n_paired"],
                       "sd_pre": a["sd_pre"], "reliability": a["reliability"], "threshold": a["threshold"],
                       "critical": critical, "direction": ins.direction, "scale": scale,
                       "cutoff_name": cutoffs.get(name),
                       "cutoff": np.nan if cut is None else cut})
    changes = pd.concat(frames, ignore_index=True)
    changes = changes[["instrument"] + [c for c in changes.columns if c != "instrument"]]
    return changes, pd.DataFrame(params)


def add_context(
    changes: pd.DataFrame,
    persons: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    staircase=None,
    person_col: str = "person_id",
) -> pd.DataFrame:
    """Add target group, step and acting municipality at baseline, step at follow-up, the move and the year.

    The step on a date is the highest step held that day (:func:`steps_on_dates`); ``move`` compares
    the levels at baseline and follow-up (down / same / up). ``municipality`` is the acting
    municipality of the baseline step's spell, else the person's municipality in ``persons``; ``year``
    is the baseline year.
    """
    _require_columns(persons, {"person_col": person_col, "target_group": "target_group",
                               "municipality": "municipality"}, "add_context")
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


def _by_grouping(changes, groupings, compute):
    frames = []
    for grouping in ["all", *groupings]:
        if grouping != "all":
            _require_columns(changes, {"groupings": grouping}, "groupings")
        for instrument, data in changes.groupby("instrument", sort=True):
            if grouping == "all":
                t = compute(data, None).assign(group="all")
            else:
                t = compute(data, grouping).rename(columns={grouping: "group"})
                t["group"] = t["group"].astype(str)
            frames.append(t.assign(instrument=instrument, grouping=grouping))
    out = pd.concat(frames, ignore_index=True)
    keys = ["instrument", "grouping", "group"]
    return out[keys + [c for c in out.columns if c not in keys]]


def _mask(table: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    table.loc[table["suppress"], list(cols)] = np.nan
    return table


def shares_by(changes: pd.DataFrame, groupings: Sequence[str] = GROUPINGS, *, alpha: float = 0.05,
              min_group_size: int = 5) -> pd.DataFrame:
    """Shares progressing / maintaining / degressing (Wilson intervals) for all citizens and per grouping.

    Returns
    -------
    DataFrame
        ``instrument``, ``grouping`` ("all" or a grouping column), ``group``, ``change_class``, ``n``,
        ``count``, ``share``, ``conf_low``, ``conf_high``, ``suppress`` (statistics missing when set).
    """
    out = _by_grouping(changes, groupings, lambda d, by: group_shares(d, by=by, alpha=alpha,
                                                                     min_group_size=min_group_size))
    return _mask(out, _STATS)


def mean_change_by(changes: pd.DataFrame, groupings: Sequence[str] = GROUPINGS, *, alpha: float = 0.05,
                   min_group_size: int = 5) -> pd.DataFrame:
    """Mean change (post - pre) with a t interval for all citizens and per grouping.

    Returns
    -------
    DataFrame
        ``instrument``, ``grouping``, ``group``, ``n``, ``mean``, ``std_error``, ``conf_low``, ``conf_high``,
        ``suppress``.
    """
    out = _by_grouping(changes, groupings, lambda d, by: group_mean_change(d, by=by, alpha=alpha,
                                                                          min_group_size=min_group_size))
    return _mask(out, ["mean", "std_error", "conf_low", "conf_high"])


def bootstrap_shares(
    assessments: pd.DataFrame,
    changes: pd.DataFrame,
    parameters: pd.DataFrame,
    reliabilities: pd.DataFrame,
    *,
    by: str = "target_group",
    B: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
    min_group_size: int = 5,
    person_col: str = "person_id",
) -> pd.DataFrame:
    """Reliable-change and latent shares with bootstrap intervals that re-estimate the threshold.

    Wilson intervals (:func:`shares_by`) hold the reliable-change threshold c = z sqrt(2) s_pre
    sqrt(1 - r) fixed, but s_pre and, for instruments without a declared reliability, r = Cronbach's
    alpha are estimated from the same citizens - and with integer-valued scores a small shift of c
    moves every citizen at one score step between classes. Here each of ``B`` replicates resamples
    the citizens assessed (with their baseline items, first valid score and, if paired, their change),
    re-estimates alpha (when it was estimated), s_pre and c, and recomputes

    * ``rci_share``: the share with sign x change beyond +/- c (progression / degression), and
    * ``latent_share``: the normal-deconvolution share of true change beyond c
      (:func:`progression.recovery.groups.latent_change_shares`).

    Intervals are bootstrap percentiles; point estimates use the full data.

    Returns
    -------
    DataFrame
        ``instrument``, ``grouping`` ("all" or ``by``), ``group``, ``change_class``, ``n``, ``count``
        (citizens with reliable change of the class), ``rci_share``, ``rci_low``, ``rci_high``,
        ``latent_share``, ``latent_low``, ``latent_high`` (statistics missing for groups under
        ``min_group_size``).
    """
    if B < 1:
        raise ParameterError(f"B must be a positive number of bootstrap replicates; got {B!r}")
    par = parameters.set_index("instrument")
    estimated = dict(zip(reliabilities["instrument"], reliabilities["source"].str.startswith("Cronbach")))
    frames = []
    for k, (instrument, ch) in enumerate(changes.groupby("instrument", sort=True)):
        p = par.loc[instrument]
        data = _bootstrap_inputs(assessments, ch, instrument, p["scale"], by, person_col)
        rng = np.random.default_rng(seed + 1000 * k)
        frames.append(_bootstrap_instrument(data, p, bool(estimated.get(instrument, False)), B, alpha, rng)
                      .assign(instrument=instrument))
    out = pd.concat(frames, ignore_index=True)
    out["grouping"] = np.where(out["group"] == "all", "all", by)
    stats_cols = ["rci_share", "rci_low", "rci_high", "latent_share", "latent_low", "latent_high"]
    out = out[["instrument", "grouping", "group", "change_class", "n", "count", *stats_cols]]
    out.loc[out["n"] < min_group_size, stats_cols] = np.nan
    return out


def _bootstrap_inputs(assessments, ch, instrument, scale, by, person_col) -> dict:
    """Per citizen assessed: first-occasion items, first valid score (on the change scale), change, group."""
    ins = get_instrument(instrument)
    rows = assessments.loc[assessments["instrument"] == ins.name, [person_col, "assessment_date", "item", "score"]]
    rows = rows[rows["assessment_date"] == rows.groupby(person_col)["assessment_date"].transform("min")]
    values = pd.to_numeric(rows["score"], errors="coerce")
    items = (rows.assign(_v=values.where(~values.isin(ins.missing_codes)), _item=rows["item"].astype(str))
             .set_index([person_col, "_item"])["_v"].unstack("_item"))
    scored = score(assessments, ins)
    first = scored[scored["valid"]].groupby(person_col).head(1).set_index(person_col)
    people = items.index.union(first.index)
    paired = ch.set_index(person_col)
    return {"items": items.reindex(people).to_numpy(float), "first": first[scale].reindex(people).to_numpy(float),
            "change": paired["change"].reindex(people).to_numpy(float),
            "group": paired[by].reindex(people).astype(object).to_numpy(),
            "observed_class": paired["change_class"].reindex(people).astype(object).to_numpy()}


def _weighted_var(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Variance (ddof=1, frequency weights) of ``x`` (n, or n x k) under each row of weights ``w`` (B x n)."""
    n = w.sum(axis=1)
    mean = (w @ x) / (n if x.ndim == 1 else n[:, None])
    sq = (w @ (x * x)) / (n if x.ndim == 1 else n[:, None])
    scale = n / (n - 1)
    return (sq - mean**2) * (scale if x.ndim == 1 else scale[:, None])


def _bootstrap_instrument(data, p, alpha_estimated: bool, B: int, level: float, rng) -> pd.DataFrame:
    sign = 1.0 if p["direction"] == "higher_better" else -1.0
    complete = ~np.isnan(data["items"]).any(axis=1)
    has_first = ~np.isnan(data["first"])
    paired = ~np.isnan(data["change"])
    x_items, x_first = data["items"][complete], data["first"][has_first]
    improvement = sign * data["change"][paired]
    groups = data["group"][paired]
    labels = ["all"] + sorted({str(g) for g in groups if g is not None and not pd.isna(g)})
    member = np.column_stack([np.ones(paired.sum(), bool)] + [groups.astype(str) == g for g in labels[1:]])
    n = len(data["first"])
    rci, latent = [], []
    chunk = max(1, min(B, 5_000_000 // max(n, 1)))
    with np.errstate(invalid="ignore", divide="ignore"):  # a replicate may draw no citizen of a small group
        for start in range(0, B, chunk):
            _bootstrap_chunk(rng, n, min(chunk, B - start), p, alpha_estimated, complete, has_first, paired,
                             x_items, x_first, improvement, member, rci, latent)
    rci, latent = np.concatenate(rci), np.concatenate(latent)  # B x groups x 3
    point_rci = np.stack([(data["observed_class"][paired][:, None] == cls) for cls in CHANGE_CLASSES], -1)
    point_rci = (member[:, :, None] & point_rci).sum(axis=0) / member.sum(axis=0)[:, None]
    point_latent = _latent_group(np.ones((1, paired.sum())), improvement, member, p["threshold"] / p["critical"],
                                 p["threshold"])
    rci_low, rci_high = np.nanquantile(rci, [level / 2, 1 - level / 2], axis=0)
    latent_low, latent_high = np.nanquantile(latent, [level / 2, 1 - level / 2], axis=0)
    rows = []
    for g, label in enumerate(labels):
        n_group = int(member[:, g].sum())
        for j, cls in enumerate(CHANGE_CLASSES):
            rows.append({"group": label, "change_class": cls, "n": n_group,
                         "count": int(round(point_rci[g, j] * n_group)),
                         "rci_share": point_rci[g, j], "rci_low": rci_low[g, j], "rci_high": rci_high[g, j],
                         "latent_share": point_latent[g, j], "latent_low": latent_low[g, j],
                         "latent_high": latent_high[g, j]})
    return pd.DataFrame(rows)


def _bootstrap_chunk(rng, n, size, p, alpha_estimated, complete, has_first, paired, x_items, x_first,
                     improvement, member, rci, latent) -> None:
    """One chunk of ``size`` replicates: multinomial weights, re-estimated threshold, shares appended."""
    k = x_items.shape[1]
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(float)
    if alpha_estimated:
        total = x_items.sum(axis=1)
        item_var = _weighted_var(w[:, complete], x_items).sum(axis=1)
        r = k / (k - 1) * (1 - item_var / _weighted_var(w[:, complete], total))
    else:
        r = np.full(len(w), p["reliability"])
    s_diff = np.sqrt(2.0) * np.sqrt(_weighted_var(w[:, has_first], x_first)) * np.sqrt(1 - r)
    c = p["critical"] * s_diff
    wp = w[:, paired]
    counts = wp @ member  # replicates x groups
    prog = (wp * (improvement[None, :] > c[:, None])) @ member
    degr = (wp * (improvement[None, :] < -c[:, None])) @ member
    rci.append(np.stack([prog, counts - prog - degr, degr], axis=-1) / counts[..., None])
    latent.append(np.stack([_latent_group(row, improvement, member, s, t) for row, s, t in zip(wp, s_diff, c)]))


def _latent_group(w: np.ndarray, improvement: np.ndarray, member: np.ndarray, s_diff: float, c: float) -> np.ndarray:
    """Latent shares (groups x 3) of one weight vector (1 x n) on the improvement scale."""
    w = w.reshape(-1)
    out = []
    for g in range(member.shape[1]):
        wg = w * member[:, g]
        n = wg.sum()
        mean = (wg @ improvement) / n
        var = (wg @ (improvement - mean) ** 2) / (n - 1) if n > 1 else np.nan
        out.append(_latent_shares(np.array([mean]), np.array([var]), s_diff, c)[:, 0])
    return np.array(out)


def municipality_comparison(
    changes: pd.DataFrame,
    *,
    within: str = "target_group",
    change_class: str = "progression",
    levels: Sequence[float] = (0.95, 0.998),
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Municipalities compared within comparable groups: funnel limits and empirical-Bayes shrinkage.

    Seed 003 advises comparing municipalities only within comparable target groups, so each
    municipality's share of ``change_class`` is set against the national share *of its target group*
    (exact binomial funnel limits, :func:`funnel_data`) and shrunk toward it (beta-binomial,
    :func:`shrink_shares`); its mean change is shrunk too (normal-normal, :func:`shrink_means`, on
    municipalities with at least 2 citizens). Groups with fewer than 3 municipalities, or where no
    citizen (or every citizen) is in ``change_class``, are left out.

    Returns
    -------
    DataFrame
        ``instrument``, ``within`` column, ``municipality``, ``n``, ``count``, ``share``, ``target`` (the
        national share of the group, from ``count_target`` of ``n_target`` citizens),
        funnel limits and ``outside_<L>`` (1 outside, 0 inside), ``shrunk_share`` with ``shrunk_low``/``shrunk_high``,
        ``mean_change``, ``shrunk_mean`` with ``shrunk_mean_low``/``shrunk_mean_high``,
        ``little_variation`` (shrinkage pulled every municipality to the national value) and ``suppress``.
    """
    if change_class not in CHANGE_CLASSES:
        raise ParameterError(f"change_class must be one of {list(CHANGE_CLASSES)}; got {change_class!r}")
    _require_columns(changes, {"within": within, "municipality": "municipality"}, "municipality_comparison")
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
            shrunk = shrink_shares(counts, group_col="municipality", min_group_size=min_group_size)
            several = counts[counts["n"] >= 2].assign(std_error=lambda d: d["sd"] / np.sqrt(d["n"]))
            several = several[several["std_error"] > 0]
            means = (shrink_means(several.rename(columns={"mean_change": "mean"}), group_col="municipality")
                     if len(several) >= 3 else None)
        t = funnel.merge(shrunk[["municipality", "shrunk_share", "conf_low", "conf_high"]]
                         .rename(columns={"conf_low": "shrunk_low", "conf_high": "shrunk_high"}), on="municipality")
        t = t.merge(counts[["municipality", "mean_change"]], on="municipality")
        if means is not None:
            t = t.merge(means[["municipality", "shrunk_mean", "conf_low", "conf_high"]]
                        .rename(columns={"conf_low": "shrunk_mean_low", "conf_high": "shrunk_mean_high"}),
                        on="municipality", how="left")
        t["little_variation"] = any(issubclass(w.category, StatisticalWarning) for w in caught)
        t["n_target"], t["count_target"] = int(counts["n"].sum()), int(counts["count"].sum())
        frames.append(t.assign(instrument=instrument, **{within: group}))
    if not frames:
        raise DataContractError(f"municipality_comparison: no {within} group has 3 or more municipalities")
    out = pd.concat(frames, ignore_index=True)
    stats_cols = [c for c in out.columns if c not in ("instrument", within, "municipality", "n", "count", "suppress",
                                                      "little_variation", "target", "n_target", "count_target")
                  and not c.startswith("outside_")]
    out = _mask(out, stats_cols)
    for c in [c for c in out.columns if c.startswith("outside_")]:
        out[c] = out[c].astype(float).mask(out["suppress"])  # 1 outside, 0 inside, missing when suppressed
    first = ["instrument", within, "municipality"]
    return out[first + [c for c in out.columns if c not in first]]


def municipality_summary(comparison: pd.DataFrame, *, within: str = "target_group") -> pd.DataFrame:
    """Per instrument and group: municipalities compared, how many can be shown (share not suppressed),
    how many lie outside the funnel limits, the national share and whether shrinkage found variation.

    ``comparison`` is :func:`municipality_comparison` output, typically after disclosure control.
    """
    outside = [c for c in comparison.columns if c.startswith("outside_")]
    agg = {"municipalities": ("municipality", "size"), "shown": ("share", "count"),
           **{c.replace(".", "_"): (c, "sum") for c in outside},
           "n_target": ("n_target", "first"), "count_target": ("count_target", "first"),
           "national": ("target", "first"),
           "little_variation": ("little_variation", "first")}
    return comparison.groupby(["instrument", within], sort=True).agg(**agg).reset_index()


def vum_domain_table(
    assessments: pd.DataFrame,
    persons: pd.DataFrame,
    *,
    follow_up_months: float = 12.0,
    window_months: float = 3.0,
    min_group_size: int = 5,
    person_col: str = "person_id",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """VUM moves per domain, and the domain-summary score by target group (:func:`vum_domain_moves`).

    Returns
    -------
    domains : DataFrame
        ``domain``, ``move`` (improved / same / worse), ``n`` (citizens with the domain relevant at both
        dates), ``count``, ``share``.
    summary : DataFrame
        Per target group (and "all"): ``n``, ``mean_net_improved`` (domains improved minus worsened),
        ``mean_level_change`` (negative is better), and ``n_<class>`` / ``share_<class>`` of the
        domain-summary class (progression when more domains improved than worsened).
    """
    moves = vum_domain_moves(assessments, follow_up_months=follow_up_months, window_months=window_months,
                             person_col=person_col)
    domains = moves.groupby(["item", "move"], observed=False).size().rename("count").reset_index()
    domains["n"] = domains.groupby("item")["count"].transform("sum")
    domains["share"] = domains["count"] / domains["n"]
    domains = domains.rename(columns={"item": "domain"})[["domain", "move", "n", "count", "share"]]
    domains.loc[domains["n"] < min_group_size, "share"] = np.nan
    summary = vum_domain_summary(moves, person_col=person_col)
    summary["target_group"] = summary[person_col].map(persons.set_index(person_col)["target_group"])
    rows = []
    for group, d in [("all", summary), *summary.groupby("target_group", sort=True)]:
        row = {"target_group": group, "n": len(d), "mean_net_improved": d["net_improved"].mean(),
               "mean_level_change": d["mean_level_change"].mean()}
        for cls in CHANGE_CLASSES:
            row[f"n_{cls}"] = int((d["change_class"] == cls).sum())
        rows.append(row)
    out = pd.DataFrame(rows)
    for cls in CHANGE_CLASSES:
        out[f"share_{cls}"] = out[f"n_{cls}"] / out["n"]
    small = out["n"] < min_group_size
    out.loc[small, [c for c in out.columns if c.startswith(("mean_", "share_"))]] = np.nan
    return domains, out


def step_move_table(changes: pd.DataFrame, *, cl: float = 0.95, min_group_size: int = 5) -> pd.DataFrame:
    """Baseline-adjusted change by staircase move (down / same / up) per instrument (:func:`step_move_ancova`).

    Instruments without citizens in the reference group "same" and one other move group are left out.
    Statistics of move groups under ``min_group_size`` citizens are set missing.
    """
    frames = []
    for instrument, data in changes.groupby("instrument", sort=True):
        moves = data[["person_id", "move"]]
        try:
            t = step_move_ancova(data.drop(columns="move"), moves, cl=cl)
        except DataContractError:
            continue
        frames.append(t.assign(instrument=instrument, baseline_slope=t.attrs["baseline_slope"]))
    out = pd.concat(frames, ignore_index=True)
    out["suppress"] = out["n"] < min_group_size
    stats_cols = [c for c in out.columns if c not in ("instrument", "move", "n", "suppress", "baseline_slope")]
    out = _mask(out, stats_cols)
    return out[["instrument"] + [c for c in out.columns if c != "instrument"]]


def move_class_counts(changes: pd.DataFrame) -> pd.DataFrame:
    """Citizens by staircase move and change class per instrument (:func:`move_change_table`, counts).

    Returns
    -------
    DataFrame
        ``instrument``, ``move``, ``change_class``, ``n`` (citizens in the move group), ``count``, ``share``.
    """
    frames = []
    for instrument, data in changes.groupby("instrument", sort=True):
        table = move_change_table(data.drop(columns="move"), data[["person_id", "move"]], normalize=False)
        long = table.stack().rename("count").reset_index()
        long["n"] = long.groupby("move")["count"].transform("sum")
        frames.append(long.assign(instrument=instrument))
    out = pd.concat(frames, ignore_index=True)
    out["share"] = out["count"] / out["n"].where(out["n"] > 0)
    return out[["instrument", "move", "change_class", "n", "count", "share"]]


def trajectory_frame(
    assessments: pd.DataFrame,
    instrument: str,
    persons: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    staircase=None,
    max_years: float = 10.0,
    max_persons: int | None = None,
    seed: int = 0,
    person_col: str = "person_id",
) -> pd.DataFrame:
    """Scored assessments with years since service start and a municipality per citizen, for trajectories.

    Keeps assessments from service start (the first spell on a step) up to ``max_years`` later. The
    municipality is the acting one at the citizen's first kept assessment (else the one in ``persons``),
    so citizens nest in municipalities. With ``max_persons``, a simple random sample of citizens
    (``seed``) is kept.

    Returns
    -------
    DataFrame
        ``person_col``, ``assessment_date``, ``scaled``, ``raw``, ``years``, ``municipality``.
    """
    scored = score(assessments, instrument, person_col=person_col)
    scored = scored[scored["valid"]].copy()
    scored["years"] = years_since(scored, service_start(spells, staircase=staircase), person_col=person_col)
    scored = scored[(scored["years"] >= 0) & (scored["years"] <= max_years)]
    ids = np.sort(scored[person_col].unique())
    if max_persons is not None and ids.size > max_persons:
        keep = np.sort(np.random.default_rng(seed).choice(ids, size=max_persons, replace=False))
        scored = scored[scored[person_col].isin(keep)]
    first = scored.groupby(person_col, as_index=False)["assessment_date"].min()
    first = first.rename(columns={"assessment_date": "date"})
    at_first = steps_on_dates(spells, first, staircase=staircase, person_col=person_col).set_index(person_col)
    fallback = persons.set_index(person_col)["municipality"].astype("Int64")
    muni = at_first["municipality"].fillna(fallback.reindex(at_first.index))
    scored["municipality"] = scored[person_col].map(muni).astype("Int64")
    return scored[[person_col, "assessment_date", "scaled", "raw", "years", "municipality"]].reset_index(drop=True)


def clinical_table(changes: pd.DataFrame, parameters: pd.DataFrame) -> pd.DataFrame:
    """Citizens by Jacobson-Truax clinical status per instrument with a cut-off.

    ``parameters`` is the second output of :func:`change_table` (``cutoff`` and ``direction``).

    Returns
    -------
    DataFrame
        ``instrument``, ``clinical_status`` (recovered / improved / unchanged / deteriorated), ``n``
        (paired citizens), ``count``, ``share``, and ``n_below`` / ``count_below`` / ``share_below``: the
        same among citizens who started on the dysfunctional side of the cut-off (only they can recover).
    """
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


def fit_trajectories(
    assessments: pd.DataFrame,
    instruments: Sequence[str],
    persons: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    staircase=None,
    max_years: float = 10.0,
    max_persons: int | None = None,
    seed: int = 0,
    min_group_size: int = 5,
) -> dict[str, pd.DataFrame]:
    """Growth model of each instrument's score over years since service start (``TrajectoryModel(engine="fast")``).

    Random intercepts and slopes per citizen and per municipality (citizens nested in the acting
    municipality at their first assessment, :func:`trajectory_frame`); REML.

    Returns
    -------
    dict
        ``"coefficients"``: fixed effects and variance components per instrument (``instrument``,
        ``kind``, ``term``, ``estimate``, ``std_error``, ``conf_low``, ``conf_high``, ``n_persons``,
        ``n_obs``); ``"mean"``: the model mean with its band on a grid of years; ``"observed"``: mean
        scores per year since start (:func:`binned_means`, statistics missing under
        ``min_group_size`` persons).
    """
    coefs, means, observed = [], [], []
    grid = np.linspace(0, max_years, 41)
    for k, name in enumerate(instruments):
        frame = trajectory_frame(assessments, name, persons, spells, staircase=staircase, max_years=max_years,
                                 max_persons=max_persons, seed=seed + k)
        model = TrajectoryModel(engine="fast").fit(frame, municipality_col="municipality")
        counts = {"instrument": name, "n_persons": model.n_persons_, "n_obs": model.n_obs_}
        vc = model.variance_components_.rename(columns={"component": "term", "variance": "estimate"})
        coefs += [model.summary_.assign(kind="fixed", **counts),
                  vc.drop(columns="std_dev").assign(kind="variance", **counts)]
        means.append(model.mean_trajectory(grid).assign(instrument=name))
        obs = binned_means(frame, min_group_size=min_group_size)
        obs.loc[obs["suppress"], ["mean", "conf_low", "conf_high"]] = np.nan
        observed.append(obs.assign(instrument=name))
    table = pd.concat(coefs, ignore_index=True)
    cols = ["instrument", "kind", "term", "estimate", "std_error", "conf_low", "conf_high", "n_persons", "n_obs"]
    return {"coefficients": table[cols], "mean": pd.concat(means, ignore_index=True),
            "observed": pd.concat(observed, ignore_index=True)}


def fit_vum_ordinal(
    assessments: pd.DataFrame,
    persons: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    staircase=None,
    max_years: float = 10.0,
    max_persons: int | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Proportional-odds model of VUM domain levels over years since service start, domains as covariates.

    One row per citizen x assessment x relevant domain (code 9 left out); errors clustered on citizens
    (:class:`OrdinalLevelModel`). A positive ``years`` coefficient means higher (worse) levels over time.

    Returns
    -------
    DataFrame
        The model's ``summary_`` with ``n_persons`` and ``n_obs``.
    """
    frame = trajectory_frame(assessments, "VUM", persons, spells, staircase=staircase, max_years=max_years,
                             max_persons=max_persons, seed=seed)
    rows = assessments[(assessments["instrument"] == "VUM") & (assessments["score"] != 9)]
    rows = rows.merge(frame[["person_id", "assessment_date", "years"]], on=["person_id", "assessment_date"])
    model = OrdinalLevelModel().fit(rows.dropna(subset=["score"]), covariates=["item"])
    out = model.summary_.copy()
    out["term"] = out["term"].str.replace(r"^item\[T\.(.*)\]$", r"domain: \1", regex=True)
    return out.assign(n_persons=model.n_persons_, n_obs=model.n_obs_)


def truth_comparison(shares: pd.DataFrame, mean_change: pd.DataFrame, truth: dict) -> pd.DataFrame:
    """Estimates set against the synthetic generator's truth (``truth["assessments"]["realised"]``).

    Three comparisons per instrument:

    * ``rci_share``: shares classified by the reliable change index against the truth's
      ``observed_shares`` - the same classification made with the realised reliability and s_pre;
    * ``latent_share``: shares of true change beyond the threshold against ``true_shares``;
    * ``mean_change``: mean observed change (all citizens) against the mean true change, converted from
      the raw to the reported scale.

    Parameters
    ----------
    shares : DataFrame
        :func:`bootstrap_shares` (``group`` "all" or a target group).
    mean_change : DataFrame
        :func:`mean_change_by` (its "all" rows are used).

    Returns
    -------
    DataFrame
        ``instrument``, ``group``, ``quantity``, ``change_class``, ``n``, ``n_cell`` (citizens the
        estimate reveals: the class count for a reliable-change share, else ``n``), ``estimate``,
        ``conf_low``, ``conf_high``, ``n_truth``, ``truth`` and ``covered`` (truth inside the interval).
    """
    realised = truth["assessments"]["realised"]
    rows = []
    for r in shares.to_dict("records"):
        entry = realised.get(r["instrument"], {}).get("by_group", {}).get(r["group"])
        if entry is None:
            continue
        common = {"instrument": r["instrument"], "group": r["group"], "change_class": r["change_class"], "n": r["n"],
                  "n_truth": entry["n_pairs"]}
        for quantity, n_cell, key in (("rci", r["count"], "observed_shares"), ("latent", r["n"], "true_shares")):
            rows.append({**common, "quantity": f"{quantity}_share", "n_cell": n_cell,
                         "estimate": r[f"{quantity}_share"],
                         "conf_low": r[f"{quantity}_low"], "conf_high": r[f"{quantity}_high"],
                         "truth": entry[key][r["change_class"]]})
    for r in mean_change[mean_change["grouping"] == "all"].itertuples(index=False):
        if r.instrument not in realised:
            continue
        ins = get_instrument(r.instrument)
        factor = float(ins.scale_raw(np.array([1.0]))[0] - ins.scale_raw(np.array([0.0]))[0])
        rows.append({"instrument": r.instrument, "group": "all", "change_class": None, "n": r.n,
                     "n_truth": realised[r.instrument]["n_pairs"], "quantity": "mean_change", "n_cell": r.n,
                     "estimate": r.mean, "conf_low": r.conf_low, "conf_high": r.conf_high,
                     "truth": factor * realised[r.instrument]["true_change"]["mean"]})
    cols = ["instrument", "group", "quantity", "change_class", "n", "n_cell", "estimate", "conf_low", "conf_high",
            "n_truth", "truth"]
    out = pd.DataFrame(rows)[cols].sort_values(["quantity", "instrument", "group"], kind="stable", ignore_index=True)
    covered = (out["conf_low"] <= out["truth"]) & (out["truth"] <= out["conf_high"])
    out["covered"] = covered.astype("boolean").mask(out["conf_low"].isna() | out["conf_high"].isna())
    return out
