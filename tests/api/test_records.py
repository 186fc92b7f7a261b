"""Rooms, beds and residents over the real app on SQLite and PostgreSQL: CRUD, validation,
pagination, filters and sorting, ID numbers masked per role, discharges that keep the record,
conflicts, the audit trail, and who may do what."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from api.tables.audit import AuditEntry
from tests.api.conftest import ApiEnv

ID_NUMBER = "110105198001011234"
MASKED = "**************1234"


def admin_call(api: ApiEnv, method: str, path: str, status: int, **kw: Any) -> dict[str, Any]:
    """An admin's request that must answer `status`; its JSON ({} for 204)."""
    r = api.client.request(method, path, headers=api.headers("admin"), **kw)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
    return {} if status == 204 else dict(r.json())


def add_room(api: ApiEnv, name: str = "Room 3", **kw: Any) -> dict[str, Any]:
    return admin_call(api, "POST", "/api/rooms", 201, json={"name": name, **kw})


def add_bed(api: ApiEnv, room_id: int, label: str) -> dict[str, Any]:
    return admin_call(api, "POST", f"/api/rooms/{room_id}/beds", 201, json={"label": label})


def admit(api: ApiEnv, name: str, **kw: Any) -> dict[str, Any]:
    body = {"name": name, "intake_date": "2025-01-10", **kw}
    return admin_call(api, "POST", "/api/residents", 201, json=body)


def audit_log(api: ApiEnv, prefix: str = "") -> list[AuditEntry]:
    with api.app.state.sessions() as db:
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [e for e in rows if e.action.startswith(prefix)]


# --- rooms ----------------------------------------------------------------------------------


def test_room_create_read_update_delete_audited(api: ApiEnv) -> None:
    room = add_room(api, " Room 3 ", floor="1", capacity=4, notes="by the stairs")
    assert room["name"] == "Room 3" and room["floor"] == "1" and room["capacity"] == 4
    assert (room["beds"], room["residents"], room["cameras"]) == (0, 0, 0)
    guard = api.headers("guard")
    assert api.client.get(f"/api/rooms/{room['id']}", headers=guard).json() == room

    changed = admin_call(
        api, "PATCH", f"/api/rooms/{room['id']}", 200, json={"capacity": None, "notes": "x"}
    )
    assert changed["capacity"] is None and changed["notes"] == "x" and changed["name"] == "Room 3"
    assert changed["updated_at"] >= room["updated_at"]
    same = admin_call(api, "PATCH", f"/api/rooms/{room['id']}", 200, json={"notes": "x"})
    assert same["updated_at"] == changed["updated_at"], "no change, no update"
    whole = admin_call(api, "PATCH", f"/api/rooms/{room['id']}", 200, json={"capacity": 6.0})
    assert whole["capacity"] == 6, "6.0 is an integer in JSON Schema"

    admin_call(api, "DELETE", f"/api/rooms/{room['id']}", 204)
    assert api.client.get(f"/api/rooms/{room['id']}", headers=guard).status_code == 404
    entries = audit_log(api, "room.")
    assert [e.action for e in entries] == ["room.create", *["room.update"] * 2, "room.delete"]
    assert entries[0].details["changed"] == ["capacity", "floor", "name", "notes"]
    assert entries[1].details == {"changed": ["capacity", "notes"]}
    assert {e.actor for e in entries} == {"admin"} and entries[0].target_id == str(room["id"])


def test_room_names_are_unique_in_any_case(api: ApiEnv) -> None:
    a = add_room(api, "Room 3")
    b = add_room(api, "Room 4")
    r = api.client.post("/api/rooms", json={"name": "room 3"}, headers=api.headers("admin"))
    assert r.status_code == 409 and "already exists" in r.json()["detail"]
    r = api.client.patch(
        f"/api/rooms/{b['id']}", json={"name": "ROOM 3"}, headers=api.headers("admin")
    )
    assert r.status_code == 409
    admin_call(api, "PATCH", f"/api/rooms/{a['id']}", 200, json={"name": "room 3"})  # itself


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 65},
        {"name": "Room\x003"},
        {"name": "Room\n3"},
        {"name": 3},
        {"name": "A", "capacity": -1},
        {"name": "A", "capacity": "4"},
        {"name": "A", "capacity": 4.5},
        {"name": "A", "capacity": True},
        {"name": "A", "capacity": 10**12},
        {"name": "A", "floor": ""},
        {"name": "A", "notes": "x" * 4001},
        {"name": "A", "colour": "blue"},
    ],
)
def test_invalid_rooms_are_422(api: ApiEnv, body: dict[str, Any]) -> None:
    r = api.client.post("/api/rooms", json=body, headers=api.headers("admin"))
    assert r.status_code == 422, r.text
    assert isinstance(r.json()["detail"], list) and r.json()["detail"][0]["msg"]


def test_room_ids_out_of_range_or_unknown(api: ApiEnv) -> None:
    guard = api.headers("guard")
    assert api.client.get("/api/rooms/999", headers=guard).status_code == 404
    assert api.client.get("/api/rooms/0", headers=guard).status_code == 422
    assert api.client.get(f"/api/rooms/{2**63}", headers=guard).status_code == 422
    assert api.client.get("/api/rooms/abc", headers=guard).status_code == 422
    r = api.client.patch("/api/rooms/999", json={"notes": ""}, headers=api.headers("admin"))
    assert r.status_code == 404 and r.json() == {"detail": "no room with id 999"}


def test_room_list_pages_filters_and_sorts(api: ApiEnv) -> None:
    for name, floor in [("b2", "2"), ("A1", "1"), ("c3", "3"), ("a4", "1"), ("B5", None)]:
        add_room(api, name, **({"floor": floor} if floor else {}))
    guard = api.headers("operator")

    def names(query: str) -> tuple[int, list[str]]:
        r = api.client.get(f"/api/rooms?{query}", headers=guard)
        assert r.status_code == 200, r.text
        return r.json()["total"], [x["name"] for x in r.json()["rooms"]]

    assert names("") == (5, ["A1", "a4", "b2", "B5", "c3"])  # by name, any case
    assert names("limit=2") == (5, ["A1", "a4"])
    assert names("limit=2&offset=2") == (5, ["b2", "B5"])
    assert names("limit=2&offset=4") == (5, ["c3"])
    assert names("offset=9") == (5, [])
    assert names("sort=name&order=desc") == (5, ["c3", "B5", "b2", "a4", "A1"])
    assert names("sort=floor") == (5, ["A1", "a4", "b2", "c3", "B5"])  # no floor last
    assert names("sort=floor&order=desc") == (5, ["c3", "b2", "a4", "A1", "B5"])
    assert names("q=b") == (2, ["b2", "B5"])
    assert names("q=%25") == (0, [])  # % is a character, not a wildcard
    assert names("floor=1") == (2, ["A1", "a4"])
    for bad in ["limit=0", "limit=501", "offset=-1", "sort=id", "order=up", "q=", "q=a%00"]:
        assert api.client.get(f"/api/rooms?{bad}", headers=guard).status_code == 422, bad


def test_a_room_with_residents_or_cameras_is_not_deleted(api: ApiEnv) -> None:
    room = add_room(api)
    bed = add_bed(api, room["id"], "A")
    amy = admit(api, "Amy", bed_id=bed["id"])
    admin_call(
        api, "POST", "/api/cameras", 201, json={"id": "cam1", "source": "x.mp4", "enabled": False}
    )
    r = api.client.delete(f"/api/rooms/{room['id']}", headers=api.headers("admin"))
    assert r.status_code == 409 and "1 resident;" in r.json()["detail"]
    admin_call(api, "POST", f"/api/residents/{amy['id']}/discharge", 200, json={})
    admin_call(api, "PATCH", "/api/cameras/cam1", 200, json={"room_id": room["id"]})
    assert add_room(api, "Room 4")["cameras"] == 0
    listed = api.client.get("/api/rooms", headers=api.headers("guard")).json()["rooms"]
    assert [(x["name"], x["beds"], x["residents"], x["cameras"]) for x in listed] == [
        ("Room 3", 1, 0, 1),
        ("Room 4", 0, 0, 0),
    ]
    r = api.client.delete(f"/api/rooms/{room['id']}", headers=api.headers("admin"))
    assert r.status_code == 409 and "cam1" in r.json()["detail"]
    admin_call(api, "PATCH", "/api/cameras/cam1", 200, json={"room_id": None})
    admin_call(api, "DELETE", f"/api/rooms/{room['id']}", 204)  # its free bed goes with it
    assert admin_call(api, "GET", f"/api/residents/{amy['id']}", 200)["status"] == "discharged"


# --- beds -----------------------------------------------------------------------------------


def test_beds_of_a_room(api: ApiEnv) -> None:
    room = add_room(api)
    other = add_room(api, "Room 4")
    a = add_bed(api, room["id"], "A")
    b = add_bed(api, room["id"], "B")
    assert a == {
        "id": a["id"],
        "room_id": room["id"],
        "label": "A",
        "occupied": False,
        "resident_id": None,
    }
    r = api.client.post(
        f"/api/rooms/{room['id']}/beds", json={"label": "A"}, headers=api.headers("admin")
    )
    assert r.status_code == 409 and "already has a bed 'A'" in r.json()["detail"]
    assert add_bed(api, other["id"], "A")["room_id"] == other["id"]  # labels are per room
    amy = admit(api, "Amy", bed_id=b["id"])

    listed = api.client.get(f"/api/rooms/{room['id']}/beds", headers=api.headers("guard")).json()
    assert listed["total"] == 2
    assert [(x["label"], x["occupied"], x["resident_id"]) for x in listed["beds"]] == [
        ("A", False, None),
        ("B", True, amy["id"]),
    ]
    assert admin_call(api, "PATCH", f"/api/beds/{b['id']}", 200, json={"label": "B1"})["occupied"]
    for method, body in [("PATCH", {"room_id": other["id"]}), ("DELETE", None)]:
        r = api.client.request(
            method, f"/api/beds/{b['id']}", json=body, headers=api.headers("admin")
        )
        assert r.status_code == 409 and "taken" in r.json()["detail"], method
    r = api.client.patch(f"/api/beds/{a['id']}", json={"label": "B1"}, headers=api.headers("admin"))
    assert r.status_code == 409
    r = api.client.patch(
        f"/api/beds/{a['id']}", json={"room_id": 999}, headers=api.headers("admin")
    )
    assert r.status_code == 404 and r.json() == {"detail": "no room with id 999"}
    r = api.client.patch(
        f"/api/beds/{a['id']}", json={"room_id": other["id"]}, headers=api.headers("admin")
    )
    assert r.status_code == 409 and "'Room 4' already has a bed 'A'" in r.text
    moved = admin_call(
        api, "PATCH", f"/api/beds/{a['id']}", 200, json={"room_id": other["id"], "label": "C"}
    )
    assert (moved["room_id"], moved["label"], moved["occupied"]) == (other["id"], "C", False)
    assert api.client.get("/api/rooms/999/beds", headers=api.headers("guard")).status_code == 404
    admin_call(api, "DELETE", f"/api/beds/{a['id']}", 204)
    assert (
        api.client.delete(f"/api/beds/{a['id']}", headers=api.headers("admin")).status_code == 404
    )
    assert [e.action for e in audit_log(api, "bed.")] == [
        "bed.create",
        "bed.create",
        "bed.create",
        "bed.update",
        "bed.update",
        "bed.delete",
    ]


# --- residents ------------------------------------------------------------------------------


def test_resident_admission_and_id_number_masked_for_non_admins(api: ApiEnv) -> None:
    room = add_room(api)
    bed = add_bed(api, room["id"], "A")
    amy = admit(
        api,
        "Amy Li",
        id_number=ID_NUMBER,
        sex="female",
        birth_year=1950,
        bed_id=bed["id"],
        fall_risk=True,
        elderly=True,
        notes="uses a walker",
    )
    assert amy["id_number"] == ID_NUMBER  # the admin who entered it
    assert amy["room"] == {"id": room["id"], "name": "Room 3"}  # the room follows the bed
    assert amy["bed"] == {"id": bed["id"], "label": "A"}
    assert amy["status"] == "current" and amy["discharge_date"] is None
    assert (amy["fall_risk"], amy["epilepsy"], amy["elderly"]) == (True, False, True)
    for role in ("guard", "operator"):
        one = api.client.get(f"/api/residents/{amy['id']}", headers=api.headers(role)).json()
        listed = api.client.get("/api/residents", headers=api.headers(role)).json()
        assert one["id_number"] == MASKED and listed["residents"][0]["id_number"] == MASKED
        assert ID_NUMBER not in str(one) + str(listed)
        assert one | {"id_number": ID_NUMBER} == amy
    assert not audit_log(api, "resident.view"), "masked views are not audited"
    full = admin_call(api, "GET", f"/api/residents/{amy['id']}", 200)
    assert full == amy
    listed = admin_call(api, "GET", "/api/residents", 200)
    assert listed["residents"][0]["id_number"] == ID_NUMBER
    (view,) = audit_log(api, "resident.view")
    assert view.actor == "admin" and view.target_type == "resident"
    assert view.target_id == str(amy["id"])
    (create,) = audit_log(api, "resident.create")
    assert "id_number" in create.details["changed"] and ID_NUMBER not in str(create.details)


@pytest.mark.parametrize(
    ("value", "masked"),
    [("1234", "****"), ("12345", "*2345"), ("AB-9", "****"), ("X1", "**"), (None, None)],
)
def test_short_id_numbers_are_masked_whole(
    api_sqlite: ApiEnv, value: str | None, masked: str | None
) -> None:
    resident = admit(api_sqlite, "Amy", id_number=value)
    one = api_sqlite.client.get(
        f"/api/residents/{resident['id']}", headers=api_sqlite.headers("guard")
    )
    assert one.json()["id_number"] == masked


THIS_YEAR = date.today().year
TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "Amy\x00"}, "name"),
        ({"sex": "x"}, "sex"),
        ({"birth_year": 1899}, "birth_year"),
        ({"birth_year": THIS_YEAR + 1}, "birth_year"),
        ({"birth_year": "1950"}, "birth_year"),
        ({"intake_date": "2025-13-01"}, "intake_date"),
        ({"intake_date": 1736467200}, "intake_date"),
        ({"intake_date": "2025-01-10T08:00:00"}, "intake_date"),
        ({"intake_date": None}, "intake_date"),
        ({"discharge_date": "2025-01-09"}, "discharge_date"),
        ({"discharge_date": TOMORROW}, "discharge_date"),
        ({"id_number": "12\x0034"}, "id_number"),
        ({"id_number": "x" * 65}, "id_number"),
        ({"id_number": "-1234"}, "id_number"),
        ({"fall_risk": "yes"}, "fall_risk"),
        ({"fall_risk": 1}, "fall_risk"),
        ({"room_id": 0}, "room_id"),
        ({"bed_id": 2**40}, "bed_id"),
        ({"ward": "B"}, "ward"),
    ],
)
def test_invalid_residents_are_422_naming_the_field(
    api: ApiEnv, body: dict[str, Any], field: str
) -> None:
    r = api.client.post(
        "/api/residents",
        json={"name": "Amy", "intake_date": "2025-01-10", **body},
        headers=api.headers("admin"),
    )
    assert r.status_code == 422, r.text
    assert field in r.json()["detail"][0]["loc"], r.text


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"room_id": 999}, "no room with id 999"),
        ({"bed_id": 999}, "no bed with id 999"),
        ({"room_id": 999, "bed_id": 998}, "no bed with id 998"),
    ],
)
def test_unknown_rooms_and_beds_are_404(api: ApiEnv, body: dict[str, Any], detail: str) -> None:
    amy = admit(api, "Amy")
    for method, path in [("POST", "/api/residents"), ("PATCH", f"/api/residents/{amy['id']}")]:
        r = api.client.request(
            method,
            path,
            json={"name": "Bo", "intake_date": "2025-01-10", **body},
            headers=api.headers("admin"),
        )
        assert (r.status_code, r.json()) == (404, {"detail": detail}), (method, r.text)


def test_room_and_bed_must_agree_and_a_bed_has_one_resident(api: ApiEnv) -> None:
    r3, r4 = add_room(api), add_room(api, "Room 4")
    a3, a4 = add_bed(api, r3["id"], "A"), add_bed(api, r4["id"], "A")
    amy = admit(api, "Amy", room_id=r3["id"], bed_id=a3["id"])
    admin = api.headers("admin")

    r = api.client.post(
        "/api/residents",
        json={"name": "Bo", "intake_date": "2025-01-10", "room_id": r3["id"], "bed_id": a4["id"]},
        headers=admin,
    )
    assert r.status_code == 409 and f"bed {a4['id']} is in room {r4['id']}" in r.text
    r = api.client.post(
        "/api/residents",
        json={"name": "Bo", "intake_date": "2025-01-10", "bed_id": a3["id"]},
        headers=admin,
    )
    assert r.status_code == 409
    assert r.json()["detail"] == f"bed 'A' of room 'Room 3' is taken by resident {amy['id']}"
    bo = admit(api, "Bo", room_id=r3["id"])
    r = api.client.patch(f"/api/residents/{bo['id']}", json={"bed_id": a3["id"]}, headers=admin)
    assert r.status_code == 409

    moved = admin_call(api, "PATCH", f"/api/residents/{amy['id']}", 200, json={"room_id": r4["id"]})
    assert moved["room"]["id"] == r4["id"] and moved["bed"] is None, "moving frees the old bed"
    took = admin_call(api, "PATCH", f"/api/residents/{bo['id']}", 200, json={"bed_id": a3["id"]})
    assert took["bed"]["id"] == a3["id"]
    moved = admin_call(api, "PATCH", f"/api/residents/{bo['id']}", 200, json={"bed_id": a4["id"]})
    assert moved["room"]["id"] == r4["id"], "naming a bed moves to its room"
    r = api.client.patch(
        f"/api/residents/{bo['id']}", json={"room_id": None, "bed_id": a4["id"]}, headers=admin
    )
    assert r.status_code == 409
    same = admin_call(api, "PATCH", f"/api/residents/{bo['id']}", 200, json={"bed_id": a4["id"]})
    assert same["updated_at"] == moved["updated_at"], "its own bed is not taken"
    updates = audit_log(api, "resident.update")
    assert [e.details["changed"] for e in updates] == [
        ["room_id", "bed_id"],
        ["bed_id"],
        ["room_id", "bed_id"],
    ]


def test_patch_resident_fields_and_nulls(api: ApiEnv) -> None:
    amy = admit(api, "Amy", birth_year=1960, id_number="AB123456")
    path = f"/api/residents/{amy['id']}"
    changed = admin_call(
        api, "PATCH", path, 200, json={"birth_year": None, "epilepsy": True, "name": "Amy Li"}
    )
    assert (changed["birth_year"], changed["epilepsy"], changed["name"]) == (None, True, "Amy Li")
    assert changed["id_number"] == "AB123456" and changed["intake_date"] == "2025-01-10"
    admin = api.headers("admin")
    for body in [{"name": None}, {"epilepsy": None}, {"intake_date": None}, {"sex": None}]:
        assert api.client.patch(path, json=body, headers=admin).status_code == 422, body
    assert api.client.patch("/api/residents/999", json={}, headers=admin).status_code == 404


def test_discharge_keeps_the_record_and_frees_room_and_bed(api: ApiEnv) -> None:
    room = add_room(api)
    bed = add_bed(api, room["id"], "A")
    amy = admit(api, "Amy", bed_id=bed["id"], fall_risk=True)
    admin = api.headers("admin")
    path = f"/api/residents/{amy['id']}"

    r = api.client.post(f"{path}/discharge", json={"date": "2025-01-09"}, headers=admin)
    assert r.status_code == 422 and "before the intake" in r.text
    r = api.client.post(f"{path}/discharge", json={"date": TOMORROW}, headers=admin)
    assert r.status_code == 422 and "future" in r.text
    out = admin_call(api, "POST", f"{path}/discharge", 200, json={"date": "2025-03-01"})
    assert out["status"] == "discharged" and out["discharge_date"] == "2025-03-01"
    assert out["room"] is None and out["bed"] is None and out["fall_risk"] is True
    r = api.client.post(f"{path}/discharge", json={}, headers=admin)
    assert r.status_code == 409 and "already discharged on 2025-03-01" in r.json()["detail"]
    assert api.client.delete(path, headers=admin).status_code == 405, "never deleted"

    guard = api.headers("guard")
    assert api.client.get("/api/residents", headers=guard).json() == {"total": 0, "residents": []}
    gone = api.client.get("/api/residents?status=discharged", headers=guard).json()
    assert [x["id"] for x in gone["residents"]] == [amy["id"]]
    assert api.client.get("/api/residents?status=all", headers=guard).json()["total"] == 1
    assert api.client.get(path, headers=guard).json()["status"] == "discharged"
    beds = api.client.get(f"/api/rooms/{room['id']}/beds", headers=guard).json()["beds"]
    assert beds[0]["occupied"] is False
    bo = admit(api, "Bo", bed_id=bed["id"])  # the bed is free for the next person
    assert bo["bed"]["id"] == bed["id"]

    r = api.client.patch(path, json={"room_id": room["id"]}, headers=admin)
    assert r.status_code == 422 and "discharged" in r.text
    back = admin_call(api, "PATCH", path, 200, json={"discharge_date": None})
    assert back["status"] == "current" and back["room"] is None  # re-admitted, not yet placed
    (discharge,) = audit_log(api, "resident.discharge")
    assert discharge.details == {"changed": ["discharge_date", "room_id", "bed_id"]}


def test_discharge_date_defaults_to_today_and_a_past_stay_can_be_entered(api: ApiEnv) -> None:
    amy = admit(api, "Amy")
    out = admin_call(api, "POST", f"/api/residents/{amy['id']}/discharge", 200, json={})
    assert out["discharge_date"] == date.today().isoformat()
    room = add_room(api)
    past = admit(api, "Bo", discharge_date="2025-02-01")
    assert past["status"] == "discharged"
    r = api.client.post(
        "/api/residents",
        json={
            "name": "Cy",
            "intake_date": "2025-01-10",
            "discharge_date": "2025-02-01",
            "room_id": room["id"],
        },
        headers=api.headers("admin"),
    )
    assert r.status_code == 422
    r = api.client.patch(
        f"/api/residents/{past['id']}",
        json={"intake_date": "2025-03-01"},
        headers=api.headers("admin"),
    )
    assert r.status_code == 422 and "intake_date" in r.json()["detail"][0]["loc"]


def test_resident_list_filters_sorts_and_pages(api: ApiEnv) -> None:
    r3, r4 = add_room(api, "Room 3"), add_room(api, "room 10")
    people = [
        ("dan", 1970, r3["id"], {"fall_risk": True}, "2025-01-05"),
        ("Amy", 1950, r4["id"], {"fall_risk": True, "elderly": True}, "2025-01-03"),
        ("cara", None, None, {}, "2025-01-01"),
        ("Bo", 1990, r3["id"], {"epilepsy": True}, "2025-01-04"),
        ("Eve", 1980, None, {"disability": True}, "2025-01-02"),
    ]
    ids = {}
    for name, year, room_id, flags, intake in people:
        ids[name] = admit(api, name, birth_year=year, room_id=room_id, intake_date=intake, **flags)[
            "id"
        ]
    admin_call(api, "POST", f"/api/residents/{ids['Eve']}/discharge", 200, json={})
    guard = api.headers("guard")

    def names(query: str) -> tuple[int, list[str]]:
        r = api.client.get(f"/api/residents?{query}", headers=guard)
        assert r.status_code == 200, r.text
        return r.json()["total"], [x["name"] for x in r.json()["residents"]]

    assert names("") == (4, ["Amy", "Bo", "cara", "dan"])
    assert names("status=all") == (5, ["Amy", "Bo", "cara", "dan", "Eve"])
    assert names("order=desc&limit=3") == (4, ["dan", "cara", "Bo"])
    assert names("order=desc&limit=3&offset=3") == (4, ["Amy"])
    assert names("sort=intake_date") == (4, ["cara", "Amy", "Bo", "dan"])
    assert names("sort=birth_year") == (4, ["Amy", "dan", "Bo", "cara"])  # unknown last
    assert names("sort=birth_year&order=desc") == (4, ["Bo", "dan", "Amy", "cara"])
    # "room 10" < "Room 3" in any case; same room: by id; no room last
    assert names("sort=room") == (4, ["Amy", "dan", "Bo", "cara"])
    assert names("sort=room&order=desc") == (4, ["Bo", "dan", "Amy", "cara"])
    assert names("q=A") == (3, ["Amy", "cara", "dan"])
    assert names("q=_") == (0, [])
    assert names(f"room_id={r3['id']}") == (2, ["Bo", "dan"])
    assert names("flag=fall_risk") == (2, ["Amy", "dan"])
    assert names("flag=disability") == (0, [])
    assert names("flag=disability&status=discharged") == (1, ["Eve"])
    assert names("flag=elderly&room_id=999") == (0, [])
    for bad in ["flag=tall", "status=gone", "sort=id", "limit=1000", "room_id=0", "q=" + "x" * 121]:
        assert api.client.get(f"/api/residents?{bad}", headers=guard).status_code == 422, bad


# --- who may do what ------------------------------------------------------------------------


def test_each_role_reaches_exactly_its_record_routes(api: ApiEnv) -> None:
    """Anonymous: 401 everywhere. Guards and operators read. Admins also write."""
    room = add_room(api)
    bed = add_bed(api, room["id"], "A")
    amy = admit(api, "Amy")
    reads = [
        "/api/rooms",
        f"/api/rooms/{room['id']}",
        f"/api/rooms/{room['id']}/beds",
        "/api/residents",
        f"/api/residents/{amy['id']}",
    ]
    writes: list[tuple[str, str, dict[str, Any] | None, int]] = [
        ("POST", "/api/rooms", {"name": "Room 9"}, 201),
        ("PATCH", f"/api/rooms/{room['id']}", {"notes": "n"}, 200),
        ("POST", f"/api/rooms/{room['id']}/beds", {"label": "B"}, 201),
        ("PATCH", f"/api/beds/{bed['id']}", {"label": "A1"}, 200),
        ("POST", "/api/residents", {"name": "Bo", "intake_date": "2025-01-10"}, 201),
        ("PATCH", f"/api/residents/{amy['id']}", {"elderly": True}, 200),
        ("POST", f"/api/residents/{amy['id']}/discharge", {}, 200),
        ("DELETE", f"/api/beds/{bed['id']}", None, 204),
        ("DELETE", f"/api/rooms/{room['id']}", None, 204),
    ]
    for path in reads:
        assert api.client.get(path).status_code == 401, path
    for method, path, body, _ in writes:
        assert api.client.request(method, path, json=body).status_code == 401, path
        # the role check comes before the body is looked at
        assert api.client.request(method, path, json={"x": 1}).status_code == 401, path
    for role in ("guard", "operator"):
        headers = api.headers(role)
        for path in reads:
            assert api.client.get(path, headers=headers).status_code == 200, (role, path)
        for method, path, body, _ in writes:
            r = api.client.request(method, path, json=body, headers=headers)
            assert r.status_code == 403 and "admin" in r.json()["detail"], (role, method, path)
    admin = api.headers("admin")
    for method, path, body, status in writes:
        r = api.client.request(method, path, json=body, headers=admin)
        assert r.status_code == status, (method, path, r.text)
    assert [api.client.get(path, headers=admin).status_code for path in reads] == [
        200,
        404,
        404,
        200,
        200,
    ]
