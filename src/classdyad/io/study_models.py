"""Moved to :mod:`classdyad.study.models`; this path works for one release (DeprecationWarning)."""

from classdyad._deprecation import moved_module

moved_module(__name__, "classdyad.study.models")
