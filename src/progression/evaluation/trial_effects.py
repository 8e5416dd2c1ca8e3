"""Effects on emulated target trials: the naive contrast, IPW, AIPW, the 2×2 DiD and the doubly robust DiD.

:func:`estimate_effects` runs the estimators of :mod:`progression.evaluation` on a trial frame of
:func:`progression.evaluation.trials.trial_frame` with the nuisance models of :func:`nuisance_models`;
:func:`preferred_effects` picks the headline estimate per outcome.

References
----------
Sant'Anna, P. H. C. & Zhao, J. (2020). Doubly robust difference-in-differences estimators. Journal of
Econometrics 219(1), 101–122.
Chernozhukov, V. et al. (2018). Double/debiased machine learning for treatment and structural parameters.
The Econometrics Journal 21(1), C1–C68.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from progression import _validation as chk
from progression.evaluation.did import did_2x2
from progression.evaluation.naive import naive_contrast
from progression.evaluation.propensity import logistic_model
from progression.evaluation.trials import BASELINE_COLUMNS
from progression.evaluation.weighting import aipw, ipw

#: ``method`` of the doubly robust DiD rows, the headline estimate of the outcomes estimated on changes.
HEADLINE_DID_METHOD = "DR-DiD (AIPW on change)"

__all__ = [
    "LEVEL_COVARIATES", "CHANGE_COVARIATES", "PRE_PERIOD", "varying_columns", "change_frame", "did_long",
    "nuisance_models", "estimate_effects", "preferred_effects", "HEADLINE_DID_METHOD",
]

#: Baseline covariates of the estimators on outcome levels (confounders and proxies of them).
LEVEL_COVARIATES = ("age", "sex", "target_group", "severity", "childhood_services", "step", "index_year",
                    "service_gap", "botilbud_lag1", "in_data_lag1", "in_data_lag2", "cost_lag1",
                    *(f"{c}_lag{lag}" for c in BASELINE_COLUMNS for lag in (1, 2)))


#: Covariates of the doubly robust DiD: no lagged values of the outcomes themselves, whose transitory
#: part would regress to the mean (conditioning on them breaks parallel trends).
CHANGE_COVARIATES = ("age", "sex", "target_group", "severity", "childhood_services", "step", "index_year",
                     "service_gap", "botilbud_lag1", "in_data_lag2",
                     "disability_pension_weeks_lag1", "employment_measure_hours_lag1")


#: Pre-period value (the year before the index year) of each outcome with one.
PRE_PERIOD = {
    "employed": lambda f: (f["employment_weeks_lag1"] > 0).astype(float),
    "employment_weeks": lambda f: f["employment_weeks_lag1"],
    "employed_or_education": lambda f: ((f["employment_weeks_lag1"] > 0)
                                        | (f["education_weeks_lag1"] > 0)).astype(float),
    "no_psych_admission": lambda f: (f["psych_inpatient_days_lag1"] == 0).astype(float),
    "psych_inpatient_days": lambda f: f["psych_inpatient_days_lag1"],
}


def varying_columns(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """The columns that vary in ``frame`` (a constant covariate cannot enter a model).

    Parameters
    ----------
    frame : DataFrame
    columns : sequence of str

    Returns
    -------
    list of str
        ``columns`` with more than one distinct value, in their order.

    Raises
    ------
    DataContractError
        When a column is missing (e.g. ``cost_lag1`` of a trial frame without
        :func:`~progression.evaluation.trials.add_costs`).

    Examples
    --------
    >>> import pandas as pd
    >>> varying_columns(pd.DataFrame({"a": [1, 2], "b": [3, 3]}), ["a", "b"])
    ['a']
    """
    chk.check_columns(frame, list(columns), name="trial frame")
    return [c for c in columns if frame[c].nunique() > 1]


def _is_binary(values: pd.Series) -> bool:
    return bool(values.dropna().isin([0, 1]).all())


def _outcome_groups(frame: pd.DataFrame, outcomes: Sequence[str]) -> list[list[str]]:
    """Outcomes grouped by the rows where they are known and by being 0/1 (one estimation per group)."""
    groups: dict[tuple, list[str]] = {}
    for name in outcomes:
        key = (frame[name].notna().to_numpy().tobytes(), _is_binary(frame[name]))
        groups.setdefault(key, []).append(name)
    return list(groups.values())


def change_frame(frame: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Rows with a person-year before the index year, with ``d_<outcome>`` = next year − year before.

    Parameters
    ----------
    frame : DataFrame
        :func:`~progression.evaluation.trials.trial_frame`, rows with the outcomes known.
    outcomes : sequence of str
        Outcomes with a pre-period value (:data:`PRE_PERIOD`).

    Returns
    -------
    DataFrame
        The rows with ``in_data_lag1 == 1``, plus one ``d_<outcome>`` column per outcome.

    Examples
    --------
    The trials of IPS on the example data: the change in employment of starters and of controls.

    >>> from progression.datasets import example_trials
    >>> frame = example_trials("ips")
    >>> changes = change_frame(frame.dropna(subset=["employed"]), ["employed"])
    >>> changes.groupby("treated")["d_employed"].mean().round(3)
    treated
    0    0.030
    1    0.207
    Name: d_employed, dtype: float64
    """
    known = frame[frame["in_data_lag1"] == 1]
    return known.assign(**{f"d_{o}": known[o] - PRE_PERIOD[o](known) for o in outcomes})


def did_long(frame: pd.DataFrame, outcomes: Sequence[str]) -> pd.DataFrame:
    """Two rows per trial (the year before: ``post`` = 0; the next year: ``post`` = 1) for :func:`did_2x2`.

    Parameters
    ----------
    frame : DataFrame
        A trial frame (rows without a person-year before the index year are left out).
    outcomes : sequence of str
        Outcomes with a pre-period value (:data:`PRE_PERIOD`).

    Returns
    -------
    DataFrame
        ``trial``, ``person_id``, ``treated``, ``post`` and the outcomes.

    Examples
    --------
    A starter and a control, employed the year before and the year after:

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person_id": [7, 9], "treated": [1, 0], "in_data_lag1": [1, 1],
    ...                       "employment_weeks_lag1": [0.0, 12.0], "employed": [1.0, 1.0]})
    >>> did_long(frame, ["employed"])
       trial  person_id  treated  post  employed
    0      0          7        1     0       0.0
    1      1          9        0     0       1.0
    2      0          7        1     1       1.0
    3      1          9        0     1       1.0
    """
    known = frame[frame["in_data_lag1"] == 1].reset_index(names="trial")
    pre = known.assign(post=0, **{o: PRE_PERIOD[o](known) for o in outcomes})
    long = pd.concat([pre, known.assign(post=1)], ignore_index=True)
    return long[["trial", "person_id", "treated", "post", *outcomes]]


def nuisance_models():
    """Nuisance models of the estimators on standardised covariates: the propensity model and the outcome
    models of 0/1 and of other outcomes.

    L2-penalised logistic regressions (propensity; P(Y = 1) of 0/1 outcomes, which stays in [0, 1])
    and ridge regression (penalty by generalised cross-validation) for counts and amounts. Penalties
    keep weights and outcome regressions stable when an intervention has few starters and many
    covariates (unpenalised fits separate and extrapolate); with thousands of trials they barely
    differ from unpenalised fits.

    Returns
    -------
    dict
        ``propensity``, ``binary`` and ``continuous`` scikit-learn estimators.

    Examples
    --------
    >>> models = nuisance_models()
    >>> {name: type(model[-1]).__name__ for name, model in models.items()}
    {'propensity': 'LogisticRegression', 'binary': 'LogisticRegression', 'continuous': 'RidgeCV'}
    >>> models["propensity"][-1].C
    1.0
    """
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return {"propensity": logistic_model(C=1.0), "binary": logistic_model(C=1.0),
            "continuous": make_pipeline(StandardScaler(),
                                        RidgeCV(alphas=np.logspace(-2, 4, 13), alpha_per_target=True))}


def estimate_effects(frame: pd.DataFrame, *, outcomes: Sequence[str], did_outcomes: Sequence[str] = (),
                     covariates: Sequence[str] = LEVEL_COVARIATES,
                     change_covariates: Sequence[str] = CHANGE_COVARIATES, models=None,
                     clip: float | None = 0.05, seed: int = 0, cl: float = 0.95) -> pd.DataFrame:
    """Naive contrast, IPW and AIPW on outcome levels; 2×2 DiD and doubly robust DiD on changes.

    Parameters
    ----------
    frame : DataFrame
        :func:`trial_frame` (with :func:`add_costs` for cost outcomes).
    outcomes : sequence of str
        Outcomes estimated on levels (rows missing an outcome are left out of its estimate).
    did_outcomes : sequence of str
        Outcomes with a pre-period value (:data:`PRE_PERIOD`) also estimated on changes.
    covariates, change_covariates : sequence of str
        Baseline covariates of the level and change estimators (constant ones are dropped).
    models : dict, optional
        ``propensity``, ``binary`` and ``continuous`` models (default :func:`nuisance_models`).
    clip : float or None, default=0.05
        Clip the propensities into [clip, 1 − clip].
    seed : int
        Seeds the cross-fitting folds.
    cl : float, default=0.95

    Returns
    -------
    DataFrame
        Tidy rows (:data:`progression.evaluation.EFFECT_COLUMNS`) plus ``design`` (``levels`` or
        ``change``). The ATT of the starters; standard errors clustered on the person.

    Notes
    -----
    The doubly robust DiD is AIPW applied to the change Y(t+1) − Y(t−1) (Sant'Anna & Zhao 2020): it
    needs parallel trends given the covariates, not the absence of unmeasured confounders, so a
    persistent unobserved trait (e.g. employability) drops out with the person's own baseline.

    Examples
    --------
    The trials of IPS on the example data (see :func:`~progression.evaluation.trials.trial_frame`):

    >>> from progression.datasets import example_params, load_example
    >>> from progression.evaluation import trials
    >>> fund = example_params().fund
    >>> t = {name: load_example(name) for name in ("persons", "spells", "person_years", "participations",
    ...                                            "interventions", "person_year_costs", "unit_costs")}
    >>> rule = trials.eligibility_rules(t["interventions"], steps=fund.eligible_steps, ages=fund.eligible_ages)["ips"]
    >>> common = dict(persons=t["persons"], person_years=t["person_years"], spells=t["spells"])
    >>> frame = trials.trial_frame("ips", rule, pool=trials.eligible_pool(rule, **common, years=(2015, 2020)),
    ...                            **common, participations=t["participations"], extract_date="2024-12-31",
    ...                            adoption=trials.adoption_years(t["participations"]))
    >>> frame = trials.add_costs(frame, costs=t["person_year_costs"], unit_costs=t["unit_costs"])
    >>> found = estimate_effects(frame, outcomes=["employed"], did_outcomes=["employed"], seed=1)
    >>> found["method"].tolist()
    ['naive contrast (treated)', 'IPW (Hájek)', 'AIPW (cross-fitted)', 'DiD 2x2', 'DR-DiD (AIPW on change)']
    >>> preferred_effects(found, did_outcomes=["employed"])["method"].tolist()
    ['DR-DiD (AIPW on change)']
    """
    models = models or nuisance_models()
    propensity_model = models["propensity"]
    parts = []
    for group in _outcome_groups(frame, outcomes):
        data = frame.dropna(subset=group)
        x = varying_columns(data, covariates)
        outcome_model = models["binary" if _is_binary(data[group[0]]) else "continuous"]
        found = pd.concat([
            naive_contrast(data, outcome=group, group="treated", cluster="person_id", cl=cl),
            ipw(data, outcome=group, treatment="treated", covariates=x, model=propensity_model, clip=clip,
                cluster="person_id", cl=cl),
            aipw(data, outcome=group, treatment="treated", covariates=x, propensity_model=propensity_model,
                 outcome_model=outcome_model, clip=clip, cluster="person_id", seed=seed, cl=cl)], ignore_index=True)
        parts.append(_person_counts(found.assign(design="levels"), data))
    if did_outcomes:
        changes = change_frame(frame.dropna(subset=list(did_outcomes)), did_outcomes)
        x = varying_columns(changes, change_covariates)
        did = did_2x2(did_long(changes, did_outcomes), outcome=list(did_outcomes), treated="treated", post="post",
                      cluster="person_id", unit="person_id", cl=cl)
        dr = aipw(changes, outcome=[f"d_{o}" for o in did_outcomes], treatment="treated", covariates=x,
                  propensity_model=propensity_model, outcome_model=models["continuous"], clip=clip,
                  cluster="person_id", seed=seed, cl=cl)
        dr = dr.assign(outcome=dr["outcome"].str.removeprefix("d_"), method=HEADLINE_DID_METHOD)
        parts.append(_person_counts(pd.concat([did, dr], ignore_index=True).assign(design="change"), changes))
    return pd.concat(parts, ignore_index=True)


def _person_counts(results: pd.DataFrame, data: pd.DataFrame) -> pd.DataFrame:
    """Replace the row counts by counts of persons; keep the controls' trial rows as ``n_control_trials``.

    A citizen is a control in several years, so the control rows are person-years; disclosure control
    needs the number of persons each estimate rests on.
    """
    treated = data["treated"] == 1
    return results.assign(n_treated=int(data.loc[treated, "person_id"].nunique()),
                          n_control=int(data.loc[~treated, "person_id"].nunique()),
                          n_control_trials=int((~treated).sum()))


def preferred_effects(effects: pd.DataFrame, *, did_outcomes: Sequence[str]) -> pd.DataFrame:
    """One estimate per outcome: the doubly robust DiD for ``did_outcomes``, AIPW on levels otherwise.

    Parameters
    ----------
    effects : DataFrame
        :func:`estimate_effects`.
    did_outcomes : sequence of str
        Outcomes estimated on changes.

    Returns
    -------
    DataFrame
        The chosen rows of ``effects`` with their index.

    Examples
    --------
    >>> import pandas as pd
    >>> effects = pd.DataFrame({
    ...     "outcome": ["employed", "employed", "employed", "psych_inpatient_days", "psych_inpatient_days"],
    ...     "method": ["IPW (Hájek)", "AIPW (cross-fitted)", "DR-DiD (AIPW on change)", "IPW (Hájek)",
    ...                "AIPW (cross-fitted)"],
    ...     "estimate": [0.25, 0.24, 0.21, -1.0, -1.2]})
    >>> preferred_effects(effects, did_outcomes=["employed"])
                    outcome                   method  estimate
    2              employed  DR-DiD (AIPW on change)      0.21
    4  psych_inpatient_days      AIPW (cross-fitted)     -1.20
    """
    did = effects["outcome"].isin(list(did_outcomes))
    chosen = ((did & (effects["method"] == HEADLINE_DID_METHOD))
              | (~did & effects["method"].str.startswith("AIPW")))
    return effects[chosen]
