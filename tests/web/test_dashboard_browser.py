"""The teacher's dashboard in a real browser (Playwright, Debian's headless ``chromium``): in
English and in Dutch the teacher sets a goal and writes a reflection; no Content-Security-Policy
violation or script error occurs."""

from __future__ import annotations

import pytest

from classdyad.study.feedback import feedback_input

from .conftest import CHROMIUM
from .test_browser import _log_in, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(apt-get install chromium)")


def _set_goal_and_reflect(tab, student: str, reflection: str, goals: int) -> None:
    tab.select_option("#new-goal select[name=kind]", "fewer_negative")
    tab.fill("#new-goal input[name=students]", student)
    tab.fill("#new-goal input[name=target]", "0.8")
    tab.click("#new-goal button[type=submit]")
    tab.locator("article.goal").nth(goals - 1).wait_for()
    tab.wait_for_selector("body[data-ready='true']")
    goal = tab.locator("article.goal").last
    goal.locator("textarea[name=text]").fill(reflection)
    goal.locator("button[type=submit]").click()
    tab.wait_for_selector(f"article.goal ul.notes li:has-text('{reflection}')")
    tab.wait_for_selector("body[data-ready='true']")


def test_teacher_sets_goals_and_reflects_in_english_and_dutch(page, server) -> None:  # noqa: F811
    student = sorted(feedback_input(server.study.tables, server.teacher).students)[0]
    _log_in(page, server, "teacher")
    page.goto(f"{server.url}/dashboard")
    page.wait_for_selector("body[data-ready='true']")
    assert "Feedback" in [t.strip() for t in page.locator("header nav a").all_inner_texts()]
    assert page.locator(".feedback h2").first.inner_text() == "What stands out"
    assert page.locator(".feedback svg.figure").count() >= 3
    # the feedback's own stylesheet applies (the flagged colour), loaded under the CSP
    colour = page.eval_on_selector(".feedback h2", "e => getComputedStyle(e).borderBottomColor")
    assert colour == "rgb(0, 114, 178)"
    _set_goal_and_reflect(page, student, "Greet them at the door every morning.", 1)
    assert "fewer negative interactions" in page.locator("article.goal").first.inner_text()

    page.click("a[hreflang=nl]")
    page.wait_for_selector("body[data-ready='true']")
    assert "Wat opvalt" in page.inner_text(".feedback")
    assert "Doelen voor het volgende meetmoment" in page.inner_text("#coaching")
    _set_goal_and_reflect(page, student, "Eerst een compliment geven.", 2)
    assert "minder negatieve interacties" in page.locator("article.goal").last.inner_text()
    assert "Greet them at the door" in page.inner_text("#coaching")
    page.click("a[hreflang=en]")
    page.wait_for_selector("body[data-ready='true']")
    assert "Eerst een compliment geven." in page.inner_text("#coaching")
