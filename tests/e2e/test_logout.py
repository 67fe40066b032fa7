"""Signing out of X: after a confirmed post, when idle, and from the popup."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.audit_events import events as audit_events
from tests.e2e.test_compose import type_post
from tweetguard import identity

LOGIN = re.compile(r"https://x\.com/i/flow/login")


def signed_in(x) -> bool:
    return any(c["name"] == "auth_token" for c in x.context.cookies("https://x.com"))


def events(x) -> list[dict]:
    """What the helper recorded (overrides, sign-outs, incidents, posts), oldest first."""
    return audit_events(x.home)


def test_logout_after_a_confirmed_post(launch) -> None:
    x = launch("logout_after_post = true")
    x.page.goto("https://x.com/home")
    x.page.evaluate("localStorage.setItem('x-draft', 'something')")
    assert signed_in(x)
    type_post(x.page, "Harvest festival donations are in the hall")
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    x.site.wait_for_posts(1)
    expect(x.page).to_have_url(LOGIN)
    expect(x.page.locator('[data-testid="loginPage"]')).to_be_visible()
    assert not signed_in(x)
    assert x.context.cookies("https://x.com") == []
    assert x.page.evaluate("localStorage.getItem('x-draft')") is None
    assert events(x)[-1]["event"] == "logout" and events(x)[-1]["reason"] == "after-post"
    # The post was recorded first, with its text's hash (before the sign-out).
    assert events(x)[-2]["event"] == "post" and len(events(x)[-2]["posts_sha256"]) == 1


def test_a_held_post_does_not_log_out(launch) -> None:
    x = launch("logout_after_post = true")
    x.page.goto("https://x.com/home")
    type_post(x.page, "Well done Amelia Thornbury")
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    expect(x.page.locator("[data-tweetguard-panel] section")).to_contain_text("held")
    assert signed_in(x)


def test_idle_logout(launch) -> None:
    x = launch("logout_after_post = true\nidle_logout_minutes = 0.05")  # three seconds
    x.page.goto("https://x.com/home")
    assert signed_in(x)
    expect(x.page).to_have_url(LOGIN, timeout=15_000)
    assert not signed_in(x)
    assert events(x)[-1]["reason"] == "idle"


def test_popup_shows_helper_account_and_idle_time(launch) -> None:
    x = launch("idle_logout_minutes = 30")
    x.page.goto("https://x.com/home")
    type_post(x.page, "hello")  # the extension sees the account with the first check
    expect(x.page.locator('[data-testid="tweetButtonInline"]')).to_be_enabled()
    popup = x.context.new_page()
    popup.goto(f"chrome-extension://{identity.CHROME_EXTENSION_ID}/src/popup/popup.html")
    expect(popup.locator("#helper")).to_contain_text("Running")
    expect(popup.locator("#school")).to_have_text("Your school")
    expect(popup.locator("#account")).to_have_text("@OakfieldPrimary")
    expect(popup.locator("#idle")).to_contain_text(re.compile(r"In (29|30) min"))
    popup.get_by_role("button", name="Sign out of X now").click()
    expect(x.page).to_have_url(LOGIN)
    assert not signed_in(x)
