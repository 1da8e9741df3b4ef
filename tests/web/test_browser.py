"""The pages in a real browser: Playwright driving Debian's headless ``chromium``.

Each role logs in through the login page and sees what it may see; a researcher checks a roster
with an error and finds it located in the page. No Content-Security-Policy violation or script
error may occur.
With ``CLASSDYAD_SCREENSHOTS=FOLDER`` the study overview is saved there as a PNG (README).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from classdyad.services.privacy import BACKGROUND_FIELDS

from .conftest import CHROMIUM, PASSWORDS
from .test_administration import ROSTER_WITH_ERRORS

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(apt-get install chromium)")



@pytest.fixture()
def page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.csp_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda message: page.csp_errors.append(message.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: page.csp_errors.append(str(error)))  # type: ignore[attr-defined]
    yield page
    errors = page.csp_errors  # type: ignore[attr-defined]
    context.close()
    assert not errors, errors


def _log_in(page, server, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.wait_for_selector("body[data-ready='true']")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_selector("header .who")


def _nav(page) -> list[str]:
    return [text.strip() for text in page.locator("header nav a").all_inner_texts()]


def test_a_wrong_password_is_said_on_the_login_page(page, server) -> None:
    page.goto(f"{server.url}/login")
    page.wait_for_selector("body[data-ready='true']")
    page.fill("input[name=username]", "researcher")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector(".form-error:not([hidden])")
    assert "wrong password" in page.inner_text(".form-error")


def test_researcher_sees_the_study_and_background_groups(page, server) -> None:
    _log_in(page, server, "researcher")
    assert page.url.endswith("/study")
    assert {"Overview", "Students", "Lessons", "Import", "Exports", "Audit log"} <= set(_nav(page))
    assert "Users" not in _nav(page)
    counts = page.locator(".count .n").all_inner_texts()
    assert len(counts) == 7 and counts[3] == f"{len(server.study.tables.students):,}"
    shots = os.environ.get("CLASSDYAD_SCREENSHOTS")
    if shots:
        page.screenshot(path=str(Path(shots) / "web-study-overview.png"), full_page=True)
    page.goto(f"{server.url}/students")
    headers = page.locator("#students th").all_inner_texts()
    assert "migration background" in headers and "low ses" in headers


def test_coder_sees_only_the_assigned_lesson_and_no_background(page, server) -> None:
    _log_in(page, server, "coder")
    assert page.url.endswith("/lessons")
    assert set(_nav(page)) == {"Classes", "Students", "Lessons"}
    links = page.locator("#lessons tbody td:first-child a").all_inner_texts()
    assert links == [str(server.coder_lesson)]
    page.goto(f"{server.url}/students")
    headers = page.locator("#students th").all_inner_texts()
    background = {field.replace("_", " ") for field in BACKGROUND_FIELDS}
    assert "code" in headers and not set(headers) & background
    page.goto(f"{server.url}/audit")
    assert "may not use this" in page.inner_text("main")


def test_teacher_sees_only_their_own_class(page, server) -> None:
    _log_in(page, server, "teacher")
    assert page.url.endswith("/classrooms")
    classes = page.locator("#classrooms tbody td:first-child").all_inner_texts()
    assert classes == [server.teacher_classroom]
    page.goto(f"{server.url}/lessons/{server.coder_lesson}")
    assert "no lesson" in page.inner_text("main")


def test_admin_manages_users_and_settings(page, server) -> None:
    _log_in(page, server, "admin")
    assert page.url.endswith("/users")
    assert set(_nav(page)) == {"Overview", "Audit log", "Users", "Settings"}
    names = page.locator("#users tbody td:nth-child(2)").all_inner_texts()
    assert {"admin", "researcher", "coder", "teacher"} <= set(names)
    page.fill("form[data-api='/api/v1/users'] input[name=username]", "new-researcher")
    page.fill("form[data-api='/api/v1/users'] input[name=password]", "a long new password")
    page.click("form[data-api='/api/v1/users'] button[type=submit]")
    page.wait_for_selector("#users td:text('new-researcher')")


def test_importing_a_roster_with_an_error_shows_it_located_in_the_page(page, server) -> None:
    _log_in(page, server, "researcher")
    page.goto(f"{server.url}/import")
    page.wait_for_selector("body[data-ready='true']")
    page.set_input_files("input[type=file]", files=[{
        "name": "roster.csv", "mimeType": "text/csv",
        "buffer": ROSTER_WITH_ERRORS.encode()}])
    page.click("button[value=check]")
    page.wait_for_selector("#import-problems")
    rows = [row.split("\t") for row in
            page.locator("#import-problems tbody tr").all_inner_texts()]
    assert rows and rows[0][:3] == ["3", "grade", "12"]
    assert "nothing was written" in page.inner_text("#import-result h2")
    fixed = ROSTER_WITH_ERRORS.replace("Marokko?", "MA").replace(",12,", ",7,")
    page.set_input_files("input[type=file]", files=[{
        "name": "roster-fixed.csv", "mimeType": "text/csv", "buffer": fixed.encode()}])
    page.click("button[value=check]")
    page.wait_for_selector("#import-summary")
    assert "no problems found" in page.inner_text("#import-result h2")
