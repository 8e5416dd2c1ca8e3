"""Municipalities: population, socioeconomic criteria, practice, adoption years and the accounts.

The model (all draws from the stream ``"municipalities"``):

* a latent socioeconomic index ``z_m ~ N(0, 1)`` per municipality;
* each criterion ``k`` of the equalisation system is a share
  ``level_k * exp(loading_k * z_m + idio_k * e_km + trend_k * (year - 2022) + 0.02 * n_kmy)``,
  so the criteria correlate through ``z`` (one factor) and differ by idiosyncratic parts;
* population bands from the 2022 population of :func:`progression.schemas.municipalities_reference`,
  with municipality-specific growth and age shares;
* a municipal *practice* effect ``u_m ~ N(0, 1)`` that raises spending and step-up intensities;
* net operating spending per inhabitant of the relevant age, relative to the national mean ``M_y``:
  ``y_my = M_y * (1 + x_my' b + r_my)``. The residual ``r`` (practice plus yearly noise) is made
  orthogonal to ``[1, X_y]`` and scaled so that, in every year, the OLS R^2 of ``y`` on the
  generating criteria over the 98 municipalities equals the target exactly (the 98 municipalities
  are the whole population, so this is the population R^2). Finansministeriet (2009), *Det specialiserede
  socialområde – redskaber til styring og prioritering*, sections 2.1 and 2.2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...schemas import municipalities_reference
from ._random import generator

#: Criterion -> (national level, loading on z, idiosyncratic sd, log trend per year). Levels are
#: plausible orders of magnitude for Danish municipalities (illustrative assumptions).
CRITERIA: dict[str, tuple[float, float, float, float]] = {
    "share_no_employment_20_59": (0.17, 0.20, 0.10, -0.010),
    "share_no_vocational_25_49": (0.20, 0.18, 0.10, -0.010),
    "share_cheap_rentals": (0.05, 0.45, 0.35, 0.000),
    "share_psychiatric_patients": (0.016, 0.20, 0.15, 0.020),
    "share_social_family_housing": (0.12, 0.45, 0.30, 0.000),
    "share_children_low_education": (0.11, 0.35, 0.15, -0.010),
    "share_single_65plus": (0.075, 0.10, 0.12, 0.010),
    "share_low_income": (0.05, 0.30, 0.15, 0.000),
    "share_handicap_diagnoses": (0.03, 0.15, 0.12, 0.010),
    "share_non_western_immigrants": (0.08, 0.45, 0.30, 0.025),
    "share_developmental_disability": (0.005, 0.12, 0.15, 0.000),
}
CRITERIA_YEAR_SD = 0.02

#: Population model (lp = standardised log 2022 population, N = standard normal per municipality):
#: growth = 0.004 + 0.003 lp + 0.002 N; age shares = base + lp slope + sd N (+ drift per year), clipped.
POPULATION = {
    "growth": {"base": 0.004, "lp": 0.003, "sd": 0.002},
    "share_0_17": {"base": 0.205, "lp": 0.0, "sd": 0.012, "drift": -0.001, "clip": (0.12, 0.30)},
    "share_67plus": {"base": 0.205, "lp": -0.025, "sd": 0.015, "drift": 0.003, "clip": (0.12, 0.32)},
    "share_18_22": {"base": 0.060, "lp": 0.010, "sd": 0.004, "drift": 0.0, "clip": (0.04, 0.10)},
}
#: Split of an area's total over its functions: municipal Dirichlet shares and a yearly jitter.
FUNCTION_SPLIT = {"dirichlet_concentration": 60.0, "yearly_log_sd": 0.05}

#: Roskilde, Høje-Taastrup, Herning, Aarhus: the case municipalities of Social- og Boligstyrelsen (2024),
#: *Kommunernes omlægning til Borgeren ved roret* (foreword).
CASE_MUNICIPALITIES = (265, 169, 657, 751)
REFERENCE_YEAR = 2022
PRACTICE_PERSISTENCE = 0.85  # share of the residual variance that is persistent practice
CHILD_ADULT_PRACTICE_CORR = 0.5


@dataclass(frozen=True)
class SpendingArea:
    """One spending area of the accounts: criteria that explain it and how its total is split."""

    name: str
    criteria: tuple[str, ...]
    denominator: str
    functions: dict[str, float]
    seed_reference: str


#: Adults: hovedfunktion 5.38 (Finansministeriet 2009, section 2.2, note 3, names the three criteria); the four
#: functions carry the whole adult total of Finansministeriet (2009), split like Social- og Boligstyrelsen (2024),
#: Figur 5 (13/39/22/25 %).
ADULTS = SpendingArea(
    name="adults",
    criteria=("share_no_vocational_25_49", "share_handicap_diagnoses", "share_psychiatric_patients"),
    denominator="pop_18_66",
    functions={"53838": 0.13, "53851": 0.39, "53852": 0.22, "53850": 0.26},
    seed_reference="Finansministeriet (2009), Tabel 2.8 and Figur 2.2 (mean), section 2.2 (spread, R^2) "
                   "and its note 3 (criteria)",
)
#: Children: hovedfunktion 5.28 as one total (Finansministeriet 2009, section 2.1, note 2, names the two criteria).
CHILDREN = SpendingArea(
    name="children",
    criteria=("share_children_low_education", "share_non_western_immigrants"),
    denominator="pop_0_22",
    functions={"52800": 1.0},
    seed_reference="Finansministeriet (2009), Tabel 2.4 and Figur 2.1 (mean), section 2.1 (spread, R^2) "
                   "and its note 2 (criteria)",
)


@dataclass(frozen=True)
class MunicipalityModel:
    """Municipality-level latent quantities shared by every other module."""

    codes: np.ndarray
    names: np.ndarray
    regions: np.ndarray
    pop_2022: np.ndarray
    socioeconomic_index: np.ndarray
    practice: np.ndarray
    practice_children: np.ndarray
    idiosyncratic: np.ndarray
    recovery_start_year: np.ndarray  # float, NaN = never
    case: np.ndarray


def draw_municipalities(params, seed: int) -> MunicipalityModel:
    """Draw the latent municipality quantities.

    Parameters
    ----------
    params : SyntheticParams
        Uses ``case_recovery_start_year``, ``n_later_adopters`` and ``end_year``.
    seed : int
        Master seed.
    """
    ref = municipalities_reference().sort_values("municipality").reset_index(drop=True)
    rng = generator(seed, "municipalities")
    n = len(ref)
    z = rng.standard_normal(n)
    practice = rng.standard_normal(n)
    child_practice = (CHILD_ADULT_PRACTICE_CORR * practice
                      + np.sqrt(1 - CHILD_ADULT_PRACTICE_CORR**2) * rng.standard_normal(n))
    idio = rng.standard_normal((n, len(CRITERIA)))
    codes = ref["municipality"].to_numpy()
    case = np.isin(codes, CASE_MUNICIPALITIES)
    recovery = np.full(n, np.nan)
    recovery[case] = params.case_recovery_start_year
    first_later = params.case_recovery_start_year + 1
    if params.n_later_adopters > 0 and first_later <= params.end_year:
        later = rng.choice(np.flatnonzero(~case), size=params.n_later_adopters, replace=False)
        recovery[np.sort(later)] = rng.integers(first_later, params.end_year + 1, size=params.n_later_adopters)
    return MunicipalityModel(
        codes=codes, names=ref["name"].to_numpy(dtype=object), regions=ref["region"].to_numpy(dtype=object),
        pop_2022=ref["population_2022"].to_numpy(dtype=float), socioeconomic_index=z, practice=practice,
        practice_children=child_practice, idiosyncratic=idio, recovery_start_year=recovery, case=case,
    )


def municipalities_table(model: MunicipalityModel) -> pd.DataFrame:
    """The ``municipalities`` table."""
    return pd.DataFrame({
        "municipality": model.codes.astype(np.int64),
        "name": pd.array(model.names, dtype="str"),
        "region": pd.array(model.regions, dtype="str"),
        "case_municipality": model.case,
        "recovery_start_year": pd.array(
            np.where(np.isnan(model.recovery_start_year), pd.NA, model.recovery_start_year), dtype="Int64"),
    })


def _population(model: MunicipalityModel, years: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Population bands, shape (municipalities, years); the three bands add up to the total."""
    n = len(model.codes)
    lp = np.log(model.pop_2022)
    lp = (lp - lp.mean()) / lp.std()
    dy = (years - REFERENCE_YEAR)[None, :]

    def draw(spec):
        return spec["base"] + spec["lp"] * lp + spec["sd"] * rng.standard_normal(n)

    def share(name):
        spec = POPULATION[name]
        return np.clip(draw(spec)[:, None] + spec["drift"] * dy, *spec["clip"])

    total = np.rint(model.pop_2022[:, None] * np.exp(draw(POPULATION["growth"])[:, None] * dy)).astype(np.int64)
    p017 = np.rint(total * share("share_0_17")).astype(np.int64)
    p67 = np.rint(total * share("share_67plus")).astype(np.int64)
    p1822 = np.rint(total * share("share_18_22")).astype(np.int64)
    return {"pop_total": total, "pop_0_17": p017, "pop_18_66": total - p017 - p67, "pop_67plus": p67,
            "pop_0_22": p017 + p1822}


def _criteria(model: MunicipalityModel, years: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Criterion shares, shape (municipalities, years)."""
    n = len(model.codes)
    out = {}
    dy = (years - REFERENCE_YEAR)[None, :]
    for j, (name, (level, loading, idio_sd, trend)) in enumerate(CRITERIA.items()):
        log_share = (np.log(level) + loading * model.socioeconomic_index[:, None]
                     + idio_sd * model.idiosyncratic[:, j][:, None] + trend * dy
                     + CRITERIA_YEAR_SD * rng.standard_normal((n, len(years))))
        out[name] = np.clip(np.exp(log_share), 0.0, 1.0)
    return out


def municipality_years(model: MunicipalityModel, params, seed: int) -> pd.DataFrame:
    """The ``municipality_years`` table for ``start_year .. end_year``."""
    rng = generator(seed, "municipality_years")
    years = np.arange(params.start_year, params.end_year + 1)
    pops = _population(model, years, rng)
    crit = _criteria(model, years, rng)
    n, t = len(model.codes), len(years)
    frame = {"municipality": np.repeat(model.codes, t).astype(np.int64), "year": np.tile(years, n).astype(np.int64)}
    frame.update({k: v.ravel() for k, v in pops.items()})
    frame.update({k: v.ravel() for k, v in crit.items()})
    return pd.DataFrame(frame)


def relative_sd(spread_ratio: float) -> float:
    """Relative sd s/mu of a normal spread whose 95th/5th percentile ratio is ``spread_ratio``.

    From mu + 1.645 s = ratio * (mu - 1.645 s).
    """
    return (spread_ratio - 1.0) / (1.645 * (spread_ratio + 1.0))


def _orthogonal_residual(raw: np.ndarray, x: np.ndarray, variance: float) -> np.ndarray:
    """``raw`` minus its OLS projection on [1, x], rescaled to the given (population) variance."""
    design = np.column_stack([np.ones(len(raw)), x])
    coef, *_ = np.linalg.lstsq(design, raw, rcond=None)
    resid = raw - design @ coef
    return resid * np.sqrt(variance / resid.var())


def _area_spending(area: SpendingArea, years_df: pd.DataFrame, practice: np.ndarray, params, rng,
                   *, mean_2008: float, r2: float, spread: float) -> tuple[pd.DataFrame, dict]:
    """Spending per inhabitant of the area's age group, per municipality and year, and its truth."""
    years = np.sort(years_df["year"].unique())
    ref_year = REFERENCE_YEAR if REFERENCE_YEAR in years else int(years[-1])
    by_year = {y: g.sort_values("municipality") for y, g in years_df.groupby("year")}
    x_ref = by_year[ref_year][list(area.criteria)].to_numpy()
    s_rel = relative_sd(spread)
    direction = 1.0 / x_ref.std(axis=0)
    b = direction * np.sqrt(r2 * s_rel**2 / (x_ref @ direction).var())
    noise = rng.standard_normal((len(practice), len(years)))
    rows, truth_years = [], {}
    for j, y in enumerate(years):
        g = by_year[y]
        x = g[list(area.criteria)].to_numpy()
        w = g[area.denominator].to_numpy(dtype=float)
        signal = x @ b
        raw = np.sqrt(PRACTICE_PERSISTENCE) * practice + np.sqrt(1 - PRACTICE_PERSISTENCE) * noise[:, j]
        resid = _orthogonal_residual(raw, x, signal.var() * (1 - r2) / r2)
        v = (signal - np.average(signal, weights=w)) + (resid - np.average(resid, weights=w))
        mean_y = mean_2008 * (1 + params.spending_real_growth) ** (y - 2008)
        rows.append(pd.DataFrame({"municipality": g["municipality"].to_numpy(), "year": y,
                                  "per_capita": mean_y * (1 + v), "denominator": w}))
        truth_years[int(y)] = {"national_mean_dkk": mean_y,
                               "coefficients_dkk_per_unit_share": dict(zip(area.criteria, mean_y * b))}
    truth = {
        "criteria": list(area.criteria), "denominator": area.denominator, "functions": area.functions,
        "r2_target": r2, "spread_ratio_p95_p5_target": spread, "relative_sd_target": s_rel,
        "mean_dkk_2008": mean_2008, "reference_year_for_scaling": ref_year,
        "relative_coefficients": dict(zip(area.criteria, b)), "practice_persistence": PRACTICE_PERSISTENCE,
        "model": "per_capita = M_y * (1 + x'b + r), r orthogonal to [1, x] per year (OLS, unweighted)",
        "by_year": truth_years, "seed_reference": area.seed_reference,
    }
    return pd.concat(rows, ignore_index=True), truth


def _split_functions(area: SpendingArea, spending: pd.DataFrame, rng, price_year: int) -> pd.DataFrame:
    """Split each municipality-year total over the area's account functions."""
    codes = list(area.functions)
    base = np.array([area.functions[c] for c in codes])
    n_m = spending["municipality"].nunique()
    concentration = FUNCTION_SPLIT["dirichlet_concentration"]
    muni_shares = rng.dirichlet(base * concentration, size=n_m) if len(codes) > 1 else np.ones((n_m, 1))
    muni_pos = spending["municipality"].rank(method="dense").astype(int).to_numpy() - 1
    jitter = FUNCTION_SPLIT["yearly_log_sd"] * rng.standard_normal((len(spending), len(codes)))
    shares = muni_shares[muni_pos] * np.exp(jitter)
    shares /= shares.sum(axis=1, keepdims=True)
    total = spending["per_capita"].to_numpy() * spending["denominator"].to_numpy()
    amounts = np.rint(total[:, None] * shares)
    return pd.DataFrame({
        "municipality": np.repeat(spending["municipality"].to_numpy(), len(codes)).astype(np.int64),
        "year": np.repeat(spending["year"].to_numpy(), len(codes)).astype(np.int64),
        "function": pd.array(np.tile(codes, len(spending)), dtype="str"),
        "net_operating_dkk": amounts.ravel(),
        "price_year": np.int64(price_year),
    })


def municipal_accounts(model: MunicipalityModel, years_df: pd.DataFrame, params, seed: int
                       ) -> tuple[pd.DataFrame, dict]:
    """The ``municipal_accounts`` table (adults 5.38.x, children 5.28) and the truth of the spending model.

    Amounts are net operating expenditure in ``params.spending_price_year`` prices (default 2009, the
    prices of Finansministeriet (2009), Tabel 2.4 and 2.8).
    """
    rng = generator(seed, "municipal_accounts")
    frames, truth = [], {}
    for area, practice, mean, r2, spread in (
        (ADULTS, model.practice, params.adult_mean_dkk, params.adult_explained_share, params.adult_spread_ratio),
        (CHILDREN, model.practice_children, params.child_mean_dkk, params.child_explained_share,
         params.child_spread_ratio),
    ):
        spending, truth[area.name] = _area_spending(area, years_df, practice, params, rng,
                                                    mean_2008=mean, r2=r2, spread=spread)
        frames.append(_split_functions(area, spending, rng, params.spending_price_year))
    accounts = pd.concat(frames, ignore_index=True).sort_values(["municipality", "year", "function"])
    return accounts.reset_index(drop=True), truth
