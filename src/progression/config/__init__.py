"""Parameters: YAML files validated into typed sections.

A file may start with ``extends: other.yaml`` (relative to itself) to override a few keys of
another file. Unknown keys, wrong types and impossible values raise
:class:`~progression.exceptions.ParameterError` naming the file and the key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError

from ..exceptions import ParameterError
from ._base import Section
from .analyses import DesignParams, FundParams, PaymentParams, ProgressionParams, TransitionsParams, VariationParams
from .core import (
    DataParams, DisclosureParams, DominanceParams, FileParams, ReportParams, RunParams, StaircaseParams, Step,
    SyntheticParams,
)

__all__ = [
    "Params", "load_params", "RunParams", "DataParams", "SyntheticParams", "FileParams",
    "StaircaseParams", "Step", "DisclosureParams", "ProgressionParams", "TransitionsParams",
    "VariationParams", "FundParams", "DesignParams", "PaymentParams", "DominanceParams", "ReportParams",
]


class Params(Section):
    """All parameters of a run."""

    run: RunParams = Field(default_factory=RunParams)
    data: DataParams = Field(default_factory=DataParams)
    staircase: StaircaseParams = Field(default_factory=StaircaseParams)
    progression: ProgressionParams = Field(default_factory=ProgressionParams)
    transitions: TransitionsParams = Field(default_factory=TransitionsParams)
    variation: VariationParams = Field(default_factory=VariationParams)
    fund: FundParams = Field(default_factory=FundParams)
    design: DesignParams = Field(default_factory=DesignParams)
    payment: PaymentParams = Field(default_factory=PaymentParams)
    disclosure: DisclosureParams = Field(default_factory=DisclosureParams)
    report: ReportParams = Field(default_factory=ReportParams)
    source_file: Path | None = Field(None, description="the parameter file these were loaded from (set by the loader)")

    def to_yaml(self) -> str:
        """The fully resolved parameters as YAML."""
        data = self.model_dump(mode="json", exclude={"source_file"})
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in chain:
        raise ParameterError(f"{path}: 'extends' forms a cycle: {' -> '.join(map(str, (*chain, path)))}")
    if not path.is_file():
        raise ParameterError(f"parameter file not found: {path}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ParameterError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ParameterError(f"{path}: the top level must be a mapping of sections, got {type(raw).__name__}")
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str):
        raise ParameterError(f"{path}: 'extends' must be a file name, got {parent!r}")
    return _merge(_read_yaml(path.parent / parent, (*chain, path)), raw)


def _resolve_relative_paths(data: dict, base: Path) -> dict:
    files = (data.get("data") or {}).get("files")
    if isinstance(files, dict) and isinstance(files.get("directory"), str):
        directory = Path(files["directory"])
        if not directory.is_absolute():
            files["directory"] = str((base / directory).resolve())
    return data


def load_params(path: str | Path) -> Params:
    """Load, merge (``extends``) and validate a parameter file.

    Raises
    ------
    ParameterError
        Naming the file and every offending key (``section.key``) with the reason.
    """
    path = Path(path)
    data = _resolve_relative_paths(_read_yaml(path), path.resolve().parent)
    try:
        params = Params.model_validate(data)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            key = ".".join(str(p) for p in e["loc"]) or "(top level)"
            reason = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
            problems.append(f"  - {key}: {reason} (got {e.get('input')!r})" if e["type"] != "extra_forbidden"
                            else f"  - {key}: {reason}")
        raise ParameterError(f"{path}: {len(problems)} invalid parameter(s):\n" + "\n".join(problems)) from None
    return params.model_copy(update={"source_file": path.resolve()})
