"""Reading trial-level IAT data: a column mapping, block roles and checks of every row.

The scoring functions of :mod:`classdyad.measures.iat` start here. Every block gets a role
(practice or test block of the compatible or the incompatible pairing, or ``ignore``); blocks whose
role depends on the counterbalanced order are keyed on several columns. Every row with an unknown
block, a missing, non-numeric or negative latency, or an error flag other than 0/1 is reported in
one :class:`~classdyad.errors.ValidationError`, so that a data file can be fixed in one pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from classdyad.errors import DataError, OptionError, Problem, ValidationError, check_option

__all__ = ["IAT_ROLES", "IatRole", "read_iat_trials"]

IatRole = Literal[
    "practice_compatible", "practice_incompatible", "test_compatible", "test_incompatible", "ignore"
]
IAT_ROLES: tuple[IatRole, ...] = (
    "practice_compatible",
    "practice_incompatible",
    "test_compatible",
    "test_incompatible",
    "ignore",
)
_COLUMN_KEYS = ("participant", "block", "trial", "latency", "error", "correct", "corrected_latency")
_DEFAULT_COLUMNS = {
    "participant": "participant",
    "block": "block",
    "trial": "trial",
    "latency": "latency",
    "error": "error",
}


def read_iat_trials(
    trials: pd.DataFrame,
    *,
    blocks: Mapping[Any, IatRole] | None = None,
    columns: Mapping[str, str | Sequence[str] | None] | None = None,
    source: str | None = None,
) -> pd.DataFrame:
    """Check trial-level IAT data and bring it into classdyad's standard layout.

    Parameters
    ----------
    trials
        One row per trial.
    blocks
        Role of every block value (a tuple key when ``columns["block"]`` names several columns):
        one of ``practice_compatible``, ``practice_incompatible``, ``test_compatible``,
        ``test_incompatible``, ``ignore``. ``None``: the block column holds the role names.
    columns
        Column names by key: ``participant``, ``block`` (a name or a list of names), ``trial``
        (optional; ``None`` uses the row order), ``latency`` (ms), ``error`` (1/True = error) or
        ``correct`` (1/True = correct), and optionally ``corrected_latency`` (ms to the corrected
        response). Keys not given take the names ``participant``, ``block``, ``trial``,
        ``latency``, ``error``.
    source
        A file name to show in error messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``participant``, ``block``, ``role``, ``pair`` (``practice``/``test``),
        ``compatible``, ``position`` (trial order within participant and role), ``latency``,
        ``error``, ``corrected_latency``, ``row`` (1-based input row); ``ignore`` rows dropped.

    Raises
    ------
    ValidationError
        Rows with an unknown block, a negative, missing or non-numeric latency, or an error flag
        that is not 0/1; every such row is listed.
    """
    mapping = _column_mapping(trials, columns)
    problems: list[Problem] = []
    n = len(trials)
    rows = np.arange(1, n + 1)
    block_cols = mapping["block"]
    if len(block_cols) == 1:
        block_key = pd.Series(trials[block_cols[0]].to_numpy(), dtype=object)
    else:
        block_key = pd.Series(list(zip(*(trials[c].to_numpy() for c in block_cols), strict=True)))
    role_of = _block_roles(blocks, block_key)
    roles = block_key.map(lambda key: role_of.get(key, None) if _hashable(key) else None)
    shown_block = block_cols[0] if len(block_cols) == 1 else "+".join(block_cols)
    allowed_blocks = ", ".join(repr(k) for k in role_of) or "(none)"
    for position in np.flatnonzero(roles.isna().to_numpy()):
        problems.append(
            Problem(
                f"unknown block; add it to the block mapping (known: {allowed_blocks}) or map it "
                "to 'ignore'",
                source=source,
                row=int(rows[position]),
                column=shown_block,
                value=_plain(block_key.iloc[position]),
            )
        )
    latency = _checked_latency(trials, mapping["latency"], source, problems, required=True)
    corrected = (
        _checked_latency(trials, mapping["corrected_latency"], source, problems, required=False)
        if mapping.get("corrected_latency")
        else np.full(n, np.nan)
    )
    error = _checked_flag(trials, mapping, source, problems)
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise ValidationError(problems, what=source or "IAT trials")
    standard = pd.DataFrame(
        {
            "participant": trials[mapping["participant"]].to_numpy(),
            "block": block_key.to_numpy(),
            "role": roles.to_numpy(),
            "latency": latency,
            "error": error,
            "corrected_latency": corrected,
            "row": rows,
        }
    )
    if mapping.get("trial"):
        standard["trial"] = pd.to_numeric(trials[mapping["trial"]], errors="coerce").to_numpy()
    else:
        standard["trial"] = rows
    standard = standard[standard["role"] != "ignore"].copy()
    standard["pair"] = standard["role"].str.split("_").str[0]
    standard["compatible"] = standard["role"].str.endswith("_compatible")
    first_row = standard.groupby(["participant", "block"], sort=False)["row"].transform("min")
    standard = (
        standard.assign(_first=first_row)
        .sort_values(["participant", "_first", "trial", "row"], kind="stable")
        .drop(columns="_first")
    )
    standard["position"] = standard.groupby(["participant", "role"], sort=False).cumcount()
    order = ["participant", "block", "role", "pair", "compatible", "position", "latency"]
    order += ["error", "corrected_latency", "row"]
    return standard[order].reset_index(drop=True)


def _column_mapping(
    trials: pd.DataFrame, columns: Mapping[str, str | Sequence[str] | None] | None
) -> dict[str, Any]:
    if not isinstance(trials, pd.DataFrame):
        raise DataError(f"trials must be a pandas DataFrame, not {type(trials).__name__}")
    given = dict(columns or {})
    unknown = [k for k in given if k not in _COLUMN_KEYS]
    if unknown:
        raise OptionError(f"unknown column keys {unknown}; use {', '.join(_COLUMN_KEYS)}")
    if "error" in given and "correct" in given:
        raise OptionError("give columns['error'] or columns['correct'], not both")
    mapping: dict[str, Any] = {**_DEFAULT_COLUMNS, **given}
    if "correct" in given:
        mapping.pop("error")
    if "trial" not in given and "trial" not in trials.columns:
        mapping["trial"] = None
    block = mapping["block"]
    mapping["block"] = [block] if isinstance(block, str) else list(block)
    needed = [mapping["participant"], *mapping["block"], mapping["latency"]]
    needed += [mapping.get("error") or mapping["correct"]]
    needed += [mapping[k] for k in ("trial", "corrected_latency") if mapping.get(k)]
    absent = [c for c in needed if c not in trials.columns]
    if absent:
        raise DataError(
            f"IAT trials lack columns {absent}; name the right columns with columns= "
            f"(keys {', '.join(_COLUMN_KEYS)})"
        )
    return mapping


def _block_roles(blocks: Mapping[Any, IatRole] | None, block_key: pd.Series) -> dict[Any, str]:
    if blocks is None:
        role_of = {role: role for role in IAT_ROLES}
    else:
        role_of = dict(blocks)
        for key, role in role_of.items():
            check_option(f"blocks[{key!r}]", role, IAT_ROLES)
    used = {r for r in role_of.values() if r != "ignore"}
    if blocks is None:
        used = {r for r in block_key.unique() if r in role_of and r != "ignore"}
    if not used:
        raise OptionError("no block is mapped to a scored role; map blocks to the IAT roles")
    return role_of


def _checked_latency(
    trials: pd.DataFrame,
    column: str,
    source: str | None,
    problems: list[Problem],
    *,
    required: bool,
) -> np.ndarray:
    raw = trials[column]
    numeric = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    missing = raw.isna().to_numpy()
    bad_text = ~missing & ~np.isfinite(numeric)
    for position in np.flatnonzero(bad_text | (missing & required)):
        problems.append(
            Problem(
                "latency must be a number of milliseconds; fix or remove the trial",
                source=source,
                row=int(position) + 1,
                column=column,
                value=_plain(raw.iloc[position]),
            )
        )
    for position in np.flatnonzero(np.isfinite(numeric) & (numeric < 0)):
        problems.append(
            Problem(
                "latency is negative; latencies are milliseconds >= 0 (check the column mapping)",
                source=source,
                row=int(position) + 1,
                column=column,
                value=_plain(raw.iloc[position]),
            )
        )
    return numeric


def _checked_flag(
    trials: pd.DataFrame, mapping: Mapping[str, Any], source: str | None, problems: list[Problem]
) -> np.ndarray:
    column = mapping.get("error") or mapping["correct"]
    raw = trials[column]
    numeric = pd.to_numeric(raw.astype(object).replace({True: 1, False: 0}), errors="coerce")
    values = numeric.to_numpy(dtype=float)
    bad = ~np.isin(values, (0.0, 1.0))
    for position in np.flatnonzero(bad):
        problems.append(
            Problem(
                f"the {'error' if 'error' in mapping else 'correct'} flag must be 0 or 1 "
                "(or True/False)",
                source=source,
                row=int(position) + 1,
                column=column,
                value=_plain(raw.iloc[position]),
            )
        )
    flag = values == 1.0
    return flag if "error" in mapping else ~flag


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value
