"""Templates, figures and tables; the only place numbers are rounded.

:func:`study_report` writes the publication-ready report of a study and its analysis plan (one
self-contained HTML file, figures as PNG and SVG, tables as CSV and LaTeX), in English or Dutch.

The names below are imported when first used, so that importing one module of the package (the
teacher feedback page, :mod:`classdyad.report.feedback`, draws its figures as SVG itself) does not
import matplotlib and the study report's machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classdyad.report.document import (
        SECTIONS,
        StudyReport,
        results_mapping,
        study_report,
    )
    from classdyad.report.figures import OKABE_ITO, ReportFigure
    from classdyad.report.i18n import LANGUAGES, translations
    from classdyad.report.numbers import NumberFormatter
    from classdyad.report.tables import ReportTable

_HOME = {
    "SECTIONS": "document", "StudyReport": "document", "results_mapping": "document",
    "study_report": "document", "OKABE_ITO": "figures", "ReportFigure": "figures",
    "LANGUAGES": "i18n", "translations": "i18n", "NumberFormatter": "numbers",
    "ReportTable": "tables",
}

__all__ = [
    "LANGUAGES",
    "OKABE_ITO",
    "SECTIONS",
    "NumberFormatter",
    "ReportFigure",
    "ReportTable",
    "StudyReport",
    "results_mapping",
    "study_report",
    "translations",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'classdyad.report' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"classdyad.report.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
