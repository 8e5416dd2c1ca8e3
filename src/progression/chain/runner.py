"""The chain: execute the notebooks in order with Papermill into a run folder, write the manifest.

A run folder ``runs/<run_id>/`` holds the executed notebooks, ``data/`` (validated inputs, never
to leave the server), ``results/`` and ``figures/`` (aggregates after disclosure control),
``report.html`` and ``manifest.json``. ``runs/latest`` points at the last successful run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from progression.config import Params, load_params
from progression.exceptions import ChainError, ParameterError, ProgressionError
from progression.chain.cli import INTERNAL_ERRORS
from progression.chain.run_context import DISCLOSURE_LOG, reset_section

PROJECT_ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("progression", "numpy", "pandas", "scipy", "statsmodels", "scikit-learn", "pandera",
            "duckdb", "pyarrow", "papermill", "matplotlib", "seaborn", "pydantic")


def notebooks_dir() -> Path:
    """The chain's notebooks: ``./notebooks`` when run from a checkout, else the project's."""
    local = Path.cwd() / "notebooks"
    return local if local.is_dir() else PROJECT_ROOT / "notebooks"


def chain(directory: Path | None = None) -> list[str]:
    """Notebook names of the chain in order (their file names sort in chain order)."""
    directory = directory or notebooks_dir()
    names = sorted(p.stem for p in directory.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        raise ChainError(f"no notebooks found in {directory}")
    return names


def select(names: list[str], *, only: str | None = None, start: str | None = None,
           wanted: list[str] | None = None) -> list[str]:
    """The notebooks to execute: all, ``only`` one, ``start`` onwards, or the ``wanted`` list."""
    def find(name: str) -> str:
        matches = [n for n in names if n == name or n.split("_", 1)[0] == name or n.split("_", 1)[1] == name]
        if len(matches) != 1:
            raise ParameterError(f"notebook '{name}' not in the chain; notebooks: {names}")
        return matches[0]

    if only:
        return [find(only)]
    if start:
        return names[names.index(find(start)):]
    if wanted:
        keep = {find(w) for w in wanted}
        return [n for n in names if n in keep]
    return names


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


def git_commit() -> dict:
    """The commit of the code that ran, and whether the work tree had changes."""
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class RunResult:
    """Where a run went and how it ended."""

    run_dir: Path
    executed: list[str]
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


def _input_files(params: Params) -> dict[str, str]:
    if params.data.source != "files":
        return {}
    files = params.data.files
    paths = {name: Path(files.directory) / entry.file for name, entry in sorted(files.tables.items())}
    return {name: sha256(path) for name, path in paths.items() if path.is_file()}


def write_manifest(run_dir: Path, params: Params, *, status: str, started: str, durations: dict,
                   executed: list[str], error: str | None = None) -> Path:
    """Record parameters, hashes, versions, commit, timings and disclosure in ``manifest.json``."""
    disclosure_path = run_dir / DISCLOSURE_LOG
    manifest = {
        "run_id": run_dir.name,
        "status": status,
        "error": error,
        "started": started,
        "finished": _now(),
        "parameter_file": str(params.source_file) if params.source_file else None,
        "parameters": params.model_dump(mode="json", exclude={"source_file"}),
        "notebooks": [{"name": n, "seconds": round(durations.get(n, float("nan")), 2)} for n in executed],
        "git": git_commit(),
        "versions": versions(),
        "platform": {"system": platform.system(), "machine": platform.machine(), "cpus": os.cpu_count()},
        "inputs": {"source_files": _input_files(params), "data": hash_tree(run_dir / "data")},
        "outputs": {"results": hash_tree(run_dir / "results"), "figures": hash_tree(run_dir / "figures"),
                    "report": hash_tree(run_dir, "report.html")},
        "disclosure": json.loads(disclosure_path.read_text()) if disclosure_path.exists() else {},
    }
    path = run_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=False, default=str))
    return path


def _point_latest(run_dir: Path) -> None:
    """Move ``<output_dir>/latest`` to ``run_dir`` atomically."""
    latest = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(run_dir.name, target_is_directory=True)
    os.replace(tmp, latest)


def _describe_failure(name: str, err: Exception, output: Path, kernel_log: Path) -> str:
    cell = getattr(err, "exec_count", None)
    cell_index = getattr(err, "cell_index", None)
    ename, evalue = getattr(err, "ename", type(err).__name__), getattr(err, "evalue", str(err))
    where = f"cell {cell_index}" if cell_index is not None else "a cell"
    if cell is not None:
        where += f" (execution count {cell})"
    text = (f"notebook {name} failed in {where}: {ename}: {evalue}\n"
            f"The partly executed notebook is kept at {output}")
    if kernel_log.is_file() and kernel_log.stat().st_size:
        tail = kernel_log.read_text(errors="replace").splitlines()[-5:]
        text += f"\nThe kernel's own log is kept at {kernel_log}; it ends:\n" + "\n".join(f"  {t}" for t in tail)
    return text


def _user_error_class(ename: str | None) -> type[ProgressionError] | None:
    """The package's user-error class named ``ename`` (a bad parameter, bad data, a disclosure refusal)."""
    pending, seen = [ProgressionError], set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        if cls.__name__ == ename and not issubclass(cls, INTERNAL_ERRORS) and cls is not ProgressionError:
            return cls
        pending.extend(cls.__subclasses__())
    return None


def _notebook_failure(name: str, err: Exception, output: Path, kernel_log: Path) -> ProgressionError:
    """The error a failed notebook ends the run with.

    A user error raised in the notebook (``ParameterError``, ``DataContractError``, ...; papermill
    reports its class name as ``ename``) is raised again as itself, its message first and without a
    traceback, so that the command line exits 2 as it does when the error is raised outside a
    notebook. Anything else is a :class:`ChainError` naming the notebook and the cell (exit 1).
    """
    if hasattr(err, "ename"):  # a cell raised: the kernel itself was fine, its log says nothing
        kernel_log.unlink(missing_ok=True)
    user_error = _user_error_class(getattr(err, "ename", None))
    if user_error is not None:
        cell_index = getattr(err, "cell_index", None)
        cell = f", cell {cell_index}" if cell_index is not None else ""
        return user_error(f"{err.evalue}\n(raised in notebook {name}{cell}; the partly executed notebook is kept "
                          f"at {output})")
    return ChainError(_describe_failure(name, err, output, kernel_log))


def _kernel_options(kernel_log: Path) -> dict:
    """Papermill engine options that keep the kernel's own messages off the console of a run.

    A kernel inherits the console's stderr, and two messages reach it that say nothing about the
    notebook: ipykernel's warning that the kernel "is running over TCP without encryption", and
    "KeyboardInterrupt caught in kernel", which ipykernel logs when jupyter_client interrupts it
    (as it always does before a shutdown) while it is still answering a message. The kernel's
    transport is encrypted with CurveZMQ where pyzmq supports it (ipykernel's kernelspec declares
    support), which removes the cause of the first, and the kernel's stderr goes to ``kernel_log``,
    which a failure of the kernel itself names (it is removed when the kernel ran the notebook to
    its end or to a cell's error). The notebook's own
    output and errors travel over the kernel's channels into the executed notebook, not over stderr.
    """
    import zmq
    from traitlets.config import Config

    config = Config({"QuietKernelManager": {"kernel_log": str(kernel_log)}})
    if zmq.has("curve"):
        config.KernelManager.transport_encryption = "auto"
    return {"kernel_manager_class": _kernel_manager_class(), "config": config}


@functools.cache
def _kernel_manager_class() -> type:
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Unicode

    class QuietKernelManager(AsyncKernelManager):
        """A kernel manager that sends the kernel process's stderr to a file."""

        kernel_log = Unicode("", config=True, help="file that receives the kernel process's stderr")

        async def start_kernel(self, **kw):
            if not self.kernel_log or "stderr" in kw:
                return await super().start_kernel(**kw)
            with open(self.kernel_log, "ab") as log:  # the kernel process holds its own copy of the handle
                return await super().start_kernel(stderr=log, **kw)

    return QuietKernelManager


def run_chain(params_path: str | Path, *, only: str | None = None, start: str | None = None,
              run_dir: str | Path | None = None, progress: bool = True) -> RunResult:
    """Execute the chain (or part of it) and write the manifest.

    Parameters
    ----------
    params_path : path
        The parameter file.
    only, start : str, optional
        Run one notebook, or the chain from a notebook on, against ``run_dir``.
    run_dir : path, optional
        An earlier run folder to rerun part of the chain in (required with ``only``/``start``).

    Raises
    ------
    ChainError
        When a notebook fails, naming it and the cell; ``runs/latest`` is left where it was.
    """
    import papermill as pm
    from tqdm.auto import tqdm

    params = load_params(params_path)
    if (only or start) and run_dir is None:
        raise ParameterError("--only and --from rerun part of the chain in an earlier run: give --run-dir")
    run_dir = Path(run_dir) if run_dir else new_run_dir(params)
    if (only or start) and not (run_dir / "params.yaml").exists():
        raise ParameterError(f"--run-dir {run_dir} is not a run folder (no params.yaml)")
    names = select(chain(), only=only, start=start, wanted=params.run.notebooks)
    run_dir = run_dir.resolve()
    (run_dir / "notebooks").mkdir(parents=True, exist_ok=True)
    resolved = run_dir / "params.yaml"
    resolved.write_text(params.to_yaml(), encoding="utf-8")
    started, durations = _now(), {}
    source = notebooks_dir()
    bar = tqdm(names, desc="chain", unit="notebook", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        output = run_dir / "notebooks" / f"{name}.ipynb"
        kernel_log = output.with_suffix(".kernel.log")
        t0 = time.perf_counter()
        reset_section(run_dir, name)
        try:
            pm.execute_notebook(
                str(source / f"{name}.ipynb"), str(output),
                parameters={"params_path": str(resolved), "run_dir": str(run_dir)},
                kernel_name="python3", cwd=str(run_dir), progress_bar=False, log_output=False,
                **_kernel_options(kernel_log),
            )
        except Exception as err:  # papermill wraps notebook errors; anything else is a failure too
            durations[name] = time.perf_counter() - t0
            failure = _notebook_failure(name, err, output, kernel_log)
            write_manifest(run_dir, params, status="failed", started=started, durations=durations,
                           executed=[n for n in names if n in durations], error=str(failure))
            raise failure from None
        kernel_log.unlink(missing_ok=True)
        durations[name] = time.perf_counter() - t0
        write_manifest(run_dir, params, status="running", started=started, durations=durations,
                       executed=[n for n in names if n in durations])
    write_manifest(run_dir, params, status="succeeded", started=started, durations=durations, executed=names)
    _point_latest(run_dir)
    return RunResult(run_dir=run_dir, executed=names, durations=durations)
