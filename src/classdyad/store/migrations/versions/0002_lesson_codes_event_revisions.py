"""Lesson codes and coding status; revisions of coded events (updates and voids keep the original).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_STATUSES = "('not_coded', 'coding', 'coded', 'checked')"


def upgrade() -> None:
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("coding_status", sa.String(length=20),
                                      server_default="not_coded", nullable=False))
        batch_op.create_check_constraint(op.f("ck_lesson_coding_status_known"),
                                         f"coding_status IN {_STATUSES}")
        batch_op.create_unique_constraint(op.f("uq_lesson_classroom_id_code"),
                                          ["classroom_id", "code"])
    with op.batch_alter_table("interaction_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1",
                                      nullable=False))
        batch_op.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "interaction_event_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True),
                  server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("video_seconds", sa.Float(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("valence", sa.String(length=10), nullable=False),
        sa.Column("subtype", sa.String(length=50), nullable=True),
        sa.Column("codebook_id", sa.Integer(), nullable=True),
        sa.Column("coder_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("action IN ('update', 'void')",
                           name=op.f("ck_interaction_event_revision_action_known")),
        sa.ForeignKeyConstraint(["event_id"], ["interaction_event.id"],
                                name=op.f("fk_interaction_event_revision_event_id_interaction_event"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_event_revision")),
        sa.UniqueConstraint("event_id", "revision",
                            name=op.f("uq_interaction_event_revision_event_id_revision")),
    )
    with op.batch_alter_table("interaction_event_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interaction_event_revision_event_id"), ["event_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("interaction_event_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interaction_event_revision_event_id"))
    op.drop_table("interaction_event_revision")
    with op.batch_alter_table("interaction_event", schema=None) as batch_op:
        batch_op.drop_column("voided_at")
        batch_op.drop_column("revision")
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_lesson_classroom_id_code"), type_="unique")
        batch_op.drop_constraint(op.f("ck_lesson_coding_status_known"), type_="check")
        batch_op.drop_column("coding_status")
        batch_op.drop_column("code")
