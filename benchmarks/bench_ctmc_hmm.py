"""Misclassification and piecewise-constant models of progression.transitions.ctmc against R's msm.

Run through ``benchmarks/bench_ctmc.py --model misc,pci [--subjects 10000] [--no-r]``. For each model:
msm's `cav` example (extracted from the installed R package; never stored) and a simulated panel of
``--subjects`` citizens; ours and msm from the same initial values, msm with BFGS allowed to converge
fully (``fnscale`` at the initial -2 log L, ``reltol = 1e-10``), so the two optima can be compared.
Timings are wall-clock and CPU seconds of the fit call alone (data checks included, CSV reading excluded).

* misc, simulated: three functioning levels (light, moderate, severe) moving between neighbours, assessed
  at irregular times (gaps uniform on 0.3-1.7 years, six assessments), each assessment recorded as a
  neighbouring level with probability 0.15-0.2; initial distribution known (0.4, 0.35, 0.25).
* pci, simulated: the six-state staircase of ``bench_ctmc`` (death exact), yearly visits 0-7, every
  intensity into a higher step 1.5 times higher and into a lower one 0.8 times lower from year 3.5 on,
  cut at 3.5 (between visits, so each citizen gets a censored observation there).
"""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from progression.transitions import ctmc

ROOT = Path(__file__).resolve().parents[1]
FIT = ROOT / "tests" / "results" / "ctmc" / "fit_hmm_msm.R"
Q_ONEWAY = np.array([[0, 0.148, 0, 0.0171], [0, 0, 0.202, 0.081], [0, 0, 0, 0.126], [0, 0, 0, 0]])
E_CAV = np.array([[0, 0.1, 0, 0], [0.1, 0, 0.1, 0], [0, 0.1, 0, 0], [0, 0, 0, 0]])
Q_TWOWAY = np.array([[0, 0.25, 0, 0.25], [0.166, 0, 0.166, 0.166], [0, 0.25, 0, 0.25], [0, 0, 0, 0]])


def cav_data(folder: Path) -> pd.DataFrame:
    target = folder / "cav.csv"
    subprocess.run(["Rscript", "-e", f"library(msm); write.csv(cav, file = '{target.as_posix()}', row.names = FALSE)"],
                   check=True, capture_output=True)
    cav = pd.read_csv(target)
    return cav.rename(columns={"PTNUM": "subject", "years": "time", "firstobs": "obstrue"})[
        ["subject", "time", "state", "obstrue"]]


def simulated_misc(n: int, seed: int):
    rng = np.random.default_rng(seed)
    q = np.array([[0, 0.12, 0], [0.11, 0, 0.09], [0, 0.14, 0]])
    e = np.array([[0, 0.18, 0], [0.08, 0, 0.11], [0, 0.15, 0]])
    start = rng.choice([1, 2, 3], n, p=[0.4, 0.35, 0.25])
    times = np.cumsum(rng.uniform(0.3, 1.7, size=(n, 6)), axis=1)
    data = ctmc.simulate_panel(q, n, times, start=start, seed=rng)
    full = e.copy()
    np.fill_diagonal(full, 1 - full.sum(axis=1))
    codes = data["state"].to_numpy() - 1
    data["state"] = 1 + (rng.random(len(codes))[:, None] < np.cumsum(full[codes], axis=1)).argmax(axis=1)
    inits = np.where(q > 0, 0.1, 0.0)
    return data, inits, np.where(e > 0, 0.1, 0.0), [0.4, 0.35, 0.25]


def simulated_pci(n: int, seed: int):
    from bench_ctmc import staircase_qmatrix

    rng = np.random.default_rng(seed)
    q1 = staircase_qmatrix()
    q2 = q1.copy()
    upper = np.triu(np.ones_like(q1, dtype=bool), 1)
    q2[upper & (q1 > 0)] *= 1.5
    q2[~upper & (q1 > 0)] *= 0.8
    q2[:5, 5] = q1[:5, 5]  # death unchanged
    start = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.1, 0.15, 0.45, 0.15, 0.15])
    before = ctmc.simulate_panel(q1, n, np.arange(0.0, 4.0), death_states=[6], start=start, seed=rng)
    alive = before.groupby("subject").tail(1)
    alive = alive[alive["state"] != 6]
    # continue from the state at 3.5: simulate 3 -> 3.5 under q1, then 3.5 -> 7 under q2
    mid = ctmc.simulate_panel(q1, len(alive), [3.0, 3.5], death_states=[6], start=alive["state"].to_numpy(), seed=rng)
    mid["subject"] = alive["subject"].to_numpy()[mid["subject"].to_numpy() - 1]
    dead_mid = mid[mid["state"] == 6]
    at_cut = mid[(mid["time"] == 3.5) & (mid["state"] != 6)]
    after = ctmc.simulate_panel(q2, len(at_cut), np.r_[3.5, np.arange(4.0, 8.0)], death_states=[6],
                                start=at_cut["state"].to_numpy(), seed=rng)
    after["subject"] = at_cut["subject"].to_numpy()[after["subject"].to_numpy() - 1]
    data = pd.concat([before, dead_mid, after[after["time"] > 3.5]]).sort_values(["subject", "time"], kind="stable")
    data = data.drop_duplicates(["subject", "time"]).reset_index(drop=True)
    data = data[data.groupby("subject")["subject"].transform("size") > 1]
    inits = ctmc.crude_inits(data, subject="subject", time="time", state="state", qmatrix=q1).to_numpy()
    return data, inits


def run_ours(data, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ctmc.fit(data, subject="subject", time="time", state="state", **kwargs)
    return model, time.perf_counter() - wall, time.process_time() - cpu


def run_msm(data, qmatrix, options, folder: Path):
    data.to_csv(folder / "data.csv", index=False)
    np.savetxt(folder / "qmatrix.csv", np.asarray(qmatrix, dtype=float), delimiter=",", fmt="%.17g")
    run = subprocess.run(["Rscript", str(FIT), str(folder / "data.csv"), str(folder / "qmatrix.csv"),
                          str(folder / "out.json"), *options], capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"msm failed:\n{run.stderr}")
    return json.loads((folder / "out.json").read_text())


def compare(label, data, ours_kwargs, msm_options, qmatrix, folder, with_r):
    model, wall, cpu = run_ours(data, **ours_kwargs)
    print(f"{label}: {model.n_subjects_} subjects, {model.n_observations_} rows, {model.n_free_params_} parameters, "
          f"{model.n_groups_} distinct (pattern, interval) groups")
    print(f"  progression.transitions.ctmc: {wall:8.2f} s ({cpu:.2f} s CPU)   -2 log L = {model.minus2loglik_:.4f}   "
          f"BFGS iterations {model.n_iter_}")
    row = {"label": label, "subjects": model.n_subjects_, "rows": model.n_observations_,
           "params": model.n_free_params_, "ours_s": wall, "ours_cpu": cpu, "ours_m2ll": model.minus2loglik_,
           "msm_s": np.nan, "msm_cpu": np.nan, "msm_m2ll": np.nan}
    if with_r:
        init = ctmc.fit(data, subject="subject", time="time", state="state",
                        **{**ours_kwargs, "fixedpars": True}).minus2loglik_
        out = run_msm(data, qmatrix, [*msm_options, f"fnscale={init!r}", "reltol=1e-10", "maxit=10000"], folder)
        row.update(msm_s=out["seconds"], msm_cpu=out["cpu_seconds"], msm_m2ll=out["minus2loglik"])
        print(f"  R msm {out['msm_version']}: {out['seconds']:8.2f} s ({out['cpu_seconds']:.2f} s CPU)   "
              f"-2 log L = {out['minus2loglik']:.4f}")
        print(f"  -2 log L difference (ours - msm): {model.minus2loglik_ - out['minus2loglik']:.2e}; msm / ours time "
              f"ratio: {out['seconds'] / wall:.0f} (wall), {out['cpu_seconds'] / cpu:.0f} (CPU)")
        q_diff = np.abs(model.qmatrix(ci="none").to_numpy() - np.asarray(out["qmatrix"])).max()
        print(f"  max |intensity difference| (at the covariate means): {q_diff:.2e}")
        if out.get("ematrix") is not None:
            e_diff = np.abs(model.ematrix(ci="none").to_numpy() - np.asarray(out["ematrix"])).max()
            print(f"  max |misclassification probability difference|: {e_diff:.2e}")
    return row


def main(args) -> None:
    models = [m.strip() for m in args.model.split(",")]
    unknown = set(models) - {"misc", "pci"}
    if unknown:
        raise SystemExit(f"--model: unknown {sorted(unknown)}; choose basic, or misc and/or pci")
    with_r = not args.no_r and shutil.which("Rscript") is not None
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cav = cav_data(folder) if with_r else None
        for name in models:
            if name == "misc":
                if cav is not None:
                    np.savetxt(folder / "e.csv", E_CAV, delimiter=",")
                    rows.append(compare("misc, cav (msm manual, model 5)", cav,
                                        dict(qmatrix=Q_ONEWAY, ematrix=E_CAV, death_states=[4], obstrue="obstrue"),
                                        [f"ematrix={folder / 'e.csv'}", "deathexact=4", "obstrue=1"], Q_ONEWAY,
                                        folder, with_r))
                data, q, e, f = simulated_misc(args.subjects, args.seed)
                np.savetxt(folder / "e.csv", e, delimiter=",")
                rows.append(compare(f"misc, simulated {args.subjects:,}", data,
                                    dict(qmatrix=q, ematrix=e, initprobs=f),
                                    [f"ematrix={folder / 'e.csv'}", f"initprobs={','.join(map(str, f))}"], q,
                                    folder, with_r))
            else:
                if cav is not None:
                    rows.append(compare("pci, cav (pci = 5)", cav.drop(columns="obstrue"),
                                        dict(qmatrix=Q_TWOWAY, death_states=[4], pci=[5.0]),
                                        ["deathexact=4", "pci=5"], Q_TWOWAY, folder, with_r))
                data, q = simulated_pci(args.subjects, args.seed)
                rows.append(compare(f"pci, simulated {args.subjects:,}", data,
                                    dict(qmatrix=q, death_states=[6], pci=[3.5]),
                                    ["deathexact=6", "pci=3.5"], q, folder, with_r))
    today = datetime.date.today().isoformat()
    print()
    for r in rows:
        cells = [today, r["label"], f"{r['subjects']:,}", f"{r['rows']:,}", str(r["params"]),
                 f"{r['ours_s']:.1f} ({r['ours_cpu']:.1f})", f"{r['msm_s']:.1f} ({r['msm_cpu']:.1f})",
                 f"{r['msm_s'] / r['ours_s']:.0f} ({r['msm_cpu'] / r['ours_cpu']:.0f})",
                 f"{r['ours_m2ll']:.4f}", f"{r['msm_m2ll']:.4f}"]
        print("| " + " | ".join(cells) + " |")
