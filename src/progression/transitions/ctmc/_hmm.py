"""Hidden Markov models for panel data: misclassified states, censored states, the forward algorithm.

A citizen's observed states ``O_0, ..., O_K`` at times ``t_0 < ... < t_K`` may differ from the true states
``S_0, ..., S_K`` of the Markov chain: a true state r is recorded as s with probability ``e_rs`` (the
misclassification matrix E, rows true states, columns observed states; Jackson et al. 2003).  The
likelihood of one citizen is the matrix product of the forward algorithm (Rabiner 1989; msm's
``likhidden``)::

    L = a_0' P(t_1 - t_0) D_1 P(t_2 - t_1) D_2 ... P(t_K - t_{K-1}) D_K 1,    a_0 = f o d_0,

where ``f`` is the distribution of the true state at the first observation (msm ``initprobs``), ``D_k =
diag(d_k)`` and ``d_k`` holds the probability of the k-th observation given each true state: column
``O_k`` of E for a misclassified observation, the indicator of ``O_k`` for an observation known to be
true (msm ``obstrue``) or for a model without misclassification, the indicator of the transient states
for a censored observation (a state known only to be alive, as msm inserts at the cut points of
piecewise-constant intensities), and column D of Q for an exact entry into a death state D (the
citizen was in some state j just before and jumped to D, ``sum_j (a P)_j q_jD``).

The gradient comes from one backward pass: with scaled forward vectors ``â_k`` and backward vectors
``b̂_k``, ``dlogL/dP_k = â_{k-1} (d_k o b̂_k)' / c_k`` and ``dlogL/dd_k = (â_{k-1} P_k) o b̂_k / c_k``;
the weights of all intervals that share a (covariate pattern, length) are summed and carried to Q by
the adjoint Fréchet derivative of the matrix exponential (``_expm``), and to the misclassification
parameters through their multinomial logits (``e_rs = exp(theta_rs) / (1 + sum_u exp(theta_ru))`` against
the probability ``e_rr`` of a correct classification, as msm parameterises them).

References
----------
Jackson, C. H., Sharples, L. D., Thompson, S. G., Duffy, S. W. & Couto, E. (2003). Multistate Markov
models for disease progression with classification error. Journal of the Royal Statistical Society D,
52(2), 193-209.

Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected applications in speech
recognition. Proceedings of the IEEE, 77(2), 257-286.

Jackson, C. H. (2011). Multi-state models for panel data: the msm package for R. Journal of
Statistical Software, 38(8), 1-29.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from progression._validation import check_columns, check_no_missing
from progression.exceptions import DataContractError, ParameterError

from ._data import (
    Covariate,
    QSpec,
    _check_counts,
    _check_moves,
    _check_order,
    _covariate,
    _name_subjects,
    _times,
)
from ._expm import expm_frechet_adjoint, expm_stack
from ._spectral import Decomposition

_TINY = 1e-300
_MAX_RATE = 1e8

#: Kinds of observation: the probability of an observation given each true state is
KNOWN, MISCLASSIFIED, CENSORED, DEATH = 0, 1, 2, 3
#: the indicator of the observed state / column O of E / the indicator of the transient states /
#: column D of Q (an exact entry into death state D).


# ----------------------------------------------------------------------- misclassification matrix
@dataclass(frozen=True)
class MiscSpec:
    """Which true states can be recorded as which others, and the initial probabilities.

    Attributes
    ----------
    rows, cols : ndarray of int
        Positions (true, observed) of the misclassification probabilities that are estimated,
        row by row like msm.
    init : ndarray of float
        Their initial values.
    sure_rows, sure_cols : ndarray of int
        True states always recorded as another one (an entry of 1: a hidden state seen as ``sure_cols``).
    """

    n_states: int
    rows: np.ndarray
    cols: np.ndarray
    init: np.ndarray
    sure_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    sure_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))

    @property
    def n_params(self) -> int:
        return len(self.rows)

    def start(self) -> np.ndarray:
        """Initial multinomial logits ``log(e_rs / e_rr)``."""
        e = self.build(np.zeros(self.n_params), probabilities=self.init)
        return np.log(self.init) - np.log(e[self.rows, self.rows])

    def build(self, theta: np.ndarray, probabilities: np.ndarray | None = None) -> np.ndarray:
        """The misclassification matrix from the logits (or from the probabilities themselves)."""
        k = self.n_states
        e = np.zeros((k, k))
        if probabilities is None:
            with np.errstate(over="ignore"):
                w = np.exp(theta)
            total = np.ones(k)
            np.add.at(total, self.rows, w)
            e[self.rows, self.cols] = w / total[self.rows]
            e[np.arange(k), np.arange(k)] = 1.0 / total
        else:
            e[self.rows, self.cols] = probabilities
            e[np.arange(k), np.arange(k)] = 1.0 - e.sum(axis=1)
        e[self.sure_rows] = 0.0
        e[self.sure_rows, self.sure_cols] = 1.0
        return e

    def chain(self, e: np.ndarray, grad_e: np.ndarray) -> np.ndarray:
        """``dlogL/dtheta_rs = e_rs (G_rs - sum_u G_ru e_ru)`` from ``G = dlogL/dE``."""
        row_mean = (grad_e * e).sum(axis=1)
        return e[self.rows, self.cols] * (grad_e[self.rows, self.cols] - row_mean[self.rows])


def miscspec_from(ematrix, states: pd.Index) -> MiscSpec:
    """Validate ``ematrix`` (rows true states, columns observed states; nonzero off-diagonal entries
    are the misclassifications allowed and their initial probabilities; the diagonal is ignored)."""
    if isinstance(ematrix, pd.DataFrame):
        if not (ematrix.index.equals(states) and ematrix.columns.equals(states)):
            raise ParameterError(
                f"ematrix: a DataFrame's index and columns must be the states of qmatrix {list(states)}; "
                f"found index {list(ematrix.index)} and columns {list(ematrix.columns)}"
            )
        values = ematrix.to_numpy(dtype=float)
    else:
        values = np.asarray(ematrix, dtype=float)
    k = len(states)
    if values.shape != (k, k):
        raise ParameterError(f"ematrix must have the shape of qmatrix {(k, k)}; found {values.shape}")
    off = ~np.eye(k, dtype=bool)
    if not np.isfinite(values).all() or ((values < 0) & off).any() or ((values > 1) & off).any():
        raise ParameterError("ematrix: off-diagonal entries must be probabilities in [0, 1]")
    sure = (values == 1) & off
    sure_rows, sure_cols = np.nonzero(sure)
    sums = np.where(off & ~sure, values, 0.0).sum(axis=1)
    crowded = sure.any(axis=1) & ((sums > 0) | (sure.sum(axis=1) > 1))
    if crowded.any():
        bad = [states[i] for i in np.flatnonzero(crowded)]
        raise ParameterError(f"ematrix: true states {bad} have an entry of 1 (always recorded as another state) "
                             "and other misclassifications; an entry of 1 must be alone in its row")
    if (sums >= 1).any():
        bad = [states[i] for i in np.flatnonzero(sums >= 1)]
        raise ParameterError(f"ematrix: the misclassification probabilities of true states {bad} add up to 1 or more")
    rows, cols = np.nonzero((values > 0) & off & ~sure)
    if len(rows) == 0 and len(sure_rows) == 0:
        raise ParameterError("ematrix allows no misclassification: every off-diagonal entry is zero")
    return MiscSpec(k, rows, cols, values[rows, cols], sure_rows, sure_cols)


# ----------------------------------------------------------------------- initial state probabilities
@dataclass(frozen=True)
class InitSpec:
    """Distribution of the true state at a subject's first observation (msm ``initprobs``).

    Estimated (``estimate=True``) as multinomial logits against the first state with a positive
    initial probability; states starting at zero stay at zero.
    """

    probs: np.ndarray
    estimate: bool

    @property
    def free(self) -> np.ndarray:
        positive = np.flatnonzero(self.probs > 0)
        return positive[1:] if self.estimate else positive[:0]

    @property
    def base(self) -> int:
        return int(np.flatnonzero(self.probs > 0)[0])

    @property
    def n_params(self) -> int:
        return len(self.free)

    def start(self) -> np.ndarray:
        return np.log(self.probs[self.free]) - np.log(self.probs[self.base])

    def build(self, phi: np.ndarray) -> np.ndarray:
        if not self.estimate:
            return self.probs
        w = np.zeros(len(self.probs))
        w[self.base] = 1.0
        with np.errstate(over="ignore"):
            w[self.free] = np.exp(phi)
        return w / w.sum()

    def chain(self, f: np.ndarray, grad_f: np.ndarray) -> np.ndarray:
        return f[self.free] * (grad_f[self.free] - grad_f @ f)


def initspec_from(initprobs, est_initprobs: bool, states: pd.Index) -> InitSpec:
    k = len(states)
    if initprobs is None:
        probs = np.full(k, 1.0 / k) if est_initprobs else np.eye(k)[0]
    else:
        if isinstance(initprobs, (pd.Series, dict)):
            series = pd.Series(initprobs, dtype=float)
            unknown = [s for s in series.index if s not in states]
            if unknown:
                raise ParameterError(f"initprobs: {unknown} are not states of qmatrix {list(states)}")
            probs = series.reindex(states, fill_value=0.0).to_numpy()
        else:
            probs = np.asarray(initprobs, dtype=float)
        if probs.shape != (k,) or not np.isfinite(probs).all() or (probs < 0).any() or probs.sum() <= 0:
            raise ParameterError(
                f"initprobs must be {k} non-negative numbers with a positive sum (one per state); found {probs}"
            )
        probs = probs / probs.sum()
    if est_initprobs and (probs > 0).sum() < 2:
        raise ParameterError("est_initprobs needs at least two states with a positive initial probability")
    return InitSpec(probs, bool(est_initprobs))


# ----------------------------------------------------------------------- the data as sequences
@dataclass(frozen=True)
class Sequences:
    """Every subject's observations, as the steps of a forward algorithm.

    Steps are sorted by their position ``k`` within the subject (1, 2, ...) and then by subject, so
    that the k-th steps of all subjects form one block (``k_starts``).  Each step is the interval from
    one observation to the next, with the covariate pattern at its start, the (pattern, length) group
    whose transition matrix it uses, and what was observed at its end.
    """

    n_subjects: int
    n_observations: int
    subject_ids: np.ndarray
    first_code: np.ndarray
    first_kind: np.ndarray
    step_subject: np.ndarray
    step_group: np.ndarray
    step_pattern: np.ndarray
    step_code: np.ndarray
    step_kind: np.ndarray
    step_row: np.ndarray
    k_starts: np.ndarray
    group_pattern: np.ndarray
    group_dt: np.ndarray
    x: np.ndarray
    covariates: list[Covariate]
    raw_means: np.ndarray
    first_row: np.ndarray
    rows: pd.DataFrame

    @property
    def terms(self) -> list[str]:
        return [t for c in self.covariates for t in c.terms]

    @property
    def n_steps(self) -> int:
        return len(self.step_subject)


def prepare_sequences(
    data: pd.DataFrame,
    *,
    subject: str,
    time: str,
    state: str,
    spec: QSpec,
    covariates: Sequence[str] = (),
    hidden: bool,
    obstrue: str | None = None,
    cuts: Sequence[float] = (),
    centre: bool = True,
) -> Sequences:
    """Validate panel data and lay it out as forward-algorithm steps.

    Parameters
    ----------
    hidden : bool
        Observed states may be misclassified (checks of impossible moves are then skipped).
    obstrue : str, optional
        Column flagging observations whose state is known to be true.
    cuts : sequence of float
        Times at which a censored observation (any transient state) is inserted into every subject
        followed across them, and the period factor ``timeperiod`` changes (msm ``pci``).
    centre : bool
        Centre covariates at their means over interval starts (the inserted rows included, as msm).

    Returns
    -------
    Sequences
        With ``rows``: the rows in the order used, the inserted ones included (column ``inserted``).
    """
    covariates = list(covariates)
    columns = [subject, time, state, *covariates, *([obstrue] if obstrue else [])]
    check_columns(data, columns)
    check_no_missing(data, columns)
    codes = spec.states.get_indexer(data[state])
    if (codes < 0).any():
        bad = pd.unique(data.loc[codes < 0, state])
        raise DataContractError(
            f"column '{state}': {int((codes < 0).sum())} rows hold states not in qmatrix "
            f"(e.g. {pd.Series(bad[:5]).tolist()}); states of qmatrix are {spec.states.tolist()}"
        )
    true = _flags(data[obstrue], obstrue) if obstrue else np.zeros(len(data), dtype=bool)
    subj_codes, subj_ids = pd.factorize(data[subject], sort=False)
    order = np.argsort(subj_codes, kind="stable")
    subj_codes, codes, true = subj_codes[order], codes[order], true[order]
    t = _times(data[time])[order]
    same = subj_codes[1:] == subj_codes[:-1]
    _check_counts(subj_codes, subj_ids, subject)
    _check_order(t, same, subj_codes, subj_ids, subject, time)
    start = np.flatnonzero(same)
    if hidden:
        after_death = np.isin(codes[start], spec.death_idx)
        if after_death.any():
            ids = subj_ids[np.unique(subj_codes[start][after_death])]
            raise DataContractError(
                f"column '{state}': {len(ids)} subjects are observed again after entering a death state "
                f"(subjects {_name_subjects(ids)}); a death must be a subject's last observation"
            )
    else:
        _check_moves(spec, codes[start], codes[start + 1], subj_codes[start], subj_ids, state)

    encoders = [_covariate(data[c], c) for c in covariates]
    frame = data.iloc[order][covariates].reset_index(drop=True)
    frame.insert(0, "_subject", subj_codes)
    frame.insert(1, "_time", t)
    frame.insert(2, "_code", codes)
    frame.insert(3, "_true", true)
    frame["inserted"] = False
    frame["_source"] = order
    if len(cuts):
        frame = _insert_cuts(frame, np.asarray(cuts, dtype=float))
        period = Covariate("timeperiod", period_levels(cuts))
        frame["timeperiod"] = np.asarray(period.levels, dtype=object)[np.searchsorted(cuts, frame["_time"], "right")]
        encoders.append(period)
    x = (np.column_stack([e.encode(frame[e.column]) for e in encoders]) if encoders
         else np.zeros((len(frame), 0)))

    subj = frame["_subject"].to_numpy()
    n = len(subj_ids)
    first = np.r_[True, subj[1:] != subj[:-1]]
    steps = np.flatnonzero(~first)  # row index of each step's end
    raw_means = x[steps - 1].mean(axis=0)
    means = raw_means if centre else np.zeros_like(raw_means)
    patterns, pattern = _unique_rows(x - means) if x.shape[1] else (np.zeros((1, 0)), np.zeros(len(x), dtype=int))

    code = frame["_code"].to_numpy()
    death = np.isin(code, spec.death_idx) & ~frame["inserted"].to_numpy()
    kind = np.where(code < 0, CENSORED, np.where(death, DEATH, np.where(
        frame["_true"].to_numpy() | (not hidden), KNOWN, MISCLASSIFIED)))
    if (death & first).any():
        raise DataContractError(f"column '{state}': some subjects' first observation is a death state")
    position = np.arange(len(frame)) - np.maximum.accumulate(np.where(first, np.arange(len(frame)), 0))
    k = position[steps]
    dt = frame["_time"].to_numpy()[steps] - frame["_time"].to_numpy()[steps - 1]
    step_pattern = pattern[steps - 1]
    keys, group = _unique_rows(np.column_stack([step_pattern, dt]))
    sort = np.lexsort((subj[steps], k))
    steps, k = steps[sort], k[sort]
    k_starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    return Sequences(
        n_subjects=n, n_observations=len(data), subject_ids=np.asarray(subj_ids),
        first_code=code[first], first_kind=kind[first],
        step_subject=subj[steps], step_group=group[sort], step_pattern=step_pattern[sort],
        step_code=code[steps], step_kind=kind[steps], step_row=steps,
        k_starts=np.r_[k_starts, len(steps)], group_pattern=keys[:, 0].astype(int), group_dt=keys[:, 1],
        x=patterns, covariates=encoders, raw_means=raw_means, first_row=np.flatnonzero(first), rows=frame,
    )


def period_levels(cuts: Sequence[float]) -> tuple[str, ...]:
    """msm's labels of the periods between cut points: ``[-Inf,5)``, ``[5,10)``, ``[10,Inf)``."""
    edges = ["-Inf", *[f"{c:g}" for c in cuts], "Inf"]
    return tuple(f"[{a},{b})" for a, b in zip(edges[:-1], edges[1:]))


def _insert_cuts(frame: pd.DataFrame, cuts: np.ndarray) -> pd.DataFrame:
    """Insert a censored row at every cut strictly inside a subject's follow-up (msm ``msm.pci``).

    A cut at an observed time adds nothing; covariates of an inserted row are carried forward from
    the observation before it.
    """
    subj = frame["_subject"].to_numpy()
    t = frame["_time"].to_numpy()
    lo = pd.Series(t).groupby(subj).transform("min").to_numpy()
    hi = pd.Series(t).groupby(subj).transform("max").to_numpy()
    first = np.r_[True, subj[1:] != subj[:-1]]
    rows = np.flatnonzero(first)
    extra = []
    for c in cuts:
        inside = rows[(lo[rows] < c) & (c < hi[rows])]
        extra.append(pd.DataFrame({"_subject": subj[inside], "_time": c}))
    extra = pd.concat(extra, ignore_index=True)
    observed = set(zip(subj, t))
    extra = extra[[(s, c) not in observed for s, c in zip(extra["_subject"], extra["_time"])]]
    extra = extra.assign(_code=-1, _true=False, inserted=True, _source=-1)
    out = pd.concat([frame, extra], ignore_index=True)
    out = out.sort_values(["_subject", "_time"], kind="stable").reset_index(drop=True)
    covs = [c for c in frame.columns if c not in ("_subject", "_time", "_code", "_true", "inserted", "_source")]
    if covs:
        out[covs] = out[covs].ffill()
    return out


def _flags(values: pd.Series, column: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=bool)
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any() or not numbers.isin([0, 1]).all():
        raise DataContractError(
            f"column '{column}' (obstrue) must hold 0/1 or True/False flags; found {pd.unique(values)[:5].tolist()}"
        )
    return numbers.to_numpy(dtype=int) == 1


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort(a.T[::-1])
    ordered = a[order]
    new = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)][: len(a)]
    inverse = np.empty(len(a), dtype=int)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


# ----------------------------------------------------------------------- the likelihood
class ForwardLikelihood:
    """-2 log-likelihood of (hidden) Markov panel data as a function of all parameters.

    Parameters are ``log q`` of the allowed transitions, the covariate effects (term by term, as
    ``PanelLikelihood``), the misclassification logits (row by row) and the logits of the estimated
    initial probabilities.
    """

    def __init__(self, spec: QSpec, seqs: Sequences, misc: MiscSpec | None, init: InitSpec):
        self.spec, self.seqs, self.misc, self.init = spec, seqs, misc, init
        self.n_terms = seqs.x.shape[1]
        self.n_q = spec.n_transitions * (1 + self.n_terms)
        self.n_e = misc.n_params if misc else 0
        self.n_params = self.n_q + self.n_e + init.n_params
        self.x = seqs.x
        self.n_groups = len(seqs.group_dt)
        self.hidden = misc is not None
        absorbing = np.zeros(spec.n_states, dtype=bool)
        absorbing[np.setdiff1d(np.arange(spec.n_states), spec.from_idx)] = True
        self._censor_set = (~absorbing).astype(float)
        self._eye = np.eye(spec.n_states)

    # -- parameters
    def start(self) -> np.ndarray:
        parts = [np.log(self.spec.init), np.zeros(self.n_q - self.spec.n_transitions)]
        if self.misc:
            parts.append(self.misc.start())
        parts.append(self.init.start())
        return np.concatenate(parts)

    def rates(self, params: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        a = self.spec.n_transitions
        x = self.x if x is None else x
        beta = params[a:self.n_q].reshape(self.n_terms, a)
        with np.errstate(over="ignore"):
            return np.exp(params[:a] + x @ beta)

    def ematrix(self, params: np.ndarray) -> np.ndarray:
        if not self.misc:
            return self._eye
        return self.misc.build(params[self.n_q:self.n_q + self.n_e])

    def initprobs(self, params: np.ndarray) -> np.ndarray:
        return self.init.build(params[self.n_q + self.n_e:])

    # -- evaluation
    def minus2loglik(self, params: np.ndarray) -> float:
        return -2.0 * self._run(params, gradient=False)[0]

    def minus2loglik_and_gradient(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        loglik, grad = self._run(params, gradient=True)
        return -2.0 * loglik, -2.0 * grad

    def hessian(self, params: np.ndarray) -> np.ndarray:
        """Hessian of the -2 log-likelihood by central differences of the analytic gradient."""
        return self.hessian_along(params, np.eye(self.n_params))

    def hessian_along(self, params: np.ndarray, directions: np.ndarray, step: float = 1e-6,
                      central: bool = False) -> np.ndarray:
        """``D' H D`` for the columns of ``directions`` (the Hessian of a constrained model), by forward
        differences of the analytic gradient (one gradient per direction; ``central=True``: two, with an
        error of order ``step**2`` instead of ``step``)."""
        m = directions.shape[1]
        h = np.empty((m, m))
        base = None if central else self.minus2loglik_and_gradient(params)[1]
        for j in range(m):
            e = step * directions[:, j]
            up = self.minus2loglik_and_gradient(params + e)[1]
            if central:
                h[:, j] = directions.T @ (up - self.minus2loglik_and_gradient(params - e)[1]) / (2.0 * step)
            else:
                h[:, j] = directions.T @ (up - base) / step
        return (h + h.T) / 2.0

    def _matrices(self, params):
        rates = self.rates(params)
        q = self.spec.build(rates)
        if not (rates < _MAX_RATE).all():
            return rates, q, None, None
        trans = Transitions(q, self.seqs.group_pattern, self.seqs.group_dt)
        return rates, q, trans, trans.p

    def _emissions(self, kind, code, pattern, q, e):
        out = np.empty((len(kind), self.spec.n_states))
        for value in (KNOWN, MISCLASSIFIED, CENSORED, DEATH):
            rows = np.flatnonzero(kind == value)
            if not len(rows):
                continue
            if value == KNOWN:
                out[rows] = self._eye[code[rows]]
            elif value == MISCLASSIFIED:
                out[rows] = e.T[code[rows]]
            elif value == CENSORED:
                out[rows] = self._censor_set
            else:
                out[rows] = q[pattern[rows], :, code[rows]]
        return out

    def _step_emissions(self, q, e):
        """Emission vectors of all steps: the fixed ones once, those that depend on E or Q each time."""
        s = self.seqs
        if not hasattr(self, "_fixed_emis"):
            fixed = np.isin(s.step_kind, (KNOWN, CENSORED))
            self._fixed_emis = self._emissions(s.step_kind, s.step_code, s.step_pattern, q, e)
            self._mis_rows = np.flatnonzero(s.step_kind == MISCLASSIFIED)
            self._death_rows = np.flatnonzero(s.step_kind == DEATH)
            self._fixed_emis[~fixed] = 0.0
        out = self._fixed_emis.copy()
        if len(self._mis_rows):
            out[self._mis_rows] = e.T[s.step_code[self._mis_rows]]
        if len(self._death_rows):
            r = self._death_rows
            out[r] = q[s.step_pattern[r], :, s.step_code[r]]
        return out

    def _initial(self, e, f):
        s = self.seqs
        emis = self._emissions(s.first_kind, s.first_code, np.zeros(len(s.first_code), dtype=int), None, e)
        prior = np.where((s.first_kind == MISCLASSIFIED)[:, None], f[None, :], 1.0) if self.hidden else 1.0
        return emis, prior

    def _run(self, params: np.ndarray, gradient: bool):
        rates, q, a, p = self._matrices(params)
        if p is None or not np.isfinite(p).all():
            return -np.inf, np.zeros(self.n_params)
        e = self.ematrix(params)
        f = self.initprobs(params)
        s = self.seqs
        emis0, prior = self._initial(e, f)
        alpha = emis0 * prior
        c0 = np.maximum(alpha.sum(axis=1), _TINY)
        alpha /= c0[:, None]
        emis = self._step_emissions(q, e)
        n = s.n_steps
        p_steps = p[s.step_group]
        prev = np.empty((n, self.spec.n_states))
        moved = np.empty((n, self.spec.n_states))
        scale = np.empty(n)
        for b0, b1 in zip(s.k_starts[:-1], s.k_starts[1:]):
            who = s.step_subject[b0:b1]
            cur = alpha[who]
            m = (cur[:, None, :] @ p_steps[b0:b1])[:, 0, :]
            new = m * emis[b0:b1]
            c = np.maximum(new.sum(axis=1), _TINY)
            alpha[who] = new / c[:, None]
            scale[b0:b1] = c
            prev[b0:b1], moved[b0:b1] = cur, m
        loglik = float(np.log(c0).sum() + np.log(scale).sum())
        if not gradient:
            return loglik, None
        return loglik, self._backward(rates, q, a, p_steps, e, f, emis0, prior, c0, emis, prev, moved, scale)

    def _backward(self, rates, q, a, p_steps, e, f, emis0, prior, c0, emis, prev, moved, scale):
        s = self.seqs
        k_states = self.spec.n_states
        beta = np.ones((s.n_subjects, k_states))
        weighted_all = np.empty((s.n_steps, k_states))
        d_emis = np.empty((s.n_steps, k_states))
        for b0, b1 in zip(s.k_starts[-2::-1], s.k_starts[:0:-1]):
            who = s.step_subject[b0:b1]
            bw = beta[who] / scale[b0:b1, None]
            weighted = emis[b0:b1] * bw
            weighted_all[b0:b1] = weighted
            d_emis[b0:b1] = moved[b0:b1] * bw
            beta[who] = (p_steps[b0:b1] @ weighted[:, :, None])[:, :, 0]
        d_emis0 = prior * beta / c0[:, None]
        weights = self._group_outer(prev, weighted_all)
        dq = a.gradient(weights)
        if len(self._death_rows):
            r = self._death_rows
            np.add.at(dq, (s.step_pattern[r], slice(None), s.step_code[r]), d_emis[r])
        fr, to = self.spec.from_idx, self.spec.to_idx
        scores = rates * (dq[:, fr, to] - dq[:, fr, fr])
        parts = [scores.sum(axis=0), (self.x.T @ scores).ravel()]
        if self.misc:
            grad_e = np.zeros((k_states, k_states))
            r = self._mis_rows
            np.add.at(grad_e.T, s.step_code[r], d_emis[r])
            mis0 = s.first_kind == MISCLASSIFIED
            np.add.at(grad_e.T, s.first_code[mis0], d_emis0[mis0])
            parts.append(self.misc.chain(e, grad_e))
        if self.init.n_params:
            mis0 = s.first_kind == MISCLASSIFIED
            grad_f = (emis0[mis0] * beta[mis0] / c0[mis0, None]).sum(axis=0)
            parts.append(self.init.chain(f, grad_f))
        return np.concatenate(parts)

    def _group_outer(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """``sum over the steps of each group of outer(left, right)``, shape (n_groups, K, K)."""
        s = self.seqs
        if not hasattr(self, "_by_group"):
            self._by_group = np.argsort(s.step_group, kind="stable")
            self._group_starts = np.flatnonzero(np.r_[True, np.diff(s.step_group[self._by_group]) != 0])
        o = self._by_group
        outer = left[o][:, :, None] * right[o][:, None, :]
        if len(self._group_starts) == len(o):  # one step per group
            return outer
        return np.add.reduceat(outer, self._group_starts, axis=0)

    # -- decoding
    def posterior(self, params: np.ndarray) -> np.ndarray:
        """Probability of each true state at every observation given all of the subject's observations.

        Returns
        -------
        ndarray (n_rows, n_states)
            In the order of ``seqs.rows``.
        """
        rates, q, a, p = self._matrices(params)
        e, f = self.ematrix(params), self.initprobs(params)
        s = self.seqs
        emis0, prior = self._initial(e, f)
        alpha0 = emis0 * prior
        alpha0 /= np.maximum(alpha0.sum(axis=1), _TINY)[:, None]
        emis = self._step_emissions(q, e)
        fwd = np.empty((s.n_steps, self.spec.n_states))
        alpha = alpha0.copy()
        for b0, b1 in zip(s.k_starts[:-1], s.k_starts[1:]):
            who = s.step_subject[b0:b1]
            new = np.einsum("ni,nij->nj", alpha[who], p[s.step_group[b0:b1]]) * emis[b0:b1]
            alpha[who] = new / np.maximum(new.sum(axis=1), _TINY)[:, None]
            fwd[b0:b1] = alpha[who]
        beta = np.ones((s.n_subjects, self.spec.n_states))
        out = np.empty((len(s.rows), self.spec.n_states))
        for b0, b1 in zip(s.k_starts[-2::-1], s.k_starts[:0:-1]):
            who = s.step_subject[b0:b1]
            post = fwd[b0:b1] * beta[who]
            out[s.step_row[b0:b1]] = post / np.maximum(post.sum(axis=1), _TINY)[:, None]
            step_emis = emis[b0:b1]
            if (s.step_kind[b0:b1] == DEATH).any():  # the state entered at an exact death is the death state
                dead = s.step_kind[b0:b1] == DEATH
                out[s.step_row[b0:b1][dead]] = self._eye[s.step_code[b0:b1][dead]]
            weighted = step_emis * beta[who]
            beta[who] = np.einsum("nij,nj->ni", p[s.step_group[b0:b1]], weighted)
            beta[who] /= np.maximum(beta[who].sum(axis=1), _TINY)[:, None]
        post = alpha0 * beta
        out[s.first_row] = post / np.maximum(post.sum(axis=1), _TINY)[:, None]
        return out

    def viterbi(self, params: np.ndarray) -> np.ndarray:
        """Most likely path of true states (msm ``viterbi.msm``), one code per row of ``seqs.rows``."""
        rates, q, a, p = self._matrices(params)
        e, f = self.ematrix(params), self.initprobs(params)
        s = self.seqs
        k_states = self.spec.n_states
        emis0, prior = self._initial(e, f)
        with np.errstate(divide="ignore"):
            v = np.log(emis0 * prior)
            log_p = np.log(np.maximum(p, 0.0))
            kind = np.where(s.step_kind == DEATH, KNOWN, s.step_kind)  # as msm: the death state is observed
            log_emis = np.log(np.maximum(self._emissions(kind, s.step_code, s.step_pattern, q, e), 0.0))
        back = np.empty((s.n_steps, k_states), dtype=int)
        for b0, b1 in zip(s.k_starts[:-1], s.k_starts[1:]):
            who = s.step_subject[b0:b1]
            scores = v[who][:, :, None] + log_p[s.step_group[b0:b1]]
            back[b0:b1] = scores.argmax(axis=1)
            v[who] = scores.max(axis=1) + log_emis[b0:b1]
        path = np.empty(len(s.rows), dtype=int)
        current = v.argmax(axis=1)
        for b0, b1 in zip(s.k_starts[-2::-1], s.k_starts[:0:-1]):
            who = s.step_subject[b0:b1]
            path[s.step_row[b0:b1]] = current[who]
            current[who] = back[b0:b1][np.arange(b1 - b0), current[who]]
        path[s.first_row] = current
        return path


class Transitions:
    """Transition matrices ``P = expm(dt Q_c)`` of distinct (pattern c, length dt) groups, and the
    gradient of ``sum_g <W_g, P_g>`` with respect to each pattern's Q.

    Patterns whose Q has a well-conditioned eigenvector basis ``Q = U diag(l) U^{-1}`` use it:
    ``P(t) = U diag(exp(t l)) U^{-1}`` and ``d<W, P(t)>/dQ = U^{-T} [Phi(t) o (U' W U^{-T})] U'`` with
    ``Phi_ij(t) = (exp(t l_i) - exp(t l_j)) / (l_i - l_j) = t exp(t l_j) expm1(t (l_i - l_j)) / (t (l_i - l_j))``
    (Kalbfleisch & Lawless 1985); the others the Padé exponential and its Fréchet derivative.
    Groups are sorted by pattern, so each pattern's groups are one slice and both products are
    single matrix multiplications over the slice.
    """

    def __init__(self, q: np.ndarray, pattern: np.ndarray, dt: np.ndarray):
        self.q, self.pattern, self.dt = q, pattern, dt
        self.dec = dec = Decomposition(q)
        k = q.shape[-1]
        self.good = good = dec.spectral[pattern]
        self.slices = []
        p = np.empty((len(dt), k, k))
        starts = np.flatnonzero(np.r_[True, pattern[1:] != pattern[:-1]])
        for lo, hi in zip(starts, np.r_[starts[1:], len(dt)]):
            c = int(pattern[lo])
            if not good[lo]:
                continue
            lam, u, u_inv = dec.lam[c], dec.u[c], dec.u_inv[c]
            if not np.iscomplexobj(lam) or not np.iscomplex(lam).any():
                lam, u, u_inv = lam.real, u.real, u_inv.real
            e = np.exp(dt[lo:hi, None] * lam)
            basis = (u[:, :, None] * u_inv[None, :, :]).transpose(1, 0, 2).reshape(k, k * k)  # [m, (i, j)]
            p[lo:hi] = (e @ basis).real.reshape(-1, k, k)
            self.slices.append((lo, hi, c, lam, u, u_inv, e))
        if (~good).any():
            self.a = dt[~good, None, None] * q[pattern[~good]]
            p[~good] = expm_stack(self.a)
        self.p = p

    def gradient(self, weights: np.ndarray) -> np.ndarray:
        """``sum over groups of d<W_g, P_g>/dQ``, per pattern: shape (n_patterns, K, K)."""
        k = self.q.shape[-1]
        out = np.zeros(self.q.shape)
        for lo, hi, c, lam, u, u_inv, e in self.slices:
            # m_g = U' W_g U^{-T}: m_g[a, b] = sum_ij W_g[i, j] U[i, a] U^{-1}[b, j]
            basis = (u[:, None, :, None] * u_inv.T[None, :, None, :]).reshape(k * k, k * k)
            m = weights[lo:hi].reshape(-1, k * k) @ basis
            dt = self.dt[lo:hi, None, None]
            x = dt * (lam[:, None] - lam[None, :])
            phi = (dt * _divided_exp(x, e)).reshape(-1, k * k)
            summed = (phi * m).sum(axis=0).reshape(k, k)
            out[c] += (u_inv.T @ summed @ u.T).real
        bad = ~self.good
        if bad.any():
            np.add.at(out, self.pattern[bad], self.dt[bad, None, None] * expm_frechet_adjoint(self.a, weights[bad]))
        return out


def _divided_exp(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``(e_i - e_j) / x_ij`` for ``x_ij = dt (l_i - l_j)`` and ``e = exp(dt l)``.

    The eigenvalues of an intensity matrix have non-positive real parts, so ``e`` never overflows and the
    difference quotient is accurate to about ``eps / |x|``; where ``|x| < 1e-3`` (the diagonal among
    them) the Taylor expansion ``e_j (1 + x/2 + x^2/6)`` is used (relative error below 1e-10).
    """
    close = np.abs(x) < 1e-3
    with np.errstate(all="ignore"):
        direct = (e[:, :, None] - e[:, None, :]) / np.where(close, 1.0, x)
    if not close.any():
        return direct
    taylor = e[:, None, :] * (1.0 + x / 2.0 + x * x / 6.0)
    return np.where(close, taylor, direct)


# ----------------------------------------------------------------------- methods of a fitted model
class HiddenMethods:
    """Methods of a model fitted with ``ematrix`` (misclassification)."""

    def _forward(self) -> ForwardLikelihood:
        self._fitted()
        if not isinstance(getattr(self, "_lik", None), ForwardLikelihood):
            raise ParameterError("this needs a model fitted with ematrix (misclassification) or pci; "
                                 "refit with fit(..., ematrix=E) or fit(..., pci=[...])")
        return self._lik

    def ematrix(self, ci: str = "delta", cl: float | None = None) -> pd.DataFrame:
        """Misclassification probabilities ``e_rs = P(observed s | true r)`` (msm ``ematrix.msm``).

        Parameters
        ----------
        ci : {"delta", "none"}, default="delta"
            ``"none"``: the K x K matrix (rows true states, columns observed states). ``"delta"``: a tidy
            frame of the estimated probabilities and those of a correct classification, with
            delta-method standard errors and limits on the logit scale (as msm).
        cl : float, optional
            Confidence level; default the model's ``cl``.

        Returns
        -------
        pandas.DataFrame
            The matrix, or columns ``from_state`` (true), ``to_state`` (observed), ``estimate``,
            ``std_error``, ``conf_low``, ``conf_high``.

        Raises
        ------
        ParameterError
            The model has no misclassification.
        """
        lik = self._forward()
        if lik.misc is None:
            raise ParameterError("ematrix: the model has no misclassification (fit with ematrix=...)")
        from progression._tidy import z_value

        params = self._full_params.to_numpy()
        e = lik.ematrix(params)
        if ci == "none":
            return self._spec.frame(e)
        if ci != "delta":
            raise ParameterError(f"ci must be one of ('delta', 'none'); found {ci!r}")
        misc = lik.misc
        diag_rows = np.unique(misc.rows)
        rows = np.r_[misc.rows, diag_rows]
        cols = np.r_[misc.cols, diag_rows]
        block = slice(lik.n_q, lik.n_q + lik.n_e)
        theta = params[block]
        jac = np.empty((len(rows), len(theta)))
        for j in range(len(theta)):
            h = np.zeros_like(theta)
            h[j] = 1e-6
            jac[:, j] = (misc.build(theta + h)[rows, cols] - misc.build(theta - h)[rows, cols]) / 2e-6
        vcov = self._full_vcov.to_numpy()[block, block]
        est = e[rows, cols]
        se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0.0))
        z = z_value(self.cl if cl is None else cl)
        with np.errstate(divide="ignore", invalid="ignore"):
            logit = np.log(est) - np.log1p(-est)
            se_logit = se / (est * (1 - est))
        low, high = 1 / (1 + np.exp(-(logit - z * se_logit))), 1 / (1 + np.exp(-(logit + z * se_logit)))
        states = self.states_
        out = pd.DataFrame({"from_state": [states[i] for i in rows], "to_state": [states[j] for j in cols],
                            "estimate": est, "std_error": se, "conf_low": low, "conf_high": high})
        return out.sort_values(["from_state", "to_state"], key=lambda c: c.map({s: i for i, s in enumerate(states)}),
                               ignore_index=True)

    def viterbi(self) -> pd.DataFrame:
        """Most likely true state at every observation (msm ``viterbi.msm``), with the probability of
        each true state given all of the subject's observations.

        Returns
        -------
        pandas.DataFrame
            One row per observation (subjects in order of appearance, times increasing): the subject
            and time columns of the data, ``observed``, ``fitted`` (the Viterbi path) and ``p_<state>``
            for each state (forward-backward probabilities). Observations inserted at the cut points
            of a ``pci`` model are left out.

        Notes
        -----
        The Viterbi algorithm maximises ``log f_{S_0} + sum_k log P_{S_{k-1} S_k}(dt_k) + log d_k(S_k)`` over
        paths of true states by dynamic programming (Viterbi 1967); an exact death is taken as observed.
        """
        lik = self._forward()
        params = self._full_params.to_numpy()
        s = lik.seqs
        fitted = lik.viterbi(params)
        post = lik.posterior(params)
        keep = ~s.rows["inserted"].to_numpy()
        states = np.asarray(self.states_, dtype=object)
        call = getattr(self, "_fit_call", {})
        out = pd.DataFrame({
            call.get("subject", "subject"): s.subject_ids[s.rows["_subject"].to_numpy()[keep]],
            call.get("time", "time"): s.rows["_time"].to_numpy()[keep],
            "observed": states[s.rows["_code"].to_numpy()[keep]],
            "fitted": states[fitted[keep]],
        })
        for j, label in enumerate(self.states_):
            out[f"p_{label}"] = post[keep, j]
        return out
