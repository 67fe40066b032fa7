"""The console's policy page: edits that keep IT's comments, are audited, and an
invalid edit that leaves policy.toml byte for byte as it was."""

from __future__ import annotations

import re
from pathlib import Path

from tests.test_console_support import no_keyring, post, signed_in
from tweetguard.stores.audit import AuditQuery, merged_rows
from tweetguard.stores.policy import load_policy

__all__ = ["no_keyring"]

POLICY = """\
# Brookfield Juniors: kept by Ms Achterberg (IT). Ask before changing [posting].
[school]
name = "Brookfield Juniors"

[[accounts]]
handle = "BrookfieldJnr"
user_id = "770011"
visibility = "public"

[allow]
phones = ["01632 961234"]   # the office
domains = ["brookfield.sch.uk"]
places = ["Brookfield Rec"]

# Rules the school changed.
[rules."links.external"]
severity = "info"

[[lexicon]]
id = "pe-kit"
match = "exact"
words = ["lost property"]
severity = "info"
message = "Name the item, not the child."
"""


def _policy(home: Path) -> Path:
    path = home / "policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


def _alert(response) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r'role="alert"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S)
    return found.group(1) if found else ""


def test_edits_round_trip_keep_comments_and_are_audited(home: Path, no_keyring: None) -> None:
    path = _policy(home)
    _, client = signed_in(home)
    assert "@BrookfieldJnr" in client.get("/policy/").get_data(as_text=True)
    steps = [
        ("/policy/accounts", {"handle": "@BrookfieldPTA", "visibility": "protected"}),
        ("/policy/accounts", {"handle": "BrookfieldJnr", "visibility": "protected"}),
        (
            "/policy/rules",
            {"enabled:language.profanity": "off", "severity:links.external": "default"},
        ),
        ("/policy/allow", {"list": "places", "values": "Brookfield Rec\r\nMillpond Lane Hall\r\n"}),
        (
            "/policy/lexicon",
            {
                "id": "coach-times",
                "match": "near",
                "words": "coach, minibus",
                "near": "leaves, departs",
                "within": "3",
                "severity": "warn",
                "message": "Do not post when the coach leaves; post after the trip.",
            },
        ),
        (
            "/policy/lexicon",
            {
                "original": "pe-kit",
                "id": "pe-kit",
                "match": "exact",
                "words": "lost property, left behind",
                "severity": "info",
                "message": "Name the item, not the child.",
            },
        ),
    ]
    for url, data in steps:
        response = post(client, url, data, "/policy/")
        assert response.status_code == 302, (url, _alert(response))
    policy = load_policy(path)
    assert {(a.handle, a.visibility, a.user_id) for a in policy.accounts} == {
        ("BrookfieldJnr", "protected", "770011"),
        ("BrookfieldPTA", "protected", None),
    }
    assert policy.rules["language.profanity"].enabled is False
    assert "links.external" not in policy.rules
    assert policy.allow.places == ("Brookfield Rec", "Millpond Lane Hall")
    lexicon = {e.id: e for e in policy.lexicon}
    assert (
        lexicon["coach-times"].near == ("leaves", "departs") and lexicon["coach-times"].within == 3
    )
    assert lexicon["pe-kit"].words == ("lost property", "left behind")
    text = path.read_text(encoding="utf-8")
    assert "# Brookfield Juniors: kept by Ms Achterberg (IT)." in text
    assert "# the office" in text
    rows = merged_rows(home, AuditQuery(kind="policy"))
    assert len(rows) == len(steps)
    assert all(r.detail["by"] == "console" for r in rows)
    assert "@BrookfieldPTA" in rows[0].detail["what"]
    removed = post(
        client, "/policy/lexicon", {"original": "coach-times", "action": "remove"}, "/policy/"
    )
    assert removed.status_code == 302
    assert "coach-times" not in {e.id for e in load_policy(path).lexicon}


def test_invalid_edits_are_refused_with_the_loaders_message(home: Path, no_keyring: None) -> None:
    path = _policy(home)
    before = path.read_bytes()
    _, client = signed_in(home)
    attempts = [
        ("/policy/lexicon", {"id": "Bad Id!", "words": "x", "message": "m"}, "id must be"),
        ("/policy/lexicon", {"id": "no-words", "words": " , ", "message": "m"}, "at least one"),
        ("/policy/rules", {"severity:links.external": "fatal"}, "choose on, off"),
        ("/policy/accounts", {"handle": "BrookfieldJnr", "visibility": "secret"}, "visibility"),
        (
            "/policy/raw",
            {"text": POLICY + '\n[rules."names.no-such-rule"]\nenabled = false\n'},
            "unknown rule",
        ),
        (
            "/policy/raw",
            {"text": POLICY.replace('name = "Brookfield', "name = Brookfield")},
            "not be valid TOML",
        ),
        (
            "/policy/raw",
            {"text": POLICY + "\n[posting]\nidle_logout_minutes = -4\n"},
            "posting.idle_logout_minutes",
        ),
    ]
    for url, data, said in attempts:
        response = post(client, url, data, "/policy/")
        assert response.status_code == 400, url
        message = _alert(response)
        assert "policy.toml is unchanged" in message or "choose" in message, message
        assert said in message, (said, message)
        assert path.read_bytes() == before
    assert merged_rows(home, AuditQuery(kind="policy")) == []
    # The refused text stays in the editor for the person to fix.
    kept = post(client, "/policy/raw", {"text": "[school]\nname = 7\n"})
    assert "name = 7" in kept.get_data(as_text=True)
    # False-alarm trap: a valid raw edit (a new comment too) is saved as typed.
    fixed = POLICY + "\n# Checked by the head, November.\n"
    assert post(client, "/policy/raw", {"text": fixed}).status_code == 302
    assert path.read_text(encoding="utf-8") == fixed


def test_an_edit_made_from_a_stale_page_is_refused(home: Path, no_keyring: None) -> None:
    """`accounts verify` (or another tab) changed the file after the page loaded:
    saving the page's view would quietly undo that, so nothing is saved."""
    path = _policy(home)
    _, client = signed_in(home)
    raw_page = client.get("/policy/raw").get_data(as_text=True)
    stale_sha = re.search(r'name="policy_sha256" value="([0-9a-f]{64})"', raw_page)
    assert stale_sha
    changed = POLICY.replace('user_id = "770011"', 'user_id = "770012"')
    path.write_text(changed, encoding="utf-8")  # as accounts verify would store an id
    mine = POLICY.replace('name = "Brookfield Juniors"', 'name = "Brookfield Junior School"')
    refused = client.post(
        "/policy/raw",
        data={
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', raw_page).group(1),  # type: ignore[union-attr]
            "policy_sha256": stale_sha.group(1),
            "text": mine,
        },
    )
    assert refused.status_code == 409
    said = _alert(refused)
    assert "changed after this page was loaded" in said and "reload the page" in said
    assert path.read_text(encoding="utf-8") == changed
    assert "Brookfield Junior School" in refused.get_data(as_text=True)  # kept to copy
    for url, data in (
        ("/policy/allow", {"list": "phones", "values": "01632 960000"}),
        ("/policy/rules", {"enabled:links.external": "off"}),
        ("/policy/accounts", {"handle": "BrookfieldPTA"}),
        ("/policy/lexicon", {"id": "trips", "words": "coach trip", "message": "Say where later."}),
    ):
        form = client.get("/policy/").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf
        reply = client.post(
            url, data={"csrf_token": csrf.group(1), "policy_sha256": stale_sha.group(1), **data}
        )
        assert reply.status_code == 409, url
        assert path.read_text(encoding="utf-8") == changed, url
    # False-alarm trap: the same edit from a page loaded now is saved.
    saved = post(client, "/policy/raw", {"text": changed.replace("Juniors", "Junior School")})
    assert saved.status_code == 302
    assert "Brookfield Junior School" in path.read_text(encoding="utf-8")


def test_a_saved_edit_the_audit_cannot_record_is_said_not_hidden(
    home: Path, no_keyring: None
) -> None:
    path = _policy(home)
    _, client = signed_in(home)
    audit = home / "audit.sqlite3"
    for suffix in ("", "-wal", "-shm"):  # signing in may have recorded nothing yet
        Path(f"{audit}{suffix}").unlink(missing_ok=True)
    audit.mkdir()  # no one, root included, can open an audit there
    done = post(
        client, "/policy/accounts", {"handle": "BrookfieldGov", "visibility": "public"}, "/policy/"
    )
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "BrookfieldGov" in path.read_text(encoding="utf-8")
    assert "could not be recorded in the audit" in page
    # The trap: with the audit back, the next edit says nothing of the sort.
    audit.rmdir()
    done = post(
        client, "/policy/accounts", {"handle": "BrookfieldPTA", "visibility": "public"}, "/policy/"
    )
    assert "could not be recorded" not in client.get(done.headers["Location"]).get_data(
        as_text=True
    )
