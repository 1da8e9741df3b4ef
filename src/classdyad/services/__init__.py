"""Policy shared by every door into and out of a study: the command line and the web application.

- :mod:`~classdyad.services.exports`: exports with names left out unless asked for, each audited;
- :mod:`~classdyad.services.imports`: file imports, all or nothing, with located problems;
- :mod:`~classdyad.services.privacy`: which columns each role may see, minimum cell sizes and
  suppression of small groups;
- :mod:`~classdyad.services.accounts`: user accounts with argon2id password hashes;
- :mod:`~classdyad.services.coaching`: teachers' coaching goals, notes and invited coaches,
  private to the teacher and those coaches; :mod:`~classdyad.services.teacher_dashboard`: what
  the teacher's dashboard shows.
"""

from classdyad.services.exports import (
    DATASET_FORMATS,
    ExportRecord,
    analysis_data,
    export_dataset,
    export_events,
    record_export,
)
from classdyad.services.imports import import_file, problem_records
from classdyad.services.privacy import (
    BACKGROUND_FIELDS,
    PrivacySettings,
    filter_frame,
    filter_record,
    group_summary,
    hidden_columns,
    privacy_settings,
    suppress_small_cells,
    visible_columns,
)

__all__ = [
    "BACKGROUND_FIELDS",
    "DATASET_FORMATS",
    "ExportRecord",
    "PrivacySettings",
    "analysis_data",
    "export_dataset",
    "export_events",
    "filter_frame",
    "filter_record",
    "group_summary",
    "hidden_columns",
    "import_file",
    "privacy_settings",
    "problem_records",
    "record_export",
    "suppress_small_cells",
    "visible_columns",
]
