"""The console's blueprints on the server: one base template (nav and signed-in user
from the server), the help page as it is, and the accounts page per school (the
school's effective policy's accounts, its own X credentials, verify through xapi
against the fake X API with the resolved id kept in the school's layer)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.fake_x_api import FakeXApi, serving
from tests.server.conftest import Trust
from tests.server.test_server_roles import signed_in
from tweetguard.server import policies
from tweetguard.server.console.accounts import accounts_home
from tweetguard.stores.secrets import get_secret
from tweetguard.xapi.credentials import SECRET_NAME

TOKEN = "AAAAtest-bearer-Quillon-8821"
ALDER_ID = "5540912"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeXApi]:
    from tweetguard.stores import secrets

    monkeypatch.setattr(secrets, "_keyring_backend", lambda: None)  # the 0600 file fallback
    with serving(TOKEN, ALDER_ID, "AlderbrookPri", name="Alderbrook Primary School") as fake:
        monkeypatch.setenv("TWEETGUARD_X_API_URL", fake.url)
        yield fake


def csrf(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:300]
    return found.group(1).decode()


def post(client: FlaskClient, path: str, **form: str) -> bytes:
    """Posts a form of the accounts page (the form's page gives the token) and
    returns the page it sends back to."""
    form_page = client.get(path.rsplit("/", 1)[0] + "/")
    reply = client.post(path, data={"csrf_token": csrf(form_page.data), **form})
    assert reply.status_code == 302, reply.data[:500]
    shown: bytes = client.get(reply.headers["Location"]).data
    return shown


def test_server_pages_draw_the_consoles_frame_with_the_servers_nav(
    app: Flask, trust: Trust
) -> None:
    admin = signed_in(app, trust.admin.email).get("/").data
    assert b"tweetguard <small>server</small>" in admin
    assert b"head.of.it@riverside.example (trust admin)" in admin
    for link in (b'href="/users"', b'href="/trust/policy"', b'href="/help/"'):
        assert link in admin
    assert b'href="/" aria-current="page"' in admin
    # Trap: a school lead's nav has no trust pages (they would only be refused).
    lead = signed_in(app, trust.safeguarding_a.email).get("/").data
    assert b"dsl@alderbrook.example (safeguarding lead)" in lead
    assert b'href="/users"' not in lead and b'href="/trust/policy"' not in lead
    assert b'href="/help/"' in lead
    # One base template: the server ships none of its own.
    from tweetguard.server import console

    assert not (Path(console.__file__).parent / "templates" / "base.html").exists()
    assert not (Path(console.__file__).parent / "static").exists()


def test_the_consoles_help_page_serves_every_signed_in_user(app: Flask, trust: Trust) -> None:
    for who in (trust.admin, trust.it_a, trust.safeguarding_b):
        reply = signed_in(app, who.email).get("/help/")
        assert reply.status_code == 200
        assert b"When the account is compromised" in reply.data
        assert b'href="/help/" aria-current="page"' in reply.data
    # Trap: not signed in is sent to the server's sign-in, not the console's first run.
    reply = app.test_client().get("/help/")
    assert reply.status_code == 302 and reply.headers["Location"].startswith("/login")


def test_accounts_per_school_with_the_schools_own_credentials(
    app: Flask, trust: Trust, api: FakeXApi, tmp_path: Path
) -> None:
    a, b = trust.school_a.id, trust.school_b.id
    policies.save_school_layer(
        trust.db,
        a,
        '[[accounts]]\nhandle = "AlderbrookPri"\nvisibility = "public"\n',
        by="test",
    )
    it = signed_in(app, trust.it_a.email)
    page = it.get(f"/schools/{a}/accounts/").data
    assert b"@AlderbrookPri" in page and b"not resolved yet" in page
    assert b'id="no-credentials"' in page

    page = post(it, f"/schools/{a}/accounts/credentials", kind="bearer", bearer_token=TOKEN)
    assert b"an app-only bearer token" in page and TOKEN.encode() not in page
    assert b'id="verify"' in page and b'id="sweep"' not in page and b'id="no-sweep"' in page
    data_dir = tmp_path / "server-data"
    assert get_secret(accounts_home(data_dir, a), SECRET_NAME) is not None
    # Trap: school B has no credentials of its own, and A's are not B's.
    assert get_secret(accounts_home(data_dir, b), SECRET_NAME) is None
    admin = signed_in(app, trust.admin.email)
    b_page = admin.get(f"/schools/{b}/accounts/").data
    assert b'id="no-credentials"' in b_page
    # B approves no account yet: the page sends to B's own policy layer.
    assert f'href="/schools/{b}/policy"'.encode() in b_page

    before = policies.policy_version(trust.db, a)
    page = post(it, f"/schools/{a}/accounts/verify")
    assert f">{ALDER_ID}<".encode() in page, page
    assert [c.path for c in api.calls("/2/users/by")]
    _, _, layer = policies.layers(trust.db, a)
    assert f'user_id = "{ALDER_ID}"' in layer and 'handle = "AlderbrookPri"' in layer
    assert policies.policy_version(trust.db, a) != before  # devices fetch the id
    assert f'user_id = "{ALDER_ID}"' in policies.effective(trust.db, a)[1]
    # Trap: B's policy and B's page are untouched by A's verify.
    assert "AlderbrookPri" not in policies.effective(trust.db, b)[1]
    assert f">{ALDER_ID}<".encode() not in admin.get(f"/schools/{b}/accounts/").data


def test_accounts_are_the_it_leads_not_the_safeguarding_leads(app: Flask, trust: Trust) -> None:
    a = trust.school_a.id
    dsl = signed_in(app, trust.safeguarding_a.email)
    assert dsl.get(f"/schools/{a}/accounts/").status_code == 403
    assert dsl.post(f"/schools/{a}/accounts/verify").status_code == 403
    # Trap: the school's page links the accounts only for whom they open.
    assert f"/schools/{a}/accounts/".encode() not in dsl.get(f"/schools/{a}").data
    it = signed_in(app, trust.it_a.email)
    assert f"/schools/{a}/accounts/".encode() in it.get(f"/schools/{a}").data


def test_a_sweep_asked_of_the_server_says_where_it_runs(app: Flask, trust: Trust) -> None:
    it = signed_in(app, trust.it_a.email)
    page = post(it, f"/schools/{trust.school_a.id}/accounts/sweep")
    assert b"Sweeps do not run on the server yet" in page
    assert b"tweetguard accounts sweep" in page


def test_the_server_pages_load_the_consoles_live_script(app: Flask, trust: Trust) -> None:
    app.config["TWEETGUARD_FEED_URL"] = "ws://127.0.0.1:9/"
    admin = signed_in(app, trust.admin.email)
    overview = admin.get("/").data
    assert b'<script src="/static/live.js" defer></script>' in overview
    assert b'id="row-format"' in overview
    latest = f'data-latest="{{&#34;school_id&#34;: &#34;{trust.school_a.id}&#34;}}"'.encode()
    assert latest in overview
    audit = admin.get(f"/schools/{trust.school_a.id}/audit").data
    assert f'data-school="{trust.school_a.id}"'.encode() in audit
    assert b'data-rows="#audit-rows tbody"' in audit
    script = app.test_client().get("/static/live.js")
    assert script.status_code == 200 and b"data-latest" in script.data
    # The overview's new rows go into its own table, with the school named.
    assert b'data-rows="#latest tbody"' in overview and b"Alderbrook Primary" in overview
    # Trap: an IT lead reads no audit, so their overview has no table for rows.
    app_it = signed_in(app, trust.it_a.email).get("/").data
    assert b"data-rows" not in app_it and b'id="latest"' not in app_it
    # ...and no feed that would send them nothing.
    assert b"live.js" not in app_it and b'id="live"' not in app_it


def test_a_forged_accounts_form_is_refused_on_the_server(
    app: Flask, trust: Trust, api: FakeXApi, tmp_path: Path
) -> None:
    a = trust.school_a.id
    it = signed_in(app, trust.it_a.email)
    del it.environ_base["HTTP_X_CSRFTOKEN"]
    reply = it.post(
        f"/schools/{a}/accounts/credentials", data={"kind": "bearer", "bearer_token": "x"}
    )
    assert reply.status_code == 400
    assert get_secret(accounts_home(tmp_path / "server-data", a), SECRET_NAME) is None
    # Trap: the same form with the page's token is stored.
    post(it, f"/schools/{a}/accounts/credentials", kind="bearer", bearer_token=TOKEN)
    assert get_secret(accounts_home(tmp_path / "server-data", a), SECRET_NAME) is not None


def test_verifys_report_shows_on_a_page_served_by_another_process(
    app: Flask, trust: Trust, api: FakeXApi, database_url: str, tmp_path: Path
) -> None:
    """Workers share the data folder, not memory: the page after verify's redirect
    may be another worker's, and still shows the report."""
    from tweetguard.server.app import create_server_app

    a, b = trust.school_a.id, trust.school_b.id
    policies.save_school_layer(
        trust.db, a, '[[accounts]]\nhandle = "AlderbrookPri"\nvisibility = "protected"\n', by="t"
    )
    other = create_server_app(
        database_url, data_dir=tmp_path / "server-data", testing=True, database=trust.db
    )
    it = signed_in(app, trust.it_a.email)
    post(it, f"/schools/{a}/accounts/credentials", kind="bearer", bearer_token=TOKEN)
    post(it, f"/schools/{a}/accounts/verify")
    cookie = it.get_cookie("tweetguard_server")
    assert cookie is not None
    elsewhere = other.test_client()
    elsewhere.set_cookie("tweetguard_server", cookie.value)
    page = elsewhere.get(f"/schools/{a}/accounts/").data
    # The public account the policy calls protected: verify's problem, read by the other app.
    assert b"is public on X but the policy says protected" in page
    assert b"Verified at" in page
    # Trap: school B's page on that app shows no report of A's.
    admin = other.test_client()
    admin_cookie = signed_in(app, trust.admin.email).get_cookie("tweetguard_server")
    assert admin_cookie is not None
    admin.set_cookie("tweetguard_server", admin_cookie.value)
    b_page = admin.get(f"/schools/{b}/accounts/").data
    assert b"Verified at" not in b_page and b"policy says protected" not in b_page


BIRCH_ID = "7781234"
BIRCH = '[[accounts]]\nhandle = "BirchwoodPri"\nvisibility = "public"\n'
ALDER = '[[accounts]]\nhandle = "AlderbrookPri"\nvisibility = "public"\n'


def test_verify_by_an_it_lead_leaves_a_trust_account_to_the_trust(
    app: Flask, trust: Trust, api: FakeXApi
) -> None:
    """A copy in the school's layer would outlive the trust withdrawing the account."""
    a = trust.school_a.id
    api.add_user(BIRCH_ID, "BirchwoodPri", name="Birchwood Primary")
    policies.save_trust_layer(trust.db, trust.trust.id, ALDER, [], by="test")
    policies.save_school_layer(trust.db, a, BIRCH, by="test")
    it = signed_in(app, trust.it_a.email)
    post(it, f"/schools/{a}/accounts/credentials", kind="bearer", bearer_token=TOKEN)
    page = post(it, f"/schools/{a}/accounts/verify")
    assert b"@AlderbrookPri is approved by the trust: a trust admin adds user_id" in page
    assert ALDER_ID.encode() in page
    _, _, layer = policies.layers(trust.db, a)
    assert "AlderbrookPri" not in layer
    # Trap: the school's own account still gets its id in the school's layer.
    assert f'user_id = "{BIRCH_ID}"' in layer
    policies.save_trust_layer(trust.db, trust.trust.id, "", [], by="test")
    assert "AlderbrookPri" not in policies.effective(trust.db, a)[1]
    assert f'user_id = "{BIRCH_ID}"' in policies.effective(trust.db, a)[1]


def test_verify_by_a_trust_admin_keeps_a_trust_accounts_id_in_the_trusts_layer(
    app: Flask, trust: Trust, api: FakeXApi
) -> None:
    a = trust.school_a.id
    policies.save_trust_layer(trust.db, trust.trust.id, ALDER, ["rules"], by="test")
    admin = signed_in(app, trust.admin.email)
    post(admin, f"/schools/{a}/accounts/credentials", kind="bearer", bearer_token=TOKEN)
    page = post(admin, f"/schools/{a}/accounts/verify")
    assert b"is approved by the trust" not in page
    trust_text, locks, layer = policies.layers(trust.db, a)
    assert f'user_id = "{ALDER_ID}"' in trust_text and locks == ["rules"]
    # Trap: the school's layer is not given a copy.
    assert "AlderbrookPri" not in layer
    policies.save_trust_layer(trust.db, trust.trust.id, "", [], by="test")
    assert "AlderbrookPri" not in policies.effective(trust.db, a)[1]


def test_verify_matches_an_at_handle_and_saves_only_a_change(
    app: Flask, trust: Trust, api: FakeXApi
) -> None:
    a = trust.school_a.id
    policies.save_school_layer(
        trust.db, a, '[[accounts]]\nhandle = "@alderbrookpri"\nvisibility = "public"\n', by="t"
    )
    it = signed_in(app, trust.it_a.email)
    post(it, f"/schools/{a}/accounts/credentials", kind="bearer", bearer_token=TOKEN)
    before = policies.policy_version(trust.db, a)
    post(it, f"/schools/{a}/accounts/verify")
    pinned = policies.policy_version(trust.db, a)
    _, _, layer = policies.layers(trust.db, a)
    # One entry, the school's own, with the id: "@alderbrookpri" is @AlderbrookPri.
    assert layer.count("[[accounts]]") == 1 and 'handle = "@alderbrookpri"' in layer
    assert f'user_id = "{ALDER_ID}"' in layer
    # Trap: the verify that pinned the id does change the version devices see.
    assert pinned != before
    post(it, f"/schools/{a}/accounts/verify")
    assert policies.policy_version(trust.db, a) == pinned
    assert policies.layers(trust.db, a)[2] == layer


def test_a_verify_that_finds_every_id_known_saves_no_layer(
    app: Flask, trust: Trust, api: FakeXApi
) -> None:
    """The layer already names the id in another spelling of the handle: nothing to save."""
    from tweetguard.server.console.accounts import SchoolAccounts
    from tweetguard.xapi.accounts import AccountReport

    a = trust.school_a.id
    text = (
        f'[[accounts]]\nhandle = "@AlderbrookPri"\nvisibility = "public"\nuser_id = "{ALDER_ID}"\n'
    )
    policies.save_school_layer(trust.db, a, text, by="t")
    version = policies.policy_version(trust.db, a)
    scope = SchoolAccounts(trust.db, app.config["TWEETGUARD_DATA_DIR"], a, trust.it_a)
    report = AccountReport("alderbrookpri", "public", ALDER_ID)
    report.resolved = True
    scope._keep_ids([report])
    assert policies.policy_version(trust.db, a) == version
    # Trap: a different id is a change, saved.
    report.user_id = "5540913"
    scope._keep_ids([report])
    assert policies.policy_version(trust.db, a) != version
    assert 'user_id = "5540913"' in policies.layers(trust.db, a)[2]


def test_outside_posts_on_the_accounts_page_only_for_who_reads_the_audit(
    app: Flask, trust: Trust
) -> None:
    from tests.server.conftest import enrolled
    from tweetguard.server import audit

    a = trust.school_a.id
    device_id, _ = enrolled(trust.db, a, "alder-office-pc")
    audit.append(
        trust.db, device_id, "shared", "sweep", account="alderbrookpri", verdict="block",
        rules=["faces"], text="Pupil Ottoline Marchbank at the gala", keep_text=True,
        detail={"tweet_id": "8812", "url": "https://x.com/AlderbrookPri/status/8812"},
        outside=True,
    )  # fmt: skip
    it = signed_in(app, trust.it_a.email)
    page = it.get(f"/schools/{a}/accounts/").data
    assert b"Ottoline" not in page and b'data-tweet="8812"' not in page
    assert b'id="outside-hidden"' in page and b"which a safeguarding lead" in page
    # Trap: the trust admin reads the audit, so the page lists the post with its text.
    shown = signed_in(app, trust.admin.email).get(f"/schools/{a}/accounts/").data
    assert b"Ottoline Marchbank" in shown and b'data-tweet="8812"' in shown
    assert b'id="outside-hidden"' not in shown
