"""Transition figures draw what the tidy frames hold and hide small cells."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from progression.transitions.durations import time_on_step  # noqa: E402
from progression.plots.transitions import (  # noqa: E402
    SUPPRESSED_MARK,
    plot_alluvial,
    plot_flow_bars,
    plot_km,
    plot_matrix_panels,
    plot_projection,
    plot_transition_heatmap,
    step_colours,
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
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "no service"  # steps by their names (label registry)


def test_flow_bars_put_the_panel_next_to_seed_002(panel):
    flow = CohortFlow(start=2015, stop=2017, n_boot=0).fit(panel, groups=["municipality_set"])
    ax = plot_flow_bars(flow.summary(), group_col="municipality_set", reference=PUBLISHED_FLOW_FROM_SEL85)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0].startswith("case municipalities (n = ") and labels[-1] == "published: all municipalities"
    assert len(labels) == 4
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "no service or a lower step" in legend and "a lower step" not in legend
    # the reference bars are hatched and their widths are the published shares
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
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["home support (§85)",
                                                                   "long-term residential care (§108)"]
    tm = TransitionMatrix(n_boot=100, seed=1).fit(panel)
    proj = project_occupancy(current_stock(panel), tm.matrix(), years=4, replicates=tm.replicates())
    ax = plot_projection(proj, states=["SEL85", "SEL108"])
    assert len(ax.lines) == 2 and len(ax.collections) == 2  # two lines, two bands


def test_matrix_panels_share_their_rows_and_one_colour_bar(panel):
    from progression.disclosure import suppress

    table = TransitionMatrix(n_boot=0).fit(panel, groups=["municipality_set"]).summary()
    shown, _ = suppress(table, table_name="m", min_cell_size=20)
    fig = plot_matrix_panels(shown, by="municipality_set", values=["case", "rest"], min_cell=20)
    left, right, colour_bar = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()][0] == "no service"
    assert [ax.get_title() for ax in (left, right)] == ["case municipalities", "the rest"]
    assert not any(t.get_visible() and t.get_text() for t in right.get_yticklabels())  # no labels to run into
    assert colour_bar.get_ylabel() == "share of the row"
    marks = [t.get_text() for ax in (left, right) for t in ax.texts]
    assert SUPPRESSED_MARK in marks  # suppressed cells are shown as such, not left blank


def test_each_step_has_one_colour_in_every_figure(panel):
    colours = step_colours()
    assert len(set(colours.values())) == len(colours)
    km = time_on_step(panel, steps=["SEL85", "SEL108"])
    lines = {line.get_label(): line.get_color() for line in plot_km(km).get_lines()}
    tm = TransitionMatrix(n_boot=0).fit(panel)
    proj = project_occupancy(current_stock(panel), tm.matrix(), years=2)
    ax = plot_projection(proj, states=["SEL85", "SEL108"])
    drawn = {line.get_label(): line.get_color() for line in ax.get_lines()}
    names = {"SEL85": "home support (§85)", "SEL108": "long-term residential care (§108)"}
    for step, name in names.items():
        assert matplotlib.colors.to_hex(lines[name]) == matplotlib.colors.to_hex(drawn[name]) == colours[step].lower()


def test_hazard_ratio_axes_read_as_plain_numbers():
    from progression.plots.ctmc import plot_hazard_ratio_panels

    frame = pd.DataFrame({"from_state": ["SEL85", "SEL85", "SEL108", "SEL108"], "to_state": ["none", "SEL108"] * 2,
                          "term": ["severity", "severity", "recovery_oriented", "recovery_oriented"],
                          "estimate": [0.4, 1.5, 0.8, 2.5], "conf_low": [0.3, 1.1, 0.5, 1.2],
                          "conf_high": [0.55, 2.1, 1.3, 5.0]})
    fig = plot_hazard_ratio_panels(frame, terms=["severity", "recovery_oriented"])
    for ax in fig.axes:
        fig.canvas.draw()
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert ticks and all("10" not in t or t == "10" for t in ticks) and "1" in ticks, ticks
    assert [ax.get_title() for ax in fig.axes] == ["severity (one step)", "recovery-oriented municipality"]


def test_a_matrix_read_back_from_csv_is_drawn_in_the_staircase_order(panel, tmp_path):
    table = TransitionMatrix(n_boot=0).fit(panel).summary()
    table.to_csv(tmp_path / "m.csv", index=False)
    ax = plot_transition_heatmap(pd.read_csv(tmp_path / "m.csv"), min_cell=0)
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        "no service", "preventive support (§82)", "home support (§85)", "temporary residential care (§107)",
        "residential-like housing (§105/§85)", "long-term residential care (§108)"]
    assert [t.get_text() for t in ax.get_xticklabels()][-3:] == ["died", "emigrated", "moved away"]
