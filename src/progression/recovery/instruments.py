"""Instrument registry and item scoring for progression instruments.

Each instrument is declared by a configuration of one shape (a dict, e.g. read from YAML) and turned into
an :class:`Instrument` by :meth:`Instrument.from_config`, which names the offending key when a value is
wrong. The built-in instruments (VUM 2.0, WHO-5, Brief INSPIRE-O, QPR-15, Recovery Star, goal attainment
scaling) are declared below in the same shape; :func:`register_instrument` adds a user's own.

The long assessment format has one row per person x date x instrument x item with the columns
``person_id``, ``assessment_date``, ``instrument``, ``item`` and ``score``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from progression._validation import check_columns
from progression.exceptions import DataContractError, ParameterError

__all__ = [
    "Instrument",
    "BUILTIN_CONFIGS",
    "get_instrument",
    "cutoff_value",
    "list_instruments",
    "register_instrument",
    "load_instruments",
    "score",
    "flag_cutoffs",
    "gas_tscore",
    "recovery_star_stage",
]

_DIRECTIONS = ("higher_better", "lower_better")
_RAW_RULES = ("sum", "mean")
_SCALED_RULES = ("none", "x4", "rescale_0_100", "gas_t")
_CUTOFF_RULES = ("lt", "le", "ge", "gt")
_SCALES = ("raw", "scaled")
_REQUIRED_KEYS = ("name", "item_range", "direction", "raw", "scaled")
_OPTIONAL_KEYS = (
    "label",
    "items",
    "missing_codes",
    "integer",
    "min_items",
    "reliability",
    "cutoffs",
    "clinically_relevant_change",
    "norms",
    "gas_rho",
    "notes",
)

#: Built-in instrument declarations (domain.md section 3). Values marked [check] in the notes are
#: believed true but not confirmed from a primary source: override them by registering a copy.
BUILTIN_CONFIGS: dict[str, dict[str, Any]] = {
    "VUM": {
        "name": "VUM",
        "label": "VUM 2.0 functioning level (Faelles Faglige Begreber)",
        "items": None,  # domains differ between VUM versions: any domain label is accepted
        "item_range": [0, 4],
        "missing_codes": [9],
        "integer": True,
        "direction": "lower_better",
        "raw": "mean",
        "scaled": "none",
        "min_items": 1,
        "reliability": None,
        "cutoffs": [],
        "notes": "0 none, 1 light, 2 moderate, 3 severe, 4 total limitation; 9 = not relevant (missing, "
        "never a level). The raw score is the mean level over the domains assessed.",
    },
    "WHO5": {
        "name": "WHO5",
        "label": "WHO-5 Well-Being Index",
        "items": ["1", "2", "3", "4", "5"],
        "item_range": [0, 5],
        "missing_codes": [],
        "integer": True,
        "direction": "higher_better",
        "raw": "sum",
        "scaled": "x4",
        "min_items": 5,
        "reliability": None,
        "cutoffs": [
            {"name": "poor_wellbeing", "value": 13, "scale": "raw", "rule": "lt",
             "source": "WHO-5 official scoring sheet: raw < 13 (index <= 48) indicates poor well-being"},
            {"name": "likely_depression", "value": 28, "scale": "scaled", "rule": "le",
             "source": "Topp et al. 2015, Psychother Psychosom 84:167-176 (a literature convention; a parameter)"},
        ],
        "clinically_relevant_change": {"value": 10, "scale": "scaled",
                                       "source": "WHO-5 official scoring sheet: a 10-point index change is significant"},
    },
    "INSPIRE_O": {
        "name": "INSPIRE_O",
        "label": "Brief INSPIRE-O (personal recovery)",
        "items": ["1", "2", "3", "4", "5"],
        "item_range": [0, 4],
        "missing_codes": [],
        "integer": True,
        "direction": "higher_better",
        "raw": "mean",
        "scaled": "rescale_0_100",
        "min_items": 5,
        "reliability": None,
        "cutoffs": [
            {"name": "personal_recovery", "value": 50, "scale": "scaled", "rule": "ge",
             "source": "Moeller et al. 2024, 2025 (Danish studies): score >= 50 indicates personal recovery"},
        ],
        "clinically_relevant_change": {"value": 8, "scale": "scaled",
                                       "source": "Moeller et al. 2024, 2025: 8 points is clinically relevant"},
        "norms": {
            "functional": {"mean": 71.1, "sd": None, "scale": "scaled",
                           "source": "Moeller et al. 2024, 2025: general population"},
            "dysfunctional": {"mean": 39.9, "sd": None, "scale": "scaled",
                              "source": "Moeller et al. 2024, 2025: psychiatric outpatients"},
        },
        "notes": "Items scored 0-4; score = mean item x 25 (0-100) [check item range against the licensed manual].",
    },
    "QPR15": {
        "name": "QPR15",
        "label": "Questionnaire about the Process of Recovery, 15 items",
        "items": [str(i) for i in range(1, 16)],
        "item_range": [0, 4],
        "missing_codes": [],
        "integer": True,
        "direction": "higher_better",
        "raw": "sum",
        "scaled": "none",
        "min_items": 15,
        "reliability": {"value": 0.89, "kind": "cronbach_alpha",
                        "source": "Williams et al. 2015, Br J Psychiatry 207:551-555"},
        "cutoffs": [],
    },
    "RECOVERY_STAR": {
        "name": "RECOVERY_STAR",
        "label": "Mental Health Recovery Star (Recovery-stjernen)",
        "items": None,  # ten areas; labels differ between translations
        "item_range": [1, 10],
        "missing_codes": [],
        "integer": True,
        "direction": "higher_better",
        "raw": "sum",
        "scaled": "none",
        "min_items": 10,
        "reliability": None,
        "cutoffs": [],
        "notes": "Ten areas scored 1-10 in five stages of two points [check]; weak inter-rater reliability "
        "(Killaspy et al. 2012, Br J Psychiatry 201:65-70): report per area and by stage.",
    },
    "GAS": {
        "name": "GAS",
        "label": "Goal attainment scaling",
        "items": None,  # one item per individual goal
        "item_range": [-2, 2],
        "missing_codes": [],
        "integer": True,
        "direction": "higher_better",
        "raw": "sum",
        "scaled": "gas_t",
        "gas_rho": 0.3,
        "min_items": 1,
        "reliability": None,
        "cutoffs": [],
        "notes": "Kiresuk & Sherman 1968; T = 50 means goals met as expected (equal weights in score()).",
    },
}


@dataclass(frozen=True)
class Instrument:
    """A validated instrument declaration.

    Build one with :meth:`from_config`; the attributes mirror the configuration keys.

    Attributes
    ----------
    name : str
        Identifier used in the ``instrument`` column.
    item_range : tuple of float
        Smallest and largest valid item score.
    direction : {"higher_better", "lower_better"}
        Which way is improvement.
    raw : {"sum", "mean"}
        Raw score rule. A sum over fewer answered items than declared is prorated (mean x number of items).
    scaled : {"none", "x4", "rescale_0_100", "gas_t"}
        Scaled score rule: identity, raw x 4 (WHO-5 index), linear rescaling of the raw range to 0-100,
        or the goal attainment T-score.
    items : tuple of str or None
        Declared item labels; None accepts any label (VUM domains, GAS goals).
    missing_codes : tuple of float
        Item codes meaning "missing" (e.g. VUM 9 = not relevant).
    min_items : int
        Minimum answered items for a valid score.
    reliability : dict or None
        ``{"value", "kind", "source"}``.
    cutoffs : tuple of dict
        Each ``{"name", "value", "scale", "rule", "source"}``; ``rule`` says when a score is *in* the
        named state (``"lt"``: score < value).

    Examples
    --------
    >>> ins = Instrument.from_config({"name": "MY5", "item_range": [0, 4], "direction": "higher_better",
    ...                               "raw": "sum", "scaled": "none"})
    >>> ins.name, ins.sign, ins.reliability_value
    ('MY5', 1, None)
    """

    name: str
    item_range: tuple[float, float]
    direction: str
    raw: str
    scaled: str
    label: str = ""
    items: tuple[str, ...] | None = None
    missing_codes: tuple[float, ...] = ()
    integer: bool = True
    min_items: int = 1
    reliability: Mapping[str, Any] | None = None
    cutoffs: tuple[Mapping[str, Any], ...] = ()
    clinically_relevant_change: Mapping[str, Any] | None = None
    norms: Mapping[str, Any] | None = None
    gas_rho: float = 0.3
    notes: str = ""
    config: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Instrument":
        """Validate a configuration mapping and build an :class:`Instrument`.

        Raises
        ------
        ParameterError
            Naming the key (``instrument '<name>': key '<key>' ...``) that is missing, unknown or wrong.
        """
        if not isinstance(config, Mapping):
            raise ParameterError(f"instrument config must be a mapping; got {type(config).__name__}")
        name = config.get("name", "<unnamed>")
        where = f"instrument '{name}'"
        missing = [k for k in _REQUIRED_KEYS if k not in config]
        if missing:
            raise ParameterError(f"{where}: required key(s) {missing} missing; keys present: {sorted(config)}")
        unknown = sorted(set(config) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS))
        if unknown:
            raise ParameterError(
                f"{where}: unknown key(s) {unknown}; allowed keys: {sorted(_REQUIRED_KEYS + _OPTIONAL_KEYS)}"
            )
        if not isinstance(name, str) or not name:
            raise ParameterError(f"{where}: key 'name' must be a non-empty string; got {name!r}")
        low, high = _pair_of_numbers(config["item_range"], where, "item_range")
        for key, options in (("direction", _DIRECTIONS), ("raw", _RAW_RULES), ("scaled", _SCALED_RULES)):
            if config[key] not in options:
                raise ParameterError(f"{where}: key '{key}' must be one of {list(options)}; got {config[key]!r}")
        if config["scaled"] == "gas_t" and config["raw"] != "sum":
            raise ParameterError(f"{where}: key 'scaled' = 'gas_t' needs key 'raw' = 'sum'; got {config['raw']!r}")
        items = config.get("items")
        if config["scaled"] == "rescale_0_100" and config["raw"] == "sum" and not items:
            raise ParameterError(f"{where}: key 'scaled' = 'rescale_0_100' with raw 'sum' needs key 'items' declared")
        if items is not None:
            if isinstance(items, str) or not all(isinstance(i, (str, int)) for i in items) or not items:
                raise ParameterError(f"{where}: key 'items' must be a non-empty list of labels or null; got {items!r}")
            items = tuple(str(i) for i in items)
            if len(set(items)) != len(items):
                raise ParameterError(f"{where}: key 'items' has duplicate labels: {list(items)}")
        missing_codes = tuple(float(c) for c in _number_list(config.get("missing_codes") or [], where, "missing_codes"))
        clash = [c for c in missing_codes if low <= c <= high]
        if clash:
            raise ParameterError(f"{where}: key 'missing_codes' {clash} lie inside item_range [{low}, {high}]")
        min_items = config.get("min_items", len(items) if items else 1)
        if not isinstance(min_items, (int, np.integer)) or isinstance(min_items, bool) or min_items < 1:
            raise ParameterError(f"{where}: key 'min_items' must be a positive integer; got {min_items!r}")
        if items is not None and min_items > len(items):
            raise ParameterError(f"{where}: key 'min_items' = {min_items} exceeds the {len(items)} declared items")
        integer = config.get("integer", True)
        if not isinstance(integer, bool):
            raise ParameterError(f"{where}: key 'integer' must be true or false; got {integer!r}")
        reliability = _check_reliability(config.get("reliability"), where)
        cutoffs = tuple(_check_cutoff(c, where, i) for i, c in enumerate(config.get("cutoffs") or []))
        crc = config.get("clinically_relevant_change")
        if crc is not None:
            if not isinstance(crc, Mapping) or "value" not in crc or crc.get("scale", "raw") not in _SCALES:
                raise ParameterError(
                    f"{where}: key 'clinically_relevant_change' must be a mapping with 'value' and 'scale' in "
                    f"{list(_SCALES)}; got {crc!r}"
                )
        norms = config.get("norms")
        if norms is not None and not (isinstance(norms, Mapping) and set(norms) <= {"functional", "dysfunctional"}):
            raise ParameterError(
                f"{where}: key 'norms' must be a mapping with keys 'functional' and/or 'dysfunctional'; got {norms!r}"
            )
        rho = config.get("gas_rho", 0.3)
        if not isinstance(rho, (int, float)) or not 0 <= rho < 1:
            raise ParameterError(f"{where}: key 'gas_rho' must be a number in [0, 1); got {rho!r}")
        return cls(
            name=name,
            item_range=(low, high),
            direction=config["direction"],
            raw=config["raw"],
            scaled=config["scaled"],
            label=str(config.get("label", name)),
            items=items,
            missing_codes=missing_codes,
            integer=integer,
            min_items=int(min_items),
            reliability=reliability,
            cutoffs=cutoffs,
            clinically_relevant_change=crc,
            norms=norms,
            gas_rho=float(rho),
            notes=str(config.get("notes", "")),
            config=copy.deepcopy(dict(config)),
        )

    @property
    def sign(self) -> int:
        """+1 when higher scores are better, -1 when lower scores are better."""
        return 1 if self.direction == "higher_better" else -1

    @property
    def reliability_value(self) -> float | None:
        """The declared reliability coefficient, or None."""
        return None if self.reliability is None else float(self.reliability["value"])

    def cutoff(self, name: str) -> Mapping[str, Any]:
        """Return the declared cut-off called ``name``."""
        for c in self.cutoffs:
            if c["name"] == name:
                return c
        raise ParameterError(
            f"instrument '{self.name}' has no cut-off '{name}'; declared: {[c['name'] for c in self.cutoffs]}"
        )

    def scale_raw(self, raw: np.ndarray | pd.Series, n_items: np.ndarray | pd.Series | None = None) -> np.ndarray:
        """Apply the scaled-score rule to raw scores (``gas_t`` needs the number of goals ``n_items``)."""
        raw = np.asarray(raw, dtype=float)
        low, high = self.item_range
        if self.scaled == "none":
            return raw.copy()
        if self.scaled == "x4":
            return raw * 4.0
        if self.scaled == "rescale_0_100":
            k = 1 if self.raw == "mean" else len(self.items)
            return (raw - k * low) / (k * (high - low)) * 100.0
        # gas_t with equal weights: T = 50 + 10 * sum(x) / sqrt((1 - rho) m + rho m^2)
        m = np.asarray(n_items, dtype=float)
        return 50.0 + 10.0 * raw / np.sqrt((1 - self.gas_rho) * m + self.gas_rho * m**2)


def _pair_of_numbers(value: Any, where: str, key: str) -> tuple[float, float]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        or not value[0] < value[1]
    ):
        raise ParameterError(f"{where}: key '{key}' must be [low, high] with low < high; got {value!r}")
    return float(value[0]), float(value[1])


def _number_list(value: Any, where: str, key: str) -> list[float]:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        raise ParameterError(f"{where}: key '{key}' must be a list of numbers; got {value!r}")
    return list(value)


def _check_reliability(rel: Any, where: str) -> Mapping[str, Any] | None:
    if rel is None:
        return None
    if not isinstance(rel, Mapping) or "value" not in rel or "source" not in rel:
        raise ParameterError(f"{where}: key 'reliability' must be a mapping with 'value' and 'source'; got {rel!r}")
    if not isinstance(rel["value"], (int, float)) or not 0 < rel["value"] < 1:
        raise ParameterError(f"{where}: key 'reliability.value' must lie in (0, 1); got {rel['value']!r}")
    return dict(rel)


def _check_cutoff(c: Any, where: str, i: int) -> Mapping[str, Any]:
    key = f"cutoffs[{i}]"
    needed = {"name", "value", "scale", "rule", "source"}
    if not isinstance(c, Mapping) or not needed <= set(c):
        got = sorted(c) if isinstance(c, Mapping) else type(c).__name__
        raise ParameterError(f"{where}: key '{key}' must have keys {sorted(needed)}; got {got}")
    if c["scale"] not in _SCALES:
        raise ParameterError(f"{where}: key '{key}.scale' must be one of {list(_SCALES)}; got {c['scale']!r}")
    if c["rule"] not in _CUTOFF_RULES:
        raise ParameterError(f"{where}: key '{key}.rule' must be one of {list(_CUTOFF_RULES)}; got {c['rule']!r}")
    if not isinstance(c["value"], (int, float)) or isinstance(c["value"], bool):
        raise ParameterError(f"{where}: key '{key}.value' must be a number; got {c['value']!r}")
    return dict(c)


_REGISTRY: dict[str, Instrument] = {name: Instrument.from_config(cfg) for name, cfg in BUILTIN_CONFIGS.items()}


def register_instrument(config: Mapping[str, Any] | Instrument, *, replace: bool = False) -> Instrument:
    """Add an instrument to the registry from a configuration mapping (same shape as :data:`BUILTIN_CONFIGS`).

    Parameters
    ----------
    config : mapping or Instrument
        The declaration, e.g. ``yaml.safe_load(open("my_instrument.yaml"))``.
    replace : bool, default=False
        Allow replacing an instrument of the same name (e.g. to override a [check] value).

    Returns
    -------
    Instrument
        The registered instrument.

    Raises
    ------
    ParameterError
        When the name is registered and ``replace`` is False, or the configuration is invalid.

    Examples
    --------
    >>> config = {**BUILTIN_CONFIGS["QPR15"], "name": "QPR15_DK", "reliability": {"value": 0.87, "source": "my study"}}
    >>> register_instrument(config, replace=True).reliability_value
    0.87
    """
    instrument = config if isinstance(config, Instrument) else Instrument.from_config(config)
    if instrument.name in _REGISTRY and not replace:
        raise ParameterError(
            f"instrument '{instrument.name}' is already registered; pass replace=True to override it"
        )
    _REGISTRY[instrument.name] = instrument
    return instrument


def load_instruments(path, *, replace: bool = False) -> list[Instrument]:
    """Register the instrument(s) declared in a YAML file: one mapping, or a list of mappings, of the
    same shape as :data:`BUILTIN_CONFIGS` values. Returns the registered instruments.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    replace : bool, default=False
        As in :func:`register_instrument`.

    Returns
    -------
    list of Instrument

    Raises
    ------
    ParameterError
        As :func:`register_instrument`.

    Examples
    --------
    >>> import tempfile, yaml, os
    >>> path = os.path.join(tempfile.mkdtemp(), "mine.yaml")
    >>> config = {"name": "MINE", "item_range": [1, 5], "direction": "higher_better", "raw": "mean", "scaled": "none"}
    >>> with open(path, "w") as fh:
    ...     yaml.safe_dump(config, fh)
    >>> [ins.name for ins in load_instruments(path, replace=True)]
    ['MINE']
    """
    import yaml

    with open(path, encoding="utf-8") as fh:
        content = yaml.safe_load(fh)
    configs = content if isinstance(content, list) else [content]
    return [register_instrument(cfg, replace=replace) for cfg in configs]


def get_instrument(instrument: str | Instrument | Mapping[str, Any]) -> Instrument:
    """Look up an instrument by name, or validate a configuration mapping, or pass an Instrument through.

    Parameters
    ----------
    instrument : str, Instrument or mapping

    Returns
    -------
    Instrument

    Raises
    ------
    ParameterError
        When a name is not registered (the message lists those that are) or a mapping is invalid.

    Examples
    --------
    >>> ins = get_instrument("WHO5")
    >>> ins.direction, ins.items, ins.scaled
    ('higher_better', ('1', '2', '3', '4', '5'), 'x4')
    """
    if isinstance(instrument, Instrument):
        return instrument
    if isinstance(instrument, Mapping):
        return Instrument.from_config(instrument)
    if instrument not in _REGISTRY:
        raise ParameterError(f"instrument {instrument!r} is not registered; registered: {sorted(_REGISTRY)}")
    return _REGISTRY[instrument]


def cutoff_value(instrument: str | Instrument | Mapping[str, Any], name: str, *, scale: str = "scaled") -> float:
    """A declared cut-off expressed on ``scale`` ("raw" or "scaled").

    Parameters
    ----------
    instrument : str, Instrument or mapping
        The instrument declaring the cut-off.
    name : str
        The cut-off's name (e.g. ``"poor_wellbeing"``).
    scale : {"scaled", "raw"}, default "scaled"
        The scale to express it on.

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        When the instrument has no such cut-off, or its scaled score is a GAS T-score (which depends on the
        number of goals, so a cut-off cannot move between scales).

    Notes
    -----
    The scaled score is linear in the raw score, scaled = offset + slope x raw, so a cut-off moves as
    the score does.

    Examples
    --------
    >>> cutoff_value("WHO5", "poor_wellbeing")               # raw 13 x 4
    52.0
    >>> cutoff_value("INSPIRE_O", "personal_recovery", scale="raw")
    2.0
    """
    ins = get_instrument(instrument)
    if scale not in _SCALES:
        raise ParameterError(f"scale must be one of {list(_SCALES)}; got {scale!r}")
    if ins.scaled == "gas_t":
        raise ParameterError(f"instrument '{ins.name}': cut-offs cannot be moved between scales of a GAS T-score")
    cut = ins.cutoff(name)
    value = float(cut["value"])
    if cut["scale"] == scale:
        return value
    offset = float(ins.scale_raw(np.array([0.0]))[0])
    slope = float(ins.scale_raw(np.array([1.0]))[0]) - offset
    return offset + slope * value if scale == "scaled" else (value - offset) / slope


def list_instruments() -> pd.DataFrame:
    """One row per registered instrument: range, direction, rules, reliability and its source.

    Returns
    -------
    DataFrame
        One row per instrument, in the order of registration.

    Examples
    --------
    >>> list_instruments()[["instrument", "direction", "reliability"]].head(4)
      instrument      direction  reliability
    0        VUM   lower_better          NaN
    1       WHO5  higher_better          NaN
    2  INSPIRE_O  higher_better          NaN
    3      QPR15  higher_better         0.89
    """
    rows = []
    for ins in _REGISTRY.values():
        rows.append(
            {
                "instrument": ins.name,
                "label": ins.label,
                "n_items": len(ins.items) if ins.items else np.nan,
                "item_min": ins.item_range[0],
                "item_max": ins.item_range[1],
                "missing_codes": list(ins.missing_codes),
                "direction": ins.direction,
                "raw": ins.raw,
                "scaled": ins.scaled,
                "min_items": ins.min_items,
                "reliability": ins.reliability_value,
                "reliability_source": None if ins.reliability is None else ins.reliability["source"],
                "cutoffs": [c["name"] for c in ins.cutoffs],
            }
        )
    return pd.DataFrame(rows)


def _examples(frame: pd.DataFrame, n: int = 5) -> str:
    return frame.head(n).to_dict("records").__repr__()


def score(
    assessments: pd.DataFrame,
    instrument: str | Instrument | Mapping[str, Any],
    *,
    person_col: str = "person_id",
    date_col: str = "assessment_date",
    instrument_col: str = "instrument",
    item_col: str = "item",
    score_col: str = "score",
) -> pd.DataFrame:
    """Score one instrument: one row per person x date with the raw and scaled score.

    Rows of other instruments are ignored. Missing codes and NaN items count as unanswered; a score
    with fewer than ``min_items`` answered items is NaN and ``valid`` is False.

    Parameters
    ----------
    assessments : DataFrame
        Long format, one row per person x date x instrument x item.
    instrument : str, Instrument or mapping
        A registered name, an Instrument, or a configuration mapping.

    Returns
    -------
    DataFrame
        Columns ``person_col``, ``date_col``, ``instrument``, ``n_items`` (answered), ``raw``, ``scaled``,
        ``valid``, sorted by person and date.

    Raises
    ------
    DataContractError
        When a column is missing, an item score lies outside ``item_range`` (or is not an integer for an
        integer instrument), an item label is not declared, or a person x date x item appears twice. The
        message gives the number of offending rows and the first few.

    Notes
    -----
    Raw ``sum`` with some items unanswered (allowed when ``min_items`` < number of items) is prorated:
    mean of answered items x number of declared items. The ``gas_t`` scaled score uses equal weights:
    T = 50 + 10 sum(x) / sqrt((1 - rho) m + rho m^2) (Kiresuk & Sherman 1968); see :func:`gas_tscore`
    for weighted goals.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> scores = score(load_example("assessments"), "WHO5")
    >>> scores[["raw", "scaled", "valid"]].describe().loc[["count", "mean"]].round(1)
              raw  scaled
    count  3144.0  3144.0
    mean     12.6    50.5
    """
    ins = get_instrument(instrument)
    cols = {"person_col": person_col, "date_col": date_col, "instrument_col": instrument_col,
            "item_col": item_col, "score_col": score_col}
    check_columns(assessments, cols, name=f"score({ins.name})")
    df = assessments.loc[assessments[instrument_col] == ins.name, [person_col, date_col, item_col, score_col]].copy()
    df[item_col] = df[item_col].astype(str)
    df[date_col] = pd.to_datetime(df[date_col])
    values = pd.to_numeric(df[score_col], errors="coerce")
    non_numeric = df[values.isna() & df[score_col].notna()]
    if len(non_numeric):
        raise DataContractError(
            f"score({ins.name}): column {score_col!r} has {len(non_numeric)} non-numeric value(s); "
            f"first rows: {_examples(non_numeric)}"
        )
    is_missing = values.isna() | values.isin(ins.missing_codes)
    low, high = ins.item_range
    bad = ~is_missing & ((values < low) | (values > high))
    if ins.integer:
        bad |= ~is_missing & (values != np.round(values))
    if bad.any():
        kind = "integers " if ins.integer else ""
        raise DataContractError(
            f"score({ins.name}): {int(bad.sum())} row(s) have {score_col!r} outside the valid {kind}range "
            f"[{low:g}, {high:g}] (missing codes {list(ins.missing_codes)}); first rows: {_examples(df[bad])}"
        )
    if ins.items is not None:
        unknown = ~df[item_col].isin(ins.items)
        if unknown.any():
            raise DataContractError(
                f"score({ins.name}): {int(unknown.sum())} row(s) have {item_col!r} not among the declared items "
                f"{list(ins.items)}; first rows: {_examples(df[unknown])}"
            )
    dup = df.duplicated([person_col, date_col, item_col], keep=False)
    if dup.any():
        raise DataContractError(
            f"score({ins.name}): {int(dup.sum())} row(s) repeat a ({person_col}, {date_col}, {item_col}) "
            f"combination; first rows: {_examples(df[dup])}"
        )
    df["_value"] = values.where(~is_missing)
    g = df.groupby([person_col, date_col], sort=True)["_value"]
    out = pd.DataFrame({"n_items": g.count(), "_sum": g.sum(min_count=1), "_mean": g.mean()}).reset_index()
    n_declared = len(ins.items) if ins.items else out["n_items"]
    raw = out["_sum"] if ins.raw == "sum" else out["_mean"]
    if ins.raw == "sum" and ins.items:
        raw = out["_mean"] * n_declared  # prorated; equals the plain sum when every item is answered
    valid = out["n_items"] >= ins.min_items
    out["raw"] = raw.where(valid).astype(float)
    out["scaled"] = ins.scale_raw(out["raw"], out["n_items"])
    out["valid"] = valid.to_numpy(dtype=bool)
    out.insert(2, "instrument", ins.name)
    return out.drop(columns=["_sum", "_mean"])[[person_col, date_col, "instrument", "n_items", "raw", "scaled", "valid"]]


def flag_cutoffs(scores: pd.DataFrame, instrument: str | Instrument | Mapping[str, Any]) -> pd.DataFrame:
    """Add one boolean column per declared cut-off (``in_<name>``) to the output of :func:`score`.

    A score is in the state when it satisfies the cut-off's rule (e.g. WHO-5 ``poor_wellbeing``:
    raw < 13). Missing scores give missing flags.

    Parameters
    ----------
    scores : DataFrame
        With ``raw`` and ``scaled`` columns (:func:`score`).
    instrument : str, Instrument or mapping

    Returns
    -------
    DataFrame
        A copy with the nullable boolean ``in_<name>`` columns.

    Examples
    --------
    >>> import pandas as pd
    >>> flag_cutoffs(pd.DataFrame({"raw": [10.0, 15.0], "scaled": [40.0, 60.0]}), "WHO5")
        raw  scaled  in_poor_wellbeing  in_likely_depression
    0  10.0    40.0               True                 False
    1  15.0    60.0              False                 False
    """
    ins = get_instrument(instrument)
    check_columns(scores, ["raw", "scaled"], name="flag_cutoffs")
    out = scores.copy()
    ops = {"lt": np.less, "le": np.less_equal, "ge": np.greater_equal, "gt": np.greater}
    for c in ins.cutoffs:
        x = out[c["scale"]].astype(float)
        out[f"in_{c['name']}"] = pd.array(np.where(x.isna(), pd.NA, ops[c["rule"]](x, c["value"])), dtype="boolean")
    return out


def gas_tscore(attainment, weights=None, *, rho: float = 0.3) -> float:
    """Goal attainment scaling T-score of one person (Kiresuk & Sherman 1968).

    T = 50 + 10 sum(w_i x_i) / sqrt((1 - rho) sum(w_i^2) + rho (sum w_i)^2), x_i in {-2, ..., 2}.

    Parameters
    ----------
    attainment : array-like of int
        Attainment level per goal (0 = expected outcome).
    weights : array-like of float, optional
        Importance weights; equal weights when omitted.
    rho : float, default=0.3
        Assumed correlation between goal scores.

    Returns
    -------
    float

    Raises
    ------
    ParameterError
        When attainment levels lie outside [−2, 2], the weights do not fit, or ``rho`` is outside [0, 1).

    References
    ----------
    Kiresuk, T. J. & Sherman, R. E. (1968). Goal attainment scaling: a general method for evaluating
    comprehensive community mental health programs. Community Mental Health Journal 4(6), 443–453.

    Examples
    --------
    >>> round(gas_tscore([0, 1, -1, 2]), 1)
    57.3
    >>> round(gas_tscore([0, 0, 0]), 1)
    50.0
    """
    x = np.asarray(attainment, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ParameterError(f"attainment must be a non-empty 1-D array; got shape {x.shape}")
    if np.any(np.isnan(x)) or np.any((x < -2) | (x > 2)):
        raise ParameterError(f"attainment values must lie in [-2, 2]; got {x.tolist()}")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != x.shape or np.any(w < 0) or w.sum() <= 0:
        raise ParameterError(
            f"weights must be non-negative, not all zero, and match attainment's length {x.size}; got {np.asarray(weights).tolist()}"
        )
    if not 0 <= rho < 1:
        raise ParameterError(f"rho must lie in [0, 1); got {rho!r}")
    return float(50 + 10 * np.sum(w * x) / np.sqrt((1 - rho) * np.sum(w**2) + rho * np.sum(w) ** 2))


#: Recovery Star stages, two points each [check]: 1-2, 3-4, 5-6, 7-8, 9-10.
RECOVERY_STAR_STAGES = ("stuck", "accepting_help", "believing", "learning", "self_reliance")


def recovery_star_stage(area_score) -> pd.Series | str:
    """Map Recovery Star area scores (1-10) to the five stages of the Journey of Change [check].

    Stages are two points wide (1-2 stuck, 3-4 accepting help, 5-6 believing, 7-8 learning,
    9-10 self-reliance), per the Triangle user guide as reported in secondary sources.

    Parameters
    ----------
    area_score : int or array-like of int
        Area scores 1–10 (missing allowed).

    Returns
    -------
    str or Series
        The stage of a scalar; otherwise an ordered categorical Series of :data:`RECOVERY_STAR_STAGES`.

    Raises
    ------
    ParameterError
        When a score is not an integer from 1 to 10.

    Examples
    --------
    >>> recovery_star_stage([1, 4, 10]).tolist()
    ['stuck', 'accepting_help', 'self_reliance']
    """
    s = pd.Series(area_score, dtype=float) if not np.isscalar(area_score) else pd.Series([area_score], dtype=float)
    bad = s.notna() & ((s < 1) | (s > 10) | (s != np.round(s)))
    if bad.any():
        raise ParameterError(f"Recovery Star area scores must be integers 1-10; got {s[bad].tolist()[:5]}")
    idx = ((s - 1) // 2).astype("Int64")
    stage = pd.Series(pd.Categorical.from_codes(idx.fillna(-1).astype(int), categories=list(RECOVERY_STAR_STAGES),
                                                ordered=True), index=s.index)
    return stage.iloc[0] if np.isscalar(area_score) else stage
