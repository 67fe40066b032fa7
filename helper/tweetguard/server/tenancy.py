"""Trusts, schools, users and roles, and the one permission check every route uses.

A trust admin works on every school of their trust; an IT lead and a safeguarding
lead on the schools they are given. `can(user, action, school_id)` is the only
place that says who may do what: a route asks it, never the role directly, so a
role's reach is read (and tested) in one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from tweetguard.server.db import Database, new_id
from tweetguard.server.db.tables import schools, trusts, user_schools, users
from tweetguard.stores.audit.model import now

TRUST_ADMIN = "trust_admin"
IT_LEAD = "it_lead"
SAFEGUARDING_LEAD = "safeguarding_lead"
ROLES = (TRUST_ADMIN, IT_LEAD, SAFEGUARDING_LEAD)
ROLE_NAMES = {
    TRUST_ADMIN: "trust admin",
    IT_LEAD: "IT lead",
    SAFEGUARDING_LEAD: "safeguarding lead",
}

# Who may do what. Actions with a school need that school to be one of the user's;
# "trust.*" actions act on the user's own trust as a whole.
PERMISSIONS: dict[str, frozenset[str]] = {
    "school.view": frozenset(ROLES),
    "policy.edit": frozenset({TRUST_ADMIN, IT_LEAD}),
    "devices.manage": frozenset({TRUST_ADMIN, IT_LEAD}),
    "register.read": frozenset(ROLES),
    "register.edit": frozenset(ROLES),
    "audit.read": frozenset({TRUST_ADMIN, SAFEGUARDING_LEAD}),
    # The overview: everyone signed in, showing only their schools.
    "trust.overview": frozenset(ROLES),
    "trust.admin": frozenset({TRUST_ADMIN}),
}

MIN_PASSWORD = 12


class TenancyError(ValueError):
    """A trust, school or user cannot be made as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Trust:
    id: str
    name: str


@dataclass(frozen=True)
class School:
    id: str
    trust_id: str
    name: str


@dataclass(frozen=True)
class User:
    id: str
    trust_id: str
    email: str
    name: str
    role: str
    # The schools this user works on: every school of the trust for a trust admin.
    schools: frozenset[str]
    session_epoch: int = 0


def can(user: User | None, action: str, school_id: str | None = None) -> bool:
    """Whether `user` may do `action` (on `school_id`, for a school's action).
    An unknown action is refused, so a typo in a route denies rather than allows."""
    if user is None:
        return False
    allowed = PERMISSIONS.get(action)
    if allowed is None or user.role not in allowed:
        return False
    if action.startswith("trust."):
        return school_id is None or school_id in user.schools
    return school_id is not None and school_id in user.schools


def create_trust(db: Database, name: str) -> Trust:
    name = name.strip()
    if not name:
        raise TenancyError("the trust needs a name; give it with --trust NAME")
    trust = Trust(new_id("t"), name)
    with db.write() as conn:
        conn.execute(trusts.insert().values(id=trust.id, name=name, created_at=now()))
    return trust


def trust(db: Database, trust_id: str) -> Trust | None:
    with db.read() as conn:
        row = conn.execute(
            select(trusts.c.id, trusts.c.name).where(trusts.c.id == trust_id)
        ).first()
    return Trust(row.id, row.name) if row else None


def all_trusts(db: Database) -> list[Trust]:
    with db.read() as conn:
        rows = conn.execute(select(trusts.c.id, trusts.c.name).order_by(trusts.c.name)).all()
    return [Trust(r.id, r.name) for r in rows]


def find_trust(db: Database, name_or_id: str | None) -> Trust:
    """The trust named (or with this id); with None, the only trust there is."""
    found = all_trusts(db)
    if name_or_id is not None:
        found = [t for t in found if name_or_id in (t.id, t.name)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise TenancyError(
            "no such trust; make one with `tweetguard server init`"
            if name_or_id
            else "the database has no trust yet; run `tweetguard server init` first"
        )
    raise TenancyError("the database has several trusts; say which with --trust NAME")


def add_school(db: Database, trust_id: str, name: str) -> School:
    name = name.strip()
    if not name:
        raise TenancyError("the school needs a name")
    school = School(new_id("s"), trust_id, name)
    with db.write() as conn:
        taken = conn.execute(
            select(schools.c.id).where(schools.c.trust_id == trust_id, schools.c.name == name)
        ).first()
        if taken:
            raise TenancyError(f"the trust already has a school named {name!r}; pick another name")
        conn.execute(
            schools.insert().values(id=school.id, trust_id=trust_id, name=name, created_at=now())
        )
    db.notify("tweetguard_policy", f"trust:{trust_id}")
    return school


def school(db: Database, school_id: str) -> School | None:
    with db.read() as conn:
        row = conn.execute(select(schools).where(schools.c.id == school_id)).first()
    return School(row.id, row.trust_id, row.name) if row else None


def schools_of(db: Database, trust_id: str) -> list[School]:
    with db.read() as conn:
        rows = conn.execute(
            select(schools).where(schools.c.trust_id == trust_id).order_by(schools.c.name)
        ).all()
    return [School(r.id, r.trust_id, r.name) for r in rows]


def find_school(db: Database, trust_id: str, name_or_id: str) -> School:
    for found in schools_of(db, trust_id):
        if name_or_id in (found.id, found.name):
            return found
    raise TenancyError(
        f"no school {name_or_id!r} in this trust; "
        "list them with `tweetguard server school list` or add it with `server school add`"
    )


def add_user(
    db: Database,
    trust_id: str,
    email: str,
    password: str,
    role: str,
    school_ids: list[str] | tuple[str, ...] = (),
    *,
    name: str = "",
) -> User:
    """A person who signs in to the server's pages. Leads need at least one school,
    each of this trust; a trust admin's schools are the trust's, so none are given."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise TenancyError(f"{email!r} is not an email address; sign-in is by email")
    if role not in ROLES:
        raise TenancyError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise TenancyError(f"the password is too short; use at least {MIN_PASSWORD} characters")
    own = {s.id for s in schools_of(db, trust_id)}
    wanted = list(dict.fromkeys(school_ids))
    if role != TRUST_ADMIN and not wanted:
        raise TenancyError("an IT or safeguarding lead needs at least one school; give --school")
    foreign = [s for s in wanted if s not in own]
    if foreign:
        raise TenancyError(f"school(s) {', '.join(foreign)} are not of this trust")
    user_id = new_id("u")
    with db.write() as conn:
        if conn.execute(select(users.c.id).where(users.c.email == email)).first():
            raise TenancyError(f"{email} already has an account; use another email address")
        conn.execute(
            users.insert().values(
                id=user_id,
                trust_id=trust_id,
                email=email,
                name=name.strip() or email,
                password_hash=generate_password_hash(password, method="scrypt"),
                role=role,
                disabled=False,
                created_at=now(),
            )
        )
        if role != TRUST_ADMIN and wanted:
            conn.execute(
                user_schools.insert(), [{"user_id": user_id, "school_id": s} for s in wanted]
            )
    found = get_user(db, user_id)
    assert found is not None
    return found


def get_user(db: Database, user_id: str) -> User | None:
    """The user with the schools they work on, read fresh (a removed school or a
    disabled account takes effect at the next request, in every process)."""
    with db.read() as conn:
        row = conn.execute(
            select(users).where(users.c.id == user_id, users.c.disabled.is_(False))
        ).first()
        if row is None:
            return None
        if row.role == TRUST_ADMIN:
            ids = conn.execute(select(schools.c.id).where(schools.c.trust_id == row.trust_id))
        else:
            ids = conn.execute(
                select(user_schools.c.school_id)
                .join(schools, schools.c.id == user_schools.c.school_id)
                .where(user_schools.c.user_id == user_id, schools.c.trust_id == row.trust_id)
            )
        school_ids = frozenset(r[0] for r in ids)
    return User(
        row.id, row.trust_id, row.email, row.name, row.role, school_ids, int(row.session_epoch)
    )


def end_sessions(db: Database, user_id: str) -> None:
    """Signs the user out everywhere: cookies carry the epoch they were made in."""
    with db.write() as conn:
        conn.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(session_epoch=users.c.session_epoch + 1)
        )


def users_of(db: Database, trust_id: str) -> list[User]:
    with db.read() as conn:
        ids = [
            r[0]
            for r in conn.execute(
                select(users.c.id).where(users.c.trust_id == trust_id).order_by(users.c.email)
            )
        ]
    return [u for u in (get_user(db, i) for i in ids) if u is not None]


def check_password(db: Database, email: str, password: str) -> User | None:
    """The user whose email and password these are; None otherwise. The scrypt
    compare runs even for an unknown email, so timing does not say which exist."""
    with db.read() as conn:
        row = conn.execute(
            select(users.c.id, users.c.password_hash).where(
                users.c.email == email.strip().lower(), users.c.disabled.is_(False)
            )
        ).first()
    stored = row.password_hash if row else _dummy_hash()
    if not check_password_hash(stored, password) or row is None:
        return None
    return get_user(db, row.id)


@cache
def _dummy_hash() -> str:
    return generate_password_hash("not a password of anyone's", method="scrypt")
