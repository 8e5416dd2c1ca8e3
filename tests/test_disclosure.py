"""Disclosure control: primary, secondary and statistic suppression; person ids refused."""

import numpy as np
import pandas as pd
import pytest

from progression.disclosure import assert_disclosed, check_no_person_ids, suppress
from progression.exceptions import DisclosureError


def test_primary_suppression_keeps_zero_and_large_counts():
    df = pd.DataFrame({"g": list("abcde"), "n": [0, 1, 4, 5, 100]})
    out, rep = suppress(df, table="t", min_cell_size=5, count_cols=["n"], secondary=False)
    assert out["n"].tolist()[0] == 0
    assert out["n"].isna().tolist() == [False, True, True, False, False]
    assert (rep.primary, rep.secondary, rep.cells) == (2, 0, 2)


def test_secondary_suppression_protects_a_single_hidden_cell_in_each_margin_group():
    # rows of a transition table: from-step a has one small cell -> hide the next smallest too
    df = pd.DataFrame({"from": ["a", "a", "a", "b", "b"], "to": ["x", "y", "z", "x", "y"],
                       "n": [2, 30, 8, 50, 60]})
    out, rep = suppress(df, table="t", min_cell_size=5, count_cols=["n"], margin_groups={"n": ["from"]})
    assert out["n"].isna().tolist() == [True, False, True, False, False]
    assert (rep.primary, rep.secondary) == (1, 1)
    # the hidden cell cannot be recovered by subtraction: two unknowns in group a
    assert out.loc[out["from"] == "a", "n"].isna().sum() == 2


def test_statistics_on_few_persons_are_suppressed():
    df = pd.DataFrame({"g": ["a", "b"], "n_from": [4, 40], "prob": [0.25, 0.5], "mean": [3.0, 2.0]})
    out, rep = suppress(df, table="t", min_cell_size=5, count_cols=["n_from"],
                        stat_cols={"prob": "n_from", "mean": "n_from"})
    assert np.isnan(out.loc[0, "prob"]) and np.isnan(out.loc[0, "mean"])
    assert out.loc[1, "prob"] == 0.5
    assert rep.statistics == 2


@pytest.mark.parametrize("column", ["person_id", "CPR", "pnr"])
def test_person_id_columns_are_refused(column):
    df = pd.DataFrame({column: [1, 2], "n": [10, 10]})
    with pytest.raises(DisclosureError, match="person identifier"):
        suppress(df, table="leaky", min_cell_size=5, count_cols=["n"])


def test_person_id_index_is_refused():
    df = pd.DataFrame({"n": [10]}, index=pd.Index([1], name="person_id"))
    with pytest.raises(DisclosureError, match="leaky"):
        check_no_person_ids(df, "leaky")


def test_unknown_count_column_is_named():
    with pytest.raises(DisclosureError, match=r"\['n_missing'\] not found"):
        suppress(pd.DataFrame({"n": [1]}), table="t", min_cell_size=5, count_cols=["n_missing"])


def test_assert_disclosed_catches_small_counts():
    with pytest.raises(DisclosureError, match="below the minimum cell size 5"):
        assert_disclosed(pd.DataFrame({"n": [3, 10]}), table="t", min_cell_size=5, count_cols=["n"])
    assert_disclosed(pd.DataFrame({"n": [0, 10, np.nan]}), table="t", min_cell_size=5, count_cols=["n"])


def test_a_share_is_hidden_with_its_hidden_numerator():
    # n=3 is hidden; share = n / n_total with n_total shown would give it away
    df = pd.DataFrame({"cat": ["a", "b", "c"], "n": [3, 40, 57], "n_total": [100, 100, 100],
                       "share": [0.03, 0.40, 0.57]})
    out, rep = suppress(df, table="t", min_cell_size=5, count_cols=["n", "n_total"],
                        stat_cols={"share": ["n", "n_total"]}, margin_groups={"n": []})
    assert out["n"].isna().tolist() == [True, True, False]  # secondary: the next smallest too
    assert out["share"].isna().tolist() == [True, True, False]
    assert rep.statistics == 2


def test_a_zero_numerator_does_not_hide_its_share():
    df = pd.DataFrame({"n": [0, 50], "n_total": [50, 50], "share": [0.0, 1.0]})
    out, _ = suppress(df, table="t", min_cell_size=5, count_cols=["n"], stat_cols={"share": ["n", "n_total"]})
    assert out["share"].tolist() == [0.0, 1.0]
