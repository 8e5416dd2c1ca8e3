"""Statistical disclosure control: the one door results leave a run through.

Every table, set of key numbers and figure that leaves a run says what its numbers are, in a
:class:`Declaration`. The rules (domain.md §8) then follow from it:

* a **count** of persons between 1 and ``min_cell_size - 1`` is suppressed (a zero describes nobody
  and is kept);
* a **statistic** (rate, mean, probability, interval limit) is suppressed when any count it rests on
  (its denominator, and its numerator where it has one) is small or hidden;
* where the cells of a group add up to a shown **margin** and exactly one cell of the group is
  suppressed, the next smallest non-zero cell is suppressed too (secondary suppression);
* a **magnitude** (a sum or mean of money over persons) is suppressed when a few persons dominate it:
  the (n, k) dominance rule hides a cell whose ``n`` largest contributions make up more than ``k`` of
  its total (Statistics Denmark's rule for enterprises: n = 2, k = 85 %);
* columns that describe no person (parameters, public municipality figures, results of a simulation
  or a model on aggregates) are declared **safe**, identifiers (year, municipality code) **labels**;
* a table with a person-identifier column is refused.

Nothing is left to chance: every numeric column of a table must be declared as one of these, and a
table without a declaration is refused with a message that names the columns that look like counts
and shows the declaration to write. The analyses layer returns tables that carry their declaration
(:func:`declare` stores it in ``DataFrame.attrs``), so notebooks write them without repeating it.

Suppressed cells become missing (NaN; empty in CSV). :func:`suppress` returns the table and a
:class:`SuppressionReport` that the run manifest records.

Examples
--------
>>> import pandas as pd
>>> from progression.disclosure import declare, suppress
>>> table = pd.DataFrame({"sex": ["K", "M"], "n_persons": [3, 40], "share_employed": [0.33, 0.25]})
>>> table = declare(table, counts=["n_persons"], stats={"share_employed": "n_persons"})
>>> safe, report = suppress(table, table_name="employment_by_sex", min_cell_size=5)
>>> safe
  sex  n_persons  share_employed
0   K        NaN             NaN
1   M       40.0            0.25
>>> report.cells
2
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from .exceptions import DisclosureError
from .schemas import PERSON_ID_COLUMNS

__all__ = [
    "Declaration", "Dominance", "SuppressionReport", "declare", "declaration_of", "is_disclosed", "mark_disclosed",
    "suppress", "suppress_numbers", "dominance_share", "check_no_person_ids", "assert_disclosed",
    "looks_like_count", "DISCLOSED_ATTR", "DECLARATION_ATTR",
]

#: ``DataFrame.attrs`` key of a table's declaration.
DECLARATION_ATTR = "progression.disclosure"
#: ``DataFrame.attrs`` key set on a table that has passed disclosure control (its results name).
DISCLOSED_ATTR = "progression.disclosed"

_COUNT_NAME = re.compile(r"^(n|count|persons|citizens|antal)(_.*)?$|_(n|count|persons|citizens)$", re.IGNORECASE)


def _as_tuple(columns: str | Iterable[str] | None) -> tuple[str, ...]:
    if columns is None:
        return ()
    if isinstance(columns, str):
        return (columns,)
    return tuple(columns)


@dataclass(frozen=True)
class Dominance:
    """The (n, k) dominance rule: a magnitude cell is hidden when its ``n`` largest contributions make
    up more than ``k`` of its total.

    Parameters
    ----------
    n : int, default=2
        Number of largest contributions.
    k : float, default=0.85
        Largest share of the total they may make up.

    Examples
    --------
    A mean cost whose two largest contributions make up 97 % of the total is hidden under the default rule:

    >>> import pandas as pd
    >>> costs = pd.Series([900_000.0, 10_000, 12_000, 8_000, 11_000])
    >>> rule = Dominance()
    >>> rule.n, rule.k, dominance_share(costs, n=rule.n) > rule.k
    (2, 0.85, True)
    """

    n: int = 2
    k: float = 0.85


@dataclass(frozen=True)
class Declaration:
    """What the numeric columns of a table are, for disclosure control.

    Parameters
    ----------
    counts : tuple of str
        Counts of persons.
    stats : mapping of str to tuple of str
        Statistic -> the count columns it rests on (denominator, and numerator where it has one).
    margins : mapping of str to tuple of str
        Count -> the columns whose groups add up to a shown margin (``()`` = the whole column adds up
        to a total); drives secondary suppression.
    magnitudes : mapping of str to str
        Sum or mean of money over persons -> the column holding the share of its total that its
        largest contributions make up (:func:`dominance_share`); that column is used for the
        dominance rule and not written.
    magnitude_counts : mapping of str to str
        Magnitude -> the count of persons it sums over (suppressed with it when small).
    safe : tuple of str
        Numeric columns that describe no person: parameters, public municipality-level figures,
        results of a model or simulation on aggregates.
    labels : tuple of str
        Numeric identifiers (year, municipality code, step level).

    Build one with :meth:`Declaration.of` (or attach one with :func:`declare`).

    Examples
    --------
    >>> decl = Declaration.of(counts="n_persons", stats={"share_employed": "n_persons"}, labels="year")
    >>> decl.counts, decl.stats
    (('n_persons',), {'share_employed': ('n_persons',)})
    >>> sorted(decl.declared())
    ['n_persons', 'share_employed', 'year']
    """

    counts: tuple[str, ...] = ()
    stats: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    margins: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    magnitudes: Mapping[str, str] = field(default_factory=dict)
    magnitude_counts: Mapping[str, str] = field(default_factory=dict)
    safe: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    @classmethod
    def of(cls, *, counts=(), stats=None, margins=None, magnitudes=None, magnitude_counts=None, safe=(),
           labels=()) -> "Declaration":
        """Build a declaration from lists and mappings (a string stands for a one-element list)."""
        return cls(
            counts=_as_tuple(counts),
            stats={k: _as_tuple(v) for k, v in (stats or {}).items()},
            margins={k: _as_tuple(v) for k, v in (margins or {}).items()},
            magnitudes=dict(magnitudes or {}),
            magnitude_counts=dict(magnitude_counts or {}),
            safe=_as_tuple(safe),
            labels=_as_tuple(labels),
        )

    def declared(self) -> set[str]:
        """Every column the declaration names."""
        return ({*self.counts, *self.stats, *self.magnitudes, *self.magnitudes.values(), *self.safe, *self.labels}
                | {b for bases in self.stats.values() for b in bases} | set(self.magnitude_counts.values()))

    def merge(self, other: "Declaration") -> "Declaration":
        """The union of two declarations (for tables put side by side or stacked)."""
        def union(a, b):
            return tuple(dict.fromkeys([*a, *b]))
        return Declaration(
            counts=union(self.counts, other.counts), stats={**self.stats, **other.stats},
            margins={**self.margins, **other.margins}, magnitudes={**self.magnitudes, **other.magnitudes},
            magnitude_counts={**self.magnitude_counts, **other.magnitude_counts},
            safe=union(self.safe, other.safe), labels=union(self.labels, other.labels))

    def restricted(self, columns: Iterable[str]) -> "Declaration":
        """The declaration of the columns present in a table (a statistic keeps all its bases)."""
        present = set(columns)
        return Declaration(
            counts=tuple(c for c in self.counts if c in present),
            stats={k: v for k, v in self.stats.items() if k in present},
            margins={k: v for k, v in self.margins.items() if k in present},
            magnitudes={k: v for k, v in self.magnitudes.items() if k in present},
            magnitude_counts={k: v for k, v in self.magnitude_counts.items() if k in present},
            safe=tuple(c for c in self.safe if c in present),
            labels=tuple(c for c in self.labels if c in present))

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else {a: list(b) if isinstance(b, tuple) else b
                                                            for a, b in v.items()})
                for k, v in asdict(self).items()}


def declare(table: pd.DataFrame | Mapping, declaration: Declaration | None = None, *, counts=(), stats=None,
            margins=None, magnitudes=None, magnitude_counts=None, safe=(), labels=(), add: bool = False):
    """Attach a disclosure declaration to a table (or to a mapping of key numbers).

    Parameters
    ----------
    table : DataFrame or mapping
        An aggregate table, or a flat mapping of key numbers (see :class:`Declaration` for the kinds).
    declaration : Declaration, optional
        A declaration to attach (e.g. another table's, for a table stacked from several), to which the
        keyword arguments add.
    add : bool, default False
        Add to the declaration the table already carries instead of replacing it.

    Returns
    -------
    DataFrame or dict
        A copy carrying the declaration (``DataFrame.attrs``; for a mapping, a :class:`dict` subclass
        with a ``declaration`` attribute).

    Examples
    --------
    >>> import pandas as pd
    >>> t = declare(pd.DataFrame({"year": [2022], "n": [12], "mean_cost": [1.5e5], "top2": [0.4]}),
    ...             counts="n", magnitudes={"mean_cost": "top2"}, magnitude_counts={"mean_cost": "n"}, labels="year")
    >>> declaration_of(t).counts
    ('n',)
    """
    new = Declaration.of(counts=counts, stats=stats, margins=margins, magnitudes=magnitudes,
                         magnitude_counts=magnitude_counts, safe=safe, labels=labels)
    if declaration is not None:
        new = declaration.merge(new)
    if isinstance(table, pd.DataFrame):
        old = declaration_of(table) if add else None
        out = table.copy()
        out.attrs[DECLARATION_ATTR] = old.merge(new) if old else new
        out.attrs.pop(DISCLOSED_ATTR, None)
        return out
    if isinstance(table, Mapping):
        old = getattr(table, "declaration", None) if add else None
        return Numbers(table, declaration=old.merge(new) if old else new)
    raise TypeError(f"declare() takes a DataFrame or a mapping of key numbers; got {type(table).__name__}")


class Numbers(dict):
    """Key numbers (a flat mapping) with their disclosure declaration."""

    def __init__(self, data=(), *, declaration: Declaration | None = None):
        super().__init__(data)
        self.declaration = declaration


def declaration_of(table) -> Declaration | None:
    """The declaration a table or mapping carries, or None.

    Parameters
    ----------
    table : DataFrame or mapping

    Returns
    -------
    Declaration or None

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"n_persons": [12]})
    >>> declaration_of(table) is None, declaration_of(declare(table, counts="n_persons")).counts
    (True, ('n_persons',))
    """
    if isinstance(table, pd.DataFrame):
        return table.attrs.get(DECLARATION_ATTR)
    return getattr(table, "declaration", None)


def mark_disclosed(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """Mark a table as having passed disclosure control under the results name ``name``.

    The run context does this for the tables it writes or reads back; a table marked so may be shown.

    Parameters
    ----------
    table : DataFrame
        Changed in place (its ``attrs``) and returned.
    name : str
        The results name it was written under.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> shown = mark_disclosed(pd.DataFrame({"n_persons": [12]}), "persons")
    >>> is_disclosed(shown)
    True
    """
    table.attrs[DISCLOSED_ATTR] = name
    return table


def is_disclosed(table) -> bool:
    """Whether a table (or mapping) passed disclosure control.

    Parameters
    ----------
    table : DataFrame or mapping

    Returns
    -------
    bool
        True for a table :func:`mark_disclosed` marked; a table :func:`declare` changes is no longer marked.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"n_persons": [12]})
    >>> is_disclosed(table), is_disclosed(mark_disclosed(table, "persons"))
    (False, True)
    """
    if isinstance(table, pd.DataFrame):
        return bool(table.attrs.get(DISCLOSED_ATTR))
    return bool(getattr(table, "disclosed", None))


@dataclass(frozen=True)
class SuppressionReport:
    """What :func:`suppress` hid in one table.

    Parameters
    ----------
    table : str
        The table's name.
    rows : int
        Its rows.
    primary, secondary, statistics, dominance : int
        Cells hidden as small counts, to protect a margin, as statistics resting on a hidden count,
        and as magnitudes failing the dominance rule (or resting on a small count).
    count_columns : tuple of str
        The count columns checked.

    Examples
    --------
    >>> import pandas as pd
    >>> table = declare(pd.DataFrame({"n_persons": [3, 40]}), counts="n_persons")
    >>> _, report = suppress(table, table_name="persons", min_cell_size=5)
    >>> report.primary, report.cells
    (1, 1)
    """

    table: str
    rows: int
    primary: int
    secondary: int
    statistics: int
    dominance: int = 0
    count_columns: tuple[str, ...] = ()

    @property
    def cells(self) -> int:
        """All suppressed cells."""
        return self.primary + self.secondary + self.statistics + self.dominance

    def to_dict(self) -> dict:
        return {**asdict(self), "count_columns": list(self.count_columns), "cells": self.cells}


def check_no_person_ids(df: pd.DataFrame, table: str) -> None:
    """Refuse a table that carries a person identifier (column name or index name).

    Parameters
    ----------
    df : DataFrame
    table : str
        Its name, for the message.

    Raises
    ------
    DisclosureError
        When a column or index level is named like a person identifier (``person_id``, ``cpr``, ...).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> persons = load_example("persons")
    >>> check_no_person_ids(persons.groupby("sex").size().rename("n_persons").reset_index(), "by_sex")
    >>> check_no_person_ids(persons, "persons")
    Traceback (most recent call last):
    ...
    progression.exceptions.DisclosureError: table 'persons' has person identifier column(s) ['person_id']; ...
    """
    names = {str(c).lower() for c in df.columns} | {str(n).lower() for n in df.index.names if n is not None}
    found = sorted(names & PERSON_ID_COLUMNS)
    if found:
        raise DisclosureError(
            f"table '{table}' has person identifier column(s) {found}; only aggregates may leave a run. "
            "Aggregate over persons before writing."
        )


def looks_like_count(name: str, values: pd.Series | None = None, min_cell_size: int = 5) -> bool:
    """Whether a column looks like a count of persons: by its name (``n``, ``n_*``, ``*_count``, …)
    or by holding whole numbers some of which lie between 1 and ``min_cell_size - 1``.

    Parameters
    ----------
    name : str
        The column name.
    values : Series, optional
        The column's values.
    min_cell_size : int, default=5

    Returns
    -------
    bool

    Examples
    --------
    >>> import pandas as pd
    >>> looks_like_count("n_persons"), looks_like_count("mean_cost", pd.Series([1.5e5, 2.1e5]))
    (True, False)
    >>> looks_like_count("stepped_down", pd.Series([2, 10, 40]))
    True
    """
    if _COUNT_NAME.search(str(name)):
        return True
    if values is None or not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    v = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    return bool(len(v)) and bool(np.all(v == np.round(v))) and bool(np.any((v >= 1) & (v < min_cell_size)))


def _numeric_columns(df: pd.DataFrame) -> list[str]:
    return [str(c) for c in df.columns
            if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]


def _how_to_declare(table: str, counts: list[str], others: list[str], call: str) -> str:
    stats = ", ".join(f"'{c}': '{counts[0]}'" for c in others[:2]) if counts else ""
    example = f"counts={counts}" + (f", stats={{{stats}}}" if stats else "") + (
        ", safe=[...]" if others else "")
    return (f"Declare what each column is, e.g. {call}('{table}', table, {example}) — counts of persons, "
            "statistics with the counts they rest on, magnitudes with their dominance shares, safe columns "
            "(describing no person) and labels — or return the table from progression.analyses, which "
            "declares it (see progression.disclosure.declare).")


def _check_declaration(df: pd.DataFrame, decl: Declaration | None, table: str, min_cell_size: int,
                       call: str) -> Declaration:
    numeric = _numeric_columns(df)
    if decl is None:
        counts = [c for c in numeric if looks_like_count(c, df[c], min_cell_size)]
        others = [c for c in numeric if c not in counts]
        if not numeric:
            return Declaration()
        raise DisclosureError(
            f"table '{table}' has no disclosure declaration, so it is not written. "
            f"Columns that look like counts of persons: {counts or 'none'}; other numeric columns: "
            f"{others or 'none'}. " + _how_to_declare(table, counts, others, call))
    missing = sorted(c for c in decl.declared() - set(df.columns)
                     if c in {b for bases in decl.stats.values() for b in bases} or c in decl.magnitudes.values()
                     or c in decl.magnitude_counts.values())
    needed_by = [s for s, bases in decl.stats.items() if s in df.columns and set(bases) & set(missing)]
    needed_by += [m for m, d in decl.magnitudes.items() if m in df.columns and d in missing]
    needed_by += [m for m, c in decl.magnitude_counts.items() if m in df.columns and c in missing]
    if needed_by:
        raise DisclosureError(
            f"table '{table}': column(s) {sorted(set(needed_by))} rest on {missing}, which the table does not "
            f"have; keep the counts (or dominance shares) a statistic rests on in the table, or drop the statistic")
    decl = decl.restricted(df.columns)
    bases = [b for bs in decl.stats.values() for b in bs if b in df.columns]
    other = {*decl.magnitudes, *decl.safe, *decl.labels, *decl.stats}
    extra = [b for b in dict.fromkeys(bases) if b not in decl.counts and b not in other]
    if extra:  # a column a statistic rests on is a count of persons, suppressed like one
        decl = Declaration(**{**decl.__dict__, "counts": (*decl.counts, *extra)})
    undeclared = [c for c in numeric if c not in decl.declared()]
    if undeclared:
        counts = [c for c in undeclared if looks_like_count(c, df[c], min_cell_size)]
        raise DisclosureError(
            f"table '{table}': numeric column(s) {undeclared} are not declared "
            f"(of them, looking like counts of persons: {counts or 'none'}), so the table is not written. "
            + _how_to_declare(table, counts, [c for c in undeclared if c not in counts], call))
    for c in [*decl.counts, *{b for bases in decl.stats.values() for b in bases}]:
        if c in df.columns and not pd.api.types.is_numeric_dtype(df[c]):
            raise DisclosureError(f"table '{table}': count column '{c}' must be numeric, got {df[c].dtype}")
    return decl


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


def dominance_share(values: pd.Series, by: pd.Series | pd.DataFrame | Sequence | None = None, *,
                    n: int = 2) -> pd.Series | float:
    """Share of a total that its ``n`` largest contributions make up, overall or per group.

    Feed it the per-person amounts (costs) a magnitude cell sums over; declare the result as the
    magnitude's dominance column.

    Parameters
    ----------
    values : Series
        Contributions (their absolute values are used).
    by : Series, DataFrame or sequence, optional
        Group of each value; None for one share over all values.
    n : int, default=2
        Number of largest contributions (the ``n`` of the (n, k) rule).

    Returns
    -------
    float or Series
        The share (0 for a zero total); per group a Series named ``dominance_share``.

    Examples
    --------
    >>> import pandas as pd
    >>> costs = pd.Series([900_000.0, 10_000, 12_000, 8_000, 11_000])
    >>> round(dominance_share(costs), 3)
    0.969
    """
    values = pd.Series(values, dtype=float).abs()
    if by is None:
        total = values.sum()
        return float(values.nlargest(n).sum() / total) if total > 0 else 0.0
    frame = pd.DataFrame({"value": values.to_numpy()})
    keys = by if isinstance(by, pd.DataFrame) else pd.DataFrame({"_g": np.asarray(by)})
    keys = keys.reset_index(drop=True)
    frame = pd.concat([keys, frame], axis=1)
    group_cols = list(keys.columns)
    top = (frame.sort_values("value", ascending=False, kind="stable").groupby(group_cols, sort=True, observed=True)
           ["value"].apply(lambda v: v.head(n).sum()))
    total = frame.groupby(group_cols, sort=True, observed=True)["value"].sum()
    out = (top / total.where(total > 0)).fillna(0.0).rename("dominance_share")
    if "_g" in group_cols:
        out.index.name = getattr(by, "name", None)
    return out


def suppress(df: pd.DataFrame, *, table_name: str, min_cell_size: int, declaration: Declaration | None = None,
             secondary: bool = True, dominance: Dominance | None = Dominance(),
             call: str = "ctx.write_result") -> tuple[pd.DataFrame, SuppressionReport]:
    """Suppress small cells of an aggregate table according to its declaration.

    Parameters
    ----------
    df : DataFrame
        An aggregate table (no person identifiers) carrying a declaration (:func:`declare`), or
        undeclared with ``declaration`` given.
    table_name : str
        Its name, for messages and the manifest.
    min_cell_size : int
        Smallest number of persons a cell may describe.
    declaration : Declaration, optional
        Overrides the declaration the table carries.
    secondary : bool, default True
        Apply secondary suppression.
    dominance : Dominance or None
        The (n, k) rule for magnitudes; None switches it off.

    Returns
    -------
    (DataFrame, SuppressionReport)
        The table without its dominance columns, suppressed cells missing.

    Raises
    ------
    DisclosureError
        When the table carries a person identifier, has no declaration, or has numeric columns the
        declaration does not cover.

    Examples
    --------
    Municipality 101 has 3 women: that cell is hidden, and so is the men's, which with the shown margin
    would give it away:

    >>> import pandas as pd
    >>> table = pd.DataFrame({"municipality": [101, 101, 147, 147], "sex": ["K", "M", "K", "M"],
    ...                       "n_persons": [3, 12, 25, 30]})
    >>> table = declare(table, counts="n_persons", margins={"n_persons": "municipality"}, labels="municipality")
    >>> safe, report = suppress(table, table_name="persons_by_sex", min_cell_size=5)
    >>> safe
       municipality sex  n_persons
    0           101   K        NaN
    1           101   M        NaN
    2           147   K       25.0
    3           147   M       30.0
    >>> report.primary, report.secondary
    (1, 1)
    """
    check_no_person_ids(df, table_name)
    decl = _check_declaration(df, declaration or declaration_of(df), table_name, min_cell_size, call)
    out = df.copy()
    out.attrs = {}
    primary = secondary_n = stats = dominated = 0
    hidden_by_col: dict[str, pd.Series] = {}
    for c in decl.counts:
        hidden = _primary(df[c], min_cell_size)
        primary += int(hidden.sum())
        if secondary and c in decl.margins:
            extra = _secondary(df, c, hidden, decl.margins[c])
            secondary_n += int(extra.sum())
            hidden = hidden | extra
        hidden_by_col[c] = hidden
        out[c] = out[c].astype("float64").mask(hidden)
    for magnitude, share_col in decl.magnitudes.items():
        small = pd.Series(False, index=df.index)
        if dominance is not None:
            small |= df[share_col].fillna(1.0) > dominance.k
        base = decl.magnitude_counts.get(magnitude)
        if base is not None:
            small |= _primary(df[base], min_cell_size) | hidden_by_col.get(base, False)
        dominated += int((small & df[magnitude].notna()).sum())
        out[magnitude] = out[magnitude].astype("float64").mask(small)
        hidden_by_col[magnitude] = small
    for stat, bases in decl.stats.items():
        small = pd.Series(False, index=df.index)
        for base in bases:
            if base not in decl.magnitudes:  # a count of persons: small or hidden
                small |= _primary(df[base], min_cell_size)
            small |= hidden_by_col.get(base, False)
        stats += int((small & df[stat].notna()).sum())
        out[stat] = out[stat].astype("float64").mask(small) if pd.api.types.is_numeric_dtype(out[stat]) \
            else out[stat].mask(small)
    out = out.drop(columns=[c for c in dict.fromkeys(decl.magnitudes.values()) if c not in decl.counts
                            and c not in decl.stats and c not in decl.safe])
    report = SuppressionReport(table=table_name, rows=len(df), primary=primary, secondary=secondary_n,
                               statistics=stats, dominance=dominated, count_columns=tuple(decl.counts))
    return out, report


def _flatten(data: Mapping, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def suppress_numbers(data: Mapping, *, name: str, min_cell_size: int, declaration: Declaration | None = None,
                     call: str = "ctx.write_json") -> tuple[dict, SuppressionReport]:
    """Disclosure control of key numbers: a flat (or nested) mapping treated as a one-row table.

    Numbers must be declared like a table's columns (keys of nested mappings joined by '.'); strings
    and booleans pass. Suppressed numbers become None.

    Parameters
    ----------
    data : mapping
        Key numbers, possibly nested.
    name : str
        Their results name, for messages and the manifest.
    min_cell_size : int
        Smallest number of persons a number may describe.
    declaration : Declaration, optional
        Overrides the declaration ``data`` carries (:func:`declare`).

    Returns
    -------
    (dict, SuppressionReport)
        The flat mapping (keys joined by '.') with suppressed numbers None.

    Raises
    ------
    DisclosureError
        As :func:`suppress`, and when a value is a list.

    Examples
    --------
    >>> numbers = declare({"cohort": {"n_persons": 3, "share_down": 0.33}, "note": "pilot"},
    ...                   counts="cohort.n_persons", stats={"cohort.share_down": "cohort.n_persons"})
    >>> safe, report = suppress_numbers(numbers, name="pilot", min_cell_size=5)
    >>> safe
    {'cohort.n_persons': None, 'cohort.share_down': None, 'note': 'pilot'}
    """
    flat = _flatten(data)
    for key, value in flat.items():
        if isinstance(value, (list, tuple, np.ndarray)):
            raise DisclosureError(f"key numbers '{name}': '{key}' holds a list; write lists as a table "
                                  "(ctx.write_result) so that each value is disclosed")
    row = pd.DataFrame([{k: (float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                             else v) for k, v in flat.items()}])
    safe, report = suppress(row, table_name=name, min_cell_size=min_cell_size,
                            declaration=declaration or declaration_of(data), dominance=Dominance(), call=call)
    out = {}
    for key, value in flat.items():
        if key not in safe.columns:
            continue
        new = safe.at[0, key]
        if isinstance(value, (bool, np.bool_)) or isinstance(value, str) or value is None:
            out[key] = value if not (isinstance(new, float) and math.isnan(new)) else None
        elif isinstance(new, float) and math.isnan(new):
            out[key] = None
        elif isinstance(value, (int, np.integer)):
            out[key] = int(value)
        else:
            out[key] = float(value)
    return out, report


def assert_disclosed(df: pd.DataFrame, *, table: str, min_cell_size: int, count_cols: Sequence[str]) -> None:
    """Raise if a table still has a person id or a count in 1..min_cell_size-1.

    Parameters
    ----------
    df : DataFrame
    table : str
        Its name, for the message.
    min_cell_size : int
    count_cols : sequence of str
        The columns holding counts of persons.

    Raises
    ------
    DisclosureError
        Naming the column and rows of the first small count found.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"n_persons": [3, 40]})
    >>> assert_disclosed(table, table="persons", min_cell_size=5, count_cols=["n_persons"])
    Traceback (most recent call last):
    ...
    progression.exceptions.DisclosureError: table 'persons', column 'n_persons': 1 count(s) below ...
    >>> safe, _ = suppress(declare(table, counts="n_persons"), table_name="persons", min_cell_size=5)
    >>> assert_disclosed(safe, table="persons", min_cell_size=5, count_cols=["n_persons"])
    """
    check_no_person_ids(df, table)
    for c in count_cols:
        bad = _primary(df[c], min_cell_size)
        if bad.any():
            raise DisclosureError(
                f"table '{table}', column '{c}': {int(bad.sum())} count(s) below the minimum cell size "
                f"{min_cell_size} (rows {list(df.index[bad][:5])})"
            )

