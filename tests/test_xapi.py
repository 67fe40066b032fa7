"""The X API: credentials, verify (ids, renames, look-alikes, protection), the profile
checklist and the API's failures, against tests/fake_x_api.py on loopback.

The CLI runs as a subprocess with keyring turned off (PYTHON_KEYRING_BACKEND=null),
so the credentials go to the 0600 file fallback, and TWEETGUARD_X_API_URL pointing
at the fake: tweepy's own request code runs, only the connection is loopback.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_policy
from tests.fake_x_api import FakeTime, FakeXApi, bearer_client, serving
from tweetguard.stores.audit import AuditQuery, merged_rows
from tweetguard.stores.policy import Policy, load_policy
from tweetguard.xapi.accounts import verify
from tweetguard.xapi.client import RESET_MARGIN, RateLimited, User, XApiError, XClient
from tweetguard.xapi.credentials import make
from tweetguard.xapi.profile import checklist, names_school

NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
TOKEN = "AAAAtest-bearer-Quillwort-7781"
SCHOOL_ID = "4400123"

POLICY = """\
# Brackenlea's policy: IT's comments must survive every edit.
[school]
name = "Brackenlea Primary School"

[allow]
domains = ["brackenlea.sch.uk"]

# The main account, approved by the head in September.
[[accounts]]
handle = "BrackenleaPri"
visibility = "public"
"""


@pytest.fixture
def api() -> Iterator[FakeXApi]:
    with serving(
        TOKEN,
        SCHOOL_ID,
        "BrackenleaPri",
        name="Brackenlea Primary School",
        location="Lower Brackenlea, Kent",
        url="https://www.brackenlea.sch.uk/",
        description="News and celebrations from Brackenlea Primary.",
    ) as fake:
        yield fake


@pytest.fixture
def env(api: FakeXApi) -> dict[str, str]:
    return {**NO_KEYRING, "TWEETGUARD_X_API_URL": api.url}


@pytest.fixture
def x_home(home: Path, env: dict[str, str]) -> Path:
    write_policy(home, POLICY)
    stored = run_cli(
        home, "accounts", "credentials", "--bearer-token", input=TOKEN.encode(), env=env
    )
    assert stored.returncode == 0, stored.stderr.decode()
    return home


def client(api: FakeXApi, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> XClient:
    return bearer_client(api, TOKEN, monkeypatch, **kwargs)


# --- credentials ---------------------------------------------------------------------


def test_credentials_round_trip_in_the_0600_file_said_plainly(home: Path, env: dict[str, str]):
    result = run_cli(
        home, "accounts", "credentials", "--bearer-token", input=TOKEN.encode() + b"\n", env=env
    )
    assert result.returncode == 0, result.stderr.decode()
    said = result.stdout.decode()
    assert "app-only bearer token" in said
    assert "a file readable only by this user" in said and "no OS keyring" in said
    assert TOKEN not in said + result.stderr.decode()
    [secret_file] = (home / "secrets").glob("x-api-credentials*")
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600

    shown = run_cli(home, "accounts", "credentials", "--show", env=env)
    assert shown.returncode == 0
    line = shown.stdout.decode()
    assert "bearer token" in line and "readable only by this user" in line
    assert TOKEN not in line

    # OAuth 1.0a replaces it: four values, one a line.
    keys = b"ck-Pimpernel\ncs-Pimpernel-secret\nat-Pimpernel\nats-Pimpernel-secret\n"
    result = run_cli(home, "accounts", "credentials", "--oauth1", input=keys, env=env)
    assert result.returncode == 0, result.stderr.decode()
    shown = run_cli(home, "accounts", "credentials", "--show", env=env).stdout.decode()
    assert "OAuth 1.0a" in shown and "Pimpernel" not in shown

    # The audit says what happened, never the secret.
    rows = merged_rows(home, AuditQuery(kind="accounts"))
    assert [r.detail["action"] for r in rows] == ["credentials-stored", "credentials-stored"]
    assert [r.detail["credentials"] for r in rows] == ["bearer", "oauth1"]
    everything = b"".join(p.read_bytes() for p in home.rglob("*.sqlite3*"))
    assert TOKEN.encode() not in everything and b"Pimpernel" not in everything

    deleted = run_cli(home, "accounts", "credentials", "--delete", env=env)
    assert deleted.returncode == 0 and "Deleted" in deleted.stdout.decode()
    shown = run_cli(home, "accounts", "credentials", "--show", env=env).stdout.decode()
    assert "No X API credentials are stored" in shown
    assert "tweetguard accounts credentials --bearer-token" in shown


def test_a_secret_is_never_taken_from_the_command_line(home: Path, env: dict[str, str]):
    result = run_cli(home, "accounts", "credentials", "--bearer-token", TOKEN, env=env)
    assert result.returncode == 64  # argv holds no secrets: a usage error, nothing stored
    assert not (home / "secrets").exists()


def test_incomplete_oauth1_keys_are_refused_with_the_fix(home: Path, env: dict[str, str]):
    result = run_cli(
        home, "accounts", "credentials", "--oauth1", input=b"ck-only\ncs-only\n", env=env
    )
    assert result.returncode == 78
    message = result.stderr.decode().strip()
    assert message.count("\n") == 0
    assert "access token is empty" in message and "developer portal" in message


def test_without_credentials_verify_and_sweep_say_what_is_missing(home: Path, env):
    write_policy(home, POLICY)
    for command in ("verify", "sweep"):
        result = run_cli(home, "accounts", command, env=env)
        assert result.returncode == 78
        message = result.stderr.decode().strip()
        assert "no X API credentials are stored" in message
        assert "tweetguard accounts credentials --bearer-token" in message
        assert "\n" not in message


def test_refused_credentials_say_how_to_replace_them(x_home: Path, env: dict[str, str]):
    run_cli(x_home, "accounts", "credentials", "--bearer-token", input=b"AAAAwrong-Tansy", env=env)
    result = run_cli(x_home, "accounts", "verify", env=env)
    assert result.returncode == 69
    message = result.stderr.decode()
    assert "401 Unauthorized" in message and "store them again" in message


# --- verify --------------------------------------------------------------------------


def test_verify_resolves_the_id_and_stores_it_keeping_comments(
    x_home: Path, env: dict[str, str], api: FakeXApi
):
    result = run_cli(x_home, "accounts", "verify", env=env)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    out = result.stdout.decode()
    assert f"id {SCHOOL_ID} (stored now)" in out and "ok:" in out
    text = (x_home / "policy.toml").read_text()
    assert f'user_id = "{SCHOOL_ID}"' in text
    assert "# The main account, approved by the head in September." in text
    assert "# Brackenlea's policy: IT's comments must survive every edit." in text
    assert load_policy(x_home / "policy.toml").accounts[0].user_id == SCHOOL_ID
    [row] = merged_rows(x_home, AuditQuery(kind="accounts", account="brackenleapri"))
    assert row.account_id == SCHOOL_ID and row.detail["action"] == "resolved"
    assert [c.auth for c in api.calls("/2/users")] == ["bearer"]

    # Once stored, the id is what is looked up; nothing is stored again.
    again = run_cli(x_home, "accounts", "verify", "--json", env=env)
    assert again.returncode == 0
    report = json.loads(again.stdout)["accounts"][0]
    assert report["resolved"] is False and report["user_id"] == SCHOOL_ID
    assert api.calls(f"/2/users/{SCHOOL_ID}")
    assert len(merged_rows(x_home, AuditQuery(kind="accounts", account="brackenleapri"))) == 1


def test_a_renamed_account_is_recognised_by_its_id(x_home: Path, env, api: FakeXApi):
    assert run_cli(x_home, "accounts", "verify", env=env).returncode == 0
    api.rename(SCHOOL_ID, "BrackenleaNews")
    result = run_cli(x_home, "accounts", "verify", "--json", env=env)
    assert result.returncode == 1
    report = json.loads(result.stdout)["accounts"][0]
    assert report["renamed_to"] == "BrackenleaNews" and report["lookalike_id"] is None
    [problem] = report["problems"]
    assert problem.startswith("@BrackenleaPri is now @BrackenleaNews")
    assert f"--user-id {SCHOOL_ID}" in problem


def test_a_look_alike_on_the_old_handle_is_flagged(x_home: Path, env, api: FakeXApi):
    assert run_cli(x_home, "accounts", "verify", env=env).returncode == 0
    api.rename(SCHOOL_ID, "BrackenleaNews")
    api.add_user("99887766", "BrackenleaPri", name="Brackenlea Primary School")
    result = run_cli(x_home, "accounts", "verify", "--json", env=env)
    assert result.returncode == 1
    report = json.loads(result.stdout)["accounts"][0]
    assert report["lookalike_id"] == "99887766"
    assert report["x"]["id"] == SCHOOL_ID  # the school's own account, not the copy
    assert any("now belongs to another account (id 99887766)" in p for p in report["problems"])
    # The policy still names the school's id: the extension goes on trusting only it.
    assert load_policy(x_home / "policy.toml").accounts[0].user_id == SCHOOL_ID


def test_an_unknown_handle_says_to_check_the_spelling(x_home: Path, env):
    write_policy(x_home, POLICY.replace('"BrackenleaPri"', '"BrackenleaPrl"'))
    result = run_cli(x_home, "accounts", "verify", env=env)
    assert result.returncode == 1
    assert "@BrackenleaPrl is not found on X: check the spelling" in result.stdout.decode()


def test_protected_in_the_policy_but_public_on_x_is_flagged(
    x_home: Path, env, api: FakeXApi, monkeypatch: pytest.MonkeyPatch
):
    write_policy(x_home, POLICY.replace('visibility = "public"', 'visibility = "protected"'))
    result = verify(x_home, client(api, monkeypatch))
    [report] = result.accounts
    assert report.protected_mismatch and not report.ok
    assert "public on X but the policy says protected" in report.problems[0]
    # The reverse is a mismatch too; and a matching one is not (the trap).
    api.users[SCHOOL_ID].protected = True
    write_policy(x_home, POLICY)
    [report] = verify(x_home, client(api, monkeypatch)).accounts
    assert (
        report.protected_mismatch
        and "protected on X but the policy says public" in (report.problems[0])
    )
    write_policy(x_home, POLICY.replace('visibility = "public"', 'visibility = "protected"'))
    [report] = verify(x_home, client(api, monkeypatch)).accounts
    assert not report.protected_mismatch and report.ok


# --- the profile checklist -----------------------------------------------------------


def _policy(**kwargs: object) -> Policy:
    from tweetguard.stores.policy import Allowlists

    return Policy(
        school="Brackenlea Primary School",
        exists=True,
        allow=Allowlists(domains=("brackenlea.sch.uk",)),
        **kwargs,  # type: ignore[arg-type]
    )


def _user(username: str = "BrackenleaPri", **fields: object) -> User:
    profile: dict[str, object] = {
        "name": "Brackenlea Primary",
        "location": "Lower Brackenlea",
        "url": "https://brackenlea.sch.uk",
        "description": "Our news",
    }
    profile.update(fields)
    return User(id="1", username=username, **profile)  # type: ignore[arg-type]


def test_checklist_flags_a_16_character_handle_and_not_a_15_character_one():
    sixteen = "BrackenleaSchool"
    assert len(sixteen) == 16
    [finding] = checklist(_user(sixteen), _policy())
    assert finding.rule.id == "profile.handle-length" and "16 characters" in finding.message
    fifteen = "BrackenleaSchoo"
    assert len(fifteen) == 15
    assert checklist(_user(fifteen), _policy()) == []


def test_checklist_names_each_missing_item_with_its_fix():
    found = checklist(_user(name="Class 3 news", location=" ", url="", description=""), _policy())
    ids = [f.rule.id for f in found]
    assert ids == ["profile.school-name", "profile.location", "profile.website", "profile.bio"]
    assert all(f.fix for f in found)
    assert "“Brackenlea Primary School”" in found[0].message


def test_school_name_match_ignores_generic_words_but_not_a_different_place():
    assert names_school("Brackenlea Primary", "Brackenlea Primary School")
    assert names_school("BRACKENLEA C of E primary 🏫", "Brackenlea CofE Primary School")
    assert names_school("St Ælfric’s Academy", "St Ælfric's Academy")
    assert not names_school("Brackenhill Primary", "Brackenlea Primary School")
    assert not names_school("Primary School", "Brackenlea Primary School")


def test_a_website_off_the_schools_domains_is_advice_not_a_failure():
    [finding] = checklist(_user(url="https://brackenlea-pta.example.net"), _policy())
    assert finding.rule.id == "profile.website-domain" and finding.rule.advice
    assert checklist(_user(url="https://news.brackenlea.sch.uk/blog"), _policy()) == []


# --- rate limits and failures ----------------------------------------------------------


NOW = 1_900_000_000.0  # the client's clock in the rate-limit tests (2030-03-17)


def test_a_rate_limit_that_resets_soon_is_waited_out_until_the_reset(
    api: FakeXApi, monkeypatch: pytest.MonkeyPatch
):
    fake = FakeTime(NOW)
    x = client(api, monkeypatch, sleep=fake.sleep, clock=fake.clock)
    api.rate_limit(1, reset_at=int(NOW) + 7)
    user, _ = x.user_by_id(SCHOOL_ID)
    assert user is not None and user.username == "BrackenleaPri"
    assert [r.status for r in api.calls()] == [429, 200]
    # Exactly until the reset (X gives whole seconds, hence the margin), no more.
    assert fake.slept == [7 + RESET_MARGIN]


def test_a_reset_already_past_is_asked_again_after_only_the_margin(
    api: FakeXApi, monkeypatch: pytest.MonkeyPatch
):
    # The trap: a client that always slept a fixed time would pass the test above
    # only by luck with 7 s; here the wait must be the margin alone.
    fake = FakeTime(NOW)
    x = client(api, monkeypatch, sleep=fake.sleep, clock=fake.clock)
    api.rate_limit(1, reset_at=int(NOW) - 3)
    assert x.user_by_id(SCHOOL_ID)[0] is not None
    assert fake.slept == [RESET_MARGIN]


def test_a_reset_beyond_max_wait_is_not_slept_on_and_says_the_utc_time(
    api: FakeXApi, monkeypatch: pytest.MonkeyPatch
):
    fake = FakeTime(NOW)
    x = client(api, monkeypatch, sleep=fake.sleep, clock=fake.clock, max_wait=60)
    reset = int(NOW) + 61  # 2030-03-17 17:47:41 UTC
    api.rate_limit(1, reset_at=reset)
    with pytest.raises(RateLimited) as limited:
        x.user_by_id(SCHOOL_ID)
    assert fake.slept == [] and limited.value.reset == reset
    assert str(limited.value) == "X's API rate limit: try again after 17:47 UTC"


def test_a_far_rate_limit_stops_with_the_time_to_try_again(x_home: Path, env, api: FakeXApi):
    api.rate_limit(5, reset_in=900)
    result = run_cli(x_home, "accounts", "verify", env=env)
    assert result.returncode == 75
    message = result.stderr.decode().strip()
    assert message.startswith("tweetguard: X's API rate limit: try again after ")
    assert message.endswith(" UTC")
    assert len(api.calls()) == 1  # no retry storm


def test_an_unreachable_api_says_what_to_check(x_home: Path):
    env = {**NO_KEYRING, "TWEETGUARD_X_API_URL": "http://127.0.0.1:9"}
    result = run_cli(x_home, "accounts", "verify", env=env)
    assert result.returncode == 69
    assert "cannot reach the X API stand-in at http://127.0.0.1:9" in result.stderr.decode()


def test_tweepy_is_not_loaded_by_the_native_host_or_the_checks():
    import subprocess
    import sys

    code = (
        "import sys, tweetguard.transport.native, tweetguard.checks.engine, tweetguard.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tweepy', 'requests')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, env=dict(os.environ)
    ).stdout
    assert out.strip() == b"[]"


def test_errors_from_the_client_are_one_line(api: FakeXApi, monkeypatch: pytest.MonkeyPatch):
    x = client(api, monkeypatch, max_wait=0)
    api.rate_limit(1, reset_in=120)
    with pytest.raises(RateLimited) as limited:
        x.users_by_usernames(["BrackenleaPri"])
    assert "\n" not in str(limited.value)
    monkeypatch.setenv("TWEETGUARD_X_API_URL", api.url + "/nowhere")
    with pytest.raises(XApiError) as missing:
        XClient(make("bearer", {"bearer_token": TOKEN})).user_by_id(SCHOOL_ID)
    assert "(404)" in str(missing.value) and "\n" not in str(missing.value)


def test_credentials_never_show_their_secret_in_a_repr_or_a_log():
    oauth = make(
        "oauth1",
        {
            "consumer_key": "ck-Yarrow",
            "consumer_secret": "cs-Yarrow",
            "access_token": "at-Yarrow",
            "access_token_secret": "ats-Yarrow",
        },
    )
    assert "Yarrow" not in repr(oauth) and "Yarrow" not in str(oauth)
    assert "Yarrow" not in f"{oauth}" and "oauth1" in repr(oauth)


def test_the_test_only_url_may_name_only_this_machine(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TWEETGUARD_X_API_URL", "https://api.example.net")
    with pytest.raises(XApiError, match="may only name this machine"):
        XClient(make("bearer", {"bearer_token": TOKEN}))


# --- policy edits recorded once -----------------------------------------------------


def _policy_rows_after_the_helper_starts(home: Path) -> list[str]:
    """The real host records the policy when its content is not in the audit yet."""
    from tests.hostproc import HostProcess

    host = HostProcess(home)
    try:
        assert host.ask({"id": 1, "type": "hello"})["ok"] is True
    finally:
        host.kill()
    return [str(r.detail.get("sha256")) for r in merged_rows(home, AuditQuery(kind="policy"))]


def test_an_id_stored_by_verify_is_not_recorded_again_by_the_helper(x_home: Path, env):
    import hashlib

    assert run_cli(x_home, "accounts", "verify", env=env).returncode == 0
    [resolved] = merged_rows(x_home, AuditQuery(kind="accounts", account="brackenleapri"))
    stored = hashlib.sha256((x_home / "policy.toml").read_bytes()).hexdigest()
    assert resolved.detail["policy_sha256"] == stored and resolved.detail["by"] == "cli"
    assert _policy_rows_after_the_helper_starts(x_home) == []
    # The trap: an edit by hand afterwards is the helper's to record.
    with (x_home / "policy.toml").open("a") as policy:
        policy.write("# Checked by the head, October.\n")
    edited = hashlib.sha256((x_home / "policy.toml").read_bytes()).hexdigest()
    assert _policy_rows_after_the_helper_starts(x_home) == [edited]


def test_accounts_add_and_remove_are_not_recorded_again_by_the_helper(home: Path):
    write_policy(home, POLICY)
    added = run_cli(home, "accounts", "add", "BrackenleaPTA", "--user-id", "4400777")
    assert added.returncode == 0, added.stderr.decode()
    assert _policy_rows_after_the_helper_starts(home) == []
    assert run_cli(home, "accounts", "remove", "BrackenleaPTA").returncode == 0
    assert _policy_rows_after_the_helper_starts(home) == []
    actions = [r.detail["what"] for r in merged_rows(home, AuditQuery(kind="accounts"))]
    assert actions == ["approved", "removed"]
