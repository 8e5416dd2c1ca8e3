"""Data contracts: a pandera model for every table that enters a run.

Each model checks columns, types, ranges, allowed codes (DST kommunekoder, SEL paragraphs),
uniqueness and cross-column rules. :func:`validate_tables` validates a set of tables lazily,
adds the cross-table rules (every spell's person exists, …) and the register rules
(:class:`RegisterRules`: events inside the data window, spells after birth and before death, at an
adult's age, no overlapping spells of one paragraph), and raises one
:class:`~progression.exceptions.DataContractError` whose first line names the most telling failure
and which lists every failing table, column, check and example rows. Nothing is dropped, and no
value is changed: tables read from files may be cast to the contract's types where no value changes
(:func:`conform`), and overlapping spells are merged only when asked to.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Optional

import numpy as np
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


def _has_kind(series: pd.Series, kind: str) -> bool:
    dtype = series.dtype
    if kind == "number":
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if kind == "datetime":
        return pd.api.types.is_datetime64_any_dtype(dtype)
    return True  # "any": the column only has to be there


def _needs(**kinds: str) -> Callable:
    """Run a check across columns only when each column is present with the right kind of values.

    A missing or mistyped column is reported once, by its own check; a cross-column check must not
    add a leaked ``TypeError`` or ``KeyError`` to the report (and it must not come first).
    """
    def decorate(check: Callable) -> Callable:
        @functools.wraps(check)
        def guarded(cls, df: pd.DataFrame):
            if all(col in df.columns and _has_kind(df[col], kind) for col, kind in kinds.items()):
                return check(cls, df)
            return pd.Series(True, index=df.index)
        return guarded
    return decorate


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
    @_needs(pop_0_17="number", pop_18_66="number", pop_67plus="number", pop_total="number")
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
    @_needs(death_date="datetime", birth_year="number")
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
    @_needs(start_date="datetime", end_date="datetime")
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
    @_needs(from_municipality="number", to_municipality="number")
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
    @_needs(score="number", instrument="any")
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
    @_needs(cap_dkk="number", price_dkk="number")
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

#: Columns that date an event; every one must lie inside the data window (see :class:`RegisterRules`).
EVENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "persons": ("death_date", "emigration_date"),
    "spells": ("start_date",),
    "moves": ("move_date",),
    "assessments": ("assessment_date",),
    "participations": ("start_date",),
}


@dataclass(frozen=True)
class RegisterRules:
    """Rules register data must follow beyond each table's contract.

    Parameters
    ----------
    first_date : date, default 1930-01-01
        No event (:data:`EVENT_COLUMNS`) before this day: earlier dates are placeholders.
    last_date : date, optional
        The extract's last day: no event after it (default: today).
    min_age_at_start : int, default 17
        Youngest age (start year - birth year) at the start of a service spell.
    overlapping_spells : {"reject", "merge"}, default "reject"
        Spells of one person and paragraph that overlap by more than ``late_closure_days``: an
        error, or merged into one spell from the first start to the last end.
    late_closure_days : int, default 90
        An overlap of at most this many days is an old spell closed late, kept as it is.
    """

    first_date: date = date(1930, 1, 1)
    last_date: date | None = None
    min_age_at_start: int = 17
    overlapping_spells: str = "reject"
    late_closure_days: int = 90


_FAILURE_COLUMNS = ["table", "column", "check", "n_failures", "examples"]

# Failures are listed by kind, the most telling first: a table or column that is not there, then
# values of the wrong type, then values that break a column's own check, then rows that break a
# rule across columns, then rules across tables.
_STRUCTURE, _TYPE, _VALUE, _ROW, _CROSS_TABLE = range(5)

_STRUCTURAL_CHECKS = {
    "column_in_dataframe": "column missing",
    "column_in_schema": "unexpected column (not in the contract)",
}


@dataclass
class _Failure:
    priority: int
    table: str
    column: str
    check: str
    n_failures: int
    examples: str


class _Rows:
    """How rows are named in messages: ``line 7`` of a CSV file, ``row 7`` of a sheet or a frame."""

    def __init__(self, df: pd.DataFrame):
        self.label = df.attrs.get("row_label", "row")
        self.source = df.attrs.get("source")

    def name(self, index: Any) -> str:
        try:
            return f"{self.label} {int(index)}"
        except (TypeError, ValueError):
            return f"{self.label} {index}"

    def examples(self, values: pd.Series, limit: int = 5, show: Callable[[Any], str] = str) -> str:
        text = ", ".join(f"{self.name(i)}: {show(v)}" for i, v in values.head(limit).items())
        return f"{self.source} {text}" if self.source else text

    def only(self, index: pd.Index, limit: int = 5) -> str:
        text = ", ".join(self.name(i) for i in index[:limit])
        return f"{self.source} {text}" if self.source else text


def _short_check(check: str) -> str:
    """Shorten ``isin([...98 codes...])`` to ``isin(98 allowed values)``."""
    match = re.fullmatch(r"isin\((\[.*\])\)", check)
    if match and len(check) > 60:
        return f"isin({match.group(1).count(',') + 1} allowed values)"
    return check


# ----------------------------------------------------------------------------------------------
# Lossless casts: a file's columns to the contract's types

@cache
def column_kinds(table: str) -> dict[str, str]:
    """Contract column -> ``int``, ``Int`` (nullable integer), ``float``, ``bool``, ``datetime`` or ``str``."""
    kinds = {}
    for name, column in SCHEMAS[table].to_schema().columns.items():
        dtype = str(column.dtype)
        kinds[name] = ("int" if dtype == "int64" else "Int" if dtype == "Int64"
                       else "float" if dtype.startswith("float") else "bool" if dtype == "bool"
                       else "datetime" if dtype.startswith("datetime") else "str")
    return kinds


_MAX_EXACT_FLOAT = 2**53  # integers beyond this do not survive a cast to float64
_TRUE_FALSE = {"true": True, "false": False, "1": True, "0": False}
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d[\d.]*,\d+\s*$")


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _numbers(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers parsed from text, and the non-missing values that are not numbers."""
    parsed = pd.to_numeric(s.where(s.notna()).astype("object"), errors="coerce")
    return parsed, s[s.notna() & parsed.isna()]


def _number_check(bad: pd.Series) -> str:
    if bad.astype(str).str.match(_DECIMAL_COMMA).any():
        return "number (a decimal comma? declare it: data.files.csv_decimal: ',')"
    return "number"


def _to_integer(s: pd.Series, nullable: bool) -> tuple[pd.Series, list[tuple[str, pd.Series]]]:
    failures = []
    if pd.api.types.is_integer_dtype(s.dtype):
        missing = s.isna()
        if missing.any() and not nullable:
            return s, [("not_nullable", s[missing])]
        return s.astype("Int64" if nullable else "int64"), []
    if pd.api.types.is_float_dtype(s.dtype):
        values = s.to_numpy(dtype=float)
        missing = np.isnan(values)
        with np.errstate(invalid="ignore"):
            whole = np.isfinite(values) & (np.floor(values) == values) & (np.abs(values) < 2**63)
        lossy = ~missing & ~whole
        if lossy.any():
            failures.append(("whole number (a cast to integer would change the value)", s[lossy]))
        if missing.any() and not nullable:
            failures.append(("not_nullable", s[missing]))
        if failures:
            return s, failures
        return (s.astype("Int64") if nullable else s.astype("int64")), []
    if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        parsed, bad = _numbers(s)
        if len(bad):
            return s, [(_number_check(bad), bad)]
        return _to_integer(parsed.astype("float64") if parsed.dtype == object else parsed, nullable)
    return s, []  # booleans, dates: the contract's dtype check names them


def _to_float(s: pd.Series) -> tuple[pd.Series, list[tuple[str, pd.Series]]]:
    if pd.api.types.is_bool_dtype(s.dtype):
        return s, []
    if pd.api.types.is_integer_dtype(s.dtype):
        big = s.abs() > _MAX_EXACT_FLOAT
        if big.any():
            return s, [("whole number exactly representable as a decimal number (|x| <= 2^53)", s[big])]
        return s.astype("float64"), []
    if pd.api.types.is_float_dtype(s.dtype):
        return s.astype("float64"), []
    if pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
        parsed, bad = _numbers(s)
        if len(bad):
            return s, [(_number_check(bad), bad)]
        return _to_float(parsed.astype("float64") if parsed.dtype == object else parsed)
    return s, []


def _as_text(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


def _to_text(s: pd.Series) -> tuple[pd.Series, list[tuple[str, pd.Series]]]:
    if pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return s, []
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        return s, []
    return s.map(_as_text, na_action="ignore").astype("str"), []


def _to_bool(s: pd.Series) -> tuple[pd.Series, list[tuple[str, pd.Series]]]:
    if pd.api.types.is_bool_dtype(s.dtype) and not s.isna().any():
        return s.astype(bool), []
    missing = s.isna()
    if pd.api.types.is_numeric_dtype(s.dtype):
        known = s.isin([0, 1])
        mapped = s == 1
    else:
        keys = s.where(missing, s.astype("object").map(lambda v: str(v).strip().lower(), na_action="ignore"))
        known = keys.isin(list(_TRUE_FALSE))
        mapped = keys.map(_TRUE_FALSE)
    failures = []
    unknown = ~missing & ~known
    if unknown.any():
        failures.append(("true or false (or 1 / 0)", s[unknown]))
    if missing.any():
        failures.append(("not_nullable", s[missing]))
    if failures:
        return s, failures
    return mapped.astype(bool), []


def _to_datetime(s: pd.Series) -> tuple[pd.Series, list[tuple[str, pd.Series]]]:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s, []
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:  # text, as a CSV file gives it
        parsed = pd.to_datetime(s, format="ISO8601", errors="coerce")
    elif s.dtype == object:  # a sheet's column: date cells, text cells, or both
        is_text = s.map(lambda v: isinstance(v, str), na_action="ignore").fillna(False).astype(bool)
        parsed = pd.to_datetime(s.where(is_text).astype("object"), format="ISO8601", errors="coerce")
        stamps = s.where(~is_text & s.notna())
        if stamps.notna().any():
            converted = pd.to_datetime(stamps, errors="coerce")
            parsed = parsed.where(parsed.notna(), converted)
    else:  # numbers (a sheet's date serials) are not dates
        parsed = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    bad = s.notna() & parsed.isna()
    if bad.any():
        return s, [("ISO 8601 date (YYYY-MM-DD)", s[bad])]
    return parsed.astype("datetime64[us]"), []  # one unit, also for a column without any date


_CASTS = {"int": lambda s: _to_integer(s, False), "Int": lambda s: _to_integer(s, True), "float": _to_float,
          "str": _to_text, "bool": _to_bool, "datetime": _to_datetime}


def conform(table: str, df: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, str, pd.Series]]]:
    """Cast a table's columns to the contract's types where no value changes.

    Whole numbers go into a decimal column, whole numbers (``1.0``) into an integer column, numbers
    into a text column (``5`` -> ``"5"``; leading zeros only survive when the file is read as text),
    ``True``/``False``/``1``/``0`` into a yes/no column and ISO 8601 text into a date column.
    Anything else stays as it is and is returned as a failure.

    Returns
    -------
    DataFrame
        The table with every castable column cast.
    list of (column, check, failing values)
        The columns that could not be cast without changing a value, with the failing values.
    """
    out, failures = df.copy(deep=False), []
    for column, kind in column_kinds(table).items():
        if column not in out.columns or out.columns.tolist().count(column) > 1:
            continue
        cast, bad = _CASTS[kind](out[column])
        if bad:
            failures.extend((column, check, values) for check, values in bad)
        else:
            out[column] = cast
    return out, failures


# ----------------------------------------------------------------------------------------------
# The contracts, one table at a time

def _pandera_failures(table: str, err: pa.errors.SchemaErrors, rows: _Rows) -> list[_Failure]:
    fc = err.failure_cases.copy()
    row_level = fc["schema_context"].eq("DataFrameSchema") & fc["index"].notna()
    fc["column"] = fc["column"].where(~row_level, "(row)").fillna("(table)").astype(str)
    fc["check"] = fc["check"].astype(str).map(_short_check)
    structural = fc["check"].isin(list(_STRUCTURAL_CHECKS))
    fc.loc[structural, "column"] = fc.loc[structural, "failure_case"].astype(str)
    fc.loc[structural, "check"] = fc.loc[structural, "check"].map(_STRUCTURAL_CHECKS)
    present = ", ".join(map(str, err.data.columns)) if err.data is not None else ""
    out = []
    for (column, check), group in fc.groupby(["column", "check"], sort=False):
        if check in _STRUCTURAL_CHECKS.values():
            priority = _STRUCTURE
        elif check.startswith("dtype("):
            priority = _TYPE
        elif column in ("(row)", "(table)") or group["schema_context"].eq("DataFrameSchema").all():
            priority = _ROW
        else:
            priority = _VALUE
        if column == "(row)":
            group = group.drop_duplicates("index")
            examples = rows.only(pd.Index(group["index"]))
        else:
            with_index = group[group["index"].notna()]
            examples = rows.examples(pd.Series(with_index["failure_case"].to_numpy(), index=with_index["index"]))
            if with_index.empty:
                examples = ", ".join(str(c) for c in group["failure_case"].head(5))
        if check == _STRUCTURAL_CHECKS["column_in_dataframe"]:
            examples = f"columns present: {present}"
        out.append(_Failure(priority, table, column, check, len(group), examples))
    return out


def _validate_one(table: str, df: pd.DataFrame, cast: bool) -> tuple[pd.DataFrame, list[_Failure], set[str]]:
    """One table against its contract: the (cast) table, its failures, and the columns of the wrong type."""
    rows = _Rows(df)
    if len(df) == 0:
        where = f" in {rows.source}" if rows.source else ""
        return df, [_Failure(_STRUCTURE, table, "(table)", "not empty", 0, f"the table has no rows{where}")], set(df)
    failures, mistyped = [], set()
    if cast:
        df, bad = conform(table, df)
        for column, check, values in bad:
            failures.append(_Failure(_TYPE, table, column, check, len(values), rows.examples(values, show=_show)))
            mistyped.add(column)
    try:
        SCHEMAS[table].validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        for failure in _pandera_failures(table, err, rows):
            if failure.column in mistyped:
                continue  # the cast already named this column's values
            if failure.priority == _TYPE:
                mistyped.add(failure.column)
            failures.append(failure)
    return df, failures, mistyped


# ----------------------------------------------------------------------------------------------
# Rules across tables

def _foreign_key_failures(tables: Mapping[str, pd.DataFrame], mistyped: Mapping[str, set]) -> list[_Failure]:
    out = []
    for fk in FOREIGN_KEYS:
        if fk.table not in tables or fk.ref_table not in tables:
            continue
        child, parent = tables[fk.table], tables[fk.ref_table]
        if (fk.column not in child or fk.ref_column not in parent or fk.column in mistyped[fk.table]
                or fk.ref_column in mistyped[fk.ref_table] or parent.empty):
            continue  # already reported: a missing or mistyped column, an empty table
        missing = ~child[fk.column].isin(parent[fk.ref_column])
        if missing.any():
            rows = _Rows(child)
            check = f"exists in {fk.ref_table}.{fk.ref_column}"
            out.append(_Failure(_CROSS_TABLE, fk.table, fk.column, check, int(missing.sum()),
                                rows.examples(child.loc[missing, fk.column])))
    return out


def _usable(tables: Mapping[str, pd.DataFrame], mistyped: Mapping[str, set], table: str, *columns: str) -> bool:
    df = tables.get(table)
    return (df is not None and len(df) > 0 and all(c in df.columns for c in columns)
            and not set(columns) & mistyped[table])


def _day(value: Any) -> str:
    return "open" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _window_failures(tables, mistyped, rules: RegisterRules) -> list[_Failure]:
    first = pd.Timestamp(rules.first_date)
    last = pd.Timestamp(rules.last_date or date.today())
    out = []
    for table, columns in EVENT_COLUMNS.items():
        for column in columns:
            if not _usable(tables, mistyped, table, column):
                continue
            values = tables[table][column]
            rows = _Rows(tables[table])
            early, late = values < first, values > last
            if early.any():
                check = f"not before {first:%Y-%m-%d} (data.rules.first_date)"
                out.append(_Failure(_CROSS_TABLE, table, column, check, int(early.sum()),
                                    rows.examples(values[early], show=_day)))
            if late.any():
                check = f"not after the extract's end {last:%Y-%m-%d} (data.rules.extract_end)"
                out.append(_Failure(_CROSS_TABLE, table, column, check, int(late.sum()),
                                    rows.examples(values[late], show=_day)))
    return out


def _person_failures(tables, mistyped, rules: RegisterRules) -> list[_Failure]:
    """Spells against their person: not before birth, not after death, at an adult's age."""
    if not (_usable(tables, mistyped, "spells", "person_id", "start_date")
            and _usable(tables, mistyped, "persons", "person_id", "birth_year", "death_date")):
        return []
    spells, persons = tables["spells"], tables["persons"].drop_duplicates("person_id")
    pos = pd.Index(persons["person_id"]).get_indexer(spells["person_id"])
    known = pos >= 0
    take = np.where(known, pos, 0)
    birth = np.where(known, persons["birth_year"].to_numpy()[take], 0)
    death = pd.Series(persons["death_date"].to_numpy()[take], index=spells.index).where(known)
    start = spells["start_date"]
    year = start.dt.year.to_numpy()
    rows = _Rows(spells)

    def shown(mask: np.ndarray, describe: Callable[[int], str]) -> str:
        first = np.flatnonzero(mask)[:5]
        return rows.examples(pd.Series([describe(k) for k in first], index=spells.index[first]))

    out = []
    before_birth = known & (year < birth)
    if before_birth.any():
        out.append(_Failure(_CROSS_TABLE, "spells", "start_date", "not before the person's birth (persons.birth_year)",
                            int(before_birth.sum()),
                            shown(before_birth, lambda k: f"{_day(start.iat[k])} (born {birth[k]})")))
    after_death = (start > death).to_numpy()
    if after_death.any():
        out.append(_Failure(_CROSS_TABLE, "spells", "start_date", "not after the person's death (persons.death_date)",
                            int(after_death.sum()),
                            shown(after_death, lambda k: f"{_day(start.iat[k])} (died {_day(death.iat[k])})")))
    young = known & ~before_birth & (year - birth < rules.min_age_at_start)
    if young.any():
        check = (f"age at start (start year - birth year) at least {rules.min_age_at_start} "
                 "(data.rules.min_age_at_start)")
        out.append(_Failure(_CROSS_TABLE, "spells", "start_date", check, int(young.sum()), shown(
            young, lambda k: f"{_day(start.iat[k])} (born {birth[k]}: age {year[k] - birth[k]})")))
    return out


def _overlaps(spells: pd.DataFrame, late_closure_days: int) -> tuple[np.ndarray, pd.DataFrame]:
    """Spells sorted by person, paragraph and start, and which of them overlap an earlier one too long.

    Returns the sort order (positions into ``spells``) and a frame, in that order, with ``overlap``
    (overlaps an earlier spell of the same person and paragraph by more than the tolerance),
    ``other`` (the sorted position of the earlier spell that runs longest), ``open`` (that spell has
    no end), ``days`` (the overlap), ``group`` (person and paragraph) and ``end`` (microseconds; open
    ends as the largest integer).
    """
    person = spells["person_id"].to_numpy()
    paragraph = pd.factorize(spells["paragraph"])[0]
    start = spells["start_date"].to_numpy().astype("datetime64[us]").view("int64")
    end_dt = spells["end_date"].to_numpy().astype("datetime64[us]")
    end = np.where(np.isnat(end_dt), np.iinfo(np.int64).max, end_dt.view("int64"))
    order = np.lexsort((start, paragraph, person))
    person, paragraph, start, end = person[order], paragraph[order], start[order], end[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (person[1:] != person[:-1]) | (paragraph[1:] != paragraph[:-1])
    group = np.cumsum(new_group)
    ends = pd.Series(end)
    running = ends.groupby(group).cummax().to_numpy()
    owner = pd.Series(np.where(end == running, np.arange(len(end)), np.nan)).groupby(group).ffill().to_numpy()
    prev_end = np.empty_like(running)
    prev_end[0] = np.iinfo(np.int64).min
    prev_end[1:] = running[:-1]
    prev_owner = np.empty_like(owner)
    prev_owner[0] = np.nan
    prev_owner[1:] = owner[:-1]
    prev_end[new_group] = np.iinfo(np.int64).min
    day = 86_400 * 10**6  # microseconds
    tolerance = np.int64(late_closure_days) * day
    open_before = prev_end == np.iinfo(np.int64).max
    known = start != np.datetime64("NaT").astype("datetime64[us]").view("int64")  # a missing start is reported
    with np.errstate(over="ignore"):
        overlap = ~new_group & known & (open_before | (prev_end - start > tolerance))
    days = np.where(open_before | ~overlap, -1, (prev_end - start) // day)
    frame = pd.DataFrame({"overlap": overlap, "other": prev_owner, "open": open_before, "days": days,
                          "group": group, "end": end})
    return order, frame


def _overlap_failures(tables, mistyped, rules: RegisterRules) -> list[_Failure]:
    if rules.overlapping_spells != "reject" or not _usable(
            tables, mistyped, "spells", "person_id", "paragraph", "start_date", "end_date"):
        return []
    spells = tables["spells"]
    order, frame = _overlaps(spells, rules.late_closure_days)
    hits = np.flatnonzero(frame["overlap"].to_numpy())
    if not len(hits):
        return []
    rows = _Rows(spells)
    index = spells.index.to_numpy()
    shown = {}
    for k in hits[:5]:
        me, other = index[order[k]], index[order[int(frame["other"].iat[k])]]
        start = _day(spells["start_date"].iat[order[k]])
        span = "(still open)" if frame["open"].iat[k] else f"by {frame['days'].iat[k]} days"
        shown[me] = f"from {start}, overlapping {rows.name(other)} {span}"
    check = (f"no overlap with a spell of the same person and paragraph beyond {rules.late_closure_days} days "
             "(data.rules.overlapping_spells: merge joins them)")
    return [_Failure(_CROSS_TABLE, "spells", "start_date", check, len(hits), rows.examples(pd.Series(shown)))]


def merge_overlapping_spells(spells: pd.DataFrame, late_closure_days: int = 90) -> tuple[pd.DataFrame, int]:
    """Join spells of one person and paragraph that overlap by more than ``late_closure_days``.

    A joined spell keeps the first spell's row (id, municipality) and runs from the first start to
    the last end (open if any is open). Shorter overlaps are late closures and stay as they are.

    Returns
    -------
    DataFrame
        The spells, in their original order.
    int
        How many spells were joined into others.
    """
    if spells.empty:
        return spells, 0
    order, frame = _overlaps(spells, late_closure_days)
    overlap = frame["overlap"].to_numpy()
    if not overlap.any():
        return spells, 0
    block = np.cumsum(~overlap)
    last_end = pd.Series(frame["end"].to_numpy()).groupby(block).max().to_numpy()
    keep = order[~overlap]
    merged = spells.iloc[keep].copy()
    end = last_end.astype("int64")
    ends = np.where(end == np.iinfo(np.int64).max, np.datetime64("NaT"), end.astype("datetime64[us]"))
    merged["end_date"] = pd.Series(ends, index=merged.index).astype(spells["end_date"].dtype)
    positions = np.argsort(keep, kind="stable")
    return merged.iloc[positions], int(overlap.sum())


# ----------------------------------------------------------------------------------------------
# The report

def _as_frame(failures: list[_Failure]) -> pd.DataFrame:
    ordered = sorted(failures, key=lambda f: f.priority)  # stable: tables keep their order within a kind
    return pd.DataFrame([(f.table, f.column, f.check, f.n_failures, f.examples) for f in ordered],
                        columns=_FAILURE_COLUMNS)


def _line(r) -> str:
    if r.check == "not empty":
        return f"table '{r.table}', column '{r.column}', check 'not empty': {r.examples}"
    return f"table '{r.table}', column '{r.column}', check '{r.check}': {r.n_failures} failing ({r.examples})"


def format_failures(failures: pd.DataFrame) -> str:
    """Render a failure table as the text of a :class:`DataContractError`.

    The first line is the first failure (the most telling kind first: missing tables and columns,
    wrong types, values, rows, rules across tables); every failure follows, one per line.
    """
    rows = list(failures.itertuples(index=False))
    lines = [_line(rows[0])]
    if len(rows) > 1:
        lines.append(f"{len(rows)} data-contract checks failed in all:")
        lines.extend(f"  - {_line(r)}" for r in rows)
    return "\n".join(lines)


def validate_tables(tables: Mapping[str, pd.DataFrame], rules: RegisterRules | None = None, *,
                    cast: bool = False) -> dict[str, pd.DataFrame]:
    """Validate every table against its contract, the cross-table rules and the register rules.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Tables by contract name (keys of :data:`SCHEMAS`). A table read from a file may carry
        ``attrs["source"]`` (the file name) and ``attrs["row_label"]`` (``"line"``) for the messages.
    rules : RegisterRules, optional
        The register rules (default: :class:`RegisterRules` with its defaults).
    cast : bool, default False
        Cast columns to the contract's types where no value changes first (see :func:`conform`); a
        value that would change is an error naming it. Without it nothing is cast.

    Returns
    -------
    dict of str to DataFrame
        The validated tables: unchanged, but for the casts (``cast=True``) and for spells joined
        under ``rules.overlapping_spells == "merge"``.

    Raises
    ------
    DataContractError
        Its first line names the most telling failure (table, column, check, example rows); every
        failing table, column, check and example rows follow. ``.failures`` holds them as a DataFrame.
    """
    rules = rules or RegisterRules()
    unknown = sorted(set(tables) - set(SCHEMAS))
    if unknown:
        raise DataContractError(f"unknown table(s) {unknown}; known tables: {sorted(SCHEMAS)}")
    out, failures, mistyped = {}, [], {}
    for name, df in tables.items():
        out[name], found, mistyped[name] = _validate_one(name, df, cast)
        failures.extend(found)
    failures.extend(_foreign_key_failures(out, mistyped))
    failures.extend(_window_failures(out, mistyped, rules))
    failures.extend(_person_failures(out, mistyped, rules))
    failures.extend(_overlap_failures(out, mistyped, rules))
    if failures:
        frame = _as_frame(failures)
        error = DataContractError(format_failures(frame))
        error.failures = frame
        raise error
    if rules.overlapping_spells == "merge" and "spells" in out:
        out["spells"], joined = merge_overlapping_spells(out["spells"], rules.late_closure_days)
        if joined:
            warnings.warn(f"spells: {joined} spell(s) overlapping an earlier spell of the same person and paragraph "
                          f"by more than {rules.late_closure_days} days were joined to it "
                          "(data.rules.overlapping_spells: merge)", stacklevel=2)
    return out
