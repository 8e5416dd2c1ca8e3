"""The base of every parameter section: unknown keys are errors."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A parameter section: strict about unknown keys, immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
