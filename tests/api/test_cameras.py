"""Camera records over the real app on SQLite and PostgreSQL: CRUD and validation, credentials
that never leave the server, who may do what, changes applied to running workers at once (real
`CameraWorker`s reading a real clip), and seeding the records from the YAML config."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.camera_records import (
    camera_configs,
    has_credentials,
    import_config_cameras,
    masked_source,
)
from api.config import parse_config
from api.tables.audit import AuditEntry
from tests.api.conftest import ApiEnv
from tests.servers import make_clip, wait_until
from tests.vision.test_runner_hot import worker_for
from vision.config import CameraConfig
from vision.runner import Runner

PASSWORD = "S3cret-Pw"
TOKEN = "T0ken-Val"
SOURCE = f"rtsp://admin:{PASSWORD}@10.0.0.5:554/stream1?token={TOKEN}&channel=1"
MASKED = "rtsp://admin:***@10.0.0.5:554/stream1?token=***&channel=1"
ZONE = {"name": "bed", "type": "bed", "polygon": [[0, 0], [0.5, 0], [0.5, 0.5]]}


class LiveCameras:
    """The test's `app.state.camera_control`: real workers on the app's runner."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.calls: list[tuple[str, CameraConfig | None]] = []
        self.lock = threading.Lock()

    def apply(self, cfg: CameraConfig | None, camera_id: str) -> None:
        with self.lock:
            self.calls.append((camera_id, cfg))
        if cfg is None:
            self.runner.remove(camera_id)
        else:
            self.runner.add(worker_for(cfg))


class Broken:
    def apply(self, cfg: CameraConfig | None, camera_id: str) -> None:
        raise RuntimeError(f"cannot open {SOURCE} (password {PASSWORD})")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("cams") / "clip.mp4", seconds=2, size=(160, 120))


def call(api: ApiEnv, method: str, path: str, status: int, **kw: Any) -> Any:
    r = api.client.request(method, path, headers=api.headers("admin"), **kw)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
    return None if status == 204 else r.json()


def add_room(api: ApiEnv, name: str) -> int:
    return int(call(api, "POST", "/api/rooms", 201, json={"name": name})["id"])


def test_camera_crud_audited(api: ApiEnv) -> None:
    room = add_room(api, "Hall")
    made = call(
        api,
        "POST",
        "/api/cameras",
        201,
        json={"id": "hall-1", "name": "Hall", "source": "/videos/hall.mp4", "room_id": room},
    )
    assert made == made | {
        "id": "hall-1",
        "name": "Hall",
        "source_masked": "/videos/hall.mp4",
        "has_credentials": False,
        "room": {"id": room, "name": "Hall"},
        "enabled": True,
        "analysis_fps": 5.0,
        "loop": False,
        "realtime": True,
        "health": None,
        "applied": False,  # no running service behind this app
        "apply_error": None,
    }
    guard = api.headers("guard")
    one = api.client.get("/api/cameras/hall-1", headers=guard).json()
    assert one == {k: v for k, v in made.items() if k not in ("applied", "apply_error")}
    changed = call(
        api,
        "PATCH",
        "/api/cameras/hall-1",
        200,
        json={"analysis_fps": 2.5, "room_id": None, "loop": True},
    )
    assert (changed["analysis_fps"], changed["room"], changed["loop"]) == (2.5, None, True)
    r = api.client.post(
        "/api/cameras", json={"id": "hall-1", "source": "x.mp4"}, headers=api.headers("admin")
    )
    assert r.status_code == 409 and r.json() == {
        "detail": "a camera with id 'hall-1' already exists"
    }
    call(api, "DELETE", "/api/cameras/hall-1", 204)
    assert api.client.get("/api/cameras/hall-1", headers=guard).status_code == 404
    admin = api.headers("admin")
    assert api.client.delete("/api/cameras/hall-1", headers=admin).status_code == 404
    assert api.client.patch("/api/cameras/nope", json={}, headers=admin).status_code == 404
    with api.app.state.sessions() as db:
        entries = list(db.scalars(select(AuditEntry).where(AuditEntry.target_type == "camera")))
    assert [(e.action, e.target_id) for e in entries] == [
        ("camera.create", "hall-1"),
        ("camera.update", "hall-1"),
        ("camera.delete", "hall-1"),
    ]
    assert entries[1].details == {"changed": ["room_id", "analysis_fps", "loop"]}


@pytest.mark.parametrize(
    "body",
    [
        {"source": "x.mp4"},
        {"id": "", "source": "x.mp4"},
        {"id": "bad id", "source": "x.mp4"},
        {"id": "x" * 65, "source": "x.mp4"},
        {"id": "cam", "source": ""},
        {"id": "cam", "source": "   "},
        {"id": "cam", "source": "rtsp://h/\x00"},
        {"id": "cam", "source": "x" * 2049},
        {"id": "cam", "source": "x.mp4", "analysis_fps": 0},
        {"id": "cam", "source": "x.mp4", "analysis_fps": 61},
        {"id": "cam", "source": "x.mp4", "analysis_fps": "5"},
        {"id": "cam", "source": "x.mp4", "enabled": "yes"},
        {"id": "cam", "source": "x.mp4", "name": "a\nb"},
        {"id": "cam", "source": "x.mp4", "zones": []},
    ],
)
def test_invalid_cameras_are_422(api: ApiEnv, body: dict[str, Any]) -> None:
    r = api.client.post("/api/cameras", json=body, headers=api.headers("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["msg"]


def test_paths_and_patches_are_validated(api: ApiEnv) -> None:
    call(api, "POST", "/api/cameras", 201, json={"id": "cam", "source": "x.mp4"})
    admin = api.headers("admin")
    for body in [{"source": None}, {"enabled": None}, {"analysis_fps": -1}, {"room_id": 0}]:
        assert api.client.patch("/api/cameras/cam", json=body, headers=admin).status_code == 422
    for method, path in [("POST", "/api/cameras"), ("PATCH", "/api/cameras/cam")]:
        body = (
            {"id": "cam2", "source": "x.mp4", "room_id": 999}
            if method == "POST"
            else {"room_id": 999}
        )
        r = api.client.request(method, path, json=body, headers=admin)
        assert (r.status_code, r.json()) == (404, {"detail": "no room with id 999"}), method
    assert api.client.get("/api/cameras/bad%20id", headers=admin).status_code == 422
    assert api.client.get("/api/cameras/" + "x" * 65, headers=admin).status_code == 422
    for bad in ["limit=0", "sort=source", "enabled=maybe", "room_id=-1"]:
        assert api.client.get(f"/api/cameras?{bad}", headers=admin).status_code == 422, bad


def test_credentials_never_leave_the_server(api: ApiEnv) -> None:
    """The password and token are stored (the service needs them) but in no response: not in
    answers, not in validation errors echoing the request, not in the audit log."""
    admin = api.headers("admin")
    texts = []

    def send(method: str, path: str, **kw: Any) -> Any:
        headers = {**admin, "Content-Type": "application/json"}
        r = api.client.request(method, path, headers=headers, **kw)
        texts.append(r.text)
        return r

    made = send("POST", "/api/cameras", json={"id": "gate", "source": SOURCE, "enabled": False})
    assert made.status_code == 201, made.text
    assert made.json()["source_masked"] == MASKED and made.json()["has_credentials"] is True
    send("GET", "/api/cameras")
    send("GET", "/api/cameras/gate")
    send("PATCH", "/api/cameras/gate", json={"name": "Gate"})
    assert send("POST", "/api/cameras", json={"id": "gate", "source": SOURCE}).status_code == 409
    for bad in [
        {"source": SOURCE},  # no id: FastAPI would echo the whole body
        {"id": "x y", "source": SOURCE},
        {"id": "x", "source": SOURCE + "\x00"},
        {"id": "x", "source": SOURCE, "analysis_fps": 0},
        {"id": "x", "source": SOURCE, "extra": SOURCE},
    ]:
        assert send("POST", "/api/cameras", json=bad).status_code == 422
    assert send("PATCH", "/api/cameras/gate", json={"source": SOURCE, "x": 1}).status_code == 422
    assert (
        send("POST", "/api/cameras", content=b'{"source": "' + SOURCE.encode()).status_code == 422
    )
    send("GET", "/api/audit?target_type=camera")
    assert "camera.create" in texts[-1]
    api.app.state.camera_control = Broken()
    changed = send("PATCH", "/api/cameras/gate", json={"enabled": True})
    assert changed.status_code == 200 and changed.json()["applied"] is False
    assert "***" in changed.json()["apply_error"]
    for text in texts:
        assert PASSWORD not in text and TOKEN not in text, text
    with api.app.state.sessions() as db:
        (config,) = camera_configs(db, [])
    assert config.source == SOURCE, "stored whole: the service must be able to open it"


@pytest.mark.parametrize(
    ("source", "masked", "credentials"),
    [
        ("rtsp://u:p@h/s", "rtsp://u:***@h/s", True),
        ("rtsp://viewer@h/s", "rtsp://viewer@h/s", True),
        ("http://h/snap.cgi?user=a&pwd=b&x=1", "http://h/snap.cgi?user=a&pwd=***&x=1", True),
        ("http://h/live?API_KEY=k", "http://h/live?API_KEY=***", True),
        ("http://h/live?monkey=k", "http://h/live?monkey=k", False),
        ("/data/clips/fall.mp4", "/data/clips/fall.mp4", False),
        ("device:0", "device:0", False),
        ("demo", "demo", False),
    ],
)
def test_masked_source(source: str, masked: str, credentials: bool) -> None:
    assert masked_source(source) == masked
    assert has_credentials(source) is credentials


def test_list_filters_sorts_and_pages(api: ApiEnv) -> None:
    a, b = add_room(api, "b room"), add_room(api, "A room")
    for cam, name, room, enabled in [
        ("c3", "Zed", a, True),
        ("c1", "alpha", b, False),
        ("c2", "Beta", None, True),
        ("c4", "gamma", a, False),
    ]:
        body = {"id": cam, "name": name, "source": "x.mp4", "room_id": room, "enabled": enabled}
        call(api, "POST", "/api/cameras", 201, json=body)
    guard = api.headers("guard")

    def ids(query: str) -> tuple[int, list[str]]:
        r = api.client.get(f"/api/cameras?{query}", headers=guard)
        assert r.status_code == 200, r.text
        return r.json()["total"], [c["id"] for c in r.json()["cameras"]]

    assert ids("") == (4, ["c1", "c2", "c3", "c4"])
    assert ids("order=desc&limit=3") == (4, ["c4", "c3", "c2"])
    assert ids("limit=2&offset=2") == (4, ["c3", "c4"])
    assert ids("sort=name") == (4, ["c1", "c2", "c4", "c3"])
    assert ids("sort=room") == (4, ["c1", "c3", "c4", "c2"])
    assert ids("sort=room&order=desc") == (4, ["c4", "c3", "c1", "c2"])
    assert ids(f"room_id={a}") == (2, ["c3", "c4"])
    assert ids("enabled=false") == (2, ["c1", "c4"])
    assert ids(f"enabled=true&room_id={a}") == (1, ["c3"])


def test_each_role_reaches_exactly_its_camera_routes(api: ApiEnv) -> None:
    call(api, "POST", "/api/cameras", 201, json={"id": "cam", "source": "x.mp4"})
    reads = ["/api/cameras", "/api/cameras/cam"]
    writes: list[tuple[str, str, dict[str, Any] | None, int]] = [
        ("POST", "/api/cameras", {"id": "cam2", "source": "y.mp4"}, 201),
        ("PATCH", "/api/cameras/cam", {"name": "Cam"}, 200),
        ("DELETE", "/api/cameras/cam", None, 204),
    ]
    for path in reads:
        assert api.client.get(path).status_code == 401
    for method, path, body, _ in writes:
        assert api.client.request(method, path, json=body).status_code == 401
    for role in ("guard", "operator"):
        headers = api.headers(role)
        for path in reads:
            assert api.client.get(path, headers=headers).status_code == 200, (role, path)
        for method, path, body, _ in writes:
            r = api.client.request(method, path, json=body, headers=headers)
            assert r.status_code == 403, (role, method, path)
    for method, path, body, status in writes:
        r = api.client.request(method, path, json=body, headers=api.headers("admin"))
        assert r.status_code == status, (method, path, r.text)


def test_changes_apply_to_the_running_service_at_once(api: ApiEnv, clip: Path) -> None:
    runner: Runner = api.app.state.runner
    control = LiveCameras(runner)
    api.app.state.camera_control = control
    api.app.state.config = parse_config(
        {"cameras": [{"id": "hall", "source": "old.mp4", "zones": [ZONE]}]}, "test"
    )
    room = add_room(api, "Hall")
    guard = api.headers("guard")

    def health() -> dict[str, Any]:
        """The live health shown for the camera ({} when none)."""
        return dict(api.client.get("/api/cameras/hall", headers=guard).json()["health"] or {})

    body = {"id": "hall", "source": str(clip), "loop": True, "analysis_fps": 10, "room_id": room}
    made = call(api, "POST", "/api/cameras", 201, json=body)
    assert made["applied"] is True and made["health"] is not None
    first = runner.workers["hall"]
    assert first.cfg.source == str(clip) and first.cfg.zones[0].name == "bed", "config zones kept"
    assert wait_until(lambda: health().get("frames_analysed", 0) >= 2, 15), health()
    assert health()["state"] == "online"

    moved = call(api, "PATCH", "/api/cameras/hall", 200, json={"room_id": None})
    assert moved["applied"] is False and runner.workers["hall"] is first, "a room is no restart"

    call(api, "PATCH", "/api/cameras/hall", 200, json={"analysis_fps": 4, "name": "Hall"})
    second = runner.workers["hall"]
    assert second is not first and second.cfg.analysis_fps == 4 and second.cfg.name == "Hall"
    assert first.reader.health().state == "ended", "the old worker stopped"
    assert wait_until(lambda: second.health()["frames_analysed"] >= 1, 15)

    off = call(api, "PATCH", "/api/cameras/hall", 200, json={"enabled": False})
    assert off["applied"] is True and off["health"] is None and "hall" not in runner.workers
    assert second.reader.health().state == "ended"
    call(api, "PATCH", "/api/cameras/hall", 200, json={"enabled": True})
    third = runner.workers["hall"]
    assert wait_until(lambda: third.health()["frames_analysed"] >= 1, 15)

    call(api, "POST", "/api/cameras", 201, json={"id": "spare", "source": "x", "enabled": False})
    assert "spare" not in runner.workers
    call(api, "DELETE", "/api/cameras/hall", 204)
    assert runner.workers == {} and third.reader.health().state == "ended"
    assert [(cid, cfg is not None) for cid, cfg in control.calls] == [
        ("hall", True),
        ("hall", True),
        ("hall", False),
        ("hall", True),
        ("spare", False),
        ("hall", False),
    ]


def test_config_cameras_are_imported_once_then_the_database_wins(api: ApiEnv) -> None:
    config = [
        CameraConfig.model_validate(
            {"id": "hall", "name": "Hall", "source": SOURCE, "analysis_fps": 3, "zones": [ZONE]}
        ),
        CameraConfig(id="gate", source="demo", enabled=False),
    ]
    with api.app.state.sessions() as db:
        assert import_config_cameras(db, config) == ["hall", "gate"]
        assert import_config_cameras(db, config) == []
    listed = api.client.get("/api/cameras", headers=api.headers("guard")).json()
    assert [(c["id"], c["name"], c["enabled"], c["analysis_fps"]) for c in listed["cameras"]] == [
        ("gate", "", False, 5.0),
        ("hall", "Hall", True, 3.0),
    ]
    call(api, "PATCH", "/api/cameras/hall", 200, json={"name": "Main hall", "analysis_fps": 2})
    call(api, "POST", "/api/cameras", 201, json={"id": "yard", "source": "yard.mp4"})
    with api.app.state.sessions() as db:
        assert import_config_cameras(db, config) == []
        running = camera_configs(db, config)
        entries = list(db.scalars(select(AuditEntry).where(AuditEntry.action == "camera.import")))
    assert [c.id for c in running] == ["hall", "yard"], "enabled records only"
    hall, yard = running
    assert (hall.name, hall.analysis_fps, hall.source) == ("Main hall", 2.0, SOURCE)
    assert hall.zones == config[0].zones, "zones come from the config camera"
    assert yard.zones == () and yard.source == "yard.mp4"
    assert [(e.actor, e.target_id) for e in entries] == [("config", "hall"), ("config", "gate")]
    assert PASSWORD not in json.dumps([e.details for e in entries])

    call(api, "DELETE", "/api/cameras/gate", 204)
    long_name = CameraConfig(id="porch", name="P" * 200, source="porch.mp4")
    with api.app.state.sessions() as db:
        # deleted records of cameras still in the file come back; names are cut to fit
        assert import_config_cameras(db, [*config, long_name]) == ["gate", "porch"]
        assert {c.id: c.name for c in camera_configs(db, [])}["porch"] == "P" * 120
