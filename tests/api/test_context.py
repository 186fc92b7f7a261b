"""What an alert says about its camera's room: counts of current residents and their care flags
in words ("Room 3 — 2 residents, 1 with fall risk"), never names or ID numbers; on SQLite and
PostgreSQL, and through the alert endpoints guards use."""

from __future__ import annotations

import json
import time
from datetime import date
from typing import Any

import pytest

from api.context import alert_context
from api.tables.records import CameraRecord, Resident, Room
from tests.alerts.builders import event
from tests.api.conftest import ApiEnv

ALL = ("fall_risk", "epilepsy", "mental_health_support", "disability", "elderly")


def seed(api: ApiEnv, flag_sets: list[tuple[str, ...]]) -> None:
    """Room 3 with cam1 and one resident per flag set (plus a discharged resident with every
    flag, who must never count); Room 4 with cam2 and nobody; cam3 without a room."""
    now = time.time()
    with api.app.state.sessions() as db:
        room, empty = Room(name="Room 3"), Room(name="Room 4")
        for r in (room, empty):
            r.created_at = r.updated_at = now
            db.add(r)
        db.flush()
        for cam, room_id in [("cam1", room.id), ("cam2", empty.id), ("cam3", None)]:
            record = CameraRecord(id=cam, source="x.mp4", room_id=room_id)
            record.created_at = record.updated_at = now
            db.add(record)
        people: list[tuple[str, tuple[str, ...], date | None]] = [
            (f"Person {i}", flags, None) for i, flags in enumerate(flag_sets)
        ]
        people.append(("Gone", ALL, date(2025, 2, 1)))
        for name, flags, discharged in people:
            db.add(
                Resident(
                    name=name,
                    id_number="110105198001011234",
                    intake_date=date(2025, 1, 1),
                    discharge_date=discharged,
                    room_id=None if discharged else room.id,
                    created_at=now,
                    updated_at=now,
                    **{f: f in flags for f in ALL},
                )
            )
        db.commit()


@pytest.mark.parametrize(
    ("flag_sets", "summary", "flags"),
    [
        ([], "Room 3 — no residents", {}),
        ([()], "Room 3 — 1 resident", {}),
        ([("fall_risk",), ()], "Room 3 — 2 residents, 1 with fall risk", {"fall_risk": 1}),
        (
            [("fall_risk", "epilepsy"), ("fall_risk",)],
            "Room 3 — 2 residents, 2 with fall risk, 1 with epilepsy",
            {"fall_risk": 2, "epilepsy": 1},
        ),
        ([("disability",)], "Room 3 — 1 resident, 1 with a disability", {"disability": 1}),
        (
            [("disability", "elderly"), ("disability", "elderly", "mental_health_support"), ()],
            "Room 3 — 3 residents, 1 needing mental health support, 2 with disabilities, 2 elderly",
            {"mental_health_support": 1, "disability": 2, "elderly": 2},
        ),
        (
            [ALL],
            "Room 3 — 1 resident, 1 with fall risk, 1 with epilepsy, 1 needing mental health "
            "support, 1 with a disability, 1 elderly",
            dict.fromkeys(ALL, 1),
        ),
    ],
)
def test_room_summaries(
    api: ApiEnv, flag_sets: list[tuple[str, ...]], summary: str, flags: dict[str, int]
) -> None:
    seed(api, flag_sets)
    with api.app.state.sessions() as db:
        context = alert_context(db, ["cam1", "cam2", "cam3", "unknown", "cam1"])
    assert set(context) == {"cam1", "cam2"}, "no room or no record: no context"
    room_id = context["cam1"]["room"]["id"]
    assert context["cam1"] == {
        "room": {"id": room_id, "name": "Room 3"},
        "residents": len(flag_sets),
        "flags": flags,
        "summary": summary,
    }
    assert context["cam2"]["summary"] == "Room 4 — no residents"
    assert context["cam2"]["flags"] == {} and context["cam2"]["residents"] == 0
    shown = json.dumps(context)
    assert "Person" not in shown and "Gone" not in shown and "1234" not in shown


def test_no_cameras_no_context(api_sqlite: ApiEnv) -> None:
    with api_sqlite.app.state.sessions() as db:
        assert alert_context(db, []) == {}
        assert alert_context(db, ["cam1"]) == {}


def test_alerts_show_the_context_of_their_camera(api: ApiEnv) -> None:
    admin = api.headers("admin")

    def post(path: str, body: dict[str, Any]) -> Any:
        r = api.client.post(path, json=body, headers=admin)
        assert r.status_code == 201, r.text
        return r.json()

    room = post("/api/rooms", {"name": "Room 3"})
    post(
        "/api/residents",
        {"name": "Amy Li", "intake_date": "2025-01-10", "room_id": room["id"], "fall_risk": True},
    )
    post("/api/residents", {"name": "Bo", "intake_date": "2025-01-10", "room_id": room["id"]})
    post("/api/cameras", {"id": "cam1", "source": "x.mp4", "room_id": room["id"]})
    in_room = api.alerts.handle(event("fall", camera="cam1"))
    elsewhere = api.alerts.handle(event("fight", 5, camera="cam9", tracks=(3, 4)))
    assert in_room is not None and elsewhere is not None

    guard = api.headers("guard")
    listed = api.client.get("/api/alerts", headers=guard).json()["alerts"]
    by_camera = {a["camera_id"]: a["context"] for a in listed}
    expected = {
        "room": {"id": room["id"], "name": "Room 3"},
        "residents": 2,
        "flags": {"fall_risk": 1},
        "summary": "Room 3 — 2 residents, 1 with fall risk",
    }
    assert by_camera == {"cam1": expected, "cam9": None}
    one = api.client.get(f"/api/alerts/{in_room.alert.id}", headers=guard).json()
    assert one["alert"]["context"] == expected
    assert "Amy" not in json.dumps(listed)
