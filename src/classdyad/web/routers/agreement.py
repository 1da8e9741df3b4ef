"""Double coding: the agreement view of a lesson, the adjudication queue, calibration."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from classdyad.model import Coder
from classdyad.services import coding_agreement
from classdyad.web import scope
from classdyad.web.coding_schemas import AdjudicationWrite
from classdyad.web.dependencies import CurrentStudy, Db, User
from classdyad.web.routers.pages import render

router = APIRouter()

WINDOW = Query(default=2.0, gt=0, le=30, description="largest time difference (s) of a pair")


@router.get("/api/v1/lessons/{lesson_id}/agreement", tags=["agreement"])
def lesson_agreement(lesson_id: int, user: User, db: Db, study: CurrentStudy,
                     coder_a: str | None = None, coder_b: str | None = None,
                     window: float = WINDOW) -> dict[str, Any]:
    """Two coders' agreement on a lesson (event matching, kappas, alpha, time-unit kappa) and
    every disagreement with both versions and its adjudication."""
    scope.get_lesson(db, user, study, lesson_id)
    return coding_agreement.lesson_agreement(db, lesson_id, coder_a=coder_a, coder_b=coder_b,
                                             window=window)


@router.post("/api/v1/lessons/{lesson_id}/adjudications", tags=["agreement"],
             status_code=201)
def adjudicate(lesson_id: int, body: AdjudicationWrite, user: User, db: Db,
               study: CurrentStudy, window: float = WINDOW) -> dict[str, Any]:
    """Settle one disagreement: keep A, keep B, edit, add or drop (originals are kept)."""
    scope.get_lesson(db, user, study, lesson_id)
    event = body.event.model_dump() if body.event is not None else None
    return coding_agreement.adjudicate(db, actor=user.username, study_id=study.id,
                                       lesson_id=lesson_id, unit=body.unit,
                                       decision=body.decision, event=event, window=window)


@router.get("/api/v1/calibration", tags=["agreement"])
def calibration(db: Db, study: CurrentStudy) -> list[dict[str, Any]]:
    """Each coder's agreement with the master coder(s), lesson by lesson in the order done."""
    table = coding_agreement.calibration(db, study.id)
    return [{k: (None if v != v else v) for k, v in row.items()}  # NaN -> null
            for row in table.astype(object).to_dict("records")]


@router.put("/api/v1/coders/{code}/master", tags=["agreement"])
def set_master_coder(code: str, db: Db, study: CurrentStudy,
                     master: bool = Query(default=True)) -> dict[str, Any]:
    """Make a coder a master coder (or not), whose codings others are calibrated against."""
    coder = db.scalar(sa.select(Coder).where(Coder.study_id == study.id, Coder.code == code))
    if coder is None:
        raise HTTPException(404, f"no coder {code!r}; see the Assignments page")
    coder.master = master
    db.commit()
    return {"code": code, "master": master}


@router.get("/lessons/{lesson_id}/agreement", response_class=HTMLResponse,
            include_in_schema=False)
def agreement_page(request: Request, lesson_id: int, user: User, db: Db,
                   study: CurrentStudy) -> HTMLResponse:
    """Agreement of a lesson's two coders and the adjudication queue, beside the video."""
    from classdyad.web.routers.coding_page import coding_setup

    setup = coding_setup(db, user, study, lesson_id)
    lesson = scope.get_lesson(db, user, study, lesson_id)
    coders = coding_agreement.lesson_coders(db, lesson_id)
    form = {"lesson": setup["lesson"], "students": [s["code"] for s in setup["students"]],
            "categories": (setup["codebook"] or {}).get("categories", [])}
    return render(request, "agreement.html", user, f"Agreement on lesson {lesson_id}",
                  study.name, lesson=lesson, coders=coders, form=form)


@router.get("/calibration", response_class=HTMLResponse, include_in_schema=False)
def calibration_page(request: Request, user: User, db: Db, study: CurrentStudy
                     ) -> HTMLResponse:
    """Each coder's agreement with the master coder over time."""
    table = coding_agreement.calibration(db, study.id)
    return render(request, "calibration.html", user, "Calibration with the master coder",
                  study.name, rows=table.to_dict("records"))
