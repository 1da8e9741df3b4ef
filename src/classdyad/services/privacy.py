"""Who may see which columns, and the minimum cell size of group summaries (DESIGN.md, privacy).

The rules live here once, for every door out of the database (the command line, the web
application, exports):

- students are known by pseudonymous codes; names (``first_name``, ``last_name``) leave the
  database only when asked for, and coders see first names only where the study enables it
  (``coders_see_first_names``: a coder must recognise children on video);
- background variables (countries of birth, parents' education and every group derived from
  them: SES, migration background, origin) are for researchers (and admins) only; teachers see
  background *groups* only where the study enables it (``teachers_see_background_groups``), and
  then only group summaries of at least ``min_cell_size`` students;
- any group summary shown outside the researcher role is suppressed below the study's
  ``min_cell_size`` (5 by default), with complementary suppression so that a hidden cell cannot be
  worked out from the others and a total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from classdyad.errors import DataError, check_option
from classdyad.model.background import BACKGROUND_COLUMNS
from classdyad.model.enums import Role

ROLES = tuple(role.value for role in Role)

#: raw background variables of a student (stored as given)
RAW_BACKGROUND_COLUMNS: tuple[str, ...] = BACKGROUND_COLUMNS
#: background groups derived from the raw variables by rule
DERIVED_BACKGROUND_COLUMNS: tuple[str, ...] = (
    "migration_background", "migration_generation", "migration_origin_country", "non_western",
    "turkish_moroccan", "origin_2022", "origin_country_2022", "origin_group_2022",
    "pupil_weight", "low_ses", "ses",
)
#: every background column: researchers' eyes only (DESIGN.md)
BACKGROUND_FIELDS: frozenset[str] = frozenset(RAW_BACKGROUND_COLUMNS
                                              + DERIVED_BACKGROUND_COLUMNS)
#: teachers' implicit-attitude scores: researchers only as well
IAT_FIELDS: frozenset[str] = frozenset({"teacher_iat_ethnicity", "teacher_iat_ses"})
#: students' names, kept only in the roster table
NAME_FIELDS: tuple[str, str] = ("first_name", "last_name")

DEFAULT_MIN_CELL_SIZE = 5


@dataclass(frozen=True)
class PrivacySettings:
    """The privacy options of one study (its ``settings``), with their defaults.

    Parameters
    ----------
    min_cell_size
        The smallest group shown in a summary outside the researcher role (default 5).
    coders_see_first_names
        Coders see students' first names beside their codes (default: codes only).
    teachers_see_background_groups
        Teachers may see group summaries by background (default: never).
    """

    min_cell_size: int = DEFAULT_MIN_CELL_SIZE
    coders_see_first_names: bool = False
    teachers_see_background_groups: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The settings as stored in a study's ``settings``."""
        return {"min_cell_size": self.min_cell_size,
                "coders_see_first_names": self.coders_see_first_names,
                "teachers_see_background_groups": self.teachers_see_background_groups}


def privacy_settings(settings: Mapping[str, Any] | None) -> PrivacySettings:
    """Read the privacy options from a study's ``settings`` (missing ones take the defaults).

    Raises
    ------
    DataError
        If ``min_cell_size`` is not a whole number of at least 1.
    """
    settings = settings or {}
    minimum = settings.get("min_cell_size", DEFAULT_MIN_CELL_SIZE)
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 1:
        raise DataError(f"the study's min_cell_size is {minimum!r}; set it to a whole number "
                        f"of at least 1 (the default is {DEFAULT_MIN_CELL_SIZE})")
    return PrivacySettings(
        min_cell_size=minimum,
        coders_see_first_names=bool(settings.get("coders_see_first_names", False)),
        teachers_see_background_groups=bool(settings.get("teachers_see_background_groups",
                                                         False)))


def hidden_columns(role: str, settings: Mapping[str, Any] | PrivacySettings | None = None,
                   *, include_names: bool = False) -> frozenset[str]:
    """The columns a role may not see in row-level data (one row per student or event).

    Researchers and admins see everything except names, which need ``include_names``; coders see
    neither background nor IAT columns, and first names only where the study enables it;
    teachers see their own students' first names, never row-level background or IAT columns
    (background groups reach them only as suppressed summaries, see :func:`group_summary`);
    coaches see pseudonymous codes only.
    """
    check_option("role", role, ROLES)
    options = settings if isinstance(settings, PrivacySettings) else privacy_settings(settings)
    if role in (Role.ADMIN, Role.RESEARCHER):
        return frozenset() if include_names else frozenset(NAME_FIELDS)
    hidden = set(BACKGROUND_FIELDS | IAT_FIELDS | {"last_name"})
    if (role == Role.CODER and not options.coders_see_first_names) or role == Role.COACH:
        hidden.add("first_name")
    return frozenset(hidden)


def visible_columns(columns: Iterable[str], role: str,
                    settings: Mapping[str, Any] | PrivacySettings | None = None, *,
                    include_names: bool = False) -> list[str]:
    """``columns`` without those the role may not see, in their order."""
    hidden = hidden_columns(role, settings, include_names=include_names)
    return [column for column in columns if column not in hidden]


def filter_frame(frame: pd.DataFrame, role: str,
                 settings: Mapping[str, Any] | PrivacySettings | None = None, *,
                 include_names: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` with only the columns ``role`` may see (see :func:`hidden_columns`)."""
    return frame[visible_columns(frame.columns, role, settings,
                                 include_names=include_names)].copy()


def filter_record(record: Mapping[str, Any], role: str,
                  settings: Mapping[str, Any] | PrivacySettings | None = None, *,
                  include_names: bool = False) -> dict[str, Any]:
    """One row (a mapping) with only the fields ``role`` may see."""
    hidden = hidden_columns(role, settings, include_names=include_names)
    return {key: value for key, value in record.items() if key not in hidden}


def suppress_small_cells(counts: pd.DataFrame, *, count_column: str = "students",
                         minimum: int = DEFAULT_MIN_CELL_SIZE,
                         value_columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Hide every cell of fewer than ``minimum`` units, and enough others to keep it hidden.

    ``counts`` holds the cells of one grouping (one row per group). A cell with fewer than
    ``minimum`` units has its count and values set to missing. When exactly one cell of the
    grouping is hidden, the next smallest is hidden too (complementary suppression), so that the
    hidden count cannot be found by subtracting the others from the total.

    Returns a copy with a boolean column ``suppressed``.
    """
    if minimum < 1:
        raise DataError(f"minimum cell size {minimum} is below 1; use 1 or more (default 5)")
    out = counts.copy()
    sizes = pd.to_numeric(out[count_column], errors="coerce")
    hidden = (sizes < minimum).fillna(True).to_numpy(dtype=bool, copy=True)
    if hidden.sum() == 1 and len(out) > 1:
        shown = sizes.where(~hidden).astype(float)
        hidden[int(shown.to_numpy().argsort(kind="stable")[0])] = True
    columns = [count_column, *(value_columns if value_columns is not None else
                               [c for c in out.columns if c != count_column
                                and pd.api.types.is_numeric_dtype(out[c])])]
    for column in columns:
        out[column] = out[column].astype(object).where(~hidden, None)
    out["suppressed"] = hidden
    return out


def group_summary(frame: pd.DataFrame, by: str, *, role: str,
                  settings: Mapping[str, Any] | PrivacySettings | None = None,
                  unit: str = "student", values: Iterable[str] = ()) -> pd.DataFrame:
    """Units and value means per group of ``by``, as ``role`` may see them.

    Researchers and admins get every cell. Coders never get background groups; teachers get them
    only where the study enables it, and then with cells under the study's ``min_cell_size``
    suppressed (:func:`suppress_small_cells`). A grouping that is not a background column is
    suppressed the same way for every role but researchers and admins.

    Raises
    ------
    DataError
        If the role may not see groups by ``by`` at all (how to allow it is in the message).
    """
    check_option("role", role, ROLES)
    options = settings if isinstance(settings, PrivacySettings) else privacy_settings(settings)
    values = list(values)
    if by in BACKGROUND_FIELDS and role not in (Role.ADMIN, Role.RESEARCHER):
        if role == Role.CODER or not options.teachers_see_background_groups:
            raise DataError(f"the {role} role may not see groups by {by!r} (a background "
                            "variable); only researchers may, unless the study enables "
                            "teachers_see_background_groups for teachers")
    grouped = frame.groupby(by, sort=True, dropna=False)
    summary = grouped[unit].nunique().rename("students").to_frame()
    for column in values:
        summary[column] = grouped[column].mean()
    summary = summary.reset_index()
    if role in (Role.ADMIN, Role.RESEARCHER):
        summary["suppressed"] = False
        return summary
    return suppress_small_cells(summary, count_column="students",
                                minimum=options.min_cell_size, value_columns=values)


__all__ = [
    "BACKGROUND_FIELDS",
    "DEFAULT_MIN_CELL_SIZE",
    "IAT_FIELDS",
    "NAME_FIELDS",
    "ROLES",
    "PrivacySettings",
    "filter_frame",
    "filter_record",
    "group_summary",
    "hidden_columns",
    "privacy_settings",
    "suppress_small_cells",
    "visible_columns",
]
