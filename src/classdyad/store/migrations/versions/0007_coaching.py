"""The coaching cycle: teachers' goals for the next wave, reflections and notes, coach
invitations; and the coach role of user accounts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ROLES_BEFORE = "role IN ('admin', 'researcher', 'coder', 'teacher')"
ROLES_AFTER = "role IN ('admin', 'researcher', 'coder', 'teacher', 'coach')"


def _referencing_rows(bind: sa.Connection) -> dict[str, list[dict]]:
    """The rows of every table with a foreign key to user_account (SQLite only)."""
    inspector = sa.inspect(bind)
    saved = {}
    for name in inspector.get_table_names():
        if any(key['referred_table'] == 'user_account' for key in inspector.get_foreign_keys(name)):
            table = sa.Table(name, sa.MetaData(), autoload_with=bind)
            saved[name] = [dict(row) for row in bind.execute(sa.select(table)).mappings()]
    return saved


def _roles(condition: str) -> None:
    """Replace the CHECK constraint on user_account.role.

    On SQLite the table is rebuilt (copy, drop, rename); dropping it would delete the rows of
    the tables that refer to it (login sessions) by their ON DELETE CASCADE, so those rows are
    put back afterwards, unchanged."""
    bind = op.get_bind()
    saved = _referencing_rows(bind) if bind.dialect.name == 'sqlite' else {}
    with op.batch_alter_table('user_account', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_user_account_role_known'), type_='check')
        batch_op.create_check_constraint('role_known', condition)
    for name, rows in saved.items():
        table = sa.Table(name, sa.MetaData(), autoload_with=bind)
        bind.execute(table.delete())
        if rows:
            bind.execute(table.insert(), rows)


def upgrade() -> None:
    _roles(ROLES_AFTER)
    op.create_table('coaching_goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('classroom_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('students', sa.JSON(), nullable=False),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=True),
    sa.CheckConstraint("kind IN ('fewer_negative', 'more_positive')", name=op.f('ck_coaching_goal_kind_known')),
    sa.CheckConstraint('target IS NULL OR target > 0', name=op.f('ck_coaching_goal_target_positive')),
    sa.ForeignKeyConstraint(['classroom_id'], ['classroom.id'], name=op.f('fk_coaching_goal_classroom_id_classroom'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.id'], name=op.f('fk_coaching_goal_teacher_id_teacher'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_coaching_goal_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_goal'))
    )
    with op.batch_alter_table('coaching_goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_goal_teacher_id'), ['teacher_id'], unique=False)

    op.create_table('coaching_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['goal_id'], ['coaching_goal.id'], name=op.f('fk_coaching_note_goal_id_coaching_goal'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.id'], name=op.f('fk_coaching_note_teacher_id_teacher'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_note'))
    )
    with op.batch_alter_table('coaching_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_note_goal_id'), ['goal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coaching_note_teacher_id'), ['teacher_id'], unique=False)

    op.create_table('coach_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('coach_id', sa.Integer(), nullable=False),
    sa.Column('invited_by', sa.String(length=100), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['coach_id'], ['user_account.id'], name=op.f('fk_coach_invitation_coach_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teacher_id'], ['teacher.id'], name=op.f('fk_coach_invitation_teacher_id_teacher'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coach_invitation')),
    sa.UniqueConstraint('teacher_id', 'coach_id', name=op.f('uq_coach_invitation_teacher_id_coach_id'))
    )
    with op.batch_alter_table('coach_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coach_invitation_coach_id'), ['coach_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coach_invitation_teacher_id'), ['teacher_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('coach_invitation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coach_invitation_teacher_id'))
        batch_op.drop_index(batch_op.f('ix_coach_invitation_coach_id'))

    op.drop_table('coach_invitation')
    with op.batch_alter_table('coaching_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coaching_note_teacher_id'))
        batch_op.drop_index(batch_op.f('ix_coaching_note_goal_id'))

    op.drop_table('coaching_note')
    with op.batch_alter_table('coaching_goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coaching_goal_teacher_id'))

    op.drop_table('coaching_goal')
    op.execute("DELETE FROM user_account WHERE role = 'coach'")
    _roles(ROLES_BEFORE)
