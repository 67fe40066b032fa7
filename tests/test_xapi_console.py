"""The console's Accounts page through flask's test client, against the fake X API:
credentials stored write-only, verify and sweep results on the page, and the page
without credentials saying what is missing while the rest works."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.conftest import run_cli, write_policy
from tests.fake_x_api import FakeXApi, serving
from tests.registers import canonical
from tweetguard.stores.audit import AuditQuery, merged_rows

TOKEN = "AAAAtest-bearer-Sorrel-5150"
SCHOOL_ID = "7730456"
PASSWORD = "Kestrel-Lantern-Orchard-42"
POLICY = """\
[school]
name = "Ashby Moor Primary School"

[[accounts]]
handle = "AshbyMoorPri"
visibility = "public"
"""


@pytest.fixture
def api() -> Iterator[FakeXApi]:
    with serving(
        TOKEN,
        SCHOOL_ID,
        "AshbyMoorPri",
        name="Ashby Moor Primary",
        location="Ashby Moor",
        url="https://ashbymoor.sch.uk",
        description="News from Ashby Moor Primary School",
    ) as fake:
        yield fake


@pytest.fixture
def console(home: Path, api: FakeXApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlaskClient]:
    from tweetguard.console import create_app
    from tweetguard.stores import secrets

    monkeypatch.setattr(secrets, "_keyring_backend", lambda: None)  # the 0600 file fallback
    monkeypatch.setenv("TWEETGUARD_X_API_URL", api.url)
    (home / "pupils.csv").write_bytes(canonical([("Wilhelmina", "Strachan-Boyd", "no")]))
    assert run_cli(home, "consent", "import", str(home / "pupils.csv")).returncode == 0
    write_policy(home, POLICY)
    app = create_app(home, testing=True)
    with app.test_client() as client:
        # The first-run page wants the one-time token `tweetguard dashboard` prints.
        given = app.extensions.get("tweetguard_setup_token")
        setup = f"/setup?token={given}" if given else "/setup"
        page = client.get(setup).get_data(as_text=True)
        reply = client.post(
            setup,
            data={"password": PASSWORD, "confirm": PASSWORD, "csrf_token": token(page)},
        )
        assert reply.status_code == 302, reply.get_data(as_text=True)
        yield client


def token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def page(client: FlaskClient) -> str:
    reply = client.get("/accounts/")
    assert reply.status_code == 200
    return reply.get_data(as_text=True)


def post(client: FlaskClient, url: str, **form: str) -> str:
    reply = client.post(url, data={"csrf_token": token(page(client)), **form})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return page(client)


def test_without_credentials_the_page_says_what_is_missing(console: FlaskClient):
    html = page(console)
    assert "No X API credentials are stored" in html and 'id="no-credentials"' in html
    assert "@AshbyMoorPri" in html and "not resolved yet" in html
    assert 'id="verify"' not in html
    # The rest of the console does not need them.
    assert console.get("/policy/").status_code == 200


def test_credentials_verify_and_sweep_from_the_page(
    console: FlaskClient, api: FakeXApi, home: Path
):
    html = post(console, "/accounts/credentials", kind="bearer", bearer_token=TOKEN)
    assert "Stored an app-only bearer token in a file readable only by this user" in html
    assert TOKEN not in html  # write-only: never shown back
    assert "X API credentials: an app-only bearer token, stored" in html
    [row] = merged_rows(home, AuditQuery(kind="accounts"))
    assert row.detail == {
        "action": "credentials-stored",
        "by": "console",
        "store": "file",
        "credentials": "bearer",
    }

    html = post(console, "/accounts/verify")
    assert f'user_id = "{SCHOOL_ID}"' in (home / "policy.toml").read_text()
    assert f">{SCHOOL_ID}<" in html and "All as the guidance asks." in html
    assert "stored in the policy" in html

    flagged = api.add_tweet(SCHOOL_ID, "Wilhelmina Strachan-Boyd led the choir beautifully")
    api.add_tweet(SCHOOL_ID, "The choir sang beautifully at the carol service")
    html = post(console, "/accounts/sweep")
    assert "2 new from outside tweetguard" in html
    assert f'data-tweet="{flagged}"' in html and "names.no-consent" in html
    section = html.split('id="outside-posts"')[1]
    assert f"https://x.com/AshbyMoorPri/status/{flagged}" in section

    html = post(console, "/accounts/credentials/delete")
    assert "Deleted the X API credentials" in html and 'id="no-credentials"' in html


def test_incomplete_credentials_are_refused_with_the_fix(console: FlaskClient):
    html = post(
        console, "/accounts/credentials", kind="oauth1", consumer_key="ck-Sorrel", access_token=""
    )
    assert "Not stored: consumer secret is empty" in html and "No X API credentials" in html


def test_the_api_refusing_shows_one_line(console: FlaskClient, api: FakeXApi):
    post(console, "/accounts/credentials", kind="bearer", bearer_token="AAAAnot-accepted")
    html = post(console, "/accounts/verify")
    assert 'id="x-api-error"' in html and "401 Unauthorized" in html
    api.rate_limit(3, reset_in=3600)
    post(console, "/accounts/credentials", kind="bearer", bearer_token=TOKEN)
    html = post(console, "/accounts/verify")
    assert "X&#39;s API rate limit: try again after" in html


def test_a_forged_form_is_refused(console: FlaskClient, home: Path):
    reply = console.post("/accounts/credentials", data={"kind": "bearer", "bearer_token": "x"})
    assert reply.status_code == 400
    assert not (home / "secrets" / "x-api-credentials.key").exists()
