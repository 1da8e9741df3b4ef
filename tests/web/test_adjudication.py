"""Double coding: a blind second coder, the agreement view, adjudication, calibration, and the
analysis dataset counting adjudicated codes where they exist, else the primary coder's."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.orm import Session

from classdyad.services.accounts import create_user
from classdyad.store import read_study
from classdyad.study import analysis_events

from .test_events import lesson_codes

SECOND_PASSWORD = "second coder password"


@pytest.fixture(scope="module")
def double_coded(server):
    """A new lesson of the coder's class coded by ``coder`` (primary) and ``coder2`` (second)."""
    tables = server.study.tables
    lesson = tables.lessons.set_index("id").loc[server.coder_lesson]
    classroom = str(tables.classrooms.set_index("id").loc[lesson["classroom_id"], "code"])
    wave = int(tables.waves.set_index("id").loc[lesson["wave_id"], "number"])
    teacher, students = lesson_codes(server, server.coder_lesson)
    second = str(tables.coders["code"].iloc[1])
    with Session(server.engine) as session:
        create_user(session, "coder2", SECOND_PASSWORD, role="coder", coder=second)
        session.commit()
    researcher = server.client("researcher")
    created = researcher.post("/api/v1/lessons", json={
        "classroom": classroom, "wave": wave, "observed_minutes": 45, "teachers": [teacher]})
    assert created.status_code == 201, created.text
    lesson_id = created.json()["id"]
    for coder, role in ((server.coder, "primary"), (second, "second")):
        response = researcher.post("/api/v1/assignments",
                                   json={"lesson_id": lesson_id, "coder": coder, "role": role})
        assert response.status_code == 201, response.text
    second_client = second_coder(server)
    first = server.client("coder")

    def put(client, seconds, valence, subtype, student=students[0]):
        body = {"lesson_id": lesson_id, "video_seconds": seconds, "frame": round(seconds * 25),
                "teacher": teacher, "target_kind": "student", "student": student,
                "valence": valence, "subtype": subtype}
        response = client.put(f"/api/v1/events/{uuid.uuid4()}", json=body)
        assert response.status_code == 201, response.text

    # agreed at 10 s and 30 s; valence differs at 20 s; only the primary coder saw 50 s
    put(first, 10.0, "positive", "praise")
    put(second_client, 10.6, "positive", "praise")
    put(first, 20.0, "negative", "correction", students[1])
    put(second_client, 20.4, "neutral", "instruction", students[1])
    put(first, 30.0, "neutral", "question")
    put(second_client, 30.2, "neutral", "question")
    put(first, 50.0, "negative", "irritation", students[2])
    return {"lesson_id": lesson_id, "second_code": second, "students": students}


def second_coder(server) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=30)
    server.clients.append(client)
    login = client.post("/api/v1/auth/login",
                        json={"username": "coder2", "password": SECOND_PASSWORD})
    client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return client


def test_the_second_coder_is_blind_to_the_first(server, double_coded) -> None:
    lesson_id = double_coded["lesson_id"]
    seen = second_coder(server).get(f"/api/v1/lessons/{lesson_id}/events").json()
    assert len(seen) == 3 and {e["video_seconds"] for e in seen} == {10.6, 20.4, 30.2}
    assert second_coder(server).get(f"/api/v1/lessons/{lesson_id}/agreement"
                                      ).status_code == 403


def test_agreement_view_and_adjudication(server, double_coded) -> None:
    lesson_id = double_coded["lesson_id"]
    researcher = server.client("researcher")
    view = researcher.get(f"/api/v1/lessons/{lesson_id}/agreement").json()
    assert view["coder_a"]["code"] == server.coder
    assert view["counts"] == {"n_matched": 3, "n_only_a": 1, "n_only_b": 0}
    assert [u["time"] for u in view["units"]] == [20.0, 50.0]
    kappa = {(s["aspect"], s["statistic"]): s["estimate"] for s in view["statistics"]}
    assert kappa[("valence", "percent_agreement")] == pytest.approx(200 / 3)
    disagreement, missed = view["units"]
    assert disagreement["a"]["valence"] == "negative" and disagreement["b"]["valence"] == "neutral"
    assert missed["b"] is None
    # not before both coders are done
    early = researcher.post(f"/api/v1/lessons/{lesson_id}/adjudications",
                            json={"unit": disagreement["unit"], "decision": "keep_b"})
    assert early.status_code == 409 and "done" in early.json()["detail"]
    for client in (server.client("coder"), second_coder(server)):
        assert client.post(f"/api/v1/lessons/{lesson_id}/done").status_code == 200
    kept = researcher.post(f"/api/v1/lessons/{lesson_id}/adjudications",
                           json={"unit": disagreement["unit"], "decision": "keep_b"})
    assert kept.status_code == 201, kept.text
    again = researcher.post(f"/api/v1/lessons/{lesson_id}/adjudications",
                            json={"unit": disagreement["unit"], "decision": "keep_a"})
    assert again.status_code == 409
    dropped = researcher.post(f"/api/v1/lessons/{lesson_id}/adjudications",
                              json={"unit": missed["unit"], "decision": "drop"})
    assert dropped.status_code == 201
    view = researcher.get(f"/api/v1/lessons/{lesson_id}/agreement").json()
    assert [u["decision"] for u in view["units"]] == ["keep_b", "drop"]
    # the originals are kept; the analysis counts: 10 s and 30 s (primary), 20 s as B coded it
    everyone = researcher.get(f"/api/v1/lessons/{lesson_id}/events").json()
    assert len(everyone) == 8
    events = read_study(server.engine).events
    counted = analysis_events(events)
    counted = counted[counted["lesson_id"] == lesson_id].sort_values("video_seconds")
    assert counted["video_seconds"].tolist() == [10.0, 20.4, 30.0]
    assert counted["valence"].tolist() == ["positive", "neutral", "neutral"]
    assert counted["source"].tolist() == ["video", "adjudication", "video"]
    page = researcher.get(f"/lessons/{lesson_id}/agreement")
    assert page.status_code == 200 and "Adjudication queue" in page.text


def test_calibration_against_a_master_coder(server, double_coded) -> None:
    researcher = server.client("researcher")
    assert researcher.put(f"/api/v1/coders/{server.coder}/master").status_code == 200
    rows = researcher.get("/api/v1/calibration").json()
    mine = [r for r in rows if r["lesson_id"] == double_coded["lesson_id"]]
    assert len(mine) == 1
    assert mine[0]["coder"] == double_coded["second_code"]
    assert mine[0]["master"] == server.coder
    assert mine[0]["percent_agreement"] == pytest.approx(200 / 3)
    assert researcher.get("/calibration").status_code == 200
    assert researcher.put(f"/api/v1/coders/{server.coder}/master",
                          params={"master": False}).status_code == 200
