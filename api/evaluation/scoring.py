"""Score what the detectors raised against labels.csv, as ../shared/data/README.md says.

Per behaviour with ground truth (fall, fight):

- A clip labelled with the behaviour is *detected* when the first alert of that kind comes at or
  after `event_start`; the delay is measured from `event_end` (negative: before the body was on
  the floor) and from `event_start`. An alert before `event_start` is a false alarm (*early*);
  further alerts after the first right one are *extra* (one event alerted twice, or for two
  pairs of the same fight: the alert policy merges those; counted apart, not false alarms).
- Any alert of the kind on a `normal` clip is a false alarm, counted per hour of normal footage.
- An alert on a clip of the *other* behaviour (a fall alert on a fight clip, a fight alert on a
  fall clip) is a false alarm too, listed apart: those clips are not normal footage (a fight clip
  may well show someone going to the floor), so they are not in the per-hour rate.
- Precision = detected events / (detected events + false alarms of every sort).

`person_down` and the wandering kinds have no ground truth in these clips: they are counted per
label and room, never scored. Falls alerted as `person_down` do not count as detected falls.

Rates with few events are uncertain, so each false-alarm rate comes with its exact one-sided 95 %
Poisson upper bound: zero false alarms in H hours only bounds the rate to about 3 / H per hour.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from api.evaluation.harness import ROOMS, ClipEvent, ClipRun

SCORED = ("fall", "fight")
"""Behaviours the labels hold ground truth for."""

NO_FIGHT_SUBTYPE = "no_fight"
"""Normal clips from the fight dataset's cameras (the issue's 'non-fight clips')."""


def behaviour_of(kind: str) -> str:
    """The behaviour an event kind belongs to: fall, person_down, fight or wandering."""
    if kind in ("fall", "person_down", "fight"):
        return kind
    return "wandering"


def poisson_upper(count: int, confidence: float = 0.95) -> float:
    """Exact one-sided upper confidence bound of a Poisson mean after seeing `count` events.

    `poisson_upper(0)` is -ln(0.05) = 3.0 (the "rule of three"); `poisson_upper(1)` is 4.74.
    """
    alpha = 1.0 - confidence

    def cdf(lam: float) -> float:
        term = total = math.exp(-lam)
        for k in range(1, count + 1):
            term *= lam / k
            total += term
        return total

    lo, hi = 0.0, 10.0 + 10.0 * count
    for _ in range(100):
        mid = (lo + hi) / 2
        if cdf(mid) > alpha:
            lo = mid
        else:
            hi = mid
    return hi


@dataclass(frozen=True)
class ClipOutcome:
    """How one clip went for one behaviour."""

    file: str
    label: str
    subtype: str
    room: str
    behaviour: str
    positive: bool
    detection: ClipEvent | None = None
    delay_end_s: float | None = None
    delay_start_s: float | None = None
    early: tuple[ClipEvent, ...] = ()
    extra: tuple[ClipEvent, ...] = ()
    false_alarms: tuple[ClipEvent, ...] = ()

    @property
    def missed(self) -> bool:
        return self.positive and self.detection is None

    @property
    def wrong(self) -> tuple[ClipEvent, ...]:
        """Every false alarm on this clip (early ones included)."""
        return self.early + self.false_alarms


@dataclass(frozen=True)
class BehaviourScore:
    """Event-level results of one behaviour over a set of clips."""

    behaviour: str
    positives: int = 0
    detected: int = 0
    alerts: int = 0
    normal_clips: int = 0
    normal_hours: float = 0.0
    false_alarms_normal: int = 0
    false_alarm_clips_normal: int = 0
    false_alarms_other: int = 0
    early_alarms: int = 0
    extra_alerts: int = 0
    delays_end_s: tuple[float, ...] = ()
    delays_start_s: tuple[float, ...] = ()
    no_fight_clips: int = 0
    no_fight_alerted: int = 0

    @property
    def recall(self) -> float | None:
        return self.detected / self.positives if self.positives else None

    @property
    def precision(self) -> float | None:
        """Detected events / (detected events + false alarms); extra alerts left out."""
        raised = self.detected + self.false_alarms
        return self.detected / raised if raised else None

    @property
    def false_alarms(self) -> int:
        return self.false_alarms_normal + self.false_alarms_other + self.early_alarms

    @property
    def fa_per_hour(self) -> float | None:
        return self.false_alarms_normal / self.normal_hours if self.normal_hours else None

    @property
    def fa_per_hour_upper95(self) -> float | None:
        if not self.normal_hours:
            return None
        return poisson_upper(self.false_alarms_normal) / self.normal_hours

    @property
    def median_delay_s(self) -> float | None:
        return statistics.median(self.delays_end_s) if self.delays_end_s else None

    @property
    def worst_delay_s(self) -> float | None:
        return max(self.delays_end_s) if self.delays_end_s else None

    @property
    def median_from_start_s(self) -> float | None:
        return statistics.median(self.delays_start_s) if self.delays_start_s else None


@dataclass(frozen=True)
class RoomScore:
    """One behaviour's results in one room."""

    room: str
    behaviour: str
    positives: int
    detected: int
    normal_clips: int
    normal_minutes: float
    false_alarms: int
    false_alarm_clips: int
    early_alarms: int
    other_alarms: int
    median_delay_s: float | None

    @property
    def name(self) -> str:
        return ROOMS.get(self.room, self.room)

    @property
    def recall(self) -> float | None:
        return self.detected / self.positives if self.positives else None


@dataclass(frozen=True)
class Target:
    """One of the issue's targets and whether the measurement meets it (None: not measurable)."""

    behaviour: str
    name: str
    required: str
    measured: str
    passed: bool | None


@dataclass(frozen=True)
class UnscoredKind:
    """An event kind without ground truth here: where it fired."""

    kind: str
    by_label: dict[str, int]
    by_room: dict[str, int]
    clips: tuple[tuple[str, ClipEvent], ...]


@dataclass(frozen=True)
class Score:
    behaviours: dict[str, BehaviourScore]
    rooms: tuple[RoomScore, ...]
    outcomes: tuple[ClipOutcome, ...]
    targets: tuple[Target, ...]
    unscored: tuple[UnscoredKind, ...] = field(default=())

    def problems(self, behaviour: str | None = None) -> list[ClipOutcome]:
        """Clips with a miss, an early or other false alarm, or an extra alert."""
        return [
            o
            for o in self.outcomes
            if (behaviour is None or o.behaviour == behaviour) and (o.missed or o.wrong or o.extra)
        ]


def outcome(run: ClipRun, behaviour: str) -> ClipOutcome:
    """How `run` went for `behaviour` (its alerts are the events of kind `behaviour`)."""
    clip = run.clip
    alerts = sorted((e for e in run.events if e.kind == behaviour), key=lambda e: e.frame)
    base = ClipOutcome(
        file=clip.file,
        label=clip.label,
        subtype=clip.subtype,
        room=clip.room,
        behaviour=behaviour,
        positive=clip.label == behaviour,
    )
    if not base.positive:
        return replace(base, false_alarms=tuple(alerts))
    start = clip.event_start or 0
    end = clip.event_end if clip.event_end is not None else start
    early = tuple(e for e in alerts if e.frame < start)
    later = [e for e in alerts if e.frame >= start]
    if not later:
        return replace(base, early=early)
    first = later[0]
    return replace(
        base,
        detection=first,
        delay_end_s=(first.frame - end) / clip.fps,
        delay_start_s=(first.frame - start) / clip.fps,
        early=early,
        extra=tuple(later[1:]),
    )


def score_behaviour(
    behaviour: str, outcomes: Sequence[ClipOutcome], runs: Sequence[ClipRun]
) -> BehaviourScore:
    """Sum one behaviour's clip outcomes (`runs` give the normal footage's length)."""
    outcomes = [o for o in outcomes if o.behaviour == behaviour]
    normal = [o for o in outcomes if o.label == "normal"]
    no_fight = [o for o in normal if o.subtype == NO_FIGHT_SUBTYPE]
    detections = [o for o in outcomes if o.detection is not None]
    return BehaviourScore(
        behaviour=behaviour,
        positives=sum(o.positive for o in outcomes),
        detected=len(detections),
        alerts=sum(len(o.wrong) + len(o.extra) + (o.detection is not None) for o in outcomes),
        normal_clips=len(normal),
        normal_hours=sum(r.clip.duration_s for r in runs if r.clip.label == "normal") / 3600,
        false_alarms_normal=sum(len(o.false_alarms) for o in normal),
        false_alarm_clips_normal=sum(bool(o.false_alarms) for o in normal),
        false_alarms_other=sum(
            len(o.false_alarms) for o in outcomes if not o.positive and o.label != "normal"
        ),
        early_alarms=sum(len(o.early) for o in outcomes),
        extra_alerts=sum(len(o.extra) for o in outcomes),
        delays_end_s=tuple(o.delay_end_s for o in detections if o.delay_end_s is not None),
        delays_start_s=tuple(o.delay_start_s for o in detections if o.delay_start_s is not None),
        no_fight_clips=len(no_fight),
        no_fight_alerted=sum(bool(o.false_alarms) for o in no_fight),
    )


def score_rooms(outcomes: Sequence[ClipOutcome], runs: Sequence[ClipRun]) -> list[RoomScore]:
    """Per room, per behaviour: only rooms that hold clips of the behaviour or normal clips."""
    minutes: dict[str, float] = defaultdict(float)
    for run in runs:
        if run.clip.label == "normal":
            minutes[run.clip.room] += run.clip.duration_s / 60
    by_room: dict[tuple[str, str], list[ClipOutcome]] = defaultdict(list)
    for o in outcomes:
        by_room[(o.room, o.behaviour)].append(o)
    order = {room: i for i, room in enumerate(ROOMS)}
    rows = []
    for (room, behaviour), group in sorted(
        by_room.items(), key=lambda kv: (kv[0][1], order.get(kv[0][0], 99), kv[0][0])
    ):
        normal = [o for o in group if o.label == "normal"]
        delays = [o.delay_end_s for o in group if o.delay_end_s is not None]
        rows.append(
            RoomScore(
                room=room,
                behaviour=behaviour,
                positives=sum(o.positive for o in group),
                detected=sum(o.detection is not None for o in group),
                normal_clips=len(normal),
                normal_minutes=minutes[room],
                false_alarms=sum(len(o.false_alarms) for o in normal),
                false_alarm_clips=sum(bool(o.false_alarms) for o in normal),
                early_alarms=sum(len(o.early) for o in group),
                other_alarms=sum(
                    len(o.false_alarms) for o in group if not o.positive and o.label != "normal"
                ),
                median_delay_s=statistics.median(delays) if delays else None,
            )
        )
    return rows


def _fraction(n: int, d: int) -> str:
    return f"{n} of {d}" if d else "no clips"


def targets(scores: dict[str, BehaviourScore]) -> list[Target]:
    """The issue's targets (for the full 148 clips); on a subset, the same fractions.

    Falls: >= 25 of 27 detected, <= 1 false fall alert on all normal clips, median delay from
    `event_end` <= 2 s. Fights: >= 32 of 40 detected, <= 6 of 40 non-fight clips alerted.
    """
    out = []
    fall = scores.get("fall")
    if fall is not None:
        out.append(
            Target(
                "fall",
                "falls alerted",
                ">= 25 of 27",
                _fraction(fall.detected, fall.positives),
                None if not fall.positives else fall.detected * 27 >= 25 * fall.positives,
            )
        )
        out.append(
            Target(
                "fall",
                "false fall alerts on normal clips",
                "<= 1 (81 clips)",
                f"{fall.false_alarms_normal} ({fall.normal_clips} clips)",
                None if not fall.normal_clips else fall.false_alarms_normal <= 1,
            )
        )
        median = fall.median_delay_s
        out.append(
            Target(
                "fall",
                "median delay from event_end",
                "<= 2.0 s",
                "no detections" if median is None else f"{median:.2f} s",
                None if median is None else median <= 2.0,
            )
        )
    fight = scores.get("fight")
    if fight is not None:
        out.append(
            Target(
                "fight",
                "fights alerted",
                ">= 32 of 40",
                _fraction(fight.detected, fight.positives),
                None if not fight.positives else fight.detected * 40 >= 32 * fight.positives,
            )
        )
        out.append(
            Target(
                "fight",
                "non-fight clips alerted",
                "<= 6 of 40",
                _fraction(fight.no_fight_alerted, fight.no_fight_clips),
                None
                if not fight.no_fight_clips
                else fight.no_fight_alerted * 40 <= 6 * fight.no_fight_clips,
            )
        )
    return out


def unscored_kinds(runs: Sequence[ClipRun]) -> list[UnscoredKind]:
    """Where person_down and the wandering kinds fired (no ground truth for them here)."""
    found: dict[str, list[tuple[ClipRun, ClipEvent]]] = defaultdict(list)
    for run in runs:
        for event in run.events:
            if event.kind not in SCORED:
                found[event.kind].append((run, event))
    return [
        UnscoredKind(
            kind=kind,
            by_label=dict(Counter(r.clip.label for r, _ in items)),
            by_room=dict(Counter(r.clip.room for r, _ in items)),
            clips=tuple((r.clip.file, e) for r, e in items),
        )
        for kind, items in sorted(found.items())
    ]


def score(runs: Sequence[ClipRun], behaviours: Sequence[str] = SCORED) -> Score:
    """Score every clip for each behaviour in `behaviours` (default: fall and fight)."""
    outcomes = [outcome(run, b) for b in behaviours for run in runs]
    per = {b: score_behaviour(b, outcomes, runs) for b in behaviours}
    return Score(
        behaviours=per,
        rooms=tuple(score_rooms(outcomes, runs)),
        outcomes=tuple(outcomes),
        targets=tuple(targets(per)),
        unscored=tuple(unscored_kinds(runs)),
    )
