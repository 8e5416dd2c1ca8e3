"""The chain: bring a run folder up to date by executing the notebooks that need it, side by side where
their inputs allow, and record every execution in the manifest.

A run folder ``runs/<run_id>/`` holds the executed notebooks, ``data/`` (validated inputs, never to
leave the server), ``results/`` and ``figures/`` (aggregates after disclosure control), ``log/`` (each
section's disclosure log, report items, reads, and each notebook's console output), ``report.html`` and
``manifest.json``. ``runs/latest`` points at the last successful run.

A notebook runs again only when something it depends on changed since its last successful execution in
the folder: its source, the parameter sections it declares (``run`` only through ``run.seed``), the
package's code, or a file it reads; or when its outputs are gone or changed. The manifest says for each
notebook whether it ran or was skipped, and why; ``force=True`` reruns everything selected. Notebooks
whose needs are done run side by side, up to ``run.max_parallel`` at a time, each in a process of its
own; the results do not depend on the order.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import platform
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from importlib import metadata
from pathlib import Path

from progression._paths import CHECKOUT as PROJECT_ROOT
from progression._paths import PACKAGE_DIR, in_checkout
from progression.chain.run_context import (
    LOG_DIR,
    PARAMS_LOG,
    READS_LOG,
    collect_disclosure,
    collect_report_items,
    reset_section,
    section_log,
)
from progression.chain.spec import Chain, NotebookSpec, load_chain
from progression.config import Params, load_params
from progression.exceptions import ChainError, ProgressionError, exit_code, user_error_class

__all__ = ["run_chain", "RunResult", "package_info"]

PACKAGES = ("progression", "numpy", "pandas", "scipy", "statsmodels", "scikit-learn", "pandera",
            "duckdb", "pyarrow", "papermill", "matplotlib", "seaborn", "pydantic", "joblib")
_CODE_SUFFIXES = (".py", ".yaml", ".html", ".csv")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def hash_tree(root: Path, pattern: str = "*") -> dict[str, str]:
    """SHA-256 of every file under ``root`` matching ``pattern``, by path relative to ``root``."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): sha256(p) for p in sorted(root.rglob(pattern)) if p.is_file()}


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@cache
def code_sha256() -> str:
    """One hash of the package's code and data files: any change to the library changes it."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and path.suffix in _CODE_SUFFIXES and "__pycache__" not in path.parts:
            h.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


@cache
def package_info() -> dict:
    """The package's version, the commit it was built or run from, and the hash of its code."""
    try:
        version = metadata.version("progression")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        version = None
    commit, dirty = None, None
    if in_checkout() and (PROJECT_ROOT / ".git").exists():
        commit = _git("rev-parse", "HEAD")
        status = _git("status", "--porcelain", "--untracked-files=no")
        dirty = bool(status) if status is not None else None
    else:
        built = PACKAGE_DIR / "_build.json"
        if built.exists():
            info = json.loads(built.read_text())
            commit, dirty = info.get("commit"), info.get("dirty")
    return {"version": version, "commit": commit, "dirty": dirty, "code_sha256": code_sha256()}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass
class RunResult:
    """Where a run went and what it did."""

    run_dir: Path
    executed: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)


def new_run_dir(params: Params) -> Path:
    """``<output_dir>/<UTC time>-<run name>``, unique."""
    base = Path(params.run.output_dir)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run_dir = base / f"{stamp}-{params.run.name}"
    k = 1
    while run_dir.exists():
        k += 1
        run_dir = base / f"{stamp}-{params.run.name}-{k}"
    return run_dir


def _source_files(params: Params) -> dict[str, str]:
    if params.data.source != "files":
        return {}
    files = params.data.files
    paths = {name: Path(files.directory) / entry.file for name, entry in sorted(files.tables.items())}
    return {name: sha256(path) for name, path in paths.items() if path.is_file()}


class _Hashes:
    """File hashes, computed once per file state (size and modification time) within a run."""

    def __init__(self):
        self._cache: dict[tuple, str] = {}
        self._lock = threading.Lock()

    def __call__(self, path: Path) -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = sha256(path)
            return self._cache[key]

    def matching(self, run_dir: Path, patterns, exclude=()) -> dict[str, str]:
        out = {}
        for pattern in patterns:
            for path in sorted(run_dir.glob(pattern)):
                rel = path.relative_to(run_dir).as_posix()
                if path.is_file() and not any(fnmatch.fnmatchcase(rel, p) for p in exclude):
                    out[rel] = self(path)
        return out


def _section_hash(params: Params, section: str) -> str:
    if section == "run":
        data = {"seed": params.run.seed}
    else:
        data = getattr(params, section).model_dump(mode="json")
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def fingerprint(spec: NotebookSpec, params: Params, run_dir: Path, hashes: _Hashes) -> dict:
    """What a notebook's results depend on: its source, its parameter sections, the code, the files it reads."""
    out = {
        "source": sha256(spec.path),
        "params": {s: _section_hash(params, s) for s in sorted({*spec.params, "run"})},
        "code": code_sha256(),
        "inputs": hashes.matching(run_dir, spec.reads, exclude=spec.writes),
    }
    if "data" in spec.params:
        out["source_files"] = _source_files(params)
    return out


def _changes(old: dict, new: dict) -> list[str]:
    reasons = []
    if old.get("source") != new["source"]:
        reasons.append("the notebook changed")
    changed = sorted(s for s in set(old.get("params", {})) | set(new["params"])
                     if old.get("params", {}).get(s) != new["params"].get(s))
    if changed:
        reasons.append("parameters changed: " + ", ".join(changed))
    if old.get("code") != new["code"]:
        reasons.append("the package's code changed")
    inputs = sorted(k for k in set(old.get("inputs", {})) | set(new["inputs"])
                    if old.get("inputs", {}).get(k) != new["inputs"].get(k))
    if inputs:
        reasons.append("inputs changed: " + ", ".join(inputs[:5]) + (" …" if len(inputs) > 5 else ""))
    if old.get("source_files") != new.get("source_files"):
        reasons.append("the source files changed")
    return reasons


class _Manifest:
    """``manifest.json``: the run's parameters, code and versions, and one record per notebook execution."""

    def __init__(self, run_dir: Path, params: Params, command: dict):
        self.path = run_dir / "manifest.json"
        self.run_dir, self.params = run_dir, params
        old = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.history: list[dict] = old.get("history", [])
        self.invocations: list[dict] = old.get("invocations", [])
        self.created = old.get("created", _now())
        self.invocation = {"started": _now(), "finished": None, "command": command, "executed": [], "skipped": {}}
        self.invocations.append(self.invocation)
        self.lock = threading.Lock()

    def last_success(self, name: str) -> dict | None:
        done = [r for r in self.history if r["name"] == name and r["status"] == "executed"]
        return done[-1] if done else None

    def record(self, entry: dict) -> None:
        with self.lock:
            entry["invocation"] = len(self.invocations)
            self.history.append(entry)
            if entry["status"] == "skipped":
                self.invocation["skipped"][entry["name"]] = entry["reason"]
            else:
                self.invocation["executed"].append(entry["name"])

    def write(self, *, status: str, chain: Chain, error: str | None = None, exit_code: int | None = None) -> Path:
        with self.lock:
            latest = {}
            for entry in self.history:
                latest[entry["name"]] = entry
            notebooks = []
            for name in chain.names:
                if name not in latest:
                    continue
                last = latest[name]
                run = self.last_success(name) or last
                notebooks.append({"name": name, "status": last["status"], "reason": last.get("reason"),
                                  "seconds": run.get("seconds"), "cpu_seconds": run.get("cpu_seconds"),
                                  "executed": run.get("finished")})
            if status != "running":
                self.invocation["finished"] = _now()
            disclosure = collect_disclosure(self.run_dir)
            manifest = {
                "run_id": self.run_dir.name,
                "status": status,
                "error": error,
                "exit_code": exit_code,
                "created": self.created,
                "updated": _now(),
                "parameter_file": str(self.params.source_file) if self.params.source_file else None,
                "parameters": self.params.model_dump(mode="json", exclude={"source_file"}),
                "package": package_info(),
                "notebooks": notebooks,
                "invocations": self.invocations,
                "history": self.history,
                "git": {"commit": package_info()["commit"], "dirty": package_info()["dirty"]},
                "versions": versions(),
                "platform": {"system": platform.system(), "machine": platform.machine(), "cpus": os.cpu_count()},
                "inputs": {"source_files": _source_files(self.params), "data": hash_tree(self.run_dir / "data")},
                "outputs": {"results": hash_tree(self.run_dir / "results"),
                            "figures": hash_tree(self.run_dir / "figures"),
                            "report": hash_tree(self.run_dir, "report.html")},
                "disclosure": {k: v for k, v in disclosure.items() if k != "_refused"},
                "refused": disclosure.get("_refused", {}),
            }
            self.path.write_text(json.dumps(manifest, indent=2, default=str, ensure_ascii=False))
            # every section's disclosure log and report items in one file each, for whoever reviews the run
            (self.run_dir / "disclosure.json").write_text(json.dumps(disclosure, indent=2, sort_keys=True,
                                                                      ensure_ascii=False))
            (self.run_dir / "report_items.json").write_text(json.dumps(collect_report_items(self.run_dir),
                                                                        indent=2, ensure_ascii=False))
            return self.path


def _point_latest(run_dir: Path, output_dir: Path) -> None:
    """Move ``<output_dir>/latest`` to ``run_dir`` atomically (only for folders under ``output_dir``)."""
    if run_dir.parent.resolve() != output_dir.resolve():
        return
    latest = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    os.replace(tmp, latest)


def _kernel_of(spec: NotebookSpec) -> str:
    nb = json.loads(spec.path.read_text(encoding="utf-8"))
    return nb.get("metadata", {}).get("kernelspec", {}).get("name", "python3")


def _failure(name: str, outcome: dict, output: Path, console: Path) -> ProgressionError:
    """The error a failed notebook ends the run with.

    A user error raised in the notebook (``ParameterError``, ``DataContractError``, ...: the notebook
    reports its class name) is raised again as itself, its message first and without a traceback, so the
    command line exits 2 as it does when the error is raised outside a notebook. Anything else is a
    :class:`ChainError` naming the notebook and the cell (exit 1).
    """
    cell = outcome.get("cell_index")
    user_error = user_error_class(outcome.get("ename"))
    if user_error is not None:
        where = f", cell {cell}" if cell is not None else ""
        return user_error(f"{outcome.get('evalue')}\n(raised in notebook {name}{where}; the partly executed "
                          f"notebook is kept at {output})")
    where = f"cell {cell}" if cell is not None else "a cell"
    if outcome.get("exec_count") is not None:
        where += f" (execution count {outcome['exec_count']})"
    return ChainError(f"notebook {name} failed in {where}: {outcome.get('ename')}: {outcome.get('evalue')}\n"
                      f"The partly executed notebook is kept at {output}; its console output at {console}")


def _start(spec: NotebookSpec, run_dir: Path, resolved: Path) -> tuple[subprocess.Popen, Path, Path]:
    logs = run_dir / LOG_DIR
    logs.mkdir(exist_ok=True)
    output = run_dir / "notebooks" / f"{spec.name}.ipynb"
    result = logs / f"{spec.name}.outcome.json"
    result.unlink(missing_ok=True)
    console = logs / f"{spec.name}.console.txt"
    job = logs / f"{spec.name}.job.json"
    job.write_text(json.dumps({
        "input": str(spec.path), "output": str(output), "result": str(result), "kernel": _kernel_of(spec),
        "cwd": str(run_dir), "parameters": {"params_path": str(resolved), "run_dir": str(run_dir)}}))
    env = {**os.environ, "PYTHONWARNINGS": os.environ.get("PYTHONWARNINGS", "ignore::DeprecationWarning")}
    with console.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "progression.chain._execute", str(job)], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    return proc, result, console


def _wait(proc: subprocess.Popen, future: Future) -> None:
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    future.set_result(usage.ru_utime + usage.ru_stime)


def _check_declaration(spec: NotebookSpec, run_dir: Path, started: float, others) -> list[str]:
    """What the notebook read, wrote and looked up that its declaration does not cover."""
    logs = section_log(run_dir, spec.name)
    problems = []
    for rel in json.loads((logs / READS_LOG).read_text()) if (logs / READS_LOG).exists() else []:
        if not spec.declares_read(rel):
            problems.append(f"it read {rel}, which its reads in chain.yaml do not cover")
    for section in json.loads((logs / PARAMS_LOG).read_text()) if (logs / PARAMS_LOG).exists() else []:
        if section != "run" and section not in spec.params:
            problems.append(f"it read the parameter section '{section}', which its params in chain.yaml do not list")
    for folder in ("data", "results", "figures"):
        for path in sorted((run_dir / folder).glob("*")):
            rel = path.relative_to(run_dir).as_posix()
            if path.stat().st_mtime >= started and not spec.declares_write(rel) \
                    and not any(o.declares_write(rel) for o in others):
                problems.append(f"it wrote {rel}, which its writes in chain.yaml do not cover")
    return problems


def run_chain(params_path: str | Path, *, only: str | None = None, start: str | None = None,
              run_dir: str | Path | None = None, force: bool = False, progress: bool = True,
              notebooks: str | Path | None = None) -> RunResult:
    """Bring a run folder up to date: execute the notebooks that need it and record it in the manifest.

    Parameters
    ----------
    params_path : path
        The parameter file.
    only, start : str, optional
        Consider one notebook, or a notebook and those after it (names, numbers or titles).
    run_dir : path, optional
        The run folder to bring up to date (created if absent); default a new folder under
        ``run.output_dir``.
    force : bool, default False
        Execute the selected notebooks even when they are up to date.
    notebooks : path, optional
        The folder of the chain's notebooks (default: :func:`progression.chain.spec.notebooks_dir`).

    Returns
    -------
    RunResult
        The run folder, the notebooks executed (with their wall-clock seconds) and those skipped (why).

    Raises
    ------
    ProgressionError
        When a notebook fails: a user's error raised in it (``ParameterError``, ``DataContractError``,
        ``DisclosureError``) is raised again with its message first; anything else is a ``ChainError``
        naming the notebook and the cell. ``runs/latest`` is left where it was.

    Examples
    --------
    The whole chain on the ci parameters into a new folder, then the same folder brought up to date (a
    few minutes, so not run here)::

        >>> result = run_chain("params/ci.yaml")                                  # doctest: +SKIP
        >>> again = run_chain("params/ci.yaml", run_dir=result.run_dir)           # doctest: +SKIP
        >>> again.executed, sorted(again.skipped.values())[0]                      # doctest: +SKIP
        ([], 'up to date')
    """
    params = load_params(params_path)
    chain = load_chain(Path(notebooks) if notebooks else None)
    in_chain = chain.select(wanted=params.run.notebooks)  # run.notebooks leaves the others out of the chain
    selected = [n for n in chain.select(only=only, start=start) if n in in_chain]
    fresh = run_dir is None
    run_dir = (Path(run_dir) if run_dir else new_run_dir(params)).resolve()
    for sub in ("notebooks", "data", "results", "figures", LOG_DIR):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    resolved = run_dir / "params.yaml"
    resolved.write_text(params.to_yaml(), encoding="utf-8")
    params = load_params(resolved)
    manifest = _Manifest(run_dir, params, {"only": only, "from": start, "force": force, "fresh": fresh,
                                           "parameter_file": str(Path(params_path).resolve())})
    for name in selected:
        missing = [n for n in chain.ancestors(name)
                   if n in in_chain and n not in selected and manifest.last_success(n) is None]
        if missing:
            raise ChainError(f"notebook {name} needs {missing}, which have not run in {run_dir}; run them too "
                             "(drop --only/--from) or choose another run folder", exit_code=2)

    from tqdm.auto import tqdm

    hashes, result = _Hashes(), RunResult(run_dir=run_dir, executed=[])
    pending, running, done, failure = list(selected), {}, set(), None
    finished_at: dict[str, float] = {}
    limit = max(1, params.run.max_parallel)
    bar = tqdm(total=len(selected), desc="chain", unit="notebook", disable=not progress)
    while pending or running:
        for name in list(pending):
            if failure or len(running) >= limit:
                break
            spec = chain[name]
            if any(n in pending or n in running for n in spec.needs):
                continue
            pending.remove(name)
            new = fingerprint(spec, params, run_dir, hashes)
            last = manifest.last_success(name)
            reasons = ["forced"] if force else (["never ran here"] if last is None else _changes(last["fingerprint"], new))
            if not reasons and last is not None:
                outputs = hashes.matching(run_dir, spec.writes)
                if outputs != last.get("outputs", {}):
                    reasons = ["its outputs are missing or were changed"]
            if not reasons:
                manifest.record({"name": name, "status": "skipped", "reason": "up to date", "at": _now()})
                result.skipped[name] = "up to date"
                done.add(name)
                bar.update(1)
                continue
            reset_section(run_dir, name)
            proc, outcome_path, console = _start(spec, run_dir, resolved)
            future: Future = Future()
            threading.Thread(target=_wait, args=(proc, future), daemon=True).start()
            running[name] = (proc, future, outcome_path, console, time.time(), _now(), new, "; ".join(reasons))
        if not running:
            if pending and not failure:
                raise ChainError(f"notebooks {pending} cannot start: their needs did not finish")  # pragma: no cover
            break
        bar.set_postfix_str(", ".join(running))
        finished = _first_done(running)
        proc, future, outcome_path, console, t0, started, new, reason = running.pop(finished)
        seconds, cpu = time.time() - t0, future.result()
        outcome = json.loads(outcome_path.read_text()) if outcome_path.exists() else {
            "status": "failed", "ename": "ChainError", "evalue": f"the process running {finished} exited with "
            f"status {proc.returncode} (see {console})", "cell_index": None, "exec_count": None}
        entry = {"name": finished, "status": "executed", "reason": reason, "started": started, "finished": _now(),
                 "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "fingerprint": new}
        finished_at[finished] = time.time()
        if outcome["status"] == "ok":
            alongside = [chain[n] for n in running] + [chain[n] for n, at in finished_at.items()
                                                       if n != finished and at >= t0]
            problems = _check_declaration(chain[finished], run_dir, t0, alongside)
            if problems:
                outcome = {"status": "failed", "ename": "ChainError", "evalue": "it does not declare in chain.yaml "
                           "what it did: " + "; ".join(problems), "cell_index": None, "exec_count": None}
        if outcome["status"] == "ok":
            entry["outputs"] = hashes.matching(run_dir, chain[finished].writes)
            manifest.record(entry)
            result.executed.append(finished)
            result.durations[finished] = seconds
            done.add(finished)
            manifest.write(status="running", chain=chain)
        else:
            error = _failure(finished, outcome, run_dir / "notebooks" / f"{finished}.ipynb", console)
            manifest.record({**entry, "status": "failed", "error": str(error)})
            failure = failure or error
        bar.update(1)
    bar.close()
    if failure:
        manifest.write(status="failed", chain=chain, error=str(failure), exit_code=exit_code(failure))
        raise failure
    manifest.write(status="succeeded", chain=chain, exit_code=0)
    _point_latest(run_dir, Path(params.run.output_dir))
    return result


def _first_done(running: dict) -> str:
    while True:
        for name, job in running.items():
            if job[1].done():
                return name
        time.sleep(0.05)
