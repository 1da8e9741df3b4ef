"""Logging in and out: argon2id hashes, cookies, sessions that end, CSRF, the login rate limit."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from classdyad.model import LoginSession, UserAccount

from .conftest import PASSWORDS


def test_login_sets_an_httponly_samesite_cookie_and_returns_a_csrf_token(server) -> None:
    client = server.client()
    response = client.post("/api/v1/auth/login",
                           json={"username": "researcher", "password": PASSWORDS["researcher"]})
    assert response.status_code == 200
    assert set(response.json()) == {"csrf_token", "username", "role"}
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=" in cookie
    assert client.get("/api/v1/me").json() == {"username": "researcher", "role": "researcher",
                                               "teacher": None, "coder": None}


def test_passwords_are_stored_as_argon2id_hashes_only(server) -> None:
    with server.engine.connect() as connection:
        hashes = connection.execute(sa.select(UserAccount.password_hash)).scalars().all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(p in h for h in hashes for p in PASSWORDS.values())


def test_unknown_user_and_wrong_password_get_the_same_answer(server) -> None:
    client = server.client()
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody-here",
                                                      "password": "whatever it is"})
    wrong = client.post("/api/v1/auth/login", json={"username": "teacher2",
                                                    "password": "not the password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert client.get("/api/v1/me").status_code == 401


def test_more_than_five_failures_per_minute_get_429_even_with_the_right_password(server) -> None:
    client = server.client()
    for _ in range(5):
        answer = client.post("/api/v1/auth/login", json={"username": "admin",
                                                         "password": "a wrong guess"})
        assert answer.status_code == 401
    blocked = client.post("/api/v1/auth/login", json={"username": "admin",
                                                      "password": PASSWORDS["admin"]})
    assert blocked.status_code == 429
    assert "wait" in blocked.json()["detail"]
    # another account is not affected
    assert server.client("researcher").get("/api/v1/me").status_code == 200
    server.app.state.login_limit.succeeded("admin")


def test_state_changing_requests_need_the_csrf_header(server) -> None:
    client = server.client("researcher", csrf=False)
    body = {"code": "csrf-coder"}
    assert client.post("/api/v1/coders", json=body).status_code == 403
    wrong = client.post("/api/v1/coders", json=body, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403 and "X-CSRF-Token" in wrong.json()["detail"]
    login = client.post("/api/v1/auth/login", json={"username": "researcher",
                                                    "password": PASSWORDS["researcher"]})
    right = client.post("/api/v1/coders", json=body,
                        headers={"X-CSRF-Token": login.json()["csrf_token"]})
    assert right.status_code == 201
    # reads need no token
    assert client.get("/api/v1/coders").status_code == 200


def test_logout_ends_the_session_on_the_server(server) -> None:
    client = server.client("teacher")
    cookie = client.cookies.get("classdyad_session")
    assert client.post("/api/v1/auth/logout").status_code == 204
    replay = server.client()
    replay.cookies.set("classdyad_session", cookie)
    assert replay.get("/api/v1/me").status_code == 401


def test_sessions_expire(server) -> None:
    client = server.client("teacher")
    assert client.get("/api/v1/me").status_code == 200
    with server.engine.begin() as connection:
        user_id = connection.execute(sa.select(UserAccount.id)
                                     .where(UserAccount.username == "teacher")).scalar_one()
        connection.execute(sa.update(LoginSession).where(LoginSession.user_id == user_id)
                           .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))
    assert client.get("/api/v1/me").status_code == 401
    page = client.get("/lessons", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_password_change_and_admin_reset(server) -> None:
    client = server.client("teacher2")
    bad = client.post("/api/v1/me/password", json={"current_password": "wrong one here",
                                                   "new_password": "a brand new password"})
    assert bad.status_code == 400
    short = client.post("/api/v1/me/password", json={
        "current_password": PASSWORDS["teacher2"], "new_password": "short"})
    assert short.status_code == 422 and "at least 10" in short.json()["detail"]
    ok = client.post("/api/v1/me/password", json={"current_password": PASSWORDS["teacher2"],
                                                  "new_password": "a brand new password"})
    assert ok.status_code == 204
    admin = server.client("admin")
    users = {u["username"]: u["id"] for u in admin.get("/api/v1/users").json()}
    reset = admin.post(f"/api/v1/users/{users['teacher2']}/password",
                       json={"new_password": PASSWORDS["teacher2"]})
    assert reset.status_code == 204
    assert client.get("/api/v1/me").status_code == 401  # the reset ended the session
    assert server.client("teacher2").get("/api/v1/me").status_code == 200


def test_admin_creates_accounts_bound_to_a_teacher_or_coder(server) -> None:
    admin = server.client("admin")
    unbound = admin.post("/api/v1/users", json={"username": "t-unbound", "password":
                                                "long enough password", "role": "teacher"})
    assert unbound.status_code == 422 and "--teacher" in unbound.json()["detail"]
    unknown = admin.post("/api/v1/users", json={"username": "t-x", "role": "teacher",
                                                "password": "long enough password",
                                                "teacher": "NO-SUCH"})
    assert unknown.status_code == 404
    made = admin.post("/api/v1/users", json={"username": "t-new", "role": "teacher",
                                             "password": "long enough password",
                                             "teacher": server.teacher})
    assert made.status_code == 201 and made.json()["teacher"] == server.teacher
    assert "password" not in made.text
    again = admin.post("/api/v1/users", json={"username": "t-new", "role": "researcher",
                                              "password": "long enough password"})
    assert again.status_code == 409


def test_users_logging_in_at_the_same_moment_all_get_in(server) -> None:
    """A login reads the account, then writes a session: the write runs in a transaction of its
    own, so on SQLite simultaneous logins wait for each other instead of one failing with
    "database is locked" (a read transaction cannot become a write one under a writer)."""
    from concurrent.futures import ThreadPoolExecutor

    names = list(PASSWORDS) * 2

    def login(name: str) -> int:
        return server.client().post("/api/v1/auth/login", json={
            "username": name, "password": PASSWORDS[name]}).status_code

    with ThreadPoolExecutor(len(names)) as pool:
        answers = list(pool.map(login, names))
    assert answers == [200] * len(names)
