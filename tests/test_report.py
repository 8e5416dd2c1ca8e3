"""The report a reader takes in at a glance: a summary answering the project's questions, a table of contents
whose links lead somewhere, per analysis its question, answer, key figures and key table, an appendix of
collapsed tables with their CSV files, data and methods, references; in English or Danish with the same
numbers; and, in a real browser (headless Chromium), a page that fits a 1280 px window."""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from progression.chain.browser import check_page, find_chromium
from progression.chain.report import build_report

SCIENTIFIC = re.compile(r"\b\d(?:[.,]\d+)?e[+-]?\d+\b", re.IGNORECASE)
INTERNAL_REFERENCE = re.compile(r"\bseed[ -]0\d\d\b|(?<![\w/`_-])seed0\d\d(?![\w.`_-])|\bL\d{2,5}(?:-\d+)?\b",
                                re.IGNORECASE)


class _Page(HTMLParser):
    """Ids, in-page links, text (without the parameters block) and the cells of each table."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.text, self.tables = set(), [], [], []
        self._skip = 0
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href", "").startswith("#"):
            self.links.append(attrs["href"][1:])
        if tag in ("pre", "script", "style"):
            self._skip += 1
        if tag == "table":
            self.tables.append([])
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("pre", "script", "style"):
            self._skip -= 1
        if tag == "td" and self._cell is not None:
            self.tables[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.body = " ".join(page.text)
    return page


def _item(section, kind, name, path, caption, **extra):
    return {"section": section, "kind": kind, "name": name, "path": path, "caption": caption, **extra}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> Path:
    """A run folder with a few results of four analyses and one the registry does not know."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = tmp_path_factory.mktemp("run") / "small"
    for sub in ("results", "figures", "log"):
        (run / sub).mkdir(parents=True)
    params = {"report": {"language": "en"}, "data": {"source": "synthetic", "synthetic": {"scale": 0.05}},
              "disclosure": {"min_cell_size": 5}, "transitions": {"flow_from_step": "SEL85",
                                                                   "flow_years": [2020, 2022]}}
    (run / "params.yaml").write_text(yaml.safe_dump(params))
    results = {
        "progression_shares_target_group": pd.DataFrame({
            "instrument": "VUM", "grouping": "all", "group": "all",
            "change_class": ["progression", "maintenance", "degression"], "n": 1141, "count": [130, 898, 113],
            "share": [0.114, 0.787, 0.099], "conf_low": [0.097, 0.76, 0.083], "conf_high": [0.134, 0.81, 0.118]}),
        "transitions_matrix": pd.DataFrame({
            "from_step": "SEL85", "to_step": ["none", "SEL82", "SEL85", "SEL108"], "n": [900, 50, 6000, np.nan],
            "prob": [0.12, 0.013, 0.784, np.nan], "conf_low": [0.11, 0.01, 0.778, np.nan],
            "conf_high": [0.13, 0.016, 0.79, np.nan], "p_value": [7.971e-134, 1e-5, 0.5, np.nan]}),
        "service_shares": pd.DataFrame({"step": ["SEL85", "SEL108"], "n_persons": [3079, 478],
                                        "share": [0.604, 0.073], "published_share": [0.59, 0.07], "year": 2022}),
        "variation_wide": pd.DataFrame({f"share_criterion_{i}": np.linspace(0.01, 0.3, 40) for i in range(16)}),
        "payment_rules": pd.DataFrame({"rule": ["rate card"], "mean_payment_dkk": [1.316e+04]}),
    }
    for name, frame in results.items():
        frame.to_csv(run / "results" / f"{name}.csv", index=False)
    (run / "results" / "variation_key_numbers.json").write_text(json.dumps({
        "adults_r2": 0.4, "adults_r2_conf_low": 0.22, "adults_r2_conf_high": 0.55, "adults_r2_cross_validated": 0.35,
        "children_r2": 0.48, "children_r2_conf_low": None, "children_r2_conf_high": None,
        "children_r2_cross_validated": 0.45, "year": 2022, "adults_r2_comparison": "calibration target"}))
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot([0, 1], [0, 1])
    for name in ("progression_shares", "transitions_matrix", "payment_models_figure"):
        fig.savefig(run / "figures" / f"{name}.png", dpi=110)
    plt.close(fig)
    items = {
        "10_progression": [
            _item("10_progression", "table", "progression_shares_target_group",
                  "results/progression_shares_target_group.csv", "Shares progressing.", key="progression_shares_target_group",
                  values={}),
            _item("10_progression", "figure", "progression_shares", "figures/progression_shares.png", "Shares.")],
        "20_transitions": [
            _item("20_transitions", "table", "transitions_matrix", "results/transitions_matrix.csv", "Matrix."),
            _item("20_transitions", "figure", "transitions_matrix", "figures/transitions_matrix.png", "Matrix."),
            _item("20_transitions", "text", "transitions_stay", "", "From one year to the next, 78%.")],
        "00_data": [_item("00_data", "table", "service_shares", "results/service_shares.csv", "Step shares.")],
        "30_spending_variation": [
            _item("30_spending_variation", "table", "variation_wide", "results/variation_wide.csv", "A wide table."),
            _item("30_spending_variation", "numbers", "variation_key_numbers", "results/variation_key_numbers.json",
                  "Key numbers.")],
        "50_payment_models": [
            _item("50_payment_models", "figure", "payment_models_figure", "figures/payment_models_figure.png", "A."),
            _item("50_payment_models", "table", "payment_rules", "results/payment_rules.csv", "Rules.")],
    }
    suppressed = {"transitions_matrix": {"n": [3], "prob": [3], "conf_low": [3], "conf_high": [3]}}
    for section, its in items.items():
        (run / "log" / section).mkdir()
        (run / "log" / section / "report_items.json").write_text(json.dumps(its))
        (run / "log" / section / "suppressed.json").write_text(json.dumps(
            {k: v for k, v in suppressed.items() if any(i["name"] == k for i in its)}))
    (run / "manifest.json").write_text(json.dumps({"notebooks": [{"name": s, "seconds": 1} for s in sorted(items)],
                                                   "started": "today", "versions": {"python": "3"}}))
    return run


@pytest.fixture(scope="module")
def small_reports(small_run):
    english = build_report(small_run, out=small_run / "report.html")
    danish = build_report(small_run, out=small_run / "report_da.html", language="da")
    return parse(english), parse(danish)


def test_the_report_opens_with_a_summary_and_a_table_of_contents(small_reports):
    english, danish = small_reports
    assert {"summary", "contents", "data-methods", "appendix", "references"} <= english.ids
    assert "Summary" in english.body and "Sammenfatning" in danish.body and "Indhold" in danish.body
    assert "Do citizens get better?" in english.body and "Får borgerne det bedre?" in danish.body
    # the summary answers with numbers and intervals read from the results
    assert "11.4% of the 1,141 citizens" in english.body and "(9.7–13.4%)" in english.body
    assert "11,4 % af de 1.141 borgere" in danish.body


def test_every_link_in_the_page_leads_somewhere(small_reports):
    for page in small_reports:
        assert page.links and not [link for link in page.links if link not in page.ids]


def test_an_analysis_the_registry_does_not_know_still_appears(small_reports):
    english, _ = small_reports
    assert "sec-50_payment_models" in english.ids and "Payment models" in english.body


def test_a_suppressed_number_in_a_sentence_says_so(small_reports):
    english, danish = small_reports
    assert "0.48 ([suppressed])" in english.body and "[diskretioneret]" in danish.body


def test_no_cell_in_scientific_notation_and_suppressed_cells_marked(small_reports):
    for page in small_reports:
        cells = [c for table in page.tables for c in table]
        assert cells and not [c for c in cells if SCIENTIFIC.search(c)]
        assert not SCIENTIFIC.search(page.body)
        assert "·" in cells and "< 0.001" in cells + [c.replace(",", ".") for c in cells]
        assert "13,160" in cells or "13.160" in cells


def test_published_numbers_say_whether_they_are_calibration_targets(small_reports):
    english, danish = small_reports
    assert "calibration target" in english.body and "kalibreringsmål" in danish.body


def _numeric_cells(page) -> list[str]:
    """The numbers of every table as written (per cent signs and minus signs made plain)."""
    cells = [c.replace("\u2212", "-").replace("\xa0", " ").replace(" %", "%") for t in page.tables for c in t]
    return [c for c in cells if re.fullmatch(r"-?[\d.,]+%?|< ?0[.,]001|·|–|∞", c)]


def same_numbers(english: list[str], danish: list[str]) -> bool:
    """Whether two lists of cells hold the same numbers, the Danish with swapped separators (a label such
    as a table number ``2.1`` reads the same in both)."""
    swap = str.maketrans({",": ".", ".": ","})
    return len(english) == len(danish) and all(e == d or e == d.translate(swap) for e, d in zip(english, danish))


def test_the_numbers_are_identical_between_languages(small_reports):
    english, danish = small_reports
    assert len(_numeric_cells(english)) > 100
    assert same_numbers(_numeric_cells(english), _numeric_cells(danish))


def test_tables_link_their_csv_and_the_rest_sit_in_the_appendix(small_run, small_reports):
    html = (small_run / "report.html").read_text()
    assert 'href="results/transitions_matrix.csv"' in html
    assert html.count("<details") >= 2 and "variation_wide" in html


# -- the CI chain run's report -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def report_run(request) -> Path:
    """The run folder of the CI chain run (or the one named by PROGRESSION_CI_RUN, to look at a run made)."""
    given = os.environ.get("PROGRESSION_CI_RUN")
    if given:
        return Path(given)
    return request.getfixturevalue("ci_run")


@pytest.fixture(scope="module")
def ci_reports(report_run, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("reports")
    return {language: build_report(report_run, language=language, out=folder / f"report_{language}.html")
            for language in ("en", "da")}


@pytest.mark.notebooks
def test_the_ci_report_opens_with_a_summary_and_a_table_of_contents(ci_reports):
    for language, path in ci_reports.items():
        page = parse(path)
        assert {"summary", "contents"} <= page.ids
        assert len([link for link in page.links if link.startswith("sec-")]) >= 7
        assert not [link for link in page.links if link not in page.ids]
        assert not SCIENTIFIC.search(page.body), SCIENTIFIC.findall(page.body)[:10]
        assert not INTERNAL_REFERENCE.search(page.body), INTERNAL_REFERENCE.findall(page.body)[:10]
        assert page.body.count("95") > 10  # intervals


@pytest.mark.notebooks
def test_the_ci_report_in_danish_has_the_same_numbers(ci_reports):
    english, danish = parse(ci_reports["en"]), parse(ci_reports["da"])
    assert len(_numeric_cells(english)) > 1000
    assert same_numbers(_numeric_cells(english), _numeric_cells(danish))
    assert "Sammenfatning" in danish.body and "Indhold" in danish.body


def results_names(run_dir: Path) -> dict[str, str]:
    """Every column of every results table and every key of every key-number file of a run, with the first
    file it comes from."""
    names: dict[str, str] = {}
    for path in sorted((run_dir / "results").iterdir()):
        if path.suffix == ".csv":
            try:
                found = list(pd.read_csv(path, nrows=0).columns)
            except pd.errors.EmptyDataError:
                found = []
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            found = list(data) if isinstance(data, dict) else []
        else:
            continue
        for name in found:
            names.setdefault(str(name), path.name)
    return names


@pytest.mark.notebooks
def test_every_results_column_and_key_number_has_a_label_in_both_languages(report_run):
    """The report and the notebooks label columns and key numbers from texts/<language>/labels.yaml; a name
    without a label reads as its snake-case words ('p neutral rate card'), in the Danish report too. (That
    every English label has its Danish one in texts/da is tests/test_texts_registry.py's check.)"""
    from progression.texts import texts

    names = results_names(report_run)
    assert len(names) > 200  # every notebook wrote its results
    for language in ("en", "da"):
        labels = texts(language)["labels"]
        missing = sorted(f"{name} ({source})" for name, source in names.items() if name not in labels)
        assert not missing, f"texts/{language}/labels.yaml has no label for {len(missing)} names: {missing}"


chromium = pytest.mark.skipif(find_chromium() is None, reason="no Chromium installed (Debian: apt install chromium)")


@chromium
def test_the_small_report_fits_a_1280_px_window(small_run, small_reports):
    measured = check_page(small_run / "report.html", width=1280)
    assert measured["scroll_width"] <= 1280, measured["overflowing"]
    assert measured["images"] == measured["images_loaded"] > 0
    assert not measured["broken_anchors"]
    assert measured["scrolling_tables"] >= 1  # the 16-column table scrolls inside its box, not the page


@chromium
@pytest.mark.notebooks
@pytest.mark.parametrize("language", ["en", "da"])
def test_the_ci_report_in_a_real_browser(ci_reports, language):
    measured = check_page(ci_reports[language], width=1280)
    assert measured["scroll_width"] <= 1280, measured["overflowing"]
    assert measured["images"] >= 20 and measured["images"] == measured["images_loaded"]
    assert measured["widest_image"] <= 1280
    assert measured["anchors"] >= 10 and not measured["broken_anchors"]
    assert not measured["scientific"]


def numbers_of(run_dir: Path) -> dict[str, pd.DataFrame | dict]:
    """Every results file of a run, numbers only (words in a table, such as labels, follow the language)."""
    out = {}
    for path in sorted((run_dir / "results").iterdir()):
        if path.suffix == ".csv":
            frame = pd.read_csv(path)
            out[path.name] = frame.select_dtypes("number")
        elif path.suffix == ".json":
            out[path.name] = {k: v for k, v in json.loads(path.read_text()).items()
                              if isinstance(v, (int, float)) or v is None}
    return out


@pytest.mark.notebooks
@pytest.mark.slow
def test_a_danish_run_writes_the_same_numbers(ci_run, tmp_path):
    from progression.chain.runner import run_chain

    root = Path(__file__).resolve().parents[1]
    params = tmp_path / "da.yaml"
    params.write_text(f"extends: {root / 'params' / 'ci.yaml'}\nrun:\n  output_dir: {tmp_path}\nreport:\n  language: da\n")
    danish = run_chain(params, progress=False).run_dir
    english, theirs = numbers_of(ci_run), numbers_of(danish)
    assert english.keys() == theirs.keys()
    for name, numbers in english.items():
        if isinstance(numbers, pd.DataFrame):
            pd.testing.assert_frame_equal(numbers, theirs[name], obj=name)
        else:
            assert numbers == theirs[name], name
    assert "Sammenfatning" in (danish / "report.html").read_text()
