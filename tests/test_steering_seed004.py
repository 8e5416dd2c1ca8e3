"""Finansministeriet (2009), section 2: the keyed tables, and their reproduction within the rounding.

Reference: Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), *Det specialiserede
socialområde – redskaber til styring og prioritering*, Tabel 2.1–2.9. The keyed copy is checked number
by number against the project's text of the report when it is present (``../shared/seeds``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from progression.steering import (
    check_sums,
    implied_populations,
    load_seed004_tables,
    reproduce_growth,
    reproduce_weighted_means,
    seed004_decomposition,
    seed004_wide,
)

#: the project's text of the report: ``shared/seeds`` beside the checkout (or beside its folder of worktrees)
SEED_TEXT = next((p / "shared" / "seeds" / "004_103052e59210cb0d.txt" for p in Path(__file__).resolve().parents[1:4]
                  if (p / "shared" / "seeds").is_dir()), Path("shared/seeds/004_103052e59210cb0d.txt"))
#: position of each measure and period among the numbers of a table line
COLUMNS = {
    **{("spending_bn", str(y)): i for i, y in enumerate(range(2004, 2009))}, ("average_growth_bn", "2004-2008"): 5,
    ("spending_bn", "2009"): 6,
    **{("per_capita_dkk", str(y)): i for i, y in enumerate(range(2004, 2009))}, ("growth_rate_pct", "2004-2008"): 5,
    ("refusion_mdkk", "2008"): 0, ("refusion_share_pct", "2008"): 1, ("refusion_mdkk", "2009"): 2,
    ("refusion_share_pct", "2009"): 3,
    **{("recipients", str(y)): i for i, y in enumerate(range(2004, 2008))},
    **{("per_1000", str(y)): i for i, y in enumerate(range(2004, 2008))},
}


@pytest.fixture(scope="module")
def tables() -> pd.DataFrame:
    return load_seed004_tables()


def _numbers(line: str) -> list[float | None]:
    cells = re.sub(r"<sup>.*?</sup>", "", re.sub(r"</?b>", "", line)).split("\t")[1:]
    out = []
    for cell in (c.strip() for c in cells):
        if not cell:
            continue
        out.append(None if cell.strip("- ") == "" else float(cell.replace(".", "").replace(",", ".")))
    return out


def test_every_keyed_number_is_on_its_line_of_the_report(tables):
    if not SEED_TEXT.is_file():
        pytest.skip("the text of the report (../shared/seeds) is not present")
    lines = SEED_TEXT.read_text(encoding="utf-8").splitlines()
    for row in tables.itertuples():
        found = _numbers(lines[row.line - 1])
        assert found[COLUMNS[row.measure, row.period]] == pytest.approx(row.value), (row.table, row.item, row.period)


def test_the_fixture_holds_the_nine_tables(tables):
    counts = tables.groupby("table").size().to_dict()
    assert counts == {"2.1": 21, "2.2": 42, "2.3": 20, "2.4": 24, "2.5": 22, "2.6": 49, "2.7": 24, "2.8": 42, "2.9": 38}
    assert set(tables.loc[tables["basis"] == "B", "period"]) == {"2009"}
    assert seed004_wide(tables, "2.8", "per_capita_dkk").loc["i_alt", 2008] == 7776


def test_growth_columns_are_reproduced_within_the_rounding(tables):
    growth = reproduce_growth(tables)
    assert len(growth) == 27
    assert growth["within_tolerance"].all()
    assert growth["consistent"].all()
    bn = growth[growth["measure"] == "average_growth_bn"]
    assert bn["difference"].abs().max() <= 0.05 + 1e-9
    rows = growth.set_index(["table", "item"])
    # the checks of the notes: total (41.5 − 37.4)/4 = 1.025 → 1.0; 9105/8433 → 1.94 %; 499 → 606 → 4.98 %
    assert rows.loc[("2.1", "i_alt"), "recomputed"] == pytest.approx(1.025)
    assert rows.loc[("2.4", "i_alt"), "recomputed"] == pytest.approx(1.94, abs=0.005)
    assert rows.loc[("2.4", "saerlige_dag_klubtilbud"), "recomputed"] == pytest.approx(4.98, abs=0.005)
    # the two rows the report rounded from unrounded data: within 0.1 pp, not within 0.05
    assert rows.loc[("2.8", "raadgivning"), "difference"] == pytest.approx(-0.08, abs=0.005)
    assert rows.loc[("2.8", "misbrugs_alkoholbehandling"), "difference"] == pytest.approx(0.09, abs=0.005)


def test_items_add_up_to_totals_and_table_2_1_repeats_2_2_and_2_6(tables):
    sums = check_sums(tables)
    assert sums["within"].all()
    repeated = sums[sums["check"] == "same total in two tables"]
    assert len(repeated) == 14 and (repeated["difference"] == 0).all()
    row = sums[(sums["table"] == "2.2") & (sums["item"] == "i_alt") & (sums["period"] == "2004")
               & (sums["measure"] == "spending_bn")]
    assert row["recomputed"].item() == pytest.approx(12.5)  # 0.7 + 3.1 + 8.7 against 12.6


def test_implied_populations(tables):
    pops = implied_populations(tables).set_index(["area", "source", "year", "item"])
    # the notes' derived populations: 0-22 1.494 m (2004) and 1.538 m (2008); 18-66 3.500 and 3.537 m
    for key, value in {("children", 2004): 1.494e6, ("children", 2008): 1.538e6, ("adults", 2004): 3.500e6,
                       ("adults", 2008): 3.537e6}.items():
        assert pops.loc[(key[0], "spending", key[1], "i_alt"), "population"] == pytest.approx(value, rel=6e-4)
    # counts ÷ rates: 0-22 on 1 January 2005 from placements 1.489 m; 18-66 about 3.49-3.50 m
    assert pops.loc[("children", "recipients", 2004, "anbringelser"), "population"] == pytest.approx(1.489e6, rel=5e-4)
    adults = pops.xs(("adults", "recipients"), level=["area", "source"])
    assert adults["population"].between(3.49e6, 3.52e6).all()
    combined = pops.xs("combined", level="item")
    assert combined.xs("spending", level="source")["consistent"].all()
    # the two sources agree to within a percent (different dates: mean population against 1 January after)
    for area in ("children", "adults"):
        for year in (2004, 2005, 2006, 2007):
            a = combined.loc[(area, "spending", year), "population"]
            b = combined.loc[(area, "recipients", year), "population"]
            assert a == pytest.approx(b, rel=0.01)


def test_national_means_are_population_weighted(tables):
    means = reproduce_weighted_means(tables).set_index(["area", "year"])
    assert means["within"].all()
    assert means.loc[("children", 2008), "published"] == 9105
    assert means.loc[("adults", 2008), "published"] == 7776
    assert means.loc[("children", 2008), "sum_of_items"] == 9105
    assert means.loc[("adults", 2008), "sum_of_items"] == 7777  # the rounding note of Tabel 2.8
    assert means["relative_difference"].abs().max() < 0.006
    assert means.loc[("adults", 2008), "recomputed"] == pytest.approx(7776, abs=5)


def test_decomposition_of_the_published_growth(tables):
    parts = seed004_decomposition(tables).set_index(["area", "item"])
    sums = parts[["demography", "per_capita", "coverage", "unit_cost"]].sum(axis=1, min_count=1)
    assert (sums - parts["change"]).abs().max() < 1e-9
    # the report's words: demography explains part of the children's growth, little of the adults'
    children, adults = parts.loc[("children", "i_alt")], parts.loc[("adults", "i_alt")]
    assert children["change"] == pytest.approx(1.4)
    assert 0.2 < children["demography"] / children["change"] < 0.35
    assert adults["demography"] / adults["change"] < 0.15
    placements = parts.loc[("children", "anbringelser")]
    assert placements["demography"] > 0 and placements["coverage"] > 0 and placements["unit_cost"] < 0
