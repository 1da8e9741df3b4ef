"""Roles are enforced in one place: every route of the app against the role x route table."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from classdyad.web.access import ACCESS, PUBLIC, allowed

ROLES = ("admin", "researcher", "coder", "teacher", "coach")

#: the table as a test states it: route name -> roles (PUBLIC: no login); it must match ACCESS
#: exactly, so changing who may use a route is a deliberate change in two places
EXPECTED = {
    "health": PUBLIC, "openapi": PUBLIC, "static": PUBLIC, "login": PUBLIC,
    "login_page": PUBLIC,
    **dict.fromkeys(("logout", "me", "change_password", "home_page", "account_page"),
                    frozenset(ROLES)),
    **dict.fromkeys(("list_users", "create_user", "reset_password", "update_user",
                     "update_settings", "users_page", "settings_page"), frozenset({"admin"})),
    **dict.fromkeys(("study_overview", "read_settings", "audit_log", "overview_page",
                     "audit_page"), frozenset({"admin", "researcher"})),
    **dict.fromkeys(("list_teachers", "create_lesson", "update_lesson", "register_video",
                     "upload_video", "list_coders", "create_coder", "create_codebook_version",
                     "create_assignment", "delete_assignment", "export_file", "import_file",
                     "teachers_page", "import_page", "codebooks_page", "assignments_page",
                     "exports_page", "lesson_edit_page"), frozenset({"researcher"})),
    **dict.fromkeys(("list_classrooms", "list_students", "list_lessons", "read_lesson",
                     "stream_video", "classrooms_page", "students_page", "lessons_page",
                     "lesson_page"), frozenset({"researcher", "coder", "teacher"})),
    **dict.fromkeys(("list_codebooks", "list_assignments"), frozenset({"researcher", "coder"})),
    "classroom_groups": frozenset({"researcher", "teacher"}),
    **dict.fromkeys(("put_event", "delete_event", "list_lesson_events", "put_presence",
                     "list_presence", "coding_page"), frozenset({"researcher", "coder"})),
    **dict.fromkeys(("mark_lesson_done", "set_reaction_offset"), frozenset({"coder"})),
    **dict.fromkeys(("read_seating_chart", "save_seating_chart", "read_live_session",
                     "put_live_session", "seating_page", "live_page"),
                    frozenset({"researcher", "coder"})),
    "live_manifest": PUBLIC, "live_service_worker": PUBLIC,
    **dict.fromkeys(("lesson_agreement", "adjudicate", "calibration", "set_master_coder",
                     "agreement_page", "calibration_page"), frozenset({"researcher"})),
    **dict.fromkeys(("dashboard_page", "teacher_feedback_data", "read_coaching", "create_goal",
                     "delete_goal", "create_note"), frozenset({"teacher", "coach"})),
    **dict.fromkeys(("invite_coach", "revoke_coach"), frozenset({"teacher"})),
    "feedback_stylesheet": PUBLIC,
}


def _flat(routes):
    """Routes, with included routers opened up (newer FastAPI keeps them as one entry each)."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            yield from (context.original_route for context in route.effective_route_contexts())
        else:
            yield route


def _routes(app) -> list[tuple[str, str, str]]:
    """Every (method, path, name) the application answers."""
    found = []
    for route in _flat(app.routes):
        if isinstance(route, APIRoute | Route):
            for method in sorted(route.methods - {"HEAD"}):
                found.append((method, route.path, route.name))
        elif isinstance(route, Mount):
            found.append(("GET", route.path + "/{path}", route.name))
        else:
            raise AssertionError(f"a route of an unknown kind: {route!r}")
    return found


def test_every_route_has_exactly_the_expected_rule(server) -> None:
    routes = _routes(server.app)
    names = {name for _, _, name in routes}
    without_rule = sorted(names - set(ACCESS))
    assert not without_rule, f"routes without an access rule: {without_rule}"
    assert sorted(set(ACCESS) - names) == [], "rules for routes that do not exist"
    assert set(EXPECTED) == set(ACCESS)
    for name, rule in ACCESS.items():
        assert (rule is PUBLIC) == (EXPECTED[name] is PUBLIC), name
        if rule is not PUBLIC:
            assert set(rule) == EXPECTED[name], name
    assert len(names) == len([n for n in names]), "route names must be unique"


def test_a_route_without_a_rule_is_refused() -> None:
    assert not allowed("a_route_nobody_listed", "researcher")
    assert not allowed("a_route_nobody_listed", None)


def _concrete(path: str, server) -> str:
    values = {"lesson_id": str(server.coder_lesson), "user_id": "999999",
              "assignment_id": "999999", "video_id": "999999", "kind": "roster",
              "format": "csv", "path": "css/app.css", "code": server.teacher_classroom,
              "client_id": "0c0ffee0-0000-4000-8000-000000000000",
              "teacher_code": server.teacher, "goal_id": "999999", "username": "nobody"}
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values[m.group(1)], path)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_each_role_reaches_exactly_its_routes(server, role) -> None:
    """Call every route as each role: refused routes answer 401/403, allowed ones never do."""
    client = server.client(role) if role else server.client()
    for method, path, name in _routes(server.app):
        if name == "logout":
            continue  # it would end the session the other calls use (tested in test_auth)
        url = _concrete(path, server)
        response = client.request(method, url, json={} if method != "GET" else None,
                                  follow_redirects=False)
        rule = ACCESS[name]
        if rule is PUBLIC or (role is not None and role in rule):
            assert response.status_code not in (401, 403), (role, method, url, response.text)
            assert response.status_code < 500, (role, method, url, response.text)
        elif role is None:
            expected = 401 if url.startswith("/api/") else 303
            assert response.status_code == expected, (method, url, response.status_code)
        else:
            assert response.status_code == 403, (role, method, url, response.status_code)
