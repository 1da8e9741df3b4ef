"""Writing coded events in BORIS' current (9.x) tabular-events layout, and reading them back.

:func:`write_boris_tabular` writes one row per event in the layout BORIS 8.x/9.x writes with
"Export events -> Tabular events" (:data:`BORIS_TABULAR_HEAD`, subject, behaviour, behavioural
category, the modifier columns and :data:`BORIS_TABULAR_TAIL`): every event is a point event,
the subject is the student (BORIS' "No focal subject" for group and class targets), the behaviour
is the subtype, the modifier sets are valence, target kind and teacher, and the comment holds the
event's client id. :func:`boris_export_mapping` gives the
:class:`~classdyad.io.boris.BorisMapping` that imports such a file back exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import pandas as pd

from classdyad.errors import check_option
from classdyad.io.boris import CLIENT_ID_PREFIX, NO_FOCAL_SUBJECT, BorisMapping

#: the current (9.x) tabular-events header, without independent variables and modifier columns
BORIS_TABULAR_HEAD = ("Observation id", "Observation date", "Description",
                      "Observation duration", "Observation type", "Source", "Time offset (s)",
                      "Media duration (s)", "FPS")
BORIS_TABULAR_TAIL = ("Behavior type", "Time", "Media file name", "Image index",
                      "Image file path", "Comment")


def _format_seconds(value: float) -> str:
    """Seconds as BORIS writes them (3 decimals), or in full when 3 decimals would round."""
    return f"{value:.3f}" if round(value, 3) == value else repr(float(value))


def write_boris_tabular(events: pd.DataFrame, path: str | Path, *,
                        format: Literal["tsv", "csv", "xlsx"] | None = None) -> Path:
    """Write coded events as a BORIS tabular-events file in the current (9.x) layout.

    Parameters
    ----------
    events
        One row per event with ``observation`` (e.g. ``"lesson 12"``), ``observation_date``,
        ``media_file``, ``video_seconds``, ``student`` (code or missing), ``subtype``,
        ``valence``, ``target_kind``, ``teacher`` and ``client_id``. Every event is a point
        event; the subject is the student (``No focal subject`` for group and class targets),
        the behaviour the subtype, and the modifier sets are valence, target kind and teacher.
    path
        The file to write.
    format
        ``"tsv"``, ``"csv"`` or ``"xlsx"``; default from the suffix.

    Returns
    -------
    pathlib.Path
        The file written (written to a temporary name, then moved into place).
    """
    path = Path(path)
    chosen = check_option("format", format or path.suffix.lower().lstrip(".") or "tsv",
                          ("tsv", "csv", "xlsx"))
    ordered = events.sort_values(["observation", "video_seconds"], kind="stable")
    n = len(ordered)
    frame = pd.DataFrame({
        "Observation id": ordered["observation"].astype(str).to_numpy(),
        "Observation date": ordered.get("observation_date", pd.Series([""] * n)).fillna("")
        .astype(str).to_numpy(),
        "Description": [""] * n,
        "Observation duration": ordered.groupby("observation")["video_seconds"]
        .transform("max").map(_format_seconds).to_numpy(),
        "Observation type": ["Media file(s)"] * n,
        "Source": ["player #1:" + str(m) if isinstance(m, str) and m else ""
                   for m in ordered.get("media_file", pd.Series([""] * n))],
        "Time offset (s)": ["0.0"] * n,
        "Media duration (s)": ["NA"] * n,
        "FPS": ["NA"] * n,
        "Subject": ordered["student"].astype(object).where(ordered["student"].notna(),
                                                           NO_FOCAL_SUBJECT).to_numpy(),
        "Behavior": ordered["subtype"].astype(object).where(ordered["subtype"].notna(),
                                                            ordered["valence"]).to_numpy(),
        "Behavioral category": ordered["valence"].to_numpy(),
        "Modifier #1": ordered["valence"].to_numpy(),
        "Modifier #2": ordered["target_kind"].to_numpy(),
        "Modifier #3": ordered["teacher"].to_numpy(),
        "Behavior type": ["POINT"] * n,
        "Time": ordered["video_seconds"].map(_format_seconds).to_numpy(),
        "Media file name": ordered.get("media_file", pd.Series(["NA"] * n)).fillna("NA")
        .to_numpy(),
        "Image index": ["NA"] * n,
        "Image file path": ["NA"] * n,
        "Comment": [CLIENT_ID_PREFIX + str(c) for c in ordered["client_id"]],
    })
    temporary = path.with_name(path.name + ".partial")
    if chosen == "xlsx":
        frame.to_excel(temporary, index=False, engine="openpyxl", sheet_name="events")
    else:
        frame.to_csv(temporary, index=False, sep="\t" if chosen == "tsv" else ",",
                     lineterminator="\n")
    temporary.replace(path)
    return path


def boris_export_mapping(events: pd.DataFrame) -> BorisMapping:
    """The mapping that imports a file of :func:`write_boris_tabular` back exactly."""
    lessons = events.drop_duplicates("observation")
    observations = {str(o): {"lesson": int(lesson), **({"coder": str(c)} if pd.notna(c) else {})}
                    for o, lesson, c in zip(lessons["observation"], lessons["lesson_id"],
                                            lessons.get("coder", pd.Series([None] * len(lessons))),
                                            strict=True)}
    behaviors: dict[str, dict[str, Any]] = {}
    for subtype, valence in events[["subtype", "valence"]].drop_duplicates().itertuples(
            index=False):
        if pd.notna(subtype):
            behaviors[str(subtype)] = {"subtype": str(subtype)}
        else:  # written with the valence as behaviour; read back without a subtype
            behaviors[str(valence)] = {"subtype": None}
    return BorisMapping(observations=observations, behaviors=behaviors,
                        modifier_fields=("valence", "target_kind", "teacher"))


__all__ = ["BORIS_TABULAR_HEAD", "BORIS_TABULAR_TAIL", "boris_export_mapping",
           "write_boris_tabular"]
