"""Logging in and out, the current user, and changing one's own password."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Request, Response

from classdyad.model import Coder, LoginSession, Teacher, UserAccount
from classdyad.services.accounts import dummy_verify, set_password, verify_password
from classdyad.web.dependencies import Db, ReadDb, User, end_read, get_settings
from classdyad.web.schemas import LoginRequest, LoginResponse, MePublic, PasswordChange
from classdyad.web.security import SESSION_COOKIE, new_token, token_hash

router = APIRouter(prefix="/api/v1", tags=["auth"])

LOGIN_FAILED = "unknown username or wrong password; check both and try again"


@router.post("/auth/login", response_model=LoginResponse)
def login(body: LoginRequest, request: Request, response: Response, read: ReadDb,
          db: Db) -> LoginResponse:
    """Log in: sets the session cookie and returns the CSRF token for later writes.

    The same 401 answers an unknown user and a wrong password; more than five failures per
    account per minute get 429.
    """
    limit = request.app.state.login_limit
    if limit.blocked(body.username):
        raise HTTPException(429, "too many failed logins for this account; wait a minute and "
                            "try again", headers={"Retry-After": str(int(limit.window))})
    # the account is read (and the password checked, which is slow on purpose) outside the
    # write transaction, which then only stores the session
    user = read.execute(sa.select(UserAccount.id, UserAccount.username, UserAccount.role,
                                  UserAccount.password_hash, UserAccount.active)
                        .where(UserAccount.username == body.username)).first()
    end_read(read)
    if user is None:
        dummy_verify(body.password)
        ok = False
    else:
        ok = verify_password(user.password_hash, body.password) and user.active
    if not ok or user is None:
        limit.failed(body.username)
        raise HTTPException(401, LOGIN_FAILED)
    limit.succeeded(body.username)
    user_id, username, role = user.id, user.username, user.role
    settings = get_settings(request)
    token, csrf = new_token(), new_token()
    now = dt.datetime.now(dt.UTC)
    db.execute(sa.delete(LoginSession).where(LoginSession.user_id == user_id,
                                             LoginSession.expires_at < now))
    db.add(LoginSession(token_hash=token_hash(token), user_id=user_id, csrf_token=csrf,
                        created_at=now,
                        expires_at=now + dt.timedelta(minutes=settings.session_minutes)))
    db.commit()
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_minutes * 60,
                        httponly=True, samesite="strict", secure=settings.secure_cookies,
                        path="/")
    return LoginResponse(csrf_token=csrf, username=username, role=role)  # type: ignore[arg-type]


@router.post("/auth/logout", status_code=204)
def logout(user: User, response: Response, db: Db) -> Response:
    """End the session (its cookie is cleared and the server forgets it)."""
    db.execute(sa.delete(LoginSession).where(LoginSession.token_hash == user.session_hash))
    db.commit()
    response.status_code = 204
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/me", response_model=MePublic)
def me(user: User, db: Db) -> MePublic:
    """Who is logged in, with their role (and the teacher or coder they are)."""
    teacher = (db.scalar(sa.select(Teacher.code).where(Teacher.id == user.teacher_id))
               if user.teacher_id else None)
    coder = (db.scalar(sa.select(Coder.code).where(Coder.id == user.coder_id))
             if user.coder_id else None)
    return MePublic(username=user.username, role=user.role, teacher=teacher, coder=coder)  # type: ignore[arg-type]


@router.post("/me/password", status_code=204)
def change_password(body: PasswordChange, user: User, read: ReadDb, db: Db) -> Response:
    """Change one's own password (the current one is asked again); other sessions end."""
    stored = read.scalar(sa.select(UserAccount.password_hash).where(UserAccount.id == user.id))
    end_read(read)
    if stored is None or not verify_password(stored, body.current_password):
        raise HTTPException(400, "the current password is wrong; type it again")
    set_password(db, user.id, body.new_password)
    db.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id,
                                             LoginSession.token_hash != user.session_hash))
    db.commit()
    return Response(status_code=204)
