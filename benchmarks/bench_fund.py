"""Benchmark of the fund simulator: 10,000 draws × 5 interventions × 98 municipalities × 10 years.

Run: .venv/bin/python benchmarks/bench_fund.py [n_draws]

Target: ≤ 30 s on 2 cores. Prints wall-clock time and CPU time of this process and of its
workers (the worker pool is shut down after each case so its CPU time is counted; each parallel
case therefore includes starting the workers). The interventions, effects, gains and prices are
illustrative, not estimates.
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

from progression import fund
from progression.schemas import municipalities_reference

INTERVENTIONS = pd.DataFrame([
    # intervention, outcome, effect, se, baseline, gain kommune, region, stat (per extra outcome), own cost
    ("ips", "employment", 0.15, 0.04, 0.20, 20_000, 5_000, 180_000, 60_000),
    ("ips", "education", 0.05, 0.03, 0.10, 10_000, 0, 60_000, 60_000),
    ("housing_first", "housed", 0.25, 0.06, 0.40, 150_000, 30_000, 40_000, 90_000),
    ("cti", "no_readmission", 0.10, 0.05, 0.50, 5_000, 80_000, 10_000, 30_000),
    ("flexstotte", "step_down", 0.12, 0.05, 0.30, 200_000, 0, 20_000, 40_000),
    ("sel82", "no_escalation", 0.05, 0.04, 0.70, 120_000, 20_000, 10_000, 15_000),
], columns=["intervention", "outcome", "effect", "effect_std_error", "baseline_rate", "gain_kommune_dkk",
            "gain_region_dkk", "gain_stat_dkk", "cost_per_participant_dkk"])

RATE_CARD = pd.DataFrame([
    ("ips", "employment", 150_000.0, 200_000.0, 0.20, 12, 2024, "stat"),
    ("ips", "education", 50_000.0, 200_000.0, 0.10, 12, 2024, "stat"),
    ("housing_first", "housed", 40_000.0, 60_000.0, 0.40, 12, 2024, "stat"),
    ("cti", "no_readmission", 10_000.0, np.nan, 0.50, 12, 2024, "region"),
    ("flexstotte", "step_down", 20_000.0, np.nan, 0.30, 24, 2024, "stat"),
    ("sel82", "no_escalation", 10_000.0, np.nan, 0.70, 12, 2024, "stat"),
], columns=["intervention", "outcome", "price_dkk", "cap_dkk", "counterfactual_rate", "window_months",
            "price_year", "gain_payer"])


def participants() -> pd.DataFrame:
    """2 participants per 10,000 inhabitants per intervention and year (at least 1): 12 on average."""
    ref = municipalities_reference()
    per_year = np.maximum(1, np.round(ref["population_2022"] / 10_000 * 2)).astype(int)
    return pd.concat([pd.DataFrame({"municipality": ref["municipality"], "intervention": name,
                                    "participants": per_year})
                      for name in INTERVENTIONS["intervention"].unique()], ignore_index=True)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn):
    """Result, wall seconds, CPU seconds of this process, CPU seconds of the (stopped) workers."""
    wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    result = fn()
    wall = time.perf_counter() - wall
    get_reusable_executor().shutdown(wait=True)
    return result, wall, time.process_time() - cpu, _children_cpu() - children


def main(n_draws: int = 10_000) -> None:
    munis = participants()
    print(f"python {platform.python_version()}, numpy {np.__version__}, cores {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{n_draws} draws × {INTERVENTIONS['intervention'].nunique()} interventions "
          f"({len(INTERVENTIONS)} outcomes) × {munis['municipality'].nunique()} municipalities × 10 years; "
          f"{munis.groupby('intervention')['participants'].sum().mean():.0f} participants per intervention-year\n")
    rows, sims = [], {}
    for n_jobs in (1, 2):
        sim, *times = timed(lambda: fund.simulate(INTERVENTIONS, RATE_CARD, munis, years=10, n_draws=n_draws,
                                                  seed=20240101, n_jobs=n_jobs))
        sims[n_jobs] = sim
        rows.append((f"simulate, n_jobs={n_jobs}", *times))
    identical = sims[1].draws.equals(sims[2].draws)
    _, *times = timed(lambda: sims[2].neutral_price())
    rows.append(("neutral_price (expectation; 2 capped interventions re-drawn)", *times))
    _, *times = timed(lambda: (sims[2].summary(), sims[2].ranking(), sims[2].municipality_years()))
    rows.append(("summary + ranking + municipality_years", *times))
    print(f"{'case':<62} {'wall s':>8} {'cpu s':>8} {'workers':>8}")
    for name, wall, cpu, workers in rows:
        print(f"{name:<62} {wall:>8.1f} {cpu:>8.1f} {workers:>8.1f}")
    print(f"\nidentical results for n_jobs=1 and 2: {identical}")
    print(f"P(neutral): {sims[2].prob_neutral().round(3).to_dict()}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
