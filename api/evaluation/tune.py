"""Sweep behaviour thresholds on the cached clips: the recall / false-alarm trade-off.

    carewatch tune --param fall.<name>=0.6,0.8,1.0 [--param fight.<name>=...]

Each `--param` is a dotted path into a camera's `behaviours` section and the values to try; every
combination is applied to the camera's settings (validated like a config file) and replayed over
the same cached perception, so a sweep costs seconds per point, not a pose-model run. The table
puts each point's recall, false alarms and delay side by side so an operator can pick one.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from api.config import AppConfig
from api.evaluation.cache import CachedClip
from api.evaluation.harness import AnalyzerFactory, ClipLabel, run_loaded
from api.evaluation.scoring import SCORED, Score, score
from vision.behaviours.config import BehavioursConfig
from vision.config import CameraConfig

log = logging.getLogger(__name__)

MAX_POINTS = 200
"""A sweep of more combinations than this is refused (it would run for minutes)."""


class TuneError(ValueError):
    """A `--param` that cannot be used; the message lists what is allowed."""


@dataclass(frozen=True)
class Param:
    """One swept setting: `path` below `behaviours` (e.g. "fall.confirm_s") and its values."""

    path: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class TunePoint:
    """One combination of settings and how it scored; `current` marks the camera's own."""

    settings: dict[str, Any]
    score: Score
    current: bool


def allowed_params(model: type[BaseModel] = BehavioursConfig, prefix: str = "") -> list[str]:
    """Every tunable leaf of the behaviours section, as dotted paths ("fall.enabled", ...)."""
    paths = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths += allowed_params(annotation, f"{prefix}{name}.")
        else:
            paths.append(f"{prefix}{name}")
    return paths


def _split(values: str) -> list[str]:
    """Split on commas outside brackets: "1,2,[3,4]" -> ["1", "2", "[3,4]"]."""
    parts, depth, current = [], 0, ""
    for ch in values:
        depth += ch in "[{("
        depth -= ch in "]})"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts]


def parse_param(text: str) -> Param:
    """`"fall.confirm_s=0.5,1,1.5"` -> Param("fall.confirm_s", (0.5, 1, 1.5)); values as YAML."""
    path, sep, values = text.partition("=")
    path = path.strip().removeprefix("behaviours.")
    allowed = allowed_params()
    if not sep or not values.strip():
        raise TuneError(
            f"--param {text!r}: write it as <path>=<v1>,<v2>,... (e.g. fall.enabled=true,false)"
        )
    if path not in allowed:
        raise TuneError(
            f"--param {text!r}: unknown setting {path!r}; allowed: {', '.join(allowed)}"
        )
    parsed = []
    for raw in _split(values):
        if not raw:
            raise TuneError(f"--param {text!r}: an empty value")
        try:
            parsed.append(yaml.safe_load(raw))
        except yaml.YAMLError as exc:
            raise TuneError(f"--param {text!r}: {raw!r} is not a value ({exc})") from None
    return Param(path, tuple(parsed))


def get_value(cfg: BehavioursConfig, path: str) -> Any:
    value: Any = cfg
    for part in path.split("."):
        value = getattr(value, part)
    return value


def apply(cfg: BehavioursConfig, settings: dict[str, Any]) -> BehavioursConfig:
    """`cfg` with the dotted `settings` laid over it, validated (TuneError names a bad value)."""
    data = cfg.model_dump()
    for path, value in settings.items():
        node = data
        *parents, leaf = path.split(".")
        for part in parents:
            node = node[part]
        node[leaf] = value
    try:
        return BehavioursConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()
        )
        raise TuneError(f"{settings}: not a valid setting: {problems}") from None


def combinations(cfg: BehavioursConfig, params: Sequence[Param]) -> list[BehavioursConfig]:
    """Every combination of the params' values applied to `cfg` (all validated up front)."""
    paths = [p.path for p in params]
    if len(set(paths)) != len(paths):
        raise TuneError(f"a setting is swept twice: {', '.join(paths)}")
    product = list(itertools.product(*(p.values for p in params)))
    if len(product) > MAX_POINTS:
        raise TuneError(f"{len(product)} combinations; sweep at most {MAX_POINTS} at once")
    return [apply(cfg, dict(zip(paths, combo, strict=True))) for combo in product]


def behaviours_of(params: Sequence[Param]) -> tuple[str, ...]:
    """Which scored behaviours a sweep can change (fall.* -> fall; other sections -> both)."""
    touched = {p.path.split(".")[0] for p in params}
    chosen = tuple(b for b in SCORED if b in touched)
    return chosen if chosen and touched <= set(SCORED) else SCORED


def sweep(
    loaded: Sequence[tuple[ClipLabel, CachedClip]],
    camera: CameraConfig,
    config: AppConfig,
    params: Sequence[Param],
    *,
    behaviours: Sequence[str] = SCORED,
    analysis_fps: float | None = None,
    make_analyzer: AnalyzerFactory | None = None,
) -> list[TunePoint]:
    """Replay `loaded` once per combination of `params` applied to the camera's behaviours."""
    points = []
    paths = [p.path for p in params]
    current = {path: get_value(camera.behaviours, path) for path in paths}
    configs = combinations(camera.behaviours, params)
    for n, behaviours_cfg in enumerate(configs, start=1):
        settings = {path: get_value(behaviours_cfg, path) for path in paths}
        cam = camera.model_copy(update={"behaviours": behaviours_cfg})
        log.info("point %d of %d: %s", n, len(configs), settings)
        result = run_loaded(
            loaded, cam, config, analysis_fps=analysis_fps, make_analyzer=make_analyzer
        )
        points.append(
            TunePoint(
                settings=settings,
                score=score(result.runs, behaviours),
                current=settings == current,
            )
        )
    return points


def _value(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def to_markdown(points: Sequence[TunePoint], behaviours: Sequence[str]) -> str:
    """One row per point: the settings, then recall, false alarms and delay per behaviour."""
    if not points:
        return "No points.\n"
    paths = list(points[0].settings)
    header = list(paths)
    if "fall" in behaviours:
        header += ["falls alerted", "false falls, normal (clips)", "per hour (95 % up.)",
                   "early", "median delay"]  # fmt: skip
    if "fight" in behaviours:
        header += ["fights alerted", "non-fight clips alerted", "false fights, normal"]
    header += ["targets met"]
    rows = []
    for p in points:
        row = [_value(p.settings[k]) + (" *" if p.current else "") for k in paths]
        if "fall" in behaviours:
            f = p.score.behaviours["fall"]
            up = f.fa_per_hour_upper95
            row += [
                f"{f.detected} of {f.positives}",
                f"{f.false_alarms_normal} ({f.false_alarm_clips_normal})",
                "–" if f.fa_per_hour is None else f"{f.fa_per_hour:.1f} (≤ {up:.1f})",
                str(f.early_alarms),
                "–" if f.median_delay_s is None else f"{f.median_delay_s:+.2f} s",
            ]
        if "fight" in behaviours:
            g = p.score.behaviours["fight"]
            row += [
                f"{g.detected} of {g.positives}",
                f"{g.no_fight_alerted} of {g.no_fight_clips}",
                str(g.false_alarms_normal),
            ]
        met = [t.passed for t in p.score.targets if t.passed is not None]
        row.append(f"{sum(met)} of {len(met)}")
        rows.append(row)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "`*` = the camera's current setting. Targets as in `carewatch eval`."]
    return "\n".join(lines) + "\n"


def to_json(points: Sequence[TunePoint]) -> list[dict[str, Any]]:
    """Each point's settings, per-behaviour results and targets, JSON-ready."""
    from api.evaluation.report import behaviour_json

    return [
        {
            "settings": {
                k: v if isinstance(v, bool | int | float | str) else str(v)
                for k, v in p.settings.items()
            },
            "current": p.current,
            "behaviours": {name: behaviour_json(b) for name, b in p.score.behaviours.items()},
            "targets": [
                {
                    "behaviour": t.behaviour,
                    "target": t.name,
                    "measured": t.measured,
                    "passed": t.passed,
                }
                for t in p.score.targets
            ],
        }
        for p in points
    ]
