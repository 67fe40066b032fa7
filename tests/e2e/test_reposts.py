"""Reposts and quotes: the post being reposted is checked before it goes out."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.test_compose import PANEL, type_post
from tests.e2e.test_logout import LOGIN, signed_in

DIALOG = '[role="dialog"]'
MENU_PANEL = f'[role="menu"] {PANEL}'
NAMES_PUPIL = "Amelia Thornbury"  # in ProudParent22's post (status 1001)
HARMLESS = "Libraries are open late"  # SomeCouncil's post (status 1002)
OTHER_SCHOOL = "Our choir sang"  # OtherSchool's post (status 1003)


def repost(x, text: str) -> None:
    article = x.page.locator('article[data-testid="tweet"]', has_text=text)
    article.locator('[data-testid="retweet"]').click()
    x.page.locator('[data-testid="retweetConfirm"]').click()


def test_a_repost_of_a_post_naming_a_pupil_is_held(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    repost(x, NAMES_PUPIL)
    panel = x.page.locator(MENU_PANEL)
    expect(panel).to_contain_text("tweetguard held this post")
    item = panel.locator('li[data-rule="names.full-name"]')
    expect(item).to_have_attribute("data-field", "source")
    expect(item).to_have_attribute("data-span", NAMES_PUPIL)
    expect(item).to_contain_text("The post being reposted: (@ProudParent22)")
    assert x.site.reposts == []
    # Pressing Repost again is held again: nothing was let through.
    x.page.locator('[data-testid="retweetConfirm"]').click()
    expect(panel).to_contain_text("tweetguard held this post")
    assert x.site.reposts == []


def test_a_harmless_repost_goes_out_and_signs_out(launch) -> None:
    # The false-alarm trap: an ordinary post from the council is reposted at once,
    # and a repost is a post: the browser is signed out after it.
    x = launch("logout_after_post = true")
    x.page.goto("https://x.com/home")
    repost(x, HARMLESS)
    assert [r["tweet_id"] for r in x.site.wait_for_reposts(1)] == ["1002"]
    expect(x.page).to_have_url(LOGIN)
    assert not signed_in(x)


def test_the_intent_prompt_is_held_too(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/intent/retweet?tweet_id=1001")
    x.page.locator('[data-testid="confirmationSheetConfirm"]').click()
    panel = x.page.locator(f'[data-testid="sheetDialog"] {PANEL}')
    expect(panel).to_contain_text("tweetguard held this post")
    expect(panel.locator('li[data-field="source"]')).to_have_count(1)
    assert x.site.reposts == []

    x.page.goto("https://x.com/intent/retweet?tweet_id=1002")
    x.page.locator('[data-testid="confirmationSheetConfirm"]').click()
    assert [r["tweet_id"] for r in x.site.wait_for_reposts(1)] == ["1002"]


def test_a_quote_of_a_post_naming_a_pupil_is_held(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    article = x.page.locator('article[data-testid="tweet"]', has_text=NAMES_PUPIL)
    article.locator('[data-testid="retweet"]').click()
    x.page.locator('[data-testid="quote"]').click()
    dialog = x.page.locator(DIALOG)
    expect(dialog.locator('[data-testid="quoteTweet"]')).to_contain_text(NAMES_PUPIL)
    type_post(x.page, "Congratulations!", box=f'{DIALOG} [data-testid="tweetTextarea_0"]')
    dialog.locator('[data-testid="tweetButton"]').click()
    item = dialog.locator(f'{PANEL} li[data-field="source"]')
    expect(item).to_contain_text("The quoted post: (@ProudParent22)")
    assert x.site.posts == []


def test_a_quote_of_a_harmless_post_goes_out(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    article = x.page.locator('article[data-testid="tweet"]', has_text=HARMLESS)
    article.locator('[data-testid="retweet"]').click()
    x.page.locator('[data-testid="quote"]').click()
    dialog = x.page.locator(DIALOG)
    type_post(x.page, "Do come along!", box=f'{DIALOG} [data-testid="tweetTextarea_0"]')
    dialog.locator('[data-testid="tweetButton"]').click()
    assert [p["text"] for p in x.site.wait_for_posts(1)] == ["Do come along!"]


def listed_reposts(home: Path) -> None:
    policy = home / "policy.toml"
    table = '\n[reposts]\nallow = "listed"\nfrom = ["SomeCouncil"]\n'
    policy.write_text(policy.read_text() + table)


def test_reposts_only_from_listed_accounts(launch) -> None:
    x = launch(before=listed_reposts)
    x.page.goto("https://x.com/home")
    repost(x, OTHER_SCHOOL)  # a harmless post, but not from a listed account
    expect(x.page.locator(MENU_PANEL)).to_contain_text("tweetguard held this post")
    assert x.site.reposts == []
    x.page.goto("https://x.com/home")
    repost(x, HARMLESS)  # SomeCouncil is listed
    assert [r["tweet_id"] for r in x.site.wait_for_reposts(1)] == ["1002"]
