"""Assemble ``report.html``: one self-contained page a reader takes in at a glance.

The page opens with the title and the run's facts, a summary that answers the project's four questions
in sentences with numbers and intervals (:mod:`progression.chain.summary`) and a table of contents.
Each analysis (a notebook's section) then gives its question, its answer (the summary's sentences and
the notebook's own paragraphs), its key numbers, two to four key figures and its key table. An appendix
holds every other table, collapsed, each with a link to its CSV file; data and methods, the references
and the run's details close it.

What is *key* comes from the texts registry (:mod:`progression.texts`, section ``sections``: a notebook's
``title``, ``question``, ``method``, ``key_figures``, ``key_tables``, ``key_numbers``), not from this module: a new
analysis with no entry still appears, titled by its name, its first figures and first table taken as
the key ones. Tables read through :func:`progression.texts.tables.readable` (the same layer the
notebooks' displays use), so every number is formatted one way, in the report's language.

Everything shown comes from the run's results, figures and logs, which passed disclosure control.
"""

from __future__ import annotations

import base64
import html
import json
import re
import struct
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml
from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from progression.chain.run_context import collect_disclosure, collect_report_items, collect_suppressed
from progression.chain.summary import summarise
from progression.texts import code_label, has_text, language_set, section_frame, text, texts
from progression.texts.tables import readable

__all__ = ["build_report", "MAX_TABLE_ROWS", "KEY_FIGURES"]

#: Rows of a table the report shows (the rest are in its CSV file).
MAX_TABLE_ROWS = 60
#: Figures an analysis shows when the registry names none.
KEY_FIGURES = 3
_SOURCE_SECTIONS = {"figure": "figures", "table": "captions", "numbers": "captions", "text": "texts"}


def _anchor(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_-]+", "-", str(p)).strip("-") for p in parts if p)


def _markdown(value: str) -> Markup:
    """Registry text to HTML: escaped, with *emphasis* in italics."""
    escaped = html.escape(value, quote=False)
    return Markup(re.sub(r"\*([^*\s][^*]*?)\*", r"<em>\1</em>", escaped))


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", data[16:24])


def _caption(item: dict, language: str, run_language: str) -> str:
    """The item's caption in ``language``: written again from the registry when the run wrote it in another."""
    if language == run_language or not item.get("key"):
        return item.get("caption") or ""
    section = _SOURCE_SECTIONS[item["kind"]]
    # words among the values (a role, a group) are codes of the registry: write them in the language too
    values = {k: code_label(v, None, language=language) if isinstance(v, str) else v
              for k, v in (item.get("values") or {}).items()}
    try:
        return text(section, item["key"], language=language, **values)
    except (KeyError, ValueError, IndexError):
        return item.get("caption") or ""


def _role_notes(name: str, table: pd.DataFrame, source: str, language: str) -> tuple[list[str], dict]:
    """What each published number beside a result is (calibration target or independent check)."""
    notes, headers = [], {}
    for key, role in texts(language)["published"].items():
        table_name, _, column = key.partition(".")
        if table_name != name or column not in table.columns:
            continue
        if role.startswith("column:"):
            what = text("report", "role_column", language=language, column=text("labels", role.split(":", 1)[1],
                                                                                language=language)
                        if has_text("labels", role.split(":", 1)[1], language=language) else role.split(":", 1)[1])
            short = None
        else:
            kind = f"calibration_{'synthetic' if source == 'synthetic' else 'files'}" if role == "calibration" else role
            what = text("report", f"role_{kind}", language=language)
            short = text("report", f"role_label_{kind}", language=language)
        column_label = text("labels", column, language=language) if has_text("labels", column, language=language) \
            else column
        notes.append(f"{column_label}: {what}")
        if short:
            headers[column] = f"{column_label} ({short})"
    return notes, headers


def _table(run_dir: Path, item: dict, *, suppressed: dict, source: str, language: str, max_rows: int) -> dict:
    name = item.get("name") or Path(item["path"]).stem
    frame = pd.read_csv(run_dir / item["path"])
    notes, headers = _role_notes(name, frame, source, language)
    hidden = None if suppressed is None else suppressed.get(name, {})
    shown = readable(frame, name=name, language=language, suppressed=hidden, max_rows=max_rows)
    if headers:
        shown.frame.columns = [headers.get(raw, lab) for lab, raw in zip(shown.frame.columns, shown.columns)]
    return {"html": Markup(shown.to_html(table_id=None)), "truncated": shown.truncated, "path": item["path"],
            "notes": notes, "formatted": shown.formatted_cells, "suppressed": shown.suppressed_cells,
            "columns": len(shown.columns)}


def _numbers(run_dir: Path, item: dict, language: str) -> list[tuple[str, str]]:
    from progression.texts.tables import column_kind, format_value

    data = json.loads((run_dir / item["path"]).read_text())
    rows = []
    for key, value in data.items():
        if isinstance(value, (dict, list)):
            continue
        label = text("labels", key, language=language) if has_text("labels", key, language=language) \
            else key.replace("_", " ")
        if isinstance(value, str) or isinstance(value, bool):
            shown = code_label(value, None, language=language) if isinstance(value, str) else \
                code_label(str(value), "bool", language=language)
        elif value is None:
            shown = "·"
        else:
            kind = column_kind(key, pd.Series([value], dtype="float64"), language=language)
            kind = "count" if kind == "decimal" and float(value).is_integer() else kind
            shown = format_value(value, kind, language=language)
        rows.append((label, shown))
    return rows


def _figure(run_dir: Path, item: dict) -> dict:
    data = (run_dir / item["path"]).read_bytes()
    size = _png_size(data) or (0, 0)
    return {"src": "data:image/png;base64," + base64.b64encode(data).decode("ascii"), "width": size[0],
            "height": size[1]}


def _order(run_dir: Path, items: list[dict], manifest: dict) -> list[str]:
    """Sections in the chain's order: the notebooks' order in the manifest, then by name."""
    named = [n.get("name") for n in manifest.get("notebooks", []) if isinstance(n, dict)]
    present = list(dict.fromkeys(i["section"] for i in items))
    first = [s for s in named if s in present]
    return first + sorted(s for s in present if s not in first)


def _choose(items: list[dict], wanted: list[str] | None, limit: int) -> list[dict]:
    if wanted:
        chosen = [next(i for i in items if i.get("name") == w) for w in wanted if any(i.get("name") == w for i in items)]
        if chosen:
            return chosen
    return items[:limit]


def _years(params: dict) -> str:
    synthetic = ((params.get("data") or {}).get("synthetic") or {})
    if synthetic.get("start_year") and synthetic.get("end_year"):
        return f"{synthetic['start_year']}–{synthetic['end_year']}"
    return ""


def build_report(run_dir: str | Path, *, title: str | None = None, language: str | None = None,
                 out: str | Path | None = None, max_rows: int = MAX_TABLE_ROWS) -> Path:
    """Write the run's report and return its path.

    Parameters
    ----------
    run_dir : path
        The run folder.
    title : str, optional
        The report's title (default: the registry's).
    language : {"en", "da"}, optional
        The report's language; default the run's ``report.language``. Captions the run wrote in another
        language are written again from the registry (figures keep the words they were drawn with).
    out : path, optional
        Where to write (default ``run_dir/report.html``).
    max_rows : int
        Rows of a table shown (the rest are in its CSV file).

    Returns
    -------
    Path
    """
    run_dir = Path(run_dir)
    params_path = run_dir / "params.yaml"
    params_text = params_path.read_text() if params_path.exists() else ""
    params = yaml.safe_load(params_text) or {} if params_text else {}
    run_language = ((params.get("report") or {}).get("language")) or "en"
    language = language or run_language
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    items = collect_report_items(run_dir)
    suppressed = collect_suppressed(run_dir)
    disclosure = {k: v for k, v in collect_disclosure(run_dir).items() if k != "_refused"}
    source = str((params.get("data") or {}).get("source") or "synthetic")
    min_cell = int((params.get("disclosure") or {}).get("min_cell_size") or 5)

    with language_set(language):
        answers = summarise(run_dir, params, language=language)
        by_section: dict[str, list[str]] = {}
        for answer in answers:
            by_section.setdefault(answer["section"], []).extend(answer["sentences"])
        sections, appendix = [], []
        stats = {"tables": 0, "figures": 0, "cells_formatted": 0, "cells_suppressed": 0}
        for section in _order(run_dir, items, manifest):
            own = [i for i in items if i["section"] == section]
            frame = section_frame(section, language=language)
            figures = [i for i in own if i["kind"] == "figure" and (run_dir / i["path"]).exists()]
            tables = [i for i in own if i["kind"] == "table" and (run_dir / i["path"]).exists()]
            numbers = [i for i in own if i["kind"] == "numbers" and (run_dir / i["path"]).exists()]
            paragraphs = [_caption(i, language, run_language) for i in own if i["kind"] == "text"]
            key_figures = _choose(figures, frame.get("key_figures"), KEY_FIGURES)
            key_tables = _choose(tables, frame.get("key_tables"), 1)
            anchor = _anchor("sec", section)

            def render_table(item, anchor=anchor):
                rendered = _table(run_dir, item, suppressed=suppressed, source=source, language=language,
                                  max_rows=max_rows)
                stats["tables"] += 1
                stats["cells_formatted"] += rendered["formatted"]
                stats["cells_suppressed"] += rendered["suppressed"]
                return {**rendered, "caption": _caption(item, language, run_language),
                        "id": _anchor("tab", item.get("name") or Path(item["path"]).stem)}

            def render_figure(item):
                stats["figures"] += 1
                return {**_figure(run_dir, item), "caption": _caption(item, language, run_language),
                        "id": _anchor("fig", item.get("name") or Path(item["path"]).stem)}

            key_number_items = _choose(numbers, frame.get("key_numbers"), 0)
            key_numbers = [{"caption": _caption(i, language, run_language), "rows": _numbers(run_dir, i, language),
                            "id": _anchor("num", i.get("name"))} for i in key_number_items]
            sections.append({
                "id": anchor, "name": section, "title": frame["title"], "question": frame.get("question"),
                # the notebook's own paragraphs answer; the summary's sentences stand in where it wrote none
                "answer": [] if paragraphs else by_section.get(section, []), "paragraphs": paragraphs,
                "figures": [render_figure(i) for i in key_figures],
                "tables": [render_table(i) for i in key_tables], "numbers": key_numbers,
                "more_figures": [render_figure(i) for i in figures if i not in key_figures],
            })
            rest = [render_table(i) for i in tables if i not in key_tables]
            more_numbers = [{"caption": _caption(i, language, run_language), "rows": _numbers(run_dir, i, language),
                             "id": _anchor("num", i.get("name"))} for i in numbers if i not in key_number_items]
            if rest or more_numbers:
                appendix.append({"id": _anchor("app", section), "title": frame["title"], "tables": rest,
                                 "numbers": more_numbers})
        methods = [{"title": s["title"], "id": s["id"],
                    "method": section_frame(s["name"], language=language).get("method")} for s in sections]
        words = {k: v for k, v in texts(language)["report"].items()}
        references = sorted(texts(language)["references"].items(), key=lambda kv: kv[1])
        facts = text("report", "run_facts", language=language, run_id=run_dir.name,
                     source=text("report", f"source_{'synthetic' if source == 'synthetic' else 'files'}"),
                     years=_years(params), min_cell=min_cell, language_name=words["language_name"])
        scale = ((params.get("data") or {}).get("synthetic") or {}).get("scale", 1)
        data_text = text("report", "data_synthetic" if source == "synthetic" else "data_files", language=language,
                         scale=scale)
        disclosure_text = text("report", "disclosure_text", language=language, min_cell_minus=min_cell - 1)
        disclosure_rows = [(table, text("report", "disclosure_row", language=language, **{
            k: rep.get(k, 0) for k in ("cells", "rows", "primary", "secondary", "statistics")}))
            for table, rep in sorted(disclosure.items())]
        notebooks = ", ".join(f"{nb.get('name')} ({nb.get('seconds')} s)" for nb in manifest.get("notebooks", [])
                              if isinstance(nb, dict))
        template_text = resources.files("progression.chain.templates").joinpath("report.html").read_text(
            encoding="utf-8")
        env = Environment(autoescape=select_autoescape(["html"]))
        env.filters["md"] = _markdown
        page = env.from_string(template_text).render(
            lang=language, title=title or words["title"], subtitle=words["subtitle"], facts=facts, words=words,
            legend=text("report", "legend", language=language, min_cell=min_cell), answers=answers,
            sections=sections, appendix=appendix, methods=methods, references=references, data_text=data_text,
            disclosure_text=disclosure_text, roles_text=words["roles_text"], manifest=manifest,
            params_text=params_text, disclosure_rows=disclosure_rows, notebooks=notebooks,
            appendix_intro=text("report", "appendix_intro", language=language, max_rows=max_rows),
            commit=(manifest.get("git") or {}).get("commit"),
        )
    target = Path(out) if out is not None else run_dir / "report.html"
    target.write_text(page, encoding="utf-8")
    _LAST_STATS.clear()
    _LAST_STATS.update(stats)
    return target


#: What the last :func:`build_report` rendered: tables, figures, numeric cells formatted and cells suppressed.
_LAST_STATS: dict = {}
