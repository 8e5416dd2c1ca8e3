"""Figures added for the progression notebook: estimates against truth, shares with hidden cells."""

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from progression.plots.recovery import plot_estimates_vs_truth, plot_shares_by_group, plot_truth_panels  # noqa: E402


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
    assert labels == ["WHO-5 · progression", "VUM 2.0"]
    crosses = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(sorted(crosses[:, 0]), [0.12, 0.5])


def test_groups_with_a_hidden_share_show_the_hidden_part():
    shares = pd.DataFrame({"group": ["a"] * 3 + ["b"] * 3,
                           "change_class": ["progression", "maintenance", "degression"] * 2,
                           "share": [0.2, 0.7, 0.1, np.nan, 0.9, np.nan]})
    ax = plot_shares_by_group(shares, group_col="group")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    hidden = [p for p in ax.patches if p.get_hatch()]
    assert len(hidden) == 1 and hidden[0].get_x() == pytest.approx(0.9) and hidden[0].get_width() == pytest.approx(0.1)


def test_truth_panels_standardise_the_mean_change():
    comparison = pd.DataFrame({"instrument": ["WHO5"] * 3, "group": "all", "change_class": ["progression", None, None],
                               "quantity": ["rci_share", "latent_share", "mean_change"],
                               "estimate": [0.1, 0.08, 4.0], "conf_low": [0.05, 0.04, 2.0],
                               "conf_high": [0.15, 0.12, 6.0], "truth": [0.12, 0.07, 3.0]})
    fig = plot_truth_panels(comparison, pd.DataFrame({"instrument": ["WHO5"], "sd_pre": [20.0]}))
    crosses = fig.axes[2].collections[-1].get_offsets()
    assert crosses[0, 0] == pytest.approx(0.15)
