"""Reposts, quotes, polls and video titles: everything that goes out with a post is
checked like the post, and the policy decides whose posts the school passes on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_policy
from tweetguard.checks.engine import Checker
from tweetguard.protocol.handlers import Handler
from tweetguard.stores.audit import AuditLog

SCHOOL = '[[accounts]]\nhandle = "BrookfieldPri"\n'


@pytest.fixture
def handler(checker: Checker) -> Iterator[Handler]:
    yield Handler(checker)


def ask(handler: Handler, **fields: Any) -> dict[str, Any]:
    return handler.handle({"id": 1, "type": "check", "text": "", **fields})


def held(reply: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(f["rule"], f.get("field")) for f in reply["findings"] if f["severity"] == "block"]


def test_a_repost_of_a_parents_post_naming_a_pupil_is_held(handler: Handler) -> None:
    text = "So proud of Amelia Thornbury at the gala tonight!"
    reply = ask(
        handler, action="repost", source={"author": "@proud_parent_22", "text": text, "url": None}
    )
    assert ("names.full-name", "source") in held(reply)
    finding = next(f for f in reply["findings"] if f["rule"] == "names.full-name")
    assert text[finding["start"] : finding["end"]] == "Amelia Thornbury"
    assert finding["fix"] is None  # someone else's post cannot be edited
    assert "length.empty" not in {f["rule"] for f in reply["findings"]}


def test_a_harmless_repost_goes_through(handler: Handler) -> None:
    source = {"author": "LocalLibrary", "text": "Half-term craft sessions are back!"}
    assert ask(handler, action="repost", source=source)["verdict"] == "allow"


def test_reposts_only_from_listed_accounts_when_the_policy_says_so(
    handler: Handler, checker: Checker
) -> None:
    write_policy(
        checker.home, SCHOOL + '[reposts]\nallow = "listed"\nfrom = ["@RiversideCouncil"]\n'
    )
    source = {"text": "Road closures this weekend.", "author": "RandomNewsFeed"}
    assert held(ask(handler, action="repost", source=source)) == [("reposts.not-listed", "source")]
    listed = {**source, "author": "riversidecouncil"}
    assert ask(handler, action="repost", source=listed)["verdict"] == "allow"
    own = {**source, "author": "BrookfieldPri"}
    assert ask(handler, action="repost", source=own)["verdict"] == "allow"


def test_no_reposts_at_all_when_the_policy_says_none(handler: Handler, checker: Checker) -> None:
    write_policy(checker.home, '[reposts]\nallow = "none"\n')
    source = {"text": "Lovely!", "author": "BrookfieldPri"}
    reply = ask(handler, action="quote", text="Look at this", source=source)
    assert held(reply) == [("reposts.not-allowed", "source")]
    # An ordinary post is not a repost, whatever the policy says about reposts.
    assert ask(handler, text="Sports day on Friday")["verdict"] == "allow"


def test_a_bad_reposts_policy_is_refused(handler: Handler, checker: Checker) -> None:
    write_policy(checker.home, '[reposts]\nallow = "sometimes"\n')
    reply = ask(handler, text="x")
    assert reply["error"]["code"] == "policy_invalid"


def test_a_poll_choice_naming_a_pupil_is_held_and_a_plain_poll_is_not(handler: Handler) -> None:
    choices = ["Pizza", "Tomás Ó Briain's idea", "Pasta"]
    reply = ask(handler, text="What shall we have at the party?", poll=choices)
    poll = [f for f in reply["findings"] if f.get("field") == "poll"]
    assert {f["rule"] for f in poll} == {"names.full-name", "names.no-consent"}
    finding = poll[0]
    assert finding["index"] == 1
    assert choices[1][finding["start"] : finding["end"]] == "Tomás Ó Briain"
    calm = ask(handler, text="What shall we have?", poll=["Pizza", "Pasta", "Curry"])
    assert calm["verdict"] == "allow"


def test_a_video_title_is_checked_like_an_image_description(handler: Handler) -> None:
    import base64

    from tests.photos import jpeg, scene

    data = base64.b64encode(jpeg(scene())).decode()
    media = [{"data": data, "kind": "image", "title": "Zoë Lindqvist's cartwheel"}]
    reply = ask(handler, text="Gym display", media=media)
    titles = [f for f in reply["findings"] if f.get("field") == "title"]
    assert titles and titles[0]["media"] == 0
    plain = ask(handler, text="Gym display", media=[{**media[0], "title": "Gym display"}])
    assert plain["verdict"] == "allow"


@pytest.mark.parametrize("action", ["schedule", "draft", "edit", "reply"])
def test_scheduled_drafted_and_edited_posts_are_checked_like_posts(
    handler: Handler, action: str
) -> None:
    reply = ask(handler, text="Well done Amelia Thornbury!", action=action)
    assert ("names.full-name", None) in held(reply)


def test_an_unknown_action_is_refused(handler: Handler) -> None:
    assert ask(handler, text="x", action="broadcast")["error"]["code"] == "bad_field"
    assert ask(handler, text="x", poll=["a"] * 5)["error"]["code"] == "bad_field"
    assert ask(handler, text="x", source="not an object")["error"]["code"] == "bad_field"


def test_an_incident_is_recorded_with_a_hash_not_the_text(
    handler: Handler, checker: Checker
) -> None:
    text = "Amelia Thornbury posted by script"
    reply = handler.handle(
        {
            "id": 2,
            "type": "incident",
            "what": "network-mismatch",
            "text": text,
            "detail": "approved text differs from the request body",
            "url": "https://x.com/home",
            "account": {"handle": "BrookfieldPri"},
        }
    )
    assert reply == {"id": 2, "ok": True, "recorded": True}
    audit = AuditLog(Path(checker.home) / "audit.sqlite3")
    [event] = [r for r in audit.rows() if r.kind == "incident"]
    assert event.detail["what"] == "network-mismatch"
    assert event.text_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert "Amelia" not in json.dumps([r.to_json() for r in audit.rows()])
    audit.close()
    bad = handler.handle({"id": 3, "type": "incident", "what": "gremlins"})
    assert bad["error"]["code"] == "bad_field"
