"""The chain as a tool: a full run serial against side by side (run.max_parallel = 2), and the same
folder brought up to date again with nothing changed.

    .venv/bin/python benchmarks/bench_chain.py [PARAMS] [--out DIR]     (default params/default.yaml)

Prints wall and CPU time (this process and its children: the notebooks' processes and kernels) of each
run, the ratios, and whether the parallel run's results and figures are byte-identical to the serial run's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from progression.chain.runner import run_chain

ROOT = Path(__file__).resolve().parents[1]


def cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, **kwargs):
    w0, c0 = time.perf_counter(), cpu()
    result = run_chain(progress=False, **kwargs)
    wall, used = time.perf_counter() - w0, cpu() - c0
    print(f"{label:<32} wall {wall:8.1f} s   CPU {used:8.1f} s   executed {len(result.executed)}, "
          f"skipped {len(result.skipped)}", flush=True)
    return result, wall, used


def outputs(run_dir: Path) -> dict:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return {k: manifest["outputs"][k] for k in ("results", "figures")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("params", nargs="?", default=str(ROOT / "params" / "default.yaml"))
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="bench_chain_"))
    out.mkdir(parents=True, exist_ok=True)
    serial_params, parallel_params = out / "serial.yaml", out / "parallel.yaml"
    serial_params.write_text(f"extends: {Path(args.params).resolve()}\nrun: {{max_parallel: 1}}\n")
    parallel_params.write_text(f"extends: {Path(args.params).resolve()}\nrun: {{max_parallel: 2}}\n")
    print(f"{args.params} on {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}", flush=True)
    serial, s_wall, s_cpu = timed("serial (max_parallel 1)", params_path=serial_params, run_dir=out / "serial")
    again, a_wall, a_cpu = timed("up to date, nothing changed", params_path=serial_params, run_dir=out / "serial")
    parallel, p_wall, p_cpu = timed("side by side (max_parallel 2)", params_path=parallel_params,
                                    run_dir=out / "parallel")
    print(f"side by side / serial, wall: {p_wall / s_wall:.2f}; up to date / first run, wall: {a_wall / s_wall:.3f}")
    print(f"parallel results and figures byte-identical to serial: {outputs(serial.run_dir) == outputs(parallel.run_dir)}")
    print(f"up-to-date run reran: {again.executed or 'nothing'}")


if __name__ == "__main__":
    main()
