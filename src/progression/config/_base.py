"""The base of every parameter section (unknown keys are errors) and the shared ordering rules."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class Section(BaseModel):
    """A parameter section: strict about unknown keys, immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def not_before(field: str, earlier: str) -> Any:
    """A field validator: ``field`` may not be before ``earlier`` (a field declared above it).

    Declare ``field`` with ``validate_default=True`` so that the rule also holds when only
    ``earlier`` is given (``transitions: {start_year: 2030}`` against the default ``end_year``).
    """

    def check(cls, value: Any, info: ValidationInfo) -> Any:
        first = info.data.get(earlier)
        if value is not None and first is not None and value < first:
            raise ValueError(f"{field} ({value}) is before {earlier} ({first})")
        return value

    return field_validator(field)(check)


def ordered_pairs(*fields: str) -> Any:
    """A field validator: each ``(first, last)`` pair (or each value of a mapping of pairs) is ordered."""

    def check(cls, value: Any, info: ValidationInfo) -> Any:
        pairs = value.items() if isinstance(value, dict) else [(None, value)]
        for key, pair in pairs:
            if pair is not None and pair[0] > pair[1]:
                where = f"{key}: " if key is not None else ""
                raise ValueError(f"{where}first ({pair[0]}) is after last ({pair[1]}): give [first, last]")
        return value

    return field_validator(*fields)(check)
