"""Live coding: seating charts per class and wave, live sessions (lesson clock, sampling
method), and each student's minutes present in a lesson.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('seating_chart',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('classroom_id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('columns', sa.Integer(), nullable=False),
    sa.Column('seats', sa.JSON(), nullable=False),
    sa.Column('copied_from_wave_id', sa.Integer(), nullable=True),
    sa.Column('updated_by', sa.String(length=100), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=True),
    sa.CheckConstraint('rows BETWEEN 1 AND 20 AND columns BETWEEN 1 AND 20', name=op.f('ck_seating_chart_grid_size')),
    sa.ForeignKeyConstraint(['classroom_id'], ['classroom.id'], name=op.f('fk_seating_chart_classroom_id_classroom'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['copied_from_wave_id'], ['wave.id'], name=op.f('fk_seating_chart_copied_from_wave_id_wave'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wave_id'], ['wave.id'], name=op.f('fk_seating_chart_wave_id_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seating_chart')),
    sa.UniqueConstraint('classroom_id', 'wave_id', name=op.f('uq_seating_chart_classroom_id_wave_id'))
    )
    with op.batch_alter_table('seating_chart', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seating_chart_classroom_id'), ['classroom_id'], unique=False)

    op.create_table('live_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('observer', sa.String(length=100), nullable=False),
    sa.Column('coder_id', sa.Integer(), nullable=True),
    sa.Column('sampling_method', sa.String(length=12), nullable=False),
    sa.Column('interval_seconds', sa.Float(), nullable=True),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('clock_seconds', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=True),
    sa.CheckConstraint("sampling_method IN ('continuous', 'interval', 'scan')", name=op.f('ck_live_session_sampling_method_known')),
    sa.CheckConstraint("state IN ('running', 'paused', 'ended')", name=op.f('ck_live_session_state_known')),
    sa.CheckConstraint('clock_seconds >= 0', name=op.f('ck_live_session_clock_nonnegative')),
    sa.CheckConstraint('interval_seconds IS NULL OR interval_seconds > 0', name=op.f('ck_live_session_interval_positive')),
    sa.ForeignKeyConstraint(['coder_id'], ['coder.id'], name=op.f('fk_live_session_coder_id_coder'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_live_session_lesson_id_lesson'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_session')),
    sa.UniqueConstraint('lesson_id', 'observer', name=op.f('uq_live_session_lesson_id_observer'))
    )
    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_session_lesson_id'), ['lesson_id'], unique=False)

    with op.batch_alter_table('lesson_attendance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('minutes_present', sa.Float(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('lesson_attendance', schema=None) as batch_op:
        batch_op.drop_column('minutes_present')

    with op.batch_alter_table('live_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_session_lesson_id'))

    op.drop_table('live_session')
    with op.batch_alter_table('seating_chart', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seating_chart_classroom_id'))

    op.drop_table('seating_chart')
