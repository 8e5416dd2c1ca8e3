"""Treatment timing from participation records: the first start year per person or per municipality."""

from __future__ import annotations

import pandas as pd

from progression import _validation as chk
from progression.exceptions import DataContractError

__all__ = ["first_treated"]


def first_treated(
    participations: pd.DataFrame,
    *,
    by: str = "person_id",
    start_date: str = "start_date",
    intervention: str | None = None,
    intervention_col: str = "intervention",
) -> pd.DataFrame:
    """Year of the first start of an intervention per person, or per municipality (its adoption year).

    Merge the result onto a person-year panel (``how="left"``): units without a row are never treated
    and get a missing value, which the difference-in-differences estimators read as never treated.

    Parameters
    ----------
    participations : DataFrame
        One row per participation with at least ``by`` and ``start_date``.
    by : str, default="person_id"
        Unit of timing: ``"person_id"`` (own start) or ``"municipality"`` (staggered adoption).
    start_date : str, default="start_date"
        Start date column (dates or strings parseable as dates).
    intervention : str, optional
        Keep only participations in this intervention.
    intervention_col : str, default="intervention"
        Column naming the intervention (used with ``intervention``).

    Returns
    -------
    DataFrame
        Columns ``by`` and ``first_treated`` (int year), one row per unit.

    Raises
    ------
    DataContractError
        When a column is missing, holds missing values or values that are not dates, or no row has
        ``intervention``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> participations = load_example("participations")
    >>> first_treated(participations).head(2)
       person_id  first_treated
    0         50           2020
    1        133           2020
    >>> first_treated(participations, by="municipality", intervention="ips").head(2)
       municipality  first_treated
    0           163           2018
    1           167           2018
    """
    chk.check_frame(participations, name="participations")
    chk.check_columns(participations, [by, start_date, intervention_col if intervention else None], name="participations")
    rows = participations
    if intervention is not None:
        rows = rows[rows[intervention_col] == intervention]
        if rows.empty:
            found = sorted(map(str, participations[intervention_col].dropna().unique()))[:5]
            raise DataContractError(
                f"participations: no rows with {intervention_col!r} == {intervention!r}; values found: {found}"
            )
    chk.check_no_missing(rows, [by, start_date], name="participations")
    dates = pd.to_datetime(rows[start_date], errors="coerce", format="mixed")
    if dates.isna().any():
        bad = rows.loc[dates.isna(), start_date].head(3).tolist()
        raise DataContractError(f"participations: column {start_date!r} has values that are not dates, e.g. {bad}")
    years = dates.dt.year.groupby(rows[by]).min()
    return years.rename("first_treated").reset_index()
