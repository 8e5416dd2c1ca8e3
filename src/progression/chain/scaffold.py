"""``progression new``: a notebook for a new analysis, ready to run in the chain.

The scaffold is a working analysis on the run's yearly panel — one disclosed table and one figure —
with a parameters cell, a run context and prose to replace. It is declared in ``chain.yaml`` (it needs
``00_data``; the report needs it), so the chain runs it in number order, the report gives it a section
of its own, and nbval tests it like every notebook of the chain.

Examples
--------
>>> import shutil, tempfile
>>> from pathlib import Path
>>> from progression.chain.spec import notebooks_dir
>>> folder = Path(tempfile.mkdtemp()) / "notebooks"
>>> _ = shutil.copytree(notebooks_dir(), folder)
>>> path = new_notebook("municipal_trends", after="30", directory=folder)
>>> 30 < int(path.name[:2]) < 40, path.name[2:]
(True, '_municipal_trends.ipynb')
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import yaml

from progression.chain.spec import SPEC_FILE, load_chain, notebooks_dir
from progression.exceptions import ParameterError

__all__ = ["new_notebook"]

_INTRO = """# {number} · {title}

**Question.** *What does this analysis ask? One or two sentences a reader of the report understands.*

**Data.** The run's validated tables (read with `ctx.table(...)`); the yearly person-period panel of steps
(`panel_year`) is built by `00_data`.

**Method.** *The estimator in prose and formulas, with references.*

Only aggregates leave the run: every table is written through `ctx.write_result`, which refuses a table
whose counts of persons are not declared and suppresses cells resting on fewer persons than
`disclosure.min_cell_size`; every figure is drawn from a table it returned."""

_SETUP = """import pandas as pd

from progression.chain.run_context import RunContext
from progression.disclosure import declare
from progression.plots.common import plot_lines

ctx = RunContext.open(params_path, run_dir, section="{name}")
panel = ctx.table("panel_year")
panel["year"] = pd.to_datetime(panel["period"]).dt.year
print(f"{{len(panel):,}} person-years, {{panel['year'].min()}}-{{panel['year'].max()}}")"""

_EXAMPLE_MD = """## A worked example: citizens per step and year

Replace this with your analysis. It counts citizens per step and year (citizens who died, emigrated or
moved during the year are not counted), declares the count as a count of persons, writes the table and
draws the figure from the table as written (suppressed cells are gaps)."""

_EXAMPLE = """observed = panel[panel["status"] == "observed"]
per_year = (observed.groupby(["year", "step"], observed=True)["person_id"].nunique().rename("n_persons").reset_index())
per_year = ctx.write_result("{name}_citizens_per_step", declare(per_year, counts="n_persons", labels="year"),
                            caption="Citizens per step and year (worked example of a new analysis).")
per_year.pivot(index="year", columns="step", values="n_persons")"""

_FIGURE = """ax = plot_lines(per_year, x="year", y="n_persons", hue="step")
ax.set_ylabel("citizens")
ctx.save_figure(ax.figure, "{name}_citizens_per_step", caption="Citizens per step and year (worked example).")"""

_CLOSING = """## Result

*What the table and the figure show, in sentences with numbers taken from the disclosed tables
(`ctx.add_text(..., values={{"n": ctx.value(per_year, "n_persons", year=..., step=...)}})`).*"""


def _number(chain, after: str | None) -> int:
    names = chain.names
    numbers = [int(n.split("_", 1)[0]) for n in names]
    if after is None:
        report = [n for n in names if n.split("_", 1)[-1] == "report"]
        upper = int(report[0].split("_", 1)[0]) if report else 100
        lower = max([x for x in numbers if x < upper], default=0)
    else:
        lower = int(chain.find(after).split("_", 1)[0])
        upper = min([x for x in numbers if x > lower], default=100)
    free = [k for k in range(lower + 1, upper) if k not in numbers]
    if not free:
        raise ParameterError(f"no free notebook number between {lower:02d} and {upper:02d}; choose another --after")
    middle = (lower + upper) / 2
    return min(free, key=lambda k: (abs(k - middle), k))


def new_notebook(name: str, *, after: str | None = None, directory: str | Path | None = None) -> Path:
    """Create ``NN_<name>.ipynb`` in the chain's notebook folder and declare it in ``chain.yaml``.

    Parameters
    ----------
    name : str
        Lower-case letters, digits and underscores, e.g. ``municipal_trends``.
    after : str, optional
        The notebook it follows (name, number or title); default: the last analysis before the report.
    directory : path, optional
        The notebook folder (default: the chain's).

    Returns
    -------
    Path
        The new notebook.

    Raises
    ------
    ParameterError
        For a bad name, a name already in the chain, or no free number.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ParameterError(f"new notebook name must be lower-case letters, digits and '_' and start with a "
                             f"letter; got {name!r}")
    directory = Path(directory) if directory else notebooks_dir()
    chain = load_chain(directory)
    if any(n.split("_", 1)[-1] == name for n in chain.names):
        raise ParameterError(f"a notebook named '{name}' is already in the chain: {chain.names}")
    number = _number(chain, after)
    full = f"{number:02d}_{name}"
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'params_path: str = "../params/ci.yaml"  # resolved parameter file (the runner passes the run\'s copy)\n'
        'run_dir: str = "../runs/interactive"  # run folder to read from and write to')
    params.metadata["tags"] = ["parameters"]
    title = name.replace("_", " ").capitalize()
    nb.cells = [nbformat.v4.new_markdown_cell(_INTRO.format(number=f"{number:02d}", title=title)), params,
                nbformat.v4.new_code_cell(_SETUP.format(name=full)),
                nbformat.v4.new_markdown_cell(_EXAMPLE_MD),
                nbformat.v4.new_code_cell(_EXAMPLE.format(name=name)),
                nbformat.v4.new_code_cell(_FIGURE.format(name=name)),
                nbformat.v4.new_markdown_cell(_CLOSING)]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    path = directory / f"{full}.ipynb"
    nbformat.write(nb, path)
    spec_file = directory / SPEC_FILE
    text = spec_file.read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines(keepends=True) if line.startswith("#"))
    declared = yaml.safe_load(text) or {}
    declared[full] = {"needs": ["00_data"], "params": ["disclosure", "report"], "reads": ["data/panel_year.parquet"],
                      "writes": [f"results/{name}_*", f"figures/{name}_*"]}
    for other, spec in declared.items():
        if other.split("_", 1)[-1] == "report":
            spec["needs"] = sorted({*spec.get("needs", []), full})
    ordered = dict(sorted(declared.items()))
    spec_file.write_text(header + yaml.safe_dump(ordered, sort_keys=False, default_flow_style=None, width=110,
                                                 allow_unicode=True), encoding="utf-8")
    load_chain(directory)  # the declaration reads back
    return path
