"""What each role sees: coders and teachers never get background fields; objects outside a
user's part of the study answer 404."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from classdyad.model import Study
from classdyad.services.privacy import BACKGROUND_FIELDS, IAT_FIELDS

READABLE = ("/api/v1/me", "/api/v1/classrooms", "/api/v1/students", "/api/v1/lessons",
            "/api/v1/codebooks", "/api/v1/assignments")


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _set_settings(server, **settings: Any) -> None:
    with server.engine.begin() as connection:
        current = connection.execute(sa.select(Study.settings)).scalar_one() or {}
        connection.execute(sa.update(Study).values(settings={**current, **settings}))


def test_researchers_get_background_variables_and_groups(server) -> None:
    students = server.client("researcher").get("/api/v1/students").json()
    assert len(students) == server.study.tables.students.shape[0]
    keys = _keys(students)
    assert {"birth_country", "mother_education", "migration_background", "low_ses"} <= keys
    assert "last_name" not in keys  # names only in exports that ask for them


def test_coder_and_teacher_answers_carry_no_background_fields(server) -> None:
    for role in ("coder", "teacher"):
        client = server.client(role)
        for url in READABLE:
            response = client.get(url)
            if response.status_code == 403:
                continue
            assert response.status_code == 200, (role, url)
            leaked = _keys(response.json()) & (BACKGROUND_FIELDS | IAT_FIELDS)
            assert not leaked, (role, url, leaked)
            assert "birth_country" not in response.text
        lesson = client.get("/api/v1/lessons").json()[0]["id"]
        page = client.get(f"/lessons/{lesson}").text + client.get("/students").text
        assert "migration" not in page and "education" not in page


def test_teachers_see_only_their_own_classes_students_and_lessons(server) -> None:
    tables = server.study.tables
    client = server.client("teacher")
    classrooms = client.get("/api/v1/classrooms").json()
    assert [c["code"] for c in classrooms] == [server.teacher_classroom]
    students = client.get("/api/v1/students").json()
    assert students and all(set(s["classrooms"].values()) == {server.teacher_classroom}
                            for s in students)
    class_id = int(tables.classrooms.loc[tables.classrooms["code"] == server.teacher_classroom,
                                         "id"].iloc[0])
    own = set(tables.lessons.loc[tables.lessons["classroom_id"] == class_id, "id"])
    lessons = client.get("/api/v1/lessons").json()
    assert {lesson["id"] for lesson in lessons} == own
    other = client.get(f"/api/v1/lessons/{server.coder_lesson}")
    assert other.status_code == 404  # another class's lesson: as if it did not exist
    missing = client.get("/api/v1/lessons/987654")
    assert other.json()["detail"].replace(str(server.coder_lesson), "N") == \
        missing.json()["detail"].replace("987654", "N")


def test_coders_see_their_assigned_lessons_and_those_students_by_code(server) -> None:
    client = server.client("coder")
    lessons = client.get("/api/v1/lessons").json()
    assert [lesson["id"] for lesson in lessons] == [server.coder_lesson]
    assert lessons[0]["assignments"] == [{"coder": server.coder, "role": "primary"}]
    students = client.get("/api/v1/students").json()
    assert students and all("first_name" not in s for s in students)
    assert client.get(f"/api/v1/lessons/{server.coder_lesson + 1}").status_code == 404
    assert client.get(f"/lessons/{server.coder_lesson + 1}").status_code == 404


def test_coders_see_first_names_only_where_the_study_enables_it(server) -> None:
    _set_settings(server, coders_see_first_names=True)
    try:
        students = server.client("coder").get("/api/v1/students").json()
        assert all("first_name" in s and "last_name" not in s for s in students)
        assert not _keys(students) & BACKGROUND_FIELDS
    finally:
        _set_settings(server, coders_see_first_names=False)


def test_admin_changes_settings_and_the_change_is_audited(server) -> None:
    admin = server.client("admin")
    assert admin.get("/api/v1/study/settings").json()["min_cell_size"] == 5
    bad = admin.put("/api/v1/study/settings", json={"min_cell_size": 0})
    assert bad.status_code == 422 and "min_cell_size" in bad.json()["detail"]
    changed = admin.put("/api/v1/study/settings", json={"min_cell_size": 7})
    assert changed.json()["min_cell_size"] == 7
    audit = admin.get("/api/v1/audit").json()
    assert audit[0]["entity"] == "study_settings" and audit[0]["actor"] == "admin"
    admin.put("/api/v1/study/settings", json={"min_cell_size": 5})


def test_class_groups_for_teachers_only_when_enabled_and_never_below_the_minimum(server) -> None:
    url = f"/api/v1/classrooms/{server.teacher_classroom}/groups"
    researcher = server.client("researcher").get(url, params={"by": "low_ses"}).json()
    assert sum(cell["students"] for cell in researcher) > 0
    assert not any(cell["suppressed"] for cell in researcher)
    teacher = server.client("teacher")
    refused = teacher.get(url, params={"by": "low_ses"})
    assert refused.status_code == 403 and "teachers_see_background_groups" in refused.text
    assert teacher.get(url, params={"by": "gender"}).status_code == 200
    other = server.client("teacher2").get(url, params={"by": "gender"})
    assert other.status_code == 404
    _set_settings(server, teachers_see_background_groups=True, min_cell_size=5)
    try:
        for by in ("low_ses", "migration_background"):
            cells = teacher.get(url, params={"by": by}).json()
            shown = [c for c in cells if not c["suppressed"]]
            assert all(c["students"] >= 5 for c in shown)
            assert sum(c["suppressed"] for c in cells) != 1  # never one hidden cell alone
            assert all(c["students"] is None for c in cells if c["suppressed"])
    finally:
        _set_settings(server, teachers_see_background_groups=False)
