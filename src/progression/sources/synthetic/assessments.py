"""Assessments: VUM 2.0 functioning levels and WHO-5, Brief INSPIRE-O and QPR-15 from latent processes.

Two latent processes per person (higher functioning score = more limitation):

* functioning ``phi(t) = phi0_i + delta[step(t)] - R_i (1 - exp(-(t - t0_i) / tau)) + eta_i(t)``, with
  ``phi0_i`` by target group and severity, a step effect ``delta`` that grows with the step (so moving
  down the staircase goes with improvement), a personal recovery potential ``R_i ~ N(mean, sd)`` that
  is realised gradually after the first service ``t0_i``, and an Ornstein-Uhlenbeck deviation ``eta``;
* personal recovery ``rho(t) = rho0_i - lambda (phi(t) - phi0_group) + psi_i(t)`` (``psi`` OU).

An item score is ``clip(round(c + a * latent + eps), low, high)`` with ``eps ~ N(0, sigma)``; VUM
domains are coded 9 (not relevant) at random. The *true score* of an occasion is the expected raw score
given the latent, ``E[X] = sum_k Phi((m - k + 0.5) / sigma)`` per item, so the reliability
``var(T) / var(X)`` and the true change ``T_post - T_pre`` are known. The truth holds both, and the true
shares of reliable progression / maintenance / degression: the true change beyond the Jacobson-Truax
threshold ``1.96 * sqrt(2) * sd_pre * sqrt(1 - r)`` (domain.md section 3).

Schedules: VUM at Poisson times (rate 0.6 a year) while on a step from 2014; the surveys at Poisson
times (1 a year) for persons in a measurement programme, in recovery-oriented municipalities from
``max(2018, recovery_start_year)`` and elsewhere (0.2 a year) from 2021 (Social- og Boligstyrelsen 2024,
*Kommunernes omlægning til Borgeren ved roret*, chapter «Styringsredskaber»: «Kvaliteten i den faglige
omlægning» and «Resultater for borgerne»).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr

from ._calendar import day_number, to_datetime, year_start
from ._columns import strings
from ._random import generator
from .persons import GROUPS

VUM_DOMAINS = ("egenomsorg", "praktiske_opgaver", "mobilitet", "kommunikation", "socialt_liv", "sundhed")
#: Per domain: intercept by group (kognitivt, sind, begge), loading, P(code 9 = not relevant).
VUM_ITEMS = {
    "egenomsorg": ((1.3, 0.9, 1.5), 0.9, 0.03),
    "praktiske_opgaver": ((1.8, 1.4, 2.0), 1.0, 0.03),
    "mobilitet": ((0.8, 0.3, 0.9), 0.6, 0.15),
    "kommunikation": ((1.8, 0.8, 1.9), 0.8, 0.05),
    "socialt_liv": ((1.6, 1.9, 2.0), 1.0, 0.05),
    "sundhed": ((1.2, 1.8, 1.8), 0.9, 0.05),
}
VUM_ERROR_SD = 0.55
SURVEYS = {  # instrument: (items, high, intercept, loading, error sd, inclusion probability)
    "WHO5": (5, 5, 2.4, 0.9, 0.8, 1.0),
    "INSPIRE_O": (5, 4, 2.2, 0.8, 0.75, 0.85),
    "QPR15": (15, 4, 2.3, 0.7, 0.8, 0.5),
}
RAW_RULE = {"VUM": "mean", "WHO5": "sum", "INSPIRE_O": "mean", "QPR15": "sum"}
LOWER_IS_BETTER = {"VUM": True, "WHO5": False, "INSPIRE_O": False, "QPR15": False}
LATENT = {
    "phi0_group": (0.3, 0.0, 0.5), "phi0_severity": 0.45, "phi0_sd": 0.35,
    "step_effect": {"none": -0.35, "SEL82": -0.25, "SEL85": 0.0, "SEL107": 0.35, "ABL105": 0.45,
                    "SEL108": 0.7, "out": -0.35},
    "recovery_mean": 0.5, "recovery_sd": 0.4, "recovery_tau_years": 3.0,
    "eta_sd": 0.6, "eta_reversion_per_year": 0.6,
    "rho_lambda": 0.7, "rho0_sd": 0.4, "psi_sd": 0.7, "psi_reversion_per_year": 0.8,
}
SCHEDULE = {"vum_from_year": 2014, "vum_rate": 0.6, "survey_from_year": 2018, "survey_rate": 1.0,
            "survey_rate_elsewhere": 0.2, "survey_elsewhere_from_year": 2021, "programme_share": 0.6,
            "item_nonresponse": 0.02}
FOLLOWUP = {"months": 12, "window_months": 3, "rc_z": 1.96}


def _occasions(segments: dict, keep: np.ndarray, muni, rng) -> pd.DataFrame:
    """Occasion times (VUM or survey) at Poisson times on the service segments of persons in the data."""
    on_step = (segments["state"] >= 1) & (segments["state"] <= 5) & keep[segments["person"]]
    seg = {k: v[on_step] for k, v in segments.items()}
    member = rng.random(len(keep)) < SCHEDULE["programme_share"]
    recovery = muni.recovery_start_year[seg["municipality"]]
    vum_from = year_start([SCHEDULE["vum_from_year"]])[0]
    first_year = np.maximum(np.nan_to_num(recovery, nan=2100), SCHEDULE["survey_from_year"]).astype(int)
    programme_from = np.where(np.isnan(recovery), np.inf, year_start(first_year))
    elsewhere_from = year_start([SCHEDULE["survey_elsewhere_from_year"]])[0]
    parts = []
    for kind, lo, rate in (
        ("VUM", np.full(len(seg["start"]), vum_from), np.full(len(seg["start"]), SCHEDULE["vum_rate"])),
        ("survey", programme_from, SCHEDULE["survey_rate"] * member[seg["person"]]),
        ("survey", np.where(np.isfinite(programme_from), np.inf, elsewhere_from),
         SCHEDULE["survey_rate_elsewhere"] * member[seg["person"]]),
    ):
        start = np.maximum(seg["start"], lo)
        length = np.clip(seg["end"] - start, 0, None)
        counts = rng.poisson(rate * length)
        rep = np.repeat(np.arange(len(start)), counts)
        parts.append(pd.DataFrame({"person": seg["person"][rep], "t": start[rep] + rng.random(len(rep)) * length[rep],
                                   "state": seg["state"][rep], "kind": kind}))
    occ = pd.concat(parts, ignore_index=True)
    occ["day"] = day_number(occ["t"].to_numpy())
    occ = occ.sort_values(["person", "t"], kind="stable").drop_duplicates(["person", "day", "kind"])
    return occ.reset_index(drop=True)


def _ou_paths(person: np.ndarray, t: np.ndarray, sd: float, reversion: float, rng) -> np.ndarray:
    """A stationary Ornstein-Uhlenbeck process sampled at sorted times within each person."""
    out = np.empty(len(t))
    first = np.ones(len(t), bool)
    first[1:] = person[1:] != person[:-1]
    rank = np.arange(len(t)) - np.maximum.accumulate(np.where(first, np.arange(len(t)), 0))
    z = rng.standard_normal(len(t))
    out[first] = sd * z[first]
    for k in range(1, int(rank.max(initial=0)) + 1):
        at = np.flatnonzero(rank == k)
        decay = np.exp(-reversion * (t[at] - t[at - 1]))
        out[at] = out[at - 1] * decay + sd * np.sqrt(1 - decay**2) * z[at]
    return out


def _expected_item(m: np.ndarray, sd: float, high: int) -> np.ndarray:
    """E[clip(round(m + eps), 0, high)], eps ~ N(0, sd)."""
    k = np.arange(1, high + 1)
    return ndtr((m[:, None] - k[None, :] + 0.5) / sd).sum(axis=1)


def _item_scores(m: np.ndarray, sd: float, high: int, rng) -> np.ndarray:
    return np.clip(np.round(m + sd * rng.standard_normal(m.shape)), 0, high) + 0.0


def generate(segments: dict, keep: np.ndarray, pop, muni, person_ids: np.ndarray, first_service: np.ndarray, *,
             seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``assessments`` table and, per occasion and instrument, the true and observed raw scores.

    Returns
    -------
    assessments : DataFrame
        The contract table.
    scores : DataFrame
        ``person``, ``t``, ``instrument``, ``true_score``, ``observed_score``, ``complete`` (all items
        answered), ``group`` - the basis of the truth (never written as a table).
    """
    rng = generator(seed, "assessments")
    occ = _occasions(segments, keep, muni, rng)
    person, t = occ["person"].to_numpy(), occ["t"].to_numpy()
    group, sev_c = pop.group[person], pop.severity[person] - 2.0
    lat = LATENT
    phi0_person = (np.asarray(lat["phi0_group"])[pop.group] + lat["phi0_severity"] * (pop.severity - 2.0)
                   + lat["phi0_sd"] * rng.standard_normal(pop.n))
    rho0_person = lat["rho0_sd"] * rng.standard_normal(pop.n)
    potential = lat["recovery_mean"] + lat["recovery_sd"] * rng.standard_normal(pop.n)
    since = np.clip(t - first_service[person], 0, None)
    recovered = potential[person] * (1 - np.exp(-since / lat["recovery_tau_years"]))
    step = np.array([lat["step_effect"][s] for s in ("none", "SEL82", "SEL85", "SEL107", "ABL105", "SEL108", "out")])
    phi = phi0_person[person] + step[occ["state"].to_numpy()] - recovered + _ou_paths(
        person, t, lat["eta_sd"], lat["eta_reversion_per_year"], rng)
    phi_typical = np.asarray(lat["phi0_group"])[group] + lat["phi0_severity"] * sev_c
    rho = (rho0_person[person] - lat["rho_lambda"] * (phi - phi_typical)
           + _ou_paths(person, t, lat["psi_sd"], lat["psi_reversion_per_year"], rng))

    frames, scores = [], []
    vum = occ["kind"].to_numpy() == "VUM"
    iv = np.flatnonzero(vum)
    levels, expected, relevant = [], [], []
    for domain in VUM_DOMAINS:
        intercepts, loading, p9 = VUM_ITEMS[domain]
        m = np.asarray(intercepts)[group[iv]] + loading * phi[iv]
        levels.append(_item_scores(m, VUM_ERROR_SD, 4, rng))
        expected.append(_expected_item(m, VUM_ERROR_SD, 4))
        relevant.append(rng.random(len(iv)) >= p9)
    levels, expected, relevant = np.column_stack(levels), np.column_stack(expected), np.column_stack(relevant)
    n_rel = relevant.sum(axis=1)
    ok = n_rel > 0
    scores.append(pd.DataFrame({
        "person": person[iv][ok], "t": t[iv][ok], "instrument": "VUM", "group": group[iv][ok],
        "true_score": (expected * relevant).sum(axis=1)[ok] / n_rel[ok],
        "observed_score": (levels * relevant).sum(axis=1)[ok] / n_rel[ok], "complete": True}))
    frames.append(_long(person[iv], occ["day"].to_numpy()[iv], "VUM", list(VUM_DOMAINS),
                        np.where(relevant, levels, 9.0)))

    isv = np.flatnonzero(~vum)
    for instrument, (n_items, high, intercept, loading, sd, p_incl) in SURVEYS.items():
        sel = isv[rng.random(len(isv)) < p_incl]
        m = intercept + loading * rho[sel]
        items = _item_scores(np.repeat(m[:, None], n_items, axis=1), sd, high, rng)
        missing = rng.random(items.shape) < SCHEDULE["item_nonresponse"]
        exp_item = _expected_item(m, sd, high)
        agg = (lambda x: x.mean(axis=1)) if RAW_RULE[instrument] == "mean" else (lambda x: x.sum(axis=1))
        scores.append(pd.DataFrame({
            "person": person[sel], "t": t[sel], "instrument": instrument, "group": group[sel],
            "true_score": exp_item * (1 if RAW_RULE[instrument] == "mean" else n_items),
            "observed_score": agg(items), "complete": ~missing.any(axis=1)}))
        frames.append(_long(person[sel], occ["day"].to_numpy()[sel], instrument,
                            [str(i) for i in range(1, n_items + 1)], np.where(missing, np.nan, items)))
    return _table(frames, person_ids), pd.concat(scores, ignore_index=True)


INSTRUMENT_ORDER = ("VUM", "WHO5", "INSPIRE_O", "QPR15")


def _long(person, day, instrument: str, items: list[str], values: np.ndarray) -> dict[str, np.ndarray]:
    """Long format as arrays: one row per occasion and item (instrument and item as codes)."""
    n, k = values.shape
    return {"person": np.repeat(person, k), "day": np.repeat(day, k),
            "instrument": np.full(n * k, INSTRUMENT_ORDER.index(instrument), np.int32),
            "item": np.tile(np.arange(k, dtype=np.int32), n), "score": values.ravel().astype(float),
            "items": items}


def _table(parts: list[dict], person_ids: np.ndarray) -> pd.DataFrame:
    """The contract table, sorted by person, date, instrument (VUM, WHO5, INSPIRE_O, QPR15) and item number."""
    labels = sorted({lab for p in parts for lab in p["items"]})
    cols = {k: np.concatenate([p[k] if k != "item" else np.searchsorted(labels, np.asarray(p["items"]))[p["item"]]
                               for p in parts]) for k in ("person", "day", "instrument", "item", "score")}
    item_rank = np.concatenate([p["item"] for p in parts])
    order = np.lexsort((item_rank, cols["instrument"], cols["day"], person_ids[cols["person"]]))
    del item_rank
    return pd.DataFrame({
        "person_id": person_ids[cols.pop("person")[order]].astype(np.int64),
        "assessment_date": to_datetime(cols.pop("day")[order]),
        "instrument": strings(cols.pop("instrument")[order], INSTRUMENT_ORDER),
        "item": strings(cols.pop("item")[order], labels),
        "score": cols.pop("score")[order],
    }, copy=False)


def change_truth(scores: pd.DataFrame) -> dict:
    """Reliability, true change and true reliable-change classes per instrument and target group.

    Pairs: each person's first occasion of an instrument (complete) and the complete occasion closest
    to 12 months later within +-3 months.
    """
    out = {}
    target = FOLLOWUP["months"] / 12
    window = FOLLOWUP["window_months"] / 12
    for instrument, s in scores[scores["complete"]].groupby("instrument", sort=True):
        s = s.sort_values(["person", "t"])
        base = s.groupby("person").head(1).set_index("person")
        reliability = float(base["true_score"].var() / base["observed_score"].var())
        sd_pre = float(base["observed_score"].std())
        pre = base[["t", "true_score", "observed_score"]].add_suffix("_pre")
        merged = s.merge(pre, left_on="person", right_index=True)
        merged["dist"] = (merged["t"] - merged["t_pre"] - target).abs()
        post = merged[merged["dist"] <= window].sort_values(["person", "dist"]).groupby("person").head(1)
        delta = post["true_score"] - post["true_score_pre"]
        delta_obs = post["observed_score"] - post["observed_score_pre"]
        threshold = FOLLOWUP["rc_z"] * np.sqrt(2) * sd_pre * np.sqrt(max(1 - reliability, 0.0))
        sign = -1.0 if LOWER_IS_BETTER[instrument] else 1.0
        entry = {"reliability_realised": reliability, "sd_baseline_observed": sd_pre,
                 "rc_threshold_raw": float(threshold), "raw_rule": RAW_RULE[instrument],
                 "lower_is_better": LOWER_IS_BETTER[instrument], "n_pairs": int(len(post)),
                 "true_change": _describe(delta), "observed_change": _describe(delta_obs), "by_group": {}}
        for g, name in [(None, "all"), *enumerate(GROUPS)]:
            sel = np.ones(len(post), bool) if g is None else (post["group"].to_numpy() == g)
            entry["by_group"][name] = {
                "n_pairs": int(sel.sum()),
                "true_shares": _classes(sign * delta.to_numpy()[sel], threshold),
                "observed_shares": _classes(sign * delta_obs.to_numpy()[sel], threshold),
            }
        out[instrument] = entry
    return out


#: Functioning levels from the mean VUM item score over the relevant domains: [0, 1) light, [1, 2)
#: moderate, [2, 4] severe limitation (the observed level from the rated items, the true level from the
#: expected score given the latent functioning, i.e. the level a rater without error would give).
VUM_LEVEL_CUTS = (1.0, 2.0)
VUM_LEVELS = ("light", "moderate", "severe")


def vum_level_truth(scores: pd.DataFrame) -> dict:
    """How raters misclassify VUM functioning levels: the share of occasions of each true level rated at
    each level (rows true, columns rated), the shares of the true and rated levels, and the share of
    occasions rated at another level than the true one."""
    s = scores[scores["instrument"] == "VUM"]
    true = np.searchsorted(VUM_LEVEL_CUTS, s["true_score"].to_numpy(), side="right")
    rated = np.searchsorted(VUM_LEVEL_CUTS, s["observed_score"].to_numpy(), side="right")
    k = len(VUM_LEVELS)
    counts = np.zeros((k, k))
    np.add.at(counts, (true, rated), 1.0)
    rows = counts.sum(axis=1, keepdims=True)
    return {"cuts": list(VUM_LEVEL_CUTS), "levels": list(VUM_LEVELS), "n_occasions": int(len(s)),
            "misclassification": (counts / np.where(rows > 0, rows, 1.0)).tolist(),
            "true_shares": (counts.sum(axis=1) / max(len(s), 1)).tolist(),
            "rated_shares": (counts.sum(axis=0) / max(len(s), 1)).tolist(),
            "share_misclassified": float(1.0 - np.trace(counts) / max(len(s), 1))}


def _describe(x: pd.Series) -> dict:
    q = x.quantile([0.1, 0.5, 0.9]).to_numpy() if len(x) else [np.nan] * 3
    return {"mean": float(x.mean()), "sd": float(x.std()), "p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2])}


def _classes(improvement: np.ndarray, threshold: float) -> dict:
    n = max(len(improvement), 1)
    return {"progression": float((improvement > threshold).sum() / n),
            "maintenance": float((np.abs(improvement) <= threshold).sum() / n),
            "degression": float((improvement < -threshold).sum() / n)}


def truth() -> dict:
    """Generating parameters of the assessments."""
    return {"vum_domains": list(VUM_DOMAINS),
            "vum_items_intercepts_by_group_loading_p_not_relevant": {k: list(v) for k, v in VUM_ITEMS.items()},
            "vum_error_sd": VUM_ERROR_SD,
            "surveys_items_high_intercept_loading_error_sd_inclusion": {k: list(v) for k, v in SURVEYS.items()},
            "latent": LATENT, "schedule": SCHEDULE, "followup_pairing": FOLLOWUP, "raw_rule": RAW_RULE}
