"""The demo scene: its script, its determinism, what the real pose model sees in it, the video."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from api.demo_video import (
    SEGMENT_KINDS,
    DemoScene,
    DemoScript,
    Segment,
    Sprite,
    build_scene,
    load_sprites,
)
from models.acquire import ModelInstallError, assets_dir, resolve_onnx
from models.config import PoseModelConfig
from models.onnx_pose import OnnxPoseEstimator
from vision.behaviours.registry import build_detectors
from vision.config import CameraConfig, TrackerConfig
from vision.pipeline import Analyzer, Pipeline
from vision.sources import open_source
from vision.tracking import PoseTracker
from vision.types import BehaviourEvent, Frame, Poses

SEED = 7


@pytest.fixture(scope="module")
def cutter(model_cache: Path) -> OnnxPoseEstimator:
    """The estimator the demo is built with (`carewatch demo-video` uses input 640)."""
    cfg = PoseModelConfig(input_size=640)
    try:
        return OnnxPoseEstimator(resolve_onnx(cfg, model_cache), cfg)
    except ModelInstallError as exc:
        pytest.skip(f"pose model at input 640 not installed ({exc})")


@pytest.fixture(scope="module")
def assets(model_cache: Path) -> Path:
    try:
        return assets_dir(model_cache)
    except ModelInstallError as exc:
        pytest.skip(f"sample photos not installed ({exc})")


@pytest.fixture(scope="module")
def sprites(cutter: OnnxPoseEstimator, assets: Path) -> tuple[list[Sprite], list[Sprite]]:
    return load_sprites(cutter, assets, seed=SEED)


@pytest.fixture(scope="module")
def scene(sprites: tuple[list[Sprite], list[Sprite]]) -> DemoScene:
    full, upper = sprites
    return DemoScene(full, upper, seed=SEED)


def _iou(a: np.ndarray, b: tuple[float, float, float, float]) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union)


def _confident(estimator: OnnxPoseEstimator, image: np.ndarray) -> Poses:
    poses = estimator.infer_image(image)
    return poses[poses.score > 0.5]


def _frame_at(scene: DemoScene, t: float) -> int:
    return round(t * scene.fps)


# --------------------------------------------------------------------------- the script


def test_sprites_are_whole_people(sprites: tuple[list[Sprite], list[Sprite]]) -> None:
    full, upper = sprites
    assert len(full) == 2, "bus.jpg has two whole pedestrians (the third is cut by the edge)"
    assert len(upper) == 2, "zidane.jpg has two men, upper body"
    for sprite in full + upper:
        alpha = sprite.rgba[..., 3]
        assert 0.25 < float((alpha > 0.5).mean()) < 0.9, f"{sprite.name} is not a silhouette"
        assert alpha[0].max() < 0.1 and alpha[:, 0].max() < 0.1, "soft edges, not a rectangle"
    for sprite in full:
        assert sprite.rgba.shape[0] > 2.5 * sprite.rgba.shape[1], "standing people are tall"


def test_script_has_every_kind_with_the_promised_timing(scene: DemoScene) -> None:
    script = scene.script
    w, h = script.size
    assert {s.kind for s in script.segments} == set(SEGMENT_KINDS)
    assert 40 <= script.duration_s <= 60
    assert script.frame_count == round(script.duration_s * script.fps)
    for seg in script.segments:
        assert 0 <= seg.start_s < seg.end_s <= script.duration_s, seg
        x0, y0, x1, y1 = seg.region
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, seg
    (fall,) = script.of_kind("fall")
    assert fall.landed_s is not None
    assert 0.5 <= fall.landed_s - fall.start_s <= 0.8, "tipping over takes 0.5-0.8 s"
    assert fall.end_s - fall.landed_s >= 8, "the person stays down at least 8 s"
    (fight,) = script.of_kind("fight")
    assert 4 <= fight.end_s - fight.start_s <= 6 and len(fight.actors) == 2
    (pace,) = script.of_kind("pace")
    assert pace.end_s - pace.start_s >= 20
    assert len(pace.turns_s) >= 4 and all(pace.contains(t) for t in pace.turns_s)
    assert len(script.of_kind("walk")) >= 3


def test_script_json_round_trips(scene: DemoScene) -> None:
    assert DemoScript.from_json(scene.script.to_json()) == scene.script


def test_fall_tips_over_about_the_feet_and_stays_down(scene: DemoScene) -> None:
    (fall,) = scene.script.of_kind("fall")
    (name,) = fall.actors
    assert fall.landed_s is not None

    def box(t: float) -> tuple[float, float, float, float]:
        return scene.boxes(_frame_at(scene, t))[name]

    standing, lying = box(fall.start_s), box(fall.landed_s + 1.0)
    assert (standing[3] - standing[1]) > 2.5 * (standing[2] - standing[0])
    assert (lying[2] - lying[0]) > 2.5 * (lying[3] - lying[1])
    assert abs(lying[3] - standing[3]) < 0.15 * (standing[3] - standing[1]), "still on the floor"
    assert box(fall.end_s - 0.5) == pytest.approx(lying, abs=3), "lies still until the end"


def test_pace_reverses_within_one_area(scene: DemoScene) -> None:
    (pace,) = scene.script.of_kind("pace")
    (name,) = pace.actors
    frames = range(_frame_at(scene, pace.start_s), _frame_at(scene, pace.end_s))
    xs = np.array([sum(scene.boxes(i)[name][0::2]) / 2 for i in frames])
    assert xs.max() - xs.min() < 0.5 * scene.size[0], "stays in one part of the room"
    step = np.sign(np.diff(xs[::3]))
    step = step[step != 0]
    assert int((np.diff(step) != 0).sum()) >= 4, "several direction reversals"


# --------------------------------------------------------------------------- determinism


def test_render_frame_is_a_pure_function_of_the_index(scene: DemoScene) -> None:
    a = scene.render_frame(200)
    scene.render_frame(10)
    assert np.array_equal(a, scene.render_frame(200))
    assert a.shape == (540, 960, 3) and a.dtype == np.uint8


def test_same_seed_same_frames_other_seed_other_frames(
    scene: DemoScene, cutter: OnnxPoseEstimator, assets: Path
) -> None:
    again = build_scene(cutter, assets, seed=SEED)  # the cut-outs too, from scratch
    other = build_scene(cutter, assets, seed=SEED + 1)
    assert again.script == scene.script
    for i in (0, 100, 240, 500):
        assert np.array_equal(scene.render_frame(i), again.render_frame(i)), i
        assert not np.array_equal(scene.render_frame(i), other.render_frame(i)), i


def test_other_sizes_scale_the_scene(sprites: tuple[list[Sprite], list[Sprite]]) -> None:
    full, upper = sprites
    small = DemoScene(full, upper, seed=SEED, fps=10.0, size=(640, 360))
    assert small.render_frame(30).shape == (360, 640, 3)
    assert small.frame_count == 510
    with pytest.raises(IndexError):
        small.render_frame(510)


def test_scene_needs_two_whole_and_two_upper_body_people(
    sprites: tuple[list[Sprite], list[Sprite]],
) -> None:
    full, upper = sprites
    with pytest.raises(ValueError, match="two full-body"):
        DemoScene(full[:1], upper)


# --------------------------------------------------------------------------- the real model


def _middles(kind: str) -> list[tuple[str, float]]:
    """(kind, fraction of the segment) cases; the segment itself is looked up at test time."""
    return [(kind, f) for f in (0.3, 0.5, 0.7)]


@pytest.mark.parametrize(("kind", "fraction"), _middles("walk") + _middles("pace"))
def test_model_finds_each_walker(
    scene: DemoScene, estimator: OnnxPoseEstimator, kind: str, fraction: float
) -> None:
    for seg in scene.script.of_kind(kind):
        i = _frame_at(scene, seg.start_s + fraction * (seg.end_s - seg.start_s))
        truth = scene.boxes(i)
        poses = _confident(estimator, scene.render_frame(i))
        for name in seg.actors:
            if name not in truth:
                continue  # outside the frame at this instant
            best = max((_iou(b, truth[name]) for b in poses.xyxy), default=0.0)
            assert best > 0.6, f"{kind} {seg.start_s}-{seg.end_s} s: {name} not found in frame {i}"


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_model_finds_two_people_close_together_in_the_fight(
    scene: DemoScene, estimator: OnnxPoseEstimator, fraction: float
) -> None:
    (fight,) = scene.script.of_kind("fight")
    i = _frame_at(scene, fight.start_s + fraction * (fight.end_s - fight.start_s))
    poses = _confident(estimator, scene.render_frame(i))
    x0, y0, x1, y1 = fight.region
    cx = (poses.xyxy[:, 0] + poses.xyxy[:, 2]) / 2
    cy = (poses.xyxy[:, 1] + poses.xyxy[:, 3]) / 2
    inside = poses[(cx > x0) & (cx < x1) & (cy > y0) & (cy < y1)]
    assert len(inside) == 2, f"frame {i}: {len(inside)} people in the fight region"
    a, b = inside.xyxy
    gap = max(a[0], b[0]) - min(a[2], b[2])  # negative: the boxes overlap
    assert gap < 0.25 * min(a[2] - a[0], b[2] - b[0]), "the two are close together"


def test_model_sees_the_fallen_person_lying(scene: DemoScene, estimator: OnnxPoseEstimator) -> None:
    (fall,) = scene.script.of_kind("fall")
    assert fall.landed_s is not None
    (name,) = fall.actors
    for t in (fall.landed_s + 1.0, (fall.landed_s + fall.end_s) / 2, fall.end_s - 0.5):
        i = _frame_at(scene, t)
        truth = scene.boxes(i)[name]
        poses = _confident(estimator, scene.render_frame(i))
        match = [b for b in poses.xyxy if _iou(b, truth) > 0.5]
        assert match, f"the lying person is not found at {t:.1f} s"
        w, h = match[0][2] - match[0][0], match[0][3] - match[0][1]
        assert w > 2 * h, "found lying, not upright"


# --------------------------------------------------------------------------- the video


def test_make_demo_video_writes_h264_and_its_script(
    demo_video: tuple[Path, DemoScript], scene: DemoScene
) -> None:
    out, script = demo_video
    assert script == scene.script
    assert DemoScript.from_json(out.with_suffix(".json").read_text()) == script

    cap = cv2.VideoCapture(str(out))
    count, probe = 0, {}
    while True:
        ok, image = cap.read()
        if not ok:
            break
        assert image.shape == (540, 960, 3)
        if count in (0, 200, 600):
            probe[count] = image
        count += 1
    cap.release()
    assert count == script.frame_count
    for i, decoded in probe.items():  # decoded frame i is rendered frame i, up to compression
        diff = np.abs(decoded.astype(np.int16) - scene.render_frame(i).astype(np.int16))
        assert float(diff.mean()) < 4.0, i
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert float(stream.average_rate) == pytest.approx(script.fps)


def test_segment_contains() -> None:
    seg = Segment("walk", 1.0, 2.0, ("a",), (0, 0, 1, 1))
    assert seg.contains(1.0) and seg.contains(2.0) and not seg.contains(2.01)


def test_pipeline_tracks_the_demo_people_and_raises_the_scripted_events(
    demo_video: tuple[Path, DemoScript], estimator: OnnxPoseEstimator
) -> None:
    """The end-to-end fixture: decoded like a camera, analysed at 5 fps with the default
    behaviours, people keep their ids and the scripted fall, fight and pacing each raise their
    event inside their segment; nothing else is raised."""
    out, script = demo_video
    default = CameraConfig(id="demo", source="demo")
    analyzer = Analyzer(
        "demo",
        PoseTracker("demo", TrackerConfig()),
        build_detectors(default.behaviours, default.zones),
    )
    pipeline = Pipeline("demo", estimator, analyzer)
    events: list[BehaviourEvent] = []
    source = open_source(CameraConfig(id="demo", source=str(out), realtime=False))
    ids_in: dict[int, list[set[int]]] = {i: [] for i in range(len(script.segments))}
    index = 0
    while (item := source.read()) is not None:
        image, t = item
        if index % 3 == 0:  # 15 fps -> 5 analysed fps, the default camera rate
            result = pipeline.step(Frame("demo", index, t, image))
            events.extend(result.events)
            assert result.poses.track_id is not None
            for k, seg in enumerate(script.segments):
                if seg.start_s + 0.5 <= t <= seg.end_s - 0.5:
                    inside = {
                        int(tid)
                        for tid, box in zip(result.poses.track_id, result.poses.xyxy, strict=True)
                        if tid >= 0 and _iou(box, seg.region) > 0.05
                    }
                    ids_in[k].append(inside)
        index += 1
    source.close()
    for k, seg in enumerate(script.segments):
        if seg.kind not in ("fall", "pace"):
            continue
        seen = ids_in[k]
        counts: dict[int, int] = {}
        for ids in seen:
            for tid in ids:
                counts[tid] = counts.get(tid, 0) + 1
        best = max(counts.values(), default=0)
        assert best >= 0.9 * len(seen), f"{seg.kind} at {seg.start_s} s: ids {counts}"

    raised = sorted((e.kind, round(e.detected_at, 1)) for e in events)
    assert [k for k, _ in raised] == ["fall", "fight", "pacing"], raised
    for event in events:
        (seg,) = script.of_kind({"pacing": "pace"}.get(event.kind, event.kind))
        assert seg.start_s <= event.detected_at <= seg.end_s, (event.kind, event.detected_at)
    (fall,) = (e for e in events if e.kind == "fall")
    (seg,) = script.of_kind("fall")
    assert seg.landed_s is not None and fall.detected_at - seg.landed_s <= 2.0
