"""Coding schemes (versioned codebooks), event streams, coder pairing and event matching."""

from classdyad.coding.matching import (
    EVENT_COLUMNS,
    EventMatching,
    match_events,
    match_validated_events,
    target_label,
    validate_coder_events,
)

__all__ = [
    "EVENT_COLUMNS",
    "EventMatching",
    "match_events",
    "match_validated_events",
    "target_label",
    "validate_coder_events",
]
