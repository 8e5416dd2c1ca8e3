"""Benchmark progression.transitions.ctmc against R's msm on a national-scale yearly staircase panel.

    .venv/bin/python benchmarks/bench_ctmc.py [--subjects 70000] [--visits 8] [--no-r]
    .venv/bin/python benchmarks/bench_ctmc.py --model misc,pci [--subjects 10000] [--no-r]

``--model basic`` (the default) is the record below.  ``--model misc,pci`` times the misclassification
(hidden Markov) model and the piecewise-constant model, each on msm's `cav` data (the manual's model 5
and ``pci = 5``, extracted from the installed R package at run time) and on a simulated panel of
``--subjects`` citizens, ours and msm's side by side in one run (``tests/results/ctmc/fit_hmm_msm.R``).

The panel is simulated with known intensities: six states (1 no service, 2 preventive support,
3 home support, 4 temporary residential care, 5 long-term residential care, 6 dead), moves one step up
or down, death from every step with exact dates, and three covariates acting on every transition
(sex, target group, age group in decades).  Both fits start from the same crude initial values; msm
runs through tests/results/ctmc/fit_msm.R with BFGS allowed to converge fully (``fnscale`` at the
initial -2 log L, ``reltol = 1e-12``, ``maxit = 10000``), so the two optima can be compared.  The
timings are wall-clock and CPU seconds of the fit alone (data checks and preparation included, CSV
reading excluded); CPU time is the fairer measure on a shared machine.  A markdown row of results
is printed at the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from progression.transitions import ctmc

ROOT = Path(__file__).resolve().parents[1]
FIT_MSM = ROOT / "tests" / "results" / "ctmc" / "fit_msm.R"
COVARIATES = ["female", "mental", "age"]


def staircase_qmatrix() -> np.ndarray:
    """True baseline intensities (per year) of the six-state staircase with death."""
    up = [0.20, 0.25, 0.10, 0.08]
    down = [0.30, 0.15, 0.20, 0.04]
    death = [0.005, 0.01, 0.02, 0.03, 0.05]
    q = np.zeros((6, 6))
    for i in range(4):
        q[i, i + 1], q[i + 1, i] = up[i], down[i]
    q[:5, 5] = death
    return q


def simulate(n_subjects: int, n_visits: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    q = staircase_qmatrix()
    allowed = q > 0
    covariates = pd.DataFrame({
        "female": rng.integers(0, 2, n_subjects).astype(float),
        "mental": rng.integers(0, 2, n_subjects).astype(float),
        "age": rng.integers(2, 9, n_subjects).astype(float),  # age group: decades
    })
    beta = {
        "female": np.where(allowed, -0.15, 0.0),
        "mental": np.where(allowed, 0.25, 0.0) * np.where(np.triu(allowed), 1, -1),
        "age": np.where(allowed, 0.05, 0.0),
    }
    beta["age"][:5, 5] = 0.4
    start = rng.choice([1, 2, 3, 4, 5], size=n_subjects, p=[0.1, 0.15, 0.45, 0.15, 0.15])
    return ctmc.simulate_panel(q, n_subjects, np.arange(float(n_visits)), covariates=covariates, beta=beta,
                               death_states=[6], start=start, seed=rng)


def run_ours(data: pd.DataFrame, inits: pd.DataFrame):
    wall, cpu = time.perf_counter(), time.process_time()
    model = ctmc.fit(data, subject="subject", time="time", state="state", qmatrix=inits, death_states=[6],
                     covariates=COVARIATES)
    return model, time.perf_counter() - wall, time.process_time() - cpu


def run_msm(data: pd.DataFrame, inits: pd.DataFrame, fnscale: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        data.to_csv(folder / "data.csv", index=False)
        np.savetxt(folder / "qmatrix.csv", inits.to_numpy(), delimiter=",", fmt="%.17g")
        options = ["deathexact=6", f"covariates={','.join(COVARIATES)}", f"fnscale={fnscale!r}",
                   "reltol=1e-12", "maxit=10000"]
        run = subprocess.run(["Rscript", str(FIT_MSM), str(folder / "data.csv"), str(folder / "qmatrix.csv"),
                              str(folder / "out.json"), *options], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"msm failed:\n{run.stderr}")
        return json.loads((folder / "out.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=70_000)
    parser.add_argument("--visits", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-r", action="store_true", help="time progression.transitions.ctmc only")
    parser.add_argument("--model", default="basic", help="basic, or a comma-separated list of misc and pci")
    args = parser.parse_args()
    if args.model != "basic":
        from bench_ctmc_hmm import main as hidden_main

        hidden_main(args)
        return

    data = simulate(args.subjects, args.visits, args.seed)
    inits = ctmc.crude_inits(data, subject="subject", time="time", state="state", qmatrix=staircase_qmatrix())
    model, ours, ours_cpu = run_ours(data, inits)
    print(f"panel: {args.subjects} subjects, {len(data)} rows, {model.n_intervals_} intervals, "
          f"{len(model.params_)} parameters, {model.n_groups_} distinct (pattern, interval) groups")
    print(f"progression.transitions.ctmc: {ours:8.2f} s ({ours_cpu:.2f} s CPU)   -2 log L = {model.minus2loglik_:.4f}   "
          f"BFGS iterations {model.n_iter_}")

    nan = float("nan")
    row = {"subjects": args.subjects, "rows": len(data), "params": len(model.params_), "ours_s": ours,
           "ours_cpu": ours_cpu, "ours_m2ll": model.minus2loglik_, "msm_s": nan, "msm_cpu": nan, "msm_m2ll": nan}
    if not args.no_r and shutil.which("Rscript"):
        init_m2ll = ctmc.minus2loglik(data, subject="subject", time="time", state="state", qmatrix=inits,
                                      death_states=[6], covariates=COVARIATES)
        out = run_msm(data, inits, fnscale=init_m2ll)
        row.update(msm_s=out["seconds"], msm_cpu=out["cpu_seconds"], msm_m2ll=out["minus2loglik"])
        print(f"R msm {out['msm_version']}: {out['seconds']:8.2f} s ({out['cpu_seconds']:.2f} s CPU)   "
              f"-2 log L = {out['minus2loglik']:.4f}   optim counts {out['optim_counts']}")
        print(f"-2 log L difference (ours - msm): {model.minus2loglik_ - out['minus2loglik']:.2e}; "
              f"msm / ours time ratio: {out['seconds'] / ours:.0f} (wall), {out['cpu_seconds'] / ours_cpu:.0f} (CPU)")
        se = np.sqrt(np.diag(model.vcov_))
        print(f"max |estimate difference|: {np.abs(model.params_.to_numpy() - out['estimates']).max():.2e}; "
              f"max relative SE difference: {np.abs(se / np.asarray(out['se']) - 1).max():.2e}")

    today = datetime.date.today().isoformat()
    cells = [today, f"{row['subjects']:,}", f"{row['rows']:,}", str(row["params"]),
             f"{row['ours_s']:.1f} ({row['ours_cpu']:.1f})", f"{row['msm_s']:.1f} ({row['msm_cpu']:.1f})",
             f"{row['msm_s'] / row['ours_s']:.0f} ({row['msm_cpu'] / row['ours_cpu']:.0f})",
             f"{row['ours_m2ll']:.4f}", f"{row['msm_m2ll']:.4f}"]
    print("\n| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
