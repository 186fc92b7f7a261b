"""What if: how a proposed threshold profile would have scored the camera's labelled alerts.

Staff resolve alerts with a disposition (`real_incident`, `false_alarm`); those labels and the
clip kept with each alert are what a proposal is checked against. Each alert's clip sidecar
(`alerts.evidence.write_clip`: everyone's boxes and keypoints per analysed frame, from about
`clip_before_s` before the detection to `clip_after_s` after it) is replayed through two fresh
`Analyzer`s, one with the camera's active profile and one with the proposed profile, and each
says whether an event of the alert's kind fires anywhere in the clip::

    before = current profile, after = proposed profile
    real_incident: fired -> caught,      not fired -> missed
    false_alarm:   fired -> false alarm, not fired -> quiet

What this can and cannot tell:

- It re-scores only what was recorded around past alerts. It shows detections a stricter
  proposal would lose and false alarms it would remove; it cannot show new detections (or new
  false alarms) a looser proposal would add elsewhere, since nothing outside the clips is kept.
  For that, run `carewatch eval` on labelled footage.
- A replay starts from the clip's first frame with no history: rules that need more time than
  the clip holds before the detection (`person_down` after a minute, `pacing`, `loitering` with
  a long dwell limit) cannot be reproduced; those alerts are listed under `skipped` with why.
- The keypoints are those the pose model found live, at the analysis rate, in the clip's
  (possibly scaled-down) pixels; joint scores are not kept, so every joint present counts as
  found (score 1). The tracker runs again on them with the service's `tracker` settings.
- Image motion (the fight rule's `min_motion_energy`) comes from the clip's video for `fight`
  alerts, decoded frame by frame; other rules read no image, so their replays use blank
  thumbnails.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np

from alerts.model import Alert
from alerts.store import AlertStore
from api.behaviour_models import detectors_for
from api.profiles import ProfileDocument
from vision.config import TrackerConfig
from vision.motion import MOTION_SCALE, thumbnail
from vision.pipeline import Analyzer, Perception
from vision.tracking import PoseTracker
from vision.types import NUM_KEYPOINTS, Image, Poses

log = logging.getLogger(__name__)

LABELS = ("real_incident", "false_alarm")
"""The dispositions a proposal is scored against (`duplicate` and `cleared` say nothing)."""

MOTION_KINDS = frozenset({"fight"})
"""Alert kinds whose rule reads image motion: their clip's video is decoded for it."""


class ClipError(ValueError):
    """A clip sidecar that cannot be replayed (missing, not JSON, wrong shape)."""


@dataclass(frozen=True)
class ClipFrame:
    """One analysed frame of a clip: seconds from the clip's first frame, and everyone's pose."""

    time_s: float
    poses: Poses


@dataclass(frozen=True)
class Clip:
    """A clip sidecar as replayable frames; `start_wall` is the first frame's epoch second and
    `detected_s` the detection's seconds from the first frame."""

    width: int
    height: int
    start_wall: float
    detected_s: float
    frames: tuple[ClipFrame, ...]


def _number(value: Any) -> float:
    """A coordinate or score from the sidecar (null -> NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ClipError(f"expected a number, got {value!r}")
    return float(value)


def _poses(record: dict[str, Any]) -> Poses:
    """The people of one sidecar frame; boxes without finite corners are left out."""
    boxes, scores, points = record.get("xyxy", []), record.get("score", []), record["keypoints"]
    if not (isinstance(boxes, list) and isinstance(points, list) and isinstance(scores, list)):
        raise ClipError("xyxy, score and keypoints must be lists")
    if not len(boxes) == len(points) == len(scores):
        raise ClipError("xyxy, score and keypoints differ in length")
    if not boxes:
        return Poses.empty()
    xyxy = np.array([[_number(v) for v in box] for box in boxes], np.float32).reshape(-1, 4)
    keypoints = np.full((len(boxes), NUM_KEYPOINTS, 2), np.nan, np.float32)
    for i, person in enumerate(points):
        if not isinstance(person, list) or len(person) != NUM_KEYPOINTS:
            raise ClipError(f"a person needs {NUM_KEYPOINTS} keypoints")
        for j, point in enumerate(person):
            if point is not None:
                keypoints[i, j] = (_number(point[0]), _number(point[1]))
    score = np.array([_number(s) for s in scores], np.float32)
    found = np.asarray(~np.isnan(keypoints).any(axis=2), dtype=np.bool_)
    poses = Poses(
        xyxy=xyxy,
        score=np.nan_to_num(score, nan=0.0).astype(np.float32),
        keypoints=np.where(found[..., None], keypoints, np.nan).astype(np.float32),
        keypoint_score=found.astype(np.float32),
    )
    return poses[np.asarray(np.isfinite(xyxy).all(axis=1), dtype=np.bool_)]


def read_clip(path: Path) -> Clip:
    """The sidecar at `path` (the clip's `.json`) as replayable frames; `ClipError` otherwise."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClipError(f"cannot read {path.name}: {exc}") from None
    try:
        records = data["frames"]
        width, height = int(data["width"]), int(data["height"])
        if not isinstance(records, list) or not records or width < 2 or height < 2:
            raise ClipError("no frames, or no frame size")
        first = records[0]
        start = float(first.get("t", first["offset_s"]))
        start_offset = float(first["offset_s"])
        frames = []
        for record in records:
            # The frame's own wall time keeps the live spacing; offset_s is the video's.
            when = (
                float(record["t"]) - start if "t" in record else record["offset_s"] - start_offset
            )
            frames.append(ClipFrame(when, _poses(record)))
        detected = float(data.get("detected_offset_s") or 0.0) - start_offset
    except ClipError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise ClipError(f"{path.name} is not a clip sidecar ({exc!r})") from None
    if start < 0 or not all(math.isfinite(f.time_s) for f in frames):
        raise ClipError(f"{path.name} has bad frame times")
    return Clip(width, height, start, detected, tuple(frames))


def motion_thumbnails(video: Path, count: int) -> list[Image] | None:
    """The motion thumbnails of the first `count` frames of the clip's video, or None when it
    cannot be decoded or holds fewer frames."""
    thumbs: list[Image] = []
    try:
        with av.open(str(video)) as container:
            for frame in container.decode(video=0):
                thumbs.append(thumbnail(np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)))
                if len(thumbs) == count:
                    break
    except (OSError, av.FFmpegError, ValueError) as exc:
        log.warning("what-if: cannot decode %s: %s", video.name, exc)
        return None
    return thumbs if len(thumbs) == count else None


def perceptions(
    camera_id: str, clip: Clip, thumbs: Sequence[Image] | None = None
) -> Iterator[Perception]:
    """What the perception stage saw, frame by frame (blank thumbnails unless given)."""
    blank = np.zeros(
        (max(1, -(-clip.height // MOTION_SCALE)), max(1, -(-clip.width // MOTION_SCALE))), np.uint8
    )
    for i, frame in enumerate(clip.frames):
        yield Perception(
            camera_id=camera_id,
            frame_index=i,
            timestamp=frame.time_s,
            frame_size=(clip.width, clip.height),
            poses=frame.poses,
            thumb=blank if thumbs is None else thumbs[i],
        )


def replay(
    camera_id: str,
    clip: Clip,
    kind: str,
    profiles: Sequence[ProfileDocument],
    tracker: TrackerConfig,
    thumbs: Sequence[Image] | None = None,
) -> list[bool]:
    """Whether an event of `kind` fires anywhere in `clip` under each of `profiles`.

    Each profile gets a fresh tracker and detectors, anchored to the clip's wall time (so
    time-of-day zone windows hold as they did live)."""
    analyzers = [
        Analyzer(
            camera_id,
            PoseTracker(camera_id, tracker),
            detectors_for(p.behaviours, p.zones),
            wall_start=clip.start_wall,
        )
        for p in profiles
    ]
    fired = [False] * len(analyzers)
    for seen in perceptions(camera_id, clip, thumbs):
        for i, analyzer in enumerate(analyzers):
            if fired[i]:
                continue
            result = analyzer.step(seen)
            fired[i] = any(e.kind == kind for e in result.events)
        if all(fired):
            break
    return fired


def history_needed_s(kind: str, profile: ProfileDocument, zone: str | None) -> float:
    """Seconds of a person's history the rule of `kind` needs before it can fire (0: a few
    seconds at most, which every clip holds)."""
    fall, wandering = profile.behaviours.fall, profile.behaviours.wandering
    if kind == "person_down":
        return fall.person_down_after_s
    if kind == "pacing":
        return wandering.pacing_min_duration_s
    if kind == "loitering":
        limits = [
            z.dwell_limit_s
            if z.dwell_limit_s is not None
            else (
                wandering.default_dwell_limit_s
                if z.type in wandering.default_dwell_zone_types
                else None
            )
            for z in profile.zones
            if zone is None or z.name == zone
        ]
        known = [x for x in limits if x is not None]
        return min(known) if known else wandering.default_dwell_limit_s or 0.0
    return 0.0


def labelled_alerts(store: AlertStore, camera_id: str, limit: int) -> list[Alert]:
    """The camera's alerts resolved as a real incident or a false alarm, newest first."""
    found = [
        a
        for label in LABELS
        for a in store.find(camera_id=camera_id, state="resolved", disposition=label, limit=limit)
    ]
    found.sort(key=lambda a: (-a.detected_at, a.id))
    return found[:limit]


def _clip_paths(evidence_root: Path, alert: Alert) -> tuple[Path, Path] | None:
    """The clip's video and sidecar, when both lie inside the evidence folder."""
    if not alert.clip:
        return None
    root = evidence_root.resolve()
    video = (root / alert.clip).resolve()
    if root not in video.parents:
        return None
    return video, video.with_suffix(".json")


def counts(rows: Sequence[dict[str, Any]], key: str) -> dict[str, int]:
    """`caught`, `missed`, `false_alarms`, `quiet_on_false` of the replayed alerts under the
    profile whose verdicts are `rows[i][key]`."""
    real = [r[key] for r in rows if r["disposition"] == "real_incident"]
    false = [r[key] for r in rows if r["disposition"] == "false_alarm"]
    return {
        "caught": sum(real),
        "missed": len(real) - sum(real),
        "false_alarms": sum(false),
        "quiet_on_false": len(false) - sum(false),
    }


def what_if(
    store: AlertStore,
    evidence_root: Path,
    camera_id: str,
    current: ProfileDocument,
    proposed: ProfileDocument,
    tracker: TrackerConfig,
    limit: int = 50,
) -> dict[str, Any]:
    """Score `current` and `proposed` on the camera's `limit` newest labelled alerts.

    Returns `{camera_id, labelled, replayed, before, after, alerts, skipped}`: `before` and
    `after` count caught / missed real incidents and fired / quiet false alarms; `alerts` has
    each replayed alert with `fired_before` and `fired_after`; `skipped` has each alert that
    could not be replayed and why."""
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    alerts = labelled_alerts(store, camera_id, limit)
    for alert in alerts:
        paths = _clip_paths(evidence_root, alert)
        if paths is None:
            skipped.append({"id": alert.id, "reason": "no clip"})
            continue
        video, sidecar = paths
        try:
            clip = read_clip(sidecar)
        except ClipError as exc:
            skipped.append({"id": alert.id, "reason": f"clip unreadable: {exc}"})
            continue
        needed = max(history_needed_s(alert.kind, p, alert.zone) for p in (current, proposed))
        if needed > clip.detected_s + 0.5:
            skipped.append(
                {
                    "id": alert.id,
                    "reason": f"{alert.kind} needs {needed:g} s of history; the clip holds "
                    f"{max(clip.detected_s, 0.0):.1f} s before the detection",
                }
            )
            continue
        thumbs = None
        if alert.kind in MOTION_KINDS:
            thumbs = motion_thumbnails(video, len(clip.frames))
            if thumbs is None:
                skipped.append(
                    {"id": alert.id, "reason": "clip video unreadable (needed for image motion)"}
                )
                continue
        before, after = replay(camera_id, clip, alert.kind, (current, proposed), tracker, thumbs)
        rows.append(
            {
                "id": alert.id,
                "kind": alert.kind,
                "disposition": alert.disposition,
                "detected_at": alert.detected_at,
                "fired_before": before,
                "fired_after": after,
            }
        )
    log.info(
        "camera %s: what-if over %d labelled alerts (%d replayed)",
        camera_id,
        len(alerts),
        len(rows),
    )
    return {
        "camera_id": camera_id,
        "labelled": len(alerts),
        "replayed": len(rows),
        "before": counts(rows, "fired_before"),
        "after": counts(rows, "fired_after"),
        "alerts": rows,
        "skipped": skipped,
    }
