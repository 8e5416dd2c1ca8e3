"""Timing of the steering tools: commitments, volume × unit cost, the monthly follow-up, the price/volume split.

Run (ci-sized example data, and a run folder's register, e.g. the national run of ``params/seed004.yaml``):

    .venv/bin/python benchmarks/bench_steering.py
    .venv/bin/python benchmarks/bench_steering.py --run-dir /path/to/run   # reads data/spells.parquet, unit_costs

Cases:
  * commitments: spells priced by their paragraph's unit cost
  * yearly_volume by paragraph over every register year
  * register_volume (paragraph, step, total), followup (three levels) and followup_by_month (12 forecasts)
  * price_volume vectorised over 1,000,000 rows against a loop over rows (the baseline, same run)
  * shapley_product with 3 factors over 100,000 rows against the average over all 6 orders by loop (baseline)

Wall and CPU time (process time) are both recorded; no step draws random numbers or uses threads, so
results do not depend on ``n_jobs``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd

from progression.analyses import steering as st
from progression.steering import commitments, price_volume, shapley_product, yearly_volume


def timed(func, repeats: int) -> tuple[float, float, object]:
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = func()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus), out


def data(run_dir: str | None):
    if run_dir is None:
        from progression.datasets import example_params, load_example

        params = example_params()
        return "example (ci, scale 0.05)", load_example("spells"), load_example("unit_costs"), params
    from progression.config import load_params

    run = Path(run_dir)
    params = load_params(run / "params.yaml")
    return (f"run folder {run.name} (scale {params.data.synthetic.scale})", pd.read_parquet(run / "data/spells.parquet"),
            pd.read_parquet(run / "data/unit_costs.parquet"), params)


def naive_price_volume(q0, p0, q1, p1):
    out = np.empty((len(q0), 2))
    for i in range(len(q0)):
        out[i] = ((q1[i] - q0[i]) * (p0[i] + p1[i]) / 2, (p1[i] - p0[i]) * (q0[i] + q1[i]) / 2)
    return out


def naive_shapley(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x0)
    orders = list(permutations(range(x0.shape[1])))
    for i in range(len(x0)):
        for order in orders:
            current = x0[i].copy()
            for j in order:
                before = current.prod()
                current[j] = x1[i, j]
                out[i, j] += current.prod() - before
    return out / len(orders)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    label, spells, unit_costs, params = data(args.run_dir)
    first, last = st.register_years(params, spells)
    rows = []

    def add(case, wall, cpu, runs):
        rows.append((case, wall, cpu, runs))
        print(f"{case:<70s} wall {wall:8.3f} s   cpu {cpu:8.3f} s", flush=True)

    print(f"data: {label}; {len(spells):,} spells; years {first}-{last}; {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}")
    w, c, priced = timed(lambda: st.register_commitments(spells, unit_costs, staircase=params.staircase), args.repeats)
    add(f"commitments ({len(priced):,} priced spells)", w, c, args.repeats)
    w, c, _ = timed(lambda: yearly_volume(priced, years=range(first, last + 1), by="paragraph"), args.repeats)
    add(f"yearly_volume by paragraph, {last - first + 1} years", w, c, args.repeats)
    w, c, _ = timed(lambda: st.register_volume(priced, years=(first, last), staircase=params.staircase), args.repeats)
    add("register_volume (paragraph, step, total)", w, c, args.repeats)
    w, c, _ = timed(lambda: st.followup(priced, year=last, month=6, staircase=params.staircase), args.repeats)
    add("followup at the end of June (three levels, budget, actual)", w, c, args.repeats)
    w, c, _ = timed(lambda: st.followup_by_month(priced, year=last), 1)
    add("followup_by_month (12 forecasts, budget, actual)", w, c, 1)

    rng = np.random.default_rng(2009)
    n = 1_000_000
    q0, p0, q1, p1 = rng.uniform(1, 100, (4, n))
    w_fast, c_fast, fast = timed(lambda: price_volume(q0, p0, q1, p1), args.repeats)
    add(f"price_volume, {n:,} rows", w_fast, c_fast, args.repeats)
    w_slow, c_slow, slow = timed(lambda: naive_price_volume(q0, p0, q1, p1), 1)
    add(f"loop over {n:,} rows (baseline)", w_slow, c_slow, 1)
    assert np.allclose(fast[["volume", "price"]].to_numpy(), slow)
    print(f"  ratio loop / vectorised: wall {w_slow / w_fast:,.0f}x, cpu {c_slow / c_fast:,.0f}x")

    m = 100_000
    x0, x1 = rng.uniform(0.5, 2, (m, 3)), rng.uniform(0.5, 2, (m, 3))
    names = ["population", "coverage", "unit_cost"]
    w_fast, c_fast, fast = timed(lambda: shapley_product(pd.DataFrame(x0, columns=names),
                                                         pd.DataFrame(x1, columns=names)), args.repeats)
    add(f"shapley_product, 3 factors, {m:,} rows", w_fast, c_fast, args.repeats)
    w_slow, c_slow, slow = timed(lambda: naive_shapley(x0, x1), 1)
    add(f"average over the 6 orders by loop, {m:,} rows (baseline)", w_slow, c_slow, 1)
    assert np.allclose(fast[names].to_numpy(), slow)
    print(f"  ratio loop / vectorised: wall {w_slow / w_fast:,.0f}x, cpu {c_slow / c_fast:,.0f}x")


if __name__ == "__main__":
    main()
