"""classdyad: research on teacher-student relationships and the daily interactions that build them.

Layers, bottom to top (a layer imports only from layers below it; ``make test`` checks this):
``errors`` -> ``model`` -> ``store``, ``io``, ``coding`` -> ``measures`` -> ``mixed`` ->
``analysis`` -> ``study`` -> ``simulate`` -> ``report`` -> ``services`` -> ``cli``, ``web`` (the
command line and the web application share the policy of ``services`` and never import each
other). Within DESIGN.md's statistics layer the analysis dataset
scores questionnaires (``measures``) and the simulator fits models (``analysis``).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("classdyad")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
