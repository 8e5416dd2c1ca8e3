"""Coverage of progression.transitions.ctmc's 95% confidence intervals over repeated simulated panels (slow).

Known truth: an illness-death model with recovery, exact death times and a binary covariate acting
on every transition; 100 panels of 400 subjects with yearly visits.  Each interval should cover the
true value in about 95% of the panels.
"""

import numpy as np
import pandas as pd
import pytest

from progression.transitions import ctmc

Q_TRUE = np.array([[-0.30, 0.20, 0.10], [0.15, -0.35, 0.20], [0.0, 0.0, 0.0]])
BETA = np.array([[0.0, 0.5, 0.0], [-0.4, 0.0, 0.3], [0.0, 0.0, 0.0]])
ROWS, COLS = np.nonzero((Q_TRUE > 0) & ~np.eye(3, dtype=bool))


def _covered(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = 400
    z = pd.DataFrame({"x": rng.integers(0, 2, n).astype(float)})
    data = ctmc.simulate_panel(Q_TRUE, n, np.arange(6.0), covariates=z, beta={"x": BETA}, death_states=[3],
                               seed=rng)
    model = ctmc.fit(data, subject="subject", time="time", state="state", qmatrix=Q_TRUE, death_states=[3],
                     covariates=["x"])
    xbar = model.covariate_means_["x"]
    truth = np.r_[Q_TRUE[ROWS, COLS] * np.exp(BETA[ROWS, COLS] * xbar), np.exp(BETA[ROWS, COLS])]
    table = model.summary()
    return ((table["conf_low"] <= truth) & (truth <= table["conf_high"])).to_numpy()


@pytest.mark.slow
def test_confidence_intervals_cover_the_truth_about_95_percent():
    covered = np.array([_covered(seed) for seed in range(100)])
    assert 0.93 <= covered.mean() <= 0.97, covered.mean(axis=0)
    per_parameter = covered.mean(axis=0)
    assert ((0.88 <= per_parameter) & (per_parameter <= 0.99)).all(), per_parameter
