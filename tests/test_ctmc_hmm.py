"""Misclassification, piecewise-constant intensities, constraints, goodness of fit, passage quantities and
the bootstrap of progression.transitions.ctmc, against known truth: brute-force sums over hidden paths,
closed forms, finite differences and simulation.

The comparisons with R's msm are in test_ctmc_hmm_reference.py (marker reference_r).
"""

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.linalg

from progression.exceptions import DataContractError, ParameterError, StatisticalWarning
from progression.transitions import ctmc
from progression.transitions.ctmc._data import qspec_from
from progression.transitions.ctmc._goodness import imhof_sf, qcut
from progression.transitions.ctmc._hmm import (
    CENSORED,
    DEATH,
    ForwardLikelihood,
    initspec_from,
    miscspec_from,
    prepare_sequences,
)

COLS = {"subject": "subject", "time": "time", "state": "state"}
# progressive illness-death model observed with error: 1 well, 2 ill, 3 dead (exact death times)
Q3 = np.array([[-0.35, 0.25, 0.10], [0.0, -0.30, 0.30], [0.0, 0.0, 0.0]])
E3 = np.array([[0.0, 0.15, 0.0], [0.10, 0.0, 0.0], [0.0, 0.0, 0.0]])


def _misclassify(data, e, rng, states=(1, 2, 3)):
    """Record each observed state s as t with probability e[s, t] (truth known)."""
    e = np.array(e, dtype=float)
    np.fill_diagonal(e, 0.0)
    np.fill_diagonal(e, 1.0 - e.sum(axis=1))
    codes = data["state"].map({s: i for i, s in enumerate(states)}).to_numpy()
    cum = np.cumsum(e[codes], axis=1)
    drawn = (rng.random(len(codes))[:, None] < cum).argmax(axis=1)
    return data.assign(true_state=data["state"], state=np.asarray(states)[drawn])


@pytest.fixture(scope="module")
def hidden_panel():
    rng = np.random.default_rng(11)
    n = 1500
    times = np.cumsum(rng.uniform(0.4, 1.2, size=(n, 7)), axis=1) - 0.4
    times[:, 0] = 0.0
    data = ctmc.simulate_panel(Q3, n, times, death_states=[3], seed=12)
    first = (data.groupby("subject").cumcount() == 0).to_numpy()
    recorded = _misclassify(data, E3, rng)
    recorded.loc[first, "state"] = recorded.loc[first, "true_state"]  # the first state is known (obstrue)
    return recorded.assign(first=first.astype(int))


@pytest.fixture(scope="module")
def hidden_model(hidden_panel):
    return ctmc.fit(hidden_panel, **COLS, qmatrix=Q3, ematrix=np.where(E3 > 0, 0.2, 0.0), death_states=[3],
                    obstrue="first")


# ------------------------------------------------------------------ the likelihood
def _brute_force(data, q, e, f, death_states=(), obstrue=None, cuts=(), period_hr=None):
    """-2 log L summing over every path of true states (censored rows: any transient state)."""
    k = len(q)
    states = list(range(1, k + 1))
    e = np.array(e, dtype=float)
    np.fill_diagonal(e, 0.0)
    np.fill_diagonal(e, 1.0 - e.sum(axis=1))
    total = 0.0
    for _, rows in data.groupby("subject", sort=False):
        t = list(rows["time"])
        obs = [states.index(s) for s in rows["state"]]
        true = list(rows[obstrue]) if obstrue else [0] * len(rows)
        # insert censored rows at cuts strictly inside the follow-up
        for c in cuts:
            if t[0] < c < t[-1] and c not in t:
                i = int(np.searchsorted(t, c))
                t.insert(i, c)
                obs.insert(i, -1)
                true.insert(i, 0)
        lik = 0.0
        transient = [s for s in range(k) if q[s].sum() - q[s, s] > 0 or q[s, s] < 0]
        for path in itertools.product(range(k), repeat=len(t)):
            if true[0] and path[0] != obs[0]:
                continue
            value = 1.0 if true[0] else f[path[0]]
            value *= 1.0 if true[0] else e[path[0], obs[0]]
            for j in range(1, len(t)):
                qj = q if not cuts or t[j - 1] < cuts[0] else q * period_hr
                np.fill_diagonal(qj, 0.0)
                np.fill_diagonal(qj, -qj.sum(axis=1))
                p = scipy.linalg.expm((t[j] - t[j - 1]) * qj)
                if obs[j] == -1:
                    value *= p[path[j - 1], path[j]] * (path[j] in transient)
                elif states[obs[j]] in death_states:  # path[j]: the state just before the exact death
                    value *= p[path[j - 1], path[j]] * qj[path[j], obs[j]]
                elif true[j]:
                    value *= p[path[j - 1], path[j]] * (path[j] == obs[j])
                else:
                    value *= p[path[j - 1], path[j]] * e[path[j], obs[j]]
            lik += value
        total += np.log(lik)
    return -2 * total


def _small_panel():
    return pd.DataFrame({
        "subject": [1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4],
        "time": [0.0, 0.7, 1.9, 0.0, 1.1, 2.6, 0.0, 3.3, 0.2, 0.9, 1.4],
        "state": [1, 2, 2, 2, 2, 3, 1, 3, 1, 1, 2],
        "first": [1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0],
    })


def test_forward_likelihood_equals_the_sum_over_hidden_paths():
    data = _small_panel()
    e = np.where(E3 > 0, 0.2, 0.0)
    f = np.array([0.7, 0.3, 0.0])
    model = ctmc.fit(data, **COLS, qmatrix=Q3, ematrix=e, death_states=[3], obstrue="first", initprobs=f,
                     fixedpars=True)
    expected = _brute_force(data, Q3, e, f, death_states=[3], obstrue="first")
    assert model.minus2loglik_ == pytest.approx(expected, rel=1e-11)


def test_censored_cut_rows_equal_the_product_of_period_exponentials():
    data = _small_panel().assign(first=1)  # a model without misclassification: every state is known
    hr = np.array([[1.0, 1.5, 0.8], [1.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    beta = np.log(hr)
    spec = qspec_from(Q3, [3])
    seqs = prepare_sequences(data, **COLS, spec=spec, hidden=False, cuts=np.array([1.0]), centre=False)
    assert (seqs.step_kind == CENSORED).sum() == 4 and (seqs.step_kind == DEATH).sum() == 2
    lik = ForwardLikelihood(spec, seqs, None, initspec_from(None, False, spec.states))
    params = np.r_[np.log(spec.init), beta[spec.from_idx, spec.to_idx]]
    expected = _brute_force(data, Q3, np.zeros((3, 3)), np.eye(3)[0], death_states=[3], obstrue="first",
                            cuts=[1.0], period_hr=hr)
    assert lik.minus2loglik(params) == pytest.approx(expected, rel=1e-11)


def test_no_cut_inside_follow_up_gives_the_basic_likelihood():
    data = _small_panel()
    spec = qspec_from(Q3, [3])
    seqs = prepare_sequences(data, **COLS, spec=spec, hidden=False)
    lik = ForwardLikelihood(spec, seqs, None, initspec_from(None, False, spec.states))
    basic = ctmc.minus2loglik(data, **COLS, qmatrix=Q3, death_states=[3])
    assert lik.minus2loglik(np.log(spec.init)) == pytest.approx(basic, rel=1e-12)


def test_gradient_matches_finite_differences(hidden_panel):
    data = hidden_panel.assign(x=(hidden_panel["subject"] % 2).astype(float))
    spec = qspec_from(Q3, [3])
    seqs = prepare_sequences(data, **COLS, spec=spec, covariates=["x"], hidden=True, obstrue=None,
                             cuts=np.array([2.0]))
    lik = ForwardLikelihood(spec, seqs, miscspec_from(np.where(E3 > 0, 0.2, 0.0), spec.states),
                            initspec_from([0.6, 0.3, 0.1], True, spec.states))
    params = lik.start() + np.random.default_rng(0).normal(0, 0.1, lik.n_params)
    _, grad = lik.minus2loglik_and_gradient(params)
    h = 1e-6
    numeric = [(lik.minus2loglik(params + h * e) - lik.minus2loglik(params - h * e)) / (2 * h)
               for e in np.eye(len(params))]
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-3)


def test_misclassification_recovered_within_confidence_limits(hidden_model):
    e = hidden_model.ematrix()
    est = e.set_index(["from_state", "to_state"])
    for (r, s), truth in {(1, 2): 0.15, (2, 1): 0.10}.items():
        row = est.loc[(r, s)]
        assert row["conf_low"] <= truth <= row["conf_high"], row
    q = hidden_model.qmatrix().set_index(["from_state", "to_state"])
    for (r, s) in [(1, 2), (1, 3), (2, 3)]:
        assert q.loc[(r, s), "conf_low"] <= Q3[r - 1, s - 1] <= q.loc[(r, s), "conf_high"]
    assert hidden_model.ematrix(ci="none").to_numpy().sum(axis=1) == pytest.approx(np.ones(3))


def test_viterbi_is_the_most_likely_path():
    data = _small_panel()
    e = np.where(E3 > 0, 0.2, 0.0)
    model = ctmc.fit(data, **COLS, qmatrix=Q3, ematrix=e, initprobs=[0.7, 0.3, 0.0], fixedpars=True)
    path = model.viterbi()
    full = np.array(e, dtype=float)
    np.fill_diagonal(full, 1 - full.sum(axis=1))
    for subject, rows in data.groupby("subject"):
        t, obs = rows["time"].to_numpy(), rows["state"].to_numpy() - 1
        best, best_path = -np.inf, None
        for cand in itertools.product(range(3), repeat=len(t)):
            value = np.log(max([0.7, 0.3, 0.0][cand[0]] * full[cand[0], obs[0]], 1e-300))
            for j in range(1, len(t)):
                p = scipy.linalg.expm((t[j] - t[j - 1]) * Q3)
                value += np.log(max(p[cand[j - 1], cand[j]] * full[cand[j], obs[j]], 1e-300))
            if value > best:
                best, best_path = value, cand
        fitted = path.loc[path["subject"] == subject, "fitted"].to_numpy() - 1
        np.testing.assert_array_equal(fitted, best_path)
    probs = path[["p_1", "p_2", "p_3"]].to_numpy()
    assert probs.sum(axis=1) == pytest.approx(np.ones(len(path)))


def test_obstrue_rows_are_fitted_as_observed(hidden_model, hidden_panel):
    path = hidden_model.viterbi()
    first = path.groupby("subject").head(1)
    assert (first["fitted"] == first["observed"]).all()
    assert (path.loc[path["observed"] == 3, "fitted"] == 3).all()


def test_a_hidden_state_always_recorded_as_another():
    """A hidden absorbing state seen as state 1 (entry 1 in ematrix) is estimated from returns to 1."""
    rng = np.random.default_rng(4)
    q = np.array([[-0.5, 0.2, 0.3], [0.4, -0.4, 0.0], [0.0, 0.0, 0.0]])  # 3 = left for good, seen as 1
    sim = q.copy()
    sim[2, 0] = 1e-12  # not absorbing for the simulator, so that citizens in 3 stay under observation
    data = ctmc.simulate_panel(sim, 2000, np.arange(8.0), start=rng.choice([1, 2], 2000), seed=5)
    data["state"] = data["state"].replace({3: 1})
    e = np.array([[0, 0, 0], [0, 0, 0], [1.0, 0, 0]])
    model = ctmc.fit(data, **COLS, qmatrix=np.where(q > 0, 0.2, 0.0) * ~np.eye(3, dtype=bool), ematrix=e,
                     initprobs=[0.5, 0.5, 0.0])
    assert model.ematrix(ci="none").loc[3, 1] == 1.0
    assert model.qmatrix_.loc[1, 3] == pytest.approx(0.3, rel=0.25)


# ------------------------------------------------------------------ piecewise-constant intensities
def test_piecewise_intensities_recover_the_period_effect():
    q1 = np.array([[-0.3, 0.3], [0.2, -0.2]])
    q2 = np.array([[-0.6, 0.6], [0.2, -0.2]])
    rng = np.random.default_rng(3)
    n = 1500
    before = ctmc.simulate_panel(q1, n, np.arange(0.0, 4.0), seed=rng)
    last = before.groupby("subject").tail(1)
    after = ctmc.simulate_panel(q2, n, np.arange(3.0, 8.0), start=last["state"].to_numpy(), seed=rng)
    data = pd.concat([before, after[after["time"] > 3.0]]).sort_values(["subject", "time"])
    model = ctmc.fit(data, **COLS, qmatrix=q1, pci=[3.0])
    hr = model.hazard_ratios().set_index(["from_state", "to_state"])
    assert hr.loc[(1, 2), "conf_low"] <= 2.0 <= hr.loc[(1, 2), "conf_high"]
    assert hr.loc[(2, 1), "conf_low"] <= 1.0 <= hr.loc[(2, 1), "conf_high"]
    assert model.terms_ == ["timeperiod[[3,Inf)]"]
    p = model.pmatrix_piecewise(2.0, 5.0).to_numpy()
    qs = model.period_qmatrices()
    np.testing.assert_allclose(p, scipy.linalg.expm(qs[0]) @ scipy.linalg.expm(2.0 * qs[1]), rtol=1e-10)


def test_cuts_outside_the_data_warn_and_give_the_homogeneous_model(hidden_panel):
    data = _small_panel()
    warnings.simplefilter("ignore", StatisticalWarning)
    with pytest.warns(StatisticalWarning, match="outside the observation times"):
        model = ctmc.fit(data, **COLS, qmatrix=Q3, death_states=[3], pci=[-1.0, 50.0])
    basic = ctmc.fit(data, **COLS, qmatrix=Q3, death_states=[3])
    assert model.minus2loglik_ == pytest.approx(basic.minus2loglik_, rel=1e-8)


# ------------------------------------------------------------------ constraints
def test_constraints_tie_and_fix_parameters(hidden_panel):
    data = hidden_panel.assign(state=hidden_panel["true_state"])
    tied = ctmc.fit(data, **COLS, qmatrix=Q3, death_states=[3], qconstraint=[1, 2, 2])
    q = tied.qmatrix_
    assert q.loc[1, 3] == pytest.approx(q.loc[2, 3], rel=1e-12)
    assert tied.n_free_params_ == 2
    fixed = ctmc.fit(data, **COLS, qmatrix=Q3, death_states=[3], fixedpars=[("baseline", 1, 3)])
    assert fixed.qmatrix_.loc[1, 3] == pytest.approx(0.10, rel=1e-12)
    assert fixed.vcov_.loc[("baseline", 1, 3), ("baseline", 1, 3)] == 0.0
    at_start = ctmc.fit(data, **COLS, qmatrix=Q3, death_states=[3], fixedpars=True)
    assert at_start.minus2loglik_ == pytest.approx(ctmc.minus2loglik(data, **COLS, qmatrix=Q3, death_states=[3]))
    free = ctmc.fit(data, **COLS, qmatrix=Q3, death_states=[3])
    test = ctmc.lrtest(tied, free)
    assert test.loc[0, "df"] == 1 and 0 <= test.loc[0, "p_value"] <= 1
    assert test.loc[0, "statistic"] == pytest.approx(tied.minus2loglik_ - free.minus2loglik_)


def test_covariate_constraint(hidden_panel):
    data = hidden_panel.assign(state=hidden_panel["true_state"], x=(hidden_panel["subject"] % 2).astype(float))
    model = ctmc.fit(data, **COLS, qmatrix=Q3, death_states=[3], covariates=["x"], constraint={"x": [1, 1, 1]})
    hr = model.hazard_ratios()["estimate"].to_numpy()
    assert hr == pytest.approx(np.full(3, hr[0]), rel=1e-12)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"qconstraint": [1, 2]}, r"qconstraint must have one label per parameter \(3\); found 2"),
    ({"constraint": {"z": [1, 1, 1]}}, r"constraint: \['z'\] are not covariate terms"),
    ({"fixedpars": [99]}, r"fixedpars: position 99 is outside the 3 parameters"),
    ({"obstrue": "first"}, r"obstrue, initprobs and est_initprobs belong to a misclassification model"),
    ({"ematrix": np.ones((2, 2))}, r"ematrix must have the shape of qmatrix \(3, 3\)"),
    ({"ematrix": [[0, 0.6, 0.6], [0, 0, 0], [0, 0, 0]]}, r"true states \[1\] add up to 1 or more"),
    ({"ematrix": np.zeros((3, 3))}, "allows no misclassification"),
])
def test_errors_name_the_problem(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        ctmc.fit(_small_panel(), **COLS, qmatrix=Q3, death_states=[3], **kwargs)


def test_obstrue_must_be_flags():
    data = _small_panel().assign(first=2)
    with pytest.raises(DataContractError, match=r"column 'first' \(obstrue\) must hold 0/1"):
        ctmc.fit(data, **COLS, qmatrix=Q3, ematrix=np.where(E3 > 0, 0.2, 0.0), obstrue="first")


def test_ematrix_needs_a_misclassification_model(hidden_panel):
    basic = ctmc.fit(hidden_panel.assign(state=hidden_panel["true_state"]), **COLS, qmatrix=Q3, death_states=[3])
    with pytest.raises(ParameterError, match="needs a model fitted with ematrix"):
        basic.viterbi()
    with pytest.raises(ParameterError, match="needs a model fitted with ematrix"):
        basic.ematrix()


# ------------------------------------------------------------------ passage quantities
def test_passage_quantities_closed_forms():
    q = np.array([[-0.2, 0.2, 0.0], [0.1, -0.3, 0.2], [0.0, 0.0, 0.0]])
    # m1 = 1/0.2 + m2, m2 = 1/0.3 + (1/3) m1
    m1 = (5 + 10 / 3) / (1 - 1 / 3)
    np.testing.assert_allclose(ctmc.efpt(q, 3)["estimate"], [m1, m1 - 5, 0.0])
    assert ctmc.efpt(q, 1)["estimate"].tolist()[2] == np.inf  # absorbed elsewhere
    visits = ctmc.envisits(q, start=1)["estimate"].to_numpy()
    time = np.linalg.solve(-q[:2, :2].T, [1.0, 0.0])
    np.testing.assert_allclose(visits, [time[1] * 0.1, time[0] * 0.2, 1.0])
    pp = ctmc.ppass(q, 10.0)
    np.testing.assert_allclose(pp[3], scipy.linalg.expm(10 * q)[:, 2])  # an absorbing state: P(t) itself
    finite = ctmc.envisits(q, start=1, tot=5.0)["estimate"]
    assert finite[3] == pytest.approx(scipy.linalg.expm(5 * q)[0, 2], rel=1e-9)


def test_passage_methods_have_delta_limits(hidden_model):
    table = hidden_model.efpt(3)
    assert list(table.columns) == ["estimate", "std_error", "conf_low", "conf_high"]
    assert (table.loc[[1, 2], "conf_low"] < table.loc[[1, 2], "estimate"]).all()
    visits = hidden_model.envisits(start=1)
    assert visits.loc[3, "estimate"] == pytest.approx(1.0)
    pp = hidden_model.ppass(5.0)
    assert ((pp["conf_low"] <= pp["estimate"]) & (pp["estimate"] <= pp["conf_high"])).all()


def test_piecewise_passage_probabilities_by_hand():
    """msm's test_ppass: before the cut one exponential, after it the product over the periods."""
    rng = np.random.default_rng(8)
    q = np.array([[-0.3, 0.2, 0.1], [0.1, -0.3, 0.2], [0.0, 0.0, 0.0]])
    data = ctmc.simulate_panel(q, 600, np.arange(0.0, 10.0), death_states=[3], seed=rng)
    model = ctmc.fit(data, **COLS, qmatrix=q, death_states=[3], pci=[5.0])
    q0, q1 = model.period_qmatrices()
    q0, q1 = q0.copy(), q1.copy()
    q0[1] = q1[1] = 0.0  # to state 2: made absorbing
    by_hand = scipy.linalg.expm(3 * q0)[:, 1]
    np.testing.assert_allclose(model.ppass(3.0, ci="none")[2], by_hand, rtol=1e-9)
    by_hand = (scipy.linalg.expm(5 * q0) @ scipy.linalg.expm(2 * q1))[:, 1]
    np.testing.assert_allclose(model.ppass(7.0, ci="none")[2], by_hand, rtol=1e-9)


# ------------------------------------------------------------------ goodness of fit
def test_prevalence_counts_by_hand():
    data = _small_panel()
    model = ctmc.fit(data, **COLS, qmatrix=Q3, death_states=[3], fixedpars=True)
    table = model.prevalence(times=[0.0, 1.0, 3.0])
    wide = table.pivot(index="time", columns="state", values="n_observed")
    # t=0: subjects 1, 2, 3 (4 starts at 0.2); t=1: 1 (state 2), 2 (2), 3 (1), 4 (1); t=3: 2 dead, 3 (1)
    np.testing.assert_array_equal(wide.loc[0.0], [2, 1, 0])
    np.testing.assert_array_equal(wide.loc[1.0], [2, 2, 0])
    np.testing.assert_array_equal(wide.loc[3.0], [1, 0, 1])
    at_risk = table.groupby("time")["n_at_risk"].first()
    f = np.array([2, 1, 0]) / 3
    expected = at_risk[1.0] * f @ scipy.linalg.expm(Q3)
    np.testing.assert_allclose(table[table["time"] == 1.0]["expected"], expected)
    assert list(table.columns) == ["time", "state", "n_observed", "n_at_risk", "expected", "observed_percent",
                                   "expected_percent"]


def test_qcut_makes_quantile_groups_with_point_groups():
    codes, _ = qcut(np.arange(12.0), 3)
    np.testing.assert_array_equal(np.bincount(codes), [4, 4, 4])
    codes, _ = qcut(np.r_[np.zeros(8), 1.0, 2.0, 3.0], 3)
    assert (codes[:8] == 0).all() and len(np.unique(codes)) >= 2


def test_imhof_equals_chi_square_for_equal_weights():
    import scipy.stats

    assert imhof_sf(7.0, np.ones(4)) == pytest.approx(scipy.stats.chi2.sf(7.0, 4), abs=1e-6)
    weights = np.array([2.0, 1.0, 0.5, 0.5, 0.25, 0.1])
    draws = np.random.default_rng(0).chisquare(1, (400_000, len(weights))) @ weights
    assert imhof_sf(5.0, weights) == pytest.approx(np.mean(draws > 5.0), abs=3e-3)


def test_pearson_under_the_true_model_is_not_rejected():
    q = np.array([[-0.3, 0.3, 0.0], [0.2, -0.35, 0.15], [0.0, 0.1, -0.1]])
    rng = np.random.default_rng(21)
    times = np.cumsum(rng.uniform(0.5, 1.5, size=(600, 6)), axis=1)
    data = ctmc.simulate_panel(q, 600, times, start=rng.choice([1, 2, 3], 600), seed=22)
    model = ctmc.fit(data, **COLS, qmatrix=q)
    result = model.pearson(timegroups=2, intervalgroups=2)
    assert result.test.loc[0, "p_value"] > 0.01
    assert result.test.loc[0, "df_lower"] == result.test.loc[0, "df_upper"] - 4
    assert result.table["observed"].sum() == len(data) - 600
    assert result.table["expected"].sum() == pytest.approx(result.table["observed"].sum())


def test_pearson_refuses_exact_death_times(hidden_model):
    with pytest.raises(ParameterError, match="exact death times"):
        hidden_model.pearson()


# ------------------------------------------------------------------ bootstrap
def test_bootstrap_is_reproducible_and_independent_of_n_jobs(hidden_panel):
    data = hidden_panel[hidden_panel["subject"] <= 300].assign(state=lambda d: d["true_state"])
    model = ctmc.fit(data, **COLS, qmatrix=Q3, death_states=[3])
    one = model.bootstrap(n_boot=8, seed=3, chunk_size=4, n_jobs=1)
    two = model.bootstrap(n_boot=8, seed=3, chunk_size=4, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)
    assert list(one.columns) == ["estimate", "std_error", "conf_low", "conf_high", "n_boot"]
    other = model.bootstrap(n_boot=8, seed=4, chunk_size=4)
    assert not np.allclose(one["std_error"], other["std_error"])


def test_citizen_bootstrap_standard_errors_near_the_hessian(hidden_panel):
    data = hidden_panel[hidden_panel["subject"] <= 500].assign(state=lambda d: d["true_state"])
    model = ctmc.fit(data, **COLS, qmatrix=Q3, death_states=[3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        table, reps = model.bootstrap(n_boot=60, seed=1, return_replicates=True)
    summary = model.summary() if callable(model.summary) else model.summary
    hessian = summary["std_error"].to_numpy()
    ratio = table["std_error"].to_numpy() / hessian
    assert ((0.6 < ratio) & (ratio < 1.5)).all(), ratio
    assert reps.shape == (60, 3)


def test_transition_bootstrap_is_refused_for_hidden_models(hidden_model):
    with pytest.raises(ParameterError, match="resample='transition' needs a model without misclassification"):
        hidden_model.bootstrap(n_boot=2, resample="transition")


# ------------------------------------------------------------------ plot
def test_plot_prevalence_draws_observed_and_expected(hidden_model):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from progression.plots.ctmc import plot_prevalence

    table = hidden_model.prevalence(times=np.arange(0, 6.0))
    table.loc[table.index[3], "observed_percent"] = np.nan  # as if suppressed
    fig, ax = plt.subplots()
    assert plot_prevalence(table, ax=ax) is ax
    assert len(ax.get_lines()) == 2 * 3 + 1
    assert fig._progression_sources[0][0] == "plot_prevalence"
    with pytest.raises(ValueError, match="frame lacks columns"):
        plot_prevalence(table.drop(columns="expected_percent"), ax=ax)
    plt.close(fig)


def test_misclassification_constraint_ties_logits(hidden_panel):
    model = ctmc.fit(hidden_panel, **COLS, qmatrix=Q3, ematrix=np.where(E3 > 0, 0.2, 0.0), death_states=[3],
                     obstrue="first", econstraint=[1, 1])
    e = model.ematrix(ci="none")
    assert e.loc[1, 2] == pytest.approx(e.loc[2, 1], rel=1e-10)
    assert model.n_free_params_ == 3 + 1
    free = ctmc.fit(hidden_panel, **COLS, qmatrix=Q3, ematrix=np.where(E3 > 0, 0.2, 0.0), death_states=[3],
                    obstrue="first")
    assert ctmc.lrtest(model, free).loc[0, "df"] == 1
