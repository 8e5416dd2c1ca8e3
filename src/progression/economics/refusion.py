"""The central refusion scheme for expensive single cases (SEL § 176): the state's share of a case's cost.

SØM works at prices after refusion: when an expensive case ends, the kommune saves its net share and the
state saves its refusion ("sparede refusionsudgifter", a state gain). The thresholds are a year-indexed
table (:data:`REFUSION_THRESHOLDS`); levels not confirmed from a primary source are marked.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from progression.exceptions import ApproximationWarning, ParameterError

__all__ = ["REFUSION_THRESHOLDS", "REFUSION_AGE_LIMIT", "refusion_thresholds", "state_refusion",
           "split_case_costs", "unit_costs_after_refusion"]

def _refusion_table() -> pd.DataFrame:
    rows = [
        # year, threshold, share of the part above it, confirmed, source
        (2020, 830_000, 0.25, True, "L 197 (2019-20), SEL § 176 stk. 1, 2020-niveau"),
        (2020, 1_630_000, 0.50, True, "L 197 (2019-20), SEL § 176 stk. 1, 2020-niveau"),
        (2020, 2_050_000, 0.75, True, "L 197 (2019-20), SEL § 176 stk. 1, 2020-niveau"),
        (2022, 860_000, 0.25, True, "SEL § 176 stk. 1, 2022-niveau"),
        (2022, 1_680_000, 0.50, True, "SEL § 176 stk. 1, 2022-niveau"),
        (2022, 2_120_000, 0.75, True, "SEL § 176 stk. 1, 2022-niveau"),
        (2024, 910_000, 0.25, True, "VIVE (2024), Styringsgennemgang af socialpsykiatrien: 2024-takster"),
        (2024, 1_780_000, 0.50, False, "2022 level × 910/860, rounded; not confirmed"),
        (2024, 2_240_000, 0.75, False, "2022 level × 910/860, rounded; not confirmed"),
    ]
    return pd.DataFrame(rows, columns=["year", "threshold_dkk", "refusion_share", "confirmed", "source"])


#: Thresholds of the central refusion scheme by year: the state reimburses ``refusion_share`` of
#: the part of a person's yearly cost above ``threshold_dkk`` (bands; persons under 67).
#: Values with ``confirmed = False`` are imputations: replace them when the official level is known.
REFUSION_THRESHOLDS: pd.DataFrame = _refusion_table()


REFUSION_AGE_LIMIT = 67


def refusion_thresholds(year: int, *, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """The refusion bands that apply in ``year``.

    Uses the latest table year not after ``year`` and warns (:class:`ApproximationWarning`) when
    that is not ``year`` itself or when a band is not confirmed.

    Parameters
    ----------
    year : int
    table : DataFrame, default=None
        Columns ``year``, ``threshold_dkk``, ``refusion_share`` (and optionally ``confirmed``);
        default :data:`REFUSION_THRESHOLDS`.

    Returns
    -------
    DataFrame
        The bands of that year, sorted by threshold.

    Raises
    ------
    ParameterError
        When the table lacks a column or an earlier year, or its shares are not in [0, 1] and rising.

    Examples
    --------
    >>> refusion_thresholds(2022)[["threshold_dkk", "refusion_share"]]
       threshold_dkk  refusion_share
    0         860000            0.25
    1        1680000            0.50
    2        2120000            0.75
    """
    table = REFUSION_THRESHOLDS if table is None else table
    missing = {"year", "threshold_dkk", "refusion_share"} - set(table.columns)
    if missing:
        raise ParameterError(f"table: missing column(s) {sorted(missing)}; columns present: {list(table.columns)}")
    earlier = table.loc[table["year"] <= year, "year"]
    if earlier.empty:
        raise ParameterError(
            f"year: no refusion thresholds for {year} or earlier; "
            f"table years: {sorted(table['year'].unique().tolist())}"
        )
    used = int(earlier.max())
    bands = table[table["year"] == used].sort_values("threshold_dkk").reset_index(drop=True)
    if used != year:
        warnings.warn(f"refusion thresholds for {year} not in the table; using those of {used}",
                      ApproximationWarning, stacklevel=2)
    if "confirmed" in bands and not bands["confirmed"].all():
        unconfirmed = bands.loc[~bands["confirmed"].astype(bool), "threshold_dkk"].tolist()
        warnings.warn(f"refusion thresholds {unconfirmed} of {used} are not confirmed (imputed)",
                      ApproximationWarning, stacklevel=2)
    shares = bands["refusion_share"].to_numpy()
    if np.any(np.diff(shares) < 0) or np.any((shares < 0) | (shares > 1)):
        raise ParameterError(f"table: refusion shares of {used} must lie in [0, 1] and rise with the "
                             f"threshold; got {shares.tolist()}")
    return bands


def state_refusion(cost, *, year: int, age=None, table: pd.DataFrame | None = None) -> np.ndarray:
    """State refusion of yearly single-case costs (SEL § 176).

    Parameters
    ----------
    cost : array-like of float
        A person's yearly cost to the municipality (DKK, nominal level of ``year``).
    year : int
        The year whose thresholds apply.
    age : array-like of float, default=None
        Age in the year; the scheme covers persons under 67 (``None`` = all under 67).
    table : DataFrame, default=None
        See :func:`refusion_thresholds`.

    Returns
    -------
    ndarray
        Refusion in DKK, same shape as ``cost``.

    Notes
    -----
    Banded: refusion = Σ_k s_k · (min(cost, T_{k+1}) − T_k)⁺, which equals the marginal form
    Σ_k (s_k − s_{k−1}) · (cost − T_k)⁺. Persons aged 67 or over who were covered just before
    their 67th birthday stay covered (SEL § 176 stk. 3): pass their age as under 67 to include them.

    Raises
    ------
    ParameterError
        When a cost is negative or not finite (or as :func:`refusion_thresholds`).

    Examples
    --------
    At the 2022 thresholds, 2.5 m kr. gives 0.25 · 0.82 m + 0.50 · 0.44 m + 0.75 · 0.38 m:

    >>> state_refusion([500_000, 1_000_000, 2_500_000], year=2022)
    array([     0.,  35000., 710000.])
    >>> state_refusion([1_000_000, 1_000_000], year=2022, age=[40, 70])
    array([35000.,     0.])
    """
    bands = refusion_thresholds(year, table=table)
    c = np.asarray(cost, dtype=float)
    if np.any(c < 0) or not np.all(np.isfinite(c)):
        raise ParameterError(f"cost: expected finite costs ≥ 0; found {c[(c < 0) | ~np.isfinite(c)][:5].tolist()}")
    shares = bands["refusion_share"].to_numpy(dtype=float)
    marginal = np.diff(shares, prepend=0.0)
    thresholds = bands["threshold_dkk"].to_numpy(dtype=float)
    refusion = sum(m * np.clip(c - t, 0.0, None) for m, t in zip(marginal, thresholds))
    if age is not None:
        refusion = np.where(np.asarray(age, dtype=float) < REFUSION_AGE_LIMIT, refusion, 0.0)
    return np.asarray(refusion, dtype=float)


def split_case_costs(cases: pd.DataFrame, *, cost_col: str = "cost_dkk", year_col: str = "year",
                     age_col: str | None = "age", table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Split yearly single-case costs into the kommune's share and the state's refusion.

    Parameters
    ----------
    cases : DataFrame
        One row per person and year.
    cost_col, year_col : str
        Yearly cost (DKK) and the year whose thresholds apply.
    age_col : str or None, default="age"
        Age in the year (refusion only under 67); ``None`` treats everyone as under 67.
    table : DataFrame, default=None
        See :func:`refusion_thresholds`.

    Returns
    -------
    DataFrame
        ``cases`` plus ``stat_refusion_dkk`` and ``kommune_dkk`` (they sum to the cost).

    Raises
    ------
    ParameterError
        When a column is missing (or as :func:`state_refusion`).

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"year": [2022, 2022], "age": [40, 70], "cost_dkk": [1_000_000.0, 1_000_000.0]})
    >>> split_case_costs(cases)
       year  age   cost_dkk  stat_refusion_dkk  kommune_dkk
    0  2022   40  1000000.0            35000.0     965000.0
    1  2022   70  1000000.0                0.0    1000000.0
    """
    needed = [cost_col, year_col] + ([age_col] if age_col else [])
    missing = [c for c in needed if c not in cases.columns]
    if missing:
        raise ParameterError(f"cases: missing column(s) {missing}; columns present: {list(cases.columns)}")
    out = cases.copy()
    refusion = np.zeros(len(out))
    for year, idx in out.groupby(year_col).indices.items():
        rows = out.iloc[idx]
        refusion[idx] = state_refusion(rows[cost_col], year=int(year),
                                       age=rows[age_col] if age_col else None, table=table)
    out["stat_refusion_dkk"] = refusion
    out["kommune_dkk"] = out[cost_col].to_numpy(dtype=float) - refusion
    return out


def unit_costs_after_refusion(unit_costs: pd.DataFrame, *, year: int, age: float | None = None,
                              table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Split gross yearly per-person costs of kommune services into kommune and stat rows.

    SØM works at prices after refusion: when an expensive case ends, the kommune saves its net
    share and the state saves its refusion ("sparede refusionsudgifter", a state gain).

    Parameters
    ----------
    unit_costs : DataFrame
        A :class:`~progression.schemas.UnitCosts` table. Rows paid by the kommune per ``year``
        are read as one person's whole yearly case cost and split; other rows pass unchanged.
    year : int
        Year whose thresholds apply (the amounts must be in that year's level).
    age : float, default=None
        Age of the person (no refusion from 67); ``None`` = under 67.
    table : DataFrame, default=None
        See :func:`refusion_thresholds`.

    Returns
    -------
    DataFrame
        The table with each split row replaced by a kommune row (cost − refusion) and, where
        the refusion is positive, a stat row (the refusion; source noted).

    Notes
    -----
    Exact only when the service is the person's only cost under the scheme: refusion is banded
    on the whole case, so the split of one service in a larger case differs.

    Examples
    --------
    >>> import pandas as pd
    >>> unit_costs = pd.DataFrame({"item": ["SEL108", "SEL108"], "payer": ["kommune", "region"],
    ...                            "unit": "year", "cost_dkk": [1_200_000.0, 50_000.0],
    ...                            "price_year": 2022, "source": "assumption"})
    >>> unit_costs_after_refusion(unit_costs, year=2022)[["item", "payer", "cost_dkk"]]
         item    payer   cost_dkk
    0  SEL108   region    50000.0
    1  SEL108  kommune  1115000.0
    2  SEL108     stat    85000.0
    """
    split = unit_costs["payer"].eq("kommune") & unit_costs["unit"].eq("year")
    rows = unit_costs[split]
    refusion = state_refusion(rows["cost_dkk"], year=year, age=None if age is None else [age] * len(rows),
                              table=table)
    kommune = rows.assign(cost_dkk=rows["cost_dkk"].to_numpy(dtype=float) - refusion)
    stat = rows.assign(payer="stat", cost_dkk=refusion,
                       source=rows["source"].astype(str) + f"; refusion SEL § 176 ({year})")[refusion > 0]
    return pd.concat([unit_costs[~split], kommune, stat], ignore_index=True)
