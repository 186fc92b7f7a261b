"""Fight detection (being built)."""

from __future__ import annotations

from pydantic import Field

from vision.configbase import StrictModel


class FightConfig(StrictModel):
    """Fight detection settings."""

    enabled: bool = Field(True, description="Whether fight is detected on this camera.")
