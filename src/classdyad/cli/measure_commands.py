"""Commands for measurements: ``score questionnaires``, ``score iat`` and ``agreement``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from classdyad.cli.database import load_study
from classdyad.errors import NotFoundError, OptionError, UndefinedStatisticWarning

console = Console()
score_app = typer.Typer(help="Score questionnaires and IATs.", no_args_is_help=True)

#: the rows of the agreement summary shown in the terminal (the CSV has every statistic)
AGREEMENT_SHOWN = [
    ("valence", "percent_agreement"), ("valence", "kappa"),
    ("valence", "kappa_with_no_event"), ("valence", "alpha_nominal"),
    ("valence", "time_unit_kappa"), ("target", "kappa"), ("subtype", "kappa"),
    ("student_count_negative", "ICC2"), ("student_count_positive", "ICC2"),
]


def print_frame(title: str, frame: pd.DataFrame, *, digits: int = 3,
                right: tuple[str, ...] = ()) -> None:
    """Print a DataFrame as a rich table, numbers rounded for reading.

    Numeric columns and the columns named in ``right`` are right-aligned and kept whole; text
    columns give way (wrap) when the terminal is narrow.
    """
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        aligned = frame[column].dtype.kind in "iuf" or column in right
        if aligned:
            width = max([len(str(column))] + [len(f"{v:.{digits}f}") if isinstance(v, float)
                                              else len(str(v)) for v in frame[column]])
            table.add_column(str(column), justify="right", no_wrap=True, min_width=width)
        else:
            table.add_column(str(column), justify="left", overflow="fold")
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            if column == "n" and isinstance(value, float) and not pd.isna(value):
                cells.append(f"{value:,.0f}")
            elif isinstance(value, float):
                cells.append("" if pd.isna(value) else f"{value:.{digits}f}")
            else:
                cells.append("" if value is None else str(value))
        table.add_row(*cells)
    console.print(table)


def agreement_summary(statistics: pd.DataFrame) -> pd.DataFrame:
    """The headline agreement statistics (all lessons together)."""
    overall = statistics.set_index(["aspect", "statistic"])
    rows = [overall.loc[key] for key in AGREEMENT_SHOWN if key in overall.index]
    shown = pd.DataFrame(rows).reset_index(names=["aspect", "statistic"])
    return shown[["aspect", "statistic", "estimate", "ci_lower", "ci_upper", "n"]]


@score_app.command("questionnaires")
def score_questionnaires(
    database: Annotated[str, typer.Argument(help="SQLite file (or a database URL).")],
    out: Annotated[Path, typer.Option("--out", help="CSV file for the scale scores.")] = Path(
        "questionnaire_scores.csv"),
    study: Annotated[str | None, typer.Option("--study", help="Study name.")] = None,
) -> None:
    """Score every stored questionnaire response and report each subscale's reliability."""
    from classdyad.measures import load_instrument
    from classdyad.study.scores import score_study_questionnaires

    tables = load_study(database, study)
    scores = score_study_questionnaires(tables)
    if scores.empty:
        raise NotFoundError("the study has no questionnaire responses to score")
    scores.to_csv(out, index=False)
    rows = []
    for code, part in scores.groupby("instrument"):
        instrument = load_instrument(str(code))
        for subscale in instrument.subscales:
            values = part[subscale]
            rows.append({"instrument": code, "subscale": subscale,
                         "responses": int(values.notna().sum()),
                         "missing (rule)": int(values.isna().sum()),
                         "mean": float(values.mean()), "sd": float(values.std())})
    print_frame("Scale scores", pd.DataFrame(rows), digits=2)
    reliability = _reliability(tables)
    if reliability is not None:
        print_frame("Reliability (Cronbach's alpha with Feldt CI, omega total)", reliability)
    console.print(f"scores written to {out}")


def _reliability(tables) -> pd.DataFrame | None:
    """Alpha and omega of every subscale of every instrument with responses."""
    from classdyad.measures import load_instrument, questionnaire_reliability, score_questionnaire

    frames = []
    for row in tables.instruments.itertuples(index=False):
        responses = tables.responses[tables.responses["instrument_id"] == row.id]
        answers = tables.response_items[tables.response_items["response_id"].isin(
            responses["id"])]
        if answers.empty:
            continue
        scored = score_questionnaire(answers[["response_id", "item", "value"]],
                                     load_instrument(row.code), layout="long",
                                     id_columns=["response_id"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedStatisticWarning)
            table = questionnaire_reliability(scored)
        table.insert(0, "instrument", row.code)
        frames.append(table[["instrument", "subscale", "n_items", "alpha", "alpha_ci_lower",
                             "alpha_ci_upper", "omega_total"]])
    return pd.concat(frames, ignore_index=True) if frames else None


@score_app.command("iat")
def score_iat_file(
    file: Annotated[Path, typer.Argument(help="Trial-level IAT data (CSV or TSV).")],
    out: Annotated[Path, typer.Option("--out", help="CSV file for the D scores.")] = Path(
        "iat_scores.csv"),
    variant: Annotated[str, typer.Option("--variant", help="D1 ... D6.")] = "D2",
    participant: Annotated[str, typer.Option(help="Column with the participant id.")] =
    "participant",
    block: Annotated[str, typer.Option(help="Column with the block.")] = "block",
    trial: Annotated[str, typer.Option(help="Column with the trial number (optional: file "
                                       "order is used without it).")] = "trial",
    latency: Annotated[str, typer.Option(help="Column with the latency (ms).")] = "latency",
    error: Annotated[str, typer.Option(help="Column with the error flag (1 = error).")] =
    "error",
    correct: Annotated[str | None, typer.Option(
        help="Column with a correct-response flag (1 = correct), instead of --error.")] = None,
    blocks: Annotated[str, typer.Option(
        help="Block roles, e.g. '3=practice_compatible,4=test_compatible,"
             "6=practice_incompatible,7=test_incompatible' (other blocks are ignored).")] =
    "3=practice_compatible,4=test_compatible,6=practice_incompatible,7=test_incompatible",
) -> None:
    """Score an IAT file: one D score per participant, with counts and exclusion reasons."""
    from classdyad.measures import IAT_ROLES, score_iat

    if not file.exists():
        raise NotFoundError(f"no file {file}; give the path of a CSV or TSV of IAT trials")
    trials = pd.read_csv(file, sep=None, engine="python")
    roles: dict[object, str] = {}
    for part in blocks.split(","):
        key, _, role = part.partition("=")
        if role.strip() not in IAT_ROLES:
            raise OptionError(f"--blocks: {role.strip()!r} is not a block role; use one of "
                              f"{', '.join(IAT_ROLES)}")
        text = key.strip()
        roles[int(text) if text.lstrip("-").isdigit() else text] = role.strip()
    for value in pd.unique(trials[block]) if block in trials.columns else []:
        roles.setdefault(value.item() if hasattr(value, "item") else value, "ignore")
    scores = score_iat(trials, blocks=roles, variant=variant, source=str(file),  # type: ignore[arg-type]
                       columns={"participant": participant, "block": block,
                                "latency": latency,
                                **({"trial": trial} if trial in trials.columns else {}),
                                **({"correct": correct} if correct else {"error": error})}
                       ).to_frame()
    scores.to_csv(out, index=False)
    shown = scores[["participant", "d", "n_used", "error_rate", "excluded",
                    "exclusion_reason"]].head(20)
    print_frame(f"IAT D scores ({variant}), first {len(shown)} of {len(scores)}", shown)
    console.print(f"{int(scores['excluded'].sum())} excluded; scores written to {out}")


def agreement(
    database: Annotated[str, typer.Argument(help="SQLite file (or a database URL).")],
    out: Annotated[Path, typer.Option("--out", help="CSV file for every statistic, per "
                                      "lesson and overall.")] = Path("agreement.csv"),
    lesson: Annotated[int | None, typer.Option("--lesson", help="One lesson id; default all "
                                               "double-coded lessons.")] = None,
    window: Annotated[float, typer.Option("--window", help="Matching window in seconds.")] =
    2.0,
    study: Annotated[str | None, typer.Option("--study", help="Study name.")] = None,
) -> None:
    """Agreement of the first and second coder on double-coded lessons."""
    from classdyad.measures import coder_agreement
    from classdyad.study.scores import coder_event_frames

    tables = load_study(database, study)
    first, second = coder_event_frames(tables)
    if lesson is not None:
        first, second = (f[f["lesson_id"] == lesson] for f in (first, second))
    if first.empty:
        where = f"lesson {lesson}" if lesson is not None else "this study"
        raise NotFoundError(f"{where} has no lesson coded by two coders; code a share of the "
                            "lessons twice to measure agreement")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UndefinedStatisticWarning)
        result = coder_agreement(first.assign(coder="first coder"),
                                 second.assign(coder="second coder"), window=window)
    result.to_frame().to_csv(out, index=False)
    counts = result.matching.to_frame().iloc[-1]
    print_frame(f"Coder agreement: {len(result.matching.lessons)} double-coded lesson(s), "
                f"{int(counts['n_matched']):,} matched events",
                agreement_summary(result.summary()))
    if caught:
        console.print(f"[yellow]{len(caught)} statistic(s) undefined in some lessons (nan in "
                      "the CSV)[/]")
    console.print(f"every statistic per lesson written to {out}")
