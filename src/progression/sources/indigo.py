"""Reader of the INDIGO impact-bond export (Government Outcomes Lab, University of Oxford).

INDIGO holds real outcome-payment contracts (social and development impact bonds, outcomes
funds): projects with their countries and policy sectors, outcome metrics, prices per outcome and
results. It is the empirical backdrop for a Danish result-payment fund's rate card: what do
outcomes funds pay per outcome, and how often are targets reached?

The export is a folder of CSV files, one per part of the data standard, with headers such as
``Project ID`` and ``Price Per Unit - Amount - (Value)`` (file names may carry a prefix, e.g.
``original_projects_outcome_pricings.csv``). :func:`read_indigo` reads the parts this package
uses into tidy frames (:class:`IndigoData`); :func:`metric_table`, :func:`reference_prices` and
:func:`achievement_rates` summarise them. Fields are free text in places ("303 children and their
families"); numbers are parsed where the text is a number and kept as text otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .._paths import CHECKOUT
from ..exceptions import DataContractError, ParameterError

__all__ = ["IndigoData", "read_indigo", "metric_table", "reference_prices", "achievement_rates",
           "classify_outcome", "OUTCOME_CATEGORIES", "candidate_folders", "resolve_folder"]

#: The checkout the package runs from (the folder holding ``src/progression``), for paths relative to it.

# Raw header → tidy column, per part of the export.
_PROJECT_COLUMNS = {
    "ID": "project_id",
    "Impact Bond Name - (Value)": "name",
    "Stage of Development - (Value)": "stage",
    "Purpose and classifications - Policy sector - (Value)": "policy_sector",
    "Jurisdiction - Jurisdiction - (Value)": "jurisdiction",
    "Dates - Date outcomes contract signed - (Value)": "contract_signed",
    "Dates - Start date of service provision - (Value)": "service_start",
    "Dates - Anticipated end date of service provision - (Value)": "service_end_planned",
    "Overall project finance - Maximum potential outcome payment - Currency - (Value)": "max_outcome_payment_currency",
    "Overall project finance - Maximum potential outcome payment - Amount - (Value)": "max_outcome_payment",
    "Overall project finance - Maximum potential outcome payment - Amount USD - (Value)": "max_outcome_payment_usd",
    "Overall project finance - Total outcome payments made - Currency - (Value)": "outcome_payments_currency",
    "Overall project finance - Total outcome payments made - Amount - (Value)": "outcome_payments",
    "Overall project finance - Total outcome payments made - Amount USD - (Value)": "outcome_payments_usd",
    "Service and beneficiaries - Targeted number of unique service users or beneficiaries (total) - (Value)":
        "targeted_participants",
    "Service and beneficiaries - Actual number of unique service users or beneficiaries engaged (total) - (Value)":
        "engaged_participants",
    "Countries": "countries_listed",          # only in some versions of the projects file
}
_METRIC_COLUMNS = {
    "Project ID": "project_id",
    "Id": "metric_id",
    "Outcome Definition - (Value)": "definition",
    "Target Population - (Value)": "target_population",
    "Targeted number of service users Or beneficiaries (total) - (Value)": "targeted_number",
    "Unit type of targeted Service users or beneficiaries - (Value)": "unit_type",
    "Outcome validation Method - (Value)": "validation_method",
    "Policy sector - (Value)": "policy_sector",
}
_PRICE_COLUMNS = {
    "Project ID": "project_id",
    "Outcome Metric Id - (Value)": "metric_id",
    "Currency - (Value)": "currency",
    "Price Per Unit - Amount - (Value)": "price_per_unit",
    "Price Per Unit - Amount USD - (Value)": "price_per_unit_usd",
    "Maximum Price if all targets achieved - Amount - (Value)": "max_price",
    "Price Description - (Value)": "price_description",
}
_RESULT_COLUMNS = {
    "Project ID": "project_id",
    "Outcome Metric Id - (Value)": "metric_id",
    "Result level - (Value)": "level",
    "Result type - (Value)": "result_type",
    "Period - Start - (Value)": "period_start",
    "Period - End - (Value)": "period_end",
    "Outcomes achieved - (Value)": "outcomes_achieved",
    "Number engaged In impact bond - (Value)": "engaged",
    "Number with Positive social outcomes - (Value)": "positive_outcomes",
}
_LOCATION_COLUMNS = {"Project ID": "project_id", "Location - Country - (Value)": "country"}

# part name → (file name without prefix, column map, columns that must be present, required?)
_PARTS = {
    "projects": ("projects.csv", _PROJECT_COLUMNS, ["ID", "Impact Bond Name - (Value)"], True),
    "outcome_metrics": ("projects_outcome_metrics.csv", _METRIC_COLUMNS,
                        ["Project ID", "Id", "Outcome Definition - (Value)"], True),
    "prices": ("projects_outcome_pricings.csv", _PRICE_COLUMNS,
               ["Project ID", "Outcome Metric Id - (Value)", "Price Per Unit - Amount - (Value)"], False),
    "results": ("projects_results.csv", _RESULT_COLUMNS,
                ["Project ID", "Outcome Metric Id - (Value)", "Outcomes achieved - (Value)"], False),
    "locations": ("projects_delivery_locations.csv", _LOCATION_COLUMNS,
                  ["Project ID", "Location - Country - (Value)"], False),
}
_NUMERIC = {
    "projects": ["max_outcome_payment", "max_outcome_payment_usd", "outcome_payments", "outcome_payments_usd",
                 "targeted_participants", "engaged_participants"],
    "outcome_metrics": ["targeted_number"],
    "prices": ["price_per_unit", "price_per_unit_usd", "max_price"],
    "results": ["positive_outcomes"],
}

#: Outcome categories and the (English and Danish) keywords that put a metric's definition in
#: them; the first match wins. A crude, transparent classification for summaries.
OUTCOME_CATEGORIES: dict[str, str] = {
    "justice": r"offend|custody|prison|crime|convict|police",
    "housing": r"accommodation|tenanc|housing|homeless|hostel|housed|bolig|hjemløs",
    "employment": r"employ|job|work|earn|beskæftig|arbejde",
    "education": r"educat|school|qualification|exam|gcse|literacy|numeracy|learning|uddannelse|skole",
    "family": r"placed in care|in care|out of home|foster|family|families|anbring",
    "wellbeing": r"well-being|wellbeing|wemwbs|self-efficacy|quality of life|trivsel",
    "health": r"health|hospital|admission|diabet|treatment|mental|stress|alcohol|drug|sundhed",
    "engagement": r"engage|assessment|attendance|complet|particip|enrol",
}

_NUMBER = re.compile(r"^\s*[-+]?\d[\d,]*(\.\d+)?\s*$")
_LEADING_INT = re.compile(r"^\s*(\d[\d,]*)\b")


def _to_number(values: pd.Series, *, leading: bool = False) -> pd.Series:
    """Parse numbers written as text ("1,200", "300.0"); non-numbers become NaN.

    With ``leading=True`` a leading whole number is taken ("303 children" → 303).
    """
    text = values.astype("string").str.strip()
    if leading:
        text = text.str.extract(_LEADING_INT, expand=False)
    else:
        text = text.where(text.str.match(_NUMBER, na=False))
    return pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").astype(float)


def _metric_key(metric_id: pd.Series) -> pd.Series:
    """Join key of an outcome metric: its trailing number ("outcomemetrics1" → "1"), else the id."""
    text = metric_id.astype("string").str.strip().str.lower()
    return text.str.extract(r"(\d+)$", expand=False).fillna(text)


def _year(values: pd.Series) -> pd.Series:
    """Year of a date written as "2018", "2017-03" or "2018-10-01"."""
    return pd.to_numeric(values.astype("string").str.extract(r"^\s*(\d{4})", expand=False),
                         errors="coerce").astype("Int64")


@dataclass(frozen=True)
class IndigoData:
    """Tidy frames of an INDIGO export.

    Attributes
    ----------
    projects : DataFrame
        One row per project: ``project_id``, ``name``, ``stage``, ``policy_sector``, ``countries``
        (ISO codes, comma-separated), dates and their ``start_year``, maximum outcome payment
        and outcome payments made (currency, amount, USD), targeted and engaged participants.
    project_countries : DataFrame
        ``project_id``, ``country``: one row per project and country of delivery.
    outcome_metrics : DataFrame
        One row per project and outcome metric: ``metric_id``, ``definition``,
        ``target_population``, ``targeted_number``, ``unit_type``, ``validation_method``,
        ``policy_sector`` (the project's when the metric has none), ``outcome_category``.
    prices : DataFrame
        Price per outcome: ``currency``, ``price_per_unit`` (and in USD), ``max_price``.
    results : DataFrame
        Results per metric: ``level``, ``result_type`` (Interim/Final), period, ``outcomes_achieved``
        (number, NaN when the export has text), ``result_text``, ``engaged``, ``positive_outcomes``.

    Examples
    --------
    On the small fictional export in the format of the real one that the checkout's tests read:

    >>> from pathlib import Path
    >>> import progression
    >>> export = Path(progression.__file__).parents[2] / "tests" / "fixtures" / "indigo"
    >>> data = read_indigo(export)
    >>> data
    IndigoData(4 projects, 8 outcome metrics, 8 prices, 7 results)
    >>> data.danish()
    IndigoData(2 projects, 4 outcome metrics, 4 prices, 4 results)
    """

    projects: pd.DataFrame
    project_countries: pd.DataFrame
    outcome_metrics: pd.DataFrame
    prices: pd.DataFrame
    results: pd.DataFrame

    def __repr__(self) -> str:
        return (f"IndigoData({len(self.projects)} projects, {len(self.outcome_metrics)} outcome metrics, "
                f"{len(self.prices)} prices, {len(self.results)} results)")

    def filter_countries(self, countries) -> "IndigoData":
        """Only projects delivered in ``countries`` (ISO 3166-1 alpha-2 codes, e.g. ``["DK"]``)."""
        wanted = {countries} if isinstance(countries, str) else set(countries)
        ids = set(self.project_countries.loc[self.project_countries["country"].isin(wanted), "project_id"])
        frames = {name: getattr(self, name) for name in
                  ("projects", "project_countries", "outcome_metrics", "prices", "results")}
        return replace(self, **{name: frame[frame["project_id"].isin(ids)].reset_index(drop=True)
                                for name, frame in frames.items()})

    def danish(self) -> "IndigoData":
        """Only projects delivered in Denmark."""
        return self.filter_countries(["DK"])


def candidate_folders(path: str | Path, *, params_file: str | Path | None = None) -> list[Path]:
    """Where a configured INDIGO folder may be: the path itself when absolute, else relative to the
    project's checkout, then to the folder of the parameter file.

    Parameters
    ----------
    path : str or Path
        ``fund.indigo_path``.
    params_file : path, optional
        The parameter file the path was read from.

    Returns
    -------
    list of Path
        Candidates in the order they are tried, without repeats.

    Examples
    --------
    >>> [str(p) for p in candidate_folders("/data/indigo")]
    ['/data/indigo']
    """
    path = Path(path)
    if path.is_absolute():
        return [path]
    bases = [CHECKOUT] + ([Path(params_file).resolve().parent] if params_file is not None else [])
    return list(dict.fromkeys((base / path).resolve() for base in bases))


def resolve_folder(path: str | Path, *, params_file: str | Path | None = None,
                   required: bool = False) -> Path | None:
    """The INDIGO export folder configured as ``path`` (``fund.indigo_path``), or None when absent.

    Parameters
    ----------
    path : str or Path
        Absolute, or relative to the project's checkout or to the parameter file's folder
        (:func:`candidate_folders`, tried in that order).
    params_file : path, optional
        The parameter file the path was read from.
    required : bool, default=False
        Raise instead of returning None when no candidate is a folder.

    Returns
    -------
    Path or None

    Raises
    ------
    FileNotFoundError
        With ``required=True``, naming every place tried.

    Examples
    --------
    >>> resolve_folder("no/such/indigo") is None
    True
    """
    tried = candidate_folders(path, params_file=params_file)
    found = next((folder for folder in tried if folder.is_dir()), None)
    if found is None and required:
        raise FileNotFoundError(f"INDIGO export folder {str(path)!r} not found; tried {[str(t) for t in tried]}: "
                                "download the export (Government Outcomes Lab) or set fund.indigo_path")
    return found


def _find_folder(path: Path) -> Path:
    """The folder holding the outcome-metrics file: ``path`` itself or its one subfolder that does."""
    suffix = _PARTS["outcome_metrics"][0]
    if any(_is_part(f.name, suffix) for f in path.glob("*.csv")):
        return path
    folders = sorted({f.parent for f in path.rglob("*.csv") if _is_part(f.name, suffix)})
    if len(folders) != 1:
        raise DataContractError(
            f"INDIGO export: expected one folder with a '*{suffix}' file under {path}; found {len(folders)}"
            + (f": {[str(f) for f in folders[:5]]}" if folders else "")
        )
    return folders[0]


def _is_part(file_name: str, suffix: str) -> bool:
    return file_name == suffix or file_name.endswith("_" + suffix)


def _read_part(folder: Path, part: str) -> pd.DataFrame:
    suffix, columns, required, must_exist = _PARTS[part]
    files = [f for f in sorted(folder.glob("*.csv")) if _is_part(f.name, suffix)]
    if len(files) > 1:
        raise DataContractError(f"INDIGO export: several files for '{suffix}' in {folder}: {[f.name for f in files]}")
    if not files:
        if must_exist:
            raise DataContractError(f"INDIGO export: no '*{suffix}' file in {folder}")
        return pd.DataFrame({c: pd.Series(dtype="string") for c in columns.values()})
    raw = pd.read_csv(files[0], dtype=str, encoding="utf-8-sig")
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise DataContractError(f"INDIGO export: file {files[0].name} lacks column(s) {missing}; "
                                f"columns present: {list(raw.columns)[:12]}")
    frame = raw[[c for c in columns if c in raw.columns]].rename(columns=columns)
    for col in columns.values():
        if col not in frame:
            frame[col] = pd.Series(pd.NA, index=frame.index, dtype="string")
    for col in _NUMERIC.get(part, []):
        frame[col] = _to_number(frame[col])
    return frame.dropna(subset=["project_id"]).reset_index(drop=True)


def _project_countries(projects: pd.DataFrame, locations: pd.DataFrame) -> pd.DataFrame:
    """Project × country pairs from delivery locations, the jurisdiction and the ``Countries`` list."""
    listed = projects[["project_id", "countries_listed"]].rename(columns={"countries_listed": "country"})
    long = pd.concat([
        locations[["project_id", "country"]],
        projects[["project_id", "jurisdiction"]].rename(columns={"jurisdiction": "country"}),
        listed.assign(country=listed["country"].str.split(",")).explode("country"),
    ], ignore_index=True)
    long["country"] = long["country"].astype("string").str.strip().str.upper()
    long = long[long["country"].str.fullmatch(r"[A-Z]{2}", na=False)]
    return long.drop_duplicates().sort_values(["project_id", "country"], ignore_index=True)


def classify_outcome(definitions: pd.Series) -> pd.Series:
    """Outcome category of each metric definition by keyword (:data:`OUTCOME_CATEGORIES`), else "other".

    Parameters
    ----------
    definitions : Series of str
        Outcome definitions (English or Danish free text).

    Returns
    -------
    Series of str
        Indexed like ``definitions``; the first category whose keywords match.

    Examples
    --------
    >>> import pandas as pd
    >>> classify_outcome(pd.Series(["Sustained tenancy for 12 months", "Reduction in re-offending",
    ...                             "Enters a job", "Something else"])).tolist()
    ['housing', 'justice', 'employment', 'other']
    """
    text = definitions.astype("string").str.lower().fillna("")
    category = pd.Series("other", index=definitions.index, dtype="string")
    for name, pattern in reversed(list(OUTCOME_CATEGORIES.items())):
        category = category.mask(text.str.contains(pattern, regex=True), name)
    return category


def read_indigo(path) -> IndigoData:
    """Read an INDIGO export folder into tidy frames.

    Parameters
    ----------
    path : str or Path
        The folder of the CSV files (``*projects.csv``, ``*projects_outcome_metrics.csv`` and,
        when present, ``*projects_outcome_pricings.csv``, ``*projects_results.csv``,
        ``*projects_delivery_locations.csv``), or a folder with exactly one such folder below it.

    Returns
    -------
    IndigoData

    Raises
    ------
    DataContractError
        When a required file or column is missing (the message lists the columns present).

    Notes
    -----
    Countries of a project are the union of its delivery locations, its jurisdiction and, when
    the projects file has one, its ``Countries`` column. Metrics, prices and results are joined
    on the project and the metric number, because ids are spelt inconsistently
    ("outcomemetric1", "outcomemetrics1").

    Examples
    --------
    On the small fictional export in the format of the real one that the checkout's tests read:

    >>> from pathlib import Path
    >>> import progression
    >>> data = read_indigo(Path(progression.__file__).parents[2] / "tests" / "fixtures" / "indigo")
    >>> data.projects[["project_id", "countries", "start_year"]]
          project_id countries  start_year
    0  TEST-POJ-0001        DK        2021
    1  TEST-POJ-0002        DK        2023
    2  TEST-POJ-0003     GB,IE        2017
    3  TEST-POJ-0004     BE,NL        <NA>
    """
    path = Path(path)
    if not path.is_dir():
        raise ParameterError(f"path: {path} is not a folder (expected the folder of the INDIGO CSV export)")
    folder = _find_folder(path)
    projects = _read_part(folder, "projects")
    countries = _project_countries(projects, _read_part(folder, "locations"))
    projects["countries"] = projects["project_id"].map(countries.groupby("project_id")["country"].agg(",".join))
    projects["start_year"] = _year(projects["service_start"])
    return IndigoData(projects=projects.drop(columns="countries_listed"), project_countries=countries,
                      outcome_metrics=_read_metrics(folder, projects), prices=_read_prices(folder),
                      results=_read_results(folder))


def _read_metrics(folder: Path, projects: pd.DataFrame) -> pd.DataFrame:
    metrics = _read_part(folder, "outcome_metrics")
    sector = metrics["project_id"].map(projects.set_index("project_id")["policy_sector"])
    metrics["policy_sector"] = metrics["policy_sector"].fillna(sector)
    metrics["outcome_category"] = classify_outcome(metrics["definition"])
    return metrics


def _read_results(folder: Path) -> pd.DataFrame:
    results = _read_part(folder, "results")
    achieved = _to_number(results["outcomes_achieved"])
    results["result_text"] = results["outcomes_achieved"].where(achieved.isna())
    results["outcomes_achieved"] = achieved
    results["engaged"] = _to_number(results["engaged"], leading=True)
    return results


def _read_prices(folder: Path) -> pd.DataFrame:
    prices = _read_part(folder, "prices")
    in_usd = prices["currency"].eq("USD") & prices["price_per_unit_usd"].isna()
    prices.loc[in_usd, "price_per_unit_usd"] = prices.loc[in_usd, "price_per_unit"]
    return prices


def _final_results(results: pd.DataFrame) -> pd.DataFrame:
    """One outcome-level result per metric: the final one, else the latest interim one."""
    res = results[results["level"].fillna("Outcome level").eq("Outcome level")].copy()
    res["_final"] = res["result_type"].eq("Final")
    res["_end"] = res["period_end"].fillna("")
    res = res.sort_values(["_final", "_end"]).drop_duplicates(["project_id", "_key"], keep="last")
    return res.drop(columns=["_final", "_end"])


def metric_table(data: IndigoData) -> pd.DataFrame:
    """One row per project and outcome metric with its price, result and achievement.

    Parameters
    ----------
    data : IndigoData

    Returns
    -------
    DataFrame
        The outcome metrics plus project ``name``, ``countries``, ``start_year``; ``currency``,
        ``price_per_unit``, ``price_per_unit_usd``; ``result_type``, ``outcomes_achieved``;
        ``achievement_vs_target`` (achieved / targeted number) and ``achievement_per_engaged``
        (achieved / the project's engaged participants).

    Examples
    --------
    >>> from pathlib import Path
    >>> import progression
    >>> data = read_indigo(Path(progression.__file__).parents[2] / "tests" / "fixtures" / "indigo")
    >>> table = metric_table(data)
    >>> table.loc[table["project_id"] == "TEST-POJ-0001", ["metric_id", "price_per_unit", "achievement_vs_target"]]
             metric_id  price_per_unit  achievement_vs_target
    0  outcomemetrics1         25000.0                   0.75
    1   outcomemetric2         40000.0                   0.45
    """
    metrics = data.outcome_metrics.assign(_key=_metric_key(data.outcome_metrics["metric_id"]))
    prices = data.prices.assign(_key=_metric_key(data.prices["metric_id"])).drop(columns="metric_id")
    prices = prices.drop_duplicates(["project_id", "_key"])
    results = data.results.assign(_key=_metric_key(data.results["metric_id"])).drop(columns="metric_id")
    results = _final_results(results)[["project_id", "_key", "result_type", "outcomes_achieved"]]
    project = data.projects[["project_id", "name", "countries", "start_year", "engaged_participants"]]
    table = (metrics.merge(prices, on=["project_id", "_key"], how="left")
             .merge(results, on=["project_id", "_key"], how="left")
             .merge(project, on="project_id", how="left"))
    table["achievement_vs_target"] = table["outcomes_achieved"] / table["targeted_number"].where(
        table["targeted_number"] > 0)
    table["achievement_per_engaged"] = table["outcomes_achieved"] / table["engaged_participants"].where(
        table["engaged_participants"] > 0)
    return table.drop(columns="_key")


def _check_by(by, table: pd.DataFrame) -> list[str]:
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in by if c not in table.columns]
    if missing:
        raise ParameterError(f"by: unknown column(s) {missing}; choose from {list(table.columns)}")
    return by


def reference_prices(data: IndigoData, *, by=("policy_sector", "outcome_category", "currency")) -> pd.DataFrame:
    """Reference prices per outcome: distribution of the price per unit by group.

    Prices are compared within a currency (and in USD where the export converts them).

    Parameters
    ----------
    data : IndigoData
    by : str or sequence of str, default=("policy_sector", "outcome_category", "currency")
        Columns of :func:`metric_table` to group by.

    Returns
    -------
    DataFrame
        Per group: ``n_metrics``, ``n_projects``, ``median_price``, ``q25_price``, ``q75_price``,
        ``min_price``, ``max_price`` (in the group's currency) and ``median_price_usd``.

    Raises
    ------
    ParameterError
        When a ``by`` column is not a column of :func:`metric_table`.

    Examples
    --------
    >>> from pathlib import Path
    >>> import progression
    >>> data = read_indigo(Path(progression.__file__).parents[2] / "tests" / "fixtures" / "indigo")
    >>> reference_prices(data, by="currency")[["currency", "n_metrics", "median_price"]]
      currency  n_metrics  median_price
    0      DKK          4       35000.0
    1      GBP          3        1500.0
    2      USD          1        1000.0
    """
    table = metric_table(data)
    table = table[table["price_per_unit"].notna()]
    by = _check_by(by, table)
    grouped = table.groupby(by, dropna=False)["price_per_unit"]
    out = pd.DataFrame({
        "n_metrics": grouped.size(),
        "n_projects": table.groupby(by, dropna=False)["project_id"].nunique(),
        "median_price": grouped.median(),
        "q25_price": grouped.quantile(0.25),
        "q75_price": grouped.quantile(0.75),
        "min_price": grouped.min(),
        "max_price": grouped.max(),
        "median_price_usd": table.groupby(by, dropna=False)["price_per_unit_usd"].median(),
    })
    return out.reset_index().sort_values("n_metrics", ascending=False, ignore_index=True)


def achievement_rates(data: IndigoData, *, by=("policy_sector",)) -> pd.DataFrame:
    """How often outcome targets are reached, by group.

    Parameters
    ----------
    data : IndigoData
    by : str or sequence of str, default=("policy_sector",)
        Columns of :func:`metric_table` to group by.

    Returns
    -------
    DataFrame
        Per group: ``n_metrics`` with a numeric result and target, ``median_achievement``
        (achieved / target), ``share_target_met`` (achieved ≥ target) and
        ``median_per_engaged`` (achieved / engaged participants).

    Raises
    ------
    ParameterError
        When a ``by`` column is not a column of :func:`metric_table`.

    Examples
    --------
    >>> from pathlib import Path
    >>> import progression
    >>> data = read_indigo(Path(progression.__file__).parents[2] / "tests" / "fixtures" / "indigo")
    >>> achievement_rates(data)[["policy_sector", "n_metrics", "share_target_met"]]
      policy_sector  n_metrics  share_target_met
    0  Homelessness          4              0.25
    """
    table = metric_table(data)
    by = _check_by(by, table)
    table = table[table["achievement_vs_target"].notna()]
    grouped = table.groupby(by, dropna=False)
    out = pd.DataFrame({
        "n_metrics": grouped.size(),
        "median_achievement": grouped["achievement_vs_target"].median(),
        "share_target_met": grouped["achievement_vs_target"].apply(lambda s: float(np.mean(s >= 1))),
        "median_per_engaged": grouped["achievement_per_engaged"].median(),
    })
    return out.reset_index().sort_values("n_metrics", ascending=False, ignore_index=True)
