"""The steps of notebook ``10_progression``: each returns a tidy table that carries its disclosure declaration.

The estimators live in :mod:`progression.recovery`; a step here stacks them over instruments and
groupings and declares what each numeric column of the result is (:func:`progression.disclosure.declare`),
so that ``ctx.write_result(name, table)`` suppresses small cells without further instructions. Group
statistics on fewer than ``min_group_size`` citizens are already set missing here (their counts are left
to disclosure control, which also hides small counts).

The last section compares estimates with the synthetic truth.

Examples
--------
>>> from progression.datasets import load_example
>>> assessments = load_example("assessments")
>>> table = reliability(assessments, ["QPR15"])
>>> from progression.disclosure import declaration_of
>>> declaration_of(table).counts
('n',)
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from progression._tidy import stream_seed
from progression._validation import check_columns
from progression.disclosure import declare, is_disclosed
from progression.exceptions import DataContractError, DisclosureError
from progression.recovery import (
    BOOTSTRAP_METHODS,
    CHANGE_CLASSES,
    InstrumentTrajectories,
    ReliableChange,
    add_context,
    bootstrap_shares,
    clinical_status_counts,
    domain_move_shares,
    domain_summary_by_group,
    get_instrument,
    group_mean_change,
    group_shares,
    move_change_table,
    municipality_comparison,
    reliability_table,
    step_move_ancova,
    vum_domain_moves,
    vum_ordinal_trend,
)
from progression.texts import code_label, format_text, text

__all__ = [
    "GROUPINGS",
    "reliability",
    "reliable_change",
    "pairing",
    "changes_in_context",
    "rci_histogram",
    "clinical",
    "shares_by",
    "mean_change_by",
    "target_groups_only",
    "bootstrap",
    "municipalities",
    "municipality_summary",
    "domain_moves",
    "vum_domains",
    "vum_domain_summary",
    "trajectories",
    "trajectory_coefficients",
    "trajectory_means",
    "trajectory_observed",
    "vum_ordinal",
    "step_moves",
    "move_classes",
    "phrases",
    "overall_phrases",
    "key_numbers",
    "truth_comparison",
    "truth_coverage",
]

#: Groupings of :func:`shares_by` and :func:`mean_change_by` ("all" is always added first).
GROUPINGS = ("target_group", "step", "year", "municipality")
#: Instruments whose reliability the report text says is estimated (they declare none).
UNDECLARED_RELIABILITY = ("WHO5", "INSPIRE_O")


def _mask(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Statistics of rows flagged ``suppress`` set missing; the flag dropped."""
    table.loc[table["suppress"], list(columns)] = np.nan
    return table.drop(columns="suppress")


def _by_instrument(changes: pd.DataFrame, compute) -> pd.DataFrame:
    """``compute(data)`` per instrument, stacked with an ``instrument`` column first."""
    frames = [compute(data).assign(instrument=instrument)
              for instrument, data in changes.groupby("instrument", sort=True)]
    out = pd.concat(frames, ignore_index=True)
    return out[["instrument"] + [c for c in out.columns if c != "instrument"]]


# --- reliability and change per citizen --------------------------------------------------------------

def reliability(assessments: pd.DataFrame, instruments: Sequence[str], *, prefer: str = "declared",
                cl: float = 0.95) -> pd.DataFrame:
    """Reliability per instrument (:func:`progression.recovery.reliability_table`), declared.

    ``n`` (citizens with every baseline item answered) is a count and alpha, its interval and the
    reliability used rest on it; ``k`` (items) and the declared reliability describe the instrument.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> reliability(assessments, ["WHO5", "QPR15"])[["instrument", "n", "alpha", "reliability"]].round(3)
      instrument     n  alpha  reliability
    0       WHO5  1390  0.853        0.853
    1      QPR15   756  0.906        0.890
    """
    table = reliability_table(assessments, instruments, prefer=prefer, cl=cl)
    return declare(table, counts="n", stats={c: "n" for c in ("alpha", "conf_low", "conf_high", "reliability")},
                   safe=["k", "declared"])  # safe: the number of items and a published reliability


def reliable_change(assessments: pd.DataFrame, reliability: pd.DataFrame, *, cutoffs: Mapping[str, str] | None = None,
                    critical: float = 1.96, follow_up_months: float = 12.0,
                    window_months: float = 3.0) -> ReliableChange:
    """The reliable change of every instrument with a reliability (:class:`progression.recovery.ReliableChange`).

    Returns the fitted estimator: its ``changes_`` (person level, never written) feed the later steps,
    :func:`pairing` writes its parameters.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> change
    ReliableChange(instruments=['QPR15'], n_paired=70)
    """
    return ReliableChange(critical=critical, follow_up_months=follow_up_months, window_months=window_months,
                          cutoffs=cutoffs).fit(assessments, reliability)


def pairing(change: ReliableChange) -> pd.DataFrame:
    """Pairing and reliable-change parameters per instrument, declared.

    ``n_baseline`` (citizens with a valid baseline) and ``n_paired`` are counts; the baseline SD, the
    reliability and the threshold rest on ``n_baseline``; the cut-off is a published value.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> pairing(change)[["instrument", "n_baseline", "n_paired", "threshold"]].round(2)
      instrument  n_baseline  n_paired  threshold
    0      QPR15         861        70       9.25
    """
    table = change.summary().drop(columns=["critical", "direction"])
    return declare(table, counts=["n_baseline", "n_paired"],
                   stats={c: "n_baseline" for c in ("sd_pre", "reliability", "threshold")},
                   safe="cutoff")  # safe: an instrument's declared clinical cut-off


def changes_in_context(change: ReliableChange, persons: pd.DataFrame, spells: pd.DataFrame, *,
                       staircase=None) -> pd.DataFrame:
    """Each paired citizen's change with its context (:func:`progression.recovery.add_context`): person level.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> changes = changes_in_context(change, persons, spells)
    >>> changes["move"].value_counts().sort_index().to_dict()
    {'down': 6, 'same': 62, 'up': 2}
    """
    return add_context(change.changes_, persons, spells, staircase=staircase)


def rci_histogram(changes: pd.DataFrame, *, limit: float = 6.0, width: float = 0.5) -> pd.DataFrame:
    """Citizens per bin of the reliable change index, per instrument (values beyond ± ``limit`` in the end bins).

    Returns
    -------
    DataFrame
        ``instrument``, ``bin_low``, ``bin_high``, ``n``; declared with ``n`` a count whose
        bins add up to the instrument's paired citizens (a shown margin, so a lone hidden bin takes a
        second one with it).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> histogram = rci_histogram(change.changes_)
    >>> int(histogram["n"].sum()), len(histogram)
    (70, 24)
    """
    check_columns(changes, ["instrument", "rci"], name="changes")
    edges = np.arange(-limit, limit + width / 2, width)

    def histogram(data):
        counts, _ = np.histogram(data["rci"].dropna().clip(-limit, limit), bins=edges)
        return pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:], "n": counts})

    table = _by_instrument(changes, histogram)
    return declare(table, counts="n", margins={"n": ["instrument"]}, labels=["bin_low", "bin_high"])


def clinical(changes: pd.DataFrame, change: ReliableChange) -> pd.DataFrame:
    """Citizens by Jacobson-Truax clinical status (:func:`progression.recovery.clinical_status_counts`), declared.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> change = reliable_change(assessments, reliability(assessments, ["WHO5"]),
    ...                          cutoffs={"WHO5": "poor_wellbeing"})
    >>> clinical(change.changes_, change)[["clinical_status", "n", "count", "count_below"]]
      clinical_status    n  count  count_below
    0       recovered  246     20           20
    1        improved  246      8            4
    2       unchanged  246    188           92
    3    deteriorated  246     30            2
    """
    table = clinical_status_counts(changes, change.summary())
    return declare(table, counts=["n", "count", "n_below", "count_below"],
                   stats={"share": "count", "share_below": "count_below"},
                   margins={"count": ["instrument"], "count_below": ["instrument"]})


# --- group level ----------------------------------------------------------------------------------------

def _by_grouping(changes: pd.DataFrame, groupings: Sequence[str], compute) -> pd.DataFrame:
    frames = []
    for grouping in ["all", *groupings]:
        if grouping != "all":
            check_columns(changes, {"groupings": grouping}, name="changes")
        for instrument, data in changes.groupby("instrument", sort=True):
            if grouping == "all":
                t = compute(data, None).assign(group="all")
            else:
                t = compute(data, grouping).rename(columns={grouping: "group"})
                t["group"] = t["group"].astype(str)
            frames.append(t.assign(instrument=instrument, grouping=grouping))
    out = pd.concat(frames, ignore_index=True)
    keys = ["instrument", "grouping", "group"]
    return out[keys + [c for c in out.columns if c not in keys]]


def shares_by(changes: pd.DataFrame, groupings: Sequence[str] = GROUPINGS, *, cl: float = 0.95,
              min_group_size: int = 5) -> pd.DataFrame:
    """Shares progressing / maintaining / degressing (Wilson intervals), all citizens and per grouping.

    Returns
    -------
    DataFrame
        ``instrument``, ``grouping`` ("all" or a grouping column), ``group``, ``change_class``, ``n``,
        ``count``, ``share``, ``conf_low``, ``conf_high``; declared with the shares resting on ``count``,
        whose classes add up to a group's ``n`` and whose groups add up per class.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> changes = changes_in_context(change, persons, spells)
    >>> shares = shares_by(changes, ["target_group"])
    >>> shares[shares["grouping"] == "all"][["change_class", "n", "count", "share"]].round(3)
      change_class   n  count  share
    0  progression  70      8  0.114
    1  maintenance  70     49  0.700
    2   degression  70     13  0.186
    """
    out = _by_grouping(changes, groupings, lambda d, by: group_shares(d, by=by, cl=cl, min_group_size=min_group_size))
    out = _mask(out, ["share", "conf_low", "conf_high"])
    return declare(out, counts=["n", "count"], stats={c: "count" for c in ("share", "conf_low", "conf_high")},
                   margins={"count": ["instrument", "grouping", "group"],
                            "n": ["instrument", "grouping", "change_class"]})


def mean_change_by(changes: pd.DataFrame, groupings: Sequence[str] = GROUPINGS, *, cl: float = 0.95,
                   min_group_size: int = 5) -> pd.DataFrame:
    """Mean change (follow-up minus baseline) with a t interval, all citizens and per grouping.

    Returns
    -------
    DataFrame
        ``instrument``, ``grouping``, ``group``, ``n``, ``estimate`` (the mean change), ``std_error``,
        ``conf_low``, ``conf_high``; the statistics rest on ``n``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> changes = changes_in_context(change, persons, spells)
    >>> mean_change_by(changes, ["target_group"])[["group", "n", "estimate"]].round(2)
                    group   n  estimate
    0                 all  70     -0.99
    1               begge   5      2.40
    2  kognitivt_handicap  39     -0.05
    3        sindslidelse  26     -3.04
    """
    out = _by_grouping(changes, groupings,
                       lambda d, by: group_mean_change(d, by=by, cl=cl, min_group_size=min_group_size))
    stats = ["estimate", "std_error", "conf_low", "conf_high"]
    out = _mask(out, stats)
    return declare(out, counts="n", stats={c: "n" for c in stats}, margins={"n": ["instrument", "grouping"]})


def target_groups_only(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of all citizens and of each target group (the declaration travels with them).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> changes = changes_in_context(change, persons, spells)
    >>> shares = shares_by(changes, ["target_group", "step"])
    >>> sorted(target_groups_only(shares)["grouping"].unique())
    ['all', 'target_group']
    """
    return table[table["grouping"].isin(["all", "target_group"])]


def bootstrap(assessments: pd.DataFrame, changes: pd.DataFrame, change: ReliableChange, reliability: pd.DataFrame,
              *, n_boot: int = 200, seed: int = 0, cl: float = 0.95, min_group_size: int = 5) -> pd.DataFrame:
    """Shares by target group with bootstrap intervals that re-estimate the threshold, side by side.

    :func:`progression.recovery.bootstrap_shares` (alpha re-estimated in each replicate for the
    instruments whose reliability is Cronbach's alpha from these data), one row per group and class:
    ``rci_share`` (reliable change in the observed scores) and ``latent_share`` (true change beyond the
    threshold), each with ``_conf_low`` / ``_conf_high``. The reliable-change shares rest on ``count``
    (the class's citizens), the latent shares on ``n`` (the group's). ``seed`` is the run's seed: the
    resamples come from its named stream ``progression.bootstrap``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> changes = changes_in_context(change, persons, spells)
    >>> table = bootstrap(assessments, changes, change, reliability(assessments, ["QPR15"]), n_boot=20, seed=1)
    >>> list(table.columns[6:])
    ['rci_share', 'rci_conf_low', 'rci_conf_high', 'latent_share', 'latent_conf_low', 'latent_conf_high']
    """
    estimated = dict(zip(reliability["instrument"], reliability["source"].str.startswith("Cronbach")))
    long = bootstrap_shares(assessments, changes, change.summary(), estimated=estimated, n_boot=n_boot,
                            seed=stream_seed(seed, "progression.bootstrap"), cl=cl, min_group_size=min_group_size)
    keys = ["instrument", "grouping", "group", "change_class", "n", "count"]
    parts = [long[long["method"] == m].reset_index(drop=True) for m in BOOTSTRAP_METHODS]
    wide = parts[0][keys].copy()
    for method, part in zip(BOOTSTRAP_METHODS, parts):
        wide[f"{method}_share"] = part["estimate"]
        wide[f"{method}_conf_low"] = part["conf_low"]
        wide[f"{method}_conf_high"] = part["conf_high"]
    stats = {f"rci_{c}": "count" for c in ("share", "conf_low", "conf_high")}
    stats.update({f"latent_{c}": "n" for c in ("share", "conf_low", "conf_high")})
    return declare(wide, counts=["n", "count"], stats=stats, margins={"count": ["instrument", "grouping", "group"]})


# --- municipalities -----------------------------------------------------------------------------------

def municipalities(changes: pd.DataFrame, *, within: str = "target_group", min_group_size: int = 5) -> pd.DataFrame:
    """Municipalities compared within target groups (:func:`progression.recovery.municipality_comparison`), declared.

    The share progressing and the funnel flags rest on ``count``; the shrunk share and its interval on
    ``count`` and ``n`` (given the fitted prior, the shrunk share reveals the count); the funnel limits,
    the mean change and its shrunk value on ``n``; the national share on ``count_target``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> changes = changes_in_context(change, persons, spells)
    >>> table = municipalities(changes)
    >>> from progression.disclosure import declaration_of
    >>> declaration_of(table).stats["shrunk_share"]
    ('count', 'n')
    """
    table = municipality_comparison(changes, within=within, min_group_size=min_group_size).drop(columns="suppress")
    outside = [c for c in table.columns if c.startswith("outside_")]
    limits = [c for c in table.columns if c.startswith(("lower_", "upper_"))]
    shrunk = ["shrunk_share", "shrunk_conf_low", "shrunk_conf_high"]
    on_n = [*limits, "mean_change", "shrunk_mean", "shrunk_mean_conf_low", "shrunk_mean_conf_high"]
    stats = {"share": "count", **{c: "count" for c in outside}, **{c: ["count", "n"] for c in shrunk},
             **{c: "n" for c in on_n if c in table.columns}, "target": "count_target"}
    return declare(table, counts=["n", "count", "n_target", "count_target"], stats=stats,
                   margins={"n": ["instrument", within], "count": ["instrument", within]},
                   labels="municipality")


def municipality_summary(comparison: pd.DataFrame, *, within: str = "target_group") -> pd.DataFrame:
    """Per instrument and group: municipalities compared, shown, outside the funnel limits; national share.

    ``comparison`` is the *disclosed* :func:`municipalities` table (``shown`` counts the municipalities
    whose share was not suppressed).

    Returns
    -------
    DataFrame
        ``instrument``, ``within``, ``municipalities``, ``shown``, ``hidden``, ``outside_95``,
        ``outside_99_8``, ``n_target``, ``count_target``, ``national``, ``little_variation``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> changes = changes_in_context(change, persons, spells)
    >>> from progression.disclosure import mark_disclosed, suppress
    >>> shown, _ = suppress(municipalities(changes), table_name="municipalities", min_cell_size=5)
    >>> summary = municipality_summary(mark_disclosed(shown, "municipalities"))
    >>> summary[["target_group", "municipalities", "shown", "hidden"]]
             target_group  municipalities  shown  hidden
    0               begge               5      0       5
    1  kognitivt_handicap              13      0      13
    2        sindslidelse              13      1      12
    """
    _check_disclosed(comparison, "municipality_summary")
    outside = [c for c in comparison.columns if c.startswith("outside_")]
    agg = {"municipalities": ("municipality", "size"), "shown": ("share", "count"),
           **{c.replace(".", "_"): (c, "sum") for c in outside},
           "n_target": ("n_target", "first"), "count_target": ("count_target", "first"),
           "national": ("target", "first"),
           "little_variation": ("little_variation", "first")}
    out = comparison.groupby(["instrument", within], sort=True).agg(**agg).reset_index()
    out.insert(4, "hidden", out["municipalities"] - out["shown"])
    # safe: numbers of municipalities (compared, shown, hidden, outside a limit), read off the disclosed table
    return declare(out, counts=["n_target", "count_target"], stats={"national": "count_target"},
                   safe=["municipalities", "shown", "hidden", *[c.replace(".", "_") for c in outside]])


# --- VUM domains ------------------------------------------------------------------------------------------

def domain_moves(assessments: pd.DataFrame, *, follow_up_months: float = 12.0,
                 window_months: float = 3.0) -> pd.DataFrame:
    """VUM moves per citizen and domain (:func:`progression.recovery.vum_domain_moves`): person level.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> moves = domain_moves(assessments)
    >>> moves["move"].value_counts().to_dict()
    {'same': 2617, 'improved': 1748, 'worse': 1672}
    """
    return vum_domain_moves(assessments, follow_up_months=follow_up_months, window_months=window_months)


def vum_domains(moves: pd.DataFrame, *, min_group_size: int = 5) -> pd.DataFrame:
    """Citizens by move per VUM domain (:func:`progression.recovery.domain_move_shares`), declared.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> vum_domains(domain_moves(assessments)).iloc[:3][["domain", "move", "n", "count"]]
           domain      move     n  count
    0  egenomsorg  improved  1073    305
    1  egenomsorg      same  1073    481
    2  egenomsorg     worse  1073    287
    """
    table = domain_move_shares(moves, min_group_size=min_group_size)
    return declare(table, counts=["n", "count"], stats={"share": "count"}, margins={"count": ["domain"]})


def vum_domain_summary(moves: pd.DataFrame, persons: pd.DataFrame, *, min_group_size: int = 5) -> pd.DataFrame:
    """The VUM domain-summary score by target group (:func:`progression.recovery.domain_summary_by_group`), declared.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> vum_domain_summary(domain_moves(assessments), persons)[["target_group", "n", "n_progression"]]
             target_group     n  n_progression
    0                 all  1141            498
    1               begge   104             50
    2  kognitivt_handicap   576            238
    3        sindslidelse   461            210
    """
    groups = persons.set_index("person_id")["target_group"]
    table = domain_summary_by_group(moves, groups, min_group_size=min_group_size)
    counts = [f"n_{c}" for c in CHANGE_CLASSES]
    return declare(table, counts=["n", *counts],
                   stats={"mean_net_improved": "n", "mean_level_change": "n",
                          **{c.replace("n_", "share_"): c for c in counts}})


# --- trajectories -------------------------------------------------------------------------------------------

def trajectories(assessments: pd.DataFrame, persons: pd.DataFrame, spells: pd.DataFrame, *,
                 instruments: Sequence[str], staircase=None, max_years: float = 10.0, max_persons: int | None = None,
                 seed: int = 0) -> InstrumentTrajectories:
    """One growth model per instrument (:class:`progression.recovery.InstrumentTrajectories`), fitted.

    ``seed`` is the run's seed: the samples of ``max_persons`` citizens come from its named stream
    ``progression.trajectories``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> fits = trajectories(assessments, persons, spells, instruments=["WHO5"], max_persons=200)
    >>> fits
    InstrumentTrajectories(WHO5: TrajectoryModel(n_obs=394, n_persons=200))
    """
    return InstrumentTrajectories(instruments=instruments, max_years=max_years, max_persons=max_persons,
                                  seed=stream_seed(seed, "progression.trajectories")).fit(
        assessments, persons, spells, staircase=staircase)


def trajectory_coefficients(fits: InstrumentTrajectories) -> pd.DataFrame:
    """Fixed effects and variance components per instrument, the statistics resting on ``n_persons``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> fits = trajectories(assessments, persons, spells, instruments=["WHO5"], max_persons=200)
    >>> trajectory_coefficients(fits).query("kind == 'fixed'")[["term", "n_persons"]]
            term  n_persons
    0  intercept        200
    1      years        200
    """
    stats = ["estimate", "std_error", "conf_low", "conf_high"]
    return declare(fits.summary(), counts=["n_persons", "n_obs"], stats={c: "n_persons" for c in stats})


def trajectory_means(fits: InstrumentTrajectories) -> pd.DataFrame:
    """The model mean per instrument over years since start, resting on the citizens fitted (``n_persons``).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> fits = trajectories(assessments, persons, spells, instruments=["WHO5"], max_persons=200)
    >>> trajectory_means(fits)[["time", "estimate"]].iloc[[0, -1]].round(1)
        time  estimate
    0    0.0      46.9
    40  10.0      52.8
    """
    return declare(fits.mean_trajectory(), counts="n_persons",
                   stats={c: "n_persons" for c in ("estimate", "conf_low", "conf_high")}, labels="time")


def trajectory_observed(fits: InstrumentTrajectories, *, min_group_size: int = 5) -> pd.DataFrame:
    """Observed mean scores per year since start, resting on the citizens of the year (``n``).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> fits = trajectories(assessments, persons, spells, instruments=["WHO5"], max_persons=200)
    >>> trajectory_observed(fits)[["time", "n", "estimate"]].iloc[:2].round(1)
       time   n  estimate
    0   0.5  58      48.9
    1   1.5  48      48.8
    """
    table = fits.observed_means(min_group_size=min_group_size)
    return declare(table, counts=["n", "n_obs"], stats={c: "n" for c in ("estimate", "conf_low", "conf_high")},
                   labels="time")


def vum_ordinal(assessments: pd.DataFrame, persons: pd.DataFrame, spells: pd.DataFrame, *, staircase=None,
                max_years: float = 10.0, max_persons: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Proportional-odds model of VUM domain levels over years (:func:`progression.recovery.vum_ordinal_trend`).

    ``seed`` is the run's seed: the sample of ``max_persons`` citizens comes from its named stream
    ``progression.vum_ordinal``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> table = vum_ordinal(assessments, persons, spells, max_persons=200)
    >>> table[table["term"] == "years"][["estimate", "n_persons"]].round(3)
       estimate  n_persons
    5    -0.034        200
    """
    table = vum_ordinal_trend(assessments, persons, spells, staircase=staircase, max_years=max_years,
                              max_persons=max_persons, seed=stream_seed(seed, "progression.vum_ordinal"))
    stats = ["estimate", "std_error", "conf_low", "conf_high", "statistic", "p_value"]
    return declare(table, counts=["n_persons", "n_obs"], stats={c: "n_persons" for c in stats})


# --- moves on the staircase -------------------------------------------------------------------------------

def step_moves(changes: pd.DataFrame, *, cl: float = 0.95, min_group_size: int = 5) -> pd.DataFrame:
    """Baseline-adjusted change by staircase move (down / same / up) per instrument (ANCOVA), declared.

    :func:`progression.recovery.step_move_ancova` per instrument; instruments without citizens in the
    reference group "same" and one other move group are left out. Every statistic rests on ``n``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> changes = changes_in_context(change, persons, spells)
    >>> step_moves(changes)[["instrument", "move", "n", "effect"]].round(2)
      instrument  move   n  effect
    0      QPR15  down   6    4.78
    1      QPR15  same  62    0.00
    2      QPR15    up   2     NaN
    """
    frames = []
    for instrument, data in changes.groupby("instrument", sort=True):
        try:
            t = step_move_ancova(data.drop(columns="move"), data[["person_id", "move"]], cl=cl)
        except DataContractError:
            continue
        frames.append(t.assign(instrument=instrument, baseline_slope=t.attrs["baseline_slope"]))
    out = pd.concat(frames, ignore_index=True)
    out["suppress"] = out["n"] < min_group_size
    stats = [c for c in out.columns if c not in ("instrument", "move", "n", "suppress")]
    out = _mask(out, [c for c in stats if c != "baseline_slope"])
    out = out[["instrument"] + [c for c in out.columns if c != "instrument"]]
    return declare(out, counts="n", margins={"n": ["instrument"]}, stats={c: "n" for c in stats})


def move_classes(changes: pd.DataFrame) -> pd.DataFrame:
    """Citizens by staircase move and change class per instrument, with the share of each move group.

    Returns
    -------
    DataFrame
        ``instrument``, ``move``, ``change_class``, ``n`` (citizens in the move group), ``count``,
        ``share``; declared with the share resting on ``count``.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> changes = changes_in_context(change, persons, spells)
    >>> move_classes(changes).query("move == 'same'")[["change_class", "n", "count"]]
      change_class   n  count
    3  progression  62      5
    4  maintenance  62     45
    5   degression  62     12
    """
    def crossed(data):
        table = move_change_table(data.drop(columns="move"), data[["person_id", "move"]], normalize=False)
        long = table.stack().rename("count").reset_index()
        long["n"] = long.groupby("move")["count"].transform("sum")
        return long

    out = _by_instrument(changes, crossed)
    out["share"] = out["count"] / out["n"].where(out["n"] > 0)
    out = out[["instrument", "move", "change_class", "n", "count", "share"]]
    return declare(out, counts=["n", "count"], stats={"share": "count"},
                   margins={"count": ["instrument", "move"], "n": ["instrument", "change_class"]})


# --- report text and key numbers --------------------------------------------------------------------------

def _check_disclosed(table, what: str) -> None:
    if not is_disclosed(table):
        raise DisclosureError(f"{what} takes tables that passed disclosure control: pass what ctx.write_result "
                              "(or ctx.result) returned")


def phrases(table: pd.DataFrame, key: str, *, language: str = "en", sep: str = "; ", **where) -> str:
    """The text ``key`` (section ``texts``) formatted with each row of a disclosed table, joined by ``sep``.

    Rows where a value the text uses was suppressed are left out; ``where`` keeps the rows whose column
    holds one of the values given (``instrument=["WHO5", "INSPIRE_O"]``).

    Raises
    ------
    DisclosureError
        When ``table`` did not pass disclosure control.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> from progression.disclosure import mark_disclosed, suppress
    >>> table, _ = suppress(reliability(assessments, ["WHO5"]), table_name="reliability", min_cell_size=5)
    >>> phrases(mark_disclosed(table, "reliability"), "progression_alpha_item")
    'WHO-5 α = 0.85 (0.84–0.87)'
    """
    _check_disclosed(table, "phrases")
    rows = table
    for column, values in where.items():
        rows = rows[rows[column].isin(values if isinstance(values, (list, tuple)) else [values])]
    return _format_rows(rows, key, language, sep)


def _format_rows(rows: pd.DataFrame, key: str, language: str, sep: str) -> str:
    template = text("texts", key, language=language)
    fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
    rows = rows.dropna(subset=[f for f in fields if pd.api.types.is_numeric_dtype(rows[f])])
    return sep.join(format_text(template, language=language, **{
        k: code_label(v, k, language=language) if isinstance(v, str) else v for k, v in r.items()})
        for r in rows[fields].to_dict("records"))


def overall_phrases(shares: pd.DataFrame, pairing: pd.DataFrame, *, language: str = "en") -> str:
    """Per instrument, the shares of all citizens progressing and degressing with the citizens paired.

    Both tables must be disclosed (:func:`shares_by` and :func:`pairing` after ``ctx.write_result``).

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> change = reliable_change(assessments, reliability(assessments, ["QPR15"]))
    >>> changes = changes_in_context(change, persons, spells)
    >>> from progression.disclosure import mark_disclosed, suppress
    >>> shares, _ = suppress(shares_by(changes, []), table_name="shares", min_cell_size=5)
    >>> paired, _ = suppress(pairing(change), table_name="pairing", min_cell_size=5)
    >>> overall_phrases(mark_disclosed(shares, "shares"), mark_disclosed(paired, "pairing"))
    'QPR-15: 11% progressed and 19% degressed (n = 70)'
    """
    _check_disclosed(shares, "overall_phrases")
    _check_disclosed(pairing, "overall_phrases")
    overall = shares[shares["grouping"] == "all"].pivot(index="instrument", columns="change_class", values="share")
    table = pairing.set_index("instrument")[["n_paired"]].join(overall, how="inner").reset_index()
    return _format_rows(table, "progression_overall_item", language, "; ")


def key_numbers(pairing: pd.DataFrame, shares: pd.DataFrame, reliability: pd.DataFrame, coefficients: pd.DataFrame,
                step_moves: pd.DataFrame, coverage: pd.DataFrame | None = None) -> dict:
    """Key numbers from disclosed tables, declared: counts, and statistics with the counts they rest on.

    Per instrument: ``n_paired_<i>``; ``share_<class>_<i>`` (all citizens; rests on ``n_paired_<i>``);
    ``alpha_<i>`` (rests on ``n_alpha_<i>``); ``slope_per_year_<i>`` of the growth model (rests on
    ``n_trajectory_<i>``); ``effect_<move>_<i>``, the baseline-adjusted effect of moving down or up
    (rests on ``n_<move>_<i>`` and ``n_same_<i>``); with a truth comparison ``truth_covered_<quantity>``.
    Suppressed values are left out.
    """
    for table in (pairing, shares, reliability, coefficients, step_moves):
        _check_disclosed(table, "key_numbers")
    key, counts, stats, safe = {}, [], {}, []

    def add(name, value, digits=None, rests_on=None, kind="count"):
        if value is None or not np.isfinite(value):
            return
        key[name] = int(value) if digits is None else round(float(value), digits)
        if kind == "safe":
            safe.append(name)
        elif rests_on is None:
            counts.append(name)
        else:
            stats[name] = rests_on

    paired = pairing.set_index("instrument")["n_paired"]
    for instrument, n in paired.items():
        add(f"n_paired_{instrument}", n)
    overall = shares[shares["grouping"] == "all"].set_index(["instrument", "change_class"])["share"]
    for instrument in paired.index:
        for cls in ("progression", "degression"):
            if (instrument, cls) in overall and f"n_paired_{instrument}" in key:
                add(f"share_{cls}_{instrument}", overall[(instrument, cls)], 4, f"n_paired_{instrument}")
    for row in reliability.itertuples(index=False):
        add(f"n_alpha_{row.instrument}", row.n)
        if f"n_alpha_{row.instrument}" in key:
            add(f"alpha_{row.instrument}", row.alpha, 3, f"n_alpha_{row.instrument}")
    slopes = coefficients[(coefficients["kind"] == "fixed") & (coefficients["term"] == "years")]
    for row in slopes.itertuples(index=False):
        add(f"n_trajectory_{row.instrument}", row.n_persons)
        if f"n_trajectory_{row.instrument}" in key:
            add(f"slope_per_year_{row.instrument}", row.estimate, 4, f"n_trajectory_{row.instrument}")
    for row in step_moves.itertuples(index=False):
        add(f"n_{row.move}_{row.instrument}", row.n)
    for row in step_moves[step_moves["move"] != "same"].itertuples(index=False):
        bases = [f"n_{row.move}_{row.instrument}", f"n_same_{row.instrument}"]
        if all(b in key for b in bases):
            add(f"effect_{row.move}_{row.instrument}", row.effect, 3, bases)
    if coverage is not None:
        _check_disclosed(coverage, "key_numbers")
        for row in coverage.itertuples(index=False):
            # safe: the share of comparisons with the synthetic truth whose interval covers it (no person)
            add(f"truth_covered_{row.quantity}", row.covered, 3, kind="safe")
    return declare(dict(sorted(key.items())), counts=counts, stats=stats, safe=safe)


# --- comparisons with the synthetic truth ------------------------------------------------------------------

def truth_comparison(shares: pd.DataFrame, mean_change: pd.DataFrame, truth: dict) -> pd.DataFrame:
    """Estimates set against the synthetic generator's truth (``truth["assessments"]["realised"]``).

    Three comparisons per instrument:

    * ``rci_share``: shares classified by the reliable change index against the truth's
      ``observed_shares`` - the same classification made with the realised reliability and s_pre;
    * ``latent_share``: shares of true change beyond the threshold against ``true_shares``;
    * ``mean_change``: mean observed change (all citizens) against the mean true change, converted from
      the raw to the reported scale.

    Parameters
    ----------
    shares : DataFrame
        The disclosed :func:`bootstrap` table (``group`` "all" or a target group).
    mean_change : DataFrame
        The disclosed :func:`mean_change_by` table (its "all" rows are used).
    truth : dict
        The generating truth (``ctx.truth()``).

    Returns
    -------
    DataFrame
        ``instrument``, ``group``, ``quantity``, ``change_class``, ``n``, ``n_cell`` (citizens the
        estimate reveals: the class count for a reliable-change share, else ``n``), ``estimate``,
        ``conf_low``, ``conf_high``, ``n_truth``, ``truth`` and ``covered`` (truth inside the interval);
        declared with the estimates and the truth resting on ``n_cell``.

    Examples
    --------
    >>> from progression.datasets import example_truth, load_example
    >>> from progression.disclosure import mark_disclosed, suppress
    >>> assessments = load_example("assessments")
    >>> persons, spells = load_example("persons"), load_example("spells")
    >>> rel = reliability(assessments, ["QPR15"])
    >>> change = reliable_change(assessments, rel)
    >>> changes = changes_in_context(change, persons, spells)
    >>> boot, _ = suppress(bootstrap(assessments, changes, change, rel, n_boot=20), table_name="boot", min_cell_size=5)
    >>> means, _ = suppress(mean_change_by(changes, ["target_group"]), table_name="means", min_cell_size=5)
    >>> out = truth_comparison(mark_disclosed(boot, "boot"), mark_disclosed(means, "means"), example_truth())
    >>> out.groupby("quantity").size().to_dict()
    {'latent_share': 12, 'mean_change': 1, 'rci_share': 12}
    """
    _check_disclosed(shares, "truth_comparison")
    _check_disclosed(mean_change, "truth_comparison")
    realised = truth["assessments"]["realised"]
    rows = []
    for r in shares.to_dict("records"):
        entry = realised.get(r["instrument"], {}).get("by_group", {}).get(r["group"])
        if entry is None:
            continue
        common = {"instrument": r["instrument"], "group": r["group"], "change_class": r["change_class"], "n": r["n"],
                  "n_truth": entry["n_pairs"]}
        for quantity, n_cell, key in (("rci", r["count"], "observed_shares"), ("latent", r["n"], "true_shares")):
            rows.append({**common, "quantity": f"{quantity}_share", "n_cell": n_cell,
                         "estimate": r[f"{quantity}_share"],
                         "conf_low": r[f"{quantity}_conf_low"], "conf_high": r[f"{quantity}_conf_high"],
                         "truth": entry[key][r["change_class"]]})
    for r in mean_change[mean_change["grouping"] == "all"].itertuples(index=False):
        if r.instrument not in realised:
            continue
        ins = get_instrument(r.instrument)
        factor = float(ins.scale_raw(np.array([1.0]))[0] - ins.scale_raw(np.array([0.0]))[0])
        rows.append({"instrument": r.instrument, "group": "all", "change_class": None, "n": r.n,
                     "n_truth": realised[r.instrument]["n_pairs"], "quantity": "mean_change", "n_cell": r.n,
                     "estimate": r.estimate, "conf_low": r.conf_low, "conf_high": r.conf_high,
                     "truth": factor * realised[r.instrument]["true_change"]["mean"]})
    cols = ["instrument", "group", "quantity", "change_class", "n", "n_cell", "estimate", "conf_low", "conf_high",
            "n_truth", "truth"]
    out = pd.DataFrame(rows)[cols].sort_values(["quantity", "instrument", "group"], kind="stable", ignore_index=True)
    covered = (out["conf_low"] <= out["truth"]) & (out["truth"] <= out["conf_high"])
    out["covered"] = covered.astype("boolean").mask(out["conf_low"].isna() | out["conf_high"].isna())
    return declare(out, counts=["n", "n_cell", "n_truth"],
                   stats={c: "n_cell" for c in ("estimate", "conf_low", "conf_high", "truth")})


def truth_coverage(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per quantity, the share of comparisons whose 95 % interval covers the truth (disclosed comparison).

    Returns
    -------
    DataFrame
        ``quantity``, ``what`` (its name in words), ``comparisons``, ``covered``; declared safe: they count
        and average comparisons of estimates with the synthetic truth, not persons.

    Examples
    --------
    >>> import pandas as pd
    >>> from progression.disclosure import mark_disclosed
    >>> comparison = pd.DataFrame({"quantity": ["rci_share"] * 3 + ["mean_change"],
    ...                            "covered": [True, True, False, True]})
    >>> truth_coverage(mark_disclosed(comparison, "truth"))
          quantity         what  comparisons   covered
    0  mean_change  mean change            1  1.000000
    1    rci_share    rci share            3  0.666667
    """
    _check_disclosed(comparison, "truth_coverage")
    known = comparison.dropna(subset=["covered"])
    out = known.groupby("quantity")["covered"].agg(comparisons="size", covered="mean").reset_index()
    out["covered"] = out["covered"].astype(float)
    out.insert(1, "what", out["quantity"].str.replace("_", " "))
    return declare(out, safe=["comparisons", "covered"])  # safe: about comparisons, not persons
