"""Live observation: the seating-chart editor, the live session page for a tablet, and what
makes that page work offline for a whole lesson (a web app manifest and a service worker, both
served by the application itself).

Live events and presence marks go through the event API (:mod:`classdyad.web.routers.events`)
like video coding's; this router adds seating charts and the lesson clock.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from classdyad.model import Classroom, School, Wave
from classdyad.services import live_sessions
from classdyad.web import scope
from classdyad.web.dependencies import CurrentStudy, CurrentUser, Db, StudyContext, User
from classdyad.web.live_schemas import (
    LiveSessionPublic,
    LiveSessionWrite,
    SeatingChartPublic,
    SeatingChartWrite,
)
from classdyad.web.routers.coding_page import coding_setup
from classdyad.web.routers.events import writer_of
from classdyad.web.routers.pages import render

router = APIRouter(tags=["live"])
STATIC = Path(__file__).parents[1] / "static"

LIVE_ASSETS = ("/static/css/app.css", "/static/css/live.css", "/static/favicon.svg",
               "/static/js/api.js", "/static/js/event-queue.js", "/static/js/live.js",
               "/static/js/live-clock.js", "/static/js/app.js", "/static/js/forms.js",
               "/static/js/importer.js", "/static/js/seating.js", "/static/icons/live-192.png",
               "/static/icons/live-512.png", "/live.webmanifest")
"""What the service worker caches when it installs (the pages themselves are cached when
visited)."""


def _class_and_wave(db: Db, user: CurrentUser, study: StudyContext, code: str,
                    wave: int) -> tuple[int, int]:
    visible = scope.classroom_ids(db, user, study)
    classroom_id = db.scalar(sa.select(Classroom.id).join(School, Classroom.school_id == School.id)
                             .where(School.study_id == study.id, Classroom.code == code))
    if classroom_id is None or (visible is not None and classroom_id not in visible):
        raise HTTPException(404, f"no class {code!r}; the classes you can open are on the "
                            "Classes page")
    wave_id = db.scalar(sa.select(Wave.id).where(Wave.study_id == study.id,
                                                 Wave.number == wave))
    if wave_id is None:
        raise HTTPException(404, f"no wave {wave} in the study; use one of its wave numbers")
    return classroom_id, wave_id


def _chart(db: Db, user: CurrentUser, study: StudyContext, code: str,
           wave: int) -> dict[str, Any]:
    classroom_id, wave_id = _class_and_wave(db, user, study, code, wave)
    return {"classroom": code, "wave": wave,
            **live_sessions.seating_chart(db, classroom_id, wave_id)}


def _students(db: Db, user: CurrentUser, study: StudyContext, code: str,
              wave: int) -> list[dict[str, Any]]:
    """The class's students in the wave, by code (first names where the role may see them)."""
    students = [s for s in scope.list_students(db, user, study, classroom=code)
                if s["classrooms"].get(str(wave)) == code]
    return sorted(({"code": s["code"], "first_name": s.get("first_name")} for s in students),
                  key=lambda s: s["code"])


@router.get("/api/v1/classrooms/{code}/seating-chart", response_model=SeatingChartPublic)
def read_seating_chart(code: str, user: User, db: Db, study: CurrentStudy,
                       wave: int = Query(ge=1)) -> dict[str, Any]:
    """The class's seating chart for the wave (a copy of the latest earlier wave's chart, or a
    first layout, until one is saved for this wave)."""
    return _chart(db, user, study, code, wave)


@router.put("/api/v1/classrooms/{code}/seating-chart", response_model=SeatingChartPublic)
def save_seating_chart(code: str, body: SeatingChartWrite, user: User, db: Db,
                       study: CurrentStudy, wave: int = Query(ge=1)) -> dict[str, Any]:
    """Save the class's seating chart for the wave (replacing it); audited."""
    classroom_id, wave_id = _class_and_wave(db, user, study, code, wave)
    chart = live_sessions.save_seating_chart(
        db, user.username, classroom_id, wave_id, rows=body.rows, columns=body.columns,
        seats=[seat.model_dump() for seat in body.seats])
    return {"classroom": code, "wave": wave, **chart}


@router.get("/api/v1/lessons/{lesson_id}/live", response_model=LiveSessionPublic | None)
def read_live_session(lesson_id: int, user: User, db: Db,
                      study: CurrentStudy) -> dict[str, Any] | None:
    """The caller's live session of the lesson (``null`` before it starts)."""
    scope.get_lesson(db, user, study, lesson_id)
    return live_sessions.live_session(db, writer_of(db, user, study), lesson_id)


@router.put("/api/v1/lessons/{lesson_id}/live", response_model=LiveSessionPublic)
def put_live_session(lesson_id: int, body: LiveSessionWrite, user: User, db: Db,
                     study: CurrentStudy) -> dict[str, Any]:
    """Store the caller's lesson clock and sampling method; ``"ended"`` writes the lesson's
    observed minutes and each student's minutes present (idempotent)."""
    scope.get_lesson(db, user, study, lesson_id)
    return live_sessions.save_live_session(db, writer_of(db, user, study), lesson_id,
                                           **body.model_dump())


@router.get("/classrooms/{code}/seating", response_class=HTMLResponse,
            include_in_schema=False)
def seating_page(request: Request, code: str, user: User, db: Db, study: CurrentStudy,
                 wave: int = Query(default=1, ge=1)) -> HTMLResponse:
    """Arrange the class's students on the desks by drag and drop (or tap, then tap a desk)."""
    chart = _chart(db, user, study, code, wave)
    waves = list(db.scalars(sa.select(Wave.number).where(Wave.study_id == study.id)
                            .order_by(Wave.number)))
    setup = {"chart": chart, "students": _students(db, user, study, code, wave)}
    return render(request, "seating.html", user, f"Seating chart · class {code}, wave {wave}",
                  study.name, setup=setup, waves=waves, classroom=code, wave=wave)


@router.get("/lessons/{lesson_id}/live", response_class=HTMLResponse, include_in_schema=False)
def live_page(request: Request, lesson_id: int, user: User, db: Db,
              study: CurrentStudy) -> HTMLResponse:
    """Code a lesson live on a tablet: the class's seating chart, the lesson clock, absences."""
    setup = coding_setup(db, user, study, lesson_id)
    lesson = setup["lesson"]
    setup["chart"] = _chart(db, user, study, lesson["classroom"], lesson["wave"])
    setup["session"] = live_sessions.live_session(db, writer_of(db, user, study), lesson_id)
    return render(request, "live.html", user, f"Live · lesson {lesson_id}", study.name,
                  setup=setup)


@router.get("/live.webmanifest", include_in_schema=False)
def live_manifest() -> Response:
    """The web app manifest that makes the live page installable."""
    manifest = {"name": "classdyad live observation", "short_name": "classdyad live",
                "start_url": "/lessons", "scope": "/", "display": "standalone",
                "orientation": "any", "background_color": "#ffffff",
                "theme_color": "#1f4e79",
                "icons": [{"src": "/static/icons/live-192.png", "sizes": "192x192",
                           "type": "image/png"},
                          {"src": "/static/icons/live-512.png", "sizes": "512x512",
                           "type": "image/png"}]}
    return Response(json.dumps(manifest), media_type="application/manifest+json")


@router.get("/live-sw.js", include_in_schema=False)
def live_service_worker() -> Response:
    """The service worker (served from the root so that its scope covers the live pages)."""
    text = (STATIC / "js" / "live-sw.js").read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode())
    for asset in LIVE_ASSETS:
        if asset.startswith("/static/"):
            digest.update((STATIC / asset.removeprefix("/static/")).read_bytes())
    text = (text.replace("__ASSETS__", json.dumps(list(LIVE_ASSETS)))
            .replace("__VERSION__", digest.hexdigest()[:12]))
    return Response(text, media_type="text/javascript",
                    headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})
