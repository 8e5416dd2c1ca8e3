"""A user's own extract: CSV, Parquet or Excel files, with column names mapped to the contract.

Real register extracts use other column names (``PNR``, ``KOM``, ``PARAGRAF`` ...); the parameter file
maps them (``data.files.columns``), so no code changes are needed. How the files are written is
declared per source and, where a file differs, per table: the encoding (UTF-8 by default, a
byte-order mark is fine; ``latin-1`` or ``cp1252`` when declared), the separator, the decimal mark
and the thousands separator, and an Excel sheet.

Columns that the contract holds as text (codes such as ``item`` or ``function``) and dates are read
as text, so leading zeros survive; dates must be ISO 8601 (``2021-06-14``). Every other column is
read as the file gives it and cast to the contract's type only where no value changes
(:func:`progression.schemas.conform`, applied when the tables are validated). A file that cannot
be read is an error naming the table, the file and the line, and the parameter to set.

Rows are numbered as the user sees them: ``line 7`` of a CSV file (the header is line 1), ``row 7``
of a sheet.
"""

from __future__ import annotations

import codecs
import io
import re
from pathlib import Path

import pandas as pd

from ..config import FileParams
from ..config.core import TableFile
from ..exceptions import DataContractError
from ..schemas import SCHEMAS, column_kinds

_SINGLE_BYTE = {"latin-1", "iso8859-1", "cp1252", "iso8859-15"}


def _where(table: str, path: Path, line: int | None = None) -> str:
    return f"table '{table}', file {path.name}" + (f", line {line}" if line is not None else "")


def _decoding(raw: bytes, table: str, path: Path, spec: TableFile) -> str:
    """The codec to read the file with, once its bytes are known to be text in the declared encoding.

    An error names the line and the parameter to set.
    """
    codec = codecs.lookup(spec.encoding).name
    key = f"data.files.tables.{table}.encoding (or data.files.encoding for every file)"
    if codec == "utf-8":
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as err:
            line = raw.count(b"\n", 0, err.start) + 1
            guess = ("utf-16" if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
                     else "cp1252" if _decodes(raw, "cp1252") else "latin-1")
            raise DataContractError(
                f"{_where(table, path, line)}: not UTF-8 (byte 0x{raw[err.start]:02x}); the file is probably "
                f"{guess}: declare its encoding with {key}: {guess}") from None
        return "utf-8-sig"  # a byte-order mark is fine
    if codec in _SINGLE_BYTE and not raw.isascii() and _decodes(raw, "utf-8"):
        first = next(i for i, b in enumerate(raw) if b >= 0x80)
        line = raw.count(b"\n", 0, first) + 1
        raise DataContractError(
            f"{_where(table, path, line)}: declared {spec.encoding}, but the file is UTF-8 (its letters would read "
            f"as {raw[first:first + 2].decode(spec.encoding)!r}): set {key}: utf-8")
    try:
        raw.decode(spec.encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise DataContractError(
            f"{_where(table, path, line)}: not {spec.encoding} (byte 0x{raw[err.start]:02x}): declare the file's "
            f"encoding with {key}") from None
    return spec.encoding


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _file_columns(table: str, mapping: dict[str, str], *kinds: str) -> list[str]:
    """File column names of the contract's columns of these kinds."""
    to_file = {contract: file for file, contract in mapping.items()}
    return [to_file.get(col, col) for col, kind in column_kinds(table).items() if kind in kinds]


def _read_csv(path: Path, table: str, spec: TableFile, mapping: dict[str, str]) -> pd.DataFrame:
    text_columns = _file_columns(table, mapping, "str", "datetime")  # as text, never inferred
    raw = path.read_bytes()
    encoding = _decoding(raw, table, path, spec)
    if not raw or raw.isspace():
        raise DataContractError(f"{_where(table, path)}: the file is empty (not even a header line)")
    end = raw.find(b"\n")
    header = raw[:end if end >= 0 else len(raw)].decode(encoding, errors="replace")
    try:
        df = pd.read_csv(io.BytesIO(raw), encoding=encoding, sep=spec.csv_separator, decimal=spec.csv_decimal,
                         thousands=spec.csv_thousands, dtype={c: "str" for c in text_columns})
    except pd.errors.ParserError as err:
        found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(err))
        if found:
            expected, line, saw = found.groups()
            raise DataContractError(
                f"{_where(table, path, int(line))}: {saw} fields where the header has {expected} (separator "
                f"{spec.csv_separator!r}: data.files.csv_separator; a separator inside a value must be quoted)"
            ) from None
        raise DataContractError(f"{_where(table, path)}: not readable as CSV: {err}") from None
    if df.shape[1] == 1 and spec.csv_separator not in header:
        other = next((s for s in (";", ",", "\t", "|") if s in header), None)
        if other is not None:
            raise DataContractError(
                f"{_where(table, path, 1)}: one column {header[:60]!r}: the file seems to use {other!r} as "
                f"separator; set data.files.csv_separator (declared {spec.csv_separator!r})")
    trailing = [c for c in df.columns if str(c).startswith("Unnamed: ") and df[c].isna().all()]
    df = df.drop(columns=trailing)  # a separator at the end of every line: no header, no values
    df.index = pd.RangeIndex(2, 2 + len(df))  # the header is line 1
    df.attrs.update(source=path.name, row_label="line")
    return df


def _read_excel(path: Path, table: str, spec: TableFile, mapping: dict[str, str]) -> pd.DataFrame:
    text_columns = _file_columns(table, mapping, "str")  # date cells stay dates
    try:
        sheets = pd.ExcelFile(path)
    except Exception as err:  # a file that is no workbook: zip, xml or format errors of several kinds
        raise DataContractError(f"{_where(table, path)}: not readable as an Excel workbook ({err})") from None
    with sheets:
        names = sheets.sheet_names
        sheet = 0 if spec.sheet is None else spec.sheet
        if (isinstance(sheet, str) and sheet not in names) or (isinstance(sheet, int) and not 0 <= sheet < len(names)):
            raise DataContractError(f"{_where(table, path)}: no sheet {sheet!r} (data.files.tables.{table}.sheet); "
                                    f"sheets: {names}")
        df = pd.read_excel(sheets, sheet_name=sheet, dtype={c: "str" for c in text_columns})
    df.index = pd.RangeIndex(2, 2 + len(df))  # the header is row 1 of the sheet
    df.attrs.update(source=f"{path.name} (sheet {names[sheet] if isinstance(sheet, int) else sheet})",
                    row_label="row")
    return df


def _read_parquet(path: Path, table: str) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several kinds for a file that is not Parquet
        raise DataContractError(f"{_where(table, path)}: not readable as Parquet ({err})") from None
    df.attrs.update(source=path.name, row_label="row")
    return df


def read_table(table: str, params: FileParams) -> pd.DataFrame:
    """Read one table of the extract and rename its columns to the contract's names.

    The values are as the file gives them (text and date columns as text); the casts to the
    contract's types happen in :func:`progression.schemas.validate_tables` with ``cast=True``.
    """
    if table not in SCHEMAS:
        raise DataContractError(f"data.files.tables: unknown table '{table}'; known tables: {sorted(SCHEMAS)}")
    spec = params.table(table)
    path = Path(params.directory) / spec.file
    if not path.is_file():
        raise DataContractError(f"table '{table}': file not found: {path} (data.files.tables.{table})")
    mapping = params.columns.get(table, {})
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt"):
        df = _read_csv(path, table, spec, mapping)
    elif suffix == ".parquet":
        df = _read_parquet(path, table)
    elif suffix in (".xlsx", ".xlsm"):
        df = _read_excel(path, table, spec, mapping)
    else:
        raise DataContractError(f"{_where(table, path)}: unsupported format '{suffix}' (use .csv, .parquet or .xlsx)")
    unknown = [c for c in mapping if c not in df.columns]
    if unknown:
        raise DataContractError(
            f"table '{table}': mapped column(s) {unknown} not in {path.name} (data.files.columns.{table}); "
            f"columns present: {list(df.columns)}")
    renamed = df.rename(columns=mapping)
    twice = sorted({c for c in renamed.columns if list(renamed.columns).count(c) > 1})
    if twice:
        raise DataContractError(f"table '{table}': column(s) {twice} given twice in {path.name} "
                                f"(data.files.columns.{table} maps a file column onto a name the file already has)")
    renamed.attrs = dict(df.attrs)
    return renamed


def read_tables(params: FileParams) -> dict[str, pd.DataFrame]:
    """Read every table listed in ``params.tables``."""
    unknown = sorted(set(params.tables) - set(SCHEMAS))
    if unknown:
        raise DataContractError(f"data.files.tables: unknown table(s) {unknown}; known tables: {sorted(SCHEMAS)}")
    return {table: read_table(table, params) for table in params.tables}
