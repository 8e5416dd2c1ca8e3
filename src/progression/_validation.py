"""The one place where arguments and input columns are checked.

Every message has one shape: it names the table (``name``) and the column or argument, says what was
expected and what was found, and lists the columns present when one is missing. Topic packages call
these helpers instead of writing their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression.exceptions import DataContractError, ParameterError


def as_list(columns: str | Sequence[str], *, name: str) -> list[str]:
    """Return ``columns`` as a non-empty list of column names."""
    if isinstance(columns, str):
        return [columns]
    out = list(columns)
    if not out or not all(isinstance(c, str) for c in out):
        raise ParameterError(f"{name} must be a column name or a non-empty list of column names; got {columns!r}")
    return out


def check_frame(data: object, *, name: str = "data") -> pd.DataFrame:
    """Raise TypeError unless ``data`` is a DataFrame with at least one row."""
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(data).__name__}")
    if data.empty:
        raise DataContractError(f"{name} has no rows; expected at least one row")
    return data


def check_columns(data: pd.DataFrame, columns: Sequence[str | None] | Mapping[str, str | None], *,
                  name: str = "data") -> None:
    """Raise DataContractError naming every requested column absent from ``data``.

    ``columns`` is a list of column names, or a mapping of argument name -> column name, in which case
    the message also says which argument named the missing column.

    Examples
    --------
    >>> import pandas as pd
    >>> check_columns(pd.DataFrame({"a": [1]}), {"person_col": "person_id"}, name="panel")
    Traceback (most recent call last):
    ...
    progression.exceptions.DataContractError: panel: column(s) ['person_id'] (given as ['person_col']) not found; columns present: ['a']
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame; got {type(data).__name__}")
    if isinstance(columns, Mapping):
        missing = {arg: col for arg, col in columns.items() if col is not None and col not in data.columns}
        if missing:
            raise DataContractError(
                f"{name}: column(s) {list(missing.values())} (given as {list(missing)}) not found; "
                f"columns present: {list(data.columns)}"
            )
        return
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise DataContractError(
            f"{name}: column(s) {missing} not found; columns present: {list(data.columns)}"
        )


def check_no_missing(data: pd.DataFrame, columns: Sequence[str | None], *, name: str = "data") -> None:
    """Raise DataContractError for the first column holding missing values, with a few example rows."""
    for column in columns:
        if column is None:
            continue
        missing = data[column].isna().to_numpy()
        if missing.any():
            rows = list(data.index[missing][:3])
            raise DataContractError(
                f"{name}: column {column!r} has {int(missing.sum())} missing value(s) (e.g. rows {rows}); "
                "expected none: drop or impute them before estimating"
            )


def numeric_values(data: pd.DataFrame, column: str, *, name: str = "data") -> np.ndarray:
    """Return a numeric column as float, or raise DataContractError naming its dtype."""
    series = data[column]
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return series.to_numpy(dtype=float)
    raise DataContractError(f"{name}: column {column!r} must be numeric; found dtype {series.dtype}")


def binary_values(data: pd.DataFrame, column: str, *, name: str = "data") -> np.ndarray:
    """Return a 0/1 (or boolean) column as int, or raise DataContractError with example bad values."""
    values = numeric_values(data, column, name=name)
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        examples = sorted(set(values[bad].tolist()))[:3]
        raise DataContractError(
            f"{name}: column {column!r} must hold 0/1 or booleans; found {int(bad.sum())} other value(s), e.g. {examples}"
        )
    return values.astype(int)


def check_both_groups(treated: np.ndarray, column: str) -> tuple[int, int]:
    """Return (n_treated, n_control); raise DataContractError if either group is empty."""
    n_treated = int(treated.sum())
    n_control = int(treated.size - n_treated)
    if n_treated == 0 or n_control == 0:
        empty = "treated units (value 1)" if n_treated == 0 else "control units (value 0)"
        raise DataContractError(
            f"column {column!r} has no {empty}; expected both groups, "
            f"found {n_treated} treated and {n_control} control rows"
        )
    return n_treated, n_control


def check_level(cl: float) -> float:
    """Return the confidence level ``cl`` if it lies in (0, 1)."""
    if not isinstance(cl, (int, float)) or not 0 < cl < 1:
        raise ParameterError(f"cl must be a confidence level in (0, 1); got {cl!r}")
    return float(cl)


def check_choice(value: object, options: Sequence[str], *, name: str) -> str:
    """Return ``value`` if it is one of ``options``."""
    if value not in options:
        raise ParameterError(f"{name} must be one of {list(options)}; got {value!r}")
    return str(value)


def check_fraction(value: float | None, *, name: str, upper: float = 0.5) -> float | None:
    """Return ``value`` (or None) if it lies in [0, upper)."""
    if value is None:
        return None
    if not isinstance(value, (int, float)) or not 0 <= value < upper:
        raise ParameterError(f"{name} must be None or a number in [0, {upper}); got {value!r}")
    return float(value)


def check_positive_int(value: object, *, name: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer ≥ ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)
