"""``classdyad serve`` (the web application) and ``classdyad user`` (its accounts)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from classdyad.cli.database import opened
from classdyad.errors import DataError

console = Console()
#: the environment variable through which ``serve`` hands its options to the web application
SETTINGS_VARIABLE = "CLASSDYAD_WEB_SETTINGS"
#: the application factory ``serve`` runs (``module:function``)
APP_FACTORY = "classdyad.web.app:app_from_environment"
user_app = typer.Typer(help="Accounts of the web application (classdyad serve).",
                       no_args_is_help=True)

DatabaseArgument = Annotated[str, typer.Argument(help="SQLite file (or a database URL).")]


def serve(
    database: DatabaseArgument,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every "
                                      "network interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    study: Annotated[str | None, typer.Option("--study", help="Study name, when the database "
                                              "holds several.")] = None,
    media: Annotated[Path | None, typer.Option("--media", help="Folder of lesson videos "
                                               "(default: 'videos' beside the database).")]
    = None,
    secure_cookies: Annotated[bool, typer.Option(
        "--secure-cookies", help="Send the login cookie over HTTPS only (behind a TLS "
        "proxy).")] = False,
    access_log: Annotated[bool, typer.Option(
        "--access-log/--no-access-log", help="Log a line for every request (off: only "
        "errors and warnings; a busy server spends less time on each request).")] = True,
) -> None:
    """Start the web application (accounts, roles, study administration) on DATABASE.

    The server is uvicorn on its fastest event loop and HTTP parser where they are installed
    (uvloop and httptools, from ``uvicorn[standard]``), one process.
    """
    import json
    import os

    import uvicorn

    from classdyad.store import open_database

    open_database(database, create=False).dispose()  # a clear error before the server starts
    # the application is built by its factory (the command line and the web application are
    # separate layers: one never imports the other), from settings passed in the environment
    os.environ[SETTINGS_VARIABLE] = json.dumps({
        "database": database, "study": study, "media_folder": str(media) if media else None,
        "secure_cookies": secure_cookies})
    console.print(f"classdyad serves {database} on http://{host}:{port}/ (Ctrl+C stops it)",
                  highlight=False)
    uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, log_level="info",
                access_log=access_log, loop="auto", http="auto", proxy_headers=False)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise DataError("no password given; pipe it in with --password-stdin or type it when "
                        "asked")
    return password


@user_app.command("add")
def add(
    database: DatabaseArgument,
    username: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[str, typer.Option("--role", help="admin, researcher, coder, teacher or "
                                                     "coach.")],
    teacher: Annotated[str | None, typer.Option("--teacher", help="The teacher code a teacher "
                                                "account belongs to.")] = None,
    coder: Annotated[str | None, typer.Option("--coder", help="The coder code a coder account "
                                              "belongs to.")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input "
        "(otherwise it is asked for).")] = False,
) -> None:
    """Add an account (passwords are stored as argon2id hashes only)."""
    from sqlalchemy.orm import Session

    from classdyad.services.accounts import create_user

    password = _read_password(password_stdin)
    with opened(database, create=True) as engine, Session(engine) as session:
        info = create_user(session, username, password, role=role, teacher=teacher,
                           coder=coder)
        session.commit()
    bound = f" (teacher {info.teacher})" if info.teacher else (
        f" (coder {info.coder})" if info.coder else "")
    console.print(f"added {info.role} {info.username!r}{bound}", highlight=False)


@user_app.command("list")
def list_(database: DatabaseArgument) -> None:
    """List the accounts (never their passwords)."""
    from sqlalchemy.orm import Session

    from classdyad.services.accounts import list_users

    with opened(database) as engine, Session(engine) as session:
        frame = list_users(session)
    table = Table(title="Accounts", title_justify="left")
    for column in frame.columns:
        table.add_column(column)
    for row in frame.itertuples(index=False):
        table.add_row(*["" if v is None or v != v else str(v) for v in row])
    console.print(table)


@user_app.command("password")
def password(
    database: DatabaseArgument,
    username: Annotated[str, typer.Argument(help="The login name.")],
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the new password from standard input.")] = False,
) -> None:
    """Set a new password for an account (its sessions end)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from classdyad.errors import NotFoundError
    from classdyad.model import LoginSession, UserAccount
    from classdyad.services.accounts import set_password

    new = _read_password(password_stdin)
    with opened(database) as engine, Session(engine) as session:
        user_id = session.scalar(sa.select(UserAccount.id)
                                 .where(UserAccount.username == username))
        if user_id is None:
            raise NotFoundError(f"no account {username!r}; list them with `classdyad user "
                                "list`")
        set_password(session, user_id, new)
        session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user_id))
        session.commit()
    console.print(f"new password set for {username!r}", highlight=False)


__all__ = ["APP_FACTORY", "serve", "user_app"]
