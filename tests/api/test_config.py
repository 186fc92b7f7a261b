"""Every file in configs/ loads; a wrong file stops with a message naming file, key and values."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.config import ConfigError, load_config

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_loads(path: Path) -> None:
    config = load_config(path)
    assert config.cameras, "a shipped config should define at least one camera"


def test_embedded_defaults_run_the_demo_camera() -> None:
    config = load_config(None)
    assert [c.source for c in config.cameras] == ["demo"]
    assert config.server.host == "127.0.0.1" and config.server.port == 8000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model:\n  input_size: 500\n", ["model.input_size", "multiple of 32", "500"]),
        ("model:\n  inputsize: 480\n", ["model.inputsize", "unknown key", "input_size"]),
        ("trackr: {}\n", ["trackr", "allowed here", "tracker"]),
        (
            "cameras:\n  - {id: a, source: x.mp4, analysis_fps: 0}\n",
            ["cameras.0.analysis_fps", "greater than 0"],
        ),
        ("cameras:\n  - {id: a}\n", ["cameras.0.source", "Field required"]),
        (
            "cameras:\n  - {id: a, source: x}\n  - {id: a, source: y}\n",
            ["unique", "a"],
        ),
        ("server:\n  port: 70000\n", ["server.port", "65535"]),
        ("- just\n- a list\n", ["top level must be a mapping"]),
        ("model: [unclosed\n", ["not valid YAML"]),
    ],
)
def test_bad_config_names_file_key_and_allowed_values(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(str(path))
    for part in expected:
        assert part in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


def test_configuration_reference_is_up_to_date() -> None:
    from api.config_docs import config_reference_markdown

    page = Path(__file__).resolve().parents[2] / "docs" / "CONFIGURATION.md"
    assert page.read_text() == config_reference_markdown(), (
        "docs/CONFIGURATION.md is stale: run `carewatch config-docs > docs/CONFIGURATION.md`"
    )
