"""progression.transitions.ctmc against R's msm (Jackson 2011) on msm's `cav` data and on a simulated panel.

The `cav` data (GPL, shipped with msm) are written to a temporary folder by Rscript at test time and
never stored in the project.  Stored reference numbers: tests/results/ctmc/cav_msm_results.py, made by
tests/results/ctmc/cav_msm.R from the call

    msm(state ~ years, subject = PTNUM, data = cav, qmatrix = Q, deathexact = 4)

The live tests run tests/results/ctmc/fit_msm.R on the same data as ours.  All tests skip when
Rscript or the msm package is missing (Debian: r-cran-msm).
"""

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.transitions import ctmc

pytestmark = pytest.mark.reference_r

RESULTS = Path(__file__).resolve().parent / "results" / "ctmc"
Q_INIT = np.array([[-0.5, 0.25, 0, 0.25], [0.166, -0.498, 0.166, 0.166], [0, 0.25, -0.5, 0.25], [0, 0, 0, 0]])
CAV = {"subject": "PTNUM", "time": "years", "state": "state"}


def _load_results():
    spec = importlib.util.spec_from_file_location("cav_msm_results", RESULTS / "cav_msm_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REF = _load_results()


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
    data = pd.read_csv(target)
    assert (len(data), data["PTNUM"].nunique()) == (REF.N_ROWS, REF.N_SUBJECTS)
    return data


@pytest.fixture(scope="module")
def cav_model(cav):
    return ctmc.fit(cav, **CAV, qmatrix=Q_INIT, death_states=[4])


def _run_msm(rscript, folder: Path, data: pd.DataFrame, qmatrix, deathexact, covariates=(), **control):
    """Run tests/results/ctmc/fit_msm.R and read its JSON output."""
    data.to_csv(folder / "data.csv", index=False)
    np.savetxt(folder / "qmatrix.csv", np.asarray(qmatrix, dtype=float), delimiter=",", fmt="%.17g")
    options = [f"deathexact={','.join(map(str, deathexact))}"] if deathexact else []
    options += [f"covariates={','.join(covariates)}"] if covariates else []
    options += [f"{key}={value!r}" for key, value in control.items()]
    run = subprocess.run([rscript, str(RESULTS / "fit_msm.R"), str(folder / "data.csv"), str(folder / "qmatrix.csv"),
                          str(folder / "out.json"), *options], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.loads((folder / "out.json").read_text())


# ------------------------------------------------------- stored references
def test_minus2loglik_at_msm_initial_values(cav):
    """msm(..., fixedpars = TRUE): -2 log L at Q_INIT, to 10 digits and to the published 4908.8168."""
    value = ctmc.minus2loglik(cav, **CAV, qmatrix=Q_INIT, death_states=[4])
    assert value == pytest.approx(REF.MINUS2LOGLIK_INIT, rel=1e-10)
    assert value == pytest.approx(REF.PUBLISHED_MINUS2LOGLIK_INIT, abs=1e-3)


def test_optimum_matches_published_numbers(cav_model):
    assert cav_model.minus2loglik_ == pytest.approx(REF.PUBLISHED_MINUS2LOGLIK, abs=1e-3)
    assert cav_model.minus2loglik_ <= REF.MINUS2LOGLIK + 1e-6  # at least as high a likelihood as msm
    assert cav_model.transitions_ == REF.TRANSITIONS
    q = cav_model.qmatrix_.to_numpy()
    estimates = [q[r - 1, s - 1] for r, s in REF.TRANSITIONS]
    np.testing.assert_allclose(estimates, REF.PUBLISHED_INTENSITIES, atol=1e-3)
    np.testing.assert_allclose(estimates, REF.INTENSITIES, atol=1e-3)
    death = cav_model.pmatrix(10).loc[[1, 2, 3], 4].round(3).to_numpy()
    np.testing.assert_array_equal(death, REF.PUBLISHED_P10_DEATH)


def test_standard_errors_match_msm(cav_model):
    se = np.sqrt(np.diag(cav_model.vcov_.to_numpy()))
    np.testing.assert_allclose(se, REF.LOG_INTENSITY_SE, rtol=5e-3)


def test_confidence_limits_match_msm(cav_model):
    """qmatrix.msm(fit) and sojourn.msm(fit): delta-method standard errors, limits on the log scale."""
    tidy = cav_model.qmatrix(ci="delta")
    r, s = tidy["from_state"].to_numpy() - 1, tidy["to_state"].to_numpy() - 1
    for column, reference in [("std_error", REF.QMATRIX_SE), ("conf_low", REF.QMATRIX_L), ("conf_high", REF.QMATRIX_U)]:
        np.testing.assert_allclose(tidy[column], np.asarray(reference)[r, s], rtol=5e-3, err_msg=column)
    sojourn = cav_model.sojourn()
    for column, reference in [("std_error", REF.SOJOURN_SE), ("conf_low", REF.SOJOURN_L), ("conf_high", REF.SOJOURN_U)]:
        np.testing.assert_allclose(sojourn[column], reference, rtol=5e-3, err_msg=column)


def test_extractors_match_msm(cav_model):
    np.testing.assert_allclose(cav_model.pmatrix(10).to_numpy(), REF.PMATRIX_10, atol=2e-4)
    np.testing.assert_allclose(cav_model.sojourn()["estimate"], REF.SOJOURN, rtol=1e-3)
    np.testing.assert_allclose(cav_model.pnext(ci="none").to_numpy(), REF.PNEXT, atol=2e-3)
    np.testing.assert_allclose(cav_model.totlos(start=1)["estimate"], REF.TOTLOS, rtol=1e-3)
    np.testing.assert_allclose(cav_model.totlos(start=1, tot=5)["estimate"], REF.TOTLOS_5, rtol=1e-3)


def test_crude_inits_match_msm(cav):
    inits = ctmc.crude_inits(cav, **CAV, qmatrix=Q_INIT)
    np.testing.assert_allclose(inits.to_numpy(), REF.CRUDE_INITS, rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------- live msm runs
def test_live_msm_on_cav(rscript, cav, cav_model, tmp_path):
    data = cav.rename(columns={"PTNUM": "subject", "years": "time"})[["subject", "time", "state"]]
    out = _run_msm(rscript, tmp_path, data, Q_INIT, [4])
    assert cav_model.minus2loglik_ == pytest.approx(out["minus2loglik"], abs=1e-3)
    np.testing.assert_allclose(cav_model.params_.to_numpy(), out["estimates"], atol=5e-3)
    np.testing.assert_allclose(np.sqrt(np.diag(cav_model.vcov_)), out["se"], rtol=5e-3)


def test_live_msm_on_a_simulated_panel_with_covariates(rscript, tmp_path):
    """A four-step staircase with death, yearly visits, a binary and a grouped-age covariate."""
    rng = np.random.default_rng(2024)
    n = 600
    q = np.array([[0, 0.25, 0, 0, 0.02], [0.15, 0, 0.2, 0, 0.03], [0, 0.12, 0, 0.15, 0.05],
                  [0, 0, 0.1, 0, 0.08], [0, 0, 0, 0, 0]])
    beta = {"female": np.where(q > 0, 0.3, 0.0) * np.array([[1], [-1], [1], [-1], [0]]),
            "age": np.where(q > 0, 0.2, 0.0)}
    covariates = pd.DataFrame({"female": rng.integers(0, 2, n).astype(float),
                               "age": rng.integers(2, 8, n).astype(float)})  # age group in decades
    data = ctmc.simulate_panel(q, n, np.arange(7.0), covariates=covariates, beta=beta, death_states=[5], seed=7)
    ours = ctmc.fit(data, subject="subject", time="time", state="state", qmatrix=q, death_states=[5],
                    covariates=["female", "age"])
    init = ctmc.minus2loglik(data, subject="subject", time="time", state="state", qmatrix=q, death_states=[5],
                             covariates=["female", "age"])
    out = _run_msm(rscript, tmp_path, data, q, [5], ["female", "age"], fnscale=init, reltol=1e-12, maxit=1000)
    assert init == pytest.approx(out["minus2loglik_init"], rel=1e-10)
    assert ours.minus2loglik_ == pytest.approx(out["minus2loglik"], abs=1e-3)
    assert ours.minus2loglik_ <= out["minus2loglik"] + 1e-6
    assert ours.covariate_means_.to_dict() == pytest.approx(out["covmeans"], rel=1e-12)
    np.testing.assert_allclose(ours.params_.to_numpy(), out["estimates"], atol=5e-3)
    np.testing.assert_allclose(np.sqrt(np.diag(ours.vcov_)), out["se"], rtol=1e-2)
    np.testing.assert_allclose(ours.qmatrix_.to_numpy(), out["qmatrix"], atol=1e-4)
