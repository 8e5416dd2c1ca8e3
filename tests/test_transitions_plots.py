"""Transition figures draw what the tidy frames hold and hide small cells."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from progression.transitions.durations import time_on_step  # noqa: E402
from progression.plots.transitions import (  # noqa: E402
    plot_alluvial,
    plot_flow_bars,
    plot_km,
    plot_projection,
    plot_transition_heatmap,
)
from progression.transitions.projection import current_stock, project_occupancy  # noqa: E402
from progression.transitions import CohortFlow, TransitionMatrix  # noqa: E402
from progression.transitions.published import PUBLISHED_FLOW_FROM_SEL85  # noqa: E402
from test_transitions import chain_panel, simulate_chain  # noqa: E402


@pytest.fixture(scope="module")
def panel():
    states, first = simulate_chain(1500, 6, seed=3)
    frame = chain_panel(states, first, municipality=np.where(np.arange(1500) < 700, 265, 101))
    frame["municipality_set"] = np.where(frame.municipality == 265, "case", "rest")
    return frame


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_heatmap_annotates_percentages_and_hides_small_cells(panel):
    tm = TransitionMatrix(n_boot=0).fit(panel, groups=["municipality_set"])
    summary = tm.summary()
    ax = plot_transition_heatmap(summary, where={"municipality_set": "case"}, min_cell=20)
    texts = [t.get_text() for t in ax.texts]
    assert "<20" in texts
    row = summary[(summary.municipality_set == "case") & (summary.from_step == "SEL85") & (summary.to_step == "SEL85")]
    assert f"{100 * row.prob.item():.0f}%" in texts
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "none"


def test_flow_bars_put_the_panel_next_to_seed_002(panel):
    flow = CohortFlow(start=2015, stop=2017, n_boot=0).fit(panel, groups=["municipality_set"])
    ax = plot_flow_bars(flow.summary(), group_col="municipality_set", reference=PUBLISHED_FLOW_FROM_SEL85)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("case (n=") and labels[-1] == "seed 002: national"
    assert len(labels) == 4
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "none_or_lower" in legend and "lower" not in legend
    # the reference bars are hatched and their widths are seed 002's shares
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert sorted(round(p.get_width(), 2) for p in hatched) == sorted(PUBLISHED_FLOW_FROM_SEL85.share.round(2))


def test_alluvial_bands_add_up(panel):
    tm = TransitionMatrix(n_boot=0).fit(panel)
    ax = plot_alluvial(tm.summary(), min_cell=0)
    blocks = [p for p in ax.patches if type(p).__name__ == "Rectangle"]
    heights = sum(p.get_height() for p in blocks)
    n_states = len(blocks)
    assert heights == pytest.approx(2 * (1 - 0.02 * (n_states / 2 - 1)), abs=0.05)
    with pytest.raises(ValueError, match="no flows"):
        plot_alluvial(tm.summary().assign(n=0))


def test_km_and_projection_figures(panel):
    km = time_on_step(panel, steps=["SEL85", "SEL108"])
    ax = plot_km(km)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SEL85", "SEL108"]
    tm = TransitionMatrix(n_boot=100, seed=1).fit(panel)
    proj = project_occupancy(current_stock(panel), tm.matrix(), years=4, replicates=tm.replicates())
    ax = plot_projection(proj, states=["SEL85", "SEL108"])
    assert len(ax.lines) == 2 and len(ax.collections) == 2  # two lines, two bands
