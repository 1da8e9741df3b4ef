"""Per-request dependencies: the database session, the logged-in user, access and the study.

This is the web application's one door to the database: every request gets one
``sqlalchemy.orm.Session`` on the engine opened at start-up (:func:`get_db`), closed when the
request ends. :func:`authorize`, applied by the application to every route, checks the role
against :data:`classdyad.web.access.ACCESS` and the CSRF token of every state-changing request.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from classdyad.model import LoginSession, Study, UserAccount
from classdyad.services.privacy import PrivacySettings, privacy_settings
from classdyad.web.access import ACCESS, PUBLIC
from classdyad.web.security import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, token_hash
from classdyad.web.settings import WebSettings


class LoginRequired(Exception):
    """The route needs a logged-in user and the request has no valid session."""


@dataclass(frozen=True)
class CurrentUser:
    """The logged-in user of a request."""

    id: int
    username: str
    role: str
    teacher_id: int | None
    coder_id: int | None
    csrf_token: str
    session_hash: str


@dataclass(frozen=True)
class StudyContext:
    """The study the application serves: id, name and privacy settings."""

    id: int
    name: str
    description: str | None
    settings: dict[str, Any]

    @property
    def privacy(self) -> PrivacySettings:
        """The study's privacy options (minimum cell size, what coders and teachers see)."""
        return privacy_settings(self.settings)


def get_engine(request: Request) -> Engine:
    """The engine opened when the application started."""
    return request.app.state.engine


def get_settings(request: Request) -> WebSettings:
    """The application's settings."""
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """One database session for the request (the unit of work), closed at its end."""
    with Session(get_engine(request), expire_on_commit=False) as session:
        yield session


Db = Annotated[Session, Depends(get_db)]


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def current_user(request: Request, db: Db) -> CurrentUser | None:
    """The user of the request's session cookie, or ``None`` (no cookie, expired, inactive)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    hashed = token_hash(token)
    row = db.execute(sa.select(LoginSession, UserAccount)
                     .join(UserAccount, LoginSession.user_id == UserAccount.id)
                     .where(LoginSession.token_hash == hashed)).first()
    if row is None:
        return None
    login, user = row
    if not user.active or _utc(login.expires_at) <= dt.datetime.now(dt.UTC):
        return None
    return CurrentUser(user.id, user.username, user.role, user.teacher_id, user.coder_id,
                       login.csrf_token, hashed)


def authorize(request: Request,
              user: Annotated[CurrentUser | None, Depends(current_user)]) -> CurrentUser | None:
    """Apply the access table to the request's route; check CSRF on state-changing requests.

    Raises 500 for a route without a rule (never served), :class:`LoginRequired` without a
    session, 403 for a role the route is not for or a missing or wrong ``X-CSRF-Token``.
    """
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    rule = ACCESS.get(name) if name else None
    if rule is None:
        raise HTTPException(500, f"route {name!r} has no access rule; add it to "
                            "classdyad.web.access.ACCESS")
    if rule is PUBLIC:
        return user
    if user is None:
        raise LoginRequired()
    if user.role not in rule:
        raise HTTPException(403, f"the {user.role} role may not use this; ask a "
                            "researcher or admin if you need it")
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, user.csrf_token):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header; reload the page "
                                "(or log in again) and retry")
    return user


def require_user(user: Annotated[CurrentUser | None, Depends(authorize)]) -> CurrentUser:
    """The logged-in user of a route that needs one (``authorize`` has checked it)."""
    if user is None:
        raise LoginRequired()
    return user


User = Annotated[CurrentUser, Depends(require_user)]


def optional_study(request: Request, db: Db) -> StudyContext | None:
    """The served study, or ``None`` while the database holds none (before the first import)."""
    wanted = get_settings(request).study
    query = sa.select(Study).order_by(Study.id)
    if wanted is not None:
        query = query.where(Study.name == wanted)
    studies = db.scalars(query).all()
    if len(studies) != 1:
        if len(studies) > 1:
            names = ", ".join(repr(s.name) for s in studies)
            raise HTTPException(409, f"the database holds several studies ({names}); start "
                                "the server with --study NAME")
        return None
    study = studies[0]
    return StudyContext(study.id, study.name, study.description, dict(study.settings or {}))


def require_study(study: Annotated[StudyContext | None, Depends(optional_study)]
                  ) -> StudyContext:
    """The served study; 404 with what to do while there is none."""
    if study is None:
        raise HTTPException(404, "the database holds no study yet; a researcher imports a "
                            "roster first (Import page or `classdyad import roster`)")
    return study


CurrentStudy = Annotated[StudyContext, Depends(require_study)]
MaybeStudy = Annotated[StudyContext | None, Depends(optional_study)]

__all__ = [
    "CurrentStudy",
    "CurrentUser",
    "Db",
    "LoginRequired",
    "MaybeStudy",
    "StudyContext",
    "User",
    "authorize",
    "current_user",
    "get_db",
    "get_engine",
    "get_settings",
    "optional_study",
    "require_study",
    "require_user",
]
