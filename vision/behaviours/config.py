"""The `behaviours` config section: one sub-section per detector."""

from __future__ import annotations

from pydantic import Field

from vision.behaviours.fall import FallConfig
from vision.behaviours.fight import FightConfig
from vision.behaviours.wandering import WanderingConfig
from vision.configbase import StrictModel


class BehavioursConfig(StrictModel):
    """Which behaviours are detected and with which thresholds (per camera, see cameras[])."""

    fall: FallConfig = Field(default_factory=FallConfig, description="Falls and people down.")
    fight: FightConfig = Field(default_factory=FightConfig, description="Fights.")
    wandering: WanderingConfig = Field(
        default_factory=WanderingConfig,
        description="Loitering, pacing, restricted and exit zones, night movement.",
    )
