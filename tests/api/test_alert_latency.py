"""`carewatch bench-alerts`: its statistics, its configuration and its argument errors (the
measurement itself is run by the command and written down in docs/ALERTS.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.alert_latency import bench_config, latency_stats, report
from api.cli import main


def test_stats_median_and_p95() -> None:
    values = [0.1 * i for i in range(1, 21)]  # 0.1 .. 2.0
    s = latency_stats(values)
    assert s == {"n": 20, "median_s": 1.05, "p95_s": 1.9, "max_s": 2.0}
    assert latency_stats([]) == {"n": 0, "median_s": None, "p95_s": None, "max_s": None}


def test_bench_config_plays_the_video_on_n_cameras_without_cooldown(tmp_path: Path) -> None:
    cfg = bench_config(tmp_path / "demo.mp4", 3, ("127.0.0.1", 1883), 320)
    assert [c.id for c in cfg.cameras] == ["cam1", "cam2", "cam3"]
    assert all(c.loop and c.realtime for c in cfg.cameras)
    assert cfg.alerts.kinds["fall"].cooldown_s == 0
    assert cfg.alerts.kinds["fall"].severity == "critical"  # the rest of the policy is default
    (sink,) = cfg.alerts.sinks
    assert (sink.type, sink.port) == ("mqtt", 1883)
    assert bench_config(tmp_path / "demo.mp4", 1, None, 480).alerts.sinks == ()


def test_report_lists_each_path() -> None:
    s = latency_stats([0.1, 0.2])
    text = report(
        {
            "cameras": 1,
            "seconds": 30.0,
            "input_size": 480,
            "alerts": 2,
            "kinds": {"fall": 2},
            "frame_to_commit": s,
            "frame_to_websocket": s,
            "frame_to_mqtt": None,
            "missing_on_websocket": 0,
            "missing_on_mqtt": None,
        }
    )
    assert "frame -> WebSocket client | 2 |" in text and "MQTT subscriber" not in text


def test_bad_mqtt_address_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench-alerts", "--mqtt", "localhost"]) == 2
    assert "--mqtt must be HOST:PORT" in capsys.readouterr().err
