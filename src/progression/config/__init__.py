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
from .analyses import (
    DesignParams, FundParams, PaymentParams, ProgressionParams, SteeringParams, TransitionsParams,
    VariationParams,
)
from .core import (
    DataParams, DisclosureParams, DominanceParams, FileParams, ReportParams, RunParams, StaircaseParams, Step,
    SyntheticParams,
)

__all__ = [
    "Params", "load_params", "RunParams", "DataParams", "SyntheticParams", "FileParams",
    "StaircaseParams", "Step", "DisclosureParams", "ProgressionParams", "TransitionsParams",
    "VariationParams", "FundParams", "DesignParams", "SteeringParams", "PaymentParams", "DominanceParams",
    "ReportParams",
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
    steering: SteeringParams = Field(default_factory=SteeringParams)
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


def _refuse_duplicate_keys(node: yaml.Node, path: Path, keys: tuple[str, ...] = ()) -> None:
    """A key given twice in one mapping is an error: YAML would silently keep only the last value."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                name = ".".join((*keys, key))
                raise ParameterError(
                    f"{path}: key '{name}' appears twice, on lines {seen[key]} and {line}; a second '{key}' would "
                    f"silently replace the first: give each key once")
            seen[key] = line
            _refuse_duplicate_keys(value_node, path, (*keys, key))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(item, path, (*keys, str(i)))


def _load_yaml(path: Path) -> tuple[Any, dict[str, int]]:
    """The file's data, and the line of each top-level key."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        line = path.read_bytes()[:err.start].count(b"\n") + 1
        raise ParameterError(f"{path}, line {line}: not UTF-8 text (save the parameter file as UTF-8)") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        _refuse_duplicate_keys(node, path)
        data = loader.construct_document(node)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        context, context_mark = getattr(err, "context", None), getattr(err, "context_mark", None)
        if context and context_mark is not None and context_mark is not mark:
            context += f", line {context_mark.line + 1}"
        detail = f"{problem} ({context})" if context else problem
        raise ParameterError(f"{path}{where}: not valid YAML: {detail}") from None
    finally:
        loader.dispose()
    lines = {}
    if isinstance(node, yaml.MappingNode):
        lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    return data, lines


def _read_yaml(path: Path, chain: tuple[Path, ...] = (), asked_by: str | None = None) -> dict[str, Any]:
    path = path.resolve()
    if path in chain:
        raise ParameterError(f"{asked_by}: 'extends' forms a cycle: {' -> '.join(map(str, (*chain, path)))}")
    if not path.is_file():
        if asked_by is not None:
            raise ParameterError(f"{asked_by}: extends: parameter file not found: {path}")
        raise ParameterError(f"parameter file not found: {path}")
    raw, lines = _load_yaml(path)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ParameterError(f"{path}: the top level must be a mapping of sections, got {type(raw).__name__}")
    parent = raw.pop("extends", None)
    raw = _resolve_relative_paths(raw, path.parent)
    if parent is None:
        return raw
    where = f"{path}, line {lines.get('extends', 1)}"
    if not isinstance(parent, str):
        raise ParameterError(f"{where}: extends: must be a file name, got {parent!r}")
    return _merge(_read_yaml(path.parent / parent, (*chain, path), asked_by=where), raw)


def _resolve_relative_paths(data: dict, base: Path) -> dict:
    """``data.files.directory`` relative to the folder of the file that gives it."""
    section = data.get("data")
    files = section.get("files") if isinstance(section, dict) else None
    if isinstance(files, dict) and isinstance(files.get("directory"), str):
        directory = Path(files["directory"])
        if not directory.is_absolute():
            files["directory"] = str((base / directory).resolve())
    return data


def load_params(path: str | Path) -> Params:
    """Load, merge (``extends``) and validate a parameter file.

    Parameters
    ----------
    path : str or Path
        A YAML file of parameter sections; ``extends: other.yaml`` (relative to it) takes another file's
        parameters and overrides them.

    Returns
    -------
    Params
        Every section, typed and validated, with the defaults filled in.

    Raises
    ------
    ParameterError
        Naming the file and every offending key (``section.key``) with the reason.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "mine.yaml").write_text("run: {name: mine}\\ndisclosure: {min_cell_size: 10}\\n")
    >>> params = load_params(folder / "mine.yaml")
    >>> params.disclosure.min_cell_size, params.transitions.period
    (10, 'year')
    >>> _ = (folder / "bad.yaml").write_text("disclosure: {min_cel_size: 10}\\n")
    >>> load_params(folder / "bad.yaml")
    Traceback (most recent call last):
    ...
    progression.exceptions.ParameterError: ...disclosure.min_cel_size: unknown key...
    """
    path = Path(path)
    data = _read_yaml(path)
    try:
        params = Params.model_validate(data)
    except ValidationError as err:
        problems = [_describe(e) for e in err.errors()]
        text = f"{path}: {problems[0]}"
        if len(problems) > 1:
            text += f"\n{len(problems)} invalid parameters:\n" + "\n".join(f"  - {p}" for p in problems)
        raise ParameterError(text) from None
    return params.model_copy(update={"source_file": path.resolve()})


def _describe(error: dict) -> str:
    """``section.key: reason (got value)`` for one pydantic error."""
    key = ".".join(str(p) for p in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    reason = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, (dict, list)) and len(repr(value)) > 60:
        return f"{key}: {reason}"
    return f"{key}: {reason} (got {value!r})"
