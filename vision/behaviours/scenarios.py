"""Synthetic wandering scenarios with known ground truth, scored through the real pipeline.

Wandering has no labelled real footage, so this module scripts people (where they walk, stand,
lie or are hidden, how big they look and how noisy the pose model is) and knows which wandering
events each script must raise, and when. Each scenario is a sequence of `Poses` at 5 fps that
goes through a real `Analyzer` with a real `PoseTracker` (so id switches, track starts and
occlusion gaps are part of the test) into a `WanderingDetector`::

    results = score_scenarios(WanderingConfig())
    print(format_markdown(results))   # "Wandering: every synthetic scenario scored right ..."

A scenario is scored *right* when every expected event was raised (same kind and zone, detected
within the expected time range) and nothing else was. Everything is seeded: the same seed gives
the same poses and the same result.

What is expected where (the decisions behind the scenarios):
- Pacing: any repeated back-and-forth or looping walk of 15 s or more, near or far from the
  camera, across the image or toward and away from it; it names the zone it happens in.
- Loitering only in zones with a dwell limit; standing in a zone without one is nothing.
- Walking through a zone, or a long slow straight walk, is nothing.
- Bed zones: lying in bed or standing by it at night is nothing; getting out of bed and walking
  off during the bed zone's night window is `night_movement`.
- Exit zones: walking into one is `exit_approach`; walking past it or coming in through it is not.
- A zone outside its `active` window raises nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np

from vision.behaviours.config import BehavioursConfig
from vision.behaviours.wandering import WanderingConfig, WanderingDetector
from vision.config import TrackerConfig
from vision.pipeline import Analyzer, Perception
from vision.tracking import PoseTracker
from vision.types import NUM_KEYPOINTS, BehaviourEvent, FloatArray, Poses
from vision.zones import TimeWindow, ZoneConfig, ZoneMap

FPS = 5.0
"""Analysis rate of every scenario (the cameras' default)."""

FRAME_SIZE = (640, 480)
"""Width and height of the scenarios' frames (like the UP-Fall clips)."""

CAMERA_ID = "synthetic"

# A standing person's keypoints relative to the box, (x, y) in 0-1 (COCO-17 order).
_STANDING = np.array(
    [
        (0.50, 0.08), (0.46, 0.06), (0.54, 0.06), (0.42, 0.08), (0.58, 0.08),
        (0.35, 0.22), (0.65, 0.22), (0.30, 0.38), (0.70, 0.38), (0.28, 0.52), (0.72, 0.52),
        (0.40, 0.52), (0.60, 0.52), (0.40, 0.75), (0.60, 0.75), (0.40, 0.97), (0.60, 0.97),
    ],
    np.float32,
)  # fmt: skip
_LYING = _STANDING[:, ::-1].copy()
"""Lying on the side, head to the left: the standing layout turned a quarter."""

Posture = Literal["stand", "lie"]


# --------------------------------------------------------------------------- scripted people


@dataclass(frozen=True)
class _Sample:
    """Where one person truly is at one frame: ground point, body height, posture, visibility."""

    x: float
    y: float
    height_px: float
    posture: Posture
    visible: bool


class Actor:
    """One scripted person. Methods append frames at `FPS` and return self, so scripts chain::

    Actor(x=60, y=400, height_px=200).walk(520, 400, speed_heights_s=1.0).stand(10)

    `height_px` is the body height at `y`; it scales with `perspective` as the person moves down
    (nearer) or up (farther) in the image. Before `start_s` the person is not there.
    """

    def __init__(
        self,
        x: float,
        y: float,
        height_px: float,
        *,
        start_s: float = 0.0,
        perspective: float = 0.0,
    ) -> None:
        self.x, self.y = x, y
        self._ref_y = y
        self._ref_h = height_px
        self.perspective = perspective
        self.posture: Posture = "stand"
        self.samples: list[_Sample | None] = [None] * round(start_s * FPS)

    @property
    def now_s(self) -> float:
        """Time of the next frame this actor will add."""
        return len(self.samples) / FPS

    def height_at(self, y: float) -> float:
        scale = 1.0 + self.perspective * (y - self._ref_y) / FRAME_SIZE[1]
        return self._ref_h * max(0.2, scale)

    def _add(self, visible: bool = True) -> None:
        height = self.height_at(self.y)
        self.samples.append(_Sample(self.x, self.y, height, self.posture, visible))

    def walk(self, x: float, y: float, speed_heights_s: float) -> Actor:
        """Walk in a straight line to (x, y) at `speed_heights_s` body heights a second."""
        while True:
            dx, dy = x - self.x, y - self.y
            dist = float(np.hypot(dx, dy))
            step = speed_heights_s * self.height_at(self.y) / FPS
            if dist <= step:
                self.x, self.y = x, y
                self._add()
                return self
            self.x += dx / dist * step
            self.y += dy / dist * step
            self._add()

    def pace(
        self, a: tuple[float, float], b: tuple[float, float], speed: float, until_s: float
    ) -> Actor:
        """Walk a to b and back (turning pauses of 0.4 s) until `until_s`."""
        while self.now_s < until_s:
            self.walk(*b, speed).stand(0.4, sway_heights=0.0)
            if self.now_s >= until_s:
                break
            self.walk(*a, speed).stand(0.4, sway_heights=0.0)
        return self

    def loop(
        self,
        centre: tuple[float, float],
        radii: tuple[float, float],
        period_s: float,
        until_s: float,
    ) -> Actor:
        """Walk round an ellipse, one lap per `period_s`, from its leftmost point to `until_s`."""
        t0 = self.now_s
        while self.now_s < until_s:
            phase = 2 * np.pi * (self.now_s - t0) / period_s
            self.x = centre[0] - radii[0] * float(np.cos(phase))
            self.y = centre[1] + radii[1] * float(np.sin(phase))
            self._add()
        return self

    def stand(self, seconds: float, sway_heights: float = 0.03, seed: int = 0) -> Actor:
        """Stand (or lie, after `lie()`) in place, swaying a little."""
        rng = np.random.default_rng(seed + len(self.samples))
        x0, y0 = self.x, self.y
        for _ in range(round(seconds * FPS)):
            h = self.height_at(y0)
            self.x = x0 + float(rng.normal(0, sway_heights * h))
            self.y = y0 + float(rng.normal(0, sway_heights * h * 0.3))
            self._add()
        self.x, self.y = x0, y0
        return self

    def lie(self) -> Actor:
        self.posture = "lie"
        return self

    def get_up(self) -> Actor:
        self.posture = "stand"
        return self

    def hide(self, seconds: float) -> Actor:
        """Stay in place but unseen (occluded), like a pose model missing every frame."""
        for _ in range(round(seconds * FPS)):
            self._add(visible=False)
        return self


def _box(s: _Sample) -> FloatArray:
    h = s.height_px
    if s.posture == "lie":
        return np.array([s.x - h / 2, s.y - 0.3 * h, s.x + h / 2, s.y], np.float32)
    return np.array([s.x - 0.19 * h, s.y - h, s.x + 0.19 * h, s.y], np.float32)


def _poses(
    samples: Sequence[_Sample], rng: np.random.Generator, noise: float, miss: float
) -> Poses:
    """What a pose model would report for these people: noisy boxes, some missed."""
    w, h = FRAME_SIZE
    boxes, layouts = [], []
    for s in samples:
        if not s.visible or rng.random() < miss or not (0 <= s.x < w and 0 < s.y <= h + 5):
            continue
        box = _box(s) + rng.normal(0, noise * s.height_px, 4).astype(np.float32)
        box = np.clip(box, [0, 0, 0, 0], [w - 1, h - 1, w - 1, h - 1]).astype(np.float32)
        if box[2] - box[0] < 4 or box[3] - box[1] < 4:
            continue
        boxes.append(box)
        layouts.append(_LYING if s.posture == "lie" else _STANDING)
    if not boxes:
        return Poses.empty()
    xyxy = np.stack(boxes)
    wh = xyxy[:, 2:] - xyxy[:, :2]
    keypoints = xyxy[:, None, :2] + np.stack(layouts) * wh[:, None, :]
    n = len(xyxy)
    return Poses(
        xyxy=xyxy,
        score=np.clip(rng.normal(0.85, 0.05, n), 0.3, 0.99).astype(np.float32),
        keypoints=keypoints.astype(np.float32),
        keypoint_score=np.full((n, NUM_KEYPOINTS), 0.9, np.float32),
    )


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class ExpectedEvent:
    """An event a scenario must raise: `kind` in `zone`, detected between the two times (s)."""

    kind: str
    zone: str | None
    earliest_s: float
    latest_s: float

    def matches(self, event: BehaviourEvent) -> bool:
        return (
            event.kind == self.kind
            and event.zone == self.zone
            and self.earliest_s <= event.detected_at <= self.latest_s
        )

    def __str__(self) -> str:
        where = f" in {self.zone}" if self.zone else ""
        return f"{self.kind}{where} at {self.earliest_s:.1f}-{self.latest_s:.1f} s"


@dataclass(frozen=True, eq=False)
class Scenario:
    """Scripted people, the camera's zones, the local time at t=0 and the expected events.

    `frames` are (timestamp s, poses) at `FPS`.
    """

    name: str
    description: str
    zones: tuple[ZoneConfig, ...]
    wall_start: float
    frames: tuple[tuple[float, Poses], ...]
    expected: tuple[ExpectedEvent, ...]


@dataclass(frozen=True)
class ScenarioResult:
    """Expected and raised events of one scenario, and what did not match."""

    scenario: str
    description: str
    expected: tuple[ExpectedEvent, ...]
    raised: tuple[BehaviourEvent, ...]
    missed: tuple[ExpectedEvent, ...]
    unexpected: tuple[BehaviourEvent, ...]
    right: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "right", not self.missed and not self.unexpected)


def _local(hour: int, minute: int = 0) -> float:
    """Epoch seconds of a fixed day's local `hour:minute` (time windows read local time)."""
    return datetime(2024, 3, 12, hour, minute).timestamp()


def _rect(x1: float, y1: float, x2: float, y2: float) -> tuple[tuple[float, float], ...]:
    return ((x1, y1), (x2, y1), (x2, y2), (x1, y2))


def _entered(actor: Actor, zone: ZoneConfig, after_s: float = 0.0) -> float:
    """When the actor's true ground point first is in `zone` (at or after `after_s`)."""
    zmap = ZoneMap((zone,), FRAME_SIZE)
    for i, s in enumerate(actor.samples):
        if s is not None and i / FPS >= after_s and zmap.containing((s.x, s.y)):
            return i / FPS
    raise ValueError(f"the actor never enters {zone.name}")


def _scenario(
    name: str,
    description: str,
    actors: Sequence[Actor],
    zones: Sequence[ZoneConfig] = (),
    expected: Sequence[ExpectedEvent] = (),
    *,
    hour: int = 14,
    seed: int = 0,
    noise: float = 0.015,
    miss: float = 0.03,
) -> Scenario:
    rng = np.random.default_rng(seed)
    n = max(len(a.samples) for a in actors)
    frames = []
    for i in range(n):
        present = [a.samples[i] for a in actors if i < len(a.samples)]
        frames.append((i / FPS, _poses([s for s in present if s is not None], rng, noise, miss)))
    return Scenario(name, description, tuple(zones), _local(hour), tuple(frames), tuple(expected))


CORRIDOR = ZoneConfig(name="corridor", type="corridor", polygon=_rect(0.03, 0.55, 0.97, 0.97))
ROOM = ZoneConfig(name="room", type="room", polygon=_rect(0.02, 0.35, 0.98, 0.99))
NIGHT = (TimeWindow(start="22:00", end="06:00"),)


def build_scenarios(seed: int = 0) -> list[Scenario]:
    """Every scenario, deterministic for `seed` (noise, missed detections, sway)."""
    out: list[Scenario] = []
    add = out.append

    def s(k: int) -> int:
        return seed * 1000 + k

    # Pacing, near the camera, across the image, in a corridor without a dwell limit.
    a = Actor(40, 420, 190).walk(120, 420, 1.0)
    pace_from = a.now_s
    a.pace((120, 420), (520, 420), 0.9, until_s=55).walk(660, 420, 1.0)
    add(
        _scenario(
            "pacing_corridor_near",
            "Paces a corridor for 50 s, legs of 2 body heights at 0.9 heights/s, near the camera.",
            [a],
            [CORRIDOR],
            [ExpectedEvent("pacing", "corridor", pace_from, 57)],
            seed=s(1),
        )
    )

    # Pacing far away (people 55 px tall), slow, with two 1 s misses in a row; no zones.
    a = Actor(200, 200, 55).walk(260, 200, 0.7)
    pace_from = a.now_s
    a.pace((260, 200), (400, 200), 0.7, until_s=20).hide(1.0)
    a.pace((400, 200), (260, 200), 0.7, until_s=40).hide(1.0)
    a.pace((260, 200), (400, 200), 0.7, until_s=60)
    add(
        _scenario(
            "pacing_far_small",
            "Paces far from the camera (55 px tall), slowly, unseen for 1 s twice; no zones.",
            [a],
            [],
            [ExpectedEvent("pacing", None, pace_from, 62)],
            seed=s(2),
            noise=0.03,
            miss=0.08,
        )
    )

    # Pacing toward and away from the camera: the person grows and shrinks.
    a = Actor(330, 250, 110, perspective=1.6).walk(330, 260, 1.2)
    pace_from = a.now_s
    a.pace((330, 260), (300, 460), 1.2, until_s=45)
    add(
        _scenario(
            "pacing_depth",
            "Paces toward and away from the camera in a room (110 to 190 px tall), fast.",
            [a],
            [ROOM],
            [ExpectedEvent("pacing", "room", pace_from, 47)],
            seed=s(3),
        )
    )

    # Walking loops around a room, like the UP-Fall walking clips.
    a = Actor(120, 330, 160).loop((320, 330), (200, 70), period_s=11.0, until_s=50)
    add(
        _scenario(
            "looping_room",
            "Walks loops round a room (11 s a lap) for 50 s.",
            [a],
            [ROOM],
            [ExpectedEvent("pacing", "room", 0, 52)],
            seed=s(4),
        )
    )

    # Loitering: walks into a corridor with a 30 s dwell limit and stands there.
    zone = ZoneConfig(
        name="hall", type="corridor", polygon=_rect(0.3, 0.55, 0.7, 0.97), dwell_limit_s=30
    )
    a = Actor(20, 420, 180).walk(320, 420, 1.0).stand(40, seed=s(5)).walk(660, 420, 1.0)
    entered = _entered(a, zone)
    add(
        _scenario(
            "loitering_with_limit",
            "Walks into a corridor zone with a 30 s dwell limit and stands there 40 s.",
            [a],
            [zone],
            [ExpectedEvent("loitering", "hall", entered + 30, entered + 33)],
            seed=s(5),
        )
    )

    # Loitering survives a 2 s occlusion.
    zone = ZoneConfig(
        name="hall", type="corridor", polygon=_rect(0.3, 0.55, 0.7, 0.97), dwell_limit_s=25
    )
    a = Actor(20, 420, 180).walk(320, 420, 1.0).stand(12, seed=s(6)).hide(2.0)
    a.stand(25, seed=s(7)).walk(660, 420, 1.0)
    entered = _entered(a, zone)
    add(
        _scenario(
            "loitering_through_occlusion",
            "Stands 39 s in a zone with a 25 s limit, unseen for 2 s after 12 s: one event.",
            [a],
            [zone],
            [ExpectedEvent("loitering", "hall", entered + 25, entered + 28)],
            seed=s(6),
        )
    )

    # Passing through a zone with a dwell limit.
    zone = ZoneConfig(
        name="hall", type="corridor", polygon=_rect(0.3, 0.55, 0.7, 0.97), dwell_limit_s=20
    )
    a = Actor(20, 420, 180).walk(660, 420, 0.6)
    add(
        _scenario(
            "passing_through",
            "Walks through a zone with a 20 s dwell limit in about 6 s and leaves.",
            [a],
            [zone],
            seed=s(8),
        )
    )

    # Standing a long time where no dwell limit is set.
    a = Actor(20, 400, 170).walk(300, 400, 1.0).stand(60, seed=s(9))
    add(
        _scenario(
            "standing_without_limit",
            "Stands 60 s in a room zone without a dwell limit.",
            [a],
            [ROOM],
            seed=s(9),
        )
    )

    # A slow wanderer walks a long corridor once, weaving a little.
    a = Actor(10, 420, 150)
    for x in range(60, 640, 60):
        a.walk(x, 420 + (12 if (x // 60) % 2 else -12), 0.15)
    add(
        _scenario(
            "slow_straight_corridor",
            "Walks the whole corridor once at 0.15 heights/s (about 30 s), weaving a little.",
            [a],
            [CORRIDOR],
            seed=s(10),
        )
    )

    # Restricted zone entered and left again.
    zone = ZoneConfig(name="office", type="restricted", polygon=_rect(0.7, 0.6, 0.97, 0.97))
    a = Actor(200, 400, 170).walk(540, 400, 1.0).stand(6, seed=s(11)).walk(200, 400, 1.0)
    entered = _entered(a, zone)
    add(
        _scenario(
            "restricted_entry",
            "Walks into a restricted zone, stays 6 s and walks out.",
            [a],
            [zone],
            [ExpectedEvent("restricted_entry", "office", entered, entered + 3)],
            seed=s(11),
        )
    )

    # Cutting across a restricted zone's corner (0.6 s inside).
    a = Actor(200, 300, 170).walk(460, 300, 1.0).walk(470, 292, 1.0).walk(620, 280, 1.0)
    edge = ZoneConfig(name="office", type="restricted", polygon=_rect(0.7, 0.6, 0.97, 0.97))
    add(
        _scenario(
            "restricted_outside",
            "Walks past a restricted zone, cutting across its corner (0.6 s inside).",
            [a],
            [edge],
            seed=s(12),
        )
    )

    # The same restricted zone, entered at night when its rules are off (active 08:00-20:00).
    day_only = ZoneConfig(
        name="office",
        type="restricted",
        polygon=_rect(0.7, 0.6, 0.97, 0.97),
        active=(TimeWindow(start="08:00", end="20:00"),),
    )
    a = Actor(200, 400, 170).walk(540, 400, 1.0).stand(6, seed=s(13)).walk(200, 400, 1.0)
    add(
        _scenario(
            "restricted_inactive",
            "Walks into a restricted zone that is active 08:00-20:00, at 23:00.",
            [a],
            [day_only],
            hour=23,
            seed=s(13),
        )
    )

    # Walking to the exit and out.
    door = ZoneConfig(name="door", type="exit", polygon=_rect(0.0, 0.3, 0.08, 1.0))
    a = Actor(420, 400, 170, start_s=1).stand(3, seed=s(14)).walk(-20, 400, 1.0)
    entered = _entered(a, door)
    add(
        _scenario(
            "walk_to_exit",
            "Stands in the room, then walks to the exit door at the left edge and out.",
            [a],
            [door],
            [ExpectedEvent("exit_approach", "door", entered - 3, entered + 2)],
            seed=s(14),
        )
    )

    # Walking past the exit, about two body heights from it.
    a = Actor(330, 230, 120).walk(330, 470, 0.8)
    add(
        _scenario(
            "walk_past_exit",
            "Walks up and down the room parallel to the exit door, two heights from it.",
            [a],
            [door],
            seed=s(15),
        )
    )

    # Coming in through the exit door.
    a = Actor(10, 400, 170).walk(400, 400, 1.0).stand(5, seed=s(16))
    add(
        _scenario(
            "in_through_exit",
            "Comes in through the exit door and walks into the room.",
            [a],
            [door],
            seed=s(16),
        )
    )

    # Bed zone with a night window.
    bed = ZoneConfig(name="bed", type="bed", polygon=_rect(0.3, 0.5, 0.8, 0.85), night=NIGHT)
    a = Actor(350, 360, 170, start_s=0.2).lie().stand(60, sway_heights=0.02, seed=s(17))
    add(
        _scenario(
            "lying_in_bed_at_night",
            "Lies in a bed zone at 23:30 for a minute (turning a little).",
            [a],
            [bed],
            hour=23,
            seed=s(17),
        )
    )
    a = Actor(330, 380, 170).stand(40, sway_heights=0.04, seed=s(18))
    add(
        _scenario(
            "standing_in_bed_zone_at_night",
            "Stands in a bed zone at 23:00 for 40 s, shifting weight.",
            [a],
            [bed],
            hour=23,
            seed=s(18),
        )
    )
    a = Actor(350, 360, 170).lie().stand(10, sway_heights=0.02, seed=s(19)).get_up()
    a.stand(2, sway_heights=0.02, seed=s(20))
    up = a.now_s
    a.walk(620, 470, 0.8).walk(660, 470, 0.8)
    add(
        _scenario(
            "getting_out_of_bed_at_night",
            "Lies in bed at 02:00, gets up and walks off.",
            [a],
            [bed],
            [ExpectedEvent("night_movement", "bed", up, up + 6)],
            hour=2,
            seed=s(19),
        )
    )

    # Corridor with a night window: walking along it at night, and the same by day.
    night_corridor = ZoneConfig(
        name="corridor", type="corridor", polygon=CORRIDOR.polygon, night=NIGHT
    )
    for hour, expect in ((23, True), (14, False)):
        a = Actor(-10, 420, 170).walk(650, 420, 1.0)
        entered = _entered(a, night_corridor)
        add(
            _scenario(
                f"corridor_walk_{hour:02d}h",
                f"Walks along a corridor with a night window 22:00-06:00, at {hour:02d}:00.",
                [a],
                [night_corridor],
                [ExpectedEvent("night_movement", "corridor", entered, entered + 5)]
                if expect
                else [],
                hour=hour,
                seed=s(21 + hour),
            )
        )

    # Two people walking past each other in a corridor.
    a = Actor(20, 430, 180).walk(620, 430, 1.0)
    b = Actor(620, 400, 160).walk(20, 400, 1.0)
    add(
        _scenario(
            "two_people_crossing",
            "Two people walk past each other along a corridor.",
            [a, b],
            [CORRIDOR],
            seed=s(30),
        )
    )
    return out


# --------------------------------------------------------------------------- running and scoring


def run_scenario(scenario: Scenario, cfg: WanderingConfig) -> tuple[BehaviourEvent, ...]:
    """Every wandering event the real tracker and detector raise on `scenario`."""
    analyzer = Analyzer(
        CAMERA_ID,
        PoseTracker(CAMERA_ID, TrackerConfig()),
        [WanderingDetector(cfg, scenario.zones)],
        wall_start=scenario.wall_start,
    )
    thumb = np.zeros((FRAME_SIZE[1] // 8, FRAME_SIZE[0] // 8), np.uint8)
    events: list[BehaviourEvent] = []
    for i, (t, poses) in enumerate(scenario.frames):
        seen = Perception(CAMERA_ID, i, t, FRAME_SIZE, poses, thumb)
        events.extend(analyzer.step(seen).events)
    return tuple(events)


def score(scenario: Scenario, raised: Sequence[BehaviourEvent]) -> ScenarioResult:
    """Match raised events one-to-one to the expected ones (first fitting event wins)."""
    left = list(raised)
    missed = []
    for want in scenario.expected:
        hit = next((e for e in left if want.matches(e)), None)
        if hit is None:
            missed.append(want)
        else:
            left.remove(hit)
    return ScenarioResult(
        scenario=scenario.name,
        description=scenario.description,
        expected=scenario.expected,
        raised=tuple(raised),
        missed=tuple(missed),
        unexpected=tuple(left),
    )


def score_scenarios(
    config: WanderingConfig | BehavioursConfig | None = None, seed: int = 0
) -> list[ScenarioResult]:
    """Run and score every scenario with `config` (a camera's `behaviours` or its `wandering`
    section; default thresholds when None)."""
    if isinstance(config, BehavioursConfig):
        config = config.wandering
    cfg = config or WanderingConfig()
    return [score(sc, run_scenario(sc, cfg)) for sc in build_scenarios(seed)]


def _raised(event: BehaviourEvent) -> str:
    where = f" in {event.zone}" if event.zone else ""
    return f"{event.kind}{where} at {event.detected_at:.1f} s"


def format_markdown(results: Sequence[ScenarioResult]) -> str:
    """A headline and a table of every scenario: expected, raised, right or wrong."""
    right = sum(r.right for r in results)
    if right == len(results):
        head = f"Wandering: every synthetic scenario scored right ({right} of {len(results)})."
    else:
        head = f"Wandering: {right} of {len(results)} synthetic scenarios scored right."
    lines = [
        head,
        "",
        "| scenario | what happens | expected | raised | result |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        expected = "; ".join(str(e) for e in r.expected) or "nothing"
        raised = "; ".join(_raised(e) for e in r.raised) or "nothing"
        lines.append(
            f"| {r.scenario} | {r.description} | {expected} | {raised} | "
            f"{'right' if r.right else '**wrong**'} |"
        )
    return "\n".join(lines) + "\n"
