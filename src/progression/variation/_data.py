"""Input checks of the variation package beyond the shared checker: finite matrices, positive weights.

Column presence and argument shapes are checked by :mod:`progression._validation`; what is particular to
regressions on municipalities (every value finite, weights positive, the weighted R²) lives here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from progression._validation import as_list, check_columns
from progression.exceptions import DataContractError, ParameterError


def column_list(columns: str | Sequence[str], *, name: str) -> list[str]:
    """``columns`` as a non-empty list without repeats (a regression cannot take a column twice)."""
    out = as_list(columns, name=name)
    if len(set(out)) != len(out):
        raise ParameterError(f"{name} lists a column twice: {out}")
    return out


def _ids(data: pd.DataFrame, mask: np.ndarray, id_col: str | None) -> list:
    rows = data.loc[mask]
    return (rows[id_col] if id_col and id_col in data.columns else rows.index).tolist()[:5]


def finite_matrix(
    data: pd.DataFrame, columns: Sequence[str], *, id_col: str | None = None, role: str = "column"
) -> np.ndarray:
    """The columns as a float matrix; missing or infinite values are an error naming the rows."""
    check_columns(data, list(columns), name="data")
    values = data[list(columns)].to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        per_column = {c: int(n) for c, n in zip(columns, bad.sum(axis=0)) if n}
        raise DataContractError(
            f"{role}s {per_column} hold missing or infinite values (count per column); first rows "
            f"({id_col or 'index'}): {_ids(data, bad.any(axis=1), id_col)}. Drop or impute them before fitting"
        )
    return values


def positive_weights(data: pd.DataFrame, weights: str | None, *, id_col: str | None = None) -> np.ndarray | None:
    """The weight column as floats (> 0), or None when no weights are used."""
    if weights is None:
        return None
    w = finite_matrix(data, [weights], id_col=id_col, role="weight column")[:, 0]
    bad = w <= 0
    if bad.any():
        raise DataContractError(
            f"weight column {weights!r}: {bad.sum()} value(s) are not positive; rows "
            f"({id_col or 'index'}): {_ids(data, bad, id_col)}"
        )
    return w


def weighted_r2(y: np.ndarray, fitted: np.ndarray, w: np.ndarray | None) -> float:
    """R² = 1 − Σw(y − ŷ)² / Σw(y − ȳ_w)², the weighted R² that statsmodels' WLS reports."""
    w = np.ones_like(y) if w is None else w
    mean = np.average(y, weights=w)
    return float(1.0 - np.sum(w * (y - fitted) ** 2) / np.sum(w * (y - mean) ** 2))
