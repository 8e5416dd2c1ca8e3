"""The report's summary: the project's four questions answered in sentences from a run's disclosed results.

Each answer is a sentence template of the texts registry (section ``report``, keys ``summary_*``) filled with
numbers read from the run's results files and written the way of the report's language
(:func:`progression.texts.tables.format_value`). A number that disclosure control suppressed reads
``[suppressed]``, so the sentence says so. An answer whose results are not in the run (or not in the
shape this module reads) is left out, with a warning.

Examples
--------
>>> import json, tempfile
>>> from pathlib import Path
>>> run = Path(tempfile.mkdtemp())
>>> (run / "results").mkdir()
>>> _ = (run / "results" / "design_key_numbers.json").write_text(json.dumps(
...     {"project_mde_relative": 0.4, "model_mde_relative": None}))
>>> answers = summarise(run, {}, language="en")
>>> answers[0]["sentences"]
['A pilot over 98 municipalities could detect an effect of about 40.0% of the baseline rate per project and [suppressed] per payment model.']
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd

from progression.texts import code_label, text
from progression.texts.tables import format_value

__all__ = ["summarise", "QUESTIONS"]


class _Results:
    """The run's results files, read once each (missing file: None)."""

    def __init__(self, run_dir: Path):
        self.folder = Path(run_dir) / "results"
        self._seen: dict = {}

    def table(self, name: str) -> pd.DataFrame | None:
        if name not in self._seen:
            path = self.folder / f"{name}.csv"
            self._seen[name] = pd.read_csv(path) if path.exists() else None
        return self._seen[name]

    def numbers(self, name: str) -> dict | None:
        key = f"{name}.json"
        if key not in self._seen:
            path = self.folder / key
            self._seen[key] = json.loads(path.read_text()) if path.exists() else None
        return self._seen[key]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _say(value, kind: str, language: str) -> str:
    """A number as the summary writes it; a suppressed one says so."""
    if _missing(value):
        return text("report", "suppressed_number", language=language)
    if kind == "points":  # a difference of shares, in percentage points
        return format_value(100 * float(value), "decimal", language=language, decimals=1)
    return format_value(float(value), kind, language=language, decimals=2 if kind == "ratio" else None)


def _range(low, high, kind: str, language: str) -> str:
    """An interval as the summary writes it: ``9.7–13.4%`` (the unit once), ``−4.7 to 10.8`` across zero."""
    if _missing(low) or _missing(high):
        return text("report", "suppressed_number", language=language)
    lo, hi = _say(low, kind, language), _say(high, kind, language)
    if kind == "percent":
        lo = lo.removesuffix("%").removesuffix(" ")
    joiner = text("report", "range_across_zero", language=language) if float(low) < 0 <= float(high) else "–"
    return f"{lo}{joiner}{hi}"


def _one(table: pd.DataFrame, **where) -> pd.Series | None:
    rows = table
    for column, value in where.items():
        rows = rows[rows[column].astype(str) == str(value)]
    return rows.iloc[0] if len(rows) == 1 else None


def _progression(results: _Results, params: Mapping, language: str) -> list[str]:
    shares = results.table("progression_shares_target_group")
    if shares is None:
        return []
    shares = shares[shares["grouping"].astype(str) == "all"]
    order = list(dict.fromkeys(["VUM", "WHO5", "INSPIRE_O", "QPR15", *shares["instrument"].astype(str)]))
    items = []
    for instrument in [i for i in order if i in set(shares["instrument"].astype(str))]:
        up = _one(shares, instrument=instrument, change_class="progression")
        down = _one(shares, instrument=instrument, change_class="degression")
        if up is None or down is None:
            continue
        items.append(text("report", "summary_progression_item", language=language,
                          instrument=code_label(instrument, "instrument", language=language),
                          n=up["n"] if not _missing(up["n"]) else float("nan"),
                          progression=_say(up["share"], "percent", language),
                          p_range=_range(up["conf_low"], up["conf_high"], "percent", language),
                          degression=_say(down["share"], "percent", language),
                          d_range=_range(down["conf_low"], down["conf_high"], "percent", language)))
    if not items:
        return []
    return [text("report", "summary_progression", language=language, items="; ".join(items))]


def _levels(params: Mapping) -> dict[str, float]:
    steps = (params.get("staircase") or {}).get("steps") or []
    levels = {s["name"]: float(s["level"]) for s in steps if isinstance(s, Mapping) and "name" in s}
    return levels or {"none": 0, "SEL82": 1, "SEL85": 2, "SEL107": 3, "ABL105": 4, "SEL108": 5}


def _transitions(results: _Results, params: Mapping, language: str) -> list[str]:
    out = []
    matrix = results.table("transitions_matrix")
    step = str((params.get("transitions") or {}).get("flow_from_step", "SEL85"))
    if matrix is not None:
        stay = _one(matrix, from_step=step, to_step=step)
        levels = _levels(params)
        rows = matrix[matrix["from_step"].astype(str) == step]
        lower = rows[rows["to_step"].astype(str).map(lambda s: levels.get(s, math.inf) < levels.get(step, 0))]
        down = float("nan") if lower["prob"].isna().any() or lower.empty else float(lower["prob"].sum())
        if stay is not None:
            out.append(text("report", "summary_transitions_stay", language=language,
                            stay=_say(stay["prob"], "percent", language),
                            stay_range=_range(stay["conf_low"], stay["conf_high"], "percent", language),
                            down=_say(down, "percent", language)))
    flow = results.table("transitions_flow_case_vs_rest")
    years = (params.get("transitions") or {}).get("flow_years") or [None, None]
    if flow is not None:
        row = _one(flow, category="none_or_lower")
        if row is not None:
            out.append(text("report", "summary_transitions_flow", language=language, start=years[0], stop=years[1],
                            case=_say(row["share_a"], "percent", language),
                            rest=_say(row["share_b"], "percent", language),
                            diff=_say(row["diff"], "points", language),
                            diff_range=_range(row["conf_low"], row["conf_high"], "points", language)))
    return out


def _variation(results: _Results, params: Mapping, language: str) -> list[str]:
    key = results.numbers("variation_key_numbers")
    if key is None:
        return []
    r = {k: _say(key.get(k), "ratio", language) for k in (
        "adults_r2", "adults_r2_conf_low", "adults_r2_conf_high", "adults_r2_cross_validated", "children_r2",
        "children_r2_conf_low", "children_r2_conf_high", "children_r2_cross_validated")}
    out = [text("report", "summary_variation", language=language, year=key.get("year", ""),
                adults_r2=r["adults_r2"],
                adults_range=_range(key.get("adults_r2_conf_low"), key.get("adults_r2_conf_high"), "ratio", language),
                children_r2=r["children_r2"],
                children_range=_range(key.get("children_r2_conf_low"), key.get("children_r2_conf_high"), "ratio",
                                      language),
                adults_cv=r["adults_r2_cross_validated"], children_cv=r["children_r2_cross_validated"])]
    role = str(key.get("adults_r2_comparison") or "")
    out.append(text("report", "summary_variation_calibration" if role == "calibration target"
                    else "summary_variation_check", language=language))
    return out


def _fund(results: _Results, params: Mapping, language: str) -> list[str]:
    out = []
    key = results.numbers("fund_key_numbers")
    if key is not None:
        summary = results.table("fund_summary")
        band = _one(summary, quantity="public_balance_dkk", design="effects") if summary is not None else None
        best = key.get("best_intervention")
        out.append(text("report", "summary_fund", language=language,
                        p_state=_say(key.get("prob_neutral_state"), "percent", language),
                        p_public=_say(key.get("prob_neutral_public"), "percent", language),
                        balance=_say(key.get("expected_public_balance_dkk"), "money", language),
                        balance_range=_range(None if band is None else band["q05"],
                                             None if band is None else band["q95"], "money", language),
                        best=code_label(best, "intervention", language=language) if best else
                        text("report", "suppressed_number", language=language)))
        out.append(text("report", "summary_fund_som", language=language,
                        employment=_say(key.get("som_employment_potential_dkk"), "money", language),
                        botilbud=_say(key.get("som_botilbud_potential_dkk"), "money", language)))
    design = results.numbers("design_key_numbers")
    if design is not None:
        out.append(text("report", "summary_design", language=language,
                        project_mde=_say(design.get("project_mde_relative"), "percent", language),
                        model_mde=_say(design.get("model_mde_relative"), "percent", language)))
    return out


#: The project's four questions: the registry key of the question, the section that answers it, and how.
QUESTIONS: list[tuple[str, str, Callable]] = [
    ("q_progression", "10_progression", _progression),
    ("q_transitions", "20_transitions", _transitions),
    ("q_variation", "30_spending_variation", _variation),
    ("q_fund", "40_fund_evaluation", _fund),
]


def summarise(run_dir: str | Path, params: Mapping, *, language: str) -> list[dict]:
    """The answers to the project's questions that the run's results hold.

    Parameters
    ----------
    run_dir : path
        The run folder (its ``results/``).
    params : mapping
        The run's resolved parameters (``params.yaml`` as a mapping).
    language : {"en", "da"}

    Returns
    -------
    list of dict
        Per answered question: ``question`` (its words), ``section`` (the analysis answering it) and
        ``sentences``.
    """
    results = _Results(Path(run_dir))
    out = []
    for key, section, answer in QUESTIONS:
        try:
            sentences = answer(results, params, language)
        except (KeyError, ValueError, TypeError, IndexError) as err:  # results of another shape: no answer
            warnings.warn(f"summary: no answer to {key} from this run's results ({type(err).__name__}: {err})",
                          stacklevel=2)
            continue
        if sentences:
            out.append({"question": text("report", key, language=language), "section": section,
                        "sentences": sentences})
    return out
