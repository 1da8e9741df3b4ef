"""Files in and out: imports (dry run, then commit), exports (audited), lesson videos."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask

from classdyad.errors import ValidationError
from classdyad.io.video import VIDEO_SUFFIXES, read_video_info
from classdyad.model import LessonTeacher, VideoFile
from classdyad.services import exports, imports
from classdyad.web import scope
from classdyad.web.dependencies import (
    CurrentStudy,
    Db,
    MaybeStudy,
    ReadDb,
    User,
    end_read,
    get_settings,
)
from classdyad.web.routers.study import audit
from classdyad.web.schemas import ImportResult, LessonPublic, VideoRegister
from classdyad.web.uploads import receive_file, safe_filename

router = APIRouter(prefix="/api/v1", tags=["files"])

EXPORT_FORMATS = (*exports.DATASET_FORMATS, "events")
MEDIA_TYPES = {".csv": "text/csv", ".sav": "application/octet-stream",
               ".dta": "application/octet-stream", ".parquet": "application/octet-stream",
               ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.post("/imports/{kind}", response_model=ImportResult,
             responses={422: {"model": ImportResult, "description": "located problems"}})
async def import_file(kind: str, request: Request, user: User, db: Db, study: MaybeStudy,
                      filename: str = Query(description="the file's name (its type by suffix)"),
                      dry_run: bool = Query(default=True,
                                            description="check only (the default); false "
                                            "writes everything or nothing")) -> Any:
    """Import a roster or questionnaire responses sent as the request body.

    A dry run checks the file against the stored study and writes nothing; the answer lists the
    rows each table would gain, or every located problem (422). Without the dry run, the same
    checks run and everything is written in one transaction, or nothing.
    """
    if kind not in imports.IMPORT_KINDS:
        raise HTTPException(404, f"no import {kind!r}; use one of "
                            f"{', '.join(imports.IMPORT_KINDS)}")
    name = safe_filename(filename, allowed=imports.IMPORT_SUFFIXES)
    folder = Path(tempfile.mkdtemp(prefix="classdyad-import-"))
    try:
        path = folder / name
        await receive_file(request, path, max_bytes=get_settings(request).max_import_bytes)
        try:
            # the import joins the request's write transaction (taken only now, after the
            # upload), and the request commits it
            summary = await run_in_threadpool(
                imports.import_file, db, kind, path, actor=user.username,
                source=name, study=study.id if study else None, dry_run=dry_run)
            await run_in_threadpool(db.commit)
        except ValidationError as error:
            await run_in_threadpool(db.rollback)
            body = ImportResult(source=name, dry_run=dry_run, ok=False,
                                problems=imports.problem_records(error))  # type: ignore[arg-type]
            return JSONResponse(body.model_dump(), status_code=422)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return ImportResult(source=name, dry_run=dry_run, ok=True, added=summary.added,
                        already_stored=summary.already_stored)


@router.get("/exports/{format}")
def export_file(format: str, request: Request, user: User, db: Db, study: CurrentStudy,
                level: str = Query(default="wave", description="'wave' or 'student'"),
                include_names: bool = Query(default=False, description="add students' names "
                                            "(personal data)")) -> FileResponse:
    """Download the analysis dataset (or the coded events) in a format; every download is
    audited, and names are left out unless asked for."""
    if format not in EXPORT_FORMATS:
        raise HTTPException(404, f"no export format {format!r}; use one of "
                            f"{', '.join(EXPORT_FORMATS)}")
    folder = Path(tempfile.mkdtemp(prefix="classdyad-export-"))
    suffix = exports.SUFFIXES[format]
    safe_name = "".join(c if c.isalnum() or c in "-_" else "_" for c in study.name)
    path = folder / f"{safe_name}-{format if format == 'events' else level}{suffix}"
    engine = db.get_bind()
    if format == "events":
        exports.export_events(engine, "events", path, actor=user.username, study=study.id)  # type: ignore[arg-type]
    else:
        exports.export_dataset(engine, format, path, actor=user.username, study=study.id,  # type: ignore[arg-type]
                               level=level, include_names=include_names)
    return FileResponse(path, filename=path.name,
                        media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


def _next_position(db: Db, lesson_id: int) -> int:
    current = db.scalar(sa.select(sa.func.max(VideoFile.position))
                        .where(VideoFile.lesson_id == lesson_id))
    return int(current or 0) + 1


def _register(db: Db, user: User, study: CurrentStudy, lesson_id: int, path: Path,
              ) -> dict[str, Any]:
    info = read_video_info(path)
    db.add(VideoFile(lesson_id=lesson_id, position=_next_position(db, lesson_id),
                     path=str(path), size_bytes=info.size_bytes,
                     duration_seconds=info.duration_seconds, frame_rate=info.frame_rate,
                     codec=info.codec, width=info.width, height=info.height))
    audit(db, user, "create", "video_file", 1, lesson_id=lesson_id, path=str(path))
    db.commit()
    return scope.get_lesson(db, user, study, lesson_id)


@router.post("/lessons/{lesson_id}/videos", response_model=LessonPublic, status_code=201)
def register_video(lesson_id: int, body: VideoRegister, request: Request, user: User, db: Db,
                   study: CurrentStudy) -> dict[str, Any]:
    """Attach a video already on the server (inside its media folder); ffprobe reads its
    duration, frame rate and codec."""
    scope.get_lesson(db, user, study, lesson_id)
    media = get_settings(request).media_path().resolve()
    path = (media / body.path).resolve()
    if not path.is_relative_to(media):
        raise HTTPException(422, f"{body.path} is outside the server's media folder {media}; "
                            "move the file there or upload it")
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise HTTPException(415, f"{path.name}: not a video type classdyad accepts "
                            f"({', '.join(VIDEO_SUFFIXES)})")
    if not path.is_file():
        raise HTTPException(422, f"no file {body.path} in the media folder {media}")
    return _register(db, user, study, lesson_id, path)


@router.post("/lessons/{lesson_id}/videos/upload", response_model=LessonPublic,
             status_code=201)
async def upload_video(lesson_id: int, request: Request, user: User, read: ReadDb, db: Db,
                       study: CurrentStudy,
                       filename: str = Query(description="the video's file name")) -> Any:
    """Upload a video (the request body) for a lesson; stored in the media folder, then read
    with ffprobe. Size and type are limited."""
    # checked on the read session: the write transaction starts after the upload
    await run_in_threadpool(scope.get_lesson, read, user, study, lesson_id)
    await run_in_threadpool(end_read, read)
    name = safe_filename(filename, allowed=VIDEO_SUFFIXES)
    settings = get_settings(request)
    target = (settings.media_path() / "uploads" / f"lesson-{lesson_id}"
              / f"{secrets.token_hex(4)}-{name}")
    await receive_file(request, target, max_bytes=settings.max_video_bytes)
    try:
        return await run_in_threadpool(_register, db, user, study, lesson_id, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


@router.get("/videos/{video_id}")
def stream_video(video_id: int, user: User, db: Db, study: CurrentStudy) -> FileResponse:
    """The video file, with HTTP range requests (seeking); 404 outside the user's lessons.

    Teachers may watch the lessons they taught (not a colleague's lessons in their class) only
    where the study enables ``teachers_see_own_videos``.
    """
    video = db.get(VideoFile, video_id)
    missing = HTTPException(404, f"no video {video_id}; open videos from the lesson's page")
    if video is None:
        raise missing
    if user.role == "teacher" and not (
            study.settings.get("teachers_see_own_videos", False)
            and db.scalar(sa.select(LessonTeacher.lesson_id).where(
                LessonTeacher.lesson_id == video.lesson_id,
                LessonTeacher.teacher_id == user.teacher_id)) is not None):
        raise missing
    visible = scope.lesson_ids(db, user, study)
    if visible is not None and video.lesson_id not in visible:
        raise missing
    scope.get_lesson(db, user, study, video.lesson_id)
    path = Path(video.path)
    if not path.is_file():
        raise HTTPException(410, f"video file {path.name} is no longer on the server; "
                            "register it again")
    suffix = path.suffix.lower()
    media_type = {".webm": "video/webm", ".ogv": "video/ogg", ".mov": "video/quicktime",
                  ".mkv": "video/x-matroska"}.get(suffix, "video/mp4")
    return FileResponse(path, media_type=media_type)
