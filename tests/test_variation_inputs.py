"""The variation notebook's building blocks: scale-free Shapley bootstrap, area tables, register counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.variation import shapley_r2_bootstrap


def _small_share_data(n: int = 98, seed: int = 3) -> pd.DataFrame:
    """Spending in kr. (~8,000) on criteria whose shares are as small as 0.5 % (sd ~0.1 %)."""
    rng = np.random.default_rng(seed)
    rare = 0.005 * np.exp(0.15 * rng.standard_normal(n))
    common = 0.2 * np.exp(0.1 * rng.standard_normal(n))
    spend = 8_000 * (1 + 40 * (rare - 0.005) + 2 * (common - 0.2) + 0.1 * rng.standard_normal(n))
    return pd.DataFrame({"spend": spend, "rare": rare, "common": common, "pop": rng.integers(2_000, 400_000, n)})


def test_shapley_bootstrap_keeps_replicates_when_columns_differ_in_scale():
    data = _small_share_data()
    frame = shapley_r2_bootstrap(data, "spend", ["rare", "common"], weights="pop", n_boot=200, seed=5)
    assert frame.attrs["n_dropped"] == 0
    rescaled = data.assign(rare=data["rare"] * 1_000, spend=data["spend"] / 1_000)
    same = shapley_r2_bootstrap(rescaled, "spend", ["rare", "common"], weights="pop", n_boot=200, seed=5)
    pd.testing.assert_frame_equal(frame, same, rtol=1e-8)  # R² and its parts do not depend on units
    assert (frame["conf_low"] <= frame["estimate"]).all() and (frame["estimate"] <= frame["conf_high"]).all()
