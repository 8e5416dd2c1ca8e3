"""Spells to a person-period panel of steps on the staircase, built with DuckDB.

One row per person and period (month, quarter or year) from the person's first spell on a step (or the
start of the observation window) to the end of the window or a censoring event. The step of a period
is decided by a rule when several services are held:

``highest``
    the most intensive step held on any day of the period (the choice of Social- og Boligstyrelsen 2024,
    *Kommunernes omlægning til Borgeren ved roret*; the default);
``end``
    the step held on the last observed day of the period (the highest if several, the no-service
    step if none);
``longest``
    the step held on most days of the period (ties go to the higher step); days without a step do
    not compete, so a period with any step held is on a step.

Side services (paragraphs on no step, e.g. SEL103) never decide a step. Periods without a step spell
get the no-service step. Death, emigration and a move to another municipality end a person's panel:
the period in which they happen carries the event in ``status`` (``died``, ``emigrated``, ``moved``;
otherwise ``observed``) and its step is derived from the days up to the event. These statuses are
never steps. Dates are inclusive; an open end date runs to the end of the window. When two events fall
on the same day, death wins over emigration, and emigration over a move. Only moves after the person's
panel entry censor; a move before it simply means the person enters where they live.

The acting municipality of a period is the municipality of the spell that decides the step (for ties,
the one held more days); in a period without a step spell it is the municipality of the person's
latest step spell that started before the period ended.

The query runs in DuckDB over Parquet files or registered DataFrames, person by person in hash
chunks, so a national monthly panel streams to a Parquet file with bounded memory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from progression.exceptions import DataContractError, ParameterError
from progression.staircase import STATUSES, Staircase, as_staircase

__all__ = ["build_panel", "read_panel", "data_panel", "infer_period", "period_number", "PANEL_COLUMNS", "PERIODS",
           "PERIODS_PER_YEAR"]

PANEL_COLUMNS = ("person_id", "period", "step", "level", "municipality", "status")
PERIODS = ("month", "quarter", "year")
#: Periods in a calendar year.
PERIODS_PER_YEAR = {"month": 12, "quarter": 4, "year": 1}
_INTERVAL = {"month": "1 MONTH", "quarter": "3 MONTH", "year": "1 YEAR"}
_RULES = ("highest", "end", "longest")
_REQUIRED = {
    "spells": ("person_id", "paragraph", "municipality", "start_date", "end_date"),
    "persons": ("person_id", "death_date", "emigration_date"),
    "moves": ("person_id", "move_date"),
}

Table = pd.DataFrame | str | os.PathLike


def _as_date(value, name: str, *, end: bool) -> date:
    """A date from a date, string or year (a year means 1 January, or 31 December for ``end``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return date(value, 12, 31) if end else date(value, 1, 1)
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must be a date, a date string or a year; got {value!r}") from err


def _register(con: duckdb.DuckDBPyConnection, name: str, table: Table) -> None:
    """Make ``table`` (DataFrame or Parquet path/glob) visible as view ``name`` and check its columns."""
    if isinstance(table, pd.DataFrame):
        con.register(f"{name}_df", table)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {name}_df")
    elif isinstance(table, (str, os.PathLike)):
        path = str(table).replace("'", "''")
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    else:
        raise TypeError(f"{name} must be a DataFrame or a path to a Parquet file; got {type(table).__name__}")
    present = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
    missing = [c for c in _REQUIRED[name] if c not in present]
    if missing:
        raise DataContractError(f"table '{name}' lacks column(s) {missing}; columns present: {present}")


def _empty_view(con: duckdb.DuckDBPyConnection, name: str) -> None:
    cols = ", ".join(f"NULL::{'DATE' if c.endswith('date') else 'BIGINT'} AS {c}" for c in _REQUIRED[name])
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {cols} WHERE false")


def _check_spells(con: duckdb.DuckDBPyConnection, stairs: Staircase) -> None:
    counts = dict(con.execute("SELECT paragraph, count(*) FROM spells GROUP BY paragraph").fetchall())
    stairs.check_paragraphs(counts, counts=counts)
    bad = con.execute(
        "SELECT person_id, start_date::DATE, end_date::DATE FROM spells "
        "WHERE end_date < start_date OR start_date IS NULL OR person_id IS NULL LIMIT 5"
    ).fetchall()
    if bad:
        n = con.execute("SELECT count(*) FROM spells WHERE end_date < start_date OR start_date IS NULL "
                        "OR person_id IS NULL").fetchall()[0][0]
        raise DataContractError(
            f"table 'spells': {n} row(s) with a missing person_id/start_date or end_date before start_date; "
            f"examples (person_id, start_date, end_date): {bad}"
        )


_PERIOD_INDEX = {  # calendar period number of a date
    "month": "(year({d}) * 12 + month({d}) - 1)",
    "quarter": "(year({d}) * 4 + (month({d}) - 1) // 3)",
    "year": "year({d})",
}
_STATUS_CODES = {"observed": 0, "died": 1, "emigrated": 2, "moved": 3}
_FULL = 400  # "days" of an interval covering a whole period, more than any partial period has
_PERIOD_BITS = 12  # periods since the window start packed below the person id (4096 months = 341 years)
_EMPTY_BATCH = pa.RecordBatch.from_pydict(
    {"person_period": pa.array([], pa.int64()), "key": pa.array([], pa.int64()),
     "status_code": pa.array([], pa.int8())})


def _sort_key_sql(rule: str) -> str:
    """One BIGINT per (interval, period) whose maximum within a person-period is the rule's choice.

    Layout (decimal digits): for ``highest`` (rank+1, days, municipality); for ``end`` (at_end,
    rank+1, days, municipality); for ``longest``, after summing days per step, (holds a step, days,
    rank+1, municipality). ``rank`` is the step's position on the staircase, -1 for a gap without
    a step; ``days`` are the days held in the period (``_FULL`` for a whole period).
    """
    if rule == "highest":
        return "((rank + 1)::BIGINT * 1000 + days) * 10000 + municipality"
    if rule == "end":
        return "((at_end::BIGINT * 100 + rank + 1) * 1000 + days) * 10000 + municipality"
    return "(((rank >= 0)::BIGINT * 1000 + days) * 100 + rank + 1) * 10000 + municipality"


def _panel_sql(*, period: str, rule: str, start: date, end: date, stairs: Staircase, chunk: int) -> str:
    """The panel query for one hash chunk of persons (reads the prepared table ``step_spells_all``).

    Each person's window [entry, exit_date] is covered by intervals: the step spells, and the gaps
    between them (rank -1) carrying the municipality of the latest spell started before the gap.
    Exploding the intervals into the calendar periods they touch and taking, per (person, period),
    the maximum of a packed sort key gives every period of the window exactly once.
    """
    step = f"INTERVAL {_INTERVAL[period]}"
    s, e = f"DATE '{start.isoformat()}'", f"DATE '{end.isoformat()}'"
    pidx = _PERIOD_INDEX[period].format
    # for the 'longest' rule, overlapping spells on one step must not count their days twice:
    # merge them into islands first (gaps-and-islands over a running maximum of end dates)
    merge = """
islands AS (
    SELECT *, sum(CASE WHEN prev_b IS NULL OR s0 > prev_b + 1 THEN 1 ELSE 0 END)
                OVER (PARTITION BY person_id, rank ORDER BY s0, s1 ROWS UNBOUNDED PRECEDING) AS island
    FROM (SELECT *, max(s1) OVER (PARTITION BY person_id, rank ORDER BY s0, s1
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_b
          FROM raw_spells)
),
step_spells AS (
    SELECT person_id, rank, arg_max(municipality, s1 - s0) AS municipality, min(s0) AS s0, max(s1) AS s1
    FROM islands GROUP BY person_id, rank, island
),""" if rule == "longest" else "step_spells AS (SELECT * FROM raw_spells),"
    keyed = """
per_step AS (
    SELECT person_id, p, rank, sum(days)::BIGINT AS days, arg_max(municipality, days) AS municipality,
           max(status_code) AS status_code
    FROM exploded GROUP BY person_id, p, rank
),
keyed AS (SELECT person_id, p, status_code, {key} AS key FROM per_step),""" if rule == "longest" else """
keyed AS (SELECT person_id, p, status_code, {key} AS key FROM exploded),"""
    keyed = keyed.format(key=_sort_key_sql(rule))
    return f"""
WITH raw_spells AS (
    SELECT person_id, rank, municipality, s0, s1 FROM step_spells_all WHERE chunk = {chunk}
),{merge}
entries AS (
    SELECT person_id, greatest(min(s0), {s}) AS entry FROM step_spells GROUP BY person_id
),
windows AS (
    SELECT e.person_id, e.entry, p.death_date::DATE AS death, p.emigration_date::DATE AS emig,
           (SELECT min(m.move_date::DATE) FROM moves m
             WHERE m.person_id = e.person_id AND m.move_date::DATE > e.entry) AS moved
    FROM entries e LEFT JOIN persons p ON p.person_id = e.person_id
),
bounded AS (
    SELECT person_id, entry, least(death, emig, moved, {e}) AS exit_date,
           CASE WHEN death IS NOT NULL AND death <= least(emig, moved, {e}) THEN {_STATUS_CODES['died']}
                WHEN emig IS NOT NULL AND emig <= least(moved, {e}) THEN {_STATUS_CODES['emigrated']}
                WHEN moved IS NOT NULL AND moved <= {e} THEN {_STATUS_CODES['moved']}
                ELSE 0 END AS exit_code
    FROM windows
),
ordered AS (
    SELECT s.*, b.entry, b.exit_date, b.exit_code,
           max(s.s1) OVER w AS covered_to, lead(s.s0) OVER w AS next_start
    FROM step_spells s JOIN bounded b ON s.person_id = b.person_id
    WHERE b.exit_date >= b.entry
    WINDOW w AS (PARTITION BY s.person_id ORDER BY s.s0, s.s1 ROWS UNBOUNDED PRECEDING)
),
intervals AS (
    SELECT person_id, rank, municipality, entry, exit_date, exit_code, s0 AS a, s1 AS b FROM ordered
    UNION ALL
    SELECT person_id, -1, municipality, entry, exit_date, exit_code, covered_to + 1,
           COALESCE(next_start - 1, exit_date)
    FROM ordered WHERE covered_to + 1 <= COALESCE(next_start - 1, exit_date)
),
clipped AS (
    SELECT person_id, rank, municipality, a, b, exit_code,
           {pidx(d='a')} AS pa, {pidx(d='b')} AS pb, {pidx(d='exit_date')} AS pe,
           CASE WHEN a = date_trunc('{period}', a)::DATE THEN {_FULL}
                ELSE (date_trunc('{period}', a) + {step})::DATE - a END AS a_days,
           CASE WHEN b = (date_trunc('{period}', b) + {step})::DATE - 1 THEN {_FULL}
                ELSE b - date_trunc('{period}', b)::DATE + 1 END AS b_days,
           b = exit_date OR b = (date_trunc('{period}', b) + {step})::DATE - 1 AS b_closes
    FROM (SELECT person_id, rank, municipality, exit_date, exit_code,
                 greatest(a, entry) AS a, least(b, exit_date) AS b
          FROM intervals WHERE a <= exit_date AND b >= entry)
),
exploded AS (
    SELECT person_id, p, rank, municipality,
           CASE WHEN p = pa AND p = pb THEN (CASE WHEN a_days = {_FULL} AND b_days = {_FULL} THEN {_FULL}
                                                   ELSE b - a + 1 END)
                WHEN p = pa THEN a_days WHEN p = pb THEN b_days ELSE {_FULL} END AS days,
           p < pb OR b_closes AS at_end,
           CASE WHEN p = pe THEN exit_code ELSE 0 END AS status_code
    FROM (SELECT *, unnest(range(pa, pb + 1)) AS p FROM clipped)
),{keyed}
SELECT (person_id::BIGINT << {_PERIOD_BITS}) + (p - {pidx(d=s)}) AS person_period, key::BIGINT AS key,
       status_code::TINYINT AS status_code
FROM keyed ORDER BY person_period, key DESC
"""


class _Decoder:
    """Turn sorted (person_period, key, status_code) batches into panel rows.

    ``person_period`` packs the person id and the period number since the window's first period
    into one integer (a single sort key is twice as fast to sort as two). Rows arrive sorted by it
    and by descending key, so the first row of each run is the rule's choice. A run may straddle
    two batches; the carried last value drops its continuation.
    """

    def __init__(self, stairs: Staircase, period: str, rule: str, first_period: int):
        self.period, self.rule, self.first_period = period, rule, first_period
        self.none_index = stairs.steps.index(stairs.none_step)
        self.levels = np.asarray(stairs.levels, dtype="float64")
        self.steps = pa.array(list(stairs.steps))
        self.statuses = pa.array(list(_STATUS_CODES))
        self.last: int | None = None

    def reset(self) -> None:
        self.last = None

    def _rank(self, key: np.ndarray) -> np.ndarray:
        plus1 = {"highest": key // 10_000_000, "end": key // 10_000_000 % 100, "longest": key // 10_000 % 100}
        r = plus1[self.rule] - 1
        return np.where(r < 0, self.none_index, r).astype("int8")

    def _dates(self, p: np.ndarray) -> np.ndarray:
        if self.period == "month":
            months = p - 1970 * 12
        elif self.period == "quarter":
            months = (p // 4 - 1970) * 12 + p % 4 * 3
        else:
            months = (p - 1970) * 12
        return months.astype("datetime64[M]").astype("datetime64[D]")

    def __call__(self, batch: pa.RecordBatch) -> pa.Table:
        packed = batch.column("person_period").to_numpy()
        key = batch.column("key").to_numpy()
        code = batch.column("status_code").to_numpy()
        first = np.ones(len(packed), dtype=bool)
        first[1:] = packed[1:] != packed[:-1]
        if len(packed) and self.last == packed[0]:
            first[0] = False
        if len(packed):
            self.last = packed[-1]
        packed, key, code = packed[first], key[first], code[first]
        person = packed >> _PERIOD_BITS
        p = (packed & (2**_PERIOD_BITS - 1)) + self.first_period
        rank = self._rank(key)
        return pa.table({
            "person_id": pa.array(person, pa.int64()),
            "period": pa.array(self._dates(p), pa.date32()),
            "step": pa.DictionaryArray.from_arrays(pa.array(rank, pa.int8()), self.steps),
            "level": pa.array(self.levels[rank], pa.float64()),
            "municipality": pa.array(key % 10_000, pa.int64()),
            "status": pa.DictionaryArray.from_arrays(pa.array(code, pa.int8()), self.statuses),
        })


def _prepare(con: duckdb.DuckDBPyConnection, stairs: Staircase, end: date, n_chunks: int) -> None:
    """Materialise the step spells once (rank, dates, hash chunk), ordered by chunk."""
    steps = stairs.paragraph_table()
    steps["rank"] = [stairs.steps.index(x) for x in steps["step"]]
    con.register("step_map", steps[["paragraph", "rank"]])
    e = f"DATE '{end.isoformat()}'"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE step_spells_all AS
        SELECT (hash(s.person_id) % {n_chunks})::INTEGER AS chunk, s.person_id, m.rank::INTEGER AS rank,
               s.municipality::INTEGER AS municipality,
               s.start_date::DATE AS s0, COALESCE(s.end_date::DATE, {e}) AS s1
        FROM spells s JOIN step_map m ON s.paragraph = m.paragraph
        WHERE s.start_date::DATE <= {e}
        ORDER BY chunk
    """)
    lo, hi, first, last = con.execute("SELECT min(municipality), max(municipality), min(person_id), "
                                      "max(person_id) FROM step_spells_all").fetchall()[0]
    if lo is not None and (lo < 0 or hi >= 10000):
        raise DataContractError(f"table 'spells', column 'municipality': codes must lie in 0..9999 "
                                f"(DST kommunekoder); found range {lo}..{hi}")
    if first is not None and (first < 0 or last >= 2 ** (63 - _PERIOD_BITS)):
        raise DataContractError(f"table 'spells', column 'person_id': ids must be integers in 0..2^51; "
                                f"found range {first}..{last}")


def build_panel(
    spells: Table,
    persons: Table | None = None,
    moves: Table | None = None,
    *,
    start,
    end,
    period: Literal["month", "quarter", "year"] = "year",
    rule: Literal["highest", "end", "longest"] | None = None,
    staircase=None,
    output: str | os.PathLike | None = None,
    n_chunks: int | None = None,
    memory_limit: str = "3GB",
    threads: int | None = None,
) -> pd.DataFrame | Path:
    """Build the person-period panel of steps from service spells.

    Parameters
    ----------
    spells : DataFrame or path
        Table ``spells`` of the data contract (``person_id``, ``paragraph``, ``municipality``,
        ``start_date``, ``end_date``), or a Parquet file (or glob) holding it.
    persons : DataFrame or path, optional
        Table ``persons``; its ``death_date`` and ``emigration_date`` censor.
    moves : DataFrame or path, optional
        Table ``moves``; the first ``move_date`` after the person's entry censors.
    start, end : date, str or int
        Observation window (inclusive); a year means 1 January / 31 December of that year.
    period : {"month", "quarter", "year"}, default="year"
        Calendar period of a panel row; ``period`` holds its first day.
    rule : {"highest", "end", "longest"}, optional
        Step of a period when several are held; defaults to the staircase's rule.
    staircase : Staircase or StaircaseParams, optional
        The step map; defaults to the staircase of Social- og Boligstyrelsen (2024).
    output : path, optional
        Write the panel to this Parquet file (streamed chunk by chunk) and return the path;
        otherwise return a DataFrame.
    n_chunks : int, optional
        Number of person hash chunks processed one after the other (bounds memory). Default: one
        chunk per 500,000 spells.
    memory_limit : str, default="3GB"
        DuckDB memory limit; larger intermediates spill to a temporary directory.
    threads : int, optional
        DuckDB threads (default: DuckDB's own choice, the number of cores).

    Returns
    -------
    DataFrame or Path
        Columns ``person_id``, ``period`` (first day, datetime), ``step`` (ordered categorical),
        ``level``, ``municipality``, ``status`` (``observed``, ``died``, ``emigrated``, ``moved``),
        sorted by person and period; ``attrs["period"]`` holds the period length. With ``output``,
        the path of the Parquet file (``step`` and ``status`` stored as strings).

    Raises
    ------
    DataContractError
        A required column is missing, a paragraph is neither on a step nor a side service, or a
        spell ends before it starts.
    ParameterError
        An unknown period or rule, or a window that ends before it starts.

    Examples
    --------
    Person 1 steps up to SEL107 for part of 2016 (the ``highest`` rule puts the whole year there) and
    has no service in 2018; person 2 dies in 2017:

    >>> import pandas as pd
    >>> spells = pd.DataFrame({"person_id": [1, 1, 2], "paragraph": ["SEL85", "SEL107", "SEL85"],
    ...                        "municipality": [101, 101, 147],
    ...                        "start_date": ["2015-01-01", "2016-03-01", "2015-06-01"],
    ...                        "end_date": ["2017-12-31", "2016-08-31", None]})
    >>> persons = pd.DataFrame({"person_id": [1, 2], "death_date": pd.to_datetime([None, "2017-05-01"]),
    ...                         "emigration_date": pd.NaT})
    >>> build_panel(spells, persons, start=2015, end=2018)
       person_id     period    step  level  municipality    status
    0          1 2015-01-01   SEL85    2.0           101  observed
    1          1 2016-01-01  SEL107    3.0           101  observed
    2          1 2017-01-01   SEL85    2.0           101  observed
    3          1 2018-01-01    none    0.0           101  observed
    4          2 2015-01-01   SEL85    2.0           147  observed
    5          2 2016-01-01   SEL85    2.0           147  observed
    6          2 2017-01-01   SEL85    2.0           147      died
    """
    stairs = as_staircase(staircase)
    rule = rule or stairs.rule
    if period not in PERIODS:
        raise ParameterError(f"period must be one of {PERIODS}; got {period!r}")
    if rule not in _RULES:
        raise ParameterError(f"rule must be one of {_RULES}; got {rule!r}")
    start_d, end_d = _as_date(start, "start", end=False), _as_date(end, "end", end=True)
    if end_d < start_d:
        raise ParameterError(f"end ({end_d}) is before start ({start_d})")

    tmp = tempfile.mkdtemp(prefix="panel-duckdb-")
    con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": tmp,
                                 "preserve_insertion_order": True,
                                 **({"threads": threads} if threads else {})})
    try:
        _register(con, "spells", spells)
        for name, table in (("persons", persons), ("moves", moves)):
            _register(con, name, table) if table is not None else _empty_view(con, name)
        _check_spells(con, stairs)
        if n_chunks is None:
            n_spells = con.execute("SELECT count(*) FROM spells").fetchall()[0][0]
            n_chunks = max(1, -(-n_spells // 500_000))
        _prepare(con, stairs, end_d, n_chunks)
        queries = [_panel_sql(period=period, rule=rule, start=start_d, end=end_d, stairs=stairs, chunk=c)
                   for c in range(n_chunks)]
        first_period = int(period_number(pd.DatetimeIndex([start_d]), period)[0])
        if period_number(pd.DatetimeIndex([end_d]), period)[0] - first_period >= 2**_PERIOD_BITS:
            raise ParameterError(f"the window {start_d}..{end_d} has more than {2**_PERIOD_BITS} periods")
        tables = _stream(con, queries, _Decoder(stairs, period, rule, first_period))
        if output is not None:
            return _write(tables, Path(output))
        panel = pa.concat_tables(list(tables)).to_pandas()
    finally:
        con.close()
        _rmtree(tmp)
    return _typed(panel, stairs, period)


def _stream(con: duckdb.DuckDBPyConnection, queries: Sequence[str], decode: _Decoder) -> Iterator[pa.Table]:
    """Panel rows chunk by chunk, batch by batch; always yields at least one (possibly empty) table.

    The next chunk's query runs in a background thread (DuckDB releases the GIL) while this
    chunk is decoded and written.
    """
    from concurrent.futures import ThreadPoolExecutor

    yield decode(_EMPTY_BATCH)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(lambda q: con.sql(q).to_arrow_table(), queries[0]) if queries else None
        for i in range(len(queries)):
            table = pending.result()
            if i + 1 < len(queries):
                pending = pool.submit(lambda q: con.sql(q).to_arrow_table(), queries[i + 1])
            decode.reset()
            for batch in table.to_batches(max_chunksize=1_000_000):
                yield decode(batch)


def _write(tables: Iterable[pa.Table], path: Path) -> Path:
    """Write the panel tables into one Parquet file, row group by row group."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    try:
        for table in tables:
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd",
                                          use_dictionary=["step", "level", "municipality", "status"])
            if table.num_rows:
                writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path


def _rmtree(path: str) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _typed(panel: pd.DataFrame, stairs: Staircase, period: str) -> pd.DataFrame:
    panel = panel.astype({"person_id": "int64", "level": "float64", "municipality": "int64"})
    panel["period"] = pd.to_datetime(panel["period"]).astype("datetime64[ns]")
    panel["step"] = pd.Categorical(panel["step"], dtype=stairs.dtype)
    panel["status"] = pd.Categorical(panel["status"], categories=list(STATUSES))
    panel.attrs["period"] = period
    return panel[list(PANEL_COLUMNS)]


def read_panel(path: str | os.PathLike, *, period: str | None = None, staircase=None,
               columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a panel written by :func:`build_panel` back into typed pandas columns.

    Parameters
    ----------
    path : path
        The Parquet file.
    period : {"month", "quarter", "year"}, optional
        Stored in ``attrs["period"]``; inferred from the dates when not given.
    staircase : Staircase or StaircaseParams, optional
        For the order of the ``step`` categories.
    columns : sequence of str, optional
        Columns to read (default: all panel columns).

    Returns
    -------
    DataFrame
        ``step`` an ordered categorical of the staircase, ``status`` a categorical, ``period`` datetimes.

    Raises
    ------
    ParameterError
        When the file holds a step the staircase does not have.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> spells = pd.DataFrame({"person_id": [1], "paragraph": ["SEL85"], "municipality": [101],
    ...                        "start_date": ["2015-01-01"], "end_date": [None]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = build_panel(spells, start=2015, end=2016, period="quarter", output=Path(tmp) / "panel.parquet")
    ...     panel = read_panel(path)
    >>> panel.attrs["period"], panel.shape, panel["step"].dtype.ordered
    ('quarter', (8, 6), True)
    """
    stairs = as_staircase(staircase)
    panel = pq.read_table(path, columns=list(columns or PANEL_COLUMNS)).to_pandas()
    if "step" in panel:
        stairs.check_steps(panel["step"].unique())
        panel["step"] = pd.Categorical(panel["step"], dtype=stairs.dtype)
    if "status" in panel:
        panel["status"] = pd.Categorical(panel["status"], categories=list(STATUSES))
    if "period" in panel:
        panel["period"] = pd.to_datetime(panel["period"]).astype("datetime64[ns]")
        panel.attrs["period"] = period or infer_period(panel["period"])
    return panel


def data_panel(data_dir: str | os.PathLike, *, period: str = "year", rule: str | None = None, start=None, end=None,
               build: bool = True, moves: bool = True, staircase=None) -> pd.DataFrame:
    """The person-period panel of a run's data folder, built from its tables or read back.

    A run's ``data`` folder holds the validated ``spells``, ``persons`` and ``moves`` tables (written by
    ``00_data``). The panel is written beside them as ``panel_<period>.parquet`` (the staircase's
    rule) or ``panel_<period>_<rule>.parquet``, and read with :func:`read_panel`.

    Parameters
    ----------
    data_dir : path
        The run's ``data`` folder.
    period : {"month", "quarter", "year"}, default="year"
    rule : {"highest", "end", "longest"}, optional
        The step of a period; default the staircase's rule (the file name then has no rule).
    start, end : date, str or int
        Observation window of a panel that is built (see :func:`build_panel`).
    build : bool, default=True
        Build the panel (replacing the file), or only read the file written before.
    moves : bool, default=True
        Censor a citizen at a move to another municipality (the panel of municipal comparisons). Without
        (``panel_<period>[_<rule>]_national.parquet``, always built), citizens are followed across moves:
        the panel of national counts and projections, where a move is no exit.
    staircase : Staircase or StaircaseParams, optional

    Returns
    -------
    DataFrame
        :func:`read_panel`.

    Raises
    ------
    FileNotFoundError
        With ``build=False`` when the panel has not been written.

    Examples
    --------
    The yearly panel of the example data, from its tables written as a run's data folder would hold them:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from progression.datasets import load_example
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("spells", "persons", "moves"):
    ...         load_example(name).to_parquet(Path(tmp) / f"{name}.parquet")
    ...     panel = data_panel(tmp, start=2010, end=2024)
    ...     written = (Path(tmp) / "panel_year.parquet").exists()
    >>> panel.shape, written
    ((63038, 6), True)
    """
    data_dir = Path(data_dir)
    path = data_dir / f"panel_{period}{'' if rule is None else '_' + rule}{'' if moves else '_national'}.parquet"
    if build or not moves:
        moves_table = data_dir / "moves.parquet"
        build_panel(data_dir / "spells.parquet", data_dir / "persons.parquet",
                    moves_table if moves and moves_table.exists() else None,
                    start=start, end=end, period=period, rule=rule, staircase=staircase, output=path)
    elif not path.exists():
        raise FileNotFoundError(f"no panel {path.name} in {data_dir}; build it (build=True) or run 00_data first")
    return read_panel(path, period=period, staircase=staircase)


def infer_period(periods: pd.Series) -> str:
    """Guess the period length from period start dates (all 1 January -> year, quarter starts -> quarter).

    Parameters
    ----------
    periods : Series
        First days of periods.

    Returns
    -------
    {"month", "quarter", "year"}

    Raises
    ------
    DataContractError
        When a date is not the first day of a month.

    Examples
    --------
    >>> import pandas as pd
    >>> infer_period(pd.Series(pd.to_datetime(["2015-01-01", "2016-01-01"])))
    'year'
    >>> infer_period(pd.Series(pd.to_datetime(["2015-01-01", "2015-04-01", "2015-10-01"])))
    'quarter'
    """
    p = pd.DatetimeIndex(periods.unique())
    if len(p) and (p.day != 1).any():
        raise DataContractError(f"period dates must be first days of a period; found e.g. {list(p[p.day != 1][:3])}")
    if (p.month == 1).all() and not _has_month_gaps_smaller_than(p, 12):
        return "year"
    if p.month.isin([1, 4, 7, 10]).all() and not _has_month_gaps_smaller_than(p, 3):
        return "quarter"
    return "month"


def _has_month_gaps_smaller_than(p: pd.DatetimeIndex, months: int) -> bool:
    idx = sorted(set(p.year * 12 + p.month))
    return any(0 < b - a < months for a, b in zip(idx, idx[1:]))


def period_number(periods: pd.Series | pd.DatetimeIndex, period: str) -> np.ndarray:
    """Consecutive integer number of each calendar period (year*12+month-1, year*4+quarter-1 or year).

    Parameters
    ----------
    periods : Series or DatetimeIndex
        First days of periods.
    period : {"month", "quarter", "year"}

    Returns
    -------
    ndarray of int64
        Consecutive periods differ by 1, so differences count periods.

    Raises
    ------
    ParameterError
        When ``period`` is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> period_number(pd.to_datetime(["2015-01-01", "2015-04-01", "2016-01-01"]), "quarter")
    array([8060, 8061, 8064])
    """
    if period not in PERIODS:
        raise ParameterError(f"period must be one of {PERIODS}; got {period!r}")
    d = pd.DatetimeIndex(periods)
    year, month = d.year.to_numpy().astype("int64"), d.month.to_numpy().astype("int64")
    if period == "month":
        return year * 12 + month - 1
    if period == "quarter":
        return year * 4 + (month - 1) // 3
    return year
