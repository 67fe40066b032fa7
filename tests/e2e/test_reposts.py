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


def status(x, path: str):
    link = f'> [data-testid="User-Name"] a[href="{path}"]'
    return x.page.locator(f'article[data-testid="tweet"]:has({link})')


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


def test_a_repost_of_a_post_quoting_a_pupils_name_is_held(launch) -> None:
    # A council post quoting a parent's post: the quoted text goes out with the
    # repost, so it is checked, under the council's name (the allow-list's account).
    x = launch()
    x.page.goto("https://x.com/home?timeline=quotes")
    repost(x, "Lovely to see this")
    item = x.page.locator(f'{MENU_PANEL} li[data-rule="names.full-name"]')
    expect(item).to_have_attribute("data-field", "source")
    expect(item).to_have_attribute("data-span", NAMES_PUPIL)
    expect(item).to_contain_text("(@SomeCouncil)")
    x.page.keyboard.press("Escape")

    # A post with only a photo of its own: the quoted text is still read, and the
    # author is still the post's own.
    photo_only = status(x, "/OtherSchool/status/1005")
    expect(photo_only.locator('[data-testid="tweetText"]')).to_have_count(1)  # the quoted post's
    photo_only.locator('[data-testid="retweet"]').click()
    x.page.locator('[data-testid="retweetConfirm"]').click()
    item = x.page.locator(f'{MENU_PANEL} li[data-rule="names.full-name"]')
    expect(item).to_contain_text("(@OtherSchool)")
    assert x.site.reposts == []


def test_the_t_key_reposts_the_focused_post_and_that_post_is_checked(launch) -> None:
    # The trap of "the post clicked last": Repost opened on a harmless post and
    # closed, then X's `t` shortcut on the post naming a pupil.
    x = launch()
    x.page.goto("https://x.com/home")
    x.page.locator('article[data-testid="tweet"]', has_text=HARMLESS).locator(
        '[data-testid="retweet"]'
    ).click()
    x.page.keyboard.press("Escape")
    expect(x.page.locator('[role="menu"]')).to_have_count(0)
    x.page.locator('article[data-testid="tweet"]', has_text=NAMES_PUPIL).focus()
    x.page.keyboard.press("t")
    x.page.locator('[data-testid="retweetConfirm"]').click()
    item = x.page.locator(f'{MENU_PANEL} li[data-rule="names.full-name"]')
    expect(item).to_contain_text("The post being reposted: (@ProudParent22)")
    assert x.site.reposts == []

    # The same shortcut on a harmless post lets it out.
    x.page.keyboard.press("Escape")
    x.page.locator('article[data-testid="tweet"]', has_text=HARMLESS).focus()
    x.page.keyboard.press("t")
    x.page.locator('[data-testid="retweetConfirm"]').click()
    assert [r["tweet_id"] for r in x.site.wait_for_reposts(1)] == ["1002"]


def test_a_menu_whose_post_cannot_be_told_holds_the_repost(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    repost_buttons = x.page.locator('[data-testid="retweet"]')
    repost_buttons.nth(1).click()
    # Two posts marked as the menu's opener: tweetguard cannot be sure which it is for.
    repost_buttons.nth(2).evaluate("b => b.setAttribute('aria-expanded', 'true')")
    x.page.locator('[data-testid="retweetConfirm"]').click()
    expect(x.page.locator(MENU_PANEL)).to_contain_text("cannot tell which post this Repost menu")
    assert x.site.reposts == []
