"""The teacher's dashboard: the feedback page's content, the coaching cycle, and the video.

A teacher opens their own dashboard; a coach the dashboards of the teachers who invited them
(:mod:`classdyad.services.coaching`); nobody else, researchers and admins included (404, as if
it did not exist). The feedback is the same template as ``classdyad feedback``'s page
(:func:`classdyad.report.feedback.feedback_fragment`), in English or Dutch (``?lang=nl``).
Where the study allows teachers to watch their own lessons (``teachers_see_own_videos``), a
teacher's flagged students link to the moments of their negative interactions on video.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field

from classdyad.errors import DataError, NotFoundError, check_option
from classdyad.model import Enrolment, Student, Teacher, Wave
from classdyad.report.feedback import FEEDBACK_STYLESHEET, feedback_fragment
from classdyad.report.i18n import LANGUAGES, translations
from classdyad.services import coaching, teacher_dashboard
from classdyad.web.dependencies import CurrentStudy, CurrentUser, Db, User, get_engine
from classdyad.web.routers.pages import render

router = APIRouter(tags=["feedback"])


class GoalCreate(BaseModel):
    """A goal for one of the teacher's classes and a wave."""

    classroom: str = Field(min_length=1, max_length=50)
    wave: int = Field(ge=1)
    kind: Literal["fewer_negative", "more_positive"] = "fewer_negative"
    students: list[str] = Field(default_factory=list, max_length=50)
    target: float | None = Field(default=None, gt=0)


class NoteCreate(BaseModel):
    """A reflection or note, on a goal or in general."""

    text: str = Field(min_length=1, max_length=20_000)
    goal: int | None = None


class CoachInvite(BaseModel):
    """The username of the account invited as coach."""

    username: str = Field(min_length=1, max_length=100)


def _actor(user: CurrentUser) -> coaching.CoachingActor:
    return coaching.CoachingActor(user.id, user.username, user.role, user.teacher_id)


def _space(db: Db, user: CurrentUser, study: CurrentStudy, code: str) -> tuple[int, str]:
    """The teacher's id and how the user opens their space; 404 for anyone else."""
    teacher_id = db.scalar(sa.select(Teacher.id).where(Teacher.study_id == study.id,
                                                       Teacher.code == code))
    if teacher_id is None:
        raise NotFoundError("no such teacher's feedback or coaching space for you; a teacher "
                            "opens their own, and a coach the spaces of teachers who invited "
                            "them")
    return int(teacher_id), coaching.check_access(db, _actor(user), int(teacher_id))


@router.get("/dashboard/feedback.css", include_in_schema=False)
def feedback_stylesheet() -> FileResponse:
    """The feedback's styles (the same as the standalone page's)."""
    return FileResponse(FEEDBACK_STYLESHEET, media_type="text/css")


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, user: User, db: Db, study: CurrentStudy,
                   teacher: str | None = None, lang: str = "en") -> HTMLResponse:
    """A teacher's feedback and coaching: one's own, or (coaches) of a teacher who invited one."""
    check_option("lang", lang, LANGUAGES)
    gettext = translations(lang).gettext  # type: ignore[arg-type]
    actor = _actor(user)
    spaces = coaching.coached_teachers(db, actor)
    if not spaces:
        return render(request, "dashboard.html", user, gettext("Feedback"), study.name,
                      t=gettext, lang=lang, spaces=[], space=None)
    code = teacher or spaces[0]["code"]
    teacher_id, role = _space(db, user, study, code)
    fragment, problem = None, None
    try:
        result = teacher_dashboard.dashboard_feedback(get_engine(request), db, actor, study.id,
                                                      teacher_id, code)
    except DataError as error:
        problem = str(error)
    else:
        students = sorted(result.students["student"].astype(str).unique())
        names = (teacher_dashboard.first_names(db, study.id, students) if role == "teacher"
                 else {})
        moments = {}
        if role == "teacher" and study.settings.get(teacher_dashboard.VIDEO_SETTING, False):
            moments = teacher_dashboard.negative_moments(db, teacher_id, result.flagged,
                                                         language=lang)  # type: ignore[arg-type]
        fragment = feedback_fragment(result, language=lang, names=names,  # type: ignore[arg-type]
                                     moments=moments)
    goals = coaching.list_goals(db, actor, teacher_id)
    notes = coaching.list_notes(db, actor, teacher_id)
    classes = coaching.teacher_classrooms(db, teacher_id)
    roster: dict[str, list[str]] = {}
    for classroom, student in db.execute(
            sa.select(Enrolment.classroom_id, Student.code).distinct()
            .join(Student, Student.id == Enrolment.student_id)
            .where(Enrolment.classroom_id.in_(list(classes.values())))
            .order_by(Student.code)):
        roster.setdefault(next(c for c, i in classes.items() if i == classroom),
                          []).append(student)
    waves = list(db.scalars(sa.select(Wave.number).where(Wave.study_id == study.id)
                            .order_by(Wave.number)))
    title = (gettext("Your feedback") if role == "teacher" else
             gettext("Feedback of teacher %(teacher)s") % {"teacher": code})
    return render(request, "dashboard.html", user, title, study.name, t=gettext, lang=lang,
                  spaces=spaces, space={"code": code, "as": role}, fragment=fragment,
                  problem=problem, goals=teacher_dashboard.coaching_view(goals, notes),
                  general_notes=[n for n in notes if n["goal"] is None],
                  coaches=coaching.list_coaches(db, actor, teacher_id), classes=list(classes),
                  roster=roster, waves=waves)


@router.get("/api/v1/teachers/{teacher_code}/feedback")
def teacher_feedback_data(request: Request, teacher_code: str, user: User, db: Db,
                          study: CurrentStudy) -> dict[str, Any]:
    """The teacher's feedback at full precision (codes, never names), with goals' progress."""
    teacher_id, _ = _space(db, user, study, teacher_code)
    result = teacher_dashboard.dashboard_feedback(get_engine(request), db, _actor(user),
                                                  study.id, teacher_id, teacher_code)
    return result.to_dict()


@router.get("/api/v1/teachers/{teacher_code}/coaching")
def read_coaching(teacher_code: str, user: User, db: Db, study: CurrentStudy
                  ) -> dict[str, Any]:
    """The teacher's goals, notes and coaches."""
    teacher_id, _ = _space(db, user, study, teacher_code)
    actor = _actor(user)
    return {"teacher": teacher_code, "goals": coaching.list_goals(db, actor, teacher_id),
            "notes": coaching.list_notes(db, actor, teacher_id),
            "coaches": coaching.list_coaches(db, actor, teacher_id)}


@router.post("/api/v1/teachers/{teacher_code}/coaching/goals", status_code=201)
def create_goal(teacher_code: str, body: GoalCreate, user: User, db: Db,
                study: CurrentStudy) -> dict[str, Any]:
    """Set a goal for the next wave (the teacher, or an invited coach)."""
    teacher_id, _ = _space(db, user, study, teacher_code)
    goal = coaching.create_goal(db, _actor(user), teacher_id, classroom=body.classroom,
                                wave=body.wave, kind=body.kind, students=body.students,
                                target=body.target)
    db.commit()
    return goal


@router.delete("/api/v1/teachers/{teacher_code}/coaching/goals/{goal_id}", status_code=204)
def delete_goal(teacher_code: str, goal_id: int, user: User, db: Db,
                study: CurrentStudy) -> Response:
    """Remove a goal and its notes."""
    teacher_id, _ = _space(db, user, study, teacher_code)
    coaching.delete_goal(db, _actor(user), teacher_id, goal_id)
    db.commit()
    return Response(status_code=204)


@router.post("/api/v1/teachers/{teacher_code}/coaching/notes", status_code=201)
def create_note(teacher_code: str, body: NoteCreate, user: User, db: Db,
                study: CurrentStudy) -> dict[str, Any]:
    """Write a reflection or note."""
    teacher_id, _ = _space(db, user, study, teacher_code)
    note = coaching.add_note(db, _actor(user), teacher_id, body.text, goal_id=body.goal)
    db.commit()
    return note


@router.post("/api/v1/teachers/{teacher_code}/coaching/coaches", status_code=201)
def invite_coach(teacher_code: str, body: CoachInvite, user: User, db: Db,
                 study: CurrentStudy) -> dict[str, Any]:
    """Invite an existing coach (or teacher) account as coach (the teacher only)."""
    teacher_id, _ = _space(db, user, study, teacher_code)
    invited = coaching.invite_coach(db, _actor(user), teacher_id, body.username)
    db.commit()
    return invited


@router.delete("/api/v1/teachers/{teacher_code}/coaching/coaches/{username}",
               status_code=204)
def revoke_coach(teacher_code: str, username: str, user: User, db: Db,
                 study: CurrentStudy) -> Response:
    """End a coach's access (the teacher only)."""
    teacher_id, _ = _space(db, user, study, teacher_code)
    coaching.revoke_coach(db, _actor(user), teacher_id, username)
    db.commit()
    return Response(status_code=204)


__all__ = ["router"]
