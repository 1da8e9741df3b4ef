"""The ``classdyad`` command: one Typer app, one module per command group.

Commands are thin wrappers over the library: they parse options, show progress with rich, call
one library function and print its result. Every ClassdyadError is shown as a one-paragraph
message (what is wrong and how to fix it) with exit code 2, never a traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from classdyad.cli import (
    analysis_commands,
    feedback_commands,
    measure_commands,
    power_commands,
    report_commands,
    study_commands,
)
from classdyad.cli.coaching_commands import coaching_app
from classdyad.cli.export_commands import export_app
from classdyad.cli.import_commands import import_app
from classdyad.cli.web_commands import serve, user_app
from classdyad.errors import ClassdyadError

app = typer.Typer(
    name="classdyad",
    help="Teacher-student relationships and the daily interactions that build them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

app.command("demo")(study_commands.demo)
app.command("init")(study_commands.init)
app.command("migrate")(study_commands.migrate_command)
app.command("info")(study_commands.info)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(measure_commands.score_app, name="score")
app.command("agreement")(measure_commands.agreement)
app.command("analyze")(analysis_commands.analyze)
app.command("report")(report_commands.report)
app.command("serve")(serve)
app.add_typer(user_app, name="user")
app.command("power")(power_commands.power)
app.command("feedback")(feedback_commands.feedback)
app.add_typer(coaching_app, name="coaching")


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    if version:
        from classdyad import __version__

        console.print(f"classdyad {__version__}")
        raise typer.Exit()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except ClassdyadError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return 1
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


__all__ = ["app", "main"]
