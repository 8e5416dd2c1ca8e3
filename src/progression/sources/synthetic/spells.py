"""Service spells and moves: from simulated paths to register-like tables, with the register's quirks.

*True* service episodes are the path segments on a step (one paragraph per step; §82 is §82a or §82b),
plus

* concurrent §82 episodes during §85 (a citizen can hold several services, Social- og Boligstyrelsen 2024,
  *Kommunernes omlægning til Borgeren ved roret*, note to Figur 4 and 5),
* side services §103, §104 and §97 over part of a person's service career (Social- og Boligstyrelsen 2024,
  «Kontakter på tværs af velfærdsområder», and Figur 6 and 7).

The *recorded* spells add the quirks of real register data:

* §82 under-registration: a share of §82 spells is missing (Social- og Boligstyrelsen 2024, «Registrering og
  opgørelse af data for aktiviteter og udgifter»: §82 is poorly registered);
* same-day paragraph changes: at a change, the old spell ends on the day the new one starts;
* late closures: the old spell is closed 1-90 days after the new one started (overlapping spells);
* open spells: ``end_date`` is missing for spells ongoing at the extract date.

Otherwise a paragraph change at day ``d`` ends the old spell on ``d - 1`` and starts the new on ``d``.
Costs are computed from the true episodes, analyses see the recorded spells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._calendar import day_number, to_datetime, year_start
from ._columns import strings
from ._random import generator
from .persons import GROUPS
from .process import END_EXTRACT, END_MOVE, END_TRANSITION

#: Paragraph codes of the true episodes; index = code used internally.
PARAGRAPH_CODES = ("SEL82a", "SEL82b", "SEL85", "SEL107", "ABL105", "SEL108", "SEL103", "SEL104", "SEL97")
STATE_PARAGRAPH = {2: "SEL85", 3: "SEL107", 4: "ABL105", 5: "SEL108"}
SEL82A_SHARE = 0.4
CONCURRENT_SEL82_RATE = 0.03  # per year on §85
CONCURRENT_SEL82_MEAN_YEARS = 0.5
#: Probability of a side service over the service career, by target group (kognitivt, sind, begge).
SIDE_SERVICE_PROBS = {"SEL103": (0.30, 0.08, 0.28), "SEL104": (0.42, 0.12, 0.40), "SEL97": (0.20, 0.015, 0.16)}
SIDE_SERVICE_DELAY_YEARS = 0.5
SIDE_SERVICE_MEAN_YEARS = 25.0
LATE_CLOSURE_MAX_DAYS = 90


def true_episodes(segments: dict, pop, seed: int) -> pd.DataFrame:
    """True service episodes (main steps, concurrent §82, side services) of every simulated person.

    Returns
    -------
    DataFrame
        ``person`` (internal index), ``code`` (index into :data:`PARAGRAPH_CODES`), ``start``, ``end``
        (years since 1970), ``municipality`` (index), ``reason`` (how the episode ended),
        ``next_code`` (code of the episode that follows a paragraph change, else -1).
    """
    rng = generator(seed, "episodes")
    seg = {k: v[(segments["state"] >= 1) & (segments["state"] <= 5)] for k, v in segments.items()}
    n = len(seg["person"])
    code = np.empty(n, np.int64)
    is82 = seg["state"] == 1
    code[is82] = np.where(rng.random(is82.sum()) < SEL82A_SHARE, 0, 1)
    for state, par in STATE_PARAGRAPH.items():
        code[seg["state"] == state] = PARAGRAPH_CODES.index(par)
    main = pd.DataFrame({"person": seg["person"], "code": code, "start": seg["start"], "end": seg["end"],
                         "municipality": seg["municipality"], "reason": seg["reason"]})
    following = (main["person"].shift(-1) == main["person"]) & (main["reason"] == END_TRANSITION) \
        & np.isclose(main["start"].shift(-1), main["end"])
    main["next_code"] = np.where(following, main["code"].shift(-1, fill_value=-1), -1).astype(np.int64)
    return pd.concat([main, _concurrent_sel82(main, rng), _side_services(main, pop, rng)], ignore_index=True)


def _concurrent_sel82(main: pd.DataFrame, rng) -> pd.DataFrame:
    """§82 episodes held at the same time as §85 (at most one per §85 episode)."""
    s85 = main[main["code"] == PARAGRAPH_CODES.index("SEL85")]
    length = (s85["end"] - s85["start"]).to_numpy()
    has = rng.random(len(s85)) < 1 - np.exp(-CONCURRENT_SEL82_RATE * length)
    start = s85["start"].to_numpy()[has] + rng.random(has.sum()) * length[has]
    end = np.minimum(start + rng.exponential(CONCURRENT_SEL82_MEAN_YEARS, has.sum()), s85["end"].to_numpy()[has])
    ended_by_parent = end == s85["end"].to_numpy()[has]
    return pd.DataFrame({
        "person": s85["person"].to_numpy()[has], "code": np.where(rng.random(has.sum()) < SEL82A_SHARE, 0, 1),
        "start": start, "end": end, "municipality": s85["municipality"].to_numpy()[has],
        "reason": np.where(ended_by_parent, s85["reason"].to_numpy()[has], END_TRANSITION), "next_code": -1,
    })


def _side_services(main: pd.DataFrame, pop, rng) -> pd.DataFrame:
    """§103, §104 and §97 episodes within a person's service career (first start to last end)."""
    career = main.groupby("person").agg(start=("start", "min"), end=("end", "max"))
    last = main.sort_values(["person", "end"]).groupby("person").tail(1).set_index("person")
    persons = career.index.to_numpy()
    group = pop.group[persons]
    frames = []
    for par, probs in SIDE_SERVICE_PROBS.items():
        has = rng.random(len(persons)) < np.asarray(probs)[group]
        start = career["start"].to_numpy()[has] + rng.exponential(SIDE_SERVICE_DELAY_YEARS, has.sum())
        career_end = career["end"].to_numpy()[has]
        end = np.minimum(start + rng.exponential(SIDE_SERVICE_MEAN_YEARS, has.sum()), career_end)
        keep = start < career_end
        who = persons[has][keep]
        frames.append(pd.DataFrame({
            "person": who, "code": PARAGRAPH_CODES.index(par), "start": start[keep], "end": end[keep],
            "municipality": last.loc[who, "municipality"].to_numpy(),
            "reason": np.where(end[keep] == career_end[keep], last.loc[who, "reason"].to_numpy(), END_TRANSITION),
            "next_code": -1,
        }))
    return pd.concat(frames, ignore_index=True)


def recorded_spells(episodes: pd.DataFrame, person_ids: np.ndarray, muni_codes: np.ndarray, params,
                    *, t_window: float, seed: int) -> tuple[pd.DataFrame, dict]:
    """The ``spells`` table as a register would hold it, and the realised quirk counts.

    Parameters
    ----------
    episodes : DataFrame
        From :func:`true_episodes`.
    person_ids : ndarray
        Person id by internal index (0 = not in the data).
    muni_codes : ndarray
        DST code by municipality index.
    params : SyntheticParams
        ``sel82_unrecorded_share``, ``same_day_change_share``, ``overlap_share``.
    t_window : float
        Start of the data window: spells that ended before it are not in the extract.
    """
    rng = generator(seed, "recording")
    ep = episodes[(person_ids[episodes["person"].to_numpy()] > 0) & (episodes["end"] >= t_window)]
    is82 = ep["code"].to_numpy() <= 1
    unrecorded = is82 & (rng.random(len(ep)) < params.sel82_unrecorded_share)
    ep = ep[~unrecorded]
    start_day = day_number(ep["start"].to_numpy())
    end_day = day_number(ep["end"].to_numpy())
    reason = ep["reason"].to_numpy()
    change = (reason == END_TRANSITION) & (ep["next_code"].to_numpy() >= 0)
    u = rng.random(len(ep))
    same_day = change & (u < params.same_day_change_share)
    late = change & ~same_day & (u < params.same_day_change_share + params.overlap_share)
    last_day = np.where(np.isin(reason, (END_TRANSITION, END_MOVE)), end_day - 1, end_day)
    last_day = np.where(same_day, end_day, last_day)
    last_day = np.where(late, end_day + rng.integers(1, LATE_CLOSURE_MAX_DAYS + 1, len(ep)), last_day)
    last_day = np.maximum(last_day, start_day)
    is_open = reason == END_EXTRACT
    spells = pd.DataFrame({
        "person_id": person_ids[ep["person"].to_numpy()].astype(np.int64),
        "paragraph": strings(ep["code"].to_numpy(), PARAGRAPH_CODES),
        "municipality": muni_codes[ep["municipality"].to_numpy()].astype(np.int64),
        "start_date": to_datetime(start_day),
        "end_date": pd.Series(to_datetime(last_day)).where(~is_open).to_numpy(),
    })
    order = np.lexsort((last_day, ep["code"].to_numpy(), start_day, spells["person_id"].to_numpy()))
    spells = spells.iloc[order]
    spells.insert(0, "spell_id", np.arange(1, len(spells) + 1, dtype=np.int64))
    quirks = {
        "sel82_true_spells": int(is82.sum()), "sel82_unrecorded_spells": int(unrecorded.sum()),
        "sel82_unrecorded_share_realised": float(unrecorded.sum() / max(is82.sum(), 1)),
        "paragraph_changes": int(change.sum()), "same_day_changes": int(same_day.sum()),
        "late_closures": int(late.sum()), "open_spells": int(is_open.sum()),
    }
    return spells.reset_index(drop=True), quirks


def moves_table(pop, person_ids: np.ndarray, muni_codes: np.ndarray, *, t_window: float) -> pd.DataFrame:
    """The ``moves`` table: moves of persons in the data within the window (one per person and day)."""
    owner = np.repeat(np.arange(pop.n), np.diff(pop.move_offsets))
    keep = (person_ids[owner] > 0) & (pop.move_t >= t_window)
    moves = pd.DataFrame({
        "person_id": person_ids[owner[keep]].astype(np.int64),
        "move_date": to_datetime(day_number(pop.move_t[keep])),
        "from_municipality": muni_codes[pop.move_from[keep]].astype(np.int64),
        "to_municipality": muni_codes[pop.move_to[keep]].astype(np.int64),
    })
    moves = moves.drop_duplicates(["person_id", "move_date"], keep="last")
    moves = moves[moves["from_municipality"] != moves["to_municipality"]]
    return moves.sort_values(["person_id", "move_date"]).reset_index(drop=True)


def truth(params) -> dict:
    """Generating parameters of the episodes and of the recording quirks."""
    return {
        "sel82a_share": SEL82A_SHARE, "concurrent_sel82_rate_per_year_on_sel85": CONCURRENT_SEL82_RATE,
        "concurrent_sel82_mean_years": CONCURRENT_SEL82_MEAN_YEARS,
        "side_service_probs_by_group": {k: dict(zip(GROUPS, v)) for k, v in SIDE_SERVICE_PROBS.items()},
        "side_service_delay_years": SIDE_SERVICE_DELAY_YEARS, "side_service_mean_years": SIDE_SERVICE_MEAN_YEARS,
        "sel82_unrecorded_share": params.sel82_unrecorded_share,
        "same_day_change_share": params.same_day_change_share, "late_closure_share": params.overlap_share,
        "late_closure_days": [1, LATE_CLOSURE_MAX_DAYS],
        "paragraph_change_rule": "old spell ends the day before the new starts, except same-day changes "
                                 "and late closures",
    }


def window_start(params) -> float:
    """Time of 1 January of ``start_year``."""
    return float(year_start([params.start_year])[0])
