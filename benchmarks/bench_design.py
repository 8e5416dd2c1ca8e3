"""Benchmark of the simulated pilots: 1,000 pilots of 98 municipalities analysed with the staggered DiD.

Run: .venv/bin/python benchmarks/bench_design.py [n_sims]

Target (issue "Designing the fund's pilot"): ≤ 60 s on 2 cores for 1,000 pilots of 98 municipalities
with the staggered DiD estimator. Each pilot: 98 municipalities with unequal sizes (the ci example
data's citizens per municipality in the last year, at national scale: ×20), 5 years, adoption in 3
waves with a third never treated, municipal rates of a binary outcome (13 %, ICC 0.01), analysed
by two-way fixed effects (``progression.evaluation.twfe``) and, as a second case, by Callaway &
Sant'Anna (``progression.evaluation.CallawaySantAnna``, not-yet-treated comparisons). Prints wall-clock
time and CPU time of this process and of its joblib workers (the pool is shut down after each case so
their CPU time is counted; each parallel case includes starting the workers), and checks that the
draws are identical for n_jobs = 1 and 2.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time

import numpy as np
import pandas as pd
from joblib.externals.loky import get_reusable_executor

from progression.datasets import load_example
from progression.design import PilotScenario, randomised_waves, simulate_pilots


def _cpu(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def case(scenario, estimator, n_sims, n_jobs):
    self0, child0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    sim = simulate_pilots(scenario, n_sims=n_sims, estimator=estimator, seed=20240101, n_jobs=n_jobs)
    get_reusable_executor().shutdown(wait=True)
    wall = time.perf_counter() - start
    return sim, wall, _cpu(resource.RUSAGE_SELF) - self0, _cpu(resource.RUSAGE_CHILDREN) - child0


def main(n_sims: int = 1000) -> None:
    py = load_example("person_years")
    sizes = py[py["year"] == py["year"].max()].groupby("municipality").size().to_numpy() * 20
    X = randomised_waves(98, 3, 5, n_never=33)
    scenario = PilotScenario(X, cluster_sizes=np.random.default_rng(1).permutation(sizes), baseline_rate=0.13,
                             icc=0.01, effect=0.01)
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load average {os.getloadavg()}")
    print(f"{n_sims} pilots x 98 municipalities x 5 years; sizes {sizes.min()}–{sizes.max()} (mean {sizes.mean():.0f})")
    rows, draws = [], {}
    for estimator in ("twfe", "callaway_santanna"):
        for n_jobs in (1, 2):
            sim, wall, cpu_self, cpu_workers = case(scenario, estimator, n_sims, n_jobs)
            draws[(estimator, n_jobs)] = sim.draws
            s = sim.summary().iloc[0]
            rows.append({"estimator": estimator, "n_jobs": n_jobs, "wall_s": round(wall, 1),
                         "cpu_s_process": round(cpu_self, 1), "cpu_s_workers": round(cpu_workers, 1),
                         "power": round(s["power"], 3), "n_failed": int(s["n_failed"])})
        pd.testing.assert_frame_equal(draws[(estimator, 1)], draws[(estimator, 2)])
    print(pd.DataFrame(rows).to_string(index=False))
    print("draws identical for n_jobs = 1 and 2: yes")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
