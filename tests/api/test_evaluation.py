"""The evaluation harness: scoring by the data README's rules, the replay, tuning and the CLI.

Scoring is checked on hand-made event lists; the replay on synthetic cached clips with a small
fake detector (so the harness is verified independently of the real detectors); the real
footage of ../shared/data only in the end-to-end and regression tests, which skip without it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from api.cli import main
from api.config import AppConfig, load_config
from api.evaluation import report, scoring, tune
from api.evaluation.cache import CachedClip, analysed_indices, load_or_compute, with_regions
from api.evaluation.harness import (
    AnalyzerFactory,
    ClipEvent,
    ClipLabel,
    ClipRun,
    EvalResult,
    LabelsError,
    analyse_clip,
    evaluate,
    read_labels,
    room_of,
    run_loaded,
)
from models.onnx_pose import OnnxPoseEstimator
from tests.builders import standing_poses
from tests.conftest import SHARED_DATA
from vision.behaviours.config import BehavioursConfig
from vision.config import CameraConfig
from vision.motion import GatingConfig
from vision.pipeline import Analyzer
from vision.tracking import PoseTracker
from vision.types import BehaviourEvent, Scene

LABELS_CSV = SHARED_DATA / "clips" / "labels.csv"

# ----------------------------------------------------------------------------- builders


def clip(
    file: str = "upfall_A01_S1_T1_C1.mp4",
    label: str = "fall",
    start: int | None = 20,
    end: int | None = 30,
    *,
    fps: float = 10.0,
    frames: int = 100,
    subtype: str = "",
) -> ClipLabel:
    if label == "normal":
        start = end = None
    return ClipLabel(
        file=file,
        label=label,
        subtype=subtype or label,
        event_start=start,
        event_end=end,
        fps=fps,
        frames=frames,
        room=room_of(file),
    )


def ev(kind: str, frame: int, fps: float = 10.0) -> ClipEvent:
    return ClipEvent(kind=kind, frame=frame, t=frame / fps, confidence=0.9, evidence={"x": 1})


def run(c: ClipLabel, *events: ClipEvent) -> ClipRun:
    return ClipRun(clip=c, events=tuple(events))


# ----------------------------------------------------------------------------- scoring


@pytest.mark.parametrize(
    ("frames", "detected", "early", "extra", "delay_end_s"),
    [
        pytest.param([20], True, 0, 0, -1.0, id="at event_start"),
        pytest.param([30], True, 0, 0, 0.0, id="at event_end"),
        pytest.param([45], True, 0, 0, 1.5, id="late"),
        pytest.param([], False, 0, 0, None, id="missing"),
        pytest.param([19], False, 1, 0, None, id="early only: a false alarm and a miss"),
        pytest.param([5, 35], True, 1, 0, 0.5, id="early and then right"),
        pytest.param([32, 60], True, 0, 1, 0.2, id="twice: one extra alert"),
    ],
)
def test_a_fall_clip_is_right_with_an_alert_at_or_after_event_start(
    frames: list[int], detected: bool, early: int, extra: int, delay_end_s: float | None
) -> None:
    r = run(clip(), *(ev("fall", f) for f in frames))
    o = scoring.outcome(r, "fall")
    assert (o.detection is not None, len(o.early), len(o.extra)) == (detected, early, extra)
    assert o.missed is not detected
    if delay_end_s is None:
        assert o.delay_end_s is None
    else:
        assert o.delay_end_s == pytest.approx(delay_end_s)
    s = scoring.score([r], ["fall"]).behaviours["fall"]
    assert (s.detected, s.early_alarms, s.extra_alerts, s.alerts) == (
        int(detected),
        early,
        extra,
        len(frames),
    )
    assert s.false_alarms == early
    raised = int(detected) + early
    assert s.precision == (None if not raised else int(detected) / raised)  # extras left out


@pytest.mark.parametrize(
    ("c", "events", "fall_normal", "fall_other", "fight_normal", "fight_other"),
    [
        pytest.param(clip(label="normal"), [], 0, 0, 0, 0, id="quiet normal clip"),
        pytest.param(
            clip(label="normal"), [ev("fall", 3), ev("fall", 50)], 2, 0, 0, 0, id="falls on normal"
        ),
        pytest.param(
            clip("survfight_nofi001.mp4", "normal", subtype="no_fight"),
            [ev("fight", 3)],
            0,
            0,
            1,
            0,
            id="fight on no_fight",
        ),
        pytest.param(
            clip("survfight_fi001.mp4", "fight", 0, 49),
            [ev("fall", 10)],
            0,
            1,
            0,
            0,
            id="fall on a fight clip: other",
        ),
        pytest.param(clip(), [ev("fight", 25)], 0, 0, 0, 1, id="fight on a fall clip: other"),
        pytest.param(
            clip(label="normal"), [ev("person_down", 9)], 0, 0, 0, 0, id="person_down: unscored"
        ),
    ],
)
def test_false_alarms_by_where_they_fire(
    c: ClipLabel,
    events: list[ClipEvent],
    fall_normal: int,
    fall_other: int,
    fight_normal: int,
    fight_other: int,
) -> None:
    s = scoring.score([run(c, *events)])
    fall, fight = s.behaviours["fall"], s.behaviours["fight"]
    assert (fall.false_alarms_normal, fall.false_alarms_other) == (fall_normal, fall_other)
    assert (fight.false_alarms_normal, fight.false_alarms_other) == (fight_normal, fight_other)
    assert fall.detected == fight.detected == 0
    wrong = fall_normal + fall_other + fight_normal + fight_other
    assert sum(len(o.wrong) for o in s.problems()) == wrong


def test_person_down_and_wandering_are_counted_not_scored() -> None:
    runs = [
        run(clip(), ev("person_down", 60), ev("fall", 25)),
        run(clip("upfall_A06_S1_T1_C1.mp4", "normal"), ev("pacing", 80), ev("pacing", 90)),
    ]
    s = scoring.score(runs)
    assert s.behaviours["fall"].detected == 1
    kinds = {u.kind: u for u in s.unscored}
    assert set(kinds) == {"person_down", "pacing"}
    assert kinds["pacing"].by_label == {"normal": 2}
    assert kinds["person_down"].by_room == {"upfall-C1": 1}
    assert scoring.behaviour_of("pacing") == "wandering"


@pytest.mark.parametrize(("count", "upper"), [(0, 2.9957), (1, 4.7439), (2, 6.2958), (10, 16.9622)])
def test_poisson_upper_bound(count: int, upper: float) -> None:
    assert scoring.poisson_upper(count) == pytest.approx(upper, abs=1e-3)


@pytest.mark.parametrize(
    ("false_alarms", "per_hour", "upper"),
    [(0, 0.0, 2.9957 / 2), (1, 0.5, 4.7439 / 2), (3, 1.5, 7.7537 / 2)],
)
def test_false_alarms_per_hour_of_normal_footage(
    false_alarms: int, per_hour: float, upper: float
) -> None:
    # Two normal clips of 36,000 frames at 10 fps: one hour each.
    normal = [clip(f"n{i}.mp4", "normal", frames=36_000) for i in range(2)]
    events = [ev("fall", 100 + i) for i in range(false_alarms)]
    runs = [run(normal[0], *events), run(normal[1]), run(clip(), ev("fall", 25))]
    s = scoring.score(runs, ["fall"]).behaviours["fall"]
    assert s.normal_hours == pytest.approx(2.0)
    assert s.fa_per_hour == pytest.approx(per_hour)
    assert s.fa_per_hour_upper95 == pytest.approx(upper, abs=1e-3)
    assert s.false_alarm_clips_normal == (1 if false_alarms else 0)
    assert s.precision == pytest.approx(1 / (1 + false_alarms))
    assert s.recall == 1.0
    assert "per hour" in report.fa_sentence(s)


def test_delays_median_and_worst() -> None:
    runs = [
        run(clip(f"f{i}.mp4", start=10, end=20), ev("fall", frame))
        for i, frame in enumerate([15, 20, 22, 40])
    ]
    s = scoring.score(runs, ["fall"]).behaviours["fall"]
    assert sorted(s.delays_end_s) == pytest.approx([-0.5, 0.0, 0.2, 2.0])
    assert s.median_delay_s == pytest.approx(0.1)
    assert s.worst_delay_s == pytest.approx(2.0)
    assert s.median_from_start_s == pytest.approx(1.1)


def test_per_room_results() -> None:
    runs = [
        run(clip("upfall_A01_S1_T1_C1.mp4"), ev("fall", 25)),
        run(clip("upfall_A01_S1_T1_C2.mp4")),
        run(clip("upfall_A06_S1_T1_C2.mp4", "normal", frames=600), ev("fall", 5)),
        run(clip("thanhnc58_Fall01.mp4"), ev("fall", 21)),
        run(clip("survfight_nofi001.mp4", "normal", subtype="no_fight", frames=50)),
    ]
    rooms = {(r.room, r.behaviour): r for r in scoring.score(runs).rooms}
    c1, c2 = rooms[("upfall-C1", "fall")], rooms[("upfall-C2", "fall")]
    assert (c1.positives, c1.detected, c1.false_alarms) == (1, 1, 0)
    assert (c2.positives, c2.detected, c2.normal_clips, c2.false_alarms) == (1, 0, 1, 1)
    assert c2.normal_minutes == pytest.approx(1.0)
    assert c2.recall == 0.0 and "C2" in c2.name
    assert rooms[("dorm-phone", "fall")].detected == 1
    assert rooms[("cctv", "fall")].normal_clips == 1


@pytest.mark.parametrize(
    ("name", "room"),
    [
        ("upfall_A01_S1_T1_C1.mp4", "upfall-C1"),
        ("upfall_A11_S1_T2_C2.mp4", "upfall-C2"),
        ("thanhnc58_Fall03.mp4", "dorm-phone"),
        ("assistiot_15_stumbling.mp4", "assist-iot"),
        ("survfight_fi001.mp4", "cctv"),
        ("survfight_nofi137.mp4", "cctv"),
        ("other.mp4", "other"),
    ],
)
def test_room_from_the_file_name(name: str, room: str) -> None:
    assert room_of(name) == room


def _fleet(
    falls: int, detected: int, fall_fas: int, fights: int, fights_hit: int, nofi_hit: int
) -> dict[tuple[str, str], bool | None]:
    runs = [
        run(clip(f"f{i}.mp4"), *([ev("fall", 30)] if i < detected else [])) for i in range(falls)
    ]
    runs += [
        run(clip(f"n{i}.mp4", "normal"), *([ev("fall", 5)] if i < fall_fas else []))
        for i in range(41)
    ]
    runs += [
        run(clip(f"fi{i}.mp4", "fight", 0, 49), *([ev("fight", 9)] if i < fights_hit else []))
        for i in range(fights)
    ]
    runs += [
        run(
            clip(f"nofi{i}.mp4", "normal", subtype="no_fight"),
            *([ev("fight", 9)] if i < nofi_hit else []),
        )
        for i in range(40)
    ]
    return {(t.behaviour, t.name): t.passed for t in scoring.score(runs).targets}


@pytest.mark.parametrize(
    ("fleet", "fall_recall", "fall_fa", "fight_recall", "fight_fa"),
    [
        pytest.param((27, 25, 1, 40, 32, 6), True, True, True, True, id="exactly on target"),
        pytest.param((27, 24, 2, 40, 31, 7), False, False, False, False, id="one short each"),
    ],
)
def test_targets_pass_and_miss_at_their_edges(
    fleet: tuple[int, ...], fall_recall: bool, fall_fa: bool, fight_recall: bool, fight_fa: bool
) -> None:
    got = _fleet(*fleet)
    assert got[("fall", "falls alerted")] is fall_recall
    assert got[("fall", "false fall alerts on normal clips")] is fall_fa
    assert got[("fall", "median delay from event_end")] is True  # all at frame 30 = event_end
    assert got[("fight", "fights alerted")] is fight_recall
    assert got[("fight", "non-fight clips alerted")] is fight_fa


def test_markdown_and_json_report_the_problems() -> None:
    runs = [
        run(clip(), ev("fall", 25)),
        run(clip("upfall_A02_S1_T1_C1.mp4")),
        run(clip("upfall_A09_S1_T1_C1.mp4", "normal", subtype="bend_pickup"), ev("fall", 7)),
    ]
    result = EvalResult(tuple(runs), "cam", 5.0, "model@480", {}, 0.1)
    s = scoring.score(runs)
    md = report.to_markdown(result, s, command="carewatch eval")
    assert "| fall | falls alerted | >= 25 of 27 | 1 of 2 | MISS |" in md
    assert "upfall_A02_S1_T1_C1.mp4" in md and "missed" in md
    assert "upfall_A09_S1_T1_C1.mp4" in md and '{"x": 1}' in md  # the false alarm's evidence
    assert "UP-Fall lab, C1 side view" in md
    data = report.to_json(result, s)
    json.dumps(data)
    assert data["behaviours"]["fall"]["detected"] == 1
    assert data["behaviours"]["fall"]["false_alarms_normal"] == 1
    assert {p["file"] for p in data["problems"]} == {
        "upfall_A02_S1_T1_C1.mp4",
        "upfall_A09_S1_T1_C1.mp4",
    }


# ----------------------------------------------------------------------------- labels


HEADER = "file,label,subtype,event_start,event_end,fps,frames,width,height,source_repo\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "not found"),
        ("file,label\nx.mp4,fall\n", "missing columns subtype"),
        (HEADER + "x.mp4,jump,jump,,,18,100,640,480,r\n", "line 2: label 'jump'"),
        (HEADER + "x.mp4,fall,fall,,,18,100,640,480,r\n", "needs event_start"),
        (HEADER + "x.mp4,normal,walk,,,fast,100,640,480,r\n", "line 2"),
    ],
)
def test_bad_labels_files_say_what_is_wrong(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "labels.csv"
    if text is not None:
        path.write_text(text)
    with pytest.raises(LabelsError, match=message):
        read_labels(path)


def test_labels_are_read_with_rooms(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text(
        HEADER
        + "upfall_A01_S1_T1_C2.mp4,fall,fall,53,64,18.0,142,640,480,r\n"
        + "survfight_nofi001.mp4,normal,no_fight,,,25,78,480,360,r\n"
    )
    fall, normal = read_labels(path)
    assert (fall.event_start, fall.event_end, fall.room) == (53, 64, "upfall-C2")
    assert fall.duration_s == pytest.approx(142 / 18)
    assert (normal.event_start, normal.room, normal.subtype) == (None, "cctv", "no_fight")


# ----------------------------------------------------------------------------- replay


class FiresOnce:
    """A fake detector: one `kind` event at the first analysed frame at or after `at_s`."""

    def __init__(self, at_s: float, kind: str = "fall") -> None:
        self.at_s = at_s
        self.kind = kind
        self.fired = False

    def update(self, scene: Scene) -> list[BehaviourEvent]:
        if self.fired or scene.timestamp < self.at_s or not scene.seen_now():
            return []
        self.fired = True
        ids = tuple(t.track_id for t in scene.seen_now())
        return [
            BehaviourEvent(
                self.kind,
                scene.camera_id,
                ids,
                self.at_s,
                scene.timestamp,
                0.8,
                evidence={"people": np.int64(len(ids)), "speed": np.float32(1.23456)},
            )
        ]


def synthetic_clip(name: str, seconds: float = 4.0, fps: float = 10.0) -> CachedClip:
    n = round(seconds * fps)
    poses = tuple(standing_poses([(100 + 2 * i, 100, 160 + 2 * i, 300)]) for i in range(n))
    return CachedClip(
        name=name,
        fps=fps,
        frame_size=(640, 480),
        timestamps=np.arange(n, dtype=np.float64) / fps,
        poses=poses,
        thumbs=np.zeros((n, 60, 80), np.uint8),
        model_version="synthetic",
    )


def fake_factory(at_s: float = 2.0, kind: str = "fall") -> AnalyzerFactory:
    def make(camera: CameraConfig, config: AppConfig) -> Analyzer:
        detectors = [FiresOnce(at_s, kind)] if camera.behaviours.fall.enabled else []
        return Analyzer(camera.id, PoseTracker(camera.id, config.tracker), detectors)

    return make


CAMERA = CameraConfig(id="eval", source="eval", analysis_fps=5.0, gating={"enabled": False})
"""Gating off: these synthetic clips have blank thumbnails (nothing moves)."""


@pytest.mark.parametrize(("fps", "frame"), [(None, 21), (5.0, 22), (2.5, 24)])
def test_replay_records_the_frame_and_time_of_each_event(fps: float | None, frame: int) -> None:
    # At 10 fps the clip's frames are 0.1 s apart; 5 fps takes every second, 2.5 every fourth.
    c = clip(start=5, end=10)
    out = analyse_clip(
        c,
        synthetic_clip("a"),
        CAMERA,
        AppConfig(),
        analysis_fps=fps,
        make_analyzer=fake_factory(at_s=2.05),
    )
    (event,) = out.events
    assert (event.kind, event.frame, event.t) == ("fall", frame, pytest.approx(frame / 10))
    assert event.evidence == {"people": 1, "speed": 1.235}  # numpy made plain and short
    assert out.frames_analysed == out.frames_offered == {None: 40, 5.0: 20, 2.5: 10}[fps]
    assert json.dumps(event.to_dict())


def test_replay_gates_frames_like_a_live_camera() -> None:
    """Nothing moves in the synthetic clip's thumbnails: with gating on, after the first
    `hold_s` only one frame a second is analysed, as a live camera would."""
    gated = CAMERA.model_copy(update={"gating": GatingConfig(idle_fps=1.0, hold_s=1.0)})
    out = analyse_clip(
        clip(start=5, end=10), synthetic_clip("a"), gated, AppConfig(), analysis_fps=5
    )
    # 4 s at 5 fps: t = 0.0-1.0 s held active (6 frames), then t = 2.0 and 3.0 s
    assert (out.frames_offered, out.frames_analysed) == (20, 8)


def test_each_clip_gets_a_fresh_analyzer_at_the_cameras_rate() -> None:
    loaded = [(clip(f"f{i}.mp4", start=5, end=10), synthetic_clip(f"f{i}")) for i in range(3)] + [
        (clip("n.mp4", "normal"), synthetic_clip("n"))
    ]
    result = run_loaded(loaded, CAMERA, AppConfig(), make_analyzer=fake_factory(at_s=1.0))
    assert [len(r.events) for r in result.runs] == [1, 1, 1, 1]  # not carried over
    assert [r.frames_analysed for r in result.runs] == [20] * 4  # CAMERA analyses at 5 fps
    assert result.analysis_fps == 5.0 and result.camera_id == "eval"
    s = scoring.score(result.runs)
    assert s.behaviours["fall"].detected == 3
    assert s.behaviours["fall"].false_alarms_normal == 1


# ----------------------------------------------------------------------------- tune


def test_allowed_params_are_the_behaviours_leaves() -> None:
    allowed = tune.allowed_params()
    assert {"fall.enabled", "fight.enabled", "wandering.enabled"} <= set(allowed)
    assert not any(p.endswith(("fall", "fight", "wandering")) for p in allowed)


@pytest.mark.parametrize(
    ("text", "path", "values"),
    [
        ("fall.enabled=true,false", "fall.enabled", (True, False)),
        ("behaviours.fight.enabled=false", "fight.enabled", (False,)),
    ],
)
def test_parse_param(text: str, path: str, values: tuple[object, ...]) -> None:
    assert tune.parse_param(text) == tune.Param(path, values)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fall.no_such_knob=1,2", "unknown setting 'fall.no_such_knob'; allowed: .*fall.enabled"),
        ("fall.enabled", "write it as"),
        ("fall.enabled=", "write it as"),
        ("fall.enabled=true,,false", "empty value"),
    ],
)
def test_bad_params_are_refused_with_the_allowed_ones(text: str, message: str) -> None:
    with pytest.raises(tune.TuneError, match=message):
        tune.parse_param(text)


def test_a_value_the_config_refuses_is_named() -> None:
    params = [tune.Param("fall.enabled", (True, "sometimes"))]
    with pytest.raises(tune.TuneError, match=r"fall\.enabled"):
        tune.combinations(BehavioursConfig(), params)


def test_sweep_replays_every_combination_and_marks_the_current_one() -> None:
    loaded = [
        (clip(start=5, end=10), synthetic_clip("f")),
        (clip("n.mp4", "normal"), synthetic_clip("n")),
    ]
    params = [tune.parse_param("fall.enabled=true,false")]
    points = tune.sweep(loaded, CAMERA, AppConfig(), params, make_analyzer=fake_factory(1.0))
    assert [p.settings for p in points] == [{"fall.enabled": True}, {"fall.enabled": False}]
    assert [p.current for p in points] == [True, False]
    fall = [p.score.behaviours["fall"] for p in points]
    assert [(f.detected, f.false_alarms_normal) for f in fall] == [(1, 1), (0, 0)]
    table = tune.to_markdown(points, tune.behaviours_of(params))
    assert "| true * | 1 of 1 | 1 (1) |" in table
    assert "| false | 0 of 1 | 0 (0) |" in table
    assert "fights alerted" not in table
    data = json.loads(json.dumps(tune.to_json(points)))
    assert [d["behaviours"]["fall"]["detected"] for d in data] == [1, 0]


# ----------------------------------------------------------------------------- command line


def _labels(tmp_path: Path, rows: Sequence[str]) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows))
    return path


@pytest.mark.parametrize("verb", ["eval", "tune"])
def test_cli_without_a_labels_file_says_so(
    verb: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "labels.csv"
    extra = ["--param", "fall.enabled=true"] if verb == "tune" else []
    assert main([verb, "--labels", str(missing), *extra]) == 2
    err = capsys.readouterr().err
    assert f"labels file {missing} not found" in err


def test_cli_without_the_clips_folder_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = _labels(tmp_path, ["a.mp4,normal,walk,,,10,20,640,480,r"])
    assert main(["eval", "--labels", str(labels), "--clips", str(tmp_path / "clips")]) == 2
    assert f"clips folder {tmp_path / 'clips'} not found" in capsys.readouterr().err
    assert main(["eval", "--labels", str(labels)]) == 2  # clips default to the labels' folder
    assert "1 labelled clips are not in" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "fall.bogus=1"], "unknown setting 'fall.bogus'; allowed:"),
        (["--param", "fall.enabled=maybe"], "fall.enabled"),
        (["--param", "fall.enabled=true", "--camera", "nope"], "no camera 'nope'"),
    ],
)
def test_cli_tune_argument_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    labels = _labels(tmp_path, [])
    assert main(["tune", "--labels", str(labels), *args]) == 2
    assert message in capsys.readouterr().err


def test_cli_asks_which_camera_when_the_config_has_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "two.yaml"
    config.write_text("cameras:\n  - {id: hall, source: a.mp4}\n  - {id: ward, source: b.mp4}\n")
    labels = _labels(tmp_path, [])
    assert main(["eval", "--labels", str(labels), "--config", str(config)]) == 2
    assert "choose one with --camera (hall, ward)" in capsys.readouterr().err


def test_cli_only_accepts_fall_or_fight(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["eval", "--only", "wandering"])
    assert "invalid choice" in capsys.readouterr().err


def test_cli_eval_end_to_end_on_a_generated_clip(
    people_clip: Path,
    model_cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The real model on a generated 3 s clip labelled normal: a report, and no false alarm."""
    monkeypatch.setenv("CAREWATCH_MODEL_DIR", str(model_cache))
    monkeypatch.setenv("CAREWATCH_CACHE", str(tmp_path / "cache"))
    labels = _labels(tmp_path, ["people.mp4,normal,walk,,,15,45,640,360,r"])
    md, js = tmp_path / "eval.md", tmp_path / "eval.json"
    args = ["eval", "--labels", str(labels), "--clips", str(people_clip.parent)]
    assert main([*args, "--md", str(md), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert out == md.read_text()
    assert (
        "| fall | false fall alerts on normal clips | <= 1 (81 clips) | 0 (1 clips) | PASS |" in out
    )
    data = json.loads(js.read_text())
    assert data["clips"][0]["file"] == "people.mp4"
    assert data["clips"][0]["frames_analysed"] == 15  # the demo camera analyses at 5 fps
    assert list((tmp_path / "cache" / "eval").glob("people-*.npz")), "perception was cached"
    assert "Activity gating on" in out and data["gating"]["idle_fps"] == 1.0

    assert main([*args, "--gating", "off", "--json", str(js)]) == 0
    out = capsys.readouterr().out
    assert "Activity gating off" in out and "--gating off" in out
    assert json.loads(js.read_text())["gating"] is None

    # Regions (on by default): the poses of the model on crops, cached beside the whole frames'.
    assert "Regions on" in md.read_text() and data["regions"]["margin"] == 1.0
    assert list((tmp_path / "cache" / "eval").glob("people-*-regions-*.npz"))
    assert main([*args, "--regions", "off", "--json", str(js)]) == 0
    assert "Regions off" in capsys.readouterr().out
    assert json.loads(js.read_text())["regions"] is None


def test_regions_replay_finds_the_people_the_whole_frames_show(
    people_clip: Path, estimator: OnnxPoseEstimator, tmp_path: Path
) -> None:
    """`with_regions`: every frame after the first whole one is seen on a crop around the two
    people (max_share 1: always crop), and the model finds them where the whole frame does."""
    whole = load_or_compute(people_clip, estimator, tmp_path)
    camera = CameraConfig.model_validate(
        {"id": "c", "source": "x.mp4", "gating": {"enabled": False}, "regions": {"max_share": 1}}
    )
    cropped = with_regions(people_clip, whole, estimator, camera, 5.0, tmp_path)
    analysed = list(analysed_indices(whole, 5.0))
    assert len(analysed) == 15
    for i in analysed:
        sure = whole.poses[i][whole.poses[i].score >= 0.5]
        assert len(sure) == 2
        for box in sure.xyxy:
            assert np.abs(cropped.poses[i].xyxy - box).max(axis=1).min() < 8, i
    recomputed = [
        i for i in analysed if not np.array_equal(cropped.poses[i].xyxy, whole.poses[i].xyxy)
    ]
    assert len(recomputed) >= 12  # all but the whole frames (at 0 s and 2 s)
    again = with_regions(people_clip, whole, estimator, camera, 5.0, tmp_path)  # from the cache
    assert all(
        np.array_equal(a.xyxy, b.xyxy) for a, b in zip(again.poses, cropped.poses, strict=True)
    )
    off = camera.model_copy(
        update={"regions": camera.regions.model_copy(update={"enabled": False})}
    )
    assert with_regions(people_clip, whole, estimator, off, 5.0, tmp_path) is whole


# ----------------------------------------------------------------------------- real footage


def _real_labels() -> Path:
    if not LABELS_CSV.exists():
        pytest.skip(f"real footage {LABELS_CSV} is absent (../shared/data is for development only)")
    return LABELS_CSV


# Chosen from the whole evaluation (docs/EVALUATION.md): one real fall per room where the fall
# detector is right, and the hard negatives that look most like falls.
REGRESSION_FALL_CLIPS = {
    "upfall_A01_S1_T1_C2.mp4",  # forward fall, elevated view, a second seated person
    "upfall_A03_S1_T2_C1.mp4",  # backwards fall, side view through glass
    "assistiot_07_fall_to_knees_forward.mp4",  # slow: to the knees, then onto a platform
    "upfall_A09_S1_T1_C1.mp4",  # bending to pick something up
    "upfall_A11_S1_T1_C2.mp4",  # lying down on purpose
    "assistiot_15_stumbling.mp4",  # stumbling without falling
}
REGRESSION_FIGHT_CLIPS = {
    "survfight_fi068.mp4",
    "survfight_fi108.mp4",
    "survfight_fi117.mp4",
    "survfight_nofi001.mp4",
    "survfight_nofi039.mp4",
    "survfight_nofi106.mp4",
}


def _real_run(clips: set[str], estimator: object) -> tuple[EvalResult, scoring.Score]:
    labels = _real_labels()
    result = evaluate(
        labels,
        labels.parent,
        load_config(None),  # the shipped defaults: the demo camera's analysis rate and thresholds
        estimator=estimator,  # type: ignore[arg-type]
        only=clips,
    )
    return result, scoring.score(result.runs)


@pytest.mark.slow
def test_fall_regression_floors_on_real_clips(estimator: object) -> None:
    """The real fall detector on three real falls and three hard negatives, from the pose cache.

    Floors a little below what it reached when chosen (3 of 3, no false alarm, median +0.4 s);
    the first run computes the clips' poses (about a minute), later runs take seconds.
    """
    result, s = _real_run(REGRESSION_FALL_CLIPS, estimator)
    assert "fall" in result.detectors, "the default config must run the fall detector"
    fall = s.behaviours["fall"]
    assert (fall.positives, fall.normal_clips) == (3, 3)
    assert fall.detected >= 2, s.problems("fall")
    assert fall.false_alarms == 0, s.problems("fall")
    assert fall.median_delay_s is not None and fall.median_delay_s <= 1.5
    assert s.behaviours["fight"].false_alarms == 0, s.problems("fight")


@pytest.mark.slow
def test_fight_regression_floors_on_real_clips(estimator: object) -> None:
    """The real fight detector on three fights and three quiet scenes of the same dataset."""
    result, s = _real_run(REGRESSION_FIGHT_CLIPS, estimator)
    if "fight" not in result.detectors:
        pytest.skip("no fight detector is registered (vision/behaviours/registry.py)")
    fight = s.behaviours["fight"]
    assert (fight.positives, fight.no_fight_clips) == (3, 3)
    assert fight.detected >= 2, s.problems("fight")
    assert fight.no_fight_alerted <= 1, s.problems("fight")
    assert s.behaviours["fall"].false_alarms == 0, s.problems("fall")
