"""The truth: calibration targets, realised calibration figures and the JSON form of ``truth.json``.

Realised figures are computed from the generated tables as an analyst would see them (recorded
spells, person-years, accounts), with the definitions written next to each figure.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

SERVICE_GROUPS = {"SEL82": ("SEL82a", "SEL82b", "SEL82c", "SEL82d"), "SEL85": ("SEL85",),
                  "ABL105": ("ABL105",), "SEL107": ("SEL107",), "SEL108": ("SEL108",)}
TARGET_GROUP_PARAGRAPHS = tuple(p for ps in SERVICE_GROUPS.values() for p in ps)
BOTILBUD = ("SEL107", "ABL105", "SEL108")

#: Calibration targets with the published figure they come from: Social- og Boligstyrelsen (2024), *Kommunernes
#: omlægning til Borgeren ved roret*; Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), *Det
#: specialiserede socialområde – redskaber til styring og prioritering*; Ekspertudvalget på socialområdet (2024),
#: *Anbefalinger til en bæredygtig faglig og økonomisk udvikling på socialområdet*.
TARGETS = {
    "target_group_2022": {"value": 72_000, "source": "Social- og Boligstyrelsen (2024), «Målgruppens omfang»",
                          "scales_with": "scale"},
    "cognitive_2022": {"value": 44_000, "source": "Social- og Boligstyrelsen (2024), «Målgruppens omfang» "
                                                  "(kognitivt_handicap + begge)",
                       "scales_with": "scale"},
    "mental_2022": {"value": 34_000, "source": "Social- og Boligstyrelsen (2024), «Målgruppens omfang» "
                                               "(sindslidelse + begge)",
                    "scales_with": "scale"},
    "overlap_2022": {"value": 6_000, "source": "Social- og Boligstyrelsen (2024), «Målgruppens omfang» "
                                               "(derived: 44,000 + 34,000 - 72,000)",
                     "scales_with": "scale"},
    "service_shares_2022": {"value": {"SEL85": 0.59, "ABL105": 0.19, "SEL107": 0.11, "SEL108": 0.07, "SEL82": 0.09},
                            "source": "Social- og Boligstyrelsen (2024), Figur 4"},
    "flow_sel85_2020_2022_national": {"value": {"none_or_lower": 0.26, "higher": 0.05},
                                      "source": "Social- og Boligstyrelsen (2024), text beside Figur 12"},
    "flow_sel85_2020_2022_case": {"value": {"none_or_lower": 0.30, "higher": 0.04},
                                  "source": "Social- og Boligstyrelsen (2024), text beside Figur 11"},
    "botilbud_share_of_persons": {"value": 0.35,
                                  "source": "Social- og Boligstyrelsen (2024), text after Figur 4 and 5"},
    "botilbud_share_of_service_spending": {"value": 0.90,
                                           "source": "Social- og Boligstyrelsen (2024), text after Figur 4 and 5 "
                                                     "('knap 90 pct.')"},
    "botilbud_share_by_group": {"value": {"kognitivt_handicap": 0.40, "sindslidelse": 0.25},
                                "source": "Social- og Boligstyrelsen (2024), «Kontakter på tværs af "
                                          "velfærdsområder»"},
    "childhood_services_by_group": {"value": {"kognitivt_handicap": 0.25, "sindslidelse": 0.15},
                                    "source": "Social- og Boligstyrelsen (2024), «Kontakter på tværs af "
                                              "velfærdsområder»"},
    "employment_weeks": {"value": {"kognitivt_handicap": 3, "sindslidelse": 3},
                         "source": "Social- og Boligstyrelsen (2024), Figur 13 and 14"},
    "employment_measure_hours": {"value": {"kognitivt_handicap": 54, "sindslidelse": 48},
                                 "source": "Social- og Boligstyrelsen (2024), Figur 13 and 14"},
    "disability_pension_weeks": {"value": {"kognitivt_handicap": 33, "sindslidelse": 26},
                                 "source": "Social- og Boligstyrelsen (2024), Figur 13 and 14"},
    "psych_inpatient_days": {"value": {"kognitivt_handicap": 2, "sindslidelse": 7},
                             "source": "Social- og Boligstyrelsen (2024), Figur 13 and 14 and the text before them"},
    "per_10000_inhabitants": {"value": {"SEL82": {"case": 25, "national": 18}, "SEL108": {"case": 11, "national": 14}},
                              "source": "Social- og Boligstyrelsen (2024), text beside Figur 10 (orientation only: "
                                        "the report's denominator is unclear)"},
    "adult_spending_mean_2008": {"value": 7776,
                                 "source": "Finansministeriet (2009), Tabel 2.8 and Figur 2.2 (2009 prices)"},
    "child_spending_mean_2008": {"value": 9105,
                                 "source": "Finansministeriet (2009), Tabel 2.4 and Figur 2.1 (2009 prices)"},
    "adult_r2": {"value": 0.40, "source": "Finansministeriet (2009), section 2.2 ('ca. 40 pct.')"},
    "child_r2": {"value": 0.48, "source": "Finansministeriet (2009), section 2.1 ('knap halvdelen')"},
    "adult_spread_p95_p5": {"value": 2.0, "source": "Ekspertudvalget på socialområdet (2024), Tabel 1.1, "
                                                   "recommendation 6 (factor 2); the counts of Finansministeriet "
                                                   "(2009), section 2.2, imply about 1.6"},
}


def overlapping(spells: pd.DataFrame, year: int) -> pd.DataFrame:
    """Spells that overlap calendar year ``year`` (open spells count as ongoing)."""
    lo, hi = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
    return spells[(spells["start_date"] <= hi) & (spells["end_date"].isna() | (spells["end_date"] >= lo))]


def target_group(spells: pd.DataFrame, persons: pd.DataFrame, year: int) -> pd.DataFrame:
    """Persons with any of the five target-group services in ``year``, with their service flags."""
    s = overlapping(spells, year)
    s = s[s["paragraph"].isin(TARGET_GROUP_PARAGRAPHS)]
    flags = pd.DataFrame({g: s["paragraph"].isin(ps) for g, ps in SERVICE_GROUPS.items()})
    flags["person_id"] = s["person_id"].to_numpy()
    out = flags.groupby("person_id").any()
    return out.join(persons.set_index("person_id")[["target_group", "childhood_services"]])


def highest_level(spells: pd.DataFrame, levels: dict[str, float], year: int) -> pd.Series:
    """Highest staircase level held in ``year`` per person (the staircase rule 'highest')."""
    s = overlapping(spells, year)
    lev = s["paragraph"].map(levels)
    return lev[lev.notna()].groupby(s.loc[lev.notna(), "person_id"]).max()


def sel85_flow(spells: pd.DataFrame, persons: pd.DataFrame, levels: dict[str, float], *,
               from_year: int = 2020, to_year: int = 2022, municipalities=None) -> dict:
    """Cohort on §85 in ``from_year`` (highest step): share on no or a lower step and on a higher step in ``to_year``.

    Persons who died or emigrated before the end of ``to_year`` are left out. ``municipalities``
    restricts the cohort to those whose last §85 spell in ``from_year`` was acted by one of them.
    """
    level85 = levels["SEL85"]
    first = highest_level(spells, levels, from_year)
    cohort = first.index[first == level85]
    end = pd.Timestamp(to_year, 12, 31)
    gone = persons.set_index("person_id")[["death_date", "emigration_date"]].min(axis=1) <= end
    cohort = cohort[~gone.reindex(cohort).fillna(False).to_numpy()]
    if municipalities is not None:
        s85 = overlapping(spells, from_year)
        s85 = s85[s85["paragraph"] == "SEL85"].sort_values("start_date").groupby("person_id")["municipality"].last()
        cohort = cohort[s85.reindex(cohort).isin(municipalities).to_numpy()]
    later = highest_level(spells, levels, to_year).reindex(cohort).fillna(-np.inf)
    return {"n": int(len(cohort)), "none_or_lower": float((later < level85).mean()),
            "same": float((later == level85).mean()), "higher": float((later > level85).mean()),
            "definition": f"highest step in {from_year} is SEL85; status = highest step in {to_year}; "
                          f"deaths and emigrations before {to_year}-12-31 excluded"}


def spending_figures(accounts: pd.DataFrame, years: pd.DataFrame, functions, denominator: str, criteria,
                     thresholds: tuple[float, float]) -> dict:
    """Per year: population-weighted mean, 95th/5th percentile ratio, OLS and WLS R^2, threshold counts."""
    out = {}
    acc = accounts[accounts["function"].isin(functions)].groupby(["municipality", "year"])["net_operating_dkk"].sum()
    for year, g in years.groupby("year"):
        g = g.set_index("municipality")
        y = acc.xs(year, level="year").reindex(g.index) / g[denominator]
        x = np.column_stack([np.ones(len(g)), g[list(criteria)].to_numpy()])
        w = g[denominator].to_numpy(dtype=float)
        out[int(year)] = {
            "weighted_mean": float(np.average(y, weights=w)),
            "p95_p5": float(y.quantile(0.95) / y.quantile(0.05)),
            "r2_ols": _r2(y.to_numpy(), x, np.ones(len(y))), "r2_wls": _r2(y.to_numpy(), x, w),
            "n_below": int((y < thresholds[0]).sum()), "n_above": int((y > thresholds[1]).sum()),
            "thresholds": list(thresholds),
        }
    return out


def _r2(y, x, w) -> float:
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(x * sw[:, None], y * sw, rcond=None)
    resid = y - x @ coef
    ybar = np.average(y, weights=w)
    return float(1 - np.sum(w * resid**2) / np.sum(w * (y - ybar) ** 2))


def realised(tables: dict[str, pd.DataFrame], staircase, spending_truth: dict, year: int = 2022) -> dict:
    """Realised calibration figures of the generated tables (see :data:`TARGETS`).

    ``year`` is moved into the window when the window does not contain it; the 2020 -> 2022 flows are
    only computed when both years are in the window.
    """
    window = tables["municipality_years"]["year"]
    year = int(min(max(year, window.min()), window.max()))
    spells, persons = tables["spells"], tables["persons"]
    levels = staircase.paragraph_levels()
    tg = target_group(spells, persons, year)
    groups = tg["target_group"]
    cognitive = groups.isin(["kognitivt_handicap", "begge"])
    mental = groups.isin(["sindslidelse", "begge"])
    botilbud = tg[list(BOTILBUD)].any(axis=1)
    py = tables["person_years"]
    py = py[(py["year"] == year) & py["person_id"].isin(tg.index)].join(groups, on="person_id")
    costs = tables["person_year_costs"]
    costs = costs[(costs["year"] == year) & costs["service"].isin(TARGET_GROUP_PARAGRAPHS)]
    by_service = costs.assign(service=costs["service"].replace({p: "SEL82" for p in SERVICE_GROUPS["SEL82"]})) \
        .groupby("service")["cost_dkk"].sum()
    by_group_mean = lambda col: {g: float(v) for g, v in py.groupby("target_group")[col].mean().items()}  # noqa: E731
    muni = tables["municipalities"]
    case_codes = muni.loc[muni["case_municipality"], "municipality"].tolist()
    out = {
        "year": year,
        "target_group": int(len(tg)), "cognitive": int(cognitive.sum()), "mental": int(mental.sum()),
        "overlap": int((groups == "begge").sum()),
        "service_shares": {g: float(tg[g].mean()) for g in SERVICE_GROUPS},
        "botilbud_share_of_persons": float(botilbud.mean()),
        "botilbud_share_by_group": {g: float(v) for g, v in botilbud.groupby(groups).mean().items()},
        "sel85_share_by_group": {g: float(v) for g, v in tg["SEL85"].groupby(groups).mean().items()},
        "childhood_services_by_group": {g: float(v)
                                        for g, v in tg["childhood_services"].groupby(groups).mean().items()},
        "service_spending_shares": {s: float(v / by_service.sum()) for s, v in by_service.items()},
        "botilbud_share_of_service_spending": float(by_service.reindex(list(BOTILBUD)).sum() / by_service.sum()),
        "per_10000_inhabitants": _per_10000(spells, tables["municipality_years"], case_codes, year),
        "employment_weeks": by_group_mean("employment_weeks"),
        "employment_measure_hours": by_group_mean("employment_measure_hours"),
        "disability_pension_weeks": by_group_mean("disability_pension_weeks"),
        "psych_inpatient_days": by_group_mean("psych_inpatient_days"),
        "definitions": {
            "target_group": f"persons with a recorded SEL82a-d/SEL85/ABL105/SEL107/SEL108 spell overlapping {year}",
            "service_shares": "share of the target group with a recorded spell of the service in the year",
            "person_year_means": f"means over the target group's person-years of {year}",
        },
    }
    if "SEL85" in levels and {2020, 2022} <= set(tables["municipality_years"]["year"]):
        out["flow_sel85_2020_2022_national"] = sel85_flow(spells, persons, levels)
        out["flow_sel85_2020_2022_case"] = sel85_flow(spells, persons, levels, municipalities=case_codes)
    for area, thresholds in (("adults", (7000, 9000)), ("children", (7000, 10000))):
        t = spending_truth[area]
        out[f"spending_{area}"] = spending_figures(tables["municipal_accounts"], tables["municipality_years"],
                                                   list(t["functions"]), t["denominator"], t["criteria"], thresholds)
    return out


def _per_10000(spells: pd.DataFrame, years: pd.DataFrame, case_codes, year: int) -> dict:
    """Recipients of §82 and §108 per 10,000 inhabitants, case municipalities and nationally.

    As in Social- og Boligstyrelsen (2024), text beside Figur 10. The numerator is persons with a recorded
    spell in the year acted by the municipalities; the denominator all inhabitants. The report's own
    definition is not stated, so this is for orientation.
    """
    s = overlapping(spells, year)
    pop = years[years["year"] == year].set_index("municipality")["pop_total"]
    out = {}
    for name, pars in (("SEL82", SERVICE_GROUPS["SEL82"]), ("SEL108", ("SEL108",))):
        held = s[s["paragraph"].isin(pars)]
        case = held[held["municipality"].isin(case_codes)]["person_id"].nunique()
        out[name] = {"case": 1e4 * case / pop.loc[list(case_codes)].sum(),
                     "national": 1e4 * held["person_id"].nunique() / pop.sum()}
    return out


def to_jsonable(obj):
    """Numpy scalars to Python, floats to 12 significant digits, NaN/inf to None, keys to str."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return None if not math.isfinite(x) else float(f"{x:.12g}")
    return obj


def dumps(truth: dict) -> str:
    """``truth.json`` text: sorted keys, two-space indent, stable float formatting."""
    return json.dumps(to_jsonable(truth), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
