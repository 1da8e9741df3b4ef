"""The coding page of a lesson: video, students, codebook keys, events (``static/js/coding``)."""

from __future__ import annotations

import string
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from classdyad.model import Codebook, Coder, LessonCoding
from classdyad.web import scope
from classdyad.web.dependencies import CurrentStudy, CurrentUser, Db, StudyContext, User
from classdyad.web.routers.coding import codebook_records
from classdyad.web.routers.pages import render

router = APIRouter(include_in_schema=False)

STUDENT_KEYS = string.digits[1:] + "0" + "qwertyuiopasdfhjklzxvbnm"
"""Keys that pick a student, in list order (``G`` picks a group, ``C`` the whole class)."""


def lesson_clock(videos: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lesson's video files in playing order, each with ``start_seconds``: where it starts
    on the lesson's clock (the durations of the files before it; ``None`` after a file whose
    duration is unknown)."""
    start: float | None = 0.0
    out = []
    for video in sorted(videos, key=lambda v: v["position"]):
        out.append({**video, "start_seconds": start})
        duration = video.get("duration_seconds")
        start = None if start is None or duration is None else start + float(duration)
    return out


def coding_setup(db: Db, user: CurrentUser, study: StudyContext,
                 lesson_id: int) -> dict[str, Any]:
    """Everything the coding page needs to start: lesson, students with keys, codebook."""
    lesson = scope.get_lesson(db, user, study, lesson_id)
    students = [s for s in scope.list_students(db, user, study, classroom=lesson["classroom"])
                if s["classrooms"].get(str(lesson["wave"])) == lesson["classroom"]]
    students.sort(key=lambda s: s["code"])
    keyed = [{"code": s["code"], "first_name": s.get("first_name"),
              "key": STUDENT_KEYS[i] if i < len(STUDENT_KEYS) else None}
             for i, s in enumerate(students)]
    books = codebook_records(db, study)
    newest = db.scalar(sa.select(Codebook.id).where(Codebook.study_id == study.id)
                       .order_by(Codebook.id.desc()).limit(1))
    codebook = next((b for b in books if b["id"] == newest), None)
    offset = 0.0
    done = False
    if user.coder_id is not None:
        coder = db.get(Coder, user.coder_id)
        offset = float(coder.reaction_offset_seconds or 0.0) if coder else 0.0
        status = db.get(LessonCoding, (lesson_id, user.coder_id))
        done = bool(status and status.done_at)
    return {"lesson": {key: lesson[key] for key in ("id", "classroom", "wave", "subject",
                                                     "teachers")}
            | {"videos": lesson_clock(lesson["videos"])},
            "students": keyed, "codebook": codebook, "reaction_offset": offset,
            "done": done, "username": user.username, "role": user.role}


@router.get("/lessons/{lesson_id}/code", response_class=HTMLResponse)
def coding_page(request: Request, lesson_id: int, user: User, db: Db,
                study: CurrentStudy) -> HTMLResponse:
    """Code a lesson's video from the keyboard."""
    setup = coding_setup(db, user, study, lesson_id)
    return render(request, "coding.html", user, f"Coding lesson {lesson_id}", study.name,
                  setup=setup)
