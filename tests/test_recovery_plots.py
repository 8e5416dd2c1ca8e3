"""Recovery figures draw from tidy (disclosed) tables, show hidden cells as hidden and return their Axes."""

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from progression.analyses.progression import rci_histogram  # noqa: E402
from progression.disclosure import mark_disclosed, suppress  # noqa: E402
from progression.plots.recovery import (  # noqa: E402
    plot_funnel,
    plot_funnel_panels,
    plot_move_change_heatmap,
    plot_rci_distribution,
    plot_rci_panels,
    plot_shares_by_group,
    plot_trajectory,
)
from progression.recovery.groups import funnel_data, group_shares  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def hatched(ax):
    return [p for p in ax.patches if p.get_hatch()]


def test_rci_histogram_hides_small_bins_and_draws_bands():
    rng = np.random.default_rng(0)
    changes = pd.DataFrame({"instrument": "WHO5", "rci": np.r_[rng.normal(0.5, 1.5, 500), [5.9]]})
    table, _ = suppress(rci_histogram(changes), table_name="rci", min_cell_size=5)
    ax = plot_rci_distribution(mark_disclosed(table, "rci"))
    heights = [p.get_height() for p in ax.containers[0]]
    assert 0 < max(heights) and all(h == 0 or h >= 5 for h in heights)  # the lone outlier bin is no bar
    assert len(hatched(ax)) == table["n"].isna().sum() >= 2  # ... but hatched, with a second bin (the margin)
    assert len(ax.lines) == 2
    fig = plot_rci_panels(mark_disclosed(table, "rci"))
    assert fig.axes[0].get_title(loc="left") == "WHO-5 (higher is better)"
    assert ("plot_rci_panels", "rci") in fig._progression_sources  # the figure knows it shows a disclosed table


def test_shares_bars_show_suppressed_groups_hatched():
    df = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 10, "change_class": ["progression"] * 8 + ["degression"] * 5})
    shares = group_shares(df, by="g")
    shares.loc[shares["suppress"], ["share"]] = np.nan
    ax = plot_shares_by_group(shares, group_col="g")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["a", "b"]
    assert len(hatched(ax)) == 1 and hatched(ax)[0].get_width() == pytest.approx(1.0)  # all of group a hidden


def test_trajectory_funnel_and_heatmap_return_axes():
    traj = pd.DataFrame({"time": [0, 1, 2], "estimate": [40, 43, 46], "conf_low": [39, 42, 44], "conf_high": [41, 44, 48]})
    ax = plot_trajectory(traj, observed=pd.DataFrame({"time": [0, 1, 2], "estimate": [40.5, 42.5, np.nan]}))
    assert len(ax.lines) == 3  # model mean, observed means, the marker of the hidden year
    table = pd.DataFrame({"kommune": [1, 2, 3], "count": [30, 12, 80], "n": [100, 50, 120]})
    ax = plot_funnel(funnel_data(table, group_col="kommune"))
    assert len(ax.collections) == 1 and len(ax.lines) == 5
    heat = pd.DataFrame({"move": np.repeat(["down", "same", "up"], 3),
                         "change_class": ["progression", "maintenance", "degression"] * 3,
                         "share": [0.5, 0.4, 0.1, 0.2, 0.7, 0.1, np.nan, 0.5, np.nan]})
    ax = plot_move_change_heatmap(heat)
    assert len(ax.texts) == 9 and sum(t.get_text() == "·" for t in ax.texts) == 2


def test_funnel_panels_count_what_they_hide():
    table = pd.DataFrame({"instrument": "VUM", "target_group": "sindslidelse", "municipality": range(5),
                          "n": [40.0, 30.0, 12.0, np.nan, np.nan], "share": [0.2, 0.1, np.nan, np.nan, np.nan],
                          "target": 0.15})
    fig = plot_funnel_panels(table, instrument="VUM")
    title = fig.axes[0].get_title(loc="left")
    assert "2 of 5 municipalities shown" in title and "1 with the share hidden, 2 with the size hidden too" in title
