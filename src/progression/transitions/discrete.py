"""Discrete-time step transitions: matrices, cohort flows and a bootstrap over citizens.

Between consecutive periods t and t+k of the person-period panel (see :mod:`progression.panel`),
the transition probability from step i to state j is estimated as

    p_ij = n_ij / n_i.

where n_ij counts person-periods on step i at t found in state j at t+k. The destination states are
the steps plus, by default, the censoring events (``died``, ``emigrated``, ``moved``) as absorbing
columns, so that each row sums to one over steps and exits; with ``exits="drop"`` a pair that ends in
a censoring event is left out instead (p is then conditional on staying observed). Only
person-periods observed to the end (status ``observed``) are origins.

A citizen contributes many transitions, so intervals come from a **cluster bootstrap over citizens**:
persons are resampled with replacement (Davison & Hinkley 1997, section 3.8), their transition counts
added up, and the probabilities recomputed. The resampling is vectorised: each person's counts form a
sparse row of a person x cell matrix C, a replicate's counts are w C with w the number of times each
person was drawn, and the intervals are percentiles of the replicates.

A *cohort flow* follows everyone on one step in one period to another period (Social- og
Boligstyrelsen 2024: §85 in 2020 to 2022) and classifies where they are: no service, a lower, the same
or a higher step, or died, emigrated or moved away. The report's figures are in
:mod:`progression.transitions.published`.

**Disclosure.** ``summary()`` returns a table that carries its disclosure declaration
(:func:`progression.disclosure.declare`), so it can be written through
:meth:`~progression.chain.run_context.RunContext.write_result` as it is. A published probability
p_ij = n_ij / n_i. beside its row total n_i. reveals n_ij, so it rests on the persons in the cell; a
zero probability describes nobody in the cell but says something about everyone in the row. Each cell
of a transition matrix therefore carries ``n_described``: the distinct persons in the cell when it has
transitions, otherwise the distinct persons of the row (``n_persons_from``). Probabilities, counts
and intervals rest on it, and secondary suppression runs within each row, whose probabilities add up
to one. The declaration is :func:`matrix_declaration`; read it off a table with
:func:`progression.disclosure.declaration_of`.

References
----------
Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*. Cambridge
University Press, section 3.8.

Social- og Boligstyrelsen (2024). *Kommunernes omlægning til Borgeren ved roret*.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import sparse

from progression._tidy import percentile_interval
from progression._validation import check_columns, check_positive_int
from progression.disclosure import Declaration, declare
from progression.exceptions import DataContractError, ParameterError
from progression.panel import infer_period, period_number
from progression.staircase import EXIT_STATUSES, MOVE_CATEGORIES, STATUSES, Staircase, as_staircase
from progression.transitions._panel import check_bootstrap, coded_panel, panel_period, status_error

__all__ = [
    "TransitionMatrix",
    "CohortFlow",
    "matrix_declaration",
    "flow_declaration",
    "transition_pairs",
    "transition_counts",
    "citizen_bootstrap",
    "label_municipalities",
    "add_person_columns",
]

Exits = Literal["absorbing", "drop"]


# -- pairs -----------------------------------------------------------------------------------------
def _pair_positions(person: np.ndarray, pnum: np.ndarray, step: np.ndarray, status: np.ndarray, *,
                    lag: int, n_steps: int, exits: str) -> tuple[np.ndarray, np.ndarray]:
    """Origin row positions and destination codes (steps 0..K-1, exits K..K+2) of a sorted panel.

    A destination beyond the person's last row is that row's exit status if it has one (the person
    left during the lag); otherwise the person was still observed at the window end: no pair.
    """
    n = len(person)
    if n == 0:
        return np.empty(0, "int64"), np.empty(0, "int64")
    new = np.r_[True, person[1:] != person[:-1]]
    gaps = ~new[1:] & (np.diff(pnum) != 1)
    if gaps.any():
        at = np.flatnonzero(gaps)[:5]
        raise DataContractError(
            f"panel periods must be consecutive within a person; {int(gaps.sum())} gap(s), e.g. person_id "
            f"{person[at].tolist()}. Build the panel with progression.panel.build_panel or sort it by person and period."
        )
    run = np.cumsum(new) - 1
    last = np.flatnonzero(np.r_[new[1:], True])[run]
    early_exit = (status != 0) & (np.arange(n) != last)
    if early_exit.any():
        raise DataContractError(
            f"a censoring status (died/emigrated/moved) must be a person's last period; found on an earlier "
            f"period for person_id {np.unique(person[early_exit])[:5].tolist()}"
        )
    origin = np.flatnonzero(status == 0)
    target = origin + lag
    inside = target <= last[origin]
    to = np.full(len(origin), -1, dtype="int64")
    t = target[inside]
    to[inside] = np.where(status[t] == 0, step[t], n_steps + status[t] - 1)
    final = status[last[origin[~inside]]]
    to[~inside] = np.where(final == 0, -1, n_steps + final - 1)
    if exits == "drop":
        to[to >= n_steps] = -1
    keep = to >= 0
    return origin[keep], to[keep]


def transition_pairs(
    panel: pd.DataFrame,
    *,
    lag: int = 1,
    exits: Exits = "absorbing",
    groups: Sequence[str] = (),
    staircase=None,
    person_col: str = "person_id",
    period_col: str = "period",
    step_col: str = "step",
    status_col: str = "status",
    period: str | None = None,
) -> pd.DataFrame:
    """One row per transition: origin period, groups at the origin, ``from_step`` and ``to``.

    Parameters
    ----------
    panel : DataFrame
        Person-period panel (:func:`progression.panel.build_panel`): consecutive periods per person,
        a censoring status only on a person's last period.
    lag : int, default=1
        Periods between origin and destination (k of a k-period transition).
    exits : {"absorbing", "drop"}, default="absorbing"
        Censoring events as destination states, or pairs ending in one left out.
    groups : sequence of str
        Panel columns whose origin-period values label the transition.
    staircase : Staircase or StaircaseParams, optional
        Step order; defaults to the staircase of Social- og Boligstyrelsen (2024).
    period : {"month", "quarter", "year"}, optional
        Period length; from ``panel.attrs["period"]`` or inferred from the dates.

    Returns
    -------
    DataFrame
        ``person_col``, ``period_col``, the group columns, ``from_step`` (ordered categorical of
        steps) and ``to`` (categorical of steps then exit statuses).

    Raises
    ------
    ParameterError
        When ``lag`` is not a positive integer or ``exits`` is unknown.
    DataContractError
        When a column is missing, a person's periods are not consecutive, or a censoring status is not
        the person's last period.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> pairs = transition_pairs(load_example("panel_year"))
    >>> pairs.head(3)
       person_id     period from_step     to
    0          1 2010-01-01     SEL85  SEL85
    1          1 2011-01-01     SEL85  moved
    2          2 2010-01-01     SEL85  SEL85
    """
    stairs = as_staircase(staircase)
    _check_lag_exits(lag, exits)
    check_columns(panel, {f"groups[{i}]": g for i, g in enumerate(groups)}, name="transition_pairs")
    panel, pnum, step, status = coded_panel(panel, stairs=stairs, person_col=person_col, period_col=period_col,
                                          step_col=step_col, status_col=status_col, period=period)
    origin, to = _pair_positions(panel[person_col].to_numpy(), pnum, step, status, lag=lag,
                                 n_steps=len(stairs.steps), exits=exits)
    out = panel.iloc[origin][[person_col, period_col, *groups]].reset_index(drop=True)
    out["from_step"] = pd.Categorical.from_codes(step[origin], dtype=stairs.dtype)
    out["to"] = pd.Categorical.from_codes(to, categories=_to_states(stairs, exits))
    return out


def _check_lag_exits(lag: int, exits: str) -> None:
    check_positive_int(lag, name="lag")
    if exits not in ("absorbing", "drop"):
        raise ParameterError(f"exits must be 'absorbing' or 'drop'; got {exits!r}")


def _to_states(stairs: Staircase, exits: str) -> list[str]:
    return [*stairs.steps, *EXIT_STATUSES] if exits == "absorbing" else list(stairs.steps)


# -- counts (also streamed from Parquet) -----------------------------------------------------------
def transition_counts(
    panel: pd.DataFrame | str | os.PathLike,
    *,
    groups: Sequence[str] = (),
    lag: int = 1,
    exits: Exits = "absorbing",
    staircase=None,
    person_col: str = "person_id",
    period_col: str = "period",
    step_col: str = "step",
    status_col: str = "status",
    period: str | None = None,
    batch_size: int = 2_000_000,
) -> pd.DataFrame:
    """Transition counts n_ij and row totals n_i. as a tidy frame, from a DataFrame or a Parquet panel.

    A Parquet panel (as written by :func:`progression.panel.build_panel`) is read batch by batch,
    so a national monthly panel never has to fit in memory; each person's rows must be contiguous
    and in period order, as ``build_panel`` writes them.

    Parameters
    ----------
    panel : DataFrame or path
        The person-period panel.
    groups, lag, exits, staircase, period
        As in :func:`transition_pairs`.
    batch_size : int, default=2_000_000
        Rows per batch when reading Parquet.

    Returns
    -------
    DataFrame
        Group columns, ``from_step``, ``to_step``, ``n``, ``n_from`` and ``prob`` = n / n_from, one row
        per group and (from, to) cell including zeros, for groups that have any transition.

    Raises
    ------
    ParameterError, DataContractError
        As :func:`transition_pairs`.

    Examples
    --------
    Where the example data's citizens on §85 are a year later:

    >>> from progression.datasets import load_example
    >>> counts = transition_counts(load_example("panel_year"))
    >>> counts[counts["from_step"] == "SEL85"].round(3)
       from_step    to_step      n  n_from   prob
    18     SEL85       none   2625   22701  0.116
    19     SEL85      SEL82    426   22701  0.019
    20     SEL85      SEL85  17787   22701  0.784
    21     SEL85     SEL107    429   22701  0.019
    22     SEL85     ABL105    134   22701  0.006
    23     SEL85     SEL108     36   22701  0.002
    24     SEL85       died    235   22701  0.010
    25     SEL85  emigrated     50   22701  0.002
    26     SEL85      moved    979   22701  0.043
    """
    stairs = as_staircase(staircase)
    _check_lag_exits(lag, exits)
    groups = list(groups)
    if isinstance(panel, pd.DataFrame):
        pairs = transition_pairs(panel, lag=lag, exits=exits, groups=groups, staircase=stairs,
                                 person_col=person_col, period_col=period_col, step_col=step_col,
                                 status_col=status_col, period=period)
        counted = pairs.groupby([*groups, "from_step", "to"], observed=True).size().rename("n").reset_index()
    else:
        counted = _stream_counts(panel, groups=groups, lag=lag, exits=exits, stairs=stairs, person_col=person_col,
                                 period_col=period_col, step_col=step_col, status_col=status_col,
                                 period=period, batch_size=batch_size)
    return _complete_grid(counted.rename(columns={"to": "to_step"}), groups, stairs, exits)


def _complete_grid(counted: pd.DataFrame, groups: list[str], stairs: Staircase, exits: str) -> pd.DataFrame:
    """Every (group, from, to) cell, zero-filled, with n_from and prob."""
    to_states = _to_states(stairs, exits)
    keys = counted[groups].drop_duplicates() if groups else pd.DataFrame(index=[0])
    grid = keys.merge(pd.DataFrame({"from_step": list(stairs.steps)}), how="cross").merge(
        pd.DataFrame({"to_step": to_states}), how="cross")
    counted = counted.astype({"from_step": "object", "to_step": "object"})
    out = grid.merge(counted, on=[*groups, "from_step", "to_step"], how="left")
    out["n"] = out["n"].fillna(0).astype("int64")
    out["n_from"] = out.groupby([*groups, "from_step"], sort=False)["n"].transform("sum")
    out["prob"] = out["n"] / out["n_from"].where(out["n_from"] > 0)
    out["from_step"] = pd.Categorical(out["from_step"], dtype=stairs.dtype)
    out["to_step"] = pd.Categorical(out["to_step"], categories=to_states, ordered=True)
    return out.sort_values([*groups, "from_step", "to_step"], ignore_index=True)


def _stream_counts(path, *, groups, lag, exits, stairs, person_col, period_col, step_col, status_col, period,
                   batch_size) -> pd.DataFrame:
    """Counts from a Parquet panel, batch by batch, on numpy codes.

    Each batch's last person may continue in the next batch, so their rows are carried over. A
    person whose rows are not contiguous would be counted twice; the run starts are checked.
    """
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    columns = list(dict.fromkeys([person_col, period_col, step_col, status_col, *groups]))
    missing = [c for c in columns if c not in file.schema_arrow.names]
    if missing:
        raise DataContractError(f"panel file {path} lacks column(s) {missing}; columns: {file.schema_arrow.names}")
    period = period or _period_from_file(file, period_col)
    n_to = len(_to_states(stairs, exits))
    totals = np.zeros(len(stairs.steps) * n_to, dtype="int64")
    grouped: list[pd.Series] = []
    carry: dict[str, np.ndarray] | None = None
    run_starts = []
    for batch in file.iter_batches(batch_size=batch_size, columns=columns):
        arrays = {
            "person": batch.column(person_col).to_numpy(),
            "pnum": _arrow_period_number(batch.column(period_col), period),
            "step": _arrow_codes(batch.column(step_col), stairs.steps, step_col, stairs.check_steps),
            "status": _arrow_codes(batch.column(status_col), STATUSES, status_col, status_error),
            **{f"g{i}": batch.column(g).to_numpy(zero_copy_only=False) for i, g in enumerate(groups)},
        }
        if carry is not None:
            arrays = {k: np.concatenate([carry[k], v]) for k, v in arrays.items()}
        person = arrays["person"]
        tail = len(person) - int(np.argmax(person[::-1] != person[-1])) if (person != person[-1]).any() else 0
        carry = {k: v[tail:] for k, v in arrays.items()}
        _count_batch({k: v[:tail] for k, v in arrays.items()}, groups, lag, exits, stairs, n_to, totals, grouped,
                     run_starts)
    if carry is not None:
        _count_batch(carry, groups, lag, exits, stairs, n_to, totals, grouped, run_starts)
    starts = np.concatenate(run_starts) if run_starts else np.empty(0)
    if len(np.unique(starts)) != len(starts):
        raise DataContractError(f"panel file {path}: a person's rows are not contiguous; sort it by person and period")
    if groups:
        counts = pd.concat(grouped).groupby(level=list(range(len(groups) + 1))).sum() if grouped else pd.Series()
        frame = counts.rename("n").reset_index()
        frame.columns = [*groups, "cell", "n"]
    else:
        frame = pd.DataFrame({"cell": np.arange(len(totals)), "n": totals})
    frame = frame[frame["n"] > 0]
    steps, to_states = np.asarray(stairs.steps, dtype=object), np.asarray(_to_states(stairs, exits), dtype=object)
    frame.insert(len(groups), "from_step", steps[frame["cell"].to_numpy() // n_to])
    frame.insert(len(groups) + 1, "to", to_states[frame["cell"].to_numpy() % n_to])
    return frame.drop(columns="cell")


def _count_batch(arrays, groups, lag, exits, stairs, n_to, totals, grouped, run_starts) -> None:
    person = arrays["person"]
    if not len(person):
        return
    run_starts.append(person[np.r_[True, person[1:] != person[:-1]]])
    origin, to = _pair_positions(person, arrays["pnum"], arrays["step"], arrays["status"], lag=lag,
                                 n_steps=len(stairs.steps), exits=exits)
    cell = arrays["step"][origin] * n_to + to
    if not groups:
        totals += np.bincount(cell, minlength=len(totals))
        return
    keys = pd.DataFrame({**{g: arrays[f"g{i}"][origin] for i, g in enumerate(groups)}, "cell": cell})
    grouped.append(keys.value_counts(sort=False))


def _arrow_period_number(column, period: str) -> np.ndarray:
    """Period numbers from an Arrow date/timestamp column, without pandas."""
    import pyarrow as pa

    days = column.cast(pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")
    months = days.astype("datetime64[M]").astype("int64")  # months since 1970-01
    if period == "month":
        return months + 1970 * 12
    if period == "quarter":
        return (months + 1970 * 12) // 3
    return months // 12 + 1970


def _arrow_codes(column, categories: Sequence[str], name: str, checker) -> np.ndarray:
    """Positions in ``categories`` of an Arrow string or dictionary column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    if column.null_count:
        raise DataContractError(f"column '{name}' has {column.null_count} missing value(s)")
    dictionary = column.dictionary.to_pylist()
    lookup = pd.Index(list(categories)).get_indexer(dictionary).astype("int64")
    codes = lookup[column.indices.to_numpy()]
    if (codes < 0).any():
        checker([d for d, c in zip(dictionary, lookup) if c < 0], column=name)
    return codes


def _period_from_file(file, period_col: str) -> str:
    import pyarrow.compute as pc

    first = file.read_row_group(0, columns=[period_col]).column(0)
    return infer_period(pd.Series(pc.unique(first).to_pandas()))


# -- the citizen bootstrap -------------------------------------------------------------------------
def citizen_bootstrap(
    person: np.ndarray,
    cell: np.ndarray,
    *,
    n_cells: int,
    n_boot: int,
    seed: int | np.random.Generator | None = 0,
    strata: np.ndarray | None = None,
) -> np.ndarray:
    """Bootstrap replicates of cell counts, resampling persons (clusters) with replacement.

    Parameters
    ----------
    person : array of int
        Person code (0..N-1) of each counted event.
    cell : array of int
        Cell code (0..n_cells-1) of each event.
    n_cells : int
        Number of cells.
    n_boot : int
        Replicates B.
    seed : int or Generator
        Random seed; same inputs and seed give identical replicates.
    strata : array of int, optional
        Stratum of each person (length N); persons are then resampled within strata, keeping the
        stratum sizes fixed.

    Returns
    -------
    ndarray of shape (n_boot, n_cells)
        Counts per replicate: W C, where W[b, p] is how often person p was drawn in replicate b
        and C[p, c] is person p's count in cell c.

    Raises
    ------
    ParameterError
        When ``strata`` is shorter than the number of persons.

    References
    ----------
    Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*. Cambridge
    University Press, section 3.8.

    Examples
    --------
    Three persons with six events in two cells; a replicate draws persons, so all of a person's
    events come along:

    >>> import numpy as np
    >>> person, cell = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 0, 1, 1, 0])
    >>> replicates = citizen_bootstrap(person, cell, n_cells=2, n_boot=1000, seed=1)
    >>> replicates.shape, replicates.mean(axis=0).round(1)
    ((1000, 2), array([3., 3.]))
    """
    person = np.asarray(person, dtype="int64")
    n_persons = int(person.max()) + 1 if len(person) else 0
    if strata is not None and len(strata) < n_persons:
        raise ParameterError(f"strata must give a stratum for each of the {n_persons} persons; got {len(strata)}")
    n_persons = len(strata) if strata is not None else n_persons
    rng = np.random.default_rng(seed)
    counts = sparse.csr_matrix((np.ones(len(person)), (person, np.asarray(cell, dtype="int64"))),
                               shape=(n_persons, n_cells)).T.tocsr()
    out = np.empty((n_boot, n_cells), dtype="float64")
    if n_persons == 0:
        out[:] = 0
        return out
    members = ([np.arange(n_persons)] if strata is None
               else [np.flatnonzero(strata == s) for s in np.unique(strata)])
    chunk = max(1, min(n_boot, 4_000_000 // n_persons))
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        draws = np.concatenate([m[rng.integers(0, len(m), size=(b, len(m)))] for m in members], axis=1)
        weights = np.bincount((draws + n_persons * np.arange(b)[:, None]).ravel(),
                              minlength=b * n_persons).reshape(b, n_persons)
        out[start:start + b] = (counts @ weights.T.astype("float64")).T
    return out


# -- estimators ------------------------------------------------------------------------------------
def matrix_declaration(groups: Sequence[str] = ()) -> Declaration:
    """The disclosure declaration of a transition-matrix table (:meth:`TransitionMatrix.summary`).

    ``n_described`` (persons in the cell, or of the row for an empty cell) and ``n_persons_from``
    (persons on the row's step) are counts of persons; the cell's counts, probability and interval
    rest on ``n_described``, the row total on ``n_persons_from``; ``n_described`` adds up within
    each row (``groups`` and ``from_step``), so a second cell of a row is hidden when one is.

    Parameters
    ----------
    groups : sequence of str
        The table's group columns.

    Returns
    -------
    Declaration

    Examples
    --------
    >>> matrix_declaration(["municipality_set"]).margins
    {'n_described': ('municipality_set', 'from_step')}
    """
    stats = {c: "n_described" for c in ("n", "n_persons", "prob", "std_error", "conf_low", "conf_high")}
    return Declaration.of(counts=["n_described", "n_persons_from"], stats={**stats, "n_from": "n_persons_from"},
                          margins={"n_described": [*groups, "from_step"]})


def flow_declaration(groups: Sequence[str] = ()) -> Declaration:
    """The disclosure declaration of a cohort-flow table (:meth:`CohortFlow.summary`).

    ``n`` (persons in a category) and ``n_cohort`` (persons in the cohort) are counts; the shares and
    their intervals rest on both; the categories of a group add up to its cohort.

    Parameters
    ----------
    groups : sequence of str, default=()
        Group columns of the table (the margins of secondary suppression).

    Returns
    -------
    Declaration

    Examples
    --------
    >>> flow_declaration().stats["share"]
    ('n', 'n_cohort')
    """
    stats = {c: ("n", "n_cohort") for c in ("share", "std_error", "conf_low", "conf_high")}
    return Declaration.of(counts=["n", "n_cohort"], stats={**stats, "n_persons": "n"}, margins={"n": list(groups)})


def _declared(table: pd.DataFrame, declaration: Declaration) -> pd.DataFrame:
    d = declaration.restricted(table.columns)
    return declare(table, counts=d.counts, stats=d.stats, margins=d.margins)


class _RowShares:
    """Counts n[g, r, c] (+ bootstrap replicates) reported as shares within (group, row)."""

    _row_name = "from_step"
    _col_name = "to_step"
    _share_name = "prob"

    def _check_fitted(self) -> None:
        if not hasattr(self, "counts_"):
            from progression.exceptions import NotFittedError

            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(panel) first")

    def _fit_counts(self, *, person: np.ndarray, group_keys: pd.DataFrame, group: np.ndarray, row: np.ndarray,
                    col: np.ndarray, rows: list[str], cols: list[str], strata: np.ndarray | None) -> None:
        n_groups, n_rows, n_cols = len(group_keys), len(rows), len(cols)
        cell = (group * n_rows + row) * n_cols + col
        person_code, person_index = pd.factorize(person)
        n_cells = n_groups * n_rows * n_cols
        self.groups_, self.rows_, self.cols_ = group_keys.reset_index(drop=True), rows, cols
        self.counts_ = np.bincount(cell, minlength=n_cells).reshape(n_groups, n_rows, n_cols)
        pc = sparse.csc_matrix((np.ones(len(cell)), (person_code, cell)), shape=(len(person_index), n_cells))
        self.n_persons_ = np.diff(pc.indptr).reshape(n_groups, n_rows, n_cols)
        n_row_keys = n_groups * n_rows
        person_rows = np.unique(person_code.astype("int64") * n_row_keys + cell // n_cols) % n_row_keys
        self.n_persons_row_ = np.bincount(person_rows, minlength=n_row_keys).reshape(n_groups, n_rows)
        self.n_persons_total_ = len(person_index)
        self.boot_counts_ = None
        if self.n_boot:
            stratum = None
            if strata is not None:
                stratum = pd.Series(strata).groupby(person_code).agg(["nunique", "first"])
                if (stratum["nunique"] > 1).any():
                    raise DataContractError(
                        f"strata must be constant within a person; {int((stratum['nunique'] > 1).sum())} persons "
                        f"have several values"
                    )
                stratum = pd.factorize(stratum["first"])[0]
            boot = citizen_bootstrap(person_code, cell, n_cells=n_cells, n_boot=self.n_boot, seed=self.seed,
                                     strata=stratum)
            self.boot_counts_ = boot.reshape(self.n_boot, n_groups, n_rows, n_cols)

    @staticmethod
    def _shares(counts: np.ndarray) -> np.ndarray:
        total = counts.sum(axis=-1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, counts / np.where(total > 0, total, 1), np.nan)

    def _interval(self, replicates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Percentile limits and the bootstrap standard error (empty rows stay NaN, quietly)."""
        with np.errstate(invalid="ignore"), _quiet_nan():
            low, high = percentile_interval(replicates, cl=self.cl)
            std_error = np.nanstd(replicates, axis=0, ddof=1)
        return low, high, std_error

    def _table(self) -> pd.DataFrame:
        """Groups, row, column, ``n``, row total, share, ``std_error``, ``conf_low``, ``conf_high``, ``n_persons``."""
        self._check_fitted()
        g, r, c = self.counts_.shape
        idx_g, idx_r, idx_c = np.unravel_index(np.arange(g * r * c), (g, r, c))
        out = self.groups_.iloc[idx_g].reset_index(drop=True)
        out[self._row_name] = pd.Categorical(np.asarray(self.rows_, dtype=object)[idx_r], categories=self.rows_,
                                             ordered=True)
        out[self._col_name] = pd.Categorical(np.asarray(self.cols_, dtype=object)[idx_c], categories=self.cols_,
                                             ordered=True)
        out["n"] = self.counts_.ravel()
        out[self._total_name] = self.counts_.sum(axis=-1, keepdims=True).repeat(c, axis=-1).ravel()
        out[self._share_name] = self._shares(self.counts_).ravel()
        if self.boot_counts_ is not None:
            low, high, std_error = self._interval(self._shares(self.boot_counts_))
            out["std_error"], out["conf_low"], out["conf_high"] = std_error.ravel(), low.ravel(), high.ravel()
        out["n_persons"] = self.n_persons_.ravel()
        return out

    def _group_index(self, where: Mapping) -> int:
        keys = self.groups_
        unknown = [k for k in where if k not in keys.columns]
        if unknown:
            raise ParameterError(f"{unknown} are not group columns; groups are {list(keys.columns)}")
        if set(where) != set(keys.columns):
            raise ParameterError(f"give a value for every group column {list(keys.columns)}; got {dict(where)}")
        mask = np.ones(len(keys), bool)
        for k, v in where.items():
            mask &= (keys[k] == v).to_numpy()
        if not mask.any():
            raise ParameterError(f"no group {dict(where)}; groups present: {keys.head(10).to_dict('records')}")
        return int(np.flatnonzero(mask)[0])

    def compare(self, by: str, a, b) -> pd.DataFrame:
        """Difference of shares between two values of one group column, with a bootstrap interval.

        Parameters
        ----------
        by : str
            A group column, e.g. ``"municipality_set"``.
        a, b : scalar
            The two values compared; the difference is share(a) - share(b).

        Returns
        -------
        DataFrame
            The other group columns, row and column labels, the shares of both groups (``prob_a``,
            ``prob_b`` for a transition matrix; ``share_a``, ``share_b`` for a flow), ``diff`` and,
            when fitted with a bootstrap, its ``std_error``, ``conf_low`` and ``conf_high`` (both
            groups are recomputed from the same resampled citizens, so their dependence is kept).
            The table carries no counts, so it has no disclosure declaration: hide a difference
            wherever either group's share is hidden (as
            :func:`progression.analyses.transitions.case_vs_rest` does).
        """
        self._check_fitted()
        if by not in self.groups_.columns:
            raise ParameterError(f"by={by!r} is not a group column; groups are {list(self.groups_.columns)}")
        others = [c for c in self.groups_.columns if c != by]
        keys = self.groups_
        ia = keys.index[keys[by] == a].to_numpy()
        ib = keys.index[keys[by] == b].to_numpy()
        for value, idx in ((a, ia), (b, ib)):
            if not len(idx):
                raise ParameterError(f"no group with {by} == {value!r}; values: {list(pd.unique(keys[by]))[:10]}")
        ka = keys.loc[ia, others].reset_index().rename(columns={"index": "ia"})
        kb = keys.loc[ib, others].reset_index().rename(columns={"index": "ib"})
        matched = ka.merge(kb, on=others) if others else pd.DataFrame({"ia": ia[:1], "ib": ib[:1]})
        share = self._shares(self.counts_)
        r, c = share.shape[1:]
        frames = []
        for row in matched.itertuples(index=False):
            diff = share[row.ia] - share[row.ib]
            frame = pd.DataFrame({
                self._row_name: np.repeat(self.rows_, c), self._col_name: np.tile(self.cols_, r),
                f"{self._share_name}_a": share[row.ia].ravel(), f"{self._share_name}_b": share[row.ib].ravel(),
                "diff": diff.ravel()})
            for col in others:
                frame.insert(0, col, getattr(row, col))
            if self.boot_counts_ is not None:
                reps = self._shares(self.boot_counts_[:, row.ia]) - self._shares(self.boot_counts_[:, row.ib])
                low, high, std_error = self._interval(reps)
                frame["std_error"], frame["conf_low"], frame["conf_high"] = std_error.ravel(), low.ravel(), high.ravel()
            frames.append(frame)
        out = pd.concat(frames, ignore_index=True)
        out.attrs.update({"by": by, "a": a, "b": b})
        return out


class _quiet_nan:
    """Silence numpy's all-NaN warnings inside nanquantile/nanstd (empty rows stay NaN)."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def _group_codes(frame: pd.DataFrame, groups: Sequence[str]) -> tuple[pd.DataFrame, np.ndarray]:
    if not groups:
        return pd.DataFrame(index=[0]), np.zeros(len(frame), dtype="int64")
    grouped = frame.groupby(list(groups), sort=True, observed=True, dropna=False)
    codes = grouped.ngroup().to_numpy()
    keys = grouped.size().reset_index()[list(groups)]
    return keys, codes


class TransitionMatrix(_RowShares):
    """Discrete-time transition probabilities p_ij = n_ij / n_i. with citizen-bootstrap intervals.

    Parameters
    ----------
    lag : int, default=1
        Periods between origin and destination.
    exits : {"absorbing", "drop"}, default="absorbing"
        Censoring events as destination columns, or pairs ending in one left out.
    n_boot : int, default=1000
        Bootstrap replicates (0: no intervals).
    cl : float, default=0.95
        Confidence level of the percentile intervals.
    seed : int or Generator, default=0
        Seed of the bootstrap.
    staircase : Staircase or StaircaseParams, optional
        Step order; defaults to the staircase of :class:`~progression.config.StaircaseParams`.

    Attributes
    ----------
    counts_ : ndarray of shape (n_groups, n_steps, n_to)
        Transition counts n_ij per group.
    boot_counts_ : ndarray of shape (n_boot, n_groups, n_steps, n_to) or None
        Counts in each bootstrap replicate.
    groups_ : DataFrame
        Group keys, one row per group (index = group position).
    rows_, cols_ : list of str
        From steps and destination states.
    n_persons_ : ndarray of shape (n_groups, n_steps, n_to)
        Distinct persons behind each cell (for disclosure control).
    n_persons_row_ : ndarray of shape (n_groups, n_steps)
        Distinct persons on each from step (``n_persons_from`` of :meth:`summary`).
    stairs_ : Staircase
        The staircase fitted with.
    period_ : str
        Period length of the panel.

    See Also
    --------
    CohortFlow : where a cohort on one step is found later.
    progression.transitions.projection.project_occupancy : the matrix applied to today's stock.

    Notes
    -----
    The bootstrap resamples citizens, not transitions: a citizen who stays on §108 for ten years
    adds ten correlated transitions, and resampling them as independent would understate the
    uncertainty (Davison & Hinkley 1997, section 3.8). The limits are percentiles of the replicates,
    ``std_error`` their standard deviation.

    References
    ----------
    Davison, A. C. & Hinkley, D. V. (1997). *Bootstrap Methods and their Application*. Cambridge
    University Press.

    Examples
    --------
    The women of the example data, written as an evaluator would (the table carries its disclosure
    declaration, so ``ctx.write_result("women_transitions", table)`` suppresses its small cells):

    >>> from progression.datasets import load_example
    >>> panel, persons = load_example("panel_year"), load_example("persons")
    >>> women = panel[panel["person_id"].isin(persons.loc[persons["sex"] == "K", "person_id"])]
    >>> tm = TransitionMatrix(n_boot=200, seed=1).fit(women)
    >>> table = tm.summary()
    >>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
    ['from_step', 'to_step', 'n', 'n_from', 'prob', 'std_error', 'conf_low', 'conf_high', 'n_persons',
     'n_persons_from', 'n_described']
    >>> from progression.disclosure import declaration_of
    >>> declaration_of(table).counts
    ('n_described', 'n_persons_from')
    >>> stay = tm.matrix().loc["SEL108", "SEL108"]
    >>> bool(0.8 < stay < 1)
    True
    """

    _total_name = "n_from"

    def __init__(self, *, lag: int = 1, exits: Exits = "absorbing", n_boot: int = 1000, cl: float = 0.95,
                 seed: int | np.random.Generator | None = 0, staircase=None):
        self.lag, self.exits, self.n_boot, self.cl, self.seed = lag, exits, n_boot, cl, seed
        self.staircase = staircase

    def fit(self, panel: pd.DataFrame, *, groups: Sequence[str] = (), strata: str | None = None,
            person_col: str = "person_id", period_col: str = "period", step_col: str = "step",
            status_col: str = "status", period: str | None = None) -> TransitionMatrix:
        """Count transitions and bootstrap them.

        Parameters
        ----------
        panel : DataFrame
            Person-period panel (:func:`progression.panel.build_panel`).
        groups : sequence of str
            Panel columns to estimate separate matrices for (value at the origin period), e.g.
            ``["municipality_set"]``, ``["target_group", "year"]``.
        strata : str, optional
            A person-level column; citizens are then resampled within its values.
        person_col, period_col, step_col, status_col : str
            Column names.
        period : {"month", "quarter", "year"}, optional
            Period length (default: ``panel.attrs["period"]`` or inferred).

        Returns
        -------
        TransitionMatrix
            ``self``, fitted.

        Raises
        ------
        DataContractError
            Missing columns, unknown steps or statuses, gaps in a person's periods, or no transitions.
        ParameterError
            Invalid settings.
        """
        check_bootstrap(self.n_boot, self.cl)
        stairs = as_staircase(self.staircase)
        extra = [c for c in [*groups, strata] if c]
        pairs = transition_pairs(panel, lag=self.lag, exits=self.exits, groups=list(dict.fromkeys(extra)),
                                 staircase=stairs, person_col=person_col, period_col=period_col,
                                 step_col=step_col, status_col=status_col, period=period)
        if pairs.empty:
            raise DataContractError("the panel has no transitions (no person observed in two periods lag apart)")
        keys, group = _group_codes(pairs, groups)
        self.stairs_ = stairs
        self.period_ = panel_period(panel, period, period_col)
        self._fit_counts(person=pairs[person_col].to_numpy(), group_keys=keys, group=group,
                         row=pairs["from_step"].cat.codes.to_numpy().astype("int64"),
                         col=pairs["to"].cat.codes.to_numpy().astype("int64"),
                         rows=list(stairs.steps), cols=_to_states(stairs, self.exits),
                         strata=pairs[strata].to_numpy() if strata else None)
        return self

    def summary(self) -> pd.DataFrame:
        """The tidy table of the fitted matrices, ready for disclosure control.

        Returns
        -------
        DataFrame
            Group columns, ``from_step``, ``to_step``, ``n`` (transitions), ``n_from`` (transitions
            from the step), ``prob``, with a bootstrap ``std_error``, ``conf_low`` and
            ``conf_high``, then ``n_persons`` (persons in the cell), ``n_persons_from`` (persons on
            the step) and ``n_described`` (the persons a cell describes: ``n_persons``, or
            ``n_persons_from`` for an empty cell). It carries :func:`matrix_declaration` (see the
            module docstring).
        """
        out = self._table()
        out["n_persons_from"] = np.repeat(self.n_persons_row_.ravel(), len(self.cols_))
        out["n_described"] = np.where(out["n"] > 0, out["n_persons"], out["n_persons_from"]).astype("int64")
        return _declared(out, matrix_declaration(list(self.groups_.columns)))

    def probabilities(self, **group) -> np.ndarray:
        """The matrix of probabilities (n_steps x n_to) of one group (no arguments without groups)."""
        self._check_fitted()
        return self._shares(self.counts_[self._pick(group)])

    def replicates(self, **group) -> np.ndarray:
        """Bootstrap replicates of the probability matrix of one group, shape (n_boot, n_steps, n_to)."""
        self._check_fitted()
        if self.boot_counts_ is None:
            raise ParameterError("fitted with n_boot=0: no bootstrap replicates")
        return self._shares(self.boot_counts_[:, self._pick(group)])

    def matrix(self, value: Literal["prob", "n", "std_error", "conf_low", "conf_high"] = "prob",
               **group) -> pd.DataFrame:
        """One group's matrix as a DataFrame: rows = from steps, columns = destination states.

        Parameters
        ----------
        value : {"prob", "n", "std_error", "conf_low", "conf_high"}
        **group
            The group's values, e.g. ``municipality_set="case"``.
        """
        self._check_fitted()
        g = self._pick(group)
        if value == "prob":
            data = self._shares(self.counts_[g])
        elif value == "n":
            data = self.counts_[g]
        elif value in ("std_error", "conf_low", "conf_high"):
            low, high, std_error = self._interval(self.replicates(**group))
            data = {"conf_low": low, "conf_high": high, "std_error": std_error}[value]
        else:
            raise ParameterError(f"value must be prob, n, std_error, conf_low or conf_high; got {value!r}")
        return pd.DataFrame(data, index=pd.Index(self.rows_, name="from_step"),
                            columns=pd.Index(self.cols_, name="to_step"))

    def _pick(self, group: Mapping) -> int:
        if not group and len(self.groups_.columns) == 0:
            return 0
        return self._group_index(group)


class CohortFlow(_RowShares):
    """Where a cohort on one step in one period is found k periods later.

    Categories: ``none`` (no service), ``lower``, ``same``, ``higher`` (relative to the start
    step's level), ``died``, ``emigrated``, ``moved`` (censoring before or in the end period). The
    cohort is everyone observed through the start period on ``from_step``; persons whose panel ends
    at the window end before the end period are left out.

    Parameters
    ----------
    from_step : str, default="SEL85"
        The cohort's step in the start period.
    start, stop : int, str or Timestamp
        Start and end periods (a year means its first period, 1 January).
    relabel : mapping, optional
        Category -> reported label; a label of None drops the category from numerator and
        denominator. :data:`progression.transitions.published.REPORT_GROUPING` groups them as
        Social- og Boligstyrelsen (2024) does.
    n_boot, cl, seed, staircase
        As in :class:`TransitionMatrix`.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> from progression.transitions.published import REPORT_GROUPING
    >>> flow = CohortFlow(from_step="SEL85", start=2020, stop=2022, relabel=REPORT_GROUPING, n_boot=0)
    >>> table = flow.fit(load_example("panel_year")).summary()
    >>> table["category"].astype(str).tolist()
    ['none_or_lower', 'same', 'higher']
    >>> print(f"{table['share'].sum():.2f}")
    1.00
    """

    _row_name = "from_step"
    _col_name = "category"
    _share_name = "share"
    _total_name = "n_cohort"

    def __init__(self, *, from_step: str = "SEL85", start=2020, stop=2022,
                 relabel: Mapping[str, str | None] | None = None, n_boot: int = 1000, cl: float = 0.95,
                 seed: int | np.random.Generator | None = 0, staircase=None):
        self.from_step, self.start, self.stop, self.relabel = from_step, start, stop, relabel
        self.n_boot, self.cl, self.seed, self.staircase = n_boot, cl, seed, staircase

    def fit(self, panel: pd.DataFrame, *, groups: Sequence[str] = (), strata: str | None = None,
            person_col: str = "person_id", period_col: str = "period", step_col: str = "step",
            status_col: str = "status", period: str | None = None) -> CohortFlow:
        """Classify the cohort's destinations and bootstrap the shares (arguments as in TransitionMatrix.fit).

        Returns
        -------
        CohortFlow
            ``self``, fitted.
        """
        check_bootstrap(self.n_boot, self.cl)
        stairs = as_staircase(self.staircase)
        stairs.check_steps([self.from_step], column="from_step")
        period = panel_period(panel, period, period_col)
        first, last = (period_number(pd.Series([_as_period_start(v, n)]), period)[0]
                       for v, n in ((self.start, "start"), (self.stop, "stop")))
        if last <= first:
            raise ParameterError(f"stop ({self.stop}) must be after start ({self.start})")
        extra = list(dict.fromkeys([*groups, *([strata] if strata else [])]))
        pairs = transition_pairs(panel, lag=int(last - first), exits="absorbing", groups=extra, staircase=stairs,
                                 person_col=person_col, period_col=period_col, step_col=step_col,
                                 status_col=status_col, period=period)
        at_start = period_number(pairs[period_col], period) == first
        pairs = pairs[at_start & (pairs["from_step"] == self.from_step).to_numpy()].reset_index(drop=True)
        if pairs.empty:
            raise DataContractError(
                f"no one on {self.from_step} in period {_as_period_start(self.start, 'start').date()} is followed to "
                f"{_as_period_start(self.stop, 'stop').date()}; check from_step, start and stop"
            )
        raw = np.array([stairs.move_category(self.from_step, str(t)) for t in pairs["to"].astype(str)], dtype=object)
        labels, cats = self._labels()
        label = pd.Series(raw).map(labels)
        kept = label.notna().to_numpy()
        pairs, label = pairs[kept].reset_index(drop=True), label[kept]
        keys, group = _group_codes(pairs, groups)
        self.stairs_ = stairs
        self._fit_counts(person=pairs[person_col].to_numpy(), group_keys=keys, group=group,
                         row=np.zeros(len(pairs), dtype="int64"),
                         col=pd.Categorical(label, categories=cats).codes.astype("int64"),
                         rows=[self.from_step], cols=cats, strata=pairs[strata].to_numpy() if strata else None)
        return self

    def _labels(self) -> tuple[dict[str, str | None], list[str]]:
        labels = {c: c for c in MOVE_CATEGORIES}
        if self.relabel:
            unknown = sorted(set(self.relabel) - set(MOVE_CATEGORIES))
            if unknown:
                raise ParameterError(f"relabel keys {unknown} are not categories {list(MOVE_CATEGORIES)}")
            labels.update(self.relabel)
        cats = list(dict.fromkeys(v for v in labels.values() if v is not None))
        return labels, cats

    def summary(self) -> pd.DataFrame:
        """The tidy table of the flow, ready for disclosure control.

        Returns
        -------
        DataFrame
            Group columns, ``from_step``, ``category``, ``n`` (persons in the category),
            ``n_cohort``, ``share``, with a bootstrap ``std_error``, ``conf_low`` and ``conf_high``,
            and ``n_persons``. It carries :func:`flow_declaration`.
        """
        return _declared(self._table(), flow_declaration(list(self.groups_.columns)))


def _as_period_start(value, name: str) -> pd.Timestamp:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return pd.Timestamp(int(value), 1, 1)
    try:
        return pd.Timestamp(value)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"{name} must be a year or a period start date; got {value!r}") from err


# -- grouping helpers ------------------------------------------------------------------------------
def label_municipalities(municipality: pd.Series, sets: Mapping[str, Iterable[int]], *,
                         other: str | None = "rest") -> pd.Series:
    """Label each municipality code with the name of its set (e.g. the four case municipalities).

    Parameters
    ----------
    municipality : Series of int
        DST kommunekoder.
    sets : mapping of str to iterable of int
        Set name -> codes, e.g. ``{"case": [265, 169, 657, 751]}``. A code may be in one set only.
    other : str or None, default="rest"
        Label of codes in no set (None leaves them missing).

    Returns
    -------
    Series
        Named ``municipality_set``, indexed like ``municipality``.

    Raises
    ------
    ParameterError
        When a code is in two sets.

    Examples
    --------
    >>> import pandas as pd
    >>> label_municipalities(pd.Series([265, 169, 101]), {"case": [265, 169, 657, 751]}).tolist()
    ['case', 'case', 'rest']
    """
    owner: dict[int, str] = {}
    for name, codes in sets.items():
        for code in codes:
            if code in owner:
                raise ParameterError(f"municipality {code} is in two sets: {owner[code]} and {name}")
            owner[int(code)] = name
    labels = municipality.map(owner)
    if other is not None:
        labels = labels.fillna(other)
    return labels.rename("municipality_set")


def add_person_columns(panel: pd.DataFrame, persons: pd.DataFrame, *, columns: Sequence[str] = (),
                       age_bands: Sequence[int] | None = None, person_col: str = "person_id",
                       period_col: str = "period") -> pd.DataFrame:
    """Add person-level columns (e.g. ``target_group``) and an age band per period to the panel.

    Parameters
    ----------
    panel, persons : DataFrame
        The panel and the ``persons`` table (``birth_year`` needed for age bands).
    columns : sequence of str
        Columns of ``persons`` to add.
    age_bands : sequence of int, optional
        Lower band limits, e.g. ``[18, 30, 50, 67]`` gives 18-29, 30-49, 50-66, 67+ (age = period
        year - birth year); ages below the first limit get a missing band.

    Returns
    -------
    DataFrame
        The panel (its ``attrs`` kept) with the columns and, when asked, ``age_band`` (categorical).

    Raises
    ------
    DataContractError
        When ``persons`` lacks a column.
    ParameterError
        When a column is already in the panel.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> panel = add_person_columns(load_example("panel_year"), load_example("persons"), columns=["sex"],
    ...                            age_bands=[18, 30, 50, 67])
    >>> panel[["person_id", "period", "step", "sex", "age_band"]].head(2)
       person_id     period   step sex age_band
    0          1 2010-01-01  SEL85   K    50-66
    1          1 2011-01-01  SEL85   K    50-66
    >>> transition_counts(panel, groups=["sex"]).shape
    (108, 6)
    """
    need = [*columns, *(["birth_year"] if age_bands is not None else [])]
    check_columns(persons, {c: c for c in [person_col, *need]}, name="persons")
    clash = [c for c in columns if c in panel.columns]
    if clash:
        raise ParameterError(f"columns {clash} are already in the panel")
    attrs = dict(panel.attrs)
    out = panel.merge(persons[[person_col, *dict.fromkeys(need)]], on=person_col, how="left", validate="m:1")
    if age_bands is not None:
        limits = sorted(int(a) for a in age_bands)
        labels = [f"{lo}-{hi - 1}" for lo, hi in zip(limits, limits[1:])] + [f"{limits[-1]}+"]
        age = out[period_col].dt.year - out["birth_year"]
        out["age_band"] = pd.cut(age, [*limits, np.inf], right=False, labels=labels)
        if "birth_year" not in columns:
            out = out.drop(columns="birth_year")
    out.attrs.update(attrs)
    return out
