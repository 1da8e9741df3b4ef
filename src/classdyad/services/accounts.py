"""Accounts of the web application: creating users, checking and changing passwords.

Passwords are hashed with argon2id (RFC 9106) by ``argon2-cffi``'s defaults; only the hash is
stored. A teacher account is bound to one teacher of the study (by code) and a coder account to
one coder; admins and researchers are bound to no one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from classdyad.errors import DataError, IntegrityError, NotFoundError, check_option
from classdyad.model import Coder, Teacher, UserAccount
from classdyad.services.privacy import ROLES

MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (a fresh salt each time)."""
    check_password_strength(password)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("a password nobody has")


def dummy_verify(password: str) -> None:
    """Spend the time of one verification (so an unknown user answers as slowly as a known one)."""
    verify_password(_dummy_hash(), password)


def check_password_strength(password: str) -> None:
    """Refuse a password shorter than :data:`MIN_PASSWORD_LENGTH` characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DataError(f"the password has {len(password)} characters; use at least "
                        f"{MIN_PASSWORD_LENGTH} (a sentence of a few words is easy to remember)")


@dataclass(frozen=True)
class AccountInfo:
    """A user account as shown to admins: never its password hash."""

    id: int
    username: str
    role: str
    teacher: str | None
    coder: str | None
    active: bool


def _code_id(session: Session, table: type[Teacher] | type[Coder], code: str, *,
             what: str) -> int:
    ids = session.scalars(sa.select(table.id).where(table.code == code)).all()
    if not ids:
        raise NotFoundError(f"no {what} {code!r} in the study; import the roster (teachers) "
                            f"or add the {what} first, then create the account")
    if len(ids) > 1:
        raise DataError(f"{what} code {code!r} is used in several studies of this database; "
                        "keep one study per database for the web application")
    return int(ids[0])


def create_user(session: Session, username: str, password: str, *, role: str,
                teacher: str | None = None, coder: str | None = None) -> AccountInfo:
    """Add an account (the caller commits). Teachers need ``teacher``, coders ``coder``.

    Raises
    ------
    DataError
        If the username is taken or empty, the password too short, or the binding missing.
    """
    check_option("role", role, ROLES)
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise DataError(f"username {username!r} is not usable; use 1-100 characters without "
                        "spaces")
    if role == "teacher" and not teacher:
        raise DataError("a teacher account needs the teacher it belongs to: --teacher CODE")
    if role == "coder" and not coder:
        raise DataError("a coder account needs the coder it belongs to: --coder CODE")
    if (role != "teacher" and teacher) or (role != "coder" and coder):
        raise DataError(f"a {role} account is bound to no teacher or coder; leave out "
                        "--teacher and --coder")
    if session.scalar(sa.select(UserAccount.id).where(UserAccount.username == username)):
        raise IntegrityError(f"username {username!r} is taken; choose another")
    user = UserAccount(
        username=username, password_hash=hash_password(password), role=role, active=True,
        teacher_id=_code_id(session, Teacher, teacher, what="teacher") if teacher else None,
        coder_id=_code_id(session, Coder, coder, what="coder") if coder else None)
    session.add(user)
    session.flush()
    return AccountInfo(user.id, user.username, role, teacher, coder, True)


def set_password(session: Session, user_id: int, password: str) -> None:
    """Replace an account's password (the caller commits)."""
    user = session.get(UserAccount, user_id)
    if user is None:
        raise NotFoundError(f"no user account {user_id}; list them with `classdyad user list`")
    user.password_hash = hash_password(password)


def list_users(session: Session) -> pd.DataFrame:
    """Every account: ``id, username, role, teacher, coder, active`` (no hashes)."""
    query = (sa.select(UserAccount.id, UserAccount.username, UserAccount.role,
                       Teacher.code.label("teacher"), Coder.code.label("coder"),
                       UserAccount.active)
             .outerjoin(Teacher, UserAccount.teacher_id == Teacher.id)
             .outerjoin(Coder, UserAccount.coder_id == Coder.id)
             .order_by(UserAccount.id))
    rows = session.execute(query).all()
    return pd.DataFrame(rows, columns=["id", "username", "role", "teacher", "coder", "active"])


__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AccountInfo",
    "check_password_strength",
    "create_user",
    "dummy_verify",
    "hash_password",
    "list_users",
    "set_password",
    "verify_password",
]
