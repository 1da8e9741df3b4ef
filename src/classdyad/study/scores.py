"""Scoring a stored study's questionnaires, IATs and double-coded lessons.

Thin glue between :class:`~classdyad.model.StudyTables` and :mod:`classdyad.measures`: each
instrument's responses are scored with :func:`classdyad.measures.score_questionnaire` (reverse
keys, subscale means, the minimum-answered rule), and each teacher's IAT with
:func:`classdyad.measures.score_iat` (D2 by default) using the standard seven-block layout:
blocks 3/4 are the practice/test blocks of the first pairing and 6/7 those of the second, and the
session's ``compatible_first`` says which pairing came first. Double-coded lessons are compared
with :func:`classdyad.measures.coder_agreement` (the first coder of a lesson is the one with the
lowest id).
"""

from __future__ import annotations

import pandas as pd

from classdyad.errors import DataError
from classdyad.measures.agreement import CoderAgreement, coder_agreement
from classdyad.measures.iat import score_iat
from classdyad.measures.instruments import load_instrument, parse_instrument
from classdyad.measures.questionnaires import score_questionnaire
from classdyad.model import StudyTables

#: (block, compatible_first) -> role, for the standard seven-block IAT
SEVEN_BLOCK_ROLES = {
    **{(b, first): "ignore" for b in (1, 2, 5) for first in (True, False)},
    (3, True): "practice_compatible", (4, True): "test_compatible",
    (6, True): "practice_incompatible", (7, True): "test_incompatible",
    (3, False): "practice_incompatible", (4, False): "test_incompatible",
    (6, False): "practice_compatible", (7, False): "test_compatible",
}


def score_study_questionnaires(tables: StudyTables) -> pd.DataFrame:
    """Scale scores of every stored questionnaire response.

    Returns
    -------
    pandas.DataFrame
        One row per response: ``response_id, instrument, informant, student_id, teacher_id,
        wave_id`` and one column per subscale (plus ``<subscale>_n_answered``).
    """
    columns = ["response_id", "instrument", "informant", "student_id", "teacher_id", "wave_id"]
    if tables.responses.empty:
        return pd.DataFrame(columns=columns)
    parts = []
    items = tables.response_items
    for row in tables.instruments.itertuples(index=False):
        responses = tables.responses[tables.responses["instrument_id"] == row.id]
        if responses.empty:
            continue
        # a study's own definition (stored with it) wins over the shipped one of that id
        definition = getattr(row, "definition", None)
        instrument = (parse_instrument(definition, source=f"instrument {row.code}")
                      if isinstance(definition, str) and definition.strip()
                      else load_instrument(row.code))
        answers = items[items["response_id"].isin(responses["id"])]
        answers = answers.assign(value=pd.to_numeric(answers["value"], errors="coerce"))
        scored = score_questionnaire(answers[["response_id", "item", "value"]], instrument,
                                     layout="long", id_columns=["response_id"],
                                     source=f"responses to {row.code}").scores
        # responses whose every item is missing still get a (missing) score row
        scored = responses[["id"]].rename(columns={"id": "response_id"}).merge(
            scored, on="response_id", how="left")
        info = responses.set_index("id").reindex(scored["response_id"])
        scored.insert(1, "instrument", row.code)
        scored.insert(2, "informant", row.informant)
        scored.insert(3, "student_id", info["student_id"].to_numpy())
        scored.insert(4, "teacher_id", info["teacher_id"].to_numpy())
        scored.insert(5, "wave_id", info["wave_id"].to_numpy())
        parts.append(scored)
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


def score_study_iat(tables: StudyTables, *, variant: str = "D2") -> pd.DataFrame:
    """D scores of every stored IAT session (seven-block layout).

    Returns
    -------
    pandas.DataFrame
        One row per session: ``session_id, teacher_id, kind, d_score`` and the counts and
        exclusion reason of :func:`classdyad.measures.score_iat`.
    """
    if tables.iat_trials.empty:
        return pd.DataFrame(columns=["session_id", "teacher_id", "kind", "d_score"])
    sessions = tables.iat_sessions.set_index("id")
    trials = tables.iat_trials.copy()
    first = sessions["compatible_first"].reindex(trials["session_id"])
    if first.isna().any():
        ids = sorted(trials.loc[first.isna().to_numpy(), "session_id"].unique().tolist())
        raise DataError(f"IAT sessions {ids[:10]} do not say which pairing came first; set "
                        "compatible_first for every session to score seven-block IATs")
    trials["compatible_first"] = first.astype(bool).to_numpy()
    scores = score_iat(trials, blocks=SEVEN_BLOCK_ROLES, variant=variant,
                       columns={"participant": "session_id", "block": ["block",
                                                                       "compatible_first"],
                                "trial": "trial", "latency": "latency_ms", "error": "error",
                                "corrected_latency": "corrected_latency_ms"},
                       source="iat_trials").to_frame()
    scores = scores.rename(columns={"participant": "session_id", "d": "d_score"})
    scores.insert(1, "teacher_id", sessions["teacher_id"].reindex(scores["session_id"])
                  .to_numpy())
    scores.insert(2, "kind", sessions["kind"].reindex(scores["session_id"]).to_numpy())
    return scores


def coder_event_frames(tables: StudyTables) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split the events of double-coded lessons into the first and the second coding.

    In every lesson coded by two or more coders, the first (primary) coder is the one assigned
    to the lesson as ``primary`` and the second the one assigned as ``second`` (the events'
    ``coder_role``, as :func:`classdyad.store.read_study` gives it); coders without an
    assignment (imported codings) follow, by id. The analysis dataset counts the same primary
    coder's events. Lessons coded once are left out; adjudicated events (no coder) are not
    codings.

    Returns
    -------
    (first, second)
        Event frames in the layout of :func:`classdyad.measures.coder_agreement`:
        ``lesson_id, time, student_id, target_kind, valence, subtype, event_id, coder``.
    """
    events = tables.events[tables.events["coder_id"].notna()]
    roles = (events["coder_role"] if "coder_role" in events.columns
             else pd.Series(None, index=events.index, dtype=object))
    rank = roles.map({"primary": 0, "second": 1}).fillna(2)
    order = (pd.DataFrame({"lesson_id": events["lesson_id"], "rank": rank,
                           "coder_id": events["coder_id"]})
             .drop_duplicates(["lesson_id", "coder_id"])
             .sort_values(["lesson_id", "rank", "coder_id"]))
    position = order.groupby("lesson_id").cumcount()
    double = order.groupby("lesson_id")["coder_id"].transform("size") >= 2
    first_coder = order[double & (position == 0)].set_index("lesson_id")["coder_id"]
    second_coder = order[double & (position == 1)].set_index("lesson_id")["coder_id"]
    codes = tables.coders.set_index("id")["code"]
    frames = []
    for chosen in (first_coder, second_coder):
        part = events[events["lesson_id"].isin(chosen.index)]
        part = part[part["coder_id"].to_numpy() == chosen.reindex(part["lesson_id"]).to_numpy()]
        frames.append(pd.DataFrame({
            "lesson_id": part["lesson_id"].to_numpy(),
            "time": part["video_seconds"].astype(float).to_numpy(),
            "student_id": part["student_id"].to_numpy(),
            "target_kind": part["target_kind"].to_numpy(),
            "valence": part["valence"].to_numpy(),
            "subtype": part["subtype"].to_numpy(),
            "event_id": part["client_id"].astype(str).to_numpy(),
            "coder": codes.reindex(part["coder_id"]).astype(str).to_numpy(),
        }))
    return frames[0], frames[1]


def study_agreement(tables: StudyTables, *, window: float = 2.0,
                    time_unit: float = 1.0) -> CoderAgreement:
    """Agreement of the first and second coder on every double-coded lesson of a study.

    Raises
    ------
    DataError
        If no lesson was coded twice.
    """
    first, second = coder_event_frames(tables)
    if first.empty:
        raise DataError("no lesson in this study was coded by two coders; code a share of the "
                        "lessons twice to measure agreement")
    first = first.assign(coder="first coder")
    second = second.assign(coder="second coder")
    return coder_agreement(first, second, window=window, time_unit=time_unit)
