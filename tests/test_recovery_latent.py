"""Shares of true change beyond the reliable-change threshold (normal deconvolution), and binned means."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from progression.exceptions import ParameterError
from progression.recovery import binned_means, latent_change_shares, reliable_change_threshold


def simulate(seed, n, true_mean, true_sd, sd_pre, reliability):
    """Observed change = true change ~ N(true_mean, true_sd) + error ~ N(0, S_diff), S_diff = sqrt(2) s sqrt(1 - r)."""
    rng = np.random.default_rng(seed)
    s_diff = np.sqrt(2) * sd_pre * np.sqrt(1 - reliability)
    true = rng.normal(true_mean, true_sd, n)
    return pd.DataFrame({"change": true + rng.normal(0, s_diff, n), "group": np.repeat(["a", "b"], n // 2)}), true


def test_recovers_the_true_shares_where_the_rci_share_overstates_them():
    sd_pre, rel = 10.0, 0.8
    changes, true = simulate(1, 6000, true_mean=2.0, true_sd=4.0, sd_pre=sd_pre, reliability=rel)
    c = reliable_change_threshold(sd_pre=sd_pre, reliability=rel)
    expected = {"progression": stats.norm.sf(c, 2.0, 4.0), "degression": stats.norm.cdf(-c, 2.0, 4.0)}
    out = latent_change_shares(changes, sd_pre=sd_pre, reliability=rel, n_boot=400, seed=3).set_index("change_class")
    for cls, p in expected.items():
        assert out.loc[cls, "conf_low"] < p < out.loc[cls, "conf_high"]
    assert out["share"].sum() == pytest.approx(1.0)
    assert out["latent_sd"].iloc[0] == pytest.approx(4.0, rel=0.1)
    # the naive share of observed change beyond the threshold is far larger than the true share
    naive = (changes["change"] > c).mean()
    assert naive > 2 * expected["progression"]


def test_lower_is_better_flips_the_classes_and_groups_are_separate():
    sd_pre, rel = 1.0, 0.85
    changes, _ = simulate(2, 4000, true_mean=-0.5, true_sd=0.4, sd_pre=sd_pre, reliability=rel)
    up = latent_change_shares(changes, sd_pre=sd_pre, reliability=rel, n_boot=50).set_index("change_class")["share"]
    down = latent_change_shares(changes, sd_pre=sd_pre, reliability=rel, direction="lower_better", n_boot=50)
    down = down.set_index("change_class")["share"]
    assert down["progression"] == pytest.approx(up["degression"])
    by = latent_change_shares(changes, sd_pre=sd_pre, reliability=rel, by="group", n_boot=50)
    assert set(by["group"]) == {"a", "b"} and (by["n"] == 2000).all()


def test_no_true_variance_gives_a_point_mass_and_same_seed_same_interval():
    rng = np.random.default_rng(5)
    changes = pd.DataFrame({"change": rng.normal(0, 0.5, 300)})  # pure noise, smaller than S_diff
    a = latent_change_shares(changes, sd_pre=1.0, reliability=0.5, n_boot=100, seed=9)
    b = latent_change_shares(changes, sd_pre=1.0, reliability=0.5, n_boot=100, seed=9)
    assert a.set_index("change_class").loc["maintenance", "share"] == 1.0
    assert a["latent_sd"].iloc[0] == 0.0
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ParameterError, match="n_boot must be"):
        latent_change_shares(changes, sd_pre=1.0, reliability=0.5, n_boot=0)


def test_binned_means_count_persons_and_flag_small_bins():
    frame = pd.DataFrame({"person_id": [1, 1, 2, 3, 4, 5, 6, 6],
                          "years": [0.1, 0.9, 0.5, 0.2, 0.3, 0.4, 1.5, 2.2],
                          "scaled": [10, 20, 30, 40, 50, 60, 70, 80.0]})
    out = binned_means(frame, min_group_size=5)
    first = out.iloc[0]
    assert first["time"] == 0.5 and first["n"] == 5 and first["n_obs"] == 6
    assert first["estimate"] == pytest.approx(35.0)
    assert first["conf_low"] < 35 < first["conf_high"]
    assert out["suppress"].tolist() == [False, True, True]
