"""Coding schemes (versioned codebooks), event streams, coder pairing and event matching."""

from classdyad.coding.matching import (
    EVENT_COLUMNS,
    EventMatching,
    match_events,
    match_validated_events,
    target_label,
    validate_coder_events,
)
from classdyad.coding.presence import PRESENCE_COLUMNS, presence_seconds

__all__ = [
    "EVENT_COLUMNS",
    "PRESENCE_COLUMNS",
    "EventMatching",
    "match_events",
    "match_validated_events",
    "presence_seconds",
    "target_label",
    "validate_coder_events",
]
