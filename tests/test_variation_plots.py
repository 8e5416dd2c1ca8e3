"""The variation figures draw what the tidy frames hold, without calling show()."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from progression.plots.variation import plot_caterpillar, plot_funnel, plot_shapley_decomposition  # noqa: E402
from progression.variation import SPECIAL_MUNICIPALITIES, SpendingVariationModel  # noqa: E402


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    n = 98
    X = rng.normal(size=(n, 3))
    pop = np.round(np.exp(rng.normal(10.4, 0.7, n)))
    data = pd.DataFrame(X, columns=["a", "b", "c"]).assign(
        municipality=np.r_[101, 825, 741, 563, 492, np.arange(102, 195)],
        pop=pop,
        spend=8_000 + X @ np.array([900.0, 400.0, 0.0]) + rng.normal(size=n) * 1_500 * np.sqrt(pop.mean() / pop),
    )
    return SpendingVariationModel(boosting=False, cv_repeats=1).fit(data, y="spend", X=["a", "b", "c"], weights="pop")


def test_core_modules_import_without_matplotlib():
    code = "import sys; sys.modules['matplotlib'] = None; import progression.variation, progression.plots.variation"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_shapley_bars_from_series_and_bootstrap(model):
    fig, (left, right) = plt.subplots(1, 2)
    ax = plot_shapley_decomposition(model.shapley(), ax=left)
    assert ax is left and len(ax.patches) == 3
    assert "R² = " in ax.get_title()
    table = model.shapley_bootstrap(n_boot=50, seed=1)
    ax = plot_shapley_decomposition(table, share=True, labels={"a": "no employment"}, ax=right)
    widths = sorted(p.get_width() for p in ax.patches)
    np.testing.assert_allclose(widths, sorted(table.loc[table["term"] != "R2", "share"]))
    assert "no employment" in [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)


def test_caterpillar_and_funnel(model):
    fig, (left, right) = plt.subplots(1, 2)
    bench = model.benchmark()
    ax = plot_caterpillar(bench, labels=SPECIAL_MUNICIPALITIES, ax=left)
    points = [c for c in ax.collections if type(c).__name__ == "PathCollection"]
    plotted = np.concatenate([c.get_offsets()[:, 1] for c in points])
    np.testing.assert_allclose(np.sort(plotted), np.sort(bench["residual"]))
    assert {t.get_text() for t in ax.texts} == set(SPECIAL_MUNICIPALITIES.values())
    funnel = model.funnel()
    ax = plot_funnel(funnel, labels={101: "København"}, ax=right)
    assert ax.get_xscale() == "log" and len(ax.lines) >= 4  # two limit pairs and the zero line
    plt.close(fig)


def _two_areas(table: pd.DataFrame, name: str) -> pd.DataFrame:
    from progression.disclosure import mark_disclosed

    return mark_disclosed(pd.concat([table.assign(area="adults"), table.assign(area="children")],
                                    ignore_index=True), name)


def test_panel_figures_draw_both_areas_and_record_their_disclosed_tables(model):
    from progression.plots.variation import plot_benchmark_panels, plot_shapley_panels

    benchmark = _two_areas(model.benchmark(), "variation_benchmark")
    funnel = _two_areas(model.funnel(), "variation_funnel")
    fig = plot_benchmark_panels(benchmark, funnel, labels={101: "København"})
    assert len(fig.axes) == 4 and [ax.get_xscale() for ax in fig.axes[1::2]] == ["log", "log"]
    assert {name for _, name in fig._progression_sources} == {"variation_benchmark", "variation_funnel"}
    plt.close(fig)
    shapley = model.shapley_bootstrap(n_boot=20, seed=1)
    table = _two_areas(pd.concat([shapley.assign(model="seed004 criteria"),
                                  shapley.assign(model="all criteria, groups")]), "variation_shapley")
    fig = plot_shapley_panels(table)
    assert len(fig.axes) == 4 and all(len(ax.patches) == 3 for ax in fig.axes)
    assert fig._progression_sources == [("plot_shapley_panels", "variation_shapley")]
    plt.close(fig)


def test_an_undisclosed_table_is_recorded_as_such(model):
    fig, ax = plt.subplots()
    plot_caterpillar(model.benchmark(), ax=ax)
    assert fig._progression_sources == [("plot_caterpillar", None)]  # save_figure refuses it
    plt.close(fig)


def test_unit_cost_split_marks_suppressed_municipalities():
    from progression.plots.variation import plot_unit_cost_split

    split = pd.DataFrame({"log_diff_coverage": [0.1, -0.2, np.nan, 0.3],
                          "log_diff_unit_cost": [0.0, 0.3, np.nan, np.nan]})
    ax = plot_unit_cost_split(split)
    points = [c for c in ax.collections if type(c).__name__ == "PathCollection"][0].get_offsets()
    np.testing.assert_allclose(points, [[0.1, 0.0], [-0.2, 0.3]])
    assert any("1 municipality suppressed" in t.get_text() for t in ax.texts)
    ticks = [line for line in ax.lines if line.get_marker() == "|"]
    assert len(ticks) == 1 and list(ticks[0].get_xdata()) == [0.3]  # coverage shown, cost per recipient hidden
    plt.close(ax.figure)
