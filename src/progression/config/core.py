"""Sections shared by the whole chain: run, data, staircase, disclosure."""

from __future__ import annotations

import codecs
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from ._base import Section, not_before


class RunParams(Section):
    """How a run is named, seeded and where it is written."""

    name: str = Field("default", pattern=r"^[A-Za-z0-9_.-]+$", description="label of the run, part of the run id")
    seed: int = Field(20240101, ge=0, description="master seed: every random draw derives from it")
    output_dir: Path = Field(Path("runs"), description="folder that holds run folders")
    notebooks: list[str] | None = Field(None, description="notebooks to run (default: the whole chain)")
    n_jobs: int = Field(1, ge=1, le=64, description="parallel workers for resampling and simulation")
    max_parallel: int = Field(1, ge=1, le=16, description="notebooks run side by side when their inputs are ready")
    backend: Literal["loky", "threading", "dask"] | None = Field(
        None, description="where resampling and simulation run: joblib's default (null), local processes (loky), "
        "threads, or a Dask cluster (dask)")
    scheduler: str | None = Field(None, description="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                                  "(backend dask; default: a local in-process cluster)")


class SyntheticParams(Section):
    """The synthetic Denmark generator (see progression.sources.synthetic)."""

    scale: float = Field(1.0, gt=0, le=20, description="1.0 = national size (~72,000 adults in 2022)")
    start_year: int = Field(2010, ge=2000, le=2030)
    end_year: int = Field(2024, ge=2000, le=2030, validate_default=True)
    adult_explained_share: float = Field(0.40, gt=0, lt=1, description="R2 of adult spending on criteria "
                                         "(Finansministeriet 2009, Det specialiserede socialområde – redskaber til "
                                         "styring og prioritering, section 2.2)")
    child_explained_share: float = Field(0.48, gt=0, lt=1, description="R2 of children's spending on criteria "
                                         "(Finansministeriet 2009, section 2.1)")
    adult_mean_dkk: float = Field(7776.0, gt=0, description="adult spending per 18-66-year-old in 2008 "
                                  "(Finansministeriet 2009, Tabel 2.8 and Figur 2.2)")
    child_mean_dkk: float = Field(9105.0, gt=0, description="children's spending per 0-22-year-old in 2008 "
                                  "(Finansministeriet 2009, Tabel 2.4 and Figur 2.1)")
    adult_spread_ratio: float = Field(2.0, gt=1, le=5, description="95th/5th percentile of adult spending per capita")
    child_spread_ratio: float = Field(2.4, gt=1, le=5, description="95th/5th percentile of children's spending per capita")
    spending_price_year: int = Field(2009, ge=1990, le=2100, description="price year of the accounts "
                                     "(Finansministeriet 2009, the tables of section 2)")
    spending_real_growth: float = Field(0.01, ge=-0.1, le=0.1, description="real growth per year of spending per capita")
    cost_price_year: int = Field(2024, ge=1990, le=2100, description="price year of unit costs and person-year costs")
    case_recovery_start_year: int = Field(2019, ge=2000, le=2030, description="recovery start in the four case municipalities")
    n_later_adopters: int = Field(16, ge=0, le=94, description="other municipalities adopting after the case municipalities")
    recovery_down_log_hr: float = Field(0.1, ge=-3, le=3, description="log hazard ratio of step-downs after recovery start")
    recovery_up_log_hr: float = Field(-0.2, ge=-3, le=3, description="log hazard ratio of step-ups after recovery start")
    sel82_unrecorded_share: float = Field(0.3, ge=0, lt=1, description="share of §82 spells missing from the register")
    same_day_change_share: float = Field(0.25, ge=0, le=1, description="paragraph changes recorded as end and start on one day")
    overlap_share: float = Field(0.05, ge=0, le=1, description="paragraph changes where the old spell is closed late")
    burn_in_years: int = Field(10, ge=0, le=40, description="years simulated before start_year (not written)")

    _years_ordered = not_before("end_year", "start_year")


def _known_encoding(name: str | None) -> str | None:
    if name is not None:
        try:
            codecs.lookup(name)
        except LookupError:
            raise ValueError(f"unknown encoding {name!r}; use e.g. utf-8, latin-1 or cp1252") from None
    return name


def _file_entry(value):
    return {"file": value} if isinstance(value, str) else value


#: A text encoding Python knows (``utf-8``, ``latin-1``, ``cp1252``, ...).
Encoding = Annotated[str, AfterValidator(_known_encoding)]
Separator = Annotated[str, Field(min_length=1, max_length=1)]
Decimal = Literal[".", ","]
Thousands = Literal[".", ",", " ", "'", "_"]


class TableFile(Section):
    """One table's file and, where it differs from the source's settings, how to read it."""

    file: str = Field(..., min_length=1, description="file name (.csv, .parquet, .xlsx), relative to the directory")
    encoding: Encoding | None = Field(None, description="text encoding of a CSV file (default: the source's)")
    csv_separator: Separator | None = Field(None, description="field separator (default: the source's)")
    csv_decimal: Decimal | None = Field(None, description="decimal mark (default: the source's)")
    csv_thousands: Thousands | None = Field(None, description="thousands separator (default: the source's)")
    sheet: str | int | None = Field(None, description="Excel sheet: its name or 0-based position (default: the first)")


class FileParams(Section):
    """A user's own extract: one file per table, with a column-name mapping and how the files are written."""

    directory: Path = Field(..., description="folder with the extract files (relative to the parameter file)")
    tables: dict[str, Annotated[TableFile, BeforeValidator(_file_entry)]] = Field(
        ..., description="table name -> file name, or {file: ..., encoding: ..., csv_separator: ..., sheet: ...}")
    columns: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="table name -> {column in file: column in the contract}"
    )
    csv_separator: Separator = Field(",", description="field separator of the CSV files")
    csv_decimal: Decimal = Field(".", description="decimal mark of the CSV files: '.' or ','")
    csv_thousands: Thousands | None = Field(None, description="thousands separator of the CSV files (none by default)")
    encoding: Encoding = Field("utf-8", description="text encoding of the CSV files: utf-8 (a byte-order mark is "
                                                    "fine), latin-1, cp1252, ...")

    @model_validator(mode="after")
    def _marks_distinct(self):
        for name in ["", *self.tables]:
            f = self.table(name) if name else self
            where = f"tables.{name}." if name else ""
            if f.csv_decimal == f.csv_separator:
                raise ValueError(f"{where}csv_decimal and csv_separator are both {f.csv_decimal!r}")
            if f.csv_thousands is not None and f.csv_thousands in (f.csv_decimal, f.csv_separator):
                raise ValueError(f"{where}csv_thousands ({f.csv_thousands!r}) is also the decimal mark or the "
                                 "separator")
        for table, mapping in self.columns.items():
            targets = list(mapping.values())
            twice = sorted({t for t in targets if targets.count(t) > 1})
            if twice:
                raise ValueError(f"columns.{table}: several file columns are mapped onto {twice}")
        return self

    def table(self, name: str) -> TableFile:
        """The file of table ``name`` with every reading setting filled in from the source's."""
        entry = self.tables[name]
        return entry.model_copy(update={
            key: getattr(self, key) if getattr(entry, key) is None else getattr(entry, key)
            for key in ("encoding", "csv_separator", "csv_decimal", "csv_thousands")
        })


class RuleParams(Section):
    """Rules register data must follow beyond each table's contract (see progression.schemas)."""

    first_date: date = Field(date(1930, 1, 1), description="no event (a start, an assessment, a move, a death, "
                                                            "an emigration) before this day: earlier dates are "
                                                            "placeholders")
    extract_end: date | None = Field(
        None, validate_default=True,
        description="the extract's last day: no event after it (null: 31 December of data.synthetic.end_year for "
                    "synthetic data, the day of the run for files)")
    min_age_at_start: int = Field(
        17, ge=0, le=120,
        description="youngest age (start year - birth year) at the start of a service spell; adult services start "
                    "at 18, and with only the birth year known a spell starting at the turn of the year before the "
                    "18th birthday reads as 17")
    overlapping_spells: Literal["reject", "merge"] = Field(
        "reject", description="two spells of one person and paragraph that overlap by more than late_closure_days: "
                              "an error (reject) or one spell from the first start to the last end (merge)")
    late_closure_days: int = Field(
        90, ge=0, le=3650, description="an overlap of at most this many days between spells of one person and "
                                       "paragraph is an old spell closed late, kept as it is")

    _window_ordered = not_before("extract_end", "first_date")


class DataParams(Section):
    """Where the input tables come from, and the rules they must follow."""

    source: Literal["synthetic", "files"] = "synthetic"
    synthetic: SyntheticParams = SyntheticParams()
    files: FileParams | None = None
    rules: RuleParams = RuleParams()

    @model_validator(mode="after")
    def _files_given(self):
        if self.source == "files" and self.files is None:
            raise ValueError("source is 'files' but no 'files' section is given")
        return self


class Step(Section):
    """One step of the staircase."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_]+$")
    level: float = Field(..., ge=0, description="order on the staircase (higher = more intensive); sub-levels allowed")
    paragraphs: list[str] = Field(default_factory=list, description="service paragraphs that put a person on this step")
    label_en: str = ""
    label_da: str = ""


def _default_steps() -> list[Step]:
    return [
        Step(name="none", level=0, paragraphs=[], label_en="no service", label_da="ingen indsats"),
        Step(name="SEL82", level=1, paragraphs=["SEL82a", "SEL82b", "SEL82c", "SEL82d"],
             label_en="preventive support (§82)", label_da="forebyggende støtte (§82)"),
        Step(name="SEL85", level=2, paragraphs=["SEL85"], label_en="home support (§85)",
             label_da="socialpædagogisk støtte (§85)"),
        Step(name="SEL107", level=3, paragraphs=["SEL107"], label_en="temporary residential care (§107)",
             label_da="midlertidigt botilbud (§107)"),
        Step(name="ABL105", level=4, paragraphs=["ABL105"], label_en="residential-like housing (§105/§85)",
             label_da="botilbudslignende tilbud (§105/§85)"),
        Step(name="SEL108", level=5, paragraphs=["SEL108"], label_en="long-term residential care (§108)",
             label_da="længerevarende botilbud (§108)"),
    ]


class StaircaseParams(Section):
    """The indsatstrappe: ordered steps, the paragraphs on each, and the rule for a period's step."""

    steps: list[Step] = Field(default_factory=_default_steps)
    rule: Literal["highest", "end", "longest"] = Field("highest", description="step of a period when several are held")

    @model_validator(mode="after")
    def _consistent(self):
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique; got {names}")
        levels = [s.level for s in self.steps]
        if len(set(levels)) != len(levels):
            raise ValueError(f"step levels must be unique; got {levels}")
        seen: dict[str, str] = {}
        for s in self.steps:
            for p in s.paragraphs:
                if p in seen:
                    raise ValueError(f"paragraph {p} is on two steps: {seen[p]} and {s.name}")
                seen[p] = s.name
        if not any(not s.paragraphs for s in self.steps):
            raise ValueError("one step must have no paragraphs (the 'no service' step)")
        return self

    def ordered(self) -> list[Step]:
        """Steps from the least to the most intensive."""
        return sorted(self.steps, key=lambda s: s.level)

    def paragraph_levels(self) -> dict[str, float]:
        """Paragraph -> level of its step."""
        return {p: s.level for s in self.steps for p in s.paragraphs}


class DominanceParams(Section):
    """The (n, k) dominance rule for magnitudes (sums and means of money over persons)."""

    n: int = Field(2, ge=1, le=10, description="number of largest contributions")
    k: float = Field(0.85, gt=0, lt=1, description="largest share of the cell total they may make up")


class DisclosureParams(Section):
    """Statistical disclosure control of everything that leaves a run."""

    min_cell_size: int = Field(5, ge=3, description="smallest number of persons a cell may describe (DST: 3)")
    secondary_suppression: bool = Field(True, description="suppress a second cell where a margin would reveal one")
    dominance: DominanceParams | None = Field(
        default_factory=DominanceParams,
        description="the (n, k) dominance rule on magnitudes (Statistics Denmark: n = 2, k = 0.85); null = off")


class ReportParams(Section):
    """The report: its language."""

    language: Literal["en", "da"] = Field("en", description="language of the report, captions and figure labels")
