"""Reader for exports from noegletal.dk ("De Kommunale Nøgletal", Indenrigs- og Sundhedsministeriet).

An export ("nwRap-<date>.csv") is Latin-1 text, ``;``-separated, with numbers in Danish notation (decimal
comma, ``.`` between thousands) and this layout::

    De Kommunale Nøgletal;;;…                      title line(s)
    ;;;…
    ;Kom.nr;2007;2008;…;2024                       header: years from the third column on
    ;;;…
    Andel udpendlere;;;…                           a variable's block starts with its name
    Dragør Kommune;155;76,2;77,0;…;M               one row per municipality: name, code, one value per year
    …
    Tegnforklaring:;;;…                            footer: legend of the markers, then a date line
    M  Det pågældende nøgletal mangler for året.;;…
    Indenrigs- og Sundhedsministeriet d. 10. september 2024;;…

``M`` marks a missing value. Files re-saved from the site with one variable per file (a header such as
``KOMNAVN;Kom.nr;pop_2007;…``, UTF-8 with a byte-order mark, a total row ``I alt;;5.446.989;…``) are read
by the same function: the year is taken from the digits of each header cell and the variable name from the
header prefix (or the ``variable`` argument).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from progression.exceptions import DataContractError

__all__ = ["read_noegletal", "parse_danish_number"]

_CODE_HEADERS = {"kom.nr", "kom.nr.", "komnr", "kom. nr", "kommunenr", "knr"}
_NUMBER = re.compile(r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")
DEFAULT_MARKERS = ("M",)


def parse_danish_number(text: str) -> float | None:
    """Parse ``"1.234,5"``, ``"76,2"`` or ``"-3"``; return ``None`` for anything else.

    A point is only accepted as a thousands separator in groups of three digits, so ``"76.2"`` is
    rejected rather than read as 762.

    Parameters
    ----------
    text : str
        A cell of an export.

    Returns
    -------
    float or None

    Examples
    --------
    >>> parse_danish_number("1.234,5"), parse_danish_number("76,2"), parse_danish_number("76.2")
    (1234.5, 76.2, None)
    """
    text = text.strip().replace("\u2212", "-")
    if not _NUMBER.match(text):
        return None
    return float(text.replace(".", "").replace(",", "."))


def _load_text(source, encoding: str) -> str:
    """Text of a path, bytes, file-like or (multi-line) string source."""
    if isinstance(source, str) and "\n" in source:
        return source
    if isinstance(source, (str, os.PathLike)):
        source = Path(source).read_bytes()
    elif hasattr(source, "read"):
        source = source.read()
    if isinstance(source, str):
        return source
    if encoding != "auto":
        return source.decode(encoding)
    try:
        return source.decode("utf-8-sig")
    except UnicodeDecodeError:
        return source.decode("latin-1")


def _find_header(rows: list[list[str]]) -> int:
    for i, row in enumerate(rows):
        if len(row) > 2 and row[1].strip().lower() in _CODE_HEADERS:
            return i
    raise DataContractError(
        "noegletal export: no header row with 'Kom.nr' in the second column; first rows: "
        f"{[';'.join(r)[:60] for r in rows[:4]]}"
    )


def _year_columns(header: list[str]) -> dict[int, int]:
    years = {}
    for position, cell in enumerate(header[2:], start=2):
        if not cell.strip():
            continue
        digits = re.sub(r"\D", "", cell)
        if len(digits) != 4:
            raise DataContractError(
                f"noegletal export: header cell {cell!r} (column {position + 1}) does not hold a four-digit year"
            )
        years[position] = int(digits)
    if not years:
        raise DataContractError(f"noegletal export: the header row has no year columns: {header[:6]}")
    return years


def _legend(rows: list[list[str]]) -> tuple[dict[str, str], list[str]]:
    """Markers explained in the footer (``"M  Det pågældende …"``) and the remaining footer lines."""
    legend, other = {}, []
    for row in rows:
        text = row[0].strip() if row else ""
        if not text or text.lower().startswith("tegnforklaring"):
            continue
        match = re.match(r"^(\S{1,3})\s{2,}(.+)$", text)
        if match:
            legend[match[1]] = match[2].strip()
        else:
            other.append(text)
    return legend, other


def read_noegletal(
    source,
    *,
    encoding: str = "auto",
    variable: str | None = None,
    markers: Sequence[str] = DEFAULT_MARKERS,
) -> pd.DataFrame:
    """Read a noegletal.dk export into a tidy frame.

    Parameters
    ----------
    source : str, Path, bytes or file-like
        The export file (or its content).
    encoding : str, default="auto"
        ``"auto"`` reads UTF-8 (with or without a byte-order mark) and falls back to Latin-1, the
        encoding of the site's own exports.
    variable : str, optional
        Variable name for files without variable blocks (one variable per file); by default the header
        prefix (``pop`` for ``pop_2007``).
    markers : sequence of str, default=("M",)
        Cell contents that mean "missing"; markers explained in the file's legend are added.

    Returns
    -------
    pandas.DataFrame
        Columns ``municipality`` (nullable int; missing on total rows such as ``I alt``), ``name``,
        ``year``, ``variable``, ``value`` (float; NaN when missing), ``missing`` (bool) and ``flag`` (the
        marker found, ``""`` for an empty cell, or missing when the cell held a number). Nothing is dropped: every cell of every block is one row.
        ``frame.attrs`` holds ``title``, ``legend`` (marker → explanation) and ``footer``.

    Raises
    ------
    DataContractError
        When the header row is not found, a header cell holds no year, a municipality code is not a number,
        or a cell is neither a number nor a missing marker (the message lists the rows and cells).

    Examples
    --------
    >>> export = (
    ...     "De Kommunale Nøgletal;;;\\n"
    ...     ";Kom.nr;2022;2023\\n"
    ...     "Andel udpendlere;;;\\n"
    ...     "Dragør Kommune;155;76,2;M\\n"
    ...     "Tårnby Kommune;185;71,0;70,1\\n"
    ...     "Tegnforklaring:;;;\\n"
    ...     "M  Det pågældende nøgletal mangler for året.;;;\\n")
    >>> table = read_noegletal(export)
    >>> table[["municipality", "year", "variable", "value", "missing"]]
       municipality  year          variable  value  missing
    0           155  2022  Andel udpendlere   76.2    False
    1           155  2023  Andel udpendlere    NaN     True
    2           185  2022  Andel udpendlere   71.0    False
    3           185  2023  Andel udpendlere   70.1    False
    >>> table.attrs["legend"]
    {'M': 'Det pågældende nøgletal mangler for året.'}
    """
    text = _load_text(source, encoding)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    header_at = _find_header(rows)
    header = rows[header_at]
    years = _year_columns(header)
    title = [r[0].strip() for r in rows[:header_at] if r and r[0].strip()]
    if variable is None and header[0].strip():
        variable = re.sub(r"[\d_]+", "", header[min(years)]).strip() or None

    body = rows[header_at + 1 :]
    footer_at = next(
        (i for i, r in enumerate(body) if r and r[0].strip().lower().startswith("tegnforklaring")), len(body)
    )
    legend, footer = _legend(body[footer_at:])
    missing_markers = set(markers) | set(legend)

    records, bad = [], []
    current = variable
    for line_no, row in enumerate(body[:footer_at], start=header_at + 2):
        row = row + [""] * (max(years) + 1 - len(row))
        name, code = row[0].strip(), row[1].strip()
        cells = {year: row[pos].strip() for pos, year in years.items()}
        if not name and not code and not any(cells.values()):
            continue
        if not code and not any(cells.values()):
            current = name
            continue
        if current is None:
            raise DataContractError(
                f"noegletal export: line {line_no} ({name!r}) holds values before any variable name; "
                "pass variable=..."
            )
        if code and not code.isdigit():
            raise DataContractError(f"noegletal export: line {line_no}: municipality code {code!r} is not a number")
        for year, cell in cells.items():
            flagged = cell in missing_markers or cell == ""
            value = None if flagged else parse_danish_number(cell)
            if value is None and not flagged:
                bad.append(f"line {line_no} {name!r} {year}: {cell!r}")
            records.append((int(code) if code else None, name, year, current, value, cell if flagged else None))
    if bad:
        raise DataContractError(
            f"noegletal export: {len(bad)} cell(s) are neither Danish-format numbers nor missing markers "
            f"{sorted(missing_markers)}; {bad[:5]}"
        )
    frame = pd.DataFrame(records, columns=["municipality", "name", "year", "variable", "value", "flag"])
    frame["municipality"] = frame["municipality"].astype("Int64")
    frame["year"] = frame["year"].astype("int64")
    frame["value"] = frame["value"].astype("float64")
    frame["flag"] = frame["flag"].astype("str")
    frame.insert(5, "missing", frame["flag"].notna().to_numpy() | np.isnan(frame["value"].to_numpy()))
    frame.attrs.update({"title": title, "legend": legend, "footer": footer})
    return frame
