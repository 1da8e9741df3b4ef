"""A fuzz campaign over every importer and every model entry point.

Each case takes a valid input (an import file made from a small replica study, or a data frame a
model accepts), applies a few mutations of the kinds research teams produce by hand (a repeated
header, a blank line, spaces around an id, a cell replaced by ``inf``, ``1e400``, ``nan``, a word
or an empty string, extra cells, a dropped or duplicated column, a truncated file, a constant or
one-level column, zero exposure, huge counts, a predictor shifted far from zero) and runs the
importer or model. Every case must end in one of two ways:

- a **clean refusal**: a :class:`~classdyad.errors.ClassdyadError`, with the database exactly as
  before (every table's row count unchanged);
- an **acceptance**: the import's summary matches what the database gained, or the model's
  estimates are all finite.

Every import case starts from a copy of the same database, so cases are independent.

Anything else is counted as a **traceback** (another exception), a **partial write** (a refused
import that changed the database, or an accepted one whose summary disagrees with the database)
or a **silent failure** (a fit with non-finite estimates). The campaign is deterministic: case
``i`` of a run with seed ``s`` draws its mutations from ``numpy.random.default_rng([s, i])``.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa

from classdyad.errors import ClassdyadError
from classdyad.model import Base
from classdyad.model.tables import empty_table

OUTCOMES = ("refused", "accepted", "traceback", "partial_write", "silent_failure")

#: cell values that stand in for what hand-edited files hold
ODD_CELLS = ["inf", "-inf", "1e400", "nan", "NaN", "", " ", "abc", "-3", "0", "2.5",
             "99999999999999999999999", "NULL", "None", "é", "\u00a0", "#N/A", "1,5",
             "True", "P000001", "T0001", "x" * 300]


@dataclass
class CampaignResult:
    """Counts of outcomes per entry point, and the first few failures with their tracebacks."""

    counts: dict[str, Counter] = field(default_factory=dict)
    failures: list[tuple[str, int, str]] = field(default_factory=list)

    def add(self, entry: str, case: int, outcome: str, detail: str = "") -> None:
        self.counts.setdefault(entry, Counter())[outcome] += 1
        if outcome not in ("refused", "accepted") and len(self.failures) < 20:
            self.failures.append((entry, case, f"{outcome}: {detail}"))

    def to_frame(self) -> pd.DataFrame:
        rows = [{"entry point": entry, "cases": sum(c.values()),
                 **{outcome: c.get(outcome, 0) for outcome in OUTCOMES}}
                for entry, c in self.counts.items()]
        frame = pd.DataFrame(rows, columns=["entry point", "cases", *OUTCOMES])
        total = frame.drop(columns="entry point").sum()
        return pd.concat([frame, pd.DataFrame([{"entry point": "all", **total}])],
                         ignore_index=True)


# ----------------------------------------------------------------------------- text mutations

def _split(text: str, sep: str) -> list[list[str]]:
    return [line.split(sep) for line in text.splitlines()]


def _join(rows: list[list[str]], sep: str) -> str:
    return "\n".join(sep.join(r) for r in rows) + "\n"


def mutate_table_text(text: str, sep: str, rng: np.random.Generator, *,
                      header_index: int = 0) -> str:
    """Apply 1-3 hand-editing mutations to a delimited table (header at ``header_index``)."""
    rows = _split(text, sep)
    for _ in range(int(rng.integers(1, 4))):
        body = range(header_index + 1, len(rows))
        if len(rows) <= header_index + 1:
            break
        kind = int(rng.integers(0, 11))
        r = int(rng.choice(body))
        if kind == 0:  # a cell replaced by an odd value
            c = int(rng.integers(0, len(rows[r])))
            rows[r][c] = str(rng.choice(ODD_CELLS))
        elif kind == 1:  # the header repeated inside the data
            rows.insert(r, list(rows[header_index]))
        elif kind == 2:  # blank lines
            rows.insert(r, [""] * int(rng.integers(1, len(rows[header_index]) + 1)))
        elif kind == 3:  # spaces around a cell
            c = int(rng.integers(0, len(rows[r])))
            rows[r][c] = f"  {rows[r][c]} "
        elif kind == 4:  # extra cells in one row
            rows[r] = rows[r] + ["x"] * int(rng.integers(1, 3))
        elif kind == 5:  # an extra column everywhere
            rows = [row + (["remarks"] if i == header_index else ["-"])
                    for i, row in enumerate(rows)]
        elif kind == 6:  # a column dropped everywhere
            c = int(rng.integers(0, len(rows[header_index])))
            rows = [row[:c] + row[c + 1:] for row in rows]
        elif kind == 7:  # a row repeated
            rows.insert(r, list(rows[r]))
        elif kind == 8:  # a cell emptied
            c = int(rng.integers(0, len(rows[r])))
            rows[r][c] = ""
        elif kind == 9:  # the file cut off in the middle of a row
            rows = rows[:r + 1]
            rows[-1] = rows[-1][: max(1, len(rows[-1]) // 2)]
        else:  # two cells of one row swapped
            a, b = rng.integers(0, len(rows[r]), size=2)
            rows[r][a], rows[r][b] = rows[r][b], rows[r][a]
    return _join(rows, sep)


# ------------------------------------------------------------------------------- database

def table_counts(engine: sa.Engine) -> dict[str, int]:
    """Row counts of every table of the study schema."""
    with engine.connect() as connection:
        return {name: int(connection.execute(sa.select(sa.func.count()).select_from(table))
                          .scalar_one())
                for name, table in Base.metadata.tables.items()}


@contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            yield


def _run_import(result: CampaignResult, entry: str, case: int, engine: sa.Engine,
                run: Callable[[], object]) -> None:
    before = table_counts(engine)
    try:
        with _quiet():
            summary = run()
    except ClassdyadError:
        after = table_counts(engine)
        if after != before:
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            result.add(entry, case, "partial_write", f"refused but changed {changed}")
        else:
            result.add(entry, case, "refused")
        return
    except Exception as error:  # the point of the campaign: anything else is a defect
        result.add(entry, case, "traceback",
                   f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}")
        return
    after = table_counts(engine)
    gained = {k: after[k] - before[k] for k in before if after[k] != before[k]}
    added = sum(v for v in summary.added.values())  # type: ignore[attr-defined]
    if added and not gained:
        result.add(entry, case, "partial_write", f"summary says {summary.added}, db unchanged")
    else:
        result.add(entry, case, "accepted")


# -------------------------------------------------------------------------- import inputs

@dataclass
class ImportFixtures:
    """Valid import files made from a small study, and databases to import them into."""

    folder: Path
    roster_text: str
    events_text: str
    responses_text: str
    iat_text: str
    boris_text: str
    boris_mapping: Path
    target: Path
    empty: Path


def make_import_fixtures(folder: Path, *, rng: int = 7) -> ImportFixtures:
    """Write a small replica study and the valid files the campaign mutates."""
    from classdyad.io.boris_export import boris_export_mapping, write_boris_tabular
    from classdyad.simulate import ReplicaDesign, simulate_study
    from classdyad.store import open_database, write_study
    from classdyad.store.exporting import coded_events

    study = simulate_study(ReplicaDesign(schools=2, classes=3, students=60,
                                         second_coder_lesson_share=0.0), rng=rng)
    tables = study.tables
    source = open_database(folder / "source.sqlite")
    write_study(source, tables)
    events = coded_events(source).head(40)
    source.dispose()
    target = folder / "target.sqlite"
    engine = open_database(target)
    empty = {name: empty_table(name) for name in ("events", "responses", "response_items",
                                                  "iat_sessions", "iat_trials")}
    write_study(engine, dataclasses.replace(tables, **empty))
    engine.dispose()
    open_database(folder / "empty.sqlite").dispose()

    columns = ["client_id", "lesson_id", "video_seconds", "teacher", "target_kind", "student",
               "valence", "subtype", "coder"]
    enrol = tables.enrolments.merge(tables.students, left_on="student_id", right_on="id")
    classes = tables.classrooms.set_index("id")
    schools = tables.schools.set_index("id")["code"]
    roster = pd.DataFrame({
        "school": schools.reindex(classes["school_id"].reindex(enrol["classroom_id"])).to_numpy(),
        "class": classes["code"].reindex(enrol["classroom_id"]).to_numpy(),
        "grade": enrol["grade"].to_numpy(), "student": enrol["code"].to_numpy(),
        "gender": enrol["gender"].to_numpy(), "birth country": enrol["birth_country"].to_numpy(),
        "wave": tables.waves.set_index("id")["number"].reindex(enrol["wave_id"]).to_numpy(),
    }).head(40)
    responses = tables.responses.merge(tables.response_items, left_on="id",
                                       right_on="response_id").head(60)
    responses = pd.DataFrame({
        "instrument": tables.instruments.set_index("id")["code"].reindex(
            responses["instrument_id"]).to_numpy(),
        "wave": tables.waves.set_index("id")["number"].reindex(responses["wave_id"]).to_numpy(),
        "teacher": tables.teachers.set_index("id")["code"].reindex(
            responses["teacher_id"]).to_numpy(),
        "student": tables.students.set_index("id")["code"].reindex(
            responses["student_id"]).to_numpy(),
        "item": responses["item"].to_numpy(), "value": responses["value"].to_numpy()})
    trials = tables.iat_trials.merge(tables.iat_sessions, left_on="session_id",
                                     right_on="id").head(60)
    iat = pd.DataFrame({
        "teacher": tables.teachers.set_index("id")["code"].reindex(
            trials["teacher_id"]).to_numpy(),
        "kind": trials["kind"].to_numpy(),
        "wave": tables.waves.set_index("id")["number"].reindex(trials["wave_id"]).to_numpy(),
        "block": trials["block"].to_numpy(), "trial": trials["trial"].to_numpy(),
        "latency_ms": trials["latency_ms"].to_numpy(), "error": trials["error"].astype(int)})
    boris_path = write_boris_tabular(events, folder / "boris.tsv")
    mapping_path = folder / "boris.yaml"
    import yaml

    mapping_path.write_text(yaml.safe_dump(boris_export_mapping(events).to_dict()),
                            encoding="utf-8")
    return ImportFixtures(folder, roster.to_csv(index=False),
                          events[columns].to_csv(index=False),
                          responses.to_csv(index=False), iat.to_csv(index=False),
                          Path(boris_path).read_text(encoding="utf-8"), mapping_path, target,
                          folder / "empty.sqlite")


def import_cases(fixtures: ImportFixtures) -> dict[str, Callable[[int, np.random.Generator,
                                                                   CampaignResult], None]]:
    """One runner per importer: mutate its file, import it, classify the outcome."""
    from classdyad.io import (
        BorisMapping,
        boris_interaction_events,
        read_boris,
        read_iat_trials,
        read_interaction_events,
        read_responses,
        read_roster,
    )
    from classdyad.store import open_database
    from classdyad.store.importing import import_interaction_events, import_roster
    from classdyad.store.importing_questionnaires import (
        import_iat_trials,
        import_questionnaire_responses,
    )

    mapping = BorisMapping.from_yaml(fixtures.boris_mapping)
    boris_header = next(i for i, line in enumerate(fixtures.boris_text.splitlines())
                        if "Behavior" in line)

    def runner(name: str, text: str, sep: str, suffix: str, database: Path,
               run: Callable[[sa.Engine, Path], object], header_index: int = 0):
        def case(i: int, rng: np.random.Generator, result: CampaignResult) -> None:
            path = fixtures.folder / f"case{suffix}"
            path.write_text(mutate_table_text(text, sep, rng, header_index=header_index),
                            encoding="utf-8")
            copy = fixtures.folder / "case.sqlite"  # every case starts from the same study
            shutil.copyfile(database, copy)
            engine = open_database(copy, create=False)
            try:
                _run_import(result, name, i, engine, lambda: run(engine, path))
            finally:
                engine.dispose()
        return case

    return {
        "roster": runner("roster", fixtures.roster_text, ",", ".csv", fixtures.empty,
                         lambda e, p: import_roster(e, read_roster(p), study="fuzz",
                                                    create_study=True, source=p.name)),
        "events": runner("events", fixtures.events_text, ",", ".csv", fixtures.target,
                         lambda e, p: import_interaction_events(
                             e, read_interaction_events(p), source=p.name)),
        "boris": runner("boris", fixtures.boris_text, "\t", ".tsv", fixtures.target,
                        lambda e, p: import_interaction_events(
                            e, boris_interaction_events(read_boris(p), mapping, source=p.name),
                            source=p.name), header_index=boris_header),
        "responses": runner("responses", fixtures.responses_text, ",", ".csv", fixtures.target,
                            lambda e, p: import_questionnaire_responses(
                                e, read_responses(p), source=p.name)),
        "iat trials": runner("iat trials", fixtures.iat_text, ",", ".csv", fixtures.target,
                             lambda e, p: import_iat_trials(e, read_iat_trials(p),
                                                            source=p.name)),
    }


# ---------------------------------------------------------------------------- model inputs

def _model_data(rng: np.random.Generator) -> pd.DataFrame:
    n_groups, size = 12, 8
    n = n_groups * size
    frame = pd.DataFrame({"g": np.repeat(np.arange(n_groups), size).astype(str),
                          "x": rng.normal(size=n), "m": rng.normal(size=n),
                          "minutes": rng.uniform(5, 60, n)})
    frame["y"] = 0.5 * frame["x"] + 0.4 * frame["m"] + rng.normal(size=n) + np.repeat(
        rng.normal(size=n_groups), size)
    frame["count"] = rng.poisson(np.exp(0.3 * frame["x"]) * frame["minutes"] / 20)
    return frame


def mutate_model_data(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Apply 0-2 degenerate changes to a model's data."""
    frame = frame.copy()
    n = len(frame)
    for _ in range(int(rng.integers(0, 3))):
        kind = int(rng.integers(0, 10))
        column = str(rng.choice(["y", "x", "m", "count", "minutes"]))
        row = int(rng.integers(0, n))
        if kind == 0:
            frame[column] = frame[column].astype(float)
            frame.loc[row, column] = float(rng.choice([np.inf, -np.inf, np.nan]))
        elif kind == 1:
            frame[column] = float(frame[column].iloc[0])
        elif kind == 2:
            frame["g"] = "one"
        elif kind == 3:
            frame["g"] = np.arange(n).astype(str)
        elif kind == 4:
            frame["x"] = frame["x"] + float(rng.choice([1e4, 1e6, 1e9]))
        elif kind == 5:
            frame.loc[row, "minutes"] = float(rng.choice([0.0, -5.0]))
        elif kind == 6:
            frame["count"] = frame["count"] * int(rng.choice([10**6, 10**12]))
        elif kind == 7:
            frame["count"] = 0
        elif kind == 8:
            frame = frame.iloc[: int(rng.integers(1, 6))].reset_index(drop=True)
            n = len(frame)
        else:
            frame["m"] = frame["x"]
    return frame


def model_cases() -> dict[str, Callable[[int, np.random.Generator, CampaignResult], None]]:
    from classdyad.analysis import mediation
    from classdyad.mixed import glmm, lmm

    def finite(fit: object) -> bool:
        table = fit.to_frame() if hasattr(fit, "to_frame") else None
        if table is None:
            return True
        numbers = table.select_dtypes("number").to_numpy(dtype=float)
        estimates = numbers[:, 0] if numbers.size else numbers
        return bool(np.isfinite(estimates).all())

    def runner(name: str, fit: Callable[[pd.DataFrame], object]):
        def case(i: int, rng: np.random.Generator, result: CampaignResult) -> None:
            data = mutate_model_data(_model_data(rng), rng)
            try:
                with _quiet():
                    # results computed on first use (Satterthwaite df) belong to the fit
                    ok = finite(fit(data))
            except ClassdyadError:
                result.add(name, i, "refused")
                return
            except Exception as error:
                result.add(name, i, "traceback",
                           f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}")
                return
            result.add(name, i, "accepted" if ok else "silent_failure", "non-finite estimates")
        return case

    return {
        "lmm": runner("lmm", lambda d: lmm("y ~ x + m + (1 | g)", d)),
        "glmm": runner("glmm", lambda d: glmm(
            "count ~ x + offset(np.log(minutes)) + (1 | g)", d, family="poisson")),
        "mediation": runner("mediation", lambda d: mediation(
            d, exposure="x", mediators=["m"], outcome="y", cluster="g", n_draws=200, rng=1)),
    }


def run_campaign(cases_per_entry: int, *, seed: int = 2026,
                 progress: Callable[[str, int], None] | None = None) -> CampaignResult:
    """Run ``cases_per_entry`` cases of every importer and model entry point."""
    result = CampaignResult()
    with tempfile.TemporaryDirectory() as folder:
        fixtures = make_import_fixtures(Path(folder))
        entries = {**import_cases(fixtures), **model_cases()}
        for index, (name, case) in enumerate(entries.items()):
            for i in range(cases_per_entry):
                case(i, np.random.default_rng([seed, index, i]), result)
                if progress is not None:
                    progress(name, i)
    return result


__all__ = ["OUTCOMES", "CampaignResult", "make_import_fixtures", "mutate_model_data",
           "mutate_table_text", "run_campaign", "table_counts"]
