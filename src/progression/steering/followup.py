"""Budget follow-up on individual commitments: the *dispositionsregnskab* of Finansministeriet (2009).

Redskab 4 of Finansministeriet, Indenrigs- og Socialministeriet & KL (2009) books each commitment the
moment a citizen is visited (visiteret), so that "belastningen af budgettet for resten af budgetåret"
is known at once; redskab 2 and 5 compare the year's expected spending with a budget built as *number
of users × average cost per user* and trace a deviation to price or volume. Here a commitment is a
service spell with a price per day, week, month or year:

* :func:`commitments` attaches the price (from a spell column, or a unit-cost table by paragraph);
* :func:`yearly_volume` gives, per year and group, persons, user-years (*helårspersoner*), spending
  and the unit cost (spending per user-year) — the two factors of spending;
* :func:`forecast_year` is the dispositionsregnskab at the end of a month: what the commitments known
  by then cost in the year (spent so far plus the rest of the year of those still running);
  :func:`forecast_by_month` does it for every month;
* :func:`budget_from_base` builds the budget from a base year's users and unit costs with assumed
  changes, and :func:`budget_followup` compares forecast and budget and splits the deviation into
  volume and price (:func:`~progression.steering.price_volume`).

Days are counted inclusively (a spell from 1 to 31 January is 31 days) and turned into years with
:data:`~progression.constants.DAYS_PER_YEAR`; a spell with no end date is open at the extract.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from progression._validation import (
    as_list,
    check_choice,
    check_columns,
    check_frame,
    check_positive_int,
    numeric_values,
)
from progression.constants import DAYS_PER_MONTH, DAYS_PER_YEAR
from progression.disclosure import dominance_share
from progression.exceptions import DataContractError, ParameterError
from progression.steering.decomposition import PRICE_VOLUME_METHODS, price_volume

__all__ = [
    "PRICE_UNITS", "commitments", "yearly_volume", "forecast_year", "forecast_by_month", "budget_from_base",
    "budget_followup",
]

#: Days in each time unit a price may be given per.
PRICE_UNITS = {"day": 1.0, "week": 7.0, "month": DAYS_PER_MONTH, "year": DAYS_PER_YEAR}

_DAY = np.timedelta64(1, "D")


def commitments(spells: pd.DataFrame, unit_costs: pd.DataFrame | None = None, *, price_col: str | None = None,
                price_unit: str = "day", services: Sequence[str] | None = None, payer: str | None = "kommune",
                paragraph_col: str = "paragraph", item_col: str = "item", payer_col: str = "payer",
                unit_col: str = "unit", cost_col: str = "cost_dkk") -> pd.DataFrame:
    """Service spells with their price per day: the individual commitments of a dispositionsregnskab.

    Parameters
    ----------
    spells : DataFrame
        One row per person, paragraph and period (the ``spells`` table).
    unit_costs : DataFrame, optional
        Prices by paragraph: ``item_col`` (the paragraph), ``payer_col``, ``unit_col`` (day, week,
        month or year) and ``cost_col`` (the ``unit_costs`` table). Give this or ``price_col``.
    price_col : str, optional
        A column of ``spells`` holding each commitment's own price (a takst), per ``price_unit``.
    price_unit : {"day", "week", "month", "year"}, default "day"
        Unit of ``price_col``.
    services : sequence of str, optional
        Paragraphs to keep. Default: every paragraph of ``spells`` that ``unit_costs`` prices per a
        unit of time (all spells with ``price_col``).
    payer : str or None, default "kommune"
        Keep the prices this payer pays (None: the table has one price per item).

    Returns
    -------
    DataFrame
        The kept spells with ``daily_price``. ``attrs["excluded"]`` counts the spells left out, by
        paragraph (those with no price per unit of time, or not in ``services``).

    Raises
    ------
    ParameterError
        When both or neither of ``unit_costs`` and ``price_col`` are given, or a paragraph of
        ``services`` has no price per unit of time.
    DataContractError
        For missing columns, a missing or negative price, or an item priced twice.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = commitments(load_example("spells"), load_example("unit_costs"))
    >>> sorted(priced["paragraph"].unique())
    ['ABL105', 'SEL103', 'SEL104', 'SEL107', 'SEL108', 'SEL82a', 'SEL82b', 'SEL85', 'SEL97']
    >>> round(float(priced.loc[priced["paragraph"] == "SEL108", "daily_price"].iloc[0]), 2)
    2464.07
    """
    check_frame(spells, name="spells")
    check_columns(spells, {"paragraph_col": paragraph_col}, name="spells")
    if (unit_costs is None) == (price_col is None):
        raise ParameterError("give either unit_costs (prices by paragraph) or price_col (a price on each spell); "
                             f"got unit_costs={'a table' if unit_costs is not None else None}, price_col={price_col!r}")
    paragraphs = spells[paragraph_col].astype(str)
    if price_col is not None:
        check_columns(spells, {"price_col": price_col}, name="spells")
        check_choice(price_unit, list(PRICE_UNITS), name="price_unit")
        chosen = paragraphs.isin(list(services)) if services is not None else pd.Series(True, index=spells.index)
        daily = pd.Series(numeric_values(spells, price_col, name="spells") / PRICE_UNITS[price_unit], index=spells.index)
    else:
        check_frame(unit_costs, name="unit_costs")
        check_columns(unit_costs, {"item_col": item_col, "unit_col": unit_col, "cost_col": cost_col,
                                   "payer_col": payer_col if payer is not None else None}, name="unit_costs")
        table = unit_costs if payer is None else unit_costs[unit_costs[payer_col] == payer]
        timed = table[table[unit_col].isin(list(PRICE_UNITS))]
        twice = timed[item_col][timed[item_col].duplicated()].tolist()
        if twice:
            raise DataContractError(f"unit_costs: item(s) {sorted(set(twice))[:5]} have more than one price per unit "
                                    f"of time{' for payer ' + repr(payer) if payer else ''}; keep one row per item")
        by_item = pd.Series(numeric_values(timed, cost_col, name="unit_costs") / timed[unit_col].map(PRICE_UNITS)
                            .to_numpy(dtype=float), index=timed[item_col].astype(str).to_numpy())
        if services is None:
            services = sorted(set(paragraphs) & set(by_item.index))
        missing = [s for s in services if s not in by_item.index]
        if missing:
            raise ParameterError(f"services {missing} have no price per day, week, month or year in unit_costs"
                                 f"{' for payer ' + repr(payer) if payer else ''}; priced items: {sorted(by_item.index)}")
        chosen = paragraphs.isin(list(services))
        daily = paragraphs.map(by_item)
    out = spells.loc[chosen].copy()
    out["daily_price"] = daily.loc[chosen].astype(float)
    bad = out["daily_price"].isna() | (out["daily_price"] < 0)
    if bad.any():
        raise DataContractError(f"spells: {int(bad.sum())} commitment(s) have a missing or negative price "
                                f"(e.g. rows {list(out.index[bad][:3])}); a price must be known and ≥ 0")
    out.attrs["excluded"] = {str(k): int(v) for k, v in paragraphs[~chosen].value_counts().sort_index().items()}
    return out


def _days(start: np.ndarray, end: np.ndarray, first: np.datetime64, last: np.datetime64) -> np.ndarray:
    """Days of [start, end] (inclusive; NaT end = open) inside [first, last]."""
    lo = np.maximum(start, first)
    hi = np.where(np.isnat(end), last, np.minimum(end, last))
    return np.maximum((hi - lo) / _DAY + 1, 0.0)


def _dates(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column]
    if not pd.api.types.is_datetime64_any_dtype(values):
        raise DataContractError(f"column {column!r} must hold dates (datetime64); found dtype {values.dtype}")
    return values.to_numpy(dtype="datetime64[D]")


def _summarise(person_level: pd.DataFrame, keys: list[str], dominance_n: int | None,
               extra: Sequence[str] = ()) -> pd.DataFrame:
    """Persons, user-years, spending, unit cost and dominance share per group of ``keys``."""
    sums = {"days": "sum", "spending": "sum", **{c: "sum" for c in extra}}
    if keys:
        grouped = person_level.groupby(keys, sort=True, observed=True)
        out = grouped.agg(sums)
        out.insert(0, "n_persons", grouped.size())
        out = out.reset_index()
    else:
        out = pd.DataFrame([{"n_persons": len(person_level), **person_level[list(sums)].sum().to_dict()}])
    out.insert(out.columns.get_loc("days"), "user_years", out.pop("days") / DAYS_PER_YEAR)
    for c in extra:
        if c.endswith("_days"):
            out[c.replace("_days", "_user_years")] = out.pop(c) / DAYS_PER_YEAR
    with np.errstate(all="ignore"):
        out["unit_cost"] = np.where(out["user_years"] > 0, out["spending"] / out["user_years"], np.nan)
    if dominance_n is not None:
        if keys:
            share = dominance_share(person_level["spending"].reset_index(drop=True),
                                    by=person_level[keys].reset_index(drop=True), n=dominance_n)
            share = share.rename("dominance_share").reset_index()
            if len(keys) == 1:
                share = share.rename(columns={share.columns[0]: keys[0]})
            out = out.merge(share, on=keys, how="left")
        else:
            out["dominance_share"] = dominance_share(person_level["spending"], n=dominance_n)
    return out


def _check_spells(frame: pd.DataFrame, person_col: str, start_col: str, end_col: str, price_col: str,
                  keys: list[str]) -> None:
    check_frame(frame, name="commitments")
    check_columns(frame, {"person_col": person_col, "start_col": start_col, "end_col": end_col,
                          "price_col": price_col, **{f"by[{i}]": k for i, k in enumerate(keys)}}, name="commitments")


def yearly_volume(commitments: pd.DataFrame, *, years: Iterable[int], by: str | Sequence[str] = ("paragraph",),
                  extract_end=None, person_col: str = "person_id", start_col: str = "start_date",
                  end_col: str = "end_date", price_col: str = "daily_price", dominance_n: int | None = 2
                  ) -> pd.DataFrame:
    """Persons, user-years, spending and unit cost per year and group: the volume and price of spending.

    Parameters
    ----------
    commitments : DataFrame
        Priced spells (:func:`commitments`).
    years : iterable of int
        Calendar years.
    by : str or sequence of str, default ("paragraph",)
        Grouping columns; ``()`` for one row per year.
    extract_end : date, optional
        The extract date: open spells (no end date) run to it. Default: 31 December of the last year.
    person_col, start_col, end_col, price_col : str
    dominance_n : int or None, default 2
        Also give ``dominance_share``, the share of a group's spending its ``dominance_n`` largest
        persons make up (for the dominance rule of :mod:`progression.disclosure`); None leaves it out.

    Returns
    -------
    DataFrame
        ``year``, ``by``, ``n_persons`` (persons with a day in the year), ``user_years`` (days / 365.25),
        ``spending`` (Σ daily price × days) and ``unit_cost`` (spending per user-year), and
        ``dominance_share``.

    Notes
    -----
    Spending = user-years × unit cost holds exactly in every row; with one price per paragraph the
    unit cost of a paragraph is its price per year, and a change in the unit cost of a group of
    paragraphs is a change in their mix.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = commitments(load_example("spells"), load_example("unit_costs"))
    >>> volume = yearly_volume(priced, years=[2023, 2024], by="paragraph")
    >>> row = volume[(volume["year"] == 2024) & (volume["paragraph"] == "SEL108")].iloc[0]
    >>> round(float(row["unit_cost"]))
    900000
    >>> bool((volume["spending"] - volume["user_years"] * volume["unit_cost"]).abs().max() < 1e-3)
    True
    """
    keys = as_list(by, name="by") if by not in ((), [], None) else []
    _check_spells(commitments, person_col, start_col, end_col, price_col, keys)
    years = [check_positive_int(int(y), name="years") for y in years]
    if not years:
        raise ParameterError("years must name at least one calendar year; got none")
    start, end = _dates(commitments, start_col), _dates(commitments, end_col)
    cap = np.datetime64(pd.Timestamp(extract_end).date()) if extract_end is not None \
        else np.datetime64(f"{max(years)}-12-31")
    end = np.where(np.isnat(end), cap, end)
    price = numeric_values(commitments, price_col, name="commitments")
    frames = []
    for year in years:
        days = _days(start, end, np.datetime64(f"{year}-01-01"), np.datetime64(f"{year}-12-31"))
        held = days > 0
        rows = commitments.loc[held, [person_col, *keys]].assign(days=days[held], spending=days[held] * price[held])
        person = rows.groupby([*keys, person_col], sort=False, observed=True)[["days", "spending"]].sum().reset_index()
        summary = _summarise(person, keys, dominance_n) if len(person) else pd.DataFrame()
        frames.append(summary.assign(year=year))
    out = pd.concat(frames, ignore_index=True)
    return out[["year", *[c for c in out.columns if c != "year"]]]


def forecast_year(commitments: pd.DataFrame, *, year: int, month: int, by: str | Sequence[str] = ("paragraph",),
                  planned_end_col: str | None = None, person_col: str = "person_id", start_col: str = "start_date",
                  end_col: str = "end_date", price_col: str = "daily_price", dominance_n: int | None = 2
                  ) -> pd.DataFrame:
    """The year's expected spending on the commitments known at the end of a month (dispositionsregnskab).

    Parameters
    ----------
    commitments : DataFrame
        Priced spells (:func:`commitments`).
    year : int
        The budget year.
    month : int
        1–12: the forecast is made on the last day of this month.
    by : str or sequence of str, default ("paragraph",)
        Grouping columns; ``()`` for one row.
    planned_end_col : str, optional
        A column with each commitment's planned end date; a commitment still running runs to it (at
        most to 31 December). Default: to 31 December.
    person_col, start_col, end_col, price_col : str
    dominance_n : int or None, default 2
        See :func:`yearly_volume`.

    Returns
    -------
    DataFrame
        ``by``, ``n_persons`` (persons with a commitment in the year known by the forecast date),
        ``user_years_to_date``, ``spending_to_date`` (January to the forecast date),
        ``user_years``, ``spending`` (to date + the rest of the year of the commitments still running),
        ``unit_cost`` and ``dominance_share``; ``attrs["as_of"]`` is the forecast date.

    Notes
    -----
    Only what is known on the forecast date :math:`d` is used: commitments started by :math:`d`, and
    end dates on or before :math:`d`. A commitment not ended by :math:`d` is booked to the end of the
    year (or its planned end), so the forecast leaves out commitments not yet made and books the rest
    of the year of some that will end — the two errors a dispositionsregnskab has. At ``month=12`` the
    forecast is the year's spending.

    References
    ----------
    Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), *Det specialiserede socialområde –
    redskaber til styring og prioritering*, redskab 4 (dispositionsregnskab på individniveau).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = commitments(load_example("spells"), load_example("unit_costs"))
    >>> june = forecast_year(priced, year=2024, month=6, by=())
    >>> december = forecast_year(priced, year=2024, month=12, by=())
    >>> actual = yearly_volume(priced, years=[2024], by=())
    >>> bool(abs(december["spending"].item() - actual["spending"].item()) < 1e-3)
    True
    >>> bool(june["spending_to_date"].item() < june["spending"].item())
    True
    """
    keys = as_list(by, name="by") if by not in ((), [], None) else []
    _check_spells(commitments, person_col, start_col, end_col, price_col, keys)
    year = check_positive_int(year, name="year")
    month = check_positive_int(month, name="month")
    if month > 12:
        raise ParameterError(f"month must be 1 to 12; got {month}")
    first, last = np.datetime64(f"{year}-01-01"), np.datetime64(f"{year}-12-31")
    as_of = (pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)).to_datetime64().astype("datetime64[D]")
    start, end = _dates(commitments, start_col), _dates(commitments, end_col)
    known = (start <= as_of) & (np.isnat(end) | (end >= first))
    ended = ~np.isnat(end) & (end <= as_of)
    # what the municipality knows on the forecast date: an end date after it is not yet known
    seen_end = np.where(ended, end, np.datetime64("NaT"))
    to_date = np.where(known, _days(start, seen_end, first, as_of), 0.0)
    assumed_end = np.full(len(start), last)
    if planned_end_col is not None:
        check_columns(commitments, {"planned_end_col": planned_end_col}, name="commitments")
        planned = _dates(commitments, planned_end_col)
        assumed_end = np.where(np.isnat(planned), last, np.clip(planned, as_of, last))
    rest = np.where(known & ~ended, np.maximum((assumed_end - as_of) / _DAY, 0.0), 0.0)
    price = numeric_values(commitments, price_col, name="commitments")
    total = to_date + rest
    rows = commitments.loc[known & (total > 0), [person_col, *keys]]
    sel = known & (total > 0)
    rows = rows.assign(days=total[sel], spending=total[sel] * price[sel], to_date_days=to_date[sel],
                       spending_to_date=to_date[sel] * price[sel])
    person = rows.groupby([*keys, person_col], sort=False, observed=True).sum().reset_index()
    out = _summarise(person, keys, dominance_n, extra=("to_date_days", "spending_to_date"))
    out = out.rename(columns={"to_date_user_years": "user_years_to_date"})
    order = [*keys, "n_persons", "user_years_to_date", "spending_to_date", "user_years", "spending", "unit_cost"]
    out = out[[*order, *[c for c in out.columns if c not in order]]]
    out.attrs["as_of"] = str(as_of)
    return out


def forecast_by_month(commitments: pd.DataFrame, *, year: int, months: Iterable[int] = range(1, 13),
                      by: str | Sequence[str] = (), **kwargs) -> pd.DataFrame:
    """:func:`forecast_year` at the end of each of ``months``, stacked with a ``month`` column.

    Parameters
    ----------
    commitments : DataFrame
        Priced spells (:func:`commitments`).
    year : int
        The budget year.
    months : iterable of int, default=1, ..., 12
        Months at whose end a forecast is made.
    by : str or sequence of str, default=()
        Grouping columns.
    **kwargs
        Passed on to :func:`forecast_year`.

    Returns
    -------
    DataFrame
        ``month`` and the columns of :func:`forecast_year`, one block per month.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> priced = commitments(load_example("spells"), load_example("unit_costs"))
    >>> path = forecast_by_month(priced, year=2024, months=[3, 6, 9, 12])
    >>> path["month"].tolist()
    [3, 6, 9, 12]
    """
    frames = [forecast_year(commitments, year=year, month=int(m), by=by, **kwargs).assign(month=int(m))
              for m in months]
    out = pd.concat(frames, ignore_index=True)
    return out[["month", *[c for c in out.columns if c != "month"]]]


def budget_from_base(volume: pd.DataFrame, *, base_year: int, by: str | Sequence[str] = ("paragraph",),
                     volume_change: float = 0.0, price_change: float = 0.0, year_col: str = "year") -> pd.DataFrame:
    """A budget as number of users × average cost per user, from a base year's actual values.

    Parameters
    ----------
    volume : DataFrame
        :func:`yearly_volume` output holding ``base_year``.
    base_year : int
    by : str or sequence of str, default ("paragraph",)
        The groups of the budget (the grouping of ``volume``).
    volume_change, price_change : float, default 0.0
        Assumed relative change of the user-years and of the unit cost from the base year (0.02 = +2 %).

    Returns
    -------
    DataFrame
        ``by``, ``budget_user_years``, ``budget_unit_cost``, ``budget`` (their product).

    Raises
    ------
    DataContractError
        When ``base_year`` is not in ``volume``.

    References
    ----------
    Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), *Det specialiserede socialområde –
    redskaber til styring og prioritering*, redskab 2 (serviceniveauer kombineret med forudsætning om
    antal og gennemsnitsomkostning) and 3 (realistisk budgetlægning).

    Examples
    --------
    >>> import pandas as pd
    >>> volume = pd.DataFrame({"year": [2023], "paragraph": ["SEL85"], "user_years": [100.0], "unit_cost": [1e5]})
    >>> budget_from_base(volume, base_year=2023, volume_change=0.05)
      paragraph  budget_user_years  budget_unit_cost      budget
    0     SEL85              105.0          100000.0  10500000.0
    """
    keys = as_list(by, name="by") if by not in ((), [], None) else []
    check_columns(volume, [year_col, *keys, "user_years", "unit_cost"], name="volume")
    for name, value in (("volume_change", volume_change), ("price_change", price_change)):
        if not isinstance(value, (int, float)) or not value > -1:
            raise ParameterError(f"{name} must be a relative change above -1; got {value!r}")
    base = volume[volume[year_col] == base_year]
    if base.empty:
        raise DataContractError(f"volume has no rows for base_year={base_year}; years present: "
                                f"{sorted(volume[year_col].unique().tolist())}")
    out = base[keys].copy().reset_index(drop=True)
    out["budget_user_years"] = base["user_years"].to_numpy(dtype=float) * (1 + volume_change)
    out["budget_unit_cost"] = base["unit_cost"].to_numpy(dtype=float) * (1 + price_change)
    out["budget"] = out["budget_user_years"] * out["budget_unit_cost"]
    return out


def budget_followup(forecast: pd.DataFrame, budget: pd.DataFrame, *, by: str | Sequence[str] = ("paragraph",),
                    method: str = "shapley") -> pd.DataFrame:
    """Forecast against budget, the deviation split into volume and price.

    Parameters
    ----------
    forecast : DataFrame
        :func:`forecast_year` output (``user_years``, ``unit_cost``, ``spending`` by ``by``).
    budget : DataFrame
        :func:`budget_from_base` output (``budget_user_years``, ``budget_unit_cost``, ``budget``).
    by : str or sequence of str, default ("paragraph",)
    method : {"shapley", "volume_first", "price_first"}, default "shapley"
        The split (:func:`~progression.steering.price_volume`).

    Returns
    -------
    DataFrame
        The forecast's columns, the budget's, ``deviation`` (spending − budget), ``deviation_volume``
        and ``deviation_price`` (they add up to ``deviation``). A group in only one of the two gets
        zero volume and the other's unit cost, so its whole deviation is volume.

    Examples
    --------
    >>> import pandas as pd
    >>> forecast = pd.DataFrame({"paragraph": ["SEL85"], "user_years": [110.0], "unit_cost": [1.02e5],
    ...                          "spending": [110 * 1.02e5]})
    >>> budget = pd.DataFrame({"paragraph": ["SEL85"], "budget_user_years": [100.0], "budget_unit_cost": [1e5],
    ...                        "budget": [1e7]})
    >>> budget_followup(forecast, budget)[["deviation", "deviation_volume", "deviation_price"]].round(0)
       deviation  deviation_volume  deviation_price
    0  1220000.0         1010000.0         210000.0
    """
    keys = as_list(by, name="by") if by not in ((), [], None) else []
    check_choice(method, PRICE_VOLUME_METHODS, name="method")
    check_columns(forecast, [*keys, "user_years", "unit_cost", "spending"], name="forecast")
    check_columns(budget, [*keys, "budget_user_years", "budget_unit_cost", "budget"], name="budget")
    if keys:
        out = forecast.merge(budget, on=keys, how="outer", sort=True)
    else:
        if len(forecast) != 1 or len(budget) != 1:
            raise DataContractError(f"with by=() forecast and budget must have one row each; got {len(forecast)} "
                                    f"and {len(budget)}")
        out = pd.concat([forecast.reset_index(drop=True), budget.reset_index(drop=True)], axis=1)
    for column in ("user_years", "spending", "budget_user_years", "budget"):
        out[column] = out[column].fillna(0.0)
    out["unit_cost"] = out["unit_cost"].fillna(out["budget_unit_cost"])
    out["budget_unit_cost"] = out["budget_unit_cost"].fillna(out["unit_cost"])
    split = price_volume(out["budget_user_years"], out["budget_unit_cost"], out["user_years"], out["unit_cost"],
                         method=method)
    out["deviation"] = out["spending"] - out["budget"]
    out["deviation_volume"] = split["volume"].to_numpy()
    out["deviation_price"] = split["price"].to_numpy()
    return out
