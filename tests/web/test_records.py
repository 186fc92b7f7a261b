"""Records (rooms, beds, residents, cameras, users) and the audit log in a real browser.

The station is shared with the other web tests, so every name here carries a random suffix and
no test assumes an empty database.
"""

from __future__ import annotations

import re
import secrets
import urllib.parse
import urllib.request
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import PageAs, Station, shot

pytestmark = pytest.mark.slow


def _suffix() -> str:
    return secrets.token_hex(3)


def _open_tab(page: Any, tab: str) -> None:
    page.get_by_test_id(f"tab-{tab}").click()
    expect(page.get_by_test_id(f"tab-{tab}")).to_have_attribute("aria-selected", "true")


def test_admin_keeps_records_and_finds_them_in_the_audit_log(
    page_as: PageAs, station: Station
) -> None:
    suffix = _suffix()
    room_name, resident, id_number = f"Room {suffix}", f"Resident {suffix}", f"1101051980{suffix}"
    username = f"guard2_{suffix}"
    page = page_as("admin")
    page.get_by_test_id("nav-records").click()
    expect(page.get_by_test_id("tab-residents")).to_have_attribute("aria-selected", "true")

    # A room with one bed; a second room of the same name (in another case) is refused.
    _open_tab(page, "rooms")
    page.get_by_test_id("add-room").click()
    page.get_by_test_id("room-name").fill(room_name)
    page.get_by_test_id("room-save").click()
    room_row = page.get_by_test_id("room-row").filter(has_text=room_name)
    expect(room_row).to_be_visible()
    room_id = room_row.get_attribute("data-id")
    room_row.get_by_test_id("room-beds").click()
    page.get_by_test_id("bed-label").fill("A")
    page.get_by_test_id("add-bed").click()
    expect(page.get_by_test_id("beds-panel").get_by_test_id("bed-row")).to_have_count(1)
    expect(page.get_by_test_id("bed-row")).to_contain_text("free")
    page.get_by_test_id("add-room").click()
    page.get_by_test_id("room-name").fill(room_name.upper())
    page.get_by_test_id("room-save").click()
    expect(page.get_by_test_id("room-error")).to_contain_text("already exists")

    # A resident with a fall risk in that bed; the server's 422 is shown next to the form first.
    _open_tab(page, "residents")
    page.get_by_test_id("add-resident").click()
    form = page.get_by_test_id("resident-form")
    form.get_by_test_id("resident-name").fill(resident)
    form.get_by_test_id("resident-id-number-input").fill("#not-an-id")
    form.get_by_test_id("resident-save").click()
    expect(form.get_by_test_id("resident-error")).to_contain_text("ID number")
    expect(form.get_by_test_id("resident-id-number-input")).to_have_attribute(
        "aria-invalid", "true"
    )
    form.get_by_test_id("resident-id-number-input").fill(id_number)
    form.get_by_test_id("resident-birth-year").fill("1950")
    form.get_by_test_id("resident-room").select_option(label=room_name)
    expect(form.get_by_test_id("resident-bed").locator("option")).to_have_count(2)
    form.get_by_test_id("resident-bed").select_option(label="A")
    form.get_by_test_id("flag-fall_risk").check()
    form.get_by_test_id("resident-save").click()
    expect(form).to_have_count(0)
    page.get_by_test_id("resident-search").fill(resident)
    row = page.get_by_test_id("resident-row").filter(has_text=resident)
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("resident-id-number")).to_have_text(id_number)  # admins see it whole
    expect(row).to_contain_text("fall risk")
    expect(row).to_contain_text(f"{room_name} / A")
    expect(row).to_contain_text("current")
    resident_id = row.get_attribute("data-id")
    shot(page, "records-residents")

    # The room cannot go while someone lives in it: the API's 409 is shown.
    _open_tab(page, "rooms")
    room_row = page.get_by_test_id("room-row").filter(has_text=room_name)
    room_row.get_by_test_id("room-delete").click()
    room_row.get_by_test_id("room-delete-confirm").click()
    expect(page.get_by_test_id("rooms-error")).to_contain_text("still has 1 resident")
    expect(room_row).to_be_visible()

    # Discharge: a day before the intake is refused by the server, today works; the record stays.
    _open_tab(page, "residents")
    expect(page.get_by_test_id("resident-search")).to_have_value(resident)
    row.get_by_test_id("discharge").click()
    discharge = page.get_by_test_id("discharge-form")
    discharge.get_by_test_id("discharge-date").fill("2000-01-01")
    discharge.get_by_test_id("discharge-confirm").click()
    expect(discharge.get_by_test_id("discharge-error")).to_contain_text("before the intake")
    discharge.get_by_test_id("discharge-date").fill(date.today().isoformat())
    discharge.get_by_test_id("discharge-confirm").click()
    expect(discharge).to_have_count(0)
    expect(row).to_have_count(0)  # the list shows current residents by default
    page.get_by_test_id("resident-status").select_option("all")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("resident-status-cell")).to_contain_text("discharged")
    expect(row.get_by_test_id("discharge")).to_have_count(0)

    # With the bed free again, the bed and then the room can be deleted.
    _open_tab(page, "rooms")
    room_row = page.get_by_test_id("room-row").filter(has_text=room_name)
    expect(page.get_by_test_id("bed-row")).to_contain_text("free")  # its beds are still open
    page.get_by_test_id("bed-row").get_by_test_id("bed-delete").click()
    page.get_by_test_id("bed-delete-confirm").click()
    expect(page.get_by_test_id("beds-panel")).to_contain_text("No beds yet.")
    room_row.get_by_test_id("room-delete").click()
    room_row.get_by_test_id("room-delete-confirm").click()
    expect(room_row).to_have_count(0)
    expect(page.get_by_test_id("rooms-error")).to_have_text("")

    # A new guard account.
    _open_tab(page, "users")
    page.get_by_test_id("add-user").click()
    page.get_by_test_id("user-username").fill(username)
    page.get_by_test_id("user-display-name").fill("Night guard")
    page.get_by_test_id("user-role").select_option("guard")
    page.get_by_test_id("user-password").fill("a long enough password")
    page.get_by_test_id("user-save").click()
    user_row = page.get_by_test_id("user-row").filter(has_text=username)
    expect(user_row).to_contain_text("guard")
    expect(user_row).to_contain_text("never")
    # The new account signs in elsewhere; the admin ends that session.
    login = urllib.request.Request(
        station.url + "/api/auth/login",
        data=urllib.parse.urlencode(
            {"username": username, "password": "a long enough password"}
        ).encode(),
        method="POST",
    )
    with urllib.request.urlopen(login) as answer:
        assert answer.status == 200
    user_row.get_by_test_id("user-sessions").click()
    sessions = page.get_by_test_id("sessions-panel")
    expect(sessions.get_by_test_id("session-row")).to_have_count(1)
    expect(sessions.get_by_test_id("session-row")).to_contain_text("active")
    sessions.get_by_test_id("session-revoke").click()
    sessions.get_by_test_id("session-revoke-confirm").click()
    expect(sessions.get_by_test_id("session-row")).to_contain_text("ended")
    user_row.get_by_test_id("user-sessions").click()
    expect(sessions).to_have_count(0)
    # Role and active flag change; the password can be reset (never shown).
    user_row.get_by_test_id("user-edit").click()
    user_form = page.get_by_test_id("user-form")
    expect(user_form.get_by_test_id("user-username")).to_be_disabled()
    expect(user_form.get_by_test_id("user-password")).to_have_value("")
    user_form.get_by_test_id("user-role").select_option("operator")
    user_form.get_by_test_id("user-active").uncheck()
    user_form.get_by_test_id("user-password").fill("another long password")
    user_form.get_by_test_id("user-save").click()
    expect(user_form).to_have_count(0)
    expect(user_row).to_contain_text("operator")
    expect(user_row).to_have_class(re.compile("inactive"))
    expect(user_row).to_contain_text("no")
    admin_row = page.get_by_test_id("user-row").filter(
        has=page.locator("th", has_text=re.compile("^admin$"))
    )
    admin_row.get_by_test_id("user-sessions").click()
    expect(page.get_by_test_id("sessions-panel")).to_contain_text("this session")

    # Someone else's failed sign-in, which the actor filter must hide.
    stranger = f"nobody_{suffix}"
    answer = page.request.post(
        station.url + "/api/auth/login", form={"username": stranger, "password": "wrong password"}
    )
    assert answer.status == 401

    page.get_by_test_id("nav-audit").click()
    expect(page.get_by_test_id("audit-row").filter(has_text=stranger)).not_to_have_count(0)
    page.get_by_test_id("audit-filter-actor").fill("admin")
    page.get_by_test_id("audit-apply").click()
    expect(page.get_by_test_id("audit-row").filter(has_text=stranger)).to_have_count(0)
    expect(page.get_by_test_id("audit-actor").filter(has_not_text="admin")).to_have_count(0)

    def entry(action: str, target: str) -> Any:
        return page.locator(f'[data-testid="audit-row"][data-action="{action}"]').filter(
            has=page.get_by_test_id("audit-target").filter(has_text=re.compile(f"^{target}$"))
        )

    expect(entry("room.create", f"room {room_id}")).to_have_count(1)
    expect(entry("room.delete", f"room {room_id}")).to_contain_text("Room deleted")
    expect(
        page.locator('[data-testid="audit-row"][data-action="session.revoke"]').first
    ).to_be_visible()
    expect(entry("resident.create", f"resident {resident_id}")).to_contain_text("Resident admitted")
    expect(entry("resident.create", f"resident {resident_id}")).to_contain_text("fall_risk")
    expect(entry("resident.discharge", f"resident {resident_id}")).to_contain_text(
        "Resident discharged"
    )
    expect(
        page.locator('[data-testid="audit-row"][data-action="user.create"]').filter(
            has_text=username
        )
    ).to_contain_text("Account created")
    expect(page.get_by_test_id("audit-details").filter(has_text=id_number)).to_have_count(0)
    shot(page, "audit")

    # A prefix filter, then a time window in the future: nothing.
    page.get_by_test_id("audit-filter-action").fill("resident.")
    page.get_by_test_id("audit-apply").click()
    expect(page.locator('[data-testid="audit-row"]:not([data-action^="resident."])')).to_have_count(
        0
    )
    expect(entry("resident.discharge", f"resident {resident_id}")).to_have_count(1)
    page.get_by_test_id("audit-filter-from").fill("2099-01-01T00:00")
    page.get_by_test_id("audit-apply").click()
    expect(page.get_by_test_id("audit-row")).to_have_count(0)
    page.get_by_test_id("audit-reset").click()
    expect(page.get_by_test_id("audit-row").filter(has_text=stranger)).not_to_have_count(0)
    # Read only: no control in the list changes an entry.
    expect(page.get_by_test_id("audit-table").locator("button, input, select")).to_have_count(0)


def test_cameras_tab_never_shows_stream_credentials(page_as: PageAs, station: Station) -> None:
    suffix = _suffix()
    camera, secret = f"cam-{suffix}", f"s3cret-{suffix}"
    page = page_as("admin")
    page.get_by_test_id("nav-records").click()
    _open_tab(page, "cameras")
    demo = page.get_by_test_id("camera-row").filter(
        has=page.locator("th", has_text=re.compile("^demo$"))
    )
    expect(demo).to_contain_text("Room 3 (demo)")
    expect(demo.get_by_test_id("camera-health")).to_contain_text(
        re.compile("online|starting|reconnecting")
    )

    page.get_by_test_id("add-camera").click()
    form = page.get_by_test_id("camera-form")
    form.get_by_test_id("camera-id").fill(camera)
    form.get_by_test_id("camera-name").fill(f"Corridor {suffix}")
    expect(form.get_by_test_id("camera-source")).to_have_attribute("type", "password")
    form.get_by_test_id("camera-source").fill(f"rtsp://viewer:{secret}@127.0.0.1:9/stream")
    form.get_by_test_id("camera-enabled").uncheck()
    form.get_by_test_id("camera-save").click()
    expect(page.get_by_test_id("camera-result")).to_contain_text(f"Camera {camera} saved")
    row = page.get_by_test_id("camera-row").filter(has_text=camera)
    expect(row.get_by_test_id("camera-source-masked")).to_have_text(
        "rtsp://viewer:***@127.0.0.1:9/stream"
    )
    expect(row).to_contain_text("with credentials")
    expect(row.get_by_test_id("camera-health")).to_contain_text("not running")
    expect(page.locator("body")).not_to_contain_text(secret)

    # Editing never pre-fills the stored URL; leaving it empty keeps it.
    row.get_by_test_id("camera-edit").click()
    expect(form.get_by_test_id("camera-source")).to_have_value("")
    expect(form).to_contain_text("Stored: rtsp://viewer:***@127.0.0.1:9/stream")
    expect(form.get_by_test_id("camera-id")).to_be_disabled()
    form.get_by_test_id("camera-fps").fill("2")
    form.get_by_test_id("camera-save").click()
    expect(page.get_by_test_id("camera-result")).to_contain_text(f"Camera {camera} saved")
    expect(row.get_by_test_id("camera-fps-value")).to_have_text("2")
    expect(row.get_by_test_id("camera-source-masked")).to_contain_text("viewer:***@")
    assert secret not in page.content()

    # A bad rate: the server's 422 names the field.
    row.get_by_test_id("camera-edit").click()
    form.get_by_test_id("camera-fps").evaluate("(input) => { input.min = ''; input.max = ''; }")
    form.get_by_test_id("camera-fps").fill("100")
    form.get_by_test_id("camera-save").click()
    expect(form.get_by_test_id("camera-error")).to_contain_text("Analysis fps")
    form.get_by_role("button", name="Cancel").click()

    row.get_by_test_id("camera-delete").click()
    row.get_by_test_id("camera-delete-confirm").click()
    expect(row).to_have_count(0)
    expect(page.get_by_test_id("camera-result")).to_contain_text("deleted")
    expect(demo).to_be_visible()
    shot(page, "records-cameras")


def test_guard_gets_neither_records_nor_audit(page_as: PageAs, station: Station) -> None:
    page = page_as("guard")
    expect(page.get_by_test_id("who")).to_contain_text("guard")
    expect(page.get_by_test_id("nav-records")).to_have_count(0)
    expect(page.get_by_test_id("nav-audit")).to_have_count(0)
    for path in ("records", "audit"):
        page.evaluate(f"location.hash = '#/{path}'")
        expect(page.get_by_test_id("forbidden")).to_be_visible()
        expect(page.locator("main table")).to_have_count(0)


def test_records_on_a_phone_in_chinese_by_keyboard(page_as: PageAs, station: Station) -> None:
    page = page_as("admin", viewport={"width": 390, "height": 844}, locale="zh-CN")
    expect(page.get_by_test_id("nav-records")).to_have_text("档案")
    expect(page.get_by_test_id("nav-audit")).to_have_text("审计日志")
    page.get_by_test_id("nav-records").click()
    expect(page.get_by_test_id("tab-residents")).to_have_text("住户")
    expect(page.get_by_test_id("tab-cameras")).to_have_text("摄像头")
    expect(page.get_by_test_id("resident-flag-filter")).to_contain_text("跌倒风险")
    # Arrow keys move between the tabs.
    page.get_by_test_id("tab-residents").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("tab-rooms")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("tab-rooms")).to_be_focused()
    page.keyboard.press("End")
    expect(page.get_by_test_id("tab-users")).to_be_focused()
    expect(page.get_by_test_id("user-row").first).to_be_visible()
    # Wide tables scroll inside their box; the page itself does not scroll sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    page.get_by_test_id("nav-audit").click()
    expect(page.get_by_test_id("audit-row").first).to_be_visible()
    expect(page.get_by_test_id("audit-apply")).to_have_text("应用")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the audit page is {width} px wide on a 390 px phone"
