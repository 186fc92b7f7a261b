"""The tuning page in a real browser: an operator changes a threshold, tries it with "what if",
applies it as a new version, restores the old one, and draws zones over the demo camera's
picture (by clicking and by typing corners). Guards are kept out. Everything changed on the
shared station is put back (as new versions: history is never rewritten)."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect

from tests.web.conftest import PageAs, Station, shot

pytestmark = pytest.mark.slow

CAMERA = "demo"
CONFIRM = "setting-fall.confirm_down_s"
NUMBER = re.compile(r"^\d+$")


def get(page: Any, path: str) -> Any:
    """GET an API path with the page's session (the browser's own fetch)."""
    return page.evaluate(
        """async (path) => {
            const r = await fetch(path, {credentials: "same-origin"});
            if (!r.ok) throw new Error(`${path}: ${r.status}`);
            return r.json();
        }""",
        path,
    )


def restore(page: Any, version: int) -> None:
    page.evaluate(
        """async ([path]) => {
            const r = await fetch(path, {method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json"}, body: "{}"});
            if (!r.ok) throw new Error(`${path}: ${r.status}`);
        }""",
        [f"/api/cameras/{CAMERA}/profiles/{version}/restore"],
    )


def active(page: Any) -> dict[str, Any]:
    return dict(get(page, f"/api/cameras/{CAMERA}/profile"))


def test_operator_tunes_a_threshold_tries_it_applies_and_restores(
    page_as: PageAs, station: Station
) -> None:
    page = page_as("operator")
    page.get_by_test_id("nav-tuning").click()
    page.goto(f"{station.url}/#/tuning?camera={CAMERA}")
    original = active(page)
    before = original["document"]["behaviours"]["fall"]["confirm_down_s"]
    proposed = round(before + 0.2, 2)  # a small change: the shared demo should still alert
    try:
        field = page.get_by_test_id(CONFIRM)
        expect(field).to_have_value(str(before))
        expect(page.get_by_test_id("tuning-camera")).to_have_value(CAMERA)
        expect(page.locator("label[for='tun-set-fall-confirm_down_s']")).to_contain_text("(s)")
        expect(page.locator("#tun-set-fall-confirm_down_s-desc")).to_contain_text("stay down")
        field.fill(str(proposed))
        expect(page.get_by_test_id("changed-count")).to_contain_text("1 setting")
        expect(page.get_by_test_id("changed-fall")).to_have_text("1")

        page.get_by_test_id("whatif").click()
        result = page.get_by_test_id("whatif-result")
        expect(result).to_be_visible(timeout=60_000)
        expect(result.get_by_test_id("whatif-labelled")).to_contain_text("labelled alert")
        expect(result).to_contain_text("Real incidents missed")
        for key in ("caught", "missed", "false_alarms", "quiet_on_false"):
            expect(result.get_by_test_id(f"whatif-{key}-before")).to_have_text(NUMBER)
            expect(result.get_by_test_id(f"whatif-{key}-after")).to_have_text(NUMBER)
        page.evaluate("() => window.scrollTo(0, 0)")
        shot(page, "tuning")

        field.fill("31")  # above the maximum: named, nothing sent
        page.get_by_test_id("apply").click()
        expect(page.get_by_test_id("settings-error")).to_contain_text("Confirm time on the floor")
        field.fill(str(proposed))
        page.get_by_test_id("apply-comment").fill("browser test: a little slower")
        page.get_by_test_id("apply").click()
        original_version = original["version"]
        expect(page.get_by_test_id("active-version")).not_to_have_text(
            f"Active version {original_version}"
        )
        now = active(page)
        assert now["document"]["behaviours"]["fall"]["confirm_down_s"] == proposed
        assert now["comment"] == "browser test: a little slower" and now["created_by"] == "operator"
        row = page.get_by_test_id(f"version-{now['version']}")
        expect(row).to_contain_text(f"fall.confirm_down_s: {before} → {proposed}")
        expect(row).to_contain_text("active")
        expect(field).to_have_value(str(proposed))
        expect(page.get_by_test_id("changed-count")).to_have_text("No changes yet")

        page.get_by_test_id(f"restore-{original_version}").click()
        expect(page.get_by_test_id(f"version-{now['version'] + 1}")).to_contain_text(
            f"restored from version {original_version}"
        )
        expect(field).to_have_value(str(before))
        expect(page.get_by_test_id("history")).not_to_contain_text("null")
        assert active(page)["document"] == original["document"]
    finally:
        if active(page)["document"] != original["document"] and original["version"]:
            restore(page, original["version"])


def test_operator_tunes_the_fight_classifier_threshold(page_as: PageAs, station: Station) -> None:
    """A learned classifier's settings are a nested section (`fight.model`): shown as their own
    rows with the behaviour's defaults, sent as a nested partial document."""
    page = page_as("operator")
    page.goto(f"{station.url}/#/tuning?camera={CAMERA}")
    original = active(page)
    model = original["document"]["behaviours"]["fight"]["model"]
    try:
        page.get_by_test_id("behaviour-fight").locator("summary").click()
        field = page.get_by_test_id("setting-fight.model.threshold")
        expect(field).to_have_value(str(model["threshold"]))
        expect(page.locator("#tun-set-fight-model-threshold-desc")).to_contain_text("default 0.3")
        expect(page.get_by_test_id("setting-fall.model.threshold")).to_be_visible()
        field.fill("0.45")
        expect(page.get_by_test_id("changed-fight")).to_have_text("1")
        page.get_by_test_id("apply-comment").fill("browser test: classifier threshold")
        page.get_by_test_id("apply").click()
        expect(page.get_by_test_id("active-version")).not_to_have_text(
            f"Active version {original['version']}"
        )
        now = active(page)
        assert now["document"]["behaviours"]["fight"]["model"] == {**model, "threshold": 0.45}
        expect(page.get_by_test_id(f"version-{now['version']}")).to_contain_text(
            "fight.model.threshold"
        )
    finally:
        if active(page)["document"] != original["document"] and original["version"]:
            restore(page, original["version"])


def test_operator_draws_and_deletes_zones(page_as: PageAs, station: Station) -> None:
    page = page_as("operator")
    page.goto(f"{station.url}/#/tuning?camera={CAMERA}")
    original = active(page)
    clicked, typed = f"test corner {secrets.token_hex(2)}", f"test typed {secrets.token_hex(2)}"
    try:
        editor = page.get_by_test_id("zone-editor")
        canvas = editor.get_by_test_id("zone-canvas")
        expect(canvas).to_be_visible()
        expect(canvas).to_have_attribute("data-picture", "loaded")  # the picture, at its size
        box = canvas.bounding_box()
        assert box is not None
        corners = [(0.02, 0.02), (0.12, 0.02), (0.12, 0.1), (0.02, 0.1)]
        for x, y in corners:
            canvas.click(position={"x": x * box["width"], "y": y * box["height"]})
        points = editor.get_by_test_id("zone-points")
        expect(points).to_have_value(re.compile(r"^(\S+,\S+ ){3}\S+,\S+$"))
        editor.get_by_test_id("zone-name").fill(clicked)
        editor.get_by_test_id("zone-type").select_option("other")  # no rule fires in "other"
        editor.get_by_test_id("save-zone").click()
        expect(editor.get_by_test_id(f"delete-zone-{clicked}")).to_be_visible()
        zones = {z["name"]: z for z in get(page, f"/api/cameras/{CAMERA}/zones")["zones"]}
        polygon = zones[clicked]["polygon"]
        assert zones[clicked]["type"] == "other" and len(polygon) == 4
        for (x, y), (want_x, want_y) in zip(polygon, corners, strict=True):
            assert abs(x - want_x) < 0.01 and abs(y - want_y) < 0.01, polygon
        expect(points).to_have_value("")

        # The keyboard way: corners typed, a dwell limit and a night window.
        points.fill("0.85,0.02 0.98,0.02 0.98,0.1")
        editor.get_by_test_id("zone-name").fill(typed)
        editor.get_by_test_id("zone-type").select_option("other")
        editor.get_by_test_id("zone-dwell").fill("600")
        editor.get_by_test_id("zone-night-start").fill("23:00")
        editor.get_by_test_id("zone-night-end").fill("05:00")
        editor.get_by_test_id("save-zone").click()
        expect(editor.get_by_test_id(f"zone-{typed}")).to_contain_text("23:00–05:00")
        zone = {z["name"]: z for z in get(page, f"/api/cameras/{CAMERA}/zones")["zones"]}[typed]
        assert zone["polygon"] == [[0.85, 0.02], [0.98, 0.02], [0.98, 0.1]]
        assert zone["dwell_limit_s"] == 600
        assert zone["night"] == [{"start": "23:00", "end": "05:00"}]
        shot(page, "tuning-zones")

        points.fill("0.1,0.1 2,0.1 0.2,0.2")  # outside the picture: said, not saved
        expect(editor.get_by_test_id("zone-error")).to_contain_text("between 0 and 1")

        for name in (clicked, typed):
            editor.get_by_test_id(f"delete-zone-{name}").click()
            expect(editor.get_by_test_id(f"zone-{name}")).to_have_count(0)
        names = [z["name"] for z in get(page, f"/api/cameras/{CAMERA}/zones")["zones"]]
        assert clicked not in names and typed not in names
        assert active(page)["document"] == original["document"]
    finally:
        if active(page)["document"] != original["document"] and original["version"]:
            restore(page, original["version"])


def black_share(page: Any, url: str, box: tuple[float, float, float, float]) -> float:
    """The share of near-black pixels of the live picture (no overlay) inside the relative
    `box` (x1, y1, x2, y2), fetched with the page's session."""
    r = page.request.get(f"{url}/api/cameras/{CAMERA}/snapshot.jpg?overlay=0")
    assert r.ok, r.status
    image = cv2.imdecode(np.frombuffer(r.body(), np.uint8), cv2.IMREAD_GRAYSCALE)
    h, w = image.shape
    x1, y1, x2, y2 = box
    inside = image[int(y1 * h) + 2 : int(y2 * h) - 2, int(x1 * w) + 2 : int(x2 * w) - 2]
    return float((inside <= 10).mean())


def test_admin_draws_a_privacy_mask_that_blacks_out_the_live_view(
    page_as: PageAs, station: Station
) -> None:
    """Masks are drawn in the zone editor by admins only, black in the live view from the next
    frame, and deleted the same way."""
    operator = page_as("operator")
    operator.goto(f"{station.url}/#/tuning?camera={CAMERA}")
    options = operator.get_by_test_id("zone-type").locator("option")
    expect(options.first).to_be_attached()
    assert "mask" not in options.evaluate_all("(xs) => xs.map((x) => x.value)")

    page = page_as("admin")
    page.goto(f"{station.url}/#/tuning?camera={CAMERA}")
    original = active(page)
    name = f"test mask {secrets.token_hex(2)}"
    box = (0.6, 0.05, 0.95, 0.4)
    try:
        editor = page.get_by_test_id("zone-editor")
        expect(editor.get_by_test_id("zone-canvas")).to_have_attribute("data-picture", "loaded")
        assert black_share(page, station.url, box) < 0.5, (
            "the demo picture is not black there already"
        )
        editor.get_by_test_id("zone-type").select_option("mask")
        expect(editor.get_by_test_id("zone-dwell")).to_be_hidden()
        expect(editor.get_by_test_id("mask-detect")).to_be_checked()
        x1, y1, x2, y2 = box
        editor.get_by_test_id("zone-points").fill(f"{x1},{y1} {x2},{y1} {x2},{y2} {x1},{y2}")
        editor.get_by_test_id("zone-name").fill(name)
        editor.get_by_test_id("save-zone").click()
        expect(editor.get_by_test_id(f"mask-{name}")).to_contain_text("detection sees it")
        masks = get(page, f"/api/cameras/{CAMERA}/masks")["masks"]
        assert [m["name"] for m in masks] == [name] and masks[0]["detect"] is True
        for _ in range(50):  # the next analysed frame carries the mask
            if black_share(page, station.url, box) > 0.99:
                break
            page.wait_for_timeout(200)
        assert black_share(page, station.url, box) > 0.99
        shot(page, "tuning-mask")

        editor.get_by_test_id(f"delete-mask-{name}").click()
        expect(editor.get_by_test_id(f"mask-{name}")).to_have_count(0)
        assert get(page, f"/api/cameras/{CAMERA}/masks")["masks"] == []
        assert active(page)["document"] == original["document"]
    finally:
        if active(page)["document"] != original["document"] and original["version"]:
            restore(page, original["version"])


def test_phone_layout_in_chinese(page_as: PageAs, station: Station) -> None:
    page = page_as("operator", viewport={"width": 390, "height": 844}, locale="zh-CN")
    page.goto(f"{station.url}/#/tuning?camera={CAMERA}")
    label = page.locator("label[for='tun-set-fall-confirm_down_s']")
    expect(label).to_contain_text("倒地确认时间")
    expect(label).to_contain_text("秒")
    expect(page.get_by_test_id("whatif")).to_have_text("假设检验")
    expect(page.get_by_test_id("save-zone")).to_have_text("保存区域")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
    shot(page, "tuning-phone")


def test_guards_see_the_forbidden_panel(page_as: PageAs, station: Station) -> None:
    page = page_as("guard")
    expect(page.get_by_test_id("nav-tuning")).to_have_count(0)
    page.goto(f"{station.url}/#/tuning?camera={CAMERA}")
    expect(page.get_by_test_id("forbidden")).to_be_visible()
    expect(page.get_by_test_id("tuning")).to_have_count(0)
    r = page.evaluate(
        """async () => (await fetch("/api/cameras/demo/whatif", {method: "POST",
            headers: {"Content-Type": "application/json"}, body: "{}"})).status"""
    )
    assert r == 403
    schema = get(page, "/api/behaviours/schema")  # reading the settings' schema is fine
    assert json.dumps(schema).count("confirm_down_s") >= 1
