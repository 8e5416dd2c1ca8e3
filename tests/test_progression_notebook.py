"""Notebook 10_progression on the ci chain run: files, disclosure, and recovery of the synthetic truth.

At ci scale (0.05) the intervals are wide, so the truth checks here are the ones the small sample
supports: all-citizen shares and mean change, the sign of the VUM trajectory and of the staircase
effects. tests/test_recovery_truth.py checks recovery by target group and of the slopes at scale 0.2.
"""

import json

import pandas as pd
import pytest

from progression.config import load_params

pytestmark = pytest.mark.notebooks

TABLES = ["reliability", "pairing", "clinical", "shares_by_group", "shares_target_group", "mean_change_by_group",
          "mean_change_target_group", "shares_bootstrap", "municipalities", "municipality_summary", "vum_domains",
          "vum_domain_summary", "trajectories", "vum_ordinal", "step_moves", "move_classes", "truth"]
FIGURES = ["rci_distribution", "shares", "funnel", "trajectories", "step_moves", "truth"]
SURVEYS = ["WHO5", "INSPIRE_O", "QPR15"]


def result(run, name):
    return pd.read_csv(run / "results" / f"progression_{name}.csv")


@pytest.fixture(scope="module")
def run(ci_run):
    return ci_run


@pytest.fixture(scope="module")
def min_cell(run):
    return load_params(run / "params.yaml").disclosure.min_cell_size


def test_results_figures_and_report_items_exist(run):
    for name in TABLES:
        assert (run / "results" / f"progression_{name}.csv").is_file(), name
    for name in FIGURES:
        assert (run / "figures" / f"progression_{name}.png").is_file(), name
    key = json.loads((run / "results" / "progression_key_numbers.json").read_text())
    assert {"n_paired_VUM", "slope_per_year_VUM", "alpha_WHO5", "alpha_INSPIRE_O"} <= set(key)
    items = [i for i in json.loads((run / "report_items.json").read_text()) if i["section"] == "10_progression"]
    assert {i["kind"] for i in items} == {"table", "figure", "numbers", "text"}
    assert any("Cronbach's alpha" in i["caption"] for i in items if i["kind"] == "text")


def test_counts_respect_the_minimum_cell_size(run, min_cell):
    for name in TABLES:
        df = result(run, name)
        counts = [c for c in df.columns if c == "count" or c.startswith(("n_", "count_")) or c == "n"]
        for col in counts:
            values = df[col].dropna()
            assert ((values == 0) | (values >= min_cell)).all(), f"{name}.{col}"


def test_statistics_of_small_or_hidden_cells_are_missing(run, min_cell):
    shares = result(run, "shares_by_group")
    assert shares.loc[shares["count"].isna(), ["share", "conf_low", "conf_high"]].isna().all().all()
    assert shares["share"].isna().any()  # ci groups are small: something was hidden
    means = result(run, "mean_change_by_group")
    assert means.loc[means["n"].isna(), ["estimate", "conf_low", "conf_high"]].isna().all().all()
    municipalities = result(run, "municipalities")
    assert municipalities.loc[municipalities["count"].isna(), "share"].isna().all()


def test_reliability_is_estimated_for_instruments_without_one(run):
    rel = result(run, "reliability").set_index("instrument")
    for instrument in ("WHO5", "INSPIRE_O"):
        assert rel.loc[instrument, "source"].startswith("Cronbach")
        assert rel.loc[instrument, "conf_low"] < rel.loc[instrument, "alpha"] < rel.loc[instrument, "conf_high"]


def test_all_citizen_estimates_recover_the_truth(run):
    """Shares with reliable change and latent shares (surveys) and mean change (all instruments) cover truth.json.

    The truth's reliable-change shares use the reliability realised in the sample, itself noisy at ci
    scale, so at least 80 % of the 18 survey share intervals must cover (nominal 95 %; four or more
    misses out of 18 would have probability about 0.01 if they were independent); every mean-change
    interval must. VUM shares are left out: alpha is a lower bound of the reliability of unequally
    loading domains, so the VUM threshold is conservative (see tests/test_recovery_truth.py).
    """
    truth = result(run, "truth")
    overall = truth[truth["group"] == "all"].dropna(subset=["estimate"])
    covered = overall["covered"].astype(bool)
    shares = overall["quantity"].isin(["rci_share", "latent_share"]) & overall["instrument"].isin(SURVEYS)
    assert shares.sum() == 18
    assert covered[shares].mean() >= 0.8, overall[shares & ~covered]
    means = overall["quantity"] == "mean_change"
    assert means.sum() == 4 and covered[means].all(), overall[means]


def test_vum_trajectory_and_step_effects_follow_the_generator(run, ci_run):
    """The generator lets functioning recover after service start (a positive recovery potential) and
    makes higher steps go with more limitation: VUM levels fall over time, and moving up the staircase
    goes with worse follow-up levels than staying, moving down with better ones."""
    latent = json.loads((ci_run / "data" / "truth.json").read_text())["assessments"]["latent"]
    traj = result(run, "trajectories")
    slope = traj[(traj["instrument"] == "VUM") & (traj["term"] == "years")].iloc[0]
    assert latent["recovery_mean"] > 0 and slope["conf_high"] < 0
    steps = latent["step_effect"]
    assert steps["SEL108"] > steps["SEL85"] > steps["SEL82"]
    moves = result(run, "step_moves").set_index(["instrument", "move"])
    assert moves.loc[("VUM", "up"), "effect_conf_low"] > 0
    assert moves.loc[("VUM", "down"), "effect"] < 0


def test_same_parameters_give_the_same_numbers(run, tmp_path):
    """Rerunning the notebook in a copy of the run gives byte-identical results."""
    import shutil

    from progression.chain.runner import run_chain

    copy = tmp_path / "run"
    shutil.copytree(run, copy, symlinks=True)
    params = copy / "params.yaml"
    run_chain(params, only="10_progression", run_dir=copy, progress=False)
    for path in sorted((run / "results").glob("progression_*")):
        assert path.read_bytes() == (copy / "results" / path.name).read_bytes(), path.name
