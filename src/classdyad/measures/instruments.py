"""Questionnaire instrument definitions: what the items are and how they are scored.

An *instrument* is a questionnaire defined in YAML: its items (id, subscale, whether the item is
reverse-keyed, a label), its response scale (lowest and highest value, anchor labels), its informant
(``"teacher"``: a teacher reports on one student; ``"student"``: a student reports on the teacher)
and the minimum-answered rule (the share of a subscale's items that must be answered for the
subscale to get a score; 0.8 by default).

Two definitions ship with classdyad, both *structure only*: ``strs_short_form`` (structured like the
Student-Teacher Relationship Scale short form; Pianta, 1992) and ``sparts`` (structured like the
Student Perception of Affective Relationship with Teacher Scale; Koomen & Jellesma, 2015). The
published item wordings are copyrighted, so their labels are neutral placeholders that users replace
with the wording of their licensed copy (copy the YAML file, edit it, and load it by path).

A definition looks like::

    id: my_scale
    name: My scale
    version: "1.0"
    informant: teacher          # or: student
    scale: {min: 1, max: 5, labels: {1: low, 5: high}}
    subscales: {closeness: Closeness, conflict: Conflict}
    min_answered: 0.8           # optional; share of a subscale's items
    items:
      - {id: c1, subscale: closeness, reverse: false, label: "..."}

References
----------
Koomen, H. M. Y., & Jellesma, F. C. (2015). Can closeness, conflict, and dependency be used to
characterize students' perceptions of the affective relationship with their teacher? *British
Journal of Educational Psychology*, 85(4), 479-497.

Pianta, R. C. (1992). *Student-Teacher Relationship Scale - Short Form*. University of Virginia.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from classdyad.errors import DataError, NotFoundError

__all__ = [
    "Instrument",
    "InstrumentItem",
    "ResponseScale",
    "list_instruments",
    "load_instrument",
    "parse_instrument",
]

_PACKAGE_FOLDER = "instruments"


class ResponseScale(BaseModel):
    """The response scale of an instrument: whole numbers from ``min`` to ``max``.

    Parameters
    ----------
    min, max
        The lowest and highest allowed answer.
    labels
        Anchor labels by value (any subset of the values).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    min: int
    max: int
    labels: dict[int, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_range(self) -> ResponseScale:
        if self.max <= self.min:
            raise ValueError(f"scale max ({self.max}) must be larger than scale min ({self.min})")
        outside = [v for v in self.labels if not self.min <= v <= self.max]
        if outside:
            raise ValueError(
                f"scale labels for values {outside} lie outside {self.min}..{self.max}"
            )
        return self

    def reverse(self, value: Any) -> Any:
        """Reverse-key ``value``: ``min + max - value``."""
        return self.min + self.max - value


class InstrumentItem(BaseModel):
    """One questionnaire item.

    Parameters
    ----------
    id
        The item's id, also the column name in wide response data.
    subscale
        The id of the subscale the item belongs to.
    reverse
        Whether the item is reverse-keyed (scored as ``min + max - value``).
    label
        The item text (a placeholder in the shipped definitions).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    subscale: str
    reverse: bool = False
    label: str = ""


class Instrument(BaseModel):
    """A questionnaire definition (see the module docstring for the YAML layout)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    version: str
    informant: Literal["teacher", "student"]
    description: str = ""
    scale: ResponseScale
    subscales: dict[str, str]
    min_answered: float = Field(default=0.8, gt=0.0, le=1.0)
    items: tuple[InstrumentItem, ...]

    @model_validator(mode="after")
    def _check_items(self) -> Instrument:
        ids = [item.id for item in self.items]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"item ids must be unique; repeated: {duplicated}")
        unknown = sorted({item.subscale for item in self.items} - set(self.subscales))
        if unknown:
            raise ValueError(f"items name subscales not listed under 'subscales': {unknown}")
        empty = [s for s in self.subscales if not any(i.subscale == s for i in self.items)]
        if empty:
            raise ValueError(f"subscales without items: {empty}")
        return self

    @property
    def item_ids(self) -> tuple[str, ...]:
        """The item ids in definition order."""
        return tuple(item.id for item in self.items)

    def subscale_items(self, subscale: str) -> tuple[str, ...]:
        """The ids of the items of ``subscale``."""
        if subscale not in self.subscales:
            listed = ", ".join(self.subscales)
            raise NotFoundError(
                f"instrument {self.id!r} has no subscale {subscale!r}; use one of {listed}"
            )
        return tuple(item.id for item in self.items if item.subscale == subscale)

    def to_frame(self) -> pd.DataFrame:
        """One row per item: id, subscale, reverse, label."""
        return pd.DataFrame(
            [item.model_dump() for item in self.items],
            columns=["id", "subscale", "reverse", "label"],
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{self.name}</b> ({self.id}, version {self.version}); informant: "
            f"{self.informant}; scale {self.scale.min}-{self.scale.max}; minimum answered "
            f"{self.min_answered:.0%} of a subscale's items</p>"
        )
        return head + self.to_frame().to_html(index=False)


def list_instruments() -> list[str]:
    """The ids of the instrument definitions shipped with classdyad, sorted.

    Examples
    --------
    >>> list_instruments()
    ['sparts', 'strs_short_form']
    """
    folder = resources.files("classdyad.measures").joinpath(_PACKAGE_FOLDER)
    return sorted(
        entry.name.removesuffix(".yaml")
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )


def load_instrument(name_or_path: str | Path) -> Instrument:
    """Load an instrument definition by its shipped id or from a YAML file.

    Parameters
    ----------
    name_or_path
        The id of a shipped definition (see :func:`list_instruments`) or the path of a YAML file.

    Returns
    -------
    Instrument

    Raises
    ------
    NotFoundError
        Neither a shipped id nor an existing file.
    DataError
        The YAML is not a valid instrument definition (the message lists what is wrong).
    """
    text, source = _read_definition(name_or_path)
    return parse_instrument(text, source=source)


def parse_instrument(text: str, *, source: str = "definition") -> Instrument:
    """Parse an instrument definition from its YAML text (as stored with a study).

    Raises
    ------
    DataError
        The YAML is not a valid instrument definition (the message lists what is wrong).
    """
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"{source}: not valid YAML ({exc}); fix the file's syntax") from exc
    if not isinstance(raw, dict):
        raise DataError(
            f"{source}: an instrument definition must be a YAML mapping (id:, items:, ...)"
        )
    try:
        return Instrument.model_validate(raw)
    except PydanticValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'definition'}: {err['msg']}"
            for err in exc.errors()
        )
        raise DataError(
            f"{source}: not a valid instrument definition: {problems}. "
            "See classdyad.measures.instruments for the layout."
        ) from exc


def _read_definition(name_or_path: str | Path) -> tuple[str, str]:
    shipped = list_instruments()
    if isinstance(name_or_path, str) and name_or_path in shipped:
        entry = resources.files("classdyad.measures").joinpath(
            _PACKAGE_FOLDER, f"{name_or_path}.yaml"
        )
        return entry.read_text(encoding="utf-8"), f"instrument {name_or_path!r}"
    path = Path(name_or_path)
    if path.is_file():
        return path.read_text(encoding="utf-8"), str(path)
    listed = ", ".join(shipped)
    raise NotFoundError(
        f"no instrument {str(name_or_path)!r}: it is neither a shipped definition ({listed}) nor "
        "an existing YAML file; give one of those ids or the path of your own definition"
    )
