"""Roles through every route: a user of school A never reads or changes school B,
a trust admin never sees another trust. The walk over app.url_map covers a route
added later without anyone listing it here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.server.conftest import PASSWORD, Trust, enrolled
from tweetguard.server import devices, tenancy
from tweetguard.server.app import create_server_app


def signed_in(app: Flask, email: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data)
    assert token, page.data[:500]
    reply = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1).decode()},
    )
    assert reply.status_code == 302, reply.data[:500]
    # Sign-in starts a new session, so the form token is the one of a page after it.
    fresh = re.search(rb'name="csrf_token" value="([^"]+)"', client.get("/").data)
    assert fresh
    client.environ_base["HTTP_X_CSRFTOKEN"] = fresh.group(1).decode()
    return client


def school_routes(app: Flask) -> list[tuple[str, str, set[str]]]:
    """(rule, endpoint, methods) of every page route with a school in it."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/", "/static")):
            continue
        if "school_id" in rule.arguments:
            found.append((rule.rule, rule.endpoint, set(rule.methods or ()) - {"HEAD", "OPTIONS"}))
    return found


def fill(rule: str, school_id: str, other: dict[str, str]) -> str:
    path = rule.replace("<school_id>", school_id)
    for name, value in other.items():
        path = path.replace(f"<{name}>", value)
    assert "<" not in path, f"add a value for {path} in test_server_roles.fill's callers"
    return path


@pytest.fixture
def b_things(trust: Trust) -> dict[str, str]:
    """Ids of school B's own things, so a route is tried on something real."""
    device_id, _ = enrolled(trust.db, trust.school_b.id, "b-laptop")
    devices.make_token(trust.db, trust.school_b.id, created_by="t")
    (token,) = devices.tokens(trust.db, trust.school_b.id)
    return {"device_id": device_id, "token_id": token.id}


def test_the_walk_finds_the_school_routes(app: Flask) -> None:
    endpoints = {endpoint for _, endpoint, _ in school_routes(app)}
    # Trap for the walk itself: it must see the pages that matter.
    assert {
        "server_pages.school",
        "server_pages.make_code",
        "server_pages.revoke_device",
        "server_policy.save_school_policy",
        "server_register.apply",
        "server_audit.download",
        # The console's accounts blueprint, mounted per school.
        "accounts.index",
        "accounts.run_verify",
        "accounts.store_credentials",
    } <= endpoints


@pytest.mark.parametrize("who", ["it_a", "safeguarding_a"])
def test_a_user_of_school_a_gets_nothing_of_school_b_on_any_route(
    app: Flask, trust: Trust, b_things: dict[str, str], who: str
) -> None:
    me: tenancy.User = getattr(trust, who)
    client = signed_in(app, me.email)
    for rule, endpoint, methods in school_routes(app):
        path = fill(rule, trust.school_b.id, b_things)
        for method in methods:
            reply = client.open(
                path, method=method, data={"upload": "x", "toml": "", "name": "Evil"}
            )
            assert reply.status_code in (403, 404), (who, method, endpoint, reply.status_code)
    # Nothing of B changed: its device still works, its token still enrols.
    assert not devices.devices_of(trust.db, [trust.school_b.id])[0].revoked
    assert devices.tokens(trust.db, trust.school_b.id)[0].revoked_at is None
    # Trap: the same user does reach their own school's page.
    assert client.get(f"/schools/{trust.school_a.id}").status_code == 200
    overview = client.get("/")
    assert overview.status_code == 200
    assert b"Brackenfield" not in overview.data and b"b-laptop" not in overview.data


# Pages any signed-in user (or anyone) may open; every other route without a school
# in its path acts on the whole trust and is the trust admin's only.
OPEN_TO_ALL = {
    "server_auth.login",
    "server_auth.logout",
    "server_pages.overview",
    "static",
    # The console's help page, for everyone signed in.
    "help.index",
}


def test_every_trust_wide_route_refuses_school_leads(app: Flask, trust: Trust) -> None:
    trust_routes = [
        (rule.rule, set(rule.methods or ()) - {"HEAD", "OPTIONS"})
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/api/")
        and "school_id" not in rule.arguments
        and rule.endpoint not in OPEN_TO_ALL
    ]
    assert {"/users", "/trust/policy", "/schools"} <= {r for r, _ in trust_routes}
    for who in (trust.it_a, trust.safeguarding_a):
        client = signed_in(app, who.email)
        for rule, methods in trust_routes:
            assert "<" not in rule, f"a trust-wide route with an argument: test {rule} here"
            for method in methods:
                reply = client.open(rule, method=method, data={"name": "X", "toml": ""})
                assert reply.status_code == 403, (who.email, method, rule, reply.status_code)
    admin = signed_in(app, trust.admin.email)
    for rule, methods in trust_routes:
        if "GET" in methods:
            assert admin.get(rule).status_code == 200, rule


def test_roles_within_their_own_school(app: Flask, trust: Trust) -> None:
    a = trust.school_a.id
    it = signed_in(app, trust.it_a.email)
    safeguarding = signed_in(app, trust.safeguarding_a.email)
    # The safeguarding lead reads the audit and the register; the IT lead does not read the audit.
    assert safeguarding.get(f"/schools/{a}/audit").status_code == 200
    assert it.get(f"/schools/{a}/audit").status_code == 403
    assert safeguarding.get(f"/schools/{a}/register").status_code == 200
    # The IT lead edits policy and devices; the safeguarding lead does not.
    assert it.get(f"/schools/{a}/policy").status_code == 200
    assert safeguarding.get(f"/schools/{a}/policy").status_code == 403
    assert safeguarding.post(f"/schools/{a}/codes").status_code == 403
    made = it.post(f"/schools/{a}/codes")
    assert made.status_code == 200 and b"One-time enrolment code" in made.data
    # Trust pages are the trust admin's only.
    for client in (it, safeguarding):
        assert client.get("/users").status_code == 403
        assert client.get("/trust/policy").status_code == 403
        assert client.post("/schools", data={"name": "Sneaky School"}).status_code == 403
    assert [s.name for s in tenancy.schools_of(trust.db, trust.trust.id)] == [
        "Alderbrook Primary",
        "Brackenfield Juniors",
    ]


def test_a_trust_admin_sees_only_their_own_trust(
    app: Flask, trust: Trust, b_things: dict[str, str]
) -> None:
    other = tenancy.create_trust(trust.db, "Hillside Schools Partnership")
    hill = tenancy.add_school(trust.db, other.id, "Hillside Infants")
    tenancy.add_user(trust.db, other.id, "admin@hillside.example", PASSWORD, "trust_admin")
    stranger = signed_in(app, "admin@hillside.example")
    for school in (trust.school_a, trust.school_b):
        for rule, endpoint, methods in school_routes(app):
            path = fill(rule, school.id, b_things)
            for method in methods:
                reply = stranger.open(path, method=method, data={"upload": "x", "toml": ""})
                assert reply.status_code in (403, 404), (method, endpoint)
    overview = stranger.get("/")
    assert b"Alderbrook" not in overview.data and b"Hillside Infants" in overview.data
    users = stranger.get("/users")
    assert b"alderbrook.example" not in users.data
    # Adding a user to another trust's school is refused.
    refused = stranger.post(
        "/users",
        data={
            "email": "spy@hillside.example",
            "password": PASSWORD,
            "role": "safeguarding_lead",
            "schools": trust.school_a.id,
        },
    )
    assert refused.status_code == 400 and b"not of this trust" in refused.data
    # Trap: the trust's own admin reaches every school of theirs.
    admin = signed_in(app, trust.admin.email)
    for school in (trust.school_a, trust.school_b):
        assert admin.get(f"/schools/{school.id}/audit").status_code == 200
    assert stranger.get(f"/schools/{hill.id}/audit").status_code == 200


def test_sign_in_locks_after_five_wrong_passwords(app: Flask, trust: Trust) -> None:
    client = app.test_client()
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data)
    assert token
    data = {"email": trust.it_a.email, "csrf_token": token.group(1).decode()}
    for _ in range(5):
        assert client.post("/login", data={**data, "password": "wrong guess"}).status_code == 401
    locked = client.post("/login", data={**data, "password": PASSWORD})
    assert locked.status_code == 429 and b"Too many wrong passwords" in locked.data
    # Trap: another user is not locked by it.
    assert signed_in(app, trust.safeguarding_a.email).get("/").status_code == 200


def test_forms_need_the_csrf_token(app: Flask, trust: Trust) -> None:
    client = signed_in(app, trust.admin.email)
    del client.environ_base["HTTP_X_CSRFTOKEN"]
    refused = client.post("/schools", data={"name": "Forged School"})
    assert refused.status_code == 400
    assert len(tenancy.schools_of(trust.db, trust.trust.id)) == 2


def test_pages_without_sign_in_send_to_sign_in(app: Flask, trust: Trust) -> None:
    client = app.test_client()
    reply = client.get(f"/schools/{trust.school_a.id}/audit")
    assert reply.status_code == 302 and "/login" in reply.headers["Location"]


def test_audit_export_and_register_import_through_the_pages(
    app: Flask, trust: Trust, tmp_path: Path
) -> None:
    from tests.server.audit_rows import chain
    from tweetguard.server import audit

    device_id, _ = enrolled(trust.db, trust.school_a.id)
    audit.accept(trust.db, device_id, "shared", chain(tmp_path / "d", 3))
    dsl = signed_in(app, trust.safeguarding_a.email)
    csv_reply = dsl.get(f"/schools/{trust.school_a.id}/audit/export?format=csv&verdict=warn")
    assert csv_reply.status_code == 200
    lines = csv_reply.data.decode().splitlines()
    assert lines[0].startswith("source,seq,at,kind") and len(lines) == 2
    jsonl = dsl.get(f"/schools/{trust.school_a.id}/audit/export?format=jsonl")
    assert len(jsonl.data.decode().splitlines()) == 3
    export = b"Legal Forename,Legal Surname,Reg Group,Social Media Consent\nNell,Arden,2B,Yes\n"
    from io import BytesIO

    uploaded = dsl.post(
        f"/schools/{trust.school_a.id}/register/upload",
        data={"file": (BytesIO(export), "arbor.csv")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    preview = dsl.get(uploaded.headers["Location"])
    assert preview.status_code == 200 and b"1 added" in preview.data
    upload_id = re.search(rb'name="upload" value="([^"]+)"', preview.data)
    assert upload_id
    # Another school's lead cannot apply A's upload through B's path.
    other = signed_in(app, trust.safeguarding_b.email)
    other.post(
        f"/schools/{trust.school_b.id}/register/apply", data={"upload": upload_id.group(1).decode()}
    )
    from tweetguard.server import registers

    assert registers.people(trust.db, trust.school_b.id) == []
    applied = dsl.post(
        f"/schools/{trust.school_a.id}/register/apply", data={"upload": upload_id.group(1).decode()}
    )
    assert applied.status_code == 302
    assert [p["first_name"] for p in registers.people(trust.db, trust.school_a.id)] == ["Nell"]


def test_policy_pages_validate_every_affected_school(app: Flask, trust: Trust) -> None:
    admin = signed_in(app, trust.admin.email)
    bad = admin.post(
        "/trust/policy", data={"toml": '[rules."x"]\nseverity = "loud"\n', "locks": ""}
    )
    assert bad.status_code == 400 and b"Not saved" in bad.data
    good = admin.post(
        "/trust/policy", data={"toml": "[posting]\nconfirm_account = true\n", "locks": "posting"}
    )
    assert good.status_code == 302
    it = signed_in(app, trust.it_a.email)
    locked = it.post(
        f"/schools/{trust.school_a.id}/policy", data={"toml": "[posting]\nlogout_on_lock = false\n"}
    )
    assert locked.status_code == 400 and b"locked by the trust" in locked.data
    saved = it.post(
        f"/schools/{trust.school_a.id}/policy",
        data={"toml": '[allow]\nplaces = ["Alderbrook Rec"]\n'},
    )
    assert saved.status_code == 302
    page = it.get(f"/schools/{trust.school_a.id}/policy")
    assert b"Alderbrook Rec" in page.data and b"confirm_account = true" in page.data


def test_a_new_app_per_process_reads_the_same_sign_in(
    trust: Trust, database_url: str, tmp_path: Path
) -> None:
    """Two server processes (two apps over one database and one data dir) accept
    each other's sessions: nothing of a sign-in lives in one process."""
    data_dir = tmp_path / "shared-data"
    first = create_server_app(database_url, data_dir=data_dir, testing=True, database=trust.db)
    second = create_server_app(database_url, data_dir=data_dir, testing=True, database=trust.db)
    client = signed_in(first, trust.admin.email)
    cookie = client.get_cookie("tweetguard_server")
    assert cookie is not None
    other = second.test_client()
    other.set_cookie("tweetguard_server", cookie.value)
    assert other.get("/users").status_code == 200


def test_the_overview_counts_each_schools_devices(app: Flask, trust: Trust, tmp_path: Path) -> None:
    from tests.server.audit_rows import chain
    from tests.server.conftest import bearer
    from tweetguard.server import audit

    client = app.test_client()
    current, _ = enrolled(trust.db, trust.school_a.id, "hall-pc")
    _, credential = enrolled(trust.db, trust.school_a.id, "office-pc")
    stale, _ = enrolled(trust.db, trust.school_a.id, "old-pc")
    devices.revoke(trust.db, trust.school_a.id, stale)
    assert client.get("/api/v1/policy", headers=bearer(credential)).status_code == 200
    tampered = chain(tmp_path / "d", 2)
    tampered[1]["kind"] = "post"
    audit.accept(trust.db, current, "shared", tampered[:1])
    with pytest.raises(audit.ChainBroken):
        audit.accept(trust.db, current, "shared", tampered[1:])
    summary = devices.summary(trust.db, [trust.school_a.id, trust.school_b.id])
    a = summary[trust.school_a.id]
    assert a.enrolled == 2  # the removed device is not counted
    assert a.on_version("0.0") == 1  # office-pc fetched it; hall-pc never asked
    assert trust.school_b.id not in summary
    page = signed_in(app, trust.admin.email).get("/")
    row = re.search(rf'<tr id="school-{trust.school_a.id}">(.*?)</tr>'.encode(), page.data, re.S)
    assert row
    numbers = re.findall(rb'class="num[^"]*">(\d+)<', row.group(1))
    assert numbers == [b"2", b"1", b"1", b"1"]  # devices, seen, on policy, refused pushes


def test_signing_out_ends_the_session_everywhere(app: Flask, trust: Trust) -> None:
    client = signed_in(app, trust.admin.email)
    cookie = client.get_cookie("tweetguard_server")
    assert cookie is not None
    copy = app.test_client()
    copy.set_cookie("tweetguard_server", cookie.value)
    assert copy.get("/users").status_code == 200
    assert client.post("/logout").status_code == 302
    # The copied cookie (another browser, or a stolen one) no longer works.
    assert copy.get("/users").status_code == 302
    # Trap: signing in again works.
    assert signed_in(app, trust.admin.email).get("/users").status_code == 200


def test_every_page_renders_for_the_trust_admin(
    app: Flask, trust: Trust, b_things: dict[str, str]
) -> None:
    """Every GET page of school B opens for the admin of its trust (a template
    error on a page nobody listed would show here)."""
    admin = signed_in(app, trust.admin.email)
    for rule, endpoint, methods in school_routes(app):
        if "GET" not in methods:
            continue
        reply = admin.get(fill(rule, trust.school_b.id, b_things))
        # The preview without an upload sends back to the register page.
        assert reply.status_code in (200, 302), (endpoint, reply.status_code)
        if reply.status_code == 302:
            assert endpoint == "server_register.preview"
