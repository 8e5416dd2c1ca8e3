"""The tables the fund simulation takes: effects with baseline rates and gains per outcome, and contracts.

* :func:`gains_per_outcome`: the present-value public gain of one extra outcome, by payer;
* :func:`participant_means`, :func:`fund_interventions`: effect estimates, the starters' outcome rates and
  the gains as the ``interventions`` table of :func:`~progression.fund.simulate`;
* :func:`fund_contracts`: participants per municipality and cohort year from the participation records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression.constants import PAYERS
from progression.economics.budget import budget_consequences
from progression.evaluation.trials import first_starts
from progression.exceptions import DataContractError, ParameterError

__all__ = ["GAIN_COLUMNS", "gains_per_outcome", "participant_means", "fund_interventions", "fund_contracts"]

#: Columns of the intervention table holding the present-value gain per extra outcome, by payer.
GAIN_COLUMNS: dict[str, str] = {p: f"gain_{p}_dkk" for p in PAYERS}


def gains_per_outcome(consequences: pd.DataFrame, unit_costs: pd.DataFrame, *, rates=None,
                      price_year: int | None = None, price_index: pd.Series | None = None) -> pd.DataFrame:
    """Present-value public gain of one extra outcome, by payer (the gain columns of :func:`simulate`).

    Parameters
    ----------
    consequences : DataFrame
        The effects table of :func:`~progression.economics.budget_consequences` plus an
        ``outcome`` column: what one extra outcome changes per year (e.g. leaving botilbud:
        item "SEL108_year", change −0.8, duration 4).
    unit_costs : DataFrame
        The :class:`~progression.schemas.UnitCosts` table.
    rates, price_year, price_index :
        As in :func:`~progression.economics.budget_consequences`.

    Returns
    -------
    DataFrame
        ``outcome`` and one ``gain_<payer>_dkk`` column per payer (PV at the time of the outcome).

    Raises
    ------
    ParameterError
        When ``consequences`` has no ``outcome`` column (or as
        :func:`~progression.economics.budget_consequences`).

    Examples
    --------
    At the example data's unit costs: a job means 0.2 fewer years on førtidspension for three years and
    100 fewer hours of employment measures; no psychiatric admission, 10 fewer bed days:

    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> consequences = pd.DataFrame({"outcome": ["employed", "employed", "no_psych_admission"],
    ...                              "item": ["disability_pension", "employment_measures", "psych_inpatient"],
    ...                              "change": [-0.2, -100.0, -10.0], "duration_years": [3, 1, 1]})
    >>> gains_per_outcome(consequences, load_example("unit_costs")).round(-2)
                  outcome  gain_kommune_dkk  gain_region_dkk  gain_stat_dkk
    0            employed           30000.0              0.0       127600.0
    1  no_psych_admission            5000.0          55000.0            0.0
    """
    if "outcome" not in consequences.columns:
        raise ParameterError(f"consequences: missing column 'outcome'; columns present: {list(consequences.columns)}")
    rows = []
    for outcome, effects in consequences.groupby("outcome", sort=False):
        npv = budget_consequences(effects.drop(columns="outcome"), unit_costs, rates=rates,
                                  price_year=price_year, price_index=price_index).npv()
        rows.append({"outcome": outcome, **{col: float(npv.get(p, 0.0)) for p, col in GAIN_COLUMNS.items()}})
    return pd.DataFrame(rows)


def participant_means(frames: Mapping[str, pd.DataFrame], outcomes: Sequence[str]) -> pd.DataFrame:
    """Mean outcome of the starters of each intervention (``mean_treated``) with its person count ``n``.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Intervention -> its analysis frame (``treated`` 0/1 and the outcome columns), e.g. the event
        panels of a target-trial emulation.
    outcomes : sequence of str
        Outcome columns; missing values are left out of the mean and of ``n``.

    Returns
    -------
    DataFrame
        ``intervention``, ``outcome``, ``mean_treated``, ``n``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> frame = pd.DataFrame({"treated": [1, 1, 1, 0], "employed": [1.0, 0.0, np.nan, 0.0],
    ...                       "no_psych_admission": [1.0, 1.0, 1.0, 0.0]})
    >>> participant_means({"ips": frame}, ["employed", "no_psych_admission"])
      intervention             outcome  mean_treated  n
    0          ips            employed           0.5  2
    1          ips  no_psych_admission           1.0  3
    """
    rows = []
    for name, frame in frames.items():
        starters = frame[frame["treated"] == 1]
        for outcome in outcomes:
            known = starters[outcome].dropna()
            rows.append({"intervention": name, "outcome": outcome, "mean_treated": float(known.mean()),
                         "n": int(known.size)})
    return pd.DataFrame(rows)


def fund_interventions(effects: pd.DataFrame, means: pd.DataFrame, gains: pd.DataFrame,
                       interventions: pd.DataFrame, rate_card: pd.DataFrame) -> pd.DataFrame:
    """The ``interventions`` table of :func:`progression.fund.simulate`, one row per rate-card outcome.

    Parameters
    ----------
    effects : DataFrame
        One effect per intervention and outcome (``intervention``, ``outcome``, ``estimate``,
        ``std_error``; e.g. :func:`preferred_effects`), on the probability of the outcome.
    means : DataFrame
        :func:`participant_means`; the baseline rate is the starters' mean minus the effect (their
        estimated mean without the intervention), clipped to [0, 1].
    gains : DataFrame
        ``outcome`` and ``gain_<payer>_dkk`` (present value per extra outcome,
        :func:`progression.fund.gains_per_outcome`).
    interventions, rate_card : DataFrame
        The contract tables (own cost per participant; price year).

    Returns
    -------
    DataFrame
        ``intervention``, ``outcome``, ``effect``, ``effect_std_error``, ``baseline_rate``, the gain columns,
        ``cost_per_participant_dkk``, ``price_year``.

    Raises
    ------
    DataContractError
        When a rate-card outcome has no effect estimate or no gain.

    Examples
    --------
    The IPS rows of the example data's rate card, with assumed effects, starters' rates and gains:

    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> card = load_example("rate_card")
    >>> ips = card[card["intervention"] == "ips"]
    >>> effects = pd.DataFrame({"intervention": "ips", "outcome": ["employed", "no_psych_admission"],
    ...                         "estimate": [0.08, 0.03], "std_error": [0.03, 0.02]})
    >>> means = pd.DataFrame({"intervention": "ips", "outcome": ["employed", "no_psych_admission"],
    ...                       "mean_treated": [0.25, 0.85], "n": [120, 120]})
    >>> gains = pd.DataFrame({"outcome": ["employed", "no_psych_admission"], "gain_kommune_dkk": [30_000.0, 5_000.0],
    ...                       "gain_region_dkk": [0.0, 55_000.0], "gain_stat_dkk": [127_600.0, 0.0]})
    >>> table = fund_interventions(effects, means, gains, load_example("interventions"), ips)
    >>> table[["outcome", "effect", "baseline_rate", "cost_per_participant_dkk"]].round(2)
                  outcome  effect  baseline_rate  cost_per_participant_dkk
    0            employed    0.08           0.17                   60000.0
    1  no_psych_admission    0.03           0.82                   60000.0
    """
    keys = rate_card[["intervention", "outcome"]]
    eff = keys.merge(effects[["intervention", "outcome", "estimate", "std_error"]], on=["intervention", "outcome"],
                     how="left")
    missing = eff[eff["estimate"].isna()]
    if len(missing):
        raise DataContractError(f"effects: no estimate for rate-card outcome(s) "
                                f"{missing[['intervention', 'outcome']].values.tolist()[:5]}")
    eff = eff.merge(means, on=["intervention", "outcome"], how="left").merge(gains, on="outcome", how="left")
    no_gain = sorted(set(eff.loc[eff.filter(like="gain_").isna().any(axis=1), "outcome"]))
    if no_gain:
        raise DataContractError(f"gains: no gain per outcome for {no_gain}; gains given for {sorted(gains['outcome'])}")
    effect = eff["estimate"].clip(-1.0, 1.0)
    out = pd.DataFrame({"intervention": eff["intervention"], "outcome": eff["outcome"], "effect": effect,
                        "effect_std_error": eff["std_error"], "baseline_rate": (eff["mean_treated"] - effect).clip(0.0, 1.0)})
    for col in [c for c in gains.columns if c.startswith("gain_")]:
        out[col] = eff[col].to_numpy()
    out["cost_per_participant_dkk"] = out["intervention"].map(
        interventions.set_index("intervention")["cost_per_participant_dkk"])
    out["price_year"] = int(rate_card["price_year"].iloc[0])
    return out


def fund_contracts(participations: pd.DataFrame, adoption: pd.DataFrame, *, last_year: int) -> pd.DataFrame:
    """Participants per municipality and cohort year of each intervention: the mean yearly number of
    starters since the municipality's adoption year, rounded (contracts rounding to 0 are dropped).

    Parameters
    ----------
    participations : DataFrame
        The participations table (first starts count).
    adoption : DataFrame
        :func:`~progression.evaluation.trials.adoption_years`.
    last_year : int
        Last year of the data.

    Returns
    -------
    DataFrame
        ``municipality``, ``intervention``, ``participants`` (the same number every cohort year).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> from progression.evaluation.trials import adoption_years
    >>> participations = load_example("participations")
    >>> contracts = fund_contracts(participations, adoption_years(participations), last_year=2024)
    >>> list(contracts.columns)
    ['municipality', 'intervention', 'participants']
    """
    first = first_starts(participations)
    counts = first.groupby(["intervention", "municipality"]).size().rename("starters").reset_index()
    out = counts.merge(adoption, on=["intervention", "municipality"])
    years = (last_year - out["adoption_year"] + 1).clip(lower=1)
    out["participants"] = np.floor(out["starters"] / years + 0.5).astype(int)
    out = out[out["participants"] > 0]
    return out[["municipality", "intervention", "participants"]].sort_values(
        ["intervention", "municipality"], ignore_index=True)
