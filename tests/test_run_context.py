"""The run context an evaluator extends an analysis with: nothing small leaves by accident, opening a
section keeps its report items, refusals are logged."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from progression.chain.run_context import (  # noqa: E402
    Disclosed,
    RunContext,
    collect_disclosure,
    collect_report_items,
    reset_section,
)
from progression.disclosure import declare  # noqa: E402
from progression.exceptions import DisclosureError  # noqa: E402
from progression.plots._base import draws, new_axes  # noqa: E402


@pytest.fixture
def ctx(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("run: {name: t}\n")
    return RunContext.open(params, tmp_path / "run", section="my_analysis")


@pytest.fixture
def women():
    """Transitions of women: cells resting on 3 and 4 persons."""
    return pd.DataFrame({"from_step": ["SEL85", "SEL85", "SEL108"], "to_step": ["none", "SEL85", "SEL108"],
                         "n": [3, 4, 60], "prob": [0.4, 0.6, 1.0]})


@draws
def bars(table, ax=None):
    ax = new_axes(ax)
    ax.bar(range(len(table)), table["prob"])
    return ax


def disclosure_log(ctx):
    return collect_disclosure(ctx.run_dir)


def test_a_table_with_small_counts_written_without_a_declaration_never_reaches_disk(ctx, women):
    with pytest.raises(DisclosureError) as err:
        ctx.write_result("women_transitions", women, caption="Transitions of women")
    assert "counts of persons: ['n']" in str(err.value) and "ctx.write_result('women_transitions'" in str(err.value)
    assert not (ctx.run_dir / "results" / "women_transitions.csv").exists()
    assert disclosure_log(ctx)["_refused"]["women_transitions"]["kind"] == "table"
    assert collect_report_items(ctx.run_dir) == []


def test_declared_counts_are_suppressed_and_the_table_comes_back_disclosed(ctx, women):
    out = ctx.write_result("women_transitions", women, counts=["n"], stats={"prob": "n"},
                           margins={"n": ["from_step"]}, caption="Transitions of women")
    written = pd.read_csv(ctx.run_dir / "results" / "women_transitions.csv")
    assert written["n"].isna().tolist() == [True, True, False]
    assert written["prob"].isna().tolist() == [True, True, False]
    assert disclosure_log(ctx)["women_transitions"]["cells"] == 4
    assert "_refused" not in disclosure_log(ctx)
    assert out.attrs["progression.disclosed"] == "women_transitions"


def test_a_json_with_a_count_of_two_never_reaches_disk(ctx):
    with pytest.raises(DisclosureError, match=r"\['n_women'\]"):
        ctx.write_json("key_numbers", {"n_women": 2, "mean_age": 41.5})
    assert not (ctx.run_dir / "results" / "key_numbers.json").exists()
    out = ctx.write_json("key_numbers", {"n_women": 2, "mean_age": 41.5}, counts=["n_women"],
                         stats={"mean_age": "n_women"})
    assert json.loads((ctx.run_dir / "results" / "key_numbers.json").read_text()) == {"mean_age": None, "n_women": None}
    assert out["n_women"].suppressed


def test_a_figure_drawn_from_an_undisclosed_table_is_refused(ctx, women):
    ax = bars(women)
    with pytest.raises(DisclosureError, match="did not pass disclosure control"):
        ctx.save_figure(ax.figure, "women_bars", caption="Women")
    assert not (ctx.run_dir / "figures" / "women_bars.png").exists()
    assert disclosure_log(ctx)["_refused"]["women_bars"]["kind"] == "figure"
    plt.close("all")


def test_a_figure_without_declared_data_is_refused_and_one_from_a_disclosed_table_is_saved(ctx, women):
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    with pytest.raises(DisclosureError, match="no declared data"):
        ctx.save_figure(fig, "raw", caption="raw")
    shown = ctx.write_result("women_transitions", declare(women, counts="n", stats={"prob": "n"}))
    ax = bars(shown)
    ctx.save_figure(ax.figure, "women_bars", caption="Women")
    assert (ctx.run_dir / "figures" / "women_bars.png").exists()
    fig, ax = plt.subplots()
    ax.plot(shown["prob"])
    ctx.save_figure(fig, "women_line", caption="Women", data=shown)
    plt.close("all")


def test_report_text_takes_numbers_only_from_disclosed_results(ctx, women):
    with pytest.raises(DisclosureError, match="not numbers of disclosed results"):
        ctx.add_text("{share:.0%} of women stay", values={"share": 0.6})
    shown = ctx.write_result("women_transitions", declare(women, counts="n", stats={"prob": "n"}))
    text = ctx.add_text("{stay:.0%} stay on §108 and {small:.0%} move to no service ({year})",
                        values={"stay": ctx.value(shown, "prob", from_step="SEL108"),
                                "small": ctx.value(shown, "prob", to_step="none")}, safe={"year": 2022})
    assert text == "100% stay on §108 and · move to no service (2022)"
    with pytest.raises(DisclosureError, match="disclosed tables"):
        ctx.value(women, "prob", from_step="SEL108")
    assert isinstance(ctx.value("women_transitions", "prob", from_step="SEL108"), Disclosed)


def test_opening_a_section_interactively_keeps_its_report_items_and_rewriting_replaces(ctx, women, tmp_path):
    ctx.write_result("women_transitions", declare(women, counts="n", stats={"prob": "n"}), caption="first")
    again = RunContext.open(tmp_path / "params.yaml", ctx.run_dir, section="my_analysis")
    assert [i["caption"] for i in collect_report_items(ctx.run_dir)] == ["first"]
    again.write_result("women_transitions", declare(women, counts="n", stats={"prob": "n"}), caption="second")
    assert [i["caption"] for i in collect_report_items(ctx.run_dir)] == ["second"]
    reset_section(ctx.run_dir, "my_analysis")
    assert collect_report_items(ctx.run_dir) == []


def test_the_context_records_what_a_notebook_reads(ctx, women):
    shown = ctx.write_result("women_transitions", declare(women, counts="n", stats={"prob": "n"}))
    ctx.result("women_transitions")
    assert ctx.params.fund.horizon_years > 0
    assert shown is not None
    logs = ctx.run_dir / "log" / "my_analysis"
    assert json.loads((logs / "reads.json").read_text()) == ["results/women_transitions.csv"]
    assert json.loads((logs / "params.json").read_text()) == ["disclosure", "fund", "report"]


def test_the_dominance_rule_follows_the_parameters(tmp_path):
    per_person = pd.DataFrame({"g": ["a"] * 6, "cost": [2_500_000, 40_000, 35_000, 42_000, 38_000, 41_000]})
    table = declare(pd.DataFrame({"g": ["a"], "n_persons": [6], "total_cost": [per_person["cost"].sum()],
                                  "top2": [(2_500_000 + 42_000) / per_person["cost"].sum()]}),
                    counts="n_persons", magnitudes={"total_cost": "top2"})
    for dominance, hidden in (("{n: 2, k: 0.85}", True), ("null", False)):
        params = tmp_path / f"p{hidden}.yaml"
        params.write_text(f"disclosure: {{dominance: {dominance}}}\n")
        ctx = RunContext.open(params, tmp_path / f"run{hidden}")
        out = ctx.write_result("costs", table)
        assert out["total_cost"].isna().all() == hidden


def test_disclosed_numbers_add_up_to_disclosed_numbers_and_a_suppressed_one_stays_suppressed():
    a, b = Disclosed(3.0, "t.a"), Disclosed(4.0, "t.b")
    assert isinstance(a + b, Disclosed) and (a + b).source == "(t.a + t.b)" and float(sum([a, b])) == 7.0
    assert not isinstance(a + 1.0, Disclosed)  # an undisclosed number makes the result undisclosed
    assert f"{Disclosed(None, 't.c') + a:.1f}" == "·"


def test_a_stacked_table_takes_another_tables_declaration():
    first = declare(pd.DataFrame({"n": [30], "share": [0.5]}), counts="n", stats={"share": "n"})
    stacked = declare(pd.concat([first, first.assign(n=3)], ignore_index=True), first.attrs["progression.disclosure"],
                      safe=[])
    out, _ = __import__("progression.disclosure", fromlist=["suppress"]).suppress(stacked, table_name="t",
                                                                                   min_cell_size=5)
    assert out["share"].isna().tolist() == [False, True]


def test_written_key_numbers_count_as_disclosed_data_of_a_figure(ctx):
    from progression.disclosure import is_disclosed

    numbers = ctx.write_json("key", {"share": 0.4, "n": 50}, counts=["n"], stats={"share": "n"})
    assert is_disclosed(numbers) and is_disclosed(ctx.numbers("key"))
    fig, ax = plt.subplots()
    ax.bar([0], [numbers["share"]])
    ctx.save_figure(fig, "key_bar", caption="key", data=numbers)
    plt.close(fig)
