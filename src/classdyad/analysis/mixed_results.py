"""Moved to :mod:`classdyad.mixed`; this path works for one release (DeprecationWarning)."""

from classdyad._deprecation import moved_module

moved_module(__name__, "classdyad.mixed")
