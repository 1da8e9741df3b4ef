"""Codebooks (a new version on every change) and coder assignments."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Response

from classdyad.model import Codebook, CodebookCategory, Coder, CoderAssignment, InteractionEvent
from classdyad.web import scope
from classdyad.web.dependencies import CurrentStudy, Db, User
from classdyad.web.routers.study import audit
from classdyad.web.schemas import (
    AssignmentCreate,
    AssignmentPublic,
    CodebookCreate,
    CodebookPublic,
)

router = APIRouter(prefix="/api/v1", tags=["coding"])


def _version_number(version: str) -> int:
    head = version.split(".")[0]
    return int(head) if head.isdigit() else 0


def codebook_records(db: Db, study: CurrentStudy) -> list[dict[str, Any]]:
    """Every codebook version of the study, newest version of each name first."""
    books = db.scalars(sa.select(Codebook).where(Codebook.study_id == study.id)).all()
    events = dict(db.execute(sa.select(InteractionEvent.codebook_id, sa.func.count())
                             .where(InteractionEvent.codebook_id.in_([b.id for b in books]))
                             .group_by(InteractionEvent.codebook_id)).all())
    books = sorted(books, key=lambda b: (b.name, -_version_number(b.version), b.version))
    return [{"id": b.id, "name": b.name, "version": b.version, "description": b.description,
             "events": int(events.get(b.id, 0)),
             "categories": [{"subtype": c.subtype, "valence": c.valence, "hotkey": c.hotkey,
                             "label": c.label, "description": c.description}
                            for c in sorted(b.categories, key=lambda c: c.subtype)]}
            for b in books]


@router.get("/codebooks", response_model=list[CodebookPublic])
def list_codebooks(db: Db, study: CurrentStudy) -> list[dict[str, Any]]:
    """Every version of every codebook, with its categories and how many events use it."""
    return codebook_records(db, study)


@router.post("/codebooks", response_model=CodebookPublic, status_code=201)
def create_codebook_version(body: CodebookCreate, user: User, db: Db,
                            study: CurrentStudy) -> dict[str, Any]:
    """Save a codebook as a new version (events coded under older versions keep theirs)."""
    problems = []
    for field in ("subtype", "hotkey"):
        values = [getattr(c, field) for c in body.categories if getattr(c, field)]
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            problems.append(f"{field} {', '.join(map(repr, repeated))} used twice")
    if problems:
        raise HTTPException(422, "; ".join(problems) + "; give each category its own subtype "
                            "and hotkey")
    versions = db.scalars(sa.select(Codebook.version).where(Codebook.study_id == study.id,
                                                            Codebook.name == body.name)).all()
    version = str(max((_version_number(v) for v in versions), default=0) + 1)
    book = Codebook(study_id=study.id, name=body.name, version=version,
                    description=body.description,
                    categories=[CodebookCategory(**c.model_dump()) for c in body.categories])
    db.add(book)
    db.flush()
    audit(db, user, "create", "codebook", len(body.categories), codebook=body.name,
          version=version)
    db.commit()
    return next(r for r in codebook_records(db, study) if r["id"] == book.id)


def assignment_records(db: Db, user: User, study: CurrentStudy) -> list[dict[str, Any]]:
    """The assignments the user may see (a coder: their own)."""
    query = (sa.select(CoderAssignment.id, CoderAssignment.lesson_id, Coder.code.label("coder"),
                       CoderAssignment.role)
             .join(Coder, CoderAssignment.coder_id == Coder.id)
             .where(Coder.study_id == study.id).order_by(CoderAssignment.lesson_id,
                                                         CoderAssignment.role))
    if user.role == "coder":
        query = query.where(CoderAssignment.coder_id == user.coder_id)
    return [dict(row._mapping) for row in db.execute(query)]


@router.get("/assignments", response_model=list[AssignmentPublic])
def list_assignments(user: User, db: Db, study: CurrentStudy) -> list[dict[str, Any]]:
    """Coder assignments (a coder sees only their own)."""
    return assignment_records(db, user, study)


@router.post("/assignments", response_model=AssignmentPublic, status_code=201)
def create_assignment(body: AssignmentCreate, user: User, db: Db,
                      study: CurrentStudy) -> dict[str, Any]:
    """Give a lesson to a coder as its primary or (blind) second coder; audited."""
    scope.get_lesson(db, user, study, body.lesson_id)
    coder_id = db.scalar(sa.select(Coder.id).where(Coder.study_id == study.id,
                                                   Coder.code == body.coder))
    if coder_id is None:
        raise HTTPException(422, f"unknown coder {body.coder!r}; add the coder first "
                            "(Assignments page)")
    taken = db.execute(sa.select(CoderAssignment.role, CoderAssignment.coder_id)
                       .where(CoderAssignment.lesson_id == body.lesson_id)).all()
    if any(role == body.role for role, _ in taken):
        raise HTTPException(409, f"lesson {body.lesson_id} has a {body.role} coder already; "
                            "remove that assignment first")
    if any(coder == coder_id for _, coder in taken):
        raise HTTPException(409, f"coder {body.coder!r} is assigned to lesson "
                            f"{body.lesson_id} already; a second coder must be another person")
    assignment = CoderAssignment(lesson_id=body.lesson_id, coder_id=coder_id, role=body.role)
    db.add(assignment)
    db.flush()
    audit(db, user, "create", "coder_assignment", 1, lesson_id=body.lesson_id,
          coder=body.coder, role=body.role)
    db.commit()
    return {"id": assignment.id, "lesson_id": body.lesson_id, "coder": body.coder,
            "role": body.role}


@router.delete("/assignments/{assignment_id}", status_code=204)
def delete_assignment(assignment_id: int, user: User, db: Db, study: CurrentStudy) -> Response:
    """Remove an assignment (coded events stay); audited."""
    found = next((a for a in assignment_records(db, user, study) if a["id"] == assignment_id),
                 None)
    if found is None:
        raise HTTPException(404, f"no assignment {assignment_id}; see the Assignments page")
    db.execute(sa.delete(CoderAssignment).where(CoderAssignment.id == assignment_id))
    audit(db, user, "delete", "coder_assignment", 1, **found)
    db.commit()
    return Response(status_code=204)
