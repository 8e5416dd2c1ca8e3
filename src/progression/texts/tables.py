"""Tables for reading: one formatting layer for the report and the notebooks' displays.

:func:`readable` turns a results table into what a reader sees: column labels and the human names of
codes from the label registry (:mod:`progression.texts`), whole numbers with thousands separators,
shares in per cent, fixed decimals per column (or per row, in a long table of several quantities),
p-values as ``< 0.001``, never scientific notation, booleans as yes / no, and one mark for a suppressed
cell (``·``) everywhere. Numbers follow the language (``1,234.5`` / ``1.234,5``; ``12.3%`` / ``12,3 %``).

How a column reads (its *kind*) comes from the registry's ``formats`` (by ``table.column`` or column),
else from its name and values (:func:`column_kind`): ``count``, ``percent``, ``money``, ``decimal``,
``ratio``, ``p_value``, ``label``, ``bool`` or ``text``. An interval or standard error reads like the
column it belongs to (``conf_low`` like ``estimate``, ``rci_conf_low`` like ``rci_share``).

Examples
--------
>>> import pandas as pd
>>> table = pd.DataFrame({"sex": ["K", "M"], "n_persons": [1316.0, float("nan")], "share": [0.1234, 0.5],
...                       "p_value": [7.9e-134, 0.0312]})
>>> shown = readable(table, language="da", suppressed={"n_persons": [1]})
>>> shown.frame.to_dict("records")[0]
{'køn': 'kvinder', 'personer': '1.316', 'andel': '12,3 %', 'p-værdi': '< 0,001'}
>>> shown.frame.iloc[1].tolist()
['mænd', '·', '50,0 %', '0,031']
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from progression.texts import SUPPRESSED_MARK, code_label, current_language, label, localise_number, texts

__all__ = ["KINDS", "NOT_AVAILABLE", "readable", "Readable", "column_kind", "format_value", "notebook_html",
           "install_notebook_display"]

#: The ways a column can read.
KINDS = ("count", "percent", "money", "decimal", "ratio", "p_value", "label", "bool", "text")
#: How a missing value that was not suppressed reads (not applicable, not estimable).
NOT_AVAILABLE = "–"
#: Columns whose value names the quantity of a row (long tables of several quantities): formatted per row.
ROW_KIND_COLUMNS = ("quantity", "measure")

_INTERVAL = re.compile(r"^(?P<prefix>.*?)_?(conf_low|conf_high|std_error|se)$")
_COUNT = re.compile(r"^(n|count)(_.*)?$|_count$|^count_|_persons$|^persons$|^citizens$|^municipalities(_|$)")
_PERCENT = re.compile(r"(^|_)(share|shares|prob|rate|coverage|power|survival|p|proportion)(_|$)")
_MONEY = re.compile(r"_dkk($|_)|^spend|^spending|budget|cost|price|gain|npv|balance|potential|payment|per_capita"
                    r"|^amount|saving|bonus")
_LABEL = re.compile(r"(^|_)(year|month|period)$|^(start|end|time|years)$")
#: Columns an interval or truth column of a table reads like, in order of preference.
_MAIN = ("estimate", "diff", "effect", "share", "prob", "survival", "mean_change", "expected", "deviation")
#: Columns that read like the table's main column.
_FOLLOWERS = {"truth": None, "pred_low": "expected", "pred_high": "expected", "limit_low": "deviation",
              "limit_high": "deviation", "lower_95": "share", "upper_95": "share", "lower_99.8": "share",
              "upper_99.8": "share", "target": "share", "seed004": None, "published": None, "recomputed": None,
              "bound_low": None, "bound_high": None, "tolerance": None, "difference": None}


def _formats(language: str) -> Mapping[str, str]:
    return texts(language)["formats"]


def _finite(values: pd.Series) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return v[np.isfinite(v)]


def _kind_from_name(name: str, values: pd.Series | None, language: str, table: str | None = None) -> str | None:
    formats = _formats(language)
    if table and f"{table}.{name}" in formats:
        return formats[f"{table}.{name}"]
    if name in formats:
        return formats[name]
    lowered = name.lower()
    if lowered in ("p_value", "p", "pvalue"):
        return "p_value"
    if values is not None and (pd.api.types.is_bool_dtype(values)
                               or (values.dtype == object and set(values.dropna().unique()) <= {True, False})):
        return "bool"
    if _LABEL.search(lowered):
        return "label"
    if _COUNT.search(lowered):
        return "count"
    if lowered.endswith("_pct"):
        return "decimal"
    finite = _finite(values) if values is not None else np.array([])
    if _PERCENT.search(lowered) and "_per_" not in lowered and (not len(finite) or np.all(np.abs(finite) <= 1.5)):
        return "percent"
    if _MONEY.search(lowered):
        return "money"
    return None


def column_kind(name: str, values: pd.Series | None = None, *, table: str | None = None,
                language: str | None = None) -> str:
    """How a column reads: the registry's format, else one read from the name and the values.

    Examples
    --------
    >>> column_kind("n_persons"), column_kind("share", pd.Series([0.2, 0.5])), column_kind("p_value")
    ('count', 'percent', 'p_value')
    >>> column_kind("npv_stat_dkk"), column_kind("year"), column_kind("alpha"), column_kind("icc_x", pd.Series([0.3]))
    ('money', 'label', 'ratio', 'decimal')
    """
    language = language or current_language()
    if values is not None and not pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        if not (values.dtype == object and values.dropna().map(lambda v: isinstance(v, bool)).all()
                and values.notna().any()):
            return "text"
    found = _kind_from_name(name, values, language, table)
    if found:
        return found
    return "decimal"


def _decimals(kind: str, values: np.ndarray) -> int:
    """Fixed decimals for a kind, from the size of the values it shows (two significant digits for the
    smaller values of a column, at most three decimals)."""
    if kind == "count":
        return 0
    if kind == "percent":
        return 1
    nonzero = np.abs(values[values != 0]) if len(values) else values
    if kind == "money":
        big = float(np.percentile(nonzero, 90)) if len(nonzero) else 1000.0
        return 0 if big >= 100 else (1 if big >= 10 else 2)
    typical = float(np.percentile(nonzero, 25)) if len(nonzero) else 1.0
    if kind == "ratio":
        return 3 if typical < 0.095 else 2
    if typical >= 100:
        return 0
    if typical >= 10:
        return 1
    if typical >= 1:
        return 2
    return int(min(3, max(2, math.ceil(-math.log10(typical)) + 1)))


def _minus(text: str) -> str:
    """A negative number with the typographic minus sign (−), as tables and sentences print it."""
    return "\u2212" + text[1:] if text.startswith("-") else text


def format_value(value, kind: str, *, decimals: int | None = None, language: str | None = None,
                 column: str | None = None) -> str:
    """One value as a reader sees it (a missing value reads ``·``; see :data:`NOT_AVAILABLE`); a negative
    number has the typographic minus sign.

    Examples
    --------
    >>> format_value(13160.0, "count", language="en"), format_value(0.123, "percent", language="da")
    ('13,160', '12,3 %')
    >>> format_value(7.971e-134, "p_value", language="en"), format_value(2.5e-7, "decimal", decimals=3)
    ('< 0.001', '0.000')
    """
    language = language or current_language()
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return SUPPRESSED_MARK
    if kind == "bool" or isinstance(value, (bool, np.bool_)):
        return code_label(str(bool(value)), "bool", language=language)
    if kind == "text":
        return code_label(value, column, language=language)
    number = float(value)
    if not math.isfinite(number):
        return "∞" if number > 0 else "−∞"
    if kind == "label":
        return str(int(number)) if number.is_integer() else f"{number:g}"
    if kind == "p_value":
        return localise_number("< 0.001", language) if number < 0.001 else localise_number(f"{number:.3f}", language)
    if kind == "percent":
        d = 1 if decimals is None else decimals
        text = f"{100 * number:,.{d}f}%"
    elif kind == "count":
        text = f"{number:,.0f}"
    else:
        d = _decimals(kind, np.array([number])) if decimals is None else decimals
        text = f"{number:,.{d}f}"
    if text.startswith("-") and not any(ch in "123456789" for ch in text):  # -0.000
        text = text[1:]
    return _minus(localise_number(text, language))


@dataclass
class Readable:
    """A table as a reader sees it: the cells as text (:attr:`frame`) and how to draw it.

    Attributes
    ----------
    frame : DataFrame
        Every cell as text, columns labelled.
    columns : list of str
        The original column names, in the order of :attr:`frame`.
    kinds : dict
        Column -> how it reads.
    numeric : list of bool
        Per column: right-aligned (numbers).
    suppressed_cells : int
        Cells shown as suppressed.
    formatted_cells : int
        Numeric cells formatted.
    truncated : int
        Rows left out (see ``max_rows``).
    """

    frame: pd.DataFrame
    columns: list
    kinds: dict
    numeric: list
    suppressed_cells: int = 0
    formatted_cells: int = 0
    truncated: int = 0
    caption: str | None = None
    notes: list = field(default_factory=list)

    def to_html(self, *, classes: str = "tbl", table_id: str | None = None) -> str:
        """The table as HTML inside its own scroll box (a wide table scrolls there, not the page)."""
        head = "".join(
            f'<th title="{html.escape(str(raw))}" class="{"num" if num else "txt"}">{html.escape(str(lab))}</th>'
            for lab, raw, num in zip(self.frame.columns, self.columns, self.numeric))
        rows = []
        for values in self.frame.itertuples(index=False, name=None):
            cells = []
            for value, num in zip(values, self.numeric):
                text = html.escape(str(value)).replace(" %", "&nbsp;%")
                mark = ' class="sup"' if value == SUPPRESSED_MARK else (' class="num"' if num else "")
                cells.append(f"<td{mark}>{text}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        ident = f' id="{html.escape(table_id)}"' if table_id else ""
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<div class="tbox"><table class="{classes}"{ident}>{caption}<thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table></div>')

    def _repr_html_(self) -> str:
        more = f'<p style="font-size:small">{self.truncated} more rows</p>' if self.truncated else ""
        return _NOTEBOOK_STYLE + self.to_html(classes="tbl progression-table") + more


_NOTEBOOK_STYLE = ("<style>.progression-table td,.progression-table th{white-space:nowrap;padding:2px 8px}"
                   ".progression-table td.num,.progression-table td.sup,.progression-table th.num{text-align:right}"
                   ".progression-table td.sup{color:#777}.progression-table th.txt{text-align:left}</style>")


def _main_column(table: pd.DataFrame) -> str | None:
    return next((c for c in _MAIN if c in table.columns), None)


def _follows(column: str, table: pd.DataFrame) -> str | None:
    """The column ``column`` reads like (an interval like its estimate), or None."""
    if column in _FOLLOWERS:
        target = _FOLLOWERS[column] or _main_column(table)
        if column in ("published", "recomputed", "bound_low", "bound_high", "tolerance", "difference", "seed004"):
            target = next((c for c in ("published", "estimate") if c in table.columns and c != column), None)
        return target if target in table.columns and target != column else None
    match = _INTERVAL.match(column)
    if not match:
        return None
    prefix = match.group("prefix")
    if not prefix:
        return _main_column(table)
    for candidate in (prefix, f"{prefix}_share", f"{prefix}_post"):
        if candidate in table.columns and candidate != column:
            return candidate
    if prefix in ("share", "rci", "latent", "shrunk"):
        return next((c for c in table.columns if c.startswith(prefix) and not _INTERVAL.match(c)), None)
    return None


def readable(table: pd.DataFrame, *, name: str | None = None, language: str | None = None,
             suppressed: Mapping[str, Sequence[int]] | None = None, max_rows: int | None = None,
             labels: Mapping[str, str] | None = None, columns: Sequence[str] | None = None,
             caption: str | None = None) -> Readable:
    """A table as a reader sees it (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        A results table (its index is shown as columns when it is not a plain range).
    name : str, optional
        The results name: the registry's ``formats`` may hold ``name.column`` entries.
    language : {"en", "da"}, optional
        Default: the current language (:func:`progression.texts.set_language`).
    suppressed : mapping of str to sequence of int, optional
        Column -> row positions that disclosure control suppressed: those cells read ``·``, other
        missing cells ``–`` (not available). Without it every missing number reads ``·``.
    max_rows : int, optional
        Show at most this many rows (``truncated`` says how many are left out).
    labels : mapping, optional
        Code -> label for values of any column (e.g. a staircase's own step labels), before the registry.
    columns : sequence of str, optional
        Show only these columns.
    caption : str, optional

    Returns
    -------
    Readable
    """
    language = language or current_language()
    frame = table
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.copy()
        frame.columns = [" · ".join(str(p) for p in c if str(p)) for c in frame.columns]
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    truncated = 0
    if max_rows is not None and len(frame) > max_rows:
        truncated = len(frame) - max_rows
        frame = frame.iloc[:max_rows]
    positions = {c: set(int(i) for i in suppressed.get(c, ())) for c in frame.columns} if suppressed is not None else None
    kinds = {c: column_kind(c, frame[c], table=name, language=language) for c in frame.columns}
    if "municipality" in frame.columns and "name" not in frame.columns:
        kinds["municipality"] = "text"
    row_kind_column = next((c for c in ROW_KIND_COLUMNS if c in frame.columns), None)
    decimals: dict[str, int | None] = {}
    groups: dict[str, list[str]] = {}
    formats = _formats(language)
    for column, kind in kinds.items():
        target = _follows(column, frame)
        if target and f"{name}.{column}" not in formats and kinds.get(target) not in (None, "text", "label", "bool"):
            kinds[column] = kinds[target]
            groups.setdefault(target, [target]).append(column)
    for target, members in groups.items():
        values = np.concatenate([_finite(frame[m]) for m in members])
        for m in members:
            decimals[m] = _decimals(kinds[m], values)
    for column, kind in kinds.items():
        if column not in decimals and kind in ("money", "decimal", "ratio"):
            decimals[column] = _decimals(kind, _finite(frame[column]))

    per_row = None
    if row_kind_column is not None:  # a long table of several quantities: each quantity reads its own way
        value_columns = [c for c, k in kinds.items() if k in ("decimal", "money", "ratio", "percent")
                         and _kind_from_name(c, None, language, name) not in ("percent", "count", "p_value")]
        quantities = frame[row_kind_column].astype(str)
        how = {}
        for quantity in quantities.unique():
            rows = frame.loc[(quantities == quantity).to_numpy(), value_columns]
            values = _finite(pd.Series(rows.to_numpy(dtype=float).ravel())) if value_columns else np.array([])
            kind = _kind_from_name(quantity, pd.Series(values), language, name) or "decimal"
            kind = "decimal" if kind in ("label", "text", "bool") else kind
            how[quantity] = (kind, _decimals(kind, values))
        per_row = [(value_columns, *how[q]) for q in quantities]

    out: dict[str, list[str]] = {}
    suppressed_cells = formatted = 0
    extra = dict(labels or {})
    for j, column in enumerate(frame.columns):
        kind = kinds[column]
        cells = []
        for i, value in enumerate(frame[column].tolist()):
            missing = value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
            if missing:
                if kind == "text" and positions is None:
                    cells.append("")
                    continue
                is_suppressed = positions is None or i in positions.get(column, set())
                cells.append(SUPPRESSED_MARK if is_suppressed else NOT_AVAILABLE)
                suppressed_cells += is_suppressed
                continue
            if kind == "text":
                key = str(value)
                cells.append(extra.get(key) or code_label(value, column, language=language))
                continue
            cell_kind, cell_decimals = kind, decimals.get(column)
            if per_row is not None and column in per_row[i][0]:
                cell_kind, cell_decimals = per_row[i][1], per_row[i][2]
            cells.append(format_value(value, cell_kind, decimals=cell_decimals, language=language, column=column))
            formatted += kind not in ("label", "bool")
        out[column] = cells
    for column in [c for c in ("label", "name") if c in out]:  # a label column repeating a named code column
        if any(other != column and out[other] == out[column] for other in out):
            del out[column]
            kinds.pop(column)
    frame = frame[list(out)]
    shown = pd.DataFrame(out, columns=list(frame.columns))
    shown.columns = [label(c, language=language) for c in frame.columns]
    numeric = [kinds[c] not in ("text",) for c in frame.columns]
    return Readable(frame=shown, columns=list(frame.columns), kinds=kinds, numeric=numeric,
                    suppressed_cells=suppressed_cells, formatted_cells=formatted, truncated=truncated, caption=caption)


# -- the notebooks' displays -----------------------------------------------------------------------------
#: Rows a notebook display shows of a table.
NOTEBOOK_ROWS = 60


def notebook_html(obj) -> str:
    """The HTML a notebook shows for a DataFrame or Series: :func:`readable`, in the current language.

    A table written by :meth:`~progression.chain.run_context.RunContext.write_result` carries its
    results name and its suppressed cells, so those read ``·`` and other missing cells ``–``.
    """
    try:
        frame = obj.to_frame() if isinstance(obj, pd.Series) else obj
        name = frame.attrs.get("progression.disclosed")
        hidden = frame.attrs.get("progression.suppressed")
        same_shape = isinstance(frame.index, pd.RangeIndex) and frame.index.start == 0 and frame.index.step == 1
        return readable(frame, name=name, suppressed=hidden if hidden is not None and same_shape else None,
                        max_rows=NOTEBOOK_ROWS)._repr_html_()
    except Exception:  # a display never fails a notebook: fall back to pandas' own
        return obj.to_frame()._repr_html_() if isinstance(obj, pd.Series) else obj._repr_html_()


def install_notebook_display() -> bool:
    """Inside IPython, show every DataFrame and Series through :func:`notebook_html`; returns whether it did."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, notebook_html)
    formatter.for_type(pd.Series, notebook_html)
    return True
