"""Steering tools for the specialised social area (Finansministeriet 2009): growth, price × volume, budget follow-up.

Finansministeriet, Indenrigs- og Socialministeriet & KL (2009), *Det specialiserede socialområde –
redskaber til styring og prioritering*, describe how a municipality can steer the area: follow its
spending by area over time and per inhabitant of the relevant age, budget each target group as number
of users × average cost per user, book every commitment as it is made (*dispositionsregnskab*) and
trace a deviation from the budget to price or volume. This package holds those tools:

* :mod:`~progression.steering.growth` — :func:`growth_table` (average growth and compound rate),
  :func:`per_capita`, :func:`shares_of_total`, :func:`implied_population`;
* :mod:`~progression.steering.decomposition` — :func:`price_volume` (the exact, symmetric two-factor
  split), :func:`price_volume_demography` (population × coverage × unit cost), :func:`shapley_product`;
* :mod:`~progression.steering.followup` — :func:`commitments`, :func:`yearly_volume`,
  :func:`forecast_year`, :func:`forecast_by_month`, :func:`budget_from_base`, :func:`budget_followup`;
* :mod:`~progression.steering.seed004` — the report's section 2 tables (:func:`load_seed004_tables`)
  and their reproduction within the rounding.

Figures: :mod:`progression.plots.steering`; the notebook's steps: :mod:`progression.analyses.steering`.

Examples
--------
>>> from progression.steering import price_volume
>>> split = price_volume(q0=100.0, p0=550_000.0, q1=110.0, p1=560_000.0)
>>> bool(abs(split["volume"].item() + split["price"].item() - split["change"].item()) < 1e-6)
True
"""

from progression.steering.decomposition import (
    PRICE_VOLUME_METHODS,
    price_volume,
    price_volume_demography,
    shapley_product,
)
from progression.steering.followup import (
    PRICE_UNITS,
    budget_followup,
    budget_from_base,
    commitments,
    forecast_by_month,
    forecast_year,
    yearly_volume,
)
from progression.steering.growth import growth_table, implied_population, per_capita, rounding_bounds, shares_of_total
from progression.steering.seed004 import (
    SEED004_AREAS,
    SEED004_HALF_UNITS,
    SEED004_REFERENCE,
    check_sums,
    implied_populations,
    load_seed004_tables,
    reproduce_growth,
    reproduce_weighted_means,
    seed004_decomposition,
    seed004_wide,
)

__all__ = [
    "PRICE_UNITS",
    "PRICE_VOLUME_METHODS",
    "SEED004_AREAS",
    "SEED004_HALF_UNITS",
    "SEED004_REFERENCE",
    "budget_followup",
    "budget_from_base",
    "check_sums",
    "commitments",
    "forecast_by_month",
    "forecast_year",
    "growth_table",
    "implied_population",
    "implied_populations",
    "load_seed004_tables",
    "per_capita",
    "price_volume",
    "price_volume_demography",
    "reproduce_growth",
    "reproduce_weighted_means",
    "rounding_bounds",
    "seed004_decomposition",
    "seed004_wide",
    "shapley_product",
    "shares_of_total",
    "yearly_volume",
]
