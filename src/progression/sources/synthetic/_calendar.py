"""Continuous time of the simulation: years since 1970-01-01, with 365.25 days per year."""

from __future__ import annotations

import numpy as np

from progression.constants import DAYS_PER_YEAR  # noqa: F401  (used below and by the generator)
_EPOCH = np.datetime64("1970-01-01", "D")


def year_start(years) -> np.ndarray:
    """Time of 1 January of each year."""
    years = np.asarray(years, dtype=np.int64) - 1970
    days = years.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    return days / DAYS_PER_YEAR


def day_number(t) -> np.ndarray:
    """Whole days since 1970-01-01 of times ``t`` (the day an instant falls on)."""
    return np.floor(np.asarray(t, dtype=float) * DAYS_PER_YEAR + 1e-7).astype(np.int64)


def to_datetime(days: np.ndarray) -> np.ndarray:
    """Day numbers to ``datetime64[ns]``."""
    return (_EPOCH + np.asarray(days).astype("timedelta64[D]")).astype("datetime64[ns]")


def calendar_year(t) -> np.ndarray:
    """Calendar year of times ``t``."""
    return (_EPOCH + day_number(t).astype("timedelta64[D]")).astype("datetime64[Y]").astype(np.int64) + 1970
