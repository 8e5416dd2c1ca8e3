"""What a notebook uses to read its inputs and write its artefacts: the run folder seen from a notebook.

A notebook of the chain receives the path of the resolved parameter file and the run folder and
opens a :class:`RunContext`. An evaluator extending an analysis in JupyterLab does the same, on a run
folder the chain has written::

    from progression.chain.run_context import RunContext
    from progression.disclosure import declare

    ctx = RunContext.open("runs/latest/params.yaml", "runs/latest", section="my_analysis")
    panel = ctx.table("panel_year")
    women = ...                                   # an aggregate computed from the panel
    women = ctx.write_result("women_transitions", declare(women, counts=["n"], stats={"prob": "n"}),
                             caption="Transitions of women")
    fig = progression.plots.transitions.plot_matrix(women)   # drawn from the disclosed table
    ctx.save_figure(fig, "women_transitions", caption="Transitions of women")

Everything that leaves goes through disclosure control (:mod:`progression.disclosure`): a results
table, a set of key numbers and the data of a figure must be declared — counts, statistics and the
counts they rest on, magnitudes, safe columns, labels — or they are refused. Tables returned by
:mod:`progression.analyses` carry their declaration. Each section keeps its own log in
``log/<section>/``: what was suppressed and refused (``disclosure.json``, gathered into the manifest by
:func:`collect_disclosure`), what the report shows (``report_items.json``, :func:`collect_report_items`),
and which files and parameter sections it read (``reads.json``, ``params.json``: the runner checks them
against the notebook's declaration). Sections never write each other's files, so notebooks can run side
by side.

Opening a context never removes anything. Writing an item again under the same name replaces it.
Only the chain's runner, when it (re)executes a notebook, clears that notebook's report items first
(:func:`reset_section`).
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from progression.config import Params, load_params
from progression.disclosure import (
    DISCLOSED_ATTR,
    Numbers,
    Declaration,
    Dominance,
    declaration_of,
    is_disclosed,
    mark_disclosed,
    suppress,
    suppress_numbers,
)
from progression.exceptions import DisclosureError
from progression.texts import SUPPRESSED_MARK, code_label, has_text, set_language, text

__all__ = ["RunContext", "Disclosed", "reset_section", "write_csv", "collect_report_items", "collect_disclosure",
           "collect_suppressed", "section_log", "suppressed_cells", "LOG_DIR", "SUPPRESSED_MARK", "SUPPRESSED_ATTR"]

LOG_DIR = "log"
DISCLOSURE_LOG = "disclosure.json"
REPORT_ITEMS = "report_items.json"
READS_LOG = "reads.json"
PARAMS_LOG = "params.json"
#: Which cells of each results table disclosure control suppressed (column -> row positions).
SUPPRESSED_LOG = "suppressed.json"
#: ``DataFrame.attrs`` key of the suppressed cells of a written table (column -> row positions).
SUPPRESSED_ATTR = "progression.suppressed"
#: Resolution of saved figures: a figure 9 inches wide fills the report's column (990 px).
FIGURE_DPI = 110
_REFUSED = "_refused"


def _read_json(path: Path, default):
    return json.loads(path.read_text()) if path.exists() else default


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a results table reproducibly (fixed float format, no index)."""
    df.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")


def section_log(run_dir: str | Path, section: str) -> Path:
    """The folder of a section's logs (``log/<section>``; the unnamed section is ``log/_``)."""
    return Path(run_dir) / LOG_DIR / (section or "_")


def reset_section(run_dir: str | Path, section: str) -> None:
    """Remove a section's logs and report items: the runner calls this before it (re)executes a notebook."""
    folder = section_log(run_dir, section)
    if folder.is_dir():
        for path in folder.iterdir():
            path.unlink()


def _sections(run_dir: Path) -> list[Path]:
    root = Path(run_dir) / LOG_DIR
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def collect_report_items(run_dir: str | Path) -> list[dict]:
    """Every section's report items, sections in name (chain) order."""
    return [item for folder in _sections(Path(run_dir)) for item in _read_json(folder / REPORT_ITEMS, [])]


def collect_suppressed(run_dir: str | Path) -> dict[str, dict[str, list[int]]] | None:
    """Per results name, the cells disclosure control suppressed: column -> row positions.

    None when the run's sections logged none (a run folder written before the cells were logged): then
    every missing number of a table is read as suppressed.
    """
    out: dict = {}
    logged = False
    for folder in _sections(Path(run_dir)):
        if (folder / SUPPRESSED_LOG).exists():
            logged = True
            out.update(_read_json(folder / SUPPRESSED_LOG, {}))
    return out if logged else None


def suppressed_cells(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, list[int]]:
    """Column -> row positions of the cells missing in ``after`` (the disclosed table) but not in ``before``."""
    out = {}
    for column in after.columns:
        if column not in before.columns or len(before) != len(after):
            continue
        hidden = after[column].isna().to_numpy() & before[column].notna().to_numpy()
        if hidden.any():
            out[str(column)] = [int(i) for i in np.flatnonzero(hidden)]
    return out


def collect_disclosure(run_dir: str | Path) -> dict:
    """What disclosure control suppressed per results name, and, under ``_refused``, what it refused."""
    out: dict = {}
    for folder in _sections(Path(run_dir)):
        data = _read_json(folder / DISCLOSURE_LOG, {})
        refused = data.pop(_REFUSED, {})
        out.update(data)
        if refused:
            out.setdefault(_REFUSED, {}).update(refused)
    return out


class _TrackedParams:
    """The run's parameters, recording which sections a notebook reads (the runner checks them)."""

    def __init__(self, params: Params, log: Path):
        object.__setattr__(self, "_params", params)
        object.__setattr__(self, "_log", log)

    def __getattr__(self, name):
        value = getattr(self._params, name)
        if name in type(self._params).model_fields and name != "source_file":
            seen = _read_json(self._log, [])
            if name not in seen:
                self._log.parent.mkdir(parents=True, exist_ok=True)
                _write_json(self._log, sorted([*seen, name]))
        return value

    def __setattr__(self, name, value):
        raise AttributeError("the run's parameters are read-only")

    def __repr__(self) -> str:
        return repr(self._params)


class Disclosed(float):
    """A number read from a disclosed table or key numbers: what report text may be built from.

    A suppressed number formats as ``·`` whatever the format specification.
    """

    source: str

    def __new__(cls, value, source: str):
        obj = super().__new__(cls, float("nan") if value is None or pd.isna(value) else value)
        obj.source = source
        return obj

    @property
    def suppressed(self) -> bool:
        return math.isnan(self)

    def __format__(self, spec: str) -> str:
        return SUPPRESSED_MARK if self.suppressed else format(float(self), spec)

    def _combine(self, other, op, symbol: str, reverse: bool = False):
        if symbol == "+" and isinstance(other, int) and other == 0:  # sum() starts from 0
            return self
        if not isinstance(other, Disclosed):  # with an undisclosed number the result is not disclosed
            return op(other, float(self)) if reverse else op(float(self), other)
        a, b = (other, self) if reverse else (self, other)
        return Disclosed(op(float(a), float(b)), f"({a.source} {symbol} {b.source})")

    def __add__(self, other):
        return self._combine(other, operator.add, "+")

    def __radd__(self, other):
        return self._combine(other, operator.add, "+", reverse=True)

    def __sub__(self, other):
        return self._combine(other, operator.sub, "-")

    def __truediv__(self, other):
        return self._combine(other, operator.truediv, "/")


def _disclosed_numbers(data: Mapping, name: str) -> Numbers:
    """Key numbers as written under ``name``: each number a :class:`Disclosed`, the mapping marked disclosed."""
    out = Numbers({k: Disclosed(v, f"{name}.{k}") if isinstance(v, (int, float)) and not isinstance(v, bool)
                   or v is None else v for k, v in data.items()})
    out.disclosed = name
    return out


def _speak(language: str) -> None:
    """The run's language for texts, figures and table displays; the shared figure style; readable tables."""
    set_language(language)
    from progression.plots.style import use_style
    from progression.texts.tables import install_notebook_display

    use_style()
    install_notebook_display()


def _json_safe(values: Mapping | None) -> dict:
    """Caption or text values as JSON (numbers and strings; other values as their text)."""
    out = {}
    for key, value in (values or {}).items():
        if isinstance(value, bool) or value is None:
            out[key] = value
        elif isinstance(value, (int, np.integer)):
            out[key] = int(value)
        elif isinstance(value, (float, np.floating)):
            out[key] = None if math.isnan(float(value)) else float(value)
        elif isinstance(value, str):
            out[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
            out[key] = [float(v) if isinstance(v, float) else v for v in value]
        else:
            out[key] = str(value)
    return out


def _figure_sources(fig) -> list:
    return list(getattr(fig, "_progression_sources", []))


@dataclass
class RunContext:
    """A run folder seen from a notebook (see the module docstring for an evaluator's example).

    Parameters
    ----------
    params : Params
        The run's parameters.
    run_dir : Path
        The run folder.
    section : str
        The report section this notebook's items belong to (the notebook's name in the chain).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from progression.disclosure import declare
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "params.yaml").write_text("run: {name: example}\\n")
    >>> ctx = RunContext.open(folder / "params.yaml", folder / "run", section="mine")
    >>> by_sex = declare(pd.DataFrame({"sex": ["K", "M"], "n_persons": [3, 40]}), counts="n_persons")
    >>> ctx.write_result("by_sex", by_sex)["n_persons"].tolist()
    [nan, 40.0]
    >>> (ctx.run_dir / "results" / "by_sex.csv").read_text().splitlines()
    ['sex,n_persons', 'K,', 'M,40']
    """

    params: Params
    run_dir: Path
    section: str = ""

    def __post_init__(self):
        self.params = _TrackedParams(getattr(self.params, "_params", self.params), self._logs / PARAMS_LOG)
        from progression import _parallel

        _parallel.configure(self.params._params.run.backend, scheduler=self.params._params.run.scheduler)

    @property
    def _logs(self) -> Path:
        return section_log(self.run_dir, self.section)

    def _record_read(self, path: Path) -> None:
        relative = path.resolve().relative_to(self.run_dir).as_posix()
        log = self._logs / READS_LOG
        seen = _read_json(log, [])
        if relative not in seen:
            log.parent.mkdir(parents=True, exist_ok=True)
            _write_json(log, sorted([*seen, relative]))

    @classmethod
    def open(cls, params_path: str | Path, run_dir: str | Path, section: str = "") -> "RunContext":
        """Open a run folder: load the parameters and make sure ``data/``, ``results/`` and ``figures/`` exist.

        Opening never removes report items, so an evaluator may open any section interactively; writing
        an item again under the same name replaces it. The chain's runner clears a notebook's section
        before it reruns that notebook.

        Opening also sets the language of the report (``report.language``) as the one that texts, figure
        labels and table displays use (:func:`progression.texts.set_language`), gives figures the shared
        style (:func:`progression.plots.style.use_style`) and, inside a notebook, shows every table the
        way the report does (:func:`progression.texts.tables.install_notebook_display`).

        Parameters
        ----------
        params_path : path
            The parameter file (a run folder's ``params.yaml`` holds the resolved parameters).
        run_dir : path
            The run folder.
        section : str, optional
            The report section the items written through this context belong to.
        """
        run_dir = Path(run_dir).resolve()
        for sub in ("data", "results", "figures"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        ctx = cls(params=load_params(params_path), run_dir=run_dir, section=section)
        _speak(ctx.params._params.report.language)
        return ctx

    @property
    def language(self) -> str:
        """The language of the report and its captions."""
        return self.params.report.language

    # inputs -------------------------------------------------------------------------------
    def data_path(self, table: str) -> Path:
        """Path of a validated input table (Parquet) in the run folder (recorded as read or written)."""
        path = self.run_dir / "data" / f"{table}.parquet"
        self._record_read(path)
        return path

    def table(self, table: str, columns: Sequence[str] | None = None, filters=None) -> pd.DataFrame:
        """Read a validated input table (person level: it never leaves the run).

        ``columns`` reads only those columns; ``filters`` only the rows that pass them (pyarrow's filter
        syntax, e.g. ``[("year", "==", 2022)]``), both without reading the rest from disk.
        """
        path = self.data_path(table)
        if not path.exists():
            present = sorted(p.stem for p in path.parent.glob("*.parquet"))
            raise FileNotFoundError(f"input table '{table}' not in {path.parent} (tables: {present}); "
                                    "run 00_data first")
        return pd.read_parquet(path, columns=list(columns) if columns else None, filters=filters)

    def panel(self, period: str = "year") -> pd.DataFrame:
        """The person-period panel of steps that ``00_data`` (yearly) or ``20_transitions`` built, typed
        (periods as dates, steps as the staircase's ordered categories), ready for the estimators of
        :mod:`progression.transitions`."""
        from progression.panel import read_panel

        path = self.data_path(f"panel_{period}")
        if not path.exists():
            raise FileNotFoundError(f"no {period} panel in {path.parent}; run 00_data (yearly) or 20_transitions "
                                    f"with transitions.period: {period}")
        return read_panel(path, period=period, staircase=self.params.staircase)

    def truth(self) -> dict | None:
        """The generating truth of synthetic data (None for real data)."""
        path = self.run_dir / "data" / "truth.json"
        self._record_read(path)
        return json.loads(path.read_text()) if path.exists() else None

    def result(self, name: str) -> pd.DataFrame:
        """Read a results table written earlier in the chain (disclosed: figures may be drawn from it)."""
        path = self.run_dir / "results" / f"{name}.csv"
        self._record_read(path)
        if not path.exists():
            present = sorted(p.stem for p in path.parent.glob("*.csv"))
            raise FileNotFoundError(f"results table '{name}' not in {path.parent} (tables: {present})")
        return mark_disclosed(pd.read_csv(path), name)

    def numbers(self, name: str) -> dict:
        """Read key numbers written earlier (:meth:`write_json`), each a :class:`Disclosed` number."""
        path = self.run_dir / "results" / f"{name}.json"
        self._record_read(path)
        data = json.loads(path.read_text())
        return _disclosed_numbers(data, name)

    def value(self, table: pd.DataFrame | str, column: str, **where) -> Disclosed:
        """One number of a disclosed table, for report text: the row where every ``column == value``.

        Examples
        --------
        ``ctx.value(shares, "share", instrument="WHO5", change_class="progression")``
        """
        frame = self.result(table) if isinstance(table, str) else table
        if not is_disclosed(frame):
            raise DisclosureError("report text may only use numbers of disclosed tables: write the table with "
                                  "ctx.write_result (or read it with ctx.result) and take the value from what it returns")
        rows = frame
        for key, value in where.items():
            rows = rows[rows[key] == value]
        if len(rows) != 1:
            raise KeyError(f"{len(rows)} rows of '{frame.attrs[DISCLOSED_ATTR]}' match {where}; expected one")
        return Disclosed(rows[column].iloc[0], f"{frame.attrs[DISCLOSED_ATTR]}.{column}")

    # outputs ------------------------------------------------------------------------------
    def _dominance(self) -> Dominance | None:  # noqa: D401
        d = self.params.disclosure.dominance
        return Dominance(n=d.n, k=d.k) if d is not None else None

    def _declaration(self, table, kwargs: dict) -> Declaration | None:
        given = {k: v for k, v in kwargs.items() if v is not None}
        if not given:
            return declaration_of(table)
        new = Declaration.of(**given)
        old = declaration_of(table)
        return old.merge(new) if old else new

    def _refuse(self, name: str, kind: str, err: Exception):
        log = self._logs / DISCLOSURE_LOG
        log.parent.mkdir(parents=True, exist_ok=True)
        data = _read_json(log, {})
        data.setdefault(_REFUSED, {})[name] = {"kind": kind, "section": self.section, "reason": str(err)}
        _write_json(log, data)
        raise err

    def _log(self, name: str, report) -> None:
        log = self._logs / DISCLOSURE_LOG
        log.parent.mkdir(parents=True, exist_ok=True)
        data = _read_json(log, {})
        data[name] = report.to_dict()
        _write_json(log, data)

    def _words(self, values: Mapping | None) -> dict:
        """Values for a text: a word that is a code of the registry (a step, a period, a role) in the run's language."""
        return {k: code_label(v, None, language=self.language) if isinstance(v, str) else v
                for k, v in (values or {}).items()}

    def _caption(self, kind: str, name: str, caption: str | None, values: Mapping | None) -> str | None:
        if caption is not None:
            return caption.format(**values) if values else caption
        if has_text(kind, name, language=self.language):
            return text(kind, name, language=self.language, **self._words(values))
        return None

    def write_result(
        self,
        name: str,
        table: pd.DataFrame,
        *,
        counts: Sequence[str] | None = None,
        stats: Mapping[str, str | Sequence[str]] | None = None,
        margins: Mapping[str, Sequence[str]] | None = None,
        magnitudes: Mapping[str, str] | None = None,
        magnitude_counts: Mapping[str, str] | None = None,
        safe: Sequence[str] | None = None,
        labels: Sequence[str] | None = None,
        caption: str | None = None,
        caption_values: Mapping | None = None,
        report: bool = True,
        write: bool = True,
    ) -> pd.DataFrame:
        """Write an aggregate table to ``results/<name>.csv`` after disclosure control.

        The table's declaration is the one it carries (tables from :mod:`progression.analyses` do), with
        what the keyword arguments add (see :class:`progression.disclosure.Declaration`). A table
        without a declaration, or with a numeric column the declaration leaves out, is refused: nothing
        is written, the refusal is logged, and the error names the columns and the fix.

        The caption is ``caption``, or the registered caption of ``name`` in the run's language
        (:mod:`progression.texts`) formatted with ``caption_values``; a table with a caption is listed in
        the report (unless ``report=False``). With ``write=False`` the table passes disclosure control
        and is logged but not written: for data that only a figure shows (simulation draws, say).

        Returns
        -------
        DataFrame
            The table as written (suppressed cells missing), marked as disclosed: figures and report
            text may be built from it.

        Raises
        ------
        DisclosureError
            When the table is refused.
        """
        declaration = self._declaration(table, dict(counts=counts, stats=stats, margins=margins,
                                                    magnitudes=magnitudes, magnitude_counts=magnitude_counts,
                                                    safe=safe, labels=labels))
        try:
            out, rep = suppress(table, table_name=name, min_cell_size=self.params.disclosure.min_cell_size,
                                declaration=declaration, secondary=self.params.disclosure.secondary_suppression,
                                dominance=self._dominance())
        except DisclosureError as err:
            self._refuse(name, "table", err)
        self._log(name, rep)
        hidden = suppressed_cells(table, out)
        out.attrs[SUPPRESSED_ATTR] = hidden
        if not write:
            return mark_disclosed(out, name)
        write_csv(out, self.run_dir / "results" / f"{name}.csv")
        self._log_suppressed(name, hidden)
        key = name if caption is None and has_text("captions", name, language=self.language) else None
        caption = self._caption("captions", name, caption, caption_values)
        if report and caption:
            self._add_report_item("table", f"results/{name}.csv", caption, name=name, key=key, values=caption_values)
        return mark_disclosed(out, name)

    def write_json(self, name: str, data: Mapping, *, counts: Sequence[str] | None = None,
                   stats: Mapping[str, str | Sequence[str]] | None = None, safe: Sequence[str] | None = None,
                   labels: Sequence[str] | None = None, caption: str | None = None,
                   caption_values: Mapping | None = None) -> dict:
        """Write key numbers to ``results/<name>.json`` after disclosure control.

        Every number must be declared, as for a table (keys of nested mappings joined by '.'); a
        suppressed number is written as null. Returns the numbers as written, each a :class:`Disclosed`.
        """
        declaration = self._declaration(data, dict(counts=counts, stats=stats, safe=safe, labels=labels))
        try:
            out, rep = suppress_numbers(data, name=name, min_cell_size=self.params.disclosure.min_cell_size,
                                        declaration=declaration)
        except DisclosureError as err:
            self._refuse(name, "json", err)
        path = self.run_dir / "results" / f"{name}.json"
        path.write_text(json.dumps(out, indent=2, sort_keys=True, ensure_ascii=False))
        self._log(name, rep)
        key = name if caption is None and has_text("captions", name, language=self.language) else None
        caption = self._caption("captions", name, caption, caption_values)
        if caption:
            self._add_report_item("numbers", f"results/{name}.json", caption, name=name, key=key, values=caption_values)
        return _disclosed_numbers(out, name)

    def save_figure(self, fig, name: str, *, caption: str | None = None, caption_values: Mapping | None = None,
                    data=None) -> Path:
        """Save a figure of disclosed aggregates to ``figures/<name>.png`` and list it in the report.

        ``fig`` is a Figure, or an Axes standing for its figure. A figure is an aggregate too: it must be
        drawn from disclosed tables. The plotting functions of
        :mod:`progression.plots` record the tables they draw; a figure drawn otherwise names its tables
        in ``data`` (one table or a list). A figure with no recorded or named data, or with data that
        did not pass :meth:`write_result` (or :meth:`result`), is refused.
        """
        fig = getattr(fig, "figure", fig) if not hasattr(fig, "savefig") else fig  # an Axes stands for its figure
        given = [] if data is None else (list(data) if isinstance(data, (list, tuple)) else [data])
        sources = _figure_sources(fig) + [(type(d).__name__, d.attrs.get(DISCLOSED_ATTR) if isinstance(
            d, pd.DataFrame) else getattr(d, "disclosed", None)) for d in given]
        try:
            if not sources:
                raise DisclosureError(
                    f"figure '{name}' has no declared data, so it is not saved: draw it with progression.plots "
                    "from tables returned by ctx.write_result (or ctx.result), or name those tables in data=")
            undisclosed = [what for what, source in sources if not source]
            if undisclosed:
                raise DisclosureError(
                    f"figure '{name}' is drawn from data that did not pass disclosure control ({undisclosed}), so "
                    "it is not saved: write the table with ctx.write_result and draw the figure from the table it "
                    "returns")
        except DisclosureError as err:
            self._refuse(name, "figure", err)
        path = self.run_dir / "figures" / f"{name}.png"
        from progression.plots.style import localise_ticks

        localise_ticks(fig, self.language)
        fig.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight", metadata={"Software": None})
        key = name if caption is None and has_text("figures", name, language=self.language) else None
        caption = self._caption("figures", name, caption, caption_values)
        self._add_report_item("figure", f"figures/{name}.png", caption or name, name=name, key=key,
                              values=caption_values)
        return path

    def add_text(self, template: str, *, values: Mapping | None = None, safe: Mapping | None = None,
                 name: str | None = None) -> str:
        """A paragraph of prose for the report, its numbers taken from disclosed results.

        ``template`` is a registered text key (:mod:`progression.texts`, section ``texts``) or the text
        itself, a ``str.format`` template. ``values`` must be :class:`Disclosed` numbers (from
        :meth:`value`, :meth:`numbers` or :meth:`write_json`) or strings; ``safe`` holds numbers that
        describe no person (parameters such as years). Returns the paragraph.
        """
        values, safe = dict(values or {}), dict(safe or {})
        bad = [k for k, v in values.items()
               if not isinstance(v, (Disclosed, str)) and not (isinstance(v, (list, tuple)) and all(
                   isinstance(x, (Disclosed, str)) for x in v))]
        try:
            if bad:
                raise DisclosureError(
                    f"report text: value(s) {bad} are not numbers of disclosed results; take them with ctx.value(...) "
                    "from a table ctx.write_result returned (or ctx.numbers for key numbers), or pass parameters in safe=")
            unsafe = [k for k, v in safe.items() if isinstance(v, (pd.DataFrame, pd.Series, np.ndarray))]
            if unsafe:
                raise DisclosureError(f"report text: safe value(s) {unsafe} must be scalars (parameters)")
        except DisclosureError as err:
            self._refuse(name or template[:40], "text", err)
        key = template if has_text("texts", template, language=self.language) else None
        fields = {**self._words(safe), **self._words(values)}
        paragraph = text("texts", key, language=self.language, **fields) if key else (
            template.format(**fields) if fields else template)
        self._add_report_item("text", "", paragraph, name=name or key, key=key, values=fields)
        return paragraph

    def _report_items(self) -> list[dict]:
        return _read_json(self._logs / REPORT_ITEMS, [])

    def _log_suppressed(self, name: str, hidden: Mapping[str, list[int]]) -> None:
        log = self._logs / SUPPRESSED_LOG
        data = _read_json(log, {})
        data[name] = dict(hidden)
        log.parent.mkdir(parents=True, exist_ok=True)
        _write_json(log, data)

    def _add_report_item(self, kind: str, path: str, caption: str, *, name: str | None = None,
                         key: str | None = None, values: Mapping | None = None) -> None:
        """List an item in the report. ``key`` and ``values`` let the report write the caption again in
        another language (the registered text ``key`` formatted with ``values``)."""
        items = self._report_items()
        item = {"section": self.section, "kind": kind, "path": path, "caption": caption}
        if name:
            item["name"] = name
        if key:
            item["key"] = key
            item["values"] = _json_safe(values)
        same = [i for i, old in enumerate(items) if old["section"] == self.section and name
                and old.get("name") == name and old["kind"] == kind]
        if same:
            items[same[0]] = item
        else:
            items.append(item)
        self._logs.mkdir(parents=True, exist_ok=True)
        _write_json(self._logs / REPORT_ITEMS, items)
