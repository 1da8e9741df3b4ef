"""Study administration through the API: lessons, videos, codebooks, assignments, imports,
exports, the audit log, and the security basics of every answer."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from classdyad.web.security import CONTENT_SECURITY_POLICY

ROSTER_WITH_ERRORS = (
    "school,class,grade,teacher,student,first name,last name,gender,birth year,"
    "birth country,wave\n"
    "S900,C900,7,T0001,P900001,Anna,Jansen,girl,2014,NL,1\n"
    "S900,C900,7,T0001,P900002,Bram,de Vries,boy,2014,Marokko?,1\n"
    "S900,C900,12,T0001,P900003,Cas,Bakker,boy,2013,NL,1\n"
)


def _audit(server, entity: str) -> list[dict]:
    return [e for e in server.client("researcher").get("/api/v1/audit").json()
            if e["entity"] == entity]


def test_every_answer_carries_the_security_headers(server) -> None:
    client = server.client("researcher")
    for url in ("/health", "/login", "/api/v1/me", "/static/js/app.js", "/study"):
        headers = client.get(url).headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"]
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


def test_pages_have_no_inline_script_and_load_nothing_from_elsewhere(server) -> None:
    client = server.client("researcher")
    for url in ("/login", "/study", "/lessons", f"/lessons/{server.coder_lesson}", "/import",
                "/codebooks", "/assignments", "/exports", "/audit", "/students"):
        html = client.get(url).text
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, (url, tag)
        assert not re.search(r"\son\w+=", html), url  # no inline event handlers
        assert not re.search(r"(src|href)=\"(https?:)?//", html), url
        assert "style=" not in html
    for asset in ("/static/js/app.js", "/static/js/api.js", "/static/js/forms.js",
                  "/static/js/importer.js", "/static/css/app.css", "/static/favicon.svg"):
        response = client.get(asset)
        assert response.status_code == 200, asset
        text = response.text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http://" not in text and "https://" not in text, asset


def test_openapi_schema_and_json_errors_without_stack_traces(server) -> None:
    client = server.client("researcher")
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/auth/login", "/api/v1/lessons", "/api/v1/students",
            "/api/v1/assignments"} <= set(schema["paths"])
    assert {"LessonCreate", "LessonUpdate", "LessonPublic"} <= set(schema["components"]
                                                                  ["schemas"])
    invalid = client.post("/api/v1/lessons", json={"classroom": "C001"})
    assert invalid.status_code == 422
    assert "wave" in invalid.json()["detail"] and "Traceback" not in invalid.text


def test_researcher_creates_and_edits_a_lesson(server) -> None:
    client = server.client("researcher")
    made = client.post("/api/v1/lessons", json={
        "classroom": server.teacher_classroom, "wave": 2, "teachers": [server.teacher],
        "observed_minutes": 50, "subject": "reading", "date": "2024-01-15"})
    assert made.status_code == 201, made.text
    lesson = made.json()
    assert lesson["teachers"] == [server.teacher] and lesson["wave"] == 2
    unknown = client.post("/api/v1/lessons", json={
        "classroom": "NO-CLASS", "wave": 2, "teachers": [server.teacher],
        "observed_minutes": 50})
    assert unknown.status_code == 422 and "Classes page" in unknown.json()["detail"]
    edited = client.patch(f"/api/v1/lessons/{lesson['id']}",
                          json={"observed_minutes": 47.5, "subject": "spelling"})
    assert edited.json()["observed_minutes"] == 47.5 and edited.json()["subject"] == "spelling"
    assert any(e["detail"]["lesson_id"] == lesson["id"] for e in _audit(server, "lesson"))
    # the teacher of that class now sees it; another teacher does not
    assert server.client("teacher").get(f"/api/v1/lessons/{lesson['id']}").status_code == 200
    assert server.client("teacher2").get(f"/api/v1/lessons/{lesson['id']}").status_code == 404


def test_a_codebook_change_is_a_new_version_and_old_events_keep_theirs(server) -> None:
    client = server.client("researcher")
    before = client.get("/api/v1/codebooks").json()
    name = before[0]["name"]
    used = {b["id"]: b["events"] for b in before}
    categories = [{"subtype": c["subtype"], "valence": c["valence"], "hotkey": c["hotkey"]}
                  for c in before[0]["categories"]]
    categories.append({"subtype": "humour", "valence": "positive", "hotkey": "h"})
    saved = client.post("/api/v1/codebooks", json={"name": name, "categories": categories})
    assert saved.status_code == 201, saved.text
    old = [b["version"] for b in before if b["name"] == name]
    assert saved.json()["version"] not in old
    assert int(saved.json()["version"]) > max(int(v.split(".")[0]) for v in old)
    assert saved.json()["events"] == 0
    after = {b["id"]: b["events"] for b in client.get("/api/v1/codebooks").json()}
    assert all(after[i] == n for i, n in used.items())
    twice = client.post("/api/v1/codebooks", json={"name": name, "categories": [
        {"subtype": "a", "valence": "positive", "hotkey": "x"},
        {"subtype": "b", "valence": "negative", "hotkey": "x"}]})
    assert twice.status_code == 422 and "hotkey" in twice.json()["detail"]


def test_assignments_primary_and_second_coder(server) -> None:
    client = server.client("researcher")
    assert client.post("/api/v1/coders", json={"code": "second-coder"}).status_code == 201
    lesson = server.coder_lesson
    taken = client.post("/api/v1/assignments", json={"lesson_id": lesson, "coder": "second-coder",
                                                     "role": "primary"})
    assert taken.status_code == 409
    same = client.post("/api/v1/assignments", json={"lesson_id": lesson, "coder": server.coder,
                                                    "role": "second"})
    assert same.status_code == 409
    second = client.post("/api/v1/assignments", json={"lesson_id": lesson,
                                                      "coder": "second-coder", "role": "second"})
    assert second.status_code == 201
    # the primary coder sees only their own assignment, not the second coder's
    coder_view = server.client("coder").get("/api/v1/assignments").json()
    assert [a["coder"] for a in coder_view] == [server.coder]
    assert client.delete(f"/api/v1/assignments/{second.json()['id']}").status_code == 204
    assert [e["action"] for e in _audit(server, "coder_assignment")][:2] == ["delete", "create"]


def test_roster_import_dry_run_locates_every_problem_and_writes_nothing(server) -> None:
    client = server.client("researcher")
    before = client.get("/api/v1/study").json()["counts"]["students"]
    checked = client.post("/api/v1/imports/roster", params={"filename": "roster.csv"},
                          content=ROSTER_WITH_ERRORS.encode())
    assert checked.status_code == 422
    problems = checked.json()["problems"]
    assert {(p["row"], p["column"]) for p in problems} == {(3, "grade")}
    assert problems[0]["value"] == "12"
    grade_fixed = ROSTER_WITH_ERRORS.replace(",12,", ",7,")
    checked = client.post("/api/v1/imports/roster", params={"filename": "roster.csv"},
                          content=grade_fixed.encode())
    assert checked.status_code == 422
    located = {(p["row"], p["column"], p["value"]) for p in checked.json()["problems"]}
    assert (2, "birth_country", "Marokko?") in located
    committed = client.post("/api/v1/imports/roster", content=ROSTER_WITH_ERRORS.encode(),
                            params={"filename": "roster.csv", "dry_run": "false"})
    assert committed.status_code == 422
    assert client.get("/api/v1/study").json()["counts"]["students"] == before
    fixed = ROSTER_WITH_ERRORS.replace("Marokko?", "MA").replace(",12,", ",7,")
    dry = client.post("/api/v1/imports/roster", params={"filename": "roster.csv"},
                      content=fixed.encode())
    assert dry.status_code == 200 and dry.json()["dry_run"] and dry.json()["added"]["students"] == 3
    assert client.get("/api/v1/study").json()["counts"]["students"] == before
    done = client.post("/api/v1/imports/roster", params={"filename": "roster.csv",
                                                         "dry_run": "false"},
                       content=fixed.encode())
    assert done.status_code == 200 and done.json()["ok"]
    assert client.get("/api/v1/study").json()["counts"]["students"] == before + 3
    assert _audit(server, "roster")[0]["actor"] == "researcher"


def test_uploads_are_limited_in_type_and_size(server) -> None:
    client = server.client("researcher")
    script = client.post("/api/v1/imports/roster", params={"filename": "roster.exe"},
                         content=b"MZ")
    assert script.status_code == 415
    big = client.post("/api/v1/imports/roster", params={"filename": "roster.csv"},
                      content=b"x" * 300_000)
    assert big.status_code == 413
    video = client.post(f"/api/v1/lessons/{server.coder_lesson}/videos/upload",
                        params={"filename": "clip.mp4"}, content=b"\0" * 2_100_000)
    assert video.status_code == 413
    not_video = client.post(f"/api/v1/lessons/{server.coder_lesson}/videos/upload",
                            params={"filename": "clip.mp4"}, content=b"not a video at all")
    expected = 422 if shutil.which("ffprobe") else 404  # 404: ffprobe is not installed
    assert not_video.status_code == expected and "ffprobe" in not_video.json()["detail"]
    assert not list((server.media / "uploads").rglob("*.mp4"))


def test_exports_are_audited_and_leave_names_out_unless_asked(server) -> None:
    client = server.client("researcher")
    plain = client.get("/api/v1/exports/csv")
    assert plain.status_code == 200 and "attachment" in plain.headers["content-disposition"]
    frame = pd.read_csv(io.BytesIO(plain.content), comment="#")
    assert "student" in frame.columns and "first_name" not in frame.columns
    named = client.get("/api/v1/exports/csv", params={"include_names": "true",
                                                      "level": "student"})
    assert "first_name" in pd.read_csv(io.BytesIO(named.content), comment="#").columns
    entries = _audit(server, "csv")
    assert entries[0]["detail"]["include_names"] is True and entries[0]["actor"] == "researcher"
    assert entries[1]["detail"]["include_names"] is False
    assert server.client("coder").get("/api/v1/exports/csv").status_code == 403


@pytest.fixture(scope="module")
def test_video(tmp_path_factory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (Debian: apt-get install ffmpeg)")
    path = tmp_path_factory.mktemp("video") / "lesson.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc=duration=2:size=96x64:rate=25", "-pix_fmt", "yuv420p",
                    str(path)], check=True, timeout=120)
    return path


def test_video_registration_reads_ffprobe_and_serves_ranges(server, test_video) -> None:
    client = server.client("researcher")
    shutil.copy(test_video, server.media / "lesson.mp4")
    outside = client.post(f"/api/v1/lessons/{server.coder_lesson}/videos",
                          json={"path": "../../etc/passwd.mp4"})
    assert outside.status_code == 422 and "outside" in outside.json()["detail"]
    registered = client.post(f"/api/v1/lessons/{server.coder_lesson}/videos",
                             json={"path": "lesson.mp4"})
    assert registered.status_code == 201, registered.text
    video = registered.json()["videos"][-1]
    assert video["frame_rate"] == pytest.approx(25.0)
    assert video["duration_seconds"] == pytest.approx(2.0, abs=0.1)
    assert (video["width"], video["height"]) == (96, 64) and video["codec"]
    uploaded = client.post(f"/api/v1/lessons/{server.coder_lesson}/videos/upload",
                           params={"filename": "upload.mp4"}, content=test_video.read_bytes())
    assert uploaded.status_code == 201 and len(uploaded.json()["videos"]) >= 2
    size = test_video.stat().st_size
    part = client.get(f"/api/v1/videos/{video['id']}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == test_video.read_bytes()[100:200]
    # the assigned coder may watch it; teachers only where the study allows, others never
    assert server.client("coder").get(f"/api/v1/videos/{video['id']}").status_code == 200
    assert server.client("teacher").get(f"/api/v1/videos/{video['id']}").status_code == 404
    assert server.client("teacher2").get(f"/api/v1/videos/{video['id']}").status_code == 404
