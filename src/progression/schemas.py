"""Data contracts: a pandera model for every table that enters a run.

Each model checks columns, types, ranges, allowed codes (DST kommunekoder, SEL paragraphs),
uniqueness and cross-column rules. :func:`validate_tables` validates a set of tables lazily,
adds the cross-table rules (every spell's person exists, …) and raises one
:class:`~progression.exceptions.DataContractError` that lists every failing table, column,
check and example rows. Nothing is coerced or dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Optional

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from .constants import PAYERS, SEXES, TARGET_GROUPS  # noqa: F401  (re-exported: the contracts' codes)
from .exceptions import DataContractError

#: Service paragraphs met in the data (Serviceloven and Almenboligloven), with English labels.
PARAGRAPHS: dict[str, str] = {
    "SEL82a": "preventive group-based support (§82a)",
    "SEL82b": "time-limited individual support (§82b)",
    "SEL82c": "preventive support (§82c)",
    "SEL82d": "preventive support (§82d)",
    "SEL85": "socio-pedagogical support in own home (§85)",
    "ABL105": "residential-like housing with §85 support (ABL §105 + SEL §85)",
    "SEL107": "temporary residential care (§107)",
    "SEL108": "long-term residential care (§108)",
    "SEL84": "respite (§84)",
    "SEL95": "cash allowance for care (§95)",
    "SEL96": "personal assistance, BPA (§96)",
    "SEL97": "companion scheme (§97)",
    "SEL99": "support and contact person (§99)",
    "SEL103": "sheltered employment (§103)",
    "SEL104": "activity and social services (§104)",
    "SEL110": "shelter (§110)",
}
COST_UNITS = ("year", "month", "week", "day", "hour", "contact", "case", "participant")

#: Columns that identify a person; a results table may never carry one.
PERSON_ID_COLUMNS = frozenset({"person_id", "cpr", "pnr", "cpr_nr", "personnummer", "subject"})


@cache
def municipalities_reference() -> pd.DataFrame:
    """The 98 municipalities: DST kommunekode, name, region and 2022 population (approximate)."""
    with resources.files("progression.data").joinpath("municipalities.csv").open("rb") as fh:
        return pd.read_csv(fh)


def municipality_codes() -> list[int]:
    """The 98 DST kommunekoder (411 Christiansø is not a municipality)."""
    return municipalities_reference()["municipality"].tolist()


def _kommunekode(**kwargs):
    return pa.Field(isin=municipality_codes(), **kwargs)


class Municipalities(pa.DataFrameModel):
    """One row per municipality."""

    municipality: Series[int] = _kommunekode(unique=True, description="DST kommunekode")
    name: Series[str] = pa.Field(str_length={"min_value": 1})
    region: Series[str] = pa.Field(
        isin=["Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland"]
    )
    case_municipality: Series[bool] = pa.Field(
        description="one of the four 'Borgeren ved roret' municipalities"
    )
    recovery_start_year: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=2000, le=2100, description="year the municipality moved to recovery-oriented rehabilitation"
    )

    class Config:
        strict = True
        name = "municipalities"


class MunicipalityYears(pa.DataFrameModel):
    """Population and socioeconomic criteria per municipality and year (criteria are shares in [0, 1])."""

    municipality: Series[int] = _kommunekode()
    year: Series[int] = pa.Field(ge=1990, le=2100)
    pop_total: Series[int] = pa.Field(ge=0)
    pop_0_17: Series[int] = pa.Field(ge=0)
    pop_18_66: Series[int] = pa.Field(ge=0)
    pop_67plus: Series[int] = pa.Field(ge=0)
    pop_0_22: Series[int] = pa.Field(ge=0)
    share_no_employment_20_59: Optional[Series[float]] = pa.Field(ge=0, le=1)
    share_no_vocational_25_49: Optional[Series[float]] = pa.Field(ge=0, le=1)
    share_cheap_rentals: Optional[Series[float]] = pa.Field(ge=0, le=1)
    share_psychiatric_patients: Optional[Series[float]] = pa.Field(ge=0, le=1)
    share_social_family_housing: Optional[Series[float]] = pa.Field(ge=0, le=1)
    share_children_low_education: Optional[Series[float]] = pa.Field(ge=0, le=1)
    share_single_65plus: Optional[Series[float]] = pa.Field(ge=0, le=1)
    share_low_income: Optional[Series[float]] = pa.Field(ge=0, le=1)
    share_developmental_disability: Optional[Series[float]] = pa.Field(ge=0, le=1)
    share_handicap_diagnoses: Optional[Series[float]] = pa.Field(ge=0, le=1)
    share_non_western_immigrants: Optional[Series[float]] = pa.Field(ge=0, le=1)

    @pa.dataframe_check(name="population bands add up (0-17 + 18-66 + 67+ = total)")
    def _bands_add_up(cls, df: pd.DataFrame) -> Series[bool]:
        return df["pop_0_17"] + df["pop_18_66"] + df["pop_67plus"] == df["pop_total"]

    class Config:
        strict = True
        unique = ["municipality", "year"]
        name = "municipality_years"


class MunicipalAccounts(pa.DataFrameModel):
    """Net operating expenditure (dranst 1) per municipality, year and account function (REGK31)."""

    municipality: Series[int] = _kommunekode()
    year: Series[int] = pa.Field(ge=1990, le=2100)
    function: Series[str] = pa.Field(str_matches=r"^\d{5}$", description="function code without dots: 5.38.50 -> 53850")
    net_operating_dkk: Series[float] = pa.Field(description="may be negative (net of income)")
    price_year: Series[int] = pa.Field(ge=1990, le=2100)

    class Config:
        strict = True
        unique = ["municipality", "year", "function"]
        name = "municipal_accounts"


class Persons(pa.DataFrameModel):
    """Persons in the target group."""

    person_id: Series[int] = pa.Field(unique=True, gt=0)
    birth_year: Series[int] = pa.Field(ge=1900, le=2030)
    sex: Series[str] = pa.Field(isin=list(SEXES))
    target_group: Series[str] = pa.Field(isin=list(TARGET_GROUPS))
    severity: Series[int] = pa.Field(ge=1, le=3, description="1 mild, 2 moderate, 3 severe")
    municipality: Series[int] = _kommunekode(description="residence municipality at entry")
    childhood_services: Series[bool] = pa.Field(description="received services in the children's area")
    death_date: Series[pa.DateTime] = pa.Field(nullable=True)
    emigration_date: Series[pa.DateTime] = pa.Field(nullable=True)

    @pa.dataframe_check(name="death_date not before birth_year")
    def _death_after_birth(cls, df: pd.DataFrame) -> Series[bool]:
        return df["death_date"].isna() | (df["death_date"].dt.year >= df["birth_year"])

    class Config:
        strict = True
        name = "persons"


class _Period(pa.DataFrameModel):
    """A period from ``start_date`` to ``end_date`` (missing = still open)."""

    start_date: Series[pa.DateTime]
    end_date: Series[pa.DateTime] = pa.Field(nullable=True)

    @pa.dataframe_check(name="end_date on or after start_date")
    def _end_after_start(cls, df: pd.DataFrame) -> Series[bool]:
        return df["end_date"].isna() | (df["end_date"] >= df["start_date"])


class Spells(_Period):
    """Service spells: one row per person, paragraph and period (end_date missing = open)."""

    spell_id: Series[int] = pa.Field(unique=True)
    person_id: Series[int] = pa.Field(gt=0)
    paragraph: Series[str] = pa.Field(isin=list(PARAGRAPHS))
    municipality: Series[int] = _kommunekode(description="acting municipality (handlekommune)")

    class Config:
        strict = True
        name = "spells"


class Moves(pa.DataFrameModel):
    """Moves between municipalities (a censoring event for step transitions)."""

    person_id: Series[int] = pa.Field(gt=0)
    move_date: Series[pa.DateTime]
    from_municipality: Series[int] = _kommunekode()
    to_municipality: Series[int] = _kommunekode()

    @pa.dataframe_check(name="from_municipality differs from to_municipality")
    def _real_move(cls, df: pd.DataFrame) -> Series[bool]:
        return df["from_municipality"] != df["to_municipality"]

    class Config:
        strict = True
        unique = ["person_id", "move_date"]
        name = "moves"


#: Valid item scores per built-in instrument; 9 is VUM's "not relevant" (missing, never a level).
INSTRUMENT_ITEM_RANGES: dict[str, tuple[float, float, tuple[float, ...]]] = {
    "VUM": (0, 4, (9,)),
    "WHO5": (0, 5, ()),
    "INSPIRE_O": (0, 4, ()),
    "QPR15": (0, 4, ()),
    "RECOVERY_STAR": (1, 10, ()),
    "GAS": (-2, 2, ()),
}


class Assessments(pa.DataFrameModel):
    """Instrument item scores, long format: one row per person, date, instrument and item."""

    person_id: Series[int] = pa.Field(gt=0)
    assessment_date: Series[pa.DateTime]
    instrument: Series[str] = pa.Field(isin=list(INSTRUMENT_ITEM_RANGES))
    item: Series[str] = pa.Field(str_length={"min_value": 1})
    score: Series[float] = pa.Field(nullable=True)

    @pa.dataframe_check(name="score within the instrument's item range (or a missing code)")
    def _score_in_range(cls, df: pd.DataFrame) -> Series[bool]:
        ok = df["score"].isna()
        for instrument, (low, high, missing_codes) in INSTRUMENT_ITEM_RANGES.items():
            rows = df["instrument"] == instrument
            valid = df["score"].between(low, high) | df["score"].isin(missing_codes)
            ok = ok | (rows & valid)
        return ok

    class Config:
        strict = True
        unique = ["person_id", "assessment_date", "instrument", "item"]
        name = "assessments"


class PersonYears(pa.DataFrameModel):
    """Outcomes per person and calendar year."""

    person_id: Series[int] = pa.Field(gt=0)
    year: Series[int] = pa.Field(ge=1990, le=2100)
    municipality: Series[int] = _kommunekode()
    employment_weeks: Series[float] = pa.Field(ge=0, le=53)
    education_weeks: Series[float] = pa.Field(ge=0, le=53)
    disability_pension_weeks: Series[float] = pa.Field(ge=0, le=53)
    employment_measure_hours: Series[float] = pa.Field(ge=0)
    psych_inpatient_days: Series[float] = pa.Field(ge=0, le=366)
    somatic_inpatient_days: Series[float] = pa.Field(ge=0, le=366)
    outpatient_contacts: Series[float] = pa.Field(ge=0)
    justice_contact: Series[bool]

    class Config:
        strict = True
        unique = ["person_id", "year"]
        name = "person_years"


class PersonYearCosts(pa.DataFrameModel):
    """Public costs per person, year, service and payer (DKK in the stated price year)."""

    person_id: Series[int] = pa.Field(gt=0)
    year: Series[int] = pa.Field(ge=1990, le=2100)
    service: Series[str] = pa.Field(str_length={"min_value": 1})
    payer: Series[str] = pa.Field(isin=list(PAYERS))
    cost_dkk: Series[float] = pa.Field(ge=0)
    price_year: Series[int] = pa.Field(ge=1990, le=2100)

    class Config:
        strict = True
        unique = ["person_id", "year", "service", "payer"]
        name = "person_year_costs"


class UnitCosts(pa.DataFrameModel):
    """Unit costs by item (service or outcome) and payer, with price year and source."""

    item: Series[str] = pa.Field(str_length={"min_value": 1})
    payer: Series[str] = pa.Field(isin=list(PAYERS))
    unit: Series[str] = pa.Field(isin=list(COST_UNITS))
    cost_dkk: Series[float] = pa.Field(ge=0)
    price_year: Series[int] = pa.Field(ge=1990, le=2100)
    source: Series[str]

    class Config:
        strict = True
        unique = ["item", "payer"]
        name = "unit_costs"


class Interventions(pa.DataFrameModel):
    """Preventive interventions offered in some municipalities from some year."""

    intervention: Series[str] = pa.Field(unique=True, str_matches=r"^[a-z0-9_]+$")
    name: Series[str]
    target_group: Series[str] = pa.Field(isin=[*TARGET_GROUPS, "alle"])
    cost_per_participant_dkk: Series[float] = pa.Field(ge=0)
    price_year: Series[int] = pa.Field(ge=1990, le=2100)
    description: Series[str]

    class Config:
        strict = True
        name = "interventions"


class Participations(_Period):
    """Who took part in which intervention, where and when."""

    person_id: Series[int] = pa.Field(gt=0)
    intervention: Series[str]
    municipality: Series[int] = _kommunekode()

    class Config:
        strict = True
        unique = ["person_id", "intervention", "start_date"]
        name = "participations"


class RateCard(pa.DataFrameModel):
    """A result-payment fund's rate card: price per verified outcome."""

    intervention: Series[str]
    outcome: Series[str]
    price_dkk: Series[float] = pa.Field(gt=0)
    cap_dkk: Series[float] = pa.Field(nullable=True, gt=0, description="cap per participant; missing = no cap")
    counterfactual_rate: Series[float] = pa.Field(ge=0, le=1, description="share reaching the outcome anyway")
    window_months: Series[int] = pa.Field(gt=0, le=120)
    price_year: Series[int] = pa.Field(ge=1990, le=2100)
    gain_payer: Series[str] = pa.Field(isin=list(PAYERS))

    @pa.dataframe_check(name="cap_dkk not below price_dkk")
    def _cap_covers_price(cls, df: pd.DataFrame) -> Series[bool]:
        return df["cap_dkk"].isna() | (df["cap_dkk"] >= df["price_dkk"])

    class Config:
        strict = True
        unique = ["intervention", "outcome"]
        name = "rate_card"


#: Every table of the contract, by name.
SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "municipalities": Municipalities,
    "municipality_years": MunicipalityYears,
    "municipal_accounts": MunicipalAccounts,
    "persons": Persons,
    "spells": Spells,
    "moves": Moves,
    "assessments": Assessments,
    "person_years": PersonYears,
    "person_year_costs": PersonYearCosts,
    "unit_costs": UnitCosts,
    "interventions": Interventions,
    "participations": Participations,
    "rate_card": RateCard,
}

#: Date columns per table (file sources parse these).
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "persons": ("death_date", "emigration_date"),
    "spells": ("start_date", "end_date"),
    "moves": ("move_date",),
    "assessments": ("assessment_date",),
    "participations": ("start_date", "end_date"),
}


@dataclass(frozen=True)
class ForeignKey:
    """``table.column`` values must exist in ``ref_table.ref_column``."""

    table: str
    column: str
    ref_table: str
    ref_column: str


FOREIGN_KEYS: tuple[ForeignKey, ...] = (
    ForeignKey("spells", "person_id", "persons", "person_id"),
    ForeignKey("moves", "person_id", "persons", "person_id"),
    ForeignKey("assessments", "person_id", "persons", "person_id"),
    ForeignKey("person_years", "person_id", "persons", "person_id"),
    ForeignKey("person_year_costs", "person_id", "persons", "person_id"),
    ForeignKey("participations", "person_id", "persons", "person_id"),
    ForeignKey("participations", "intervention", "interventions", "intervention"),
    ForeignKey("rate_card", "intervention", "interventions", "intervention"),
    ForeignKey("municipality_years", "municipality", "municipalities", "municipality"),
    ForeignKey("municipal_accounts", "municipality", "municipalities", "municipality"),
)

_FAILURE_COLUMNS = ["table", "column", "check", "n_failures", "examples"]


_STRUCTURAL_CHECKS = {
    "column_in_dataframe": "column missing",
    "column_in_schema": "unexpected column (not in the contract)",
}


def _short_check(check: str) -> str:
    """Shorten ``isin([...98 codes...])`` to ``isin(98 allowed values)``."""
    match = re.fullmatch(r"isin\((\[.*\])\)", check)
    if match and len(check) > 60:
        return f"isin({match.group(1).count(',') + 1} allowed values)"
    return check


def _summarise_schema_errors(table: str, err: pa.errors.SchemaErrors) -> pd.DataFrame:
    fc = err.failure_cases.copy()
    row_level = fc["schema_context"].eq("DataFrameSchema") & fc["index"].notna()
    fc["column"] = fc["column"].where(~row_level, "(row)").fillna("(table)").astype(str)
    fc["check"] = fc["check"].astype(str).map(_short_check)
    structural = fc["check"].isin(list(_STRUCTURAL_CHECKS))
    fc.loc[structural, "column"] = fc.loc[structural, "failure_case"].astype(str)
    fc.loc[structural, "check"] = fc.loc[structural, "check"].map(_STRUCTURAL_CHECKS)
    present = ", ".join(map(str, err.data.columns)) if err.data is not None else ""
    rows = []
    for (column, check), group in fc.groupby(["column", "check"], sort=False):
        if column == "(row)":
            group = group.drop_duplicates("index")
            examples = ", ".join(f"row {int(i)}" for i in group["index"].head(5))
        else:
            examples = ", ".join(
                f"row {int(i)}: {c}" if pd.notna(i) else str(c)
                for i, c in zip(group["index"].head(5), group["failure_case"].head(5))
            )
        if check == _STRUCTURAL_CHECKS["column_in_dataframe"]:
            examples = f"columns present: {present}"
        rows.append((table, column, check, len(group), examples))
    return pd.DataFrame(rows, columns=_FAILURE_COLUMNS)


def _foreign_key_failures(tables: Mapping[str, pd.DataFrame]) -> list[tuple]:
    rows = []
    for fk in FOREIGN_KEYS:
        if fk.table not in tables or fk.ref_table not in tables:
            continue
        child, parent = tables[fk.table], tables[fk.ref_table]
        if fk.column not in child or fk.ref_column not in parent:
            continue
        missing = ~child[fk.column].isin(parent[fk.ref_column])
        if missing.any():
            bad = child.loc[missing, fk.column]
            examples = ", ".join(f"row {i}: {v}" for i, v in bad.head(5).items())
            check = f"exists in {fk.ref_table}.{fk.ref_column}"
            rows.append((fk.table, fk.column, check, int(missing.sum()), examples))
    return rows


def format_failures(failures: pd.DataFrame) -> str:
    """Render a failure table as the text of a :class:`DataContractError`."""
    lines = [f"{len(failures)} data-contract check(s) failed:"]
    for r in failures.itertuples(index=False):
        lines.append(f"  - table '{r.table}', column '{r.column}', check '{r.check}': "
                     f"{r.n_failures} failing ({r.examples})")
    return "\n".join(lines)


def validate_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Validate every table against its contract and the cross-table rules, all at once.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Tables by contract name (keys of :data:`SCHEMAS`).

    Returns
    -------
    dict of str to DataFrame
        The validated tables (unchanged: nothing is coerced or dropped).

    Raises
    ------
    DataContractError
        Listing every failing table, column, check and example rows; ``.failures`` holds the
        same as a DataFrame.
    """
    unknown = sorted(set(tables) - set(SCHEMAS))
    if unknown:
        raise DataContractError(f"unknown table(s) {unknown}; known tables: {sorted(SCHEMAS)}")
    frames = []
    for name, df in tables.items():
        try:
            SCHEMAS[name].validate(df, lazy=True)
        except pa.errors.SchemaErrors as err:
            frames.append(_summarise_schema_errors(name, err))
    fk_rows = _foreign_key_failures(tables)
    if fk_rows:
        frames.append(pd.DataFrame(fk_rows, columns=_FAILURE_COLUMNS))
    if frames:
        failures = pd.concat(frames, ignore_index=True)
        error = DataContractError(format_failures(failures))
        error.failures = failures
        raise error
    return dict(tables)
