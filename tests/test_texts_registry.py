"""The words registry: one label registry for tables and figures, Danish for every English word, numbers
written the language's way, and citations a reader can follow (no internal file or line numbers)."""

from __future__ import annotations

import json
import re
import string
from importlib import resources
from pathlib import Path

import pytest
import yaml

from progression.texts import (
    code_label,
    codes,
    current_language,
    format_text,
    label,
    language_set,
    section_frame,
    set_language,
    text,
    texts,
)

ROOT = Path(__file__).resolve().parents[1]
#: A citation by internal file number ("seed 002", "seed004") or by line ("L752") that no reader can resolve.
#: Names that carry the number (``params/seed004.yaml``, ``variation_seed004``, ``progression.steering.seed004``)
#: are not citations; a line is a capital L (``l11`` is a matrix entry).
INTERNAL_REFERENCE = re.compile(r"\bseed[ -]0\d\d\b|(?<![\w/`_.])seed0\d\d(?![\w.`])|(?-i:\bL\d{2,5}(?:-\d+)?\b)",
                                re.IGNORECASE)
#: In code and parameter files the number also opens data values and keys: a string literal or a YAML value
#: that starts with it (``"seed004"``, ``"seed004 criteria"``, ``name: seed004``) names, it does not cite.
NAMED_VALUE = re.compile(r"""(?<=["'])seed0\d\d\b|(?<=: )seed0\d\d[ \t]*$""", re.MULTILINE)
#: The code, parameter files, benchmarks and tools whose docstrings, comments and strings cite the reports.
SOURCE_FILES = ("src/progression/**/*.py", "params/*.yaml", "benchmarks/*.md", "benchmarks/*.py", "tools/*",
                "data/README.md")
#: Sections whose words are the same in every language (kept in English only).
LANGUAGE_FREE = {"formats", "vocabulary", "published", "references"}


def _files(language: str) -> dict[str, dict]:
    folder = resources.files("progression.texts").joinpath(language)
    return {e.name: yaml.safe_load(e.read_text(encoding="utf-8")) or {} for e in folder.iterdir()
            if e.name.endswith(".yaml")}


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


def test_every_english_word_has_its_danish_with_the_same_placeholders():
    english, danish = _files("en"), _files("da")
    for name, sections in english.items():
        for section, items in sections.items():
            if section in LANGUAGE_FREE:
                continue
            theirs = (danish.get(name) or {}).get(section) or {}
            missing = set(items) - set(theirs)
            assert not missing, f"texts/da/{name} {section}: no Danish for {sorted(missing)[:10]}"
            for key, value in items.items():
                if isinstance(value, str):
                    assert _fields(value) == _fields(theirs[key]), (name, section, key)
                elif isinstance(value, dict) and section == "codes":
                    assert set(value) <= set(theirs[key]), (name, key, set(value) - set(theirs[key]))


#: The topics whose labels were gathered into labels.yaml (a new topic's labels belong there too).
GATHERED = {"data.yaml", "design.yaml", "fund.yaml", "progression.yaml", "steering.yaml", "transitions.yaml",
            "variation.yaml", "report.yaml"}


def test_labels_live_in_one_registry():
    for language in ("en", "da"):
        for name, sections in _files(language).items():
            if name in GATHERED:
                assert "labels" not in sections and "codes" not in sections, (
                    f"texts/{language}/{name}: labels and codes belong in labels.yaml")


def test_labels_and_codes_in_both_languages():
    assert label("n_persons", language="en") == "persons" and label("n_persons", language="da") == "personer"
    assert label("no_such_column", language="da") == "no such column"
    assert code_label("SEL85", "to_step", language="da") == "socialpædagogisk støtte (§85)"
    assert code_label("K", "sex", language="en") == "women" and code_label("M", "sex", language="da") == "mænd"
    assert code_label("kognitivt_handicap", "target_group", language="en") == "cognitive disability"
    assert code_label(101, "municipality") == "København" and code_label(751.0, "municipality") == "Aarhus"
    assert code_label("stat", "payer", language="da") == "stat"
    assert code_label("unknown", "sex", language="en") == "unknown"
    assert "SEL108" in codes("step", language="da")


def test_the_steering_key_numbers_have_labels():
    """The key numbers of 35_steering, computed from the published tables and the example data and passed
    through disclosure control as ctx.write_json writes them, each have a label in both languages (the
    CI-run test in tests/test_report.py checks every results file of a whole run)."""
    from progression.analyses import steering as st
    from progression.datasets import load_example
    from progression.disclosure import suppress_numbers

    series = st.accounts_series(load_example("municipal_accounts"), load_example("municipality_years"),
                                areas={"adults": ["5.38"]}, populations={"adults": "pop_18_66"})
    priced = st.register_commitments(load_example("spells"), load_example("unit_costs"))
    volume = st.register_volume(priced, years=(2023, 2024))
    numbers = {
        "steering_seed004_summary": st.seed004_summary(st.seed004_growth(), st.seed004_sums(),
                                                       st.seed004_populations(), st.seed004_means()),
        "steering_accounts_adults": st.accounts_key_numbers(st.accounts_growth(series),
                                                            st.accounts_decomposition(series), area="adults"),
        "steering_register_key_numbers": st.register_key_numbers(
            st.register_price_volume(volume, load_example("municipality_years"), years=(2023, 2024))),
        "steering_followup_key_numbers": st.followup_key_numbers(st.followup(priced, year=2024, month=6)),
    }
    for name, key in numbers.items():
        written, _ = suppress_numbers(key, name=name, min_cell_size=1)
        assert len(written) >= 6, name
        for language in ("en", "da"):
            missing = sorted(set(written) - set(texts(language)["labels"]))
            assert not missing, f"{name}: no {language} label for {missing}"


def test_numbers_in_words_follow_the_language():
    values = {"n": 12345.0, "share": 0.123, "r2": 0.4}
    template = "{n:,.0f} · {share:.1%} · {r2:.2f}"
    assert format_text(template, language="en", **values) == "12,345 · 12.3% · 0.40"
    assert format_text(template, language="da", **values) == "12.345 · 12,3 % · 0,40"
    assert format_text("{x:.2f}", language="da", x=float("nan")) == "·"  # a suppressed number says so
    import numpy as np

    assert format_text("{n:,.0f}", language="da", n=np.int64(1234)) == "1.234"


def test_the_language_is_set_once_and_restored():
    before = current_language()
    with language_set("da"):
        assert text("labels", "share") == "andel"
    assert current_language() == before
    set_language("en")
    with pytest.raises(ValueError, match="language"):
        set_language("fr")


def test_a_section_without_an_entry_still_has_a_title():
    assert section_frame("60_new_analysis", language="en")["title"] == "New analysis"
    assert section_frame("50_payment_models", language="da")["title"] == "Afregningsmodeller for botilbud"
    frame = section_frame("20_transitions", language="da")
    assert frame["title"] == "Bevægelser på indsatstrappen" and frame["key_figures"]  # Danish falls back for keys


def test_every_caption_and_text_formats_in_both_languages():
    class Anything(dict):
        def __missing__(self, key):
            return 1.0

    for language in ("en", "da"):
        for section in ("captions", "figures", "texts", "report"):
            for key, template in texts(language)[section].items():
                out = string.Formatter().vformat(template, (), Anything())
                assert "{" not in out, (language, section, key)


def _markdown_of(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("where", ["notebooks", "docs", "texts", "readme", "source"])
def test_sources_are_cited_by_author_and_year_not_by_file_or_line_number(where):
    if where == "source":
        paths = sorted({p for pattern in SOURCE_FILES for p in ROOT.glob(pattern) if p.is_file()})
        assert any(p.suffix == ".py" for p in paths) and any(p.suffix == ".yaml" for p in paths)
        found = {str(p.relative_to(ROOT)): NAMED_VALUE.sub("", p.read_text(encoding="utf-8")) for p in paths}
    elif where == "notebooks":
        found = {p.name: _markdown_of(p) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))}
    elif where == "docs":
        found = {p.name: p.read_text() for p in sorted((ROOT / "docs").glob("*.md"))}
    elif where == "readme":
        found = {"README.md": (ROOT / "README.md").read_text()}
    else:
        found = {}
        for language in ("en", "da"):
            for name, sections in _files(language).items():
                for section, items in sections.items():
                    for key, value in items.items():
                        if isinstance(value, str):
                            found[f"{language}/{name} {section}.{key}"] = value
    bad = {name: INTERNAL_REFERENCE.findall(body) for name, body in found.items() if INTERNAL_REFERENCE.search(body)}
    assert not bad, f"cite the source reports by author, year and section, not by internal numbers: {bad}"


def test_the_grep_finds_what_it_should():
    for text_ in ("seed 002, L752", "(seed 004 Table 2.8)", "see L1608-1611", "the seed004 criteria",
                  "Seed 000 (VIVE 2024)", "the whole seed-004 adult total", "(000 L1460)", "seed 002's"):
        assert INTERNAL_REFERENCE.search(text_), text_
    for text_ in ("params/seed004.yaml", "variation_seed004", "`seed004`", "Finansministeriet (2009), Table 2.8",
                  "seed 20240101", "from progression.steering.seed004 import", "(l11, l21, l22)"):
        assert not INTERNAL_REFERENCE.search(text_), text_


def test_the_source_scan_lets_names_through_but_not_citations():
    for code in ('criteria_set == "seed004"', '("seed004 criteria", own)', "  name: seed004\n",
                 "load_seed004_tables()", '"shapley.seed004"'):
        assert not INTERNAL_REFERENCE.search(NAMED_VALUE.sub("", code)), code
    for code in ('description="R2 (seed 004)"', '"source": "seed 002 L245-247"', "# see seed 000 L657",
                 'description="the seed004 criteria"', "# the seed004 run\n"):
        assert INTERNAL_REFERENCE.search(NAMED_VALUE.sub("", code)), code
