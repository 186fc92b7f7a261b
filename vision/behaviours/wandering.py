"""Wandering detection (being built)."""

from __future__ import annotations

from pydantic import Field

from vision.configbase import StrictModel


class WanderingConfig(StrictModel):
    """Wandering detection settings."""

    enabled: bool = Field(True, description="Whether wandering is detected on this camera.")
