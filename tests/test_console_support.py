"""Shared by the console's unit tests (no tests here): an app on a fresh data folder, signed in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from flask import Flask
from flask.testing import FlaskClient
from keyring.backends import null

from tweetguard.console import create_app

PASSWORD = "plum orchard lantern 42"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_POLICY_SHA = re.compile(r'name="policy_sha256" value="([0-9a-f]*)"')


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """Secrets go to the data folder's 0600 files, never the machine's keyring."""
    before = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(before)


def token(client: FlaskClient, url: str) -> str:
    page = client.get(url)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {url}: {page.status_code}"
    return found.group(1)


def post(client: FlaskClient, url: str, data: dict[str, object], form_page: str | None = None):  # type: ignore[no-untyped-def]
    """Posts `data` as the form on `form_page` (default `url`) would: with its CSRF
    token and, on policy pages, the hash of the file the form was made from."""
    page = client.get(form_page or url).get_data(as_text=True)
    found = _TOKEN.search(page)
    assert found, f"no CSRF token on {form_page or url}"
    fields: dict[str, object] = {"csrf_token": found.group(1)}
    sha = _POLICY_SHA.search(page)
    if sha:
        fields["policy_sha256"] = sha.group(1)
    return client.post(url, data={**fields, **data})


def setup_path(app: Flask) -> str:
    """/setup with the one-time token `tweetguard dashboard` prints."""
    return f"/setup?token={app.extensions['tweetguard_setup_token']}"


def signed_in(home: Path) -> tuple[Flask, FlaskClient]:
    app = create_app(home, testing=True)
    client = app.test_client()
    response = post(client, setup_path(app), {"password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return app, client
