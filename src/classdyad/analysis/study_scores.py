"""Moved to :mod:`classdyad.study.scores`; this path works for one release (DeprecationWarning)."""

from classdyad._deprecation import moved_module

moved_module(__name__, "classdyad.study.scores")
