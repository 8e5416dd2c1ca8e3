"""Change per citizen: pairing rules, Jacobson-Truax reliable change, classification and VUM moves."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from progression.exceptions import ParameterError
from progression.recovery.change import (
    change_per_citizen,
    classify_change,
    clinical_significance,
    jacobson_truax_cutoffs,
    pair_assessments,
    reliable_change,
    reliable_change_threshold,
)
from progression.recovery.domains import recovery_star_transitions, vum_domain_moves, vum_domain_summary


def who5_rows(person, date, raw):
    """Five WHO-5 items adding up to ``raw`` (0-25)."""
    items = [min(5, max(0, raw - 5 * i)) for i in range(5)]
    items = sorted(items, reverse=True)
    return [
        {"person_id": person, "assessment_date": pd.Timestamp(date), "instrument": "WHO5", "item": str(i + 1), "score": float(s)}
        for i, s in enumerate(items)
    ]


def test_reliable_change_jacobson_truax_text_example():
    """Jacobson & Truax (1991), J Consult Clin Psychol 59:12-19, worked example in the text.

    Values as we recall them from the paper's illustration: pretest 32, posttest 53, s_1 = 7.5,
    r_xx = .80, giving SE = 3.35, S_diff = 4.74 and RC = 4.43. We could not open the paper here to
    verify the figures, so the expected values below are also hand-computed from the formulas:
    SE = 7.5 * sqrt(0.2) = 3.3541, S_diff = sqrt(2) * SE = 4.7434, RC = 21 / 4.7434 = 4.4272.
    """
    rc = reliable_change([32.0], [53.0], sd_pre=7.5, reliability=0.80)
    assert rc[0] == pytest.approx(4.43, abs=0.005)
    assert rc[0] == pytest.approx(21 / (np.sqrt(2) * 7.5 * np.sqrt(0.2)), rel=1e-12)
    assert reliable_change_threshold(sd_pre=7.5, reliability=0.80) == pytest.approx(1.96 * 4.7434, abs=1e-3)


def test_cutoffs_jacobson_truax_hypothetical_distributions():
    """Jacobson & Truax (1991) illustrate the cut-offs with a dysfunctional mean of 40, functional mean
    of 60 and both SDs 7.5 (the same values are used as "Example from Jacobson et al. (1991)" in the
    tests of the R package clinicalsignificance). Hand-computed: a = 40 + 2*7.5 = 55,
    b = 60 - 2*7.5 = 45, c = (7.5*40 + 7.5*60)/15 = 50."""
    cut = jacobson_truax_cutoffs(mean_dys=40, sd_dys=7.5, mean_func=60, sd_func=7.5)
    assert cut == pytest.approx({"a": 55.0, "b": 45.0, "c": 50.0})
    # lower-is-better mirror: dysfunctional 60, functional 40
    low = jacobson_truax_cutoffs(mean_dys=60, sd_dys=7.5, mean_func=40, sd_func=7.5, direction="lower_better")
    assert low == pytest.approx({"a": 45.0, "b": 55.0, "c": 50.0})
    # unequal SDs: c = (5*40 + 10*60)/15 = 53.333
    assert jacobson_truax_cutoffs(mean_dys=40, sd_dys=10, mean_func=60, sd_func=5)["c"] == pytest.approx(160 / 3)
    with pytest.raises(ParameterError, match="better side"):
        jacobson_truax_cutoffs(mean_dys=60, sd_dys=7.5, mean_func=40, sd_func=7.5)


def test_classification_respects_direction():
    rci = pd.Series([3.0, -3.0, 1.0, np.nan])
    up = classify_change(rci, direction="higher_better")
    down = classify_change(rci, direction="lower_better")
    assert list(up.astype(object)) == ["progression", "degression", "maintenance", np.nan]
    assert list(down.astype(object)) == ["degression", "progression", "maintenance", np.nan]


def test_clinical_significance_recovered_needs_crossing():
    pre = pd.Series([32.0, 32.0, 45.0, 52.0])
    post = pd.Series([53.0, 45.0, 30.0, 53.0])
    rci = reliable_change(pre, post, sd_pre=7.5, reliability=0.8)
    status = clinical_significance(pre, post, rci, cutoff=50.0)
    assert list(status.astype(str)) == ["recovered", "improved", "deteriorated", "unchanged"]


def test_pairing_window_rules():
    rows = [
        (1, "2020-01-01"), (1, "2020-06-01"), (1, "2020-12-15"), (1, "2021-02-20"),  # follow-up 2020-12-15
        (2, "2020-01-01"), (2, "2020-06-01"),  # nothing near 12 months
        (3, "2020-01-01"), (3, "2021-04-06"),  # 95 days past the target: outside +/- 3 months
        (4, "2020-01-01"), (4, "2020-12-01"), (4, "2021-02-01"),  # 31 days either side: earlier wins
    ]
    df = pd.DataFrame(rows, columns=["person_id", "assessment_date"])
    df["assessment_date"] = pd.to_datetime(df["assessment_date"])
    out = pair_assessments(df).set_index("person_id")
    assert list(out.index) == [1, 4]
    assert out.loc[1, "follow_up_date"] == pd.Timestamp("2020-12-15")
    assert out.loc[4, "follow_up_date"] == pd.Timestamp("2020-12-01")
    assert out.loc[1, "months"] == pytest.approx(349 / (365.25 / 12))
    kept = pair_assessments(df, keep_unpaired=True).set_index("person_id")
    assert kept["follow_up_date"].isna().sum() == 2
    wide = pair_assessments(df, window_months=4).set_index("person_id")
    assert 3 in wide.index


def test_pairing_with_index_dates():
    df = pd.DataFrame({"person_id": [1, 1, 1], "assessment_date": pd.to_datetime(["2019-01-01", "2020-02-01", "2021-02-01"])})
    out = pair_assessments(df, index_dates=pd.Series({1: pd.Timestamp("2020-01-15")}))
    assert out.loc[0, "baseline_date"] == pd.Timestamp("2020-02-01")
    assert out.loc[0, "follow_up_date"] == pd.Timestamp("2021-02-01")


def test_change_per_citizen_who5_hand_computed():
    rows = []
    # raw pre/post per person -> index x4
    pre_post = {1: (8, 20), 2: (12, 12), 3: (20, 10), 4: (10, 14)}
    for p, (a, b) in pre_post.items():
        rows += who5_rows(p, "2022-03-01", a) + who5_rows(p, "2023-03-10", b)
    df = pd.DataFrame(rows)
    out = change_per_citizen(df, "WHO5", reliability=0.85).set_index("person_id")
    pre = np.array([8, 12, 20, 10]) * 4.0
    post = np.array([20, 12, 10, 14]) * 4.0
    sd = pre.std(ddof=1)
    expected = (post - pre) / (np.sqrt(2) * sd * np.sqrt(0.15))
    np.testing.assert_allclose(out["rci"].to_numpy(), expected)
    assert out.attrs["sd_pre"] == pytest.approx(sd) and out.attrs["n_paired"] == 4
    classes = classify_change(expected)
    assert list(out["change_class"].astype(str)) == list(np.asarray(classes).astype(str))
    # 10-point index rule: +48 progression, 0 maintenance, -40 degression, +16 progression
    mcid = change_per_citizen(df, "WHO5", method="mcid").set_index("person_id")
    assert list(mcid["change_class"].astype(str)) == ["progression", "maintenance", "degression", "progression"]


def test_change_needs_reliability_when_instrument_has_none():
    df = pd.DataFrame(who5_rows(1, "2022-03-01", 8) + who5_rows(1, "2023-03-01", 20))
    with pytest.raises(ParameterError, match="declares no reliability"):
        change_per_citizen(df, "WHO5")
    with pytest.raises(ParameterError, match="reliability must lie"):
        reliable_change([1.0], [2.0], sd_pre=1.0, reliability=1.0)
    with pytest.raises(ParameterError, match="sd_pre must be"):
        reliable_change([1.0], [2.0], sd_pre=0.0, reliability=0.8)


def test_truth_recovery_of_progression_shares():
    """Synthetic: true scores and true change with known shares, reliability 0.8.

    Observed X = T + e, so s_pre sqrt(1 - r) = sigma_e and RC ~ N(delta / (sqrt(2) sigma_e), 1) per
    citizen; the expected share classified as progression is sum_k pi_k (1 - Phi(1.96 - delta_k / S_diff)).
    The observed shares must lie within their 99% Wilson intervals.
    """
    rng = np.random.default_rng(20240101)
    n, r = 4000, 0.8
    sd_true = 8.0
    sd_err = sd_true * np.sqrt((1 - r) / r)
    s_diff = np.sqrt(2) * sd_err
    deltas = np.array([2.5, 0.0, -2.0]) * s_diff
    probs = np.array([0.3, 0.6, 0.1])
    k = rng.choice(3, size=n, p=probs)
    t = rng.normal(50, sd_true, n)
    pre = t + rng.normal(0, sd_err, n)
    post = t + deltas[k] + rng.normal(0, sd_err, n)
    rci = reliable_change(pre, post, sd_pre=np.sqrt(sd_true**2 + sd_err**2), reliability=r)
    cls = np.asarray(classify_change(rci)).astype(str)
    mu = deltas / s_diff
    expected = {
        "progression": np.sum(probs * stats.norm.sf(1.96 - mu)),
        "degression": np.sum(probs * stats.norm.cdf(-1.96 - mu)),
    }
    z = stats.norm.ppf(0.995)
    for name, p_true in expected.items():
        x = np.sum(cls == name)
        centre = (x + z**2 / 2) / (n + z**2)
        half = z * np.sqrt(x * (n - x) / n + z**2 / 4) / (n + z**2)
        assert centre - half <= p_true <= centre + half, (name, x / n, p_true)


def vum_rows(person, date, levels):
    return [
        {"person_id": person, "assessment_date": pd.Timestamp(date), "instrument": "VUM", "item": d, "score": float(v)}
        for d, v in levels.items()
    ]


def test_vum_domain_moves_and_summary():
    df = pd.DataFrame(
        vum_rows(1, "2021-01-01", {"a": 2, "b": 3, "c": 9, "d": 4})
        + vum_rows(1, "2022-01-10", {"a": 1, "b": 3, "c": 2, "d": 2})
        + vum_rows(2, "2021-01-01", {"a": 1, "b": 0})
        + vum_rows(2, "2021-12-01", {"a": 3, "b": 0})
    )
    moves = vum_domain_moves(df)
    got = moves.set_index(["person_id", "item"])["move"].astype(str).to_dict()
    assert got == {(1, "a"): "improved", (1, "b"): "same", (1, "d"): "improved", (2, "a"): "worse", (2, "b"): "same"}
    summary = vum_domain_summary(moves).set_index("person_id")
    assert summary.loc[1, ["n_domains", "n_improved", "n_same", "n_worse", "net_improved"]].tolist() == [3, 2, 1, 0, 2]
    assert summary.loc[1, "mean_level_change"] == pytest.approx((-1 + 0 - 2) / 3)
    assert summary.loc[2, "mean_level_change"] == pytest.approx(1.0)
    assert list(summary["change_class"].astype(str)) == ["progression", "degression"]


def test_recovery_star_area_moves_and_stage_transitions():
    def star(person, date, areas):
        return [
            {"person_id": person, "assessment_date": pd.Timestamp(date), "instrument": "RECOVERY_STAR",
             "item": a, "score": float(v)}
            for a, v in areas.items()
        ]

    base = {f"area{i}": 3 for i in range(1, 11)}
    follow = dict(base, area1=6, area2=2, area3=4)  # accepting help -> believing; 3 -> 2 worse, stuck; 3 -> 4 same stage
    df = pd.DataFrame(star(1, "2021-01-01", base) + star(1, "2022-01-01", follow))
    moves = vum_domain_moves(df, instrument="RECOVERY_STAR").set_index("item")
    assert moves.loc["area1", "move"] == "improved" and moves.loc["area2", "move"] == "worse"
    assert moves.loc["area3", "move"] == "improved" and moves.loc["area4", "move"] == "same"
    trans = recovery_star_transitions(moves.reset_index()).set_index("item")
    assert (trans.loc["area1", "from_stage"], trans.loc["area1", "to_stage"]) == ("accepting_help", "believing")
    assert (trans.loc["area2", "from_stage"], trans.loc["area2", "to_stage"]) == ("accepting_help", "stuck")
    assert (trans.loc["area3", "from_stage"], trans.loc["area3", "to_stage"]) == ("accepting_help", "accepting_help")
    assert trans["count"].sum() == 10
