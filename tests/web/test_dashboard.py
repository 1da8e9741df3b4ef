"""The teacher's dashboard and coaching API: own classes only, no background groups by
default, goals and notes for the teacher and invited coaches only, and video moments only of the
teacher's own lessons where the study allows it."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.model import LessonTeacher, Study, Teacher, VideoFile
from classdyad.services.privacy import BACKGROUND_FIELDS
from classdyad.study.feedback import feedback_input

from .test_administration import test_video  # noqa: F401 (the fixture)


def _set_settings(server, **settings: Any) -> None:
    with server.engine.begin() as connection:
        current = connection.execute(sa.select(Study.settings)).scalar_one() or {}
        connection.execute(sa.update(Study).values(settings={**current, **settings}))


def _students(server, teacher: str) -> set[str]:
    return set(feedback_input(server.study.tables, teacher).students)


def test_teacher_sees_only_their_own_students_and_no_groups(server) -> None:
    client = server.client("teacher")
    data = client.get(f"/api/v1/teachers/{server.teacher}/feedback")
    assert data.status_code == 200, data.text
    values = data.json()
    own, other = _students(server, server.teacher), _students(server, server.other_teacher)
    shown = {r["student"] for r in values["students"]}
    assert shown == own and not shown & (other - own)
    assert values["groups"] is None
    text = data.text
    assert not any(f'"{field}"' in text for field in BACKGROUND_FIELDS)
    page = client.get("/dashboard")
    assert page.status_code == 200
    codes = set(re.findall(r"P\d{6}", page.text))
    assert codes and codes <= own
    assert "Groups of students" not in page.text
    for url in (f"/api/v1/teachers/{server.other_teacher}/feedback",
                f"/api/v1/teachers/{server.other_teacher}/coaching",
                f"/dashboard?teacher={server.other_teacher}"):
        assert client.get(url).status_code == 404, url


def test_dutch_dashboard(server) -> None:
    page = server.client("teacher").get("/dashboard", params={"lang": "nl"})
    assert page.status_code == 200
    assert "Wat opvalt" in page.text and "Doelen voor het volgende meetmoment" in page.text
    # screen readers and hyphenation follow the page's language
    assert '<html lang="nl">' in page.text
    assert '<html lang="en">' in server.client("teacher").get("/dashboard").text
    assert server.client("teacher").get("/dashboard",
                                        params={"lang": "fr"}).status_code == 422


@pytest.mark.parametrize("role", ["researcher", "admin", "coder"])
def test_researchers_admins_and_coders_are_refused(server, role: str) -> None:
    client = server.client(role)
    for method, url in (("GET", "/dashboard"),
                        ("GET", f"/api/v1/teachers/{server.teacher}/feedback"),
                        ("GET", f"/api/v1/teachers/{server.teacher}/coaching"),
                        ("POST", f"/api/v1/teachers/{server.teacher}/coaching/notes")):
        response = client.request(method, url, json={"text": "x"} if method == "POST" else None)
        assert response.status_code == 403, (role, url)


def test_coaching_cycle_between_teacher_and_coach(server) -> None:
    teacher, coach = server.client("teacher"), server.client("coach")
    base = f"/api/v1/teachers/{server.teacher}/coaching"
    # an uninvited coach sees nothing
    assert coach.get(base).status_code == 404
    assert coach.get(f"/api/v1/teachers/{server.teacher}/feedback").status_code == 404
    assert "No teacher has invited you" in coach.get("/dashboard").text
    student = sorted(_students(server, server.teacher))[0]
    goal = teacher.post(f"{base}/goals", json={"classroom": server.teacher_classroom,
                                               "wave": 3, "kind": "fewer_negative",
                                               "students": [student], "target": 0.8})
    assert goal.status_code == 201, goal.text
    goal_id = goal.json()["id"]
    assert teacher.post(f"{base}/goals", json={"classroom": server.teacher_classroom,
                                               "wave": 2, "students": ["NOBODY"]}
                        ).status_code == 422
    note = teacher.post(f"{base}/notes", json={"text": "I will greet them at the door.",
                                               "goal": goal_id})
    assert note.status_code == 201
    # researchers and admins never see goals or notes (not even by the audit log's detail)
    assert server.client("researcher").get(base).status_code == 403
    assert "greet them" not in server.client("admin").get("/api/v1/audit").text
    # invited: the coach reads and writes
    assert teacher.post(f"{base}/coaches", json={"username": "coach"}).status_code == 201
    read = coach.get(base)
    assert read.status_code == 200
    assert [g["id"] for g in read.json()["goals"]] == [goal_id]
    assert coach.post(f"{base}/notes", json={"text": "What happens just before?"}
                      ).status_code == 201
    page = coach.get("/dashboard")
    assert page.status_code == 200 and "greet them at the door" in page.text
    assert f"Feedback of teacher {server.teacher}" in page.text
    assert "Name " not in page.text  # a coach sees codes only
    assert coach.post(f"{base}/coaches", json={"username": "teacher2"}).status_code == 403
    assert server.client("teacher2").get(base).status_code == 404
    # revoked: access ends
    assert teacher.delete(f"{base}/coaches/coach").status_code == 204
    assert coach.get(base).status_code == 404
    assert coach.get(f"/api/v1/teachers/{server.teacher}/feedback").status_code == 404
    assert coach.post(f"{base}/notes", json={"text": "still there?"}).status_code == 404
    notes = teacher.get(base).json()["notes"]
    assert {n["author"] for n in notes} == {"teacher", "coach"}
    assert teacher.delete(f"{base}/goals/{goal_id}").status_code == 204


def test_flagged_students_link_to_their_negative_moments_where_allowed(server,
                                                                       test_video) -> None:  # noqa: F811
    with Session(server.engine) as session:
        tid = session.scalar(sa.select(Teacher.id).where(Teacher.code == server.teacher))
        lessons = list(session.scalars(sa.select(LessonTeacher.lesson_id)
                                       .where(LessonTeacher.teacher_id == tid)))
        other = session.scalar(sa.select(Teacher.id).where(Teacher.code
                                                           == server.other_teacher))
        foreign = session.scalar(sa.select(LessonTeacher.lesson_id)
                                 .where(LessonTeacher.teacher_id == other))
        for lesson in [*lessons, foreign]:
            session.add(VideoFile(lesson_id=lesson, position=1, path=str(test_video),
                                  size_bytes=test_video.stat().st_size,
                                  duration_seconds=4000.0))
        session.commit()
    teacher = server.client("teacher")
    assert "/api/v1/videos/" not in teacher.get("/dashboard").text  # off by default
    _set_settings(server, teachers_see_own_videos=True)
    try:
        page = teacher.get("/dashboard").text
        flagged = teacher.get(f"/api/v1/teachers/{server.teacher}/feedback").json()["flagged"]
        assert flagged, "the fixed-seed study flags students of this teacher"
        links = re.findall(r'href="(/api/v1/videos/(\d+)#t=(\d+))"', page)
        assert links and "Watch the moments" in page
        with Session(server.engine) as session:
            for _, video_id, _ in links:
                lesson = session.scalar(sa.select(VideoFile.lesson_id)
                                        .where(VideoFile.id == int(video_id)))
                assert lesson in lessons
        video_id = links[0][1]
        assert teacher.get(f"/api/v1/videos/{video_id}").status_code == 200
        assert server.client("teacher2").get(f"/api/v1/videos/{video_id}").status_code == 404
        with Session(server.engine) as session:
            foreign_video = session.scalar(sa.select(VideoFile.id)
                                           .where(VideoFile.lesson_id == foreign))
        assert teacher.get(f"/api/v1/videos/{foreign_video}").status_code == 404
        # a coach's dashboard never links to video
        base = f"/api/v1/teachers/{server.teacher}/coaching"
        assert teacher.post(f"{base}/coaches", json={"username": "coach"}).status_code == 201
        assert "/api/v1/videos/" not in server.client("coach").get("/dashboard").text
        assert teacher.delete(f"{base}/coaches/coach").status_code == 204
    finally:
        _set_settings(server, teachers_see_own_videos=False)
