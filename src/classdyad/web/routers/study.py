"""The study: overview, settings, classes, teachers, students, lessons, coders, audit log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query

from classdyad.errors import DataError
from classdyad.model import (
    AuditEntry,
    Classroom,
    Coder,
    CoderAssignment,
    Lesson,
    LessonTeacher,
    School,
    Study,
    Teacher,
    Wave,
)
from classdyad.services.privacy import group_summary
from classdyad.web import scope
from classdyad.web.dependencies import CurrentStudy, Db, User
from classdyad.web.schemas import (
    AuditPublic,
    ClassroomPublic,
    CoderCreate,
    CoderPublic,
    GroupCell,
    LessonCreate,
    LessonPublic,
    LessonUpdate,
    SettingsPublic,
    SettingsUpdate,
    StudentPublic,
    StudyOverview,
    TeacherPublic,
)

router = APIRouter(prefix="/api/v1", tags=["study"])


def audit(db: Db, user: User, action: str, entity: str, count: int | None = None,
          **detail: Any) -> None:
    """Add an audit-log entry to the request's unit of work."""
    db.add(AuditEntry(actor=user.username, action=action, entity=entity, count=count,
                      detail=detail or None))


def overview_counts(db: Db, study: CurrentStudy) -> dict[str, Any]:
    """What ``classdyad info`` prints for the study."""
    from classdyad.store import study_counts

    return study_counts(db.get_bind(), study.id)  # type: ignore[arg-type]


@router.get("/study", response_model=StudyOverview)
def study_overview(db: Db, study: CurrentStudy) -> StudyOverview:
    """Counts of schools, classes, teachers, students, waves, lessons and events."""
    return StudyOverview(study=study.name, description=study.description,
                         counts=overview_counts(db, study))


def settings_of(study: CurrentStudy) -> SettingsPublic:
    """The study's web-facing settings with their defaults."""
    privacy = study.privacy
    return SettingsPublic(**privacy.to_dict(), teachers_see_own_videos=bool(
        study.settings.get("teachers_see_own_videos", False)))


@router.get("/study/settings", response_model=SettingsPublic)
def read_settings(study: CurrentStudy) -> SettingsPublic:
    """Minimum cell size and what coders and teachers may see."""
    return settings_of(study)


@router.put("/study/settings", response_model=SettingsPublic)
def update_settings(body: SettingsUpdate, user: User, db: Db,
                    study: CurrentStudy) -> SettingsPublic:
    """Change settings (only the fields given); audited."""
    record = db.get(Study, study.id)
    assert record is not None
    changes = body.model_dump(exclude_none=True)
    record.settings = {**(record.settings or {}), **changes}
    audit(db, user, "update", "study_settings", len(changes), changes=changes)
    db.commit()
    return settings_of(type(study)(study.id, study.name, study.description,
                                   dict(record.settings)))


@router.get("/classrooms", response_model=list[ClassroomPublic])
def list_classrooms(user: User, db: Db, study: CurrentStudy) -> list[dict[str, Any]]:
    """The classes the user may see (researchers: all; teachers: their own; coders: those of
    their assigned lessons)."""
    return scope.list_classrooms(db, user, study)


Grouping = Literal["gender", "migration_background", "migration_generation", "non_western",
                   "turkish_moroccan", "origin_2022", "low_ses"]


@router.get("/classrooms/{code}/groups", response_model=list[GroupCell])
def classroom_groups(code: str, user: User, db: Db, study: CurrentStudy,
                     by: Annotated[Grouping, Query(description="the grouping")],
                     wave: int | None = Query(default=None, ge=1,
                                              description="one wave (default: the last)")
                     ) -> list[dict[str, Any]]:
    """Students of one class per group, as the user's role may see them.

    Researchers see every cell. Teachers (their own classes only) see background groups only
    where the study enables ``teachers_see_background_groups``, and then every cell under the
    study's minimum cell size is suppressed, with a complementary cell.
    """
    import pandas as pd

    visible = scope.classroom_ids(db, user, study)
    classroom_id = db.scalar(sa.select(Classroom.id).join(School)
                             .where(School.study_id == study.id, Classroom.code == code))
    if classroom_id is None or (visible is not None and classroom_id not in visible):
        raise HTTPException(404, f"no class {code!r}; the classes you can open are on the "
                            "Classes page")
    records = scope.student_records(db, study, {classroom_id}, groups=True)
    waves = sorted({int(w) for r in records for w in r["classrooms"]})
    chosen = wave if wave is not None else (waves[-1] if waves else 1)
    frame = pd.DataFrame([r for r in records
                          if r["classrooms"].get(str(chosen)) == code],
                         columns=["code", by]) if records else pd.DataFrame(columns=["code", by])
    try:
        cells = group_summary(frame, by, role=user.role, settings=study.privacy, unit="code")
    except DataError as error:
        raise HTTPException(403, str(error)) from error
    return [{"group": None if pd.isna(row[by]) else str(row[by]),
             "students": None if row["students"] is None or pd.isna(row["students"])
             else int(row["students"]), "suppressed": bool(row["suppressed"])}
            for _, row in cells.iterrows()]


@router.get("/teachers", response_model=list[TeacherPublic])
def list_teachers(db: Db, study: CurrentStudy) -> list[dict[str, Any]]:
    """Every teacher of the study, with their classes."""
    return scope.list_teachers(db, study)


@router.get("/students", response_model=list[StudentPublic],
            response_model_exclude_unset=True)
def list_students(user: User, db: Db, study: CurrentStudy,
                  classroom: str | None = Query(default=None, description="a class code")
                  ) -> list[dict[str, Any]]:
    """The students the user may see, with the fields the user's role may see.

    Background variables and groups are present for researchers only; the fields a role may
    not see are absent from the answer.
    """
    return scope.list_students(db, user, study, classroom=classroom)


@router.get("/lessons", response_model=list[LessonPublic])
def list_lessons(user: User, db: Db, study: CurrentStudy) -> list[dict[str, Any]]:
    """The lessons the user may see (coders: assigned to them; teachers: their classes')."""
    return scope.list_lessons(db, user, study)


@router.get("/lessons/{lesson_id}", response_model=LessonPublic)
def read_lesson(lesson_id: int, user: User, db: Db, study: CurrentStudy) -> dict[str, Any]:
    """One lesson (404 for a lesson outside the user's part of the study)."""
    return scope.get_lesson(db, user, study, lesson_id)


def _teacher_ids(db: Db, study: CurrentStudy, codes: list[str]) -> list[int]:
    found = dict(db.execute(sa.select(Teacher.code, Teacher.id)
                            .where(Teacher.study_id == study.id, Teacher.code.in_(codes))).all())
    missing = [code for code in codes if code not in found]
    if missing:
        raise HTTPException(422, f"unknown teacher code(s) {', '.join(missing)}; use the codes "
                            "on the Teachers page")
    return [found[code] for code in dict.fromkeys(codes)]


@router.post("/lessons", response_model=LessonPublic, status_code=201)
def create_lesson(body: LessonCreate, user: User, db: Db, study: CurrentStudy
                  ) -> dict[str, Any]:
    """Add an observed lesson of a class in a wave, with its teacher(s); audited."""
    classroom_id = db.scalar(sa.select(Classroom.id).join(School)
                             .where(School.study_id == study.id,
                                    Classroom.code == body.classroom))
    if classroom_id is None:
        raise HTTPException(422, f"unknown class {body.classroom!r}; use a code from the "
                            "Classes page")
    wave_id = db.scalar(sa.select(Wave.id).where(Wave.study_id == study.id,
                                                 Wave.number == body.wave))
    if wave_id is None:
        raise HTTPException(422, f"the study has no wave {body.wave}; waves come with the "
                            "roster import")
    lesson = Lesson(classroom_id=classroom_id, wave_id=wave_id, date=body.date,
                    subject=body.subject, observed_minutes=body.observed_minutes)
    db.add(lesson)
    db.flush()
    for teacher_id in _teacher_ids(db, study, body.teachers):
        db.add(LessonTeacher(lesson_id=lesson.id, teacher_id=teacher_id))
    audit(db, user, "create", "lesson", 1, lesson_id=lesson.id)
    db.commit()
    return scope.get_lesson(db, user, study, lesson.id)


@router.patch("/lessons/{lesson_id}", response_model=LessonPublic)
def update_lesson(lesson_id: int, body: LessonUpdate, user: User, db: Db,
                  study: CurrentStudy) -> dict[str, Any]:
    """Change a lesson's date, subject, observed minutes or teachers; audited."""
    scope.get_lesson(db, user, study, lesson_id)
    lesson = db.get(Lesson, lesson_id)
    assert lesson is not None
    changes = body.model_dump(exclude_unset=True)
    for field in ("date", "subject", "observed_minutes"):
        if field in changes and (changes[field] is not None or field != "observed_minutes"):
            setattr(lesson, field, changes[field])
    if changes.get("teachers"):
        ids = _teacher_ids(db, study, changes["teachers"])
        db.execute(sa.delete(LessonTeacher).where(LessonTeacher.lesson_id == lesson_id))
        for teacher_id in ids:
            db.add(LessonTeacher(lesson_id=lesson_id, teacher_id=teacher_id))
    audit(db, user, "update", "lesson", 1, lesson_id=lesson_id,
          changes={k: str(v) for k, v in changes.items()})
    db.commit()
    return scope.get_lesson(db, user, study, lesson_id)


@router.get("/coders", response_model=list[CoderPublic])
def list_coders(db: Db, study: CurrentStudy) -> list[dict[str, Any]]:
    """The study's coders with their number of assigned lessons."""
    rows = db.execute(sa.select(Coder.code, sa.func.count(CoderAssignment.id))
                      .outerjoin(CoderAssignment, CoderAssignment.coder_id == Coder.id)
                      .where(Coder.study_id == study.id).group_by(Coder.id, Coder.code)
                      .order_by(Coder.code)).all()
    return [{"code": code, "assignments": n} for code, n in rows]


@router.post("/coders", response_model=CoderPublic, status_code=201)
def create_coder(body: CoderCreate, user: User, db: Db, study: CurrentStudy
                 ) -> dict[str, Any]:
    """Add a coder (a research assistant who codes lessons); audited."""
    if db.scalar(sa.select(Coder.id).where(Coder.study_id == study.id,
                                           Coder.code == body.code)):
        raise HTTPException(409, f"coder {body.code!r} exists already; choose another code")
    db.add(Coder(study_id=study.id, code=body.code))
    audit(db, user, "create", "coder", 1, coder=body.code)
    db.commit()
    return {"code": body.code, "assignments": 0}


@router.get("/audit", response_model=list[AuditPublic])
def audit_log(db: Db, limit: int = Query(default=200, ge=1, le=5000),
              action: str | None = None) -> list[AuditEntry]:
    """The newest audit-log entries (imports, exports, changes), newest first."""
    query = sa.select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(db.scalars(query))
