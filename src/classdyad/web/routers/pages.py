"""Server-rendered pages (Jinja2). They read through the same scoped queries as the API and
send every change through the JSON API (see ``static/js``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from classdyad.model import LessonTeacher
from classdyad.services import exports
from classdyad.web import scope
from classdyad.web.access import allowed
from classdyad.web.dependencies import CurrentStudy, CurrentUser, Db, MaybeStudy, User
from classdyad.web.routers.coding import assignment_records, codebook_records
from classdyad.web.routers.study import list_coders, overview_counts, settings_of
from classdyad.web.routers.users import user_records

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parents[1] / "templates"))

NAV = (("/study", "Overview", "overview_page"), ("/classrooms", "Classes", "classrooms_page"),
       ("/teachers", "Teachers", "teachers_page"), ("/students", "Students", "students_page"),
       ("/lessons", "Lessons", "lessons_page"), ("/codebooks", "Codebooks", "codebooks_page"),
       ("/assignments", "Assignments", "assignments_page"), ("/import", "Import", "import_page"),
       ("/exports", "Exports", "exports_page"), ("/audit", "Audit log", "audit_page"),
       ("/users", "Users", "users_page"), ("/settings", "Settings", "settings_page"),
       ("/dashboard", "Feedback", "dashboard_page"))

LANDING = {"admin": "/users", "researcher": "/study", "coder": "/lessons",
           "teacher": "/classrooms", "coach": "/dashboard"}


def _col(key: str, label: str | None = None, *, numeric: bool = False,
         link: str | None = None) -> dict[str, Any]:
    return {"key": key, "label": label or key.replace("_", " "), "numeric": numeric,
            "link": link}


def render(request: Request, template: str, user: CurrentUser | None, title: str,
           study_name: str | None = None, **context: Any) -> HTMLResponse:
    """A page with the navigation the user's role may use."""
    nav = [{"href": href, "label": label} for href, label, name in NAV
           if user is not None and allowed(name, user.role)]
    return templates.TemplateResponse(request, template, {
        "user": user, "title": title, "nav": nav, "active": request.url.path,
        "study_name": study_name, **context})


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    """The login form."""
    return render(request, "login.html", None, "Log in", next=next)


@router.get("/")
def home_page(user: User) -> RedirectResponse:
    """Each role's first page."""
    return RedirectResponse(LANDING[user.role], status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: User) -> HTMLResponse:
    """One's own account: change the password."""
    return render(request, "account.html", user, "Your account")


@router.get("/study", response_class=HTMLResponse)
def overview_page(request: Request, user: User, db: Db, study: MaybeStudy) -> HTMLResponse:
    """What ``classdyad info`` prints, as a page."""
    counts = overview_counts(db, study) if study else None
    return render(request, "overview.html", user, "Study overview",
                  study.name if study else None, counts=counts)


@router.get("/classrooms", response_class=HTMLResponse)
def classrooms_page(request: Request, user: User, db: Db, study: CurrentStudy) -> HTMLResponse:
    """The classes the user may see."""
    columns = [_col("code", "class", link="/students?classroom={code}"), _col("school"),
               _col("lowest_grade", "lowest groep", numeric=True),
               _col("highest_grade", "highest groep", numeric=True), _col("teachers")]
    return render(request, "table.html", user, "Classes", study.name, columns=columns,
                  rows=scope.list_classrooms(db, user, study), table_id="classrooms")


@router.get("/teachers", response_class=HTMLResponse)
def teachers_page(request: Request, user: User, db: Db, study: CurrentStudy) -> HTMLResponse:
    """Every teacher of the study."""
    columns = [_col("code", "teacher"), _col("gender"),
               _col("years_experience", "years of experience", numeric=True),
               _col("classrooms", "classes")]
    return render(request, "table.html", user, "Teachers", study.name, columns=columns,
                  rows=scope.list_teachers(db, study), table_id="teachers")


@router.get("/students", response_class=HTMLResponse)
def students_page(request: Request, user: User, db: Db, study: CurrentStudy,
                  classroom: str | None = None) -> HTMLResponse:
    """The students the user may see, with the columns the role may see."""
    rows = scope.list_students(db, user, study, classroom=classroom)
    keys = list(dict.fromkeys(key for row in rows for key in row))
    columns = [_col(key, "classes (wave: class)" if key == "classrooms" else None)
               for key in keys]
    title = f"Students of class {classroom}" if classroom else "Students"
    return render(request, "table.html", user, title, study.name, columns=columns, rows=rows,
                  table_id="students")


@router.get("/lessons", response_class=HTMLResponse)
def lessons_page(request: Request, user: User, db: Db, study: CurrentStudy) -> HTMLResponse:
    """The lessons the user may see."""
    rows = scope.list_lessons(db, user, study)
    for row in rows:
        row["coders"] = [f"{a['coder']} ({a['role']})" for a in row["assignments"]]
        row["video_count"] = len(row["videos"])
    columns = [_col("id", "lesson", link="/lessons/{id}"), _col("classroom", "class"),
               _col("wave", numeric=True), _col("date"), _col("subject"),
               _col("observed_minutes", "minutes", numeric=True), _col("teachers"),
               _col("coders"), _col("video_count", "videos", numeric=True)]
    classrooms = scope.list_classrooms(db, user, study) if user.role == "researcher" else []
    return render(request, "lessons.html", user, "Lessons", study.name, columns=columns,
                  rows=rows, classrooms=classrooms)


@router.get("/lessons/{lesson_id}", response_class=HTMLResponse)
def lesson_page(request: Request, lesson_id: int, user: User, db: Db,
                study: CurrentStudy) -> HTMLResponse:
    """One lesson: facts, videos, and (researchers) editing and attaching videos."""
    lesson = scope.get_lesson(db, user, study, lesson_id)
    can_watch = user.role != "teacher" or (
        bool(study.settings.get("teachers_see_own_videos"))
        and db.scalar(sa.select(LessonTeacher.lesson_id).where(
            LessonTeacher.lesson_id == lesson_id,
            LessonTeacher.teacher_id == user.teacher_id)) is not None)
    return render(request, "lesson.html", user, f"Lesson {lesson_id}", study.name,
                  lesson=lesson, can_watch=can_watch)


@router.get("/lessons/{lesson_id}/edit")
def lesson_edit_page(lesson_id: int, user: User) -> RedirectResponse:
    """Editing happens on the lesson's page."""
    return RedirectResponse(f"/lessons/{lesson_id}", status_code=303)


@router.get("/codebooks", response_class=HTMLResponse)
def codebooks_page(request: Request, user: User, db: Db, study: CurrentStudy) -> HTMLResponse:
    """Codebook versions and the editor."""
    return render(request, "codebooks.html", user, "Codebooks", study.name,
                  codebooks=codebook_records(db, study))


@router.get("/assignments", response_class=HTMLResponse)
def assignments_page(request: Request, user: User, db: Db,
                     study: CurrentStudy) -> HTMLResponse:
    """Coder assignments and coders."""
    return render(request, "assignments.html", user, "Coder assignments", study.name,
                  assignments=assignment_records(db, user, study),
                  lessons=scope.list_lessons(db, user, study), coders=list_coders(db, study))


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, user: User, study: MaybeStudy) -> HTMLResponse:
    """Upload a roster or responses: check first, then import."""
    return render(request, "import.html", user, "Import", study.name if study else None)


@router.get("/exports", response_class=HTMLResponse)
def exports_page(request: Request, user: User, study: CurrentStudy) -> HTMLResponse:
    """Download the analysis dataset or the coded events (audited)."""
    return render(request, "exports.html", user, "Exports", study.name,
                  formats=[*exports.DATASET_FORMATS, "events"])


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: User, db: Db) -> HTMLResponse:
    """The newest audit-log entries."""
    from classdyad.web.routers.study import audit_log

    rows = [{"at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity,
             "count": e.count, "detail": e.detail or {}} for e in audit_log(db, 500, None)]
    columns = [_col("at", "when"), _col("actor", "who"), _col("action"), _col("entity", "what"),
               _col("count", "rows", numeric=True), _col("detail")]
    return render(request, "table.html", user, "Audit log", None, columns=columns, rows=rows,
                  table_id="audit", intro="Every import, export and change, newest first.")


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: User, db: Db) -> HTMLResponse:
    """Accounts: add one, reset a password."""
    rows = [u.model_dump() for u in user_records(db)]
    columns = [_col("id", numeric=True), _col("username"), _col("role"), _col("teacher"),
               _col("coder"), _col("active")]
    return render(request, "users.html", user, "Users", None, columns=columns, rows=rows)


@router.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, user: User, study: CurrentStudy) -> HTMLResponse:
    """The study's privacy settings."""
    return render(request, "settings.html", user, "Study settings", study.name,
                  settings=settings_of(study))
