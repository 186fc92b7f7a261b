"""Evidence kept with alerts: the frame ring, snapshots and H.264 clips with their JSON sidecar."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest

from alerts.config import EvidenceConfig
from alerts.evidence import (
    ClipRecorder,
    FrameRing,
    RingFrame,
    clip_fps,
    scale_poses,
    snapshot_sidecar,
    write_clip,
    write_snapshot,
)
from tests.builders import standing_poses
from vision.types import Poses

W, H = 160, 120


def _image(i: int, size: tuple[int, int] = (W, H)) -> np.ndarray:
    """A grey room with a white bar that moves with `i` (so consecutive frames differ)."""
    w, h = size
    image = np.full((h, w, 3), 90, np.uint8)
    x = (i * 7) % (w - 10)
    image[: h // 4, x : x + 10] = 255
    return image


def _poses(track_id: int = 7) -> Poses:
    poses = standing_poses([(40.0, 20.0, 100.0, 115.0)])
    poses.keypoints[0, 3] = np.nan  # a missing joint (left ear)
    return poses.with_track_ids(np.array([track_id], np.int64))


def _frames(times: list[float], size: tuple[int, int] = (W, H)) -> list[RingFrame]:
    return [RingFrame(t, _image(i, size), _poses()) for i, t in enumerate(times)]


def _decode(path: Path) -> tuple[Any, list[np.ndarray], float]:
    """(video stream, decoded BGR frames, duration in seconds) of an MP4, via PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        images = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
        assert stream.duration is not None and stream.time_base is not None
        duration = float(stream.duration * stream.time_base)
        return stream, images, duration


# ---------------------------------------------------------------------------- FrameRing


def test_ring_trims_by_time_and_scales_images_and_poses() -> None:
    ring = FrameRing(seconds=1.0, max_width_px=160)
    big = np.zeros((240, 320, 3), np.uint8)
    big[96:104, 196:204] = 255  # a bright dot around (200, 100) in the 320x240 image
    poses = standing_poses([(100.0, 40.0, 300.0, 230.0)])
    poses.keypoints[0, 0] = (200.0, 100.0)
    poses.keypoints[0, 4] = np.nan
    for i in range(8):  # 100.0 .. 101.75 every 0.25 s
        ring.push(100.0 + i * 0.25, big, poses)

    assert len(ring) == 5  # 100.75 .. 101.75: within 1 s of the newest
    assert [f.wall_time for f in ring.window(0, 1e12)] == [100.75, 101.0, 101.25, 101.5, 101.75]
    latest = ring.latest()
    assert latest is not None and latest.wall_time == 101.75
    assert latest.image.shape == (120, 160, 3)
    np.testing.assert_allclose(latest.poses.xyxy[0], [50.0, 20.0, 150.0, 115.0])
    x, y = latest.poses.keypoints[0, 0]
    assert (x, y) == (100.0, 50.0)
    assert latest.image[round(y), round(x)].min() > 200, "the keypoint lands on the scaled dot"
    assert np.isnan(latest.poses.keypoints[0, 4]).all(), "NaN stays NaN"
    assert not np.isnan(poses.keypoints[0, 0]).any() and poses.keypoints[0, 0, 0] == 200.0, (
        "the caller's poses are not changed"
    )


def test_ring_keeps_narrow_images_as_they_are_and_copies_them() -> None:
    ring = FrameRing(seconds=5.0, max_width_px=160)
    image = _image(0)
    poses = _poses()
    ring.push(1.0, image, poses)
    image[:] = 0  # the camera reuses its buffer
    kept = ring.latest()
    assert kept is not None
    assert kept.image.shape == (H, W, 3) and kept.image.max() == 255
    assert kept.poses is poses


def test_ring_empty_and_clock_going_back() -> None:
    ring = FrameRing(seconds=5.0, max_width_px=160)
    assert ring.latest() is None and len(ring) == 0 and ring.window(0, 1e12) == []
    for t in (10.0, 10.2, 10.4):
        ring.push(t, _image(0), Poses.empty())
    ring.push(3.0, _image(0), Poses.empty())  # the wall clock was set back
    assert [f.wall_time for f in ring.window(0, 1e12)] == [3.0]


@pytest.mark.parametrize(
    ("start", "end", "want"),
    [
        (101.0, 102.0, [101.0, 101.5, 102.0]),  # both ends inclusive
        (100.9, 101.1, [101.0]),
        (101.1, 101.4, []),  # between two frames
        (99.0, 100.0, [100.0]),  # ends at the oldest
        (103.0, 104.0, [103.0]),  # starts at the newest
        (103.1, 110.0, []),  # after the newest
        (50.0, 60.0, []),  # long before
        (102.0, 101.0, []),  # reversed
        (0.0, 1e12, [100.0, 100.5, 101.0, 101.5, 102.0, 102.5, 103.0]),
    ],
)
def test_ring_window_boundaries(start: float, end: float, want: list[float]) -> None:
    ring = FrameRing(seconds=10.0, max_width_px=160)
    for i in range(7):
        ring.push(100.0 + i * 0.5, _image(i), Poses.empty())
    assert [f.wall_time for f in ring.window(start, end)] == want


def test_ring_rejects_images_that_are_not_bgr() -> None:
    ring = FrameRing(seconds=1.0, max_width_px=160)
    with pytest.raises(ValueError, match="uint8"):
        ring.push(1.0, np.zeros((H, W), np.uint8), Poses.empty())


def test_ring_reads_windows_while_another_thread_pushes() -> None:
    ring = FrameRing(seconds=12.0, max_width_px=8)
    image = np.zeros((6, 16, 3), np.uint8)  # scaled on every push
    errors: list[BaseException] = []

    def pusher() -> None:
        try:
            for i in range(3000):
                ring.push(i * 0.25, image, Poses.empty())
        except BaseException as exc:  # surfaced by the assert below
            errors.append(exc)

    thread = threading.Thread(target=pusher)
    thread.start()
    while thread.is_alive():
        frames = ring.window(0.0, 1e12)
        times = [f.wall_time for f in frames]
        assert times == sorted(times)
        assert not times or times[-1] - times[0] <= 12.0
        assert all(f.image.shape == (3, 8, 3) for f in frames)
    thread.join()
    assert not errors
    assert len(ring) == 49  # 737.75 .. 749.75


def test_scale_poses_scales_x_and_y_separately() -> None:
    poses = _poses()
    scaled = scale_poses(poses, 0.5, 0.25)
    np.testing.assert_allclose(scaled.xyxy[0], [20.0, 5.0, 50.0, 28.75])
    np.testing.assert_allclose(scaled.keypoints[0, 0], poses.keypoints[0, 0] * (0.5, 0.25))
    assert np.isnan(scaled.keypoints[0, 3]).all()
    assert scaled.track_id is not None and scaled.track_id.tolist() == [7]


# ---------------------------------------------------------------------------- snapshots


def test_snapshot_is_a_jpeg_with_the_skeleton_drawn(tmp_path: Path) -> None:
    frame = RingFrame(100.0, np.full((H, W, 3), 90, np.uint8), _poses())
    path = tmp_path / "cam" / "2024-01-01" / "a1.jpg"
    write_snapshot(path, frame, quality=90)

    assert path.read_bytes()[:2] == b"\xff\xd8"
    got = cv2.imread(str(path))
    assert got is not None and got.shape == (H, W, 3)
    diff = np.abs(got.astype(int) - frame.image.astype(int)).max(axis=2)
    kp = frame.poses.keypoints[0]
    for a, b in ((11, 13), (5, 7), (11, 12)):  # left thigh, left upper arm, hips
        x, y = np.round((kp[a] + kp[b]) / 2).astype(int)
        assert diff[y, x] > 40, f"segment {a}-{b} drawn at ({x}, {y})"
    assert diff[2:10, 140:155].max() < 10, "far from the person the image is unchanged"
    assert frame.image.max() == 90, "the ring's frame is not drawn on"
    names = sorted(p.name for p in path.parent.iterdir())
    assert names == ["a1.jpg", "a1.jpg.json"], "the sidecar beside it, no temporary file left"
    assert snapshot_sidecar(path) == path.parent / "a1.jpg.json"
    assert {p.stat().st_mode & 0o777 for p in path.parent.iterdir()} == {0o644}, "web server"

    sidecar = json.loads(snapshot_sidecar(path).read_text())
    assert (sidecar["t"], sidecar["width"], sidecar["height"]) == (100.0, W, H)
    assert sidecar["track_ids"] == [7] and sidecar["score"] == [0.9]
    assert sidecar["xyxy"] == [[40.0, 20.0, 100.0, 115.0]]
    keypoints = sidecar["keypoints"][0]
    assert len(keypoints) == 17 and keypoints[3] is None, "a missing joint is null"
    np.testing.assert_allclose(keypoints[0], frame.poses.keypoints[0, 0], atol=0.01)
    assert sidecar["keypoint_score"] == [[0.9] * 17]


def test_snapshot_highlights_the_alerts_people_in_red(tmp_path: Path) -> None:
    image = np.full((H, W, 3), 90, np.uint8)
    poses = Poses(
        xyxy=np.array([[10, 10, 70, 110], [90, 10, 150, 110]], np.float32),
        score=np.full(2, 0.9, np.float32),
        keypoints=np.full((2, 17, 2), np.nan, np.float32),
        keypoint_score=np.zeros((2, 17), np.float32),
        track_id=np.array([3, 4], np.int64),
    )
    write_snapshot(tmp_path / "s.jpg", RingFrame(1.0, image, poses), quality=95, highlight=(4,))
    decoded = cv2.imread(str(tmp_path / "s.jpg"))
    assert decoded is not None
    got = decoded.astype(int)

    def redness(x: int) -> int:  # on the left edge of a box, half way down
        b, g, r = got[60, x - 1 : x + 2].mean(axis=0)
        return int(r - max(b, g))

    assert redness(90) > 100, "track 4 is in the alert: red box"
    assert redness(10) < 100, "track 3 is not"


def test_snapshot_encode_failure_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A JPEG encoder that fails cannot be produced on purpose: simulate cv2's failure return.
    monkeypatch.setattr(cv2, "imencode", lambda *args, **kwargs: (False, None))
    path = tmp_path / "s.jpg"
    with pytest.raises(ValueError, match=r"could not encode the snapshot s\.jpg"):
        write_snapshot(path, RingFrame(1.0, _image(0), Poses.empty()), quality=85)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- clips


@pytest.mark.parametrize(
    ("times", "fps"),
    [
        ([100.0 + i / 5 for i in range(11)], 5.0),
        ([100.0 + i / 15 for i in range(30)], 15.0),
        ([100.0], 5.0),  # a single frame: the fallback rate
        ([100.0, 100.0], 5.0),  # no time between them
        ([100.0, 100.001, 100.002], 60.0),  # clamped up to 60
        ([100.0, 110.0], 1.0),  # clamped down to 1
    ],
)
def test_clip_fps(times: list[float], fps: float) -> None:
    assert clip_fps(_frames(times)) == pytest.approx(fps)


@pytest.mark.parametrize(
    ("times", "detected_at", "fps"),
    [
        ([100.0 + i / 5 for i in range(11)], 101.0, 5.0),
        ([100.0 + i / 10 for i in range(7)], 100.25, 10.0),
        ([100.0], 100.0, 5.0),
    ],
)
def test_write_clip_is_h264_a_browser_plays_with_a_matching_sidecar(
    tmp_path: Path, times: list[float], detected_at: float, fps: float
) -> None:
    frames = _frames(times)
    path = tmp_path / "cam" / "a1.mp4"
    info = write_clip(path, frames, detected_at=detected_at, crf=28)

    n = len(frames)
    assert info.path == path and info.json_path == path.with_suffix(".json")
    assert info.frames == n and info.fps == pytest.approx(fps)
    assert info.duration_s == pytest.approx(n / fps)
    stream, images, duration = _decode(path)
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.width, stream.height) == (W, H)
    assert len(images) == n
    assert abs(duration - ((n - 1) / fps + 1 / fps)) <= 1 / fps
    data = path.read_bytes()
    assert 0 <= data.find(b"moov") < data.find(b"mdat"), "faststart"
    for i, image in enumerate(images):  # the moving bar of frame i is where it was drawn
        x = (i * 7) % (W - 10)
        assert image[5:20, x + 2 : x + 8].mean() > 200, i

    sidecar = json.loads(info.json_path.read_text())
    assert sidecar["fps"] == pytest.approx(fps)
    assert sidecar["detected_at"] == detected_at
    assert sidecar["detected_offset_s"] == pytest.approx(detected_at - times[0])
    assert (sidecar["width"], sidecar["height"]) == (W, H)
    assert len(sidecar["frames"]) == n
    first, last = sidecar["frames"][0], sidecar["frames"][-1]
    assert first["t"] == times[0] and last["t"] == times[-1]
    assert first["offset_s"] == 0.0
    assert last["offset_s"] == pytest.approx((n - 1) / fps)
    assert first["track_ids"] == [7] and first["score"] == [0.9]
    assert first["xyxy"] == [[40.0, 20.0, 100.0, 115.0]]
    keypoints = first["keypoints"][0]
    assert len(keypoints) == 17 and keypoints[3] is None, "a missing joint is null"
    np.testing.assert_allclose(keypoints[0], frames[0].poses.keypoints[0, 0], atol=0.01)
    assert first["keypoint_score"] == [[0.9] * 17], "per person, per joint, 2 digits"
    assert sorted(p.name for p in path.parent.iterdir()) == ["a1.json", "a1.mp4"]
    assert {p.stat().st_mode & 0o777 for p in path.parent.iterdir()} == {0o644}


def test_write_clip_resizes_frames_to_the_first_ones_size(tmp_path: Path) -> None:
    frames = _frames([10.0, 10.2])
    big = standing_poses([(80.0, 40.0, 200.0, 230.0)])  # the same person in a 320x240 frame
    frames.append(RingFrame(10.4, np.asarray(cv2.resize(_image(2), (320, 240)), np.uint8), big))
    info = write_clip(tmp_path / "c.mp4", frames, detected_at=10.2, crf=28)

    _, images, _ = _decode(info.path)
    assert len(images) == 3 and all(i.shape == (H, W, 3) for i in images)
    sidecar = json.loads(info.json_path.read_text())
    assert sidecar["frames"][2]["xyxy"] == [[40.0, 20.0, 100.0, 115.0]]
    assert sidecar["frames"][2]["track_ids"] == [None], "untracked people have no id"


def test_write_clip_maps_detection_to_video_time_when_frames_come_unevenly(
    tmp_path: Path,
) -> None:
    # 5 frames over 2 s play at 2 fps: the detection at 100.5 (frame 2's wall time) is at
    # frame 2's place in the video, 1.0 s, not 0.5 s after the first frame.
    times = [100.0, 100.1, 100.5, 101.8, 102.0]
    info = write_clip(tmp_path / "c.mp4", _frames(times), detected_at=100.5, crf=28)
    sidecar = json.loads(info.json_path.read_text())
    assert sidecar["fps"] == 2.0
    assert [f["offset_s"] for f in sidecar["frames"]] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert sidecar["detected_offset_s"] == 1.0


def test_write_clip_needs_frames(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no frames"):
        write_clip(tmp_path / "c.mp4", [], detected_at=1.0, crf=28)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- ClipRecorder


class Calls:
    """What the recorder reported, from its writer thread."""

    def __init__(self) -> None:
        self.done: list[tuple[str, str]] = []
        self.errors: list[tuple[str, str]] = []

    def on_done(self, alert_id: str, relpath: str) -> None:
        self.done.append((alert_id, relpath))

    def on_error(self, alert_id: str, message: str) -> None:
        self.errors.append((alert_id, message))


CFG = EvidenceConfig(clip_before_s=1.0, clip_after_s=1.0, max_width_px=160, finish_timeout_s=5.0)


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def recorder(tmp_path: Path, calls: Calls) -> Iterator[ClipRecorder]:
    rec = ClipRecorder(CFG, tmp_path, calls.on_done, calls.on_error)
    rec.start()
    yield rec
    rec.stop(30.0)


def _push(ring: FrameRing, rec: ClipRecorder, camera: str, i: int) -> float:
    """Push frame i of a 5 fps camera (wall times 100.0, 100.2, ...) and let `rec` observe it."""
    t = 100.0 + i / 5
    ring.push(t, _image(i, (320, 240)), standing_poses([(80.0, 40.0, 200.0, 230.0)]))
    rec.observe(camera, t, ring)
    return t


def test_recorder_writes_the_clip_once_the_after_window_has_passed(
    tmp_path: Path, recorder: ClipRecorder, calls: Calls
) -> None:
    ring = FrameRing.for_evidence(CFG)
    for i in range(10):  # up to 101.8
        _push(ring, recorder, "cam", i)
    recorder.request("a1", "cam", 102.0, "cam/a1.mp4")
    for i in range(10, 15):  # up to 102.8: the window (101.0 .. 103.0) has not passed
        _push(ring, recorder, "cam", i)
    assert recorder.wait_idle(30.0)
    assert calls.done == [] and recorder.pending() == 1
    assert not (tmp_path / "cam" / "a1.mp4").exists()

    _push(ring, recorder, "cam", 15)  # 103.0
    assert recorder.wait_idle(30.0)
    assert calls.done == [("a1", "cam/a1.mp4")] and calls.errors == []
    assert recorder.pending() == 0

    _, images, duration = _decode(tmp_path / "cam" / "a1.mp4")
    assert len(images) == 11  # 101.0 .. 103.0 at 5 fps
    assert images[0].shape == (120, 160, 3), "scaled to max_width_px"
    assert abs(duration - 11 / 5) <= 1 / 5
    sidecar = json.loads((tmp_path / "cam" / "a1.json").read_text())
    ts = [f["t"] for f in sidecar["frames"]]
    assert ts[0] == 101.0 and ts[-1] == 103.0
    assert sidecar["detected_offset_s"] == pytest.approx(1.0)
    assert sidecar["frames"][0]["xyxy"] == [[40.0, 20.0, 100.0, 115.0]]

    for i in range(16, 30):  # later frames do not write it again
        _push(ring, recorder, "cam", i)
    assert recorder.wait_idle(30.0)
    assert calls.done == [("a1", "cam/a1.mp4")]


def test_recorder_keeps_cameras_apart(recorder: ClipRecorder, calls: Calls) -> None:
    rings = {"a": FrameRing.for_evidence(CFG), "b": FrameRing.for_evidence(CFG)}
    recorder.request("on-b", "b", 101.0, "b/x.mp4")
    for i in range(20):  # only camera a delivers
        _push(rings["a"], recorder, "a", i)
    assert recorder.wait_idle(30.0)
    assert calls.done == [] and recorder.pending() == 1


def test_recorder_finishes_a_clip_of_a_camera_that_stopped(
    tmp_path: Path, recorder: ClipRecorder, calls: Calls
) -> None:
    ring = FrameRing.for_evidence(CFG)
    recorder.request("a2", "cam", 102.0, "cam/a2.mp4")
    for i in range(13):  # 100.0 .. 102.4, then the camera stops
        _push(ring, recorder, "cam", i)
    recorder.tick(107.9, {"cam": ring})  # window ends 103.0; not yet 5 s later
    assert recorder.wait_idle(30.0)
    assert calls.done == [] and recorder.pending() == 1

    recorder.tick(108.1, {"cam": ring})
    assert recorder.wait_idle(30.0)
    assert calls.done == [("a2", "cam/a2.mp4")] and recorder.pending() == 0
    sidecar = json.loads((tmp_path / "cam" / "a2.json").read_text())
    assert [f["t"] for f in sidecar["frames"]][::7] == [101.0, 102.4]  # what there was
    assert len(_decode(tmp_path / "cam" / "a2.mp4")[1]) == 8


def test_recorder_reports_a_clip_without_frames(
    tmp_path: Path, recorder: ClipRecorder, calls: Calls
) -> None:
    recorder.request("a3", "ghost", 102.0, "ghost/a3.mp4")
    recorder.tick(108.1, {})
    assert recorder.wait_idle(30.0)
    assert calls.done == []
    assert len(calls.errors) == 1
    alert_id, message = calls.errors[0]
    assert alert_id == "a3" and "no frames from camera ghost" in message
    assert not (tmp_path / "ghost").exists()


def test_recorder_reports_a_failed_write_and_keeps_going(
    tmp_path: Path, recorder: ClipRecorder, calls: Calls
) -> None:
    (tmp_path / "blocked").write_text("a file where the clip's folder should be")
    ring = FrameRing.for_evidence(CFG)
    recorder.request("bad", "cam", 101.0, "blocked/bad.mp4")
    recorder.request("good", "cam", 101.0, "cam/good.mp4")
    for i in range(11):  # up to 102.0
        _push(ring, recorder, "cam", i)
    assert recorder.wait_idle(30.0)
    assert calls.done == [("good", "cam/good.mp4")]
    assert [a for a, _ in calls.errors] == ["bad"]
    assert "blocked/bad.mp4" in calls.errors[0][1]


def test_recorder_stop_writes_what_was_handed_over(tmp_path: Path, calls: Calls) -> None:
    rec = ClipRecorder(CFG, tmp_path, calls.on_done, calls.on_error)
    rec.start()
    ring = FrameRing.for_evidence(CFG)
    rec.request("a4", "cam", 101.0, "cam/a4.mp4")
    rec.request("a5", "cam", 109.0, "cam/a5.mp4")  # its frames never come
    for i in range(11):
        _push(ring, rec, "cam", i)
    rec.stop(30.0)
    assert calls.done == [("a4", "cam/a4.mp4")]
    assert [a for a, _ in calls.errors] == ["a5"]
    assert rec.pending() == 0
    assert (tmp_path / "cam" / "a4.mp4").exists()


@pytest.mark.parametrize("relpath", ["/etc/x.mp4", "../x.mp4", "cam/../../x.mp4", "cam/x.avi", ""])
def test_recorder_rejects_paths_outside_its_folder(tmp_path: Path, relpath: str) -> None:
    rec = ClipRecorder(CFG, tmp_path, lambda a, r: None)
    with pytest.raises(ValueError, match=r"relative \.mp4 path"):
        rec.request("a", "cam", 1.0, relpath)
    assert rec.pending() == 0
