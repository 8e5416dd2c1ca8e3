"""Execute one notebook of the chain with Papermill, in a process of its own.

``python -m progression.chain._execute SPEC.json`` reads the notebook, the output path, the parameters to
inject, the kernel and the working folder from ``SPEC.json``, executes the notebook and writes
``{"status": "ok"}`` or ``{"status": "failed", "ename": ..., "evalue": ..., "cell_index": ...,
"exec_count": ...}`` to the result path the spec names. The runner starts one such process per notebook,
so notebooks can run side by side, and keeps their console output (kernel warnings included) in the run
folder's log instead of the user's console.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path


def execute(spec: dict) -> dict:
    """Run the notebook described by ``spec``; return the outcome (never raises for a notebook error)."""
    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.WARNING)
    try:
        pm.execute_notebook(spec["input"], spec["output"], parameters=spec["parameters"],
                            kernel_name=spec["kernel"], cwd=spec["cwd"], progress_bar=False, log_output=False,
                            **_kernel_options())
    except pm.PapermillExecutionError as err:
        return {"status": "failed", "ename": err.ename, "evalue": err.evalue, "cell_index": err.cell_index,
                "exec_count": err.exec_count}
    except Exception as err:  # a kernel that died, a notebook that cannot be read: an internal failure
        return {"status": "failed", "ename": type(err).__name__, "evalue": str(err), "cell_index": None,
                "exec_count": None}
    return {"status": "ok"}


def _kernel_options() -> dict:
    """Encrypt the kernel's connection with CurveZMQ where pyzmq supports it (ipykernel's kernelspec declares
    support): the kernel then has no reason to warn that it "is running over TCP without encryption"."""
    import zmq
    from traitlets.config import Config

    config = Config()
    if zmq.has("curve"):
        config.KernelManager.transport_encryption = "auto"
    return {"config": config}


def main(argv: list[str]) -> int:
    spec = json.loads(Path(argv[0]).read_text())
    outcome = execute(spec)
    Path(spec["result"]).write_text(json.dumps(outcome))
    return 0 if outcome["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
