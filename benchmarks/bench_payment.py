"""Benchmark of the payment models: 10 years x 98 municipalities x 1,000 bootstrap replicates x 7 models.

Run: .venv/bin/python benchmarks/bench_payment.py [n_boot]

Target (issue "Payment models for botilbud"): at most 30 s on two cores, identical results for any
``n_jobs`` and backend. Each replicate is a citizen-bootstrap refit of the yearly step transition matrix
(``progression.transitions.TransitionMatrix``, refitted per chunk of 250 replicates on the chunk's named
stream), from which the paths of 98 municipalities over 10 years are projected and paid under the 7
models, on the baseline, three counterfactuals without progression and two behaviour scenarios (six
variants). Two sizes of the panel the transitions are refitted on: the ci example data (scale 0.05,
about 11,000 citizen-years in the base years) and the same panel repeated 20 times with new person ids
(national size, about 230,000 citizen-years; the stock and inflow x 20). Prints wall-clock time and CPU
time of this process and of its joblib workers (the pool is shut down after each case so their CPU time
is counted; each parallel case includes starting the workers), the time of one chunk's refit and
evaluation, and checks that the replicates are identical for n_jobs = 1 and 2 and the threading backend.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import resource
import sys
import time

import numpy as np
import pandas as pd
from joblib.externals.loky import get_reusable_executor

from progression._parallel import use_backend
from progression.analyses import payment as an
from progression.datasets import example_params, load_example
from progression.payment import PaymentSimulation


def _cpu(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def case(prep, params, n_boot, n_jobs, backend=None):
    self0, child0 = _cpu(resource.RUSAGE_SELF), _cpu(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with use_backend(backend):
        sim = an.simulation(prep, params, seed=20240101, n_boot=n_boot, n_jobs=n_jobs, areas=[])
    get_reusable_executor().shutdown(wait=True)
    wall = time.perf_counter() - start
    return sim, wall, _cpu(resource.RUSAGE_SELF) - self0, _cpu(resource.RUSAGE_CHILDREN) - child0


def national(prep, copies: int = 20):
    """The prepared inputs with the base panel repeated ``copies`` times (new person ids) and the stock and
    inflow multiplied: the size of the country."""
    step = int(prep.base["person_id"].max()) + 1
    base = pd.concat([prep.base.assign(person_id=prep.base["person_id"] + i * step) for i in range(copies)],
                     ignore_index=True)
    base.attrs = dict(prep.base.attrs)
    paths = {**prep.paths, "stock": prep.paths["stock"] * copies, "inflow": prep.paths["inflow"] * copies,
             "n_persons": prep.paths["n_persons"] * copies}
    return dataclasses.replace(prep, base=base, paths=paths, capacity=prep.capacity * copies)


def main(n_boot: int = 1000) -> None:
    params = example_params()
    t0 = time.perf_counter()
    prep = an.prepare(load_example("panel_year"), load_example("spells"), load_example("assessments"),
                      load_example("persons"), load_example("municipality_years"), params)
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, load average {os.getloadavg()}")
    print(f"inputs prepared from the ci example data in {time.perf_counter() - t0:.1f} s; "
          f"{len(prep.municipalities)} municipalities, {prep.space.n_states} states, "
          f"{params.payment.horizon_years} years, 7 models, 6 variants, {n_boot} replicates")
    rows = []
    for size, inputs in (("ci (scale 0.05)", prep), ("national (x 20)", national(prep))):
        citizen_years = len(inputs.base)
        # one chunk: refit with 250 replicates, then project and pay
        t = time.perf_counter()
        reps = an.fit_transitions(inputs.base, n_boot=250, seed=1, staircase=inputs.space.staircase)[1]
        refit = time.perf_counter() - t
        sim0 = an.simulation(inputs, params, n_boot=0, areas=[])
        t = time.perf_counter()
        PaymentSimulation(rules=sim0.rules, n_boot=250, chunk_size=250).fit(
            sim0.inputs_, inputs.transition, draw=lambda size, seed: reps[:size])
        evaluate = time.perf_counter() - t
        print(f"{size}: {citizen_years} citizen-years in the base panel; one chunk of 250: refit {refit:.1f} s, "
              f"paths and payments {evaluate:.1f} s")
        runs = {}
        for n_jobs, backend in ((1, None), (2, None), (2, "threading")):
            sim, wall, cpu_self, cpu_workers = case(inputs, params, n_boot, n_jobs, backend)
            runs[(n_jobs, backend)] = sim
            rows.append({"panel": size, "n_jobs": n_jobs, "backend": backend or "loky", "wall_s": round(wall, 1),
                         "cpu_s_process": round(cpu_self, 1), "cpu_s_workers": round(cpu_workers, 1)})
        first = runs[(1, None)].replicates_
        for other in list(runs.values())[1:]:
            assert all(np.array_equal(first[k], other.replicates_[k]) for k in first)
    print(pd.DataFrame(rows).to_string(index=False))
    print("replicates identical for n_jobs = 1, 2 and the threading backend: yes")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
