"""Timing of the Shapley R² decomposition and the spending-variation model on 98 municipalities.

Run: .venv/bin/python benchmarks/bench_variation.py

Cases (synthetic data: 98 municipalities, 12 correlated criteria, population weights):
  * shapley_r2 with 12 predictors (2^12 = 4,096 subset fits), weighted
  * the same by a naive loop of 4,096 separate least-squares fits (the baseline, measured in the same run)
  * shapley_r2 with the 12 criteria in 4 groups
  * shapley_r2_bootstrap with 12 predictors and B = 200
  * SpendingVariationModel.fit with 12 criteria (10-fold CV x 5 repeats, boosting comparison)
"""

from __future__ import annotations

import math
import platform
import statistics
import time

import numpy as np
import pandas as pd

from progression.variation import SpendingVariationModel, shapley_r2, shapley_r2_bootstrap

N, P = 98, 12


def data(seed: int = 2009) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mixing = np.eye(P) + 0.4 * rng.normal(size=(P, P))
    X = rng.normal(size=(N, P)) @ mixing
    pop = np.round(np.exp(rng.normal(10.4, 0.7, N)))
    y = 7_776 + X @ rng.normal(0, 300, P) + rng.normal(size=N) * 1_200 * np.sqrt(pop.mean() / pop)
    frame = pd.DataFrame(X, columns=[f"criterion_{i:02d}" for i in range(P)])
    return frame.assign(municipality=np.arange(101, 101 + N), pop=pop, spend=y)


def naive_shapley(frame: pd.DataFrame, y: str, X: list[str], weights: str) -> np.ndarray:
    """Baseline: one weighted least-squares fit per subset, then the Shapley weights."""
    w = frame[weights].to_numpy()
    root = np.sqrt(w)
    target = frame[y].to_numpy()
    tss = np.sum(w * (target - np.average(target, weights=w)) ** 2)
    criteria = frame[X].to_numpy()
    r2 = np.zeros(2**P)
    for mask in range(1, 2**P):
        cols = [j for j in range(P) if mask >> j & 1]
        design = np.column_stack([np.ones(N), criteria[:, cols]])
        beta = np.linalg.lstsq(design * root[:, None], target * root, rcond=None)[0]
        r2[mask] = 1 - np.sum(w * (target - design @ beta) ** 2) / tss
    phi = np.zeros(P)
    for j in range(P):
        for mask in range(2**P):
            if not mask >> j & 1:
                s = bin(mask).count("1")
                phi[j] += math.factorial(s) * math.factorial(P - s - 1) / math.factorial(P) * (r2[mask | 1 << j] - r2[mask])
    return phi


def timed(func, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    frame = data()
    X = [c for c in frame.columns if c.startswith("criterion_")]
    groups = {f"group_{g}": X[3 * g : 3 * g + 3] for g in range(4)}
    rows = []

    t_fast, fast = timed(lambda: shapley_r2(frame, "spend", X, weights="pop"), repeats=5)
    rows.append(("shapley_r2, 12 predictors, weighted", t_fast, 5))
    t_naive, naive = timed(lambda: naive_shapley(frame, "spend", X, "pop"), repeats=1)
    rows.append(("naive loop of 4,096 lstsq fits (baseline)", t_naive, 1))
    assert np.allclose(fast["estimate"].to_numpy(), naive, atol=1e-8), "fast and naive Shapley values differ"
    t_group, _ = timed(lambda: shapley_r2(frame, "spend", X, groups=groups, weights="pop"), repeats=5)
    rows.append(("shapley_r2, 12 predictors in 4 groups", t_group, 5))
    t_boot, _ = timed(lambda: shapley_r2_bootstrap(frame, "spend", X, weights="pop", n_boot=200, seed=1), repeats=3)
    rows.append(("shapley_r2_bootstrap, 12 predictors, B=200", t_boot, 3))
    t_model, _ = timed(
        lambda: SpendingVariationModel(seed=1).fit(frame, y="spend", X=X, weights="pop"), repeats=1
    )
    rows.append(("SpendingVariationModel.fit (CV 10x5, boosting)", t_model, 1))

    print(f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}")
    print(f"{'case':<50} {'seconds (median)':>17} {'runs':>5}")
    for name, seconds, runs in rows:
        print(f"{name:<50} {seconds:>17.3f} {runs:>5}")
    print(f"speed-up of shapley_r2 over the naive loop: {t_naive / t_fast:.0f}x (same run)")
    print(f"max |fast - naive| = {np.max(np.abs(fast['estimate'].to_numpy() - naive)):.2e}; "
          f"R² = {fast['estimate'].sum():.4f}")


if __name__ == "__main__":
    main()
