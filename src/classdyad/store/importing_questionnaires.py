"""Importing questionnaire responses and IAT trials into a stored study, all or nothing.

Like :mod:`classdyad.store.importing`: teachers, students, instruments and waves are matched by
code and number; a response (instrument, wave, teacher, student) or IAT session (teacher, kind,
wave) that is already stored with the same answers or trials is skipped, so a second import of
the same file adds nothing; one stored with other answers is a problem. Every problem is listed
before anything is written, and the rows are written in one transaction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from classdyad.errors import Problem, ValidationError
from classdyad.store.importing import (
    ImportSummary,
    ProvisionalIds,
    _audit,
    _code_ids,
    _frame,
    _table,
)
from classdyad.store.inserting import write_frames
from classdyad.store.reading import resolve_study
from classdyad.store.session import write_scope


def _lookup(frame: pd.DataFrame, column: str, ids: dict[Any, int], *, what: str,
            source: str, rows: np.ndarray | None = None) -> tuple[pd.Series, list[Problem]]:
    mapped = frame[column].map(lambda v: ids.get(v if not isinstance(v, str) else v.strip()))
    bad = frame[column].notna() & mapped.isna()
    problems = [Problem(f"not a known {what} of this study; add it first or correct it",
                        source=source, row=int(i) + 1 if rows is None else int(rows[i]) + 1,
                        column=column, value=frame[column].iat[i])
                for i in np.flatnonzero(bad)[:1000]]
    return mapped, problems


def import_questionnaire_responses(target: Engine | Session | Connection,
                                   responses: pd.DataFrame, *,
                                   study: int | str | None = None, source: str = "responses",
                                   actor: str = "classdyad import",
                                   dry_run: bool = False) -> ImportSummary:
    """Import responses (from :func:`classdyad.io.read_responses`: one row per item).

    Instruments are matched by code (and version, when given; a code with one stored version
    needs none). Raises :class:`~classdyad.errors.ValidationError` listing every problem.
    """
    instrument, wave = _table("instrument"), _table("wave")
    response, item = _table("questionnaire_response"), _table("response_item")
    problems: list[Problem] = []
    with write_scope(target) as connection:
        sid = int(resolve_study(connection, study)["id"])
        instruments = _frame(connection, sa.select(instrument.c.id, instrument.c.code,
                                                   instrument.c.version)
                             .where(instrument.c.study_id == sid))
        versions = instruments.groupby("code")["version"].nunique()
        keys: dict[Any, int] = {(c, str(v)): int(i) for i, c, v in
                                instruments.itertuples(index=False)}
        keys |= {(c, None): int(i) for i, c, _ in instruments.itertuples(index=False)
                 if versions[c] == 1}
        pairs = pd.Series(list(zip(responses["instrument"],
                                   responses["version"].map(lambda v: None if pd.isna(v)
                                                            else str(v)), strict=True)),
                          index=responses.index)
        frame = responses.assign(_key=pairs)
        instrument_ids, found = _lookup(frame, "_key", keys, what="instrument (code and "
                                        "version)", source=source)
        problems += [Problem(p.message, source=p.source, row=p.row, column="instrument",
                             value=p.value) for p in found]
        waves = dict(connection.execute(sa.select(wave.c.number, wave.c.id)
                                        .where(wave.c.study_id == sid)).all())
        wave_ids, found = _lookup(frame, "wave", {int(k): v for k, v in waves.items()},
                                  what="wave number", source=source)
        problems += found
        teacher_ids, found = _lookup(frame, "teacher", _code_ids(connection, "teacher", sid),
                                     what="teacher code", source=source)
        problems += found
        student_ids, found = _lookup(frame, "student", _code_ids(connection, "student", sid),
                                     what="student code", source=source)
        problems += found
        if problems:
            raise ValidationError(problems, what=source)
        keyed = pd.DataFrame({"instrument_id": instrument_ids.astype("int64"),
                              "wave_id": wave_ids.astype("int64"),
                              "teacher_id": teacher_ids.astype("int64"),
                              "student_id": student_ids.astype("int64"),
                              "item": responses["item"].astype(str).to_numpy(),
                              "value": responses["value"].to_numpy(dtype=float)})
        stored = _frame(connection, sa.select(response.c.id, response.c.instrument_id,
                                              response.c.wave_id, response.c.teacher_id,
                                              response.c.student_id)
                        .where(response.c.instrument_id.in_(instruments["id"].tolist())))
        stored_items = _frame(connection, sa.select(item).where(
            item.c.response_id.in_(stored["id"].tolist())))
        dyad = ["instrument_id", "wave_id", "teacher_id", "student_id"]
        keyed = keyed.merge(stored.rename(columns={"id": "stored_id"}), on=dyad, how="left")
        old = keyed[keyed["stored_id"].notna()]
        if not old.empty:
            compare = old.merge(stored_items, left_on=["stored_id", "item"],
                                right_on=["response_id", "item"], how="left",
                                suffixes=("", "_stored"))
            same = (compare["value"] == compare["value_stored"]) | (
                compare["value"].isna() & compare["value_stored"].isna()
                & compare["response_id"].notna())
            for position in np.flatnonzero(~same.to_numpy())[:1000]:
                problems.append(Problem(
                    "this dyad's response is stored with another answer to the item; correct "
                    "the file or remove the stored response first", source=source,
                    column="value", value=compare["item"].iat[position]))
        if problems:
            raise ValidationError(problems, what=source)
        new = keyed[keyed["stored_id"].isna()]
        dyads = new[dyad].drop_duplicates().reset_index(drop=True)
        dyads["id"] = ProvisionalIds().take(len(dyads))
        items = new.merge(dyads, on=dyad)[["id", "item", "value"]].rename(
            columns={"id": "response_id"})
        summary = ImportSummary(source, added={"responses": len(dyads),
                                               "response_items": len(items)},
                                already_stored={"responses": int(old["stored_id"].nunique()),
                                                "response_items": len(old)}, dry_run=dry_run)
        if dry_run:
            return summary
        write_frames(connection, {"responses": dyads, "response_items": items})
        _audit(connection, actor=actor, action="import", entity="questionnaire_response",
               count=len(dyads), detail={"source": source, "items": len(items)})
    return summary


def import_iat_trials(target: Engine | Session | Connection, trials: pd.DataFrame, *,
                      study: int | str | None = None,
                      source: str = "iat", actor: str = "classdyad import",
                      dry_run: bool = False) -> ImportSummary:
    """Import IAT trials (from :func:`classdyad.io.read_iat_trials`), one session per teacher,
    kind and wave. A session already stored with the same trials is skipped."""
    session, trial, wave = _table("iat_session"), _table("iat_trial"), _table("wave")
    problems: list[Problem] = []
    with write_scope(target) as connection:
        sid = int(resolve_study(connection, study)["id"])
        teacher_ids, found = _lookup(trials, "teacher", _code_ids(connection, "teacher", sid),
                                     what="teacher code", source=source)
        problems += found
        waves = dict(connection.execute(sa.select(wave.c.number, wave.c.id)
                                        .where(wave.c.study_id == sid)).all())
        wave_ids, found = _lookup(trials, "wave", {int(k): v for k, v in waves.items()},
                                  what="wave number", source=source)
        problems += found
        if problems:
            raise ValidationError(problems, what=source)
        keyed = trials.assign(teacher_id=teacher_ids.astype("int64"),
                              wave_id=wave_ids.astype("Int64"))
        stored = _frame(connection, sa.select(session.c.id, session.c.teacher_id,
                                              session.c.kind, session.c.wave_id)
                        .where(session.c.teacher_id.in_(keyed["teacher_id"].unique().tolist())))
        stored["wave_id"] = stored["wave_id"].astype("Int64")
        counts = _frame(connection, sa.select(trial.c.session_id, sa.func.count().label("n"))
                        .where(trial.c.session_id.in_(stored["id"].tolist()))
                        .group_by(trial.c.session_id))
        key = ["teacher_id", "kind", "wave_id"]
        sessions = keyed.groupby(key, dropna=False).agg(
            trials=("trial", "size"), compatible_first=("compatible_first", "first"))
        sessions = sessions.reset_index().merge(stored.rename(columns={"id": "stored_id"}),
                                                on=key, how="left")
        sessions = sessions.merge(counts.rename(columns={"session_id": "stored_id"}),
                                  on="stored_id", how="left")
        conflict = sessions["stored_id"].notna() & (sessions["n"].fillna(0) != sessions["trials"])
        for row in sessions[conflict].itertuples(index=False):
            problems.append(Problem("this teacher's IAT session is stored with other trials; "
                                    "remove the stored session first or correct the file",
                                    source=source, column="kind", value=row.kind))
        if problems:
            raise ValidationError(problems, what=source)
        new = sessions[sessions["stored_id"].isna()].reset_index(drop=True)
        new["id"] = ProvisionalIds().take(len(new))
        rows = keyed.merge(new[[*key, "id"]], on=key)
        summary = ImportSummary(source, added={"iat_sessions": len(new), "iat_trials": len(rows)},
                                already_stored={"iat_sessions": int(sessions["stored_id"]
                                                                    .notna().sum()),
                                                "iat_trials": len(keyed) - len(rows)},
                                dry_run=dry_run)
        if dry_run:
            return summary
        write_frames(connection, {
            "iat_sessions": new[["id", *key, "compatible_first"]],
            "iat_trials": rows.rename(columns={"id": "session_id"})[
                ["session_id", "block", "trial", "stimulus", "latency_ms", "error"]]})
        _audit(connection, actor=actor, action="import", entity="iat_trial", count=len(rows),
               detail={"source": source, "sessions": len(new)})
    return summary


__all__ = ["import_iat_trials", "import_questionnaire_responses"]
