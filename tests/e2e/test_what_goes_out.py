"""Everything that goes out with a post is checked (poll choices, the mobile
textarea's value), scheduling is checked like a post but does not sign out, and
composers X renames are still recognised by their structure."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.test_compose import PANEL, type_post
from tests.e2e.test_logout import LOGIN, events, signed_in

INLINE = '[data-testid="tweetButtonInline"]'


def add_poll(x, *choices: str) -> None:
    x.page.locator('[data-testid="createPollButton"]').click()
    for i, choice in enumerate(choices):
        if i >= 2:
            x.page.locator('[data-testid="addPollOption"]').click()
        x.page.locator(f'[data-testid="pollOption_{i}"]').fill(choice)


def test_a_poll_choice_naming_a_pupil_is_held(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    type_post(x.page, "Who should lead the harvest assembly?")
    add_poll(x, "Year 5", "Amelia Thornbury")
    x.page.locator(INLINE).click()
    item = x.page.locator(f'{PANEL} li[data-field="poll"]')
    expect(item).to_contain_text("Poll choice 2:")
    expect(item).to_have_attribute("data-span", "Amelia Thornbury")
    assert x.site.posts == []


def test_a_harmless_poll_posts(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    type_post(x.page, "What should we plant next spring?")
    add_poll(x, "Sunflowers", "Tulips", "Potatoes")
    x.page.locator(INLINE).click()
    posts = x.site.wait_for_posts(1)
    assert posts[0]["poll"] == {"choices": ["Sunflowers", "Tulips", "Potatoes"]}


def schedule(x) -> None:
    x.page.locator('[data-testid="scheduleOption"]').click()
    x.page.locator('[data-testid="scheduledConfirmationPrimaryAction"]').click()
    expect(x.page.locator(INLINE)).to_have_text("Schedule")


def test_a_scheduled_post_is_checked_and_does_not_sign_out(launch) -> None:
    x = launch("logout_after_post = true")
    x.page.goto("https://x.com/home")
    type_post(x.page, "Well done Amelia Thornbury")
    schedule(x)
    x.page.locator(INLINE).click()
    expect(x.page.locator(PANEL)).to_contain_text("tweetguard held this post")
    assert x.site.posts == []

    x.page.locator('[data-testid="tweetTextarea_0"]').click()
    x.page.keyboard.press("ControlOrMeta+A")
    x.page.keyboard.type("Parents' evening is next Tuesday")
    expect(x.page.locator(PANEL)).to_have_count(0)
    x.page.locator(INLINE).click()
    posts = x.site.wait_for_posts(1)
    assert [(p["text"], p["operation"]) for p in posts] == [
        ("Parents' evening is next Tuesday", "CreateScheduledTweet")
    ]
    expect(x.page.locator('[data-testid="toast"]')).to_contain_text("will be sent on")
    assert signed_in(x)

    # A normal post after it does sign out, once: the schedule never did.
    type_post(x.page, "Reminder: bring a coat tomorrow")
    x.page.locator(INLINE).click()
    expect(x.page).to_have_url(LOGIN)
    assert [e["reason"] for e in events(x) if e["event"] == "logout"] == ["after-post"]
    assert [p["operation"] for p in x.site.posts] == ["CreateScheduledTweet", "CreateTweet"]


def test_the_mobile_textarea_is_read_from_its_value(launch) -> None:
    x = launch()
    x.page.goto("https://mobile.x.com/home?composer=textarea")
    box = x.page.locator('textarea[data-testid="tweetTextarea_0"]')
    box.click()
    x.page.keyboard.type("Seun Adeyemi read his poem in assembly")
    assert box.evaluate("b => b.textContent") == ""  # React set .value only
    x.page.locator(INLINE).click()
    expect(x.page.locator(PANEL)).to_contain_text("“Seun Adeyemi” is a pupil's full name")
    assert x.site.posts == []

    box.fill("Year 6 read their poems in assembly")
    expect(x.page.locator(PANEL)).to_have_count(0)
    x.page.locator(INLINE).click()
    assert [p["text"] for p in x.site.wait_for_posts(1)] == ["Year 6 read their poems in assembly"]


def test_a_renamed_composer_with_a_german_post_button_is_held(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home?composer=renamed")
    box = x.page.locator('[contenteditable="plaintext-only"]')
    expect(box).not_to_have_attribute("role", "textbox")
    box.click()
    x.page.keyboard.type("Well done Amelia Thornbury")
    button = x.page.get_by_role("button", name="Posten")
    expect(button).to_have_attribute("data-testid", "composerSubmit")
    button.click()
    expect(x.page.locator(PANEL)).to_contain_text("“Amelia Thornbury” is a pupil's full name")
    assert x.site.posts == []
    box.click()
    x.page.keyboard.press("Control+Enter")
    expect(x.page.locator(PANEL)).to_contain_text("tweetguard held this post")
    assert x.site.posts == []

    # The trap: fixed, the same unknown button posts.
    box.click()
    x.page.keyboard.press("ControlOrMeta+A")
    x.page.keyboard.type("Well done Amelia in Year 4")
    expect(x.page.locator(PANEL)).to_have_count(0)
    button.click()
    assert [p["text"] for p in x.site.wait_for_posts(1)] == ["Well done Amelia in Year 4"]
