"""Scoring questionnaire responses with an instrument definition.

Scoring follows the instrument (see :mod:`classdyad.measures.instruments`):

1. Every answer is checked first. An answer must be a whole number on the response scale
   (``min`` to ``max``) or missing (``NaN``, ``None`` or an empty string). Any other cell (text,
   ``2.5``, ``7`` on a 1-5 scale) is reported, *all* of them at once, in one
   :class:`~classdyad.errors.ValidationError` naming row, column, value and the allowed range;
   nothing is scored.
2. Reverse-keyed items are recoded as ``min + max - x``.
3. Each subscale score is the mean of its answered (keyed) items, provided that at least the
   minimum-answered share of the subscale's items was answered (80 % by default, the instrument's
   ``min_answered``); otherwise the score is ``NaN``. The number of answered items is always
   reported next to the score, so a missing score can be traced.

Responses come *wide* (one row per respondent, e.g. dyad x wave, one column per item id) or *long*
(one row per answer, with an item column and a value column).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from classdyad.errors import DataError, Problem, ValidationError, check_option
from classdyad.measures.instruments import Instrument, load_instrument
from classdyad.measures.reliability import cronbach_alpha, mcdonald_omega

__all__ = ["QuestionnaireScores", "questionnaire_reliability", "score_questionnaire"]

ResponseLayout = Literal["wide", "long"]
_LAYOUTS: tuple[ResponseLayout, ...] = ("wide", "long")


@dataclass(frozen=True)
class QuestionnaireScores:
    """Subscale scores of one instrument.

    Attributes
    ----------
    instrument
        The instrument the responses were scored with.
    min_answered
        The minimum-answered share applied.
    id_columns
        The columns that identify a respondent (carried over from the input).
    scores
        One row per respondent: the id columns, then for each subscale ``<subscale>`` (the mean
        of answered keyed items, ``NaN`` under the minimum-answered rule) and
        ``<subscale>_n_answered``.
    keyed_items
        One row per respondent: the id columns and every item after reverse keying (``NaN`` where
        missing), ready for :func:`~classdyad.measures.cronbach_alpha`.
    """

    instrument: Instrument = field(repr=False)
    min_answered: float
    id_columns: tuple[str, ...]
    scores: pd.DataFrame = field(repr=False)
    keyed_items: pd.DataFrame = field(repr=False)

    def subscale_items(self, subscale: str) -> pd.DataFrame:
        """The keyed items of one subscale (one column per item)."""
        return self.keyed_items[list(self.instrument.subscale_items(subscale))]

    def to_frame(self) -> pd.DataFrame:
        """The scores table (a copy)."""
        return self.scores.copy()

    def _repr_html_(self) -> str:
        return (
            f"<p><b>{self.instrument.name}</b>: {len(self.scores)} respondents, minimum answered "
            f"{self.min_answered:.0%} of a subscale's items</p>" + self.scores.to_html(index=False)
        )


def score_questionnaire(
    responses: pd.DataFrame,
    instrument: Instrument | str | Path,
    *,
    layout: ResponseLayout = "wide",
    id_columns: list[str] | tuple[str, ...] | None = None,
    item_column: str = "item",
    value_column: str = "value",
    min_answered: float | None = None,
    source: str | None = None,
) -> QuestionnaireScores:
    """Score questionnaire responses: reverse keying, subscale means, minimum-answered rule.

    Parameters
    ----------
    responses
        Wide: one row per respondent (e.g. dyad x wave) with one column per item id of the
        instrument. Long: one row per answer with ``item_column`` and ``value_column``.
    instrument
        An :class:`Instrument`, the id of a shipped one (``"strs_short_form"``, ``"sparts"``) or
        the path of a YAML definition.
    layout
        ``"wide"`` or ``"long"``.
    id_columns
        Columns identifying a respondent. Default: every column that is not an item (wide) or not
        ``item_column`` / ``value_column`` (long).
    item_column, value_column
        Column names of the long layout.
    min_answered
        Share of a subscale's items that must be answered (0 < share <= 1); default the
        instrument's rule (0.8 unless the definition says otherwise).
    source
        A file name to show in error messages.

    Returns
    -------
    QuestionnaireScores

    Raises
    ------
    ValidationError
        Every answer that is not a whole number on the scale, every unknown item (long) or
        repeated answer, and any missing item column (wide); nothing is scored.

    Notes
    -----
    Keyed value ``x' = min + max - x`` for reverse-keyed items; subscale score
    ``mean(x' over answered items)`` if ``answered >= min_answered * n_items``, else ``NaN``.
    """
    check_option("layout", layout, _LAYOUTS)
    if not isinstance(instrument, Instrument):
        instrument = load_instrument(instrument)
    share = instrument.min_answered if min_answered is None else float(min_answered)
    if not 0 < share <= 1:
        raise DataError(f"min_answered={min_answered!r} must be a share in (0, 1], e.g. 0.8")
    if not isinstance(responses, pd.DataFrame):
        raise DataError(f"responses must be a pandas DataFrame, not {type(responses).__name__}")
    if layout == "wide":
        ids, values = _wide_values(responses, instrument, id_columns, source)
    else:
        ids, values = _long_values(
            responses, instrument, id_columns, item_column, value_column, source
        )
    id_cols = tuple(ids.columns)
    keyed = values.copy()
    scale = instrument.scale
    for item in instrument.items:
        if item.reverse:
            keyed[item.id] = scale.min + scale.max - keyed[item.id]
    score_columns: dict[str, pd.Series] = {}
    for subscale in instrument.subscales:
        item_ids = list(instrument.subscale_items(subscale))
        block = keyed[item_ids]
        answered = block.notna().sum(axis=1)
        needed = math.ceil(share * len(item_ids) - 1e-9)
        mean = block.mean(axis=1, skipna=True).where(answered >= needed)
        score_columns[subscale] = mean.astype(float)
        score_columns[f"{subscale}_n_answered"] = answered.astype(int)
    scores = pd.concat([ids, pd.DataFrame(score_columns, index=ids.index)], axis=1)
    keyed_items = pd.concat([ids, keyed], axis=1)
    return QuestionnaireScores(
        instrument=instrument,
        min_answered=share,
        id_columns=id_cols,
        scores=scores.reset_index(drop=True),
        keyed_items=keyed_items.reset_index(drop=True),
    )


def questionnaire_reliability(
    scores: QuestionnaireScores, *, confidence: float = 0.95
) -> pd.DataFrame:
    """Reliability of every subscale of a scored questionnaire.

    Parameters
    ----------
    scores
        The result of :func:`score_questionnaire` (its keyed items are used, pairwise).
    confidence
        Confidence level of alpha's Feldt interval.

    Returns
    -------
    pandas.DataFrame
        One row per subscale: ``subscale``, ``n_items``, ``n_observations``, ``alpha``,
        ``alpha_ci_lower``, ``alpha_ci_upper`` (Feldt), ``standardized_alpha``, ``omega_total``.
        See :func:`~classdyad.measures.cronbach_alpha` and
        :func:`~classdyad.measures.mcdonald_omega`.
    """
    rows = []
    for subscale in scores.instrument.subscales:
        items = scores.subscale_items(subscale)
        alpha = cronbach_alpha(items, confidence=confidence)
        omega = mcdonald_omega(items)
        rows.append(
            {
                "subscale": subscale,
                "n_items": alpha.n_items,
                "n_observations": alpha.n_observations,
                "alpha": alpha.alpha,
                "alpha_ci_lower": alpha.ci_lower,
                "alpha_ci_upper": alpha.ci_upper,
                "standardized_alpha": alpha.standardized_alpha,
                "omega_total": omega.omega_total,
            }
        )
    return pd.DataFrame(rows)


def _wide_values(
    responses: pd.DataFrame,
    instrument: Instrument,
    id_columns: list[str] | tuple[str, ...] | None,
    source: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    item_ids = list(instrument.item_ids)
    missing = [i for i in item_ids if i not in responses.columns]
    if missing:
        problems = [
            Problem(
                f"column for item {i!r} of instrument {instrument.id!r} is missing; add it "
                "(empty cells for unanswered items) or use the instrument that matches the data",
                source=source,
                column=i,
            )
            for i in missing
        ]
        raise ValidationError(problems, what=f"responses to {instrument.id}", limit=len(problems))
    ids = _id_frame(responses, id_columns, exclude=item_ids)
    values, problems = _check_values(responses[item_ids], instrument, source)
    if problems:
        raise ValidationError(problems, what=f"responses to {instrument.id}", limit=len(problems))
    return ids, values


def _long_values(
    responses: pd.DataFrame,
    instrument: Instrument,
    id_columns: list[str] | tuple[str, ...] | None,
    item_column: str,
    value_column: str,
    source: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    absent = [c for c in (item_column, value_column) if c not in responses.columns]
    if absent:
        raise DataError(
            f"long responses need columns {absent}; name them with item_column= and value_column="
        )
    ids = _id_frame(responses, id_columns, exclude=[item_column, value_column])
    id_cols = list(ids.columns)
    checked, problems = _check_values(
        responses[[value_column]].rename(columns={value_column: "_value"}),
        instrument,
        source,
        shown_column=value_column,
    )
    known = set(instrument.item_ids)
    items = responses[item_column]
    for position, item in enumerate(items.to_numpy()):
        if item not in known:
            problems.append(
                Problem(
                    f"unknown item of instrument {instrument.id!r}; use one of its item ids "
                    f"({', '.join(instrument.item_ids)})",
                    source=source,
                    row=position + 1,
                    column=item_column,
                    value=item,
                )
            )
    key = ids.assign(_item=items.to_numpy())
    repeated = key.duplicated(keep="first").to_numpy()
    for position in np.flatnonzero(repeated):
        problems.append(
            Problem(
                "a second answer to the same item by the same respondent; keep one",
                source=source,
                row=int(position) + 1,
                column=item_column,
                value=items.iloc[position],
            )
        )
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column or ""))
        raise ValidationError(problems, what=f"responses to {instrument.id}", limit=len(problems))
    if not id_cols:
        raise DataError(
            "long responses need at least one id column besides item and value "
            "(e.g. dyad and wave); pass id_columns="
        )
    frame = key.assign(_value=checked["_value"].to_numpy())
    respondents = frame[id_cols].drop_duplicates().reset_index(drop=True)
    wide = frame.pivot_table(
        index=id_cols, columns="_item", values="_value", aggfunc="first", dropna=False, sort=False
    )
    wide = wide.reindex(columns=list(instrument.item_ids))
    wide = respondents.merge(wide.reset_index(), on=id_cols, how="left")
    return wide[id_cols], wide[list(instrument.item_ids)].astype(float)


def _id_frame(
    responses: pd.DataFrame,
    id_columns: list[str] | tuple[str, ...] | None,
    *,
    exclude: list[str],
) -> pd.DataFrame:
    if id_columns is None:
        cols = [c for c in responses.columns if c not in exclude]
    else:
        cols = list(id_columns)
        absent = [c for c in cols if c not in responses.columns]
        if absent:
            raise DataError(f"id columns {absent} are not in the responses; check id_columns=")
    return responses[cols].reset_index(drop=True)


def _check_values(
    values: pd.DataFrame,
    instrument: Instrument,
    source: str | None,
    *,
    shown_column: str | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Convert answers to floats; list every cell that is not missing and not on the scale."""
    scale = instrument.scale
    allowed = f"allowed: whole numbers {scale.min} to {scale.max}, or empty for a missing answer"
    out = {}
    problems: list[Problem] = []
    for column in values.columns:
        raw = values[column].reset_index(drop=True)
        as_text = raw.astype("string").str.strip()
        is_missing = raw.isna().to_numpy() | (as_text == "").fillna(True).to_numpy()
        if pd.api.types.is_bool_dtype(raw):
            numeric = pd.Series(np.nan, index=raw.index)
        else:
            numeric = pd.to_numeric(raw.where(~is_missing), errors="coerce").astype(float)
        num = numeric.to_numpy()
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(num) & (num == np.round(num)) & (num >= scale.min) & (num <= scale.max)
        bad = ~is_missing & ~ok
        for position in np.flatnonzero(bad):
            problems.append(
                Problem(
                    f"not an answer on the {instrument.id} scale; {allowed}",
                    source=source,
                    row=int(position) + 1,
                    column=shown_column or str(column),
                    value=_plain(raw.iloc[position]),
                )
            )
        out[column] = np.where(is_missing, np.nan, num)
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return pd.DataFrame(out), problems


def _plain(value: object) -> object:
    """A numpy scalar as the plain Python value (for readable messages)."""
    return value.item() if isinstance(value, np.generic) else value
