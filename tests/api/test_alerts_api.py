"""The alert endpoints over a real alert service and database: list and filter, details,
acknowledge and resolve (and their errors), evidence files, and the WebSocket stream with its
resume cursor."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from alerts.service import AlertService
from tests.alerts.builders import event
from tests.api.conftest import ApiEnv
from tests.builders import standing_poses


@pytest.fixture
def service(api: ApiEnv) -> AlertService:
    return api.alerts


@pytest.fixture
def client(api: ApiEnv) -> TestClient:
    """A guard's client: every request carries a guard's bearer token."""
    api.client.headers.update(api.headers("guard", "guard.li"))
    return api.client


def raise_fall(service: AlertService, tracks: tuple[int, ...] = (1,), t: float = 0.0) -> str:
    """A fall on cam1 with a frame in the buffer, so it has a snapshot."""
    image = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    (change,) = service.observe(
        "cam1",
        1000.0 + t,
        image,
        standing_poses([(40, 10, 80, 110)]),
        [event("fall", t, tracks=tracks)],
    )
    return change.alert.id


def test_list_filter_and_details(client: TestClient, service: AlertService) -> None:
    a = raise_fall(service, (1,))
    service.handle(event("fight", 5, camera="cam2", tracks=(3, 4)))
    listed = client.get("/api/alerts").json()
    assert [x["kind"] for x in listed["alerts"]] == ["fight", "fall"]
    assert listed["last_seq"] == 2
    assert [x["id"] for x in client.get("/api/alerts?camera=cam1").json()["alerts"]] == [a]
    assert client.get("/api/alerts?kind=fight&state=resolved").json()["alerts"] == []
    details = client.get(f"/api/alerts/{a}").json()
    assert details["alert"]["severity"] == "critical"
    assert [h["action"] for h in details["history"]] == ["created"]
    assert client.get("/api/alerts/unknown").status_code == 404
    assert client.get("/api/alerts?limit=0").status_code == 422


def test_acknowledge_resolve_and_their_errors(client: TestClient, service: AlertService) -> None:
    a = raise_fall(service)
    r = client.post(f"/api/alerts/{a}/acknowledge", json={"note": "on my way"})
    assert r.status_code == 200 and r.json()["alert"]["state"] == "acknowledged"
    bad = client.post(f"/api/alerts/{a}/resolve", json={"disposition": "maybe"})
    assert bad.status_code == 422 and "disposition" in bad.text
    assert (
        client.post(f"/api/alerts/{a}/resolve", json={"note": "no disposition"}).status_code == 422
    )
    ok = client.post(
        f"/api/alerts/{a}/resolve",
        json={"disposition": "false_alarm", "note": "yoga"},
    )
    assert ok.status_code == 200 and ok.json()["alert"]["disposition"] == "false_alarm"
    again = client.post(f"/api/alerts/{a}/resolve", json={"disposition": "real_incident"})
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]
    assert client.post("/api/alerts/nope/acknowledge", json={}).status_code == 404
    assert client.get("/api/alerts?disposition=false_alarm").json()["alerts"][0]["id"] == a


def test_snapshot_is_served_and_missing_clip_is_404(
    client: TestClient, service: AlertService
) -> None:
    a = raise_fall(service)
    snap = client.get(f"/api/alerts/{a}/snapshot.jpg")
    assert snap.status_code == 200 and snap.headers["content-type"] == "image/jpeg"
    assert snap.content[:2] == b"\xff\xd8"
    missing = client.get(f"/api/alerts/{a}/clip.mp4")
    assert missing.status_code == 404 and "no clip yet" in missing.json()["detail"]


def test_websocket_replays_from_the_cursor_then_pushes_live(
    client: TestClient, service: AlertService
) -> None:
    first = raise_fall(service, (1,))
    with client.websocket_connect("/api/alerts/ws?since=0") as ws:
        assert ws.receive_json() == {"type": "hello", "last_seq": 1}
        replayed = ws.receive_json()
        assert (replayed["type"], replayed["seq"], replayed["alert"]["id"]) == ("change", 1, first)
        second = raise_fall(service, (2,), t=1)  # committed while the client is connected
        live = ws.receive_json()
        assert (live["seq"], live["action"], live["alert"]["id"]) == (2, "created", second)
    service.acknowledge(first, actor="guard")  # while the console is away
    with client.websocket_connect("/api/alerts/ws?since=2") as ws:  # resumes after seq 2
        assert ws.receive_json()["type"] == "hello"
        missed = ws.receive_json()
        assert (missed["seq"], missed["action"], missed["alert"]["version"]) == (
            3,
            "acknowledged",
            2,
        )
    changes = client.get("/api/alerts/changes?since=1").json()["changes"]
    assert [c["seq"] for c in changes] == [2, 3]


def test_actions_are_by_the_signed_in_user_and_audited(api: ApiEnv, client: TestClient) -> None:
    a = raise_fall(api.alerts)
    r = client.post(f"/api/alerts/{a}/acknowledge", json={"note": "going"})
    assert r.json()["alert"]["acknowledged_by"] == "guard.li"
    client.get(f"/api/alerts/{a}/snapshot.jpg")
    admin = api.headers("admin")
    entries = api.client.get(f"/api/audit?target_id={a}", headers=admin).json()["entries"]
    assert [(e["actor"], e["action"]) for e in entries] == [
        ("guard.li", "snapshot.view"),
        ("guard.li", "alert.acknowledge"),
    ]


def test_alerts_need_a_signed_in_user(api: ApiEnv) -> None:
    a = raise_fall(api.alerts)
    anonymous = TestClient(api.app)
    for method, path in [
        ("get", "/api/alerts"),
        ("get", f"/api/alerts/{a}"),
        ("get", f"/api/alerts/{a}/snapshot.jpg"),
        ("post", f"/api/alerts/{a}/acknowledge"),
    ]:
        r = anonymous.request(method, path, json={})
        assert r.status_code == 401, path
        assert r.headers["www-authenticate"] == "Bearer"
    bad = anonymous.get("/api/alerts", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401 and "not valid" in bad.json()["detail"]
    from starlette.websockets import WebSocketDisconnect

    with (
        pytest.raises(WebSocketDisconnect) as closed,
        anonymous.websocket_connect("/api/alerts/ws"),
    ):
        pass
    assert closed.value.code == 4401


def test_skeleton_only_camera_hides_people_and_admins_open_the_real_image_with_a_reason(
    api: ApiEnv, client: TestClient
) -> None:
    """A guard gets only the skeleton picture; the real one is for admins, with a reason, and
    opening it is in the audit log."""
    from vision.privacy import NEUTRAL_BGR, PrivacyConfig

    api.alerts.set_privacy("cam1", PrivacyConfig(skeleton_only=True))
    a = raise_fall(api.alerts)
    shown = client.get(f"/api/alerts/{a}/snapshot.jpg")
    assert shown.status_code == 200
    picture = cv2.imdecode(np.frombuffer(shown.content, np.uint8), cv2.IMREAD_COLOR)
    neutral = np.abs(picture.astype(int) - np.array(NEUTRAL_BGR)).max(axis=2) <= 12
    assert neutral.mean() > 0.6, "a neutral background, not the camera image"
    assert client.get(f"/api/alerts/{a}/real/snapshot.jpg?reason=check").status_code == 403
    admin = api.headers("admin")
    assert api.client.get(f"/api/alerts/{a}/real/snapshot.jpg", headers=admin).status_code == 422
    real = api.client.get(f"/api/alerts/{a}/real/snapshot.jpg?reason=police+request", headers=admin)
    assert real.status_code == 200 and real.content != shown.content
    entries = api.client.get(
        f"/api/audit?action=evidence.open_real&target_id={a}", headers=admin
    ).json()["entries"]
    assert [(e["actor"], e["details"]["reason"]) for e in entries] == [("admin", "police request")]
    b = raise_fall(api.alerts, (7,), t=400)
    api.alerts.set_privacy("cam1", PrivacyConfig())
    c = raise_fall(api.alerts, (8,), t=800)
    assert b != c
    none = api.client.get(f"/api/alerts/{c}/real/snapshot.jpg?reason=check", headers=admin)
    assert none.status_code == 404  # an ordinary camera keeps one picture only


def test_skeleton_only_for_guards_shows_the_real_picture_to_the_other_roles(
    api: ApiEnv, client: TestClient
) -> None:
    """Per role: guards get skeletons; operators and admins the real (masked, blurred)
    picture, and their views say so in the audit log."""
    from alerts.evidence import real_path
    from vision.privacy import NEUTRAL_BGR, PrivacyConfig

    api.alerts.set_privacy("cam1", PrivacyConfig(skeleton_only=["guard"]))
    a = raise_fall(api.alerts)
    stored = api.alerts.evidence_root / str(api.alerts.get(a).snapshot)

    def neutral_share(content: bytes) -> float:
        picture = cv2.imdecode(np.frombuffer(content, np.uint8), cv2.IMREAD_COLOR)
        return float((np.abs(picture.astype(int) - NEUTRAL_BGR).max(axis=2) <= 12).mean())

    guard = client.get(f"/api/alerts/{a}/snapshot.jpg")
    assert guard.status_code == 200 and guard.content == stored.read_bytes()
    assert neutral_share(guard.content) > 0.6
    assert client.get(f"/api/alerts/{a}").json()["alert"]["real_evidence"]["snapshot"] is True
    for role in ("operator", "admin"):
        headers = api.headers(role)
        seen = api.client.get(f"/api/alerts/{a}/snapshot.jpg", headers=headers)
        assert seen.status_code == 200 and seen.content == real_path(stored).read_bytes()
        assert neutral_share(seen.content) < 0.05
        details = api.client.get(f"/api/alerts/{a}", headers=headers).json()["alert"]
        assert details["real_evidence"]["snapshot"] is False  # nothing more to open
    views = api.client.get(
        f"/api/audit?action=snapshot.view&target_id={a}", headers=api.headers("admin")
    ).json()["entries"]
    assert sorted((e["role"], e["details"]) for e in views if e["role"] != "guard") == [
        ("admin", {"picture": "real"}),
        ("operator", {"picture": "real"}),
    ]
    assert [e["details"] for e in views if e["role"] == "guard"] == [{}]
