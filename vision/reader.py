"""One thread per camera that keeps only the newest frame, so decoding never waits on analysis.

    reader = CameraReader(cfg)
    reader.start()
    last = -1
    while running:
        frame = reader.get(after_index=last, timeout_s=1.0)
        if frame is None:
            continue  # nothing newer yet; reader.health() says whether the camera is down
        last = frame.index  # frames replaced before anyone took them count as dropped
        ...
    reader.stop()

The thread opens the source, reads it into a one-slot buffer, and on any failure (an open that
fails, a lost stream, a corrupt or truncated file) waits with exponential backoff and jitter
(`next_delay`) and opens it again, forever, until `stop()`. A file that ends loops when
`cfg.loop`, else the reader's state becomes "ended". With `cfg.realtime`, files are paced at their
own timestamps, like a live camera.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from vision.config import CameraConfig, ReconnectConfig
from vision.sources import SourceError, VideoSource, open_source
from vision.types import Frame, Image

logger = logging.getLogger(__name__)

State = Literal["starting", "online", "reconnecting", "ended", "disabled"]

_FPS_WINDOW_S = 5.0
"""Input frame rate is measured over the frames of this many recent seconds."""
_MAX_PACING_LAG_S = 1.0
"""A realtime file that falls this far behind its own clock (slow decoding) is re-anchored."""


@dataclass(frozen=True)
class CameraHealth:
    """A snapshot of one camera's input, for the admin API and logs.

    `state`: "starting" (not yet a frame), "online" (frames arriving), "reconnecting" (waiting
    after a failure, or reopening; `last_error` says why), "ended" (a file without `loop` is
    done, or the reader was stopped), "disabled" (`enabled: false` in the config).
    `input_fps` is measured over the last few seconds (0.0 when fewer than two frames arrived
    there). `reconnects` counts attempts to reopen after a failure, successful or not.
    `last_error` is the latest failure, cleared once frames arrive again.
    """

    camera_id: str
    state: State
    input_fps: float
    frames_read: int
    dropped_frames: int
    last_frame_age_s: float | None
    reconnects: int
    last_error: str | None
    decode_ms: float | None = None
    """Median time to read and decode one frame over the last few seconds (files: wall time;
    live streams: the reader thread's CPU time, as their reads also wait for the network)."""
    decode_load: float = 0.0
    """Share of one core spent reading and decoding over the last few seconds (decode seconds
    per wall second): what this camera's input costs before any analysis."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def next_delay(attempt: int, cfg: ReconnectConfig, rng: random.Random) -> float:
    """Seconds to wait before reopening after `attempt` consecutive failures (0 = the first).

    The wait grows from `initial_s` by `multiplier` per failure up to `max_s`, then a random
    fraction of up to `jitter` of it is added or removed, so many cameras that failed together do
    not retry in step. The result never exceeds `max_s`; with `jitter=1` it is "full jitter",
    uniform in [0, 2 * base] (capped).

    >>> cfg = ReconnectConfig(initial_s=1, max_s=30, multiplier=2, jitter=0)
    >>> [next_delay(n, cfg, random.Random(0)) for n in range(7)]
    [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    """
    if attempt < 0:
        raise ValueError(f"attempt must be >= 0, got {attempt}")
    base = min(cfg.initial_s, cfg.max_s)
    for _ in range(attempt):  # stops growing at max_s, so no overflow however long it fails
        if base >= cfg.max_s:
            break
        base = min(base * cfg.multiplier, cfg.max_s)
    wait = base * (1.0 + cfg.jitter * rng.uniform(-1.0, 1.0))
    return min(max(wait, 0.0), cfg.max_s)


class CameraReader:
    """Reads one camera in its own thread into a one-slot buffer of the newest `Frame`.

    `Frame.index` counts frames read by this reader since `start()`, across reconnects and loops,
    so a gap between two frames a consumer took is the number of frames it missed. Thread-safe:
    `get()` and `health()` may be called from any thread.

    `rng` makes the backoff jitter reproducible in tests.
    """

    def __init__(self, cfg: CameraConfig, *, rng: random.Random | None = None) -> None:
        self.cfg = cfg
        self._rng = rng if rng is not None else random.Random()
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        # Guarded by _cond:
        self._slot: Frame | None = None
        self._slot_taken = False
        self._state: State = "starting" if cfg.enabled else "disabled"
        self._frames_read = 0
        self._dropped = 0
        self._reconnects = 0
        self._last_error: str | None = None
        self._last_frame_at: float | None = None  # time.monotonic()
        self._last_ts = -1e9  # timestamp of the last frame published
        self._arrivals: deque[float] = deque(maxlen=1024)  # time.monotonic() of recent frames
        self._decode_s: deque[float] = deque(maxlen=1024)  # read time of each of those frames

    @property
    def camera_id(self) -> str:
        return self.cfg.id

    def start(self) -> None:
        """Start the reading thread; does nothing for a disabled camera or when already started."""
        if not self.cfg.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.cfg.id}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> bool:
        """Stop the thread and release the source; True when it ended within `timeout_s`.

        A backoff wait or realtime pacing is interrupted at once; an open or read already in
        progress in OpenCV finishes first (bounded by `open_timeout_s` / `read_timeout_s`), and
        the thread releases the capture when it does.
        """
        self._stop.set()
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def get(self, after_index: int, timeout_s: float) -> Frame | None:
        """The newest frame once its index is above `after_index`, waiting up to `timeout_s`.

        None when no newer frame came in time (also when the file ended or the reader is stopped
        or disabled: the wait is the same, so a consumer's loop never spins). Pass -1 to take
        whatever frame is there.
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                frame = self._slot
                if frame is not None and frame.index > after_index:
                    self._slot_taken = True
                    return frame
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def health(self) -> CameraHealth:
        now = time.monotonic()
        with self._cond:
            recent = [t for t in self._arrivals if now - t <= _FPS_WINDOW_S]
            span = recent[-1] - recent[0] if len(recent) >= 2 else 0.0
            decode = sorted(list(self._decode_s)[len(self._decode_s) - len(recent) :])
            return CameraHealth(
                camera_id=self.cfg.id,
                state=self._state,
                input_fps=(len(recent) - 1) / span if span > 0 else 0.0,
                frames_read=self._frames_read,
                dropped_frames=self._dropped,
                last_frame_age_s=None if self._last_frame_at is None else now - self._last_frame_at,
                reconnects=self._reconnects,
                last_error=self._last_error,
                decode_ms=round(decode[len(decode) // 2] * 1000, 2) if decode else None,
                decode_load=round(sum(decode) / _FPS_WINDOW_S, 3),
            )

    # --- the thread -----------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0  # consecutive failures; the wait before reopening grows with it
        try:
            while not self._stop.is_set():
                before, live = self._frames_read, False
                try:
                    source = open_source(self.cfg)
                    live = source.is_live
                    try:
                        if self._read_all(source):
                            return  # a file ended
                    finally:
                        source.close()
                except SourceError as e:
                    self._failed(str(e))
                except Exception as e:  # one camera's bad luck must not end its thread: retry
                    logger.exception("camera %s: unexpected error while reading", self.cfg.id)
                    self._failed(f"unexpected error: {type(e).__name__}: {e}")
                if self._stop.is_set():
                    break
                # A live source that gave frames was fine until it failed: start the backoff
                # again. A file that fails is broken and keeps backing off until it is fixed.
                if live and self._frames_read > before:
                    attempt = 0
                delay = next_delay(attempt, self.cfg.reconnect, self._rng)
                attempt += 1
                logger.debug("camera %s: reopening in %.2f s", self.cfg.id, delay)
                if self._stop.wait(delay):
                    break
                with self._cond:
                    self._reconnects += 1
        finally:
            self._set_state("ended")

    def _read_all(self, source: VideoSource) -> bool:
        """Read until the stop event (False), a file's end without loop (True), or SourceError."""
        pace_wall: float | None = None  # monotonic time at which pace_ts was due
        pace_ts = 0.0
        offset: float | None = None  # keeps a reopened file's timestamps after earlier ones
        # Only frames the analysis can use are converted to pictures: one per analysis period
        # (less one source frame, so the analysis never waits a period for its next frame).
        period = 1.0 / self.cfg.analysis_fps
        slack = 1.0 / (source.fps or 2 * self.cfg.analysis_fps)

        def wanted(ts: float) -> bool:
            with self._cond:
                due = self._last_ts + period - slack
            return offset is None or ts + offset >= due

        while not self._stop.is_set():
            # A live stream's read waits for the network: count the thread's CPU time there
            # (FFmpeg's own decoding threads are not in it); a file's read is all decoding.
            clock = time.thread_time if source.is_live else time.perf_counter
            started = clock()
            item = source.read(wanted)
            read_s = clock() - started
            if item is None:
                logger.info("camera %s: %s ended", self.cfg.id, source.name)
                self._set_state("ended")
                return True
            image, ts = item
            if offset is None:
                gap = 1.0 / (source.fps or 25.0)
                offset = 0.0 if source.is_live else max(0.0, self._last_ts + gap - ts)
            ts += offset
            if self.cfg.realtime and not source.is_live:
                now = time.monotonic()
                if pace_wall is None or now - (pace_wall + ts - pace_ts) > _MAX_PACING_LAG_S:
                    pace_wall, pace_ts = now, ts
                if self._stop.wait(max(0.0, pace_wall + ts - pace_ts - now)):
                    return False
            self._publish(image, ts, read_s)
        return False

    def _publish(self, image: Image, ts: float, read_s: float = 0.0) -> None:
        now = time.monotonic()
        if image.size == 0:  # decoded but not wanted: counts as input, never analysed
            with self._cond:
                self._frames_read += 1
                self._last_frame_at = now
                self._arrivals.append(now)
                self._decode_s.append(read_s)
            return
        with self._cond:
            if self._slot is not None and not self._slot_taken:
                self._dropped += 1
            ts = max(ts, self._last_ts + 1e-6)
            self._last_ts = ts
            self._slot = Frame(self.cfg.id, self._frames_read, ts, image)
            self._slot_taken = False
            self._frames_read += 1
            self._last_frame_at = now
            self._arrivals.append(now)
            self._decode_s.append(read_s)
            if self._state != "online":
                was = self._state
                self._state, self._last_error = "online", None
                logger.info("camera %s: online (was %s)", self.cfg.id, was)
            self._cond.notify_all()

    def _failed(self, message: str) -> None:
        with self._cond:
            repeated = message == self._last_error
        # The same failure again (a camera that stays down) is logged once, then at debug level.
        logger.log(
            logging.DEBUG if repeated else logging.WARNING, "camera %s: %s", self.cfg.id, message
        )
        self._set_state("reconnecting", error=message)

    def _set_state(self, state: State, *, error: str | None = None) -> None:
        with self._cond:
            self._state = state
            if error is not None:
                self._last_error = error
