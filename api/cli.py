"""The `carewatch` command line.

    carewatch models install [--sizes 640 480 320] [--pt FILE] [--model-dir DIR]
    carewatch detect VIDEO [--out tracks.jsonl] [--events events.jsonl] [--annotate out.mp4]
                     [--config FILE] [--camera ID] [--fps N]
    carewatch run [--config FILE] [--host H] [--port P] [--data-dir DIR]
    carewatch demo-video OUT.mp4 [--seed N]
    carewatch bench [VIDEO] [--sizes ...] [--frames N] [--no-reference] [--json FILE]
    carewatch bench-alerts [--cameras N] [--seconds S] [--mqtt HOST:PORT] [--json FILE]
    carewatch bench-cameras [--cameras 1,2,4,8,16] [--seconds S] [--clips DIR] [--idle K]
                            [--gating on|off|both] [--regions on|off] [--fit on|off] [--size N]
                            [--no-reference] [--json FILE]
    carewatch config-check FILE | config-docs
    carewatch eval [--labels CSV] [--clips DIR] [--config FILE] [--camera ID] [--only fall|fight]
                   [--fps N] [--gating on|off] [--regions on|off] [--md OUT.md] [--json OUT.json]
    carewatch tune --param fall.NAME=V1,V2,... [--param ...] [same options as eval]
    carewatch train fight [--generated N] [--labels CSV] [--station] [--cross-validate K]
                    [--compare CSV] [--out FILE.onnx] [--seed N] [--config FILE] [--camera ID]
    carewatch users create-admin --username NAME [--display-name X] [--config FILE] [--data-dir DIR]
    carewatch users list [--config FILE] [--data-dir DIR]
    carewatch users set-password --username NAME [--config FILE] [--data-dir DIR]

`users create-admin` makes the first admin (there is no default account): the password comes from
CAREWATCH_ADMIN_PASSWORD or is typed twice; `users set-password` reads CAREWATCH_NEW_PASSWORD or
asks, and ends that user's sessions.

Errors a person can fix (a bad config, a missing model, a broken video) print one clear message
and exit with status 2; nothing is half-written.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from api.config import AppConfig, ConfigError, load_config
from models.acquire import ModelInstallError, install, model_dir, resolve_onnx
from models.config import DEFAULT_INPUT_SIZES
from models.onnx_pose import OnnxPoseEstimator

if TYPE_CHECKING:
    from vision.config import CameraConfig

log = logging.getLogger("carewatch")


class UserError(Exception):
    """Something the person running the command can fix; printed without a traceback."""


def _load(path: Path | None) -> AppConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise UserError(str(exc)) from None


def _estimator(config: AppConfig, size: int | None = None) -> OnnxPoseEstimator:
    cfg = config.model if size is None else config.model.model_copy(update={"input_size": size})
    return OnnxPoseEstimator(resolve_onnx(cfg, model_dir()), cfg)


def cmd_models_install(args: argparse.Namespace) -> int:
    paths = install(model_dir(args.model_dir), sizes=args.sizes, pt=args.pt)
    for path in paths:
        print(path)
    return 0


def cmd_detect(args: argparse.Namespace) -> int:
    from api.detect import detect_video
    from vision.sources import SourceError

    config = _load(args.config)
    estimator = _estimator(config)
    out = args.out.open("w") if args.out else None
    events = args.events.open("w") if args.events else None
    try:
        summary = detect_video(
            args.video,
            config,
            estimator,
            out=out,
            events=events,
            annotate=args.annotate,
            fps=args.fps,
            camera_id=args.camera,
        )
    except SourceError as exc:
        raise UserError(str(exc)) from None
    finally:
        for f in (out, events):
            if f is not None:
                f.close()
    print(
        f"{summary.frames_analysed} of {summary.frames_read} frames analysed, "
        f"{len(summary.tracks)} tracks, {len(summary.events)} events"
    )
    for tid, info in sorted(summary.tracks.items()):
        print(
            f"  track {tid}: {int(info['frames'])} frames, "
            f"{info['first_t']:.2f}-{info['last_t']:.2f} s"
        )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from api.service import serve

    config = _load(args.config)
    server = config.server
    data_dir = Path(args.data_dir or server.data_dir)
    serve(config, host=args.host or server.host, port=args.port or server.port, data_dir=data_dir)
    return 0


def cmd_demo_video(args: argparse.Namespace) -> int:
    from api.demo_video import make_demo_video
    from models.acquire import assets_dir

    config = _load(None)
    script = make_demo_video(
        args.out, estimator=_estimator(config, 640), assets=assets_dir(model_dir()), seed=args.seed
    )
    print(f"{args.out}: {script.duration_s:.1f} s")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import json

    from api.bench import format_markdown, run_bench

    video = args.video
    if video is None:
        from api.service import ensure_demo_video

        video = ensure_demo_video(Path(args.data_dir), _estimator(_load(None), 640))
    report = run_bench(
        video,
        sizes=tuple(args.sizes),
        threads=args.threads,
        max_frames=args.frames,
        reference=not args.no_reference,
    )
    print(format_markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2))
    return 0


def _eval_inputs(args: argparse.Namespace) -> tuple[AppConfig, CameraConfig, set[str] | None]:
    """Config, camera and the clips to run for `eval` and `tune`; checked before any model loads."""
    from api.detect import camera_for_file
    from api.evaluation.harness import LabelsError, check_clips, for_behaviour, read_labels, select

    config = _load(args.config)
    if args.camera is None and len(config.cameras) > 1:
        ids = ", ".join(c.id for c in config.cameras)
        raise UserError(
            f"{args.config}: {len(config.cameras)} cameras; choose one with --camera ({ids})"
        )
    try:
        camera = camera_for_file(config, args.camera)
        labels = read_labels(args.labels)
        only = for_behaviour(labels, args.only)
        check_clips(select(labels, only), _clips_dir(args))
    except LabelsError as exc:
        raise UserError(str(exc)) from None
    for section in ("gating", "regions"):
        if getattr(args, section) is not None:
            switched = getattr(camera, section).model_copy(
                update={"enabled": getattr(args, section) == "on"}
            )
            camera = camera.model_copy(update={section: switched})
    return config, camera, only


def _clips_dir(args: argparse.Namespace) -> Path:
    return Path(args.clips) if args.clips else Path(args.labels).parent


def _eval_command(args: argparse.Namespace, verb: str) -> str:
    """The command line that reproduces this run, for the report."""
    parts = ["carewatch", verb, "--labels", str(args.labels), "--clips", str(_clips_dir(args))]
    for flag in ("config", "camera", "only", "fps", "gating", "regions"):
        if getattr(args, flag) is not None:
            parts += [f"--{flag}", str(getattr(args, flag))]
    for param in getattr(args, "param", None) or ():
        parts += ["--param", param]
    return " ".join(parts)


def cmd_bench_alerts(args: argparse.Namespace) -> int:
    from api.alert_latency import measure, report

    mqtt = None
    if args.mqtt:
        host, _, port = args.mqtt.rpartition(":")
        if not host or not port.isdigit():
            raise UserError(f"--mqtt must be HOST:PORT, got {args.mqtt!r}")
        mqtt = (host, int(port))
    result = measure(
        cameras=args.cameras,
        seconds=args.seconds,
        data_dir=Path(args.data_dir),
        mqtt=mqtt,
        size=args.size,
    )
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def cmd_bench_cameras(args: argparse.Namespace) -> int:
    from api.capacity import parse_counts, run, to_markdown

    report = run(
        cameras=parse_counts(args.cameras),
        seconds=args.seconds,
        clips=args.clips,
        idle=args.idle,
        gating=args.gating,
        regions=args.regions,
        fit=args.fit,
        size=args.size,
        reference=not args.no_reference,
        data_dir=Path(args.data_dir),
    )
    print(to_markdown(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import json

    from api.evaluation import report, scoring
    from api.evaluation.harness import evaluate

    config, camera, only = _eval_inputs(args)
    result = evaluate(
        args.labels, _clips_dir(args), config, camera=camera, only=only, analysis_fps=args.fps
    )
    score = scoring.score(result.runs, (args.only,) if args.only else scoring.SCORED)
    scenarios = None if args.only else report.wandering_scenarios(camera.behaviours)
    command = _eval_command(args, "eval")
    markdown = report.to_markdown(result, score, command=command, scenarios=scenarios)
    print(markdown, end="")
    if args.md:
        args.md.write_text(markdown, encoding="utf-8")
    if args.json:
        data = report.to_json(result, score, command=command, scenarios=scenarios)
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    import json

    from api.evaluation import tune
    from api.evaluation.harness import default_estimator, load_clips, read_labels, select

    try:
        params = [tune.parse_param(p) for p in args.param]
    except tune.TuneError as exc:
        raise UserError(str(exc)) from None
    config, camera, only = _eval_inputs(args)
    try:
        tune.combinations(camera.behaviours, params)
    except tune.TuneError as exc:
        raise UserError(str(exc)) from None
    behaviours = (args.only,) if args.only else tune.behaviours_of(params)
    labels = select(read_labels(args.labels), only)
    loaded = load_clips(
        labels, _clips_dir(args), default_estimator(config), camera=camera, analysis_fps=args.fps
    )
    points = tune.sweep(
        loaded, camera, config, params, behaviours=behaviours, analysis_fps=args.fps
    )
    print(f"```sh\n{_eval_command(args, 'tune')}\n```\n")
    print(tune.to_markdown(points, behaviours), end="")
    if args.json:
        args.json.write_text(json.dumps(tune.to_json(points), indent=2), encoding="utf-8")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from api.detect import camera_for_file
    from api.evaluation.harness import LabelsError
    from api.training.command import run
    from api.training.train import TrainingError

    config = _load(args.config)
    try:
        return run(args, config, camera_for_file(config, args.camera))
    except (LabelsError, TrainingError) as exc:
        raise UserError(str(exc)) from None


def cmd_config_docs(_: argparse.Namespace) -> int:
    from api.config_docs import config_reference_markdown

    sys.stdout.write(config_reference_markdown())
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    from api.behaviour_models import scorers_for

    config = _load(args.config)
    for camera in config.cameras:
        scorers_for(camera.behaviours)  # learned classifiers named by path load
    print(f"{args.config}: valid, {len(config.cameras)} cameras")
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from api.users_cli import run

    return run(args, _load(args.config))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="carewatch", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    models = sub.add_parser("models", help="manage pose models").add_subparsers(
        dest="models_command", required=True
    )
    p = models.add_parser("install", help="download, verify and export the pose model to ONNX")
    p.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_INPUT_SIZES))
    p.add_argument("--pt", type=Path, help="export your own YOLO-pose .pt instead")
    p.add_argument("--model-dir", type=Path, help="model cache (default ~/.cache/carewatch/models)")
    p.set_defaults(func=cmd_models_install)

    p = sub.add_parser("detect", help="track people in a video file")
    p.add_argument("video", type=Path)
    p.add_argument("--out", type=Path, help="write per-frame tracks as JSON lines")
    p.add_argument("--events", type=Path, help="write behaviour events as JSON lines")
    p.add_argument("--camera", help="camera of --config whose zones and thresholds apply")
    p.add_argument("--annotate", type=Path, help="write an annotated H.264 MP4")
    p.add_argument("--config", type=Path, help="config file (model and tracker sections)")
    p.add_argument("--fps", type=float, help="analyse at most N frames per second")
    p.set_defaults(func=cmd_detect)

    p = sub.add_parser("run", help="run the service")
    p.add_argument("--config", type=Path, help="config file (default: embedded demo config)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--data-dir", type=Path)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo-video", help="generate the scripted demo scene")
    p.add_argument("out", type=Path)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_demo_video)

    p = sub.add_parser("bench", help="measure per-stage speed against plain Ultralytics")
    p.add_argument("video", type=Path, nargs="?", help="default: the demo video")
    p.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_INPUT_SIZES))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--frames", type=int, default=150, help="frames per size")
    p.add_argument("--no-reference", action="store_true", help="skip the Ultralytics run")
    p.add_argument("--json", type=Path, help="also write the report as JSON")
    p.add_argument("--data-dir", default="data", help="where the demo video is kept")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("bench-alerts", help="measure alert latency to WebSocket and MQTT")
    p.add_argument("--cameras", type=int, default=2, help="demo cameras played at once")
    p.add_argument("--seconds", type=float, default=110.0, help="how long to run")
    p.add_argument("--size", type=int, default=480, help="pose model input size")
    p.add_argument("--mqtt", help="HOST:PORT of a broker (default: start a local mosquitto)")
    p.add_argument("--json", type=Path, help="also write the results as JSON")
    p.add_argument("--data-dir", default="data", help="where the demo video is kept")
    p.set_defaults(func=cmd_bench_alerts)

    p = sub.add_parser("bench-cameras", help="measure how many cameras this machine watches")
    p.add_argument("--cameras", default="1,2,4,8,16", help="camera counts, comma-separated")
    p.add_argument("--seconds", type=float, default=30.0, help="measured seconds per run")
    p.add_argument(
        "--clips",
        type=Path,
        default=Path("../shared/data/clips"),
        help="folder with labels.csv and the clips (absent: the demo video on every camera)",
    )
    p.add_argument("--idle", type=int, default=0, help="how many cameras show an empty room")
    p.add_argument(
        "--gating",
        choices=("on", "off", "both"),
        help="motion gating for the runs (default: both, when this build has gating)",
    )
    p.add_argument(
        "--regions",
        choices=("on", "off"),
        help="the model on regions with motion or people (default: the cameras' default, on)",
    )
    p.add_argument(
        "--fit",
        choices=("on", "off"),
        help="frames fed at the shape that fits them, not padded to a square "
        "(model.fit_frame; default: the model's default)",
    )
    p.add_argument("--size", type=int, default=480, help="pose model input size")
    p.add_argument("--no-reference", action="store_true", help="skip the Ultralytics run")
    p.add_argument("--json", type=Path, help="also write the report as JSON")
    p.add_argument("--data-dir", default="data", help="where the demo video is kept")
    p.set_defaults(func=cmd_bench_cameras)

    for verb, text in (
        ("eval", "score the behaviour detectors on labelled clips (cached poses)"),
        ("tune", "sweep behaviour thresholds on labelled clips: recall vs false alarms"),
    ):
        p = sub.add_parser(verb, help=text)
        p.add_argument(
            "--labels",
            type=Path,
            default=Path("../shared/data/clips/labels.csv"),
            help="labels.csv (default: ../shared/data/clips/labels.csv)",
        )
        p.add_argument(
            "--clips", type=Path, help="folder of the clips (default: the labels' folder)"
        )
        p.add_argument("--config", type=Path, help="config file (default: the embedded one)")
        p.add_argument("--camera", help="camera of --config whose zones and thresholds apply")
        p.add_argument(
            "--only", choices=("fall", "fight"), help="that behaviour's clips and normal clips"
        )
        p.add_argument("--fps", type=float, help="analysis rate (default: the camera's)")
        p.add_argument(
            "--gating",
            choices=("on", "off"),
            help="activity gating as a live camera (default: the camera's setting, on)",
        )
        p.add_argument(
            "--regions",
            choices=("on", "off"),
            help="the model on regions with motion or people, as a live camera (default: the "
            "camera's setting, on; the regions' poses are computed once and cached)",
        )
        p.add_argument("--json", type=Path, help="also write the results as JSON")
        if verb == "eval":
            p.add_argument("--md", type=Path, help="also write the Markdown report to a file")
            p.set_defaults(func=cmd_eval)
        else:
            p.add_argument(
                "--param",
                action="append",
                required=True,
                metavar="SECTION.NAME=V1,V2,...",
                help="a behaviours setting and the values to try (repeatable)",
            )
            p.set_defaults(func=cmd_tune)

    from api.training.command import add_arguments

    p = sub.add_parser("train", help="train a learned behaviour classifier (ONNX)")
    add_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("config-docs", help="print the configuration reference (Markdown)")
    p.set_defaults(func=cmd_config_docs)
    p = sub.add_parser("config-check", help="validate a configuration file")
    p.add_argument("config", type=Path)
    p.set_defaults(func=cmd_config_check)

    users = sub.add_parser("users", help="staff accounts on the service's database")
    verbs = users.add_subparsers(dest="users_command", required=True)
    for verb, text in (
        ("create-admin", "add an admin (password from CAREWATCH_ADMIN_PASSWORD or a prompt)"),
        ("list", "show every account"),
        ("set-password", "set a password (CAREWATCH_NEW_PASSWORD or a prompt), end sessions"),
    ):
        p = verbs.add_parser(verb, help=text)
        if verb != "list":
            p.add_argument("--username", required=True)
        if verb == "create-admin":
            p.add_argument("--display-name", default="", help="name shown in the console")
        p.add_argument("--config", type=Path, help="config file (default: the embedded one)")
        p.add_argument("--data-dir", type=Path, help="data folder (default: server.data_dir)")
        p.set_defaults(func=cmd_users)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except (UserError, ModelInstallError, ValueError) as exc:
        if args.verbose:
            raise
        print(f"carewatch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
