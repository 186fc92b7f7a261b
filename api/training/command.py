"""`carewatch train BEHAVIOUR`: what it trains on, what it writes, what it reports.

    carewatch train fight --generated 400                      # the shipped model's recipe
    carewatch train fight --labels clips/labels.csv --station  # a station's own model
    carewatch train fight --labels clips/labels.csv --cross-validate 5 --generated 400
    carewatch train fight --station --compare clips/labels.csv --out data/models/fight-new.onnx

Sources (any mix): `--generated N` procedurally generated clips, `--labels` the behaviour's and
the normal clips of a labels.csv (poses from the evaluation cache), `--station` the alerts of
the behaviour that staff resolved as a real incident or a false alarm. Writes `OUT.onnx`,
`OUT.json` (what the model expects, the data, seeds, figures) and `OUT.md` (the model card).
`--compare LABELS` then scores the camera's current classifier and the new one on those clips
side by side, so an operator sees old versus new before pointing `model.path` at it.
`--cross-validate K` trains nothing to keep: it reports rules / classifier / fused on the labelled
clips with K folds (0: train on the other sources only and score on every labelled clip).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.config import AppConfig
from api.evaluation.harness import ClipLabel, default_estimator, iter_clips, read_labels
from api.training.crossval import MODES, CrossValidation, cross_validate, to_markdown, with_mode
from api.training.dataset import Sample, window_set
from api.training.train import SPECS, TrainSettings, fit, write_metadata
from vision.config import CameraConfig

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("behaviour", choices=sorted(SPECS), help="which classifier")
    p.add_argument(
        "--generated",
        type=int,
        default=None,
        metavar="N",
        help="train on N generated clips (default 400 when no other source is given)",
    )
    p.add_argument("--labels", type=Path, help="train on these labelled clips (labels.csv)")
    p.add_argument("--clips", type=Path, help="folder of the clips (default: the labels' folder)")
    p.add_argument(
        "--station",
        action="store_true",
        help="train on the station's alerts resolved as real incident or false alarm",
    )
    p.add_argument("--data-dir", type=Path, help="the service's data folder (for --station)")
    p.add_argument("--config", type=Path, help="config file (default: the embedded one)")
    p.add_argument("--camera", help="camera of --config whose thresholds apply")
    p.add_argument("--out", type=Path, help="model file to write (default: data/models/B.onnx)")
    p.add_argument("--copies", type=int, default=3, help="augmented copies of each real clip")
    p.add_argument("--seed", type=int, default=0, help="seed of generation, augmentation, training")
    p.add_argument("--epochs", type=int, default=200, help="training epochs (full batch)")
    p.add_argument(
        "--cross-validate",
        type=int,
        metavar="K",
        help="report rules / classifier / fused on --labels with K folds instead of training",
    )
    p.add_argument(
        "--compare",
        type=Path,
        metavar="LABELS",
        help="after training, score the current and the new classifier on these clips",
    )
    p.add_argument("--json", type=Path, help="also write the figures as JSON")


def _labelled(path: Path, clips: Path | None, behaviour: str, config: AppConfig) -> list[Any]:
    labels = [c for c in read_labels(path) if c.label in (behaviour, "normal")]
    return list(iter_clips(labels, clips or path.parent, default_estimator(config)))


def _station(args: argparse.Namespace, config: AppConfig, behaviour: str) -> list[Sample]:
    from api.db import open_database
    from api.training.station import station_samples

    data_dir = Path(args.data_dir or config.server.data_dir)
    engine = open_database(config.alerts.database_url, data_dir)
    try:
        found = station_samples(engine, data_dir / "evidence", behaviour)
    finally:
        engine.dispose()
    log.info(
        "station: %d resolved %s alerts with clips (%d skipped: no clip)",
        len(found.samples),
        behaviour,
        found.skipped,
    )
    return found.samples


def _generated(n: int, behaviour: str, seed: int) -> list[Sample]:
    from api.training.sources import generated_samples

    return generated_samples(behaviour, n, seed)


def compare(
    loaded: list[tuple[ClipLabel, Any]],
    behaviour: str,
    camera: CameraConfig,
    config: AppConfig,
    new_model: Path,
) -> dict[str, dict[str, Any]]:
    """The camera's current classifier and `new_model`, fused with the rules, on `loaded`."""
    from api.evaluation.harness import run_loaded
    from api.evaluation.scoring import score

    out = {}
    current = getattr(camera.behaviours, behaviour).model
    for name, cam in (
        ("current", with_mode(camera, behaviour, "fused", None)),
        ("new", with_mode(camera, behaviour, "fused", new_model)),
    ):
        s = score(run_loaded(loaded, cam, config).runs, (behaviour,)).behaviours[behaviour]
        out[name] = {
            "model": str(new_model) if name == "new" else (current.path or "shipped"),
            "found": s.detected,
            "positives": s.positives,
            "false_alarms_normal": s.false_alarms_normal,
            "normal_clips": s.normal_clips,
            "no_fight_alerted": s.no_fight_alerted,
            "no_fight_clips": s.no_fight_clips,
        }
    return out


def model_card(meta: dict[str, Any]) -> str:
    """The model card (Markdown) of a trained classifier, from its metadata."""
    data = meta["data"]
    lines = [
        f"# Model card: {meta['behaviour']} classifier `{meta['version']}`",
        "",
        f"- Written by `{meta['command']}` on {meta['created']}.",
        f"- Input: windows of {meta['steps']} steps {meta['step_s']} s apart, "
        f"{len(meta['features'])} features a step plus a `present` flag: "
        + ", ".join(f"`{f}`" for f in meta["features"])
        + ".",
        "- Architecture: 1-D temporal CNN (two 3-step convolutions, masked max and mean over "
        "time, one linear layer, sigmoid); multiple-instance training on clip labels; "
        f"{meta['training'].get('weights', '?')} weights.",
        f"- Seed {meta['seed']}, {meta['epochs']} epochs, {data['augmented_copies']} augmented "
        "copies of each real clip (mirror, rotation, scale, joint dropout, speed, start).",
        "",
        "## Trained on",
        "",
    ]
    for source, count in data["sources"].items():
        lines.append(f"- {source}: {count} clips")
    lines += [
        "",
        f"Clips (with augmented copies) with the behaviour: {data['positives']}; without: "
        f"{data['negatives']}; {data['windows']} windows.",
        "",
        "## Terms",
        "",
        meta["terms"],
        "",
        "## Figures",
        "",
        "```json",
        json.dumps({k: meta[k] for k in ("training", "compare") if k in meta}, indent=2),
        "```",
        "",
        "Accuracy on real footage: docs/EVALUATION.md (`carewatch train --cross-validate`).",
        "",
    ]
    return "\n".join(lines)


def terms_of(sources: dict[str, int]) -> str:
    if set(sources) <= {"generated"}:
        return (
            "Trained only on data CareWatch generates itself (models/behaviour/generator.py): "
            "no footage of real people; shipped under CareWatch's AGPL-3.0."
        )
    return (
        "Trained on real footage (labelled clips and/or the station's own alerts): keep this "
        "model inside the station; do not publish it unless the footage's terms allow."
    )


def run(args: argparse.Namespace, config: AppConfig, camera: CameraConfig) -> int:
    behaviour = args.behaviour
    given = args.labels is not None or args.station
    n_generated = args.generated if args.generated is not None else (0 if given else 400)
    settings = TrainSettings(seed=args.seed, epochs=args.epochs)
    extra: list[Sample] = []
    sources: dict[str, int] = {}
    if n_generated:
        extra += _generated(n_generated, behaviour, args.seed)
        sources["generated"] = n_generated
    if args.station:
        station = _station(args, config, behaviour)
        extra += station
        sources["station alerts"] = len(station)
    if args.cross_validate is not None:
        if args.labels is None:
            raise ValueError("--cross-validate needs --labels: the clips to score on")
        loaded = _labelled(args.labels, args.clips, behaviour, config)
        cv = cross_validate(
            loaded,
            extra,
            behaviour,
            camera,
            config,
            folds=args.cross_validate,
            copies=args.copies,
            settings=settings,
        )
        print(to_markdown(cv), end="")
        if args.json:
            args.json.write_text(json.dumps(cv_json(cv), indent=2))
        return 0
    samples = list(extra)
    if args.labels is not None:
        from api.training.sources import from_cached

        loaded = _labelled(args.labels, args.clips, behaviour, config)
        samples += [from_cached(c, cached, behaviour) for c, cached in loaded]
        sources[f"labelled clips ({args.labels.name})"] = len(loaded)
    if not samples:
        raise ValueError("nothing to train on: give --generated N, --labels or --station")
    real = [s for s in samples if not s.source.startswith("generated")]
    data = window_set(samples, behaviour, camera, config, copies=args.copies, seed=args.seed)
    out = args.out or Path(config.server.data_dir) / "models" / f"{behaviour}.onnx"
    figures = fit(data, out, settings)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()[:8]
    version = f"{behaviour}-{datetime.now(UTC):%Y%m%d}-{digest}"
    meta: dict[str, Any] = {
        "command": "carewatch " + " ".join(args.argv),
        "seed": args.seed,
        "epochs": args.epochs,
        "feature_noise": settings.noise,
        "training": figures,
        "data": {
            "sources": sources,
            "positives": int(data.bag_label.sum()),
            "negatives": int(len(data.bag_label) - data.bag_label.sum()),
            "windows": len(data.windows),
            "augmented_copies": args.copies if real else 0,
        },
        "terms": terms_of(
            {("generated" if "generated" in k else k): v for k, v in sources.items()}
        ),
    }
    if args.compare is not None:
        loaded = _labelled(args.compare, None, behaviour, config)
        meta["compare"] = compare(loaded, behaviour, camera, config, out)
    path = write_metadata(out, behaviour, version, **meta)
    full = json.loads(path.read_text())
    out.with_suffix(".md").write_text(model_card(full))
    print(
        f"wrote {out} ({out.stat().st_size} bytes), {path.name} and {out.with_suffix('.md').name}"
    )
    print(json.dumps({"version": version, **{k: meta[k] for k in ("training", "data")}}, indent=2))
    if "compare" in meta:
        print(compare_markdown(meta["compare"], behaviour), end="")
    if args.json:
        args.json.write_text(json.dumps(full, indent=2))
    return 0


def compare_markdown(result: dict[str, dict[str, Any]], behaviour: str) -> str:
    lines = [
        f"\n{behaviour}, rules fused with each classifier:\n",
        "| classifier | found | false alarms on normal clips "
        "| fight-dataset normal clips alerted |",
        "|---|---|---|---|",
    ]
    for name, r in result.items():
        lines.append(
            f"| {name} ({r['model']}) | {r['found']} of {r['positives']} | "
            f"{r['false_alarms_normal']} ({r['normal_clips']} clips) | "
            f"{r['no_fight_alerted']} of {r['no_fight_clips']} |"
        )
    return "\n".join(lines) + "\n"


def cv_json(cv: CrossValidation) -> dict[str, Any]:
    return {
        "behaviour": cv.behaviour,
        "folds": cv.folds,
        "trained_on": cv.trained_on,
        "threshold": cv.threshold,
        "modes": {
            mode: {
                "found": cv.scores[mode].detected,
                "positives": cv.scores[mode].positives,
                "false_alarms_normal": cv.scores[mode].false_alarms_normal,
                "false_alarm_clips_normal": cv.scores[mode].false_alarm_clips_normal,
                "normal_clips": cv.scores[mode].normal_clips,
                "no_fight_alerted": cv.scores[mode].no_fight_alerted,
                "no_fight_clips": cv.scores[mode].no_fight_clips,
            }
            for mode in MODES
        },
    }
