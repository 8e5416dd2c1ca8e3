"""Time and peak memory of the synthetic Denmark generator at several scales.

Run: ``.venv/bin/python benchmarks/bench_synthetic.py [--scales 1 10] [--write]``

Each scale runs in its own process, so the peak resident memory (``ru_maxrss``) is that scale's own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time


def child(scale: float, seed: int, write: bool) -> dict:
    from progression.config import StaircaseParams, SyntheticParams
    from progression.sources.synthetic import generate

    wall, cpu = time.perf_counter(), time.process_time()
    data = generate(SyntheticParams(scale=scale), StaircaseParams(), seed=seed)
    out = {"scale": scale, "generate_s": time.perf_counter() - wall, "generate_cpu_s": time.process_time() - cpu,
           "persons": len(data.tables["persons"]), "spells": len(data.tables["spells"]),
           "rows_total": sum(len(t) for t in data.tables.values()),
           "target_group_2022": data.truth["calibration"]["realised"]["target_group"]}
    if write:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            data.write(tmp)
        out["write_s"] = time.perf_counter() - start
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--write", action="store_true", help="also time writing Parquet + truth.json")
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.seed, args.write)))
        return
    rows = []
    for scale in args.scales:
        cmd = [sys.executable, __file__, "--child", str(scale), "--seed", str(args.seed)]
        cmd += ["--write"] if args.write else []
        rows.append(json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout))
    cols = ["scale", "generate_s", "generate_cpu_s", "write_s", "peak_rss_gb", "persons", "spells", "rows_total",
            "target_group_2022"]
    print(" | ".join(cols))
    for r in rows:
        print(" | ".join(f"{r[c]:.2f}" if isinstance(r.get(c), float) else str(r.get(c, "-")) for c in cols))


if __name__ == "__main__":
    main()
