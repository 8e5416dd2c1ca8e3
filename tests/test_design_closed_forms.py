"""Closed forms of progression.design against published numbers and independent computations.

Published numbers: the documented examples of the R package SteppedPower 0.3 (Mildenberger & Marini,
vignette "Getting Started with SteppedPower", sections 4.2, 5.1 and 5.2), printed to 4 digits (7 for
the z test, which equals pwr::pwr.norm.test). Their ``glsPower`` computes the GLS power of the
Hussey & Hughes model from design and covariance matrices:

    glsPower(Cl=c(10,10), mu0=0, mu1=1.2, sigma=1, tau=0, N=1, dsntype="parallel", timepoints=1)$power
        # 0.7652593
    glsPower(Cl=c(10,10), timepoints=5, mu0=0, mu1=.25, sigma=.5, dsntype="parallel")           # 0.7054
    glsPower(Cl=c(10,10), timepoints=5, mu0=0, mu1=.25, sigma=.5, tau=.2, dsntype="parallel")   # 0.4616
    glsPower(Cl=c(3,3,3), mu0=0, mu1=.2, sigma=1, tau=0, power=.8)   # N = 50, power 0.8074

Independent computations: the GLS variance from the normal equations (block by block), and the
two-way fixed-effects variance from an explicit dummy-variable regression.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from progression.design import (
    cluster_mde,
    cluster_power,
    clusters_needed,
    design_effect,
    gls_effect_variance,
    parallel_design,
    persons_needed,
    power_from_se,
    staggered_design,
    stepped_wedge_clusters_needed,
    stepped_wedge_design,
    stepped_wedge_mde,
    stepped_wedge_persons_needed,
    stepped_wedge_power,
    stepped_wedge_variance,
)
from progression.exceptions import ParameterError


class TestSteppedPowerExamples:
    def test_z_test(self):
        assert cluster_power(1.2, 10, 1, 0.0) == pytest.approx(0.7652593, abs=5e-8)

    def test_parallel_longitudinal_without_cluster_effect(self):
        assert cluster_power(0.25, 10, 5, 0.0, sd=0.5) == pytest.approx(0.7054, abs=5e-5)

    def test_parallel_longitudinal_with_cluster_effect(self):
        sd = math.sqrt(0.2 ** 2 + 0.5 ** 2)
        assert cluster_power(0.25, 10, 5, 0.2 ** 2 / sd ** 2, sd=sd) == pytest.approx(0.4616, abs=5e-5)

    def test_stepped_wedge_sample_size_and_power(self):
        assert stepped_wedge_persons_needed(0.2, 9, 3, 0.0) == 50
        assert stepped_wedge_power(0.2, 9, 3, 50, 0.0) == pytest.approx(0.8074, abs=5e-5)
        assert stepped_wedge_power(0.2, 9, 3, 49, 0.0) < 0.8


def _gls_by_stacking(X, m, rho, sd):
    """Var(θ̂) from one big GLS with a dense block-diagonal covariance (a second, naive computation)."""
    I, T = X.shape
    rows = []
    for i in range(I):
        for j in range(T):
            rows.append([*(np.eye(T)[j]), X[i, j]])
    D = np.array(rows)
    tau2, sigma2 = sd ** 2 * rho, sd ** 2 * (1 - rho)
    V = np.kron(np.eye(I), tau2 * np.ones((T, T))) + np.diag(np.full(I * T, sigma2 / m))
    info = D.T @ np.linalg.solve(V, D)
    return np.linalg.inv(info)[-1, -1]


@pytest.mark.parametrize("n_clusters,n_steps,m,rho", [(24, 4, 100, 0.0159), (12, 3, 30, 0.05), (10, 4, 7, 0.2),
                                                      (98, 4, 60, 0.01), (9, 3, 50, 0.0)])
def test_hussey_hughes_equals_gls(n_clusters, n_steps, m, rho):
    X = stepped_wedge_design(n_clusters, n_steps)
    hh = stepped_wedge_variance(n_clusters, n_steps, m, rho, sd=0.3)
    assert gls_effect_variance(X, m, rho, sd=0.3) == pytest.approx(hh, rel=1e-10)
    assert _gls_by_stacking(X, m, rho, 0.3) == pytest.approx(hh, rel=1e-9)


def test_hussey_hughes_formula_holds_for_any_treatment_matrix():
    X = staggered_design([1, 2, 2, 3, np.inf, np.inf], 4)
    hh = stepped_wedge_variance(6, 3, 40, 0.05, treatment=X)
    assert gls_effect_variance(X, 40, 0.05) == pytest.approx(hh, rel=1e-10)


def test_parallel_one_period_gls_equals_cluster_formula():
    X = parallel_design(8, 1)
    assert gls_effect_variance(X, 25, 0.03, sd=0.4) == pytest.approx(
        (cluster_mde(8, 25, 0.03, sd=0.4) / (1.959963984540054 + 0.8416212335729143)) ** 2, rel=1e-10)


def test_twfe_variance_equals_dummy_regression_sandwich():
    rng = np.random.default_rng(3)
    X = staggered_design([1, 1, 2, 3, np.inf, np.inf, 2], 5)
    m = rng.integers(5, 80, size=(7, 5)).astype(float)
    rho, sd, cac = 0.04, 0.35, 0.7
    I, T = X.shape
    D = np.column_stack([np.kron(np.eye(I), np.ones((T, 1))), np.kron(np.ones((I, 1)), np.eye(T))[:, 1:],
                         X.ravel()])
    noise = sd ** 2 * (1 - rho) / m.ravel() + (1 - cac) * sd ** 2 * rho
    A = np.linalg.pinv(D.T @ D)
    # the persistent cluster effect lies in the span of the cluster dummies and drops out
    sandwich = A @ D.T @ np.diag(noise) @ D @ A
    assert gls_effect_variance(X, m, rho, sd=sd, cac=cac, estimator="twfe") == pytest.approx(sandwich[-1, -1],
                                                                                           rel=1e-9)


def test_gls_is_never_worse_than_twfe():
    X = stepped_wedge_design(20, 4)
    for rho in (0.001, 0.02, 0.3):
        assert gls_effect_variance(X, 50, rho) <= gls_effect_variance(X, 50, rho, estimator="twfe") * (1 + 1e-12)


def test_design_effect_with_unequal_sizes():
    assert design_effect(10, 0.017) == pytest.approx(1.153)
    assert design_effect(20, 0.05, cv=0.5) == pytest.approx(1 + (1.25 * 20 - 1) * 0.05)


def test_sizes_needed_invert_the_power():
    k = clusters_needed(0.04, 60, 0.02, sd=0.33)
    assert cluster_power(0.04, k, 60, 0.02, sd=0.33) >= 0.8 > cluster_power(0.04, k - 1, 60, 0.02, sd=0.33)
    m = persons_needed(0.04, 30, 0.02, sd=0.33)
    assert cluster_power(0.04, 30, m, 0.02, sd=0.33) >= 0.8 > cluster_power(0.04, 30, m - 1, 0.02, sd=0.33)
    assert persons_needed(0.04, 2, 0.05, sd=0.33) == math.inf
    n = stepped_wedge_clusters_needed(0.04, 4, 60, 0.02, sd=0.33)
    assert n % 4 == 0 and stepped_wedge_power(0.04, n, 4, 60, 0.02, sd=0.33) >= 0.8
    assert stepped_wedge_power(0.04, n - 4, 4, 60, 0.02, sd=0.33) < 0.8


def test_mde_has_the_target_power():
    mde = stepped_wedge_mde(24, 4, 60, 0.02, sd=0.33)
    assert stepped_wedge_power(mde, 24, 4, 60, 0.02, sd=0.33) == pytest.approx(0.8, abs=1e-6)
    mde = cluster_mde(10, 60, 0.02, sd=0.33, cl=0.9, power=0.9)
    assert cluster_power(mde, 10, 60, 0.02, sd=0.33, cl=0.9) == pytest.approx(0.9, abs=1e-5)


def test_t_critical_value_lowers_power():
    assert power_from_se(0.3, 0.1, df=10) < power_from_se(0.3, 0.1)


@pytest.mark.parametrize("call,match", [
    (lambda: cluster_mde(0, 10, 0.1), "n_clusters_per_arm must be a positive number"),
    (lambda: cluster_mde(5, 10, 1.2), "icc must be an intracluster correlation"),
    (lambda: cluster_mde(5, 10, 0.1, power=1.5), "power must be a probability"),
    (lambda: cluster_mde(5, 10, 0.1, cl=95), "cl must be a confidence level"),
    (lambda: stepped_wedge_design(2, 4), "n_clusters \\(2\\) must be at least n_steps \\(4\\)"),
    (lambda: gls_effect_variance([[0, 0], [0, 0]], 10, 0.1), "treatment must have treated and untreated"),
    (lambda: gls_effect_variance([[0, 1], [0, 1]], 10, 0.1, estimator="ols"), "estimator must be one of"),
])
def test_errors_name_the_argument(call, match):
    with pytest.raises(ParameterError, match=match):
        call()
