"""BORIS codings: reading its event exports and project files, and writing its tabular layout.

BORIS (Behavioral Observation Research Interactive Software; Friard & Gamba 2016) is the coding
tool many observation studies already use. It writes coded events in several layouts, all read
here into one tidy table of *occurrences* (:data:`BORIS_OCCURRENCE_COLUMNS`: observation,
subject, behaviour, modifiers, start, stop, ...):

- **tabular events**, one row per event with status START/STOP/POINT: the older (v7) layout with a
  metadata block above the header (``Time, Media file path, Total length, FPS, Subject,
  Behavior, Behavioral category, [Modifiers,] Comment, Status``) and the current (8.x/9.x) flat
  layout (``Observation id, Observation date, Description, Observation duration, Observation
  type, Source, Time offset (s), Media duration (s), FPS, [independent variables,] Subject,
  Behavior, Behavioral category, Modifier #1.., Behavior type, Time, Media file name, Image
  index, Image file path, Comment``); state events are paired START -> STOP per subject and
  behaviour, as BORIS pairs them;
- **aggregated events**, one row per occurrence (``Start (s)``, ``Stop (s)``, ``Duration (s)``,
  ``Modifiers`` or ``Modifier #n``), old and current;
- **project files** (``.boris``, JSON), whose observations store events as ``[time, subject,
  behaviour code, "modifier set 1|modifier set 2", comment, ...]``.

Text files may be TSV or CSV; the current layouts may also be XLSX. Occurrences become classdyad
interaction events through a :class:`BorisMapping` (:func:`boris_interaction_events`).

:mod:`classdyad.io.boris_export` writes coded events back in BORIS' current tabular layout.

References
----------
Friard, O. & Gamba, M. (2016). BORIS: a free, versatile open-source event-logging software for
video/audio coding and live observations. *Methods in Ecology and Evolution*, 7(11), 1325-1330.
doi:10.1111/2041-210X.12584
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classdyad.errors import ClassdyadError, DataError, NotFoundError, Problem, ValidationError
from classdyad.io.tabular import decode_text, repeated_header_rows
from classdyad.model.enums import TargetKind, Valence

#: the columns of :func:`read_boris`'s result
BORIS_OCCURRENCE_COLUMNS = ("observation", "subject", "behavior", "behavioral_category",
                            "modifiers", "behavior_type", "start", "stop", "comment",
                            "media_file")

NO_FOCAL_SUBJECT = "No focal subject"
CLIENT_ID_PREFIX = "classdyad:"

_MODIFIER_FIELDS = ("valence", "subtype", "target_kind", "teacher", "coder", "ignore")


def _clean_modifiers(parts: list[str]) -> str:
    """Modifier sets joined by ``|``: stripped, BORIS' ``None`` (nothing chosen) left empty."""
    cleaned = [p.strip() for p in parts]
    cleaned = ["" if p == "None" else p for p in cleaned]
    return "|".join(cleaned) if any(cleaned) else ""


def _number(value: Any) -> float:
    try:
        number = float(str(value).strip()) if value is not None else math.nan
    except ValueError:
        return math.nan
    return number


def _raw_rows(path: Path, source: str) -> list[list[str]]:
    """All rows of a BORIS text or XLSX export, as lists of stripped strings."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
        except ClassdyadError:
            raise
        except Exception as exc:  # openpyxl raises many kinds of errors on damaged files
            raise DataError(f"{source}: not a readable Excel workbook ({type(exc).__name__}: "
                            f"{exc}); export the events from BORIS again") from exc
        return [["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()
                 for v in row] for row in frame.itertuples(index=False)]
    text = decode_text(path.read_bytes(), source=source)
    header_line = next((line for line in text.splitlines() if "Behavior" in line), "")
    delimiter = "\t" if "\t" in header_line or suffix == ".tsv" else ","
    try:
        return [[cell.strip() for cell in row]
                for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise DataError(f"{source}: not a readable BORIS export ({exc})") from exc


def _header_index(rows: list[list[str]], source: str) -> int:
    for i, row in enumerate(rows):
        cells = set(row)
        if "Behavior" in cells and ("Time" in cells or "Start (s)" in cells):
            return i
    raise DataError(f"{source}: no BORIS header row (with 'Behavior' and 'Time' or 'Start (s)') "
                    "was found; export the events from BORIS as tabular or aggregated events")


def _modifier_column(frame: pd.DataFrame) -> pd.Series:
    numbered = [c for c in frame.columns if str(c).startswith("Modifier #")]
    if numbered:
        ordered = sorted(numbered, key=lambda c: int(str(c)[len("Modifier #"):] or 0)
                         if str(c)[len("Modifier #"):].isdigit() else 0)
        parts = frame[ordered].fillna("").astype(str).to_numpy().tolist()
        return pd.Series([_clean_modifiers(p) for p in parts], index=frame.index, dtype=object)
    if "Modifiers" in frame.columns:
        return frame["Modifiers"].fillna("").astype(str).map(
            lambda v: _clean_modifiers(v.split("|")) if v else "").astype(object)
    return pd.Series([""] * len(frame), index=frame.index, dtype=object)


def _subject(values: pd.Series) -> pd.Series:
    text = values.fillna("").astype(str).str.strip()
    return text.where(text != NO_FOCAL_SUBJECT, "").astype(object)


def _pair_states(events: pd.DataFrame, source: str) -> pd.DataFrame:
    """Turn START/STOP/POINT rows into occurrences; unpaired STARTs are problems."""
    problems: list[Problem] = []
    status = events["status"].astype(str).str.upper().to_numpy()
    order = np.argsort(events["time"].to_numpy(), kind="stable")
    columns = ["observation", "subject", "behavior", "behavioral_category", "modifiers",
               "time", "comment", "media_file"]
    values = {c: events[c].to_numpy() for c in columns}
    known = np.isin(status, ["POINT", "START", "STOP"])
    for position in np.flatnonzero(~known)[:1000]:
        problems.append(Problem("not START, STOP or POINT; export the events from BORIS "
                                "again", source=source, row=int(position) + 1,
                                column="Status", value=events["status"].iat[position]))
    point = status == "POINT"
    starts: list[int] = []
    stops: list[int] = []
    open_states: dict[tuple[Any, Any, Any], int] = {}
    for position in order[np.isin(status[order], ["START", "STOP"])]:
        key = (values["observation"][position], values["subject"][position],
               values["behavior"][position])
        if status[position] == "START":
            if key in open_states:
                problems.append(Problem("a state event starts again before it stopped; "
                                        "check the coding in BORIS", source=source,
                                        row=int(position) + 1, column="Status", value=key[2]))
            open_states[key] = int(position)
        elif key not in open_states:
            problems.append(Problem("a state event stops without a start; check the coding "
                                    "in BORIS", source=source, row=int(position) + 1,
                                    column="Status", value=key[2]))
        else:
            starts.append(open_states.pop(key))
            stops.append(int(position))
    for key, position in open_states.items():
        problems.append(Problem("a state event has no STOP; stop it in BORIS and export again",
                                source=source, row=position + 1, column="Status", value=key[2]))
    if problems:
        raise ValidationError(problems, what=source)
    first = np.concatenate([np.flatnonzero(point), np.asarray(starts, dtype=int)])
    last = np.concatenate([np.flatnonzero(point), np.asarray(stops, dtype=int)])
    out = pd.DataFrame({c: values[c][first] for c in columns if c != "time"})
    out["behavior_type"] = np.where(np.arange(len(first)) < point.sum(), "POINT", "STATE")
    out["start"] = values["time"][first].astype(float)
    out["stop"] = values["time"][last].astype(float)
    out = out[list(BORIS_OCCURRENCE_COLUMNS)]
    return out.sort_values(["observation", "start"], kind="stable", ignore_index=True)


def _check_times(frame: pd.DataFrame, columns: list[str], source: str) -> None:
    problems = []
    for column in columns:
        bad = ~np.isfinite(frame[column].to_numpy(dtype=float))
        problems += [Problem("not a time in seconds; export the events from BORIS again",
                             source=source, row=int(i) + 1, column=column)
                     for i in np.flatnonzero(bad)[:1000]]
    if problems:
        raise ValidationError(problems, what=source)


def _body(rows: list[list[str]], header: int, source: str) -> pd.DataFrame:
    """The rows below the header as a frame; blank rows skipped, ambiguous rows refused."""
    names = list(rows[header])
    while names and not names[-1]:
        names.pop()
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(f"{source}: the column {name!r} occurs twice in the header row; "
                            "export the events from BORIS again (or give each column its own "
                            "name)")
        seen.add(name)
    width = len(names)
    body = [r for r in rows[header + 1:] if any(c for c in r)]
    problems = [Problem(f"has {max(j for j, c in enumerate(r) if c) + 1} cells but the header "
                        f"has {width}; remove the extra cells or quote cells that hold the "
                        "separator", source=source, row=i + 1)
                for i, r in enumerate(body) if any(c for c in r[width:])]
    frame = pd.DataFrame([(r + [""] * width)[:width] for r in body], columns=names, dtype=object)
    problems += repeated_header_rows(frame, source)
    modifiers = [c for c in names if c == "Modifiers" or c.startswith("Modifier #")]
    for column in modifiers:
        parts = frame[column].astype(str).str.split("|")
        written_nan = parts.map(lambda values: any(v.strip().casefold() == "nan"
                                                   for v in values))
        problems += [Problem("'nan' is not a modifier (a missing value written out by a "
                             "spreadsheet or script); leave the cell empty, or write None as "
                             "BORIS does when nothing was chosen", source=source, row=int(i) + 1,
                             column=column, value=frame[column].iat[i])
                     for i in np.flatnonzero(written_nan.to_numpy())[:1000]]
    if problems:
        raise ValidationError(sorted(problems, key=lambda p: p.row or 0), what=source)
    return frame


def _read_tabular(rows: list[list[str]], header: int, source: str) -> pd.DataFrame:
    frame = _body(rows, header, source)
    meta = {r[0]: (r[1] if len(r) > 1 else "") for r in rows[:header] if r and r[0]}
    status = "Status" if "Status" in frame.columns else "Behavior type"
    if status not in frame.columns:
        raise DataError(f"{source}: a tabular BORIS export needs a 'Status' or 'Behavior type' "
                        "column; export the events from BORIS again")
    observation = (frame["Observation id"] if "Observation id" in frame.columns
                   else pd.Series([meta.get("Observation id", Path(source).stem)] * len(frame)))
    media = next((frame[c] for c in ("Media file name", "Media file path")
                  if c in frame.columns), pd.Series([""] * len(frame)))
    events = pd.DataFrame({
        "observation": observation.astype(str).to_numpy(),
        "subject": _subject(frame.get("Subject", pd.Series([""] * len(frame)))).to_numpy(),
        "behavior": frame["Behavior"].astype(str).to_numpy(),
        "behavioral_category": frame.get("Behavioral category",
                                         pd.Series([""] * len(frame))).to_numpy(),
        "modifiers": _modifier_column(frame).to_numpy(),
        "time": frame["Time"].map(_number).to_numpy(dtype=float),
        "comment": frame.get("Comment", pd.Series([""] * len(frame))).to_numpy(),
        "media_file": media.to_numpy(),
        "status": frame[status].to_numpy(),
    })
    _check_times(events, ["time"], source)
    return _pair_states(events, source)


def _read_aggregated(rows: list[list[str]], header: int, source: str) -> pd.DataFrame:
    frame = _body(rows, header, source)
    empty = pd.Series([""] * len(frame), dtype=object)
    media = next((frame[c] for c in ("Media file name", "Media file") if c in frame.columns),
                 empty)
    out = pd.DataFrame({
        "observation": frame.get("Observation id", empty).astype(str).to_numpy(),
        "subject": _subject(frame.get("Subject", empty)).to_numpy(),
        "behavior": frame["Behavior"].astype(str).to_numpy(),
        "behavioral_category": frame.get("Behavioral category", empty).to_numpy(),
        "modifiers": _modifier_column(frame).to_numpy(),
        "behavior_type": frame.get("Behavior type", empty).astype(str).str.upper().to_numpy(),
        "start": frame["Start (s)"].map(_number).to_numpy(dtype=float),
        "stop": frame.get("Stop (s)", frame["Start (s)"]).map(_number).to_numpy(dtype=float),
        "comment": frame.get("Comment start", empty).to_numpy(),
        "media_file": media.to_numpy(),
    })
    _check_times(out, ["start", "stop"], source)
    return out


def _read_project(path: Path, source: str) -> pd.DataFrame:
    try:
        project = json.loads(decode_text(path.read_bytes(), source=source))
    except json.JSONDecodeError as exc:
        raise DataError(f"{source}: not a BORIS project (invalid JSON: {exc}); open it in "
                        "BORIS and save it again") from exc
    if not isinstance(project, dict) or not isinstance(project.get("observations"), dict):
        raise DataError(f"{source}: not a BORIS project (no observations); open it in BORIS "
                        "and save it again")
    ethogram = project.get("behaviors_conf") or {}
    kinds: dict[str, str] = {}
    categories: dict[str, str] = {}
    if isinstance(ethogram, dict):
        for entry in ethogram.values():
            if isinstance(entry, dict) and "code" in entry:
                kinds[str(entry["code"])] = "STATE" if "State" in str(entry.get("type")) \
                    else "POINT"
                categories[str(entry["code"])] = str(entry.get("category") or "")
    rows: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for observation, content in project["observations"].items():
        events = content.get("events", []) if isinstance(content, dict) else None
        if not isinstance(events, list):
            problems.append(Problem("the observation has no event list", source=source,
                                    column="observations", value=observation))
            continue
        media = content.get("file") or {}
        media_file = ";".join(str(f) for files in media.values() for f in (files or [])) \
            if isinstance(media, dict) else ""
        for number, event in enumerate(events, start=1):
            if not isinstance(event, list) or len(event) < 3:
                problems.append(Problem("not a BORIS event [time, subject, code, ...]",
                                        source=source, row=number, column=str(observation),
                                        value=str(event)[:80]))
                continue
            time = _number(event[0])
            if not math.isfinite(time):
                problems.append(Problem("not a time in seconds", source=source, row=number,
                                        column=str(observation), value=event[0]))
                continue
            code = str(event[2])
            modifiers = str(event[3]) if len(event) > 3 and event[3] is not None else ""
            rows.append({"observation": str(observation),
                         "subject": "" if event[1] in (None, NO_FOCAL_SUBJECT) else
                         str(event[1]).strip(),
                         "behavior": code, "behavioral_category": categories.get(code, ""),
                         "modifiers": _clean_modifiers(modifiers.split("|")) if modifiers else "",
                         "time": time,
                         "comment": str(event[4]) if len(event) > 4 and event[4] else "",
                         "media_file": media_file,
                         "status": "POINT" if kinds.get(code, "POINT") == "POINT" else None})
    if problems:
        raise ValidationError(problems, what=source)
    frame = pd.DataFrame(rows, columns=["observation", "subject", "behavior",
                                        "behavioral_category", "modifiers", "time", "comment",
                                        "media_file", "status"])
    # state events alternate START, STOP per observation, subject and behaviour
    states = frame["status"].isna()
    if states.any():
        order = frame[states].groupby(["observation", "subject", "behavior"]).cumcount()
        frame.loc[states, "status"] = np.where(order % 2 == 0, "START", "STOP")
    return _pair_states(frame, source)


def read_boris(path: str | Path) -> pd.DataFrame:
    """Read a BORIS export (tabular or aggregated events, TSV/CSV/XLSX) or ``.boris`` project.

    Returns
    -------
    pandas.DataFrame
        One row per occurrence with the columns of :data:`BORIS_OCCURRENCE_COLUMNS`: ``subject``
        is ``""`` for events coded without a subject (BORIS' "No focal subject"), ``modifiers``
        the modifier sets joined by ``|``, ``behavior_type`` ``POINT`` or ``STATE``, ``start``
        and ``stop`` in seconds (equal for point events).

    Raises
    ------
    DataError
        If the file is not a BORIS export; ValidationError listing bad rows.
    """
    path = Path(path)
    source = path.name
    if not path.exists():
        raise NotFoundError(f"{path}: no such file; check the path")
    if path.suffix.lower() == ".boris":
        return _read_project(path, source)
    rows = _raw_rows(path, source)
    header = _header_index(rows, source)
    if "Start (s)" in rows[header]:
        return _read_aggregated(rows, header, source)
    return _read_tabular(rows, header, source)


@dataclass(frozen=True)
class BorisMapping:
    """How BORIS observations, subjects, behaviours and modifiers become classdyad events.

    Attributes
    ----------
    observations
        BORIS observation id -> ``{"lesson": id, "teacher": code, "coder": code}`` (teacher and
        coder optional; a bare number is the lesson id).
    subjects
        BORIS subject -> student code, or ``"class"`` / ``"group"`` for non-student targets.
        Subjects not listed are taken to be student codes; events without a subject are
        class-directed.
    behaviors
        Behaviour code -> ``{"valence": ..., "subtype": ..., "target_kind": ...}`` (a bare
        string is the valence).
    modifier_fields
        What each modifier set holds, in order (``Modifier #1``, ...): one of ``valence``,
        ``subtype``, ``target_kind``, ``teacher``, ``coder`` or ``ignore``.
    modifiers
        Modifier value -> ``{"valence": ..., "subtype": ..., "target_kind": ...}`` overrides.
    ignore
        Behaviour codes to leave out (e.g. "lesson start").
    teacher, coder
        Defaults for every observation (the lesson's only teacher when no teacher is given).
    """

    observations: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    subjects: Mapping[str, str] = field(default_factory=dict)
    behaviors: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    modifier_fields: tuple[str, ...] = ()
    modifiers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    teacher: str | None = None
    coder: str | None = None

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "mapping") -> BorisMapping:
        """Build a mapping from a parsed YAML document (see the attributes)."""
        if not isinstance(data, Mapping):
            raise DataError(f"{source}: a BORIS mapping is a YAML mapping with the keys "
                            "observations, subjects, behaviors, modifier_fields, modifiers, "
                            "ignore, teacher and coder")
        known = {"observations", "subjects", "behaviors", "modifier_fields", "modifiers",
                 "ignore", "teacher", "coder"}
        unknown = sorted(set(map(str, data)) - known)
        if unknown:
            raise DataError(f"{source}: unknown key(s) {unknown}; use {', '.join(sorted(known))}")

        def table(key: str) -> dict[str, Any]:
            part = data.get(key) or {}
            if not isinstance(part, Mapping):
                raise DataError(f"{source}: {key} must map names to values")
            return {str(k): v for k, v in part.items()}

        def fields(key: str, value: Any, name: str) -> dict[str, str]:
            if isinstance(value, str):
                return {name: value}
            if isinstance(value, int | float) and name == "lesson":
                return {name: value}
            if not isinstance(value, Mapping):
                raise DataError(f"{source}: {key} must be a {name} or a mapping, not {value!r}")
            return {str(k): v for k, v in value.items()}

        observations = {k: fields(f"observations.{k}", v, "lesson")
                        for k, v in table("observations").items()}
        behaviors = {k: fields(f"behaviors.{k}", v, "valence")
                     for k, v in table("behaviors").items()}
        modifiers = {k: fields(f"modifiers.{k}", v, "valence")
                     for k, v in table("modifiers").items()}
        modifier_fields = tuple(str(f) for f in (data.get("modifier_fields") or ()))
        bad = [f for f in modifier_fields if f not in _MODIFIER_FIELDS]
        if bad:
            raise DataError(f"{source}: modifier_fields {bad} are not known; use "
                            f"{', '.join(_MODIFIER_FIELDS)}")
        return cls(observations=observations,
                   subjects={k: str(v) for k, v in table("subjects").items()},
                   behaviors=behaviors, modifier_fields=modifier_fields, modifiers=modifiers,
                   ignore=tuple(str(b) for b in (data.get("ignore") or ())),
                   teacher=None if data.get("teacher") is None else str(data["teacher"]),
                   coder=None if data.get("coder") is None else str(data["coder"]))

    @classmethod
    def from_yaml(cls, path: str | Path) -> BorisMapping:
        """Read a mapping from a YAML file."""
        from classdyad.io.mapping import load_yaml

        return cls.from_dict(load_yaml(path), source=Path(path).name)

    def to_dict(self) -> dict[str, Any]:
        """The mapping as plain data (for YAML)."""
        return {"observations": {k: dict(v) for k, v in self.observations.items()},
                "subjects": dict(self.subjects),
                "behaviors": {k: dict(v) for k, v in self.behaviors.items()},
                "modifier_fields": list(self.modifier_fields),
                "modifiers": {k: dict(v) for k, v in self.modifiers.items()},
                "ignore": list(self.ignore), "teacher": self.teacher, "coder": self.coder}


def _client_ids(occurrences: pd.DataFrame) -> list[str]:
    """Stable ids: the classdyad id in the comment, else a hash of the occurrence's content."""
    keys = occurrences[["observation", "start", "subject", "behavior", "modifiers"]].astype(str)
    text = keys["observation"]
    for column in ("start", "subject", "behavior", "modifiers"):
        text = text + "\x1f" + keys[column]
    repeat = text.groupby(text).cumcount().astype(str)
    ids = []
    for comment, content, n in zip(occurrences["comment"].fillna("").astype(str), text, repeat,
                                   strict=True):
        if comment.startswith(CLIENT_ID_PREFIX) and len(comment) > len(CLIENT_ID_PREFIX):
            ids.append(comment[len(CLIENT_ID_PREFIX):].strip()[:64])
        else:
            digest = hashlib.sha1(f"{content}\x1f{n}".encode(), usedforsecurity=False)
            ids.append("boris-" + digest.hexdigest()[:26])
    return ids


def boris_interaction_events(occurrences: pd.DataFrame, mapping: BorisMapping, *,
                             source: str = "boris") -> pd.DataFrame:
    """Turn BORIS occurrences into interaction events with codes, ready to import.

    Every occurrence becomes one event at its start time. Returns the columns of
    :data:`classdyad.store.importing.EVENT_IMPORT_COLUMNS` (``teacher`` missing where neither
    the mapping nor a modifier names one: the importer then uses the lesson's only teacher).

    Raises
    ------
    ValidationError
        Listing every occurrence whose observation, behaviour or valence cannot be mapped.
    """
    keep = ~occurrences["behavior"].isin(mapping.ignore)
    data = occurrences[keep].reset_index(drop=True)
    rows = np.flatnonzero(keep.to_numpy())
    problems: list[Problem] = []
    records: list[dict[str, Any]] = []
    for i, occurrence in enumerate(data.itertuples(index=False)):
        row = int(rows[i]) + 1
        values: dict[str, Any] = {"valence": None, "target_kind": None,
                                  "teacher": mapping.teacher, "coder": mapping.coder}
        place = mapping.observations.get(occurrence.observation)
        if place is None or "lesson" not in place:
            problems.append(Problem("the mapping gives no lesson for this observation; add it "
                                    "under observations", source=source, row=row,
                                    column="observation", value=occurrence.observation))
            continue
        for key in ("teacher", "coder"):
            if place.get(key) is not None:
                values[key] = str(place[key])
        values.update({k: v for k, v in mapping.behaviors.get(occurrence.behavior, {}).items()
                       if k in ("valence", "subtype", "target_kind")})
        parts = occurrence.modifiers.split("|") if occurrence.modifiers else []
        for position, part in enumerate(parts):
            name = (mapping.modifier_fields[position]
                    if position < len(mapping.modifier_fields) else None)
            if name not in (None, "ignore") and part:
                values[name] = part
            values.update({k: v for k, v in mapping.modifiers.get(part, {}).items()
                           if k in ("valence", "subtype", "target_kind")})
        subject = occurrence.subject
        target = mapping.subjects.get(subject, subject) if subject else "class"
        if target in (TargetKind.CLASS.value, TargetKind.GROUP.value):
            values["target_kind"] = values["target_kind"] or target
            student = None
        else:
            values["target_kind"] = values["target_kind"] or TargetKind.STUDENT.value
            student = target
        if values["target_kind"] != TargetKind.STUDENT.value:
            student = None
        if values["valence"] not in {v.value for v in Valence}:
            problems.append(Problem("no valence (positive, negative, neutral) for this "
                                    "behaviour; map it under behaviors or modifiers, or list it "
                                    "under ignore", source=source, row=row, column="behavior",
                                    value=occurrence.behavior))
            continue
        records.append({"lesson_id": place["lesson"], "video_seconds": occurrence.start,
                        "student": student, "subtype": values.get("subtype", occurrence.behavior),
                        **{k: values[k] for k in ("valence", "target_kind", "teacher",
                                                  "coder")},
                        "_row": i})
    if problems:
        raise ValidationError(problems, what=source)
    ids = _client_ids(data)
    out = pd.DataFrame(records, columns=["lesson_id", "video_seconds", "student", "subtype",
                                         "valence", "target_kind", "teacher", "coder", "_row"])
    out.insert(0, "client_id", [ids[i] for i in out["_row"]])
    columns = ["client_id", "lesson_id", "video_seconds", "teacher", "target_kind", "student",
               "valence", "subtype", "coder"]
    return out[columns].astype(object).where(out[columns].notna(), None)


__all__ = ["BORIS_OCCURRENCE_COLUMNS", "CLIENT_ID_PREFIX", "NO_FOCAL_SUBJECT", "BorisMapping",
           "boris_interaction_events", "read_boris"]
