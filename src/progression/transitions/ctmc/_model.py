"""The msm-style estimator: fit a continuous-time Markov model to panel data and read results off it."""

from __future__ import annotations

import html
from collections.abc import Callable, Hashable, Sequence

import numpy as np
import pandas as pd
import scipy.special
import scipy.stats

from progression._tidy import RESULT_COLUMNS, z_value
from progression._validation import check_level
from progression.exceptions import NotFittedError, ParameterError

from . import _extract
from ._bootstrap import BootstrapMethods
from ._data import Panel, QSpec, prepare_panel, qspec_from
from ._extended import fit_extended, reset_extensions, wanted
from ._goodness import GoodnessMethods
from ._hmm import HiddenMethods
from ._passage import PassageMethods
from ._piecewise import PiecewiseMethods
from ._likelihood import PanelLikelihood
from ._optimise import maximise

_SUMMARY_COLUMNS = ["from_state", "to_state", "term", *RESULT_COLUMNS]
_CI_CHOICES = ("delta", "none")


class MultiStateModel(HiddenMethods, PiecewiseMethods, GoodnessMethods, PassageMethods, BootstrapMethods):
    """Continuous-time multi-state Markov model for panel data, fitted by maximum likelihood (msm-style).

    Parameters
    ----------
    center : bool, default=True
        Centre covariates at their means over interval starts, as msm's ``center=TRUE``; baseline
        intensities are then those at the covariate means.
    cl : float, default=0.95
        Confidence level of the limits in ``summary()`` and the extractors.
    max_iter : int, default=500
        Maximum number of BFGS iterations.
    tol : float, default=1e-6
        Convergence tolerance: the Newton decrement ``g' H^{-1} g`` of the -2 log-likelihood, i.e.
        about twice the improvement still available.

    Attributes
    ----------
    states_ : list
        State labels.
    transitions_ : list of tuple
        Allowed transitions (from, to), row by row.
    terms_ : list of str
        Covariate terms (a numeric covariate is one term; a categorical one a dummy per level but the
        first, named ``column[level]``).
    covariate_means_ : pandas.Series
        Means of the terms over interval starts (the values the baseline refers to when centred).
    params_ : pandas.Series
        Estimates on the optimisation scale: ``log q`` of each transition (term ``"baseline"``), then
        the log hazard ratios; indexed by (term, from_state, to_state).
    vcov_ : pandas.DataFrame
        Covariance matrix of ``params_``: twice the inverse Hessian of the -2 log-likelihood.
    qmatrix_ : pandas.DataFrame
        Estimated intensity matrix at the covariate means (at zero when ``center=False``).
    minus2loglik_ : float
        -2 log-likelihood at the estimates.
    aic_ : float
        ``minus2loglik_ + 2 * n_params``.
    n_subjects_, n_observations_, n_intervals_ : int
        Data sizes.
    n_groups_ : int
        Distinct (covariate pattern, interval length) pairs: the number of transition matrices
        computed per likelihood evaluation.
    n_iter_ : int
        BFGS iterations used.

    See Also
    --------
    fit : the same as ``MultiStateModel(...).fit(...)`` in one call.
    crude_inits : starting intensities from the observed transitions.
    simulate_panel : panel data from a known model.

    Notes
    -----
    The intensity of r -> s for covariates z is ``q_rs(z) = q_rs0 exp(beta_rs' (z - zbar))``; the
    likelihood of an interval of length t from r to s is ``expm(t Q(z))[r, s]``, or
    ``sum_{k != D} P(t)[r, k] q_kD`` for an exact entry into a death state D (Kalbfleisch & Lawless
    1985; Jackson 2011).  The likelihood is maximised over the log intensities and the betas by BFGS
    with the analytic gradient, polished by Newton steps; standard errors come from the Hessian,
    obtained by central differences of the analytic gradient.

    References
    ----------
    Kalbfleisch, J. D. & Lawless, J. F. (1985). The analysis of panel data under a Markov assumption.
    Journal of the American Statistical Association, 80(392), 863-871.

    Jackson, C. H. (2011). Multi-state models for panel data: the msm package for R. Journal of
    Statistical Software, 38(8), 1-29.

    Examples
    --------
    >>> import numpy as np
    >>> from progression.transitions.ctmc import MultiStateModel, simulate_panel
    >>> q = np.array([[-0.3, 0.2, 0.1], [0.1, -0.3, 0.2], [0.0, 0.0, 0.0]])
    >>> panel = simulate_panel(q, 300, np.arange(6.0), death_states=[3], seed=1)
    >>> model = MultiStateModel().fit(panel, subject="subject", time="time", state="state",
    ...                               qmatrix=q, death_states=[3])
    >>> model.qmatrix_.shape
    (3, 3)
    """

    def __init__(self, *, center: bool = True, cl: float = 0.95, max_iter: int = 500, tol: float = 1e-6):
        self.center = center
        self.cl = cl
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        data: pd.DataFrame,
        *,
        subject: str,
        time: str,
        state: str,
        qmatrix,
        death_states: Sequence[Hashable] = (),
        covariates: Sequence[str] | None = None,
        ematrix=None,
        obstrue: str | None = None,
        initprobs=None,
        est_initprobs: bool = False,
        pci: Sequence[float] | None = None,
        qconstraint: Sequence[int] | None = None,
        constraint: dict[str, Sequence[int]] | None = None,
        econstraint: Sequence[int] | None = None,
        fixedpars=None,
    ) -> MultiStateModel:
        """Fit the model to panel data.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per observation; a subject's rows in time order.
        subject, time, state : str
            Column names. Times are numbers (the unit of the intensities) or datetimes (converted to
            years).
        qmatrix : pandas.DataFrame or array_like of shape (K, K)
            Nonzero off-diagonal entries mark the allowed transitions and are their initial values;
            a DataFrame labels the states, an array means states ``1..K``.
        death_states : sequence of state labels, default=()
            Absorbing states whose entry time is known exactly (msm ``deathexact``).
        covariates : sequence of str, optional
            Covariate columns; each acts on every transition (one log hazard ratio per transition).
            Values at the start of an interval apply to it.
        ematrix : pandas.DataFrame or array_like of shape (K, K), optional
            Misclassification: a hidden Markov model in which true state r is recorded as s with
            probability ``e_rs`` (rows true, columns observed states; nonzero off-diagonal entries are
            the misclassifications allowed and their initial values; msm ``ematrix``). See
            ``ematrix()`` and ``viterbi()``.
        obstrue : str, optional
            Column flagging (1/True) observations whose state is known to be true (msm ``obstrue``).
        initprobs : array_like or dict, optional
            Distribution of the true state at a subject's first observation; default msm's: all in
            the first state.
        est_initprobs : bool, default=False
            Estimate ``initprobs`` (from its values as starting point).
        pci : sequence of float, optional
            Cut times of piecewise-constant intensities: a factor ``timeperiod`` with levels
            ``[-Inf,t1)``, ``[t1,t2)``, ... acts on every transition (msm ``pci``).
        qconstraint : sequence of int, optional
            One label per allowed transition (row by row): equal labels, equal baseline intensities.
        constraint : dict {term: sequence of int}, optional
            Per covariate term, one label per allowed transition: equal labels, equal effects.
        econstraint : sequence of int, optional
            One label per misclassification probability: equal labels, equal logits (against the
            probability of a correct classification).
        fixedpars : True or sequence, optional
            Parameters held at their initial values: ``True`` (all: evaluate the likelihood at the
            initial values), positions in the parameter vector (0-based: intensities, covariate
            effects term by term, misclassification probabilities) or labels ``(term, from, to)``.

        Returns
        -------
        MultiStateModel
            ``self``, fitted.

        Raises
        ------
        ParameterError
            Invalid ``qmatrix``, ``death_states`` or settings.
        DataContractError
            Missing columns or values, unknown states, unordered times, single-observation subjects,
            moves the allowed transitions cannot produce.
        ConvergenceError
            The optimiser did not reach a maximum.
        """
        extensions = dict(ematrix=ematrix, obstrue=obstrue, initprobs=initprobs, est_initprobs=est_initprobs,
                          pci=pci, qconstraint=qconstraint, constraint=constraint, econstraint=econstraint,
                          fixedpars=fixedpars)
        self._fit_call = dict(subject=subject, time=time, state=state, qmatrix=qmatrix, death_states=death_states,
                              covariates=covariates, **extensions)
        self._fit_data = data
        reset_extensions(self)
        if wanted(extensions):
            return fit_extended(self, data, subject=subject, time=time, state=state, qmatrix=qmatrix,
                                death_states=death_states, covariates=covariates, **extensions)
        self._check_settings()
        spec = qspec_from(qmatrix, death_states)
        panel = prepare_panel(data, subject=subject, time=time, state=state, spec=spec, covariates=covariates)
        raw_means = panel.x.mean(axis=0)
        centre = raw_means if self.center else np.zeros_like(raw_means)
        lik = PanelLikelihood(spec, panel, centre)
        start = np.concatenate([np.log(spec.init), np.zeros(lik.n_params - spec.n_transitions)])
        params, hessian, n_iter = maximise(lik, start, self.max_iter, self.tol)

        self._spec, self._panel, self._lik, self._centre = spec, panel, lik, centre
        self.states_ = list(spec.states)
        self.transitions_ = spec.transition_labels
        self.terms_ = panel.terms
        self.covariate_means_ = pd.Series(raw_means, index=self.terms_, dtype=float)
        index = self._param_index()
        self.params_ = pd.Series(params, index=index)
        self.vcov_ = pd.DataFrame(2.0 * np.linalg.inv(hessian), index=index, columns=index)
        self.minus2loglik_ = lik.minus2loglik(params)
        self.aic_ = self.minus2loglik_ + 2 * lik.n_params
        self.n_subjects_, self.n_observations_ = panel.n_subjects, panel.n_observations
        self.n_intervals_, self.n_groups_, self.n_iter_ = len(panel.dt), lik.n_groups, n_iter
        self.qmatrix_ = spec.frame(spec.build(lik.rates(params, np.zeros((1, len(self.terms_))))[0]))
        return self

    def _check_settings(self) -> None:
        if not isinstance(self.center, (bool, np.bool_)):
            raise ParameterError(f"center must be True or False; found {self.center!r}")
        check_level(self.cl)
        if not isinstance(self.max_iter, (int, np.integer)) or self.max_iter < 1:
            raise ParameterError(f"max_iter must be a positive integer; found {self.max_iter!r}")
        if not (isinstance(self.tol, (int, float)) and self.tol > 0):
            raise ParameterError(f"tol must be a positive number; found {self.tol!r}")

    def _param_index(self) -> pd.MultiIndex:
        terms = ["baseline", *self.terms_]
        rows = [(term, r, s) for term in terms for r, s in self.transitions_]
        return pd.MultiIndex.from_tuples(rows, names=["term", "from_state", "to_state"])

    def _fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError("This MultiStateModel is not fitted yet; call fit(data, ...) first")

    # --------------------------------------------------------------- inference
    def summary(self) -> pd.DataFrame:
        """Tidy table of the estimates: one row per transition and term (msm ``tidy``).

        Rows with term ``"baseline"`` give the intensity at the covariate means; the other rows give
        the hazard ratio ``exp(beta)`` of each covariate term.  ``std_error`` is on the natural scale
        (delta method), the confidence limits are ``exp(log estimate ± z se)`` like msm's, and
        ``statistic`` / ``p_value`` are the Wald test of a hazard ratio of 1 (NaN for intensities).
        """
        self._fitted()
        z = z_value(self.cl)
        log_est = self.params_.to_numpy()
        se_log = np.sqrt(np.diag(self.vcov_.to_numpy()))
        estimate = np.exp(log_est)
        statistic = log_est / se_log
        baseline = self.params_.index.get_level_values("term") == "baseline"
        statistic[baseline] = np.nan
        out = self.params_.index.to_frame(index=False)[["from_state", "to_state", "term"]]
        out["estimate"] = estimate
        out["std_error"] = estimate * se_log
        out["conf_low"] = np.exp(log_est - z * se_log)
        out["conf_high"] = np.exp(log_est + z * se_log)
        out["statistic"] = statistic
        out["p_value"] = 2.0 * scipy.stats.norm.sf(np.abs(statistic))
        return out[_SUMMARY_COLUMNS]

    def hazard_ratios(self) -> pd.DataFrame:
        """Hazard ratios ``exp(beta)`` of each covariate term on each transition (msm ``hazard.msm``).

        Returns
        -------
        pandas.DataFrame
            The covariate rows of ``summary()``.
        """
        table = self.summary()
        return table[table["term"] != "baseline"].reset_index(drop=True)

    def qmatrix(self, covariates="mean", ci: str = "delta", cl: float | None = None) -> pd.DataFrame:
        """Intensity matrix at given covariate values (msm ``qmatrix.msm``).

        Parameters
        ----------
        covariates : "mean" or dict, default="mean"
            ``"mean"``: covariates at their means; a dict ``{column: value}`` sets some columns
            (a categorical one by its level), the others stay at their means.
        ci : {"delta", "none"}, default="delta"
            ``"none"`` returns the K x K matrix; ``"delta"`` a tidy frame with delta-method standard
            errors and limits computed on the log scale (of ``-q_rr`` for the diagonal).
        cl : float, optional
            Confidence level; default the model's ``cl``.

        Returns
        -------
        pandas.DataFrame
            The matrix, or columns ``from_state``, ``to_state``, ``estimate``, ``std_error``,
            ``conf_low``, ``conf_high`` for the allowed transitions and the diagonal of transient states.
        """
        x = self._design_row(covariates)
        q = self._q_at(self.params_.to_numpy(), x)
        if _ci(ci) == "none":
            return self._spec.frame(q)
        spec = self._spec
        rows = np.r_[spec.from_idx, _transient(q)]
        cols = np.r_[spec.to_idx, _transient(q)]
        sign = np.where(rows == cols, -1.0, 1.0)

        def values(params):
            return sign * self._q_at(params, x)[rows, cols]

        est, se, low, high = self._delta(values, "log", cl)
        lows, highs = np.where(sign < 0, high, low), np.where(sign < 0, low, high)
        return self._tidy_pairs(rows, cols, sign * est, se, sign * lows, sign * highs)

    def pmatrix(self, t: float = 1.0, covariates="mean", ci: str = "none", cl: float | None = None) -> pd.DataFrame:
        """Transition probability matrix ``P(t) = expm(t Q)`` (msm ``pmatrix.msm``).

        Parameters
        ----------
        t : float, default=1.0
            Time interval.
        covariates : "mean" or dict, default="mean"
            See ``qmatrix``.
        ci : {"none", "delta"}, default="none"
            ``"delta"``: tidy frame with delta-method limits on the logit scale (msm offers
            simulation or bootstrap limits instead).
        cl : float, optional

        Returns
        -------
        pandas.DataFrame
            The K x K matrix, or a tidy frame (``from_state``, ``to_state``, ``estimate``, ...).
        """
        t = _extract._nonnegative(t, "t")
        x = self._design_row(covariates)
        p = _extract.pmatrix_array(self._q_at(self.params_.to_numpy(), x), t)
        if _ci(ci) == "none":
            return self._spec.frame(p)
        k = len(p)
        rows, cols = np.divmod(np.arange(k * k), k)

        def values(params):
            return _extract.pmatrix_array(self._q_at(params, x), t).ravel()

        return self._tidy_pairs(rows, cols, *self._delta(values, "logit", cl))

    def sojourn(self, covariates="mean", ci: str = "delta", cl: float | None = None) -> pd.DataFrame:
        """Mean sojourn time ``-1 / q_rr`` in each transient state (msm ``sojourn.msm``).

        Returns
        -------
        pandas.DataFrame
            Index: state; columns ``estimate`` and, with ``ci="delta"``, ``std_error``,
            ``conf_low``, ``conf_high`` (limits on the log scale).
        """
        x = self._design_row(covariates)
        q = self._q_at(self.params_.to_numpy(), x)
        index = pd.Index([self.states_[i] for i in _transient(q)], name="state")

        def values(params):
            return _extract.sojourn_array(self._q_at(params, x))

        return self._tidy_vector(values, "log", index, ci, cl)

    def pnext(self, covariates="mean", ci: str = "delta", cl: float | None = None) -> pd.DataFrame:
        """Probability that each state is the next one entered, ``-q_rs / q_rr`` (msm ``pnext.msm``).

        Returns
        -------
        pandas.DataFrame
            The K x K matrix with ``ci="none"``; else a tidy frame over the allowed transitions with
            delta-method limits on the logit scale.
        """
        x = self._design_row(covariates)
        if _ci(ci) == "none":
            return self._spec.frame(_extract.pnext_array(self._q_at(self.params_.to_numpy(), x)))
        rows, cols = self._spec.from_idx, self._spec.to_idx

        def values(params):
            return _extract.pnext_array(self._q_at(params, x))[rows, cols]

        return self._tidy_pairs(rows, cols, *self._delta(values, "logit", cl))

    def totlos(
        self, start: Hashable | dict | None = None, tot: float = np.inf, covariates="mean",
        ci: str = "delta", cl: float | None = None,
    ) -> pd.DataFrame:
        """Expected total time spent in each state up to ``tot`` (msm ``totlos.msm``).

        Parameters
        ----------
        start : state label or dict {state: probability}, optional
            Starting state or distribution; default the first state.
        tot : float, default=inf
            Horizon; with ``inf`` absorbing states get ``inf``.
        covariates : "mean" or dict, default="mean"
        ci : {"delta", "none"}, default="delta"
            Limits on the log scale.
        cl : float, optional

        Returns
        -------
        pandas.DataFrame
            Index: state; columns ``estimate`` (and the CI columns).
        """
        x = self._design_row(covariates)
        start_vec = _extract.start_vector(self._spec.states, start)
        index = pd.Index(self.states_, name="state")

        def values(params):
            return _extract.totlos_array(self._q_at(params, x), start_vec, tot)

        return self._tidy_vector(values, "log", index, ci, cl)

    # ----------------------------------------------------------------- display
    def print_summary(self, decimals: int = 3) -> None:
        """Print the header and the ``summary()`` table."""
        table = self.summary().to_string(index=False, float_format=lambda v: f"{v:.{decimals}f}")
        print("\n".join(self._header_lines(decimals)) + "\n\n" + table)

    def _header_lines(self, decimals: int = 3) -> list[str]:
        self._fitted()
        lines = [
            f"MultiStateModel: {len(self.states_)} states, {len(self.transitions_)} allowed transitions",
            f"data: {self.n_subjects_} subjects, {self.n_observations_} observations, "
            f"{self.n_intervals_} intervals",
            f"-2 log-likelihood: {self.minus2loglik_:.{decimals}f}   AIC: {self.aic_:.{decimals}f}",
        ]
        if self.terms_:
            at = "their means" if self.center else "zero"
            lines.append(f"covariates: {', '.join(self.terms_)} (baseline intensities at {at})")
        return lines

    def _repr_html_(self) -> str:
        if not hasattr(self, "params_"):
            return f"<pre>{html.escape(repr(self))}</pre>"
        from progression.texts.tables import readable  # the tables of the report and the notebooks read one way

        header = "<br>".join(html.escape(line) for line in self._header_lines())
        return f"<p>{header}</p>" + readable(self.summary())._repr_html_()

    def __repr__(self) -> str:
        settings = f"center={self.center}, cl={self.cl}"
        if not hasattr(self, "params_"):
            return f"MultiStateModel({settings}) [not fitted]"
        return (
            f"MultiStateModel({settings}) fitted on {self.n_subjects_} subjects, "
            f"{self.n_observations_} observations; -2 log-likelihood {self.minus2loglik_:.4f}"
        )

    # ----------------------------------------------------------------- helpers
    def _q_at(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        return self._q_many(params, x[None, :])[0]

    def _q_many(self, params: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """Intensity matrices (n, K, K) at the design rows ``xs`` (n, n_terms), in one pass."""
        return self._spec.build(self._lik.rates(params, xs))

    def _design_row(self, covariates) -> np.ndarray:
        """Centred design row for ``"mean"`` or a dict of covariate values."""
        self._fitted()
        raw = self.covariate_means_.to_numpy().copy()
        if isinstance(covariates, str) and covariates == "mean":
            return raw - self._centre
        if not isinstance(covariates, dict):
            raise ParameterError(f"covariates must be 'mean' or a dict {{column: value}}; found {covariates!r}")
        columns = {c.column: c for c in self._panel.covariates}
        unknown = [k for k in covariates if k not in columns]
        if unknown:
            raise ParameterError(f"covariates: {unknown} are not covariates of the model; they are {list(columns)}")
        for name, value in covariates.items():
            encoder = columns[name]
            if encoder.levels is not None and value not in encoder.levels:
                raise ParameterError(f"covariates: '{name}' has levels {list(encoder.levels)}; found {value!r}")
            positions = [self.terms_.index(t) for t in encoder.terms]
            raw[positions] = encoder.encode(pd.Series([value]))[0]
        return raw - self._centre

    def _delta(self, fun: Callable[[np.ndarray], np.ndarray], link: str, cl: float | None):
        """Estimate, delta-method standard error and limits of ``fun(params)`` on a link scale."""
        z = z_value(self.cl if cl is None else cl)
        params = self.params_.to_numpy()
        est = np.asarray(fun(params), dtype=float)
        forward, inverse, slope = _LINKS[link]
        jac = _jacobian(lambda p: forward(fun(p)), params)
        se_link = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, self.vcov_.to_numpy(), jac), 0.0))
        centre = forward(est)
        ok = np.isfinite(centre) & np.isfinite(se_link)
        se = np.where(ok, slope(est) * se_link, np.nan)
        low = np.where(ok, inverse(centre - z * se_link), est)
        high = np.where(ok, inverse(centre + z * se_link), est)
        return est, se, low, high

    def _tidy_pairs(self, rows, cols, est, se, low, high) -> pd.DataFrame:
        states = self.states_
        return pd.DataFrame({
            "from_state": [states[i] for i in rows], "to_state": [states[j] for j in cols],
            "estimate": est, "std_error": se, "conf_low": low, "conf_high": high,
        })

    def _tidy_vector(self, fun, link, index, ci, cl) -> pd.DataFrame:
        if _ci(ci) == "none":
            return pd.DataFrame({"estimate": fun(self.params_.to_numpy())}, index=index)
        est, se, low, high = self._delta(fun, link, cl)
        return pd.DataFrame({"estimate": est, "std_error": se, "conf_low": low, "conf_high": high}, index=index)


def fit(
    data: pd.DataFrame,
    *,
    subject: str,
    time: str,
    state: str,
    qmatrix,
    death_states: Sequence[Hashable] = (),
    covariates: Sequence[str] | None = None,
    center: bool = True,
    cl: float = 0.95,
    max_iter: int = 500,
    tol: float = 1e-6,
    **extensions,
) -> MultiStateModel:
    """Fit a continuous-time multi-state Markov model to panel data (msm's ``msm()``).

    ``fit(data, ...)`` is ``MultiStateModel(center=..., cl=..., max_iter=..., tol=...).fit(data, ...)``;
    see ``MultiStateModel`` for the method and the results.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation.
    subject, time, state : str
        Column names (times as numbers or datetimes).
    qmatrix : pandas.DataFrame or array_like of shape (K, K)
        Allowed transitions (nonzero off-diagonal entries) and their initial intensities.
    death_states : sequence of state labels, default=()
        Absorbing states with exact entry times (msm ``deathexact``).
    covariates : sequence of str, optional
        Covariate columns acting log-linearly on every transition.
    center, cl, max_iter, tol
        Settings of ``MultiStateModel``.
    **extensions
        ``ematrix``, ``obstrue``, ``initprobs``, ``est_initprobs`` (misclassification), ``pci``
        (piecewise-constant intensities), ``qconstraint``, ``constraint``, ``econstraint``,
        ``fixedpars``: see ``MultiStateModel.fit``.

    Returns
    -------
    MultiStateModel
        The fitted model.

    Raises
    ------
    ParameterError, DataContractError, ConvergenceError
        As ``MultiStateModel.fit``.

    Examples
    --------
    R: ``msm(state ~ years, subject = PTNUM, data = cav, qmatrix = Q, deathexact = 4)``;
    here: ``fit(cav, subject="PTNUM", time="years", state="state", qmatrix=Q, death_states=[4])``.
    """
    model = MultiStateModel(center=center, cl=cl, max_iter=max_iter, tol=tol)
    return model.fit(
        data, subject=subject, time=time, state=state, qmatrix=qmatrix,
        death_states=death_states, covariates=covariates, **extensions,
    )


def minus2loglik(
    data: pd.DataFrame,
    *,
    subject: str,
    time: str,
    state: str,
    qmatrix,
    death_states: Sequence[Hashable] = (),
    covariates: Sequence[str] | None = None,
    beta: dict[str, object] | None = None,
    center: bool = True,
) -> float:
    """-2 log-likelihood at fixed parameters, without optimising (msm ``fixedpars = TRUE``).

    Parameters
    ----------
    data, subject, time, state, death_states, covariates, center
        As in ``fit``.
    qmatrix : pandas.DataFrame or array_like of shape (K, K)
        Intensities at which to evaluate (at the covariate means when centred).
    beta : dict {term: K x K array_like}, optional
        Log hazard ratios of each covariate term (``column`` or ``column[level]``), entries at the
        allowed transitions; missing terms are zero.

    Returns
    -------
    float
    """
    spec = qspec_from(qmatrix, death_states)
    panel = prepare_panel(data, subject=subject, time=time, state=state, spec=spec, covariates=covariates)
    centre = panel.x.mean(axis=0) if center else np.zeros(panel.x.shape[1])
    lik = PanelLikelihood(spec, panel, centre)
    return lik.minus2loglik(np.concatenate([np.log(spec.init), _beta_vector(beta, panel, spec)]))


def _beta_vector(beta, panel: Panel, spec: QSpec) -> np.ndarray:
    beta = {} if beta is None else dict(beta)
    unknown = [t for t in beta if t not in panel.terms]
    if unknown:
        raise ParameterError(f"beta: {unknown} are not covariate terms; terms are {panel.terms}")
    rows = []
    for term in panel.terms:
        values = np.zeros((spec.n_states, spec.n_states)) if term not in beta else np.asarray(beta[term], dtype=float)
        if values.shape != (spec.n_states, spec.n_states):
            raise ParameterError(
                f"beta['{term}'] must have shape {(spec.n_states, spec.n_states)}; found {values.shape}"
            )
        rows.append(values[spec.from_idx, spec.to_idx])
    return np.concatenate(rows) if rows else np.zeros(0)


# ---------------------------------------------------------------- small helpers
def _ci(ci: str) -> str:
    if ci not in _CI_CHOICES:
        raise ParameterError(f"ci must be one of {_CI_CHOICES}; found {ci!r}")
    return ci


def _transient(q: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.diag(q) < 0)


def _jacobian(fun: Callable[[np.ndarray], np.ndarray], params: np.ndarray) -> np.ndarray:
    h = 1e-6 * np.maximum(1.0, np.abs(params))
    cols = []
    for i in range(len(params)):
        e = np.zeros_like(params)
        e[i] = h[i]
        with np.errstate(invalid="ignore"):  # infinite quantities (totlos of absorbing states)
            cols.append((np.asarray(fun(params + e)) - np.asarray(fun(params - e))) / (2 * h[i]))
    return np.column_stack(cols)


def _logit(p):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(p) - np.log1p(-p)


def _log(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


_LINKS = {
    "log": (_log, np.exp, lambda x: x),
    "logit": (_logit, scipy.special.expit, lambda p: p * (1 - p)),
}
