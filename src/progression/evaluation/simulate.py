"""Seeded data with known effects, for the tests and the examples of the estimators.

:func:`staggered_adoption_panel` simulates municipalities adopting an intervention in different years,
uptake that differs between them, and citizens whose outcome changes only when they start: the
municipality-year panel that :class:`~progression.evaluation.CallawaySantAnna` and
:func:`~progression.evaluation.per_starter_effect` take, with the effect per starter known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from progression import _validation as chk

__all__ = ["staggered_adoption_panel"]


def staggered_adoption_panel(
    *,
    seed: int,
    n_municipalities: int = 98,
    years: tuple[int, int] = (2014, 2022),
    share_adopting: float = 0.6,
    effect_per_starter: float = 0.3,
    uptake: tuple[float, float] = (0.03, 0.12),
    eligible: tuple[int, int] = (40, 400),
) -> pd.DataFrame:
    """A municipality-year panel of staggered adoption with a known effect per starter.

    Parameters
    ----------
    seed : int
    n_municipalities : int, default=98
    years : (int, int), default=(2014, 2022)
        First and last year of the panel.
    share_adopting : float, default=0.6
        Share of municipalities that adopt, each in a year drawn from the third to the second-last year.
    effect_per_starter : float, default=0.3
        Change in a starter's probability of the outcome (the truth of :func:`per_starter_effect`).
    uptake : (float, float), default=(0.03, 0.12)
        Range of the yearly uptake rate of an adopting municipality (drawn per municipality): its share
        started is min(1, rate × years since adoption + 1).
    eligible : (int, int), default=(40, 400)
        Range of the number of eligible citizens per municipality.

    Returns
    -------
    DataFrame
        One row per municipality and year: ``municipality``, ``year``, ``n_persons`` (eligible citizens),
        ``share_started``, ``employed`` (share with the outcome) and ``adoption_year`` (missing = never).

    Notes
    -----
    P(outcome) = α_m + 0.01·(year − first year) + effect · 1{started}, α_m ~ U(0.2, 0.5); the number of
    starters is binomial in the municipality's share, the outcomes binomial in each group. Parallel
    trends hold by construction; the effect on everyone eligible is the effect per starter times the
    share started.

    Examples
    --------
    >>> panel = staggered_adoption_panel(seed=1)
    >>> panel.shape
    (882, 6)
    >>> float(panel.loc[panel["adoption_year"].isna(), "share_started"].max())
    0.0
    """
    chk.check_positive_int(n_municipalities, name="n_municipalities", minimum=2)
    rng = np.random.default_rng(seed)
    first, last = years
    periods = np.arange(first, last + 1)
    adopts = rng.random(n_municipalities) < share_adopting
    adoption = np.where(adopts, rng.integers(first + 2, last, size=n_municipalities), np.nan)
    rate = rng.uniform(*uptake, size=n_municipalities)
    size = rng.integers(eligible[0], eligible[1] + 1, size=n_municipalities)
    alpha = rng.uniform(0.2, 0.5, size=n_municipalities)
    exposure = np.where(periods[None, :] >= adoption[:, None], periods[None, :] - adoption[:, None] + 1, 0.0)
    share = np.minimum(1.0, rate[:, None] * exposure)
    n = np.broadcast_to(size[:, None], share.shape)
    starters = rng.binomial(n, share)
    base = alpha[:, None] + 0.01 * (periods - first)[None, :]
    outcomes = rng.binomial(n - starters, base) + rng.binomial(starters, np.clip(base + effect_per_starter, 0, 1))
    return pd.DataFrame({
        "municipality": np.repeat(np.arange(1, n_municipalities + 1), len(periods)),
        "year": np.tile(periods, n_municipalities),
        "n_persons": n.ravel(),
        "share_started": (starters / n).ravel(),
        "employed": (outcomes / n).ravel(),
        "adoption_year": np.repeat(adoption, len(periods)),
    })
