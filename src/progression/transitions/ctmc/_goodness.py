"""Does the Markov model fit?  Observed against expected prevalence, the Pearson-type test, and
likelihood-ratio tests between nested models.

* Prevalence (msm ``prevalence.msm``; Gentleman et al. 1994): at times ``t_j`` the observed number in
  each state, assuming a citizen stays in the state of their last observation until the next one
  (or, with ``interp="midpoint"``, switches half-way), beside the expected number
  ``n(t_j) f' P(t_0, t_j) [E]`` of the ``n(t_j)`` citizens under observation, with ``f`` the distribution
  of states at ``t_0``; with covariates, summed over the covariate histories observed in the data.
* Pearson-type test (msm ``pearson.msm``; Aguirre-Hernandez & Farewell 2002; Titman & Sharples 2008):
  observed and expected counts of transitions between consecutive observations in groups of time
  since the start, of interval length and of covariate impact; ``T = sum (O - E)^2 / E``, with the
  null distribution of Titman (2009), a weighted sum of chi-square(1) variables, and the bounds
  chi-square(n - p) and chi-square(n).
* Likelihood ratio (msm ``lrtest.msm``): ``-2 log LR = -2 log L_0 - (-2 log L_1)``, chi-square with the
  difference in free parameters.

References
----------
Gentleman, R. C., Lawless, J. F., Lindsey, J. C. & Yan, P. (1994). Multi-state Markov models for analysing
incomplete disease history data with illustrations for HIV disease. Statistics in Medicine, 13(8), 805-821.

Aguirre-Hernandez, R. & Farewell, V. T. (2002). A Pearson-type goodness-of-fit test for stationary and
time-continuous Markov regression models. Statistics in Medicine, 21(13), 1899-1911.

Titman, A. C. & Sharples, L. D. (2008). A general goodness-of-fit test for Markov and hidden Markov models.
Statistics in Medicine, 27(12), 2177-2195.

Titman, A. C. (2009). Computation of the asymptotic null distribution of goodness-of-fit tests for
multi-state models. Lifetime Data Analysis, 15(4), 519-533.

Imhof, J. P. (1961). Computing the distribution of quadratic forms in normal variables. Biometrika,
48(3/4), 419-426.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.integrate
import scipy.linalg
import scipy.stats

from progression.exceptions import NotFittedError, ParameterError

from ._expm import expm_stack
from ._hmm import ForwardLikelihood, Sequences, prepare_sequences
from ._piecewise import piecewise_pmatrix


# ----------------------------------------------------------------------- observations of a fitted model
def observations(model) -> Sequences:
    """The model's data as sequences (cut-point rows of a ``pci`` model included, flagged)."""
    lik = getattr(model, "_lik", None)
    if isinstance(lik, ForwardLikelihood):
        return lik.seqs
    cached = getattr(model, "_observation_cache", None)
    if cached is not None:
        return cached
    call = model._fit_call
    seqs = prepare_sequences(model._fit_data, subject=call["subject"], time=call["time"], state=call["state"],
                             spec=model._spec, covariates=_as_list(call["covariates"]), hidden=True,
                             centre=model.center)
    model._observation_cache = seqs
    return seqs


def _as_list(columns) -> list[str]:
    if columns is None:
        return []
    return [columns] if isinstance(columns, str) else list(columns)


def _covariate_columns(model) -> list[str]:
    columns = _as_list(model._fit_call["covariates"])
    return columns + (["timeperiod"] if getattr(model, "pci_", None) else [])


# ----------------------------------------------------------------------- prevalence
def observed_states(seqs: Sequences, times: np.ndarray, absorbing: np.ndarray, *, interp: str = "start",
                    censtime=np.inf) -> np.ndarray:
    """State code (or -1) of every subject at every time: (n_subjects, n_times); msm ``observed.msm``."""
    rows = seqs.rows[~seqs.rows["inserted"].to_numpy()]
    subj = rows["_subject"].to_numpy()
    t = rows["_time"].to_numpy()
    code = rows["_code"].to_numpy()
    n = seqs.n_subjects
    first = np.flatnonzero(np.r_[True, subj[1:] != subj[:-1]])
    last = np.r_[first[1:], len(subj)] - 1
    t0 = t.min()
    span = t.max() - t0 + 1.0
    key = subj * span + (t - t0)
    censtime = np.broadcast_to(np.asarray(censtime, dtype=float), (n,))
    out = np.full((n, len(times)), -1)
    for j, tj in enumerate(times):
        pos = np.searchsorted(key, np.arange(n) * span + (tj - t0), side="right") - 1
        inside = (tj >= t[first]) & (tj <= t[last])
        prev = np.clip(pos, first, last)
        state = code[prev]
        if interp == "midpoint":
            nxt = np.minimum(prev + 1, last)
            use_next = (t[nxt] > tj) & (tj > (t[prev] + t[nxt]) / 2.0)
            state = np.where(use_next, code[nxt], state)
        after = (tj > t[last]) & absorbing[code[last]] & (tj <= censtime)
        out[:, j] = np.where(inside, state, np.where(after, code[last], -1))
    return out


def _histories(seqs: Sequences, columns: list[str]):
    """Each subject's covariate history (msm ``get.covhist``): values at the first observation, at each
    change and at the last, with the change times; returns (history index per subject, examples)."""
    rows = seqs.rows
    subj = rows["_subject"].to_numpy()
    n = seqs.n_subjects
    if not columns:
        return np.zeros(n, dtype=int), [([{}], [])]
    values = rows[columns].astype(object).to_numpy()
    text = np.array(["\x1f".join(map(str, v)) for v in values])
    first = np.r_[True, subj[1:] != subj[:-1]]
    last = np.r_[subj[1:] != subj[:-1], True]
    keep = np.r_[True, text[1:] != text[:-1]] | first | last
    times = rows["_time"].to_numpy()
    keys, examples, index = {}, [], np.empty(n, dtype=int)
    starts = np.flatnonzero(first)
    for i, (lo, hi) in enumerate(zip(starts, np.r_[starts[1:], len(subj)])):
        kept = lo + np.flatnonzero(keep[lo:hi])
        change = tuple(times[kept[1:-1]])
        key = (tuple(text[kept]), change)
        if key not in keys:
            keys[key] = len(examples)
            pieces = [dict(zip(columns, values[r])) for r in kept[:-1]]
            examples.append((pieces, list(change)))
        index[i] = keys[key]
    return index, examples


def prevalence_table(model, times=None, *, timezero=None, initstates=None, covariates="population",
                     interp: str = "start", censtime=np.inf, origin: str = "time") -> pd.DataFrame:
    """Observed and expected numbers in each state over time (msm ``prevalence.msm``)."""
    if interp not in ("start", "midpoint"):
        raise ParameterError(f"interp must be 'start' or 'midpoint'; found {interp!r}")
    if origin not in ("time", "entry"):
        raise ParameterError(f"origin must be 'time' or 'entry'; found {origin!r}")
    seqs = observations(model)
    if origin == "entry":
        if getattr(model, "pci_", None):
            raise ParameterError("origin='entry' needs time-homogeneous intensities; a pci model changes at "
                                 "calendar times")
        rows = seqs.rows.copy()
        rows["_time"] = rows["_time"] - rows.groupby("_subject")["_time"].transform("min")
        seqs = dataclasses.replace(seqs, rows=rows)
        timezero = 0.0 if timezero is None else timezero
    spec = model._spec
    k = spec.n_states
    observed_t = seqs.rows.loc[~seqs.rows["inserted"], "_time"].to_numpy()
    if times is None:
        times = np.linspace(observed_t.min(), observed_t.max(), 11)
    times = np.asarray(times, dtype=float)
    timezero = float(observed_t.min()) if timezero is None else float(timezero)
    absorbing = np.ones(k, dtype=bool)
    absorbing[spec.from_idx] = False
    states_at = observed_states(seqs, times, absorbing, interp=interp, censtime=censtime)
    observed = np.stack([(states_at == s).sum(axis=0) for s in range(k)], axis=1)  # (n_times, K)
    columns = _covariate_columns(model)
    population = isinstance(covariates, str) and covariates == "population"
    history, examples = _histories(seqs, columns if population else [])
    at_risk = states_at >= 0
    n_hist = len(examples)
    risk = np.stack([np.bincount(history[at_risk[:, j]], minlength=n_hist) for j in range(len(times))])  # (T, H)

    if model.ematrix_ is not None:
        f = model.initprobs_.to_numpy()
        e = model.ematrix_.to_numpy()
    else:
        if initstates is None:
            at0 = observed_states(seqs, np.array([timezero]), absorbing, interp=interp, censtime=censtime)[:, 0]
            initstates = np.bincount(at0[at0 >= 0], minlength=k)
        f = np.asarray(initstates, dtype=float)
        f = f / f.sum()
        e = np.eye(k)
    expected = np.zeros((len(times), k))
    later = times >= timezero
    if population:
        cache: dict = {}
        q_cache: dict = {}
        for h, (pieces, change) in enumerate(examples):
            if not risk[:, h].any():
                continue
            keys = [tuple(sorted((k, str(v)) for k, v in piece.items())) for piece in pieces]
            for key, piece in zip(keys, pieces):
                if key not in q_cache:
                    q_cache[key] = _q_at(model, piece)
            occupancy = _propagate(f, [q_cache[k] for k in keys], keys, change, timezero, times, later, cache)
            expected += risk[:, h, None] * (occupancy @ e)
    else:
        qs = _period_qs(model, covariates)
        cuts = model.pci_ or []
        for j in np.flatnonzero(later):
            expected[j] = risk[j].sum() * (f @ piecewise_pmatrix(qs, cuts, timezero, times[j]) @ e)
    total = observed.sum(axis=1)
    expected_total = expected.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        obs_pct = 100.0 * observed / total[:, None]
        exp_pct = 100.0 * expected / expected_total[:, None]
    labels = list(spec.states)
    return pd.DataFrame({
        "time": np.repeat(times, k),
        "state": labels * len(times),
        "n_observed": observed.ravel(),
        "n_at_risk": np.repeat(total, k),
        "expected": expected.ravel(),
        "observed_percent": obs_pct.ravel(),
        "expected_percent": exp_pct.ravel(),
    })


def _propagate(f, qs, keys, change, t0, times, later, cache) -> np.ndarray:
    """``f' P(t0, t_j)`` for every time (zero before ``t0``), walking once through the change times and the
    times with the period's generator; exponentials are cached by (generator, length)."""
    out = np.zeros((len(times), len(f)))
    change = np.asarray(change, dtype=float)
    order = np.argsort(times)
    v, now = np.asarray(f, dtype=float), t0
    for j in order:
        if not later[j]:
            continue
        stops = np.r_[change[(change > now) & (change < times[j])], times[j]]
        for stop in stops:
            if stop > now:
                piece = int(np.searchsorted(change, now, side="right"))
                key = (keys[piece], round(stop - now, 12))
                if key not in cache:
                    cache[key] = scipy.linalg.expm((stop - now) * qs[piece])
                v = v @ cache[key]
                now = stop
        out[j] = v
    return out


def _q_at(model, values: dict) -> np.ndarray:
    return model._q_at(model.params_.to_numpy(), model._design_row(values) if values else model._design_row("mean"))


def _period_qs(model, covariates) -> list[np.ndarray]:
    if getattr(model, "pci_", None):
        return model.period_qmatrices(covariates)
    return [model.qmatrix(covariates=covariates, ci="none").to_numpy()]


# ----------------------------------------------------------------------- Pearson-type test
def qcut(x: np.ndarray, n: int | None = None, qu: np.ndarray | None = None, eps: float = 1e-6):
    """Quantile groups as msm's ``qcut``: (codes 0.., breaks).  Equal quantiles make a group of
    their own value; at most two equal breaks are kept."""
    x = np.asarray(x, dtype=float)
    if qu is None:
        qu = np.quantile(x, np.linspace(0, 1, n + 1))
    qu = np.asarray(qu, dtype=float).copy()
    _, counts = np.unique(qu, return_counts=True)
    keep = np.concatenate([np.arange(c) < 2 for c in counts])
    qu = qu[keep]
    qu[qu == qu.max()] = max(qu.max(), x.max())
    qu[qu == qu.min()] = min(qu.min(), x.min())
    m = len(qu) - 1
    lag = np.r_[-np.inf, qu[:m]]
    qu = np.where(qu == lag, qu + eps, qu)
    code = np.searchsorted(qu, x, side="right") - 1
    code = np.where(x == qu[-1], m - 1, code)
    return np.clip(code, 0, max(m - 1, 0)), qu


@dataclass(frozen=True)
class PearsonTest:
    """Result of the Pearson-type goodness-of-fit test.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per cell: ``time_group``, ``interval_group``, ``cov_group``, ``group``, ``transition``
        (``r-s``, or several joined by commas), ``observed``, ``expected``, ``deviance`` (``(O - E)^2 / E``
        with the sign of ``O - E``).
    test : pandas.DataFrame
        One row: ``statistic``, ``p_value`` (Titman 2009; NaN where not available), ``df_lower``,
        ``p_lower``, ``df_upper``, ``p_upper``.
    """

    table: pd.DataFrame
    test: pd.DataFrame


def interval_transitions(model) -> list[tuple[int, int]]:
    """Pairs (r, s) such that s can be observed after r (``P(1)[r, s] > 0``, through E if misclassified),
    without absorbing-to-absorbing pairs; by from-state then to-state (msm ``intervaltrans.msm``)."""
    q = model.qmatrix(ci="none").to_numpy()
    p = scipy.linalg.expm(q)
    if model.ematrix_ is not None:
        e = (model.ematrix_.to_numpy() > 0).astype(float)
        p = e.T @ p @ e
    absorbing = np.ones(len(q), dtype=bool)
    absorbing[model._spec.from_idx] = False
    return [(r, s) for r in range(len(q)) for s in range(len(q))
            if abs(p[r, s]) > np.sqrt(np.finfo(float).eps) and not (absorbing[r] and absorbing[s])]


def pearson_test(model, *, transitions=None, timegroups: int = 3, intervalgroups: int = 3, covgroups: int = 3,
                 groups=None, with_p: bool = True) -> PearsonTest:
    """The Pearson-type test of a model fitted to panel data (msm ``pearson.msm``)."""
    spec = model._spec
    if len(spec.death_idx):
        raise ParameterError(
            "pearson: models with exact death times (death_states) need the multiple imputation of the next "
            "scheduled observation of Titman & Sharples (2008), which is not implemented; refit with the death "
            "state observed at the panel times (no death_states) to test the fit")
    seqs = observations(model)
    rows = seqs.rows[~seqs.rows["inserted"].to_numpy()].reset_index(drop=True)
    k = spec.n_states
    subj = rows["_subject"].to_numpy()
    code = rows["_code"].to_numpy()
    t = rows["_time"].to_numpy()
    first = np.r_[True, subj[1:] != subj[:-1]]
    end = np.flatnonzero(~first)
    prev_state, state = code[end - 1], code[end]
    time = t[end]
    interval = t[end] - t[end - 1]
    n = len(end)
    columns = _covariate_columns(model)

    # Q at the covariates of the observation that ends each interval (as msm's pearson.msm)
    if columns:
        values = rows[columns].astype(object).to_numpy()
        text = np.array(["\x1f".join(map(str, v)) for v in values])
        _, firsts, pattern_of_row = np.unique(text, return_index=True, return_inverse=True)
        designs = [model._design_row(dict(zip(columns, values[r]))) for r in firsts]
        pattern = pattern_of_row[end]
    else:
        designs = [model._design_row("mean")]
        pattern = np.zeros(n, dtype=int)
    qs = model._q_many(model.params_.to_numpy(), np.vstack(designs))
    rates = np.einsum("cii->c", qs)[pattern]

    n_time = min(len(np.unique(time)), timegroups)
    time_group, time_breaks = qcut(time, n_time)
    interval_group = np.zeros(n, dtype=int)
    for g in np.unique(time_group):
        sel = time_group == g
        qu = np.quantile(interval[sel], np.linspace(0, 1, intervalgroups + 1))
        interval_group[sel] = qcut(interval[sel], qu=qu)[0]
    if columns and not (columns == ["timeperiod"]):
        n_cov = min(len(np.unique(rates)), covgroups)
        cov_group = qcut(rates, n_cov)[0]
    else:
        cov_group = np.zeros(n, dtype=int)
    if groups is None:
        user = np.zeros(n, dtype=int)
        user_levels = np.array([1])
    else:
        groups = np.asarray(groups)
        if len(groups) != len(rows):
            raise ParameterError(f"groups must have one value per observation ({len(rows)}); found {len(groups)}")
        user_levels, user = np.unique(groups[end], return_inverse=True)

    # expected probabilities of each observed state
    keys, inverse = np.unique(np.column_stack([pattern, interval]), axis=0, return_inverse=True)
    p = expm_stack(keys[:, 1, None, None] * qs[keys[:, 0].astype(int)])[inverse.ravel()]
    if model.ematrix_ is not None:
        prob = _misclassified_probabilities(model, p, prev_state, state, subj[end], first, end)
    else:
        prob = p[np.arange(n), prev_state]

    allowed = interval_transitions(model)
    use = np.arange(len(allowed)) if transitions is None else np.asarray(transitions)
    if len(use) != len(allowed):
        names = [f"{spec.states[r]}-{spec.states[s]}" for r, s in allowed]
        raise ParameterError(f"transitions: {len(use)} group labels given, expected one per allowed interval "
                             f"transition ({len(allowed)}: {names})")
    labels_all = [f"{spec.states[r]}-{spec.states[s]}" for r, s in allowed]
    group_ids = list(dict.fromkeys(use.tolist()))
    if model.ematrix_ is None:
        for g in group_ids:
            if len({allowed[i][0] for i in np.flatnonzero(use == g)}) > 1:
                raise ParameterError("transitions: only transitions from the same state can be grouped")

    dims = (time_group.max() + 1, interval_group.max() + 1, cov_group.max() + 1, len(user_levels))
    cell = np.ravel_multi_index((time_group, interval_group, cov_group, user), dims)
    n_cells = int(np.prod(dims))
    obs_full = np.zeros((n_cells, k, k))
    np.add.at(obs_full, (cell, prev_state, state), 1.0)
    exp_full = np.zeros((n_cells, k, k))
    np.add.at(exp_full, (cell, prev_state), prob)
    exp_full[exp_full < np.sqrt(np.finfo(float).eps)] = 0.0
    observed = np.zeros((n_cells, len(group_ids)))
    expected = np.zeros((n_cells, len(group_ids)))
    for i, (r, s) in enumerate(allowed):
        j = group_ids.index(use[i])
        observed[:, j] += obs_full[:, r, s]
        expected[:, j] += exp_full[:, r, s]
    deviance = (observed - expected) ** 2 / (expected + (expected == 0))
    statistic = float(deviance.sum())

    from_of = np.array([allowed[int(np.flatnonzero(use == g)[0])][0] for g in group_ids])
    to_of = np.array([allowed[int(np.flatnonzero(use == g)[0])][1] for g in group_ids])
    n_indep = len(from_of) - len(np.unique(from_of))
    n_zero = 0
    for r in np.unique(from_of):
        from_total = observed[:, from_of == r].sum(axis=1)
        n_zero += int((from_total == 0).sum()) * (int((from_of == r).sum()) - 1)
    df_upper = n_cells * n_indep - n_zero
    n_params = getattr(model, "n_free_params_", len(model.params_))
    df_lower = df_upper - n_params
    p_value = np.nan
    if with_p and model.ematrix_ is None and not getattr(model, "pci_", None) and transitions is None:
        p_value = _titman_p(model, statistic, p, prev_state, cell, n_cells, expected, from_of, to_of,
                            pattern, interval, designs)

    tg, ig, cg, ug = np.unravel_index(np.arange(n_cells), dims)
    labels = [",".join(labels_all[i] for i in np.flatnonzero(use == g)) for g in group_ids]
    time_labels = _break_labels(time_breaks, n_time)
    table = pd.DataFrame({
        "time_group": np.repeat(np.asarray(time_labels, dtype=object)[tg], len(group_ids)),
        "interval_group": np.repeat(ig + 1, len(group_ids)),
        "cov_group": np.repeat(cg + 1, len(group_ids)),
        "group": np.repeat(user_levels[ug], len(group_ids)),
        "transition": labels * n_cells,
        "observed": observed.ravel(),
        "expected": expected.ravel(),
        "deviance": (deviance * np.sign(observed - expected)).ravel(),
    })
    test = pd.DataFrame({
        "statistic": [statistic], "p_value": [p_value],
        "df_lower": [df_lower], "p_lower": [float(scipy.stats.chi2.sf(statistic, df_lower))],
        "df_upper": [df_upper], "p_upper": [float(scipy.stats.chi2.sf(statistic, df_upper))],
    })
    return PearsonTest(table, test)


def _break_labels(breaks: np.ndarray, n: int) -> list[str]:
    last = len(breaks) - 2
    return [f"[{breaks[i]:.2f},{breaks[i + 1]:.2f}{']' if i == last else ')'}" for i in range(len(breaks) - 1)]


def _misclassified_probabilities(model, p, prev_state, state, subject, first, end):
    """Probabilities of each observed state given the observed history (msm's filtered true states)."""
    e = model.ematrix_.to_numpy()
    f = model.initprobs_.to_numpy()
    k = len(e)
    absorbing = np.ones(k, dtype=bool)
    absorbing[model._spec.from_idx] = False
    prob = np.empty((len(end), k))
    truth = f.copy()
    for i in range(len(end)):
        if first[end[i] - 1]:
            truth = f.copy()
        prob[i] = truth @ p[i] @ e
        if not absorbing[state[i]]:
            new = truth @ (p[i] * e[:, state[i]][None, :])
            truth = new / new.sum()
    return prob


def _titman_p(model, statistic, p, prev_state, cell, n_cells, expected, from_of, to_of, pattern, interval, designs):
    """p-value of Titman (2009): the statistic's null distribution is ``sum_i lambda_i chi2_1``."""
    k = model._spec.n_states
    # groups c: observed (category, from-state) combinations, category fastest
    combo = cell + n_cells * prev_state
    uniq, group = np.unique(combo, return_inverse=True)
    n_groups = len(uniq)
    g_cell, g_from = uniq % n_cells, uniq // n_cells
    scale = np.zeros((n_groups, k))
    for c in range(n_groups):
        for j in np.flatnonzero(from_of == g_from[c]):
            et = expected[g_cell[c], j]
            scale[c, to_of[j]] = 1.0 / np.sqrt(et) if et > 0 else np.inf
    if not np.isfinite(scale).all():
        return np.nan
    # Intervals with the same Q pattern, length, from-state and group contribute identical terms: sum them
    # once with their count as weight (a national panel has ~10^6 intervals but ~10^4 distinct ones).
    _, first_of, weight = np.unique(np.column_stack([pattern, interval, prev_state, group]), axis=0,
                                           return_index=True, return_counts=True)
    rows, w, grp = first_of, weight.astype(float), group[first_of]
    pr = p[rows, prev_state[rows]]  # (m, K)
    sigma = np.zeros((n_groups, k, k))
    np.add.at(sigma, grp, -w[:, None, None] * pr[:, :, None] * pr[:, None, :])
    diag = np.zeros((n_groups, k))
    np.add.at(diag, grp, w[:, None] * pr * (1 - pr))
    idx = np.arange(k)
    sigma[:, idx, idx] = diag
    big_p = scale.ravel()
    psigmapt = scipy.linalg.block_diag(*sigma) * big_p[:, None] * big_p[None, :]
    dp = _dp_rows(model, prev_state[rows], pattern[rows], interval[rows], designs)  # (m, K, n_params)
    psi_arr = np.zeros((n_groups, k, dp.shape[2]))
    np.add.at(psi_arr, grp, w[:, None, None] * dp)
    psi = psi_arr.reshape(n_groups * k, -1).T  # (n_params, R*C), to-state fastest
    root = np.sqrt(np.divide(w[:, None], pr, out=np.zeros_like(pr), where=pr > 0))
    scaled = (dp * root[:, :, None]).reshape(-1, dp.shape[2])
    info = scaled.T @ scaled  # sum over intervals and to-states of w dp dp' / p
    omega = np.block([[info, psi * big_p[None, :]], [(psi * big_p[None, :]).T, psigmapt]])
    b = -(psi_arr * scale[:, :, None]).reshape(n_groups * k, -1)
    a = np.hstack([b @ np.linalg.inv(info), np.eye(n_groups * k)])
    v = a @ omega @ a.T
    lam = np.linalg.eigvalsh((v + v.T) / 2.0)
    return imhof_sf(statistic, lam)


def _dp_rows(model, prev_state, pattern, interval, designs, step: float = 1e-6):
    """Derivatives of ``P(t_i)[r_i, :]`` with respect to the free parameters, by central differences."""
    params = model.params_.to_numpy()
    keys, inverse = np.unique(np.column_stack([pattern, interval]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    patterns = keys[:, 0].astype(int)
    pmap = getattr(model, "_pmap", None)
    free = pmap.a[:len(params)] if pmap is not None else np.eye(len(params))
    free = free[:, np.abs(free).sum(axis=0) > 0]

    def p_at(theta):
        q = model._q_many(theta, np.vstack(designs))
        return expm_stack(keys[:, 1, None, None] * q[patterns])

    out = np.empty((len(prev_state), len(model._spec.states), free.shape[1]))
    for j in range(free.shape[1]):
        diff = (p_at(params + step * free[:, j]) - p_at(params - step * free[:, j])) / (2 * step)
        out[:, :, j] = diff[inverse, prev_state]
    return out


def imhof_sf(x: float, lam: np.ndarray) -> float:
    """``P(sum_i lam_i chi2_1 > x)`` by Imhof's (1961) integral."""
    lam = lam[np.abs(lam) > 1e-10 * np.abs(lam).max()]

    def integrand(u):
        theta = 0.5 * np.arctan(lam * u).sum() - 0.5 * x * u
        rho = np.prod((1.0 + (lam * u) ** 2) ** 0.25)
        return np.sin(theta) / (u * rho)

    with warnings.catch_warnings():  # slowly decaying oscillations: the estimate is still accurate enough
        warnings.simplefilter("ignore", scipy.integrate.IntegrationWarning)
        value, _ = scipy.integrate.quad(integrand, 0.0, np.inf, limit=1000)
    return float(np.clip(0.5 + value / np.pi, 0.0, 1.0))


def lrtest_table(*models) -> pd.DataFrame:
    """Likelihood-ratio tests of the first model against each of the others (msm ``lrtest.msm``)."""
    if len(models) < 2:
        raise ParameterError("lrtest needs two or more fitted models")
    for i, m in enumerate(models):
        if not hasattr(m, "minus2loglik_"):
            raise NotFittedError(f"lrtest: model {i + 1} is not fitted")
    base = models[0]
    rows = []
    for i, m in enumerate(models[1:], start=2):
        stat = base.minus2loglik_ - m.minus2loglik_
        df = _n_free(m) - _n_free(base)
        if df <= 0:
            raise ParameterError(f"lrtest: model {i} must have more free parameters than model 1 "
                                 f"({_n_free(m)} against {_n_free(base)}); put the smaller model first")
        rows.append({"model": i, "statistic": stat, "df": df, "p_value": float(scipy.stats.chi2.sf(stat, df))})
    return pd.DataFrame(rows)


def _n_free(model) -> int:
    return int(getattr(model, "n_free_params_", None) or len(model.params_))


class GoodnessMethods:
    """Goodness-of-fit methods of a fitted model."""

    def prevalence(self, times=None, *, timezero=None, initstates=None, covariates="population",
                   interp: str = "start", censtime=np.inf, origin: str = "time") -> pd.DataFrame:
        """Observed and expected numbers and percentages in each state over time (msm ``prevalence.msm``).

        Parameters
        ----------
        times : array_like, optional
            Times at which to compare; default 11 equally spaced times over the observations.
        timezero : float, optional
            Time at which the forecast starts; default the first observation time.
        initstates : array_like, optional
            Numbers in each state at ``timezero``; default those observed then.  A misclassification
            model starts from its ``initprobs_`` and forecasts observed states through ``ematrix_``.
        covariates : "population", "mean" or dict, default="population"
            ``"population"`` sums the forecasts over the covariate histories in the data (each
            weighted by its citizens under observation); otherwise one forecast at these values.
        interp : {"start", "midpoint"}, default="start"
            A citizen is in the state of the last observation (``"start"``), or of the nearest one
            (``"midpoint"``).
        censtime : float or array_like, default=inf
            Per citizen, the end of potential follow-up: after death a citizen counts as dead only up to it.
        origin : {"time", "entry"}, default="time"
            ``"time"``: the data's time scale, everyone forecast from ``timezero`` (msm's, right when the
            process starts at a common time, as at a transplant). ``"entry"``: time since each citizen's
            first observation, for citizens who enter a register at different dates (time-homogeneous
            models only).

        Returns
        -------
        pandas.DataFrame
            ``time``, ``state``, ``n_observed``, ``n_at_risk`` (citizens under observation at the time,
            the dead included), ``expected``, ``observed_percent``, ``expected_percent``.

        Notes
        -----
        ``E_j = n(t_j) f' P(t_0, t_j) [E]`` (Gentleman et al. 1994); with covariates summed over the
        histories. Departures suggest time-varying intensities or a non-Markov process.
        """
        self._fitted()
        return prevalence_table(self, times, timezero=timezero, initstates=initstates, covariates=covariates,
                                interp=interp, censtime=censtime, origin=origin)

    def pearson(self, *, transitions=None, timegroups: int = 3, intervalgroups: int = 3, covgroups: int = 3,
                groups=None, with_p: bool = True) -> PearsonTest:
        """Pearson-type goodness-of-fit test (msm ``pearson.msm``).

        Parameters
        ----------
        transitions : sequence, optional
            A group label for each allowed interval transition (``interval_transitions``: pairs
            (r, s) with s observable after r, by from-state then to-state); transitions from the same
            state with the same label are pooled. Default: each on its own.
        timegroups : int, default=3
            Groups of the time of the observation ending an interval (quantiles).
        intervalgroups : int, default=3
            Groups of the interval length, within time groups (quantiles of the intervals).
        covgroups : int, default=3
            Groups of the covariate impact ``sum_r q_rr(z)`` (quantiles); 1 without covariates.
        groups : array_like, optional
            A value per observation (data order of the fit, sorted by subject): the group of the
            interval that ends there.
        with_p : bool, default=True
            Compute the p-value of Titman (2009) (models without misclassification, cut points or pooled
            transitions).

        Returns
        -------
        PearsonTest
            ``table`` (observed, expected, signed deviance per cell) and ``test`` (statistic, p-values).

        Notes
        -----
        ``T = sum_cells (O - E)^2 / E``. ``df_upper`` counts the independent cells, ``df_lower`` that
        minus the free parameters: chi-square bounds for the p-value; ``p_value`` is Titman's
        (2009) approximation. As msm, the expected transition probabilities use the covariates at the
        observation that ends each interval. Exact death times are not supported.
        """
        self._fitted()
        return pearson_test(self, transitions=transitions, timegroups=timegroups, intervalgroups=intervalgroups,
                            covgroups=covgroups, groups=groups, with_p=with_p)
