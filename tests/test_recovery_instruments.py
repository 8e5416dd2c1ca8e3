"""Instrument registry and scoring: every scoring rule against hand-computed values, and bad input."""

import numpy as np
import pandas as pd
import pytest

from progression.exceptions import DataContractError, ParameterError
from progression.recovery.instruments import (
    BUILTIN_CONFIGS,
    Instrument,
    flag_cutoffs,
    gas_tscore,
    get_instrument,
    list_instruments,
    recovery_star_stage,
    load_instruments,
    register_instrument,
    score,
)


def long_rows(person, date, instrument, items_scores):
    return [
        {"person_id": person, "assessment_date": pd.Timestamp(date), "instrument": instrument, "item": str(i), "score": s}
        for i, s in items_scores
    ]


def frame(rows):
    df = pd.DataFrame(rows)
    df["person_id"] = df["person_id"].astype("int64")
    df["score"] = df["score"].astype(float)
    return df


def test_who5_raw_and_index_hand_computed():
    # items 3,2,4,1,2 -> raw 12, index 48 (raw < 13: poor well-being; index > 28: not likely depression)
    df = frame(long_rows(1, "2024-01-10", "WHO5", zip("12345", [3, 2, 4, 1, 2])))
    out = flag_cutoffs(score(df, "WHO5"), "WHO5")
    assert out.loc[0, "raw"] == 12 and out.loc[0, "scaled"] == 48
    assert bool(out.loc[0, "in_poor_wellbeing"]) is True
    assert bool(out.loc[0, "in_likely_depression"]) is False


def test_who5_boundary_raw_13_is_not_poor_and_index_28_is_likely_depression():
    df = frame(long_rows(1, "2024-01-10", "WHO5", zip("12345", [3, 3, 3, 2, 2]))  # raw 13
               + long_rows(2, "2024-01-10", "WHO5", zip("12345", [2, 2, 1, 1, 1])))  # raw 7, index 28
    out = flag_cutoffs(score(df, "WHO5"), "WHO5").set_index("person_id")
    assert out.loc[1, "scaled"] == 52 and not out.loc[1, "in_poor_wellbeing"]
    assert out.loc[2, "scaled"] == 28 and out.loc[2, "in_likely_depression"]


def test_inspire_o_mean_times_25():
    # items 4,3,2,3,4 -> mean 3.2 -> 80
    df = frame(long_rows(7, "2023-05-01", "INSPIRE_O", zip("12345", [4, 3, 2, 3, 4])))
    out = flag_cutoffs(score(df, "INSPIRE_O"), "INSPIRE_O")
    assert out.loc[0, "raw"] == pytest.approx(3.2)
    assert out.loc[0, "scaled"] == pytest.approx(80.0)
    assert bool(out.loc[0, "in_personal_recovery"]) is True


def test_qpr15_sum_and_declared_reliability():
    vals = [4, 3, 2, 1, 0] * 3  # sum 30
    df = frame(long_rows(3, "2023-01-01", "QPR15", zip(range(1, 16), vals)))
    out = score(df, "QPR15")
    assert out.loc[0, "raw"] == 30 and out.loc[0, "scaled"] == 30
    ins = get_instrument("QPR15")
    assert ins.reliability_value == 0.89 and "Williams" in ins.reliability["source"]


def test_vum_mean_level_with_code_9_as_missing():
    # domains: 1, 3, 9 (not relevant), 2 -> mean of 1, 3, 2 = 2, three domains answered
    df = frame(long_rows(4, "2024-02-02", "VUM", [("mobility", 1), ("selfcare", 3), ("work", 9), ("social", 2)]))
    out = score(df, "VUM")
    assert out.loc[0, "n_items"] == 3
    assert out.loc[0, "raw"] == pytest.approx(2.0)


def test_recovery_star_sum_and_stages():
    vals = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    df = frame(long_rows(5, "2024-03-03", "RECOVERY_STAR", zip(range(1, 11), vals)))
    assert score(df, "RECOVERY_STAR").loc[0, "raw"] == 55
    stages = recovery_star_stage(pd.Series(vals))
    assert list(stages.astype(str)) == ["stuck"] * 2 + ["accepting_help"] * 2 + ["believing"] * 2 + [
        "learning"
    ] * 2 + ["self_reliance"] * 2
    assert recovery_star_stage(7) == "learning"


def test_gas_tscore_hand_computed():
    # equal weights, 3 goals at +1, rho 0.3: T = 50 + 10*3/sqrt(0.7*3 + 0.3*9) = 50 + 30/sqrt(4.8)
    assert gas_tscore([1, 1, 1]) == pytest.approx(50 + 30 / np.sqrt(4.8))
    # weights 1,2 and x = 2, -1: sum wx = 0 -> T = 50
    assert gas_tscore([2, -1], [1, 2]) == pytest.approx(50.0)
    # weights 3,1, x = 1, 0: 50 + 10*3/sqrt(0.7*10 + 0.3*16) = 50 + 30/sqrt(11.8)
    assert gas_tscore([1, 0], [3, 1]) == pytest.approx(50 + 30 / np.sqrt(11.8))
    # all goals at expected level: T = 50; score() agrees with gas_tscore for equal weights
    df = frame(long_rows(6, "2024-04-04", "GAS", [("goal_a", 1), ("goal_b", 1), ("goal_c", 1)]))
    assert score(df, "GAS").loc[0, "scaled"] == pytest.approx(gas_tscore([1, 1, 1]))


def test_too_few_items_gives_invalid_missing_score():
    df = frame(long_rows(1, "2024-01-10", "WHO5", zip("1234", [3, 2, 4, 1])))
    out = score(df, "WHO5")
    assert not out.loc[0, "valid"] and np.isnan(out.loc[0, "raw"]) and out.loc[0, "n_items"] == 4


def test_prorated_sum_when_min_items_allows():
    cfg = dict(BUILTIN_CONFIGS["QPR15"], name="QPR15_PRORATED", min_items=12)
    df = frame(long_rows(1, "2024-01-10", "QPR15_PRORATED", zip(range(1, 13), [2] * 12)))
    out = score(df, cfg)
    assert out.loc[0, "valid"] and out.loc[0, "raw"] == pytest.approx(30.0)  # mean 2 x 15 items


def test_out_of_range_rows_are_named_not_dropped():
    df = frame(long_rows(11, "2024-01-10", "WHO5", zip("12345", [3, 2, 6, 1, 2])))
    with pytest.raises(DataContractError, match=r"1 row\(s\) have 'score' outside the valid integers range \[0, 5\].*'person_id': 11"):
        score(df, "WHO5")


def test_vum_level_5_rejected_and_non_integer_rejected():
    df = frame(long_rows(1, "2024-01-10", "VUM", [("mobility", 5)]))
    with pytest.raises(DataContractError, match="outside the valid"):
        score(df, "VUM")
    df = frame(long_rows(1, "2024-01-10", "VUM", [("mobility", 1.5)]))
    with pytest.raises(DataContractError, match="outside the valid integers"):
        score(df, "VUM")


def test_unknown_item_duplicate_and_missing_column_errors():
    df = frame(long_rows(1, "2024-01-10", "WHO5", zip("12346", [1, 1, 1, 1, 1])))
    with pytest.raises(DataContractError, match="not among the declared items"):
        score(df, "WHO5")
    df = frame(long_rows(1, "2024-01-10", "WHO5", zip("123455", [1, 1, 1, 1, 1, 1])))
    with pytest.raises(DataContractError, match="repeat a"):
        score(df, "WHO5")
    with pytest.raises(DataContractError, match=r"\['value'\] \(given as \['score_col'\]\).*columns present"):
        score(df, "WHO5", score_col="value")


def test_other_instruments_are_ignored():
    df = frame(long_rows(1, "2024-01-10", "WHO5", zip("12345", [1] * 5)) + long_rows(1, "2024-01-10", "VUM", [("x", 9)]))
    assert len(score(df, "WHO5")) == 1


def test_user_instrument_by_configuration(monkeypatch):
    import progression.recovery.instruments as instruments_module

    monkeypatch.setattr(instruments_module, "_REGISTRY", dict(instruments_module._REGISTRY))
    cfg = {
        "name": "ORS",
        "items": ["individual", "interpersonal", "social", "overall"],
        "item_range": [0, 10],
        "direction": "higher_better",
        "raw": "sum",
        "scaled": "rescale_0_100",
        "integer": False,
        "reliability": {"value": 0.9, "source": "user"},
        "cutoffs": [{"name": "clinical", "value": 25, "scale": "raw", "rule": "lt", "source": "user"}],
    }
    ins = register_instrument(cfg)
    assert isinstance(ins, Instrument) and "ORS" in set(list_instruments()["instrument"])
    df = frame(long_rows(1, "2024-01-10", "ORS", zip(cfg["items"], [5.5, 6, 7, 8])))
    out = score(df, "ORS")
    assert out.loc[0, "raw"] == pytest.approx(26.5) and out.loc[0, "scaled"] == pytest.approx(66.25)
    with pytest.raises(ParameterError, match="already registered"):
        register_instrument(cfg)
    register_instrument(dict(cfg, min_items=3), replace=True)
    assert get_instrument("ORS").min_items == 3


@pytest.mark.parametrize(
    "change, match",
    [
        ({"direction": "up"}, "key 'direction' must be one of"),
        ({"item_range": [5, 0]}, "key 'item_range'"),
        ({"missing_codes": [3]}, "key 'missing_codes'"),
        ({"min_items": 9}, "key 'min_items' = 9 exceeds"),
        ({"reliability": {"value": 1.2, "source": "x"}}, r"key 'reliability.value'"),
        ({"cutoffs": [{"name": "x", "value": 1, "scale": "raw", "rule": "below", "source": "s"}]}, r"cutoffs\[0\].rule"),
        ({"colour": "red"}, r"unknown key\(s\) \['colour'\]"),
    ],
)
def test_bad_config_names_the_key(change, match):
    cfg = dict(BUILTIN_CONFIGS["WHO5"], **change)
    with pytest.raises(ParameterError, match=match):
        Instrument.from_config(cfg)


def test_missing_required_key_named():
    cfg = {k: v for k, v in BUILTIN_CONFIGS["WHO5"].items() if k != "raw"}
    with pytest.raises(ParameterError, match=r"required key\(s\) \['raw'\] missing"):
        Instrument.from_config(cfg)


def test_gas_bad_input():
    with pytest.raises(ParameterError, match="attainment values"):
        gas_tscore([3])
    with pytest.raises(ParameterError, match="weights must"):
        gas_tscore([1, 1], [1])


def test_load_instrument_from_yaml(tmp_path, monkeypatch):
    import progression.recovery.instruments as instruments_module

    monkeypatch.setattr(instruments_module, "_REGISTRY", dict(instruments_module._REGISTRY))
    path = tmp_path / "mine.yaml"
    path.write_text(
        "name: SRS\n"
        "items: [1, 2, 3, 4]\n"
        "item_range: [0, 10]\n"
        "direction: higher_better\n"
        "raw: sum\n"
        "scaled: none\n"
        "integer: false\n",
        encoding="utf-8",
    )
    (ins,) = load_instruments(path)
    assert ins.items == ("1", "2", "3", "4") and get_instrument("SRS") is ins
    df = frame(long_rows(1, "2024-01-10", "SRS", zip(range(1, 5), [9.5, 9, 8, 7])))
    assert score(df, "SRS").loc[0, "raw"] == pytest.approx(33.5)
    path.write_text("name: BAD\nitem_range: [0, 10]\ndirection: sideways\nraw: sum\nscaled: none\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="instrument 'BAD': key 'direction'"):
        load_instruments(path)


def test_string_dates_are_parsed():
    df = frame(long_rows(1, "2024-01-10", "WHO5", zip("12345", [1] * 5)))
    df["assessment_date"] = "2024-01-10"
    assert score(df, "WHO5")["assessment_date"].dtype.kind == "M"
