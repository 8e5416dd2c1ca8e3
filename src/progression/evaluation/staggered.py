"""Callaway & Sant'Anna (2021) difference-in-differences for staggered adoption.

Each cohort g (units first treated in period g, e.g. citizens of municipalities that adopted the
intervention in year g) is compared with units not (yet) treated, period by period, giving group-time
effects ATT(g, t) that are free of the negative-weighting problem of two-way fixed effects. They are then
averaged with cohort-size weights into an overall ATT or an effect by time since adoption.

:func:`per_starter_effect` divides the effect of adoption on an outcome by its effect on the share who
start the intervention (a Wald difference-in-differences), which turns the effect on everyone eligible
into an effect per starter.

References
----------
Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods. Journal of
Econometrics 225(2), 200–230.
de Chaisemartin, C. & D'Haultfœuille, X. (2018). Fuzzy differences-in-differences. Review of Economic
Studies 85(2), 999–1028.
Bloom, H. S. (1984). Accounting for no-shows in experimental evaluation designs. Evaluation Review 8(2),
225–246.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from progression import _validation as chk
from progression.evaluation._inference import SeedLike, if_variance, int_seed, result_row, tidy_frame
from progression.evaluation.did import never_treated, unit_constant
from progression.exceptions import DataContractError, NotFittedError, StatisticalWarning

__all__ = ["CallawaySantAnna", "per_starter_effect", "METHOD", "PER_STARTER_METHOD"]

METHOD = "Callaway–Sant'Anna"
#: ``method`` of the per-starter rows of :func:`per_starter_effect`.
PER_STARTER_METHOD = "Callaway–Sant'Anna ÷ share started"
_BOOT_CHUNK = 64
#: A first stage with |t| below this (F = t² < 10; Staiger & Stock 1997) is weak: the ratio's normal
#: interval is then unreliable.
_WEAK_FIRST_STAGE_T = 10 ** 0.5


def _wide_outcome(data: pd.DataFrame, *, outcome: str, unit: str, time: str) -> pd.DataFrame:
    """Units × periods matrix of the outcome; the panel must be balanced with one row per unit and period."""
    duplicated = data.duplicated([unit, time])
    if duplicated.any():
        examples = data.loc[duplicated, [unit, time]].head(3).to_dict("records")
        raise DataContractError(
            f"expected one row per ({unit!r}, {time!r}); found {int(duplicated.sum())} duplicates (e.g. {examples})"
        )
    wide = data.pivot(index=unit, columns=time, values=outcome).sort_index().sort_index(axis=1)
    incomplete = wide.isna().any(axis=1)
    if incomplete.any():
        raise DataContractError(
            f"the panel must be balanced (every {unit!r} observed in all {wide.shape[1]} periods of {time!r}); "
            f"{int(incomplete.sum())} units are not (e.g. {list(wide.index[incomplete][:3])}): keep complete units"
        )
    return wide


class CallawaySantAnna:
    """Group-time average treatment effects under staggered adoption (Callaway & Sant'Anna 2021).

    Parameters
    ----------
    control_group : {"notyet", "never"}, default="notyet"
        Comparison units: never treated plus not yet treated, or never treated only.
    anticipation : int, default=0
        Number of periods before the start in which units may already react.
    base_period : {"varying", "universal"}, default="varying"
        Pre-period cells compare consecutive periods ("varying", as R's ``did``) or all cells use the last
        period before the start ("universal", comparable to an event study with reference −1).
    se : {"analytic", "bootstrap"}, default="analytic"
        Influence-function standard errors, or a multiplier bootstrap (Rademacher weights on clusters).
    n_boot : int, default=999
        Bootstrap draws.
    cl : float, default=0.95
        Confidence level.
    seed : int or numpy.random.Generator, optional
        Seeds the multiplier bootstrap.

    Attributes
    ----------
    att_gt_ : DataFrame
        One row per (group, time): ``group, time, event_time, base_period`` and the tidy columns.
    influence_ : ndarray of shape (n_units, n_cells)
        Influence functions of the ATT(g, t), one column per row of ``att_gt_``.
    n_units_ : int
        Units used (balanced panel, after dropping units treated in the first period).

    Notes
    -----
    For a cohort g and period t with base period b (the last period before g − anticipation, or t − 1 for
    pre-periods with ``base_period="varying"``),

        ATT(g, t) = E[Y_t − Y_b | G = g] − E[Y_t − Y_b | C],

    with C the never-treated units, plus (``"notyet"``) those with G > max(t, b) + anticipation. Its
    influence function is φᵢ = 1{Gᵢ = g}(ΔYᵢ − m_g)/p_g − 1{i ∈ C}(ΔYᵢ − m_C)/p_C. Aggregations weight the
    cells by cohort shares and include the estimation of those weights in their influence function.
    Covariates (conditional parallel trends) are not supported; units treated after the last period count as
    never treated, as in R's ``did``.

    Examples
    --------
    >>> cs = CallawaySantAnna(control_group="notyet").fit(                       # doctest: +SKIP
    ...     panel, outcome="employment_weeks", unit="person_id", time="year",
    ...     group="adoption_year", cluster="municipality")
    >>> cs.summary                                                              # doctest: +SKIP
    >>> cs.aggregate("event")                                                   # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        control_group: str = "notyet",
        anticipation: int = 0,
        base_period: str = "varying",
        se: str = "analytic",
        n_boot: int = 999,
        cl: float = 0.95,
        seed: SeedLike = None,
    ) -> None:
        self.control_group = control_group
        self.anticipation = anticipation
        self.base_period = base_period
        self.se = se
        self.n_boot = n_boot
        self.cl = cl
        self.seed = seed

    def __repr__(self) -> str:
        fitted = f", fitted on {self.n_units_} units" if hasattr(self, "att_gt_") else ""
        return f"CallawaySantAnna(control_group={self.control_group!r}, base_period={self.base_period!r}{fitted})"

    def _check_params(self) -> None:
        chk.check_choice(self.control_group, ("notyet", "never"), name="control_group")
        chk.check_choice(self.base_period, ("varying", "universal"), name="base_period")
        chk.check_choice(self.se, ("analytic", "bootstrap"), name="se")
        chk.check_positive_int(self.anticipation, name="anticipation", minimum=0)
        chk.check_positive_int(self.n_boot, name="n_boot", minimum=2)
        chk.check_level(self.cl)

    def fit(
        self,
        data: pd.DataFrame,
        *,
        outcome: str,
        unit: str,
        time: str,
        group: str,
        cluster: str | None = None,
    ) -> CallawaySantAnna:
        """Estimate every ATT(g, t).

        Parameters
        ----------
        data : DataFrame
            Balanced unit-period panel (one row per unit and period).
        outcome : str
            Numeric outcome column.
        unit : str
            Unit column (e.g. ``"person_id"``).
        time : str
            Numeric period column (e.g. ``"year"``).
        group : str
            First treated period of the unit (its cohort); missing, 0 or inf for never-treated units.
        cluster : str, optional
            Column constant within unit to cluster on (e.g. ``"municipality"``); default the unit.

        Returns
        -------
        self
        """
        self._check_params()
        chk.check_frame(data)
        chk.check_columns(data, [outcome, unit, time, group, cluster])
        chk.check_no_missing(data, [outcome, unit, time, cluster])
        chk.numeric_values(data, outcome)
        chk.numeric_values(data, time)
        chk.numeric_values(data, group)
        wide = _wide_outcome(data, outcome=outcome, unit=unit, time=time)
        cohort = unit_constant(data, unit, group)
        G = np.where(never_treated(cohort), np.inf, cohort.to_numpy(dtype=float))
        periods = wide.columns.to_numpy(dtype=float)
        G[G > periods[-1]] = np.inf
        keep = G > periods[0] + self.anticipation
        if not keep.all():
            warnings.warn(
                f"{int((~keep).sum())} units first treated by the first period {periods[0]:g} (plus anticipation) "
                "have no pre-period and were dropped",
                StatisticalWarning,
                stacklevel=2,
            )
        Y = wide.to_numpy(dtype=float)[keep]
        G = G[keep]
        if not np.isfinite(G).any():
            raise DataContractError(f"column {group!r}: no unit is first treated within the panel's periods")
        if cluster is None:
            clusters = np.arange(len(G))
        else:
            clusters = pd.factorize(unit_constant(data, unit, cluster).to_numpy()[keep])[0]
        self._estimate_cells(Y, G, periods)
        self._G, self._clusters = G, clusters
        self._boot_seed = int_seed(self.seed) if self.se == "bootstrap" else None
        self.n_units_ = int(len(G))
        self.outcome_ = outcome
        std = self._standard_errors(self.influence_)
        self.att_gt_ = self._table(self._cells, std, extra=["group", "time", "event_time", "base_period"])
        return self

    def _base(self, g: float, t: float, periods: np.ndarray) -> float | None:
        """Base period of cell (g, t), or None when the cell has no earlier period."""
        start = g - self.anticipation
        if self.base_period == "varying" and t < start:
            earlier = periods[periods < t]
        else:
            earlier = periods[periods < start]
        return float(earlier[-1]) if earlier.size else None

    def _estimate_cells(self, Y: np.ndarray, G: np.ndarray, periods: np.ndarray) -> None:
        """ATT(g, t) and influence functions for every cohort and period."""
        n = len(G)
        cells, phis, controls, skipped = [], [], [], []
        for g in np.unique(G[np.isfinite(G)]):
            treated = G == g
            for t in periods:
                b = self._base(g, t, periods)
                if b is None or b == t:
                    continue
                control = np.isinf(G)
                if self.control_group == "notyet":
                    control = control | ((G > max(t, b) + self.anticipation) & ~treated)
                if not control.any():
                    skipped.append((g, t))
                    continue
                dy = Y[:, np.searchsorted(periods, t)] - Y[:, np.searchsorted(periods, b)]
                m_g, m_c = dy[treated].mean(), dy[control].mean()
                p_g, p_c = treated.mean(), control.mean()
                phis.append(treated * (dy - m_g) / p_g - control * (dy - m_c) / p_c)
                controls.append(control)
                cells.append(
                    {"group": g, "time": t, "event_time": t - g, "base_period": b, "estimate": m_g - m_c,
                     "n_treated": int(treated.sum()), "n_control": int(control.sum())}
                )
        if skipped:
            warnings.warn(
                f"{len(skipped)} group-time cells have no comparison units and were skipped "
                f"(e.g. (group, time) {[(float(g), float(t)) for g, t in skipped[:3]]}); "
                "control_group='notyet' without never-treated units cannot identify the latest periods",
                StatisticalWarning,
                stacklevel=3,
            )
        if not cells:
            raise DataContractError("no group-time effect could be estimated: no comparison units in any period")
        self._cells = pd.DataFrame(cells)
        self.influence_ = np.column_stack(phis)
        self._controls = np.column_stack(controls)
        self._cell_groups = self._cells["group"].to_numpy()

    def _standard_errors(self, phi: np.ndarray) -> np.ndarray:
        """Standard errors from influence functions: analytic, or multiplier bootstrap over clusters."""
        if self.se == "analytic":
            return np.sqrt(np.diag(np.atleast_2d(if_variance(phi, self._clusters))))
        n = phi.shape[0]
        n_clusters = int(self._clusters.max()) + 1
        sums = np.zeros((n_clusters, phi.shape[1]))
        np.add.at(sums, self._clusters, phi)
        rng = np.random.default_rng(self._boot_seed)
        draws = []
        for start in range(0, self.n_boot, _BOOT_CHUNK):
            size = min(_BOOT_CHUNK, self.n_boot - start)
            v = rng.choice([-1.0, 1.0], size=(size, n_clusters))
            draws.append(v @ sums / n)
        return np.vstack(draws).std(axis=0, ddof=1)

    def _table(self, cells: pd.DataFrame, std: np.ndarray, *, extra: list[str], estimand: str = "ATT") -> pd.DataFrame:
        rows = []
        for (_, cell), s in zip(cells.iterrows(), std):
            row = result_row(
                outcome=self.outcome_, method=METHOD, estimand=estimand, estimate=cell["estimate"], std_error=s,
                n_treated=cell["n_treated"], n_control=cell["n_control"], cl=self.cl,
            )
            rows.append({**{k: cell[k] for k in extra}, **row})
        return tidy_frame(rows, extra=extra)

    def _aggregate_cells(self, selected: np.ndarray) -> tuple[float, np.ndarray, int, int]:
        """Cohort-share weighted average of the selected cells and its influence function.

        θ = Σ_k w_k ATT_k with w_k = p_{g_k} / Σ_j p_{g_j}; φ_θ = Σ_k w_k φ_k + Σ_k ATT_k ψ_k, where ψ_k is
        the influence function of the estimated weight w_k (Callaway & Sant'Anna 2021, sec. 4).
        """
        groups = self._cell_groups[selected]
        att = self._cells["estimate"].to_numpy()[selected]
        indicators = (self._G[:, None] == groups[None, :]).astype(float)
        p = indicators.mean(axis=0)
        total = p.sum()
        w = p / total
        dp = indicators - p
        psi = dp / total - np.outer(dp.sum(axis=1), p) / total**2
        phi = self.influence_[:, selected] @ w + psi @ att
        n_treated = int(np.isin(self._G, groups).sum())
        n_control = int(self._controls[:, selected].any(axis=1).sum())
        return float(w @ att), phi, n_treated, n_control

    def aggregate(self, kind: str = "simple") -> pd.DataFrame:
        """Aggregate the group-time effects.

        Parameters
        ----------
        kind : {"simple", "event"}, default="simple"
            ``"simple"``: one overall ATT over all post-start cells (t ≥ g), weighted by cohort size.
            ``"event"``: one ATT per event time e = t − g (leads are placebo checks of parallel trends).

        Returns
        -------
        DataFrame
            Tidy rows (``"event"`` adds an ``event_time`` column; with ``base_period="universal"`` the
            reference event time appears with estimate 0 and a missing standard error). ``n_treated``
            counts the units of the cohorts averaged, ``n_control`` the units used as comparison in at
            least one of the cells.
        """
        self._check_fitted()
        chk.check_choice(kind, ("simple", "event"), name="kind")
        event_time = self._cells["event_time"].to_numpy()
        if kind == "simple":
            selection = [event_time >= 0]
        else:
            selection = [event_time == e for e in np.unique(event_time)]
        results = [self._aggregate_cells(s) for s in selection]
        phi = np.column_stack([r[1] for r in results])
        cells = pd.DataFrame(
            {"estimate": [r[0] for r in results], "n_treated": [r[2] for r in results],
             "n_control": [r[3] for r in results]}
        )
        if kind == "simple":
            return self._table(cells, self._standard_errors(phi), extra=[])
        cells.insert(0, "event_time", np.unique(event_time))
        table = self._table(cells, self._standard_errors(phi), extra=["event_time"])
        return self._with_reference(table)

    def _check_fitted(self) -> None:
        if not hasattr(self, "att_gt_"):
            raise NotFittedError("this CallawaySantAnna instance is not fitted yet: call fit(...) first")

    def overall_influence(self) -> tuple[float, np.ndarray]:
        """The overall ATT (``aggregate("simple")``) and its influence function, one value per unit.

        For inference on functions of several fits on the same units (the delta method with the joint
        influence functions, as in :func:`per_starter_effect`).
        """
        self._check_fitted()
        estimate, phi, _, _ = self._aggregate_cells(self._cells["event_time"].to_numpy() >= 0)
        return estimate, phi

    def _with_reference(self, table: pd.DataFrame) -> pd.DataFrame:
        """Add the universal base period's event time as a zero row (it is the comparison period)."""
        if self.base_period != "universal":
            return table
        reference = -1 - self.anticipation
        if reference in set(table["event_time"]):
            return table
        row = result_row(outcome=self.outcome_, method=METHOD, estimand="ATT", estimate=0.0, std_error=np.nan,
                         n_treated=0, n_control=0, cl=self.cl, conf=(0.0, 0.0))
        table = pd.concat([table, pd.DataFrame([{"event_time": reference, **row}])], ignore_index=True)
        return table.sort_values("event_time", ignore_index=True)

    def summary(self) -> pd.DataFrame:
        """The overall ATT as one tidy row (``aggregate("simple")``)."""
        return self.aggregate("simple")


def per_starter_effect(
    data: pd.DataFrame,
    *,
    outcome: str,
    share: str,
    unit: str,
    time: str,
    group: str,
    cluster: str | None = None,
    control_group: str = "notyet",
    anticipation: int = 0,
    cl: float = 0.95,
) -> pd.DataFrame:
    """Effect per starter under staggered adoption: the effect of adoption on the outcome divided by its
    effect on the share who start (a Wald difference-in-differences).

    Adopting an intervention changes the outcome of everyone eligible only through those who start it,
    so the effect of adoption is diluted by the share who start. Both effects are Callaway–Sant'Anna
    overall ATTs on the same units, cells and weights; their ratio is the effect per starter.

    Parameters
    ----------
    data : DataFrame
        Balanced unit-period panel (e.g. municipality-years of the eligible population).
    outcome : str
        Numeric outcome column (e.g. the eligible citizens' employment rate).
    share : str
        Share of the unit's eligible citizens who have started by the period (0 before adoption).
    unit, time, group : str
        As in :meth:`CallawaySantAnna.fit` (``group`` = adoption period; missing = never).
    cluster : str, optional
        Column constant within unit to cluster on; default the unit.
    control_group : {"notyet", "never"}, default="notyet"
    anticipation : int, default=0
    cl : float, default=0.95

    Returns
    -------
    DataFrame
        Three tidy rows (:data:`EFFECT_COLUMNS`): the effect of adoption on the outcome
        (``method`` = :data:`METHOD`, ``outcome`` = ``outcome``), on the share started
        (``outcome`` = ``share``) and per starter (``method`` = :data:`PER_STARTER_METHOD`). The counts
        are units (treated cohorts; comparison units).

    Warns
    -----
    StatisticalWarning
        When the first stage is weak (|t| of the effect on the share below √10): the ratio's normal
        interval is then unreliable.

    Notes
    -----
    With θ_Y and θ_D the overall ATTs on the outcome and on the share, the estimate is r = θ_Y / θ_D.
    Its standard error comes from the joint influence functions of the two estimates (delta method):
    φ_r,i = (φ_Y,i − r·φ_D,i) / θ_D, Var(r) = Σ_g (Σ_{i∈g} φ_r,i)² / n² · G/(G − 1) over the clusters g,
    so the share's sampling uncertainty (uptake differs between units) and its covariance with the
    outcome's effect are both in it. Dividing the outcome's interval by the share instead treats the
    share as known. The ratio is the ATT on the starters when adoption changes the outcome only through
    starting and comparison units have nobody started (one-sided non-compliance; Bloom 1984); it is the
    Wald-DiD of de Chaisemartin & D'Haultfœuille (2018) with a share that is 0 in every comparison cell.
    The delta method is used rather than a cluster bootstrap because both estimates are smooth in the
    units' means, their influence functions are exact, and it is what the Callaway–Sant'Anna standard
    errors use; its normal approximation needs a strong first stage, hence the warning.

    Examples
    --------
    >>> from progression.evaluation.simulate import staggered_adoption_panel
    >>> panel = staggered_adoption_panel(seed=1, effect_per_starter=0.3)
    >>> rows = per_starter_effect(panel, outcome="employed", share="share_started", unit="municipality",
    ...                           time="year", group="adoption_year")
    >>> rows[["outcome", "method"]].values.tolist()
    [['employed', "Callaway–Sant'Anna"], ['share_started', "Callaway–Sant'Anna"], ['employed', "Callaway–Sant'Anna ÷ share started"]]
    >>> bool(rows["conf_low"].iloc[2] < 0.3 < rows["conf_high"].iloc[2])
    True
    """
    cl = chk.check_level(cl)
    fits = [CallawaySantAnna(control_group=control_group, anticipation=anticipation, cl=cl).fit(
        data, outcome=column, unit=unit, time=time, group=group, cluster=cluster) for column in (outcome, share)]
    (theta_y, phi_y), (theta_d, phi_d) = (fit.overall_influence() for fit in fits)
    rows = [fit.summary() for fit in fits]
    if theta_d == 0:
        raise DataContractError(f"column {share!r}: the effect of adoption on the share started is 0; "
                                "no effect per starter can be formed")
    clusters = fits[0]._clusters
    if abs(theta_d) < _WEAK_FIRST_STAGE_T * float(np.sqrt(if_variance(phi_d, clusters))):
        warnings.warn(f"weak first stage: the effect of adoption on {share!r} ({theta_d:.3g}) is imprecise "
                      "(|t| < √10), so the normal interval of the effect per starter is unreliable",
                      StatisticalWarning, stacklevel=2)
    ratio = theta_y / theta_d
    phi = (phi_y - ratio * phi_d) / theta_d
    per_starter = result_row(outcome=outcome, method=PER_STARTER_METHOD, estimand="ATT", estimate=ratio,
                             std_error=float(np.sqrt(if_variance(phi, clusters))), cl=cl,
                             n_treated=rows[0]["n_treated"].iloc[0], n_control=rows[0]["n_control"].iloc[0])
    return pd.concat([*rows, tidy_frame([per_starter])], ignore_index=True)
