"""The right account: approved ones post, others are held, unknown ones too."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.test_compose import PANEL, type_post


def test_an_unapproved_account_is_held_naming_both(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home?as=MsJonesPersonal&uid=42")
    type_post(x.page, "Lovely weather for sports day")
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    panel = x.page.locator(PANEL)
    expect(panel).to_contain_text("You are signed in as @MsJonesPersonal")
    expect(panel).to_contain_text("Switch to @OakfieldPrimary")
    assert x.site.posts == []


def test_an_account_that_cannot_be_read_is_held(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home?as=none")
    type_post(x.page, "Lovely weather for sports day")
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    expect(x.page.locator(PANEL)).to_contain_text("cannot tell which X account is signed in")
    assert x.site.posts == []


def test_the_account_is_confirmed_once_per_session_when_policy_asks(launch) -> None:
    x = launch("logout_after_post = false\nconfirm_account = true")
    x.page.goto("https://x.com/home")
    type_post(x.page, "Lovely weather for sports day")
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    panel = x.page.locator(PANEL)
    expect(panel).to_contain_text(
        "Posting as @OakfieldPrimary (public). Is that the right account?"
    )
    assert x.site.posts == []
    panel.get_by_role("button", name="Yes, post as @OakfieldPrimary").click()
    x.site.wait_for_posts(1)
    type_post(x.page, "And a lovely picnic")
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    assert [p["text"] for p in x.site.wait_for_posts(2)][1] == "And a lovely picnic"
