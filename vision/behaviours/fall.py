"""Fall detection (being built)."""

from __future__ import annotations

from pydantic import Field

from vision.configbase import StrictModel


class FallConfig(StrictModel):
    """Fall detection settings."""

    enabled: bool = Field(True, description="Whether fall is detected on this camera.")
