"""The base of every configuration section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are an error, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


_Items = TypeVar("_Items", bound=Sequence[_HasName])


def unique_names(items: _Items, rule: str) -> _Items:
    """`items` when their names are unique; ValueError `rule` naming the repeated ones otherwise
    (for validators: `unique_names(zones, "zone names must be unique per camera")`)."""
    names = [i.name for i in items]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"{rule}, repeated: {repeated}")
    return items
