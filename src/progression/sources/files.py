"""A user's own extract: CSV, Parquet or Excel files, with column names mapped to the contract.

Real register extracts use other column names (``PNR``, ``KOM``, ``PARAGRAF`` …); the parameter file
maps them (``data.files.columns``), so no code changes are needed. Date columns of the contract are
parsed strictly (ISO 8601): a value that is not a date is an error naming the table, column and rows,
never a silent missing value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import FileParams
from ..exceptions import DataContractError
from ..schemas import DATE_COLUMNS, SCHEMAS


def _read_file(path: Path, params: FileParams) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path, sep=params.csv_separator, decimal=params.csv_decimal, encoding=params.encoding)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix in (".xlsx", ".xls"):
        return pd.read_excel(path)
    raise DataContractError(f"file {path.name}: unsupported format '{suffix}' (use .csv, .parquet or .xlsx)")


def _parse_dates(df: pd.DataFrame, table: str) -> pd.DataFrame:
    for col in DATE_COLUMNS.get(table, ()):
        if col not in df.columns or pd.api.types.is_datetime64_any_dtype(df[col]):
            continue
        parsed = pd.to_datetime(df[col], format="ISO8601", errors="coerce")
        bad = df[col].notna() & parsed.isna()
        if bad.any():
            examples = ", ".join(f"row {i}: {v!r}" for i, v in df.loc[bad, col].head(5).items())
            raise DataContractError(
                f"table '{table}', column '{col}', check 'ISO 8601 date': {int(bad.sum())} failing ({examples})"
            )
        df[col] = parsed
    return df


def read_table(table: str, params: FileParams) -> pd.DataFrame:
    """Read one table of the extract and rename its columns to the contract's names."""
    if table not in SCHEMAS:
        raise DataContractError(f"unknown table '{table}'; known tables: {sorted(SCHEMAS)}")
    path = Path(params.directory) / params.tables[table]
    if not path.is_file():
        raise DataContractError(f"table '{table}': file not found: {path}")
    df = _read_file(path, params)
    mapping = params.columns.get(table, {})
    unknown = sorted(set(mapping) - set(df.columns))
    if unknown:
        raise DataContractError(
            f"table '{table}': mapped column(s) {unknown} not in {path.name}; columns present: {list(df.columns)}"
        )
    return _parse_dates(df.rename(columns=mapping), table)


def read_tables(params: FileParams) -> dict[str, pd.DataFrame]:
    """Read every table listed in ``params.tables``."""
    unknown = sorted(set(params.tables) - set(SCHEMAS))
    if unknown:
        raise DataContractError(f"data.files.tables: unknown table(s) {unknown}; known tables: {sorted(SCHEMAS)}")
    return {table: read_table(table, params) for table in params.tables}
