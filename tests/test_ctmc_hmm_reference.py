"""Misclassification, piecewise-constant intensities, goodness of fit, passage quantities, constraints,
likelihood ratios and the bootstrap of progression.transitions.ctmc against R's msm (Jackson 2011).

Stored reference numbers: tests/results/ctmc/cav_hmm_msm_results.py, made by
tests/results/ctmc/cav_hmm_msm.R from msm's `cav` data, among them the misclassification model of msm's
manual (model 5)

    msm(state ~ years, subject = PTNUM, data = cav, qmatrix = Qm, ematrix = E, deathexact = 4, obstrue = firstobs)

and the piecewise-constant model ``msm(state ~ years, ..., qmatrix = Q, deathexact = 4, pci = 5)``. The live
tests run tests/results/ctmc/fit_hmm_msm.R and pearson_msm.R on the same data as ours. The `cav` data (GPL)
are written to a temporary folder at test time and never stored. Everything skips without Rscript or msm.

Conventions that differ from msm 1.7, by design:
* ``viterbi()`` follows msm >= 1.7.1, which fixed the first steps of a subject's path (msm commit 85c9c95,
  "Fix of bug for initial fitted states in Viterbi algorithm"); paths are compared from the fifth
  observation on.
* ``ppass()`` of a ``pci`` model multiplies the periods' exponentials as msm >= 1.7.1 does (1.7 used the
  intensities at the mean period); it is checked by hand in test_ctmc_hmm.py.
* The state probabilities of ``viterbi()`` treat an exact death as the likelihood does (entered from the
  state held just before); msm's ``pstate`` treats it as an observation at a panel time. They are compared
  on a model without exact death times.
"""

import importlib.util
import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import StatisticalWarning
from progression.transitions import ctmc
from progression.transitions.ctmc._data import qspec_from
from progression.transitions.ctmc._hmm import ForwardLikelihood, initspec_from, prepare_sequences

pytestmark = pytest.mark.reference_r

RESULTS = Path(__file__).resolve().parent / "results" / "ctmc"
CAV = {"subject": "PTNUM", "time": "years", "state": "state"}


def _load_results():
    spec = importlib.util.spec_from_file_location("cav_hmm_msm_results", RESULTS / "cav_hmm_msm_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = _load_results()
Q = np.array(REF.Q_TWOWAY)
QM = np.array(REF.Q_ONEWAY)
E = np.array(REF.E_INIT)
TRANSITIONS = [(1, 2), (1, 4), (2, 1), (2, 3), (2, 4), (3, 2), (3, 4)]


@pytest.fixture(scope="module")
def rscript():
    path = shutil.which("Rscript")
    if path is None:
        pytest.skip("Rscript is not installed")
    probe = subprocess.run([path, "-e", "library(msm)"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("the R package msm is not installed (Debian: r-cran-msm)")
    return path


@pytest.fixture(scope="module")
def cav(rscript, tmp_path_factory):
    """msm's cav data, extracted from the installed R package."""
    target = tmp_path_factory.mktemp("cav") / "cav.csv"
    subprocess.run([rscript, "-e", f"library(msm); write.csv(cav, file = '{target.as_posix()}', row.names = FALSE)"],
                   check=True, capture_output=True)
    return pd.read_csv(target)


@pytest.fixture(scope="module")
def misc_model(cav):
    return ctmc.fit(cav, **CAV, qmatrix=QM, ematrix=E, death_states=[4], obstrue="firstobs")


@pytest.fixture(scope="module")
def pci_model(cav):
    return ctmc.fit(cav, **CAV, qmatrix=Q, death_states=[4], pci=[5])


@pytest.fixture(scope="module")
def cav_model(cav):
    return ctmc.fit(cav, **CAV, qmatrix=Q, death_states=[4])


# ------------------------------------------------------------------ misclassification (msm manual, model 5)
def test_misclassification_likelihood_at_initial_values(cav):
    """msm(..., ematrix = E, obstrue = firstobs, fixedpars = TRUE), and without obstrue (msm's tests)."""
    with_obstrue = ctmc.fit(cav, **CAV, qmatrix=QM, ematrix=E, death_states=[4], obstrue="firstobs", fixedpars=True)
    assert with_obstrue.minus2loglik_ == pytest.approx(REF.MISC_MINUS2LOGLIK_INIT, rel=1e-10)
    without = ctmc.fit(cav, **CAV, qmatrix=QM, ematrix=E, death_states=[4], fixedpars=True)
    assert without.minus2loglik_ == pytest.approx(REF.MISC_MINUS2LOGLIK_INIT_NO_OBSTRUE, rel=1e-10)


def test_misclassification_model_reaches_msm_optimum(misc_model):
    assert misc_model.minus2loglik_ == pytest.approx(REF.MISC_MINUS2LOGLIK, abs=0.01)
    assert misc_model.minus2loglik_ <= REF.MISC_MINUS2LOGLIK + 1e-6
    np.testing.assert_allclose(misc_model.params_.to_numpy(), REF.MISC_ESTIMATES[:5], atol=5e-3)
    free_se = [s for s in REF.MISC_SE if s > 0]
    np.testing.assert_allclose(np.sqrt(np.diag(misc_model._full_vcov)), free_se, rtol=1e-2)
    np.testing.assert_allclose(misc_model.qmatrix(ci="none").to_numpy(), REF.MISC_QMATRIX, atol=5e-4)
    np.testing.assert_allclose(misc_model.sojourn()["estimate"], REF.MISC_SOJOURN, rtol=5e-3)


def test_misclassification_probabilities_and_limits(misc_model):
    """ematrix.msm(fit): estimates, delta-method SEs, limits on the logit scale.

    For true state 2, which can be recorded as 1 or 3, msm 1.7's ``p.se.msm`` builds the delta-method
    formula with a single term, so its SEs there (0.056, 0.013, 0.022) disagree with the asymptotic normal
    distribution of the estimates; ours are checked against simulation from it instead.
    """
    np.testing.assert_allclose(misc_model.ematrix(ci="none").to_numpy(), REF.MISC_EMATRIX, atol=5e-4)
    tidy = misc_model.ematrix()
    r, s = tidy["from_state"].to_numpy() - 1, tidy["to_state"].to_numpy() - 1
    single = r != 1
    for column, ref in [("std_error", REF.MISC_EMATRIX_SE), ("conf_low", REF.MISC_EMATRIX_L),
                        ("conf_high", REF.MISC_EMATRIX_U)]:
        np.testing.assert_allclose(tidy[column][single], np.asarray(ref)[r, s][single], rtol=2e-2, err_msg=column)
    lik = misc_model._lik
    draws = np.random.default_rng(0).multivariate_normal(misc_model._full_params, misc_model._full_vcov, 20_000)
    simulated = np.array([lik.misc.build(d[lik.n_q:lik.n_q + lik.n_e]) for d in draws]).std(axis=0)
    np.testing.assert_allclose(tidy["std_error"], simulated[r, s], rtol=0.1)
    q = misc_model.qmatrix()
    r, s = q["from_state"].to_numpy() - 1, q["to_state"].to_numpy() - 1
    np.testing.assert_allclose(q["conf_low"], np.asarray(REF.MISC_QMATRIX_L)[r, s], rtol=1e-2)
    np.testing.assert_allclose(q["conf_high"], np.asarray(REF.MISC_QMATRIX_U)[r, s], rtol=1e-2)


def test_viterbi_path_of_the_manuals_patient(misc_model):
    path = misc_model.viterbi()
    patient = path[path["PTNUM"] == 100103]
    np.testing.assert_allclose(patient["years"], REF.MISC_VITERBI_100103_TIME, atol=1e-8)
    np.testing.assert_array_equal(patient["fitted"], REF.MISC_VITERBI_100103_FITTED)
    table = pd.crosstab(path["observed"], path["fitted"]).reindex(index=[1, 2, 3, 4], columns=[1, 2, 3, 4],
                                                                 fill_value=0)
    assert np.trace(table.to_numpy()) >= np.trace(np.asarray(REF.MISC_VITERBI_TABLE)) - 60  # msm 1.7's early steps
    assert (table.to_numpy().sum(axis=1) == np.asarray(REF.MISC_VITERBI_TABLE).sum(axis=1)).all()


def test_misclassification_prevalence(misc_model):
    table = misc_model.prevalence(times=np.arange(0, 21, 2.0))
    expected = table.pivot(index="time", columns="state", values="expected").to_numpy()
    np.testing.assert_allclose(expected, np.asarray(REF.MISC_PREVALENCE_EXPECTED)[:, :4], atol=0.05)


# ------------------------------------------------------------------ piecewise-constant intensities (pci = 5)
def test_pci_likelihood_at_initial_values(cav):
    """msm(..., pci = 5 (and c(5, 10)), fixedpars = TRUE, covinits = 0.01): intensities at the period means."""
    spec = qspec_from(Q, [4])
    for cuts, ref in [([5.0], REF.PCI_MINUS2LOGLIK_INIT_001), ([5.0, 10.0], REF.PCI10_MINUS2LOGLIK_INIT_001)]:
        seqs = prepare_sequences(cav, **CAV, spec=spec, hidden=False, cuts=np.array(cuts), centre=True)
        lik = ForwardLikelihood(spec, seqs, None, initspec_from(None, False, spec.states))
        params = np.r_[np.log(spec.init), np.full(7 * len(cuts), 0.01)]
        assert lik.minus2loglik(params) == pytest.approx(ref, rel=1e-10)


def test_pci_model_reaches_msm_optimum(pci_model):
    assert pci_model.minus2loglik_ == pytest.approx(REF.PCI_MINUS2LOGLIK, abs=0.01)
    assert pci_model.minus2loglik_ <= REF.PCI_MINUS2LOGLIK + 1e-6
    assert pci_model.covariate_means_.iloc[0] == pytest.approx(REF.PCI_COVMEAN, rel=1e-10)
    np.testing.assert_allclose(pci_model.params_.to_numpy(), REF.PCI_ESTIMATES, atol=5e-3)
    np.testing.assert_allclose(np.sqrt(np.diag(pci_model.vcov_)), REF.PCI_SE, rtol=1e-2)
    early, late = pci_model.period_qmatrices()
    np.testing.assert_allclose(early, REF.PCI_QMATRIX_EARLY, atol=5e-4)
    np.testing.assert_allclose(late, REF.PCI_QMATRIX_LATE, atol=5e-4)
    np.testing.assert_allclose(
        pci_model.qmatrix(covariates={"timeperiod": "[5,Inf)"}, ci="none").to_numpy(), REF.PCI_QMATRIX_LATE, atol=5e-4)


def test_pci_hazard_ratios(pci_model):
    hr = pci_model.hazard_ratios()
    ref = np.asarray(REF.PCI_HAZARD_RATIO)
    np.testing.assert_allclose(hr["estimate"], ref[:, 0], rtol=1e-2)
    well = [i for i in range(7) if i not in (4,)]  # 2-4 is barely informed (SE 2.4 on the log scale)
    np.testing.assert_allclose(hr["conf_low"].to_numpy()[well], ref[well, 1], rtol=2e-2)
    np.testing.assert_allclose(hr["conf_high"].to_numpy()[well], ref[well, 2], rtol=2e-2)


def test_pci_prevalence_over_covariate_histories(pci_model):
    table = pci_model.prevalence(times=np.arange(0, 21, 2.0))
    expected = table.pivot(index="time", columns="state", values="expected").to_numpy()
    np.testing.assert_allclose(expected, np.asarray(REF.PCI_PREVALENCE_EXPECTED)[:, :4], atol=0.05)


# ------------------------------------------------------------------ goodness of fit and passage of cav.msm
def test_prevalence_matches_msm(cav_model):
    table = cav_model.prevalence(times=REF.PREVALENCE_TIMES)
    wide = table.pivot(index="time", columns="state", values="n_observed").to_numpy()
    np.testing.assert_array_equal(wide, np.asarray(REF.PREVALENCE_OBSERVED)[:, :4])
    np.testing.assert_array_equal(table.groupby("time")["n_at_risk"].first(), np.asarray(REF.PREVALENCE_OBSERVED)[:, 4])
    for column, ref in [("expected", REF.PREVALENCE_EXPECTED), ("observed_percent", REF.PREVALENCE_OBSERVED_PERCENT),
                        ("expected_percent", REF.PREVALENCE_EXPECTED_PERCENT)]:
        values = table.pivot(index="time", columns="state", values=column).to_numpy()
        np.testing.assert_allclose(values, np.asarray(ref)[:, :4], atol=0.05, err_msg=column)


def test_passage_quantities_match_msm(cav_model):
    np.testing.assert_array_equal(cav_model.efpt(3, ci="none")["estimate"], REF.EFPT_TO_3)  # inf: death first
    np.testing.assert_allclose(cav_model.efpt(4)["estimate"], REF.EFPT_TO_4, rtol=1e-3)
    np.testing.assert_allclose(cav_model.envisits(ci="none")["estimate"], REF.ENVISITS, rtol=1e-3)
    np.testing.assert_allclose(cav_model.envisits(start=2, tot=10, ci="none")["estimate"], REF.ENVISITS_2_10, rtol=1e-3)
    np.testing.assert_allclose(cav_model.ppass(10, ci="none").to_numpy(), REF.PPASS_10, atol=2e-4)


def test_pearson_test_matches_msm(cav):
    """pearson.msm(msm(state ~ years, ..., qmatrix = Q), timegroups = 2): no exact death times."""
    model = ctmc.fit(cav, **CAV, qmatrix=Q)
    assert model.minus2loglik_ == pytest.approx(REF.NODEATH_MINUS2LOGLIK, abs=1e-3)
    result = model.pearson(timegroups=2)
    observed = result.table.pivot_table(index=["interval_group", "time_group"], columns="transition",
                                        values="observed", sort=False).to_numpy()
    expected = result.table.pivot_table(index=["interval_group", "time_group"], columns="transition",
                                        values="expected", sort=False).to_numpy()
    np.testing.assert_array_equal(observed, REF.PEARSON_NODEATH_OBSERVED)
    np.testing.assert_allclose(expected, REF.PEARSON_NODEATH_EXPECTED, atol=0.02)
    test = result.test.iloc[0]
    assert test["statistic"] == pytest.approx(REF.PEARSON_NODEATH_STAT, abs=0.02)
    assert [test["df_lower"], test["df_upper"]] == REF.PEARSON_NODEATH_DF
    np.testing.assert_allclose([test["p_lower"], test["p_upper"]], REF.PEARSON_NODEATH_P_BOUNDS, atol=1e-12)
    assert test["p_value"] < 1e-6  # msm: 0


# ------------------------------------------------------------------ constraints and likelihood ratios
def test_constraints_match_msm(cav):
    sex = ctmc.fit(cav, **CAV, qmatrix=Q, death_states=[4], covariates=["sex"])
    sexc = ctmc.fit(cav, **CAV, qmatrix=Q, death_states=[4], covariates=["sex"],
                    constraint={"sex": [1, 1, 2, 2, 2, 3, 3]})
    qcon = ctmc.fit(cav, **CAV, qmatrix=Q, death_states=[4], qconstraint=[1, 2, 3, 4, 2, 5, 6])
    fix = ctmc.fit(cav, **CAV, qmatrix=Q, death_states=[4], fixedpars=[4])
    for model, m2ll, est, se in [(sexc, REF.SEXC_MINUS2LOGLIK, REF.SEXC_ESTIMATES, REF.SEXC_SE),
                                 (qcon, REF.QCON_MINUS2LOGLIK, REF.QCON_ESTIMATES, REF.QCON_SE),
                                 (fix, REF.FIX_MINUS2LOGLIK, REF.FIX_ESTIMATES, None)]:
        assert model.minus2loglik_ == pytest.approx(m2ll, abs=1e-3)
        np.testing.assert_allclose(model.params_.to_numpy(), est, atol=2e-3)
        if se is not None:
            np.testing.assert_allclose(np.sqrt(np.diag(model.vcov_)), se, rtol=1e-2)
    assert sex.minus2loglik_ == pytest.approx(REF.SEX_MINUS2LOGLIK, abs=1e-3)
    lr = ctmc.lrtest(sexc, sex).iloc[0]
    np.testing.assert_allclose([lr["statistic"], lr["df"], lr["p_value"]], REF.LRTEST_SEXC_SEX, atol=2e-3)
    cav_model = ctmc.fit(cav, **CAV, qmatrix=Q, death_states=[4])
    lr = ctmc.lrtest(qcon, cav_model).iloc[0]
    np.testing.assert_allclose([lr["statistic"], lr["df"], lr["p_value"]], REF.LRTEST_QCON_CAV, atol=2e-3)


# ------------------------------------------------------------------ bootstrap
def test_transition_bootstrap_matches_msm(cav_model):
    """boot.msm(cav.msm, B = 200) resamples intervals; ours with resample="transition" (100 replicates)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        table = cav_model.bootstrap(n_boot=100, seed=1, resample="transition",
                                    statistic=lambda m: m.qmatrix_.to_numpy()[tuple(np.array(TRANSITIONS).T - 1)])
    well = [0, 1, 2, 3, 5, 6]  # 2-4 has a long tail (its 2.5% quantile is 7.6e-6 in msm's replicates)
    ratio = table["std_error"].to_numpy()[well] / np.asarray(REF.BOOT_SD)[well]
    assert ((0.75 < ratio) & (ratio < 1.33)).all(), ratio


# ------------------------------------------------------------------ live msm runs
def _run(rscript, script, folder, data, qmatrix, *options):
    data.to_csv(folder / "data.csv", index=False)
    np.savetxt(folder / "qmatrix.csv", np.asarray(qmatrix, dtype=float), delimiter=",", fmt="%.17g")
    run = subprocess.run([rscript, str(RESULTS / script), str(folder / "data.csv"), str(folder / "qmatrix.csv"),
                          str(folder / "out.json"), *options], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.loads((folder / "out.json").read_text())


def test_live_viterbi_and_state_probabilities(rscript, cav, tmp_path):
    """At the initial values of model 5, without exact death times: the same forward-backward probabilities."""
    data = cav.rename(columns={"PTNUM": "subject", "years": "time", "firstobs": "obstrue"})[
        ["subject", "time", "state", "obstrue"]]
    np.savetxt(tmp_path / "e.csv", E, delimiter=",")
    out = _run(rscript, "fit_hmm_msm.R", tmp_path, data, QM, f"ematrix={tmp_path / 'e.csv'}", "obstrue=1",
               "fixedpars=TRUE", "viterbi=1")
    model = ctmc.fit(data, subject="subject", time="time", state="state", qmatrix=QM, ematrix=E, obstrue="obstrue",
                     fixedpars=True)
    assert model.minus2loglik_ == pytest.approx(out["minus2loglik"], rel=1e-10)
    path = model.viterbi()
    np.testing.assert_allclose(path[["p_1", "p_2", "p_3", "p_4"]], out["pstate"], atol=1e-10)
    same = path["fitted"].to_numpy() == np.asarray(out["fitted"])
    later = path.groupby("subject").cumcount().to_numpy() >= 4
    assert same[later].mean() > 0.995 and same.mean() > 0.98


def test_live_misclassification_on_a_simulated_panel(rscript, tmp_path):
    rng = np.random.default_rng(31)
    q = np.array([[0, 0.3, 0.0], [0.15, 0, 0.2], [0.0, 0.1, 0]])
    n = 400
    times = np.cumsum(rng.uniform(0.3, 1.5, size=(n, 6)), axis=1)
    data = ctmc.simulate_panel(q, n, times, start=rng.choice([1, 2, 3], n), seed=rng)
    flip = rng.random(len(data)) < 0.12
    data.loc[flip & (data["state"] == 2), "state"] = 1
    e = np.array([[0, 0.05, 0], [0.1, 0, 0], [0, 0, 0]])
    np.savetxt(tmp_path / "e.csv", e, delimiter=",")
    out = _run(rscript, "fit_hmm_msm.R", tmp_path, data, q, f"ematrix={tmp_path / 'e.csv'}", "initprobs=0.4,0.3,0.3",
               "fnscale=1000", "reltol=1e-12", "maxit=10000")
    ours = ctmc.fit(data, subject="subject", time="time", state="state", qmatrix=q, ematrix=e,
                    initprobs=[0.4, 0.3, 0.3])
    assert ours.minus2loglik_ == pytest.approx(out["minus2loglik"], abs=0.01)
    np.testing.assert_allclose(ours.ematrix(ci="none").to_numpy(), out["ematrix"], atol=2e-3)
    np.testing.assert_allclose(ours.qmatrix(ci="none").to_numpy(), out["qmatrix"], atol=2e-3)


def test_live_pearson_with_covariates(rscript, tmp_path):
    rng = np.random.default_rng(5)
    q = np.array([[0, 0.3, 0.05], [0.2, 0, 0.15], [0, 0.1, 0]])
    n = 400
    times = np.cumsum(rng.uniform(0.5, 1.5, size=(n, 6)), axis=1)
    covariates = pd.DataFrame({"x": rng.integers(0, 2, n).astype(float)})
    data = ctmc.simulate_panel(q, n, times, covariates=covariates, beta={"x": np.where(q > 0, 0.4, 0)}, seed=3)
    out = _run(rscript, "pearson_msm.R", tmp_path, data, q, "covariates=x")
    model = ctmc.fit(data, subject="subject", time="time", state="state", qmatrix=q, covariates=["x"])
    test = model.pearson().test.iloc[0]
    assert model.minus2loglik_ == pytest.approx(out["minus2loglik"], abs=1e-3)
    assert test["statistic"] == pytest.approx(out["statistic"], abs=0.01)
    assert test["p_value"] == pytest.approx(out["p"], abs=1e-3)
    assert (test["df_lower"], test["df_upper"]) == (out["df_lower"], out["df_upper"])
