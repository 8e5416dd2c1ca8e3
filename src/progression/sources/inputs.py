"""Load a run's input tables from the configured source and check them against the contracts."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from progression.config import Params
from progression.schemas import validate_tables


@dataclass
class Inputs:
    """Validated input tables, and the generating truth when the data are synthetic."""

    tables: dict[str, pd.DataFrame]
    truth: dict | None = field(default=None)


def load_inputs(params: Params) -> Inputs:
    """Read (or generate) every input table and validate them all at once.

    Raises
    ------
    DataContractError
        Listing every failing table, column, check and example rows.
    """
    if params.data.source == "files":
        from progression.sources.files import read_tables

        tables, truth = read_tables(params.data.files), None
    else:
        from progression.sources.synthetic import generate

        data = generate(params.data.synthetic, params.staircase, seed=params.run.seed)
        tables, truth = data.tables, data.truth
    return Inputs(tables=validate_tables(tables), truth=truth)
