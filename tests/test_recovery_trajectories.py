"""Trajectories (MixedLM, OrderedModel) and the staircase-move ANCOVA: truth recovery on synthetic data."""

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, NotFittedError
from progression.recovery.trajectories import (
    OrdinalLevelModel,
    TrajectoryModel,
    move_change_table,
    step_move_ancova,
    years_since,
)


def simulate_growth(rng, n_persons=240, n_obs=4, slope=3.0, sd_slope=1.0, sd_int=6.0, sd_res=3.0,
                    n_municipalities=0, sd_municipality=4.0):
    person = np.repeat(np.arange(1, n_persons + 1), n_obs)
    years = np.tile(np.linspace(0, 2, n_obs), n_persons) + rng.uniform(0, 0.1, n_persons * n_obs)
    u0 = rng.normal(0, sd_int, n_persons)[person - 1]
    u1 = rng.normal(0, sd_slope, n_persons)[person - 1]
    y = 40 + u0 + (slope + u1) * years + rng.normal(0, sd_res, person.size)
    df = pd.DataFrame({"person_id": person, "years": years, "scaled": y})
    if n_municipalities:
        muni = rng.integers(0, n_municipalities, n_persons)[person - 1]
        df["municipality"] = muni + 101
        df["scaled"] += rng.normal(0, sd_municipality, n_municipalities)[muni]
    return df


def test_mixedlm_recovers_known_slope_and_variances():
    rng = np.random.default_rng(42)
    df = simulate_growth(rng)
    model = TrajectoryModel().fit(df)
    row = model.summary().set_index("term").loc["years"]
    assert row["conf_low"] <= 3.0 <= row["conf_high"]
    assert abs(row["estimate"] - 3.0) < 0.5
    vc = model.variance_components_.set_index("component")["std_dev"]
    assert vc["citizen_intercept"] == pytest.approx(6.0, rel=0.25)
    assert vc["residual"] == pytest.approx(3.0, rel=0.15)
    assert model.random_effects_.shape == (240, 3)
    traj = model.mean_trajectory([0, 1, 2])
    assert traj["estimate"].diff().iloc[1] == pytest.approx(row["estimate"])
    assert (traj["conf_low"] < traj["estimate"]).all()


def test_mixedlm_with_municipality_component():
    rng = np.random.default_rng(8)
    df = simulate_growth(rng, n_persons=150, n_municipalities=12, sd_municipality=5.0)
    model = TrajectoryModel().fit(df, municipality_col="municipality")
    row = model.summary().set_index("term").loc["years"]
    assert row["conf_low"] <= 3.0 <= row["conf_high"]
    vc = model.variance_components_.set_index("component")
    assert set(vc.index) == {"municipality_intercept", "citizen_intercept", "citizen_slope", "residual"}
    assert vc.loc["municipality_intercept", "variance"] > 2.0


def test_trajectory_errors():
    with pytest.raises(NotFittedError):
        TrajectoryModel().mean_trajectory([0])
    with pytest.raises(DataContractError, match="at least 3 persons"):
        TrajectoryModel().fit(pd.DataFrame({"person_id": [1, 2], "years": [0, 1], "scaled": [1.0, 2.0]}))
    with pytest.raises(DataContractError, match=r"\['t'\] \(given as \['time_col'\]\)"):
        TrajectoryModel().fit(pd.DataFrame({"person_id": [1], "years": [0], "scaled": [1.0]}), time_col="t")


def test_years_since_start():
    df = pd.DataFrame({"person_id": [1, 1, 2], "assessment_date": pd.to_datetime(["2020-01-01", "2021-01-01", "2020-01-01"])})
    got = years_since(df, pd.Series({1: pd.Timestamp("2020-01-01")}))
    assert got.iloc[0] == 0 and got.iloc[1] == pytest.approx(366 / 365.25) and np.isnan(got.iloc[2])


def test_ordinal_model_recovers_known_coefficient_and_cuts():
    rng = np.random.default_rng(3)
    n_persons, per = 600, 4
    person = np.repeat(np.arange(n_persons), per)
    years = rng.uniform(0, 3, person.size)
    latent = -0.7 * years + rng.logistic(size=person.size)
    cuts = np.array([-2.5, -1.0, 0.5, 2.0])
    level = np.digitize(latent, cuts)
    df = pd.DataFrame({"person_id": person, "years": years, "score": level})
    model = OrdinalLevelModel().fit(df)
    s = model.summary().set_index("term")
    assert s.loc["years", "conf_low"] <= -0.7 <= s.loc["years", "conf_high"]
    got_cuts = s.loc[s["parclass"] == "cut", "estimate"].to_numpy()
    np.testing.assert_allclose(got_cuts, cuts, atol=0.3)
    cut_rows = s[s["parclass"] == "cut"]
    assert ((cut_rows["conf_low"] <= cuts) & (cuts <= cut_rows["conf_high"])).mean() >= 0.75
    assert model.levels_ == [0, 1, 2, 3, 4]


def test_ancova_removes_regression_to_the_mean():
    """Moves depend on the observed baseline; the true effect of a move on follow-up is known.

    Citizens with a high observed baseline (better) step down more often. The naive difference in
    mean change between 'down' and 'same' mixes the true effect with regression to the mean; the
    ANCOVA effect recovers the true +4 / -3.
    """
    rng = np.random.default_rng(12)
    n, r = 6000, 0.7
    true = rng.normal(50, 10, n)
    err_sd = 10 * np.sqrt((1 - r) / r)
    pre = true + rng.normal(0, err_sd, n)
    z = (pre - pre.mean()) / pre.std()
    p_down = 1 / (1 + np.exp(-(-1.0 + 1.5 * z)))
    p_up = 1 / (1 + np.exp(-(-1.5 - 1.5 * z)))
    u = rng.uniform(size=n)
    move = np.where(u < p_down, "down", np.where(u < p_down + p_up * (1 - p_down), "up", "same"))
    effect = {"down": 4.0, "same": 0.0, "up": -3.0}
    post = true + np.vectorize(effect.get)(move) + rng.normal(0, err_sd, n)
    changes = pd.DataFrame({"person_id": np.arange(n), "pre": pre, "post": post})
    moves = pd.DataFrame({"person_id": np.arange(n), "move": move})
    out = step_move_ancova(changes, moves).set_index("move")
    for m in ("down", "up"):
        assert out.loc[m, "effect_conf_low"] <= effect[m] <= out.loc[m, "effect_conf_high"]
    naive = out.loc["down", "mean_change"] - out.loc["same", "mean_change"]
    assert naive < effect["down"] - 1.0  # regression to the mean pulls the naive comparison down
    assert out.attrs["baseline_slope"] == pytest.approx(r, abs=0.05)


def test_move_table_and_bad_moves():
    changes = pd.DataFrame({"person_id": [1, 2, 3, 4], "change_class": ["progression", "maintenance", "degression", "progression"],
                            "pre": [1.0, 2, 3, 4], "post": [2.0, 2, 1, 5]})
    moves = pd.DataFrame({"person_id": [1, 2, 3, 4], "move": ["down", "same", "up", "down"]})
    t = move_change_table(changes, moves)
    assert t.loc["down", "progression"] == 1.0 and t.loc["up", "degression"] == 1.0
    counts = move_change_table(changes, moves, normalize=False)
    assert counts.to_numpy().sum() == 4
    with pytest.raises(DataContractError, match=r"must hold \['down', 'same', 'up'\]; found \['sideways'\]"):
        step_move_ancova(changes, moves.assign(move=["down", "sideways", "up", "down"]))
    with pytest.raises(DataContractError, match="one row per"):
        step_move_ancova(changes, pd.concat([moves, moves]))
