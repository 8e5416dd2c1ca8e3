"""The indsatstrappe: service paragraphs mapped onto ordered steps.

A :class:`Staircase` is built from :class:`~progression.config.StaircaseParams`. Each step has a
name, a *level* (its order; fractional levels allow local intermediate steps, "mellemtrin") and the
paragraphs that put a person on it. The step without paragraphs and the lowest level is the
"no service" step. Paragraphs known to the data contract (``progression.schemas.PARAGRAPHS``) that
are on no step, such as SEL103 sheltered employment, are *side services*: they never decide a step.
Any other value is an error that names it, so a staircase that does not cover the data is noticed.

Moves between two steps are classified as in Social- og Boligstyrelsen (2024), *Kommunernes omlægning
til Borgeren ved roret* (text beside Figures 11-12): to no service, to a lower step,
to the same step or to a higher step.

The step a person holds on a given date (:func:`steps_on_dates`) is read off the service spells running
that day: the highest step among them (the staircase's default rule, the report's), side services ignored,
the no-service step when no step spell runs. Spell end dates are inclusive and a missing end date means
the spell is open. :func:`staircase_moves` classifies the move between two dates (down / same / up).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from progression._validation import check_columns
from progression.config import StaircaseParams
from progression.exceptions import DataContractError, ParameterError
from progression.schemas import PARAGRAPHS

__all__ = ["Staircase", "as_staircase", "MOVE_CATEGORIES", "EXIT_STATUSES", "STATUSES", "service_start",
           "steps_on_dates", "staircase_moves"]

#: Where a citizen on a step is found later (the report's categories plus the censoring events).
MOVE_CATEGORIES = ("none", "lower", "same", "higher", "died", "emigrated", "moved")
#: Censoring/absorbing statuses of a person-period; never steps.
EXIT_STATUSES = ("died", "emigrated", "moved")
STATUSES = ("observed", *EXIT_STATUSES)


def _examples(values: Iterable, n: int = 5) -> str:
    values = list(values)
    text = ", ".join(map(repr, values[:n]))
    return text + (", ..." if len(values) > n else "")


@dataclass(frozen=True)
class Staircase:
    """Ordered steps with their paragraphs.

    Parameters
    ----------
    steps : tuple of str
        Step names ordered from the least to the most intensive.
    levels : tuple of float
        Level of each step (strictly increasing).
    paragraphs : mapping of str to str
        Paragraph -> step name.
    labels_en, labels_da : mapping of str to str
        Display labels per step.
    side_services : frozenset of str
        Paragraphs that are allowed in the data but are on no step.
    rule : {"highest", "end", "longest"}
        Default rule for the step of a period (see :func:`progression.panel.build_panel`).

    Use :meth:`from_params` (or :func:`as_staircase`) rather than the constructor.

    Examples
    --------
    >>> stairs = Staircase.from_params()
    >>> stairs.steps
    ('none', 'SEL82', 'SEL85', 'SEL107', 'ABL105', 'SEL108')
    >>> stairs.step_of("SEL85"), stairs.level_of("SEL107"), stairs.none_step
    ('SEL85', 3.0, 'none')
    >>> stairs.move_category("SEL85", "SEL82"), stairs.move_category("SEL85", "none")
    ('lower', 'none')
    """

    steps: tuple[str, ...]
    levels: tuple[float, ...]
    paragraphs: Mapping[str, str]
    labels_en: Mapping[str, str] = field(default_factory=dict)
    labels_da: Mapping[str, str] = field(default_factory=dict)
    side_services: frozenset[str] = frozenset()
    rule: str = "highest"

    @classmethod
    def from_params(cls, params: StaircaseParams | None = None, *,
                    side_services: Iterable[str] | None = None) -> Staircase:
        """Build the staircase from its parameter section.

        Parameters
        ----------
        params : StaircaseParams, optional
            Defaults to the report's staircase (none < SEL82 < SEL85 < SEL107 < ABL105 < SEL108).
        side_services : iterable of str, optional
            Paragraphs on no step that may occur in the data. Defaults to every paragraph of the data
            contract that is on no step.
        """
        params = params if params is not None else StaircaseParams()
        ordered = params.ordered()
        mapping = {p: s.name for s in ordered for p in s.paragraphs}
        if side_services is None:
            side = frozenset(PARAGRAPHS) - set(mapping)
        else:
            side = frozenset(side_services)
            both = sorted(side & set(mapping))
            if both:
                raise ParameterError(f"side_services {both} are also on a step ({[mapping[p] for p in both]})")
        return cls(
            steps=tuple(s.name for s in ordered),
            levels=tuple(float(s.level) for s in ordered),
            paragraphs=mapping,
            labels_en={s.name: s.label_en or s.name for s in ordered},
            labels_da={s.name: s.label_da or s.name for s in ordered},
            side_services=side,
            rule=params.rule,
        )

    # -- lookups ---------------------------------------------------------------------------------
    @property
    def none_step(self) -> str:
        """The "no service" step: the lowest step without paragraphs."""
        held = set(self.paragraphs.values())
        return next(s for s in self.steps if s not in held)

    @property
    def service_steps(self) -> tuple[str, ...]:
        """The steps with services: every step but the no-service step, least to most intensive."""
        return tuple(s for s in self.steps if s != self.none_step)

    @property
    def none_level(self) -> float:
        """Level of the "no service" step."""
        return self.level_of(self.none_step)

    @property
    def dtype(self) -> pd.CategoricalDtype:
        """Ordered categorical dtype of the steps (least to most intensive)."""
        return pd.CategoricalDtype(list(self.steps), ordered=True)

    def level_of(self, step: str) -> float:
        """Level of a step; raises naming the step when the staircase has no such step."""
        self.check_steps([step])
        return self.levels[self.steps.index(step)]

    def step_of(self, paragraph: str) -> str | None:
        """Step of a paragraph (None for a side service); raises for an unknown paragraph."""
        self.check_paragraphs([paragraph])
        return self.paragraphs.get(paragraph)

    def labels(self, language: str = "en") -> dict[str, str]:
        """Step name -> display label in ``"en"`` or ``"da"``."""
        if language not in ("en", "da"):
            raise ParameterError(f"language must be 'en' or 'da'; got {language!r}")
        return dict(self.labels_en if language == "en" else self.labels_da)

    # -- tables ----------------------------------------------------------------------------------
    def step_table(self) -> pd.DataFrame:
        """One row per step: ``step``, ``level``, ``label_en``, ``label_da``, ``paragraphs``."""
        return pd.DataFrame({
            "step": list(self.steps),
            "level": list(self.levels),
            "label_en": [self.labels_en.get(s, s) for s in self.steps],
            "label_da": [self.labels_da.get(s, s) for s in self.steps],
            "paragraphs": [", ".join(p for p, t in self.paragraphs.items() if t == s) for s in self.steps],
        })

    def paragraph_table(self) -> pd.DataFrame:
        """One row per paragraph on a step: ``paragraph``, ``step``, ``level``."""
        rows = [(p, s, self.levels[self.steps.index(s)]) for p, s in self.paragraphs.items()]
        return pd.DataFrame(rows, columns=["paragraph", "step", "level"])

    # -- checks ----------------------------------------------------------------------------------
    def check_paragraphs(self, values: Iterable[str], *, counts: Mapping[str, int] | None = None,
                         column: str = "paragraph") -> None:
        """Raise :class:`DataContractError` naming every value that is neither on a step nor a side service.

        Parameters
        ----------
        values : iterable of str
            Distinct paragraph values met in the data.
        counts : mapping, optional
            Rows per value, quoted in the message.
        column : str
            Column name quoted in the message.
        """
        known = set(self.paragraphs) | set(self.side_services)
        unknown = sorted({str(v) for v in values if v is not None and not pd.isna(v)} - known)
        if unknown:
            detail = ", ".join(f"{v!r} ({counts[v]} rows)" if counts and v in counts else repr(v)
                               for v in unknown[:10])
            raise DataContractError(
                f"column '{column}' has {len(unknown)} value(s) the staircase does not cover: {detail}. "
                f"Steps cover {_examples(sorted(self.paragraphs), 20)}; side services (ignored for the step) "
                f"are {_examples(sorted(self.side_services), 20)}. Add the paragraph to a step or to side_services."
            )

    def check_steps(self, values: Iterable[str], *, column: str = "step") -> None:
        """Raise :class:`ParameterError` naming every value that is not a step of this staircase."""
        unknown = sorted({str(v) for v in values if v is not None and not pd.isna(v)} - set(self.steps))
        if unknown:
            raise ParameterError(
                f"{column} value(s) {_examples(unknown, 10)} are not steps of the staircase; "
                f"steps are {list(self.steps)}"
            )

    # -- moves -----------------------------------------------------------------------------------
    def move_category(self, from_step: str, to: str) -> str:
        """Classify a move: ``none``, ``lower``, ``same``, ``higher``, or an exit status passed through.

        ``none`` means the no-service step; ``lower`` a lower step that is not the no-service step.
        """
        if to in EXIT_STATUSES:
            return to
        if to == self.none_step:
            return "none"
        a, b = self.level_of(from_step), self.level_of(to)
        return "same" if a == b else ("lower" if b < a else "higher")


def as_staircase(staircase: Staircase | StaircaseParams | None) -> Staircase:
    """Accept a :class:`Staircase`, a :class:`StaircaseParams` or None (the default staircase).

    Parameters
    ----------
    staircase : Staircase, StaircaseParams or None
        A staircase is returned as it is; parameters (or None, the report's staircase) are built.

    Returns
    -------
    Staircase

    Raises
    ------
    TypeError
        For any other type.

    Examples
    --------
    >>> as_staircase(None) == Staircase.from_params()
    True
    """
    if isinstance(staircase, Staircase):
        return staircase
    if staircase is None or isinstance(staircase, StaircaseParams):
        return Staircase.from_params(staircase)
    raise TypeError(f"staircase must be a Staircase, StaircaseParams or None; got {type(staircase).__name__}")


_SPELL_COLS = ("person_col", "paragraph_col", "start_col", "end_col")


def _step_spells(spells, stairs: Staircase, person_col, paragraph_col, start_col, end_col, what) -> pd.DataFrame:
    check_columns(spells, dict(zip(_SPELL_COLS, (person_col, paragraph_col, start_col, end_col))), name=what)
    counts = spells[paragraph_col].value_counts().to_dict()
    stairs.check_paragraphs(counts, counts=counts, column=paragraph_col)
    level = spells[paragraph_col].map({p: stairs.level_of(s) for p, s in stairs.paragraphs.items()})
    on_step = spells[level.notna()].assign(_level=level[level.notna()])
    on_step[start_col] = pd.to_datetime(on_step[start_col])
    on_step[end_col] = pd.to_datetime(on_step[end_col])
    return on_step


def service_start(
    spells: pd.DataFrame,
    *,
    staircase=None,
    person_col: str = "person_id",
    paragraph_col: str = "paragraph",
    start_col: str = "start_date",
    end_col: str = "end_date",
) -> pd.Series:
    """First start date of a spell on a step of the staircase, per person (side services ignored).

    Parameters
    ----------
    spells : DataFrame
        Service spells (person, paragraph, start and end date).
    staircase : Staircase or StaircaseParams, optional
        Defaults to the report's staircase.
    person_col, paragraph_col, start_col, end_col : str
        Column names of the spells.

    Returns
    -------
    Series
        Indexed by ``person_col``, named ``service_start``.

    Raises
    ------
    DataContractError
        When a column is missing or a paragraph is neither on a step nor a side service.

    Examples
    --------
    >>> from progression.datasets import load_example
    >>> service_start(load_example("spells")).head(3)
    person_id
    1   1997-11-29
    2   1999-05-09
    3   2008-10-06
    Name: service_start, dtype: datetime64[ns]
    """
    stairs = as_staircase(staircase)
    on_step = _step_spells(spells, stairs, person_col, paragraph_col, start_col, end_col, "service_start")
    return on_step.groupby(person_col)[start_col].min().rename("service_start")


def steps_on_dates(
    spells: pd.DataFrame,
    queries: pd.DataFrame,
    *,
    staircase=None,
    date_col: str = "date",
    person_col: str = "person_id",
    paragraph_col: str = "paragraph",
    start_col: str = "start_date",
    end_col: str = "end_date",
    municipality_col: str | None = "municipality",
) -> pd.DataFrame:
    """The step each person holds on each date: the highest step among the spells running that day.

    Parameters
    ----------
    spells : DataFrame
        Service spells (person, paragraph, start, end and, optionally, the acting municipality).
    queries : DataFrame
        ``person_col`` and ``date_col``; one row per question (repeats are answered alike).
    staircase : Staircase or StaircaseParams, optional
        Defaults to the report's staircase.
    municipality_col : str or None, default="municipality"
        Spell column of the acting municipality to carry along (that of the spell deciding the step,
        the latest-starting one on a tie); None to skip.

    Returns
    -------
    DataFrame
        ``queries`` in their order with ``step`` (ordered categorical of the staircase), ``level`` and,
        when asked, ``municipality`` (missing on the no-service step).

    Raises
    ------
    DataContractError
        When a column is missing or a paragraph is neither on a step nor a side service.

    Examples
    --------
    >>> import pandas as pd
    >>> spells = pd.DataFrame({"person_id": [1, 1, 2], "paragraph": ["SEL85", "SEL107", "SEL85"],
    ...                        "municipality": [101, 101, 147],
    ...                        "start_date": ["2015-01-01", "2016-03-01", "2015-06-01"],
    ...                        "end_date": ["2017-12-31", "2016-08-31", None]})
    >>> queries = pd.DataFrame({"person_id": [1, 1, 2], "date": ["2016-06-30", "2018-06-30", "2018-06-30"]})
    >>> steps_on_dates(spells, queries)
       person_id       date    step  level  municipality
    0          1 2016-06-30  SEL107    3.0           101
    1          1 2018-06-30    none    0.0          <NA>
    2          2 2018-06-30   SEL85    2.0           147
    """
    stairs = as_staircase(staircase)
    what = "steps_on_dates"
    check_columns(queries, {"person_col": person_col, "date_col": date_col}, name=what)
    on_step = _step_spells(spells, stairs, person_col, paragraph_col, start_col, end_col, what)
    keep = [person_col, start_col, end_col, "_level"]
    if municipality_col is not None:
        check_columns(spells, {"municipality_col": municipality_col}, name=what)
        keep.append(municipality_col)
    q = queries[[person_col, date_col]].drop_duplicates()
    q = q.assign(**{date_col: pd.to_datetime(q[date_col])})
    m = q.merge(on_step[keep], on=person_col, how="inner")
    m = m[(m[start_col] <= m[date_col]) & (m[end_col].isna() | (m[end_col] >= m[date_col]))]
    m = m.sort_values([person_col, date_col, "_level", start_col], ascending=[True, True, False, False], kind="stable")
    held = m.drop_duplicates([person_col, date_col])
    cols = [person_col, date_col, "_level"] + ([municipality_col] if municipality_col is not None else [])
    out = queries[[person_col, date_col]].assign(**{date_col: pd.to_datetime(queries[date_col])})
    out = out.merge(held[cols], on=[person_col, date_col], how="left")
    out["level"] = out["_level"].fillna(stairs.none_level).astype(float)
    names = dict(zip(stairs.levels, stairs.steps))
    out["step"] = pd.Categorical(out["level"].map(names), dtype=stairs.dtype)
    out = out.drop(columns="_level")
    if municipality_col is not None:
        out[municipality_col] = out[municipality_col].astype("Int64")
    return out[[person_col, date_col, "step", "level"] + ([municipality_col] if municipality_col is not None else [])]


def staircase_moves(
    pairs: pd.DataFrame,
    spells: pd.DataFrame,
    *,
    staircase=None,
    person_col: str = "person_id",
    baseline_col: str = "baseline_date",
    follow_up_col: str = "follow_up_date",
    municipality_col: str | None = "municipality",
    **spell_cols: str,
) -> pd.DataFrame:
    """Step at baseline and at follow-up, and the move between them (down / same / up).

    Parameters
    ----------
    pairs : DataFrame
        One row per person with a baseline and a follow-up date (e.g. from ``change_per_citizen``).
    spell_cols : str
        ``paragraph_col``, ``start_col``, ``end_col`` as in :func:`steps_on_dates`.

    Returns
    -------
    DataFrame
        ``person_col``, ``step_baseline``, ``step_follow_up``, ``move`` (ordered categorical down < same <
        up, by step level) and, when asked, ``municipality`` (acting municipality at baseline).

    Raises
    ------
    DataContractError
        When a column is missing or ``pairs`` repeats a person.

    Examples
    --------
    >>> import pandas as pd
    >>> from progression.datasets import load_example
    >>> pairs = pd.DataFrame({"person_id": [1, 2, 3], "baseline_date": "2012-01-01",
    ...                       "follow_up_date": "2016-01-01"})
    >>> staircase_moves(pairs, load_example("spells"))
       person_id step_baseline step_follow_up  move  municipality
    0          1         SEL85           none  down           791
    1          2         SEL85          SEL85  same           370
    2          3         SEL85           none  down           461
    """
    what = "staircase_moves"
    check_columns(pairs, {"person_col": person_col, "baseline_col": baseline_col, "follow_up_col": follow_up_col}, name=what)
    if pairs[person_col].duplicated().any():
        dups = pairs.loc[pairs[person_col].duplicated(), person_col].tolist()[:5]
        raise DataContractError(f"{what}: pairs must have one row per {person_col!r}; repeated: {dups}")
    both = pd.concat([pairs[[person_col, baseline_col]].rename(columns={baseline_col: "date"}),
                      pairs[[person_col, follow_up_col]].rename(columns={follow_up_col: "date"})])
    steps = steps_on_dates(spells, both, staircase=staircase, date_col="date", person_col=person_col,
                           municipality_col=municipality_col, **spell_cols).drop_duplicates([person_col, "date"])
    steps = steps.set_index([person_col, "date"])
    base_key = pd.MultiIndex.from_arrays([pairs[person_col], pd.to_datetime(pairs[baseline_col])])
    follow_key = pd.MultiIndex.from_arrays([pairs[person_col], pd.to_datetime(pairs[follow_up_col])])
    base, follow = steps.reindex(base_key), steps.reindex(follow_key)
    out = pd.DataFrame({person_col: pairs[person_col].to_numpy(),
                        "step_baseline": base["step"].to_numpy(), "step_follow_up": follow["step"].to_numpy()})
    diff = np.sign(follow["level"].to_numpy() - base["level"].to_numpy())
    out["move"] = pd.Categorical.from_codes((diff + 1).astype(int), categories=["down", "same", "up"], ordered=True)
    if municipality_col is not None:
        out[municipality_col] = base[municipality_col].to_numpy()
    return out
