"""``classdyad feedback``: one teacher's private feedback page (and its numbers as JSON)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from classdyad.cli.database import opened
from classdyad.errors import check_option

console = Console()


def _goals(engine: Any, study: str, teacher: str) -> Any:
    """The teacher's coaching goals (the command line acts for the teacher it names)."""
    from sqlalchemy.orm import Session

    from classdyad.services.coaching import goals_frame, teacher_actor
    from classdyad.store.reading import resolve_study

    with Session(engine) as session:
        info = resolve_study(session.connection(), study)
        actor, teacher_id = teacher_actor(session, int(info["id"]), teacher)
        return goals_frame(session, actor, teacher_id)


def feedback(
    database: Annotated[str, typer.Argument(help="SQLite file (or a database URL).")],
    teacher: Annotated[str, typer.Option("--teacher", help="The teacher's code.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write (self-contained).")] =
    Path("feedback.html"),
    lang: Annotated[str, typer.Option("--lang", help="Language of the page: en or nl.")] = "en",
    json_path: Annotated[Path | None, typer.Option(
        "--json", help="Also write every number at full precision to this JSON file (student "
                       "codes, never names).")] = None,
    names: Annotated[bool, typer.Option(
        "--names/--no-names", help="Show the teacher's own students' names (from the roster) "
                                   "on the page; codes otherwise.")] = True,
    flag_rule: Annotated[str, typer.Option(
        "--flag-rule", help="posterior (probability above the class > 0.95) or fdr "
                            "(Benjamini-Hochberg q <= 0.05).")] = "posterior",
    study: Annotated[str | None, typer.Option("--study", help="Study name.")] = None,
    actor: Annotated[str, typer.Option("--actor", help="Who writes the page (audit log).")] =
    "cli",
) -> None:
    """Write one teacher's feedback: shrunken rates per student, flags, spread, trends, guidance,
    and progress on the teacher's coaching goals (``classdyad coaching goal``)."""
    from classdyad.analysis.teacher_feedback import FLAG_RULES
    from classdyad.report.feedback import feedback_page
    from classdyad.report.i18n import LANGUAGES
    from classdyad.store.exporting import record_export, student_names
    from classdyad.store.teacher_reading import read_teacher_study
    from classdyad.study.feedback import study_teacher_feedback

    check_option("--lang", lang, LANGUAGES)
    check_option("--flag-rule", flag_rule, FLAG_RULES)
    started = time.perf_counter()
    with opened(database) as engine:
        tables = read_teacher_study(engine, teacher, study)
        goals = _goals(engine, tables.name, teacher)
        result, data = study_teacher_feedback(tables, teacher, flag_rule=flag_rule,  # type: ignore[arg-type]
                                              goals=goals)
        shown: dict[str, str] = {}
        if names:
            roster = student_names(engine, tables.name)
            roster = roster[roster["student"].astype(str).isin(data.students)]
            for row in roster.itertuples(index=False):
                name = " ".join(str(p) for p in (row.first_name, row.last_name)
                                if isinstance(p, str) and p)
                if name:
                    shown[str(row.student)] = name
        page = feedback_page(result, language=lang, names=shown,  # type: ignore[arg-type]
                             study=tables.name)
        written = page.save(out, json_path=json_path)
        record_export(engine, actor=actor, format="feedback", path=written,
                      rows=len(data.students), study=tables.name, include_names=bool(shown),
                      detail={"teacher": data.teacher, "json": str(json_path) if json_path
                              else None, "language": lang})
    flagged = result.flagged
    console.print(f"feedback for teacher {data.teacher}: {len(data.students)} students, "
                  f"{flagged['student'].nunique()} flagged (negative rate credibly above the "
                  f"class's), written in {time.perf_counter() - started:.1f} s:",
                  highlight=False)
    if result.progress is not None:
        goals = result.progress.drop_duplicates("goal")
        console.print(f"progress on {len(goals)} coaching goal(s) included", highlight=False)
    print(written)
    if json_path is not None:
        print(json_path)
