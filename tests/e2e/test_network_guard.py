"""The network guard under the composer guard: X's posting calls are held at the
network unless the composer guard approved exactly that post.

Loaded unpacked, Chromium grants no blocking webRequest, so these run the
session-rule path (mode "rules"); the force-installed path is
tests/e2e/test_forced_install.py's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.audit_events import events as audit_events

NETWORK = "[data-tweetguard-network]"
NETWORK_PANEL = "[data-tweetguard-network] [data-tweetguard-panel] section"
# The notice's own title line, above the findings panel, when a held post is blocked.
NETWORK_TITLE = "[data-tweetguard-network] [data-tweetguard-network-title]"
PANEL = "[data-tweetguard-panel] section"

# The page's own script calling X's API, as a script or another extension could.
CALL = """async ([operation, variables, method, path]) => {
  const ct0 = (document.cookie.split('; ').find((c) => c.startsWith('ct0=')) || '').slice(4);
  const init = { method, headers: { 'content-type': 'application/json', 'x-csrf-token': ct0 } };
  let url = path || `/i/api/graphql/Zq1x-8/${operation}`;
  if (method === 'GET') url += '?variables=' + encodeURIComponent(JSON.stringify(variables));
  else init.body = JSON.stringify({ variables, queryId: 'Zq1x-8' });
  try {
    const response = await fetch(url, init);
    return 'passed ' + response.status;
  } catch (error) {
    return 'blocked';
  }
}"""


def worker(x: Any) -> Any:
    context = x.context
    if context.service_workers:
        return context.service_workers[0]
    return context.wait_for_event("serviceworker")


def status(x: Any) -> dict[str, Any]:
    result: dict[str, Any] = worker(x).evaluate(
        "chrome.storage.session.get('networkGuard').then((s) => s.networkGuard || {})"
    )
    return result


def incidents(home: Path) -> list[dict[str, Any]]:
    return audit_events(home, "incident")


def wait_for_status(x: Any, key: str, count: int) -> dict[str, Any]:
    worker(x).evaluate(
        """([key, count]) => new Promise((resolve) => {
          const look = () => chrome.storage.session.get('networkGuard').then((s) => {
            if (((s.networkGuard || {})[key] || 0) >= count) resolve(true);
            else setTimeout(look, 20);
          });
          look();
        })""",
        [key, count],
    )
    return status(x)


def signed_in(x: Any) -> bool:
    return any(c["name"] == "auth_token" for c in x.context.cookies("https://x.com"))


def type_post(page: Page, text: str) -> None:
    page.locator('[data-testid="tweetTextarea_0"]').first.click()
    page.keyboard.type(text)


def test_a_composer_the_selectors_do_not_know_is_held_at_the_network(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/unknown/compose")
    box = x.page.locator('[data-testid="composerBody"]')
    box.click()
    x.page.keyboard.type("Well done Amelia Thornbury for a brilliant assembly!")
    x.page.locator('[data-testid="composerSubmit"]').click()

    panel = x.page.locator(NETWORK_PANEL)
    title = x.page.locator(NETWORK_TITLE)
    expect(title).to_have_text("tweetguard does not know this kind of post yet, so it is held.")
    # The helper checked the held text: the pupil's full name holds it for good.
    expect(panel).to_contain_text("“Amelia Thornbury” is a pupil's full name")
    expect(x.page.locator("#status")).to_have_attribute("data-result", "failed")
    assert x.site.posts == []
    state = wait_for_status(x, "recorded", 1)
    assert state["mode"] == "rules"
    assert state["last"]["what"] == "unknown-composer"
    [incident] = incidents(x.home)
    assert incident["what"] == "unknown-composer"
    # What the selectors module needs to learn this composer: both elements, described.
    assert 'button: button testid="composerSubmit" label="Posten"' in incident["detail"]
    assert 'text box: div testid="composerBody" ariaLabel="Beitragstext"' in incident["detail"]
    assert 'contenteditable="plaintext-only"' in incident["detail"]
    assert incident["url"].endswith("/CreateTweet")
    assert "Amelia" not in json.dumps(incident)  # the text is kept as a hash only

    # Pressing Posten again is held again: nothing was approved.
    x.page.locator('[data-testid="composerSubmit"]').click()
    wait_for_status(x, "held", 2)
    assert x.site.posts == []
    assert signed_in(x)


def test_unknown_composer_with_a_clean_text_goes_out_on_the_second_press(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/unknown/compose")
    x.page.locator('[data-testid="composerBody"]').click()
    x.page.keyboard.type("Year 4 planted sunflowers today")
    x.page.locator('[data-testid="composerSubmit"]').click()
    panel = x.page.locator(NETWORK_PANEL)
    expect(panel).to_contain_text("press Post again")
    assert x.site.posts == []
    x.page.locator('[data-testid="composerSubmit"]').click()
    assert [p["text"] for p in x.site.wait_for_posts(1)] == ["Year 4 planted sunflowers today"]
    expect(x.page.locator("#status")).to_have_attribute("data-result", "sent")
    # One-shot: the same call once more is held again.
    x.page.locator('[data-testid="composerBody"]').click()
    x.page.keyboard.type("Year 4 planted sunflowers today")
    x.page.locator('[data-testid="composerSubmit"]').click()
    wait_for_status(x, "held", 2)
    assert len(x.site.posts) == 1
    assert status(x)["last"]["what"] == "unknown-composer"


def test_the_pages_own_script_cannot_post_or_save_a_draft(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    expect(x.page.locator('[data-testid="tweetTextarea_0"]')).to_be_visible()
    unsafe = {"tweet_text": "Amelia Thornbury 07700 900123"}
    assert x.page.evaluate(CALL, ["CreateTweet", unsafe, "POST"]) == "blocked"
    panel = x.page.locator(NETWORK_PANEL)
    expect(x.page.locator(NETWORK_TITLE)).to_have_text("tweetguard held a post it could not check.")
    expect(panel).to_contain_text("“Amelia Thornbury” is a pupil's full name")
    draft = {"post_tweet_request": {"status": "Draft naming Amelia Thornbury", "media_ids": []}}
    assert x.page.evaluate(CALL, ["CreateDraftTweet", draft, "POST"]) == "blocked"
    # Each with its own text: a held text that passes the check may go out once.
    for operation in ("CreateNoteTweet", "CreateScheduledTweet", "CreateRetweet", "EditTweet"):
        variables = {"tweet_text": f"A {operation} nobody checked", "tweet_id": "1"}
        assert x.page.evaluate(CALL, [operation, variables, "POST"]) == "blocked", operation
    state = wait_for_status(x, "recorded", 6)
    assert state["last"]["what"] == "network-unchecked"
    assert x.site.posts == []
    recorded = incidents(x.home)
    assert {i["what"] for i in recorded} == {"network-unchecked"}
    operations = ("CreateTweet", "CreateDraftTweet", "CreateNoteTweet")
    operations += ("CreateScheduledTweet", "CreateRetweet", "EditTweet")
    assert sorted(i["url"].rsplit("/", 1)[1] for i in recorded) == sorted(operations)
    # A script that has never been near a composer is not taken for one.
    expect(x.page.locator(NETWORK)).not_to_contain_text("does not know this kind of post")


def test_other_graphql_calls_and_gets_pass(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    expect(x.page.locator('[data-testid="tweetTextarea_0"]')).to_be_visible()
    for operation in ("FavoriteTweet", "HomeTimeline", "CreateTweetDownvote", "CreateBookmark"):
        assert x.page.evaluate(CALL, [operation, {"tweet_id": "1"}, "POST"]) == "passed 404"
    # A GET of a posting operation's name is not a post (X never posts with GET).
    assert x.page.evaluate(CALL, ["CreateTweet", {"tweet_text": "x"}, "GET"]) == "passed 200"
    assert status(x).get("held", 0) == 0
    expect(x.page.locator(NETWORK_PANEL)).to_have_count(0)


def test_an_ordinary_checked_post_still_goes_out(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    for i, text in enumerate(["Year 4 planted sunflowers today", "Year 5 won the quiz"], 1):
        type_post(x.page, text)
        x.page.locator('[data-testid="tweetButtonInline"]').click()
        posts = x.site.wait_for_posts(i)
        assert posts[-1]["text"] == text
    expect(x.page.locator(NETWORK_PANEL)).to_have_count(0)
    state = status(x)
    assert state.get("held", 0) == 0 and state.get("mismatches", 0) == 0
    assert signed_in(x)
    # The allow rule closed with the post: a script right after it is held.
    assert x.page.evaluate(CALL, ["CreateTweet", {"tweet_text": "sneaky"}, "POST"]) == "blocked"
    assert len(x.site.posts) == 2
    rules = worker(x).evaluate("chrome.declarativeNetRequest.getSessionRules()")
    assert [r for r in rules if r["action"]["type"] == "allow"] == [] or all(
        r["id"] < 1000 for r in rules
    )


def test_a_post_changed_by_script_after_approval_signs_the_browser_out(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    # The page swaps the text of its posting call after the composer guard approved it.
    x.page.evaluate(
        """() => {
          const original = window.fetch;
          window.fetch = (url, init) => {
            if (String(url).endsWith('/CreateTweet') && init && typeof init.body === 'string') {
              const body = JSON.parse(init.body);
              body.variables.tweet_text = 'Amelia Thornbury lives at 12 Oak Lane';
              init = { ...init, body: JSON.stringify(body) };
            }
            return original(url, init);
          };
        }"""
    )
    type_post(x.page, "Year 4 planted sunflowers today")
    assert signed_in(x)
    x.page.locator('[data-testid="tweetButtonInline"]').click()
    state = wait_for_status(x, "recorded", 1)
    assert state["last"]["what"] == "network-mismatch"
    [incident] = incidents(x.home)
    assert incident["what"] == "network-mismatch"
    assert "differs from the approved post" in incident["detail"]
    # In rules mode the changed post went out (the allow rule cannot read bodies):
    # it is recorded and the browser is signed out; blocking mode cancels it.
    assert [p["text"] for p in x.site.posts] in ([], ["Amelia Thornbury lives at 12 Oak Lane"])
    x.page.wait_for_url("**/i/flow/login")
    assert not signed_in(x)


def call(page: Page, path: str, variables: dict[str, Any]) -> str:
    """POSTs `{variables}` to `path` from the page, as X's script would."""
    result: str = page.evaluate(CALL, ["", variables, "POST", path])
    return result


def test_near_spellings_of_the_posting_paths_and_rest_calls_are_held(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    expect(x.page.locator('[data-testid="tweetTextarea_0"]')).to_be_visible()
    # Chromium compiles every rule's regexFilter (one over its memory limit would be dropped).
    rules = json.loads(
        (Path(__file__).parents[2] / "extension/rules/network-guard.json").read_text()
    )
    supported = worker(x).evaluate(
        """(regexes) => Promise.all(regexes.map((regex) =>
          chrome.declarativeNetRequest.isRegexSupported({ regex, isCaseSensitive: false })))""",
        [r["condition"]["regexFilter"] for r in rules],
    )
    assert all(s["isSupported"] for s in supported), supported
    paths = [
        "/i/api/graphql/q/CreateTweet/",
        "/i/api/graphql/q/CreateTweet;v=1",
        "/i/api//graphql/q/CreateTweet",
        "https://x.com//i/api/graphql/q/CreateTweet",
        "/i/api/graphql/x/y/CreateTweet",
        "/i/api/graphql/q/createtweet",
        "/i/api/1.1/statuses/update.json",
        "/i/api/2/tweets",
    ]
    for path in paths:
        text = f"Nobody checked {path}"
        assert (
            call(x.page, path, {"tweet_text": text, "status": text, "text": text}) == "blocked"
        ), path
    state = wait_for_status(x, "held", len(paths))
    assert state["held"] == len(paths)
    # Unrelated calls still pass.
    for path in (
        "/i/api/graphql/q/HomeTimeline",
        "/i/api/1.1/statuses/destroy/1.json",
        "/i/api/2/tweets/1",
    ):
        assert call(x.page, path, {"tweet_id": "1"}) == "passed 404", path
    assert x.site.posts == []


def test_a_post_like_call_no_rule_covers_is_recorded(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/home")
    expect(x.page.locator('[data-testid="tweetTextarea_0"]')).to_be_visible()
    assert call(x.page, "/i/api/1.1/posts/new.json", {"status": "Amelia Thornbury"}) == "passed 404"
    state = wait_for_status(x, "recorded", 1)
    assert state["unmatched"] == 1 and state["held"] == 0
    [incident] = incidents(x.home)
    assert incident["what"] == "network-unchecked"
    assert "matches no network guard rule" in incident["detail"]


def test_a_held_post_edited_after_its_check_is_checked_again(launch) -> None:
    x = launch()
    x.page.goto("https://x.com/unknown/compose")
    box = x.page.locator('[data-testid="composerBody"]')
    box.click()
    x.page.keyboard.type("Year 4 planted sunflowers today")
    x.page.locator('[data-testid="composerSubmit"]').click()
    expect(x.page.locator(NETWORK_PANEL)).to_contain_text("press Post again")
    # Edited after the check: pressing Posten again is not let through; the new text is checked.
    box.click()
    x.page.keyboard.press("End")
    x.page.keyboard.type(" with Amelia Thornbury")
    x.page.locator('[data-testid="composerSubmit"]').click()
    expect(x.page.locator(NETWORK_PANEL)).to_contain_text(
        "“Amelia Thornbury” is a pupil's full name"
    )
    state = wait_for_status(x, "held", 2)
    assert state.get("mismatches", 0) == 0
    assert x.site.posts == []
    assert signed_in(x)


def test_a_held_post_that_goes_out_signs_the_browser_out_like_any_post(launch) -> None:
    x = launch("logout_after_post = true")
    x.page.goto("https://x.com/unknown/compose")
    x.page.locator('[data-testid="composerBody"]').click()
    x.page.keyboard.type("Year 4 planted sunflowers today")
    x.page.locator('[data-testid="composerSubmit"]').click()
    expect(x.page.locator(NETWORK_PANEL)).to_contain_text("press Post again")
    assert signed_in(x)
    x.page.locator('[data-testid="composerSubmit"]').click()
    assert [p["text"] for p in x.site.wait_for_posts(1)] == ["Year 4 planted sunflowers today"]
    x.page.wait_for_url("**/i/flow/login")
    assert not signed_in(x)
