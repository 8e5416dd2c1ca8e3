"""Trajectories of scores over time and the link between staircase moves and change.

* :class:`TrajectoryModel`: linear mixed model (statsmodels ``MixedLM``) of scores over time since
  service start, with a random intercept and slope per citizen and, optionally, a municipality
  variance component.
* :class:`OrdinalLevelModel`: proportional-odds model (statsmodels ``OrderedModel``) for ordinal VUM
  levels over time, with standard errors clustered on citizens.
* :class:`InstrumentTrajectories`: one growth model per instrument over years since service start,
  citizens nested in municipalities, with the model mean and the observed means per year.
* :func:`vum_ordinal_trend`: the proportional-odds model of VUM domain levels over years since start.
* :func:`step_move_ancova`: change in functioning/recovery by staircase move (down / same / up),
  adjusted for the baseline score (ANCOVA), which handles regression to the mean.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> persons = np.repeat(np.arange(60), 4)
>>> years = np.tile([0.0, 1.0, 2.0, 3.0], 60)
>>> data = pd.DataFrame({"person_id": persons, "years": years,
...                      "scaled": 40 + 2 * years + rng.normal(0, 3, 60)[persons] + rng.normal(0, 1, 240)})
>>> model = TrajectoryModel(engine="fast").fit(data)
>>> model.summary()[["term", "estimate"]].round(1)
        term  estimate
0  intercept      40.1
1      years       2.0
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from progression._tidy import stream_seed, z_value
from progression._validation import check_choice, check_columns, check_level
from progression.constants import DAYS_PER_YEAR
from progression.exceptions import ConvergenceError, DataContractError, NotFittedError, ParameterError
from progression.recovery._growth import fit_growth
from progression.recovery.change import CHANGE_CLASSES
from progression.recovery.instruments import score
from progression.staircase import service_start, steps_on_dates

__all__ = [
    "years_since",
    "trajectory_frame",
    "TrajectoryModel",
    "InstrumentTrajectories",
    "OrdinalLevelModel",
    "vum_ordinal_trend",
    "step_move_ancova",
    "move_change_table",
    "binned_means",
]


def years_since(
    frame: pd.DataFrame,
    start_dates: pd.Series,
    *,
    person_col: str = "person_id",
    date_col: str = "assessment_date",
) -> pd.Series:
    """Years from each person's service start (``start_dates``, indexed by person) to each row's date.

    Parameters
    ----------
    frame : DataFrame
        ``person_col`` and ``date_col``.
    start_dates : Series
        Service start per person, indexed by person id.

    Returns
    -------
    Series
        ``years`` (a year is :data:`progression.constants.DAYS_PER_YEAR` days); NaN for persons without
        a start date.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person_id": [1, 1], "assessment_date": pd.to_datetime(["2020-01-01", "2021-07-02"])})
    >>> years_since(frame, pd.Series(pd.to_datetime(["2020-01-01"]), index=[1])).round(2).tolist()
    [0.0, 1.5]
    """
    check_columns(frame, {"person_col": person_col, "date_col": date_col}, name="years_since")
    start = frame[person_col].map(pd.to_datetime(pd.Series(start_dates)))
    return ((pd.to_datetime(frame[date_col]) - start).dt.days / DAYS_PER_YEAR).rename("years")


def _tidy_from(params, bse, cl) -> pd.DataFrame:
    z = z_value(cl)
    est, se = np.asarray(params, dtype=float), np.asarray(bse, dtype=float)
    stat = est / se
    return pd.DataFrame({
        "term": list(params.index),
        "estimate": est,
        "std_error": se,
        "conf_low": est - z * se,
        "conf_high": est + z * se,
        "statistic": stat,
        "p_value": 2 * stats.norm.sf(np.abs(stat)),
    })


def _covariate_terms(covariates: Sequence[str] | None, frame: pd.DataFrame, what: str) -> str:
    covariates = list(covariates or [])
    check_columns(frame, {f"covariates[{i}]": c for i, c in enumerate(covariates)}, name=what)
    return "".join(f' + Q("{c}")' for c in covariates)


class TrajectoryModel:
    """Mixed-effects growth model of scores over time since service start.

    score_ij = b0 + b1 t_ij + covariates + u0_i + u1_i t_ij (+ m0_k + m1_k t_ij) + e_ij, with
    (u0_i, u1_i) per citizen i and, when a municipality column is given, a municipality intercept m0_k
    (and slope m1_k) in which the citizens are nested.

    Two engines fit it:

    * ``"statsmodels"`` (``MixedLM``): without a municipality the citizen intercept and slope are
      correlated (``re_formula="1 + t"``); with one, municipalities are the groups with a random
      intercept and the citizen intercepts and slopes are independent variance components nested in
      them. It loops over groups, so a few thousand citizens take minutes.
    * ``"fast"``: REML/ML from per-citizen sufficient statistics (Woodbury identities on 2 x 2
      blocks), with correlated citizen intercepts and slopes and, with a municipality, a correlated
      municipality intercept and slope (or an intercept only, ``municipality_slope=False``) - the model
      of lme4's ``y ~ t + (1 + t | citizen) + (1 + t | municipality)``. National data fit in seconds.

    Parameters
    ----------
    reml : bool, default=True
        REML (True) or maximum likelihood.
    cl : float, default=0.95
        Confidence level of the tidy summaries.
    engine : {"statsmodels", "fast"}, default="statsmodels"
    municipality_slope : bool, default=True
        ``engine="fast"`` only: give municipalities a random slope beside their intercept.

    Attributes
    ----------
    coefficients_ : DataFrame
        Fixed effects: ``term``, ``estimate``, ``std_error``, ``conf_low``, ``conf_high``,
        ``statistic`` (z), ``p_value`` (what :meth:`summary` returns).
    variance_components_ : DataFrame
        ``component``, ``variance``, ``std_dev``.
    random_effects_ : DataFrame
        Predicted (BLUP) citizen intercept and slope deviations (statsmodels engine: only when fitted
        without municipality).
    municipality_effects_ : DataFrame or None
        ``engine="fast"`` with a municipality: BLUP municipality intercept and slope deviations.
    n_obs_, n_persons_, converged_ : int, int, bool
    objective_ : float
        ``engine="fast"``: -2 log restricted (REML) or full (ML) likelihood, constants included (lme4's
        ``REMLcrit``/``deviance``).

    References
    ----------
    Laird, N. M., & Ware, J. H. (1982). Random-effects models for longitudinal data. Biometrics, 38,
    963-974.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> person = np.repeat(np.arange(80), 3); years = np.tile([0.0, 1.0, 2.0], 80)
    >>> scaled = 50 - 1.5 * years + rng.normal(0, 4, 80)[person] + rng.normal(0, 2, 240)
    >>> data = pd.DataFrame({"person_id": person, "years": years, "scaled": scaled})
    >>> TrajectoryModel(engine="fast").fit(data).summary()[["term", "estimate", "std_error"]].round(2)
            term  estimate  std_error
    0  intercept     50.20       0.46
    1      years     -1.41       0.16
    """

    def __init__(self, *, reml: bool = True, cl: float = 0.95, engine: str = "statsmodels",
                 municipality_slope: bool = True):
        self.reml = reml
        self.cl = cl
        self.engine = engine
        self.municipality_slope = municipality_slope

    def fit(
        self,
        data: pd.DataFrame,
        *,
        person_col: str = "person_id",
        time_col: str = "years",
        value_col: str = "scaled",
        municipality_col: str | None = None,
        covariates: Sequence[str] | None = None,
    ) -> "TrajectoryModel":
        """Fit the model to one row per person x assessment; returns self."""
        import statsmodels.formula.api as smf
        from statsmodels.tools.sm_exceptions import ConvergenceWarning

        check_level(self.cl)
        check_choice(self.engine, ("statsmodels", "fast"), name="TrajectoryModel: engine")
        cols = {"person_col": person_col, "time_col": time_col, "value_col": value_col}
        if municipality_col is not None:
            cols["municipality_col"] = municipality_col
        check_columns(data, cols, name="TrajectoryModel.fit")
        terms = _covariate_terms(covariates, data, "TrajectoryModel.fit")
        d = data.dropna(subset=list(cols.values()) + list(covariates or [])).copy()
        d = d.rename(columns={value_col: "_y", time_col: "_t", person_col: "_person"})
        n_persons = d["_person"].nunique()
        if n_persons < 3 or len(d) <= n_persons:
            raise DataContractError(
                f"TrajectoryModel.fit: need repeated assessments of at least 3 persons; got {len(d)} rows for "
                f"{n_persons} persons"
            )
        formula = "_y ~ _t" + terms
        if self.engine == "fast":
            return self._fit_fast(d, formula, person_col, time_col, municipality_col, n_persons)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if municipality_col is None:
                model = smf.mixedlm(formula, d, groups=d["_person"], re_formula="1 + _t")
            else:
                d = d.rename(columns={municipality_col: "_municipality"})
                vc = {"person": "0 + C(_person)", "person_slope": "0 + C(_person):_t"}
                model = smf.mixedlm(formula, d, groups=d["_municipality"], re_formula="1", vc_formula=vc)
            result = model.fit(reml=self.reml)
        if not result.converged:
            raise ConvergenceError(
                "TrajectoryModel.fit did not converge. Things to try: (1) express time in years, not days; "
                "(2) drop persons with a single assessment; (3) fit without municipality_col and compare; "
                "(4) check for extreme scores."
            )
        names = {"Intercept": "intercept", "_t": time_col}
        fe = result.fe_params.rename(index=lambda s: names.get(s, s.replace('Q("', "").replace('")', "")))
        bse = result.bse_fe.rename(index=lambda s: names.get(s, s.replace('Q("', "").replace('")', "")))
        self.coefficients_ = _tidy_from(fe, bse, self.cl)
        self.variance_components_ = self._variance_components(result, municipality_col is not None)
        if municipality_col is None:
            re = pd.DataFrame(result.random_effects).T
            re.columns = ["intercept", "slope"]
            self.random_effects_ = re.rename_axis(person_col).reset_index()
        else:
            self.random_effects_ = None
        self.municipality_effects_ = None
        self.time_col_ = time_col
        self.fe_cov_ = result.cov_params().loc[result.fe_params.index, result.fe_params.index]
        self.fe_params_ = result.fe_params
        self.n_obs_ = int(result.nobs)
        self.n_persons_ = int(n_persons)
        self.converged_ = bool(result.converged)
        self.result_ = result
        return self

    def _fit_fast(self, d, formula, person_col, time_col, municipality_col, n_persons) -> "TrajectoryModel":
        from patsy import dmatrix

        X = dmatrix(formula.split("~", 1)[1], d, return_type="dataframe")
        persons, person_codes = np.unique(d["_person"].to_numpy(), return_inverse=True)
        muni_codes, munis = None, None
        if municipality_col is not None:
            munis, muni_codes = np.unique(d[municipality_col].to_numpy(), return_inverse=True)
        try:
            fit = fit_growth(d["_y"].to_numpy(float), X.to_numpy(float), d["_t"].to_numpy(float), person_codes,
                             muni_codes, municipality_slope=self.municipality_slope, reml=self.reml)
        except ValueError as err:
            raise DataContractError(f"TrajectoryModel.fit: {err}; column {municipality_col!r} must be constant "
                                    f"within each {person_col!r}") from err
        if not fit.converged:
            raise ConvergenceError(
                "TrajectoryModel.fit (engine='fast') did not converge. Things to try: (1) express time in years; "
                "(2) set municipality_slope=False; (3) compare with engine='statsmodels' on a sample."
            )
        names = {"Intercept": "intercept", "_t": time_col}
        rename = lambda s: names.get(s, s.replace('Q("', "").replace('")', ""))  # noqa: E731
        self.fe_params_ = pd.Series(fit.beta, index=X.columns)
        self.fe_cov_ = pd.DataFrame(fit.cov_beta, index=X.columns, columns=X.columns)
        self.coefficients_ = _tidy_from(self.fe_params_.rename(index=rename), np.sqrt(np.diag(fit.cov_beta)),
                                        self.cl)
        comps = {"citizen_intercept": fit.G[0, 0], "citizen_slope": fit.G[1, 1],
                 "citizen_intercept_slope_cov": fit.G[0, 1]}
        if fit.H is not None:
            comps.update({"municipality_intercept": fit.H[0, 0]})
            if self.municipality_slope:
                comps.update({"municipality_slope": fit.H[1, 1], "municipality_intercept_slope_cov": fit.H[0, 1]})
        comps["residual"] = fit.sigma2
        vc = pd.DataFrame({"component": list(comps), "variance": [float(v) for v in comps.values()]})
        vc["std_dev"] = np.where(vc["component"].str.endswith("_cov"), np.nan, np.sqrt(vc["variance"].clip(lower=0)))
        self.variance_components_ = vc
        self.random_effects_ = pd.DataFrame({person_col: persons, "intercept": fit.citizen_effects[:, 0],
                                             "slope": fit.citizen_effects[:, 1]})
        self.municipality_effects_ = None if munis is None else pd.DataFrame(
            {municipality_col: munis, "intercept": fit.municipality_effects[:, 0],
             "slope": fit.municipality_effects[:, 1]})
        self.time_col_ = time_col
        self.n_obs_ = int(len(d))
        self.n_persons_ = int(n_persons)
        self.converged_ = True
        self.objective_ = fit.objective
        self.result_ = fit
        return self

    @staticmethod
    def _variance_components(result, with_municipality: bool) -> pd.DataFrame:
        cov_re = np.asarray(result.cov_re)
        if with_municipality:
            comps = {"municipality_intercept": cov_re[0, 0]}
            comps.update({f"citizen_{'intercept' if n == 'person' else 'slope'}": v
                          for n, v in zip(result.model.exog_vc.names, result.vcomp)})
        else:
            comps = {"citizen_intercept": cov_re[0, 0], "citizen_slope": cov_re[1, 1],
                     "citizen_intercept_slope_cov": cov_re[0, 1]}
        comps["residual"] = result.scale
        out = pd.DataFrame({"component": list(comps), "variance": [float(v) for v in comps.values()]})
        out["std_dev"] = np.where(out["component"].str.endswith("_cov"), np.nan, np.sqrt(out["variance"].clip(lower=0)))
        return out

    def mean_trajectory(self, times: Sequence[float]) -> pd.DataFrame:
        """Population mean score at the given times (other covariates at 0) with a confidence band.

        Returns
        -------
        DataFrame
            ``time``, ``estimate``, ``conf_low``, ``conf_high``.
        """
        self._check_fitted()
        t = np.asarray(times, dtype=float)
        x = np.zeros((t.size, len(self.fe_params_)))
        x[:, 0] = 1.0
        x[:, list(self.fe_params_.index).index("_t")] = t
        est = x @ self.fe_params_.to_numpy()
        se = np.sqrt(np.einsum("ij,jk,ik->i", x, self.fe_cov_.to_numpy(), x))
        z = z_value(self.cl)
        return pd.DataFrame({"time": t, "estimate": est, "conf_low": est - z * se, "conf_high": est + z * se})

    def _check_fitted(self) -> None:
        if not hasattr(self, "coefficients_"):
            raise NotFittedError("TrajectoryModel is not fitted yet: call fit(data, ...) first")

    def summary(self) -> pd.DataFrame:
        """The fixed effects as a tidy table (``term``, ``estimate``, ``std_error``, ``conf_low``,
        ``conf_high``, ``statistic``, ``p_value``)."""
        self._check_fitted()
        return self.coefficients_.copy()

    def __repr__(self) -> str:
        if hasattr(self, "coefficients_"):
            return f"TrajectoryModel(n_obs={self.n_obs_}, n_persons={self.n_persons_})"
        return "TrajectoryModel(not fitted)"


def _ordered_model_class():
    """statsmodels' OrderedModel with its analytic score, so fitting and the clustered sandwich need no
    numerical differences of the likelihood over all observations (only of the score, for the Hessian)."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel
    from statsmodels.tools.numdiff import approx_fprime

    class _ScoredOrderedModel(OrderedModel):
        def score_obs(self, params, **kwds):
            # P(y = j) = F(c_j - xb) - F(c_{j-1} - xb); c_0 = th_0, c_k = th_0 + sum_{m<=k} exp(th_m)
            low, upp = self._bounds(params)
            prob = self.prob(low, upp) + 1e-20
            f_low, f_upp = self._density(low), self._density(upp)  # 0 at -inf / +inf
            k_cut = self.k_levels - 1
            theta = np.asarray(params)[-k_cut:]
            y = np.asarray(self.endog, dtype=int)
            m = np.arange(k_cut)
            d_cut = (f_upp[:, None] * (y[:, None] >= m) - f_low[:, None] * (y[:, None] >= m + 1)) / prob[:, None]
            d_cut[:, 1:] *= np.exp(theta[1:])
            d_xb = -((f_upp - f_low) / prob)[:, None] * np.asarray(self.exog)
            return np.column_stack([d_xb, d_cut])

        def score(self, params):
            # the column sums of score_obs, by level counts instead of an n x levels array
            low, upp = self._bounds(params)
            prob = self.prob(low, upp) + 1e-20
            a, b = self._density(upp) / prob, self._density(low) / prob
            k_cut = self.k_levels - 1
            y = np.asarray(self.endog, dtype=int)
            tail_a = np.cumsum(np.bincount(y, a, minlength=self.k_levels)[::-1])[::-1]  # sum over y >= m
            tail_b = np.cumsum(np.bincount(y, b, minlength=self.k_levels)[::-1])[::-1]
            d_cut = tail_a[:k_cut] - tail_b[1:k_cut + 1]
            d_cut[1:] *= np.exp(np.asarray(params)[-k_cut:][1:])
            return np.concatenate([-(np.asarray(self.exog).T @ (a - b)), d_cut])

        def _density(self, x):
            if self.distr.name == "logistic":  # p (1 - p) is much faster than scipy.stats' pdf
                p = special.expit(x)
                return p * (1 - p)
            return self.pdf(x)

        def hessian(self, params):
            h = approx_fprime(np.asarray(params, dtype=float), self.score, centered=True)
            return (h + h.T) / 2

    return _ScoredOrderedModel


class OrdinalLevelModel:
    """Proportional-odds model for ordinal levels (e.g. VUM 0-4) over time.

    logit P(level <= j) = cut_j - (b1 t + covariates). A positive time coefficient means higher levels
    over time, which for VUM (lower is better) is deterioration. Standard errors are clustered on
    citizens because each citizen contributes several assessments (and domains).

    Parameters
    ----------
    distr : {"logit", "probit"}, default="logit"
    cl : float, default=0.95

    Attributes
    ----------
    coefficients_ : DataFrame
        ``parclass`` ("coefficient" or "cut"), then the tidy columns (what :meth:`summary` returns). Cut
        points are on the latent scale
        (the model's increment parametrisation is transformed back, with delta-method errors).
    levels_ : list
        Observed levels in order.

    References
    ----------
    McCullagh, P. (1980). Regression models for ordinal data. JRSS B, 42, 109-142.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> years = rng.uniform(0, 4, 600)
    >>> level = np.digitize(0.5 * years + rng.logistic(size=600), [0.5, 1.5, 2.5])
    >>> data = pd.DataFrame({"person_id": np.arange(600) // 3, "years": years, "score": level})
    >>> model = OrdinalLevelModel().fit(data)
    >>> model.summary()[["parclass", "term", "estimate"]].round(2)
          parclass   term  estimate
    0  coefficient  years      0.54
    1          cut    0|1      0.50
    2          cut    1|2      1.43
    3          cut    2|3      2.38
    """

    def __init__(self, *, distr: str = "logit", cl: float = 0.95):
        self.distr = distr
        self.cl = cl

    def fit(
        self,
        data: pd.DataFrame,
        *,
        person_col: str = "person_id",
        time_col: str = "years",
        level_col: str = "score",
        covariates: Sequence[str] | None = None,
    ) -> "OrdinalLevelModel":
        """Fit to one row per person x assessment (x domain); returns self."""
        check_choice(self.distr, ("logit", "probit"), name="OrdinalLevelModel: distr")
        check_level(self.cl)
        cols = {"person_col": person_col, "time_col": time_col, "level_col": level_col}
        check_columns(data, cols, name="OrdinalLevelModel.fit")
        terms = _covariate_terms(covariates, data, "OrdinalLevelModel.fit")
        d = data.dropna(subset=list(cols.values()) + list(covariates or [])).copy()
        levels = sorted(d[level_col].unique())
        if len(levels) < 3:
            raise DataContractError(f"OrdinalLevelModel.fit: column {level_col!r} has {len(levels)} level(s) "
                                    f"{levels}; need at least 3")
        d["_level"] = pd.Categorical(d[level_col], categories=levels, ordered=True)
        d = d.rename(columns={time_col: "_t"})
        model = _ordered_model_class().from_formula("_level ~ _t" + terms, d, distr=self.distr)
        result = model.fit(method="bfgs", disp=False, maxiter=2000, cov_type="cluster",
                           cov_kwds={"groups": pd.factorize(d[person_col])[0]})
        if not result.mle_retvals.get("converged", True):
            raise ConvergenceError(
                "OrdinalLevelModel.fit did not converge. Things to try: (1) merge sparse levels; (2) rescale time "
                "to years; (3) drop covariates with separated categories."
            )
        n_cut = len(levels) - 1
        params, cov = result.params, result.cov_params()
        coef_names = list(params.index[:-n_cut])
        rename = {"_t": time_col}
        coefs = _tidy_from(params[coef_names].rename(index=lambda s: rename.get(s, s.replace('Q("', "").replace('")', ""))),
                           np.sqrt(np.diag(cov.loc[coef_names, coef_names])), self.cl)
        coefs.insert(0, "parclass", "coefficient")
        self.coefficients_ = pd.concat([coefs, self._cuts(params[-n_cut:], cov.iloc[-n_cut:, -n_cut:], levels)],
                                  ignore_index=True)
        self.levels_ = levels
        self.n_obs_ = int(result.nobs)
        self.n_persons_ = int(d[person_col].nunique())
        self.result_ = result
        return self

    def _cuts(self, theta: pd.Series, cov: pd.DataFrame, levels) -> pd.DataFrame:
        th = theta.to_numpy()
        cuts = th[0] + np.r_[0.0, np.cumsum(np.exp(th[1:]))]
        jac = np.zeros((th.size, th.size))
        jac[:, 0] = 1.0
        for j in range(1, th.size):
            jac[j:, j] = np.exp(th[j])
        se = np.sqrt(np.diag(jac @ cov.to_numpy() @ jac.T))
        names = pd.Index([f"{levels[j]}|{levels[j + 1]}" for j in range(th.size)])
        out = _tidy_from(pd.Series(cuts, index=names), se, self.cl)
        out.insert(0, "parclass", "cut")
        return out

    def summary(self) -> pd.DataFrame:
        """Coefficients and cut points as a tidy table (``parclass``, ``term``, ``estimate``, ``std_error``,
        ``conf_low``, ``conf_high``, ``statistic``, ``p_value``)."""
        if not hasattr(self, "coefficients_"):
            raise NotFittedError("OrdinalLevelModel is not fitted yet: call fit(data, ...) first")
        return self.coefficients_.copy()

    def __repr__(self) -> str:
        if hasattr(self, "coefficients_"):
            return f"OrdinalLevelModel(n_obs={self.n_obs_}, n_persons={self.n_persons_}, levels={self.levels_})"
        return "OrdinalLevelModel(not fitted)"


_MOVE_ORDER = ("down", "same", "up")


def _merge_moves(changes, moves, person_col, move_col, what):
    check_columns(moves, {"person_col": person_col, "move_col": move_col}, name=what)
    dup = moves[person_col].duplicated()
    if dup.any():
        raise DataContractError(f"{what}: moves must have one row per {person_col!r}; "
                                f"{int(dup.sum())} repeated, e.g. {moves.loc[dup, person_col].tolist()[:5]}")
    unknown = sorted(set(moves[move_col].dropna().astype(str)) - set(_MOVE_ORDER))
    if unknown:
        raise DataContractError(f"{what}: column {move_col!r} must hold {list(_MOVE_ORDER)}; found {unknown}")
    merged = changes.merge(moves[[person_col, move_col]], on=person_col, how="inner")
    merged[move_col] = pd.Categorical(merged[move_col].astype(str), categories=list(_MOVE_ORDER), ordered=True)
    return merged


def step_move_ancova(
    changes: pd.DataFrame,
    moves: pd.DataFrame,
    *,
    person_col: str = "person_id",
    pre_col: str = "pre",
    post_col: str = "post",
    move_col: str = "move",
    reference: str = "same",
    cl: float = 0.95,
) -> pd.DataFrame:
    """Change in functioning/recovery by staircase move, adjusted for baseline (ANCOVA).

    Fits post = b0 + b1 pre + sum_m g_m [move = m] + e by OLS with HC3 robust errors. Comparing raw
    change scores between move groups is biased when moves depend on the baseline score (regression to
    the mean); conditioning on the baseline removes that bias when moves depend on the observed
    baseline (Senn 2006).

    Parameters
    ----------
    changes : DataFrame
        One row per citizen with baseline and follow-up scores (e.g. from ``change_per_citizen``).
    moves : DataFrame
        One row per citizen with ``move`` in {"down", "same", "up"} between the two assessments.
    reference : str, default="same"
        Move group the adjusted effects are compared with.

    Returns
    -------
    DataFrame
        One row per move group: ``move``, ``n``, ``mean_pre``, ``mean_change`` (raw), ``adjusted_post``
        (predicted follow-up at the overall mean baseline) with ``adjusted_conf_low``/``adjusted_conf_high``,
        and ``effect`` (adjusted difference from ``reference``) with ``effect_conf_low``,
        ``effect_conf_high``, ``p_value``. ``attrs`` holds ``baseline_slope`` and ``n``.

    References
    ----------
    Senn, S. (2006). Change from baseline and analysis of covariance revisited. Statistics in Medicine,
    25, 4334-4344.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> pre = rng.normal(50, 10, 300); move = rng.choice(["down", "same", "up"], 300)
    >>> post = 10 + 0.8 * pre + np.select([move == "down", move == "up"], [5.0, -5.0], 0.0) + rng.normal(0, 5, 300)
    >>> changes = pd.DataFrame({"person_id": range(300), "pre": pre, "post": post})
    >>> out = step_move_ancova(changes, pd.DataFrame({"person_id": range(300), "move": move}))
    >>> out[["move", "n", "effect", "effect_conf_low", "effect_conf_high"]].round(1)
       move    n  effect  effect_conf_low  effect_conf_high
    0  down   92     5.6              4.3               7.0
    1  same   99     0.0              NaN               NaN
    2    up  109    -4.0             -5.4              -2.7
    """
    import statsmodels.formula.api as smf

    what = "step_move_ancova"
    check_columns(changes, {"person_col": person_col, "pre_col": pre_col, "post_col": post_col}, name=what)
    if reference not in _MOVE_ORDER:
        raise ParameterError(f"reference must be one of {list(_MOVE_ORDER)}; got {reference!r}")
    d = _merge_moves(changes, moves, person_col, move_col, what).dropna(subset=[pre_col, post_col, move_col])
    present = [m for m in _MOVE_ORDER if (d[move_col] == m).any()]
    if reference not in present or len(present) < 2:
        raise DataContractError(f"{what}: need the reference group {reference!r} and one other move group; "
                                f"groups present: {present}")
    d = d.assign(_pre=d[pre_col].astype(float), _post=d[post_col].astype(float),
                 _move=pd.Categorical(d[move_col].astype(str), categories=present))
    fit = smf.ols(f"_post ~ _pre + C(_move, Treatment('{reference}'))", d).fit(cov_type="HC3")
    z = z_value(cl)
    pre_mean = d["_pre"].mean()
    rows = []
    for m in present:
        g = d[d["_move"] == m]
        x = pd.DataFrame({"_pre": [pre_mean], "_move": pd.Categorical([m], categories=present)})
        pred = fit.get_prediction(x).summary_frame(alpha=1 - cl).iloc[0]
        term = f"C(_move, Treatment('{reference}'))[T.{m}]"
        eff, se = (fit.params[term], fit.bse[term]) if m != reference else (0.0, np.nan)
        rows.append({
            "move": m,
            "n": len(g),
            "mean_pre": g["_pre"].mean(),
            "mean_change": (g["_post"] - g["_pre"]).mean(),
            "adjusted_post": pred["mean"],
            "adjusted_conf_low": pred["mean_ci_lower"],
            "adjusted_conf_high": pred["mean_ci_upper"],
            "effect": eff,
            "effect_conf_low": eff - z * se,
            "effect_conf_high": eff + z * se,
            "p_value": 2 * stats.norm.sf(abs(eff / se)) if m != reference else np.nan,
        })
    out = pd.DataFrame(rows)
    out.attrs.update({"baseline_slope": float(fit.params["_pre"]), "n": int(fit.nobs), "reference": reference})
    return out


def move_change_table(
    changes: pd.DataFrame,
    moves: pd.DataFrame,
    *,
    person_col: str = "person_id",
    move_col: str = "move",
    class_col: str = "change_class",
    normalize: bool = True,
) -> pd.DataFrame:
    """Cross-table of staircase move (rows) against change class (columns).

    With ``normalize=True`` each row gives the shares of its move group (rows sum to 1); otherwise counts.

    Parameters
    ----------
    changes : DataFrame
        One row per person with the change class (e.g. :func:`~progression.recovery.change.change_per_citizen`).
    moves : DataFrame
        One row per person with the move (:func:`progression.staircase.staircase_moves`).
    person_col, move_col, class_col : str
        Column names.
    normalize : bool, default=True

    Returns
    -------
    DataFrame
        Moves as rows, change classes as columns.

    Raises
    ------
    DataContractError
        When a column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> changes = pd.DataFrame({"person_id": [1, 2, 3, 4],
    ...                         "change_class": ["progression", "maintenance", "maintenance", "degression"]})
    >>> moves = pd.DataFrame({"person_id": [1, 2, 3, 4], "move": ["down", "same", "same", "up"]})
    >>> move_change_table(changes, moves).to_dict("index")["same"]
    {'progression': 0.0, 'maintenance': 1.0, 'degression': 0.0}
    """
    what = "move_change_table"
    check_columns(changes, {"person_col": person_col, "class_col": class_col}, name=what)
    d = _merge_moves(changes, moves, person_col, move_col, what).dropna(subset=[move_col, class_col])
    table = pd.crosstab(d[move_col], pd.Categorical(d[class_col].astype(str), categories=list(CHANGE_CLASSES)),
                        dropna=False)
    table = table.reindex(index=list(_MOVE_ORDER), columns=list(CHANGE_CLASSES), fill_value=0)
    table.index.name, table.columns.name = "move", "change_class"
    if normalize:
        table = table.div(table.sum(axis=1).replace(0, np.nan), axis=0)
    return table


def binned_means(
    frame: pd.DataFrame,
    *,
    time_col: str = "years",
    value_col: str = "scaled",
    person_col: str = "person_id",
    width: float = 1.0,
    cl: float = 0.95,
    min_group_size: int = 5,
) -> pd.DataFrame:
    """Observed mean score per time bin [k w, (k + 1) w), to set beside a model's mean trajectory.

    Parameters
    ----------
    frame : DataFrame
        One row per person x assessment with ``time_col`` and ``value_col``.
    width : float, default 1.0
        Bin width (in the unit of ``time_col``).
    cl : float, default 0.95
        Level of the t intervals.
    min_group_size : int, default 5
        Bins with fewer persons are flagged ``suppress``.

    Returns
    -------
    DataFrame
        ``time`` (bin midpoint), ``n`` (distinct persons), ``n_obs``, ``estimate`` (the mean) with a t
        interval ``conf_low``/``conf_high`` (observations treated as independent, so the band is narrow
        when persons contribute several) and ``suppress`` (n < ``min_group_size``).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person_id": [1, 2, 3, 4, 5, 1], "years": [0.2, 0.4, 0.5, 0.6, 0.9, 1.2],
    ...                       "scaled": [10.0, 12, 14, 16, 18, 20]})
    >>> binned_means(frame)[["time", "n", "n_obs", "estimate", "suppress"]]
       time  n  n_obs  estimate  suppress
    0   0.5  5      5      14.0     False
    1   1.5  1      1      20.0      True
    """
    check_columns(frame, {"time_col": time_col, "value_col": value_col, "person_col": person_col}, name="binned_means")
    if not width > 0:
        raise ParameterError(f"width must be positive; got {width!r}")
    d = frame.dropna(subset=[time_col, value_col])
    d = d.assign(_bin=np.floor(d[time_col].to_numpy(dtype=float) / width))
    g = d.groupby("_bin", sort=True)
    out = pd.DataFrame({"n": g[person_col].nunique(), "n_obs": g[value_col].size(), "estimate": g[value_col].mean(),
                        "_sd": g[value_col].std(ddof=1)})
    half = stats.t.ppf(0.5 + check_level(cl) / 2, np.maximum(out["n_obs"] - 1, 1)) * out["_sd"] / np.sqrt(out["n_obs"])
    out["conf_low"], out["conf_high"] = out["estimate"] - half, out["estimate"] + half
    out.insert(0, "time", (out.index.to_numpy() + 0.5) * width)
    out["suppress"] = out["n"] < min_group_size
    return out.drop(columns="_sd").reset_index(drop=True)


def trajectory_frame(
    assessments: pd.DataFrame,
    instrument: str,
    persons: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    staircase=None,
    max_years: float = 10.0,
    max_persons: int | None = None,
    seed: int = 0,
    person_col: str = "person_id",
) -> pd.DataFrame:
    """Scored assessments with years since service start and a municipality per citizen, for trajectories.

    Keeps valid assessments from service start (the first spell on a step,
    :func:`progression.staircase.service_start`) up to ``max_years`` later. The municipality is the
    acting one at the citizen's first kept assessment (else the one in ``persons``), so citizens nest in
    municipalities. With ``max_persons``, a simple random sample of citizens (``seed``) is kept.

    Parameters
    ----------
    assessments, persons, spells : DataFrame
        Long assessments, persons (``municipality``) and service spells.
    instrument : str
        A registered instrument.
    staircase : Staircase or StaircaseParams, optional
        Defaults to the staircase of Social- og Boligstyrelsen (2024), *Kommunernes omlægning til
        Borgeren ved roret*.
    max_years : float, default 10
    max_persons : int, optional
    seed : int, default 0

    Returns
    -------
    DataFrame
        ``person_col``, ``assessment_date``, ``scaled``, ``raw``, ``years``, ``municipality``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> frame = trajectory_frame(load_example("assessments"), "WHO5", load_example("persons"),
    ...                          load_example("spells"), max_years=5, max_persons=100)
    >>> frame["person_id"].nunique(), bool(frame["years"].between(0, 5).all())
    (100, True)
    """
    scored = score(assessments, instrument, person_col=person_col)
    scored = scored[scored["valid"]].copy()
    scored["years"] = years_since(scored, service_start(spells, staircase=staircase), person_col=person_col)
    scored = scored[(scored["years"] >= 0) & (scored["years"] <= max_years)]
    ids = np.sort(scored[person_col].unique())
    if max_persons is not None and ids.size > max_persons:
        keep = np.sort(np.random.default_rng(seed).choice(ids, size=max_persons, replace=False))
        scored = scored[scored[person_col].isin(keep)]
    first = scored.groupby(person_col, as_index=False)["assessment_date"].min()
    first = first.rename(columns={"assessment_date": "date"})
    at_first = steps_on_dates(spells, first, staircase=staircase, person_col=person_col).set_index(person_col)
    fallback = persons.set_index(person_col)["municipality"].astype("Int64")
    muni = at_first["municipality"].fillna(fallback.reindex(at_first.index))
    scored["municipality"] = scored[person_col].map(muni).astype("Int64")
    return scored[[person_col, "assessment_date", "scaled", "raw", "years", "municipality"]].reset_index(drop=True)


class InstrumentTrajectories:
    """One growth model per instrument of the score over years since service start.

    For each instrument, :func:`trajectory_frame` gives the valid assessments up to ``max_years`` after
    service start (a sample of ``max_persons`` citizens when there are more), and a
    :class:`TrajectoryModel` with ``engine="fast"`` fits

        y_ij = b0 + b1 t_ij + u0_i + u1_i t_ij + m0_k + m1_k t_ij + e_ij,

    correlated random intercepts and slopes per citizen i and per municipality k (the acting
    municipality at the citizen's first assessment), by REML.

    Parameters
    ----------
    instruments : sequence of str, default ("VUM", "WHO5", "INSPIRE_O", "QPR15")
    max_years : float, default 10
        Years after service start kept.
    max_persons : int, optional
        Citizens sampled per instrument.
    seed : int, default 0
        Random state of the samples; each instrument's sample comes from its own named stream of it
        (``stream_seed(seed, instrument)``, :func:`progression._tidy.stream_seed`).
    cl : float, default 0.95
        Confidence level.

    Attributes
    ----------
    models_ : dict of str to TrajectoryModel
        The fitted model per instrument.
    frames_ : dict of str to DataFrame
        The person-level data each model was fitted on (never leaves a run).

    References
    ----------
    Laird, N. M., & Ware, J. H. (1982). Random-effects models for longitudinal data. Biometrics, 38,
    963-974.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> fits = InstrumentTrajectories(instruments=["WHO5"], max_years=5).fit(
    ...     load_example("assessments"), load_example("persons"), load_example("spells"))
    >>> fits.summary().query("kind == 'fixed'")[["instrument", "term"]]
      instrument       term
    0       WHO5  intercept
    1       WHO5      years
    """

    def __init__(self, *, instruments: Sequence[str] = ("VUM", "WHO5", "INSPIRE_O", "QPR15"), max_years: float = 10.0,
                 max_persons: int | None = None, seed: int = 0, cl: float = 0.95):
        self.instruments = instruments
        self.max_years = max_years
        self.max_persons = max_persons
        self.seed = seed
        self.cl = cl

    def fit(self, assessments: pd.DataFrame, persons: pd.DataFrame, spells: pd.DataFrame, *,
            staircase=None) -> "InstrumentTrajectories":
        """Fit one growth model per instrument; returns self."""
        check_level(self.cl)
        self.models_, self.frames_ = {}, {}
        for name in self.instruments:
            frame = trajectory_frame(assessments, name, persons, spells, staircase=staircase, max_years=self.max_years,
                                     max_persons=self.max_persons, seed=stream_seed(self.seed, name))
            self.frames_[name] = frame
            self.models_[name] = TrajectoryModel(engine="fast", cl=self.cl).fit(frame, municipality_col="municipality")
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise NotFittedError("InstrumentTrajectories is not fitted yet: call fit(assessments, persons, spells) "
                                 "first")

    def summary(self) -> pd.DataFrame:
        """Fixed effects and variance components per instrument.

        Returns
        -------
        DataFrame
            ``instrument``, ``kind`` ("fixed" or "variance"), ``term``, ``estimate``, ``std_error``,
            ``conf_low``, ``conf_high``, ``n_persons``, ``n_obs``.
        """
        self._check_fitted()
        frames = []
        for name, model in self.models_.items():
            counts = {"instrument": name, "n_persons": model.n_persons_, "n_obs": model.n_obs_}
            vc = model.variance_components_.rename(columns={"component": "term", "variance": "estimate"})
            frames += [model.summary().assign(kind="fixed", **counts),
                       vc.drop(columns="std_dev").assign(kind="variance", **counts)]
        table = pd.concat(frames, ignore_index=True)
        return table[["instrument", "kind", "term", "estimate", "std_error", "conf_low", "conf_high", "n_persons",
                      "n_obs"]]

    def mean_trajectory(self, times: Sequence[float] | None = None) -> pd.DataFrame:
        """The model mean per instrument on a grid of years (default: 41 points from 0 to ``max_years``).

        Returns
        -------
        DataFrame
            ``instrument``, ``time``, ``estimate``, ``conf_low``, ``conf_high``, ``n_persons``.
        """
        self._check_fitted()
        grid = np.linspace(0, self.max_years, 41) if times is None else np.asarray(times, dtype=float)
        frames = [model.mean_trajectory(grid).assign(instrument=name, n_persons=model.n_persons_)
                  for name, model in self.models_.items()]
        out = pd.concat(frames, ignore_index=True)
        return out[["instrument", "time", "estimate", "conf_low", "conf_high", "n_persons"]]

    def observed_means(self, *, width: float = 1.0, min_group_size: int = 5) -> pd.DataFrame:
        """Observed mean scores per year since start (:func:`binned_means`), per instrument.

        Statistics of bins with fewer than ``min_group_size`` citizens are set missing.

        Returns
        -------
        DataFrame
            ``instrument``, ``time``, ``n``, ``n_obs``, ``estimate``, ``conf_low``, ``conf_high``.
        """
        self._check_fitted()
        frames = []
        for name, frame in self.frames_.items():
            obs = binned_means(frame, width=width, cl=self.cl, min_group_size=min_group_size)
            obs.loc[obs["suppress"], ["estimate", "conf_low", "conf_high"]] = np.nan
            frames.append(obs.drop(columns="suppress").assign(instrument=name))
        out = pd.concat(frames, ignore_index=True)
        return out[["instrument", "time", "n", "n_obs", "estimate", "conf_low", "conf_high"]]

    def __repr__(self) -> str:
        if hasattr(self, "models_"):
            return f"InstrumentTrajectories({', '.join(f'{k}: {m!r}' for k, m in self.models_.items())})"
        return "InstrumentTrajectories(not fitted)"


def vum_ordinal_trend(
    assessments: pd.DataFrame,
    persons: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    staircase=None,
    max_years: float = 10.0,
    max_persons: int | None = None,
    seed: int = 0,
    cl: float = 0.95,
) -> pd.DataFrame:
    """Proportional-odds model of VUM domain levels over years since service start, domains as covariates.

    One row per citizen x assessment x relevant domain (code 9 left out), on the assessments
    :func:`trajectory_frame` keeps; errors clustered on citizens (:class:`OrdinalLevelModel`). A
    positive ``years`` coefficient means higher (worse) levels over time.

    Parameters
    ----------
    assessments, persons, spells : DataFrame
    staircase : Staircase or StaircaseParams, optional
    max_years, max_persons, seed
        As :func:`trajectory_frame`.
    cl : float, default 0.95

    Returns
    -------
    DataFrame
        :meth:`OrdinalLevelModel.summary` (domain terms written ``domain: <name>``) with ``n_persons`` and
        ``n_obs``.

    References
    ----------
    McCullagh, P. (1980). Regression models for ordinal data. JRSS B, 42, 109-142.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> out = vum_ordinal_trend(load_example("assessments"), load_example("persons"), load_example("spells"),
    ...                         max_persons=300)
    >>> out[out["term"] == "years"][["estimate", "n_persons"]].round(3)
       estimate  n_persons
    5    -0.025        300
    """
    frame = trajectory_frame(assessments, "VUM", persons, spells, staircase=staircase, max_years=max_years,
                             max_persons=max_persons, seed=seed)
    rows = assessments[(assessments["instrument"] == "VUM") & (assessments["score"] != 9)]
    rows = rows.merge(frame[["person_id", "assessment_date", "years"]], on=["person_id", "assessment_date"])
    model = OrdinalLevelModel(cl=cl).fit(rows.dropna(subset=["score"]), covariates=["item"])
    out = model.summary()
    out["term"] = out["term"].str.replace(r"^item\[T\.(.*)\]$", r"domain: \1", regex=True)
    return out.assign(n_persons=model.n_persons_, n_obs=model.n_obs_)
