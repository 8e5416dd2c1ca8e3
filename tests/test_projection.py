"""Occupancy projections against analytic stocks, bands from replicates, step-down scenarios."""

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import expm

from progression.exceptions import ParameterError
from progression.transitions.projection import current_stock, entrants, match_stepdown, project_occupancy, scale_stepdown
from progression.transitions import TransitionMatrix
from test_transitions import P_TRUE, STEPS, chain_panel, simulate_chain

EXITS = ["died", "emigrated", "moved"]
STOCK = pd.Series({"none": 0, "SEL82": 100, "SEL85": 1000, "SEL107": 200, "ABL105": 300, "SEL108": 150})
INFLOW = pd.Series({"SEL85": 40, "SEL82": 10})


def _full(p_with_death):
    """6 x 9 DataFrame from a 6 x 7 array (steps + died)."""
    out = np.zeros((6, 9))
    out[:, :6] = p_with_death[:, :6]
    out[:, 6] = p_with_death[:, 6]
    return pd.DataFrame(out, index=STEPS, columns=STEPS + EXITS)


def test_identity_matrix_keeps_the_stock_and_adds_the_inflow():
    proj = project_occupancy(STOCK, pd.DataFrame(np.eye(6), index=STEPS, columns=STEPS), years=4, inflow=INFLOW)
    wide = proj.pivot(index="year", columns="state", values="n")
    for year in range(5):
        expected = STOCK.add(year * INFLOW, fill_value=0)
        np.testing.assert_allclose(wide.loc[year, STEPS], expected[STEPS])
        assert (wide.loc[year, EXITS] == 0).all()


def test_absorbing_exit_collects_everyone():
    to_death = np.zeros((6, 9))
    to_death[:, 6] = 1
    proj = project_occupancy(STOCK, pd.DataFrame(to_death, index=STEPS, columns=STEPS + EXITS), years=3,
                             inflow=INFLOW, start_year=2024)
    wide = proj.pivot(index="year", columns="state", values="n")
    assert list(wide.index) == [2024, 2025, 2026, 2027]
    for k, year in enumerate(wide.index):
        if k == 0:
            continue
        # the steps hold only the last year's inflow; the dead are the stock plus earlier inflows
        np.testing.assert_allclose(wide.loc[year, STEPS], INFLOW.reindex(STEPS, fill_value=0))
        assert wide.loc[year, "died"] == pytest.approx(STOCK.sum() + (k - 1) * INFLOW.sum())


def test_geometric_decay_with_constant_inflow():
    """Each step kept with q, left to death with 1 - q: n_t = s q^t + a (1 - q^t) / (1 - q)."""
    q = 0.8
    p = np.zeros((6, 9))
    p[np.arange(6), np.arange(6)] = q
    p[:, 6] = 1 - q
    proj = project_occupancy(STOCK, p, years=6, inflow=INFLOW)
    on_85 = proj[proj.state == "SEL85"].set_index("year")["n"]
    t = np.arange(7)
    np.testing.assert_allclose(on_85, 1000 * q**t + 40 * (1 - q**t) / (1 - q))
    totals = proj.groupby("year")["n"].sum()
    np.testing.assert_allclose(totals, STOCK.sum() + t * INFLOW.sum())  # nobody is lost


def test_callable_p_of_t_and_sub_yearly_steps_agree():
    rng = np.random.default_rng(4)
    q = rng.uniform(0, 0.2, (9, 9))
    q[6:] = 0  # exits absorb
    np.fill_diagonal(q, 0)
    np.fill_diagonal(q, -q.sum(axis=1))
    yearly = project_occupancy(STOCK, lambda t: expm(t * q)[:6], years=3, inflow=INFLOW)
    monthly = project_occupancy(STOCK, lambda t: expm(t * q)[:6], years=3, inflow=INFLOW, steps_per_year=12)
    np.testing.assert_allclose(yearly["n"], monthly["n"], rtol=1e-10)
    square = project_occupancy(STOCK, lambda t: pd.DataFrame(expm(t * q), index=STEPS + EXITS,
                                                              columns=STEPS + EXITS), years=3, inflow=INFLOW)
    np.testing.assert_allclose(square["n"], yearly["n"], rtol=1e-10)
    month = expm(q / 12)[:6]
    from_matrix = project_occupancy(STOCK, month, years=3, inflow=INFLOW, steps_per_year=12)
    np.testing.assert_allclose(from_matrix["n"], yearly["n"], rtol=1e-10)


def test_bands_from_bootstrap_replicates():
    states, first = simulate_chain(3000, 6, seed=6)
    tm = TransitionMatrix(n_boot=200, seed=2).fit(chain_panel(states, first))
    proj = project_occupancy(STOCK, tm.matrix(), years=5, inflow=INFLOW, replicates=tm.replicates())
    steps = proj[proj.kind == "step"]
    assert (steps.conf_low <= steps.n + 1e-9).all() and (steps.n <= steps.conf_high + 1e-9).all()
    width = (steps.conf_high - steps.conf_low).groupby(steps.year).sum()
    assert width.iloc[0] == 0 and width.is_monotonic_increasing
    truth = project_occupancy(STOCK, _full(P_TRUE), years=5, inflow=INFLOW)
    inside = (steps.conf_low.to_numpy() <= truth.loc[steps.index, "n"].to_numpy() + 1e-9) & (
        truth.loc[steps.index, "n"].to_numpy() <= steps.conf_high.to_numpy() + 1e-9)
    assert inside.mean() >= 0.8


def test_scale_stepdown_moves_mass_from_lower_cells_to_the_diagonal():
    p = _full(P_TRUE)
    same = scale_stepdown(p, 1.0)
    pd.testing.assert_frame_equal(same, p)
    doubled = scale_stepdown(p, 2.0)
    levels = dict(zip(STEPS, range(6)))
    for i in STEPS:
        for j in STEPS + EXITS:
            lower = j in levels and levels[j] < levels[i]
            if lower:
                assert doubled.loc[i, j] == pytest.approx(2 * p.loc[i, j])
            elif j != i:
                assert doubled.loc[i, j] == pytest.approx(p.loc[i, j])
        down = sum(p.loc[i, j] for j in STEPS if levels[j] < levels[i])
        assert doubled.loc[i, i] == pytest.approx(p.loc[i, i] - down)
    np.testing.assert_allclose(doubled.sum(axis=1), 1)
    with pytest.raises(ParameterError, match="SEL82"):
        scale_stepdown(p, 3.0)  # SEL82: 0.30 to none, tripled, exceeds what the diagonal can give


def test_scale_stepdown_on_replicate_stacks_and_fewer_columns():
    stack = np.stack([_full(P_TRUE).to_numpy()] * 4)
    out = scale_stepdown(stack, 1.5)
    assert out.shape == stack.shape
    np.testing.assert_allclose(out.sum(axis=-1), 1)
    steps_only = _full(P_TRUE)[STEPS]
    steps_only = steps_only.div(steps_only.sum(axis=1), axis=0)
    assert list(scale_stepdown(steps_only, 1.2).columns) == STEPS


def test_match_stepdown_copies_the_reference_lower_triangle():
    p, reference = _full(P_TRUE), _full(P_TRUE)
    reference.loc["SEL85", ["none", "SEL82"]] = [0.20, 0.06]
    reference.loc["SEL85", "SEL85"] = 0.70 - 0.07
    scenario = match_stepdown(p, reference)
    assert scenario.loc["SEL85", ["none", "SEL82"]].tolist() == [0.20, 0.06]
    assert scenario.loc["SEL85", "SEL85"] == pytest.approx(0.70 - 0.07)
    assert scenario.loc["SEL85", "SEL108"] == p.loc["SEL85", "SEL108"]
    # more step-downs mean fewer citizens on §85 in five years
    base = project_occupancy(STOCK, p, years=5).query("state == 'SEL85' and year == 5")["n"].item()
    shifted = project_occupancy(STOCK, scenario, years=5).query("state == 'SEL85' and year == 5")["n"].item()
    assert shifted < base


def test_stock_and_entrants_from_a_panel():
    states, first = simulate_chain(400, 5, seed=9)
    panel = chain_panel(states, first)
    stock = current_stock(panel)
    last = panel[(panel.period == panel.period.max()) & (panel.status == "observed")]
    assert stock.sum() == len(last)
    assert list(stock.index) == STEPS
    new = entrants(panel)
    assert new["n"].sum() == 0  # everyone starts in the first year in this chain
    late = panel[panel.person_id > 200].copy()
    late = late[late.period > late.period.min()]
    assert entrants(pd.concat([panel[panel.person_id <= 200], late]))["n"].sum() == late.person_id.nunique()


def test_errors_name_rows_and_labels():
    p = _full(P_TRUE)
    p.loc["SEL82"] = np.nan
    with pytest.raises(ParameterError, match=r"\['SEL82'\] have no estimate"):
        project_occupancy(STOCK, p)
    with pytest.raises(ParameterError, match="unknown labels \\['SEL999'\\]"):
        project_occupancy(STOCK, _full(P_TRUE).rename(columns={"moved": "SEL999"}))
    with pytest.raises(ParameterError, match="'SEL86'"):
        project_occupancy(STOCK, _full(P_TRUE), inflow=pd.Series({"SEL86": 3}))
    with pytest.raises(ParameterError, match="not probabilities"):
        project_occupancy(STOCK, _full(P_TRUE) * 1.1)
