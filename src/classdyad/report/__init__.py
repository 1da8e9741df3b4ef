"""Templates, figures and tables; the only place numbers are rounded.

:func:`study_report` writes the publication-ready report of a study and its analysis plan (one
self-contained HTML file, figures as PNG and SVG, tables as CSV and LaTeX), in English or Dutch.
"""

from classdyad.report.document import SECTIONS, StudyReport, results_mapping, study_report
from classdyad.report.figures import OKABE_ITO, ReportFigure
from classdyad.report.i18n import LANGUAGES, translations
from classdyad.report.numbers import NumberFormatter
from classdyad.report.tables import ReportTable

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
