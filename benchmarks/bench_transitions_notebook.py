"""Time the main calls of notebook 20_transitions on the synthetic Denmark at national scale.

    .venv/bin/python benchmarks/bench_transitions_notebook.py [--scale 1.0] [--boot 1000]

Generates the synthetic tables (not timed as part of the notebook), builds the two yearly panels and
runs, in order, what the notebook runs: the overall matrix and the four grouped matrices with the
citizen bootstrap, the multi-state model (data, allowed transitions, fit, extractors), Kaplan-Meier
time on step and re-entry shares, and the projection's matrices. Prints wall-clock and process CPU
seconds per call (CPU time is the fairer measure on a shared machine) and a markdown table.
"""

from __future__ import annotations

import argparse
import datetime
import os
import tempfile
import time
from pathlib import Path

from progression.analyses import transitions as sa
from progression.config import load_params
from progression.panel import build_panel, read_panel
from progression.sources.inputs import load_inputs
from progression.staircase import as_staircase
from progression.transitions import TransitionMatrix
from progression.transitions.durations import reentry_shares

ROOT = Path(__file__).resolve().parents[1]
ROWS: list[tuple[str, str, float, float]] = []


def timed(label: str, size: str, fun):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fun()
    ROWS.append((label, size, time.perf_counter() - wall, time.process_time() - cpu))
    print(f"{label:<55} {ROWS[-1][2]:8.1f} s wall {ROWS[-1][3]:8.1f} s CPU   {size}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--boot", type=int, default=1000)
    args = parser.parse_args()
    params = load_params(ROOT / "params" / "default.yaml")
    params = params.model_copy(update={"data": params.data.model_copy(update={
        "synthetic": params.data.synthetic.model_copy(update={"scale": args.scale})})})
    p, stairs = params.transitions, as_staircase(params.staircase)
    inputs = timed("generate the synthetic tables (00_data, not the notebook)", f"scale {args.scale}",
                   lambda: load_inputs(params))
    folder = Path(tempfile.mkdtemp(prefix="bench-transitions-"))
    for name in ("spells", "persons", "moves", "municipalities"):
        inputs.tables[name].to_parquet(folder / f"{name}.parquet", index=False)
    persons, municipalities = inputs.tables["persons"], inputs.tables["municipalities"]
    files = [folder / f"{n}.parquet" for n in ("spells", "persons", "moves")]

    highest = timed("yearly panel, highest step (00_data)", f"{len(inputs.tables['spells']):,} spells",
                    lambda: build_panel(*files, start=p.start_year, end=p.end_year, period="year", staircase=stairs,
                                        output=folder / "panel_year.parquet"))
    panel = sa.analysis_panel(read_panel(highest, period="year", staircase=stairs), persons, start_year=p.start_year,
                              end_year=p.end_year, case_municipalities=p.case_municipalities, age_bands=p.age_bands)
    size = f"{panel['person_id'].nunique():,} persons, {len(panel):,} rows"
    timed(f"overall matrix, B={args.boot}", size,
          lambda: sa.transition_matrix(panel, n_boot=args.boot, seed=1, staircase=stairs))
    timed(f"matrices by 4 groupings, B={args.boot}", size,
          lambda: sa.matrices_by(panel, ["municipality_set", "target_group", "age_band", "year"], n_boot=args.boot,
                                 seed=10, staircase=stairs))

    snapshots = timed("yearly panel, step at the end of the year", "",
                      lambda: build_panel(*files, start=p.start_year, end=p.end_year, period="year", rule="end",
                                          staircase=stairs, output=folder / "panel_year_end.parquet"))
    observations = timed("multi-state model data", "", lambda: sa.ctmc_data(
        read_panel(snapshots, period="year", staircase=stairs), persons, covariates=p.ctmc_covariates,
        start_year=p.start_year, end_year=p.end_year, municipalities=municipalities))
    timed("allowed transitions and crude inits", f"{len(observations):,} observations",
          lambda: sa.ctmc_qmatrix(observations, min_moves=p.ctmc_min_moves, staircase=stairs))
    model = timed("multi-state model fit (with its allowed transitions)", f"{len(observations):,} observations",
                  lambda: sa.fit_ctmc(observations, covariates=p.ctmc_covariates, min_moves=p.ctmc_min_moves,
                                      staircase=stairs))
    ROWS[-1] = (ROWS[-1][0], f"{model.n_subjects_:,} subjects, {len(model.params_)} parameters, "
                             f"{model.n_iter_} BFGS iterations", *ROWS[-1][2:])
    timed("extractors (Q, HR, sojourn, pnext, P(1), P(5) with CIs, totlos, P(t) curves)", "",
          lambda: sa.ctmc_tables(model, horizon=10.0))

    timed("Kaplan-Meier time on step, 3 groupings", size,
          lambda: sa.time_on_step_by(panel, [None, "municipality_set", "target_group"], min_cell_size=5,
                                     staircase=stairs))
    timed(f"re-entry shares by municipality set, B={args.boot}", size,
          lambda: reentry_shares(panel, horizons=p.reentry_horizons, groups=["municipality_set"], n_boot=args.boot,
                                 seed=31, staircase=stairs))
    base = sa.in_years(panel, p.end_year - p.projection_base_years, p.end_year)
    timed(f"projection matrices (national, by set), B={args.boot}", f"{len(base):,} rows", lambda: (
        TransitionMatrix(n_boot=args.boot, seed=40, staircase=stairs).fit(base),
        TransitionMatrix(n_boot=args.boot, seed=41, staircase=stairs).fit(base, groups=["municipality_set"])))

    notebook = [r for r in ROWS if not r[0].startswith(("generate", "yearly panel, highest"))]
    print(f"\n{datetime.date.today()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"notebook calls total: {sum(r[2] for r in notebook):.0f} s wall, {sum(r[3] for r in notebook):.0f} s CPU\n")
    print("| call | size | seconds | process CPU seconds |\n|---|---|---:|---:|")
    for label, detail, wall, cpu in ROWS:
        print(f"| {label} | {detail} | {wall:.1f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
