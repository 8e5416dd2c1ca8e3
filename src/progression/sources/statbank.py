"""Client and parsers for Danmarks Statistik's StatBank API (``https://api.statbank.dk/v1``).

The API has four functions (``subjects``, ``tables``, ``tableinfo``, ``data``); this module uses
``tableinfo`` and ``data``. Requests are POSTed as JSON. Data come back as

* ``CSV`` / ``BULK``: ``;``-separated text with a header of variable ids (``OMRÅDE;TID;INDHOLD``); the value
  column is ``INDHOLD``; with ``lang="da"`` numbers use a decimal comma (``37,7``); ``..`` marks a
  suppressed or unavailable value;
* ``JSONSTAT``: a JSON-stat dataset (StatBank wraps a 1.x dataset as ``{"dataset": {...}}``; 2.0 datasets
  with ``"class": "dataset"`` are read too).

Time codes are ``2024`` (year), ``2024H1`` (half), ``2024K1`` (quarter; ``Q`` in English labels),
``2024M01`` (month), ``2024U01`` (week; ``W`` accepted) and ``2024M01D15`` (day).

Every parser returns a tidy frame: one lower-case column per variable (codes as strings), the parsed time
columns (``year``, ``period_type``, ``period``, ``period_start``), ``value`` (float) and ``suppressed``
(bool). Suppressed values become NaN and are flagged, never dropped.

The client caches each raw response in a user-given folder, keyed by a hash of the request, and takes an
injectable transport (a callable ``(url, payload) -> bytes``) so tests run offline.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import math
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from progression.exceptions import DataContractError, ParameterError, ProgressionError

__all__ = [
    "BASE_URL",
    "StatBankClient",
    "StatBankError",
    "fetch_folk1a",
    "fetch_regk31",
    "format_time_code",
    "function_code",
    "is_municipality_code",
    "parse_csv",
    "parse_jsonstat",
    "parse_tableinfo",
    "parse_time_codes",
    "urllib_transport",
]

BASE_URL = "https://api.statbank.dk/v1"
DATA_FORMATS = ("CSV", "BULK", "JSONSTAT")
VALUE_PRESENTATIONS = ("Code", "Value", "CodeAndValue", "Default")
SUPPRESSED_MARKERS = ("..",)

Transport = Callable[[str, bytes], bytes]


class StatBankError(ProgressionError, ValueError):
    """The StatBank API rejected a request (unknown table, variable or value).

    A :class:`ValueError` (and a :class:`~progression.exceptions.ProgressionError`); the message carries
    the API's own explanation.

    Examples
    --------
    >>> def transport(url, payload):
    ...     return b'{"errorTypeCode":"TABLE-NOTFOUND","message":"Tabellen findes ikke"}'
    >>> StatBankClient(transport=transport).tableinfo("NOSUCH")
    Traceback (most recent call last):
    ...
    progression.sources.statbank.StatBankError: StatBank API error: {"errorTypeCode":"TABLE-NOTFOUND",...}
    """


# --------------------------------------------------------------------------------------------------
# time codes
# --------------------------------------------------------------------------------------------------

_TIME_PATTERN = re.compile(
    r"^(?P<year>\d{4})"
    r"(?:(?P<kind>[HKQUW])(?P<period>\d{1,2})|M(?P<month>\d{2})(?:D(?P<day>\d{2}))?)?$"
)
_KIND = {"H": "H", "K": "Q", "Q": "Q", "U": "W", "W": "W"}
_PERIOD_RANGE = {"H": (1, 2), "Q": (1, 4), "M": (1, 12), "W": (1, 53)}
_CODE_LETTER = {"H": "H", "Q": "K", "M": "M", "W": "U"}


def _parse_one_time_code(code: str) -> tuple[int, str, int | None, _dt.date] | None:
    match = _TIME_PATTERN.match(code.strip())
    if match is None:
        return None
    year = int(match["year"])
    if match["kind"]:
        kind, period = _KIND[match["kind"]], int(match["period"])
    elif match["day"]:
        try:
            day = _dt.date(year, int(match["month"]), int(match["day"]))
        except ValueError:
            return None
        return year, "D", None, day
    elif match["month"]:
        kind, period = "M", int(match["month"])
    else:
        return year, "Y", None, _dt.date(year, 1, 1)
    low, high = _PERIOD_RANGE[kind]
    if not low <= period <= high:
        return None
    if kind == "W":
        try:
            start = _dt.date.fromisocalendar(year, period, 1)
        except ValueError:
            return None
    else:
        months_per_period = {"H": 6, "Q": 3, "M": 1}[kind]
        start = _dt.date(year, (period - 1) * months_per_period + 1, 1)
    return year, kind, period, start


def parse_time_codes(codes: Iterable[str]) -> pd.DataFrame:
    """Parse StatBank time codes into period columns.

    Parameters
    ----------
    codes : iterable of str
        Codes such as ``"2024"``, ``"2024H1"``, ``"2024K1"`` (or ``"2024Q1"``), ``"2024M01"``,
        ``"2024U01"`` (or ``"2024W01"``) and ``"2024M01D15"``.

    Returns
    -------
    pandas.DataFrame
        One row per code with ``year`` (int), ``period_type`` (``"Y"``, ``"H"``, ``"Q"``, ``"M"``,
        ``"W"`` or ``"D"``), ``period`` (nullable int: half, quarter, month or ISO week; missing for years
        and days) and ``period_start`` (the first day of the period; ISO weeks start on Monday).

    Raises
    ------
    DataContractError
        When a code is not a StatBank time code; the message lists up to five offending codes.

    Examples
    --------
    >>> parse_time_codes(["2024", "2024K2", "2024M03", "2024U01"])
       year period_type  period period_start
    0  2024           Y    <NA>   2024-01-01
    1  2024           Q       2   2024-04-01
    2  2024           M       3   2024-03-01
    3  2024           W       1   2024-01-01
    """
    codes = [str(code) for code in codes]
    parsed = [_parse_one_time_code(code) for code in codes]
    bad = sorted({code for code, item in zip(codes, parsed) if item is None})
    if bad:
        raise DataContractError(
            f"time column: {len(bad)} value(s) are not StatBank time codes (expected e.g. 2024, 2024K1, "
            f"2024M01, 2024U01, 2024M01D15); found {bad[:5]}"
        )
    years, kinds, periods, starts = zip(*parsed) if parsed else ((), (), (), ())
    return pd.DataFrame(
        {
            "year": np.asarray(years, dtype="int64"),
            "period_type": pd.array(kinds, dtype="str"),
            "period": pd.array(periods, dtype="Int64"),
            "period_start": pd.to_datetime(pd.Series(starts, dtype="object")),
        }
    )


def format_time_code(year: int, period_type: str = "Y", period: int | None = None) -> str:
    """Write a StatBank time code (the inverse of :func:`parse_time_codes` for Y, H, Q, M and W).

    Parameters
    ----------
    year : int
        Four-digit year.
    period_type : {"Y", "H", "Q", "M", "W"}, default="Y"
        Kind of period.
    period : int, optional
        Half, quarter, month or ISO week number; required unless ``period_type="Y"``.

    Returns
    -------
    str
        ``"2024"``, ``"2024H1"``, ``"2024K1"``, ``"2024M01"`` or ``"2024U01"`` (Danish codes, as the API
        expects them).

    Raises
    ------
    ParameterError
        When the year is not four digits, the period type is unknown or the period out of range.

    Examples
    --------
    >>> format_time_code(2024), format_time_code(2024, "Q", 1), format_time_code(2024, "M", 3)
    ('2024', '2024K1', '2024M03')
    """
    if not 1000 <= int(year) <= 9999:
        raise ParameterError(f"year must be a four-digit year; found {year!r}")
    if period_type == "Y":
        return f"{int(year)}"
    if period_type not in _PERIOD_RANGE:
        raise ParameterError(f"period_type must be one of Y, H, Q, M, W; found {period_type!r}")
    low, high = _PERIOD_RANGE[period_type]
    if period is None or not low <= int(period) <= high:
        raise ParameterError(f"period for period_type {period_type!r} must be in {low}..{high}; found {period!r}")
    width = 2 if period_type in ("M", "W") else 1
    return f"{int(year)}{_CODE_LETTER[period_type]}{int(period):0{width}d}"


# --------------------------------------------------------------------------------------------------
# CSV / BULK
# --------------------------------------------------------------------------------------------------

def _decode(content: bytes | str) -> str:
    if isinstance(content, bytes):
        content = content.decode("utf-8-sig")
    return content.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _parse_numbers(
    raw: pd.Series, *, decimal: str, markers: Sequence[str], column: str
) -> tuple[np.ndarray, np.ndarray]:
    """Strictly parse number strings; markers become NaN and are flagged; anything else is an error."""
    text = raw.astype(str).str.strip()
    suppressed = text.isin(list(markers)).to_numpy()
    sep = re.escape(decimal)
    pattern = rf"^-?\d+(?:{sep}\d+)?(?:[eE][-+]?\d+)?$"
    valid = text.str.match(pattern).to_numpy()
    bad = ~(valid | suppressed)
    if bad.any():
        rows = np.flatnonzero(bad)
        examples = [f"row {i}: {text.iloc[i]!r}" for i in rows[:5]]
        raise DataContractError(
            f"column {column!r}: {bad.sum()} value(s) are neither numbers with decimal {decimal!r} nor a "
            f"suppression marker {list(markers)}; {examples}"
        )
    values = np.full(len(text), np.nan)
    numeric = text[valid].str.replace(decimal, ".", regex=False) if decimal != "." else text[valid]
    values[valid] = numeric.astype(float).to_numpy()
    return values, suppressed


def _add_time_columns(frame: pd.DataFrame, time_col: str) -> pd.DataFrame:
    periods = parse_time_codes(frame[time_col])
    periods.index = frame.index
    position = frame.columns.get_loc(time_col) + 1
    for offset, column in enumerate(periods.columns):
        frame.insert(position + offset, column, periods[column])
    return frame


def parse_csv(
    content: bytes | str,
    *,
    decimal: str = ",",
    value_col: str = "INDHOLD",
    time_col: str | None = "TID",
    markers: Sequence[str] = SUPPRESSED_MARKERS,
) -> pd.DataFrame:
    """Parse a StatBank ``CSV`` or ``BULK`` response into a tidy frame.

    Parameters
    ----------
    content : bytes or str
        The response body (UTF-8; a byte-order mark and CRLF line endings are accepted, as in files saved
        from statistikbanken.dk).
    decimal : {",", "."}, default=","
        Decimal separator: ``","`` for ``lang="da"``, ``"."`` for ``lang="en"``.
    value_col : str, default="INDHOLD"
        Header of the value column.
    time_col : str or None, default="TID"
        Header of the time column, parsed by :func:`parse_time_codes`; ``None`` when the response has none.
    markers : sequence of str, default=("..",)
        Cell contents that mean "suppressed / not available".

    Returns
    -------
    pandas.DataFrame
        Variable columns lower-cased, as strings; the time columns ``year``, ``period_type``, ``period``,
        ``period_start`` after the time column; ``value`` (float, NaN where suppressed) and ``suppressed``
        (bool).

    Raises
    ------
    DataContractError
        When the value or time column is missing, or a value is neither a number nor a marker.

    Examples
    --------
    >>> parse_csv("OMRÅDE;TID;INDHOLD\\n101;2023;37,7\\n147;2023;..\\n")[["område", "year", "value", "suppressed"]]
      område  year  value  suppressed
    0    101  2023   37.7       False
    1    147  2023    NaN        True
    """
    if decimal not in (",", "."):
        raise ParameterError(f"decimal must be ',' or '.'; found {decimal!r}")
    text = _decode(content)
    frame = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    for required in [value_col] + ([time_col] if time_col else []):
        if required not in frame.columns:
            raise DataContractError(
                f"StatBank CSV: column {required!r} not found; columns present: {list(frame.columns)}"
            )
    values, suppressed = _parse_numbers(frame[value_col], decimal=decimal, markers=markers, column=value_col)
    frame = frame.drop(columns=value_col)
    if time_col:
        frame = _add_time_columns(frame, time_col)
    frame.columns = [str(c).lower() for c in frame.columns]
    frame["value"] = values
    frame["suppressed"] = suppressed
    return frame


# --------------------------------------------------------------------------------------------------
# JSON-stat
# --------------------------------------------------------------------------------------------------

def _load_json(content: bytes | str | Mapping) -> Mapping:
    if isinstance(content, Mapping):
        return content
    return json.loads(_decode(content))


def _find_dataset(obj: Mapping) -> Mapping:
    if obj.get("class") == "dataset" or ("dimension" in obj and "value" in obj):
        return obj
    candidates = [v for v in obj.values() if isinstance(v, Mapping) and "dimension" in v and "value" in v]
    if len(candidates) != 1:
        raise DataContractError(
            "JSON-stat: expected one dataset (a 2.0 object with class 'dataset' or a 1.x bundle holding one "
            f"dataset); found top-level keys {list(obj)[:10]} with {len(candidates)} dataset(s)"
        )
    return candidates[0]


def _category_codes(dim_id: str, dimension: Mapping, size: int) -> list[str]:
    category = dimension.get("category", {})
    index = category.get("index")
    if index is None:
        codes = list(category.get("label", {}))
    elif isinstance(index, Mapping):
        codes = [code for code, _ in sorted(index.items(), key=lambda item: item[1])]
    else:
        codes = list(index)
    if len(codes) != size:
        raise DataContractError(
            f"JSON-stat dimension {dim_id!r}: size says {size} categories but {len(codes)} were found"
        )
    return [str(code) for code in codes]


def _expand(item, n: int, name: str) -> list:
    """Expand a JSON-stat value/status member (array, sparse object or single value) to a list of n."""
    if isinstance(item, list):
        if len(item) != n:
            raise DataContractError(f"JSON-stat: {name} has {len(item)} entries; the dimensions give {n} cells")
        return item
    if isinstance(item, Mapping):
        out = [None] * n
        for key, value in item.items():
            out[int(key)] = value
        return out
    return [item] * n


def parse_jsonstat(
    content: bytes | str | Mapping, *, labels: bool = False, markers: Sequence[str] = SUPPRESSED_MARKERS
) -> pd.DataFrame:
    """Parse a JSON-stat dataset (1.x as served by StatBank, or 2.0) into a tidy frame.

    Cells are enumerated in row-major order over the dimension ids (the last dimension varies fastest),
    as the JSON-stat specification prescribes.

    Parameters
    ----------
    content : bytes, str or mapping
        The response body or the decoded JSON.
    labels : bool, default=False
        Add a ``<dimension>_label`` column after each dimension column.
    markers : sequence of str, default=("..",)
        Status codes that mean "suppressed"; a ``null`` value is always suppressed.

    Returns
    -------
    pandas.DataFrame
        One lower-case column per dimension (codes as strings; the metric dimension ``ContentsCode`` is
        kept), the parsed time columns after the time dimension, ``value``, ``suppressed`` and, when the
        dataset has a ``status`` member, ``status``.

    Raises
    ------
    DataContractError
        When no single dataset is found, or the dimensions and values do not match.

    References
    ----------
    JSON-stat format, version 2.0, https://json-stat.org/format/

    Examples
    --------
    >>> dataset = {"dataset": {"dimension": {
    ...     "id": ["OMRÅDE", "Tid"], "size": [2, 1],
    ...     "OMRÅDE": {"category": {"index": {"101": 0, "147": 1},
    ...                             "label": {"101": "København", "147": "Frederiksberg"}}},
    ...     "Tid": {"category": {"index": {"2023": 0}}}},
    ...     "value": [37.7, None]}}
    >>> parse_jsonstat(dataset, labels=True)[["område", "område_label", "year", "value", "suppressed"]]
      område   område_label  year  value  suppressed
    0    101      København  2023   37.7       False
    1    147  Frederiksberg  2023    NaN        True
    """
    dataset = _find_dataset(_load_json(content))
    dimension = dataset["dimension"]
    ids = list(dataset.get("id") or dimension.get("id") or [])
    sizes = [int(s) for s in (dataset.get("size") or dimension.get("size") or [])]
    if not ids or len(ids) != len(sizes):
        raise DataContractError(f"JSON-stat: dimension ids {ids} and sizes {sizes} do not match")
    role = dataset.get("role") or dimension.get("role") or {}
    time_dims = set(role.get("time", [])) | {d for d in ids if d.lower() == "tid"}
    codes = [_category_codes(d, dimension[d], s) for d, s in zip(ids, sizes)]
    n_cells = math.prod(sizes)
    raw_values = _expand(dataset.get("value", []), n_cells, "value")
    status = _expand(dataset["status"], n_cells, "status") if "status" in dataset else None

    grid = pd.MultiIndex.from_product(codes, names=ids).to_frame(index=False)
    for dim_id in reversed(ids):
        if labels:
            label_map = dimension[dim_id].get("category", {}).get("label", {})
            grid.insert(grid.columns.get_loc(dim_id) + 1, f"{dim_id}_label", grid[dim_id].map(label_map))
    for dim_id in ids:
        if dim_id in time_dims:
            grid = _add_time_columns(grid, dim_id)
    grid.columns = [str(c).lower() for c in grid.columns]
    values = np.array([np.nan if v is None else float(v) for v in raw_values])
    suppressed = np.array([v is None for v in raw_values])
    if status is not None:
        suppressed |= np.array([s in markers for s in status])
        values[suppressed] = np.nan
        grid["status"] = pd.array(status, dtype="str")
    grid["value"] = values
    grid["suppressed"] = suppressed
    return grid


# --------------------------------------------------------------------------------------------------
# tableinfo
# --------------------------------------------------------------------------------------------------

def parse_tableinfo(content: bytes | str | Mapping) -> pd.DataFrame:
    """Turn a ``tableinfo`` response into a variables/values frame.

    Parameters
    ----------
    content : bytes, str or mapping
        The response body or the decoded JSON.

    Returns
    -------
    pandas.DataFrame
        One row per (variable, value): ``table``, ``variable``, ``variable_text``, ``elimination``,
        ``time``, ``position`` (order of the value within its variable), ``value_id``, ``value_text``.

    Raises
    ------
    DataContractError
        When the response has no ``variables`` member.

    Examples
    --------
    >>> info = {"id": "FOLK1A", "variables": [
    ...     {"id": "OMRÅDE", "text": "område", "elimination": True,
    ...      "values": [{"id": "000", "text": "Hele landet"}, {"id": "101", "text": "København"}]},
    ...     {"id": "Tid", "text": "tid", "time": True, "values": [{"id": "2024K1", "text": "2024K1"}]}]}
    >>> parse_tableinfo(info)[["variable", "time", "position", "value_id", "value_text"]]
      variable   time  position value_id   value_text
    0   OMRÅDE  False         0      000  Hele landet
    1   OMRÅDE  False         1      101    København
    2      Tid   True         0   2024K1       2024K1
    """
    info = _load_json(content)
    if "variables" not in info:
        raise DataContractError(f"tableinfo: no 'variables' member; keys present: {list(info)}")
    rows = [
        {
            "table": info.get("id"),
            "variable": variable["id"],
            "variable_text": variable.get("text"),
            "elimination": bool(variable.get("elimination", False)),
            "time": bool(variable.get("time", False)),
            "position": position,
            "value_id": str(value["id"]),
            "value_text": value.get("text"),
        }
        for variable in info["variables"]
        for position, value in enumerate(variable.get("values", []))
    ]
    return pd.DataFrame(
        rows,
        columns=["table", "variable", "variable_text", "elimination", "time", "position", "value_id", "value_text"],
    )


# --------------------------------------------------------------------------------------------------
# transport and client
# --------------------------------------------------------------------------------------------------

def urllib_transport(url: str, payload: bytes, *, timeout: float = 120.0) -> bytes:
    """POST a JSON payload with the standard library and return the response body.

    The default transport of :class:`StatBankClient`; tests inject another callable of the same form.

    Parameters
    ----------
    url : str
        ``<base_url>/<function>``.
    payload : bytes
        The JSON request body.
    timeout : float, default=120.0
        Seconds to wait for the server.

    Returns
    -------
    bytes

    Raises
    ------
    StatBankError
        When the API answers with an HTTP error; the message carries the API's own explanation.

    Examples
    --------
    >>> StatBankClient().transport is urllib_transport
    True
    >>> urllib_transport(f"{BASE_URL}/tableinfo", b'{"table": "FOLK1A", "format": "JSON"}')[:1]  # doctest: +SKIP
    b'{'
    """
    request = urllib.request.Request(
        url, data=payload, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        detail = error.read().decode("utf-8", errors="replace")
        raise StatBankError(f"StatBank API answered HTTP {error.code} for {url}: {detail[:500]}") from error


def _check_api_error(body: bytes) -> None:
    head = body[:400].lstrip()
    if head.startswith(b"{") and b"errorTypeCode" in head:
        raise StatBankError(f"StatBank API error: {body[:500].decode('utf-8', errors='replace')}")


class StatBankClient:
    """Minimal client for the StatBank API with an on-disk cache and an injectable transport.

    Parameters
    ----------
    lang : {"da", "en"}, default="da"
        Language of labels; ``"da"`` also means decimal commas in CSV/BULK output.
    cache_dir : str or Path, optional
        Folder for cached responses. Each response is stored as ``<table>-<function>-<hash>.<ext>`` next to
        a ``.request.json`` holding the request, so a cached file documents where it came from. ``None``
        disables the cache.
    transport : callable, optional
        ``transport(url, payload_bytes) -> response_bytes``; defaults to :func:`urllib_transport`.
        Tests pass a function that serves recorded responses.
    base_url : str, default=BASE_URL
    refresh : bool, default=False
        Ignore cached responses (and overwrite them).

    Examples
    --------
    >>> client = StatBankClient(cache_dir="cache/statbank")          # doctest: +SKIP
    >>> spending = fetch_regk31(client, functions=["5.38.50"], years=[2023])  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        lang: str = "da",
        cache_dir: str | os.PathLike | None = None,
        transport: Transport | None = None,
        base_url: str = BASE_URL,
        refresh: bool = False,
    ) -> None:
        if lang not in ("da", "en"):
            raise ParameterError(f"lang must be 'da' or 'en'; found {lang!r}")
        self.lang = lang
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.transport = transport if transport is not None else urllib_transport
        self.base_url = base_url.rstrip("/")
        self.refresh = refresh

    def __repr__(self) -> str:
        return f"StatBankClient(lang={self.lang!r}, cache_dir={str(self.cache_dir) if self.cache_dir else None!r})"

    # -- raw requests ---------------------------------------------------------------------------------
    def cache_path(self, function: str, body: Mapping) -> Path | None:
        """Where the response to ``body`` is (or would be) cached; ``None`` without a cache folder."""
        if self.cache_dir is None:
            return None
        key = json.dumps({"url": f"{self.base_url}/{function}", "body": body}, sort_keys=True, ensure_ascii=False)
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
        table = re.sub(r"[^A-Za-z0-9]+", "", str(body.get("table", "all"))) or "all"
        fmt = str(body.get("format", "JSON")).upper()
        ext = "csv" if fmt in ("CSV", "BULK") else "json"
        return self.cache_dir / f"{table.upper()}-{function}-{digest}.{ext}"

    def request(self, function: str, body: Mapping) -> bytes:
        """POST ``body`` to ``<base_url>/<function>``, through the cache; return the raw response."""
        path = self.cache_path(function, body)
        if path is not None and path.exists() and not self.refresh:
            return path.read_bytes()
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        content = self.transport(f"{self.base_url}/{function}", payload)
        _check_api_error(content)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, content)
            _atomic_write(path.with_suffix(".request.json"), json.dumps(body, indent=1, ensure_ascii=False).encode())
        return content

    # -- API functions ------------------------------------------------------------------------------
    def tableinfo(self, table: str) -> dict:
        """The raw ``tableinfo`` of ``table`` as a dict (``id``, ``text``, ``unit``, ``variables`` …)."""
        body = {"table": table, "format": "JSON", "lang": self.lang}
        return json.loads(_decode(self.request("tableinfo", body)))

    def tableinfo_frame(self, table: str) -> pd.DataFrame:
        """The variables and their values of ``table`` as a frame (see :func:`parse_tableinfo`)."""
        return parse_tableinfo(self.tableinfo(table))

    def data(
        self,
        table: str,
        variables: Mapping[str, str | Sequence[str]],
        *,
        format: str = "BULK",
        value_presentation: str = "Code",
        labels: bool = False,
    ) -> pd.DataFrame:
        """Fetch and parse ``data`` for ``table``.

        Parameters
        ----------
        table : str
            Table id, e.g. ``"REGK31"``.
        variables : mapping
            Variable id → value ids (a single string or a list; ``"*"`` selects all). The time variable is
            ``"Tid"``. Variables left out are eliminated (totalled) where the table allows it.
        format : {"BULK", "CSV", "JSONSTAT"}, default="BULK"
            BULK streams without the cell limit of the other formats.
        value_presentation : {"Code", "Value", "CodeAndValue", "Default"}, default="Code"
            What the CSV/BULK cells hold. Codes are stable across languages and are what the convenience
            functions need.
        labels : bool, default=False
            For JSONSTAT, add label columns.

        Returns
        -------
        pandas.DataFrame
            See :func:`parse_csv` and :func:`parse_jsonstat`.
        """
        format = format.upper()
        if format not in DATA_FORMATS:
            raise ParameterError(f"format must be one of {DATA_FORMATS}; found {format!r}")
        if value_presentation not in VALUE_PRESENTATIONS:
            raise ParameterError(f"value_presentation must be one of {VALUE_PRESENTATIONS}; found {value_presentation!r}")
        body = {
            "table": table,
            "format": format,
            "lang": self.lang,
            "valuePresentation": value_presentation,
            "timeOrder": "Ascending",
            "variables": [
                {"code": code, "values": [values] if isinstance(values, str) else [str(v) for v in values]}
                for code, values in variables.items()
            ],
        }
        content = self.request("data", body)
        if format == "JSONSTAT":
            return parse_jsonstat(content, labels=labels)
        return parse_csv(content, decimal="," if self.lang == "da" else ".")


def _atomic_write(path: Path, content: bytes) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(handle, "wb") as stream:
        stream.write(content)
    os.replace(tmp, path)


# --------------------------------------------------------------------------------------------------
# convenience: REGK31 and FOLK1A as municipality-year frames
# --------------------------------------------------------------------------------------------------

def function_code(code: str | int) -> str:
    """Write a municipal account function as REGK31 codes it: without dots or leading zeros.

    ``"5.38.50"`` → ``"53850"``, ``"0.22.01"`` → ``"2201"``, ``"53850"`` → ``"53850"``.

    Parameters
    ----------
    code : str or int

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        When ``code`` is not digits, optionally separated by dots.

    Examples
    --------
    >>> function_code("5.38.50"), function_code("0.22.01"), function_code(53850)
    ('53850', '2201', '53850')
    """
    text = str(code).strip()
    if not re.fullmatch(r"\d+(\.\d+)*", text):
        raise ParameterError(f"function code must look like '5.38.50' or '53850'; found {code!r}")
    return text.replace(".", "").lstrip("0") or "0"


def is_municipality_code(code: str | int) -> bool:
    """True for the 3-digit codes of the 98 municipalities (101–860, excluding Christiansø 411).

    The whole country (``000``), regions (``081``–``085``) and municipality groupings (``9xx``) are not
    municipalities.

    Parameters
    ----------
    code : str or int

    Returns
    -------
    bool

    Examples
    --------
    >>> is_municipality_code("101"), is_municipality_code("000"), is_municipality_code("084"), is_municipality_code(411)
    (True, False, False, False)
    """
    text = str(code).strip()
    return text.isdigit() and 101 <= int(text) <= 860 and int(text) != 411


def _keep_municipalities(frame: pd.DataFrame, area_col: str) -> pd.DataFrame:
    mask = frame[area_col].map(is_municipality_code).astype(bool)
    out = frame.loc[mask].copy()
    out.insert(0, "municipality", out.pop(area_col).astype("int64"))
    return out


def fetch_regk31(
    client: StatBankClient,
    *,
    functions: Iterable[str],
    years: Iterable[int],
    dranst: str = "1",
    art: str = "TOT",
    prisenhed: str = "LOBM",
    unit_multiplier: float = 1000.0,
    value_name: str = "net_operating_dkk",
) -> pd.DataFrame:
    """Municipal accounts by function (REGK31) as a long municipality-year-function frame.

    Parameters
    ----------
    client : StatBankClient
    functions : iterable of str
        Account functions, dotted or not (``"5.38.50"`` or ``"53850"``).
    years : iterable of int
    dranst : str, default="1"
        Kind of account: 1 = operating (drift).
    art : str, default="TOT"
        ``TOT`` = net total (I alt, netto).
    prisenhed : str, default="LOBM"
        ``LOBM`` = current prices in 1,000 kr.; ``INDL`` = kr. per inhabitant.
    unit_multiplier : float, default=1000.0
        Factor turning the table's unit into the output's (1,000 kr. → kr.); use 1 with ``INDL``.
    value_name : str, default="net_operating_dkk"
        Name of the value column.

    Returns
    -------
    pandas.DataFrame
        ``municipality`` (int), ``year`` (int), ``function`` (str, e.g. ``"53850"``), ``value_name``,
        ``suppressed`` (bool). Rows of the whole country, regions and groupings are left out.

    Examples
    --------
    Offline, with a transport that serves a recorded answer (net operating spending on §108, in 1,000 kr.):

    >>> def transport(url, payload):
    ...     return ("OMRÅDE;FUNKTION;DRANST;ART;PRISENHED;TID;INDHOLD\\n"
    ...             "000;53850;1;TOT;LOBM;2023;9000\\n101;53850;1;TOT;LOBM;2023;250,5\\n"
    ...             "147;53850;1;TOT;LOBM;2023;..\\n").encode()
    >>> fetch_regk31(StatBankClient(transport=transport), functions=["5.38.50"], years=[2023])
       municipality  year function  net_operating_dkk  suppressed
    0           101  2023    53850           250500.0       False
    1           147  2023    53850                NaN        True
    """
    codes = [function_code(f) for f in functions]
    variables = {
        "OMRÅDE": "*",
        "FUNKTION": codes,
        "DRANST": [dranst],
        "ART": [art],
        "PRISENHED": [prisenhed],
        "Tid": [format_time_code(int(y)) for y in years],
    }
    raw = client.data("REGK31", variables, format="BULK", value_presentation="Code")
    out = _keep_municipalities(raw, "område")
    out = out.rename(columns={"funktion": "function", "value": value_name})
    out[value_name] = out[value_name] * unit_multiplier
    columns = ["municipality", "year", "function", value_name, "suppressed"]
    return out[columns].sort_values(["municipality", "year", "function"]).reset_index(drop=True)


def fetch_folk1a(
    client: StatBankClient,
    *,
    years: Iterable[int],
    age_groups: Mapping[str, tuple[int, int]] | None = None,
    quarter: int | str = 1,
) -> pd.DataFrame:
    """Population by municipality and age group (FOLK1A) as a municipality-year frame.

    Parameters
    ----------
    client : StatBankClient
    years : iterable of int
    age_groups : mapping, optional
        Output column → inclusive age range; default ``{"pop_18_66": (18, 66), "pop_0_22": (0, 22)}``.
    quarter : {1, 2, 3, 4, "mean"}, default=1
        Which quarter's count to use (1 = 1 January); ``"mean"`` averages the four quarters, an
        approximation of the mean population (middelfolketal).

    Returns
    -------
    pandas.DataFrame
        ``municipality`` (int), ``year`` (int), one column per age group, ``suppressed`` (True when any
        count entering a row was suppressed; its group values are then NaN).

    Raises
    ------
    ParameterError
        When an age range is not ``low <= high`` or ``quarter`` is not 1–4 or ``"mean"``.

    Examples
    --------
    Offline, with a transport that serves a recorded answer:

    >>> def transport(url, payload):
    ...     return ("OMRÅDE;ALDER;TID;INDHOLD\\n000;18;2023K1;100\\n101;18;2023K1;40\\n"
    ...             "101;19;2023K1;45\\n147;18;2023K1;7\\n147;19;2023K1;..\\n").encode()
    >>> client = StatBankClient(transport=transport)
    >>> fetch_folk1a(client, years=[2023], age_groups={"pop_18_19": (18, 19)})
       municipality  year  pop_18_19  suppressed
    0           101  2023       85.0       False
    1           147  2023        NaN        True
    """
    groups = dict(age_groups or {"pop_18_66": (18, 66), "pop_0_22": (0, 22)})
    for name, (low, high) in groups.items():
        if not 0 <= low <= high:
            raise ParameterError(f"age_groups[{name!r}] must be an inclusive range (low <= high); found {(low, high)}")
    if quarter not in (1, 2, 3, 4, "mean"):
        raise ParameterError(f"quarter must be 1, 2, 3, 4 or 'mean'; found {quarter!r}")
    ages = sorted({a for low, high in groups.values() for a in range(low, high + 1)})
    quarters = [1, 2, 3, 4] if quarter == "mean" else [quarter]
    times = [format_time_code(int(y), "Q", q) for y in years for q in quarters]
    variables = {"OMRÅDE": "*", "ALDER": [str(a) for a in ages], "Tid": times}
    raw = client.data("FOLK1A", variables, format="BULK", value_presentation="Code")
    raw = _keep_municipalities(raw.loc[raw["tid"].isin(times)], "område")
    raw["age"] = raw["alder"].astype("int64")
    keys = ["municipality", "year", "period"]
    by_quarter = pd.DataFrame(
        {name: _sum_unless_suppressed(raw.loc[raw["age"].between(low, high)], keys) for name, (low, high) in groups.items()}
    )
    by_quarter["suppressed"] = raw.groupby(keys)["suppressed"].any()
    out = by_quarter.groupby(["municipality", "year"]).agg(
        {**{name: lambda s: s.mean(skipna=False) for name in groups}, "suppressed": "any"}
    )
    return out.reset_index()


def _sum_unless_suppressed(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Group sums of ``value`` that are NaN when any cell in the group was suppressed."""
    grouped = frame.groupby(keys)
    return grouped["value"].sum().where(~grouped["suppressed"].any())
