"""Rooms, beds and residents: any signed-in role reads, admins change; every change is audited.

    GET    /api/rooms                      list (q, floor; sort name|floor|created_at)
    POST   /api/rooms                      create
    GET    /api/rooms/{room_id}            one room
    PATCH  /api/rooms/{room_id}            change
    DELETE /api/rooms/{room_id}            delete with its beds (409 while residents or cameras
                                           are in it or one of its beds is taken)
    GET    /api/rooms/{room_id}/beds       its beds, each with whether it is taken
    POST   /api/rooms/{room_id}/beds       add a bed
    PATCH  /api/beds/{bed_id}              relabel or move (409 when moving a taken bed)
    DELETE /api/beds/{bed_id}              delete (409 when taken)
    GET    /api/residents                  list (q, room_id, flag, status; sort name|intake_date|
                                           birth_year|room)
    POST   /api/residents                  admit
    GET    /api/residents/{resident_id}    one resident (an admin's view is audited)
    PATCH  /api/residents/{resident_id}    change
    POST   /api/residents/{resident_id}/discharge   discharge: the record stays, room and bed free

Lists answer `{"total": n, "<things>": [...]}` for `limit` (1-500) and `offset`. Residents'
ID numbers are masked (`************1234`) for everyone but admins. Errors are JSON
`{"detail": "..."}`: 404 for an unknown id in the path or in the body (`room_id`, `bed_id`), 409
for what the records forbid (a taken bed, a bed of another room, a name in use, deleting what is
in use); 422 in FastAPI's validation shape, also for the few checks across fields the schema
cannot state (a discharge before the intake or in the future, a discharged resident given a room).

The request types here (`RoomName`, `Notes`, `Id`, `Day`, ...) are shared with
`api.routes.cameras`: each states in the OpenAPI schema exactly what it accepts (lengths, ranges,
no control characters, something visible), and accepts exactly that, so a fuzzer working from the
schema finds neither a 500 nor a refused valid value.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.audit import audit
from api.db import DB
from api.security import Principal, require
from api.tables.records import FLAGS, Bed, CameraRecord, Resident, Room

MAX_ID = 2**31 - 1
"""Largest id (a 32-bit INTEGER column); larger numbers are refused, never sent to the database."""

_CTRL = r"\x00-\x1f\x7f"
LINE = rf"^[^{_CTRL}]*[^\s{_CTRL}][^{_CTRL}]*$"
"""One line with at least one visible character (no control characters)."""
LINE_OR_EMPTY = rf"^[^{_CTRL}]*$"
TEXT = r"^[^\x00]*$"
"""Free text over several lines (no NUL, which PostgreSQL cannot store)."""


def _stripped(value: str) -> str:
    return value.strip()


Strip = AfterValidator(_stripped)
"""Spaces around a name are dropped after the pattern is checked, so what the schema refuses
(a control character) is refused, and what it allows is taken."""

RoomName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=LINE), Strip]
Floor = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=LINE), Strip]
BedLabel = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=LINE), Strip]
PersonName = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=LINE), Strip]
IdNumber = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$"),
    Strip,
]
Notes = Annotated[str, StringConstraints(max_length=4000, pattern=TEXT)]
Search = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=LINE_OR_EMPTY)]


def _whole(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer: take it as 3 (strict mode alone would refuse it).
    In `Annotated`, it goes after the `Field` bounds, or the schema loses them."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_whole)]
Capacity = Annotated[int, Field(ge=0, le=10_000), BeforeValidator(_whole)]
Sex = Literal["male", "female", "other", "unknown"]
Flag = Literal["fall_risk", "epilepsy", "mental_health_support", "disability", "elderly"]
Order = Literal["asc", "desc"]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _day(value: Any) -> Any:
    """A calendar day from its ISO form only (FastAPI validates parsed JSON in Python mode, where
    strict mode refuses strings and lax mode takes numbers as timestamps)."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _DAY.match(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return date.fromisoformat(value)


Day = Annotated[date, BeforeValidator(_day)]
"""A calendar day in a request body, "YYYY-MM-DD" (named so a field can be called `date`)."""

THIS_YEAR = date.today().year
"""Upper bound of `birth_year` (fixed when the service starts)."""
BirthYear = Annotated[int, Field(ge=1900, le=THIS_YEAR), BeforeValidator(_whole)]


class Problem(BaseModel):
    """An error: what was wrong, in words."""

    detail: str


NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "Not found"}}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": Problem, "description": "Conflicts with the current records"}
}
SIGNED_IN: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body cannot be read (not UTF-8)"},
    401: {"model": Problem, "description": "Not signed in"},
    403: {"model": Problem, "description": "The caller's role is not enough"},
}


UNCHANGED: Any = None
"""Default of a PATCH field that cannot be null: left out, it keeps its value; sent as null, it
fails validation (pydantic does not validate defaults), and the schema shows it non-nullable."""


class Body(BaseModel):
    """Request bodies: unknown fields and loose types (`"true"` for a boolean) are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


def invalid(field: str, message: str) -> RequestValidationError:
    """A 422 in FastAPI's validation shape for a check the schema cannot express."""
    return RequestValidationError([{"type": "value_error", "loc": ("body", field), "msg": message}])


def not_found(what: str, key: int | str) -> HTTPException:
    return HTTPException(404, f"no {what} with id {key!r}")


def page_total(db: Session, query: Select[Any]) -> int:
    return db.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def sort_by(query: Select[Any], key: Any, order: Order, tiebreak: Any) -> Select[Any]:
    """`query` ordered by `key` (NULLs last either way, on SQLite and PostgreSQL alike), then by
    `tiebreak` in the same direction so pages never overlap."""
    if order == "asc":
        return query.order_by(key.asc().nulls_last(), tiebreak.asc())
    return query.order_by(key.desc().nulls_last(), tiebreak.desc())


@contextmanager
def conflicts_as_409(db: Session, message: str) -> Iterator[None]:
    """A unique or foreign key violation inside (a concurrent change, or one the checks before
    did not foresee) rolls back and becomes a 409 with `message`."""
    try:
        yield
    except IntegrityError:
        db.rollback()
        raise HTTPException(409, message) from None


def commit_or_409(db: Session, message: str) -> None:
    with conflicts_as_409(db, message):
        db.commit()


def apply_changes(row: Any, values: dict[str, Any]) -> list[str]:
    """Set `values` on `row`; returns the names of the fields whose value changed."""
    changed = []
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    return changed


Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Items to skip.")]
SortOrder = Annotated[Order, Query(description="Sort direction.")]

router = APIRouter(tags=["records"], responses=SIGNED_IN)
guard = require("guard")
admin = require("admin")

# --- rooms and beds -------------------------------------------------------------------------


class RoomRef(BaseModel):
    id: int
    name: str


class RoomIn(Body):
    name: RoomName = Field(description='Unique name, as guards call it ("Room 3").')
    floor: Floor | None = Field(None, description="Floor or wing.")
    capacity: Capacity | None = Field(None, description="Places in the room.")
    notes: Notes = ""


class RoomPatch(Body):
    """Only the fields given change; `floor` and `capacity` can be cleared with null."""

    name: RoomName = Field(UNCHANGED, description="Unique name.")
    floor: Floor | None = None
    capacity: Capacity | None = None
    notes: Notes = Field(UNCHANGED)


class RoomOut(BaseModel):
    id: int
    name: str
    floor: str | None
    capacity: int | None
    notes: str
    beds: int = Field(description="Beds in the room.")
    residents: int = Field(description="Current residents placed in the room.")
    cameras: int = Field(description="Cameras placed in the room.")
    created_at: float
    updated_at: float


class RoomPage(BaseModel):
    total: int
    rooms: list[RoomOut]


class BedIn(Body):
    label: BedLabel = Field(description='Unique within the room ("A", "window").')


class BedPatch(Body):
    label: BedLabel = Field(UNCHANGED)
    room_id: Id = Field(UNCHANGED, description="Move the bed to another room (only when free).")


class BedOut(BaseModel):
    id: int
    room_id: int
    label: str
    occupied: bool
    resident_id: int | None = Field(description="The current resident in it.")


class BedList(BaseModel):
    total: int
    beds: list[BedOut]


def _counts(db: Session, column: Any, room_ids: list[int], *where: Any) -> dict[int, int]:
    if not room_ids:
        return {}
    rows = db.execute(
        select(column, func.count()).where(column.in_(room_ids), *where).group_by(column)
    )
    return {int(k): int(n) for k, n in rows}


def rooms_out(db: Session, rooms: list[Room]) -> list[RoomOut]:
    ids = [r.id for r in rooms]
    beds = _counts(db, Bed.room_id, ids)
    residents = _counts(db, Resident.room_id, ids, Resident.discharge_date.is_(None))
    cameras = _counts(db, CameraRecord.room_id, ids)
    return [
        RoomOut(
            id=r.id,
            name=r.name,
            floor=r.floor,
            capacity=r.capacity,
            notes=r.notes,
            beds=beds.get(r.id, 0),
            residents=residents.get(r.id, 0),
            cameras=cameras.get(r.id, 0),
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rooms
    ]


def room_or_404(db: Session, room_id: int) -> Room:
    room = db.get(Room, room_id)
    if room is None:
        raise not_found("room", room_id)
    return room


def _name_taken(db: Session, name: str, room_id: int | None = None) -> None:
    """409 when another room has this name in any case (compared here: SQLite's lower() knows
    only ASCII)."""
    key = name.casefold()
    for other, other_name in db.execute(select(Room.id, Room.name)):
        if other_name.casefold() == key and other != room_id:
            raise HTTPException(409, f"a room named {name!r} already exists (id {other})")


RoomId = Annotated[int, Path(ge=1, le=MAX_ID)]
BedId = Annotated[int, Path(ge=1, le=MAX_ID)]
ResidentId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/api/rooms", dependencies=[guard])
def list_rooms(
    db: DB,
    q: Annotated[Search | None, Query(description="Name contains (any case).")] = None,
    floor: Annotated[Floor | None, Query(description="Exactly this floor.")] = None,
    sort: Literal["name", "floor", "created_at"] = "name",
    order: SortOrder = "asc",
    limit: Limit = 50,
    offset: Offset = 0,
) -> RoomPage:
    """Rooms with their numbers of beds, current residents and cameras."""
    query = select(Room)
    if q is not None:
        query = query.where(Room.name.icontains(q, autoescape=True))
    if floor is not None:
        query = query.where(Room.floor == floor)
    total = page_total(db, query)
    key = {"name": func.lower(Room.name), "floor": Room.floor, "created_at": Room.created_at}
    rooms = list(db.scalars(sort_by(query, key[sort], order, Room.id).limit(limit).offset(offset)))
    return RoomPage(total=total, rooms=rooms_out(db, rooms))


@router.post("/api/rooms", status_code=201, responses=CONFLICT)
def create_room(body: RoomIn, db: DB, request: Request, who: Principal = admin) -> RoomOut:
    """Add a room (409 when the name, in any case, is taken)."""
    _name_taken(db, body.name)
    now = time.time()
    room = Room(**body.model_dump(), created_at=now, updated_at=now)
    with conflicts_as_409(db, f"a room named {body.name!r} already exists"):
        db.add(room)
        db.flush()
        changed = sorted(body.model_fields_set)
        audit(db, who, "room.create", "room", room.id, {"changed": changed}, request)
        db.commit()
    return rooms_out(db, [room])[0]


@router.get("/api/rooms/{room_id}", dependencies=[guard], responses=NOT_FOUND)
def get_room(room_id: RoomId, db: DB) -> RoomOut:
    return rooms_out(db, [room_or_404(db, room_id)])[0]


@router.patch("/api/rooms/{room_id}", responses=NOT_FOUND | CONFLICT)
def update_room(
    room_id: RoomId, body: RoomPatch, db: DB, request: Request, who: Principal = admin
) -> RoomOut:
    """Change the given fields (409 when the new name is taken)."""
    room = room_or_404(db, room_id)
    values = body.model_dump(exclude_unset=True)
    if "name" in values:
        _name_taken(db, values["name"], room.id)
    changed = apply_changes(room, values)
    if changed:
        room.updated_at = time.time()
        audit(db, who, "room.update", "room", room.id, {"changed": changed}, request)
        commit_or_409(db, "a room with that name already exists")
    return rooms_out(db, [room])[0]


@router.delete("/api/rooms/{room_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_room(room_id: RoomId, db: DB, request: Request, who: Principal = admin) -> None:
    """Delete a room and its beds; 409 while current residents or cameras are placed in it."""
    room = room_or_404(db, room_id)
    residents = _counts(db, Resident.room_id, [room.id], Resident.discharge_date.is_(None))
    if residents:
        n = residents[room.id]
        raise HTTPException(
            409,
            f"room {room.name!r} still has {n} resident{'s' if n != 1 else ''}; "
            "move or discharge them first",
        )
    cameras = list(db.scalars(select(CameraRecord.id).where(CameraRecord.room_id == room.id)))
    if cameras:
        raise HTTPException(
            409,
            f"room {room.name!r} still has cameras ({', '.join(sorted(cameras))}); "
            "move or delete them first",
        )
    with conflicts_as_409(db, f"room {room.name!r} is still referred to; try again"):
        for bed in db.scalars(select(Bed).where(Bed.room_id == room.id)):
            db.delete(bed)
        db.flush()
        db.delete(room)
        details = {"changed": ["name"], "name": room.name}
        audit(db, who, "room.delete", "room", room.id, details, request)
        db.commit()


def beds_out(db: Session, beds: list[Bed]) -> list[BedOut]:
    ids = [b.id for b in beds]
    occupants = (
        dict(db.execute(select(Resident.bed_id, Resident.id).where(Resident.bed_id.in_(ids))).all())
        if ids
        else {}
    )
    return [
        BedOut(
            id=b.id,
            room_id=b.room_id,
            label=b.label,
            occupied=b.id in occupants,
            resident_id=occupants.get(b.id),
        )
        for b in beds
    ]


def bed_or_404(db: Session, bed_id: int) -> Bed:
    bed = db.get(Bed, bed_id)
    if bed is None:
        raise not_found("bed", bed_id)
    return bed


def _label_taken(db: Session, room: Room, label: str, bed_id: int | None = None) -> None:
    other = db.scalar(select(Bed.id).where(Bed.room_id == room.id, Bed.label == label))
    if other is not None and other != bed_id:
        raise HTTPException(409, f"room {room.name!r} already has a bed {label!r} (id {other})")


@router.get("/api/rooms/{room_id}/beds", dependencies=[guard], responses=NOT_FOUND)
def list_beds(room_id: RoomId, db: DB) -> BedList:
    """The room's beds by label, each with whether a current resident has it."""
    room = room_or_404(db, room_id)
    beds = list(db.scalars(select(Bed).where(Bed.room_id == room.id).order_by(Bed.label, Bed.id)))
    return BedList(total=len(beds), beds=beds_out(db, beds))


@router.post("/api/rooms/{room_id}/beds", status_code=201, responses=NOT_FOUND | CONFLICT)
def create_bed(
    room_id: RoomId, body: BedIn, db: DB, request: Request, who: Principal = admin
) -> BedOut:
    """Add a bed to the room (409 when the room has a bed of that label)."""
    room = room_or_404(db, room_id)
    _label_taken(db, room, body.label)
    bed = Bed(room_id=room.id, label=body.label)
    with conflicts_as_409(db, f"room {room.name!r} already has a bed {body.label!r}"):
        db.add(bed)
        db.flush()
        audit(db, who, "bed.create", "bed", bed.id, {"changed": ["room_id", "label"]}, request)
        db.commit()
    return beds_out(db, [bed])[0]


@router.patch("/api/beds/{bed_id}", responses=NOT_FOUND | CONFLICT)
def update_bed(
    bed_id: BedId, body: BedPatch, db: DB, request: Request, who: Principal = admin
) -> BedOut:
    """Relabel the bed or move it to another room (409 when taken: move its resident first)."""
    bed = bed_or_404(db, bed_id)
    values = body.model_dump(exclude_unset=True)
    room_id = values.get("room_id", bed.room_id)
    room = db.get(Room, room_id)
    if room is None:
        raise not_found("room", room_id)
    if room_id != bed.room_id and beds_out(db, [bed])[0].occupied:
        raise HTTPException(409, f"bed {bed.id} is taken; move or discharge its resident first")
    _label_taken(db, room, values.get("label", bed.label), bed.id)
    changed = apply_changes(bed, values)
    if changed:
        audit(db, who, "bed.update", "bed", bed.id, {"changed": changed}, request)
        commit_or_409(db, "that room already has a bed of that label")
    return beds_out(db, [bed])[0]


@router.delete("/api/beds/{bed_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_bed(bed_id: BedId, db: DB, request: Request, who: Principal = admin) -> None:
    """Delete a free bed (409 when a current resident has it)."""
    bed = bed_or_404(db, bed_id)
    if beds_out(db, [bed])[0].occupied:
        raise HTTPException(409, f"bed {bed.id} is taken; move or discharge its resident first")
    db.delete(bed)
    audit(
        db,
        who,
        "bed.delete",
        "bed",
        bed.id,
        {"changed": ["label"], "room_id": bed.room_id},
        request,
    )
    commit_or_409(db, f"bed {bed.id} is still referred to; try again")


# --- residents ------------------------------------------------------------------------------


class BedRef(BaseModel):
    id: int
    label: str


class ResidentIn(Body):
    name: PersonName
    id_number: IdNumber | None = Field(None, description="ID document number (stored whole).")
    sex: Sex = Field("unknown", description="male, female, other or unknown.")
    birth_year: BirthYear | None = None
    intake_date: Day = Field(description="Day of admission (YYYY-MM-DD).")
    discharge_date: Day | None = Field(
        None,
        description="Day of discharge, for a past stay: not before the intake, not later than "
        "today; a discharged resident has no room or bed.",
    )
    room_id: Id | None = None
    bed_id: Id | None = Field(None, description="A free bed; the room follows from it.")
    fall_risk: bool = False
    epilepsy: bool = False
    mental_health_support: bool = False
    disability: bool = False
    elderly: bool = False
    notes: Notes = ""


class ResidentPatch(Body):
    """Only the fields given change; nullable ones can be cleared with null. Moving to another
    room without naming a bed frees the old bed; naming a bed moves to its room. Clearing
    `discharge_date` re-admits (without a room until one is given)."""

    name: PersonName = Field(UNCHANGED)
    id_number: IdNumber | None = None
    sex: Sex = Field(UNCHANGED)
    birth_year: BirthYear | None = None
    intake_date: Day = Field(UNCHANGED)
    discharge_date: Day | None = None
    room_id: Id | None = None
    bed_id: Id | None = None
    fall_risk: bool = Field(UNCHANGED)
    epilepsy: bool = Field(UNCHANGED)
    mental_health_support: bool = Field(UNCHANGED)
    disability: bool = Field(UNCHANGED)
    elderly: bool = Field(UNCHANGED)
    notes: Notes = Field(UNCHANGED)


class Discharge(Body):
    date: Day = Field(
        default_factory=date.today,
        description="Day of discharge (default today): not before the intake, not in the future.",
    )


class ResidentOut(BaseModel):
    id: int
    name: str
    id_number: str | None = Field(description="Masked (last 4 shown) unless the caller is admin.")
    sex: str
    birth_year: int | None
    intake_date: date
    discharge_date: date | None
    status: Literal["current", "discharged"]
    room: RoomRef | None
    bed: BedRef | None
    fall_risk: bool
    epilepsy: bool
    mental_health_support: bool
    disability: bool
    elderly: bool
    notes: str
    created_at: float
    updated_at: float


class ResidentPage(BaseModel):
    total: int
    residents: list[ResidentOut]


def mask_id_number(value: str | None) -> str | None:
    """All but the last 4 characters as `*` (all of them when there are 4 or fewer).

    >>> mask_id_number("110105198001011234")
    '**************1234'
    """
    if value is None:
        return None
    keep = 4 if len(value) > 4 else 0
    return "*" * (len(value) - keep) + value[len(value) - keep :]


def residents_out(db: Session, residents: list[Resident], who: Principal) -> list[ResidentOut]:
    room_ids = {r.room_id for r in residents if r.room_id is not None}
    bed_ids = {r.bed_id for r in residents if r.bed_id is not None}
    rooms = {r.id: r for r in db.scalars(select(Room).where(Room.id.in_(room_ids)))}
    beds = {b.id: b for b in db.scalars(select(Bed).where(Bed.id.in_(bed_ids)))}
    full = who.role == "admin"
    out = []
    for r in residents:
        room = rooms.get(r.room_id) if r.room_id is not None else None
        bed = beds.get(r.bed_id) if r.bed_id is not None else None
        out.append(
            ResidentOut(
                id=r.id,
                name=r.name,
                id_number=r.id_number if full else mask_id_number(r.id_number),
                sex=r.sex,
                birth_year=r.birth_year,
                intake_date=r.intake_date,
                discharge_date=r.discharge_date,
                status="current" if r.discharge_date is None else "discharged",
                room=None if room is None else RoomRef(id=room.id, name=room.name),
                bed=None if bed is None else BedRef(id=bed.id, label=bed.label),
                fall_risk=r.fall_risk,
                epilepsy=r.epilepsy,
                mental_health_support=r.mental_health_support,
                disability=r.disability,
                elderly=r.elderly,
                notes=r.notes,
                created_at=r.created_at,
                updated_at=r.updated_at,
            )
        )
    return out


def resident_or_404(db: Session, resident_id: int) -> Resident:
    resident = db.get(Resident, resident_id)
    if resident is None:
        raise not_found("resident", resident_id)
    return resident


def _checked_discharge(day: date, intake: date, field: str) -> None:
    if day < intake:
        raise invalid(field, f"the discharge ({day}) cannot be before the intake ({intake})")
    if day > date.today():
        raise invalid(field, f"the discharge ({day}) cannot be in the future")


def placed(
    db: Session, values: dict[str, Any], given: set[str], resident_id: int | None
) -> dict[str, Any]:
    """`values` (a resident's fields after the change) with room and bed made consistent, or a
    422/409 saying why they cannot be. `given` names the fields the request set."""
    values = dict(values)
    if values["discharge_date"] is not None:
        _checked_discharge(values["discharge_date"], values["intake_date"], "discharge_date")
        for field in ("room_id", "bed_id"):
            if field in given and values[field] is not None:
                raise invalid(
                    field,
                    "a discharged resident has no room or bed; clear discharge_date to re-admit",
                )
        values["room_id"] = values["bed_id"] = None
        return values
    bed = None
    if values["bed_id"] is not None:
        bed = db.get(Bed, values["bed_id"])
        if bed is None:
            raise not_found("bed", values["bed_id"])
        if "bed_id" in given and "room_id" not in given:
            values["room_id"] = bed.room_id  # naming a bed moves the resident to its room
        elif "room_id" in given and "bed_id" not in given and bed.room_id != values["room_id"]:
            values["bed_id"], bed = None, None  # moving to another room frees the old bed
    room = None
    if values["room_id"] is not None:
        room = db.get(Room, values["room_id"])
        if room is None:
            raise not_found("room", values["room_id"])
    if bed is not None:
        if room is None or bed.room_id != room.id:
            raise HTTPException(
                409, f"bed {bed.id} is in room {bed.room_id}, not in room {values['room_id']}"
            )
        holder = db.scalar(
            select(Resident.id).where(Resident.bed_id == bed.id, Resident.id != (resident_id or 0))
        )
        if holder is not None:
            raise HTTPException(
                409, f"bed {bed.label!r} of room {room.name!r} is taken by resident {holder}"
            )
    return values


@router.get("/api/residents")
def list_residents(
    db: DB,
    q: Annotated[Search | None, Query(description="Name contains (any case).")] = None,
    room_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    flag: Annotated[Flag | None, Query(description="Only residents with this care flag.")] = None,
    status: Literal["current", "discharged", "all"] = "current",
    sort: Literal["name", "intake_date", "birth_year", "room"] = "name",
    order: SortOrder = "asc",
    limit: Limit = 50,
    offset: Offset = 0,
    who: Principal = guard,
) -> ResidentPage:
    """Residents (current ones by default); ID numbers masked unless the caller is admin."""
    query = select(Resident)
    if q is not None:
        query = query.where(Resident.name.icontains(q, autoescape=True))
    if room_id is not None:
        query = query.where(Resident.room_id == room_id)
    if flag is not None:
        query = query.where(getattr(Resident, flag).is_(True))
    if status == "current":
        query = query.where(Resident.discharge_date.is_(None))
    elif status == "discharged":
        query = query.where(Resident.discharge_date.is_not(None))
    total = page_total(db, query)
    key: ColumnElement[Any]
    if sort == "room":
        query = query.outerjoin(Room, Room.id == Resident.room_id)
        key = func.lower(Room.name)
    elif sort == "name":
        key = func.lower(Resident.name)
    else:
        key = getattr(Resident, sort)
    found = list(db.scalars(sort_by(query, key, order, Resident.id).limit(limit).offset(offset)))
    return ResidentPage(total=total, residents=residents_out(db, found, who))


@router.post("/api/residents", status_code=201, responses=NOT_FOUND | CONFLICT)
def create_resident(
    body: ResidentIn, db: DB, request: Request, who: Principal = admin
) -> ResidentOut:
    """Admit a resident (404 for an unknown room or bed, 409 for a taken bed or one of another
    room, 422 for a bad discharge date)."""
    values = placed(db, body.model_dump(), set(body.model_fields_set), None)
    now = time.time()
    resident = Resident(**values, created_at=now, updated_at=now)
    changed = sorted(k for k, v in values.items() if v not in (None, False, ""))
    with conflicts_as_409(db, "that bed was just taken by someone else"):
        db.add(resident)
        db.flush()
        audit(db, who, "resident.create", "resident", resident.id, {"changed": changed}, request)
        db.commit()
    return residents_out(db, [resident], who)[0]


@router.get("/api/residents/{resident_id}", responses=NOT_FOUND)
def get_resident(
    resident_id: ResidentId, db: DB, request: Request, who: Principal = guard
) -> ResidentOut:
    """One resident, current or discharged. An admin sees the full record, which is audited."""
    resident = resident_or_404(db, resident_id)
    out = residents_out(db, [resident], who)[0]
    if who.role == "admin":
        audit(db, who, "resident.view", "resident", resident.id, None, request)
        db.commit()
    return out


@router.patch("/api/residents/{resident_id}", responses=NOT_FOUND | CONFLICT)
def update_resident(
    resident_id: ResidentId, body: ResidentPatch, db: DB, request: Request, who: Principal = admin
) -> ResidentOut:
    """Change the given fields (same checks as admission)."""
    resident = resident_or_404(db, resident_id)
    given = set(body.model_fields_set)
    current = {c.key: getattr(resident, c.key) for c in Resident.__table__.columns}
    merged = current | body.model_dump(exclude_unset=True)
    if "intake_date" in given and merged["discharge_date"] is not None:
        _checked_discharge(merged["discharge_date"], merged["intake_date"], "intake_date")
    values = placed(db, merged, given, resident.id)
    changed = apply_changes(resident, {k: values[k] for k in ResidentPatch.model_fields})
    if changed:
        resident.updated_at = time.time()
        audit(db, who, "resident.update", "resident", resident.id, {"changed": changed}, request)
        commit_or_409(db, "that bed was just taken by someone else")
    return residents_out(db, [resident], who)[0]


@router.post("/api/residents/{resident_id}/discharge", responses=NOT_FOUND | CONFLICT)
def discharge_resident(
    resident_id: ResidentId, body: Discharge, db: DB, request: Request, who: Principal = admin
) -> ResidentOut:
    """Discharge: set the date and free the room and bed; the record stays (409 when already
    discharged)."""
    resident = resident_or_404(db, resident_id)
    if resident.discharge_date is not None:
        raise HTTPException(
            409, f"resident {resident.id} was already discharged on {resident.discharge_date}"
        )
    _checked_discharge(body.date, resident.intake_date, "date")
    changed = apply_changes(
        resident, {"discharge_date": body.date, "room_id": None, "bed_id": None}
    )
    resident.updated_at = time.time()
    audit(db, who, "resident.discharge", "resident", resident.id, {"changed": changed}, request)
    commit_or_409(db, "the resident changed meanwhile; try again")
    return residents_out(db, [resident], who)[0]


__all__ = ["FLAGS", "router"]
