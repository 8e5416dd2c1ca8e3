"""What the data say about the inputs of a power calculation: baseline rates, trends, ICCs, cluster sizes.

The fund's outcomes are binary per citizen and year (a psychiatric admission, employment, …). For a
pilot that assigns municipalities, the variance that matters is the one *between municipalities*:
the intracluster correlation ρ = τ²/(τ² + σ_e²) of the outcome within municipality and year, and how
much of the municipal level persists from year to year (the cluster autocorrelation, CAC).

ρ is estimated by the one-way analysis of variance for unequal cluster sizes (Donner 1986), the
moment estimator of the random-intercept model y_ij = μ + u_j + e_ij, pooled over years:

    ρ̂ = (MSB − MSW) / (MSB + (n₀ − 1)·MSW),  n₀ = (N − Σ n_j²/N)/(k − 1),

with mean squares between (MSB) and within (MSW) municipalities summed over the years (each year
centred on its own mean, so common trends are not municipal variance). The CAC is the covariance of
the municipal means of two different years over the within-year between-municipality variance, τ̂².
With a cohort (the same citizens in several years) the citizens' own persistence adds to that
covariance, so the CAC is then an upper bound.

References
----------
Donner, A. (1986). A review of inference procedures for the intraclass correlation coefficient in the
one-way random effects model. International Statistical Review 54(1), 67–82.
Snijders, T. A. B. & Bosker, R. J. (2012). Multilevel Analysis, 2nd ed. Sage, section 3.3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression import _validation as chk
from progression.exceptions import DataContractError

__all__ = ["OUTCOME_RULES", "binary_outcomes", "anova_icc", "design_inputs"]

#: Binary outcomes of the person-year table: name -> (column, threshold); the outcome is column > threshold.
OUTCOME_RULES: dict[str, tuple[str, float]] = {
    "psych_admission": ("psych_inpatient_days", 0.0),
    "employed": ("employment_weeks", 0.0),
    "in_education": ("education_weeks", 0.0),
    "justice_contact": ("justice_contact", 0.0),
}


def binary_outcomes(person_years: pd.DataFrame, outcomes: Sequence[str] | None = None, *,
                    rules: Mapping[str, tuple[str, float]] | None = None) -> pd.DataFrame:
    """Add 0/1 outcome columns to the person-year table.

    Parameters
    ----------
    person_years : DataFrame
        The ``person_years`` table (one row per citizen and year).
    outcomes : list of str, optional
        Outcomes to add (default: all of ``rules``).
    rules : mapping, optional
        Outcome -> (column, threshold): the outcome is 1 when the column exceeds the threshold
        (default :data:`OUTCOME_RULES`).

    Returns
    -------
    DataFrame
        A copy with one int column per outcome.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> out = binary_outcomes(load_example("person_years"), ["psych_admission"])
    >>> sorted(out["psych_admission"].unique().tolist())
    [0, 1]
    """
    chk.check_frame(person_years, name="person_years")
    rules = dict(OUTCOME_RULES if rules is None else rules)
    names = list(rules) if outcomes is None else chk.as_list(outcomes, name="outcomes")
    unknown = [o for o in names if o not in rules]
    if unknown:
        raise DataContractError(f"outcomes {unknown} have no rule; known outcomes: {list(rules)}")
    chk.check_columns(person_years, {o: rules[o][0] for o in names}, name="person_years")
    out = person_years.copy()
    for name in names:
        column, threshold = rules[name]
        out[name] = (chk.numeric_values(out, column, name="person_years") > threshold).astype(int)
    return out


def _year_components(y: np.ndarray, cluster: np.ndarray) -> dict:
    """Sums of squares of one year (binary or numeric y): between and within clusters."""
    codes, _ = pd.factorize(cluster)
    n = np.bincount(codes).astype(float)
    sums = np.bincount(codes, weights=y)
    means = sums / n
    grand = y.mean()
    ssb = float((n * (means - grand) ** 2).sum())
    ssw = float(((y - means[codes]) ** 2).sum())
    N, k = float(n.sum()), len(n)
    return {"ssb": ssb, "ssw": ssw, "df_b": k - 1, "df_w": N - k, "n0": (N - (n ** 2).sum() / N) / max(k - 1, 1),
            "means": pd.Series(means - grand, index=pd.unique(cluster)), "sizes": n}


def anova_icc(data: pd.DataFrame, *, outcome: str, cluster: str, time: str | None = None) -> dict:
    """ICC by one-way ANOVA for unequal cluster sizes, pooled over periods, with the between and within
    variance components and the cluster autocorrelation.

    Parameters
    ----------
    data : DataFrame
        One row per person (and period).
    outcome : str
        0/1 or numeric outcome.
    cluster : str
        Cluster column (municipality).
    time : str, optional
        Period column: sums of squares are computed per period (centred on the period mean) and
        pooled; the CAC needs at least two periods.

    Returns
    -------
    dict
        ``icc``, ``sigma2_between`` (τ²), ``sigma2_within`` (σ_e²), ``cac`` (NaN with one period),
        ``n_clusters``, ``n_persons`` (rows), ``n_periods``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> py = binary_outcomes(load_example("person_years"), ["psych_admission"])
    >>> est = anova_icc(py, outcome="psych_admission", cluster="municipality", time="year")
    >>> 0 <= est["icc"] < 0.1, est["n_clusters"]
    (True, 98)
    """
    chk.check_frame(data)
    chk.check_columns(data, [outcome, cluster, time])
    chk.check_no_missing(data, [outcome, cluster, time])
    y_all = chk.numeric_values(data, outcome)
    periods = [None] if time is None else sorted(pd.unique(data[time]))
    parts = []
    for period in periods:
        rows = np.ones(len(data), bool) if period is None else (data[time] == period).to_numpy()
        parts.append(_year_components(y_all[rows], data.loc[rows, cluster].to_numpy()))
    df_b = sum(p["df_b"] for p in parts)
    df_w = sum(p["df_w"] for p in parts)
    if df_b < 1 or df_w < 1:
        raise DataContractError(f"anova_icc needs at least two clusters in {cluster!r} and more rows than clusters")
    msb = sum(p["ssb"] for p in parts) / df_b
    msw = sum(p["ssw"] for p in parts) / df_w
    n0 = sum(p["n0"] * p["df_b"] for p in parts) / df_b
    tau2 = max((msb - msw) / n0, 0.0)
    icc = tau2 / (tau2 + msw) if tau2 + msw > 0 else 0.0
    cac = np.nan
    if len(parts) > 1 and tau2 > 0:
        covariances, weights = [], []
        for a in range(len(parts)):
            for b in range(a + 1, len(parts)):
                pa, pb = parts[a]["means"], parts[b]["means"]
                common = pa.index.intersection(pb.index)
                if len(common) > 2:
                    covariances.append(float((pa[common] * pb[common]).mean()))
                    weights.append(len(common))
        if covariances:
            cac = float(np.clip(np.average(covariances, weights=weights) / tau2, 0.0, 1.0))
    return {"icc": float(icc), "sigma2_between": float(tau2), "sigma2_within": float(msw), "cac": cac,
            "n_clusters": int(data[cluster].nunique()), "n_persons": int(len(data)), "n_periods": len(periods)}


def design_inputs(person_years: pd.DataFrame, outcomes: Sequence[str], *, unit: str = "municipality",
                  time: str = "year", last_years: int | None = None) -> pd.DataFrame:
    """Baseline rate, yearly trend, ICC, CAC and cluster sizes of each binary outcome, for the planner.

    Parameters
    ----------
    person_years : DataFrame
        Person-year table with the outcome columns (:func:`binary_outcomes`), ``unit`` and ``time``.
    outcomes : list of str
        0/1 outcome columns.
    unit : str, default="municipality"
        Cluster column.
    time : str, default="year"
        Period column.
    last_years : int, optional
        Use only the last ``last_years`` periods (default all).

    Returns
    -------
    DataFrame
        One row per outcome: ``outcome, baseline_rate`` (the last period's rate), ``trend_per_year``
        (OLS slope of the yearly rate), ``sd`` (√(p(1 − p))), ``icc``, ``cac``, ``sigma2_between``,
        ``cluster_size_mean`` and ``cluster_size_cv`` (persons per municipality in the last period),
        ``n_municipalities``, ``n_persons`` (persons in the last period) and ``n_person_years``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> py = binary_outcomes(load_example("person_years"), ["psych_admission", "employed"])
    >>> inputs = design_inputs(py, ["psych_admission", "employed"])
    >>> inputs[["outcome", "n_municipalities"]].to_string(index=False)
    '        outcome  n_municipalities\\npsych_admission                98\\n       employed                98'
    """
    names = chk.as_list(outcomes, name="outcomes")
    chk.check_frame(person_years, name="person_years")
    chk.check_columns(person_years, [*names, unit, time], name="person_years")
    data = person_years
    years = sorted(pd.unique(data[time]))
    if last_years is not None:
        chk.check_positive_int(last_years, name="last_years")
        years = years[-last_years:]
        data = data[data[time].isin(years)]
    last = data[data[time] == years[-1]]
    sizes = last.groupby(unit).size().to_numpy(dtype=float)
    rows = []
    for name in names:
        chk.binary_values(data, name, name="person_years")
        yearly = data.groupby(time)[name].mean()
        slope = float(np.polyfit(yearly.index.to_numpy(dtype=float), yearly.to_numpy(), 1)[0]) \
            if len(yearly) > 1 else 0.0
        est = anova_icc(data, outcome=name, cluster=unit, time=time)
        p = float(last[name].mean())
        rows.append({"outcome": name, "baseline_rate": p, "trend_per_year": slope, "sd": float(np.sqrt(p * (1 - p))),
                     "icc": est["icc"], "cac": est["cac"], "sigma2_between": est["sigma2_between"],
                     "cluster_size_mean": float(sizes.mean()), "cluster_size_cv": float(sizes.std() / sizes.mean()),
                     "n_municipalities": int(last[unit].nunique()), "n_persons": int(len(last)),
                     "n_person_years": int(len(data))})
    return pd.DataFrame(rows)
