"""TrajectoryModel(engine="fast"): the sufficient-statistics REML growth model against lme4 and statsmodels.

Stored reference numbers: tests/results/recovery/growth_lme4_results.py, made by
tests/results/recovery/growth_lme4.R on tests/fixtures/recovery/growth.csv, e.g. for

    lmer(y ~ years + x + (1 + years | citizen) + (1 + years | municipality))

The live test reruns the script (marked reference_r; skipped without Rscript and lme4). Both
optimisers stop at about 1e-6 relative precision, so estimates are compared at rel=1e-4 and the
criterion at 1e-6 absolute.
"""

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, ParameterError
from progression.recovery import TrajectoryModel

HERE = Path(__file__).resolve().parent
DATA = HERE / "fixtures" / "recovery" / "growth.csv"
SCRIPT = HERE / "results" / "recovery" / "growth_lme4.R"


def _reference():
    spec = importlib.util.spec_from_file_location("growth_lme4_results", SCRIPT.with_name("growth_lme4_results.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.RESULTS


REF = _reference()
SETUPS = {  # reference name -> (fit keywords, model keywords)
    "citizen": ({}, {}),
    "municipality": ({"municipality_col": "municipality"}, {}),
    "intercept_only": ({"municipality_col": "municipality"}, {"municipality_slope": False}),
    "ml": ({"municipality_col": "municipality"}, {"reml": False}),
}


@pytest.fixture(scope="module")
def growth():
    return pd.read_csv(DATA)


def fit(growth, name):
    fit_kw, model_kw = SETUPS[name]
    return TrajectoryModel(engine="fast", **model_kw).fit(growth, person_col="citizen", value_col="y",
                                                         covariates=["x"], **fit_kw)


def check_against(model, ref):
    est = model.summary().set_index("term")
    np.testing.assert_allclose(est.loc[["intercept", "years", "x"], "estimate"], ref["beta"], rtol=1e-4)
    np.testing.assert_allclose(est.loc[["intercept", "years", "x"], "std_error"], ref["se"], rtol=1e-4)
    vc = model.variance_components_.set_index("component")["variance"]
    c = ref["citizen"]
    np.testing.assert_allclose(vc[["citizen_intercept", "citizen_intercept_slope_cov", "citizen_slope"]],
                               [c[0], c[1], c[3]], rtol=1e-4, atol=1e-7)
    if "municipality" in ref:
        m = np.atleast_1d(ref["municipality"])
        names = (["municipality_intercept", "municipality_intercept_slope_cov", "municipality_slope"] if m.size == 4
                 else ["municipality_intercept"])
        np.testing.assert_allclose(vc[names], m[[0, 1, 3]] if m.size == 4 else m, rtol=1e-4, atol=1e-7)
    assert vc["residual"] == pytest.approx(ref["residual"], rel=1e-4)
    assert model.objective_ == pytest.approx(ref["criterion"], abs=1e-6)


@pytest.mark.parametrize("name", list(SETUPS))
def test_matches_stored_lme4_numbers(growth, name):
    """REML (and ML) fixed effects, standard errors, variance components and criterion equal lme4's."""
    check_against(fit(growth, name), REF[name])


@pytest.mark.reference_r
def test_matches_lme4_live(growth, tmp_path):
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.skip("Rscript is not installed")
    if subprocess.run([rscript, "-e", "library(lme4); library(jsonlite)"], capture_output=True).returncode:
        pytest.skip("the R packages lme4 and jsonlite are not installed")
    out = subprocess.run([rscript, str(SCRIPT), str(DATA)], capture_output=True, text=True, check=True).stdout
    live = json.loads(out[: out.rindex("}") + 1])
    for name in SETUPS:
        check_against(fit(growth, name), live[name])


def test_matches_statsmodels_mixedlm_without_municipality(growth):
    """Same model as MixedLM(re_formula='1 + t'): the two engines agree."""
    small = growth[growth["citizen"] <= 120]
    kw = dict(person_col="citizen", value_col="y", covariates=["x"])
    fast = TrajectoryModel(engine="fast").fit(small, **kw)
    slow = TrajectoryModel().fit(small, **kw)
    pd.testing.assert_series_equal(fast.summary()["estimate"], slow.summary()["estimate"], rtol=1e-4)
    # statsmodels takes the fixed-effect errors from its own Hessian, lme4 (and we) from sigma^2 (X'V^-1 X)^-1
    pd.testing.assert_series_equal(fast.summary()["std_error"], slow.summary()["std_error"], rtol=1e-2)
    a = fast.variance_components_.set_index("component")["variance"]
    b = slow.variance_components_.set_index("component")["variance"]
    pd.testing.assert_series_equal(a, b.reindex(a.index), rtol=1e-3)
    merged = fast.random_effects_.merge(slow.random_effects_, on="citizen", suffixes=("_fast", "_sm"))
    np.testing.assert_allclose(merged["slope_fast"], merged["slope_sm"], rtol=1e-2, atol=1e-4)
    assert fast.mean_trajectory([0, 1]).shape == (2, 4)


def test_recovers_known_variance_components():
    """500 citizens in 40 municipalities with known G, H and residual variance."""
    rng = np.random.default_rng(11)
    G, H, s2 = np.array([[1.0, 0.1], [0.1, 0.2]]), np.array([[0.3, 0.0], [0.0, 0.05]]), 0.5
    munis = rng.integers(0, 40, 500)
    v = rng.multivariate_normal([0, 0], H, 40)
    u = rng.multivariate_normal([0, 0], G, 500)
    person = np.repeat(np.arange(500), 6)
    t = rng.uniform(0, 5, person.size)
    y = (1 + 0.4 * t + u[person, 0] + u[person, 1] * t + v[munis[person], 0] + v[munis[person], 1] * t
         + rng.normal(0, np.sqrt(s2), person.size))
    data = pd.DataFrame({"person_id": person, "municipality": munis[person], "years": t, "scaled": y})
    model = TrajectoryModel(engine="fast").fit(data, municipality_col="municipality")
    vc = model.variance_components_.set_index("component")["variance"]
    assert vc["residual"] == pytest.approx(s2, rel=0.1)
    assert vc["citizen_intercept"] == pytest.approx(1.0, rel=0.2)
    assert vc["citizen_slope"] == pytest.approx(0.2, rel=0.2)
    assert vc["municipality_slope"] == pytest.approx(0.05, rel=0.6)
    slope = model.summary().set_index("term").loc["years"]
    assert slope["conf_low"] < 0.4 < slope["conf_high"]
    assert len(model.municipality_effects_) == 40


def test_fast_engine_errors(growth):
    moved = growth.copy()
    moved.loc[moved.index[1], "municipality"] = 999  # citizen 1 in two municipalities
    with pytest.raises(DataContractError, match="constant within each 'citizen'"):
        TrajectoryModel(engine="fast").fit(moved, person_col="citizen", value_col="y", municipality_col="municipality")
    with pytest.raises(ParameterError, match="engine must be"):
        TrajectoryModel(engine="lme4").fit(growth, person_col="citizen", value_col="y")
