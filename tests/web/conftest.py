"""The console in a real browser: the whole service (real model, the demo camera, alerts,
database) served by uvicorn on loopback, and Debian's Chromium driven by Playwright.

    def test_something(page_as: PageAs, station: Station) -> None:
        page = page_as("guard")          # signed in through the login form
        page.get_by_test_id("nav-alerts").click()
        shot(page, "guard-console")      # docs/screenshots/guard-console.png

One station serves the whole test session (the demo plays in a loop: a fall at about 12.5 s, a
fight at 14-19 s and pacing from 24 s of each 51 s loop), so tests must not assume an empty
database. Users `admin`, `operator` and `guard` exist with password `PASSWORD`.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from api.config import parse_config
from api.security import create_user
from api.service import build_app
from tests.api.conftest import PASSWORD
from tests.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ROLES = ("admin", "operator", "guard")


@dataclass
class Station:
    url: str
    app: FastAPI
    data_dir: Path


@pytest.fixture(scope="session")
def station(
    tmp_path_factory: pytest.TempPathFactory, demo_video: tuple[Path, Any]
) -> Iterator[Station]:
    video, _ = demo_video
    data = tmp_path_factory.mktemp("station") / "data"
    data.mkdir()
    shutil.copy(video, data / "demo.mp4")
    shutil.copy(video.with_suffix(".json"), data / "demo.json")
    config = parse_config(
        {
            "model": {"input_size": 320},
            "server": {"data_dir": str(data)},
            "cameras": [
                {"id": "demo", "name": "Room 3 (demo)", "source": "demo", "loop": True},
            ],
        },
        "web tests",
    )
    app = build_app(config, data)
    with app.state.sessions() as db:
        for role in ROLES:
            create_user(db, role, PASSWORD, role, display_name=role.title())  # type: ignore[arg-type]
        db.commit()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    yield Station(f"http://127.0.0.1:{port}", app, data)
    server.should_exit = True
    thread.join(30)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


PageAs = Callable[..., Any]


@pytest.fixture
def page_as(browser: Any, station: Station) -> Iterator[PageAs]:
    """Open the console signed in as `role` (via the login form) in a fresh browser context;
    `viewport` and `locale` may be given (default a 1366x800 desk monitor in English)."""
    contexts: list[Any] = []

    def open_as(
        role: str | None,
        *,
        viewport: dict[str, int] | None = None,
        locale: str = "en-US",
    ) -> Any:
        context = browser.new_context(
            viewport=viewport or {"width": 1366, "height": 800}, locale=locale
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(station.url + "/")
        if role is not None:
            page.get_by_test_id("username").fill(role)
            page.get_by_test_id("password").fill(PASSWORD)
            page.get_by_test_id("sign-in").click()
            page.get_by_test_id("logout").wait_for()
        return page

    yield open_as
    for context in contexts:
        context.close()


def shot(page: Any, name: str) -> None:
    """Keep a screenshot of the page in docs/screenshots (shown in the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def wait_for_alert(station: Station, kind: str = "fall", timeout_s: float = 90) -> dict[str, Any]:
    """The first stored alert of `kind` (the demo raises one per loop), waiting for it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = station.app.state.alerts.store.find(kind=kind, limit=1)
        if found:
            return dict(found[0].to_dict())
        time.sleep(0.5)
    raise AssertionError(f"no {kind} alert within {timeout_s} s")
