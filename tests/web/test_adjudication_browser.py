"""Adjudication in a real browser (Playwright driving Debian's headless ``chromium``).

A researcher opens the agreement page of a double-coded lesson and settles its disagreements
from the page: keeps coder A's version of one, writes an edited version of another, and adds an
event both coders missed. The stored adjudicated codes are checked, and both coders' originals
are still there, marked superseded.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from classdyad.model import Adjudication, InteractionEvent, Student

from .conftest import CHROMIUM, PASSWORDS
from .test_adjudication import double_coded, second_coder  # noqa: F401 (the fixture)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium "
                                "(apt-get install chromium)")



def _decided(page, count: int) -> None:
    page.wait_for_selector(f"body[data-decided='{count}']", timeout=15_000)


def test_adjudicator_keeps_edits_and_adds_from_the_page(server, browser, double_coded  # noqa: F811
                                                         ) -> None:
    lesson_id = double_coded["lesson_id"]
    for client in (server.client("coder"), second_coder(server)):
        assert client.post(f"/api/v1/lessons/{lesson_id}/done").status_code == 200
    units = server.client("researcher").get(f"/api/v1/lessons/{lesson_id}/agreement"
                                             ).json()["units"]
    disagreement, missed = units  # 20 s: A negative, B neutral; 50 s: only A
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text)
            if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{server.url}/login?next=/lessons/{lesson_id}/agreement")
        page.wait_for_selector("body[data-ready='true']")
        page.fill("input[name=username]", "researcher")
        page.fill("input[name=password]", PASSWORDS["researcher"])
        page.keyboard.press("Enter")
        page.wait_for_selector("body[data-agreement='loaded']")
        assert page.locator("tr[data-unit] td:nth-child(2)").first.text_content().startswith(
            "20.00 s")
        # keep coder A's version of the 20 s disagreement
        page.click(f"tr[data-unit='{disagreement['unit']}'] button[data-action='keep_a']")
        _decided(page, 1)
        # edit the event only coder A saw: praise at 50.5 s instead of irritation at 50 s
        page.click(f"tr[data-unit='{missed['unit']}'] button[data-action='edit']")
        editor = page.locator(f"tr[data-editor='{missed['unit']}'] form")
        editor.locator("input[name=video_seconds]").fill("50.5")
        editor.locator("select[name=subtype]").select_option("praise")
        assert editor.locator("select[name=valence]").input_value() == "positive"
        editor.locator("button[type=submit]").click()
        _decided(page, 2)
        # add a class-wide instruction at 40 s that both coders missed
        adder = page.locator("[data-add] form")
        adder.locator("input[name=video_seconds]").fill("40")
        adder.locator("select[name=target]").select_option("class")
        adder.locator("select[name=subtype]").select_option("instruction")
        adder.locator("button[type=submit]").click()
        page.wait_for_selector("body[data-added-events='1']", timeout=15_000)
        assert "40.00 s · class · instruction" in page.text_content("[data-added]")
        assert page.text_content(f"tr[data-unit='{missed['unit']}'] [data-decision]") == "edit"
    finally:
        context.close()
    assert errors == []
    with server.engine.connect() as connection:
        decisions = dict(connection.execute(sa.select(Adjudication.decision,
                                                      Adjudication.event_client_id)
                                            .where(Adjudication.lesson_id == lesson_id)).all())
        stored = connection.execute(
            sa.select(InteractionEvent.client_id, InteractionEvent.video_seconds,
                      InteractionEvent.target_kind, Student.code.label("student"),
                      InteractionEvent.valence,
                      InteractionEvent.subtype, InteractionEvent.source,
                      InteractionEvent.superseded, InteractionEvent.coder_id)
            .outerjoin(Student, Student.id == InteractionEvent.student_id)
            .where(InteractionEvent.lesson_id == lesson_id)
            .order_by(InteractionEvent.video_seconds)).all()
    assert set(decisions) == {"keep_a", "edit", "add"}
    adjudicated = {row.client_id: row for row in stored if row.source == "adjudication"}
    students = double_coded["students"]
    kept, edited, added = (adjudicated[decisions[d]] for d in ("keep_a", "edit", "add"))
    assert (kept.video_seconds, kept.student, kept.valence, kept.subtype) == (
        20.0, students[1], "negative", "correction")
    assert (edited.video_seconds, edited.student, edited.valence, edited.subtype) == (
        50.5, students[2], "positive", "praise")
    assert (added.video_seconds, added.target_kind, added.student, added.valence,
            added.subtype) == (40.0, "class", None, "neutral", "instruction")
    assert all(row.coder_id is None for row in adjudicated.values())
    originals = [row for row in stored if row.source != "adjudication"]
    assert len(originals) == 7  # both coders' events, as they were coded
    assert sorted(row.video_seconds for row in originals if row.superseded) == [20.0, 20.4,
                                                                                50.0]
    assert {(row.valence, row.subtype) for row in originals if row.video_seconds == 50.0} == {
        ("negative", "irritation")}
