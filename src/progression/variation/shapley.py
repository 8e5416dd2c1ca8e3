"""Shapley (LMG) decomposition of R² over predictors or groups of predictors, with a bootstrap.

The R² of a linear model is shared among its predictors by averaging each predictor's increase in R² over
all orders in which the predictors can enter (Lindeman, Merenda & Gold 1980; Grömping 2007). With p
players the Shapley value of player j is

    φ_j = Σ_{S ⊆ P∖{j}} |S|! (p − |S| − 1)! / p! · [R²(S ∪ {j}) − R²(S)],

and Σ_j φ_j = R²(P). When players are groups of columns, R²(S) is the R² of the model with the union of
their columns (the "group Shapley" of Stata's ``shapley2``).

All 2^p subset R² values come from one weighted Gram matrix of the standardised data: for the column set
C, R²(C) = c_Cᵀ G_CC⁻¹ c_C with G the correlation-scale cross-product matrix of the predictors and c their
cross-products with y. The systems are solved in batches of equal size, and for the bootstrap the Gram
matrices of all replicates are formed at once from the resampling counts (a resample is the original data
with integer frequency weights), so ``n_boot`` replicates cost ``n_boot`` small batched solves.

References
----------
Lindeman, R. H., Merenda, P. F., Gold, R. Z. (1980). Introduction to Bivariate and Multivariate Analysis.
Grömping, U. (2007). Estimators of relative importance in linear regression based on variance
decomposition. The American Statistician 61(2), 139–147.
Huettner, F., Sunder, M. (2012). Axiomatic arguments for decomposing goodness of fit according to Shapley
and Owen values. Electronic Journal of Statistics 6, 1239–1250.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression._tidy import percentile_interval
from progression._validation import check_level, check_positive_int
from progression.exceptions import DataContractError, ParameterError
from progression.variation._data import column_list, finite_matrix, positive_weights

__all__ = ["shapley_r2", "shapley_r2_bootstrap", "subset_r2"]

MAX_PLAYERS = 20


# --------------------------------------------------------------------------------------------------
# players and their column masks
# --------------------------------------------------------------------------------------------------

def _players(X: list[str], groups: Mapping[str, Sequence[str]] | None) -> tuple[list[str], list[list[int]]]:
    """Names of the players and, for each, the positions of its columns in X."""
    if groups is None:
        return list(X), [[i] for i in range(len(X))]
    position = {c: i for i, c in enumerate(X)}
    names, members, seen = [], [], {}
    for name, columns in groups.items():
        columns = column_list(columns, name=f"groups[{name!r}]")
        unknown = [c for c in columns if c not in position]
        if unknown:
            raise ParameterError(f"groups[{name!r}] names columns {unknown} that are not in X {X}")
        twice = [c for c in columns if c in seen]
        if twice:
            raise ParameterError(f"column(s) {twice} are in both groups {seen[twice[0]]!r} and {name!r}")
        seen.update({c: name for c in columns})
        names.append(str(name))
        members.append([position[c] for c in columns])
    for column in X:  # columns left out of every group play alone
        if column not in seen:
            names.append(column)
            members.append([position[column]])
    if len(set(names)) != len(names):
        raise ParameterError(f"a group name equals a column left out of the groups: {names}")
    return names, members


def _column_sets(members: list[list[int]]) -> list[np.ndarray]:
    """Column positions of the union of players, for every player mask 0 … 2^p − 1."""
    p = len(members)
    column_mask = np.zeros(2**p, dtype=np.int64)
    for j, cols in enumerate(members):
        bits = sum(1 << c for c in cols)
        column_mask[np.arange(2**p) & (1 << j) != 0] |= bits
    n_columns = sum(len(cols) for cols in members)
    bits = (column_mask[:, None] >> np.arange(n_columns)) & 1
    return [np.flatnonzero(row) for row in bits]


# --------------------------------------------------------------------------------------------------
# R² of all subsets from Gram matrices
# --------------------------------------------------------------------------------------------------

def _gram(Z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted centred cross-product matrices, one per row of ``w`` (shape (B, n)); Z holds [X, y]."""
    totals = w.sum(axis=1, keepdims=True)
    means = (w @ Z) / totals
    raw = np.einsum("bn,ni,nj->bij", w, Z, Z, optimize=True)
    return raw - totals[:, :, None] * means[:, :, None] * means[:, None, :]


def _r2_from_gram(gram: np.ndarray, column_sets: list[np.ndarray]) -> np.ndarray:
    """R² of y on each column set, for every Gram matrix in the batch; shape (B, n_sets)."""
    B, size, _ = gram.shape
    p = size - 1
    scale = np.sqrt(np.clip(np.diagonal(gram, axis1=1, axis2=2), 1e-300, None))
    corr = gram / scale[:, :, None] / scale[:, None, :]
    out = np.zeros((B, len(column_sets)))
    by_size: dict[int, list[int]] = {}
    for i, cols in enumerate(column_sets):
        by_size.setdefault(len(cols), []).append(i)
    for k, rows in by_size.items():
        if k == 0:
            continue
        index = np.stack([column_sets[i] for i in rows])  # (m, k)
        A = corr[:, index[:, :, None], index[:, None, :]]  # (B, m, k, k)
        c = corr[:, index, p]  # (B, m, k)
        try:
            beta = np.linalg.solve(A, c[..., None])[..., 0]
        except np.linalg.LinAlgError:  # a collinear subset: the pseudo-inverse gives its R²
            beta = (np.linalg.pinv(A, hermitian=True) @ c[..., None])[..., 0]
        out[:, rows] = np.sum(c * beta, axis=-1)
    return out


def _shapley_from_subsets(r2: np.ndarray, p: int) -> np.ndarray:
    """Shapley values (B, p) from subset R² indexed by player mask (B, 2^p)."""
    masks = np.arange(2**p)
    sizes = np.bitwise_count(masks)
    weight = np.array([math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p) if s < p else 0.0
                       for s in range(p + 1)])
    out = np.zeros((r2.shape[0], p))
    for j in range(p):
        without = masks[(masks & (1 << j)) == 0]
        out[:, j] = (r2[:, without | (1 << j)] - r2[:, without]) @ weight[sizes[without]]
    return out


def _prepare(data, y, X, groups, weights, log):
    X = column_list(X, name="X")
    if y in X:
        raise ParameterError(f"y {y!r} is also listed in X")
    names, members = _players(X, groups)
    if len(names) > MAX_PLAYERS:
        raise ParameterError(
            f"shapley_r2 needs 2^p subset fits; p = {len(names)} players is more than {MAX_PLAYERS}. "
            "Combine columns into groups (groups={name: [columns]})"
        )
    Z = finite_matrix(data, X + [y])
    if log:
        if (Z[:, -1] <= 0).any():
            raise DataContractError(f"y {y!r}: log needs positive values; found {(Z[:, -1] <= 0).sum()} ≤ 0")
        Z[:, -1] = np.log(Z[:, -1])
    w = positive_weights(data, weights)
    w = np.ones(len(Z)) if w is None else w
    centred = Z - np.average(Z, axis=0, weights=w)
    spread = np.sqrt(np.average(centred**2, axis=0, weights=w))
    constant = [c for c, s, m in zip(X + [y], spread, np.abs(Z).max(axis=0)) if s <= 1e-12 * (1 + m)]
    if constant:
        raise DataContractError(f"columns {constant} do not vary; a Shapley share needs variation")
    if len(Z) <= len(X) + 1:
        raise DataContractError(f"{len(Z)} rows are too few for {len(X)} predictors and an intercept")
    return names, members, Z, w


def subset_r2(
    data: pd.DataFrame,
    y: str,
    X: Sequence[str],
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    weights: str | None = None,
    log: bool = False,
) -> pd.Series:
    """R² (weighted when ``weights`` is given) of every subset of the predictors or groups.

    Parameters
    ----------
    data, y, X, groups, weights, log
        As in :func:`shapley_r2`.

    Returns
    -------
    pandas.Series
        Indexed by the player mask (bit j set = player j in the model, in the order of the players);
        ``series.attrs["players"]`` lists the players.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> data = pd.DataFrame(rng.normal(size=(50, 2)), columns=["a", "b"])
    >>> data["y"] = data["a"] + rng.normal(size=50)
    >>> r2 = subset_r2(data, "y", ["a", "b"])
    >>> r2.attrs["players"], {int(k): round(float(v), 3) for k, v in r2.items()}
    (['a', 'b'], {0: 0.0, 1: 0.467, 2: 0.004, 3: 0.469})
    """
    names, members, Z, w = _prepare(data, y, X, groups, weights, log)
    r2 = _r2_from_gram(_gram(Z, w[None, :]), _column_sets(members))[0]
    series = pd.Series(r2, name="r2")
    series.index.name = "mask"
    series.attrs["players"] = names
    return series


def shapley_r2(
    data: pd.DataFrame,
    y: str,
    X: Sequence[str],
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    weights: str | None = None,
    log: bool = False,
) -> pd.DataFrame:
    """Shapley (LMG) decomposition of the R² of a linear regression of ``y`` on ``X``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit (municipality).
    y : str
        Outcome column (e.g. spending per inhabitant).
    X : sequence of str
        Predictor columns (an intercept is always included).
    groups : mapping of str to list of str, optional
        Group name → columns of X. The groups are the players; columns of X in no group play alone.
    weights : str, optional
        Column of positive weights (e.g. population): the decomposition is then of the weighted R² of WLS.
    log : bool, default=False
        Decompose the R² of log(y).

    Returns
    -------
    pandas.DataFrame
        One row per predictor (or group): ``term``, ``estimate`` (its part of R²) and ``share`` (its part
        divided by R²). The parts sum to the full model's R², which is also in ``frame.attrs["r2"]``.

    Raises
    ------
    ParameterError
        More than 20 players, unknown or overlapping group columns.
    DataContractError
        Missing values, a constant column, non-positive weights or too few rows.

    Notes
    -----
    Exact for up to 20 players (2^p subset fits); 12 predictors on 98 municipalities take a few hundredths
    of a second. See the module docstring for the formula and the method.

    Examples
    --------
    The example data are calibrated so that OLS of adult spending on these criteria gives R² = 0.40:

    >>> from progression.datasets import load_example
    >>> from progression.variation import spending_panel
    >>> criteria = ["share_no_vocational_25_49", "share_handicap_diagnoses", "share_psychiatric_patients"]
    >>> panel = spending_panel(load_example("municipal_accounts"), load_example("municipality_years"),
    ...                        functions="5.38", population_col="pop_18_66", criteria=criteria)
    >>> parts = shapley_r2(panel[panel["year"] == 2022], "spend_per_capita", criteria)
    >>> print(parts.round(3).to_string(index=False))
                          term  estimate  share
     share_no_vocational_25_49     0.140  0.351
      share_handicap_diagnoses     0.132  0.329
    share_psychiatric_patients     0.128  0.320
    >>> print(f"{parts['estimate'].sum():.2f} {parts.attrs['r2']:.2f}")
    0.40 0.40
    """
    names, members, Z, w = _prepare(data, y, X, groups, weights, log)
    r2 = _r2_from_gram(_gram(Z, w[None, :]), _column_sets(members))
    values = _shapley_from_subsets(r2, len(names))[0]
    total = float(r2[0, -1])
    frame = pd.DataFrame({"term": names, "estimate": values, "share": values / total})
    frame.attrs["r2"] = total
    return frame


def shapley_r2_bootstrap(
    data: pd.DataFrame,
    y: str,
    X: Sequence[str],
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    weights: str | None = None,
    log: bool = False,
    n_boot: int = 1000,
    seed: int | np.random.Generator = 0,
    cl: float = 0.95,
    chunk_size: int = 100,
    return_draws: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Shapley R² decomposition with percentile bootstrap intervals, resampling rows (municipalities).

    Parameters
    ----------
    data, y, X, groups, weights, log
        As in :func:`shapley_r2`.
    n_boot : int, default=1000
        Number of bootstrap resamples of the rows, with replacement.
    seed : int or numpy.random.Generator, default=0
    cl : float, default=0.95
        Confidence level: the intervals are the (1 − cl)/2 and (1 + cl)/2 percentiles of the draws.
    chunk_size : int, default=100
        Replicates handled in one batch (bounds memory: about chunk_size × 2^p small matrices).
    return_draws : bool, default=False
        Also return the draws (one row per replicate, one column per term and ``"R2"``).

    Returns
    -------
    pandas.DataFrame
        One row per term and a last row ``"R2"`` for the full model: ``term``, ``estimate`` (on the full
        data), ``share`` (estimate / R²), ``std_error`` (bootstrap standard deviation), ``conf_low``,
        ``conf_high``, ``share_conf_low``, ``share_conf_high``.

    Notes
    -----
    A resample is the data with multinomial frequency weights, so each replicate's Gram matrix is a
    weighted cross-product of the original data. R² is biased upwards in small samples (by about
    (1 − R²)·p/(n − 1) for p predictors), and the percentile interval inherits the bias of the bootstrap
    distribution; compare the adjusted and cross-validated R² of :class:`SpendingVariationModel`.
    Replicates in which a column does not vary give an undefined decomposition and are dropped with a
    count in ``frame.attrs["n_dropped"]``.

    References
    ----------
    Efron, B., Tibshirani, R. (1993). An Introduction to the Bootstrap. Chapman & Hall, ch. 13.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> data = pd.DataFrame(rng.normal(size=(98, 2)), columns=["a", "b"])
    >>> data["y"] = data["a"] + rng.normal(size=98)
    >>> table = shapley_r2_bootstrap(data, "y", ["a", "b"], n_boot=200, seed=2)
    >>> table["term"].tolist()
    ['a', 'b', 'R2']
    >>> bool((table["conf_low"] <= table["estimate"]).all() and (table["estimate"] <= table["conf_high"]).all())
    True
    """
    n_boot = check_positive_int(n_boot, name="n_boot", minimum=2)
    check_level(cl)
    names, members, Z, w = _prepare(data, y, X, groups, weights, log)
    column_sets = _column_sets(members)
    rng = np.random.default_rng(seed)
    n, p = len(Z), len(names)
    point_gram = _gram(Z, w[None, :])
    point_r2 = _r2_from_gram(point_gram, column_sets)
    # a column is constant in a replicate when its spread collapses relative to its own full-data spread
    # (not to the largest column: spending in kr. and criteria shares differ by ten orders of magnitude)
    full_spread = np.diagonal(point_gram, axis1=1, axis2=2)
    point = np.append(_shapley_from_subsets(point_r2, p)[0], point_r2[0, -1])

    draws = []
    for start in range(0, n_boot, chunk_size):
        size = min(chunk_size, n_boot - start)
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=size).astype(float)
        gram = _gram(Z, counts * w[None, :])
        degenerate = (np.diagonal(gram, axis1=1, axis2=2) <= 1e-10 * full_spread).any(axis=1)
        r2 = _r2_from_gram(gram, column_sets)
        values = np.column_stack([_shapley_from_subsets(r2, p), r2[:, -1]])
        draws.append(values[~degenerate])
    draws = np.vstack(draws)
    n_dropped = n_boot - len(draws)
    if len(draws) < 2:
        raise DataContractError(
            f"{n_dropped} of {n_boot} bootstrap replicates have a column that does not vary; "
            "too few rows vary to bootstrap the decomposition"
        )

    shares = draws[:, :p] / draws[:, [p]]
    conf_low, conf_high = percentile_interval(draws, cl=cl)
    share_low, share_high = percentile_interval(shares, cl=cl)
    frame = pd.DataFrame(
        {
            "term": names + ["R2"],
            "estimate": point,
            "share": np.append(point[:p] / point[p], 1.0),
            "std_error": draws.std(axis=0, ddof=1),
            "conf_low": conf_low,
            "conf_high": conf_high,
            "share_conf_low": np.append(share_low, 1.0),
            "share_conf_high": np.append(share_high, 1.0),
        }
    )
    frame.attrs.update({"n_boot": n_boot, "n_dropped": n_dropped, "cl": cl})
    if return_draws:
        return frame, pd.DataFrame(draws, columns=names + ["R2"])
    return frame
