"""Tests of progression.transitions.ctmc against known truth: closed forms, scipy, finite differences, simulation.

References to R msm on its `cav` data are in test_ctmc_reference.py (marker reference_r); the
coverage of confidence intervals over repeated simulations is in test_ctmc_coverage.py (slow).
"""

import re

import numpy as np
import pandas as pd
import pytest
import scipy.integrate
import scipy.linalg

from progression.transitions import ctmc
from progression.transitions.ctmc import _spectral
from progression.transitions.ctmc._data import prepare_panel, qspec_from
from progression.transitions.ctmc._expm import expm_frechet_adjoint, expm_stack
from progression.transitions.ctmc._likelihood import PanelLikelihood
from progression.exceptions import (
    ConvergenceError,
    DataContractError,
    NotFittedError,
    ParameterError,
    StatisticalWarning,
)

# Illness-death with recovery: 1 healthy, 2 ill, 3 dead (exact death times).
Q_TRUE = np.array([[-0.30, 0.20, 0.10], [0.15, -0.35, 0.20], [0.0, 0.0, 0.0]])
BETA_TRUE = {"x": np.array([[0.0, 0.5, 0.0], [-0.4, 0.0, 0.3], [0.0, 0.0, 0.0]])}
COLS = {"subject": "subject", "time": "time", "state": "state"}


def _panel(n=2000, seed=3, covariate=True):
    rng = np.random.default_rng(seed)
    z = pd.DataFrame({"x": rng.integers(0, 2, n).astype(float)}) if covariate else None
    beta = BETA_TRUE if covariate else None
    return ctmc.simulate_panel(Q_TRUE, n, np.arange(8.0), covariates=z, beta=beta, death_states=[3], seed=seed)


@pytest.fixture(scope="module")
def panel():
    return _panel()


@pytest.fixture(scope="module")
def model(panel):
    return ctmc.fit(panel, **COLS, qmatrix=Q_TRUE, death_states=[3], covariates=["x"])


def _random_generators(rng, n, k, scales):
    q = rng.exponential(size=(n, k, k)) * rng.choice(scales, size=(n, 1, 1))
    q[:, np.arange(k), np.arange(k)] = 0.0
    q[:, np.arange(k), np.arange(k)] = -q.sum(axis=2)
    return q


# ------------------------------------------------------------------ numerics
def test_expm_stack_matches_scipy_over_all_pade_degrees():
    rng = np.random.default_rng(0)
    q = _random_generators(rng, 60, 4, [1e-3, 0.05, 0.3, 1.0, 5.0, 40.0])
    expected = scipy.linalg.expm(q)
    np.testing.assert_allclose(expm_stack(q), expected, rtol=1e-12, atol=1e-13)


def test_frechet_adjoint_matches_scipy():
    rng = np.random.default_rng(1)
    a = _random_generators(rng, 20, 4, [0.01, 0.5, 3.0, 20.0])
    w = rng.normal(size=a.shape)
    expected = np.stack([scipy.linalg.expm_frechet(x.T, y, compute_expm=False) for x, y in zip(a, w)])
    np.testing.assert_allclose(expm_frechet_adjoint(a, w), expected, rtol=1e-10, atol=1e-12)


def _hand_panel(moves):
    """A panel with one subject per (from, to, dt) move."""
    rows = []
    for i, (r, s, t) in enumerate(moves):
        rows += [{"subject": i, "time": 0.0, "state": r}, {"subject": i, "time": t, "state": s}]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "q",
    [
        # equal exit rates along a progressive chain: a Jordan block, no eigenvector basis (Padé path)
        np.array([[-1.0, 1.0, 0.0], [0.0, -1.0, 1.0], [0.0, 0.0, 0.0]]),
        # two absorbing states: a double eigenvalue 0 (Taylor branch of the divided differences)
        np.array([[-0.5, 0.2, 0.2, 0.1], [0.3, -0.6, 0.1, 0.2], [0, 0, 0, 0], [0, 0, 0, 0]]),
        # nearly equal eigenvalues with independent eigenvectors
        np.array([[-0.3, 0.0, 0.3], [0.0, -0.3 - 1e-7, 0.3 + 1e-7], [0.0, 0.0, 0.0]]),
    ],
)
def test_likelihood_matches_scipy_expm_for_awkward_spectra(q):
    k = len(q)
    moves = [(r, s, t) for r in range(1, k + 1) for s in range(1, k + 1) for t in (0.3, 1.0, 2.5)
             if q[r - 1, r - 1] < 0 and (r == s or scipy.linalg.expm(q)[r - 1, s - 1] > 0)]
    data = _hand_panel(moves)
    expected = -2 * sum(np.log(scipy.linalg.expm(t * q)[r - 1, s - 1]) for r, s, t in moves)
    assert ctmc.minus2loglik(data, **COLS, qmatrix=q) == pytest.approx(expected, rel=1e-12)
    spec = qspec_from(q)
    lik = PanelLikelihood(spec, prepare_panel(data, **COLS, spec=spec), np.zeros(0))
    params = np.log(spec.init)
    _, grad = lik.minus2loglik_and_gradient(params)
    numeric = [(lik.minus2loglik(params + 1e-6 * e) - lik.minus2loglik(params - 1e-6 * e)) / 2e-6
               for e in np.eye(len(params))]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-6)


def _likelihood(panel, covariates=("x",)):
    spec = qspec_from(Q_TRUE, [3])
    data = prepare_panel(panel, **COLS, spec=spec, covariates=list(covariates))
    return PanelLikelihood(spec, data, data.x.mean(axis=0))


def test_gradient_matches_finite_differences(panel):
    lik = _likelihood(panel)
    params = np.array([-1.3, -2.4, -1.9, -1.5, 0.3, -0.2, 0.1, 0.4])
    _, grad = lik.minus2loglik_and_gradient(params)
    h = 1e-6
    numeric = [
        (lik.minus2loglik(params + h * e) - lik.minus2loglik(params - h * e)) / (2 * h) for e in np.eye(len(params))
    ]
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-4)


def test_eigen_and_pade_paths_agree(panel, monkeypatch):
    lik = _likelihood(panel)
    params = np.array([-1.3, -2.4, -1.9, -1.5, 0.3, -0.2, 0.1, 0.4])
    value, grad = lik.minus2loglik_and_gradient(params)
    monkeypatch.setattr(_spectral, "COND_MAX", 0.0)
    value_pade, grad_pade = lik.minus2loglik_and_gradient(params)
    assert value_pade == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(grad_pade, grad, rtol=1e-9, atol=1e-8)


def test_intervals_collapse_into_cells(panel):
    lik = _likelihood(panel)
    spec = qspec_from(Q_TRUE, [3])
    data = prepare_panel(panel, **COLS, spec=spec, covariates=["x"])
    keys = np.column_stack([data.x, data.from_idx, data.to_idx, data.dt])
    assert lik.n_cells == len(np.unique(keys, axis=0)) < len(data.dt)
    assert len(lik.x) == 2  # two covariate patterns, decomposed once each per evaluation


# --------------------------------------------------- functions of a bare Q
def test_two_state_pmatrix_closed_form():
    a, b, t = 0.3, 0.7, 1.7
    p = ctmc.pmatrix(np.array([[0.0, a], [b, 0.0]]), t)
    p12 = a / (a + b) * (1 - np.exp(-(a + b) * t))
    assert p.loc[1, 2] == pytest.approx(p12, rel=1e-13)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)


def test_sojourn_pnext_totlos_of_illness_death():
    labels = ["well", "ill", "dead"]
    q = pd.DataFrame(Q_TRUE, index=labels, columns=labels)
    assert ctmc.sojourn(q)["estimate"].to_dict() == pytest.approx({"well": 1 / 0.30, "ill": 1 / 0.35})
    nxt = ctmc.pnext(q)
    assert nxt.loc["well", "ill"] == pytest.approx(0.2 / 0.3)
    assert nxt.loc["dead"].sum() == 0.0
    # infinite horizon: start' (-Q_TT)^{-1}; finite horizon: the integral of P(u) from 0 to 5
    expected = np.linalg.solve(-Q_TRUE[:2, :2].T, [1.0, 0.0])
    los = ctmc.totlos(q, start="well")["estimate"]
    np.testing.assert_allclose(los[["well", "ill"]], expected, rtol=1e-12)
    assert los["dead"] == np.inf
    integral, _ = scipy.integrate.quad_vec(lambda u: scipy.linalg.expm(u * Q_TRUE)[0], 0, 5)
    np.testing.assert_allclose(ctmc.totlos(q, start="well", tot=5)["estimate"], integral, rtol=1e-9)
    assert ctmc.totlos(q, start="well", tot=5)["estimate"].sum() == pytest.approx(5.0)


def test_transition_probabilities_is_tidy():
    tidy = ctmc.transition_probabilities(Q_TRUE, [0.0, 1.0, 2.0])
    assert list(tidy.columns) == ["time", "from_state", "to_state", "probability"]
    assert len(tidy) == 3 * 9
    np.testing.assert_allclose(tidy.groupby(["time", "from_state"])["probability"].sum(), 1.0)


# ------------------------------------------------------------- simulation
def test_simulate_panel_is_reproducible_and_records_exact_deaths():
    first, second = _panel(300, seed=11), _panel(300, seed=11)
    pd.testing.assert_frame_equal(first, second)
    assert not first.equals(_panel(300, seed=12))
    deaths = first[first["state"] == 3]
    assert deaths["subject"].is_unique
    assert (deaths["time"] % 1 != 0).all()  # exact, between the yearly visits
    last = first.groupby("subject").tail(1)
    assert set(deaths.index) <= set(last.index)  # nothing is recorded after a death


def test_simulate_panel_truth_recovered_within_confidence_limits(model):
    table = model.summary()
    xbar = model.covariate_means_["x"]
    rows, cols = np.nonzero((Q_TRUE > 0) & ~np.eye(3, dtype=bool))
    truth_baseline = Q_TRUE[rows, cols] * np.exp(BETA_TRUE["x"][rows, cols] * xbar)
    truth = np.r_[truth_baseline, np.exp(BETA_TRUE["x"][rows, cols])]
    inside = (table["conf_low"] <= truth) & (truth <= table["conf_high"])
    assert inside.all(), table.assign(truth=truth)


def test_large_panel_recovers_intensities_closely():
    data = _panel(20000, seed=5, covariate=False)
    fitted = ctmc.fit(data, **COLS, qmatrix=ctmc.crude_inits(data, **COLS, qmatrix=Q_TRUE), death_states=[3])
    np.testing.assert_allclose(fitted.qmatrix_.to_numpy(), Q_TRUE, atol=0.01)


# --------------------------------------------------------------- the model
def test_summary_columns_and_rows(model):
    table = model.summary()
    assert list(table.columns) == [
        "from_state", "to_state", "term", "estimate", "std_error", "conf_low", "conf_high", "statistic", "p_value",
    ]
    assert list(table["term"]) == ["baseline"] * 4 + ["x"] * 4
    assert table.loc[table["term"] == "baseline", "p_value"].isna().all()
    assert (table["conf_low"] < table["estimate"]).all() and (table["estimate"] < table["conf_high"]).all()
    hr = model.hazard_ratios()
    np.testing.assert_allclose(hr["estimate"], np.exp(model.params_.loc["x"]))


def test_minus2loglik_at_the_estimates_equals_the_fit(panel, model):
    rows, cols = np.nonzero((Q_TRUE > 0) & ~np.eye(3, dtype=bool))
    beta = np.zeros((3, 3))
    beta[rows, cols] = model.params_.loc["x"].to_numpy()
    value = ctmc.minus2loglik(panel, **COLS, qmatrix=model.qmatrix_, death_states=[3], covariates=["x"],
                              beta={"x": beta})
    assert value == pytest.approx(model.minus2loglik_, rel=1e-12)
    assert model.aic_ == pytest.approx(model.minus2loglik_ + 16)


def test_estimate_is_a_maximum(panel, model):
    lik = _likelihood(panel)
    params = model.params_.to_numpy()
    value, grad = lik.minus2loglik_and_gradient(params)
    assert np.abs(grad).max() < 1e-3
    for e in np.eye(len(params)):
        assert lik.minus2loglik(params + 1e-3 * e) > value


def test_extractors_at_covariate_values(model):
    q0 = model.qmatrix(covariates={"x": 0.0}, ci="none")
    q1 = model.qmatrix(covariates={"x": 1.0}, ci="none")
    assert q1.loc[1, 2] / q0.loc[1, 2] == pytest.approx(np.exp(model.params_.loc[("x", 1, 2)]))
    tidy = model.qmatrix(ci="delta")
    assert len(tidy) == 4 + 2  # allowed transitions plus the diagonal of the two transient states
    diag = tidy[tidy["from_state"] == tidy["to_state"]]
    assert (diag["conf_low"] < diag["estimate"]).all() and (diag["estimate"] < diag["conf_high"]).all()
    p = model.pmatrix(2.0, ci="delta")
    inner = p[(p["from_state"] != 3)]
    assert ((inner["conf_low"] <= inner["estimate"]) & (inner["estimate"] <= inner["conf_high"])).all()
    assert model.pmatrix(2.0).sum(axis=1).to_numpy() == pytest.approx(np.ones(3))
    assert list(model.sojourn().columns) == ["estimate", "std_error", "conf_low", "conf_high"]
    assert model.pnext(ci="none").loc[1].sum() == pytest.approx(1.0)
    los = model.totlos(tot=3.0)
    assert los["estimate"].sum() == pytest.approx(3.0)


def test_delta_standard_error_of_an_intensity(model):
    tidy = model.qmatrix(ci="delta")
    row = tidy[(tidy["from_state"] == 1) & (tidy["to_state"] == 2)].iloc[0]
    se_log = np.sqrt(model.vcov_.loc[("baseline", 1, 2), ("baseline", 1, 2)])
    assert row["std_error"] == pytest.approx(row["estimate"] * se_log, rel=1e-6)


def test_labels_and_datetimes_give_the_same_fit(panel, model):
    labels = ["home", "residential", "dead"]
    named = panel.assign(
        state=np.array(labels, dtype=object)[panel["state"].to_numpy() - 1],
        time=pd.Timestamp("2015-01-01") + pd.to_timedelta(panel["time"] * 365.25, unit="D"),
    )
    q = pd.DataFrame(Q_TRUE, index=labels, columns=labels)
    fitted = ctmc.fit(named, **COLS, qmatrix=q, death_states=["dead"], covariates=["x"])
    assert fitted.minus2loglik_ == pytest.approx(model.minus2loglik_, rel=1e-9)
    assert fitted.transitions_[0] == ("home", "residential")
    assert fitted.qmatrix_.loc["home", "residential"] == pytest.approx(model.qmatrix_.loc[1, 2], rel=1e-6)


def test_categorical_covariate_gets_one_term_per_level(panel):
    data = panel.assign(group=np.where(panel["x"] == 1, "b", "a"))
    fitted = ctmc.fit(data, **COLS, qmatrix=Q_TRUE, death_states=[3], covariates=["group"])
    assert fitted.terms_ == ["group[b]"]
    same = ctmc.fit(panel, **COLS, qmatrix=Q_TRUE, death_states=[3], covariates=["x"])
    assert fitted.minus2loglik_ == pytest.approx(same.minus2loglik_, rel=1e-10)
    assert fitted.qmatrix(covariates={"group": "b"}, ci="none").loc[1, 2] == pytest.approx(
        same.qmatrix(covariates={"x": 1.0}, ci="none").loc[1, 2], rel=1e-6)


def test_uncentred_baseline_is_at_zero(panel, model):
    fitted = ctmc.MultiStateModel(center=False).fit(
        panel, **COLS, qmatrix=Q_TRUE, death_states=[3], covariates=["x"])
    assert fitted.minus2loglik_ == pytest.approx(model.minus2loglik_, rel=1e-10)
    assert fitted.qmatrix_.loc[1, 2] == pytest.approx(
        model.qmatrix(covariates={"x": 0.0}, ci="none").loc[1, 2], rel=1e-5)


def test_display(model, capsys):
    model.print_summary(decimals=2)
    printed = capsys.readouterr().out
    assert "-2 log-likelihood" in printed and "baseline" in printed
    assert "<table" in model._repr_html_()
    assert "fitted on 2000 subjects" in repr(model)


def test_crude_inits_and_statetable(panel):
    table = ctmc.statetable(panel, **COLS)
    assert table.loc[3].sum() == 0
    assert table.to_numpy().sum() == len(panel) - panel["subject"].nunique()
    inits = ctmc.crude_inits(panel, **COLS, qmatrix=Q_TRUE)
    ordered = panel.sort_values(["subject", "time"])
    nxt = ordered.groupby("subject")["time"].shift(-1) - ordered["time"]
    exposure_well = nxt[ordered["state"] == 1].sum()
    assert inits.loc[1, 2] == pytest.approx(table.loc[1, 2] / exposure_well)
    assert inits.to_numpy().sum(axis=1) == pytest.approx(np.zeros(3), abs=1e-12)


def test_crude_inits_warns_about_unobserved_transitions(panel):
    q = np.zeros((4, 4))
    q[:3, :3] = Q_TRUE
    q[1, 3] = 0.1  # allow ill -> 4, a state never observed
    with pytest.warns(StatisticalWarning, match=r"\['2->4'\]"):
        inits = ctmc.crude_inits(panel, **COLS, qmatrix=q)
    assert inits.loc[2, 4] > 0


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("qmatrix", "death", "message"),
    [
        (np.ones((2, 3)), (), r"qmatrix must be a square matrix; found shape \(2, 3\)"),
        (np.array([[0, -0.1], [0.2, 0]]), (), r"off-diagonal entries should not be negative; found 1 \(1->2\)"),
        (np.zeros((2, 2)), (), "allows no transition"),
        (Q_TRUE, [2], r"death_states must be absorbing .* \[2\]"),
        (Q_TRUE, [7], r"death_states: \[7\] are not states of qmatrix"),
    ],
)
def test_qmatrix_errors(panel, qmatrix, death, message):
    with pytest.raises(ParameterError, match=message):
        ctmc.fit(panel, **COLS, qmatrix=qmatrix, death_states=death)


def test_unordered_times_name_the_subjects(panel):
    bad = panel.copy()
    bad.loc[bad.index[[0, 1]], "time"] = [1.0, 0.0]  # subject 1
    with pytest.raises(DataContractError, match=r"not ordered by strictly increasing time .*subject': 1\)"):
        ctmc.fit(bad, **COLS, qmatrix=Q_TRUE, death_states=[3])


def test_single_observation_subjects_are_named(panel):
    with pytest.raises(DataContractError, match=r"1 subjects have only one observation.*subjects 99999"):
        ctmc.fit(pd.concat([panel, pd.DataFrame({"subject": [99999], "time": [0.0], "state": [1], "x": [0.0]})]),
                 **COLS, qmatrix=Q_TRUE, death_states=[3])


def test_states_outside_qmatrix(panel):
    bad = panel.assign(state=panel["state"].replace({2: 5}))
    with pytest.raises(DataContractError, match=r"column 'state': \d+ rows hold states not in qmatrix \(e.g. \[5\]\)"):
        ctmc.fit(bad, **COLS, qmatrix=Q_TRUE, death_states=[3])


def test_moves_impossible_under_qmatrix(panel):
    progressive = np.array([[0, 0.2, 0.1], [0, 0, 0.2], [0, 0, 0]])  # no recovery 2 -> 1
    with pytest.raises(DataContractError, match=re.escape("cannot happen through them (2->1")):
        ctmc.fit(panel, **COLS, qmatrix=progressive, death_states=[3])


def test_observations_after_death(panel):
    dead = panel[panel["state"] == 3].iloc[[0]]
    later = dead.assign(time=dead["time"] + 1.0)
    with pytest.raises(DataContractError, match=rf"observed again after entering a death state \(subjects {dead['subject'].iloc[0]}\)"):
        ctmc.fit(pd.concat([panel, later]), **COLS, qmatrix=Q_TRUE, death_states=[3])


def test_missing_columns_and_values(panel):
    with pytest.raises(DataContractError, match=r"column\(s\) \['visit'\] not found; columns present"):
        ctmc.fit(panel, subject="subject", time="visit", state="state", qmatrix=Q_TRUE)
    with pytest.raises(DataContractError, match=r"column 'x' has 1 missing value\(s\)"):
        ctmc.fit(panel.assign(x=panel["x"].where(panel.index != 5)), **COLS, qmatrix=Q_TRUE, covariates=["x"])


def test_settings_errors_and_not_fitted(panel):
    with pytest.raises(ParameterError, match=r"cl must be a confidence level in \(0, 1\); got 95"):
        ctmc.fit(panel, **COLS, qmatrix=Q_TRUE, cl=95)
    with pytest.raises(NotFittedError, match="call fit"):
        ctmc.MultiStateModel().qmatrix()


def test_convergence_error_has_a_checklist(panel):
    with pytest.raises(ConvergenceError, match=r"(?s)did not converge.*1\. Start from crude_inits.*5\. Raise max_iter"):
        ctmc.fit(panel, **COLS, qmatrix=Q_TRUE * 1e-6, death_states=[3], covariates=["x"], max_iter=1)


def test_hessian_from_pattern_scores_equals_full_finite_differences(panel):
    lik = _likelihood(panel)
    params = np.array([-1.3, -2.4, -1.9, -1.5, 0.3, -0.2, 0.1, 0.4])
    full = np.array([
        (lik.minus2loglik_and_gradient(params + 1e-4 * e)[1] - lik.minus2loglik_and_gradient(params - 1e-4 * e)[1])
        / 2e-4 for e in np.eye(len(params))
    ])
    np.testing.assert_allclose(lik.hessian(params), (full + full.T) / 2, rtol=1e-6, atol=1e-4)


# ------------------------------------------------------------------- plots
def test_plots_return_axes(model):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from progression.plots.ctmc import plot_hazard_ratios, plot_transition_probabilities

    fig, (left, right) = plt.subplots(1, 2)
    tidy = ctmc.transition_probabilities(model.qmatrix(ci="none"), np.linspace(0, 10, 11))
    assert plot_transition_probabilities(tidy, from_state=2, ax=left) is left
    assert len(left.get_lines()) == 3
    assert plot_hazard_ratios(model.hazard_ratios(), ax=right) is right
    assert len(right.get_yticklabels()) == 4
    with pytest.raises(ValueError, match="from_state 9 not in frame"):
        plot_transition_probabilities(tidy, from_state=9, ax=left)
    plt.close(fig)
