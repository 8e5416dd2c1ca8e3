"""Example data for docstrings, tutorials and quick experiments: the ci-sized synthetic Denmark.

The tables are those of ``params/ci.yaml`` (scale 0.05 of the country, run seed 20240101): the same
data the ci chain runs on, generated in memory in a few seconds and cached for the session.

Examples
--------
>>> from progression.datasets import load_example
>>> spells = load_example("spells")
>>> sorted(spells.columns)[:4]
['end_date', 'municipality', 'paragraph', 'person_id']
>>> panel = load_example("panel_year")
>>> list(panel.columns)
['person_id', 'period', 'step', 'level', 'municipality', 'status']
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pandas as pd

__all__ = ["EXAMPLE_SEED", "EXAMPLE_SCALE", "example_params", "load_example", "example_truth", "example_trials"]

#: The run seed of the example data (the default ``run.seed``).
EXAMPLE_SEED = 20240101
#: The scale of the example data (``params/ci.yaml``).
EXAMPLE_SCALE = 0.05


def example_params():
    """The parameters of the example data: the defaults with ``data.synthetic.scale = 0.05``.

    Returns
    -------
    Params
        Validated run parameters (run name ``"example"``).

    Examples
    --------
    >>> params = example_params()
    >>> params.data.synthetic.scale, params.run.seed
    (0.05, 20240101)
    """
    from progression.config import Params

    return Params.model_validate({"data": {"synthetic": {"scale": EXAMPLE_SCALE}}, "run": {"name": "example"}})


@cache
def _example():
    from progression.sources.inputs import load_inputs

    return load_inputs(example_params())


@cache
def _panel() -> pd.DataFrame:
    from progression.panel import build_panel, read_panel

    params = example_params()
    tables = _example().tables
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in ("spells", "persons", "moves"):
            tables[name].to_parquet(tmp / f"{name}.parquet", index=False)
        path = build_panel(tmp / "spells.parquet", tmp / "persons.parquet", tmp / "moves.parquet",
                           start=params.data.synthetic.start_year, end=params.data.synthetic.end_year,
                           period="year", staircase=params.staircase, output=tmp / "panel_year.parquet")
        return read_panel(path, period="year", staircase=params.staircase)


def load_example(table: str) -> pd.DataFrame:
    """A validated table of the example data (a copy: change it freely).

    Parameters
    ----------
    table : str
        An input table (``persons``, ``spells``, ``assessments``, ``municipalities``, …; see
        :data:`progression.schemas.SCHEMAS`) or ``panel_year``, the yearly person-period panel of
        steps that notebook 00_data builds.

    Returns
    -------
    DataFrame

    Raises
    ------
    KeyError
        When ``table`` is not a table of the example data.

    Examples
    --------
    >>> persons = load_example("persons")
    >>> persons.shape
    (8237, 9)
    >>> load_example("panel_year")[["person_id", "period", "step"]].head(2)
       person_id     period   step
    0          1 2010-01-01  SEL85
    1          1 2011-01-01  SEL85
    """
    if table == "panel_year":
        return _panel().copy()
    tables = _example().tables
    if table not in tables:
        raise KeyError(f"no example table {table!r}; tables: {sorted([*tables, 'panel_year'])}")
    return tables[table].copy()


def example_truth() -> dict:
    """The generating truth of the example data (what ``truth.json`` holds in a run folder).

    Returns
    -------
    dict
        The generator's parameters and the true values behind the tables (process, outcomes,
        interventions, ...); compare an estimate on the example data with it.

    Examples
    --------
    >>> truth = example_truth()
    >>> truth["seed"], "process" in truth
    (20240101, True)
    """
    return _example().truth


@cache
def _trials(intervention: str, first: int, last: int) -> pd.DataFrame:
    from progression.evaluation import trials

    fund = example_params().fund
    tables = {n: load_example(n) for n in ("persons", "person_years", "spells", "participations", "interventions")}
    rule = trials.eligibility_rules(tables["interventions"], steps=fund.eligible_steps,
                                    ages=fund.eligible_ages)[intervention]
    people = dict(persons=tables["persons"], person_years=tables["person_years"], spells=tables["spells"])
    return trials.trial_frame(intervention, rule, pool=trials.eligible_pool(rule, **people, years=(first, last)),
                              **people, participations=tables["participations"], extract_date="2024-12-31",
                              adoption=trials.adoption_years(tables["participations"]))


def example_trials(intervention: str = "ips", *, years: tuple[int, int] = (2015, 2020)) -> pd.DataFrame:
    """The emulated trials of an intervention on the example data: its starters against eligible citizens
    not yet started, one row per person and trial year (:func:`progression.evaluation.trials.trial_frame`).

    Parameters
    ----------
    intervention : str, default "ips"
        An intervention of the example data's ``interventions`` table.
    years : (int, int), default (2015, 2020)
        First and last trial year.

    Returns
    -------
    DataFrame
        A copy: change it freely.

    Examples
    --------
    >>> frame = example_trials("ips")
    >>> int(frame["treated"].sum()) > 20, {"employed", "age", "treated"} <= set(frame.columns)
    (True, True)
    """
    return _trials(intervention, *years).copy()
