"""What the estimators of :mod:`progression.transitions` share: the person-period panel as numpy codes,
and the check of their bootstrap settings.

Internal to the package (the module is private), its functions public to its modules: the transition
matrices and cohort flows (:mod:`~progression.transitions.discrete`) and the durations
(:mod:`~progression.transitions.durations`) read the panel the same way.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from progression._validation import check_columns, check_level, check_positive_int
from progression.exceptions import DataContractError, ParameterError, StatisticalWarning
from progression.panel import PERIODS, infer_period, period_number
from progression.staircase import STATUSES, Staircase

__all__ = ["category_codes", "status_codes", "status_error", "panel_period", "coded_panel", "check_bootstrap"]


def category_codes(values: pd.Series, categories: Sequence[str], column: str, checker) -> np.ndarray:
    """Positions of ``values`` in ``categories`` (fast path for categorical columns).

    ``checker(bad_values, column=column)`` raises for values outside ``categories``; a missing value
    raises :class:`~progression.exceptions.DataContractError`.

    Parameters
    ----------
    values : Series
    categories : sequence of str
    column : str
        The column's name, for messages.
    checker : callable
        ``checker(bad_values, column=...)``, which raises (e.g. ``Staircase.check_steps``).

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> import pandas as pd
    >>> from progression.staircase import Staircase
    >>> stairs = Staircase.from_params()
    >>> category_codes(pd.Series(["SEL85", "none"]), stairs.steps, "step", stairs.check_steps)
    array([2, 0])
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        position = {c: i for i, c in enumerate(categories)}
        lookup = np.array([position.get(str(c), -1) for c in values.cat.categories] + [-1], dtype="int64")
        codes = lookup[values.cat.codes.to_numpy()]  # code -1 (missing) picks the trailing -1
    else:
        codes = pd.Index(list(categories)).get_indexer(values).astype("int64")
    if (codes < 0).any():
        bad = pd.unique(values[codes < 0])
        if pd.isna(bad).any():
            raise DataContractError(f"column '{column}' has {int(pd.isna(values).sum())} missing value(s)")
        checker(bad, column=column)
    return codes


def status_error(values, column: str) -> None:
    """Raise the error for status values that are not panel statuses (the ``checker`` of the status column).

    Parameters
    ----------
    values : iterable
        The values found.
    column : str
        The column's name.

    Raises
    ------
    DataContractError
        Always, naming up to five values and the statuses expected.

    Examples
    --------
    >>> status_error(["gone"], column="status")
    Traceback (most recent call last):
    ...
    progression.exceptions.DataContractError: column 'status' has values ['gone']; expected one of [...]
    """
    raise DataContractError(f"column '{column}' has values {list(values)[:5]}; expected one of {list(STATUSES)}")


def status_codes(values: pd.Series, column: str) -> np.ndarray:
    """Codes of the panel's ``status`` column: 0 observed, then the exit statuses in their order.

    Parameters
    ----------
    values : Series
    column : str
        The column's name, for messages.

    Returns
    -------
    ndarray of int64

    Raises
    ------
    DataContractError
        For a missing value or one that is not a status.

    Examples
    --------
    >>> import pandas as pd
    >>> status_codes(pd.Series(["observed", "died", "moved"]), "status")
    array([0, 1, 3])
    """
    return category_codes(values, STATUSES, column, status_error)


def panel_period(panel: pd.DataFrame, period: str | None, period_col: str = "period") -> str:
    """The period length: ``period`` if given, else ``panel.attrs["period"]``, else inferred from the dates.

    Parameters
    ----------
    panel : DataFrame
    period : str or None
    period_col : str, default="period"

    Returns
    -------
    str

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> panel = load_example("panel_year")
    >>> panel_period(panel, None), panel_period(panel, "month")
    ('year', 'month')
    """
    return period or panel.attrs.get("period") or infer_period(panel[period_col])


def coded_panel(panel: pd.DataFrame, *, stairs: Staircase, person_col: str, period_col: str, step_col: str,
                status_col: str, period: str | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The panel sorted by person and period, with period numbers, step codes and status codes.

    Parameters
    ----------
    panel : DataFrame
        The person-period panel.
    stairs : Staircase
    person_col, period_col, step_col, status_col : str
        Column names.
    period : str or None
        Period length (:func:`panel_period`).

    Returns
    -------
    (DataFrame, ndarray, ndarray, ndarray)
        The sorted panel (``attrs["period"]`` set), its period numbers
        (:func:`progression.panel.period_number`), step codes (positions in ``stairs.steps``) and
        status codes (:func:`status_codes`).

    Raises
    ------
    DataContractError
        When a column is missing or holds a value that is not a step or status.
    ParameterError
        When the period is unknown.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> from progression.staircase import Staircase
    >>> panel, pnum, step, status = coded_panel(
    ...     load_example("panel_year"), stairs=Staircase.from_params(), person_col="person_id",
    ...     period_col="period", step_col="step", status_col="status", period=None)
    >>> pnum[:3], step[:3], status[:3]
    (array([2010, 2011, 2012]), array([2, 2, 2]), array([0, 0, 3]))
    """
    check_columns(panel, {"person_col": person_col, "period_col": period_col, "step_col": step_col,
                          "status_col": status_col}, name="panel")
    period = panel_period(panel, period, period_col)
    if period not in PERIODS:
        raise ParameterError(f"period must be one of {PERIODS}; got {period!r}")
    order = np.lexsort((panel[period_col].to_numpy(), panel[person_col].to_numpy()))
    if not (np.diff(order) == 1).all():
        panel = panel.iloc[order]
    panel = panel.reset_index(drop=True)
    pnum = period_number(panel[period_col], period)
    step = category_codes(panel[step_col], stairs.steps, step_col, stairs.check_steps)
    status = status_codes(panel[status_col], status_col)
    panel.attrs["period"] = period
    return panel, pnum, step, status


_WARNED_N_BOOT: set[int] = set()


def check_bootstrap(n_boot: int, cl: float) -> None:
    """Check the replicates and the confidence level of a citizen bootstrap.

    Fewer than 100 replicates give rough percentile intervals: a
    :class:`~progression.exceptions.StatisticalWarning` says so, once per number of replicates in a
    session (an analysis fits many matrices with the same setting).

    Parameters
    ----------
    n_boot : int
        Replicates (0: no intervals).
    cl : float
        Confidence level, in (0, 1).

    Raises
    ------
    ParameterError
        When ``n_boot`` is negative or not an integer, or ``cl`` is outside (0, 1).

    Examples
    --------
    >>> check_bootstrap(1000, 0.95)
    >>> check_bootstrap(1000, 1.5)
    Traceback (most recent call last):
    ...
    progression.exceptions.ParameterError: cl must be a confidence level in (0, 1); got 1.5
    """
    check_positive_int(n_boot, name="n_boot", minimum=0)
    check_level(cl)
    if 0 < n_boot < 100 and n_boot not in _WARNED_N_BOOT:
        _WARNED_N_BOOT.add(int(n_boot))
        warnings.warn(f"n_boot={n_boot} gives rough percentile intervals; use 1000 or more",
                      StatisticalWarning, stacklevel=3)
