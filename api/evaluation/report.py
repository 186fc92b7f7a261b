"""The evaluation as Markdown (for people and docs/EVALUATION.md) and JSON (for tools).

Tables: the issue's targets with PASS/MISS, one summary row per behaviour, per room, every clip
with a miss or a false alarm (with the false alarm's evidence), the events that have no ground
truth here (person_down, wandering), and the synthetic wandering scenarios when
`vision.behaviours.scenarios` provides them.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from api.evaluation.harness import ROOMS, ClipEvent, EvalResult
from api.evaluation.scoring import BehaviourScore, ClipOutcome, Score, poisson_upper

log = logging.getLogger(__name__)

NAMES = {"fall": "Falls", "fight": "Fights", "person_down": "Person down"}


@dataclass(frozen=True)
class Scenarios:
    """The wandering detector's synthetic scenarios, scored by their own module."""

    markdown: str
    data: Any


def wandering_scenarios(config: Any) -> Scenarios | None:
    """`vision.behaviours.scenarios.score_scenarios(config)` and its Markdown, when it exists.

    `config` is the camera's `BehavioursConfig`. None when the module or function is absent.
    """
    try:
        module = importlib.import_module("vision.behaviours.scenarios")
    except ImportError:
        return None
    scorer = getattr(module, "score_scenarios", None)
    if scorer is None:
        return None
    data = scorer(config)
    for name in ("format_markdown", "scenarios_markdown", "to_markdown", "format_scenarios"):
        formatter = getattr(module, name, None)
        if formatter is not None:
            return Scenarios(markdown=str(formatter(data)), data=data)
    return Scenarios(markdown=f"```\n{data}\n```", data=data)


def ran(result: EvalResult, behaviour: str) -> bool:
    """Whether a detector that raises `behaviour` ran (unknown -> assume it did)."""
    if not result.detectors:
        return True
    return behaviour in result.detectors or (
        behaviour == "person_down" and "fall" in result.detectors
    )


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f} %"


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f} s"


def _mark(passed: bool | None) -> str:
    return "n/a" if passed is None else ("PASS" if passed else "MISS")


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "/") for c in row) + " |" for row in rows]
    return lines


def fa_sentence(b: BehaviourScore) -> str:
    """The false-alarm rate with its honest 95 % upper bound, in words."""
    if not b.normal_hours:
        return f"{NAMES.get(b.behaviour, b.behaviour)}: no normal footage in this run."
    minutes = b.normal_hours * 60
    upper = b.fa_per_hour_upper95 or 0.0
    n = b.false_alarms_normal
    name = f"false {b.behaviour} alert{'s' * (n != 1)}"
    if b.false_alarms_normal == 0:
        return (
            f"{NAMES.get(b.behaviour, b.behaviour)}: no false alarm in {minutes:.1f} minutes of "
            f"normal footage. That does not show a rate of zero: it bounds it to at most "
            f"{upper:.1f} per hour with 95 % confidence (3 / {b.normal_hours:.2f} h)."
        )
    return (
        f"{NAMES.get(b.behaviour, b.behaviour)}: {n} {name} in "
        f"{minutes:.1f} minutes of normal footage, {b.fa_per_hour:.1f} per hour (95 % upper "
        f"bound {upper:.1f} per hour)."
    )


def _alert(e: ClipEvent) -> str:
    return f"{e.kind} at {e.t:.2f} s (frame {e.frame}, conf {e.confidence:.2f})"


def _evidence(e: ClipEvent, limit: int = 240) -> str:
    text = json.dumps(e.evidence, separators=(", ", ": "))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _what(o: ClipOutcome) -> str:
    parts = []
    if o.missed:
        parts.append("missed")
    if o.early:
        parts.append(f"{len(o.early)} early (before event_start)")
    if o.false_alarms:
        where = "normal clip" if o.label == "normal" else f"{o.label} clip"
        parts.append(
            f"{len(o.false_alarms)} false alarm{'s' * (len(o.false_alarms) > 1)} ({where})"
        )
    if o.extra:
        parts.append(f"detected, {len(o.extra)} extra alert{'s' * (len(o.extra) > 1)}")
    return "; ".join(parts)


def gating_sentence(result: EvalResult) -> str:
    """Whether frames were left out while nothing moved, and how many were analysed."""
    share = result.analysed_share
    if result.gating is None:
        return "Activity gating off: every frame at the analysis rate went to the pose model."
    return (
        f"Activity gating on (still: {result.gating['idle_fps']:g} fps with people, "
        f"{result.gating['empty_fps']:g} fps without; hold {result.gating['hold_s']:g} s): "
        f"{_pct(share)} of the frames at the analysis rate went "
        "to the pose model, as a live camera would analyse them."
    )


def regions_sentence(result: EvalResult) -> str:
    """Whether the model looked at regions of frames, and how much of the pixels it was given."""
    if result.regions is None:
        return "Regions off: the pose model saw every analysed frame whole."
    return (
        f"Regions on (margin {result.regions['margin']:g}, whole frame at least every "
        f"{result.regions['full_frame_s']:g} s or above {_pct(result.regions['max_share'])} of "
        "it): the pose model saw the part of each analysed frame with motion or people, as a "
        "live camera does."
    )


def to_markdown(
    result: EvalResult,
    score: Score,
    *,
    command: str | None = None,
    scenarios: Scenarios | None = None,
) -> str:
    """The whole report as Markdown."""
    runs = result.runs
    normal_min = sum(r.clip.duration_s for r in runs if r.clip.label == "normal") / 60
    labels = {lab: sum(r.clip.label == lab for r in runs) for lab in ("fall", "fight", "normal")}
    fps = "every frame" if result.analysis_fps is None else f"{result.analysis_fps:g} fps"
    out = [
        "# CareWatch evaluation on labelled clips",
        "",
        f"{len(runs)} clips ({labels['fall']} fall, {labels['fight']} fight, {labels['normal']} "
        f"normal: {normal_min:.1f} minutes of normal footage); camera `{result.camera_id}` "
        f"analysed at {fps}; pose model {result.model_version}; {result.seconds:.1f} s "
        "(poses from the cache).",
        "",
        gating_sentence(result),
        "",
        regions_sentence(result),
    ]
    if command:
        out += ["", "```sh", command, "```"]

    out += ["", "## Targets", ""]
    out += _table(
        ["behaviour", "target", "required", "measured", "result"],
        [(t.behaviour, t.name, t.required, t.measured, _mark(t.passed)) for t in score.targets],
    )

    out += ["", "## Per behaviour", ""]
    rows = []
    for b in score.behaviours.values():
        upper = b.fa_per_hour_upper95
        rows.append(
            (
                NAMES.get(b.behaviour, b.behaviour),
                f"{b.detected} of {b.positives}",
                _pct(b.recall),
                b.alerts,
                _pct(b.precision),
                f"{b.false_alarms_normal} ({b.false_alarm_clips_normal} of {b.normal_clips})",
                "–" if b.fa_per_hour is None else f"{b.fa_per_hour:.1f} (≤ {upper:.1f})",
                b.early_alarms,
                b.false_alarms_other,
                b.extra_alerts,
                f"{_s(b.median_delay_s)} / {_s(b.worst_delay_s)}",
                _s(b.median_from_start_s),
            )
        )
    out += _table(
        [
            "behaviour",
            "alerted",
            "recall",
            "alerts",
            "precision",
            "false alarms on normal clips (clips)",
            "per hour (95 % upper)",
            "early",
            "on other clips",
            "extra",
            "delay from event_end, median / worst",
            "from event_start, median",
        ],
        rows,
    )
    absent = [b for b in score.behaviours if not ran(result, b)]
    out += [""] + [
        f"- {NAMES.get(b, b)}: no `{b}` detector ran on this camera (disabled, or not built): "
        f"every {b} clip counts as missed."
        for b in absent
    ]
    out += [f"- {fa_sentence(b)}" for b in score.behaviours.values() if ran(result, b.behaviour)]
    out += [
        "- *early*: an alert before `event_start` of a clip with the event (a false alarm); "
        "*on other clips*: a fall alert on a fight clip or a fight alert on a fall clip (a false "
        "alarm, not in the per-hour rate: not normal footage); *extra*: further alerts after the "
        "first right one on the same clip (duplicates the alert policy merges; not false alarms, "
        "not in precision).",
        "- Delays are from the labelled frame to the analysed frame that raised the alert; "
        "negative = raised before `event_end` (fights: the clip's last frame).",
    ]

    out += ["", "## Per room"]
    for behaviour in score.behaviours:
        rooms = [
            r
            for r in score.rooms
            if r.behaviour == behaviour and (r.positives or r.normal_clips or r.other_alarms)
        ]
        if not rooms:
            continue
        out += ["", f"### {NAMES.get(behaviour, behaviour)}", ""]
        out += _table(
            [
                "room",
                "clips with the event",
                "alerted",
                "recall",
                "median delay",
                "normal clips",
                "normal minutes",
                "false alarms (clips)",
                "early",
                "on other clips",
            ],
            [
                (
                    r.name,
                    r.positives,
                    r.detected,
                    _pct(r.recall),
                    _s(r.median_delay_s),
                    r.normal_clips,
                    f"{r.normal_minutes:.1f}",
                    f"{r.false_alarms} ({r.false_alarm_clips})",
                    r.early_alarms,
                    r.other_alarms,
                )
                for r in rooms
            ],
        )

    problems = [o for o in score.problems() if ran(result, o.behaviour)]
    out += ["", "## Misses and false alarms, per clip", ""]
    if absent:
        out += [f"Without a detector, not listed: {', '.join(absent)}.", ""]
    if not problems:
        out.append("None.")
    else:
        clip_rows = []
        for o in problems:
            shown = o.wrong + o.extra + ((o.detection,) if o.detection else ())
            evidence = "<br>".join(_evidence(e) for e in o.wrong[:2])
            clip_rows.append(
                (
                    o.file,
                    ROOMS.get(o.room, o.room),
                    f"{o.label} / {o.subtype}",
                    o.behaviour,
                    _what(o),
                    "<br>".join(_alert(e) for e in sorted(shown, key=lambda e: e.frame)) or "–",
                    evidence or "–",
                )
            )
        out += _table(
            ["clip", "room", "label / subtype", "behaviour", "what", "alerts", "evidence"],
            clip_rows,
        )

    out += ["", "## Events without ground truth here", ""]
    if not score.unscored:
        out.append("No person_down or wandering event was raised.")
    else:
        out += [
            "`person_down` and the wandering kinds are not labelled in these clips: where they "
            "fired, for a person to judge.",
            "",
        ]
        hours = normal_min / 60
        out += _table(
            [
                "kind",
                "on fall clips",
                "on normal clips",
                "per hour of normal footage (95 % upper)",
                "on fight clips",
                "clips",
            ],
            [
                (
                    u.kind,
                    u.by_label.get("fall", 0),
                    u.by_label.get("normal", 0),
                    "–"
                    if not hours
                    else f"{u.by_label.get('normal', 0) / hours:.1f} "
                    f"(≤ {poisson_upper(u.by_label.get('normal', 0)) / hours:.1f})",
                    u.by_label.get("fight", 0),
                    ", ".join(sorted({f for f, _ in u.clips})[:10])
                    + (" ..." if len({f for f, _ in u.clips}) > 10 else ""),
                )
                for u in score.unscored
            ],
        )

    if scenarios is not None:
        out += ["", "## Wandering: synthetic scenarios", "", scenarios.markdown.strip()]
    return "\n".join(out) + "\n"


def behaviour_json(b: BehaviourScore) -> dict[str, Any]:
    def r(v: float | None, digits: int = 3) -> float | None:
        return None if v is None else round(v, digits)

    return {
        "positives": b.positives,
        "detected": b.detected,
        "recall": r(b.recall),
        "alerts": b.alerts,
        "precision": r(b.precision),
        "normal_clips": b.normal_clips,
        "normal_hours": r(b.normal_hours, 4),
        "false_alarms_normal": b.false_alarms_normal,
        "false_alarm_clips_normal": b.false_alarm_clips_normal,
        "false_alarms_per_hour": r(b.fa_per_hour),
        "false_alarms_per_hour_upper95": r(b.fa_per_hour_upper95),
        "false_alarms_other_clips": b.false_alarms_other,
        "early_alarms": b.early_alarms,
        "extra_alerts": b.extra_alerts,
        "no_fight_clips": b.no_fight_clips,
        "no_fight_alerted": b.no_fight_alerted,
        "delay_from_end_s": {
            "median": r(b.median_delay_s),
            "worst": r(b.worst_delay_s),
            "all": [round(d, 3) for d in b.delays_end_s],
        },
        "delay_from_start_s_median": r(b.median_from_start_s),
    }


def to_json(
    result: EvalResult,
    score: Score,
    *,
    command: str | None = None,
    scenarios: Scenarios | None = None,
) -> dict[str, Any]:
    """The whole report as a JSON-ready dict (every clip's events included)."""
    return {
        "command": command,
        "camera": result.camera_id,
        "analysis_fps": result.analysis_fps,
        "model_version": result.model_version,
        "seconds": round(result.seconds, 2),
        "detectors": list(result.detectors),
        "gating": result.gating,
        "analysed_share": result.analysed_share,
        "regions": result.regions,
        "behaviours_config": result.behaviours,
        "targets": [
            {
                "behaviour": t.behaviour,
                "target": t.name,
                "required": t.required,
                "measured": t.measured,
                "passed": t.passed,
            }
            for t in score.targets
        ],
        "behaviours": {name: behaviour_json(b) for name, b in score.behaviours.items()},
        "rooms": [
            {
                "room": r.room,
                "name": r.name,
                "behaviour": r.behaviour,
                "positives": r.positives,
                "detected": r.detected,
                "median_delay_s": r.median_delay_s,
                "normal_clips": r.normal_clips,
                "normal_minutes": round(r.normal_minutes, 2),
                "false_alarms": r.false_alarms,
                "false_alarm_clips": r.false_alarm_clips,
                "early_alarms": r.early_alarms,
                "other_alarms": r.other_alarms,
            }
            for r in score.rooms
        ],
        "problems": [
            {
                "file": o.file,
                "behaviour": o.behaviour,
                "label": o.label,
                "subtype": o.subtype,
                "room": o.room,
                "what": _what(o),
                "detection": None if o.detection is None else o.detection.to_dict(),
                "false_alarms": [e.to_dict() for e in o.wrong],
                "extra": [e.to_dict() for e in o.extra],
            }
            for o in score.problems()
        ],
        "clips": [
            {
                "file": run.clip.file,
                "label": run.clip.label,
                "subtype": run.clip.subtype,
                "room": run.clip.room,
                "event_start": run.clip.event_start,
                "event_end": run.clip.event_end,
                "fps": run.clip.fps,
                "frames_analysed": run.frames_analysed,
                "events": [e.to_dict() for e in run.events],
            }
            for run in result.runs
        ],
        "scenarios": None if scenarios is None else _jsonable(scenarios.data),
    }


def _jsonable(data: Any) -> Any:
    """Scenario results as JSON (dataclasses and pydantic models included), else their text."""
    try:
        return json.loads(json.dumps(data, default=_default))
    except (TypeError, ValueError):
        return str(data)


def _default(obj: Any) -> Any:
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    dump = getattr(obj, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return str(obj)
