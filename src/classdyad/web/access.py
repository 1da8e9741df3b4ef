"""Who may use which route: the one table every request is checked against.

Each route of the application is named (its handler's name) and has exactly one entry here: the
roles that may call it, or :data:`PUBLIC`. :func:`classdyad.web.dependencies.authorize` applies
the table to every request, and a test enumerates every route of the app against it, so a route
added without a rule fails the test suite (and answers 500 rather than serving anyone).

What a role sees *within* a route it may use (a teacher's own classes, a coder's assigned
lessons, no background columns outside the researcher role) is decided by
:mod:`classdyad.web.scope` and :mod:`classdyad.services.privacy`.
"""

from __future__ import annotations

from classdyad.model.enums import Role

PUBLIC = frozenset({"public"})
"""A route anyone may call without logging in."""

ADMIN, RESEARCHER, CODER, TEACHER, COACH = (Role.ADMIN.value, Role.RESEARCHER.value,
                                            Role.CODER.value, Role.TEACHER.value,
                                            Role.COACH.value)
EVERYONE = frozenset({ADMIN, RESEARCHER, CODER, TEACHER, COACH})
STAFF = frozenset({ADMIN, RESEARCHER})
RESEARCH = frozenset({RESEARCHER})
OBSERVERS = frozenset({RESEARCHER, CODER, TEACHER})

ACCESS: dict[str, frozenset[str]] = {
    # no login
    "health": PUBLIC,
    "openapi": PUBLIC,
    "static": PUBLIC,
    "login": PUBLIC,
    "login_page": PUBLIC,
    # every account: its own session and password
    "logout": EVERYONE,
    "me": EVERYONE,
    "change_password": EVERYONE,
    "home_page": EVERYONE,
    "account_page": EVERYONE,
    # admin: users and study settings
    "list_users": frozenset({ADMIN}),
    "create_user": frozenset({ADMIN}),
    "reset_password": frozenset({ADMIN}),
    "update_user": frozenset({ADMIN}),
    "update_settings": frozenset({ADMIN}),
    "users_page": frozenset({ADMIN}),
    "settings_page": frozenset({ADMIN}),
    # admin and researcher: the study at a glance, its settings and the audit log
    "study_overview": STAFF,
    "read_settings": STAFF,
    "audit_log": STAFF,
    "overview_page": STAFF,
    "audit_page": STAFF,
    # researcher: everything of the study
    "list_teachers": RESEARCH,
    "create_lesson": RESEARCH,
    "update_lesson": RESEARCH,
    "register_video": RESEARCH,
    "upload_video": RESEARCH,
    "list_coders": RESEARCH,
    "create_coder": RESEARCH,
    "create_codebook_version": RESEARCH,
    "create_assignment": RESEARCH,
    "delete_assignment": RESEARCH,
    "export_file": RESEARCH,
    "import_file": RESEARCH,
    "teachers_page": RESEARCH,
    "import_page": RESEARCH,
    "codebooks_page": RESEARCH,
    "assignments_page": RESEARCH,
    "exports_page": RESEARCH,
    "lesson_edit_page": RESEARCH,
    # researcher, coder, teacher: each sees only their part (classdyad.web.scope)
    "list_classrooms": OBSERVERS,
    "list_students": OBSERVERS,
    "list_lessons": OBSERVERS,
    "read_lesson": OBSERVERS,
    "stream_video": OBSERVERS,
    "classrooms_page": OBSERVERS,
    "students_page": OBSERVERS,
    "lessons_page": OBSERVERS,
    "lesson_page": OBSERVERS,
    # researcher and teacher (own classes; background groups only where the study allows)
    "classroom_groups": frozenset({RESEARCHER, TEACHER}),
    # researcher and coder
    "list_codebooks": frozenset({RESEARCHER, CODER}),
    "list_assignments": frozenset({RESEARCHER, CODER}),
    # coding: coders write to their assigned lessons, researchers anywhere; teachers never
    "put_event": frozenset({RESEARCHER, CODER}),
    "delete_event": frozenset({RESEARCHER, CODER}),
    "list_lesson_events": frozenset({RESEARCHER, CODER}),
    "put_presence": frozenset({RESEARCHER, CODER}),
    "list_presence": frozenset({RESEARCHER, CODER}),
    "mark_lesson_done": frozenset({CODER}),
    "set_reaction_offset": frozenset({CODER}),
    "coding_page": frozenset({RESEARCHER, CODER}),
    # live observation: seating charts and the lesson clock (events go through put_event)
    "read_seating_chart": frozenset({RESEARCHER, CODER}),
    "save_seating_chart": frozenset({RESEARCHER, CODER}),
    "read_live_session": frozenset({RESEARCHER, CODER}),
    "put_live_session": frozenset({RESEARCHER, CODER}),
    "seating_page": frozenset({RESEARCHER, CODER}),
    "live_page": frozenset({RESEARCHER, CODER}),
    "live_manifest": PUBLIC,
    "live_service_worker": PUBLIC,
    # double coding: agreement, adjudication and calibration are the researcher's
    "lesson_agreement": RESEARCH,
    "adjudicate": RESEARCH,
    "calibration": RESEARCH,
    "set_master_coder": RESEARCH,
    "agreement_page": RESEARCH,
    "calibration_page": RESEARCH,
    # the teacher's dashboard and coaching cycle: the teacher's own, and a coach's of the
    # teachers who invited them (classdyad.services.coaching); never researchers or admins
    "dashboard_page": frozenset({TEACHER, COACH}),
    "feedback_stylesheet": PUBLIC,
    "teacher_feedback_data": frozenset({TEACHER, COACH}),
    "read_coaching": frozenset({TEACHER, COACH}),
    "create_goal": frozenset({TEACHER, COACH}),
    "delete_goal": frozenset({TEACHER, COACH}),
    "create_note": frozenset({TEACHER, COACH}),
    "invite_coach": frozenset({TEACHER}),
    "revoke_coach": frozenset({TEACHER}),
}


def allowed(route_name: str, role: str | None) -> bool:
    """Whether ``role`` (``None``: not logged in) may call the route named ``route_name``."""
    rule = ACCESS.get(route_name)
    if rule is None:
        return False
    return rule is PUBLIC or (role is not None and role in rule)


__all__ = ["ACCESS", "EVERYONE", "PUBLIC", "allowed"]
