"""An evaluator fits a new transition matrix and writes it in a few lines: the estimator's table carries
its disclosure declaration, so its small cells never reach disk, and its figure may be saved."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from progression.chain.run_context import RunContext  # noqa: E402
from progression.datasets import load_example  # noqa: E402
from progression.disclosure import declaration_of  # noqa: E402
from progression.plots.transitions import plot_transition_heatmap  # noqa: E402
from progression.transitions import CohortFlow, TransitionMatrix, matrix_declaration  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:n_boot=")  # small bootstraps keep the tests fast


@pytest.fixture
def ctx(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("run: {name: t}\n")
    return RunContext.open(params, tmp_path / "run", section="my_analysis")


@pytest.fixture(scope="module")
def women():
    panel, persons = load_example("panel_year"), load_example("persons")
    return panel.merge(persons[["person_id", "sex"]], on="person_id").query("sex == 'K'")


def test_an_evaluator_writes_the_women_matrix_in_a_few_lines(ctx, women):
    tm = TransitionMatrix(n_boot=50, seed=1).fit(women)
    written = ctx.write_result("women_transitions", tm.summary(), caption="Transitions of women")
    fig = plot_transition_heatmap(written).figure
    ctx.save_figure(fig, "women_transitions", caption="Transitions of women")
    plt.close(fig)

    on_disk = pd.read_csv(ctx.run_dir / "results" / "women_transitions.csv")
    raw = tm.summary()
    small = (raw["n_described"] > 0) & (raw["n_described"] < 5)
    assert small.any()  # the women's matrix has cells resting on fewer than five persons ...
    assert on_disk.loc[small.to_numpy(), ["n", "n_persons", "prob", "conf_low", "n_described"]].isna().all().all()
    shown = on_disk["n_described"].dropna()
    assert ((shown == 0) | (shown >= 5)).all()  # ... and none of them reaches disk
    assert (ctx.run_dir / "figures" / "women_transitions.png").exists()


def test_summary_counts_persons_per_row_and_describes_empty_cells_by_their_row(women):
    table = TransitionMatrix(n_boot=0).fit(women, groups=["municipality"]).summary()
    hand = women[women["status"] == "observed"].groupby(["municipality", "step"], observed=True)["person_id"].nunique()
    rows = table.drop_duplicates(["municipality", "from_step"]).set_index(["municipality", "from_step"])
    ended = rows["n_from"] > 0
    # persons on a step with a following period, never more than those on it at all
    assert (rows.loc[ended, "n_persons_from"] <= hand.reindex(rows.index[ended]).to_numpy()).all()
    empty = table["n"] == 0
    assert (table.loc[empty, "n_described"] == table.loc[empty, "n_persons_from"]).all()
    assert (table.loc[~empty, "n_described"] == table.loc[~empty, "n_persons"]).all()
    assert declaration_of(table) == matrix_declaration(["municipality"]).restricted(table.columns)


def test_the_flow_summary_is_declared_with_its_groups():
    flow = CohortFlow(start=2020, stop=2022, n_boot=0).fit(load_example("panel_year"), groups=["municipality"])
    declaration = declaration_of(flow.summary())
    assert declaration.counts == ("n", "n_cohort") and declaration.margins == {"n": ("municipality",)}
    assert declaration.stats["share"] == ("n", "n_cohort") and declaration.stats["n_persons"] == ("n",)


def test_the_vocabulary_of_the_intervals(women):
    tm = TransitionMatrix(n_boot=30, cl=0.8, seed=2).fit(women)
    table = tm.summary()
    assert {"std_error", "conf_low", "conf_high"} <= set(table.columns)
    assert not {"se", "ci_lower", "ci_upper"} & set(table.columns)
    wide = TransitionMatrix(n_boot=30, cl=0.99, seed=2).fit(women).summary()
    width = (table["conf_high"] - table["conf_low"]).sum()
    assert (wide["conf_high"] - wide["conf_low"]).sum() > width
    np.testing.assert_allclose(tm.matrix("conf_low").to_numpy().ravel(), table["conf_low"].to_numpy())
