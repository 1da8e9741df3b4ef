"""Report tables: formatted cells for the HTML, full-precision data for CSV, and LaTeX.

A :class:`ReportTable` holds the rows as shown (each cell already formatted and marked by
:class:`~classdyad.report.numbers.NumberFormatter`) and, separately, the numbers at full
precision (:attr:`ReportTable.data`), written to CSV. The LaTeX version is a plain ``tabular``
(booktabs rules) of the shown, rounded cells, ready for a manuscript.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup

_TAG = re.compile(r"<[^>]+>")
_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
                  "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "\\": r"\textbackslash{}", "\N{MINUS SIGN}": "$-$",
                  "\N{NARROW NO-BREAK SPACE}": r"\,", "×": r"$\times$", "<": r"$<$", ">": r"$>$",
                  "|": r"$|$"}


@dataclass(frozen=True)
class ReportTable:
    """One table of the report.

    Attributes
    ----------
    name
        File name (without extension) of its CSV and LaTeX versions; also its HTML id.
    caption
        The caption (translated).
    header
        Column headings as shown.
    rows
        Cells as shown (marked-up numbers).
    data
        The same content at full precision (for CSV).
    note
        A note printed under the table.
    group_rows
        Indices of rows shown as sub-headings (spanning the table).
    """

    name: str
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[Markup, ...], ...]
    data: pd.DataFrame = field(repr=False)
    note: str = ""
    group_rows: frozenset[int] = frozenset()

    def to_frame(self) -> pd.DataFrame:
        """The table at full precision (a copy)."""
        return self.data.copy()

    def numeric_columns(self) -> tuple[bool, ...]:
        """Whether each column holds numbers (aligned right) rather than text."""
        return tuple(any("data-key" in str(row[i]) for row in self.rows if i < len(row))
                     for i in range(len(self.header)))

    def text_rows(self) -> list[list[str]]:
        """The cells as plain text (markup removed)."""
        return [[html.unescape(_TAG.sub("", str(cell))) for cell in row] for row in self.rows]

    def to_latex(self) -> str:
        """A booktabs ``table`` with the rounded cells."""
        align = "l" + "r" * (len(self.header) - 1)
        lines = [r"\begin{table}[ht]", r"\centering", rf"\caption{{{latex_escape(self.caption)}}}",
                 rf"\label{{tab:{self.name}}}", rf"\begin{{tabular}}{{{align}}}", r"\toprule",
                 " & ".join(latex_escape(h) for h in self.header) + r" \\", r"\midrule"]
        for index, row in enumerate(self.text_rows()):
            if index in self.group_rows:
                lines.append(rf"\multicolumn{{{len(self.header)}}}{{l}}"
                             rf"{{\textit{{{latex_escape(row[0])}}}}} \\")
            else:
                lines.append(" & ".join(latex_escape(cell) for cell in row) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        if self.note:
            lines.append(rf"\par\smallskip{{\footnotesize {latex_escape(self.note)}}}")
        lines.append(r"\end{table}")
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                       for row in self.rows)
        return (f"<table><caption>{html.escape(self.caption)}</caption><thead><tr>{head}</tr>"
                f"</thead><tbody>{body}</tbody></table>")


def latex_escape(text: str) -> str:
    """Escape LaTeX's special characters."""
    return "".join(_LATEX_SPECIAL.get(character, character) for character in str(text))


def cell(value: object) -> Markup:
    """A text cell (escaped)."""
    if value is None:
        return Markup("")
    return Markup.escape(str(value))
