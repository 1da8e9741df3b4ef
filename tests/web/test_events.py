"""The event API: idempotent writes, revisions with the originals kept, who may write and read."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from classdyad.model import (
    AuditEntry,
    Coder,
    CoderAssignment,
    EventRevision,
    InteractionEvent,
    LoginSession,
    UserAccount,
)
from classdyad.web.security import token_hash


def lesson_codes(server, lesson_id: int) -> tuple[str, list[str]]:
    """The lesson's teacher and the codes of the students in its class and wave."""
    tables = server.study.tables
    lesson = tables.lessons.set_index("id").loc[lesson_id]
    teacher_id = int(tables.lesson_teachers.loc[tables.lesson_teachers["lesson_id"] == lesson_id,
                                                "teacher_id"].iloc[0])
    teacher = str(tables.teachers.set_index("id").loc[teacher_id, "code"])
    enrolled = tables.enrolments[(tables.enrolments["classroom_id"] == lesson["classroom_id"])
                                 & (tables.enrolments["wave_id"] == lesson["wave_id"])]
    codes = tables.students.set_index("id").loc[enrolled["student_id"], "code"]
    return teacher, sorted(str(c) for c in codes)


def event_body(server, **changes):
    teacher, students = lesson_codes(server, server.coder_lesson)
    body = {"lesson_id": server.coder_lesson, "video_seconds": 12.48, "frame": 312,
            "teacher": teacher, "target_kind": "student", "student": students[0],
            "valence": "positive", "subtype": "praise"}
    return {**body, **changes}


def test_put_is_idempotent_201_200_409(server) -> None:
    coder = server.client("coder")
    client_id = str(uuid.uuid4())
    body = event_body(server)
    first = coder.put(f"/api/v1/events/{client_id}", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["frame"] == 312
    again = coder.put(f"/api/v1/events/{client_id}", json=body)
    assert again.status_code == 200, again.text
    other = coder.put(f"/api/v1/events/{client_id}", json={**body, "valence": "negative"})
    assert other.status_code == 409
    assert "next revision" in other.json()["detail"]
    with server.engine.connect() as connection:
        stored = connection.execute(sa.select(InteractionEvent.frame, InteractionEvent.source)
                                    .where(InteractionEvent.client_id == client_id)).all()
    assert stored == [(312, "video")]


def test_edits_and_deletes_are_revisions_with_the_originals_kept(server) -> None:
    coder = server.client("coder")
    client_id = str(uuid.uuid4())
    body = event_body(server, video_seconds=40.0, frame=1000)
    assert coder.put(f"/api/v1/events/{client_id}", json=body).status_code == 201
    edited = {**body, "valence": "negative", "subtype": "correction", "revision": 2}
    assert coder.put(f"/api/v1/events/{client_id}", json=edited).status_code == 201
    assert coder.put(f"/api/v1/events/{client_id}", json=edited).status_code == 200
    skipped = coder.put(f"/api/v1/events/{client_id}", json={**edited, "revision": 5})
    assert skipped.status_code == 409 and "revision 3 first" in skipped.json()["detail"]
    listed = coder.get(f"/api/v1/lessons/{server.coder_lesson}/events").json()
    mine = [e for e in listed if e["client_id"] == client_id]
    assert [(e["revision"], e["valence"]) for e in mine] == [(2, "negative")]
    deleted = coder.delete(f"/api/v1/events/{client_id}", params={"revision": 3})
    assert deleted.status_code == 200 and deleted.json()["deleted"]
    assert coder.delete(f"/api/v1/events/{client_id}", params={"revision": 3}).status_code == 200
    listed = coder.get(f"/api/v1/lessons/{server.coder_lesson}/events").json()
    assert client_id not in {e["client_id"] for e in listed}
    with server.engine.connect() as connection:
        history = connection.execute(sa.select(EventRevision.revision, EventRevision.action)
                                     .where(EventRevision.client_id == client_id)
                                     .order_by(EventRevision.revision)).all()
        current = connection.execute(sa.select(sa.func.count()).select_from(InteractionEvent)
                                     .where(InteractionEvent.client_id == client_id)).scalar()
        audited = connection.execute(sa.select(AuditEntry.action)
                                     .where(AuditEntry.entity == "interaction_event")).scalars()
        audited = list(audited)
    assert [tuple(r) for r in history] == [(1, "create"), (2, "edit"), (3, "delete")]
    assert current == 0
    assert {"edit", "delete"} <= set(audited)
    # an edit after a delete brings the event back (undo of a delete)
    restored = coder.put(f"/api/v1/events/{client_id}", json={**body, "revision": 4})
    assert restored.status_code == 201
    listed = coder.get(f"/api/v1/lessons/{server.coder_lesson}/events").json()
    assert client_id in {e["client_id"] for e in listed}


def test_coders_write_only_to_their_lessons_and_teachers_never(server) -> None:
    coder = server.client("coder")
    other_lesson = int(server.study.tables.lessons["id"].loc[
        server.study.tables.lessons["id"] != server.coder_lesson].iloc[0])
    refused = coder.put(f"/api/v1/events/{uuid.uuid4()}",
                        json=event_body(server, lesson_id=other_lesson))
    assert refused.status_code == 404
    teacher = server.client("teacher")
    assert teacher.put(f"/api/v1/events/{uuid.uuid4()}",
                       json=event_body(server)).status_code == 403
    assert teacher.get(f"/api/v1/lessons/{server.coder_lesson}/events").status_code == 403
    bad_student = coder.put(f"/api/v1/events/{uuid.uuid4()}",
                            json=event_body(server, student="NOT-A-STUDENT"))
    assert bad_student.status_code == 422
    assert "not in the lesson's class" in bad_student.json()["detail"]
    no_csrf = server.client("coder", csrf=False).put(f"/api/v1/events/{uuid.uuid4()}",
                                                      json=event_body(server))
    assert no_csrf.status_code == 403


def test_an_assignment_taken_away_refuses_new_events_at_once_and_retries_still_answer(
        server) -> None:
    coder = server.client("coder")
    client_id = str(uuid.uuid4())
    body = event_body(server, video_seconds=501.0, frame=12525)
    assert coder.put(f"/api/v1/events/{client_id}", json=body).status_code == 201
    with server.engine.begin() as connection:
        coder_id = connection.execute(sa.select(Coder.id)
                                      .where(Coder.code == server.coder)).scalar_one()
        connection.execute(sa.delete(CoderAssignment)
                           .where(CoderAssignment.lesson_id == server.coder_lesson,
                                  CoderAssignment.coder_id == coder_id))
    try:
        # what was stored is answered as stored, and other content under its id refused
        assert coder.put(f"/api/v1/events/{client_id}", json=body).status_code == 200
        other = coder.put(f"/api/v1/events/{client_id}", json={**body, "valence": "negative"})
        assert other.status_code == 409
        refused = coder.put(f"/api/v1/events/{uuid.uuid4()}", json=body)
        assert refused.status_code == 404
        assert "among the lessons you code" in refused.json()["detail"]
    finally:
        with server.engine.begin() as connection:
            connection.execute(sa.insert(CoderAssignment).values(
                lesson_id=server.coder_lesson, coder_id=coder_id, role="primary"))
    assert coder.put(f"/api/v1/events/{uuid.uuid4()}", json=body).status_code == 201


def test_an_ended_session_or_an_inactive_account_refuses_the_very_next_write(server) -> None:
    coder = server.client("coder")
    assert coder.put(f"/api/v1/events/{uuid.uuid4()}", json=event_body(server)).status_code == 201
    # the session ends in the database (as a new password set from the command line ends it)
    with server.engine.begin() as connection:
        connection.execute(sa.delete(LoginSession).where(
            LoginSession.token_hash == token_hash(coder.cookies.get("classdyad_session"))))
    ended = coder.put(f"/api/v1/events/{uuid.uuid4()}", json=event_body(server))
    assert ended.status_code == 401
    again = server.client("coder")
    assert again.put(f"/api/v1/events/{uuid.uuid4()}", json=event_body(server)).status_code == 201
    with server.engine.begin() as connection:
        connection.execute(sa.update(UserAccount).where(UserAccount.username == "coder")
                           .values(active=False))
    try:
        inactive = again.put(f"/api/v1/events/{uuid.uuid4()}", json=event_body(server))
        assert inactive.status_code == 401
    finally:
        with server.engine.begin() as connection:
            connection.execute(sa.update(UserAccount).where(UserAccount.username == "coder")
                               .values(active=True))
    assert again.put(f"/api/v1/events/{uuid.uuid4()}", json=event_body(server)).status_code == 201


def test_researcher_reads_every_coders_events_with_the_coder(server) -> None:
    coder = server.client("coder")
    client_id = str(uuid.uuid4())
    assert coder.put(f"/api/v1/events/{client_id}",
                     json=event_body(server, target_kind="class", student=None)
                     ).status_code == 201
    researcher = server.client("researcher")
    listed = researcher.get(f"/api/v1/lessons/{server.coder_lesson}/events").json()
    found = next(e for e in listed if e["client_id"] == client_id)
    assert found["coder"] == server.coder
    times = [e["video_seconds"] for e in listed]
    assert times == sorted(times)


def test_presence_segments_and_lesson_done(server) -> None:
    coder = server.client("coder")
    _, students = lesson_codes(server, server.coder_lesson)
    segment = {"lesson_id": server.coder_lesson, "student": students[1], "start_seconds": 30.0,
               "end_seconds": None, "present": True, "visible": False}
    client_id = str(uuid.uuid4())
    assert coder.put(f"/api/v1/presence/{client_id}", json=segment).status_code == 201
    assert coder.put(f"/api/v1/presence/{client_id}", json=segment).status_code == 200
    assert coder.put(f"/api/v1/presence/{client_id}",
                     json={**segment, "visible": True}).status_code == 409
    listed = coder.get(f"/api/v1/lessons/{server.coder_lesson}/presence").json()
    assert [s["client_id"] for s in listed if s["student"] == students[1]] == [client_id]
    done = coder.post(f"/api/v1/lessons/{server.coder_lesson}/done")
    assert done.status_code == 200 and done.json()["done_at"]
    assert coder.post(f"/api/v1/lessons/{server.coder_lesson}/done").json() == done.json()
    offset = coder.put("/api/v1/me/reaction-offset", json={"reaction_offset_seconds": 0.3})
    assert offset.status_code == 200


def test_coding_page_lists_students_with_keys_and_the_codebook(server) -> None:
    page = server.client("coder").get(f"/lessons/{server.coder_lesson}/code")
    assert page.status_code == 200
    _, students = lesson_codes(server, server.coder_lesson)
    assert students[0] in page.text and 'id="coding-data"' in page.text
    assert "Praise or compliment" in page.text
    assert server.client("teacher").get(f"/lessons/{server.coder_lesson}/code",
                                        follow_redirects=False).status_code == 403


def test_video_coded_and_imported_events_feed_the_same_analysis_dataset(server) -> None:
    from classdyad.store import read_study
    from classdyad.study import build_analysis_dataset

    coder = server.client("coder")
    tables = read_study(server.engine)
    lesson = tables.lessons.set_index("id").loc[server.coder_lesson]
    wave = int(tables.waves.set_index("id").loc[lesson["wave_id"], "number"])
    coder_id = int(tables.coders.loc[tables.coders["code"] == server.coder, "id"].iloc[0])
    imported = tables.events[(tables.events["lesson_id"] == server.coder_lesson)
                             & tables.events["source"].isna()]
    _, students = lesson_codes(server, server.coder_lesson)
    student_id = int(tables.students.loc[tables.students["code"] == students[3], "id"].iloc[0])

    def count(tables) -> float:
        data = build_analysis_dataset(tables)
        row = data[(data["student_id"] == student_id) & (data["wave"] == wave)]
        return float(row["negative"].iloc[0])

    before = count(tables)
    response = coder.put(f"/api/v1/events/{uuid.uuid4()}",
                         json=event_body(server, student=students[3], valence="negative",
                                         subtype="irritation", video_seconds=61.0, frame=1525))
    assert response.status_code == 201
    after = read_study(server.engine)
    assert count(after) == before + 1
    assert len(imported) > 0  # the lesson's imported events are in ``before``
    assert coder_id in set(tables.events["coder_id"].dropna().astype(int))
