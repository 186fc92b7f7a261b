"""The protocol every behaviour detector implements."""

from __future__ import annotations

from typing import Protocol

from vision.types import BehaviourEvent, Scene


class BehaviourDetector(Protocol):
    """Turns the tracks of one camera into events, one analysed frame at a time."""

    kind: str

    def update(self, scene: Scene) -> list[BehaviourEvent]: ...
