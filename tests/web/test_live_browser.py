"""Live coding on a tablet in a real browser (Playwright driving Debian's headless ``chromium``).

The observer opens the live page of a lesson on a 768x1024 touch screen, the network goes away,
the page is reloaded (served by the service worker), a whole lesson of 200 events is coded by
touch with absences, a student out of view, a pause and an undo; the network comes back and every
event is on the server exactly once, with the presence marks, the lesson clock and the minutes
present; the analysis dataset built from the study counts them. A second test arranges a seating
chart by drag and drop. With ``CLASSDYAD_SCREENSHOTS=FOLDER`` the live page is saved there as a
PNG (README).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from classdyad.model import EventRevision, Lesson
from classdyad.store import read_study
from classdyad.study import build_analysis_dataset

from .conftest import CHROMIUM, PASSWORDS

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium "
                                "(apt-get install chromium)")
EVENTS = 200
PORTRAIT = {"width": 768, "height": 1024}
LANDSCAPE = {"width": 1024, "height": 768}



def _class_of(server) -> tuple[str, int, int, str, list[str]]:
    """The coder's class: its code, wave number, wave id, primary teacher and students."""
    tables = server.study.tables
    lesson = tables.lessons.set_index("id").loc[server.coder_lesson]
    classroom_id, wave_id = int(lesson["classroom_id"]), int(lesson["wave_id"])
    code = str(tables.classrooms.set_index("id").loc[classroom_id, "code"])
    wave = int(tables.waves.set_index("id").loc[wave_id, "number"])
    ct = tables.classroom_teachers
    teacher_id = int(ct[(ct["classroom_id"] == classroom_id) & ct["primary"].astype(bool)]
                     ["teacher_id"].iloc[0])
    teacher = str(tables.teachers.set_index("id").loc[teacher_id, "code"])
    enrol = tables.enrolments
    ids = enrol[(enrol["classroom_id"] == classroom_id) & (enrol["wave_id"] == wave_id)]
    students = sorted(str(c) for c in tables.students.set_index("id")
                      .loc[ids["student_id"], "code"])
    return code, wave, wave_id, teacher, students


@pytest.fixture(scope="module")
def live_lesson(server) -> int:
    """A new lesson of the coder's class, taught by its own teacher, assigned to the coder."""
    code, wave, _, teacher, _ = _class_of(server)
    researcher = server.client("researcher")
    created = researcher.post("/api/v1/lessons", json={
        "classroom": code, "wave": wave, "observed_minutes": 45, "teachers": [teacher],
        "subject": "arithmetic"})
    assert created.status_code == 201, created.text
    lesson_id = created.json()["id"]
    assigned = researcher.post("/api/v1/assignments", json={
        "lesson_id": lesson_id, "coder": server.coder, "role": "primary"})
    assert assigned.status_code == 201, assigned.text
    return lesson_id


def _tablet(browser, url: str, path: str, viewport: dict):
    context = browser.new_context(viewport=viewport, has_touch=True, device_scale_factor=1)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: page.errors.append(m.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
    page.goto(f"{url}/login?next={path}")
    page.wait_for_selector("body[data-ready='true']")
    page.fill("input[name=username]", "coder")
    page.fill("input[name=password]", PASSWORDS["coder"])
    page.keyboard.press("Enter")
    return context, page


def _clock(page) -> float:
    return float(page.get_attribute("output[data-clock]", "data-seconds"))


def _touch_targets_are_large(page) -> None:
    sizes = page.eval_on_selector_all(
        "button.desk, [data-categories] button, [data-mode], [data-action]:not([hidden]), "
        "button.target",
        "els => els.map(e => { const r = e.getBoundingClientRect(); "
        "return [e.textContent.trim(), r.width, r.height]; })")
    small = [s for s in sizes if s[1] < 44 or s[2] < 44]
    assert not small, f"touch targets smaller than 44 px: {small[:5]}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the screen"


def test_a_whole_lesson_coded_offline_reaches_the_server_once(server, browser,
                                                              live_lesson) -> None:
    code, wave, _, teacher, students = _class_of(server)
    before = build_analysis_dataset(read_study(server.engine))
    context, page = _tablet(browser, server.url, f"/lessons/{live_lesson}/live", PORTRAIT)
    rng = random.Random(20261206)
    try:
        page.wait_for_selector("body[data-live='ready']")
        page.wait_for_selector("body[data-offline='ready']", timeout=30_000)
        _touch_targets_are_large(page)
        page.set_viewport_size(LANDSCAPE)
        _touch_targets_are_large(page)
        page.set_viewport_size(PORTRAIT)

        context.set_offline(True)
        response = page.reload()
        assert response is not None and response.from_service_worker
        page.wait_for_selector("body[data-live='ready']")
        assert page.evaluate("fetch('/health').then(() => 'online', () => 'offline')") \
            == "offline"

        categories = page.eval_on_selector_all(
            "[data-categories] button",
            "els => els.map(e => [e.dataset.category, e.dataset.valence])")
        assert categories
        page.select_option("[data-sampling]", "interval")
        page.fill("input[name=interval]", "5")
        page.tap("[data-action=start]")
        page.wait_for_selector("body[data-clock='running']")

        absent, out_of_view, gone = students[1], students[2], students[3]
        plan = {40: ("absent", absent), 60: ("view", out_of_view), 90: ("absent", gone),
                120: ("absent", absent), 150: ("view", out_of_view)}
        away: set[str] = set()
        tally: Counter = Counter()
        for number in range(EVENTS):
            if number in plan:
                mode, student = plan[number]
                page.tap(f"[data-mode={mode}]")
                page.tap(f"button.desk[data-student='{student}']")
                page.tap("[data-mode=code]")
                if mode == "absent":
                    away ^= {student}
            if number == 100:
                page.tap("[data-action=pause]")
                page.wait_for_timeout(300)
                page.tap("[data-action=resume]")
            if number == 170:  # a mistaken tap, undone
                page.tap("button.target[data-target='class']")
                page.tap("[data-categories] button >> nth=0")
                page.wait_for_selector(f"body[data-events='{number + 1}']")
                page.tap("[data-undo]")
                page.wait_for_selector(f"body[data-events='{number}']")
            kind = rng.choices(["student", "group", "class"], weights=[8, 1, 1])[0]
            subtype, valence = rng.choice(categories)
            if kind == "student":
                student = rng.choice([s for s in students if s not in away])
                page.tap(f"button.desk[data-student='{student}']")
                tally[(student, valence)] += 1
            else:
                page.tap(f"button.target[data-target='{kind}']")
                tally[(kind, valence)] += 1
            page.tap(f"[data-categories] button[data-category='{subtype}']")
            page.wait_for_selector(f"body[data-events='{number + 1}']")
        if os.environ.get("CLASSDYAD_SCREENSHOTS"):
            folder = Path(os.environ["CLASSDYAD_SCREENSHOTS"])
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / "live-tablet.png"))
        page.wait_for_function("Number(document.querySelector('output[data-clock]')"
                               ".dataset.seconds) >= 5")
        page.wait_for_selector("[data-prompt]:not([hidden])")  # the interval prompt
        page.tap("[data-action=end]")
        page.tap("[data-action=end-confirm]")
        page.wait_for_selector("body[data-clock='ended']")
        clock = _clock(page)

        page.tap("[data-live-logout]")  # the tablet holds unsynced changes: a warning
        page.wait_for_selector("body[data-logout-warning='shown']")
        # offline, the count only grows (the ended clock is queued just after the page shows
        # it), so it is read once the warning is up
        waiting = int(page.get_attribute("body", "data-pending"))
        assert waiting >= EVENTS + 5  # events, the undo, presence marks, clock states
        assert f"{waiting} change(s)" in page.text_content("[data-logout-text]")
        page.tap("[data-logout-stay]")

        context.set_offline(False)
        page.wait_for_selector("body[data-pending='0']", timeout=120_000)
        assert page.is_hidden("[data-refused]")
        assert not page.errors, page.errors  # type: ignore[attr-defined]
    finally:
        context.close()

    researcher = server.client("researcher")
    events = researcher.get(f"/api/v1/lessons/{live_lesson}/events").json()
    assert len(events) == EVENTS
    assert len({e["client_id"] for e in events}) == EVENTS
    assert {(e["source"], e["frame"], e["teacher"], e["coder"]) for e in events} == {
        ("live", None, teacher, server.coder)}
    assert all(0 <= e["video_seconds"] <= clock + 0.5 for e in events)
    got = Counter(((e["student"] if e["target_kind"] == "student" else e["target_kind"]),
                   e["valence"]) for e in events)
    assert got == tally
    with server.engine.connect() as connection:
        revisions = connection.execute(
            sa.select(EventRevision.client_id, EventRevision.revision)
            .where(EventRevision.lesson_id == live_lesson)).all()
        minutes = connection.execute(sa.select(Lesson.observed_minutes)
                                     .where(Lesson.id == live_lesson)).scalar()
    assert len(revisions) == len(set(revisions)) == EVENTS + 2  # + the undone event, deleted
    session = researcher.get(f"/api/v1/lessons/{live_lesson}/live").json()
    assert session is None  # the researcher has no session of their own
    session = server.client("coder").get(f"/api/v1/lessons/{live_lesson}/live").json()
    assert (session["state"], session["sampling_method"], session["interval_seconds"]) == (
        "ended", "interval", 5.0)
    assert session["clock_seconds"] == pytest.approx(clock, abs=0.5)
    assert minutes == pytest.approx(session["clock_seconds"] / 60)

    marks = researcher.get(f"/api/v1/lessons/{live_lesson}/presence").json()
    states = [(m["student"], m["present"], m["visible"]) for m in marks]
    assert states == [(absent, False, False), (out_of_view, True, False), (gone, False, False),
                      (absent, True, True), (out_of_view, True, True)]
    times = {(m["student"], m["present"], m["visible"]): m["start_seconds"] for m in marks}
    total = session["clock_seconds"]
    expected = dict.fromkeys(students, total)
    expected[absent] = total - (times[(absent, True, True)] - times[(absent, False, False)])
    expected[out_of_view] = total - (times[(out_of_view, True, True)]
                                     - times[(out_of_view, True, False)])
    expected[gone] = times[(gone, False, False)]

    after = build_analysis_dataset(read_study(server.engine))
    key = ["student", "wave"]
    rows = after[(after["classroom"] == code) & (after["wave"] == wave)].set_index(key)
    old = before.set_index(key).reindex(rows.index)
    assert sorted(rows.index.get_level_values("student")) == students
    for student in students:
        row, base = rows.loc[(student, wave)], old.loc[(student, wave)]
        for valence in ("positive", "negative", "neutral"):
            assert row[valence] - base[valence] == tally[(student, valence)], (student, valence)
        assert row["minutes_present"] - base["minutes_present"] == pytest.approx(
            expected[student] / 60, abs=1e-6), student
        assert row["lessons"] == base["lessons"]  # the lesson was planned before it was coded
        assert row["lessons_present"] - base["lessons_present"] == 1


def test_a_seating_chart_arranged_by_drag_and_drop_is_stored(server, browser) -> None:
    code, wave, _, _, students = _class_of(server)
    context, page = _tablet(browser, server.url, f"/classrooms/{code}/seating?wave={wave}",
                            LANDSCAPE)
    try:
        page.wait_for_selector("body[data-seating='ready']")
        first, second = students[0], students[-1]
        # drag the first student onto the last student's desk: they swap
        page.locator(f".chip[data-student='{first}']").drag_to(
            page.locator(f".chip[data-student='{second}']"))
        page.wait_for_selector("body[data-chart='changed']")
        # tap a student, then the tray: the student loses the desk
        page.tap(f".chip[data-student='{students[1]}']")
        page.tap("[data-tray]")
        page.tap("[data-save]")
        page.wait_for_selector("body[data-chart='saved']")
        assert not page.errors, page.errors  # type: ignore[attr-defined]
    finally:
        context.close()
    chart = server.client("coder").get(
        f"/api/v1/classrooms/{code}/seating-chart?wave={wave}").json()
    desks = {s["student"]: (s["row"], s["column"]) for s in chart["seats"]}
    columns = chart["columns"]
    last = len(students) - 1
    assert chart["stored"] is True and chart["unseated"] == [students[1]]
    assert desks[first] == (last // columns, last % columns)
    assert desks[second] == (0, 0)
