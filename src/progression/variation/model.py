"""Cross-section model of spending per inhabitant on objective criteria, with diagnostics and benchmarks.

``SpendingVariationModel`` fits spending per inhabitant of the relevant age (level or log) on a chosen set
of criteria by OLS, or by WLS with population weights, and reports

* coefficients with heteroskedasticity-robust standard errors (HC3 by default; MacKinnon & White 1985);
* R², adjusted R² and cross-validated R² (repeated, seeded K-fold; pooled out-of-fold predictions), and the
  cross-validated R² of a gradient-boosting learner on the same criteria, which shows how much a flexible
  non-linear model would add;
* influence diagnostics (leverage, Cook's distance, DFFITS; Belsley, Kuh & Welsch 1980) that flag
  municipalities such as Copenhagen and the small islands;
* expected against actual spending per municipality with confidence intervals of the expected level
  (``conf_low``, ``conf_high``) and prediction intervals for one municipality (``pred_low``,
  ``pred_high``), standardised residuals and funnel-plot limits (Spiegelhalter 2005);
* the Shapley decomposition of its R² (:mod:`progression.variation.shapley`).

Every result is a tidy DataFrame (:meth:`SpendingVariationModel.summary`, ``benchmark``, ``influence``,
``funnel``, ``shapley_bootstrap``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from progression._tidy import RESULT_COLUMNS, z_value
from progression._validation import check_choice, check_columns, check_level, check_positive_int
from progression.exceptions import DataContractError, NotFittedError, ParameterError
from progression.variation._data import column_list, finite_matrix, positive_weights, weighted_r2
from progression.variation.shapley import shapley_r2, shapley_r2_bootstrap

__all__ = ["SPECIAL_MUNICIPALITIES", "SpendingVariationModel"]

#: Municipalities that are routinely outliers in per-capita comparisons: the capital and the small islands.
SPECIAL_MUNICIPALITIES: dict[int, str] = {101: "København", 492: "Ærø", 563: "Fanø", 741: "Samsø", 825: "Læsø"}

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")


def _wls(design: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    root = np.sqrt(w)
    return np.linalg.lstsq(design * root[:, None], y * root, rcond=None)[0]


class SpendingVariationModel:
    """OLS/WLS of spending per inhabitant on objective criteria, with fit statistics and benchmarks.

    Parameters
    ----------
    log : bool, default=False
        Model log(spending per inhabitant); residuals are then relative differences.
    cov_type : {"HC3", "HC0", "HC1", "HC2", "nonrobust"}, default="HC3"
        Covariance of the coefficients; HC3 suits small samples with influential units.
    cl : float, default=0.95
        Confidence level of the intervals (of the coefficients, the expected levels and the predictions).
    cv_folds : int, default=10
        Folds of the K-fold cross-validation.
    cv_repeats : int, default=5
        Repetitions with different fold assignments; the cross-validated R² is their mean.
    boosting : bool, default=True
        Also cross-validate a gradient-boosting regressor on the same criteria (on the folds of the first
        repeat only: it is a comparison, and a hundred trees per fold are slow).
    boosting_params : dict, optional
        Settings of :class:`sklearn.ensemble.GradientBoostingRegressor`; default
        ``n_estimators=100, max_depth=2, learning_rate=0.05, subsample=0.8``.
    seed : int, default=0
        Seeds the fold assignments and the boosting.

    Attributes
    ----------
    results_ : statsmodels RegressionResults
        The fitted OLS/WLS model (with the chosen covariance).
    fit_stats_ : pandas.Series
        ``n_municipalities``, ``n_predictors``, ``r2``, ``adj_r2``, ``cv_r2``, ``cv_r2_sd`` (across
        repeats), ``cv_r2_boosting``, ``rmse``, ``weighted``, ``log``, ``cov_type``.
    data_ : pandas.DataFrame
        The rows used in the fit.
    excluded_ : list
        Ids left out by ``exclude``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> from progression.variation import spending_panel
    >>> criteria = ["share_no_vocational_25_49", "share_handicap_diagnoses", "share_psychiatric_patients"]
    >>> panel = spending_panel(load_example("municipal_accounts"), load_example("municipality_years"),
    ...                        functions="5.38", population_col="pop_18_66", criteria=criteria)
    >>> cross = panel[panel["year"] == 2022]
    >>> model = SpendingVariationModel(boosting=False, cv_repeats=1).fit(cross, y="spend_per_capita", X=criteria)
    >>> print(f"R² = {model.fit_stats_['r2']:.2f}")
    R² = 0.40
    >>> list(model.summary().columns)
    ['term', 'estimate', 'std_error', 'conf_low', 'conf_high', 'statistic', 'p_value']
    """

    def __init__(
        self,
        *,
        log: bool = False,
        cov_type: str = "HC3",
        cl: float = 0.95,
        cv_folds: int = 10,
        cv_repeats: int = 5,
        boosting: bool = True,
        boosting_params: Mapping | None = None,
        seed: int = 0,
    ) -> None:
        self.log = log
        self.cov_type = cov_type
        self.cl = cl
        self.cv_folds = cv_folds
        self.cv_repeats = cv_repeats
        self.boosting = boosting
        self.boosting_params = boosting_params
        self.seed = seed

    # ----------------------------------------------------------------------------------------------
    # fitting
    # ----------------------------------------------------------------------------------------------
    def _check_settings(self, n: int) -> None:
        check_choice(self.cov_type, COV_TYPES, name="cov_type")
        check_level(self.cl)
        if check_positive_int(self.cv_folds, name="cv_folds", minimum=2) > n:
            raise ParameterError(f"cv_folds must be in 2..{n} (the rows of the fit); got {self.cv_folds!r}")
        check_positive_int(self.cv_repeats, name="cv_repeats")

    def fit(
        self,
        data: pd.DataFrame,
        *,
        y: str,
        X: Sequence[str],
        weights: str | None = None,
        id_col: str = "municipality",
        exclude: Iterable | None = None,
    ) -> SpendingVariationModel:
        """Fit the model on one row per municipality.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per municipality (one year).
        y : str
            Spending per inhabitant of the relevant age.
        X : sequence of str
            Criteria (shares); an intercept is added.
        weights : str, optional
            Population column for WLS; OLS when omitted.
        id_col : str, default="municipality"
            Municipality code column (must be unique).
        exclude : iterable, optional
            Ids to leave out (e.g. ``[825]`` for Læsø, as Figur 2.5 of Ekspertudvalget på socialområdet
            (2024), *Anbefalinger til en bæredygtig faglig og økonomisk udvikling på socialområdet*, does).

        Returns
        -------
        self
        """
        import statsmodels.api as sm

        X = column_list(X, name="X")
        check_columns(data, {"id_col": id_col, "y": y, **{f"X[{i}]": x for i, x in enumerate(X)},
                             "weights": weights})
        duplicated = data[id_col][data[id_col].duplicated()].unique().tolist()
        if duplicated:
            raise DataContractError(
                f"{id_col!r} must be unique (one row per municipality); {len(duplicated)} repeated: {duplicated[:5]}"
            )
        self.excluded_ = [i for i in (exclude or []) if i in set(data[id_col])]
        frame = data.loc[~data[id_col].isin(list(exclude or []))].reset_index(drop=True)
        self._check_settings(len(frame))
        target = finite_matrix(frame, [y], id_col=id_col)[:, 0]
        if self.log:
            bad = target <= 0
            if bad.any():
                raise DataContractError(
                    f"y {y!r}: log=True needs positive spending; {bad.sum()} row(s) ≤ 0 "
                    f"({id_col}: {frame.loc[bad, id_col].tolist()[:5]})"
                )
            target = np.log(target)
        criteria = finite_matrix(frame, X, id_col=id_col)
        w = positive_weights(frame, weights, id_col=id_col)
        design = np.column_stack([np.ones(len(frame)), criteria])
        if np.linalg.matrix_rank(design) < design.shape[1]:
            raise DataContractError(f"the criteria {X} and the intercept are collinear; drop one of them")
        if len(frame) <= design.shape[1] + 1:
            raise DataContractError(f"{len(frame)} rows are too few for {len(X)} criteria and an intercept")

        exog = pd.DataFrame(design, columns=["const", *X])
        model = sm.WLS(target, exog, weights=w) if w is not None else sm.OLS(target, exog)
        self.results_ = model.fit(cov_type=self.cov_type, use_t=True)
        self.y_, self.X_, self.weights_, self.id_col_ = y, X, weights, id_col
        self.data_ = frame
        self._target, self._design, self._w = target, design, (w if w is not None else np.ones(len(frame)))
        self.fit_stats_ = self._fit_stats()
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "results_"):
            raise NotFittedError("this SpendingVariationModel is not fitted yet; call fit(data, y=..., X=...) first")

    # ----------------------------------------------------------------------------------------------
    # fit statistics and cross-validation
    # ----------------------------------------------------------------------------------------------
    def _fold_splits(self, repeats: int):
        from sklearn.model_selection import KFold

        seeds = np.random.default_rng(self.seed).integers(0, 2**31 - 1, size=int(self.cv_repeats))
        for seed in seeds[:repeats]:
            yield int(seed), list(KFold(int(self.cv_folds), shuffle=True, random_state=int(seed)).split(self._design))

    def _cv_r2(self, learner: str, repeats: int) -> np.ndarray:
        """Pooled out-of-fold R² (weighted like the fit) for each of the first ``repeats`` repeats."""
        from sklearn.ensemble import GradientBoostingRegressor

        params = {"n_estimators": 100, "max_depth": 2, "learning_rate": 0.05, "subsample": 0.8}
        params.update(self.boosting_params or {})
        scores = []
        for seed, folds in self._fold_splits(repeats):
            predicted = np.empty_like(self._target)
            for train, test in folds:
                if learner == "linear":
                    beta = _wls(self._design[train], self._target[train], self._w[train])
                    predicted[test] = self._design[test] @ beta
                else:
                    booster = GradientBoostingRegressor(random_state=seed, **params)
                    booster.fit(self._design[train, 1:], self._target[train], sample_weight=self._w[train])
                    predicted[test] = booster.predict(self._design[test, 1:])
            scores.append(weighted_r2(self._target, predicted, self._w))
        return np.array(scores)

    def _fit_stats(self) -> pd.Series:
        res = self.results_
        cv = self._cv_r2("linear", int(self.cv_repeats))
        boosted = self._cv_r2("boosting", 1)[0] if self.boosting else np.nan
        rmse = np.sqrt(np.average(res.resid**2, weights=self._w))
        return pd.Series(
            {
                "n_municipalities": int(res.nobs),
                "n_predictors": len(self.X_),
                "r2": float(res.rsquared),
                "adj_r2": float(res.rsquared_adj),
                "cv_r2": float(cv.mean()),
                "cv_r2_sd": float(cv.std(ddof=1)) if len(cv) > 1 else np.nan,
                "cv_r2_boosting": float(boosted),
                "rmse": float(rmse),
                "weighted": self.weights_ is not None,
                "log": bool(self.log),
                "cov_type": self.cov_type,
            },
            name="fit_stats",
            dtype=object,
        )

    # ----------------------------------------------------------------------------------------------
    # coefficients
    # ----------------------------------------------------------------------------------------------
    def conf_int(self, cl: float | None = None) -> pd.DataFrame:
        """Confidence intervals of the coefficients (t with n − k df, robust covariance), indexed by term.

        Parameters
        ----------
        cl : float, optional
            Confidence level; default the model's ``cl``.
        """
        self._check_fitted()
        cl = check_level(self.cl if cl is None else cl)
        ci = self.results_.conf_int(alpha=1 - cl)
        ci.columns = ["conf_low", "conf_high"]
        ci.index.name = "term"
        return ci

    def summary(self) -> pd.DataFrame:
        """Tidy coefficient table, one row per term: ``term``, ``estimate``, ``std_error``, ``conf_low``,
        ``conf_high`` (level ``cl``), ``statistic`` (t) and ``p_value``."""
        self._check_fitted()
        res = self.results_
        table = pd.DataFrame(
            {"estimate": res.params, "std_error": res.bse, "statistic": res.tvalues, "p_value": res.pvalues}
        )
        table.index.name = "term"
        table = table.join(self.conf_int())
        return table[list(RESULT_COLUMNS)].reset_index()

    def __repr__(self) -> str:
        if not hasattr(self, "results_"):
            return f"SpendingVariationModel(log={self.log}, cov_type={self.cov_type!r}) (not fitted)"
        s = self.fit_stats_
        kind = "WLS" if s["weighted"] else "OLS"
        return (
            f"SpendingVariationModel({kind}, y={'log ' if self.log else ''}{self.y_!r}, {s['n_municipalities']} "
            f"municipalities, "
            f"{s['n_predictors']} criteria: R²={s['r2']:.3f}, adj.={s['adj_r2']:.3f}, CV={s['cv_r2']:.3f})"
        )

    # ----------------------------------------------------------------------------------------------
    # influence
    # ----------------------------------------------------------------------------------------------
    def influence(
        self,
        *,
        special: Mapping = SPECIAL_MUNICIPALITIES,
        leverage_factor: float = 2.0,
        cooks_threshold: float | None = None,
        dffits_factor: float = 2.0,
    ) -> pd.DataFrame:
        """Leverage, Cook's distance and DFFITS per municipality, with flags.

        Computed on the weight-scaled design (√w·X, √w·y), which makes them the WLS diagnostics.

        Parameters
        ----------
        special : mapping, default=SPECIAL_MUNICIPALITIES
            Ids to label (Copenhagen and the small islands by default).
        leverage_factor : float, default=2.0
            Flag leverage h > factor·k/n.
        cooks_threshold : float, optional
            Flag Cook's D above it; default 4/n.
        dffits_factor : float, default=2.0
            Flag |DFFITS| > factor·√(k/n).

        Returns
        -------
        pandas.DataFrame
            Id, ``label``, ``leverage``, ``cooks_d``, ``dffits``, ``student_resid`` (internally studentised),
            ``student_resid_ext`` (externally), the three ``flag_*`` columns and ``flagged`` (any of them);
            sorted by Cook's distance, largest first.

        Notes
        -----
        h_i = diag(H), H = X_w(X_wᵀX_w)⁻¹X_wᵀ; r_i = e_i / (s√(1 − h_i)); D_i = r_i² h_i / (k(1 − h_i));
        t_i = r_i √((n − k − 1)/(n − k − r_i²)); DFFITS_i = t_i √(h_i/(1 − h_i)).
        """
        self._check_fitted()
        n, k = self._design.shape
        root = np.sqrt(self._w)
        Q, _ = np.linalg.qr(self._design * root[:, None])
        h = np.sum(Q**2, axis=1)
        e = root * (self._target - self._design @ self.results_.params.to_numpy())
        s2 = np.sum(e**2) / (n - k)
        r = e / np.sqrt(s2 * (1 - h))
        cooks = r**2 * h / (k * (1 - h))
        t = r * np.sqrt((n - k - 1) / np.clip(n - k - r**2, 1e-12, None))
        dffits = t * np.sqrt(h / (1 - h))
        ids = self.data_[self.id_col_]
        out = pd.DataFrame(
            {
                self.id_col_: ids.to_numpy(),
                "label": ids.map(dict(special)).astype("str").to_numpy(),
                "leverage": h,
                "cooks_d": cooks,
                "dffits": dffits,
                "student_resid": r,
                "student_resid_ext": t,
            }
        )
        out["flag_leverage"] = h > leverage_factor * k / n
        out["flag_cooks"] = cooks > (4.0 / n if cooks_threshold is None else cooks_threshold)
        out["flag_dffits"] = np.abs(dffits) > dffits_factor * np.sqrt(k / n)
        out["flagged"] = out[["flag_leverage", "flag_cooks", "flag_dffits"]].any(axis=1)
        return out.sort_values("cooks_d", ascending=False).reset_index(drop=True)

    # ----------------------------------------------------------------------------------------------
    # benchmark: expected vs actual
    # ----------------------------------------------------------------------------------------------
    def benchmark(self, data: pd.DataFrame | None = None, *, cl: float | None = None) -> pd.DataFrame:
        """Expected against actual spending per municipality, with confidence and prediction intervals.

        Parameters
        ----------
        data : pandas.DataFrame, optional
            Rows to benchmark; default the rows of the fit. Other rows (e.g. municipalities left out with
            ``exclude``) are predicted out of sample (their ``std_resid`` is then missing).
        cl : float, optional
            Confidence level of the intervals; default the model's ``cl``.

        Returns
        -------
        pandas.DataFrame
            Id, ``actual``, ``expected``, ``expected_std_error``, ``conf_low``, ``conf_high`` (the
            confidence interval of the expected level), ``pred_low``, ``pred_high`` (the prediction
            interval for one municipality: for WLS its variance is σ²/w_i + Var(x_iβ̂)), ``residual``,
            ``std_resid`` (internally studentised), ``position`` (``"above"``/``"below"``/``"within"`` the
            prediction interval) and ``rank`` (1 = largest residual). With ``log=True`` the first columns
            are on the log scale and ``ratio`` = actual/expected, ``expected_kr``, ``pred_low_kr``,
            ``pred_high_kr`` are added.

        Notes
        -----
        From statsmodels' ``get_prediction(exog, weights=w).summary_frame(alpha=1 - cl)``.
        """
        self._check_fitted()
        cl = check_level(self.cl if cl is None else cl)
        in_fit = data is None
        frame = self.data_ if in_fit else data.reset_index(drop=True)
        if in_fit:
            design, target, w = self._design, self._target, self._w
        else:
            check_columns(frame, [self.id_col_, self.y_, *self.X_, self.weights_])
            design = np.column_stack([np.ones(len(frame)), finite_matrix(frame, self.X_, id_col=self.id_col_)])
            target = finite_matrix(frame, [self.y_], id_col=self.id_col_)[:, 0]
            if self.log and (target <= 0).any():
                raise DataContractError(
                    f"y {self.y_!r}: the model is in logs and {(target <= 0).sum()} row(s) are ≤ 0 "
                    f"({self.id_col_}: {frame.loc[target <= 0, self.id_col_].tolist()[:5]})"
                )
            target = np.log(target) if self.log else target
            w = positive_weights(frame, self.weights_, id_col=self.id_col_)
            w = np.ones(len(frame)) if w is None else w
        exog = pd.DataFrame(design, columns=self.results_.params.index)
        pred = self.results_.get_prediction(exog, weights=w).summary_frame(alpha=1 - cl)
        out = pd.DataFrame(
            {
                self.id_col_: frame[self.id_col_].to_numpy(),
                "actual": target,
                "expected": pred["mean"].to_numpy(),
                "expected_std_error": pred["mean_se"].to_numpy(),
                "conf_low": pred["mean_ci_lower"].to_numpy(),
                "conf_high": pred["mean_ci_upper"].to_numpy(),
                "pred_low": pred["obs_ci_lower"].to_numpy(),
                "pred_high": pred["obs_ci_upper"].to_numpy(),
            }
        )
        out["residual"] = out["actual"] - out["expected"]
        if in_fit:
            std = self.influence().set_index(self.id_col_)["student_resid"]
            out["std_resid"] = out[self.id_col_].map(std).to_numpy()
        else:
            out["std_resid"] = np.nan
        out["position"] = np.select(
            [out["actual"] > out["pred_high"], out["actual"] < out["pred_low"]], ["above", "below"], "within"
        )
        out["rank"] = out["residual"].rank(ascending=False, method="first").astype(int)
        if self.log:
            out["ratio"] = np.exp(out["residual"])
            for column in ("expected", "pred_low", "pred_high"):
                out[f"{column}_kr"] = np.exp(out[column])
        return out

    def funnel(self, *, size: str | None = None, levels: Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
        """Funnel-plot table: deviations (actual − expected) against municipality size, with control limits.

        The variance model is Var(deviation_i) = σ²/size_i, so the limits are ±z·σ̂/√size, with
        σ̂² = Σ size_i e_i² / (n − k) (Spiegelhalter 2005; the parameter uncertainty of the expected value is
        ignored, as in the usual funnel plot).

        Parameters
        ----------
        size : str, optional
            Size column (population); default the weight column.
        levels : sequence of float, default=(0.95, 0.998)
            Two-sided coverage of the limits (about 2 and 3 standard deviations).

        Returns
        -------
        pandas.DataFrame
            One row per municipality of the fit and level: id, ``size``, ``deviation``, ``z``
            (deviation·√size/σ̂), ``sigma`` (σ̂), ``level``, ``limit_low``, ``limit_high`` (the limits at
            the municipality's size) and ``outside`` (the deviation lies beyond them).

        References
        ----------
        Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
        Statistics in Medicine 24, 1185–1202.
        """
        self._check_fitted()
        size = size or self.weights_
        if size is None:
            raise ParameterError("funnel needs a size column (population): pass size=... or fit with weights=...")
        sizes = positive_weights(self.data_, size, id_col=self.id_col_)
        deviation = self._target - self._design @ self.results_.params.to_numpy()
        n, k = self._design.shape
        sigma = float(np.sqrt(np.sum(sizes * deviation**2) / (n - k)))
        points = pd.DataFrame(
            {self.id_col_: self.data_[self.id_col_].to_numpy(), "size": sizes, "deviation": deviation,
             "z": deviation * np.sqrt(sizes) / sigma, "sigma": sigma}
        )
        tables = []
        for level in levels:
            if not 0 < level < 1:
                raise ParameterError(f"levels must lie in (0, 1); found {level!r}")
            half = z_value(level) * sigma / np.sqrt(sizes)
            tables.append(points.assign(level=level, limit_low=-half, limit_high=half,
                                        outside=np.abs(points["z"]) > z_value(level)))
        return pd.concat(tables, ignore_index=True)

    # ----------------------------------------------------------------------------------------------
    # decomposition of R²
    # ----------------------------------------------------------------------------------------------
    def shapley(self, *, groups: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
        """Shapley/LMG decomposition of this model's R² (see :func:`progression.variation.shapley_r2`)."""
        self._check_fitted()
        return shapley_r2(self.data_, self.y_, self.X_, groups=groups, weights=self.weights_, log=self.log)

    def shapley_bootstrap(
        self, *, groups: Mapping[str, Sequence[str]] | None = None, n_boot: int = 1000, seed: int | None = None
    ) -> pd.DataFrame:
        """Shapley decomposition with bootstrap intervals at the model's ``cl``
        (see :func:`progression.variation.shapley_r2_bootstrap`)."""
        self._check_fitted()
        return shapley_r2_bootstrap(
            self.data_, self.y_, self.X_, groups=groups, weights=self.weights_, log=self.log,
            n_boot=n_boot, seed=self.seed if seed is None else seed, cl=self.cl,
        )
