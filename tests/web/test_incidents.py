"""Incident review in a real browser: a demo fall's clip plays with the skeleton overlay drawn
from clip.json, the detection is marked and can be jumped to, the evidence is explained in
words, alerts are labelled with a disposition, and only admins get the export."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.conftest import PageAs, Station, shot, wait_for_alert

pytestmark = pytest.mark.slow

OPAQUE_PIXELS = """c => {
  const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n += 1;
  return n;
}"""


def alert_with_clip(station: Station, kind: str = "fall", timeout_s: float = 90) -> dict[str, Any]:
    """The first `kind` alert, once its clip is attached (a few seconds after detection)."""
    alert = wait_for_alert(station, kind, timeout_s)
    store = station.app.state.alerts.store
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        stored = store.get(alert["id"])
        if stored is not None and stored.clip:
            return dict(stored.to_dict())
        time.sleep(0.5)
    raise AssertionError(f"alert {alert['id']} got no clip within {timeout_s} s")


def open_incident(page: Any, alert_id: str) -> None:
    page.get_by_test_id("nav-incidents").click()
    page.evaluate("id => { location.hash = '#/incidents?id=' + id; }", alert_id)
    expect(page.get_by_test_id("incident-title")).to_be_visible()


def test_clip_plays_with_overlay_and_jumps_to_detection(page_as: PageAs, station: Station) -> None:
    alert = alert_with_clip(station)
    page = page_as("guard")
    open_incident(page, alert["id"])
    detail = page.get_by_test_id("incident-detail")
    expect(detail.get_by_test_id("incident-title")).to_have_text("Fall")
    expect(detail).not_to_contain_text("null")
    expect(detail).not_to_contain_text("undefined")
    expect(
        page.locator(f'[data-testid="incident-row"][data-alert-id="{alert["id"]}"]')
    ).to_have_class("selected")

    video = page.get_by_test_id("clip")
    expect(video).to_be_visible()
    assert video.get_attribute("src", timeout=1000).startswith(
        f"/api/alerts/{alert['id']}/clip.mp4"
    )
    page.wait_for_function(
        "v => v.readyState >= 2 && v.duration > 0", arg=video.element_handle(), timeout=30_000
    )
    meta = page.evaluate(
        "id => fetch(`/api/alerts/${id}/clip.json`).then(r => r.json())", alert["id"]
    )

    # Jump to detection: the video stands at the marked moment, the overlay draws the people.
    expect(page.get_by_test_id("detection-marker")).to_be_visible()
    page.get_by_test_id("jump-detection").click()
    page.wait_for_function("v => !v.seeking && v.readyState >= 2", arg=video.element_handle())
    now = video.evaluate("v => v.currentTime")
    duration = video.evaluate("v => v.duration")
    assert abs(now - min(max(meta["detected_offset_s"], 0), duration)) < 0.25
    canvas = page.get_by_test_id("clip-overlay")
    page.wait_for_function(f"c => ({OPAQUE_PIXELS})(c) > 0", arg=canvas.element_handle())
    assert canvas.evaluate(OPAQUE_PIXELS) > 50

    # Why it fired, in words, with the thresholds it was held against.
    why = detail.locator("section.why")
    expect(why).to_contain_text("Torso angle from upright")
    expect(why).to_contain_text("Thresholds in force")
    expect(why.locator('[data-key="cues"]')).to_contain_text("fast drop")
    expect(detail.get_by_test_id("history").locator('[data-action="created"]')).to_have_count(1)
    expect(detail.get_by_test_id("history").locator('[data-action="evidence"]')).to_have_count(1)
    page.wait_for_function("v => v.readyState >= 3", arg=video.element_handle())
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(500)  # let the player's own controls settle for the picture
    shot(page, "incident")

    # The overlay switches off: nothing drawn.
    page.get_by_test_id("overlay").uncheck()
    expect(canvas).to_be_hidden()
    assert canvas.evaluate(OPAQUE_PIXELS) == 0
    page.get_by_test_id("overlay").check()
    expect(canvas).to_be_visible()

    # A guard reviews but does not export.
    expect(page.get_by_test_id("export")).to_have_count(0)


def test_filters_labelling_and_export_for_admins(page_as: PageAs, station: Station) -> None:
    fall = alert_with_clip(station)
    page = page_as("guard")
    page.get_by_test_id("nav-incidents").click()
    page.get_by_test_id("filter-kind").select_option("fall")
    page.get_by_test_id("apply-filters").click()
    rows = page.get_by_test_id("incident-row")
    expect(rows.first).to_have_attribute("data-kind", "fall")
    kinds = set(rows.evaluate_all("rs => rs.map(r => r.dataset.kind)"))
    assert kinds == {"fall"}
    expect(
        page.locator(f'[data-testid="incident-row"][data-alert-id="{fall["id"]}"]')
    ).to_have_count(1)

    # Label an alert that is still open (the demo keeps raising them).
    store = station.app.state.alerts.store
    deadline = time.monotonic() + 90
    target = None
    while target is None and time.monotonic() < deadline:
        target = next((a for a in store.find(limit=200) if a.open), None)
        if target is None:
            time.sleep(0.5)
    assert target is not None, "no open alert to label"
    page.get_by_test_id("reset-filters").click()
    open_incident(page, target.id)
    page.get_by_test_id("label-disposition").select_option("duplicate")
    page.get_by_test_id("label-note").fill("same incident as the one before")
    page.get_by_test_id("save-label").click()
    expect(page.get_by_test_id("labelled")).to_contain_text("Duplicate")
    stored = store.get(target.id)
    assert (stored.state, stored.disposition, stored.resolved_by) == (
        "resolved",
        "duplicate",
        "guard",
    )
    expect(page.get_by_test_id("save-label")).to_have_count(0)

    # Admins get the export, and it is the incident's ZIP.
    admin = page_as("admin")
    open_incident(admin, fall["id"])
    export = admin.get_by_test_id("export")
    expect(export).to_be_visible()
    href = export.get_attribute("href")
    assert href == f"/api/alerts/{fall['id']}/export.zip"
    reply = admin.request.get(station.url + href)
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/zip"
    assert reply.body()[:2] == b"PK"


def test_admin_opens_the_real_picture_of_a_skeleton_only_camera_with_a_reason(
    page_as: PageAs, station: Station
) -> None:
    import numpy as np

    from tests.alerts.builders import T0, event
    from tests.builders import standing_poses
    from vision.privacy import PrivacyConfig

    alerts = station.app.state.alerts
    camera = f"ward-{time.time_ns()}"
    alerts.set_privacy(camera, PrivacyConfig(skeleton_only=True))
    image = np.random.default_rng(3).integers(40, 220, (240, 320, 3), dtype=np.uint8)
    now = time.time()
    (change,) = alerts.observe(
        camera,
        now,
        image,
        standing_poses([(100, 40, 160, 220)]),
        [event("fall", now - T0, camera=camera)],
    )
    alert_id = change.alert.id

    guard = page_as("guard")
    open_incident(guard, alert_id)
    expect(guard.get_by_test_id("incident-title")).to_be_visible()
    expect(guard.get_by_test_id("open-real")).to_have_count(0)

    admin = page_as("admin")
    open_incident(admin, alert_id)
    admin.get_by_test_id("open-real").click()
    expect(admin.get_by_test_id("real-picture")).to_have_count(0)  # no reason, nothing opened
    admin.get_by_test_id("real-reason").fill("family asked what happened")
    admin.get_by_test_id("open-real").click()
    picture = admin.get_by_test_id("real-picture")
    admin.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
    )
    from sqlalchemy import select

    from api.tables.audit import AuditEntry

    with station.app.state.sessions() as db:
        reasons = [
            e.details["reason"]
            for e in db.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "evidence.open_real", AuditEntry.target_id == alert_id
                )
            )
        ]
    assert reasons == ["family asked what happened"]
