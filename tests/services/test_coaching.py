"""Coaching spaces: only the teacher and the coaches the teacher invited read or write them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.errors import DataError, IntegrityError, NotFoundError, OptionError
from classdyad.model import ClassroomTeacher, Enrolment, Student, Teacher, UserAccount
from classdyad.services import coaching
from classdyad.services.accounts import create_user
from classdyad.store import open_database


@pytest.fixture(scope="module")
def db(copy_small_study, tmp_path_factory) -> Iterator[Session]:
    engine = open_database(copy_small_study(Path(tmp_path_factory.mktemp("coaching"))
                                            / "study.sqlite"))
    with Session(engine) as session:
        teachers = session.scalars(sa.select(Teacher).order_by(Teacher.id)).all()
        create_user(session, "teacher", "teacher password", role="teacher",
                    teacher=teachers[0].code)
        create_user(session, "teacher2", "teacher password", role="teacher",
                    teacher=teachers[-1].code)
        for name, role in (("coach", "coach"), ("coach2", "coach"), ("admin", "admin"),
                           ("researcher", "researcher")):
            create_user(session, name, f"{name} password 1", role=role)
        session.commit()
        yield session
    engine.dispose()


def _actor(db: Session, username: str) -> coaching.CoachingActor:
    account = db.scalar(sa.select(UserAccount).where(UserAccount.username == username))
    assert account is not None
    return coaching.CoachingActor(account.id, account.username, account.role,
                                  account.teacher_id)


def _own_class(db: Session, teacher_id: int) -> tuple[str, list[str]]:
    classes = coaching.teacher_classrooms(db, teacher_id)
    code, classroom_id = next(iter(classes.items()))
    students = db.scalars(sa.select(Student.code).join(Enrolment, Enrolment.student_id
                                                       == Student.id)
                          .where(Enrolment.classroom_id == classroom_id)
                          .order_by(Student.code)).all()
    return code, list(dict.fromkeys(students))


def test_the_teacher_sets_goals_writes_notes_and_invites_a_coach(db: Session) -> None:
    teacher = _actor(db, "teacher")
    tid = teacher.teacher_id
    assert tid is not None
    classroom, students = _own_class(db, tid)
    goal = coaching.create_goal(db, teacher, tid, classroom=classroom, wave=2,
                                kind="fewer_negative", students=students[:2], target=0.8)
    assert goal["students"] == sorted(students[:2]) and goal["created_by"] == "teacher"
    note = coaching.add_note(db, teacher, tid, "Greet them at the door.", goal_id=goal["id"])
    assert note["goal"] == goal["id"]
    frame = coaching.goals_frame(db, teacher, tid)
    assert list(frame.columns) == ["goal", "classroom", "wave", "kind", "students", "target"]
    assert frame.iloc[-1]["students"] == sorted(students[:2])

    coach = _actor(db, "coach")
    with pytest.raises(NotFoundError):
        coaching.list_goals(db, coach, tid)
    coaching.invite_coach(db, teacher, tid, "coach")
    db.commit()
    assert [g["id"] for g in coaching.list_goals(db, coach, tid)] == [goal["id"]]
    assert coaching.coached_teachers(db, coach)[0]["teacher_id"] == tid
    coaching.add_note(db, coach, tid, "Which moments lead to a correction?")
    assert [n["author"] for n in coaching.list_notes(db, teacher, tid)][:2] == ["coach",
                                                                                 "teacher"]
    assert coaching.list_coaches(db, teacher, tid)[0]["coach"] == "coach"
    with pytest.raises(NotFoundError, match="only the teacher"):
        coaching.invite_coach(db, coach, tid, "coach2")

    coaching.revoke_coach(db, teacher, tid, "coach")
    db.commit()
    for call in (lambda: coaching.list_goals(db, coach, tid),
                 lambda: coaching.list_notes(db, coach, tid),
                 lambda: coaching.add_note(db, coach, tid, "still here?")):
        with pytest.raises(NotFoundError):
            call()
    assert coaching.coached_teachers(db, coach) == []
    coaching.invite_coach(db, teacher, tid, "coach")  # invited again: access again
    db.commit()
    assert coaching.list_notes(db, coach, tid)


@pytest.mark.parametrize("username", ["admin", "researcher", "coach2", "teacher2"])
def test_researchers_admins_other_teachers_and_uninvited_coaches_cannot(db: Session,
                                                                         username: str) -> None:
    tid = _actor(db, "teacher").teacher_id
    assert tid is not None
    outsider = _actor(db, username)
    for call in (lambda: coaching.list_goals(db, outsider, tid),
                 lambda: coaching.list_notes(db, outsider, tid),
                 lambda: coaching.goals_frame(db, outsider, tid),
                 lambda: coaching.list_coaches(db, outsider, tid),
                 lambda: coaching.add_note(db, outsider, tid, "a note"),
                 lambda: coaching.create_goal(db, outsider, tid, classroom="x", wave=2,
                                              kind="fewer_negative"),
                 lambda: coaching.invite_coach(db, outsider, tid, username)):
        with pytest.raises(NotFoundError):
            call()


def test_only_coach_or_teacher_accounts_can_be_invited(db: Session) -> None:
    teacher = _actor(db, "teacher")
    tid = teacher.teacher_id
    assert tid is not None
    for name in ("admin", "researcher", "nobody"):
        with pytest.raises(NotFoundError, match="no active coach or teacher account"):
            coaching.invite_coach(db, teacher, tid, name)
    with pytest.raises(IntegrityError, match="your own account"):
        coaching.invite_coach(db, teacher, tid, "teacher")


def test_goals_are_checked(db: Session) -> None:
    teacher = _actor(db, "teacher")
    tid = teacher.teacher_id
    assert tid is not None
    classroom, _ = _own_class(db, tid)
    other_tid = _actor(db, "teacher2").teacher_id
    assert other_tid is not None
    other_class, other_students = _own_class(db, other_tid)
    own_classes = set(db.scalars(sa.select(ClassroomTeacher.classroom_id)
                                 .where(ClassroomTeacher.teacher_id == tid)))
    assert own_classes
    with pytest.raises(NotFoundError, match="not one of this teacher's classes"):
        coaching.create_goal(db, teacher, tid, classroom=other_class, wave=2,
                             kind="fewer_negative")
    with pytest.raises(DataError, match="not in class"):
        coaching.create_goal(db, teacher, tid, classroom=classroom, wave=2,
                             kind="fewer_negative", students=other_students[:1])
    with pytest.raises(OptionError, match="fewer_negative"):
        coaching.create_goal(db, teacher, tid, classroom=classroom, wave=2, kind="kinder")
    with pytest.raises(DataError, match="no wave 9"):
        coaching.create_goal(db, teacher, tid, classroom=classroom, wave=9,
                             kind="more_positive")
    with pytest.raises(DataError, match="rate ratio"):
        coaching.create_goal(db, teacher, tid, classroom=classroom, wave=2,
                             kind="more_positive", target=-1)
    with pytest.raises(DataError, match="characters"):
        coaching.add_note(db, teacher, tid, "   ")
    db.rollback()


def test_a_coach_sees_codes_only() -> None:
    from classdyad.services.privacy import BACKGROUND_FIELDS, hidden_columns

    hidden = hidden_columns("coach")
    assert {"first_name", "last_name"} <= hidden and BACKGROUND_FIELDS <= hidden
    assert "first_name" not in hidden_columns("teacher")
