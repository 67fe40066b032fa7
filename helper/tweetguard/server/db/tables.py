"""The server's tables, in SQLAlchemy Core: one definition both backends share.

The Alembic migrations in `migrations/versions/` create exactly these (a test
compares them), so a change here needs a new migration too. Times are ISO 8601
UTC text (`stores.audit.format_time`): they sort as text on both backends and read
the same in a dump as in the audit's own files.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = 40  # "t_", "s_", "u_", "d_" and 16 hex digits fit with room to spare
TIME = 32
HASH = 64

trusts = Table(
    "trusts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", String(TIME), nullable=False),
)

schools = Table(
    "schools",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("trust_id", String(ID), ForeignKey("trusts.id"), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("created_at", String(TIME), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("trust_id", String(ID), ForeignKey("trusts.id"), nullable=False, index=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("role", String(32), nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", String(TIME), nullable=False),
    # Raised at sign-out: every session cookie made before it stops working, in
    # every server process (migration 0002).
    Column("session_epoch", Integer, nullable=False, server_default="0"),
)

user_schools = Table(
    "user_schools",
    metadata,
    Column("user_id", String(ID), ForeignKey("users.id"), primary_key=True),
    Column("school_id", String(ID), ForeignKey("schools.id"), primary_key=True, index=True),
)

# One row per failed sign-in window: the lockout is shared by every server process.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("first_at", String(TIME), nullable=False),
    Column("locked_until", String(TIME), nullable=True),
)

enrol_codes = Table(
    "enrol_codes",
    metadata,
    Column("code_hash", String(HASH), primary_key=True),
    Column("school_id", String(ID), ForeignKey("schools.id"), nullable=False, index=True),
    Column("created_by", String(ID), nullable=False),
    Column("created_at", String(TIME), nullable=False),
    Column("expires_at", String(TIME), nullable=False),
    Column("used_at", String(TIME), nullable=True),
    Column("device_id", String(ID), nullable=True),
)

enrol_tokens = Table(
    "enrol_tokens",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("token_hash", String(HASH), nullable=False, unique=True),
    Column("school_id", String(ID), ForeignKey("schools.id"), nullable=False, index=True),
    Column("created_by", String(ID), nullable=False),
    Column("created_at", String(TIME), nullable=False),
    Column("revoked_at", String(TIME), nullable=True),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("school_id", String(ID), ForeignKey("schools.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("secret_hash", String(HASH), nullable=False),
    Column("enrolled_at", String(TIME), nullable=False),
    Column("enrolled_with", String(16), nullable=False),
    Column("last_seen", String(TIME), nullable=True),
    Column("helper_version", String(64), nullable=True),
    Column("policy_version", String(64), nullable=True),
    Column("revoked", Boolean, nullable=False),
)

trust_policies = Table(
    "trust_policies",
    metadata,
    Column("trust_id", String(ID), ForeignKey("trusts.id"), primary_key=True),
    Column("toml", Text, nullable=False),
    Column("locks", Text, nullable=False),  # JSON list of dotted keys
    Column("version", Integer, nullable=False),
    Column("updated_at", String(TIME), nullable=False),
    Column("updated_by", String(ID), nullable=True),
)

school_policies = Table(
    "school_policies",
    metadata,
    Column("school_id", String(ID), ForeignKey("schools.id"), primary_key=True),
    Column("toml", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", String(TIME), nullable=False),
    Column("updated_by", String(ID), nullable=True),
)

register_state = Table(
    "register_state",
    metadata,
    Column("school_id", String(ID), ForeignKey("schools.id"), primary_key=True),
    Column("revision", Integer, nullable=False),
    # Deletions older than this revision are forgotten: a device behind it gets all.
    Column("kept_from", Integer, nullable=False),
    Column("updated_at", String(TIME), nullable=False),
)

register_people = Table(
    "register_people",
    metadata,
    Column("school_id", String(ID), ForeignKey("schools.id"), primary_key=True),
    Column("ref", String(80), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("fields", Text, nullable=False),  # the person's JSON (docs/server-api.md)
    Column("revision", Integer, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Index("ix_register_people_school_revision", "school_id", "revision"),
)

# An uploaded MIS export between its preview and "apply": in the database, so the
# apply may reach another server process; deleted after an hour.
register_uploads = Table(
    "register_uploads",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("school_id", String(ID), ForeignKey("schools.id"), nullable=False, index=True),
    Column("created_by", String(ID), nullable=False),
    Column("created_at", String(TIME), nullable=False),
    Column("filename", Text, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

audit_rows = Table(
    "audit_rows",
    metadata,
    Column("device_id", String(ID), ForeignKey("devices.id"), primary_key=True),
    Column("source", String(160), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("school_id", String(ID), nullable=False),
    Column("at", String(TIME), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("device", Text, nullable=False),
    Column("user", Text, nullable=False),
    Column("account", Text, nullable=True),
    Column("account_id", Text, nullable=True),
    Column("verdict", String(16), nullable=True),
    Column("rules", Text, nullable=False),  # JSON list
    Column("text_sha256", String(HASH), nullable=True),
    Column("text", Text, nullable=True),
    Column("detail", Text, nullable=False),  # JSON object
    Column("outside", Boolean, nullable=False),
    Column("prev_hash", String(HASH), nullable=False),
    Column("hash", String(HASH), nullable=False),
    Column("received_at", String(TIME), nullable=False),
    Index("ix_audit_rows_school_at", "school_id", "at"),
)

audit_heads = Table(
    "audit_heads",
    metadata,
    Column("device_id", String(ID), ForeignKey("devices.id"), primary_key=True),
    Column("source", String(160), primary_key=True),
    Column("last_seq", Integer, nullable=False),
    Column("last_hash", String(HASH), nullable=False),
    Column("updated_at", String(TIME), nullable=False),
)

audit_gaps = Table(
    "audit_gaps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(ID), ForeignKey("devices.id"), nullable=False),
    Column("source", String(160), nullable=False),
    Column("school_id", String(ID), nullable=False, index=True),
    Column("at", String(TIME), nullable=False),
    Column("expected_seq", Integer, nullable=False),
    Column("expected_prev", String(HASH), nullable=False),
    Column("got_seq", Integer, nullable=True),
    Column("problem", Text, nullable=False),
)
