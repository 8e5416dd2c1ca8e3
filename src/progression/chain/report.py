"""Assemble ``report.html`` from what the notebooks listed in ``report_items.json``.

The report is one self-contained HTML file: figures are embedded, tables are rendered from the
results files (which passed disclosure control), and a summary of the parameters and the manifest
closes it.
"""

from __future__ import annotations

import base64
import json
from importlib import resources
from pathlib import Path

import pandas as pd
from jinja2 import Environment, select_autoescape

from progression.chain.run_context import collect_disclosure, collect_report_items

SECTION_TITLES = {
    "00_data": "Data",
    "10_progression": "Recovery-oriented progression",
    "20_transitions": "Step transitions on the indsatstrappe",
    "30_spending_variation": "Spending variation between municipalities",
    "35_steering": "Steering tools: growth, price and volume, budget follow-up",
    "40_fund_evaluation": "Preventive interventions and a result-payment fund",
    "45_pilot_design": "Designing the fund's pilot",
    "50_payment_models": "Payment models for botilbud (afregningsmodeller for botilbud)",
}
MAX_TABLE_ROWS = 60


def _render_item(run_dir: Path, item: dict) -> dict:
    kind, path = item["kind"], run_dir / item["path"]
    out = {"kind": kind, "caption": item["caption"]}
    if kind == "figure":
        out["src"] = "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    elif kind == "table":
        df = pd.read_csv(path)
        out["html"] = df.head(MAX_TABLE_ROWS).to_html(index=False, na_rep="·", float_format=lambda x: f"{x:,.4g}",
                                                      classes="tbl", border=0)
        out["truncated"] = max(0, len(df) - MAX_TABLE_ROWS)
        out["name"] = item["path"]
    elif kind == "numbers":
        data = json.loads(path.read_text())
        out["rows"] = [(k, v) for k, v in data.items() if not isinstance(v, (dict, list))]
    return out


def build_report(run_dir: str | Path, *, title: str = "progression: run report") -> Path:
    """Write ``report.html`` in ``run_dir`` and return its path."""
    run_dir = Path(run_dir)
    items = collect_report_items(run_dir)
    order = {name: i for i, name in enumerate(SECTION_TITLES)}
    sections: dict[str, list] = {}
    for item in sorted(items, key=lambda i: order.get(i["section"], len(order))):
        sections.setdefault(item["section"], []).append(_render_item(run_dir, item))
    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    params_text = (run_dir / "params.yaml").read_text() if (run_dir / "params.yaml").exists() else ""
    disclosure = {k: v for k, v in collect_disclosure(run_dir).items() if k != "_refused"}
    template_text = resources.files("progression.chain.templates").joinpath("report.html").read_text(encoding="utf-8")
    env = Environment(autoescape=select_autoescape(["html"]))
    html = env.from_string(template_text).render(
        title=title, run_id=run_dir.name, sections=[(SECTION_TITLES.get(k, k), v) for k, v in sections.items()],
        manifest=manifest, params_text=params_text, disclosure=disclosure,
    )
    out = run_dir / "report.html"
    out.write_text(html, encoding="utf-8")
    return out
