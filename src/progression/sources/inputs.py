"""Load a run's input tables from the configured source and check them against the contracts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from progression.config import Params
from progression.exceptions import ParameterError
from progression.schemas import SCHEMAS, RegisterRules, validate_tables


@dataclass
class Inputs:
    """Validated input tables, and the generating truth when the data are synthetic."""

    tables: dict[str, pd.DataFrame]
    truth: dict | None = field(default=None)


def register_rules(params: Params) -> RegisterRules:
    """The register rules of ``data.rules``, with the extract's end filled in.

    Without ``data.rules.extract_end`` the extract ends on 31 December of ``data.synthetic.end_year``
    for synthetic data, and today for files (no event lies in the future).
    """
    rules = params.data.rules
    last = rules.extract_end
    if last is None:
        last = date(params.data.synthetic.end_year, 12, 31) if params.data.source == "synthetic" else date.today()
    return RegisterRules(first_date=rules.first_date, last_date=last, min_age_at_start=rules.min_age_at_start,
                         overlapping_spells=rules.overlapping_spells, late_closure_days=rules.late_closure_days)


def load_inputs(params: Params) -> Inputs:
    """Read (or generate) every input table and validate them all at once.

    Tables read from files are cast to the contract's types where no value changes (see
    :func:`progression.schemas.conform`); generated tables are validated as they are.

    Raises
    ------
    ParameterError
        When ``data.files.tables`` names a table the contracts do not know.
    DataContractError
        Its first line names the most telling failure; every failing table, column, check and
        example rows (lines of the files) follow.
    """
    if params.data.source == "files":
        from progression.sources.files import read_tables

        unknown = sorted(set(params.data.files.tables) - set(SCHEMAS))
        if unknown:
            raise ParameterError(f"{params.source_file}: data.files.tables: unknown table(s) {unknown}; "
                                 f"known tables: {sorted(SCHEMAS)}")
        tables, truth = read_tables(params.data.files), None
        validated = validate_tables(tables, register_rules(params), cast=True)
        validated = {name: _plain(df) for name, df in validated.items()}
    else:
        from progression.sources.synthetic import generate

        data = generate(params.data.synthetic, params.staircase, seed=params.run.seed)
        tables, truth = data.tables, data.truth
        validated = validate_tables(tables, register_rules(params))
    return Inputs(tables=validated, truth=truth)


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """A table without the file's line numbers and names: numbered from 0, like generated tables."""
    out = df.reset_index(drop=True)
    out.attrs = {}
    return out
