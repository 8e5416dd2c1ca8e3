"""The result vocabulary shared by every estimator of the package.

* An estimate with its uncertainty is a row with ``estimate, std_error, conf_low, conf_high`` (and
  ``statistic, p_value`` where a test is meaningful); identifiers come first.
* The confidence level is ``cl`` (default 0.95), bootstrap replicates ``n_boot``, randomness ``seed``,
  counts of persons ``n_persons``.
* Random numbers come from *named streams*: :func:`stream_seed` turns the run's master seed and a
  name (``"transitions.bootstrap"``) into an independent seed, so adding a stream never shifts
  another one and no code adds offsets to seeds by hand.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy import stats

from progression._validation import check_level

__all__ = [
    "INTERVAL_COLUMNS", "RESULT_COLUMNS", "z_value", "normal_interval", "percentile_interval",
    "stream_seed", "stream",
]

#: An estimate and its uncertainty, in this order, in every tidy result.
INTERVAL_COLUMNS = ("estimate", "std_error", "conf_low", "conf_high")
#: With a test of estimate = 0.
RESULT_COLUMNS = (*INTERVAL_COLUMNS, "statistic", "p_value")


def z_value(cl: float = 0.95) -> float:
    """The two-sided standard normal critical value of confidence level ``cl``.

    Parameters
    ----------
    cl : float, default=0.95
        Confidence level, in (0, 1).

    Returns
    -------
    float
        z with P(|Z| ≤ z) = cl.

    Raises
    ------
    ParameterError
        When ``cl`` is outside (0, 1).

    Examples
    --------
    >>> round(z_value(0.95), 4)
    1.96
    """
    return float(stats.norm.ppf(0.5 + check_level(cl) / 2))


def normal_interval(estimate, std_error, *, cl: float = 0.95):
    """Wald interval ``estimate ± z · std_error``; arrays broadcast.

    Parameters
    ----------
    estimate, std_error : float or array-like
    cl : float, default=0.95
        Confidence level.

    Returns
    -------
    (ndarray, ndarray)
        Lower and upper limits.

    Examples
    --------
    >>> low, high = normal_interval(1.0, 0.5)
    >>> print(f"{low:.3f} {high:.3f}")
    0.020 1.980
    """
    z = z_value(cl)
    estimate, std_error = np.asarray(estimate, dtype=float), np.asarray(std_error, dtype=float)
    return estimate - z * std_error, estimate + z * std_error


def percentile_interval(replicates, *, cl: float = 0.95, axis: int = 0):
    """Percentile bootstrap interval of ``replicates`` along ``axis`` (NaN replicates ignored).

    Parameters
    ----------
    replicates : array-like
        Bootstrap replicates of one or more statistics.
    cl : float, default=0.95
        Confidence level: the limits are the (1 − cl)/2 and (1 + cl)/2 quantiles.
    axis : int, default=0
        Axis of the replicates.

    Returns
    -------
    (ndarray, ndarray)
        Lower and upper limits (floats for a 1-D input).

    Examples
    --------
    >>> low, high = percentile_interval(np.arange(101.0))
    >>> print(f"{low:.1f} {high:.1f}")
    2.5 97.5
    """
    tail = (1 - check_level(cl)) / 2
    reps = np.asarray(replicates, dtype=float)
    with np.errstate(all="ignore"):
        low, high = np.nanquantile(reps, [tail, 1 - tail], axis=axis)
    return low, high


def stream_seed(seed: int, name: str) -> int:
    """An independent integer seed for the random stream ``name`` of a run seeded with ``seed``.

    The same (seed, name) always gives the same stream, on every platform; different names give
    statistically independent streams (numpy's ``SeedSequence`` with the name's CRC-32 as spawn key).

    Parameters
    ----------
    seed : int
        The run seed (non-negative).
    name : str
        The stream's name, e.g. ``"transitions.bootstrap"``.

    Returns
    -------
    int
        A 32-bit seed.

    Raises
    ------
    TypeError
        When ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> stream_seed(20240101, "transitions.bootstrap") == stream_seed(20240101, "transitions.bootstrap")
    True
    >>> stream_seed(20240101, "a") != stream_seed(20240101, "b")
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"seed must be a non-negative integer; got {seed!r}")
    key = zlib.crc32(name.encode("utf-8"))
    return int(np.random.SeedSequence(int(seed), spawn_key=(key,)).generate_state(1, np.uint32)[0])


def stream(seed: int, name: str) -> np.random.Generator:
    """A ``numpy.random.Generator`` on the named stream (see :func:`stream_seed`).

    Parameters
    ----------
    seed : int
        The run seed (non-negative).
    name : str
        The stream's name, e.g. ``"transitions.bootstrap"``.

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    TypeError
        When ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> a = stream(20240101, "example").normal(size=3)
    >>> b = stream(20240101, "example").normal(size=3)
    >>> bool((a == b).all())
    True
    """
    return np.random.default_rng(stream_seed(seed, name))
