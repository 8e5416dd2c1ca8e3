"""Figures added for the progression notebook: estimates against truth, shares with hidden cells."""

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from progression.plots.recovery import plot_estimates_vs_truth, plot_shares_by_group  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_estimates_vs_truth_draws_one_row_per_estimate_and_skips_missing():
    comparison = pd.DataFrame({"instrument": ["WHO5", "VUM", "QPR15"], "change_class": ["progression", None, "x"],
                               "estimate": [0.1, 0.2, np.nan], "conf_low": [0.05, 0.1, np.nan],
                               "conf_high": [0.15, 0.3, np.nan], "truth": [0.12, 0.5, 0.3]})
    ax = plot_estimates_vs_truth(comparison, label_cols=["instrument", "change_class"])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["WHO5 · progression", "VUM"]
    crosses = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(sorted(crosses[:, 0]), [0.12, 0.5])


def test_groups_with_a_hidden_share_are_left_out():
    shares = pd.DataFrame({"group": ["a"] * 3 + ["b"] * 3,
                           "change_class": ["progression", "maintenance", "degression"] * 2,
                           "share": [0.2, 0.7, 0.1, np.nan, 0.9, np.nan]})
    ax = plot_shares_by_group(shares, group_col="group")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a"]
