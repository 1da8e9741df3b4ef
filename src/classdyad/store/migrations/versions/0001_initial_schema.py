"""The initial schema: study structure, observations, questionnaires, IAT and audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("entity", sa.String(length=50), nullable=False),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_study")),
        sa.UniqueConstraint("name", name=op.f("uq_study_name")),
    )
    op.create_table(
        "codebook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_codebook_study_id_study"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_codebook")),
        sa.UniqueConstraint(
            "study_id", "name", "version", name=op.f("uq_codebook_study_id_name_version")
        ),
    )
    with op.batch_alter_table("codebook", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_codebook_study_id"), ["study_id"], unique=False)

    op.create_table(
        "coder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_coder_study_id_study"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coder")),
        sa.UniqueConstraint("study_id", "code", name=op.f("uq_coder_study_id_code")),
    )
    with op.batch_alter_table("coder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_coder_study_id"), ["study_id"], unique=False)

    op.create_table(
        "instrument",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=False),
        sa.Column("informant", sa.String(length=10), nullable=False),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "informant IN ('teacher', 'student')", name=op.f("ck_instrument_informant_known")
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["study.id"],
            name=op.f("fk_instrument_study_id_study"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instrument")),
        sa.UniqueConstraint(
            "study_id", "code", "version", name=op.f("uq_instrument_study_id_code_version")
        ),
    )
    with op.batch_alter_table("instrument", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instrument_study_id"), ["study_id"], unique=False)

    op.create_table(
        "school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_school_study_id_study"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("study_id", "code", name=op.f("uq_school_study_id_code")),
    )
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_school_study_id"), ["study_id"], unique=False)

    op.create_table(
        "student",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("gender", sa.String(length=10), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("birth_country", sa.String(length=3), nullable=True),
        sa.Column("mother_birth_country", sa.String(length=3), nullable=True),
        sa.Column("father_birth_country", sa.String(length=3), nullable=True),
        sa.Column("mother_education", sa.String(length=40), nullable=True),
        sa.Column("father_education", sa.String(length=40), nullable=True),
        sa.CheckConstraint(
            "gender IS NULL OR gender IN ('girl', 'boy', 'other')",
            name=op.f("ck_student_gender_known"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_student_study_id_study"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_student")),
        sa.UniqueConstraint("study_id", "code", name=op.f("uq_student_study_id_code")),
    )
    with op.batch_alter_table("student", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_student_study_id"), ["study_id"], unique=False)

    op.create_table(
        "teacher",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("gender", sa.String(length=10), nullable=True),
        sa.Column("years_experience", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "gender IS NULL OR gender IN ('girl', 'boy', 'other')",
            name=op.f("ck_teacher_gender_known"),
        ),
        sa.CheckConstraint(
            "years_experience IS NULL OR years_experience >= 0",
            name=op.f("ck_teacher_experience_nonnegative"),
        ),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_teacher_study_id_study"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teacher")),
        sa.UniqueConstraint("study_id", "code", name=op.f("uq_teacher_study_id_code")),
    )
    with op.batch_alter_table("teacher", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teacher_study_id"), ["study_id"], unique=False)

    op.create_table(
        "wave",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "end_date IS NULL OR start_date IS NULL OR end_date >= start_date",
            name=op.f("ck_wave_dates_ordered"),
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_wave_number_positive")),
        sa.ForeignKeyConstraint(
            ["study_id"], ["study.id"], name=op.f("fk_wave_study_id_study"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wave")),
        sa.UniqueConstraint("study_id", "number", name=op.f("uq_wave_study_id_number")),
    )
    with op.batch_alter_table("wave", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wave_study_id"), ["study_id"], unique=False)

    op.create_table(
        "classroom",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("lowest_grade", sa.Integer(), nullable=False),
        sa.Column("highest_grade", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "lowest_grade <= highest_grade", name=op.f("ck_classroom_grades_ordered")
        ),
        sa.CheckConstraint(
            "lowest_grade BETWEEN 1 AND 8 AND highest_grade BETWEEN 1 AND 8",
            name=op.f("ck_classroom_grades_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_classroom_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classroom")),
        sa.UniqueConstraint("school_id", "code", name=op.f("uq_classroom_school_id_code")),
    )
    with op.batch_alter_table("classroom", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_classroom_school_id"), ["school_id"], unique=False)

    op.create_table(
        "codebook_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("codebook_id", sa.Integer(), nullable=False),
        sa.Column("subtype", sa.String(length=50), nullable=False),
        sa.Column("valence", sa.String(length=10), nullable=False),
        sa.Column("hotkey", sa.String(length=10), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.CheckConstraint(
            "valence IN ('positive', 'negative', 'neutral')",
            name=op.f("ck_codebook_category_valence_known"),
        ),
        sa.ForeignKeyConstraint(
            ["codebook_id"],
            ["codebook.id"],
            name=op.f("fk_codebook_category_codebook_id_codebook"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_codebook_category")),
        sa.UniqueConstraint(
            "codebook_id", "hotkey", name=op.f("uq_codebook_category_codebook_id_hotkey")
        ),
        sa.UniqueConstraint(
            "codebook_id", "subtype", name=op.f("uq_codebook_category_codebook_id_subtype")
        ),
    )
    op.create_table(
        "iat_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("administered_on", sa.Date(), nullable=True),
        sa.Column("compatible_first", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teacher.id"],
            name=op.f("fk_iat_session_teacher_id_teacher"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["wave.id"], name=op.f("fk_iat_session_wave_id_wave"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iat_session")),
        sa.UniqueConstraint(
            "teacher_id", "kind", "wave_id", name=op.f("uq_iat_session_teacher_id_kind_wave_id")
        ),
    )
    with op.batch_alter_table("iat_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_iat_session_teacher_id"), ["teacher_id"], unique=False)

    op.create_table(
        "questionnaire_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instrument.id"],
            name=op.f("fk_questionnaire_response_instrument_id_instrument"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["student.id"],
            name=op.f("fk_questionnaire_response_student_id_student"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teacher.id"],
            name=op.f("fk_questionnaire_response_teacher_id_teacher"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"],
            ["wave.id"],
            name=op.f("fk_questionnaire_response_wave_id_wave"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_response")),
        sa.UniqueConstraint(
            "instrument_id",
            "wave_id",
            "teacher_id",
            "student_id",
            name=op.f("uq_questionnaire_response_instrument_id_wave_id_teacher_id_student_id"),
        ),
    )
    with op.batch_alter_table("questionnaire_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_response_student_id"), ["student_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_questionnaire_response_wave_id"), ["wave_id"], unique=False
        )

    op.create_table(
        "student_roster",
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["student.id"],
            name=op.f("fk_student_roster_student_id_student"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("student_id", name=op.f("pk_student_roster")),
    )
    op.create_table(
        "classroom_teacher",
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["classroom_id"],
            ["classroom.id"],
            name=op.f("fk_classroom_teacher_classroom_id_classroom"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teacher.id"],
            name=op.f("fk_classroom_teacher_teacher_id_teacher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("classroom_id", "teacher_id", name=op.f("pk_classroom_teacher")),
    )
    with op.batch_alter_table("classroom_teacher", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_classroom_teacher_teacher_id"), ["teacher_id"], unique=False
        )

    op.create_table(
        "enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.CheckConstraint("grade BETWEEN 1 AND 8", name=op.f("ck_enrolment_grade_in_range")),
        sa.ForeignKeyConstraint(
            ["classroom_id"],
            ["classroom.id"],
            name=op.f("fk_enrolment_classroom_id_classroom"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["student.id"],
            name=op.f("fk_enrolment_student_id_student"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["wave.id"], name=op.f("fk_enrolment_wave_id_wave"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolment")),
        sa.UniqueConstraint("student_id", "wave_id", name=op.f("uq_enrolment_student_id_wave_id")),
    )
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enrolment_classroom_id"), ["classroom_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_enrolment_wave_id"), ["wave_id"], unique=False)

    op.create_table(
        "iat_trial",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("block", sa.Integer(), nullable=False),
        sa.Column("trial", sa.Integer(), nullable=False),
        sa.Column("stimulus", sa.String(length=100), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("error", sa.Boolean(), nullable=False),
        sa.Column("corrected_latency_ms", sa.Float(), nullable=True),
        sa.CheckConstraint("block BETWEEN 1 AND 7", name=op.f("ck_iat_trial_block_in_range")),
        sa.CheckConstraint("latency_ms >= 0", name=op.f("ck_iat_trial_latency_nonnegative")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["iat_session.id"],
            name=op.f("fk_iat_trial_session_id_iat_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "block", "trial", name=op.f("pk_iat_trial")),
    )
    op.create_table(
        "lesson",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("classroom_id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("subject", sa.String(length=100), nullable=True),
        sa.Column("observed_minutes", sa.Float(), nullable=False),
        sa.Column("video_files", sa.String(length=2000), nullable=True),
        sa.CheckConstraint(
            "observed_minutes > 0", name=op.f("ck_lesson_observed_minutes_positive")
        ),
        sa.ForeignKeyConstraint(
            ["classroom_id"],
            ["classroom.id"],
            name=op.f("fk_lesson_classroom_id_classroom"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["wave.id"], name=op.f("fk_lesson_wave_id_wave"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lesson")),
    )
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lesson_classroom_id"), ["classroom_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_lesson_wave_id"), ["wave_id"], unique=False)

    op.create_table(
        "response_item",
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=50), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_response.id"],
            name=op.f("fk_response_item_response_id_questionnaire_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "item", name=op.f("pk_response_item")),
    )
    op.create_table(
        "interaction_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("video_seconds", sa.Float(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("target_kind", sa.String(length=10), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=True),
        sa.Column("valence", sa.String(length=10), nullable=False),
        sa.Column("subtype", sa.String(length=50), nullable=True),
        sa.Column("codebook_id", sa.Integer(), nullable=True),
        sa.Column("coder_id", sa.Integer(), nullable=True),
        sa.Column(
            "coded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=True,
        ),
        sa.Column("group_size", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(target_kind = 'student' AND student_id IS NOT NULL) OR "
            "(target_kind <> 'student' AND student_id IS NULL)",
            name=op.f("ck_interaction_event_student_target_consistent"),
        ),
        sa.CheckConstraint(
            "target_kind IN ('student', 'group', 'class')",
            name=op.f("ck_interaction_event_target_kind_known"),
        ),
        sa.CheckConstraint(
            "valence IN ('positive', 'negative', 'neutral')",
            name=op.f("ck_interaction_event_valence_known"),
        ),
        sa.CheckConstraint(
            "video_seconds >= 0", name=op.f("ck_interaction_event_video_seconds_nonnegative")
        ),
        sa.ForeignKeyConstraint(
            ["codebook_id"], ["codebook.id"], name=op.f("fk_interaction_event_codebook_id_codebook")
        ),
        sa.ForeignKeyConstraint(
            ["coder_id"], ["coder.id"], name=op.f("fk_interaction_event_coder_id_coder")
        ),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lesson.id"],
            name=op.f("fk_interaction_event_lesson_id_lesson"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"], ["student.id"], name=op.f("fk_interaction_event_student_id_student")
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"], ["teacher.id"], name=op.f("fk_interaction_event_teacher_id_teacher")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interaction_event")),
        sa.UniqueConstraint("client_id", name=op.f("uq_interaction_event_client_id")),
    )
    with op.batch_alter_table("interaction_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interaction_event_coder_id"), ["coder_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interaction_event_lesson_id"), ["lesson_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interaction_event_student_id"), ["student_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_interaction_event_teacher_id"), ["teacher_id"], unique=False
        )

    op.create_table(
        "lesson_attendance",
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("present", sa.Boolean(), nullable=False),
        sa.Column("visible", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lesson.id"],
            name=op.f("fk_lesson_attendance_lesson_id_lesson"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["student.id"],
            name=op.f("fk_lesson_attendance_student_id_student"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lesson_id", "student_id", name=op.f("pk_lesson_attendance")),
    )
    with op.batch_alter_table("lesson_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lesson_attendance_student_id"), ["student_id"], unique=False
        )

    op.create_table(
        "lesson_teacher",
        sa.Column("lesson_id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["lesson_id"],
            ["lesson.id"],
            name=op.f("fk_lesson_teacher_lesson_id_lesson"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teacher.id"],
            name=op.f("fk_lesson_teacher_teacher_id_teacher"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("lesson_id", "teacher_id", name=op.f("pk_lesson_teacher")),
    )
    with op.batch_alter_table("lesson_teacher", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lesson_teacher_teacher_id"), ["teacher_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lesson_teacher", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_teacher_teacher_id"))

    op.drop_table("lesson_teacher")
    with op.batch_alter_table("lesson_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_attendance_student_id"))

    op.drop_table("lesson_attendance")
    with op.batch_alter_table("interaction_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interaction_event_teacher_id"))
        batch_op.drop_index(batch_op.f("ix_interaction_event_student_id"))
        batch_op.drop_index(batch_op.f("ix_interaction_event_lesson_id"))
        batch_op.drop_index(batch_op.f("ix_interaction_event_coder_id"))

    op.drop_table("interaction_event")
    op.drop_table("response_item")
    with op.batch_alter_table("lesson", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lesson_wave_id"))
        batch_op.drop_index(batch_op.f("ix_lesson_classroom_id"))

    op.drop_table("lesson")
    op.drop_table("iat_trial")
    with op.batch_alter_table("enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_wave_id"))
        batch_op.drop_index(batch_op.f("ix_enrolment_classroom_id"))

    op.drop_table("enrolment")
    with op.batch_alter_table("classroom_teacher", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classroom_teacher_teacher_id"))

    op.drop_table("classroom_teacher")
    op.drop_table("student_roster")
    with op.batch_alter_table("questionnaire_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_response_wave_id"))
        batch_op.drop_index(batch_op.f("ix_questionnaire_response_student_id"))

    op.drop_table("questionnaire_response")
    with op.batch_alter_table("iat_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_iat_session_teacher_id"))

    op.drop_table("iat_session")
    op.drop_table("codebook_category")
    with op.batch_alter_table("classroom", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_classroom_school_id"))

    op.drop_table("classroom")
    with op.batch_alter_table("wave", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wave_study_id"))

    op.drop_table("wave")
    with op.batch_alter_table("teacher", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teacher_study_id"))

    op.drop_table("teacher")
    with op.batch_alter_table("student", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_student_study_id"))

    op.drop_table("student")
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_study_id"))

    op.drop_table("school")
    with op.batch_alter_table("instrument", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instrument_study_id"))

    op.drop_table("instrument")
    with op.batch_alter_table("coder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coder_study_id"))

    op.drop_table("coder")
    with op.batch_alter_table("codebook", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_codebook_study_id"))

    op.drop_table("codebook")
    op.drop_table("study")
    op.drop_table("audit_log")
