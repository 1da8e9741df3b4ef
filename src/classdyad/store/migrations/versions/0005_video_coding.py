"""Video coding: event revisions, lesson progress, presence segments, adjudications; the frame
and source of each event; coders' reaction-time offset and master-coder flag.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('adjudication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('decision', sa.String(length=10), nullable=False),
    sa.Column('event_client_id', sa.String(length=64), nullable=True),
    sa.Column('adjudicator', sa.String(length=100), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=True),
    sa.CheckConstraint("decision IN ('keep_a', 'keep_b', 'edit', 'add', 'drop')", name=op.f('ck_adjudication_decision_known')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_adjudication_lesson_id_lesson'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjudication')),
    sa.UniqueConstraint('lesson_id', 'unit', name=op.f('uq_adjudication_lesson_id_unit'))
    )
    with op.batch_alter_table('adjudication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjudication_lesson_id'), ['lesson_id'], unique=False)

    op.create_table('event_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('coder_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('content', sa.JSON(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=True),
    sa.CheckConstraint("action IN ('create', 'edit', 'delete')", name=op.f('ck_event_revision_action_known')),
    sa.CheckConstraint('revision >= 1', name=op.f('ck_event_revision_revision_positive')),
    sa.ForeignKeyConstraint(['coder_id'], ['coder.id'], name=op.f('fk_event_revision_coder_id_coder'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_event_revision_lesson_id_lesson'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_revision')),
    sa.UniqueConstraint('client_id', 'revision', name=op.f('uq_event_revision_client_id_revision'))
    )
    with op.batch_alter_table('event_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_revision_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_revision_coder_id'), ['coder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_event_revision_lesson_id'), ['lesson_id'], unique=False)

    op.create_table('lesson_coding',
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('coder_id', sa.Integer(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['coder_id'], ['coder.id'], name=op.f('fk_lesson_coding_coder_id_coder'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_lesson_coding_lesson_id_lesson'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lesson_id', 'coder_id', name=op.f('pk_lesson_coding'))
    )
    with op.batch_alter_table('lesson_coding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_coding_coder_id'), ['coder_id'], unique=False)

    op.create_table('presence_segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('student_id', sa.Integer(), nullable=False),
    sa.Column('coder_id', sa.Integer(), nullable=True),
    sa.Column('start_seconds', sa.Float(), nullable=False),
    sa.Column('end_seconds', sa.Float(), nullable=True),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.Column('visible', sa.Boolean(), nullable=False),
    sa.CheckConstraint('end_seconds IS NULL OR end_seconds >= start_seconds', name=op.f('ck_presence_segment_end_after_start')),
    sa.CheckConstraint('start_seconds >= 0', name=op.f('ck_presence_segment_start_nonnegative')),
    sa.ForeignKeyConstraint(['coder_id'], ['coder.id'], name=op.f('fk_presence_segment_coder_id_coder'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lesson.id'], name=op.f('fk_presence_segment_lesson_id_lesson'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['student_id'], ['student.id'], name=op.f('fk_presence_segment_student_id_student'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_presence_segment')),
    sa.UniqueConstraint('client_id', name=op.f('uq_presence_segment_client_id'))
    )
    with op.batch_alter_table('presence_segment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_presence_segment_lesson_id'), ['lesson_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_presence_segment_student_id'), ['student_id'], unique=False)

    with op.batch_alter_table('coder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reaction_offset_seconds', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('master', sa.Boolean(), nullable=True))

    with op.batch_alter_table('interaction_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frame', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('superseded', sa.Boolean(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('interaction_event', schema=None) as batch_op:
        batch_op.drop_column('superseded')
        batch_op.drop_column('source')
        batch_op.drop_column('frame')

    with op.batch_alter_table('coder', schema=None) as batch_op:
        batch_op.drop_column('master')
        batch_op.drop_column('reaction_offset_seconds')

    with op.batch_alter_table('presence_segment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_presence_segment_student_id'))
        batch_op.drop_index(batch_op.f('ix_presence_segment_lesson_id'))

    op.drop_table('presence_segment')
    with op.batch_alter_table('lesson_coding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_coding_coder_id'))

    op.drop_table('lesson_coding')
    with op.batch_alter_table('event_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_revision_lesson_id'))
        batch_op.drop_index(batch_op.f('ix_event_revision_coder_id'))
        batch_op.drop_index(batch_op.f('ix_event_revision_client_id'))

    op.drop_table('event_revision')
    with op.batch_alter_table('adjudication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjudication_lesson_id'))

    op.drop_table('adjudication')
