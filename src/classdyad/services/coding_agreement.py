"""Double coding: agreement per lesson and coder pair, adjudication, calibration with a master.

- :func:`lesson_agreement` matches two coders' events of a lesson one-to-one within a time window
  (:func:`classdyad.coding.match_events`) and computes the agreement statistics of
  :func:`classdyad.measures.coder_agreement` (kappas, Krippendorff's alpha, time-unit kappa); each
  disagreement (an unmatched event, or a matched pair coded differently) is a unit of the
  adjudication queue.
- :func:`adjudicate` settles one unit: keep coder A's version, keep B's, write an edited one, add
  one both missed, or drop it. The originals stay as they were coded (they are only marked
  ``superseded``); the adjudicated event is a new event with ``source = "adjudication"``, which
  the analysis dataset counts instead (:func:`classdyad.study.analysis_events`).
- :func:`calibration` gives each coder's agreement with a master coder, lesson by lesson in the
  order the coder finished them, so that drift shows.
"""

from __future__ import annotations

import math
import uuid
import warnings
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from classdyad.errors import DataError, IntegrityError, NotFoundError, UndefinedStatisticWarning
from classdyad.measures import coder_agreement
from classdyad.model import (
    Adjudication,
    AuditEntry,
    Coder,
    InteractionEvent,
    LessonCoding,
    Student,
    Teacher,
)

__all__ = ["added_events", "adjudicate", "calibration", "coded_events", "lesson_agreement",
           "lesson_coders"]

ASPECT_STATISTICS = ("percent_agreement", "kappa", "kappa_with_no_event", "alpha_nominal",
                     "time_unit_kappa")


def coded_events(db: Session, lesson_ids: list[int], coder_id: int) -> pd.DataFrame:
    """One coder's current events of some lessons, as the event table of
    :func:`classdyad.coding.match_events` (``event_id`` is the client id)."""
    rows = db.execute(sa.select(InteractionEvent.lesson_id, InteractionEvent.video_seconds,
                                InteractionEvent.student_id, InteractionEvent.target_kind,
                                InteractionEvent.valence, InteractionEvent.subtype,
                                InteractionEvent.client_id, InteractionEvent.frame,
                                Student.code, Teacher.code)
                      .join(Teacher, Teacher.id == InteractionEvent.teacher_id)
                      .outerjoin(Student, Student.id == InteractionEvent.student_id)
                      .where(InteractionEvent.lesson_id.in_(lesson_ids),
                             InteractionEvent.coder_id == coder_id,
                             sa.or_(InteractionEvent.source.is_(None),
                                    InteractionEvent.source != "adjudication"))
                      .order_by(InteractionEvent.video_seconds)).all()
    frame = pd.DataFrame(rows, columns=["lesson_id", "time", "student_id", "target_kind",
                                        "valence", "subtype", "event_id", "frame",
                                        "student", "teacher"])
    frame["student_id"] = frame["student_id"].astype("Int64")
    return frame


def lesson_coders(db: Session, lesson_id: int) -> list[dict[str, Any]]:
    """The coders with events in a lesson: ``id, code, events, done_at``, by id."""
    counts = db.execute(sa.select(InteractionEvent.coder_id, Coder.code, sa.func.count())
                        .join(Coder, Coder.id == InteractionEvent.coder_id)
                        .where(InteractionEvent.lesson_id == lesson_id,
                               sa.or_(InteractionEvent.source.is_(None),
                                      InteractionEvent.source != "adjudication"))
                        .group_by(InteractionEvent.coder_id, Coder.code)
                        .order_by(InteractionEvent.coder_id)).all()
    done = dict(db.execute(sa.select(LessonCoding.coder_id, LessonCoding.done_at)
                           .where(LessonCoding.lesson_id == lesson_id)).all())
    return [{"id": coder_id, "code": code, "events": int(n), "done_at": done.get(coder_id)}
            for coder_id, code, n in counts]


def _clean(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _side(unit: pd.Series, suffix: str, extra: pd.DataFrame) -> dict[str, Any] | None:
    client_id = _clean(unit[f"event_id_{suffix}"])
    if client_id is None:
        return None
    more = extra.loc[client_id]
    return {"client_id": client_id, "video_seconds": _clean(unit[f"time_{suffix}"]),
            "frame": _clean(more["frame"]), "teacher": more["teacher"],
            "target_kind": unit[f"target_kind_{suffix}"], "student": _clean(more["student"]),
            "valence": unit[f"valence_{suffix}"], "subtype": _clean(unit[f"subtype_{suffix}"])}


def _pair(db: Session, lesson_id: int, coder_a: str | None, coder_b: str | None
          ) -> tuple[dict[str, Any], dict[str, Any]]:
    coders = lesson_coders(db, lesson_id)
    by_code = {c["code"]: c for c in coders}
    if coder_a is None and coder_b is None:
        if len(coders) < 2:
            raise NotFoundError(f"lesson {lesson_id} has events of {len(coders)} coder(s); "
                                "agreement needs two coders of the same lesson")
        return coders[0], coders[1]
    for code in (coder_a, coder_b):
        if code not in by_code:
            names = ", ".join(by_code) or "none"
            raise NotFoundError(f"coder {code!r} has no events in lesson {lesson_id}; the "
                                f"lesson's coders are: {names}")
    return by_code[coder_a], by_code[coder_b]  # type: ignore[index]


def lesson_agreement(db: Session, lesson_id: int, *, coder_a: str | None = None,
                     coder_b: str | None = None, window: float = 2.0) -> dict[str, Any]:
    """Agreement of two coders on a lesson, and its disagreements with their adjudication.

    Parameters
    ----------
    db
        A session.
    lesson_id
        The lesson.
    coder_a, coder_b
        The coders by code; default the lesson's first two coders (by id, so the primary
        coder usually comes first).
    window
        Largest time difference (seconds) between two events of the same interaction.

    Returns
    -------
    dict
        ``coder_a, coder_b`` (code, events, done_at), ``window``, ``counts`` (matched, only A,
        only B), ``statistics`` (one record per aspect and statistic: estimate, se, n) and
        ``units``: every disagreement with both versions (``a``, ``b``), its ``unit`` id, its
        ``time`` and the ``decision`` taken, if any; ``added``: the events the adjudicator
        added (:func:`added_events`).
    """
    first, second = _pair(db, lesson_id, coder_a, coder_b)
    events_a = coded_events(db, [lesson_id], first["id"]).assign(coder=first["code"])
    events_b = coded_events(db, [lesson_id], second["id"]).assign(coder=second["code"])
    extra = pd.concat([events_a, events_b]).set_index("event_id")[["frame", "student",
                                                                   "teacher"]]
    columns = ["lesson_id", "time", "student_id", "target_kind", "valence", "subtype",
               "event_id", "coder"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        result = coder_agreement(events_a[columns], events_b[columns], window=window,
                                 lessons=[lesson_id])
    statistics = result.statistics
    statistics = statistics[(statistics["lesson_id"].astype(str) == "all")
                            & statistics["statistic"].isin(ASPECT_STATISTICS)]
    decisions = {row.unit: row for row in db.scalars(
        sa.select(Adjudication).where(Adjudication.lesson_id == lesson_id))}
    units = []
    for _, unit in result.matching.units.iterrows():
        a, b = _side(unit, "a", extra), _side(unit, "b", extra)
        same = (a is not None and b is not None
                and all(a[k] == b[k] for k in ("target_kind", "student", "valence", "subtype")))
        if same:
            continue
        key = f"{a['client_id'] if a else ''}|{b['client_id'] if b else ''}"
        decided = decisions.get(key)
        units.append({"unit": key, "status": unit["status"],
                      "time": min(x["video_seconds"] for x in (a, b) if x is not None),
                      "a": a, "b": b,
                      "decision": decided.decision if decided else None,
                      "event_client_id": decided.event_client_id if decided else None})
    counts = result.matching.to_frame().iloc[-1]
    return {"lesson_id": lesson_id, "coder_a": first, "coder_b": second, "window": window,
            "added": added_events(db, lesson_id),
            "counts": {k: int(counts[k]) for k in ("n_matched", "n_only_a", "n_only_b")},
            "statistics": [{key: _clean(row[key]) for key in ("aspect", "statistic",
                                                               "estimate", "se", "n")}
                           for _, row in statistics.iterrows()],
            "units": units}


def added_events(db: Session, lesson_id: int) -> list[dict[str, Any]]:
    """The events an adjudicator added to a lesson (both coders missed them), in time order."""
    rows = db.execute(sa.select(Adjudication.unit, InteractionEvent.client_id,
                                InteractionEvent.video_seconds, InteractionEvent.target_kind,
                                Student.code, InteractionEvent.valence,
                                InteractionEvent.subtype, Adjudication.adjudicator)
                      .join(InteractionEvent,
                            InteractionEvent.client_id == Adjudication.event_client_id)
                      .outerjoin(Student, Student.id == InteractionEvent.student_id)
                      .where(Adjudication.lesson_id == lesson_id,
                             Adjudication.decision == "add")
                      .order_by(InteractionEvent.video_seconds)).all()
    return [{"unit": unit, "client_id": client_id, "video_seconds": seconds,
             "target_kind": kind, "student": student, "valence": valence, "subtype": subtype,
             "adjudicator": adjudicator}
            for unit, client_id, seconds, kind, student, valence, subtype, adjudicator in rows]


def adjudicate(db: Session, *, actor: str, study_id: int, lesson_id: int, unit: str,
               decision: str, event: dict[str, Any] | None = None,
               window: float = 2.0) -> dict[str, Any]:
    """Settle one disagreement of a lesson (both coders must have marked the lesson done).

    ``decision``: ``keep_a`` / ``keep_b`` (copy that coder's version), ``edit`` / ``add``
    (write ``event``: the fields of :data:`classdyad.services.coding_events.EVENT_FIELDS`), or
    ``drop`` (no interaction). The originals are kept and marked ``superseded``; a decided unit
    is not decided again (409). Audited.
    """
    from classdyad.services.coding_events import Writer, put_event

    if decision not in ("keep_a", "keep_b", "edit", "add", "drop"):
        raise DataError(f"decision {decision!r} is not known; use keep_a, keep_b, edit, add "
                        "or drop")
    view = lesson_agreement(db, lesson_id, window=window)
    if decision != "add":
        found = next((u for u in view["units"] if u["unit"] == unit), None)
        if found is None:
            raise NotFoundError(f"no disagreement {unit!r} in lesson {lesson_id}; reload the "
                                "agreement view")
        if found["decision"] is not None:
            raise IntegrityError(f"disagreement {unit!r} was settled already "
                                 f"({found['decision']})")
    else:
        found = None
        unit = f"add:{uuid.uuid4()}"
    not_done = [c["code"] for c in (view["coder_a"], view["coder_b"]) if not c["done_at"]]
    if not_done:
        raise IntegrityError(f"coder(s) {', '.join(not_done)} have not marked lesson "
                             f"{lesson_id} done; adjudicate once both coders are done")
    content: dict[str, Any] | None = None
    if decision in ("keep_a", "keep_b"):
        side = found["a" if decision == "keep_a" else "b"] if found else None
        if side is None:
            raise DataError(f"coder {decision[-1].upper()} has no event in this disagreement; "
                            "choose the other coder's version, drop it, or edit")
        content = {k: side[k] for k in ("video_seconds", "frame", "teacher", "target_kind",
                                        "student", "valence", "subtype")}
    elif decision in ("edit", "add"):
        if event is None:
            raise DataError(f"decision {decision!r} needs the event to write")
        content = {k: v for k, v in event.items() if k != "revision"}
    client_id = None
    if content is not None:
        client_id = f"adjudication-{uuid.uuid4()}"
        writer = Writer(actor=actor, coder_id=None, study_id=study_id, lessons=None)
        put_event(db, writer, client_id, {**content, "lesson_id": lesson_id,
                                          "source": "adjudication", "codebook_id": None},
                  commit=False)
    originals = [p for p in unit.split("|") if p] if found else []
    if originals:
        db.execute(sa.update(InteractionEvent).where(InteractionEvent.client_id.in_(originals))
                   .values(superseded=True))
    db.add(Adjudication(lesson_id=lesson_id, unit=unit, decision=decision,
                        event_client_id=client_id, adjudicator=actor))
    db.add(AuditEntry(actor=actor, action="adjudicate", entity="interaction_event", count=1,
                      detail={"lesson_id": lesson_id, "unit": unit, "decision": decision,
                              "event": client_id}))
    db.commit()
    return {"unit": unit, "decision": decision, "event_client_id": client_id}


def calibration(db: Session, study_id: int, *, window: float = 2.0) -> pd.DataFrame:
    """Each coder's agreement with a master coder, lesson by lesson, in the order done.

    Returns
    -------
    pandas.DataFrame
        One row per coder and lesson coded by both the coder and a master coder:
        ``coder, master, lesson_id, done_at, events, master_events, matched,
        percent_agreement, kappa`` (valence, matched pairs), sorted by coder and ``done_at``.
    """
    coders = db.execute(sa.select(Coder.id, Coder.code, Coder.master)
                        .where(Coder.study_id == study_id)).all()
    masters = {c.id: c.code for c in coders if c.master}
    rows: list[dict[str, Any]] = []
    if masters:
        pairs = db.execute(sa.select(InteractionEvent.lesson_id, InteractionEvent.coder_id)
                           .where(InteractionEvent.coder_id.in_([c.id for c in coders]))
                           .distinct()).all()
        coded: dict[int, set[int]] = {}
        for lesson_id, coder_id in pairs:
            coded.setdefault(lesson_id, set()).add(coder_id)
        done = {(r.lesson_id, r.coder_id): r.done_at for r in db.scalars(sa.select(LessonCoding))}
        for lesson_id, coder_ids in sorted(coded.items()):
            for master_id in coder_ids & set(masters):
                for coder in coders:
                    if coder.id not in coder_ids or coder.id in masters:
                        continue
                    view = lesson_agreement(db, lesson_id, coder_a=masters[master_id],
                                            coder_b=coder.code, window=window)
                    stats = {(s["aspect"], s["statistic"]): s["estimate"]
                             for s in view["statistics"]}
                    rows.append({"coder": coder.code, "master": masters[master_id],
                                 "lesson_id": lesson_id,
                                 "done_at": done.get((lesson_id, coder.id)),
                                 "events": view["coder_b"]["events"],
                                 "master_events": view["coder_a"]["events"],
                                 "matched": view["counts"]["n_matched"],
                                 "percent_agreement": stats.get(("valence",
                                                                 "percent_agreement")),
                                 "kappa": stats.get(("valence", "kappa"))})
    columns = ["coder", "master", "lesson_id", "done_at", "events", "master_events", "matched",
               "percent_agreement", "kappa"]
    table = pd.DataFrame(rows, columns=columns)
    if len(table):
        table = table.sort_values(["coder", "done_at", "lesson_id"], na_position="last",
                                  kind="stable").reset_index(drop=True)
    return table
