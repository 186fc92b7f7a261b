"""The snapshot and clip kept with each alert.

Each camera's recent analysed frames live in a `FrameRing` (memory only, scaled down to
`max_width_px`). When an alert asks for a clip, `ClipRecorder` waits until the seconds after the
detection have passed, takes that window from the ring and hands it to one background writer
thread, which encodes a browser-playable H.264 MP4 and a JSON sidecar with the people's boxes and
skeletons per frame. A snapshot gets a JSON sidecar of its people too (`snapshot_sidecar`), so an
export can pixelate faces in evidence stored unblurred. Footage that belongs to no alert is never
written.

Every file is written under a temporary name in its own folder and moved into place with
`os.replace`, so a reader never sees half a file. Times are wall-clock epoch seconds passed in by
the caller; nothing here reads the clock, so tests never sleep.
"""

from __future__ import annotations

import json
import logging
import math
import os
import queue
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np

from alerts.config import EvidenceConfig
from vision.annotate import draw_poses
from vision.privacy import skeleton_view
from vision.types import Image, Poses
from vision.video_io import H264Writer

log = logging.getLogger(__name__)

FALLBACK_FPS = 5.0
"""Frame rate of a clip of a single frame (nothing to measure the rate from)."""
MIN_FPS, MAX_FPS = 1.0, 60.0
HIGHLIGHT_BGR = (0, 0, 255)


@dataclass(frozen=True, eq=False)
class RingFrame:
    """One analysed frame as kept for evidence: BGR `image` (h, w, 3) and `poses` in its pixels."""

    wall_time: float
    image: Image
    poses: Poses


def scale_poses(poses: Poses, sx: float, sy: float) -> Poses:
    """`poses` with x multiplied by `sx` and y by `sy` (boxes and keypoints; NaN stays NaN)."""
    factor = np.array([sx, sy], np.float32)
    return Poses(
        xyxy=(poses.xyxy.reshape(-1, 2, 2) * factor).reshape(-1, 4).astype(np.float32),
        score=poses.score,
        keypoints=(poses.keypoints * factor).astype(np.float32),
        keypoint_score=poses.keypoint_score,
        track_id=poses.track_id,
    )


def _resize(image: Image, size: tuple[int, int]) -> Image:
    """`image` resized to (width, height): INTER_AREA when shrinking, else INTER_LINEAR."""
    w, h = size
    shrink = w * h < image.shape[0] * image.shape[1]
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, (w, h), interpolation=interpolation), dtype=np.uint8)


class FrameRing:
    """One camera's recent analysed frames, bounded by time, for snapshots and clips.

    `push` keeps frames no older than `seconds` before the newest, scaled down to `max_width_px`
    wide (poses scaled with them). The camera thread pushes while the alert thread reads windows,
    so every method takes the ring's lock. For clips the ring must hold at least
    `clip_before_s + clip_after_s` seconds: `FrameRing.for_evidence(cfg)` sizes it so.
    """

    def __init__(self, seconds: float, max_width_px: int, *, camera_id: str = "") -> None:
        if not seconds >= 0:
            raise ValueError(f"FrameRing seconds must be >= 0, got {seconds}")
        if max_width_px < 2:
            raise ValueError(f"FrameRing max_width_px must be >= 2, got {max_width_px}")
        self.seconds = float(seconds)
        self.max_width_px = int(max_width_px)
        self.camera_id = camera_id  # for log messages
        self._frames: deque[RingFrame] = deque()
        self._lock = threading.Lock()

    @classmethod
    def for_evidence(
        cls, cfg: EvidenceConfig, *, camera_id: str = "", slack_s: float = 2.0
    ) -> FrameRing:
        """A ring long enough for `cfg`'s clips, with `slack_s` for late observation."""
        seconds = cfg.clip_before_s + cfg.clip_after_s + slack_s
        return cls(seconds, cfg.max_width_px, camera_id=camera_id)

    def push(self, wall_time: float, image: Image, poses: Poses) -> RingFrame:
        """Keep a (scaled) copy of `image` and `poses` seen at `wall_time`; return what is kept.

        A `wall_time` earlier than the newest kept frame means the clock went back: the older
        frames are dropped, so windows stay in time order.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(
                f"FrameRing expects uint8 (h, w, 3) images, got {image.dtype} {image.shape}"
            )
        h, w = int(image.shape[0]), int(image.shape[1])
        if w > self.max_width_px:
            new_w, new_h = self.max_width_px, max(1, round(h * self.max_width_px / w))
            kept = RingFrame(
                float(wall_time),
                _resize(image, (new_w, new_h)),
                scale_poses(poses, new_w / w, new_h / h),
            )
        else:
            kept = RingFrame(float(wall_time), image.copy(), poses)
        with self._lock:
            if self._frames and kept.wall_time < self._frames[-1].wall_time:
                log.warning(
                    "[%s] frame time went back from %.3f to %.3f: evidence ring cleared",
                    self.camera_id,
                    self._frames[-1].wall_time,
                    kept.wall_time,
                )
                self._frames.clear()
            self._frames.append(kept)
            oldest = kept.wall_time - self.seconds
            while self._frames[0].wall_time < oldest:
                self._frames.popleft()
        return kept

    def window(self, start: float, end: float) -> list[RingFrame]:
        """The kept frames with `start <= wall_time <= end`, oldest first."""
        with self._lock:
            return [f for f in self._frames if start <= f.wall_time <= end]

    def latest(self) -> RingFrame | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._frames)


@contextmanager
def _temp_beside(path: Path, suffix: str) -> Iterator[Path]:
    """A fresh temporary path in `path`'s folder (created), removed again unless moved away."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=suffix)
    os.close(fd)
    temp = Path(name)
    temp.chmod(0o644)  # mkstemp's 0600 would hide evidence from a web server of another user
    try:
        yield temp
    finally:
        temp.unlink(missing_ok=True)


def snapshot_sidecar(path: Path) -> Path:
    """The JSON sidecar of the snapshot at `path`: `x.jpg.json` beside `x.jpg` (and
    `x.real.jpg.json` beside a skeleton-only camera's `x.real.jpg`)."""
    return path.with_name(path.name + ".json")


def write_snapshot(
    path: Path, frame: RingFrame, *, quality: int, highlight: tuple[int, ...] = ()
) -> None:
    """Write `frame` as a JPEG with everyone's box and skeleton drawn; the people whose track id
    is in `highlight` (those in the alert) get a thicker red box as well.

    Beside it goes `snapshot_sidecar(path)` with the frame's people in the snapshot's pixels, so
    faces can be placed later (pixelated at export) the way they are live::

        {"t": 1700000002.0, "width": 320, "height": 240, "track_ids": [3],
         "xyxy": [[x1, y1, x2, y2]], "keypoints": [[[x, y] or null, ...17]],
         "keypoint_score": [[0.91 or null, ...17]], "score": [0.9]}
    """
    image = draw_poses(frame.image, frame.poses)
    ids = frame.poses.track_id
    if highlight and ids is not None:
        thickness = 2 * max(1, round(max(image.shape[:2]) / 640)) + 1
        for i in np.flatnonzero(np.isin(ids, highlight)):
            x1, y1, x2, y2 = (round(float(v)) for v in frame.poses.xyxy[i])
            cv2.rectangle(image, (x1, y1), (x2, y2), HIGHLIGHT_BGR, thickness)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok or encoded is None:
        raise ValueError(f"could not encode the snapshot {path.name} as JPEG ({image.shape})")
    h, w = int(image.shape[0]), int(image.shape[1])
    sidecar = {"t": frame.wall_time, "width": w, "height": h, **_poses_record(frame.poses)}
    json_path = snapshot_sidecar(path)
    with _temp_beside(path, ".tmp.jpg") as temp, _temp_beside(json_path, ".tmp.json") as temp_json:
        temp.write_bytes(np.asarray(encoded).tobytes())
        temp_json.write_text(json.dumps(sidecar, allow_nan=False, separators=(",", ":")))
        temp.replace(path)
        temp_json.replace(json_path)


@dataclass(frozen=True)
class ClipInfo:
    """A written clip: the MP4, its JSON sidecar, how many frames, how long, at what rate, and
    the encoder that wrote it (e.g. `libx264`)."""

    path: Path
    json_path: Path
    frames: int
    duration_s: float
    fps: float
    codec: str


def clip_fps(frames: Sequence[RingFrame]) -> float:
    """The constant rate a clip of `frames` plays at: their mean rate, clamped to 1..60 fps, and
    exactly representable as the container's rate (denominator <= 1001)."""
    n = len(frames)
    span = frames[-1].wall_time - frames[0].wall_time if n else 0.0
    fps = (n - 1) / span if n >= 2 and span > 0 else FALLBACK_FPS
    fps = min(MAX_FPS, max(MIN_FPS, fps))
    return float(Fraction(fps).limit_denominator(1001))


def _round(value: float, digits: int = 2) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def _poses_record(poses: Poses) -> dict[str, Any]:
    """`poses` as JSON lists: track ids, boxes, keypoints and their scores (null where missing),
    person scores."""
    ids = poses.track_id
    return {
        "track_ids": [None] * len(poses) if ids is None else [int(i) for i in ids],
        "xyxy": [[_round(float(v)) for v in box] for box in poses.xyxy],
        "keypoints": [
            [
                None
                if np.isnan(point).any()
                else [_round(float(point[0])), _round(float(point[1]))]
                for point in person
            ]
            for person in poses.keypoints
        ],
        "keypoint_score": [[_round(float(s)) for s in person] for person in poses.keypoint_score],
        "score": [_round(float(s), 3) for s in poses.score],
    }


def _frame_record(frame: RingFrame, offset_s: float, poses: Poses) -> dict[str, Any]:
    return {"t": frame.wall_time, "offset_s": round(offset_s, 4), **_poses_record(poses)}


def write_clip(
    path: Path, frames: Sequence[RingFrame], *, detected_at: float, crf: int
) -> ClipInfo:
    """Encode `frames` as an H.264 MP4 at `path` and write its sidecar `path.with_suffix(".json")`.

    The video plays at a constant `clip_fps(frames)`; frame i shows at `i / fps` seconds. Frames
    of another size than the first are resized to it (poses with them). The sidecar::

        {"fps": 5.0, "detected_at": 1700000002.0, "detected_offset_s": 1.0,
         "width": 160, "height": 120,
         "frames": [{"t": 1700000001.0, "offset_s": 0.0, "track_ids": [3],
                     "xyxy": [[x1, y1, x2, y2]], "keypoints": [[[x, y] or null, ...17]],
                     "keypoint_score": [[0.93 or null, ...17]], "score": [0.91]}, ...]}

    `t` is the frame's wall time, `offset_s` where it plays in the video; `detected_offset_s` is
    the video time of `detected_at` (mapped through the frames' wall times, so it equals
    `detected_at - t_first` when frames came evenly; outside the clip it runs on at 1 s per s).
    Coordinates are pixels of the `width` x `height` video. Missing joints are null; a joint's
    score (2 digits) lets faces be placed later with the live threshold (export blurring).
    """
    if not frames:
        raise ValueError(f"clip {path.name} has no frames")
    first = frames[0]
    h, w = int(first.image.shape[0]), int(first.image.shape[1])
    fps = clip_fps(frames)
    offsets = [i / fps for i in range(len(frames))]
    times = [f.wall_time for f in frames]
    if detected_at <= times[0]:
        detected_offset = detected_at - times[0]
    elif detected_at >= times[-1]:
        detected_offset = offsets[-1] + detected_at - times[-1]
    else:
        detected_offset = float(np.interp(detected_at, times, offsets))
    records = []
    json_path = path.with_suffix(".json")
    with _temp_beside(path, f".tmp{path.suffix}") as temp_mp4:
        with H264Writer(temp_mp4, fps=fps, size=(w, h), crf=crf) as writer:
            for frame, offset in zip(frames, offsets, strict=True):
                image, poses = frame.image, frame.poses
                fh, fw = int(image.shape[0]), int(image.shape[1])
                if (fw, fh) != (w, h):
                    image = _resize(image, (w, h))
                    poses = scale_poses(poses, w / fw, h / fh)
                writer.write(image)
                records.append(_frame_record(frame, offset, poses))
        sidecar = {
            "fps": fps,
            "detected_at": detected_at,
            "detected_offset_s": round(detected_offset, 4),
            "width": w - w % 2,
            "height": h - h % 2,
            "frames": records,
        }
        with _temp_beside(json_path, ".tmp.json") as temp_json:
            temp_json.write_text(json.dumps(sidecar, allow_nan=False, separators=(",", ":")))
            temp_mp4.replace(path)
            temp_json.replace(json_path)
    return ClipInfo(
        path=path,
        json_path=json_path,
        frames=len(frames),
        duration_s=len(frames) / fps,
        fps=fps,
        codec=writer.codec,
    )


def real_path(path: Path) -> Path:
    """Where the real picture of a skeleton-only camera's evidence is kept: `x.real.mp4` beside
    `x.mp4` (and `x.real.jpg` beside `x.jpg`); only admins can open it, with a reason."""
    return path.with_name(f"{path.stem}.real{path.suffix}")


def skeleton_frame(frame: RingFrame) -> RingFrame:
    """The frame with its image replaced by the people's skeletons on a neutral background."""
    return RingFrame(frame.wall_time, skeleton_view(frame.image.shape, frame.poses), frame.poses)


@dataclass(frozen=True)
class _Request:
    alert_id: str
    camera_id: str
    detected_at: float
    relpath: str
    start: float
    end: float


@dataclass(frozen=True)
class _Job:
    request: _Request
    frames: list[RingFrame]


def _check_relpath(relpath: str) -> None:
    pure = PurePosixPath(relpath)
    if pure.is_absolute() or ".." in pure.parts or "\\" in relpath or pure.suffix != ".mp4":
        raise ValueError(
            f"clip path must be a relative .mp4 path inside the evidence folder, got {relpath!r}"
        )


class ClipRecorder:
    """Writes each alert's clip once the seconds after its detection have been seen.

    `request` registers a clip of `cfg.clip_before_s` before to `cfg.clip_after_s` after the
    detection; the camera thread calls `observe` after each pushed frame, which hands the clips
    whose window has passed to one writer thread; `tick` (any thread, now and then) finishes clips
    of cameras that stopped delivering, with what their ring holds. The writer calls
    `on_done(alert_id, relpath)` once `root / relpath` and its sidecar are in place, or
    `on_error(alert_id, message)` when there were no frames or writing failed. Callbacks run on the
    writer thread.
    """

    def __init__(
        self,
        cfg: EvidenceConfig,
        root: Path,
        on_done: Callable[[str, str], None],
        on_error: Callable[[str, str], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.skeleton_cameras: set[str] = set()
        """Cameras in skeleton-only mode: their clips are written as skeletons, the real one
        beside it (`real_path`)."""
        self.root = root
        self._on_done = on_done
        self._on_error = on_error
        self._waiting: dict[str, _Request] = {}
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._unfinished = 0  # jobs queued or being written
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def request(self, alert_id: str, camera_id: str, detected_at: float, relpath: str) -> None:
        """Ask for the clip of `alert_id` (relative path under `root`, e.g. `clips/a1.mp4`).

        A second request for an alert still waiting replaces the first.
        """
        _check_relpath(relpath)
        req = _Request(
            alert_id=alert_id,
            camera_id=camera_id,
            detected_at=detected_at,
            relpath=relpath,
            start=detected_at - self.cfg.clip_before_s,
            end=detected_at + self.cfg.clip_after_s,
        )
        with self._lock:
            self._waiting[alert_id] = req
        log.debug("[%s] clip of alert %s requested until %.3f", camera_id, alert_id, req.end)

    def observe(self, camera_id: str, wall_now: float, ring: FrameRing) -> None:
        """Hand over every clip of `camera_id` whose window ended by `wall_now` (the time of the
        frame just pushed to `ring`)."""
        self._hand_over(lambda r: r.camera_id == camera_id and wall_now >= r.end, {camera_id: ring})

    def tick(self, wall_now: float, rings: Mapping[str, FrameRing]) -> None:
        """Hand over clips whose camera sent nothing for `finish_timeout_s` after their window:
        they get whatever frames the ring holds (none: `on_error`)."""
        timeout = self.cfg.finish_timeout_s
        self._hand_over(lambda r: wall_now > r.end + timeout, rings)

    def _hand_over(self, due: Callable[[_Request], bool], rings: Mapping[str, FrameRing]) -> None:
        with self._lock:
            ready = [r for r in self._waiting.values() if due(r)]
            for r in ready:
                del self._waiting[r.alert_id]
                self._unfinished += 1
        for r in ready:
            ring = rings.get(r.camera_id)
            frames = ring.window(r.start, r.end) if ring is not None else []
            self._jobs.put(_Job(r, frames))

    def start(self) -> None:
        """Start the writer thread (again after `stop`); calling it while running does nothing."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self._run, name="clip-writer", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Write the clips already handed over, then end the writer thread. Clips still waiting
        for their frames are given up (`on_error`)."""
        with self._lock:
            abandoned = list(self._waiting.values())
            self._waiting.clear()
        for r in abandoned:
            self._fail(r, "the service stopped before the clip's frames were seen")
        thread = self._thread
        if thread is None:
            return
        self._jobs.put(None)
        thread.join(timeout_s)
        if thread.is_alive():
            log.warning("clip writer still busy after %.1f s; leaving it to finish", timeout_s)
        else:
            self._thread = None

    def pending(self) -> int:
        """Clips requested and not yet done or failed (waiting for frames, queued or writing)."""
        with self._lock:
            return len(self._waiting) + self._unfinished

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until the writer has nothing queued or in progress; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unfinished == 0, timeout_s)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._write(job)
            finally:
                with self._idle:
                    self._unfinished -= 1
                    self._idle.notify_all()

    def _write(self, job: _Job) -> None:
        r = job.request
        if not job.frames:
            self._fail(
                r,
                f"no frames from camera {r.camera_id} between {r.start:.3f} and {r.end:.3f}",
            )
            return
        try:
            frames = job.frames
            if r.camera_id in self.skeleton_cameras:
                # the real (masked, blurred) clip beside it, for admins only; the clip everyone
                # sees shows the people as skeletons on a neutral background
                write_clip(
                    real_path(self.root / r.relpath),
                    frames,
                    detected_at=r.detected_at,
                    crf=self.cfg.clip_crf,
                )
                frames = [skeleton_frame(f) for f in frames]
            info = write_clip(
                self.root / r.relpath,
                frames,
                detected_at=r.detected_at,
                crf=self.cfg.clip_crf,
            )
        except Exception as exc:
            log.exception("[%s] writing the clip of alert %s failed", r.camera_id, r.alert_id)
            self._fail(r, f"writing {r.relpath} failed: {type(exc).__name__}: {exc}")
            return
        log.info(
            "[%s] clip of alert %s written: %s (%d frames, %.1f s)",
            r.camera_id,
            r.alert_id,
            r.relpath,
            info.frames,
            info.duration_s,
        )
        try:
            self._on_done(r.alert_id, r.relpath)
        except Exception:
            log.exception("[%s] on_done of alert %s failed", r.camera_id, r.alert_id)

    def _fail(self, r: _Request, message: str) -> None:
        log.warning("[%s] no clip for alert %s: %s", r.camera_id, r.alert_id, message)
        if self._on_error is None:
            return
        try:
            self._on_error(r.alert_id, message)
        except Exception:
            log.exception("[%s] on_error of alert %s failed", r.camera_id, r.alert_id)
