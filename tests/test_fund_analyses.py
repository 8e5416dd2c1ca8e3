"""Steps of notebook 40 that need no trial emulation: disclosure of the SØM potentials, the INDIGO folder."""

import pandas as pd

from progression.analyses import fund as fa
from progression.config import DominanceParams
from progression.disclosure import declare, suppress


def potential_table():
    """Two potentials, costs of two payers over two years; one cell of the first is dominated by two persons."""
    rows = [(kind, year, payer) for kind in ("employment", "botilbud") for year in (0, 1) for payer in ("kommune", "stat")]
    table = pd.DataFrame(rows, columns=["potential", "rel_year", "payer"]).assign(
        area="social services", mean_cost_success=100.0, mean_cost_failure=[300.0, 60.0, 250.0, 40.0] * 2,
        dominance_success=0.1, dominance_failure=0.1, n_success=500, n_failure=800)
    table["potential_dkk"] = table["mean_cost_failure"] - table["mean_cost_success"]
    table.loc[1, "dominance_failure"] = 0.95                     # employment, year 0, stat
    return table


def test_a_dominated_cost_is_hidden_with_a_complementary_cell_of_the_same_payer():
    table = fa._complementary_dominance(potential_table(), DominanceParams())
    table = declare(table.assign(n_smaller_group=500), counts=["n_success", "n_failure", "n_smaller_group"],
                    labels=["rel_year"],
                    magnitudes={"mean_cost_success": "dominance_success", "mean_cost_failure": "dominance_failure"},
                    magnitude_counts={"mean_cost_success": "n_success", "mean_cost_failure": "n_failure"},
                    stats={"potential_dkk": ["n_smaller_group", "mean_cost_success", "mean_cost_failure"]})
    out, report = suppress(table, table_name="potentials", min_cell_size=5)
    hidden = out[out["potential_dkk"].isna()]
    assert list(zip(hidden["potential"], hidden["rel_year"], hidden["payer"])) == [
        ("employment", 0, "stat"), ("employment", 1, "stat")]   # both stat cells: the stat total keeps both hidden
    assert "dominance_failure" not in out.columns and report.dominance >= 2
    assert out.loc[out["potential"] == "botilbud", "potential_dkk"].notna().all()
    assert fa._complementary_dominance(potential_table(), None).equals(potential_table())


def test_the_indigo_folder_is_none_when_absent_and_says_where_it_looked(tmp_path):
    params = tmp_path / "params.yaml"
    assert fa.indigo_folder("missing/indigo", params_file=params) is None
    assert str(tmp_path / "missing" / "indigo") in fa.indigo_absent("missing/indigo", params_file=params)
