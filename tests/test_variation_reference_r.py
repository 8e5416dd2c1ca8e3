"""Cross-checks of the variation models against R (lm + sandwich, lme4), run live with Rscript.

Skipped when Rscript or the R packages are absent. The R calls are in each test's script.
"""

from __future__ import annotations

import io
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from progression.variation import RandomInterceptDecomposition, SpendingVariationModel

pytestmark = pytest.mark.reference_r


def run_r(script: str, data: pd.DataFrame, packages: list[str], tmp_path) -> pd.DataFrame:
    """Run ``script`` with the data as ``d``; the script writes a CSV to stdout."""
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript not available")
    check = " && ".join(f"requireNamespace('{p}', quietly = TRUE)" for p in packages)
    probe = subprocess.run(["Rscript", "-e", f"quit(status = as.integer(!({check})))"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"R packages {packages} not available")
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    full = f"d <- read.csv('{path}')\n{script}"
    done = subprocess.run(["Rscript", "-e", full], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return pd.read_csv(io.StringIO(done.stdout))


def municipalities(seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 98
    X = rng.normal(size=(n, 3))
    pop = np.round(np.exp(rng.normal(10.4, 0.7, n)))
    spend = 8_000 + X @ np.array([900.0, 400.0, 50.0]) + rng.normal(size=n) * 1_500 * np.sqrt(pop.mean() / pop)
    return pd.DataFrame(X, columns=["a", "b", "c"]).assign(municipality=np.arange(101, 101 + n), pop=pop, spend=spend)


def test_wls_hc3_r2_and_influence_match_r(tmp_path):
    """R: fit <- lm(spend ~ a + b + c, weights = pop); sandwich::vcovHC(fit, type = "HC3");
    summary(fit)$r.squared / adj.r.squared; hatvalues, cooks.distance, dffits."""
    data = municipalities()
    script = """
fit <- lm(spend ~ a + b + c, data = d, weights = pop)
se <- sqrt(diag(sandwich::vcovHC(fit, type = "HC3")))
s <- summary(fit)
out <- data.frame(term = names(coef(fit)), estimate = coef(fit), se = se,
                  r2 = s$r.squared, adj = s$adj.r.squared)
infl <- data.frame(municipality = d$municipality, h = hatvalues(fit), cook = cooks.distance(fit),
                   dffits = dffits(fit))
write.csv(rbind(cbind(kind = "coef", out, municipality = NA, h = NA, cook = NA, dffits = NA),
                cbind(kind = "infl", term = NA, estimate = NA, se = NA, r2 = NA, adj = NA, infl)),
          stdout(), row.names = FALSE)
"""
    r = run_r(script, data, ["sandwich"], tmp_path)
    model = SpendingVariationModel(boosting=False, cv_repeats=1).fit(data, y="spend", X=["a", "b", "c"], weights="pop")
    coef = r.loc[r["kind"] == "coef"].set_index("term")
    coef.index = ["const", "a", "b", "c"]
    np.testing.assert_allclose(model.summary()["estimate"], coef["estimate"], rtol=1e-8)
    np.testing.assert_allclose(model.summary()["std_error"], coef["se"], rtol=1e-8)
    assert model.fit_stats_["r2"] == pytest.approx(coef["r2"].iloc[0], rel=1e-10)
    assert model.fit_stats_["adj_r2"] == pytest.approx(coef["adj"].iloc[0], rel=1e-10)
    infl = r.loc[r["kind"] == "infl"].set_index("municipality")
    ours = model.influence().set_index("municipality").loc[infl.index.astype(int)]
    np.testing.assert_allclose(ours["leverage"], infl["h"], rtol=1e-8)
    np.testing.assert_allclose(ours["cooks_d"], infl["cook"], rtol=1e-8)
    np.testing.assert_allclose(ours["dffits"], infl["dffits"], rtol=1e-8)


def test_random_intercept_variances_match_lme4(tmp_path):
    """R: lme4::lmer(spend ~ factor(year) [+ z] + (1 | municipality), REML = TRUE); VarCorr."""
    rng = np.random.default_rng(12)
    n_units, n_years = 98, 8
    z = rng.normal(size=n_units)
    u = z + rng.normal(size=n_units)
    data = pd.DataFrame(
        {
            "municipality": np.repeat(np.arange(101, 101 + n_units), n_years),
            "year": np.tile(np.arange(2016, 2016 + n_years), n_units),
            "z": np.repeat(z, n_years),
        }
    )
    data["spend"] = 10 + 0.2 * (data["year"] - 2016) + np.repeat(u, n_years) + rng.normal(size=len(data))
    script = """
m0 <- lme4::lmer(spend ~ factor(year) + (1 | municipality), data = d, REML = TRUE)
m1 <- lme4::lmer(spend ~ factor(year) + z + (1 | municipality), data = d, REML = TRUE)
v <- function(m) { vc <- as.data.frame(lme4::VarCorr(m)); vc$vcov }
out <- rbind(v(m0), v(m1))
write.csv(data.frame(model = c("empty", "criteria"), between = out[, 1], within = out[, 2]),
          stdout(), row.names = FALSE)
"""
    r = run_r(script, data, ["lme4"], tmp_path).set_index("model")
    ours = RandomInterceptDecomposition().fit(data, y="spend", X=["z"], time="year").variances_
    np.testing.assert_allclose(ours["sigma2_between"], r.loc[["empty", "criteria"], "between"], rtol=1e-3)
    np.testing.assert_allclose(ours["sigma2_within"], r.loc[["empty", "criteria"], "within"], rtol=1e-3)
