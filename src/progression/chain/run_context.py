"""What a notebook of the chain uses to read its inputs and write its artefacts.

A notebook receives two parameters from the runner — the path of the resolved parameter file and
the run folder — and opens a :class:`RunContext`::

    ctx = RunContext.open(params_path, run_dir)
    spells = ctx.table("spells")
    ctx.write_result("transition_counts", counts, count_cols=["n"], stat_cols={"prob": "n_from"})
    ctx.save_figure(fig, "transition_matrix", caption="...")

Every results table passes :func:`progression.disclosure.suppress`; what was suppressed is logged
in ``disclosure.json`` and ends up in the manifest. ``report_items.json`` lists, in order, what
the report shows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from progression.config import Params, load_params
from progression.disclosure import suppress

DISCLOSURE_LOG = "disclosure.json"
REPORT_ITEMS = "report_items.json"


def _update_json(path: Path, key: str, value) -> None:
    data = json.loads(path.read_text()) if path.exists() else {}
    data[key] = value
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a results table reproducibly (fixed float format, no index)."""
    df.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")


@dataclass
class RunContext:
    """A run folder seen from a notebook."""

    params: Params
    run_dir: Path
    section: str = ""

    @classmethod
    def open(cls, params_path: str | Path, run_dir: str | Path, section: str = "") -> "RunContext":
        """Open a run folder: load the parameters and make sure ``data/``, ``results/`` and ``figures/`` exist.

        Opening never removes report items, so an evaluator may open any section interactively; writing
        an item again replaces it. The chain's runner clears a notebook's section before it reruns it.
        """
        run_dir = Path(run_dir).resolve()
        for sub in ("data", "results", "figures"):
            (run_dir / sub).mkdir(parents=True, exist_ok=True)
        return cls(params=load_params(params_path), run_dir=run_dir, section=section)

    # inputs -------------------------------------------------------------------------------
    def data_path(self, table: str) -> Path:
        """Path of a validated input table (Parquet) in the run folder."""
        return self.run_dir / "data" / f"{table}.parquet"

    def table(self, table: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Read a validated input table."""
        path = self.data_path(table)
        if not path.exists():
            raise FileNotFoundError(f"input table '{table}' not in {path.parent}; run 00_data first")
        return pd.read_parquet(path, columns=list(columns) if columns else None)

    def truth(self) -> dict | None:
        """The generating truth of synthetic data (None for real data)."""
        path = self.run_dir / "data" / "truth.json"
        return json.loads(path.read_text()) if path.exists() else None

    def result(self, name: str) -> pd.DataFrame:
        """Read a results table written earlier in the chain."""
        return pd.read_csv(self.run_dir / "results" / f"{name}.csv")

    # outputs ------------------------------------------------------------------------------
    def write_result(
        self,
        name: str,
        df: pd.DataFrame,
        *,
        count_cols: Sequence[str] = (),
        stat_cols: Mapping[str, str] | None = None,
        margin_groups: Mapping[str, Sequence[str]] | None = None,
        caption: str | None = None,
        report: bool = True,
    ) -> pd.DataFrame:
        """Write an aggregate table to ``results/<name>.csv`` after disclosure control.

        Returns the table as written (suppressed cells missing). With ``caption``, the table is
        listed in the report.
        """
        safe, rep = suppress(
            df, table=name, min_cell_size=self.params.disclosure.min_cell_size, count_cols=count_cols,
            stat_cols=stat_cols, margin_groups=margin_groups,
            secondary=self.params.disclosure.secondary_suppression,
        )
        write_csv(safe, self.run_dir / "results" / f"{name}.csv")
        _update_json(self.run_dir / DISCLOSURE_LOG, name, rep.to_dict())
        if report and caption:
            self._add_report_item("table", f"results/{name}.csv", caption)
        return safe

    def write_json(self, name: str, data: dict, *, caption: str | None = None) -> None:
        """Write key numbers (aggregates only) to ``results/<name>.json``."""
        path = self.run_dir / "results" / f"{name}.json"
        path.write_text(json.dumps(data, indent=2, sort_keys=True, default=float))
        if caption:
            self._add_report_item("numbers", f"results/{name}.json", caption)

    def save_figure(self, fig, name: str, *, caption: str) -> Path:
        """Save a figure of aggregates to ``figures/<name>.png`` and list it in the report."""
        path = self.run_dir / "figures" / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
        self._add_report_item("figure", f"figures/{name}.png", caption)
        return path

    def add_text(self, text: str) -> None:
        """A paragraph of prose for the report."""
        self._add_report_item("text", "", text)

    def _report_items(self) -> list[dict]:
        log = self.run_dir / REPORT_ITEMS
        return json.loads(log.read_text()) if log.exists() else []

    def _add_report_item(self, kind: str, path: str, caption: str) -> None:
        """List an item in the report; an item with the same path in the same section is replaced."""
        items = self._report_items()
        item = {"section": self.section, "kind": kind, "path": path, "caption": caption}
        same = [i for i, old in enumerate(items) if path and old["section"] == self.section and old["path"] == path]
        if same:
            items[same[0]] = item
        else:
            items.append(item)
        (self.run_dir / REPORT_ITEMS).write_text(json.dumps(items, indent=2))


def reset_section(run_dir: str | Path, section: str) -> None:
    """Remove a section's report items: the runner calls this before it (re)executes a notebook."""
    path = Path(run_dir) / REPORT_ITEMS
    items = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps([i for i in items if i["section"] != section], indent=2))
