"""The words of the report, in English and Danish: captions, figure captions, prose and labels.

Each analysis keeps its words in ``texts/<language>/<topic>.yaml``, a mapping with the sections
``captions`` (results tables, by results name), ``figures`` (by figure name), ``texts`` (paragraphs)
and ``labels`` (column names and codes, shared with the figures). A text is a ``str.format``
template; the values come from the caller. A key missing in Danish falls back to English.

Examples
--------
>>> from progression.texts import text
>>> text("labels", "n_persons", language="da")
'personer'
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

__all__ = ["LANGUAGES", "SECTIONS", "text", "has_text", "texts"]

LANGUAGES = ("en", "da")
SECTIONS = ("captions", "figures", "texts", "labels")


@cache
def texts(language: str) -> dict[str, dict[str, str]]:
    """Every text of a language by section (English filled in where Danish has none)."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {list(LANGUAGES)}; got {language!r}")
    out: dict[str, dict[str, str]] = {s: {} for s in SECTIONS}
    folder = resources.files("progression.texts").joinpath(language)
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        unknown = set(data) - set(SECTIONS)
        if unknown:
            raise ValueError(f"texts/{language}/{entry.name}: unknown section(s) {sorted(unknown)}; "
                             f"sections: {list(SECTIONS)}")
        for section, items in data.items():
            clash = set(items) & set(out[section])
            if clash:
                raise ValueError(f"texts/{language}/{entry.name}: {section} {sorted(clash)} defined twice")
            out[section].update({str(k): str(v) for k, v in items.items()})
    if language != "en":
        english = texts("en")
        for section in SECTIONS:
            out[section] = {**english[section], **out[section]}
    return out


def has_text(section: str, key: str, *, language: str = "en") -> bool:
    """Whether ``section`` has a text ``key``."""
    return key in texts(language)[section]


def text(section: str, key: str, *, language: str = "en", **values) -> str:
    """The text ``key`` of ``section`` in ``language``, formatted with ``values``.

    Raises
    ------
    KeyError
        Naming the key and section when there is no such text.
    """
    try:
        template = texts(language)[section][key]
    except KeyError:
        raise KeyError(f"no text '{key}' in section '{section}' ({language})") from None
    return template.format(**values) if values else template
