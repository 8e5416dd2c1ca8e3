"""The notebook-level steps of progression.analyses.progression (and the estimators they call) on a small
synthetic Denmark: what they compute and the disclosure declarations they carry."""

import numpy as np
import pandas as pd
import pytest

from progression.config import load_params
from progression.analyses import progression as an
from progression.disclosure import declaration_of, mark_disclosed, suppress
from progression.exceptions import DisclosureError, ParameterError
from progression.recovery import (
    InstrumentTrajectories,
    bootstrap_shares,
    cutoff_value,
    municipality_comparison,
    reliability_table,
    trajectory_frame,
)
from progression.staircase import Staircase

INSTRUMENTS = ["VUM", "WHO5", "INSPIRE_O", "QPR15"]


@pytest.fixture(scope="module")
def data():
    from progression.sources.synthetic import generate

    params = load_params(__import__("pathlib").Path(__file__).resolve().parents[1] / "params" / "ci.yaml")
    synthetic = generate(params.data.synthetic.model_copy(update={"scale": 0.03}), params.staircase, seed=7)
    t = synthetic.tables
    return t["assessments"], t["persons"], t["spells"], Staircase.from_params(params.staircase)


@pytest.fixture(scope="module")
def changes(data):
    assessments, persons, spells, stairs = data
    reliability = an.reliability(assessments, INSTRUMENTS, prefer="declared")
    change = an.reliable_change(assessments, reliability, cutoffs={"WHO5": "poor_wellbeing"})
    return an.changes_in_context(change, persons, spells, staircase=stairs), change, reliability


def test_cutoffs_move_between_scales():
    assert cutoff_value("WHO5", "poor_wellbeing") == 52.0  # raw 13 x 4
    assert cutoff_value("WHO5", "poor_wellbeing", scale="raw") == 13.0
    assert cutoff_value("INSPIRE_O", "personal_recovery", scale="raw") == pytest.approx(2.0)  # 50 / 25


def test_reliability_prefers_declared_values_only_when_asked(data):
    assessments = data[0]
    declared = reliability_table(assessments, ["QPR15", "WHO5"], prefer="declared").set_index("instrument")
    assert declared.loc["QPR15", "reliability"] == 0.89 and declared.loc["QPR15", "source"].startswith("declared")
    assert declared.loc["WHO5", "reliability"] == declared.loc["WHO5", "alpha"]
    alpha = reliability_table(assessments, ["QPR15"], prefer="alpha").set_index("instrument")
    assert alpha.loc["QPR15", "reliability"] == alpha.loc["QPR15", "alpha"] != 0.89
    with pytest.raises(ParameterError, match="prefer"):
        reliability_table(assessments, ["QPR15"], prefer="mean")


def test_change_table_uses_every_baseline_for_the_sd(changes):
    table, change, _ = changes
    par = change.summary().set_index("instrument")
    assert (par["n_baseline"] > par["n_paired"]).all()
    # threshold = 1.96 sqrt(2) s_pre sqrt(1 - r)
    np.testing.assert_allclose(par["threshold"], 1.96 * np.sqrt(2) * par["sd_pre"] * np.sqrt(1 - par["reliability"]))
    assert set(table["move"].dropna()) <= {"down", "same", "up"}
    assert table["municipality"].notna().all() and (table["year"] >= 2014).all()


def test_shares_add_up_and_small_groups_lose_their_statistics(changes):
    table = changes[0]
    shares = an.shares_by(table, ["target_group", "step"], min_group_size=5)
    sums = shares.groupby(["instrument", "grouping", "group"])["count"].sum()
    n = shares.groupby(["instrument", "grouping", "group"])["n"].first()
    pd.testing.assert_series_equal(sums, n, check_names=False)
    small = shares[shares["n"] < 5]
    assert small["share"].isna().all() and shares.loc[shares["n"] >= 5, "share"].notna().all()
    overall = shares[shares["grouping"] == "all"].set_index(["instrument", "change_class"])["share"]
    direct = table.groupby("instrument")["change_class"].value_counts(normalize=True)
    assert overall[("WHO5", "progression")] == pytest.approx(direct[("WHO5", "progression")])


def test_municipalities_are_shrunk_toward_their_target_group(changes):
    table = changes[0]
    out = municipality_comparison(table, min_group_size=1)
    for (_, _), g in out.groupby(["instrument", "target_group"]):
        assert g["target"].iloc[0] == pytest.approx(g["count"].sum() / g["n"].sum())
        assert g["n_target"].iloc[0] == g["n"].sum()
        raw, shrunk, target = g["share"], g["shrunk_share"], g["target"]
        # pulled from the raw share toward the prior mean, which lies near the pooled share
        low, high = np.minimum(raw, target) - 0.01, np.maximum(raw, target) + 0.01
        assert shrunk.between(low, high).all() and np.ptp(shrunk) <= np.ptp(raw)
    summary = an.municipality_summary(mark_disclosed(out.drop(columns="suppress"), "municipalities"))
    assert (summary["shown"] <= summary["municipalities"]).all()
    assert (summary["shown"] + summary["hidden"] == summary["municipalities"]).all()


def test_bootstrap_point_estimates_match_the_classification(changes, data):
    table, change, reliability = changes
    boot = an.bootstrap(data[0], table, change, reliability, n_boot=30, seed=3)
    again = an.bootstrap(data[0], table, change, reliability, n_boot=30, seed=3)
    pd.testing.assert_frame_equal(boot, again)
    wilson = an.shares_by(table, ["target_group"], min_group_size=5)
    merged = boot.merge(wilson, on=["instrument", "grouping", "group", "change_class"], suffixes=("", "_w"))
    shown = merged.dropna(subset=["rci_share"])
    np.testing.assert_allclose(shown["rci_share"], shown["share"])
    assert (shown["count"] == shown["count_w"]).all()
    ok = shown.dropna(subset=["rci_conf_low"])
    assert ((ok["rci_conf_low"] <= ok["rci_share"] + 1e-12) & (ok["rci_share"] <= ok["rci_conf_high"] + 1e-12)).all()


def test_clinical_recovery_only_from_below_the_cutoff(changes):
    table, change, _ = changes
    clinical = an.clinical(table, change).set_index("clinical_status")
    assert list(clinical["instrument"].unique()) == ["WHO5"]
    assert clinical["count"].sum() == clinical["n"].iloc[0]
    assert clinical.loc["recovered", "count"] == clinical.loc["recovered", "count_below"]


def test_step_moves_and_move_classes(changes):
    table = changes[0]
    moves = an.step_moves(table, min_group_size=5)
    vum = moves[moves["instrument"] == "VUM"].set_index("move")
    assert vum.loc["same", "effect"] == 0 and np.isfinite(vum["baseline_slope"]).all()
    assert vum.loc[vum["n"] < 5, "effect"].isna().all()
    counts = an.move_classes(table)
    per_move = counts.groupby(["instrument", "move"], observed=True)["count"].sum()
    assert (per_move == counts.groupby(["instrument", "move"], observed=True)["n"].first()).all()


def test_trajectory_frame_nests_citizens_in_one_municipality(data):
    assessments, persons, spells, stairs = data
    frame = trajectory_frame(assessments, "WHO5", persons, spells, staircase=stairs, max_years=5, max_persons=50)
    assert frame["person_id"].nunique() == 50
    assert frame.groupby("person_id")["municipality"].nunique().eq(1).all()
    assert frame["years"].between(0, 5).all()
    fits = InstrumentTrajectories(instruments=["WHO5"], max_years=5).fit(assessments, persons, spells, staircase=stairs)
    assert set(fits.summary()["kind"]) == {"fixed", "variance"}
    observed = fits.observed_means(min_group_size=5)
    assert observed.loc[observed["n"] < 5, "estimate"].isna().all()


# --- what the steps declare -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def step_tables(data, changes):
    assessments, persons, spells, stairs = data
    table, change, reliability = changes
    moves = an.domain_moves(assessments)
    fits = an.trajectories(assessments, persons, spells, instruments=["WHO5"], staircase=stairs, max_years=5,
                           max_persons=200)
    return {
        "reliability": reliability, "pairing": an.pairing(change), "histogram": an.rci_histogram(table),
        "clinical": an.clinical(table, change), "shares": an.shares_by(table, ["target_group"]),
        "means": an.mean_change_by(table, ["target_group"]),
        "bootstrap": an.bootstrap(assessments, table, change, reliability, n_boot=20, seed=1),
        "municipalities": an.municipalities(table), "domains": an.vum_domains(moves),
        "domain_summary": an.vum_domain_summary(moves, persons), "coefficients": an.trajectory_coefficients(fits),
        "trajectory_means": an.trajectory_means(fits), "observed": an.trajectory_observed(fits),
        "step_moves": an.step_moves(table), "move_classes": an.move_classes(table),
    }


def test_every_step_table_carries_a_declaration_that_covers_it(step_tables):
    for name, table in step_tables.items():
        assert declaration_of(table) is not None, name
        suppress(table, table_name=name, min_cell_size=5)  # refuses a numeric column left undeclared


def test_a_shrunk_share_is_hidden_with_its_count(step_tables):
    safe, _ = suppress(step_tables["municipalities"], table_name="m", min_cell_size=5)
    hidden = safe["count"].isna()
    assert hidden.any()
    assert safe.loc[hidden, ["share", "shrunk_share", "shrunk_conf_low", "shrunk_conf_high"]].isna().all().all()


def test_key_numbers_carry_the_counts_their_statistics_rest_on(step_tables):
    disclosed = {k: mark_disclosed(suppress(t, table_name=k, min_cell_size=5)[0], k) for k, t in step_tables.items()}
    key = an.key_numbers(disclosed["pairing"], disclosed["shares"], disclosed["reliability"],
                         disclosed["coefficients"], disclosed["step_moves"])
    decl = declaration_of(key)
    assert {"n_paired_WHO5", "share_progression_WHO5", "alpha_WHO5", "slope_per_year_WHO5"} <= set(key)
    assert decl.stats["alpha_WHO5"] == ("n_alpha_WHO5",) and decl.stats["slope_per_year_WHO5"] == ("n_trajectory_WHO5",)
    assert all(base in key for bases in decl.stats.values() for base in bases)
    assert set(key) == decl.declared()


def test_report_phrases_take_disclosed_tables_only(step_tables):
    with pytest.raises(DisclosureError, match="passed disclosure control"):
        an.phrases(step_tables["reliability"], "progression_alpha_item")
    disclosed = mark_disclosed(suppress(step_tables["reliability"], table_name="r", min_cell_size=5)[0], "r")
    text = an.phrases(disclosed, "progression_alpha_item", instrument=["WHO5", "INSPIRE_O"])
    assert text.startswith("WHO-5 α = 0.") and "; Brief INSPIRE-O α = 0." in text  # instruments by their names


def test_bootstrap_estimator_is_tidy(data, changes):
    table, change, _ = changes
    long = bootstrap_shares(data[0], table, change.summary(), n_boot=20, seed=2)
    assert set(long["method"]) == {"rci", "latent"}
    assert list(long.columns[-4:]) == ["estimate", "std_error", "conf_low", "conf_high"]
    assert (long["std_error"].dropna() >= 0).all()


def test_reliable_change_follows_the_fitter_contract(data):
    from progression.exceptions import NotFittedError
    from progression.recovery import ReliableChange

    rc = ReliableChange()
    with pytest.raises(NotFittedError, match="call fit"):
        rc.summary()
    assert rc.fit(data[0], {"QPR15": 0.89}) is rc
    summary = rc.summary()
    summary.loc[0, "n_paired"] = -1
    assert rc.summary().loc[0, "n_paired"] == len(rc.changes_)  # summary() returns a copy
