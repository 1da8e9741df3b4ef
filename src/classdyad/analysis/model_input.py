"""Checks and preparation of the columns handed to mediation, moderation and negativity bias.

Each of those functions names its variables by role (exposure, mediator, outcome, cluster, ...).
:func:`prepare_columns` checks that every named column exists, keeps the rows where all of them
are observed (listwise deletion, as lme4's ``na.omit``), turns booleans into 0/1 numbers and
refuses numeric roles that are not numeric; :func:`require_variation` and
:func:`require_within_variation` refuse variables that cannot identify the effect asked for, with
a message that names the variable and says what to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from classdyad.errors import DataError

__all__ = [
    "prepare_columns",
    "require_variation",
    "require_within_variation",
]


def prepare_columns(
    data: pd.DataFrame,
    roles: Mapping[str, Sequence[str]],
    *,
    numeric: Sequence[str],
) -> pd.DataFrame:
    """The rows of ``data`` with every named column observed, booleans as 0/1.

    Parameters
    ----------
    data
        The user's data frame.
    roles
        ``{role: [column, ...]}``, e.g. ``{"exposure": ["low_ses"], "cluster": ["classroom"]}``;
        the role is named in error messages.
    numeric
        Columns that must be numeric (booleans count as numeric 0/1).

    Returns
    -------
    DataFrame
        A copy holding only the named columns and the complete rows, with a fresh index.
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"data must be a pandas DataFrame with one row per observation, got "
            f"{type(data).__name__}"
        )
    columns: list[str] = []
    for role, names in roles.items():
        for name in names:
            if not isinstance(name, str):
                raise DataError(f"the {role} must be given as a column name (a string), "
                                f"got {name!r}")
            if name not in data.columns:
                shown = ", ".join(map(str, data.columns[:30]))
                raise DataError(
                    f"column {name!r} (the {role}) is not in the data; pass the name of one of "
                    f"its columns: {shown}"
                )
            if name not in columns:
                columns.append(name)
    frame = data.loc[:, columns]
    complete = frame.notna().all(axis=1)
    frame = frame.loc[complete].reset_index(drop=True)
    if frame.empty:
        raise DataError(
            f"no row has all of {columns} observed; check those columns for missing values"
        )
    for name in numeric:
        values = frame[name]
        if pd.api.types.is_bool_dtype(values):
            frame[name] = values.astype(float)
        elif pd.api.types.is_numeric_dtype(values):
            frame[name] = values.astype(float)
        else:
            raise DataError(
                f"column {name!r} must be numeric (a group as 0/1 or True/False), it holds "
                f"{values.dtype} values; convert it first, e.g. with pd.to_numeric or "
                f"data[{name!r}] == 'level'"
            )
        infinite = ~np.isfinite(frame[name].to_numpy())
        if infinite.any():
            role = next(r for r, names in roles.items() if name in names)
            rows = np.flatnonzero(infinite)[:5].tolist()
            raise DataError(
                f"column {name!r} (the {role}) is infinite in {int(infinite.sum())} complete "
                f"row(s) (positions {rows}); replace those values or drop the rows"
            )
    return frame


def require_variation(frame: pd.DataFrame, column: str, role: str) -> None:
    """Raise :class:`DataError` when ``column`` takes a single value in ``frame``.

    An exposure coded 0/1 with a single value is reported as a group with no members.
    """
    values = frame[column].to_numpy(dtype=float)
    distinct = np.unique(values)
    if distinct.size >= 2:
        return
    n = values.size
    if role == "exposure" and distinct.size == 1 and distinct[0] in (0.0, 1.0):
        empty = 1 if distinct[0] == 0.0 else 0
        raise DataError(
            f"the {role} {column!r} is {int(distinct[0])} in all {n} complete rows: the group "
            f"{column} = {empty} has no members, so its effect cannot be estimated; check the "
            "coding of the group (or the missing values in the other columns) or choose a "
            "group with members"
        )
    raise DataError(
        f"the {role} {column!r} has no variance: it is {float(distinct[0])!r} in all {n} complete "
        "rows, so no model of it (or with it) can be estimated; check that the right column is "
        "given and that it was computed correctly"
    )


def require_within_variation(
    frame: pd.DataFrame, column: str, role: str, cluster: str, *, hint: str | None = None
) -> None:
    """Raise :class:`DataError` when ``column`` is constant within every level of ``cluster``.

    ``hint`` replaces the default advice (use ``decomposition='none'``).
    """
    grouped = frame.groupby(cluster, sort=False, observed=True)[column]
    spread = (grouped.max() - grouped.min()).astype(float)  # the range (np.ptp) per cluster
    if (spread <= 1e-12 * max(1.0, float(np.abs(frame[column]).max()))).all():
        advice = hint or (
            "use decomposition='none' for a variable measured per cluster, or give a variable "
            f"that varies within each {cluster}")
        raise DataError(
            f"the {role} {column!r} is constant within every {cluster!r} (it varies only "
            f"between them), so its within-{cluster} effect is not defined; {advice}"
        )
