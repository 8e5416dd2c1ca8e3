"""Coverage of the citizen bootstrap over repeated simulated panels (slow).

Citizens are of two kinds with different yearly chains (stayers and movers), so a citizen's transitions are correlated.
The pooled estimator n_ij / n_i. then targets E[n_ij] / E[n_i.], computed exactly below from the
state distributions of each kind. Percentile intervals from resampling citizens should cover it in
about 95 % of panels; resampling single transitions, which ignores the clustering, covers less.
"""

import numpy as np
import pytest

from progression.transitions import TransitionMatrix, citizen_bootstrap
from test_transitions import chain_panel

P_MOBILE = np.array([
    [0.50, 0.15, 0.25, 0.04, 0.03, 0.02, 0.01],
    [0.35, 0.25, 0.30, 0.05, 0.03, 0.01, 0.01],
    [0.35, 0.10, 0.35, 0.10, 0.05, 0.04, 0.01],
    [0.10, 0.05, 0.35, 0.25, 0.15, 0.08, 0.02],
    [0.05, 0.02, 0.15, 0.10, 0.60, 0.06, 0.02],
    [0.03, 0.01, 0.04, 0.04, 0.08, 0.77, 0.03],
])

def _stayers(p, stay=0.93):
    """Rows that keep the step with probability ``stay`` and otherwise move like ``p``."""
    off = p.copy()
    off[np.arange(6), np.arange(6)] = 0
    off *= (1 - stay) / off.sum(axis=1, keepdims=True)
    off[np.arange(6), np.arange(6)] = stay
    return off


P_STAYERS = _stayers(P_MOBILE)
START = np.array([0, 0.1, 0.5, 0.1, 0.2, 0.1, 0])
N_PERSONS, N_YEARS = 500, 10


def _simulate(seed):
    rng = np.random.default_rng(seed)
    mobile = rng.random(N_PERSONS) < 0.5
    states = np.empty((N_PERSONS, N_YEARS), dtype=int)
    states[:, 0] = rng.choice(7, N_PERSONS, p=START)
    for t in range(1, N_YEARS):
        prev = states[:, t - 1]
        p = np.where(mobile[:, None], P_MOBILE[np.minimum(prev, 5)], P_STAYERS[np.minimum(prev, 5)])
        nxt = (rng.random(N_PERSONS)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
        states[:, t] = np.where(prev < 6, nxt, 6)
    return states


def _target():
    """E[n_ij] / E[n_i.] for the 50/50 mixture over the panel's N_YEARS - 1 transitions."""
    expected = np.zeros((6, 7))
    for p in (P_STAYERS, P_MOBILE):
        full = np.vstack([p, np.eye(7)[6]])
        dist = START.copy()
        for _ in range(N_YEARS - 1):
            expected += 0.5 * dist[:6, None] * p
            dist = dist @ full
    return expected / expected.sum(axis=1, keepdims=True)


@pytest.mark.slow
def test_citizen_bootstrap_has_nominal_coverage_and_transition_bootstrap_does_not():
    target = _target()
    cells = target[1:] >= 0.03  # rows that start on a step; cells with enough mass for percentile CIs
    columns = [0, 1, 2, 3, 4, 5, 6]  # steps and 'died' (nobody emigrates or moves here)
    hits, naive_hits = [], []
    for rep in range(150):
        panel = chain_panel(_simulate(1000 + rep), 2014)
        tm = TransitionMatrix(n_boot=400, seed=rep).fit(panel)
        low = tm.matrix("conf_low").to_numpy()[1:, columns]
        high = tm.matrix("conf_high").to_numpy()[1:, columns]
        hits.append(((low <= target[1:]) & (target[1:] <= high))[cells])
        # the same percentile bootstrap with every transition its own cluster
        counts = tm.counts_[0]
        from_, to = np.nonzero(counts)
        cell = np.repeat(from_ * 9 + to, counts[from_, to])
        boot = citizen_bootstrap(np.arange(len(cell)), cell, n_cells=54, n_boot=400, seed=rep).reshape(400, 6, 9)
        with np.errstate(invalid="ignore"):
            low, high = np.nanquantile(boot / boot.sum(axis=2, keepdims=True), [0.025, 0.975], axis=0)
        naive_hits.append(((low[1:, columns] <= target[1:]) & (target[1:] <= high[1:, columns]))[cells])
    coverage, naive = np.mean(hits), np.mean(naive_hits)
    print(f"citizen bootstrap coverage {coverage:.3f}, transition bootstrap {naive:.3f}")
    assert 0.92 <= coverage <= 0.975, coverage
    assert naive < coverage - 0.02, (naive, coverage)
