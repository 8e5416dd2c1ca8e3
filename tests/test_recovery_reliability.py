"""Cronbach's alpha: a hand-computed example, Feldt's interval, parallel items of known reliability."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from progression.exceptions import DataContractError, ParameterError
from progression.recovery import cronbach_alpha, instrument_alpha


def test_alpha_hand_computed_example():
    """Four respondents, three items. Item variances 5/3, 19/12, 5/3 (sum 59/12); sum scores 5, 8, 10, 14
    with variance 57/4; alpha = 3/2 * (1 - (59/12)/(57/4)) = 3/2 * 112/171 = 56/57."""
    items = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5]], dtype=float)
    out = cronbach_alpha(items)
    assert out["alpha"] == pytest.approx(56 / 57, rel=1e-12)
    assert (out["n"], out["k"]) == (4, 3)


def test_feldt_interval_matches_its_formula_and_drops_incomplete_rows():
    items = pd.DataFrame([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 5], [np.nan, 1, 1]])
    out = cronbach_alpha(items, cl=0.95)
    assert out["n"] == 4
    a = 56 / 57
    assert out["conf_low"] == pytest.approx(1 - (1 - a) * stats.f.ppf(0.975, 3, 6))
    assert out["conf_high"] == pytest.approx(1 - (1 - a) * stats.f.ppf(0.025, 3, 6))
    assert out["conf_low"] < a < out["conf_high"]


def test_alpha_recovers_the_reliability_of_parallel_items():
    """k parallel items x_j = T + e_j with var(T) = 1 and var(e) = 2: the sum score has reliability
    k / (k + 2), which alpha estimates without bias; Feldt's 95 % interval covers it."""
    rng = np.random.default_rng(7)
    k, n = 5, 4000
    x = rng.normal(size=(n, 1)) + rng.normal(scale=np.sqrt(2), size=(n, k))
    out = cronbach_alpha(x, cl=0.95)
    assert out["conf_low"] < k / (k + 2) < out["conf_high"]
    assert out["alpha"] == pytest.approx(k / (k + 2), abs=0.02)


def who5_long(items_by_occasion):
    rows = []
    for (person, date), items in items_by_occasion.items():
        rows += [{"person_id": person, "assessment_date": pd.Timestamp(date), "instrument": "WHO5",
                  "item": str(i + 1), "score": float(s)} for i, s in enumerate(items)]
    return pd.DataFrame(rows)


def test_instrument_alpha_uses_first_occasions_and_missing_codes():
    data = who5_long({
        (1, "2022-01-01"): [1, 2, 2, 1, 2], (1, "2023-01-01"): [5, 0, 5, 0, 5],
        (2, "2022-02-01"): [2, 3, 3, 2, 3], (3, "2022-03-01"): [3, 3, 4, 3, 3],
        (4, "2022-01-05"): [4, 5, 5, 4, 4], (5, "2022-01-05"): [np.nan, 1, 1, 1, 1],
    })
    out = instrument_alpha(data, "WHO5")
    wide = np.array([[1, 2, 2, 1, 2], [2, 3, 3, 2, 3], [3, 3, 4, 3, 3], [4, 5, 5, 4, 4]], dtype=float)
    assert out["instrument"] == "WHO5"
    assert out["alpha"] == pytest.approx(cronbach_alpha(wide)["alpha"])
    assert out["n"] == 4
    everything = instrument_alpha(data, "WHO5", occasion="all")
    assert everything["n"] == 5


def test_vum_code_9_is_missing_not_a_level():
    rows = []
    for person, levels in enumerate([[1, 1, 2], [2, 2, 3], [3, 2, 3], [0, 9, 1], [4, 3, 4]], start=1):
        rows += [{"person_id": person, "assessment_date": pd.Timestamp("2020-01-01"), "instrument": "VUM",
                  "item": d, "score": float(v)} for d, v in zip(["a", "b", "c"], levels)]
    out = instrument_alpha(pd.DataFrame(rows), "VUM")
    assert out["n"] == 4
    complete = np.array([[1, 1, 2], [2, 2, 3], [3, 2, 3], [4, 3, 4]])
    assert out["alpha"] == pytest.approx(cronbach_alpha(complete)["alpha"])


def test_errors_name_the_problem():
    with pytest.raises(DataContractError, match="at least 2 items"):
        cronbach_alpha(np.ones((5, 1)))
    with pytest.raises(DataContractError, match="at least 3 respondents"):
        cronbach_alpha(np.array([[1, 2], [2, 3]]))
    with pytest.raises(DataContractError, match="no variance"):
        cronbach_alpha(np.array([[1, 2], [2, 1], [1, 2]]))
    with pytest.raises(ParameterError, match="cl must be a confidence level"):
        cronbach_alpha(np.eye(3), cl=1.5)
    with pytest.raises(DataContractError, match="no rows"):
        instrument_alpha(who5_long({(1, "2022-01-01"): [1, 2, 3, 4, 5]}), "INSPIRE_O")
