"""Accounts of the web application: users, login sessions, coder assignments, video files.

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=True),
        sa.Column("coder_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "role <> 'coder' OR coder_id IS NOT NULL", name=op.f("ck_user_account_coder_bound")
        ),
        sa.CheckConstraint(
            "role <> 'teacher' OR teacher_id IS NOT NULL",
            name=op.f("ck_user_account_teacher_bound"),
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'researcher', 'coder', 'teacher')",
            name=op.f("ck_user_account_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["coder_id"],
            ["coder.id"],
            name=op.f("fk_user_account_coder_id_coder"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teacher.id"],
            name=op.f("fk_user_account_teacher_id_teacher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_account_coder_id"), ["coder_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_user_account_teacher_id"), ["teacher_id"], unique=False
        )

    op.create_table(
        "login_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_login_session_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_login_session")),
    )
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "coder_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column(
            "assigned_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "role IN ('primary', 'second')", name=op.f("ck_coder_assignment_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["coder_id"],
            ["coder.id"],
            name=op.f("fk_coder_assignment_coder_id_coder"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lesson.id"],
            name=op.f("fk_coder_assignment_lesson_id_lesson"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coder_assignment")),
        sa.UniqueConstraint(
            "lesson_id", "coder_id", name=op.f("uq_coder_assignment_lesson_id_coder_id")
        ),
        sa.UniqueConstraint("lesson_id", "role", name=op.f("uq_coder_assignment_lesson_id_role")),
    )
    with op.batch_alter_table("coder_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coder_assignment_coder_id"), ["coder_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_coder_assignment_lesson_id"), ["lesson_id"], unique=False
        )

    op.create_table(
        "video_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("frame_rate", sa.Float(), nullable=True),
        sa.Column("codec", sa.String(length=50), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column(
            "registered_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "duration_seconds IS NULL OR duration_seconds >= 0",
            name=op.f("ck_video_file_duration_nonnegative"),
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lesson.id"],
            name=op.f("fk_video_file_lesson_id_lesson"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_file")),
        sa.UniqueConstraint("lesson_id", "position", name=op.f("uq_video_file_lesson_id_position")),
    )
    with op.batch_alter_table("video_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_video_file_lesson_id"), ["lesson_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("video_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_video_file_lesson_id"))

    op.drop_table("video_file")
    with op.batch_alter_table("coder_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coder_assignment_lesson_id"))
        batch_op.drop_index(batch_op.f("ix_coder_assignment_coder_id"))

    op.drop_table("coder_assignment")
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_session_user_id"))

    op.drop_table("login_session")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_account_teacher_id"))
        batch_op.drop_index(batch_op.f("ix_user_account_coder_id"))

    op.drop_table("user_account")
