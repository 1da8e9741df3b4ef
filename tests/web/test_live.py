"""Live observation: seating charts (copied forward), the live session clock and the minutes
present it writes, the service worker and the manifest."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from classdyad.model import AuditEntry, Lesson, LessonAttendance, Student

from .test_events import lesson_codes


def _lesson_facts(server, lesson_id: int) -> tuple[str, int]:
    tables = server.study.tables
    lesson = tables.lessons.set_index("id").loc[lesson_id]
    code = str(tables.classrooms.set_index("id").loc[lesson["classroom_id"], "code"])
    wave = int(tables.waves.set_index("id").loc[lesson["wave_id"], "number"])
    return code, wave


def _chart_url(code: str, wave: int) -> str:
    return f"/api/v1/classrooms/{code}/seating-chart?wave={wave}"


def test_a_class_without_a_chart_gets_its_students_in_code_order(server) -> None:
    code, wave = _lesson_facts(server, server.coder_lesson)
    _, students = lesson_codes(server, server.coder_lesson)
    chart = server.client("coder").get(_chart_url(code, wave))
    assert chart.status_code == 200, chart.text
    body = chart.json()
    assert body["stored"] is False and body["copied_from_wave"] is None
    assert [s["student"] for s in body["seats"]] == students
    assert body["columns"] == 6 and body["rows"] == -(-len(students) // 6)
    assert body["unseated"] == []


def test_a_saved_chart_is_copied_forward_to_the_next_wave(server) -> None:
    tables = server.study.tables
    enrol = tables.enrolments.merge(tables.waves[["id", "number"]], left_on="wave_id",
                                    right_on="id")
    # a class with students in two consecutive waves
    counts = enrol.groupby(["classroom_id", "number"]).size().reset_index()
    pairs = counts.merge(counts.assign(number=counts["number"] - 1), on=["classroom_id",
                                                                          "number"])
    classroom_id, wave = (int(v) for v in pairs.iloc[0][["classroom_id", "number"]])
    code = str(tables.classrooms.set_index("id").loc[classroom_id, "code"])
    researcher = server.client("researcher")
    first = researcher.get(_chart_url(code, wave)).json()
    seats = [dict(s) for s in first["seats"]]
    seats[0]["row"], seats[0]["column"], seats[1]["row"], seats[1]["column"] = (
        seats[1]["row"], seats[1]["column"], seats[0]["row"], seats[0]["column"])
    left_out = seats.pop()["student"]
    saved = researcher.put(_chart_url(code, wave), json={"rows": first["rows"] + 1,
                                                        "columns": first["columns"],
                                                        "seats": seats})
    assert saved.status_code == 200, saved.text
    assert saved.json()["stored"] is True and saved.json()["unseated"] == [left_out]
    with server.engine.connect() as connection:
        audited = connection.execute(sa.select(sa.func.count()).select_from(AuditEntry)
                                     .where(AuditEntry.entity == "seating_chart")).scalar()
    assert audited >= 1
    later = researcher.get(_chart_url(code, wave + 1)).json()
    assert later["stored"] is False and later["copied_from_wave"] == wave
    assert later["rows"] == first["rows"] + 1
    in_next = set(later["unseated"]) | {s["student"] for s in later["seats"]}
    kept = {(s["student"], s["row"], s["column"]) for s in seats if s["student"] in in_next}
    assert kept <= {(s["student"], s["row"], s["column"]) for s in later["seats"]}
    # saved for the next wave, it is that wave's own chart, remembering where it came from
    again = researcher.put(_chart_url(code, wave + 1), json={
        "rows": later["rows"], "columns": later["columns"], "seats": later["seats"]})
    assert again.status_code == 200, again.text
    assert again.json()["stored"] is True and again.json()["copied_from_wave"] == wave


def test_impossible_charts_are_refused_with_what_to_fix(server) -> None:
    code, wave = _lesson_facts(server, server.coder_lesson)
    _, students = lesson_codes(server, server.coder_lesson)
    coder = server.client("coder")
    cases = [
        ([{"student": students[0], "row": 0, "column": 0},
          {"student": students[1], "row": 0, "column": 0}], "two students"),
        ([{"student": students[0], "row": 0, "column": 0},
          {"student": students[0], "row": 0, "column": 1}], "two desks"),
        ([{"student": students[0], "row": 3, "column": 0}], "outside the 2 x 2 grid"),
        ([{"student": "NOT-A-STUDENT", "row": 0, "column": 0}], "not in this class"),
    ]
    for seats, message in cases:
        response = coder.put(_chart_url(code, wave), json={"rows": 2, "columns": 2,
                                                          "seats": seats})
        assert response.status_code == 422, response.text
        assert message in response.json()["detail"]
        assert "save again" in response.json()["detail"]


def test_charts_of_other_classes_are_not_found_and_teachers_may_not(server) -> None:
    code, wave = _lesson_facts(server, server.coder_lesson)
    assert server.client("coder").get(_chart_url(server.teacher_classroom, wave)
                                      ).status_code == 404
    assert server.client("teacher").get(_chart_url(code, wave)).status_code == 403
    assert server.client("coder").get(_chart_url(code, 99)).status_code == 404


def _session(state: str, seconds: float, method: str = "interval",
             interval: float | None = 30.0) -> dict:
    return {"sampling_method": method, "interval_seconds": interval, "state": state,
            "clock_seconds": seconds}


def test_ending_a_live_session_writes_observed_and_present_minutes(server) -> None:
    lesson_id = server.coder_lesson
    teacher, students = lesson_codes(server, lesson_id)
    coder = server.client("coder")
    url = f"/api/v1/lessons/{lesson_id}/live"
    assert coder.get(url).json() is None
    assert coder.put(url, json=_session("running", 0.0)).status_code == 200

    def mark(student: str, start: float, present: bool, visible: bool) -> None:
        response = coder.put(f"/api/v1/presence/{uuid.uuid4()}", json={
            "lesson_id": lesson_id, "student": student, "start_seconds": start,
            "end_seconds": None, "present": present, "visible": visible})
        assert response.status_code == 201, response.text

    mark(students[0], 0.0, False, False)          # absent all lesson
    mark(students[1], 600.0, False, False)        # left after 10 minutes ...
    mark(students[1], 900.0, True, True)          # ... back after 15
    mark(students[2], 300.0, True, False)         # out of view for the rest
    live = {"lesson_id": lesson_id, "video_seconds": 61.5, "teacher": teacher,
            "target_kind": "class", "valence": "neutral", "source": "live"}
    assert coder.put(f"/api/v1/events/{uuid.uuid4()}", json=live).status_code == 201
    assert coder.put(url, json=_session("paused", 1200.0)).status_code == 200
    late = coder.put(url, json=_session("running", 100.0))  # an old state arriving late
    assert late.json()["clock_seconds"] == 1200.0 and late.json()["state"] == "paused"
    ended = coder.put(url, json=_session("ended", 2400.0))
    assert ended.status_code == 200, ended.text
    assert ended.json() == {"lesson_id": lesson_id, "observer": "coder",
                            "sampling_method": "interval", "interval_seconds": 30.0,
                            "state": "ended", "clock_seconds": 2400.0}
    assert coder.put(url, json=_session("ended", 2400.0)).status_code == 200  # a retry
    with server.engine.connect() as connection:
        minutes = connection.execute(sa.select(Lesson.observed_minutes)
                                     .where(Lesson.id == lesson_id)).scalar()
        rows = dict((code, (present, visible, present_minutes)) for code, present, visible,
                    present_minutes in connection.execute(
                        sa.select(Student.code, LessonAttendance.present,
                                  LessonAttendance.visible, LessonAttendance.minutes_present)
                        .join(Student, Student.id == LessonAttendance.student_id)
                        .where(LessonAttendance.lesson_id == lesson_id)))
        ends = connection.execute(sa.select(sa.func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.entity == "live_session")).scalar()
    assert minutes == pytest.approx(40.0)
    assert set(rows) == set(students)
    assert rows[students[0]] == (False, False, 0.0)
    assert rows[students[1]][:2] == (True, True)
    assert rows[students[1]][2] == pytest.approx(35.0)
    assert rows[students[2]][2] == pytest.approx(5.0)
    assert rows[students[3]] == (True, True, pytest.approx(40.0))
    assert ends == 1


def test_sampling_methods_and_access_are_checked(server) -> None:
    url = f"/api/v1/lessons/{server.coder_lesson}/live"
    coder = server.client("coder")
    wrong = coder.put(url, json=_session("running", 5.0, "continuous", 30.0))
    assert wrong.status_code == 422 and "no interval" in wrong.json()["detail"]
    missing = coder.put(url, json=_session("running", 5.0, "scan", None))
    assert missing.status_code == 422 and "needs interval_seconds" in missing.json()["detail"]
    unknown = coder.put(url, json=_session("running", 5.0, "sometimes", None))
    assert unknown.status_code == 422
    assert server.client("teacher").put(url, json=_session("running", 5.0)).status_code == 403
    other = int(server.study.tables.lessons["id"].max())
    if other != server.coder_lesson:
        response = coder.put(f"/api/v1/lessons/{other}/live", json=_session("running", 5.0))
        assert response.status_code == 404


def test_the_service_worker_and_manifest_are_served_by_the_app(server) -> None:
    client = server.client()
    worker = client.get("/live-sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert "__ASSETS__" not in worker.text and "/static/js/live.js" in worker.text
    manifest = client.get("/live.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    icons = manifest.json()["icons"]
    for icon in icons:
        image = client.get(icon["src"])
        assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert {i["sizes"] for i in icons} == {"192x192", "512x512"}
    for asset in ("/static/js/live.js", "/static/js/live-clock.js", "/static/css/live.css",
                  "/static/js/seating.js"):
        assert client.get(asset).status_code == 200, asset


def test_the_pages_render_for_the_coder(server) -> None:
    coder = server.client("coder")
    code, wave = _lesson_facts(server, server.coder_lesson)
    live = coder.get(f"/lessons/{server.coder_lesson}/live")
    assert live.status_code == 200
    assert 'rel="manifest"' in live.text and "<script>" not in live.text
    seating = coder.get(f"/classrooms/{code}/seating?wave={wave}")
    assert seating.status_code == 200 and "seating.js" in seating.text
