"""The first schema: trusts, schools, users, devices, layered policy, registers, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.String(length=32), nullable=False),
        sa.Column("locked_until", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_sign_in_failures")),
    )
    op.create_table(
        "trusts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusts")),
    )
    op.create_table(
        "schools",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("trust_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trusts.id"], name=op.f("fk_schools_trust_id_trusts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
    )
    op.create_index(op.f("ix_schools_trust_id"), "schools", ["trust_id"], unique=False)
    op.create_table(
        "trust_policies",
        sa.Column("trust_id", sa.String(length=40), nullable=False),
        sa.Column("toml", sa.Text(), nullable=False),
        sa.Column("locks", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trusts.id"], name=op.f("fk_trust_policies_trust_id_trusts")
        ),
        sa.PrimaryKeyConstraint("trust_id", name=op.f("pk_trust_policies")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("trust_id", sa.String(length=40), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["trust_id"], ["trusts.id"], name=op.f("fk_users_trust_id_trusts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_index(op.f("ix_users_trust_id"), "users", ["trust_id"], unique=False)
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("enrolled_at", sa.String(length=32), nullable=False),
        sa.Column("enrolled_with", sa.String(length=16), nullable=False),
        sa.Column("last_seen", sa.String(length=32), nullable=True),
        sa.Column("helper_version", sa.String(length=64), nullable=True),
        sa.Column("policy_version", sa.String(length=64), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_devices_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    op.create_index(op.f("ix_devices_school_id"), "devices", ["school_id"], unique=False)
    op.create_table(
        "enrol_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("used_at", sa.String(length=32), nullable=True),
        sa.Column("device_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_enrol_codes_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_enrol_codes")),
    )
    op.create_index(op.f("ix_enrol_codes_school_id"), "enrol_codes", ["school_id"], unique=False)
    op.create_table(
        "enrol_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_enrol_tokens_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrol_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_enrol_tokens_token_hash")),
    )
    op.create_index(op.f("ix_enrol_tokens_school_id"), "enrol_tokens", ["school_id"], unique=False)
    op.create_table(
        "register_people",
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_register_people_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("school_id", "ref", name=op.f("pk_register_people")),
    )
    op.create_index(
        "ix_register_people_school_revision",
        "register_people",
        ["school_id", "revision"],
        unique=False,
    )
    op.create_table(
        "register_state",
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("kept_from", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_register_state_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_register_state")),
    )
    op.create_table(
        "school_policies",
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("toml", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_school_policies_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("school_id", name=op.f("pk_school_policies")),
    )
    op.create_table(
        "user_schools",
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_user_schools_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_schools_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "school_id", name=op.f("pk_user_schools")),
    )
    op.create_index(op.f("ix_user_schools_school_id"), "user_schools", ["school_id"], unique=False)
    op.create_table(
        "register_uploads",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_register_uploads_school_id_schools")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_uploads")),
    )
    op.create_index(
        op.f("ix_register_uploads_school_id"), "register_uploads", ["school_id"], unique=False
    )
    op.create_table(
        "audit_gaps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=160), nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("expected_seq", sa.Integer(), nullable=False),
        sa.Column("expected_prev", sa.String(length=64), nullable=False),
        sa.Column("got_seq", sa.Integer(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_audit_gaps_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_gaps")),
    )
    op.create_index(op.f("ix_audit_gaps_school_id"), "audit_gaps", ["school_id"], unique=False)
    op.create_table(
        "audit_heads",
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=160), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_audit_heads_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", "source", name=op.f("pk_audit_heads")),
    )
    op.create_table(
        "audit_rows",
        sa.Column("device_id", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=160), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("school_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("device", sa.Text(), nullable=False),
        sa.Column("user", sa.Text(), nullable=False),
        sa.Column("account", sa.Text(), nullable=True),
        sa.Column("account_id", sa.Text(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("outside", sa.Boolean(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_audit_rows_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", "source", "seq", name=op.f("pk_audit_rows")),
    )
    op.create_index("ix_audit_rows_school_at", "audit_rows", ["school_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_rows_school_at", table_name="audit_rows")
    op.drop_table("audit_rows")
    op.drop_table("audit_heads")
    op.drop_index(op.f("ix_register_uploads_school_id"), table_name="register_uploads")
    op.drop_table("register_uploads")
    op.drop_index(op.f("ix_audit_gaps_school_id"), table_name="audit_gaps")
    op.drop_table("audit_gaps")
    op.drop_index(op.f("ix_user_schools_school_id"), table_name="user_schools")
    op.drop_table("user_schools")
    op.drop_table("school_policies")
    op.drop_table("register_state")
    op.drop_index("ix_register_people_school_revision", table_name="register_people")
    op.drop_table("register_people")
    op.drop_index(op.f("ix_enrol_tokens_school_id"), table_name="enrol_tokens")
    op.drop_table("enrol_tokens")
    op.drop_index(op.f("ix_enrol_codes_school_id"), table_name="enrol_codes")
    op.drop_table("enrol_codes")
    op.drop_index(op.f("ix_devices_school_id"), table_name="devices")
    op.drop_table("devices")
    op.drop_index(op.f("ix_users_trust_id"), table_name="users")
    op.drop_table("users")
    op.drop_table("trust_policies")
    op.drop_index(op.f("ix_schools_trust_id"), table_name="schools")
    op.drop_table("schools")
    op.drop_table("trusts")
    op.drop_table("sign_in_failures")
