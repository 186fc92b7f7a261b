"""Configuration sections of the vision stages, validated by pydantic.

Every knob has a description, bounds and its unit in its name. A stage receives only its own
section. Validation does no I/O (a camera URL is checked for shape, not reached).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator

from vision.behaviours.config import BehavioursConfig
from vision.configbase import StrictModel, unique_names
from vision.motion import GatingConfig
from vision.privacy import PrivacyConfig
from vision.regions import RegionConfig
from vision.zones import ZoneConfig

__all__ = ["CameraConfig", "ReconnectConfig", "StrictModel", "TrackerConfig"]


class ReconnectConfig(StrictModel):
    """Exponential backoff with full jitter between attempts to (re)open a live source."""

    initial_s: float = Field(1.0, gt=0, le=60, description="First wait after a failure, seconds.")
    max_s: float = Field(30.0, gt=0, le=600, description="Longest wait between attempts, seconds.")
    multiplier: float = Field(2.0, ge=1, le=10, description="Growth of the wait per failure.")
    jitter: float = Field(
        0.2, ge=0, le=1, description="Random fraction of the wait added or removed (0 = none)."
    )


_CAMERA_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class CameraConfig(StrictModel):
    """One camera: where its frames come from and how often they are analysed."""

    id: str = Field(description="Short unique id (letters, digits, '-' and '_'), used in topics.")
    name: str = Field("", description="Human-readable name shown to guards.")
    source: str = Field(
        description=(
            "Where frames come from: a video file path, rtsp://..., http(s)://... (MJPEG or a "
            "video file over HTTP), a local device as 'device:0' (or /dev/videoN), or 'demo' for "
            "the generated demo video."
        )
    )
    enabled: bool = Field(True, description="Whether the camera is read and analysed.")
    analysis_fps: float = Field(
        5.0, gt=0, le=60, description="Frames per second handed to the pose model and tracker."
    )
    loop: bool = Field(
        False,
        description="Replay a video file from the start when it ends (demo and test cameras).",
    )
    realtime: bool = Field(
        True,
        description=(
            "Read video files at their own frame rate, like a live camera. False reads as fast as "
            "analysis allows (offline processing)."
        ),
    )
    open_timeout_s: float = Field(
        10.0, gt=0, le=120, description="How long opening a live stream may take before it fails."
    )
    read_timeout_s: float = Field(
        10.0, gt=0, le=120, description="A live stream that sends no frame for this long is lost."
    )
    reconnect: ReconnectConfig = Field(
        default_factory=ReconnectConfig, description="Backoff between attempts to reopen it."
    )
    model_input_size: int | None = Field(
        None,
        ge=160,
        le=1280,
        description="This camera's pose model input size (the bundled model is installed at "
        "320, 480 and 640); empty: `model.input_size`. 320 runs about twice as fast as 480 and "
        "suits rooms where people are a quarter of the picture's height or more; the health "
        "data's `people_height` says how tall they are.",
    )
    gating: GatingConfig = Field(
        default_factory=GatingConfig,
        description="Run the pose model at the full rate only while the picture moves.",
    )
    regions: RegionConfig = Field(
        default_factory=RegionConfig,
        description="Run the pose model only on the part of the frame with motion or people.",
    )
    zones: tuple[ZoneConfig, ...] = Field(
        (), description="Areas of this camera's image with a type (bed, exit, ...); names unique."
    )
    behaviours: BehavioursConfig = Field(
        default_factory=BehavioursConfig,
        description=(
            "This camera's behaviour settings: the file's top-level `behaviours` section with "
            "whatever is given here laid over it."
        ),
    )

    privacy: PrivacyConfig = Field(
        default_factory=PrivacyConfig,
        description="Masks, face blurring and skeleton-only views of this camera.",
    )

    @field_validator("zones")
    @classmethod
    def _unique_zone_names(cls, value: tuple[ZoneConfig, ...]) -> tuple[ZoneConfig, ...]:
        return unique_names(value, "zone names must be unique per camera")

    @field_validator("model_input_size")
    @classmethod
    def _multiple_of_32(cls, value: int | None) -> int | None:
        if value is not None and value % 32:
            raise ValueError("must be a multiple of 32 (e.g. 320, 480, 640)")
        return value

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _CAMERA_ID.match(value):
            raise ValueError("must be 1-64 characters of letters, digits, '-' or '_'")
        return value

    @field_validator("source")
    @classmethod
    def _check_source(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must name a file, an rtsp:// or http(s):// URL, or device:N")
        return value


class TrackerConfig(StrictModel):
    """Multi-person tracking (OC-SORT or ByteTrack from Roboflow's `trackers` library)."""

    type: Literal["ocsort", "bytetrack"] = Field(
        "ocsort",
        description=(
            "Association algorithm. OC-SORT keeps a falling person's id far better at low "
            "analysis rates (docs/TRACKING.md); ByteTrack also matches low-score detections."
        ),
    )
    lost_track_s: float = Field(
        3.0, gt=0, le=60, description="Keep a track this long without a detection before ending it."
    )
    track_activation_threshold: float = Field(
        0.5, gt=0, le=1, description="Detection score needed to start a new track (ByteTrack)."
    )
    high_conf_det_threshold: float = Field(
        0.3,
        gt=0,
        le=1,
        description="Score that puts a detection in the first matching round (below: second).",
    )
    minimum_iou_threshold: float = Field(
        0.1, ge=0, lt=1, description="Lowest box IoU accepted when matching detections to tracks."
    )
    minimum_consecutive_frames: int = Field(
        1, ge=1, le=30, description="Frames a new track needs before it gets an id."
    )
    history_len: int = Field(
        150, ge=2, le=10_000, description="Observations kept per track (keypoint history)."
    )
