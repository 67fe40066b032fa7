"""Fixtures for the server's tests: a database of each backend, a trust with
schools, users and enrolled devices, and the app over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.server.pg import Cluster, cluster
from tweetguard.server import devices, notify, tenancy
from tweetguard.server.app import create_server_app
from tweetguard.server.db import Database, open_database, upgrade

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One PostgreSQL cluster for the whole session (startup is the slow part)."""
    with cluster() as running:
        yield running


@pytest.fixture(autouse=True)
def _no_keyring() -> Iterator[None]:
    """Every server test keeps secrets in its data folder's 0600 files: keyring's
    backend is one per process, and one an earlier test left in force made two apps
    of the same data folder disagree on the session key (a test passing alone and
    failing in the full run)."""
    import keyring
    from keyring.backends import null

    before = keyring.get_keyring()
    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(before)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file of the test's own, or a database of the
    test's own in the session's PostgreSQL cluster."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server.sqlite3'}"
        return
    running: Cluster = request.getfixturevalue("pg_cluster")
    with running.database() as url:
        yield url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    upgrade(database_url)
    database = open_database(database_url)
    yield database
    # The app installs LISTEN/NOTIFY (server/notify.py): its listener stops with the test,
    # before the test's database (and, at the end, the cluster) goes away.
    notify.hub(database).close()
    database.dispose()


@dataclass
class Trust:
    db: Database
    trust: tenancy.Trust
    school_a: tenancy.School
    school_b: tenancy.School
    admin: tenancy.User
    it_a: tenancy.User
    safeguarding_a: tenancy.User
    safeguarding_b: tenancy.User


@pytest.fixture
def trust(db: Database) -> Trust:
    made = tenancy.create_trust(db, "Riverside Learning Trust")
    a = tenancy.add_school(db, made.id, "Alderbrook Primary")
    b = tenancy.add_school(db, made.id, "Brackenfield Juniors")
    admin = tenancy.add_user(db, made.id, "head.of.it@riverside.example", PASSWORD, "trust_admin")
    it_a = tenancy.add_user(db, made.id, "it@alderbrook.example", PASSWORD, "it_lead", [a.id])
    sg_a = tenancy.add_user(
        db, made.id, "dsl@alderbrook.example", PASSWORD, "safeguarding_lead", [a.id]
    )
    sg_b = tenancy.add_user(
        db, made.id, "dsl@brackenfield.example", PASSWORD, "safeguarding_lead", [b.id]
    )
    return Trust(db, made, a, b, tenancy.get_user(db, admin.id) or admin, it_a, sg_a, sg_b)


@pytest.fixture
def app(trust: Trust, database_url: str, tmp_path: Path) -> Flask:
    return create_server_app(
        database_url, data_dir=tmp_path / "server-data", testing=True, database=trust.db
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def enrolled(db: Database, school_id: str, name: str = "classroom-7") -> tuple[str, str]:
    """(device id, credential) of a helper enrolled in the school with a fresh code."""
    code = devices.make_code(db, school_id, created_by="test")
    device, credential = devices.enrol(db, code, name=name, kind="helper")
    return device.id, credential


def bearer(credential: str, version: str = "0.9.0") -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}", "X-Tweetguard-Helper": version}
