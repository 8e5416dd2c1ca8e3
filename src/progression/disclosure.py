"""Statistical disclosure control: the one door results leave a run through.

Rules (domain.md §8):

* a count of persons between 1 and ``min_cell_size - 1`` is suppressed (a zero describes nobody
  and is kept);
* a statistic (rate, mean, probability) is suppressed when its denominator — the number of persons
  it is computed on — is below ``min_cell_size``;
* where the cells of a group add up to a margin that is shown, and exactly one cell of the group is
  suppressed, the next smallest non-zero cell is suppressed too (secondary suppression), so the
  hidden one cannot be recovered by subtraction;
* a table with a person-identifier column is refused.

Suppressed cells become missing (NaN; empty in CSV). :func:`suppress` returns the table and a
:class:`SuppressionReport` that the run manifest records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .exceptions import DisclosureError
from .schemas import PERSON_ID_COLUMNS


@dataclass(frozen=True)
class SuppressionReport:
    """What :func:`suppress` hid in one table."""

    table: str
    rows: int
    primary: int
    secondary: int
    statistics: int
    count_columns: tuple[str, ...] = ()

    @property
    def cells(self) -> int:
        """All suppressed cells."""
        return self.primary + self.secondary + self.statistics

    def to_dict(self) -> dict:
        return {**asdict(self), "count_columns": list(self.count_columns), "cells": self.cells}


def check_no_person_ids(df: pd.DataFrame, table: str) -> None:
    """Refuse a table that carries a person identifier (column name or index name)."""
    names = {str(c).lower() for c in df.columns} | {str(n).lower() for n in df.index.names if n is not None}
    found = sorted(names & PERSON_ID_COLUMNS)
    if found:
        raise DisclosureError(
            f"table '{table}' has person identifier column(s) {found}; only aggregates may leave a run. "
            "Aggregate over persons before writing."
        )


def _primary(counts: pd.Series, min_n: int) -> pd.Series:
    return counts.notna() & (counts > 0) & (counts < min_n)


def _secondary(df: pd.DataFrame, count: str, hidden: pd.Series, groups: Sequence[str]) -> pd.Series:
    """Cells to hide so that no group has exactly one hidden non-zero cell."""
    extra = pd.Series(False, index=df.index)
    keys = list(groups) if groups else np.zeros(len(df), dtype=int)
    for idx in df.groupby(keys, sort=False, dropna=False).indices.values():
        idx = df.index[idx]
        n_hidden = int(hidden.loc[idx].sum())
        if n_hidden != 1:
            continue
        candidates = df.loc[idx, count].where(~hidden.loc[idx] & (df.loc[idx, count] > 0)).dropna()
        if len(candidates):
            extra.loc[candidates.sort_values(kind="stable").index[0]] = True
    return extra


def suppress(
    df: pd.DataFrame,
    *,
    table: str,
    min_cell_size: int,
    count_cols: Sequence[str] = (),
    stat_cols: Mapping[str, str | Sequence[str]] | None = None,
    margin_groups: Mapping[str, Sequence[str]] | None = None,
    secondary: bool = True,
) -> tuple[pd.DataFrame, SuppressionReport]:
    """Suppress small cells of an aggregate table.

    Parameters
    ----------
    df : DataFrame
        An aggregate table (no person identifiers).
    table : str
        Its name, for messages and the manifest.
    min_cell_size : int
        Smallest number of persons a cell may describe.
    count_cols : sequence of str
        Columns holding counts of persons.
    stat_cols : mapping of str to str or sequence of str, optional
        Statistic column -> the count column(s) of persons it rests on: its denominator, and its
        numerator where it has one (a share n/n_total reveals a hidden n when n_total is shown).
        The statistic is suppressed when any of them is small or hidden.
    margin_groups : mapping of str to sequence of str, optional
        Count column -> the columns whose groups add up to a shown margin (``[]`` = the whole
        column adds up to a total). Drives secondary suppression.
    secondary : bool, default True
        Apply secondary suppression.

    Returns
    -------
    (DataFrame, SuppressionReport)
    """
    check_no_person_ids(df, table)
    stat_cols = {stat: [bases] if isinstance(bases, str) else list(bases) for stat, bases in (stat_cols or {}).items()}
    bases_all = [b for bases in stat_cols.values() for b in bases]
    margin_groups = dict(margin_groups or {})
    missing = [c for c in [*count_cols, *stat_cols, *bases_all] if c not in df.columns]
    if missing:
        raise DisclosureError(f"table '{table}': column(s) {missing} not found; columns present: {list(df.columns)}")
    for c in [*count_cols, *bases_all]:
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise DisclosureError(f"table '{table}': count column '{c}' must be numeric, got {df[c].dtype}")
    out = df.copy()
    primary = secondary_n = stats = 0
    hidden_by_col: dict[str, pd.Series] = {}
    for c in count_cols:
        hidden = _primary(df[c], min_cell_size)
        primary += int(hidden.sum())
        if secondary and c in margin_groups:
            extra = _secondary(df, c, hidden, margin_groups[c])
            secondary_n += int(extra.sum())
            hidden = hidden | extra
        hidden_by_col[c] = hidden
        out[c] = out[c].astype("float64").mask(hidden)
    for stat, bases in stat_cols.items():
        small = pd.Series(False, index=df.index)
        for base in bases:
            small |= df[base].notna() & (df[base] > 0) & (df[base] < min_cell_size)
            small |= hidden_by_col.get(base, False)
        stats += int((small & df[stat].notna()).sum())
        out[stat] = out[stat].astype("float64").mask(small)
    report = SuppressionReport(table=table, rows=len(df), primary=primary, secondary=secondary_n, statistics=stats,
                               count_columns=tuple(count_cols))
    return out, report


def assert_disclosed(df: pd.DataFrame, *, table: str, min_cell_size: int, count_cols: Sequence[str]) -> None:
    """Raise if a table still has a person id or a count in 1..min_cell_size-1."""
    check_no_person_ids(df, table)
    for c in count_cols:
        bad = _primary(df[c], min_cell_size)
        if bad.any():
            raise DisclosureError(
                f"table '{table}', column '{c}': {int(bad.sum())} count(s) below the minimum cell size "
                f"{min_cell_size} (rows {list(df.index[bad][:5])})"
            )
