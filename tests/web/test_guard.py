"""The guard console and the live wall in a real browser, against the whole running service: a
demo fall arrives over the WebSocket, the alarm rings and flashes until it is acknowledged, the
guard resolves it with a disposition; the live wall streams the demo camera and enlarges it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import PageAs, Station, shot

pytestmark = pytest.mark.slow

WAITING = ", ".join(
    f'[data-testid="alert-card"][data-state="{state}"]' for state in ("new", "escalated")
)


def open_console(page: Any) -> None:
    """The console after its first load, with the alert feed connected."""
    page.get_by_test_id("nav-alerts").click()
    expect(page.get_by_test_id("ws-status")).to_have_attribute("data-state", "live")


def acknowledge_everything(page: Any, timeout_s: float = 30) -> None:
    """Acknowledge whatever still waits (the demo also raises fights and pacing) until the
    alarm stops."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.evaluate("document.body.dataset.alarm") == "off":
            return
        waiting = page.locator(WAITING)
        if waiting.count():
            card = waiting.first
            alert_id = card.get_attribute("data-alert-id")
            card.get_by_test_id("ack").click()
            expect(page.locator(f'[data-alert-id="{alert_id}"]').first).not_to_have_attribute(
                "data-state", "new"
            )
        else:
            page.wait_for_timeout(200)


def test_a_fall_arrives_live_rings_until_acknowledged_then_is_resolved(
    page_as: PageAs, station: Station
) -> None:
    page = page_as("guard")
    open_console(page)
    expect(page.get_by_test_id("camera-strip").locator('[data-camera="demo"]')).to_contain_text(
        "Room 3 (demo)"
    )
    before = set(
        page.locator('[data-testid="alert-card"][data-kind="fall"]').evaluate_all(
            "cards => cards.map(c => c.dataset.alertId)"
        )
    )
    sound = page.get_by_test_id("enable-sound")
    if sound.is_visible():
        sound.click()
    expect(sound).to_be_hidden()  # the click (a user gesture) let the AudioContext run
    expect(page.locator("body")).to_have_attribute("data-sound", "on")

    # A fall the console did not have when it loaded: it came over the WebSocket.
    fresh = ", ".join(f':not([data-alert-id="{i}"])' for i in before) or ""
    card = page.locator(f'[data-testid="alert-card"][data-kind="fall"]{fresh}').first
    expect(card).to_be_visible(timeout=90_000)
    alert_id = card.get_attribute("data-alert-id")
    assert alert_id is not None and alert_id not in before
    card = page.locator(f'[data-testid="alert-card"][data-alert-id="{alert_id}"]')
    expect(card).to_have_attribute("data-state", "new")
    expect(card.get_by_test_id("severity")).to_have_class("badge sev-critical")
    expect(card).to_contain_text("Fall")
    expect(card).to_contain_text("Room 3 (demo)")
    expect(card).not_to_contain_text("null")
    expect(card.get_by_test_id("resolve-form")).to_be_hidden()
    expect(card.get_by_test_id("snapshot")).to_have_js_property("complete", True)
    assert card.get_by_test_id("snapshot").evaluate("img => img.naturalWidth") > 0
    expect(card.get_by_test_id("incident-link")).to_have_attribute(
        "href", f"#/incidents?id={alert_id}"
    )

    # The alarm: audible (beeping every 2 s) and visible until acknowledged.
    expect(page.locator("body")).to_have_attribute("data-alarm", "on")
    expect(page.locator("#flash")).to_be_visible()
    expect(page.locator("#flash")).to_have_attribute("aria-hidden", "false")
    shot(page, "guard-console")

    # The same in Chinese.
    page.get_by_test_id("lang").select_option("zh")
    expect(card.locator("h3")).to_have_text("跌倒")
    expect(card.get_by_test_id("ack")).to_have_text("确认")
    page.get_by_test_id("lang").select_option("en")
    expect(card.locator("h3")).to_have_text("Fall")

    # Readable on a phone: no sideways scrolling, the card's buttons in reach.
    phone = page_as("guard", viewport={"width": 390, "height": 844})
    open_console(phone)
    phone_card = phone.locator(f'[data-testid="alert-card"][data-alert-id="{alert_id}"]')
    expect(phone_card).to_be_visible()
    expect(phone_card.get_by_test_id("ack")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "guard-console-phone")

    # Acknowledge: the state changes everywhere (the phone sees it over its own socket).
    card.get_by_test_id("ack").click()
    expect(card).to_have_attribute("data-state", "acknowledged")
    expect(card.get_by_test_id("ack")).to_be_hidden()
    expect(phone_card).to_have_attribute("data-state", "acknowledged")
    assert station.app.state.alerts.store.get(alert_id).acknowledged_by == "guard"

    # The alarm stops once nothing waits any more.
    acknowledge_everything(page)
    expect(page.locator("body")).to_have_attribute("data-alarm", "off")
    expect(page.locator("#flash")).to_be_hidden()

    # Resolve: one click opens the form, the second confirms.
    card.get_by_test_id("resolve").click()
    expect(card.get_by_test_id("resolve-form")).to_be_visible()
    expect(card.get_by_test_id("disposition")).to_be_focused()
    card.get_by_test_id("disposition").select_option("real_incident")
    card.get_by_test_id("note").fill("helped him up, nurse called")
    card.get_by_test_id("confirm-resolve").click()
    expect(card).to_have_count(0)
    resolved = page.locator(f'[data-testid="resolved-card"][data-alert-id="{alert_id}"]')
    expect(resolved).to_have_count(1)
    page.get_by_test_id("resolved").locator("summary").click()
    expect(resolved).to_contain_text("Real incident")
    expect(phone.locator(f'[data-testid="alert-card"][data-alert-id="{alert_id}"]')).to_have_count(
        0
    )
    stored = station.app.state.alerts.store.get(alert_id)
    assert (stored.state, stored.disposition, stored.resolved_by, stored.note) == (
        "resolved",
        "real_incident",
        "guard",
        "helped him up, nurse called",
    )


def test_the_feed_reconnects_and_resumes_from_the_last_change_seen(
    page_as: PageAs, station: Station
) -> None:
    page = page_as("guard")
    sockets: list[Any] = []

    def through(ws: Any) -> None:  # pass the console's socket through, keeping hold of it
        sockets.append(ws)
        ws.connect_to_server()

    page.route_web_socket("**/api/alerts/ws*", through)
    page.get_by_test_id("nav-live").click()
    status = page.get_by_test_id("ws-status")
    open_console(page)
    # The newest socket is this console's (the one the sign-in landed on may be routed too).
    current = sockets[-1]
    seq = status.get_attribute("data-seq")
    # it connected from the cursor it had loaded; live changes may have moved it on since
    assert "/api/alerts/ws?since=" in current.url
    assert int(current.url.rsplit("=", 1)[1]) <= int(seq)

    current.close(code=1011, reason="network gone")
    expect(status).to_have_attribute("data-state", "offline")
    expect(status).to_contain_text("Connection lost")
    seen = status.get_attribute("data-seq")
    expect(status).to_have_attribute("data-state", "live", timeout=10_000)
    after = sockets[sockets.index(current) + 1 :]
    assert [w.url.split("/api/")[1] for w in after] == [f"alerts/ws?since={seen}"]
    assert int(seen) >= int(seq)


def test_live_wall_streams_the_demo_camera_and_enlarges_it(
    page_as: PageAs, station: Station
) -> None:
    page = page_as("guard")  # lands on the console, which may be ringing
    page.get_by_test_id("nav-live").click()
    # Leaving the console silences it, even when its first load finishes after leaving.
    page.wait_for_timeout(1000)
    expect(page.locator("body")).to_have_attribute("data-alarm", "off")
    expect(page.locator("#flash")).to_be_hidden()
    tile = page.locator('[data-testid="live-tile"][data-camera="demo"]')
    expect(tile).to_be_visible()
    img = tile.get_by_test_id("live-img")
    expect(img).to_have_attribute("src", "/api/cameras/demo/stream.mjpg?overlay=1")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=img.element_handle(), timeout=30_000
    )
    shot(page, "live")

    toggle = page.get_by_test_id("overlay-toggle")
    toggle.uncheck()
    expect(img).to_have_attribute("src", "/api/cameras/demo/stream.mjpg?overlay=0")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=img.element_handle(), timeout=30_000
    )

    # Click enlarges; Escape closes; Enter on the focused tile enlarges again.
    tile.click()
    big = page.get_by_test_id("enlarged")
    expect(big).to_be_visible()
    big_img = big.locator("img")
    expect(big_img).to_have_attribute("src", "/api/cameras/demo/stream.mjpg?overlay=0")
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=big_img.element_handle(), timeout=30_000
    )
    assert img.get_attribute("src") is None  # one stream per camera at a time
    page.keyboard.press("Escape")
    expect(big).to_be_hidden()
    expect(tile).to_be_focused()
    expect(img).to_have_attribute("src", "/api/cameras/demo/stream.mjpg?overlay=0")
    page.keyboard.press("Enter")
    expect(big).to_be_visible()
    page.get_by_test_id("close-enlarged").click()
    expect(big).to_be_hidden()
    toggle.check()

    # Leaving the page stops every stream.
    page.get_by_test_id("nav-alerts").click()
    expect(page.get_by_test_id("live-tile")).to_have_count(0)
    page.wait_for_timeout(500)
    assert (
        page.evaluate(
            "[...document.images].filter(i => (i.currentSrc || '').includes('stream.mjpg')).length"
        )
        == 0
    )


def test_new_alert_is_announced_on_other_pages(page_as: PageAs, station: Station) -> None:
    """A guard watching the live wall still learns of a new alert: a banner links back."""
    from tests.alerts.builders import T0, event

    page = page_as("guard")
    page.get_by_test_id("nav-live").click()
    page.wait_for_timeout(4500)  # the watcher's first look records what is already open
    zone = f"watch-{time.time_ns()}"  # a zone of its own: a new incident, never merged
    change = station.app.state.alerts.handle(
        event("restricted_entry", time.time() - T0, camera="demo", tracks=(901,), zone=zone)
    )
    assert change is not None and change.action == "created"
    banner = page.get_by_test_id("watch-banner")
    expect(banner).to_be_visible(timeout=15_000)
    page.get_by_test_id("watch-open").click()
    expect(page.get_by_test_id("alert-card").first).to_be_visible()
