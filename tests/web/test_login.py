"""Signing in and out in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import PageAs, Station, shot

pytestmark = pytest.mark.slow


def test_login_page_then_each_role_signs_in(page_as: PageAs, station: Station) -> None:
    page = page_as(None)
    page.get_by_test_id("login-form").wait_for()
    shot(page, "login")
    page.get_by_test_id("username").fill("guard")
    page.get_by_test_id("password").fill("wrong password!")
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("wrong user name or password")
    for role in ("guard", "operator", "admin"):
        signed_in = page_as(role)
        expect(signed_in.get_by_test_id("who")).to_contain_text(role)
    signed_in.get_by_test_id("logout").click()
    signed_in.get_by_test_id("login-form").wait_for()


def test_language_follows_the_browser_and_can_be_switched(page_as: PageAs) -> None:
    page = page_as(None, locale="zh-CN")
    expect(page.get_by_test_id("sign-in")).to_have_text("登录")
    page.get_by_test_id("lang").select_option("en")
    expect(page.get_by_test_id("sign-in")).to_have_text("Sign in")
