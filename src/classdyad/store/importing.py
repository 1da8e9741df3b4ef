"""Importing rosters and coded events into a stored study: all or nothing, and idempotent.

Each import runs in one transaction. The incoming rows are matched against what the study
already holds (schools, teachers and students by code, classes by school and code, enrolments by
student and wave, events by client id); rows that are already stored are skipped, so importing
the same file twice changes nothing the second time. A row that contradicts the stored study (a
student stored with another country of birth, a student in another class in the same wave) is a
problem, not an update. Every problem of the whole file is collected first; if there is any, one
:class:`~classdyad.errors.ValidationError` lists them and nothing is written. With
``dry_run=True`` the same checks run and nothing is written either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from classdyad.errors import IntegrityError, NotFoundError, Problem, ValidationError
from classdyad.model import Base
from classdyad.model.audit import AuditEntry
from classdyad.store import validation as check
from classdyad.store.inserting import insert_rows, remap, write_frames
from classdyad.store.reading import resolve_study
from classdyad.store.session import write_scope

_STUDENT_FIELDS = ("gender", "birth_year", "birth_country", "mother_birth_country",
                   "father_birth_country", "mother_education", "father_education")


@dataclass(frozen=True)
class ImportSummary:
    """What an import added (or, with ``dry_run``, would add) and what it found already stored."""

    source: str
    added: dict[str, int] = field(default_factory=dict)
    already_stored: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    ignored_columns: tuple[str, ...] = ()
    """Columns of the file that named no field and were left out."""

    def to_frame(self) -> pd.DataFrame:
        """One row per table: ``table, added, already_stored``."""
        names = list(dict.fromkeys([*self.added, *self.already_stored]))
        return pd.DataFrame({"table": names,
                             "added": [self.added.get(n, 0) for n in names],
                             "already_stored": [self.already_stored.get(n, 0) for n in names]})

    def _repr_html_(self) -> str:
        title = "dry run (nothing written)" if self.dry_run else "imported"
        return f"<p><b>{self.source}</b>: {title}</p>" + self.to_frame().to_html(index=False)


def _table(name: str) -> sa.Table:
    return Base.metadata.tables[name]


def _frame(connection: Connection, query: sa.Select) -> pd.DataFrame:
    result = connection.execute(query)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


class ProvisionalIds:
    """Negative ids for the rows a plan adds, until the database gives them theirs.

    Stored rows have positive ids, so a provisional id never names a stored row;
    :func:`classdyad.store.inserting.write_frames` replaces them on insert.
    """

    def __init__(self) -> None:
        self._last = 0

    def take(self, n: int) -> list[int]:
        """``n`` new provisional ids."""
        ids = list(range(self._last - 1, self._last - 1 - n, -1))
        self._last -= n
        return ids


def _study_id(connection: Connection, study: int | str | None, *, create: bool,
              dry_run: bool) -> int | None:
    try:
        return int(resolve_study(connection, study)["id"])
    except NotFoundError:
        if not create or study is None or isinstance(study, int):
            raise
    if dry_run:
        return None
    return int(connection.execute(_table("study").insert().values(
        name=study, settings={})).inserted_primary_key[0])


def _audit(connection: Connection, *, actor: str, action: str, entity: str, count: int,
           detail: dict[str, Any]) -> None:
    connection.execute(sa.insert(AuditEntry).values(actor=actor, action=action, entity=entity,
                                                    count=count, detail=detail))


def _present(value: Any) -> bool:
    return value is not None and not bool(pd.isna(value))


def _same(a: Any, b: Any) -> bool:
    if not _present(a) or not _present(b):
        return _present(a) == _present(b)
    return str(a) == str(b) if not isinstance(a, int | float) else float(a) == float(b)


class _RosterPlan:
    """The rows a roster adds to a study, and its problems, before anything is written."""

    def __init__(self, connection: Connection, study_id: int | None, roster: pd.DataFrame,
                 source: str):
        self.source = source
        self.problems: list[Problem] = []
        self.new: dict[str, pd.DataFrame] = {}
        self.kept: dict[str, int] = {}
        self.provisional = ProvisionalIds()
        sid = -1 if study_id is None else study_id
        self.study_id = sid
        self._load(connection, sid)
        self._plan(connection, roster)

    def _load(self, connection: Connection, sid: int) -> None:
        school, classroom, teacher = _table("school"), _table("classroom"), _table("teacher")
        student, enrolment, wave = _table("student"), _table("enrolment"), _table("wave")
        self.waves = _frame(connection, sa.select(wave.c.id, wave.c.number)
                            .where(wave.c.study_id == sid))
        self.schools = _frame(connection, sa.select(school.c.id, school.c.code)
                              .where(school.c.study_id == sid))
        self.classrooms = _frame(connection, sa.select(
            classroom.c.id, classroom.c.school_id, classroom.c.code)
            .join(school, classroom.c.school_id == school.c.id).where(school.c.study_id == sid))
        self.teachers = _frame(connection, sa.select(teacher.c.id, teacher.c.code)
                               .where(teacher.c.study_id == sid))
        self.students = _frame(connection, sa.select(student).where(student.c.study_id == sid))
        self.enrolments = _frame(connection, sa.select(
            enrolment.c.student_id, enrolment.c.wave_id, enrolment.c.classroom_id,
            enrolment.c.grade).join(student, enrolment.c.student_id == student.c.id)
            .where(student.c.study_id == sid))
        ct = _table("classroom_teacher")
        self.classroom_teachers = _frame(connection, sa.select(ct.c.classroom_id,
                                                               ct.c.teacher_id)
                                         .join(teacher, ct.c.teacher_id == teacher.c.id)
                                         .where(teacher.c.study_id == sid))
        roster = _table("student_roster")
        self.named = set(_frame(connection, sa.select(roster.c.student_id)
                                .join(student, roster.c.student_id == student.c.id)
                                .where(student.c.study_id == sid))["student_id"].tolist())

    def _codes(self, name: str, table: str, stored: dict[Any, int], wanted: list[Any],
               connection: Connection) -> dict[Any, int]:
        """Ids for ``wanted`` keys: stored ones, and new ids for the rest (recorded in new)."""
        fresh = [key for key in dict.fromkeys(wanted) if key not in stored]
        self.kept[name] = len(set(wanted)) - len(fresh)
        ids = dict(stored)
        ids.update(zip(fresh, self.provisional.take(len(fresh)), strict=True))
        self.new[name] = pd.DataFrame({"id": [ids[k] for k in fresh]})
        return ids

    def _plan(self, connection: Connection, roster: pd.DataFrame) -> None:
        source = self.source
        # waves
        numbers = sorted(int(n) for n in roster["wave"].unique())
        wave_ids = self._codes("waves", "wave", dict(zip(self.waves["number"], self.waves["id"],
                                                          strict=True)), numbers, connection)
        fresh_waves = [n for n in numbers if n not in set(self.waves["number"])]
        self.new["waves"] = self.new["waves"].assign(number=fresh_waves, study_id=self.study_id)
        # schools
        first = roster.drop_duplicates("school")
        school_ids = self._codes("schools", "school", dict(zip(
            self.schools["code"], self.schools["id"], strict=True)), first["school"].tolist(),
            connection)
        stored_schools = set(self.schools["code"])
        fresh = first[~first["school"].isin(stored_schools)]
        self.new["schools"] = self.new["schools"].assign(
            code=fresh["school"].tolist(), study_id=self.study_id,
            country=[str(c).upper()[:2] if _present(c) else None
                     for c in fresh["school_country"]])
        # classrooms: grades from the roster
        roster = roster.assign(school_id=roster["school"].map(school_ids))
        keys = list(zip(roster["school_id"], roster["classroom"], strict=True))
        stored = {(s, c): i for i, s, c in self.classrooms[["id", "school_id", "code"]]
                  .itertuples(index=False)}
        classroom_ids = self._codes("classrooms", "classroom", stored, keys, connection)
        grades = roster.groupby(["school_id", "classroom"])["grade"].agg(["min", "max"])
        fresh_keys = [k for k in dict.fromkeys(keys) if k not in stored]
        self.new["classrooms"] = self.new["classrooms"].assign(
            school_id=[k[0] for k in fresh_keys], code=[k[1] for k in fresh_keys],
            lowest_grade=[int(grades.loc[k, "min"]) for k in fresh_keys],
            highest_grade=[int(grades.loc[k, "max"]) for k in fresh_keys])
        roster = roster.assign(classroom_id=[classroom_ids[k] for k in keys])
        self._plan_teachers(connection, roster)
        self._plan_students(connection, roster, wave_ids, source)

    def _plan_teachers(self, connection: Connection, roster: pd.DataFrame) -> None:
        codes = pd.concat([roster["teacher"], roster["duo_teacher"]]).dropna().tolist()
        stored = dict(zip(self.teachers["code"], self.teachers["id"], strict=True))
        teacher_ids = self._codes("teachers", "teacher", stored, codes, connection)
        fresh = [c for c in dict.fromkeys(codes) if c not in stored]
        self.new["teachers"] = self.new["teachers"].assign(code=fresh, study_id=self.study_id)
        pairs: dict[tuple[int, int], bool] = {}
        for column, primary in (("teacher", True), ("duo_teacher", False)):
            part = roster[roster[column].notna()]
            for classroom_id, code in zip(part["classroom_id"], part[column], strict=True):
                pairs.setdefault((int(classroom_id), teacher_ids[code]), primary)
        have = set(zip(self.classroom_teachers["classroom_id"],
                       self.classroom_teachers["teacher_id"], strict=True))
        fresh_pairs = [p for p in pairs if p not in have]
        self.kept["classroom_teachers"] = len(pairs) - len(fresh_pairs)
        self.new["classroom_teachers"] = pd.DataFrame({
            "classroom_id": [p[0] for p in fresh_pairs],
            "teacher_id": [p[1] for p in fresh_pairs],
            "primary": [pairs[p] for p in fresh_pairs]})

    def _plan_students(self, connection: Connection, roster: pd.DataFrame,
                       wave_ids: dict[Any, int], source: str) -> None:
        people = roster.drop_duplicates("student")[["student", *_STUDENT_FIELDS]]
        normalized, problems = check.normalize_students(
            people.rename(columns={"student": "code"}).assign(id=0), source=source)
        # rows of a student in several waves must agree on the background
        for column in _STUDENT_FIELDS:
            disagree = roster.groupby("student")[column].nunique(dropna=True) > 1
            for code in disagree[disagree].index[:check.MAX_PROBLEMS]:
                row = int(np.flatnonzero((roster["student"] == code).to_numpy())[-1]) + 1
                problems.append(Problem(f"differs between this student's rows; give one {column} "
                                        "per student", source=source, row=row, column=column,
                                        value=code))
        # problems of normalize_students are numbered by first occurrence; map to roster rows
        first_row = {code: int(i) + 1 for i, code in
                     zip(people.index, people["student"], strict=True)}
        self.problems += [Problem(p.message, source=p.source,
                                  row=first_row.get(people["student"].iat[p.row - 1], p.row)
                                  if p.row is not None and p.row <= len(people) else p.row,
                                  column=p.column, value=p.value) for p in problems]
        stored = self.students.set_index("code") if not self.students.empty else None
        ids: dict[Any, int] = {} if stored is None else dict(stored["id"])
        fresh = normalized[~normalized["code"].isin(ids)]
        if stored is not None:
            known = normalized[normalized["code"].isin(ids)]
            for person in known.itertuples(index=False):
                for column in _STUDENT_FIELDS:
                    given, kept = getattr(person, column), stored.at[person.code, column]
                    if _present(given) and not _same(given, kept):
                        self.problems.append(Problem(
                            f"the stored student has {column} {kept!r}; correct the file or "
                            "change the stored student first", source=source,
                            row=first_row[person.code], column=column, value=given))
                        break
        ids.update(zip(fresh["code"], self.provisional.take(len(fresh)), strict=True))
        self.kept["students"] = len(normalized) - len(fresh)
        self.new["students"] = fresh.assign(id=[ids[c] for c in fresh["code"]],
                                            study_id=self.study_id)
        self._plan_enrolments(roster, ids, wave_ids, source)
        names = roster.drop_duplicates("student")
        names = names[names["first_name"].notna() | names["last_name"].notna()]
        student_ids = names["student"].map(ids)
        self.kept["student_roster"] = int(student_ids.isin(self.named).sum())
        names = names[~student_ids.isin(self.named)]
        self.new["student_roster"] = pd.DataFrame({
            "student_id": names["student"].map(ids).astype("int64").tolist(),
            "first_name": names["first_name"].tolist(), "last_name": names["last_name"].tolist()})

    def _plan_enrolments(self, roster: pd.DataFrame, ids: dict[Any, int],
                         wave_ids: dict[Any, int], source: str) -> None:
        stored = {(s, w): (c, g) for s, w, c, g in self.enrolments[
            ["student_id", "wave_id", "classroom_id", "grade"]].itertuples(index=False)}
        rows, kept = [], 0
        for i, entry in enumerate(roster.itertuples(index=False)):
            key = (ids[entry.student], wave_ids[int(entry.wave)])
            if key in stored:
                if stored[key] != (entry.classroom_id, int(entry.grade)):
                    self.problems.append(Problem(
                        f"the student is stored in another class or grade in wave "
                        f"{int(entry.wave)}; correct the file or move the student first",
                        source=source, row=i + 1, column="classroom", value=entry.classroom))
                kept += 1
                continue
            rows.append({"student_id": key[0], "wave_id": key[1],
                         "classroom_id": int(entry.classroom_id), "grade": int(entry.grade)})
        self.kept["enrolments"] = kept
        frame = pd.DataFrame(rows, columns=["student_id", "wave_id", "classroom_id", "grade"])
        self.new["enrolments"] = frame


_ROSTER_ORDER = (("waves", "wave"), ("schools", "school"), ("classrooms", "classroom"),
                 ("teachers", "teacher"), ("classroom_teachers", "classroom_teacher"),
                 ("students", "student"), ("student_roster", "student_roster"),
                 ("enrolments", "enrolment"))


def import_roster(target: Engine | Session | Connection, roster: pd.DataFrame, *,
                  study: int | str | None = None, source: str = "roster",
                  actor: str = "classdyad import",
                  create_study: bool = True, dry_run: bool = False) -> ImportSummary:
    """Import a roster (from :func:`classdyad.io.read_roster`) into a stored study.

    Parameters
    ----------
    target
        An engine from :func:`classdyad.store.open_database` (a transaction of its own), or the
        session of a :func:`classdyad.store.unit_of_work` (the caller's transaction).
    roster
        One row per student and wave with the columns of :data:`classdyad.io.ROSTER_COLUMNS`.
    study
        The study's id or name; with ``create_study`` a new name creates the study.
    source
        The file name, used in problems and the audit log.
    actor
        Who imports (audit log).
    dry_run
        Check everything against the stored study, write nothing.

    Returns
    -------
    ImportSummary
        Rows added per table, and rows found already stored.

    Raises
    ------
    ValidationError
        Listing every problem; nothing is written.
    """
    with write_scope(target) as connection:
        study_id = _study_id(connection, study, create=create_study, dry_run=dry_run)
        plan = _RosterPlan(connection, study_id, roster, source)
        if plan.problems:
            raise ValidationError(plan.problems, what=source)
        added = {name: len(plan.new[name]) for name, _ in _ROSTER_ORDER}
        summary = ImportSummary(source, added=added, already_stored=dict(plan.kept),
                                dry_run=dry_run)
        if dry_run:
            return summary
        new_ids = write_frames(connection, {name: plan.new[name] for name, _ in _ROSTER_ORDER
                                            if name != "student_roster"}, study_id=study_id)
        names = plan.new["student_roster"]
        if "students" in new_ids:
            names = names.assign(student_id=remap(names["student_id"], new_ids["students"]))
        try:
            insert_rows(connection, _table("student_roster"), names)
        except sa.exc.IntegrityError as exc:
            raise IntegrityError(f"the database refused a row of student_roster: {exc.orig}; "
                                 "nothing was written") from exc
        _audit(connection, actor=actor, action="import", entity="roster",
               count=int(sum(added.values())), detail={"source": source, "added": added})
    return summary


#: columns of an events frame with codes, as :func:`import_interaction_events` takes it
EVENT_IMPORT_COLUMNS = ("client_id", "lesson_id", "video_seconds", "teacher", "target_kind",
                        "student", "valence", "subtype", "coder")


def _code_ids(connection: Connection, table: str, sid: int) -> dict[str, int]:
    t = _table(table)
    rows = connection.execute(sa.select(t.c.code, t.c.id).where(t.c.study_id == sid)).all()
    return {str(code): int(i) for code, i in rows}


def _map_codes(events: pd.DataFrame, column: str, ids: dict[str, int], *, what: str,
               source: str, nullable: bool) -> tuple[pd.Series, list[Problem]]:
    codes = events[column]
    mapped = codes.map(ids)
    bad = codes.notna() & mapped.isna()
    if not nullable:
        bad |= codes.isna()
    problems = check.problems_at(events, bad, column,
                                 f"not a known {what} code of this study; import the roster "
                                 "first or correct the code", source)
    return mapped.astype("Int64"), problems


def _stored_client_ids(connection: Connection, lesson_ids: list[int]) -> set[str]:
    """Client ids already stored for these lessons (one query per 5,000 lessons)."""
    table = _table("interaction_event")
    taken: set[str] = set()
    for start in range(0, len(lesson_ids), 5000):
        chunk = lesson_ids[start:start + 5000]
        taken.update(connection.execute(
            sa.select(table.c.client_id).where(table.c.lesson_id.in_(chunk))).scalars())
    return taken


def lesson_references(connection: Connection, study_id: int, values: pd.Series) -> pd.Series:
    """Lesson ids for a column that holds lesson ids or the study's lesson codes.

    A value that is one of the study's lesson codes becomes that lesson's id; other values are
    kept (ids, and unknown codes that the checks then report).
    """
    lesson, wave = _table("lesson"), _table("wave")
    codes = dict(connection.execute(
        sa.select(lesson.c.code, lesson.c.id).join(wave, lesson.c.wave_id == wave.c.id)
        .where(wave.c.study_id == study_id, lesson.c.code.is_not(None))).all())
    if not codes:
        return values
    text = values.map(lambda v: v.strip() if isinstance(v, str) else v)
    mapped = text.map(lambda v: codes.get(v) if isinstance(v, str) else None)
    return values.astype(object).where(mapped.isna(), mapped)


def import_interaction_events(target: Engine | Session | Connection, events: pd.DataFrame, *,
                              study: int | str | None = None, source: str = "events",
                              actor: str = "classdyad import", codebook_id: int | None = None,
                              dry_run: bool = False) -> ImportSummary:
    """Import coded events whose teacher, student and coder are given by code.

    ``events`` has the columns of :data:`EVENT_IMPORT_COLUMNS`. Events whose client id is
    already stored are skipped (importing a file twice adds nothing the second time); the rest
    are checked like :func:`classdyad.store.add_interaction_events` (known lesson, a teacher of
    the lesson, a student enrolled in the lesson's class and wave, known valence and target) and
    written in one transaction.

    Raises
    ------
    ValidationError
        Listing every bad row; nothing is written.
    """
    lesson, enrolment = _table("lesson"), _table("enrolment")
    lesson_teacher, wave = _table("lesson_teacher"), _table("wave")
    problems: list[Problem] = []
    with write_scope(target) as connection:
        if connection.dialect.name == "sqlite":  # room for the event indexes of a large batch
            connection.exec_driver_sql("PRAGMA cache_size = -262144")
        sid = int(resolve_study(connection, study)["id"])
        events = events.assign(lesson_id=lesson_references(connection, sid, events["lesson_id"]))
        lesson_numbers = pd.to_numeric(events["lesson_id"], errors="coerce")
        lesson_ids = [int(v) for v in pd.unique(lesson_numbers.dropna())
                      if float(v).is_integer() and abs(v) < 2**62]
        taken = _stored_client_ids(connection, lesson_ids)
        is_new = ~events["client_id"].isin(taken).to_numpy()
        teacher_ids, found = _map_codes(events, "teacher", _code_ids(connection, "teacher", sid),
                                        what="teacher", source=source, nullable=True)
        problems += found
        student_ids, found = _map_codes(events, "student", _code_ids(connection, "student", sid),
                                        what="student", source=source, nullable=True)
        problems += found
        coder_ids, found = _map_codes(events, "coder", _code_ids(connection, "coder", sid),
                                      what="coder", source=source, nullable=True)
        problems += found
        frame = pd.DataFrame({
            "client_id": events["client_id"].astype(object).to_numpy(),
            "lesson_id": pd.to_numeric(events["lesson_id"], errors="coerce").to_numpy(),
            "video_seconds": pd.to_numeric(events["video_seconds"], errors="coerce").to_numpy(),
            "teacher_id": teacher_ids.to_numpy(), "target_kind": events["target_kind"].to_numpy(),
            "student_id": student_ids.to_numpy(), "valence": events["valence"].to_numpy(),
            "subtype": events["subtype"].to_numpy(), "coder_id": coder_ids.to_numpy(),
            "codebook_id": codebook_id})
        lessons = _frame(connection, sa.select(lesson.c.id, lesson.c.classroom_id,
                                               lesson.c.wave_id)
                         .join(wave, lesson.c.wave_id == wave.c.id)
                         .where(wave.c.study_id == sid))
        enrolments = _frame(connection, sa.select(enrolment).where(
            enrolment.c.classroom_id.in_(lessons.loc[lessons["id"].isin(lesson_ids),
                                                     "classroom_id"].unique().tolist())))
        lesson_teachers = _frame(connection, sa.select(lesson_teacher).where(
            lesson_teacher.c.lesson_id.in_(lesson_ids)))
        # an event without a teacher belongs to the lesson's only teacher
        only = lesson_teachers.groupby("lesson_id")["teacher_id"].agg(["first", "size"])
        only = only.loc[only["size"] == 1, "first"]
        unnamed = events["teacher"].isna().to_numpy()
        if unnamed.any():
            frame.loc[unnamed, "teacher_id"] = frame.loc[unnamed, "lesson_id"].map(
                {float(k): int(v) for k, v in only.items()})
            problems += check.problems_at(
                events, unnamed & frame["teacher_id"].isna().to_numpy(), "teacher",
                "no teacher is given and the lesson has several (or no) teachers; name the "
                "teacher", source)
        problems += check.check_events(frame, lessons=lessons, enrolments=enrolments,
                                       lesson_teachers=lesson_teachers, source=source)
        if problems:
            raise ValidationError(problems, what=source)
        new = frame[is_new].astype({"lesson_id": "int64", "teacher_id": "int64"})
        summary = ImportSummary(source, added={"events": len(new)},
                                already_stored={"events": int((~is_new).sum())},
                                dry_run=dry_run)
        if dry_run:
            return summary
        table = _table("interaction_event")
        try:
            insert_rows(connection, table, new.drop(columns=["codebook_id"])
                        if codebook_id is None else new)
        except sa.exc.IntegrityError as exc:
            raise IntegrityError(f"the database refused an event: {exc.orig}; nothing was "
                                 "written. A client id stored for another lesson is refused: "
                                 "give the event a new id or correct its lesson") from exc
        _audit(connection, actor=actor, action="import", entity="interaction_event",
               count=len(new), detail={"source": source, "skipped": int((~is_new).sum())})
    return summary


__all__ = ["EVENT_IMPORT_COLUMNS", "ImportSummary", "import_interaction_events",
           "import_roster"]
