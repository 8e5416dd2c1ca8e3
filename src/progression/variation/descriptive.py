"""Descriptive building blocks: spending per inhabitant, the summary numbers of Finansministeriet (2009),
recipients × unit cost.

* :func:`per_capita_spending` turns the long accounts table (municipality, year, function, net operating
  expenditure) and a population table into spending per inhabitant of the relevant age.
* :func:`describe_spending` gives the numbers Finansministeriet, Indenrigs- og Socialministeriet & KL (2009),
  *Det specialiserede socialområde – redskaber til styring og prioritering*, afsnit 2, reports: the
  population-weighted mean and how many municipalities lie under and over two thresholds (7,000 and
  9,000 kr. per 18–66-year-old for adults; 7,000 and 10,000 kr. per 0–22-year-old for children).
* :func:`unit_cost_decomposition` splits each municipality's spending per inhabitant into recipients per
  inhabitant × spending per recipient, the identity KORA/VIVE benchmarking rests on, in log differences
  from the national values so the two parts add up exactly; :func:`register_recipients` counts the
  recipients and sums their costs per municipality from person-level registers, with the share of each
  municipality's cost that its largest recipients make up (for the dominance rule of disclosure control).
* :func:`spending_panel` builds the analysis table: spending per inhabitant with the criteria, one row per
  municipality and year, at one price level.
* ``SEED004_REPORTED`` holds the numbers the report gives for 2008, to set results beside.

Examples
--------
>>> from progression.datasets import load_example
>>> from progression.variation import spending_panel
>>> panel = spending_panel(load_example("municipal_accounts"), load_example("municipality_years"),
...                        functions="5.38", population_col="pop_18_66", criteria=["share_psychiatric_patients"])
>>> panel.shape[0] == 98 * panel["year"].nunique()
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from progression._validation import check_columns, check_positive_int
from progression.disclosure import dominance_share
from progression.exceptions import DataContractError, ParameterError
from progression.variation._data import finite_matrix, positive_weights

__all__ = [
    "SEED004_ADULTS",
    "SEED004_CHILDREN",
    "SEED004_REPORTED",
    "describe_spending",
    "per_capita_spending",
    "register_recipients",
    "spending_panel",
    "unit_cost_decomposition",
    "unit_cost_variance_shares",
]

#: Thresholds (kr. per inhabitant) Finansministeriet (2009, afsnit 2.1 and 2.2) counts municipalities against, 2008.
SEED004_ADULTS = {"low": 7_000.0, "high": 9_000.0}
SEED004_CHILDREN = {"low": 7_000.0, "high": 10_000.0}

#: What Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), *Det specialiserede socialområde –
#: redskaber til styring og prioritering*, afsnit 2, reports for 2008 (98 municipalities, 2009 prices): the
#: population-weighted mean per inhabitant of the age group (tabel 2.4 and 2.8, the national averages of
#: figur 2.1 and 2.2), the counts under and over the thresholds (afsnit 2.1 and 2.2) and the share of the
#: variation explained by objective socioeconomic criteria (ibid., with fodnote 2 and 3 naming the
#: criteria). ``explained_share`` is a reading of the words: "ca. 40 pct." is 0.40; "knap halvdelen"
#: (just under half) is read as 0.48. The report names no estimator, weights or functional form.
SEED004_REPORTED: dict[str, dict] = {
    "adults": {"year": 2008, "price_year": 2009, "population": "18-66", "weighted_mean": 7_776.0,
               "n_below_low": 20, "n_above_high": 17, **SEED004_ADULTS, "explained_share": 0.40,
               "explained_text": "ca. 40 pct.",
               "criteria": ["share_no_vocational_25_49", "share_handicap_diagnoses", "share_psychiatric_patients"]},
    "children": {"year": 2008, "price_year": 2009, "population": "0-22", "weighted_mean": 9_105.0,
                 "n_below_low": 21, "n_above_high": 30, **SEED004_CHILDREN, "explained_share": 0.48,
                 "explained_text": "knap halvdelen",
                 "criteria": ["share_children_low_education", "share_non_western_immigrants"]},
}


def _function_prefixes(functions: str | Sequence[str]) -> list[str]:
    items = [functions] if isinstance(functions, str) else list(functions)
    if not items:
        raise ParameterError("functions must name at least one account function or main function")
    return [str(f).replace(".", "").lstrip("0") for f in items]


def per_capita_spending(
    spending: pd.DataFrame,
    population: pd.DataFrame,
    *,
    functions: str | Sequence[str],
    population_col: str,
    value_col: str = "net_operating_dkk",
    function_col: str = "function",
    keys: Sequence[str] = ("municipality", "year"),
    name: str = "spend_per_capita",
) -> pd.DataFrame:
    """Spending per inhabitant of the relevant age, summed over a set of account functions.

    Parameters
    ----------
    spending : pandas.DataFrame
        Long table: ``keys``, ``function_col`` (codes without dots, e.g. ``"53850"``), ``value_col``.
    population : pandas.DataFrame
        ``keys`` and ``population_col`` (e.g. ``pop_18_66``).
    functions : str or sequence of str
        Function codes or prefixes, dotted or not: ``"5.38"`` selects every 5.38.xx function,
        ``["5.38.50", "5.38.52"]`` two of them.
    population_col : str
    value_col, function_col : str
    keys : sequence of str, default=("municipality", "year")
    name : str, default="spend_per_capita"
        Name of the output column.

    Returns
    -------
    pandas.DataFrame
        One row per key of ``population``: ``keys``, ``spending_dkk`` (sum over the selected functions),
        ``n_functions`` (rows summed), ``population_col``, ``name``. A key with no spending rows, or with a
        missing (suppressed) amount among its rows, gets a missing sum and per-capita value — never a zero.

    Examples
    --------
    >>> import pandas as pd
    >>> accounts = pd.DataFrame({"municipality": [101, 101, 147], "year": 2022,
    ...                          "function": ["53850", "5.38.52", "52800"], "net_operating_dkk": [6.0e8, 3.0e8, 1.0e8]})
    >>> population = pd.DataFrame({"municipality": [101, 147], "year": 2022, "pop_18_66": [450_000, 70_000]})
    >>> out = per_capita_spending(accounts, population, functions="5.38", population_col="pop_18_66")
    >>> print(out[["municipality", "n_functions", "spend_per_capita"]].to_string(index=False))
     municipality  n_functions  spend_per_capita
              101            2            2000.0
              147            0               NaN
    """
    keys = list(keys)
    check_columns(spending, [*keys, function_col, value_col], name="spending")
    check_columns(population, [*keys, population_col], name="population")
    prefixes = _function_prefixes(functions)
    codes = spending[function_col].astype(str).str.replace(".", "", regex=False).str.lstrip("0")
    selected = spending.loc[codes.map(lambda c: any(c.startswith(p) for p in prefixes)).astype(bool)]
    if selected.empty:
        raise DataContractError(
            f"no spending rows match functions {prefixes}; functions present: {sorted(codes.unique())[:10]}"
        )
    grouped = selected.groupby(keys)[value_col]
    sums = grouped.sum(min_count=1).where(~grouped.apply(lambda s: s.isna().any()))
    table = pd.DataFrame({"spending_dkk": sums, "n_functions": grouped.size()}).reset_index()
    out = population[[*keys, population_col]].merge(table, on=keys, how="left")
    out["n_functions"] = out["n_functions"].fillna(0).astype(int)
    out[name] = out["spending_dkk"] / out[population_col]
    return out[[*keys, "spending_dkk", "n_functions", population_col, name]]


def spending_panel(
    accounts: pd.DataFrame,
    municipality_years: pd.DataFrame,
    *,
    functions: str | Sequence[str],
    population_col: str,
    criteria: Sequence[str] = (),
    value_col: str = "net_operating_dkk",
    function_col: str = "function",
    price_col: str | None = "price_year",
    keys: Sequence[str] = ("municipality", "year"),
    name: str = "spend_per_capita",
) -> pd.DataFrame:
    """Spending per inhabitant of the relevant age beside the criteria, one row per municipality and year.

    A thin layer over :func:`per_capita_spending` that also refuses amounts in mixed price years
    (comparisons over years and with Finansministeriet (2009) need fixed prices) and joins the criteria.

    Parameters
    ----------
    accounts : pandas.DataFrame
        Long accounts table (``keys``, ``function_col``, ``value_col`` and ``price_col``).
    municipality_years : pandas.DataFrame
        ``keys``, ``population_col`` and the ``criteria``.
    functions : str or sequence of str
        Account functions of the area (codes or prefixes, see :func:`per_capita_spending`).
    population_col : str
        The age group the spending is divided by (e.g. ``pop_18_66``).
    criteria : sequence of str, default=()
        Columns of ``municipality_years`` to carry along.
    value_col, function_col : str
    price_col : str or None, default="price_year"
        Column of the price year of the amounts; ``None`` skips the check.
    keys : sequence of str, default=("municipality", "year")
    name : str, default="spend_per_capita"

    Returns
    -------
    pandas.DataFrame
        ``keys``, ``spending_dkk``, ``n_functions``, ``population_col``, ``name``, ``price_col`` (when
        checked) and the criteria; sorted by ``keys``.

    Raises
    ------
    DataContractError
        When the selected amounts are in more than one price year (deflate them first).

    Examples
    --------
    Spending on the adults' area (functions 5.38) per 18–66-year-old in the example data, 2024:

    >>> from progression.datasets import load_example
    >>> panel = spending_panel(load_example("municipal_accounts"), load_example("municipality_years"),
    ...                        functions="5.38", population_col="pop_18_66", criteria=["share_low_income"])
    >>> panel.shape
    (1470, 8)
    >>> latest = panel.loc[panel["year"] == 2024, ["municipality", "spend_per_capita", "share_low_income"]]
    >>> print(latest.head(3).round(3).to_string(index=False))
     municipality  spend_per_capita  share_low_income
              101         11014.056             0.073
              147         10173.009             0.089
              151          9189.427             0.053
    """
    keys = list(keys)
    criteria = list(criteria)
    check_columns(municipality_years, [*keys, population_col, *criteria], name="municipality_years")
    out = per_capita_spending(accounts, municipality_years, functions=functions, population_col=population_col,
                              value_col=value_col, function_col=function_col, keys=keys, name=name)
    if price_col is not None:
        check_columns(accounts, [price_col], name="accounts")
        prefixes = _function_prefixes(functions)
        codes = accounts[function_col].astype(str).str.replace(".", "", regex=False).str.lstrip("0")
        chosen = codes.map(lambda c: any(c.startswith(p) for p in prefixes)).astype(bool)
        price_years = sorted(accounts.loc[chosen, price_col].dropna().unique().tolist())
        if len(price_years) != 1:
            raise DataContractError(
                f"{price_col!r}: the amounts of functions {prefixes} must be in one price year to be compared; "
                f"found {price_years[:10]}. Deflate them to one price level first"
            )
        out[price_col] = price_years[0]
    if criteria:
        out = out.merge(municipality_years[[*keys, *criteria]], on=keys, how="left")
    return out.sort_values(keys).reset_index(drop=True)


def register_recipients(
    costs: pd.DataFrame,
    residence: pd.DataFrame,
    *,
    services: Sequence[str],
    payer: str | None = "kommune",
    person_col: str = "person_id",
    year_col: str = "year",
    service_col: str = "service",
    payer_col: str = "payer",
    cost_col: str = "cost_dkk",
    municipality_col: str = "municipality",
    dominance_n: int = 2,
) -> pd.DataFrame:
    """Recipients and their costs per municipality and year, from person-level register costs.

    A recipient is a person with a positive cost on any of ``services`` (paid by ``payer``) in the year;
    the person is counted in the municipality of ``residence`` that year. With the population of the
    age group, ``cost_dkk / n_recipients`` is the unit cost and ``n_recipients / population`` the coverage
    of :func:`unit_cost_decomposition`.

    Parameters
    ----------
    costs : pandas.DataFrame
        One row per person, year, service and payer (the ``person_year_costs`` table).
    residence : pandas.DataFrame
        One row per person and year with the municipality (the ``person_years`` table).
    services : sequence of str
        Services of the spending area (e.g. ``["SEL85", "ABL105", "SEL107", "SEL108"]``).
    payer : str or None, default="kommune"
        Keep costs paid by this payer; ``None`` keeps every payer.
    person_col, year_col, service_col, payer_col, cost_col, municipality_col : str
    dominance_n : int, default=2
        The ``n`` of the (n, k) dominance rule: ``dominance_share`` is the share of a cell's cost that
        its ``dominance_n`` most expensive recipients make up.

    Returns
    -------
    pandas.DataFrame
        ``municipality_col``, ``year_col``, ``n_recipients`` (persons), ``cost_dkk`` (their summed costs),
        ``dominance_share`` (:func:`progression.disclosure.dominance_share` of the per-person costs: declare
        it as the dominance column of every sum or mean of ``cost_dkk``); sorted.
        ``frame.attrs["n_without_residence"]`` counts recipient-years with no residence row (left out).

    Examples
    --------
    >>> import pandas as pd
    >>> costs = pd.DataFrame({"person_id": [1, 2, 3, 3], "year": 2022, "payer": "kommune",
    ...                       "service": ["SEL85", "SEL108", "SEL85", "SEL107"],
    ...                       "cost_dkk": [50_000.0, 900_000.0, 40_000.0, 10_000.0]})
    >>> residence = pd.DataFrame({"person_id": [1, 2, 3], "year": 2022, "municipality": [101, 101, 147]})
    >>> register_recipients(costs, residence, services=["SEL85", "SEL107", "SEL108"])
       municipality  year  n_recipients   cost_dkk  dominance_share
    0           101  2022             2   950000.0              1.0
    1           147  2022             1    50000.0              1.0
    """
    services = list(services)
    if not services:
        raise ParameterError("services must name at least one service of the area; found an empty list")
    dominance_n = check_positive_int(dominance_n, name="dominance_n")
    check_columns(costs, [person_col, year_col, service_col, cost_col] + ([payer_col] if payer else []),
                  name="costs")
    check_columns(residence, [person_col, year_col, municipality_col], name="residence")
    chosen = costs[service_col].isin(services) & (costs[cost_col] > 0)
    if payer is not None:
        chosen &= costs[payer_col] == payer
    per_person = costs.loc[chosen].groupby([person_col, year_col], as_index=False)[cost_col].sum()
    if per_person.empty:
        raise DataContractError(
            f"no positive costs on services {services}" + (f" paid by {payer!r}" if payer else "")
            + f"; services present: {sorted(costs[service_col].unique().tolist())[:10]}"
        )
    duplicated = residence.duplicated([person_col, year_col])
    if duplicated.any():
        raise DataContractError(
            f"residence must have one row per {person_col} and {year_col}; {int(duplicated.sum())} repeated "
            f"(first: {residence.loc[duplicated, [person_col, year_col]].head(3).to_dict('records')})"
        )
    located = per_person.merge(residence[[person_col, year_col, municipality_col]], on=[person_col, year_col],
                               how="inner")
    keys = [municipality_col, year_col]
    out = (located.groupby(keys)
           .agg(n_recipients=(person_col, "size"), cost_dkk=(cost_col, "sum"))
           .reset_index().sort_values(keys).reset_index(drop=True))
    dominance = dominance_share(located[cost_col], located[keys], n=dominance_n).rename("dominance_share")
    out = out.merge(dominance.reset_index(), on=keys, how="left")
    out.attrs["n_without_residence"] = int(len(per_person) - len(located))
    return out


def describe_spending(
    data: pd.DataFrame,
    *,
    per_capita: str,
    population: str,
    low: float,
    high: float,
) -> pd.DataFrame:
    """The summary of spending per inhabitant across municipalities that Finansministeriet (2009) gives.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per municipality (one year).
    per_capita : str
        Spending per inhabitant of the relevant age.
    population : str
        The relevant population (the weights of the mean).
    low, high : float
        Count municipalities strictly under ``low`` and strictly over ``high`` (Finansministeriet 2009,
        afsnit 2: 7,000 and 9,000 kr. for adults, 7,000 and 10,000 kr. for children; see
        ``SEED004_ADULTS``/``SEED004_CHILDREN``).

    Returns
    -------
    pandas.DataFrame
        One row: ``n_municipalities``, ``weighted_mean`` (Σ spending / Σ population = Σ p_i s_i / Σ p_i),
        ``unweighted_mean``, ``weighted_cv`` (population-weighted coefficient of variation),
        ``p90_p10_ratio``, ``n_below_low``, ``n_above_high``, ``low``, ``high``.

    Raises
    ------
    ParameterError
        When ``low`` is not below ``high``.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"spend": [6_000.0, 8_000.0, 9_500.0], "pop": [10_000, 30_000, 10_000]})
    >>> row = describe_spending(data, per_capita="spend", population="pop", low=7_000, high=9_000)
    >>> print(row[["weighted_mean", "n_below_low", "n_above_high"]].to_string(index=False))
     weighted_mean  n_below_low  n_above_high
            7900.0            1             1
    """
    if not low < high:
        raise ParameterError(f"low must be below high; found low={low!r}, high={high!r}")
    values = finite_matrix(data, [per_capita])[:, 0]
    weights = positive_weights(data, population)
    mean = np.average(values, weights=weights)
    sd = np.sqrt(np.average((values - mean) ** 2, weights=weights))
    p10, p90 = np.quantile(values, [0.1, 0.9])
    return pd.DataFrame([{
        "n_municipalities": int(len(values)),
        "weighted_mean": float(mean),
        "unweighted_mean": float(values.mean()),
        "weighted_cv": float(sd / mean),
        "p90_p10_ratio": float(p90 / p10),
        "n_below_low": int((values < low).sum()),
        "n_above_high": int((values > high).sum()),
        "low": float(low),
        "high": float(high),
    }])


def unit_cost_decomposition(
    data: pd.DataFrame,
    *,
    spending: str,
    recipients: str,
    population: str,
    id_col: str = "municipality",
) -> pd.DataFrame:
    """Spending per inhabitant = recipients per inhabitant × spending per recipient, relative to the country.

    With s_i = S_i/P_i, c_i = R_i/P_i, u_i = S_i/R_i and the national values S = ΣS_i/ΣP_i, C = ΣR_i/ΣP_i,
    U = ΣS_i/ΣR_i (so S = C·U), each municipality's log difference splits exactly:

        log(s_i/S) = log(c_i/C) + log(u_i/U)     (coverage + unit cost).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per municipality with total spending, recipients and population.
    spending, recipients, population : str
    id_col : str, default="municipality"

    Returns
    -------
    pandas.DataFrame
        Id, ``spend_per_capita``, ``recipients_per_capita``, ``unit_cost``, ``log_diff_spending``,
        ``log_diff_coverage``, ``log_diff_unit_cost``. ``frame.attrs["national"]`` holds S, C and U.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"municipality": [101, 147, 151], "spending": [9.0e8, 1.5e8, 0.6e8],
    ...                      "recipients": [3_000, 400, 250], "population": [450_000, 70_000, 30_000]})
    >>> out = unit_cost_decomposition(data, spending="spending", recipients="recipients", population="population")
    >>> print(out[["municipality", "log_diff_spending", "log_diff_coverage", "log_diff_unit_cost"]].round(3)
    ...       .to_string(index=False))
     municipality  log_diff_spending  log_diff_coverage  log_diff_unit_cost
              101             -0.009              0.005              -0.014
              147              0.060             -0.150               0.210
              151             -0.009              0.228              -0.237
    """
    check_columns(data, [id_col])
    S, R, P = finite_matrix(data, [spending, recipients, population], id_col=id_col).T
    for label, values in ((spending, S), (recipients, R), (population, P)):
        bad = values <= 0
        if bad.any():
            raise DataContractError(
                f"column {label!r}: the log decomposition needs positive values; {bad.sum()} row(s) are not "
                f"({id_col}: {data.loc[bad, id_col].tolist()[:5]})"
            )
    national = {"spend_per_capita": S.sum() / P.sum(), "recipients_per_capita": R.sum() / P.sum(),
                "unit_cost": S.sum() / R.sum()}
    out = pd.DataFrame(
        {id_col: data[id_col].to_numpy(), "spend_per_capita": S / P, "recipients_per_capita": R / P,
         "unit_cost": S / R}
    )
    out["log_diff_spending"] = np.log(out["spend_per_capita"] / national["spend_per_capita"])
    out["log_diff_coverage"] = np.log(out["recipients_per_capita"] / national["recipients_per_capita"])
    out["log_diff_unit_cost"] = np.log(out["unit_cost"] / national["unit_cost"])
    out.attrs["national"] = national
    return out


def unit_cost_variance_shares(decomposition: pd.DataFrame, *, weights: np.ndarray | None = None) -> pd.Series:
    """Share of the variance of log spending per inhabitant due to coverage and to unit cost.

    Var(log s) = Var(log c) + Var(log u) + 2 Cov(log c, log u); the covariance is split evenly, so the
    shares are (Var(log c) + Cov)/Var(log s) and (Var(log u) + Cov)/Var(log s) and sum to one.

    Parameters
    ----------
    decomposition : pandas.DataFrame
        Output of :func:`unit_cost_decomposition`.
    weights : array-like, optional
        Weights of the municipalities (e.g. population).

    Returns
    -------
    pandas.Series
        ``var_log_spending``, ``var_log_coverage``, ``var_log_unit_cost``, ``cov``, ``share_coverage``,
        ``share_unit_cost``.

    Examples
    --------
    The same cost per recipient everywhere: all of the variance is coverage.

    >>> import pandas as pd
    >>> data = pd.DataFrame({"municipality": [1, 2, 3], "population": [10_000.0, 20_000.0, 40_000.0],
    ...                      "recipients": [50.0, 160.0, 200.0]})
    >>> data["spending"] = data["recipients"] * 500_000
    >>> split = unit_cost_decomposition(data, spending="spending", recipients="recipients", population="population")
    >>> print(f"{unit_cost_variance_shares(split)['share_coverage']:.2f}")
    1.00
    """
    c = decomposition["log_diff_coverage"].to_numpy()
    u = decomposition["log_diff_unit_cost"].to_numpy()
    w = np.ones(len(c)) if weights is None else np.asarray(weights, dtype=float)
    cov = np.cov(np.vstack([c, u]), aweights=w, bias=True)
    total = cov[0, 0] + cov[1, 1] + 2 * cov[0, 1]
    return pd.Series(
        {
            "var_log_spending": total,
            "var_log_coverage": cov[0, 0],
            "var_log_unit_cost": cov[1, 1],
            "cov": cov[0, 1],
            "share_coverage": (cov[0, 0] + cov[0, 1]) / total,
            "share_unit_cost": (cov[1, 1] + cov[0, 1]) / total,
        },
        name="variance_shares",
    )
