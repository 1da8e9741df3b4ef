"""Accounts (admin): list, create, deactivate, reset a password."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, HTTPException, Response

from classdyad.model import LoginSession, UserAccount
from classdyad.services.accounts import create_user as add_account
from classdyad.services.accounts import list_users as account_frame
from classdyad.services.accounts import set_password
from classdyad.web.dependencies import Db
from classdyad.web.schemas import PasswordReset, UserCreate, UserPublic, UserUpdate

router = APIRouter(prefix="/api/v1/users", tags=["users"])


def user_records(db: Db) -> list[UserPublic]:
    """Every account as shown to admins."""
    frame = account_frame(db).astype(object)
    frame = frame.where(frame.notna(), None)
    return [UserPublic(**record) for record in frame.to_dict("records")]


@router.get("", response_model=list[UserPublic])
def list_users(db: Db) -> list[UserPublic]:
    """Every account (never a password hash)."""
    return user_records(db)


@router.post("", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, db: Db) -> UserPublic:
    """Add an account; teachers are bound to a teacher code, coders to a coder code."""
    info = add_account(db, body.username, body.password, role=body.role, teacher=body.teacher,
                       coder=body.coder)
    db.commit()
    return UserPublic(id=info.id, username=info.username, role=info.role,  # type: ignore[arg-type]
                      teacher=info.teacher, coder=info.coder, active=info.active)


def _account(db: Db, user_id: int) -> UserAccount:
    account = db.get(UserAccount, user_id)
    if account is None:
        raise HTTPException(404, f"no user account {user_id}; see the Users page")
    return account


@router.patch("/{user_id}", response_model=UserPublic)
def update_user(user_id: int, body: UserUpdate, db: Db) -> UserPublic:
    """Activate or deactivate an account (deactivating ends its sessions)."""
    account = _account(db, user_id)
    account.active = body.active
    if not body.active:
        db.execute(sa.delete(LoginSession).where(LoginSession.user_id == user_id))
    db.commit()
    return next(u for u in user_records(db) if u.id == user_id)


@router.post("/{user_id}/password", status_code=204)
def reset_password(user_id: int, body: PasswordReset, db: Db) -> Response:
    """Set a new password for an account (admin reset); its sessions end."""
    _account(db, user_id)
    set_password(db, user_id, body.new_password)
    db.execute(sa.delete(LoginSession).where(LoginSession.user_id == user_id))
    db.commit()
    return Response(status_code=204)
