"""Recovery figures draw from the tidy frames and return their Axes."""

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from progression.plots.recovery import (  # noqa: E402
    plot_funnel,
    plot_move_change_heatmap,
    plot_rci_distribution,
    plot_shares_by_group,
    plot_trajectory,
)
from progression.recovery.groups import funnel_data, group_shares  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_rci_histogram_hides_small_bins_and_draws_bands():
    rng = np.random.default_rng(0)
    changes = pd.DataFrame({"rci": np.r_[rng.normal(0.5, 1.5, 500), [12.0]]})
    ax = plot_rci_distribution(changes, bins=np.arange(-6, 14, 1.0))
    heights = [p.get_height() for p in ax.containers[0]]
    assert 0 < max(heights) and all(h == 0 or h >= 5 for h in heights)  # the lone outlier bin is hidden
    assert len(ax.lines) == 2


def test_shares_bars_drop_suppressed_groups():
    df = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 10, "change_class": ["progression"] * 8 + ["degression"] * 5})
    ax = plot_shares_by_group(group_shares(df, by="g"), group_col="g")
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels == {"b"}


def test_trajectory_funnel_and_heatmap_return_axes():
    traj = pd.DataFrame({"time": [0, 1, 2], "estimate": [40, 43, 46], "conf_low": [39, 42, 44], "conf_high": [41, 44, 48]})
    ax = plot_trajectory(traj, observed=pd.DataFrame({"time": [0, 1, 2], "mean": [40.5, 42.5, 46.2]}))
    assert len(ax.lines) == 2
    table = pd.DataFrame({"kommune": [1, 2, 3], "count": [30, 12, 80], "n": [100, 50, 120]})
    ax = plot_funnel(funnel_data(table, group_col="kommune"))
    assert len(ax.collections) == 1 and len(ax.lines) == 5
    heat = pd.DataFrame([[0.5, 0.4, 0.1], [0.2, 0.7, 0.1], [0.1, 0.5, 0.4]], index=["down", "same", "up"],
                        columns=["progression", "maintenance", "degression"])
    ax = plot_move_change_heatmap(heat)
    assert len(ax.texts) == 9
