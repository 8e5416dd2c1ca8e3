"""The step map: order, sub-levels, side services, unknown values and move categories."""

import pandas as pd
import pytest

from progression.config import StaircaseParams, Step
from progression.exceptions import DataContractError, ParameterError
from progression.staircase import Staircase, as_staircase


@pytest.fixture
def default():
    return Staircase.from_params()


def test_default_order_follows_seed_002(default):
    assert default.steps == ("none", "SEL82", "SEL85", "SEL107", "ABL105", "SEL108")
    assert default.levels == (0, 1, 2, 3, 4, 5)
    assert default.none_step == "none"
    assert default.step_of("SEL82b") == "SEL82"
    assert default.step_of("ABL105") == "ABL105"


def test_side_services_are_known_but_on_no_step(default):
    assert default.step_of("SEL103") is None
    assert {"SEL103", "SEL104", "SEL97"} <= default.side_services
    default.check_paragraphs(["SEL85", "SEL103"])  # no error


def test_unknown_paragraph_is_named_with_its_count(default):
    with pytest.raises(DataContractError, match=r"'SEL999' \(7 rows\)"):
        default.check_paragraphs(["SEL85", "SEL999"], counts={"SEL999": 7, "SEL85": 3})


def test_unknown_step_is_named(default):
    with pytest.raises(ParameterError, match="'SEL86'.*not steps"):
        default.level_of("SEL86")


def test_sub_levels_order_local_intermediate_steps():
    params = StaircaseParams(steps=[
        Step(name="none", level=0),
        Step(name="SEL85", level=2, paragraphs=["SEL85"]),
        Step(name="SEL85_24h", level=2.5, paragraphs=["SEL85x"]),
        Step(name="SEL108", level=5, paragraphs=["SEL108"]),
    ])
    stairs = Staircase.from_params(params)
    assert stairs.steps == ("none", "SEL85", "SEL85_24h", "SEL108")
    assert list(stairs.dtype.categories) == list(stairs.steps) and stairs.dtype.ordered
    assert stairs.step_of("SEL85x") == "SEL85_24h"
    # paragraphs of the contract that this staircase leaves out become side services
    assert "SEL82a" in stairs.side_services
    assert stairs.move_category("SEL85_24h", "SEL85") == "lower"


def test_steps_given_out_of_order_are_sorted_by_level():
    params = StaircaseParams(steps=[
        Step(name="SEL108", level=5, paragraphs=["SEL108"]),
        Step(name="none", level=0),
        Step(name="SEL85", level=2, paragraphs=["SEL85"]),
    ])
    assert as_staircase(params).steps == ("none", "SEL85", "SEL108")


def test_move_categories(default):
    assert default.move_category("SEL85", "none") == "none"
    assert default.move_category("SEL85", "SEL82") == "lower"
    assert default.move_category("SEL85", "SEL85") == "same"
    assert default.move_category("SEL85", "SEL108") == "higher"
    assert default.move_category("SEL85", "died") == "died"


def test_tables_and_labels(default):
    table = default.step_table()
    assert list(table.columns) == ["step", "level", "label_en", "label_da", "paragraphs"]
    assert table.loc[table.step == "SEL82", "paragraphs"].item() == "SEL82a, SEL82b, SEL82c, SEL82d"
    assert default.labels("da")["SEL108"] == "længerevarende botilbud (§108)"
    paragraphs = default.paragraph_table()
    assert set(paragraphs.paragraph) == set(default.paragraphs)
    assert isinstance(paragraphs, pd.DataFrame)


def test_side_service_cannot_also_be_on_a_step():
    with pytest.raises(ParameterError, match="SEL85"):
        Staircase.from_params(side_services=["SEL85"])


def test_as_staircase_rejects_other_types():
    with pytest.raises(TypeError, match="staircase must be"):
        as_staircase({"steps": []})
