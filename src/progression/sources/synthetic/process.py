"""The continuous-time multi-state process over the staircase.

States: ``none`` (no service, may re-enter), the five steps ``SEL82``, ``SEL85``, ``SEL107``,
``ABL105``, ``SEL108``, and ``out`` (left the target group for good; absorbing, never observed as
such). Death, emigration and the end of the extract censor a path; moves between municipalities are
breakpoints where the municipal covariates change.

Intensities are log-linear in covariates (msm's ``q_rs(z) = q_rs^0 exp(beta' z)``)::

    q_rs(z) = Q0[r, s] * exp(beta_class(r, s)' z + g[group, s])

where ``class`` is *up* (to a higher step), *down* (to a lower step or none) or *entry*
(none -> a step), using the levels of the configured staircase, and ``z`` holds

* ``age10``: (age at the last 1 January - 40) / 10,
* ``mental``, ``both``: target group dummies (reference: kognitivt_handicap),
* ``severity``: severity - 2,
* ``practice``: the municipality's practice effect (sd 1),
* ``recovery``: 1 from the municipality's ``recovery_start_year`` on,
* intervention effects on *up* and *entry* after enrolment.

``g`` are destination effects by target group (the mentally ill rarely go to §108/ABL §105) plus,
from the recovery start on, a destination effect that favours §82.

Simulation (Gillespie-type, vectorised over persons): in each round every active person draws the
time to the next event from the total rate with a keyed uniform, and the destination with a second
one; if a breakpoint (1 January, a move, death/emigration/extract) comes first, the person is moved
to it without an event (memorylessness makes this exact for piecewise-constant intensities).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._calendar import year_start
from ._random import keyed_uniform
from .interventions import INTERVENTIONS, UPTAKE
from .persons import GROUPS, STATES

#: Baseline intensities per year for the reference person (kognitivt_handicap, severity 2, age 40,
#: practice 0, no recovery orientation). Tuned so that 2022 matches Social- og Boligstyrelsen (2024), *Kommunernes
#: omlægning til Borgeren ved roret*: Figur 4 (the service shares) and the text beside Figur 11 and 12 (the moves
#: from §85).
BASELINE_Q: dict[str, dict[str, float]] = {
    "none": {"SEL82": 0.09, "SEL85": 0.12, "SEL107": 0.01, "ABL105": 0.004, "SEL108": 0.001, "out": 0.25},
    "SEL82": {"none": 1.0, "SEL85": 0.10, "SEL107": 0.015, "ABL105": 0.01},
    "SEL85": {"none": 0.15, "SEL82": 0.03, "SEL107": 0.025, "ABL105": 0.01, "SEL108": 0.002},
    "SEL107": {"none": 0.07, "SEL82": 0.005, "SEL85": 0.08, "ABL105": 0.07, "SEL108": 0.015},
    "ABL105": {"none": 0.02, "SEL85": 0.05, "SEL107": 0.01, "SEL108": 0.006},
    "SEL108": {"none": 0.004, "SEL85": 0.01, "SEL107": 0.003, "ABL105": 0.04},
}
COVARIATES = ("age10", "mental", "both", "severity", "practice", "recovery")
#: Log hazard ratios by transition class; ``recovery`` of up/down comes from the parameters.
COEFFICIENTS: dict[str, dict[str, float]] = {
    "up": {"age10": 0.05, "mental": -0.10, "both": 0.15, "severity": 0.35, "practice": 0.15},
    "down": {"age10": -0.10, "mental": 0.20, "both": -0.10, "severity": -0.35, "practice": -0.10},
    "entry": {"age10": -0.15, "mental": 0.20, "both": 0.10, "severity": 0.30, "practice": 0.10, "recovery": 0.0},
}
#: Log multipliers of the intensities into a destination, by target group.
DESTINATION_GROUP_EFFECTS: dict[str, dict[str, float]] = {
    "sindslidelse": {"SEL85": 0.20, "ABL105": -0.90, "SEL108": -0.60},
    "begge": {"ABL105": 0.10, "SEL108": 0.20},
}
#: Log multipliers of the intensities into a destination from the municipality's recovery start on
#: (recovery-oriented municipalities use more preventive §82 support, Social- og Boligstyrelsen 2024, Figur 10).
RECOVERY_DESTINATION_EFFECTS: dict[str, float] = {"SEL82": 0.4}
CLASSES = ("up", "down", "entry", "other")
OUT = STATES.index("out")
NONE = STATES.index("none")

END_TRANSITION, END_MOVE, END_DEATH, END_EMIGRATION, END_EXTRACT = range(5)


def state_levels(staircase) -> np.ndarray:
    """Staircase level of each simulated state (``none`` and ``out`` get the no-service level).

    Raises
    ------
    ValueError
        If a simulated paragraph is on no step, or the paragraphs of one state are on different levels.
    """
    levels = staircase.paragraph_levels()
    none_level = min(s.level for s in staircase.steps if not s.paragraphs)
    paragraphs = {"SEL82": ("SEL82a", "SEL82b"), "SEL85": ("SEL85",), "SEL107": ("SEL107",),
                  "ABL105": ("ABL105",), "SEL108": ("SEL108",)}
    out = []
    for state in STATES:
        if state in ("none", "out"):
            out.append(none_level)
            continue
        missing = [p for p in paragraphs[state] if p not in levels]
        if missing:
            raise ValueError(f"staircase: paragraph(s) {missing} of the synthetic state {state} are on no step; "
                             f"steps: {[s.name for s in staircase.steps]}")
        found = {levels[p] for p in paragraphs[state]}
        if len(found) > 1:
            raise ValueError(f"staircase: paragraphs {paragraphs[state]} of state {state} must share one level, "
                             f"found levels {sorted(found)}")
        out.append(found.pop())
    return np.array(out, dtype=float)


def coefficient_table(params) -> dict[str, dict[str, float]]:
    """All covariate coefficients, with the recovery effects from ``params``."""
    table = {k: dict(v) for k, v in COEFFICIENTS.items()}
    table["up"]["recovery"] = params.recovery_up_log_hr
    table["down"]["recovery"] = params.recovery_down_log_hr
    return table


@dataclass(frozen=True)
class ProcessContext:
    """Everything the simulation needs, as arrays."""

    q0: np.ndarray            # (7, 7) baseline intensities
    cls: np.ndarray           # (7, 7) class index (0 up, 1 down, 2 entry, 3 other)
    coef: np.ndarray          # (3, n_covariates)
    dest_group: np.ndarray    # (3 groups, 7)
    dest_recovery: np.ndarray  # (7,)
    levels: np.ndarray        # (7,)
    jan1: np.ndarray          # times of 1 January for years year0 ..
    year0: int
    practice: np.ndarray      # by municipality
    recovery_year: np.ndarray  # by municipality (inf = never)
    offers: np.ndarray        # (municipalities, interventions) first offer year, inf = never
    eligible: np.ndarray      # (interventions, 7)
    group_ok: np.ndarray      # (interventions, 3)
    age_range: np.ndarray     # (interventions, 2)
    enrol_rate: np.ndarray    # (interventions,)
    escalation: np.ndarray    # (interventions, 2): log HR and its slope per severity
    t_extract: float


def build_context(params, staircase, muni, offers: np.ndarray, *, t_extract: float, first_year: int) -> ProcessContext:
    """Arrays of the process for the given parameters, staircase, municipalities and intervention offers."""
    n = len(STATES)
    levels = state_levels(staircase)
    q0 = np.zeros((n, n))
    for r, row in BASELINE_Q.items():
        for s, rate in row.items():
            q0[STATES.index(r), STATES.index(s)] = rate
    cls = np.full((n, n), 3, np.int64)
    for r in range(n):
        for s in range(n):
            if r == s or s == OUT:
                continue
            if r in (NONE, OUT):
                cls[r, s] = 2
            else:
                cls[r, s] = 0 if levels[s] > levels[r] else 1
    table = coefficient_table(params)
    coef = np.array([[table[c].get(v, 0.0) for v in COVARIATES] for c in CLASSES[:3]])
    dest_group = np.zeros((len(GROUPS), n))
    for g, effects in DESTINATION_GROUP_EFFECTS.items():
        for s, v in effects.items():
            dest_group[GROUPS.index(g), STATES.index(s)] = v
    dest_recovery = np.array([RECOVERY_DESTINATION_EFFECTS.get(s, 0.0) for s in STATES])
    eligible = np.array([[st in spec.eligible_states for st in STATES] for spec in INTERVENTIONS])
    group_ok = np.array([[spec.target_group in ("alle", g) or (g == "begge" and spec.target_group != "alle")
                          for g in GROUPS] for spec in INTERVENTIONS])
    years = np.arange(first_year - 1, params.end_year + 3)
    return ProcessContext(
        q0=q0, cls=cls, coef=coef, dest_group=dest_group, dest_recovery=dest_recovery, levels=levels,
        jan1=year_start(years),
        year0=int(years[0]), practice=muni.practice,
        recovery_year=np.where(np.isnan(muni.recovery_start_year), np.inf, muni.recovery_start_year),
        offers=offers, eligible=eligible, group_ok=group_ok,
        age_range=np.array([[s.min_age, s.max_age] for s in INTERVENTIONS]),
        enrol_rate=np.array([s.enrol_rate for s in INTERVENTIONS]),
        escalation=np.array([[s.escalation_log_hr, s.escalation_log_hr_per_severity] for s in INTERVENTIONS]),
        t_extract=t_extract,
    )


def _intensities(ctx: ProcessContext, state, group, sev_c, age10, muni, year, enrolled, effects: bool):
    """Transition intensities (n, 7) for the active persons."""
    recovery = year >= ctx.recovery_year[muni]
    z = np.column_stack([age10, group == 1, group == 2, sev_c, ctx.practice[muni], recovery]).astype(float)
    lin = z @ ctx.coef.T
    if effects:
        treated = enrolled >= 0
        k = enrolled[treated]
        shift = ctx.escalation[k, 0] + ctx.escalation[k, 1] * sev_c[treated]
        lin[treated, 0] += shift
        lin[treated, 2] += shift
    lin = np.column_stack([lin, np.zeros(len(state))])
    eff = (np.take_along_axis(lin, ctx.cls[state], axis=1) + ctx.dest_group[group]
           + recovery[:, None] * ctx.dest_recovery[None, :])
    return ctx.q0[state] * np.exp(eff)


def _enrolment_rates(ctx: ProcessContext, state, group, sev_c, age, employability, muni, year, enrolled):
    """Enrolment intensities (n, interventions); zero where not eligible or already enrolled."""
    ok = (ctx.eligible[:, state].T & ctx.group_ok[:, group].T
          & (age[:, None] >= ctx.age_range[:, 0]) & (age[:, None] <= ctx.age_range[:, 1])
          & (ctx.offers[muni] <= year[:, None]) & (enrolled < 0)[:, None])
    uptake = np.exp(UPTAKE["severity"] * sev_c + UPTAKE["age10"] * (age - 40) / 10
                    + UPTAKE["employability"] * employability)
    return np.where(ok, ctx.enrol_rate[None, :] * uptake[:, None], 0.0)


class _Segments:
    """Accumulates closed segments (person, state, start, end, municipality, end reason)."""

    def __init__(self):
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, person, state, start, end, muni, reason):
        self.parts.append((person, state.astype(np.int8), start, end, muni, np.broadcast_to(
            np.asarray(reason, np.int8), person.shape).copy()))

    def arrays(self) -> dict[str, np.ndarray]:
        names = ("person", "state", "start", "end", "municipality", "reason")
        empty = (np.empty(0, np.int64), np.empty(0, np.int8), np.empty(0), np.empty(0), np.empty(0, np.int64),
                 np.empty(0, np.int8))
        cols = [np.concatenate([e, *c]) for e, c in zip(empty, zip(*self.parts))] if self.parts else list(empty)
        order = np.lexsort((cols[2], cols[0]))
        return {k: c[order] for k, c in zip(names, cols)}


def simulate_paths(pop, ctx: ProcessContext, *, seed: int, persons: np.ndarray | None = None,
                   effects: bool = True) -> dict:
    """Simulate the multi-state paths of ``persons`` (default: everybody).

    Parameters
    ----------
    pop : Population
    ctx : ProcessContext
    seed : int
        Master seed; the k-th draw of person i is keyed on (seed, i, k), so a subset reproduces
        the full run's draws.
    persons : ndarray of int, optional
        Internal person indices to simulate.
    effects : bool, default=True
        Whether intervention effects act (False gives the untreated potential paths).

    Returns
    -------
    dict
        ``segments`` (dict of arrays: person, state, start, end, municipality, reason) and
        ``enrolments`` (person, intervention, t, municipality).
    """
    pid = np.arange(pop.n) if persons is None else np.asarray(persons)
    state = pop.state0[pid].astype(np.int64)
    t = pop.t0[pid].copy()
    seg_start = pop.seg_start0[pid].copy()
    death, emig = pop.death_t[pid], pop.emig_t[pid]
    t_end = np.minimum(np.minimum(death, emig), ctx.t_extract)
    end_reason = np.where(t_end == death, END_DEATH, np.where(t_end == emig, END_EMIGRATION, END_EXTRACT))
    muni = pop.muni0[pid].copy()
    mv_ptr, mv_stop = pop.move_offsets[pid].copy(), pop.move_offsets[pid + 1]
    group, sev_c = pop.group[pid].astype(np.int64), pop.severity[pid] - 2.0
    employability, birth = pop.employability[pid], pop.birth_t[pid]
    enrolled = np.full(len(pid), -1, np.int64)
    counter = np.zeros(len(pid), np.int64)
    segs = _Segments()
    enrol_parts = []
    move_t_padded = np.append(pop.move_t, np.inf)
    active = np.flatnonzero(t < t_end)
    while active.size:
        a = active
        ta = t[a]
        yi = np.searchsorted(ctx.jan1, ta, side="right") - 1
        year = ctx.year0 + yi
        next_move = np.where(mv_ptr[a] < mv_stop[a], move_t_padded[mv_ptr[a]], np.inf)
        b = np.minimum(np.minimum(ctx.jan1[yi + 1], next_move), t_end[a])
        age_jan1 = ctx.jan1[yi] - birth[a]
        st, ma, ea = state[a], muni[a], enrolled[a]
        rates = _intensities(ctx, st, group[a], sev_c[a], (age_jan1 - 40) / 10, ma, year, ea, effects)
        enrol = _enrolment_rates(ctx, st, group[a], sev_c[a], ta - birth[a], employability[a], ma, year, ea)
        cum = np.cumsum(np.concatenate([rates, enrol], axis=1), axis=1)
        lam = cum[:, -1]
        u_time = keyed_uniform(seed, "paths", pid[a], counter[a], slot=0)
        u_dest = keyed_uniform(seed, "paths", pid[a], counter[a], slot=1)
        with np.errstate(divide="ignore"):
            t_event = ta - np.log(u_time) / lam
        event = t_event < b
        counter[a] += 1

        # events: a transition (columns < 7) or an enrolment (columns >= 7)
        e = a[event]
        choice = (cum[event] < (u_dest[event] * lam[event])[:, None]).sum(axis=1)
        te = t_event[event]
        trans = choice < len(STATES)
        et = e[trans]
        segs.add(pid[et], state[et], seg_start[et], te[trans], muni[et], END_TRANSITION)
        state[et] = choice[trans]
        seg_start[et] = te[trans]
        t[e] = te
        ek = e[~trans]
        enrolled[ek] = choice[~trans] - len(STATES)
        enrol_parts.append((pid[ek], enrolled[ek], te[~trans], muni[ek]))
        gone_out = et[state[et] == OUT]
        segs.add(pid[gone_out], state[gone_out], t[gone_out], t_end[gone_out], muni[gone_out],
                 end_reason[gone_out])

        # breakpoints: end of the path, a move, or 1 January
        nb, bb, nm = a[~event], b[~event], next_move[~event]
        ends = bb >= t_end[nb]
        fin = nb[ends]
        segs.add(pid[fin], state[fin], seg_start[fin], t_end[fin], muni[fin], end_reason[fin])
        at_move = ~ends & (bb == nm)
        moving, tm = nb[at_move], bb[at_move]
        segs.add(pid[moving], state[moving], seg_start[moving], tm, muni[moving], END_MOVE)
        seg_start[moving] = tm
        muni[moving] = pop.move_to[mv_ptr[moving]]
        mv_ptr[moving] += 1
        t[nb] = bb
        active = a[(t[a] < t_end[a]) & (state[a] != OUT)]
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64))
    enrol_cols = [np.concatenate([e, *c]) for e, c in zip(empty, zip(*enrol_parts))] if enrol_parts else list(empty)
    return {"segments": segs.arrays(),
            "enrolments": dict(zip(("person", "intervention", "t", "municipality"), enrol_cols))}


def truth(params, staircase, ctx: ProcessContext) -> dict:
    """Baseline Q, every coefficient and the state levels."""
    return {
        "states": list(STATES),
        "state_levels": dict(zip(STATES, ctx.levels.tolist())),
        "baseline_q_per_year": {r: dict(row) for r, row in BASELINE_Q.items()},
        "baseline_q_matrix": ctx.q0.tolist(),
        "reference_person": "kognitivt_handicap, severity 2, age 40, practice 0, before recovery start",
        "covariates": list(COVARIATES),
        "coefficients_log_hr": coefficient_table(params),
        "destination_group_effects_log": DESTINATION_GROUP_EFFECTS,
        "recovery_destination_effects_log": RECOVERY_DESTINATION_EFFECTS,
        "transition_class": {f"{STATES[r]}->{STATES[s]}": CLASSES[ctx.cls[r, s]]
                             for r in range(len(STATES)) for s in range(len(STATES)) if ctx.q0[r, s] > 0},
        "age_covariate": "age10 = (age at the last 1 January - 40) / 10",
        "staircase_rule": staircase.rule,
    }
