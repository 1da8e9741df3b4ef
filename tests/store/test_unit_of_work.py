"""The unit of work and the entity functions: one transaction for everything, ids from the
database, versioned codebooks, and event changes that keep the original."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from classdyad.errors import DataError, IntegrityError, ValidationError
from classdyad.model import AuditEntry, InteractionEvent, Lesson
from classdyad.store import (
    add_event,
    add_instrument,
    codebook_versions,
    create_classroom,
    create_codebook,
    create_coder,
    create_lesson,
    create_school,
    create_student,
    create_study,
    create_teacher,
    create_wave,
    enrol_student,
    event_history,
    lesson_events,
    open_database,
    read_study,
    set_lesson_status,
    study_counts,
    teacher_classes,
    unit_of_work,
    update_event,
    void_event,
)

CATEGORIES = [{"subtype": "praise", "valence": "positive", "hotkey": "p"},
              {"subtype": "correction", "valence": "negative", "hotkey": "c"},
              {"subtype": "instruction", "valence": "neutral", "hotkey": "i"}]


def _small_study(engine) -> dict[str, int]:
    with unit_of_work(engine) as session:
        study = create_study(session, name="hand-made")
        wave = create_wave(session, study_id=study.id, number=1)
        school = create_school(session, study_id=study.id, code="S1", country="NL")
        teacher = create_teacher(session, study_id=study.id, code="T1")
        other = create_teacher(session, study_id=study.id, code="T2")
        classroom = create_classroom(session, school_id=school.id, code="6A", lowest_grade=6,
                                     teachers=[teacher.id])
        create_classroom(session, school_id=school.id, code="7A", lowest_grade=7,
                         teachers=[other.id])
        students = [create_student(session, study_id=study.id, code=f"P{i}",
                                   birth_country="Nederland") for i in range(3)]
        for student in students:
            enrol_student(session, student_id=student.id, classroom_id=classroom.id,
                          wave_id=wave.id, grade=6)
        coder = create_coder(session, study_id=study.id, code="C1")
        book, _ = create_codebook(session, study_id=study.id, name="valence",
                                  categories=CATEGORIES)
        lesson = create_lesson(session, classroom_id=classroom.id, wave_id=wave.id,
                               observed_minutes=45, teacher_ids=[teacher.id], code="6A-1",
                               video_files=["6A-1a.mp4", "6A-1b.mp4"],
                               absent=[students[2].id])
        return {"study": study.id, "teacher": teacher.id, "other": other.id,
                "lesson": lesson.id, "student": students[0].id, "absent": students[2].id,
                "coder": coder.id, "codebook": book.id}


@pytest.fixture()
def engine(database_path: Path):
    engine = open_database(database_path)
    yield engine
    engine.dispose()


def test_a_study_built_entity_by_entity_reads_back(engine) -> None:
    ids = _small_study(engine)
    tables = read_study(engine)
    assert tables.counts()["students"] == 3 and tables.counts()["lesson_teachers"] == 1
    attendance = tables.attendance.set_index("student_id")
    assert not attendance.at[ids["absent"], "present"]
    assert attendance["present"].sum() == 2
    assert tables.students["birth_country"].eq("NL").all()
    with engine.connect() as connection:
        files = connection.execute(sa.select(Lesson.video_files)).scalar_one()
    assert files == "6A-1a.mp4;6A-1b.mp4"


def test_an_event_its_audit_and_the_lesson_status_commit_together(engine) -> None:
    ids = _small_study(engine)
    with pytest.raises(RuntimeError, match="request failed"), unit_of_work(engine) as session:
        add_event(session, lesson_id=ids["lesson"], teacher_id=ids["teacher"],
                  valence="positive", video_seconds=12.5, student_id=ids["student"],
                  actor="coder C1")
        set_lesson_status(session, ids["lesson"], "coding")
        raise RuntimeError("request failed")
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(
            InteractionEvent)).scalar_one() == 0
        assert connection.execute(sa.select(Lesson.coding_status)).scalar_one() == "not_coded"
        audited = connection.execute(sa.select(AuditEntry.action)).scalars().all()
    assert "add_event" not in audited
    with unit_of_work(engine) as session:
        add_event(session, lesson_id=ids["lesson"], teacher_id=ids["teacher"],
                  valence="positive", video_seconds=12.5, student_id=ids["student"],
                  actor="coder C1", client_id="e-1")
        set_lesson_status(session, ids["lesson"], "coding")
    with engine.connect() as connection:
        assert connection.execute(sa.select(Lesson.coding_status)).scalar_one() == "coding"
        assert "add_event" in connection.execute(sa.select(AuditEntry.action)).scalars().all()


def test_events_are_checked_like_imports(engine) -> None:
    ids = _small_study(engine)
    with pytest.raises(ValidationError, match="does not teach"), unit_of_work(engine) as s:
        add_event(s, lesson_id=ids["lesson"], teacher_id=ids["other"], valence="positive",
                  video_seconds=1.0, student_id=ids["student"], actor="c")
    with pytest.raises(ValidationError, match="not an allowed value"), unit_of_work(engine) as s:
        add_event(s, lesson_id=ids["lesson"], teacher_id=ids["teacher"], valence="sarcastic",
                  video_seconds=1.0, target_kind="class", actor="c")


def test_update_and_void_keep_the_original_and_are_audited(engine) -> None:
    ids = _small_study(engine)
    with unit_of_work(engine) as session:
        event = add_event(session, lesson_id=ids["lesson"], teacher_id=ids["teacher"],
                          valence="positive", video_seconds=3.0, student_id=ids["student"],
                          subtype="praise", codebook_id=ids["codebook"], coder_id=ids["coder"],
                          actor="C1", client_id="e-1")
        again = add_event(session, lesson_id=ids["lesson"], teacher_id=ids["teacher"],
                          valence="positive", video_seconds=3.0, student_id=ids["student"],
                          actor="C1", client_id="e-1")
        assert again.id == event.id
        kept = add_event(session, lesson_id=ids["lesson"], teacher_id=ids["teacher"],
                         valence="neutral", video_seconds=9.0, target_kind="class", actor="C1")
    with unit_of_work(engine) as session:
        update_event(session, event.id, actor="C1", valence="negative", subtype="correction")
    with pytest.raises(ValidationError, match="not enrolled"), unit_of_work(engine) as session:
        update_event(session, event.id, actor="C1", student_id=ids["student"] + 100)
    with unit_of_work(engine) as session:
        void_event(session, event.id, actor="C1", reason="double-coded")
        history = event_history(session, event.id)
        events = lesson_events(session, ids["lesson"])
        everything = lesson_events(session, ids["lesson"], include_voided=True)
    assert history["action"].tolist() == ["update", "void", "voided"]
    assert history["valence"].tolist() == ["positive", "negative", "negative"]
    assert history["revision"].tolist() == [1, 2, 3]
    assert events["id"].tolist() == [kept.id]
    assert everything["voided"].tolist() == [True, False]
    assert read_study(engine).events["id"].tolist() == [kept.id]
    assert study_counts(engine)["interaction_events"] == 1
    with engine.connect() as connection:
        actions = connection.execute(sa.select(AuditEntry.action)).scalars().all()
    assert actions.count("add_event") == 2
    assert {"update_event", "void_event"} <= set(actions)
    with pytest.raises(DataError, match="voided"), unit_of_work(engine) as session:
        update_event(session, event.id, actor="C1", valence="neutral")


def test_a_changed_codebook_is_a_new_version_and_old_events_keep_theirs(engine) -> None:
    ids = _small_study(engine)
    with unit_of_work(engine) as session:
        event = add_event(session, lesson_id=ids["lesson"], teacher_id=ids["teacher"],
                          valence="positive", video_seconds=3.0, student_id=ids["student"],
                          codebook_id=ids["codebook"], actor="C1")
        same, new = create_codebook(session, study_id=ids["study"], name="valence",
                                    categories=CATEGORIES)
        assert (same.id, new) == (ids["codebook"], False)
        changed, new = create_codebook(session, study_id=ids["study"], name="valence",
                                       categories=[*CATEGORIES, {"subtype": "humour",
                                                                 "valence": "positive"}])
        assert new and changed.version == "2"
        with pytest.raises(DataError, match="never changed"):
            create_codebook(session, study_id=ids["study"], name="valence", version="1",
                            categories=CATEGORIES[:1])
        assert [b.version for b in codebook_versions(session, ids["study"], "valence")] == [
            "1", "2"]
    with engine.connect() as connection:
        assert connection.execute(sa.select(InteractionEvent.codebook_id).where(
            InteractionEvent.id == event.id)).scalar_one() == ids["codebook"]


def test_instruments_are_kept_by_code_and_version(engine) -> None:
    ids = _small_study(engine)
    with unit_of_work(engine) as session:
        first, new = add_instrument(session, study_id=ids["study"], code="strs", version="1",
                                    informant="teacher", definition="items: []")
        assert new
        again, new = add_instrument(session, study_id=ids["study"], code="strs", version="1",
                                    informant="teacher", definition="items: []")
        assert (again.id, new) == (first.id, False)
        with pytest.raises(IntegrityError, match="new version"):
            add_instrument(session, study_id=ids["study"], code="strs", version="1",
                           informant="teacher", definition="items: [a]")


def test_one_teachers_classes(engine) -> None:
    ids = _small_study(engine)
    with unit_of_work(engine) as session:
        classes = teacher_classes(session, ids["teacher"])
    assert classes["classroom"].tolist() == ["6A"]
    assert classes[["students", "lessons"]].iloc[0].tolist() == [3, 1]


def test_a_duplicate_code_is_refused_without_spoiling_the_unit_of_work(engine) -> None:
    ids = _small_study(engine)
    with unit_of_work(engine) as session:
        with pytest.raises(IntegrityError, match="exist already"):
            create_teacher(session, study_id=ids["study"], code="T1")
        create_teacher(session, study_id=ids["study"], code="T3")
    assert sorted(read_study(engine).teachers["code"]) == ["T1", "T2", "T3"]


def test_get_session_commits_when_resumed_and_rolls_back_when_closed(engine) -> None:
    from classdyad.store import get_session, list_studies

    dependency = get_session(engine)  # as a web framework drives a dependency
    session = next(dependency)
    create_study(session, name="kept")
    with pytest.raises(StopIteration):
        next(dependency)
    abandoned = get_session(engine)
    create_study(next(abandoned), name="dropped")
    abandoned.close()  # the request failed before it finished
    assert list_studies(engine)["name"].tolist() == ["kept"]
