"""The chain's specification: which notebooks there are, what each reads and writes, which depend on which.

Each notebook is declared in one file beside the notebooks, ``notebooks/chain.yaml``::

    10_progression:
      needs: [00_data]                                  # notebooks that must run before it
      reads: [data/assessments.parquet, data/truth.json]  # files of the run folder it reads (glob patterns)
      writes: [results/progression_*, figures/progression_*]
      params: [progression, staircase, disclosure, report]  # parameter sections it reads

The runner uses the declaration three ways: the order (a notebook runs when its ``needs`` have run, side
by side with others that are ready), whether a notebook is up to date (its source, the parameter
sections it reads, the code, and the files it reads are unchanged since its last successful execution),
and a check after each execution that the notebook read and wrote only what it declares.

Examples
--------
>>> from progression.chain.spec import load_chain
>>> chain = load_chain()
>>> chain.names[0], chain.names[-1]
('00_data', '90_report')
>>> chain["90_report"].needs[:1]
('00_data',)
"""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass
from pathlib import Path

import yaml

from progression._paths import CHECKOUT, PACKAGE_DIR, in_checkout
from progression.exceptions import ChainError, ParameterError

__all__ = ["NotebookSpec", "Chain", "load_chain", "notebooks_dir", "PARAMETER_SECTIONS"]

#: Parameter sections a notebook may declare; ``run`` counts only through ``run.seed``.
PARAMETER_SECTIONS = ("run", "data", "staircase", "progression", "transitions", "variation", "steering", "fund",
                      "design", "payment", "disclosure", "report")
_PACKAGE_NOTEBOOKS = PACKAGE_DIR / "notebooks"
_CHECKOUT_NOTEBOOKS = CHECKOUT / "notebooks"


def notebooks_dir() -> Path:
    """The chain's notebooks: the checkout's ``notebooks/`` when the package runs from a checkout, else
    the copy the installed package carries."""
    if in_checkout() and (_CHECKOUT_NOTEBOOKS / SPEC_FILE).is_file():
        return _CHECKOUT_NOTEBOOKS
    if _PACKAGE_NOTEBOOKS.is_dir():
        return _PACKAGE_NOTEBOOKS
    raise ChainError(f"no notebooks found: neither {_CHECKOUT_NOTEBOOKS} nor {_PACKAGE_NOTEBOOKS} exists")


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook of the chain and its declaration."""

    name: str
    path: Path
    needs: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    writes: tuple[str, ...] = ()
    params: tuple[str, ...] = ()

    def declares_read(self, relative: str) -> bool:
        """Whether a run-folder path (relative, with '/') is among what the notebook reads or writes."""
        return any(fnmatch.fnmatchcase(relative, p) for p in (*self.reads, *self.writes))

    def declares_write(self, relative: str) -> bool:
        """Whether a run-folder path is among what the notebook writes."""
        return any(fnmatch.fnmatchcase(relative, p) for p in self.writes)


SPEC_FILE = "chain.yaml"


def _read_spec(path: Path, declared: dict) -> NotebookSpec:
    meta = declared.get(path.stem)
    if meta is None:
        raise ChainError(f"notebook {path.name} is not declared in {path.parent / SPEC_FILE}: add an entry "
                         f"'{path.stem}' with needs, reads, writes and params (see progression.chain.spec)")
    unknown = set(meta) - {"needs", "reads", "writes", "params"}
    if unknown:
        raise ChainError(f"{SPEC_FILE}, notebook {path.stem}: unknown key(s) {sorted(unknown)}; "
                         "keys: needs, reads, writes, params")
    sections = [s for s in meta.get("params", []) if s not in PARAMETER_SECTIONS]
    if sections:
        raise ChainError(f"{SPEC_FILE}, notebook {path.stem}: unknown parameter section(s) {sections}; "
                         f"sections: {list(PARAMETER_SECTIONS)}")
    return NotebookSpec(name=path.stem, path=path, needs=tuple(meta.get("needs") or ()),
                        reads=tuple(meta.get("reads") or ()), writes=tuple(meta.get("writes") or ()),
                        params=tuple(meta.get("params") or ()))


class Chain:
    """The notebooks of the chain, in file-name order, with their declarations."""

    def __init__(self, specs: list[NotebookSpec]):
        self.specs = {s.name: s for s in specs}
        self.names = [s.name for s in specs]
        for spec in specs:
            unknown = [n for n in spec.needs if n not in self.specs]
            if unknown:
                raise ChainError(f"notebook {spec.name} needs {unknown}, which are not in the chain: {self.names}")
            later = [n for n in spec.needs if self.names.index(n) > self.names.index(spec.name)]
            if later:
                raise ChainError(f"notebook {spec.name} needs {later}, which come after it; a notebook may only "
                                 "need notebooks that sort before it")

    def __getitem__(self, name: str) -> NotebookSpec:
        return self.specs[name]

    def __iter__(self):
        return iter(self.specs.values())

    def find(self, name: str) -> str:
        """The chain name of ``name``: a full name, its number (``20``) or its title (``transitions``).

        Raises
        ------
        ParameterError
            Naming the notebooks, with a suggestion for a mistyped name.
        """
        matches = [n for n in self.names if name in (n, n.split("_", 1)[0], n.split("_", 1)[-1])]
        if len(matches) == 1:
            return matches[0]
        close = difflib.get_close_matches(name, self.names + [n.split("_", 1)[-1] for n in self.names], n=1)
        hint = f"; did you mean {self.find(close[0])!r}?" if close else ""
        raise ParameterError(f"notebook '{name}' is not in the chain{hint} Notebooks: {', '.join(self.names)}")

    def ancestors(self, name: str) -> set[str]:
        """Every notebook ``name`` needs, directly or through others."""
        out: set[str] = set()
        todo = list(self[name].needs)
        while todo:
            n = todo.pop()
            if n not in out:
                out.add(n)
                todo.extend(self[n].needs)
        return out

    def descendants(self, names) -> list[str]:
        """``names`` and every notebook that needs one of them, in chain order."""
        names = set(names)
        return [n for n in self.names if n in names or self.ancestors(n) & names]

    def select(self, *, only: str | None = None, start: str | None = None, wanted=None) -> list[str]:
        """The notebooks to consider: all, ``only`` one, ``start`` and what follows it, or ``wanted``."""
        if only:
            return [self.find(only)]
        if start:
            return self.names[self.names.index(self.find(start)):]
        if wanted:
            keep = {self.find(w) for w in wanted}
            return [n for n in self.names if n in keep]
        return list(self.names)


def load_chain(directory: Path | None = None) -> Chain:
    """Read the chain's notebooks (``NN_name.ipynb``, in name order) and their declarations (``chain.yaml``)."""
    directory = Path(directory) if directory else notebooks_dir()
    paths = sorted(directory.glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise ChainError(f"no notebooks found in {directory}")
    spec_file = directory / SPEC_FILE
    declared = yaml.safe_load(spec_file.read_text(encoding="utf-8")) if spec_file.exists() else {}
    stale = sorted(set(declared or {}) - {p.stem for p in paths})
    if stale:
        raise ChainError(f"{spec_file} declares notebooks that do not exist: {stale}")
    return Chain([_read_spec(p, declared or {}) for p in paths])
