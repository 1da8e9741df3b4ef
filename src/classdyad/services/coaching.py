"""The coaching cycle's rules: who may read and write a teacher's goals, notes and coaches.

A teacher's *coaching space* holds the goals set for the next wave
(:class:`~classdyad.model.CoachingGoal`), reflections and notes
(:class:`~classdyad.model.CoachingNote`) and the coaches the teacher invited
(:class:`~classdyad.model.CoachInvitation`). Only two kinds of people may open it:

- the teacher (an account bound to that teacher);
- a coach the teacher invited (an active account with the coach or teacher role), until the
  teacher revokes the invitation.

Nobody else: not researchers, not admins, not other teachers, not an uninvited or revoked coach.
To everyone else a space answers as if it did not exist (:class:`~classdyad.errors.NotFoundError`).
Only the teacher invites and revokes coaches. Goals name one of the teacher's own classes, a wave
of the study, and (optionally) students of that class by pseudonymous code.

The command line works on the database file itself and acts for the teacher it names
(:func:`teacher_actor`); a database file is the data controller's, so that door is theirs.
Invitations and revocations are written to the audit log (who was given access); goals and notes
are not (their content stays private).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.errors import DataError, IntegrityError, NotFoundError, check_option
from classdyad.model import (
    GOAL_KINDS,
    AuditEntry,
    Classroom,
    ClassroomTeacher,
    CoachingGoal,
    CoachingNote,
    CoachInvitation,
    Enrolment,
    Lesson,
    LessonTeacher,
    Role,
    School,
    Student,
    Teacher,
    UserAccount,
    Wave,
)

__all__ = [
    "COACH_ROLES",
    "CoachingActor",
    "add_note",
    "check_access",
    "coached_teachers",
    "create_goal",
    "delete_goal",
    "goals_frame",
    "invite_coach",
    "list_coaches",
    "list_goals",
    "list_notes",
    "revoke_coach",
    "teacher_actor",
    "teacher_classrooms",
]

#: the roles an invited coach's account may have
COACH_ROLES = (Role.COACH.value, Role.TEACHER.value)
_MAX_NOTE = 20_000


@dataclass(frozen=True)
class CoachingActor:
    """Who acts: an account (``user_id``) or the command line acting for a teacher (``None``)."""

    user_id: int | None
    username: str
    role: str
    teacher_id: int | None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def teacher_actor(db: Session, study_id: int, teacher: str, *, author: str | None = None
                  ) -> tuple[CoachingActor, int]:
    """The command line acting for the teacher with code ``teacher``: the actor and the id.

    Raises
    ------
    NotFoundError
        If the study has no teacher with this code.
    """
    found = db.scalar(sa.select(Teacher.id).where(Teacher.study_id == study_id,
                                                  Teacher.code == str(teacher)))
    if found is None:
        raise NotFoundError(f"no teacher with code {teacher!r} in this study; use a code from "
                            "`classdyad info` or the Teachers page")
    return CoachingActor(None, author or str(teacher), Role.TEACHER.value, found), int(found)


def _invited(db: Session, actor: CoachingActor, teacher_id: int) -> bool:
    if actor.user_id is None or actor.role not in COACH_ROLES:
        return False
    return db.scalar(sa.select(CoachInvitation.id)
                     .join(UserAccount, UserAccount.id == CoachInvitation.coach_id)
                     .where(CoachInvitation.teacher_id == teacher_id,
                            CoachInvitation.coach_id == actor.user_id,
                            CoachInvitation.revoked_at.is_(None),
                            UserAccount.active.is_(True))) is not None


def _is_teacher(actor: CoachingActor, teacher_id: int) -> bool:
    return actor.role == Role.TEACHER.value and actor.teacher_id == teacher_id


def check_access(db: Session, actor: CoachingActor, teacher_id: int) -> str:
    """``"teacher"`` or ``"coach"``: how ``actor`` may open the teacher's coaching space.

    Raises
    ------
    NotFoundError
        For everyone else (researchers and admins included): as if the space did not exist.
    """
    if _is_teacher(actor, teacher_id):
        return "teacher"
    if _invited(db, actor, teacher_id):
        return "coach"
    raise NotFoundError("no such teacher's feedback or coaching space for you; a teacher opens "
                        "their own, and a coach the spaces of teachers who invited them")


def coached_teachers(db: Session, actor: CoachingActor) -> list[dict[str, Any]]:
    """The teachers whose spaces ``actor`` may open: their own first, then who invited them."""
    found: list[dict[str, Any]] = []
    if actor.role == Role.TEACHER.value and actor.teacher_id is not None:
        code = db.scalar(sa.select(Teacher.code).where(Teacher.id == actor.teacher_id))
        found.append({"teacher_id": actor.teacher_id, "code": code, "as": "teacher"})
    if actor.user_id is not None and actor.role in COACH_ROLES:
        rows = db.execute(sa.select(Teacher.id, Teacher.code)
                          .join(CoachInvitation, CoachInvitation.teacher_id == Teacher.id)
                          .join(UserAccount, UserAccount.id == CoachInvitation.coach_id)
                          .where(CoachInvitation.coach_id == actor.user_id,
                                 CoachInvitation.revoked_at.is_(None),
                                 UserAccount.active.is_(True))
                          .order_by(Teacher.code)).all()
        found += [{"teacher_id": int(i), "code": c, "as": "coach"} for i, c in rows
                  if i != actor.teacher_id]
    return found


def teacher_classrooms(db: Session, teacher_id: int) -> dict[str, int]:
    """Class code -> id of the teacher's own classes (as class teacher or lesson teacher)."""
    by_class = sa.select(ClassroomTeacher.classroom_id).where(
        ClassroomTeacher.teacher_id == teacher_id)
    by_lesson = (sa.select(Lesson.classroom_id)
                 .join(LessonTeacher, LessonTeacher.lesson_id == Lesson.id)
                 .where(LessonTeacher.teacher_id == teacher_id))
    rows = db.execute(sa.select(Classroom.code, Classroom.id)
                      .where(sa.or_(Classroom.id.in_(by_class), Classroom.id.in_(by_lesson)))
                      .order_by(Classroom.code)).all()
    return {str(code): int(i) for code, i in rows}


def _goal_record(goal: CoachingGoal, classroom: str, wave: int) -> dict[str, Any]:
    return {"id": goal.id, "classroom": classroom, "wave": wave, "kind": goal.kind,
            "students": list(goal.students or []), "target": goal.target,
            "created_by": goal.created_by, "created_at": goal.created_at}


def create_goal(db: Session, actor: CoachingActor, teacher_id: int, *, classroom: str,
                wave: int, kind: str, students: list[str] | tuple[str, ...] = (),
                target: float | None = None) -> dict[str, Any]:
    """Set a goal for one of the teacher's classes and a wave (the caller commits).

    Raises
    ------
    NotFoundError
        If ``actor`` may not open the space, or the class is not the teacher's.
    DataError
        For an unknown kind or wave, a target that is not a positive ratio, or students not
        enrolled in the class.
    """
    check_access(db, actor, teacher_id)
    check_option("kind", kind, GOAL_KINDS)
    classes = teacher_classrooms(db, teacher_id)
    if str(classroom) not in classes:
        raise NotFoundError(f"class {classroom!r} is not one of this teacher's classes; use one "
                            f"of {', '.join(classes) or '(none)'}")
    classroom_id = classes[str(classroom)]
    study_id = db.scalar(sa.select(School.study_id).join(Classroom,
                                                         Classroom.school_id == School.id)
                         .where(Classroom.id == classroom_id))
    wave_id = db.scalar(sa.select(Wave.id).where(Wave.study_id == study_id,
                                                 Wave.number == int(wave)))
    if wave_id is None:
        raise DataError(f"the study has no wave {wave}; use the number of one of its waves")
    if target is not None and not (math.isfinite(float(target)) and float(target) > 0):
        raise DataError(f"target {target!r} is not a rate ratio; use a number above 0 (0.8: a "
                        "fifth fewer; 1.25: a quarter more) or leave it out")
    chosen = sorted({str(s).strip() for s in students if str(s).strip()})
    if chosen:
        enrolled = set(db.scalars(sa.select(Student.code).join(
            Enrolment, Enrolment.student_id == Student.id).where(
                Enrolment.classroom_id == classroom_id)))
        unknown = [s for s in chosen if s not in enrolled]
        if unknown:
            raise DataError(f"student(s) {unknown} are not in class {classroom}; choose students "
                            "of the class by their codes")
    goal = CoachingGoal(teacher_id=teacher_id, classroom_id=classroom_id, wave_id=wave_id,
                        kind=kind, students=chosen,
                        target=None if target is None else float(target),
                        created_by=actor.username, created_at=_now())
    db.add(goal)
    db.flush()
    return _goal_record(goal, str(classroom), int(wave))


def _goals(db: Session, teacher_id: int) -> list[tuple[CoachingGoal, str, int]]:
    return [(g, str(c), int(w)) for g, c, w in db.execute(
        sa.select(CoachingGoal, Classroom.code, Wave.number)
        .join(Classroom, Classroom.id == CoachingGoal.classroom_id)
        .join(Wave, Wave.id == CoachingGoal.wave_id)
        .where(CoachingGoal.teacher_id == teacher_id)
        .order_by(Wave.number, Classroom.code, CoachingGoal.id)).all()]


def list_goals(db: Session, actor: CoachingActor, teacher_id: int) -> list[dict[str, Any]]:
    """The teacher's goals, oldest wave first."""
    check_access(db, actor, teacher_id)
    return [_goal_record(g, c, w) for g, c, w in _goals(db, teacher_id)]


def goals_frame(db: Session, actor: CoachingActor, teacher_id: int) -> pd.DataFrame:
    """The teacher's goals as :func:`classdyad.analysis.goal_progress.goal_progress` takes them."""
    rows = [{"goal": r["id"], "classroom": r["classroom"], "wave": r["wave"], "kind": r["kind"],
             "students": r["students"], "target": r["target"]}
            for r in list_goals(db, actor, teacher_id)]
    return pd.DataFrame(rows, columns=["goal", "classroom", "wave", "kind", "students",
                                       "target"])


def delete_goal(db: Session, actor: CoachingActor, teacher_id: int, goal_id: int) -> None:
    """Remove a goal and its notes (the teacher, or whoever set it)."""
    role = check_access(db, actor, teacher_id)
    goal = db.get(CoachingGoal, goal_id)
    if goal is None or goal.teacher_id != teacher_id:
        raise NotFoundError(f"no goal {goal_id} in this coaching space")
    if role != "teacher" and goal.created_by != actor.username:
        raise NotFoundError(f"goal {goal_id} was set by someone else; the teacher can remove it")
    db.delete(goal)
    db.flush()


def add_note(db: Session, actor: CoachingActor, teacher_id: int, text: str, *,
             goal_id: int | None = None) -> dict[str, Any]:
    """Write a reflection or note, on a goal or in general (the caller commits).

    Raises
    ------
    DataError
        If the text is empty or longer than 20,000 characters.
    """
    check_access(db, actor, teacher_id)
    text = (text or "").strip()
    if not text or len(text) > _MAX_NOTE:
        raise DataError(f"a note needs 1 to {_MAX_NOTE:,} characters of text")
    if goal_id is not None:
        goal = db.get(CoachingGoal, goal_id)
        if goal is None or goal.teacher_id != teacher_id:
            raise NotFoundError(f"no goal {goal_id} in this coaching space; leave the goal out "
                                "for a general note")
    note = CoachingNote(teacher_id=teacher_id, goal_id=goal_id, author=actor.username,
                        text=text, created_at=_now())
    db.add(note)
    db.flush()
    return {"id": note.id, "goal": goal_id, "author": note.author, "text": note.text,
            "created_at": note.created_at, "updated_at": None}


def list_notes(db: Session, actor: CoachingActor, teacher_id: int) -> list[dict[str, Any]]:
    """The teacher's notes, newest first."""
    check_access(db, actor, teacher_id)
    notes = db.scalars(sa.select(CoachingNote).where(CoachingNote.teacher_id == teacher_id)
                       .order_by(CoachingNote.id.desc()))
    return [{"id": n.id, "goal": n.goal_id, "author": n.author, "text": n.text,
             "created_at": n.created_at, "updated_at": n.updated_at} for n in notes]


def _only_the_teacher(db: Session, actor: CoachingActor, teacher_id: int) -> None:
    if check_access(db, actor, teacher_id) != "teacher":
        raise NotFoundError("only the teacher invites and revokes coaches")


def invite_coach(db: Session, actor: CoachingActor, teacher_id: int, username: str
                 ) -> dict[str, Any]:
    """Invite an existing account (coach or teacher role) as coach (the caller commits).

    Raises
    ------
    NotFoundError
        If ``actor`` is not the teacher, or there is no active account of a coach or teacher
        with this username.
    """
    _only_the_teacher(db, actor, teacher_id)
    account = db.scalar(sa.select(UserAccount).where(UserAccount.username == username.strip()))
    if (account is None or not account.active or account.role not in COACH_ROLES):
        raise NotFoundError(f"no active coach or teacher account {username!r}; an admin creates "
                            "the coach's account (role coach) first")
    if account.role == Role.TEACHER.value and account.teacher_id == teacher_id:
        raise IntegrityError("that is your own account; invite someone else as coach")
    invitation = db.scalar(sa.select(CoachInvitation).where(
        CoachInvitation.teacher_id == teacher_id, CoachInvitation.coach_id == account.id))
    if invitation is None:
        invitation = CoachInvitation(teacher_id=teacher_id, coach_id=account.id,
                                     invited_by=actor.username, invited_at=_now())
        db.add(invitation)
    else:
        invitation.revoked_at = None
        invitation.invited_at = _now()
        invitation.invited_by = actor.username
    db.add(AuditEntry(actor=actor.username, action="invite", entity="coach_invitation", count=1,
                      detail={"teacher_id": teacher_id, "coach": account.username}))
    db.flush()
    return {"coach": account.username, "invited_at": invitation.invited_at, "active": True}


def revoke_coach(db: Session, actor: CoachingActor, teacher_id: int, username: str) -> None:
    """End a coach's access to the teacher's space (the caller commits)."""
    _only_the_teacher(db, actor, teacher_id)
    invitation = db.scalar(sa.select(CoachInvitation)
                           .join(UserAccount, UserAccount.id == CoachInvitation.coach_id)
                           .where(CoachInvitation.teacher_id == teacher_id,
                                  UserAccount.username == username,
                                  CoachInvitation.revoked_at.is_(None)))
    if invitation is None:
        raise NotFoundError(f"{username!r} is not one of your coaches")
    invitation.revoked_at = _now()
    db.add(AuditEntry(actor=actor.username, action="revoke", entity="coach_invitation",
                      count=1, detail={"teacher_id": teacher_id, "coach": username}))
    db.flush()


def list_coaches(db: Session, actor: CoachingActor, teacher_id: int) -> list[dict[str, Any]]:
    """The teacher's current coaches: ``coach, invited_at``."""
    check_access(db, actor, teacher_id)
    rows = db.execute(sa.select(UserAccount.username, CoachInvitation.invited_at)
                      .join(CoachInvitation, CoachInvitation.coach_id == UserAccount.id)
                      .where(CoachInvitation.teacher_id == teacher_id,
                             CoachInvitation.revoked_at.is_(None))
                      .order_by(UserAccount.username)).all()
    return [{"coach": u, "invited_at": at} for u, at in rows]
