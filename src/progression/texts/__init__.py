"""The words of the report, in English and Danish: captions, prose, labels, codes and the report's frame.

Each analysis keeps its words in ``texts/<language>/<topic>.yaml``; what every table and figure shares
lives in ``labels.yaml`` (column labels, the human names of codes, how a column's numbers are formatted)
and the report's own words in ``report.yaml``. A file is a mapping of sections:

``captions``
    Results tables, by results name (``str.format`` templates; the values come from the notebook).
``figures``
    Figures, by figure name.
``texts``
    Paragraphs of report prose.
``labels``
    Column names (and other short words figures and tables share), by key.
``report``
    The report's own words: headings, legends, the summary's sentence templates.
``references``
    The source reports, by key: the full reference as the reference list prints it.
``formats``
    How a column's numbers read (``count``, ``percent``, ``money``, ``decimal``, ``ratio``, ``p_value``,
    ``label``, ``bool``), by column name or ``table.column``; language-independent, so English only.
``vocabulary``
    Which vocabulary of ``codes`` a column's values come from (``from_step: step``); English only.
``published``
    How a published number beside a result reads, by ``table.column``: ``calibration`` (a calibration
    target on synthetic data, an independent check on register data), ``check``, ``reproduction`` (the
    source's table recomputed from itself) or ``column:<name>`` (a column says it row by row); English only.
``codes``
    Vocabulary -> code -> label (``sex: {K: women}``): the human names of codes in tables and figures.
``sections``
    Notebook section -> ``title``, ``question``, ``key_figures``, ``key_tables`` (the report's frame of
    an analysis; a section without an entry still appears, titled by its name).

A key is defined once per section across a language's files (a vocabulary or report section once in
``codes`` / ``sections``). A key missing in Danish falls back to English.

Numbers in a text follow the language: ``{share:.1%}`` reads ``12.3%`` in English and ``12,3 %`` in
Danish, ``{n:,.0f}`` ``1,234`` and ``1.234``. A missing (suppressed) number reads ``·``.

Examples
--------
>>> from progression.texts import text, label, code_label, format_text
>>> text("labels", "n_persons", language="da")
'personer'
>>> label("n_persons", language="en"), code_label("K", "sex", language="da")
('persons', 'kvinder')
>>> format_text("{share:.1%} af {n:,.0f}", language="da", share=0.123, n=1234.0)
'12,3 % af 1.234'
"""

from __future__ import annotations

import math
import numbers
import string
from collections.abc import Mapping
from contextlib import contextmanager
from functools import cache
from importlib import resources

import yaml

__all__ = ["LANGUAGES", "SECTIONS", "SUPPRESSED_MARK", "text", "has_text", "texts", "label", "code_label",
           "codes", "section_frame", "set_language", "current_language", "language_set", "format_text",
           "localise_number"]

LANGUAGES = ("en", "da")
#: Sections whose items are strings.
_FLAT = ("captions", "figures", "texts", "labels", "report", "references", "formats", "vocabulary", "published")
#: Sections whose items are mappings (a vocabulary of codes; a report section's frame).
_NESTED = ("codes", "sections")
SECTIONS = _FLAT + _NESTED
#: How a suppressed (missing) number reads in text, tables and figures.
SUPPRESSED_MARK = "·"

_current = {"language": "en"}


def set_language(language: str) -> None:
    """Set the language that texts, labels, tables and figures use when none is given.

    :meth:`progression.chain.run_context.RunContext.open` sets it to the run's ``report.language``, so a
    notebook's figures and table displays follow the report's language.
    """
    _check(language)
    _current["language"] = language


def current_language() -> str:
    """The language texts, labels, tables and figures use when none is given (default ``"en"``)."""
    return _current["language"]


@contextmanager
def language_set(language: str):
    """Use ``language`` inside a ``with`` block (for a report built in another language than the run's)."""
    before = current_language()
    set_language(language)
    try:
        yield
    finally:
        set_language(before)


def _check(language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {list(LANGUAGES)}; got {language!r}")


def _merge_nested(target: dict, items: Mapping, where: str, section: str) -> None:
    for key, value in items.items():
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: {section} '{key}' must be a mapping")
        if str(key) in target:
            raise ValueError(f"{where}: {section} ['{key}'] defined twice")
        target[str(key)] = {str(k): v if isinstance(v, list) else str(v) for k, v in value.items()}


@cache
def texts(language: str) -> dict[str, dict]:
    """Every text of a language by section (English filled in where Danish has none)."""
    _check(language)
    out: dict[str, dict] = {s: {} for s in SECTIONS}
    folder = resources.files("progression.texts").joinpath(language)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        where = f"texts/{language}/{entry.name}"
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        unknown = set(data) - set(SECTIONS)
        if unknown:
            raise ValueError(f"{where}: unknown section(s) {sorted(unknown)}; sections: {list(SECTIONS)}")
        for section, items in data.items():
            if section in _NESTED:
                _merge_nested(out[section], items or {}, where, section)
                continue
            clash = {str(k) for k in items} & set(out[section])
            if clash:
                raise ValueError(f"{where}: {section} {sorted(clash)} defined twice")
            out[section].update({str(k): str(v) for k, v in items.items()})
    if language != "en":
        english = texts("en")
        for section in _FLAT:
            out[section] = {**english[section], **out[section]}
        for section in _NESTED:
            merged = {k: dict(v) for k, v in english[section].items()}
            for key, value in out[section].items():
                merged[key] = {**merged.get(key, {}), **value}
            out[section] = merged
    return out


def has_text(section: str, key: str, *, language: str | None = None) -> bool:
    """Whether ``section`` has a text ``key`` (in ``language``, default the current language)."""
    return key in texts(language or current_language())[section]


def text(section: str, key: str, *, language: str | None = None, **values) -> str:
    """The text ``key`` of ``section`` in ``language`` (default: the current language), formatted with ``values``.

    Numbers are written the language's way (:func:`format_text`).

    Raises
    ------
    KeyError
        Naming the key and section when there is no such text.
    """
    language = language or current_language()
    try:
        template = texts(language)[section][key]
    except KeyError:
        raise KeyError(f"no text '{key}' in section '{section}' ({language})") from None
    if not isinstance(template, str):
        return template
    return format_text(template, language=language, **values) if values else template


# -- numbers in words ----------------------------------------------------------------------------------
def localise_number(formatted: str, language: str) -> str:
    """A number formatted the English way (``1,234.5``, ``12.3%``) written the way of ``language``.

    Danish swaps the separators and puts a space before the per cent sign: ``1.234,5``, ``12,3 %``.

    Examples
    --------
    >>> localise_number("-1,234.5", "da"), localise_number("12.3%", "da"), localise_number("12.3%", "en")
    ('-1.234,5', '12,3 %', '12.3%')
    """
    out = formatted
    if language == "da":
        out = out.translate(str.maketrans({",": ".", ".": ","}))
        if out.endswith("%") and not out.endswith(" %"):
            out = out[:-1] + " %"
    return out


class _Formatter(string.Formatter):
    """``str.format`` with numbers written in a language; a missing number is the suppressed mark."""

    def __init__(self, language: str):
        super().__init__()
        self.language = language

    def format_field(self, value, format_spec):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return super().format_field(value, format_spec)
        if isinstance(value, float) and math.isnan(value):
            return SUPPRESSED_MARK
        formatted = format(value, format_spec)
        return localise_number(formatted, self.language) if any(ch.isdigit() for ch in formatted) else formatted


def format_text(template: str, *, language: str | None = None, **values) -> str:
    """``template.format(**values)`` with the numbers written the way of ``language`` (default: current).

    Examples
    --------
    >>> format_text("{n:,.0f} citizens, {share:.0%}", language="da", n=12345.0, share=0.25)
    '12.345 citizens, 25 %'
    >>> format_text("{share:.1%}", language="en", share=float("nan"))
    '·'
    """
    return _Formatter(language or current_language()).format(template, **values)


# -- labels and codes ----------------------------------------------------------------------------------
def label(column: str, *, language: str | None = None, default: str | None = None) -> str:
    """The human label of a column (or another key of ``labels``): the registry's, else ``default``, else
    the name with spaces for underscores."""
    found = texts(language or current_language())["labels"].get(str(column))
    if found is not None:
        return found
    return default if default is not None else str(column).replace("_", " ")


@cache
def _municipalities() -> dict[str, str]:
    import csv

    path = resources.files("progression.data").joinpath("municipalities.csv")
    with path.open(encoding="utf-8") as handle:
        return {row["municipality"]: row["name"] for row in csv.DictReader(handle)}


def codes(vocabulary: str, *, language: str | None = None) -> dict[str, str]:
    """Code -> label of one vocabulary (``sex``, ``target_group``, ``step``, ``municipality``, …)."""
    if vocabulary == "municipality":
        return dict(_municipalities())
    return dict(texts(language or current_language())["codes"].get(vocabulary, {}))


def _vocabulary_of(column: str | None, language: str) -> str | None:
    if column is None:
        return None
    vocabularies = texts(language)["vocabulary"]
    return vocabularies.get(str(column), str(column) if str(column) in texts(language)["codes"]
                            or column == "municipality" else None)


def code_label(value, column: str | None = None, *, language: str | None = None) -> str:
    """The human label of a code: from the vocabulary of ``column`` when it has one, else (for text codes)
    from the first vocabulary that knows it; else the code itself.

    Examples
    --------
    >>> code_label("SEL85", "from_step", language="en")
    'home support (§85)'
    >>> code_label(101, "municipality")
    'København'
    """
    language = language or current_language()
    key = str(value)
    if isinstance(value, float) and value.is_integer():
        key = str(int(value))
    vocabulary = _vocabulary_of(column, language)
    if vocabulary is not None:
        return codes(vocabulary, language=language).get(key, key)
    if isinstance(value, str):  # the full names: short forms and titles only when asked for by name
        for name, items in texts(language)["codes"].items():
            if key in items and not name.endswith(("_short", "_title")):
                return items[key]
    return key


def section_frame(section: str, *, language: str | None = None) -> dict:
    """A report section's frame: ``title``, ``question``, ``key_figures``, ``key_tables`` (what is registered).

    A section without an entry gets its name as title (``50_payment_models`` -> ``Payment models``) and
    no question; the report then takes its first figures and first table as the key ones.
    """
    frame = dict(texts(language or current_language())["sections"].get(section, {}))
    if "title" not in frame:
        name = section.split("_", 1)[1] if "_" in section and section.split("_", 1)[0].isdigit() else section
        frame["title"] = name.replace("_", " ").capitalize()
    return frame
