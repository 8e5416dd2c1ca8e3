"""Benchmark: spells -> yearly and monthly panels, transition counts, and the citizen bootstrap.

    .venv/bin/python benchmarks/bench_transitions.py [--scale 10] [--boot-persons 70000]
                                                               [--workdir DIR] [--synthetic]

Scale 10 is national data x 10: about 700,000 persons and 5 million spells, from the simple
vectorised generator below (persons enter 2008-2024 and hold about eight spells each, some
overlapping, some open; deaths, emigrations and moves censor). ``progression.sources.synthetic``
has ``generate``, but it builds every table of the data contract (about 43 s and 3.3 GB at scale 1
on this machine), so scale 10 would not fit in memory; ``--synthetic`` adds a bootstrap row on its
scale-1 spells instead.

Every measurement runs in a fresh child process, started by a fresh measuring process, so that
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of the measuring process is the peak resident
memory of that one measurement (DuckDB's memory included). Seconds are wall-clock time of the
operation alone (imports and data generation excluded); process CPU seconds are the child's user +
system time (everything it did, over both cores), a measure less sensitive to other load on the
machine. A markdown table is printed at the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve()
PARAGRAPH_WEIGHTS = {"SEL82b": 0.10, "SEL85": 0.50, "SEL107": 0.10, "ABL105": 0.15, "SEL108": 0.05,
                     "SEL103": 0.05, "SEL104": 0.05}


def generate_spells(n_persons: int, seed: int = 1) -> dict[str, pd.DataFrame]:
    """Persons, spells and moves: ~7 spells per person between 2008 and 2024, open spells at the end."""
    rng = np.random.default_rng(seed)
    from progression.schemas import municipality_codes

    codes = np.array(municipality_codes())
    person_id = np.arange(1, n_persons + 1)
    home = rng.choice(codes, n_persons)
    n_spells = 1 + rng.poisson(8.3, n_persons)
    owner = np.repeat(np.arange(n_persons), n_spells)
    first = np.repeat(np.cumsum(n_spells) - n_spells, n_spells)
    within = np.arange(len(owner)) - first
    entry = rng.integers(0, 17 * 365, n_persons)  # days after 2008-01-01
    gap = rng.exponential(120, len(owner)) * (rng.random(len(owner)) < 0.5)
    length = rng.exponential(330, len(owner)) + 1
    # a spell starts after the previous one ends (plus a gap), or overlaps it by half in one case of five
    step_days = np.where(rng.random(len(owner)) < 0.2, length / 2, length + gap)
    cum = np.cumsum(step_days)
    offset = cum - (cum - step_days)[first]
    start = entry[owner] + (offset - step_days).astype(int)
    end = start + length.astype(int)
    keep = start < 17 * 365
    origin = np.datetime64("2008-01-01")
    paragraphs = np.array(list(PARAGRAPH_WEIGHTS))
    weights = np.array(list(PARAGRAPH_WEIGHTS.values()))
    spells = pd.DataFrame({
        "spell_id": np.arange(keep.sum()),
        "person_id": person_id[owner][keep],
        "paragraph": rng.choice(paragraphs, keep.sum(), p=weights / weights.sum()),
        "municipality": home[owner][keep],
        "start_date": origin + start[keep].astype("timedelta64[D]"),
        "end_date": origin + end[keep].astype("timedelta64[D]"),
    })
    last = np.r_[within[keep][1:] == 0, True]
    spells.loc[last & (rng.random(keep.sum()) < 0.6), "end_date"] = pd.NaT
    dies = rng.random(n_persons) < 0.08
    emig = rng.random(n_persons) < 0.02
    persons = pd.DataFrame({
        "person_id": person_id,
        "death_date": pd.Series(origin + (entry + rng.integers(200, 3000, n_persons)).astype("timedelta64[D]"))
        .where(dies),
        "emigration_date": pd.Series(origin + (entry + rng.integers(200, 3000, n_persons))
                                     .astype("timedelta64[D]")).where(emig & ~dies),
    })
    movers = np.flatnonzero(rng.random(n_persons) < 0.05)
    moves = pd.DataFrame({
        "person_id": person_id[movers],
        "move_date": origin + (entry[movers] + rng.integers(100, 4000, len(movers))).astype("timedelta64[D]"),
        "from_municipality": home[movers],
        "to_municipality": np.where(home[movers] == codes[0], codes[1], codes[0]),
    })
    return {"persons": persons, "spells": spells, "moves": moves}


# -- tasks (each runs in its own process) ---------------------------------------------------------
def task_generate(workdir: Path, scale: float, persons_per_scale: int) -> dict:
    tables = generate_spells(int(scale * persons_per_scale))
    for name, frame in tables.items():
        frame.to_parquet(workdir / f"{name}.parquet")
    return {"persons": len(tables["persons"]), "spells": len(tables["spells"])}


def task_panel(workdir: Path, period: str) -> dict:
    from progression.panel import build_panel

    start = time.perf_counter()
    out = build_panel(workdir / "spells.parquet", workdir / "persons.parquet", workdir / "moves.parquet",
                      start=2014, end=2024, period=period, output=workdir / f"panel_{period}.parquet",
                      threads=2)
    seconds = time.perf_counter() - start
    import pyarrow.parquet as pq

    return {"seconds": seconds, "rows": pq.ParquetFile(out).metadata.num_rows}


def task_counts(workdir: Path, period: str) -> dict:
    from progression.transitions import transition_counts

    start = time.perf_counter()
    counts = transition_counts(workdir / f"panel_{period}.parquet", period=period)
    return {"seconds": time.perf_counter() - start, "transitions": int(counts["n"].sum())}


def task_bootstrap(workdir: Path, n_persons: int, n_boot: int, source: str) -> dict:
    from progression.panel import build_panel
    from progression.transitions import TransitionMatrix

    if source == "synthetic":
        from progression.config import StaircaseParams, SyntheticParams
        from progression.sources.synthetic import generate

        tables = generate(SyntheticParams(scale=1.0), StaircaseParams(), seed=1).tables
    else:
        tables = generate_spells(n_persons, seed=2)
    panel = build_panel(tables["spells"], tables["persons"], tables["moves"], start=2014, end=2024, period="year")
    start = time.perf_counter()
    tm = TransitionMatrix(n_boot=n_boot, seed=1).fit(panel)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "persons": int(tm.n_persons_total_), "transitions": int(tm.counts_.sum()),
            "panel_rows": len(panel)}


TASKS = {"generate": task_generate, "panel": task_panel, "counts": task_counts, "bootstrap": task_bootstrap}


def measure(task: str, **kwargs) -> dict:
    """Run ``task`` in a child of a fresh measuring process; return its result and peak memory."""
    wrapper = (
        "import json, resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "wall = time.perf_counter() - t\n"
        "if r.returncode: sys.stderr.write(r.stderr); sys.exit(r.returncode)\n"
        "out = json.loads(r.stdout.strip().splitlines()[-1])\n"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "out['peak_gb'] = usage.ru_maxrss / 1024**2\n"
        "out['cpu_seconds'] = usage.ru_utime + usage.ru_stime\n"
        "out['process_seconds'] = wall\n"
        "print(json.dumps(out))\n"
    )
    child = [sys.executable, str(HERE), "--task", task, "--kwargs", json.dumps(kwargs)]
    result = subprocess.run([sys.executable, "-c", wrapper, *child], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0, help="1 = about 70,000 persons")
    parser.add_argument("--boot-persons", type=int, default=70_000, help="persons in the bootstrap benchmark")
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--synthetic", action="store_true", help="add a bootstrap row on synthetic.generate(scale=1)")
    parser.add_argument("--task", help=argparse.SUPPRESS)
    parser.add_argument("--kwargs", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.task:
        kwargs = json.loads(args.kwargs)
        if "workdir" in kwargs:
            kwargs["workdir"] = Path(kwargs["workdir"])
        print(json.dumps(TASKS[args.task](**kwargs)))
        return

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-transitions-"))
    workdir.mkdir(parents=True, exist_ok=True)
    w = str(workdir)
    rows = []
    gen = measure("generate", workdir=w, scale=args.scale, persons_per_scale=70_000)
    print(f"generated {gen['persons']:,} persons and {gen['spells']:,} spells in {gen['process_seconds']:.1f} s")
    size = f"{gen['persons']:,} persons, {gen['spells']:,} spells"
    for period in ("year", "month"):
        r = measure("panel", workdir=w, period=period)
        rows.append((f"spells -> {period}ly panel (Parquet out)", size, f"{r['rows']:,} rows", r))
        print(rows[-1][0], f"{r['seconds']:.1f} s", f"{r['peak_gb']:.2f} GB", flush=True)
    for period in ("year", "month"):
        r = measure("counts", workdir=w, period=period)
        rows.append((f"transition counts, {period}ly panel (streamed)", size, f"{r['transitions']:,} transitions", r))
        print(rows[-1][0], f"{r['seconds']:.1f} s", f"{r['peak_gb']:.2f} GB", flush=True)
    sources = ["generator"] + (["synthetic"] if args.synthetic else [])
    for source in sources:
        r = measure("bootstrap", workdir=w, n_persons=args.boot_persons, n_boot=args.n_boot, source=source)
        label = f"bootstrap B={args.n_boot}, yearly matrix ({source})"
        rows.append((label, f"{r['persons']:,} persons", f"{r['transitions']:,} transitions", r))
        print(label, f"{r['seconds']:.1f} s", f"{r['peak_gb']:.2f} GB", flush=True)

    print()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{datetime.date.today()}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {load}")
    print("| measurement | input | output | seconds | process CPU seconds | peak memory (GB) |")
    print("|---|---|---|---:|---:|---:|")
    for label, size, out, r in rows:
        print(f"| {label} | {size} | {out} | {r['seconds']:.1f} | {r['cpu_seconds']:.0f} | {r['peak_gb']:.2f} |")


if __name__ == "__main__":
    main()
