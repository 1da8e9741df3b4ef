"""Old import paths that keep working for one release, with a ``DeprecationWarning``."""

from __future__ import annotations

import importlib
import sys
import warnings


def moved_module(old: str, new: str) -> None:
    """Make module ``old`` an alias of ``new``, warning the importer that it has moved."""
    warnings.warn(f"{old} has moved to {new}; import it from there", DeprecationWarning,
                  stacklevel=3)
    sys.modules[old] = importlib.import_module(new)
