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
