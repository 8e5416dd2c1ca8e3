"""Disclosure control: declarations, primary, secondary, statistic and dominance suppression; person ids
and undeclared tables refused."""

import numpy as np
import pandas as pd
import pytest

from progression.disclosure import (
    Declaration,
    Dominance,
    assert_disclosed,
    check_no_person_ids,
    declaration_of,
    declare,
    dominance_share,
    looks_like_count,
    suppress,
    suppress_numbers,
)
from progression.exceptions import DisclosureError


def run(df, **decl):
    return suppress(declare(df, **decl), table_name="t", min_cell_size=5)


def test_primary_suppression_keeps_zero_and_large_counts():
    df = pd.DataFrame({"g": list("abcde"), "n": [0, 1, 4, 5, 100]})
    out, rep = suppress(declare(df, counts=["n"]), table_name="t", min_cell_size=5, secondary=False)
    assert out["n"].tolist()[0] == 0
    assert out["n"].isna().tolist() == [False, True, True, False, False]
    assert (rep.primary, rep.secondary, rep.cells) == (2, 0, 2)


def test_secondary_suppression_protects_a_single_hidden_cell_in_each_margin_group():
    # rows of a transition table: from-step a has one small cell -> hide the next smallest too
    df = pd.DataFrame({"from": ["a", "a", "a", "b", "b"], "to": ["x", "y", "z", "x", "y"],
                       "n": [2, 30, 8, 50, 60]})
    out, rep = run(df, counts=["n"], margins={"n": ["from"]})
    assert out["n"].isna().tolist() == [True, False, True, False, False]
    assert (rep.primary, rep.secondary) == (1, 1)
    # the hidden cell cannot be recovered by subtraction: two unknowns in group a
    assert out.loc[out["from"] == "a", "n"].isna().sum() == 2


def test_statistics_on_few_persons_are_suppressed():
    df = pd.DataFrame({"g": ["a", "b"], "n_from": [4, 40], "prob": [0.25, 0.5], "mean": [3.0, 2.0]})
    out, rep = run(df, counts=["n_from"], stats={"prob": "n_from", "mean": "n_from"})
    assert np.isnan(out.loc[0, "prob"]) and np.isnan(out.loc[0, "mean"])
    assert out.loc[1, "prob"] == 0.5
    assert rep.statistics == 2


def test_a_column_a_statistic_rests_on_is_suppressed_as_a_count():
    df = pd.DataFrame({"g": ["a", "b"], "n_cohort": [3, 40], "share": [0.3, 0.5]})
    out, _ = run(df, stats={"share": "n_cohort"})
    assert out["n_cohort"].isna().tolist() == [True, False]


@pytest.mark.parametrize("column", ["person_id", "CPR", "pnr"])
def test_person_id_columns_are_refused(column):
    df = pd.DataFrame({column: [1, 2], "n": [10, 10]})
    with pytest.raises(DisclosureError, match="person identifier"):
        run(df, counts=["n"])


def test_person_id_index_is_refused():
    df = pd.DataFrame({"n": [10]}, index=pd.Index([1], name="person_id"))
    with pytest.raises(DisclosureError, match="leaky"):
        check_no_person_ids(df, "leaky")


def test_assert_disclosed_catches_small_counts():
    with pytest.raises(DisclosureError, match="below the minimum cell size 5"):
        assert_disclosed(pd.DataFrame({"n": [3, 10]}), table="t", min_cell_size=5, count_cols=["n"])
    assert_disclosed(pd.DataFrame({"n": [0, 10, np.nan]}), table="t", min_cell_size=5, count_cols=["n"])


def test_a_share_is_hidden_with_its_hidden_numerator():
    # n=3 is hidden; share = n / n_total with n_total shown would give it away
    df = pd.DataFrame({"cat": ["a", "b", "c"], "n": [3, 40, 57], "n_total": [100, 100, 100],
                       "share": [0.03, 0.40, 0.57]})
    out, rep = run(df, counts=["n", "n_total"], stats={"share": ["n", "n_total"]}, margins={"n": []})
    assert out["n"].isna().tolist() == [True, True, False]  # secondary: the next smallest too
    assert out["share"].isna().tolist() == [True, True, False]
    assert rep.statistics == 2


def test_a_zero_numerator_does_not_hide_its_share():
    df = pd.DataFrame({"n": [0, 50], "n_total": [50, 50], "share": [0.0, 1.0]})
    out, _ = run(df, counts=["n"], stats={"share": ["n", "n_total"]})
    assert out["share"].tolist() == [0.0, 1.0]


# -- declarations ------------------------------------------------------------------------------------
def test_an_undeclared_table_with_small_counts_is_refused_naming_the_counts_and_the_fix():
    df = pd.DataFrame({"sex": ["K", "M"], "n_persons": [3, 4], "prob": [0.2, 0.7]})
    with pytest.raises(DisclosureError) as err:
        suppress(df, table_name="women", min_cell_size=5)
    message = str(err.value)
    assert "no disclosure declaration" in message
    assert "look like counts of persons: ['n_persons']" in message
    assert "other numeric columns: ['prob']" in message
    assert "counts=['n_persons']" in message and "stats=" in message


def test_counts_are_recognised_by_value_when_their_name_does_not_say_so():
    assert looks_like_count("women", pd.Series([3, 12]))
    assert not looks_like_count("ratio", pd.Series([0.3, 1.2]))
    assert looks_like_count("n_cases") and looks_like_count("persons") and looks_like_count("stock_n")


def test_a_numeric_column_left_out_of_the_declaration_is_refused():
    df = declare(pd.DataFrame({"n": [30], "share": [0.5], "extra": [3]}), counts="n", stats={"share": "n"})
    with pytest.raises(DisclosureError, match=r"numeric column\(s\) \['extra'\] are not declared.*counts of persons: \['extra'\]"):
        suppress(df, table_name="t", min_cell_size=5)


def test_a_statistic_without_the_counts_it_rests_on_is_refused():
    df = declare(pd.DataFrame({"n": [30], "share": [0.5]}), counts="n", stats={"share": "n"}).drop(columns="n")
    with pytest.raises(DisclosureError, match=r"\['share'\] rest on \['n'\]"):
        suppress(df, table_name="t", min_cell_size=5)


def test_a_table_without_numbers_needs_no_declaration():
    out, rep = suppress(pd.DataFrame({"step": ["a", "b"]}), table_name="t", min_cell_size=5)
    assert rep.cells == 0 and out["step"].tolist() == ["a", "b"]


def test_declarations_travel_with_filtered_and_trimmed_tables():
    df = declare(pd.DataFrame({"g": ["a", "b"], "n": [3, 40], "share": [0.1, 0.2], "x": [1.0, 2.0]}),
                 counts="n", stats={"share": "n"}, safe="x")
    trimmed = df[df["g"] == "a"].drop(columns="x")
    assert declaration_of(trimmed) == declaration_of(df)
    out, _ = suppress(trimmed, table_name="t", min_cell_size=5)
    assert out["n"].isna().all() and out["share"].isna().all()
    stacked = pd.concat([df, df], ignore_index=True)
    assert declaration_of(stacked) == declaration_of(df)


def test_declarations_merge_and_add():
    a = Declaration.of(counts="n", stats={"share": "n"})
    b = Declaration.of(counts="m", safe=["price"])
    assert a.merge(b).counts == ("n", "m") and a.merge(b).safe == ("price",)
    df = declare(declare(pd.DataFrame({"n": [1]}), counts="n"), safe="price", add=True)
    assert declaration_of(df).counts == ("n",) and declaration_of(df).safe == ("price",)


# -- dominance ---------------------------------------------------------------------------------------
def test_dominance_share_of_the_two_largest_contributions():
    costs = pd.Series([900_000.0, 10_000, 12_000, 8_000, 11_000, 20_000, 30_000])
    groups = pd.Series(["a", "a", "a", "a", "a", "b", "b"])
    shares = dominance_share(costs, groups)
    assert shares["a"] == pytest.approx(912_000 / 941_000)
    assert shares["b"] == pytest.approx(1.0)


def test_a_cost_dominated_by_one_person_is_suppressed_with_its_mean():
    per_person = pd.DataFrame({"municipality": [101] * 6 + [147] * 6,
                               "cost": [2_500_000, 40_000, 35_000, 42_000, 38_000, 41_000] + [60_000] * 6})
    table = per_person.groupby("municipality")["cost"].agg(n_persons="size", total_cost="sum").reset_index()
    table["mean_cost"] = table["total_cost"] / table["n_persons"]
    table["top2"] = dominance_share(per_person["cost"], per_person["municipality"]).to_numpy()
    table = declare(table, counts="n_persons", labels="municipality",
                    magnitudes={"total_cost": "top2"}, magnitude_counts={"total_cost": "n_persons"},
                    stats={"mean_cost": ["n_persons", "total_cost"]})
    out, rep = suppress(table, table_name="costs", min_cell_size=5, dominance=Dominance(n=2, k=0.85))
    assert "top2" not in out.columns  # the dominance share is used, not written
    assert out["total_cost"].isna().tolist() == [True, False]
    assert out["mean_cost"].isna().tolist() == [True, False]
    assert out["n_persons"].tolist() == [6, 6]
    assert rep.dominance == 1
    # switched off, the rule hides nothing
    out, rep = suppress(table, table_name="costs", min_cell_size=5, dominance=None)
    assert out["total_cost"].notna().all() and rep.dominance == 0


# -- key numbers -------------------------------------------------------------------------------------
def test_undeclared_key_numbers_with_a_small_count_are_refused():
    with pytest.raises(DisclosureError, match=r"look like counts of persons: \['n_women'\]"):
        suppress_numbers({"n_women": 2, "label": "x"}, name="key", min_cell_size=5)


def test_declared_key_numbers_are_suppressed_to_null():
    data = declare({"n_women": 2, "share_women": 0.5, "year": 2022, "nested": {"n_men": 40}},
                   counts=["n_women", "nested.n_men"], stats={"share_women": "n_women"}, labels="year")
    out, rep = suppress_numbers(data, name="key", min_cell_size=5)
    assert out == {"n_women": None, "share_women": None, "year": 2022, "nested.n_men": 40}
    assert rep.cells == 2
