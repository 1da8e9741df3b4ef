"""``classdyad coaching``: a teacher's goals for the next wave, reflections, and coaches.

The command line works on the database file and acts for the teacher named by ``--teacher``
(:mod:`classdyad.services.coaching`); in the web application only the teacher and the coaches
the teacher invited can open these.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from classdyad.cli.database import opened
from classdyad.services import coaching

console = Console()
coaching_app = typer.Typer(help="A teacher's coaching cycle: goals for the next wave, "
                                "reflections, invited coaches (private to the teacher and "
                                "their coaches).", no_args_is_help=True)

DatabaseArgument = Annotated[str, typer.Argument(help="SQLite file (or a database URL).")]
TeacherOption = Annotated[str, typer.Option("--teacher", help="The teacher's code.")]
StudyOption = Annotated[str | None, typer.Option("--study", help="Study name.")]
AuthorOption = Annotated[str | None, typer.Option(
    "--author", help="Who writes it (default: the teacher's code).")]


@contextmanager
def _space(database: str, teacher: str, study: str | None, author: str | None
           ) -> Iterator[tuple[Session, coaching.CoachingActor, int]]:
    from classdyad.store.reading import resolve_study

    with opened(database) as engine, Session(engine) as session:
        info = resolve_study(session.connection(), study)
        actor, teacher_id = coaching.teacher_actor(session, int(info["id"]), teacher,
                                                   author=author)
        yield session, actor, teacher_id
        session.commit()


@coaching_app.command("goal")
def goal(
    database: DatabaseArgument,
    teacher: TeacherOption,
    classroom: Annotated[str, typer.Option("--classroom", help="The class's code.")],
    wave: Annotated[int, typer.Option("--wave", help="The wave the goal is for (its feedback "
                                                     "shows the progress).")],
    kind: Annotated[str, typer.Option("--kind", help="fewer_negative or more_positive.")] =
    "fewer_negative",
    students: Annotated[list[str] | None, typer.Option(
        "--student", help="A chosen student's code (repeat; none: the class as a "
                          "whole).")] = None,
    target: Annotated[float | None, typer.Option(
        "--target", help="Rate ratio aimed at (0.8: a fifth fewer).")] = None,
    study: StudyOption = None,
    author: AuthorOption = None,
) -> None:
    """Set a goal for one of the teacher's classes and a wave."""
    with _space(database, teacher, study, author) as (session, actor, teacher_id):
        made = coaching.create_goal(session, actor, teacher_id, classroom=classroom, wave=wave,
                                    kind=kind, students=students or [], target=target)
    whom = ", ".join(made["students"]) or "the class"
    console.print(f"goal {made['id']}: {made['kind'].replace('_', ' ')} with {whom}, class "
                  f"{made['classroom']}, wave {made['wave']}", highlight=False)


@coaching_app.command("note")
def note(
    database: DatabaseArgument,
    teacher: TeacherOption,
    text: Annotated[str, typer.Option("--text", help="The reflection or note.")],
    goal_id: Annotated[int | None, typer.Option("--goal", help="The goal it is about "
                                                               "(its number).")] = None,
    study: StudyOption = None,
    author: AuthorOption = None,
) -> None:
    """Write a reflection or note (on a goal, or in general)."""
    with _space(database, teacher, study, author) as (session, actor, teacher_id):
        made = coaching.add_note(session, actor, teacher_id, text, goal_id=goal_id)
    console.print(f"note {made['id']} written", highlight=False)


@coaching_app.command("list")
def list_(database: DatabaseArgument, teacher: TeacherOption, study: StudyOption = None) -> None:
    """Show the teacher's goals, notes and coaches."""
    with _space(database, teacher, study, None) as (session, actor, teacher_id):
        goals = coaching.list_goals(session, actor, teacher_id)
        notes = coaching.list_notes(session, actor, teacher_id)
        coaches = coaching.list_coaches(session, actor, teacher_id)
    table = Table("goal", "class", "wave", "kind", "students", "target", "set by")
    for row in goals:
        table.add_row(str(row["id"]), row["classroom"], str(row["wave"]), row["kind"],
                      ", ".join(row["students"]) or "(class)",
                      "" if row["target"] is None else f"{row['target']:g}", row["created_by"])
    console.print(table)
    for row in notes:
        about = f" (goal {row['goal']})" if row["goal"] else ""
        console.print(f"[bold]{row['author']}[/bold]{about}: {row['text']}", highlight=False)
    console.print("coaches: " + (", ".join(c["coach"] for c in coaches) or "none"),
                  highlight=False)


@coaching_app.command("invite")
def invite(database: DatabaseArgument, teacher: TeacherOption,
           coach: Annotated[str, typer.Argument(help="The coach's username.")],
           study: StudyOption = None) -> None:
    """Invite an existing account (coach or teacher role) as the teacher's coach."""
    with _space(database, teacher, study, None) as (session, actor, teacher_id):
        coaching.invite_coach(session, actor, teacher_id, coach)
    console.print(f"{coach} is now a coach of teacher {teacher}", highlight=False)


@coaching_app.command("revoke")
def revoke(database: DatabaseArgument, teacher: TeacherOption,
           coach: Annotated[str, typer.Argument(help="The coach's username.")],
           study: StudyOption = None) -> None:
    """End a coach's access to the teacher's goals, notes and feedback."""
    with _space(database, teacher, study, None) as (session, actor, teacher_id):
        coaching.revoke_coach(session, actor, teacher_id, coach)
    console.print(f"{coach} is no longer a coach of teacher {teacher}", highlight=False)


__all__ = ["coaching_app"]
