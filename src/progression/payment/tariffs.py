"""The tariff table, support levels, average and group tariffs, and the resource homogeneity of a grouping.

A botilbud is paid by a day rate (*takst*) per resident, computed from its budgeted costs at a planned
occupancy (*forudsat belægningsprocent*) and reported on Tilbudsportalen. Most municipalities
differentiate it by the resident's support need (*differentierede takster*: more than 8 of 10 municipalities
for § 108 and botilbudslignende tilbud; VIVE (2024), *Styringsgennemgang af socialpsykiatrien*, section
2.1.1). The tariff table here has one day rate per step of the staircase and support level; the support
level of a citizen comes from the VUM functioning level (:func:`support_level`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from progression._validation import check_columns, check_frame, numeric_values
from progression.constants import DAYS_PER_YEAR
from progression.exceptions import DataContractError, ParameterError
from progression.staircase import as_staircase

__all__ = ["MODELS", "tariff_table", "support_level", "average_tariffs", "group_tariffs", "resource_homogeneity"]

#: The payment models, named as in the issue and the notebook (VIVE 2024, sections 2.3.1 and 3.1.2).
MODELS = ("activity_average", "activity_differentiated", "group_tariff", "objective", "result_based",
          "special_places_80_20", "deficit_guarantee")


def _rows(tariffs) -> pd.DataFrame:
    if isinstance(tariffs, pd.DataFrame):
        return tariffs.copy()
    rows = [t.model_dump() if hasattr(t, "model_dump") else dict(t) for t in tariffs]
    return pd.DataFrame(rows, columns=["step", "support_level", "takst_dkk"] if not rows else None)


def tariff_table(tariffs, *, staircase=None, n_levels: int | None = None) -> pd.DataFrame:
    """Check a tariff table and return it in staircase order: one day rate per service step and support level.

    Parameters
    ----------
    tariffs : DataFrame or sequence of mappings
        Columns (keys) ``step``, ``support_level`` (1, 2, ...) and ``takst_dkk`` (the day rate, *døgntakst*);
        the rows a user copies from the takster of the tilbud on Tilbudsportalen.
    staircase : Staircase or StaircaseParams, optional
        The steps; every step except the no-service step needs a rate at every support level.
    n_levels : int, optional
        Support levels expected (default: the highest level in the table).

    Returns
    -------
    DataFrame
        ``step``, ``support_level``, ``takst_dkk`` and ``yearly_dkk`` (= takst × 365.25), sorted by step
        (least intensive first) and level.

    Raises
    ------
    ParameterError
        Naming unknown steps, a rate for the no-service step, repeated or missing (step, level) pairs and
        rates that are not positive.

    Examples
    --------
    >>> t = tariff_table([{"step": s, "support_level": 1, "takst_dkk": 100.0}
    ...                   for s in ("SEL82", "SEL85", "SEL107", "ABL105", "SEL108")])
    >>> t["step"].tolist()[:2], round(float(t["yearly_dkk"].iloc[0]))
    (['SEL82', 'SEL85'], 36525)
    """
    stairs = as_staircase(staircase)
    table = _rows(tariffs)
    check_columns(table, ["step", "support_level", "takst_dkk"], name="tariffs")
    table = table[["step", "support_level", "takst_dkk"]].copy()
    table["step"] = table["step"].astype(str)
    stairs.check_steps(table["step"], column="tariffs step")
    if (table["step"] == stairs.none_step).any():
        raise ParameterError(f"tariffs: the no-service step {stairs.none_step!r} has no takst; remove its rows")
    levels = numeric_values(table, "support_level", name="tariffs")
    if np.any(levels < 1) or np.any(levels != np.round(levels)):
        raise ParameterError(f"tariffs: support_level must be whole numbers 1, 2, ...; got {sorted(set(levels))}")
    table["support_level"] = levels.astype(int)
    rates = numeric_values(table, "takst_dkk", name="tariffs")
    if np.any(~np.isfinite(rates)) or np.any(rates <= 0):
        raise ParameterError(f"tariffs: takst_dkk must be positive numbers; got {rates[~(rates > 0)].tolist()[:5]}")
    repeated = table[table.duplicated(["step", "support_level"], keep=False)]
    if len(repeated):
        pairs = sorted(set(zip(repeated["step"], repeated["support_level"])))
        raise ParameterError(f"tariffs: (step, support_level) given more than once: {pairs}")
    n_levels = int(n_levels or table["support_level"].max())
    service = [s for s in stairs.steps if s != stairs.none_step]
    missing = [(s, lvl) for s in service for lvl in range(1, n_levels + 1)
               if not ((table["step"] == s) & (table["support_level"] == lvl)).any()]
    if missing:
        raise ParameterError(f"tariffs: no takst for (step, support_level) {missing}; every step except "
                             f"{stairs.none_step!r} needs a day rate at support levels 1-{n_levels}")
    extra = table[table["support_level"] > n_levels]
    if len(extra):
        raise ParameterError(f"tariffs: support levels above {n_levels} given: {sorted(set(extra['support_level']))}")
    table["step"] = pd.Categorical(table["step"], categories=list(stairs.steps), ordered=True)
    table = table.sort_values(["step", "support_level"]).reset_index(drop=True)
    table["step"] = table["step"].astype(str)
    table["yearly_dkk"] = table["takst_dkk"] * DAYS_PER_YEAR
    return table


def support_level(functioning, cuts: Sequence[float]) -> np.ndarray:
    """Support level 1, 2, ... of VUM functioning levels (0 none … 4 total limitation), by cut points.

    Level ``j`` holds values in ``[cuts[j-2], cuts[j-1])``: with cuts (1, 2), below 1 (at most light
    limitations) is level 1, 1 to under 2 is level 2, 2 or more (moderate or worse) is level 3.
    Missing values give 0 (unknown).

    Examples
    --------
    >>> support_level([0.4, 1.0, 1.99, 2.0, float("nan")], [1.0, 2.0]).tolist()
    [1, 2, 2, 3, 0]
    """
    cuts = np.asarray(cuts, dtype=float)
    if cuts.ndim != 1 or len(cuts) == 0 or np.any(np.diff(cuts) <= 0):
        raise ParameterError(f"support cuts must be increasing numbers; got {cuts.tolist()}")
    values = np.asarray(functioning, dtype=float)
    out = np.searchsorted(cuts, values, side="right") + 1
    return np.where(np.isnan(values), 0, out).astype(int)


def average_tariffs(tariffs: pd.DataFrame, mix: pd.DataFrame, *, count_col: str = "n_persons") -> pd.Series:
    """One day rate per step: the support levels' rates weighted by the residents at each level.

    This is the *gennemsnitstakst* a provider charges for every place whatever the resident's need;
    weighting by today's residents makes it cost the same as the differentiated rates today. A step
    with no residents gets the plain mean of its levels.

    Parameters
    ----------
    tariffs : DataFrame
        A :func:`tariff_table`.
    mix : DataFrame
        ``step``, ``support_level`` and a count of residents (``count_col``).

    Returns
    -------
    Series
        Day rate per step (index ``step``).

    Examples
    --------
    >>> t = pd.DataFrame({"step": ["SEL108", "SEL108"], "support_level": [1, 2], "takst_dkk": [1000.0, 2000.0]})
    >>> mix = pd.DataFrame({"step": ["SEL108", "SEL108"], "support_level": [1, 2], "n_persons": [3, 1]})
    >>> float(average_tariffs(t, mix)["SEL108"])
    1250.0
    """
    check_columns(mix, ["step", "support_level", count_col], name="mix")
    merged = tariffs.merge(mix[["step", "support_level", count_col]], on=["step", "support_level"], how="left")
    merged[count_col] = merged[count_col].fillna(0.0).astype(float)

    def one(rows: pd.DataFrame) -> float:
        w = rows[count_col].to_numpy()
        rates = rows["takst_dkk"].to_numpy(dtype=float)
        return float(np.average(rates, weights=w)) if w.sum() > 0 else float(rates.mean())

    steps = list(dict.fromkeys(tariffs["step"]))
    return pd.Series({s: one(merged[merged["step"] == s]) for s in steps}, name="takst_dkk").rename_axis("step")


def group_tariffs(tariffs: pd.DataFrame, residents: pd.DataFrame, *,
                  by: Sequence[str] = ("support_level", "target_group"), count_col: str = "n_persons") -> pd.DataFrame:
    """Standardised group tariffs (DRG-inspired): the mean day rate of the residents in each group.

    A group tariff is one national price for every resident of a group defined by need (here functioning
    level and target group), whichever step and provider serve them; it equals the differentiated rates
    in total over today's residents.

    Parameters
    ----------
    tariffs : DataFrame
        A :func:`tariff_table`.
    residents : DataFrame
        Counts of residents: ``step``, ``support_level``, the ``by`` columns and ``count_col``.
    by : sequence of str
        The grouping.

    Returns
    -------
    DataFrame
        The ``by`` columns, ``n_persons`` (residents in the group) and ``takst_dkk`` (the group's day rate).

    Examples
    --------
    >>> t = pd.DataFrame({"step": ["SEL107", "SEL108"], "support_level": [1, 1], "takst_dkk": [1000.0, 2000.0]})
    >>> r = pd.DataFrame({"step": ["SEL107", "SEL108"], "support_level": [1, 1], "target_group": ["a", "a"],
    ...                   "n_persons": [1, 3]})
    >>> group_tariffs(t, r)[["support_level", "target_group", "n_persons", "takst_dkk"]].to_dict("records")
    [{'support_level': 1, 'target_group': 'a', 'n_persons': 4.0, 'takst_dkk': 1750.0}]
    """
    by = list(by)
    check_columns(residents, ["step", "support_level", *by, count_col], name="residents")
    merged = residents.merge(tariffs[["step", "support_level", "takst_dkk"]], on=["step", "support_level"],
                             how="left", validate="many_to_one")
    if merged["takst_dkk"].isna().any():
        unknown = merged.loc[merged["takst_dkk"].isna(), ["step", "support_level"]].drop_duplicates()
        raise DataContractError(f"residents: no takst for (step, support_level) {list(map(tuple, unknown.values))}")
    merged["_weighted"] = merged["takst_dkk"] * merged[count_col]
    out = merged.groupby(by, sort=True, observed=True).agg(n_persons=(count_col, "sum"), _w=("_weighted", "sum"))
    out = out[out["n_persons"] > 0]
    out["takst_dkk"] = out["_w"] / out["n_persons"]
    out["n_persons"] = out["n_persons"].astype(float)
    return out.drop(columns="_w").reset_index()


def resource_homogeneity(costs: pd.DataFrame, groupings: Mapping[str, Iterable[str]], *, cost_col: str = "cost_dkk",
                         weight_col: str | None = None) -> pd.DataFrame:
    """How much of the variance of the cost per citizen each grouping explains (VIVE's *ressourcehomogene* groups).

    For a grouping g the explained share is the between-group share of the total sum of squares (the R² of
    a regression of cost on group indicators, η²):

    .. math:: R^2_g = 1 - \\frac{\\sum_i w_i (c_i - \\bar c_{g(i)})^2}{\\sum_i w_i (c_i - \\bar c)^2}

    Parameters
    ----------
    costs : DataFrame
        One row per citizen (or per cell of citizens with equal cost, weighted by ``weight_col``): the cost
        and the grouping columns.
    groupings : mapping of str to list of str
        Name of a grouping -> its columns, e.g. ``{"level x target group": ["support_level", "target_group"]}``.
    cost_col : str
        Cost per citizen (e.g. per year).
    weight_col : str, optional
        Citizens a row stands for (default: one each).

    Returns
    -------
    DataFrame
        ``grouping``, ``n_persons``, ``groups`` (how many), ``smallest_group`` (citizens in the smallest group)
        and ``r2``.

    References
    ----------
    Dalsgaard, Kloppenborg et al. (2023), cited in VIVE (2024), *Styringsgennemgang af socialpsykiatrien*,
    sections 2.3.1 and 3.4.2: a DRG-inspired tariff needs groups that are clinically meaningful, resource-homogeneous
    and few.

    Examples
    --------
    >>> c = pd.DataFrame({"cost_dkk": [1.0, 1.0, 3.0, 3.0], "g": ["a", "a", "b", "b"], "h": ["x", "y", "x", "y"]})
    >>> resource_homogeneity(c, {"g": ["g"], "h": ["h"]})[["grouping", "r2"]].to_dict("records")
    [{'grouping': 'g', 'r2': 1.0}, {'grouping': 'h', 'r2': 0.0}]
    """
    check_frame(costs, name="costs")
    columns = [c for cols in groupings.values() for c in cols]
    check_columns(costs, [cost_col, *columns, *([weight_col] if weight_col else [])], name="costs")
    c = numeric_values(costs, cost_col, name="costs")
    w = numeric_values(costs, weight_col, name="costs") if weight_col else np.ones(len(costs))
    if np.any(w < 0) or w.sum() <= 0:
        raise DataContractError(f"costs: column {weight_col!r} must hold non-negative weights with a positive sum")
    mean = np.average(c, weights=w)
    total = float(np.sum(w * (c - mean) ** 2))
    rows = []
    for name, cols in groupings.items():
        cols = list(cols)
        keys = costs[cols].astype(str).agg("|".join, axis=1) if cols else pd.Series("", index=costs.index)
        code = pd.factorize(keys)[0]
        size = np.bincount(code, weights=w)
        group_mean = np.bincount(code, weights=w * c) / np.where(size > 0, size, 1)
        within = float(np.sum(w * (c - group_mean[code]) ** 2))
        present = size[size > 0]
        rows.append({"grouping": name, "n_persons": float(w.sum()), "groups": int(len(present)),
                     "smallest_group": float(present.min()),
                     "r2": 1 - within / total if total > 0 else np.nan})
    return pd.DataFrame(rows)
