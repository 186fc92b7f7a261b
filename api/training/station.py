"""A station's own training data: alerts its staff resolved as a real incident or a false alarm.

Every alert keeps a clip and, beside it, a JSON sidecar with everyone's boxes and joints per
frame (alerts/evidence.py). An alert of the behaviour resolved `real_incident` is a positive
sample, one resolved `false_alarm` a negative one: exactly the mistakes and catches of this
station's cameras. The poses come from the sidecar and the motion thumbnails from the clip's
frames, read as the what-if replay reads them (api/whatif.py). Alerts without a clip, or whose
clip was removed by retention, are skipped and counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sqlalchemy.engine import Engine

from alerts.store import AlertStore
from api.training.dataset import Sample
from api.whatif import ClipError, motion_thumbnails, read_clip

log = logging.getLogger(__name__)

STATION_WEIGHT = 2.0
"""A station's own resolved alert counts twice a generated or research clip in training."""

LABELS = {"real_incident": True, "false_alarm": False}


@dataclass(frozen=True)
class StationData:
    samples: list[Sample]
    skipped: int


def clip_sample(clip: Path, name: str, positive: bool) -> Sample:
    """An alert clip and its sidecar as a training sample (the what-if replay's reader)."""
    parsed = read_clip(clip.with_suffix(".json"))
    thumbs = motion_thumbnails(clip, len(parsed.frames))
    if thumbs is None:
        raise ValueError(f"{clip.name} cannot be decoded or is shorter than its sidecar")
    return Sample(
        name=name,
        positive=positive,
        fps=len(parsed.frames) / max(parsed.frames[-1].time_s - parsed.frames[0].time_s, 1e-3),
        frame_size=(parsed.width, parsed.height),
        timestamps=np.array([f.time_s for f in parsed.frames], np.float64),
        poses=tuple(f.poses for f in parsed.frames),
        thumbs=np.stack(thumbs),
        source="station",
        weight=STATION_WEIGHT,
    )


def station_samples(engine: Engine, evidence_root: Path, behaviour: str) -> StationData:
    """Every resolved alert of `behaviour` with a clip, as samples (see the module docstring)."""
    store = AlertStore(engine)
    samples, skipped = [], 0
    for disposition, positive in LABELS.items():
        offset = 0
        while batch := store.find(
            kind=behaviour, disposition=disposition, limit=500, offset=offset
        ):
            offset += len(batch)
            for alert in batch:
                clip = evidence_root / alert.clip if alert.clip else None
                if clip is None or not clip.is_file() or not clip.with_suffix(".json").is_file():
                    skipped += 1
                    continue
                try:
                    samples.append(clip_sample(clip, f"alert-{alert.id}", positive))
                except (OSError, ValueError, ClipError) as exc:
                    log.warning("alert %s: clip not usable for training (%s)", alert.id, exc)
                    skipped += 1
    return StationData(samples, skipped)
