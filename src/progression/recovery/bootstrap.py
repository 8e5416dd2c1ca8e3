"""Shares of reliable and of true change with a bootstrap that re-estimates the reliable-change threshold.

Wilson intervals (:func:`progression.recovery.group_shares`) hold the reliable-change threshold
c = z sqrt(2) s_pre sqrt(1 - r) fixed, but s_pre and, for instruments without a declared reliability,
r = Cronbach's alpha are estimated from the same citizens; with integer-valued scores a small shift of c
moves every citizen at one score step between classes. :func:`bootstrap_shares` resamples citizens and
re-estimates alpha, s_pre and c in every replicate.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from progression._tidy import percentile_interval, stream
from progression._validation import check_columns, check_level, check_positive_int
from progression.recovery.change import CHANGE_CLASSES
from progression.recovery.groups import _latent_shares
from progression.recovery.instruments import get_instrument, score

__all__ = ["BOOTSTRAP_METHODS", "bootstrap_shares"]

#: The two shares of :func:`bootstrap_shares`: reliable change in the observed scores, and true change
#: beyond the threshold (normal deconvolution).
BOOTSTRAP_METHODS = ("rci", "latent")


def bootstrap_shares(
    assessments: pd.DataFrame,
    changes: pd.DataFrame,
    parameters: pd.DataFrame,
    *,
    estimated: Mapping[str, bool] | None = None,
    by: str = "target_group",
    n_boot: int = 200,
    cl: float = 0.95,
    seed: int = 0,
    min_group_size: int = 5,
    person_col: str = "person_id",
) -> pd.DataFrame:
    """Reliable-change and latent shares with bootstrap intervals that re-estimate the threshold.

    Each of ``n_boot`` replicates resamples the citizens assessed (with their baseline items, first valid
    score and, if paired, their change), re-estimates alpha (where it was estimated), s_pre and the
    threshold c, and recomputes per group

    * the share with sign x change beyond +c (progression) or below -c (degression) (method ``rci``),
    * the normal-deconvolution share of *true* change beyond c (method ``latent``;
      :func:`progression.recovery.latent_change_shares`).

    Point estimates use the full data; intervals are bootstrap percentiles.

    Parameters
    ----------
    assessments : DataFrame
        Long assessment format (the items of the first assessment feed alpha).
    changes : DataFrame
        One row per instrument x paired citizen with ``change``, ``change_class`` and ``by``
        (:func:`progression.recovery.add_context`).
    parameters : DataFrame
        Per instrument: ``scale``, ``direction``, ``reliability``, ``threshold``, ``critical``
        (:meth:`progression.recovery.ReliableChange.summary`).
    estimated : mapping of str to bool, optional
        Instrument -> whether its reliability is Cronbach's alpha estimated from these data (and so is
        re-estimated in every replicate); by default none is.
    by : str, default "target_group"
        The grouping beside "all".
    n_boot : int, default 200
        Bootstrap replicates.
    cl : float, default 0.95
        Level of the percentile intervals.
    seed : int, default 0
        Random state; each instrument draws from its own named stream of it (``stream(seed, instrument)``,
        :func:`progression._tidy.stream`), so adding an instrument leaves the others' intervals as they are.
    min_group_size : int, default 5
        Statistics of groups with fewer citizens are set missing.
    person_col : str, default "person_id"

    Returns
    -------
    DataFrame
        One row per instrument x grouping ("all" or ``by``) x group x change class x method:
        ``instrument``, ``grouping``, ``group``, ``change_class``, ``n`` (paired citizens in the group),
        ``count`` (citizens with reliable change of the class), ``method``, ``estimate``, ``std_error``
        (standard deviation of the replicates), ``conf_low``, ``conf_high``.

    Notes
    -----
    With true change T ~ N(mu, sigma_T^2) and error variance S_diff^2 = 2 s_pre^2 (1 - r),
    sigma_T^2 = max(0, s_change^2 - S_diff^2), and the latent shares are Phi((mu - c)/sigma_T) and
    Phi((-c - mu)/sigma_T) on the improvement scale (Jacobson & Truax 1991; Lord & Novick 1968).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> from progression.recovery import ReliableChange, add_context
    >>> assessments = load_example("assessments")
    >>> rc = ReliableChange().fit(assessments, {"QPR15": 0.89})
    >>> changes = add_context(rc.changes_, load_example("persons"), load_example("spells"))
    >>> out = bootstrap_shares(assessments, changes, rc.summary(), n_boot=50, seed=1)
    >>> everyone = out[(out["group"] == "all") & (out["change_class"] == "progression")]
    >>> everyone[["method", "estimate", "conf_low", "conf_high"]].round(3)
        method  estimate  conf_low  conf_high
    0      rci     0.114     0.036      0.192
    12  latent     0.113     0.035      0.184
    """
    check_positive_int(n_boot, name="n_boot")
    check_level(cl)
    check_columns(parameters, ["instrument", "scale", "direction", "reliability", "threshold", "critical"],
                  name="parameters")
    check_columns(changes, {"person_col": person_col, "by": by, "instrument": "instrument", "change": "change",
                            "change_class": "change_class"}, name="changes")
    par = parameters.set_index("instrument")
    estimated = dict(estimated or {})
    frames = []
    for instrument, ch in changes.groupby("instrument", sort=True):
        p = par.loc[instrument]
        data = _bootstrap_inputs(assessments, ch, instrument, p["scale"], by, person_col)
        rng = stream(seed, str(instrument))
        frames.append(_bootstrap_instrument(data, p, bool(estimated.get(instrument, False)), n_boot, cl, rng)
                      .assign(instrument=instrument))
    out = pd.concat(frames, ignore_index=True)
    out["grouping"] = np.where(out["group"] == "all", "all", by)
    stats_cols = ["estimate", "std_error", "conf_low", "conf_high"]
    out.loc[out["n"] < min_group_size, stats_cols] = np.nan
    return out[["instrument", "grouping", "group", "change_class", "n", "count", "method", *stats_cols]]


def _bootstrap_inputs(assessments, ch, instrument, scale, by, person_col) -> dict:
    """Per citizen assessed: first-occasion items, first valid score (on the change scale), change, group."""
    ins = get_instrument(instrument)
    rows = assessments.loc[assessments["instrument"] == ins.name, [person_col, "assessment_date", "item", "score"]]
    rows = rows[rows["assessment_date"] == rows.groupby(person_col)["assessment_date"].transform("min")]
    values = pd.to_numeric(rows["score"], errors="coerce")
    items = (rows.assign(_v=values.where(~values.isin(ins.missing_codes)), _item=rows["item"].astype(str))
             .set_index([person_col, "_item"])["_v"].unstack("_item"))
    scored = score(assessments, ins, person_col=person_col)
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


def _bootstrap_instrument(data, p, alpha_estimated: bool, n_boot: int, cl: float, rng) -> pd.DataFrame:
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
    replicates = {"rci": [], "latent": []}
    chunk = max(1, min(n_boot, 5_000_000 // max(n, 1)))
    with np.errstate(invalid="ignore", divide="ignore"):  # a replicate may draw no citizen of a small group
        for start in range(0, n_boot, chunk):
            _bootstrap_chunk(rng, n, min(chunk, n_boot - start), p, alpha_estimated, complete, has_first, paired,
                             x_items, x_first, improvement, member, replicates)
    point_rci = np.stack([(data["observed_class"][paired][:, None] == cls) for cls in CHANGE_CLASSES], -1)
    point_rci = (member[:, :, None] & point_rci).sum(axis=0) / member.sum(axis=0)[:, None]
    point = {"rci": point_rci,
             "latent": _latent_group(np.ones((1, paired.sum())), improvement, member, p["threshold"] / p["critical"],
                                     p["threshold"])}
    rows = []
    for method in BOOTSTRAP_METHODS:
        reps = np.concatenate(replicates[method])  # replicates x groups x 3
        low, high = percentile_interval(reps, cl=cl, axis=0)
        with warnings.catch_warnings():  # a group no replicate drew has no spread: NaN is the answer
            warnings.simplefilter("ignore", RuntimeWarning)
            spread = np.nanstd(reps, axis=0, ddof=1)
        for g, label in enumerate(labels):
            n_group = int(member[:, g].sum())
            for j, cls in enumerate(CHANGE_CLASSES):
                rows.append({"group": label, "change_class": cls, "n": n_group,
                             "count": int(round(point_rci[g, j] * n_group)), "method": method,
                             "estimate": point[method][g, j], "std_error": spread[g, j],
                             "conf_low": low[g, j], "conf_high": high[g, j]})
    return pd.DataFrame(rows)


def _bootstrap_chunk(rng, n, size, p, alpha_estimated, complete, has_first, paired, x_items, x_first,
                     improvement, member, replicates) -> None:
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
    replicates["rci"].append(np.stack([prog, counts - prog - degr, degr], axis=-1) / counts[..., None])
    replicates["latent"].append(np.stack([_latent_group(row, improvement, member, s, t)
                                          for row, s, t in zip(wp, s_diff, c)]))


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
