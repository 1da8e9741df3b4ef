"""Mplus exports: a free-format data file, a variable table and one ready-to-run input per model.

Mplus (Muthén & Muthén 1998-2017) reads numbers only, in free format, with one missing-value flag;
its variable names have at most 8 characters and its input lines at most 90. :func:`write_mplus`
therefore

- writes ``STEM.dat``: booleans as 0/1, identifiers (student, class, school, teacher codes) as
  integer codes, other text columns left out, numbers at full precision, missing values as the
  flag (``-999`` by default; an error if a real value equals it);
- writes ``STEM_variables.csv``: Mplus name, column, label and, for coded identifiers, the file
  ``STEM_codes.csv`` that maps each integer code back to the original code;
- writes ``STEM_MODEL.inp`` for each study model (:mod:`classdyad.study.models`):
  ``TYPE = TWOLEVEL`` (a random intercept per class; the predictors declared ``WITHIN``, which is
  the random-intercept regression ``lme4`` fits as ``y ~ x + (1 | class)``) or ``TYPE = COMPLEX``
  (a single-level regression with standard errors corrected for clustering in classes), with the
  MLR estimator.

:func:`check_mplus_input` checks an input file against the documented rules of the Mplus User's
Guide (chapter 15): line length, command order and spelling, statement terminators, name length
and that every variable used is declared.

References
----------
Muthén, L. K. & Muthén, B. O. (1998-2017). *Mplus User's Guide* (8th ed.). Los Angeles, CA:
Muthén & Muthén. Chapter 15 (TITLE, DATA, VARIABLE, ANALYSIS, MODEL, OUTPUT commands).
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from classdyad.errors import DataError, check_option
from classdyad.io.codebook import column_type, partial_path, prepare, replace_atomically
from classdyad.io.regression_model import RegressionModel

MAX_LINE = 90
MAX_NAME = 8
COMMANDS = ("TITLE", "DATA", "VARIABLE", "DEFINE", "ANALYSIS", "MODEL", "OUTPUT", "SAVEDATA",
            "PLOT", "MONTECARLO")

#: short Mplus names for the analysis dataset's columns
MPLUS_NAMES: dict[str, str] = {
    "student_id": "stuid", "student": "stucode", "wave": "wave", "school": "schoolid",
    "classroom": "classid", "teacher": "teachid", "grade": "grade", "class_size": "clsize",
    "combination_class": "combcls", "duo_class": "duocls", "boy": "boy",
    "non_western": "nonwest", "turkish_moroccan": "turkmor", "pupil_weight": "pweight",
    "low_ses": "lowses", "lessons": "lessons", "lessons_present": "lespres",
    "minutes_present": "minpres", "hours_present": "hrspres", "positive": "pos",
    "negative": "neg", "neutral": "neu", "positive_rate": "posrate", "negative_rate": "negrate",
    "neutral_rate": "neurate", "interaction_share": "ishare", "teacher_closeness": "tclose",
    "teacher_conflict": "tconfl", "student_closeness": "sclose", "student_conflict": "sconfl",
    "student_negative_expectations": "snegexp", "teacher_iat_ethnicity": "iateth",
    "teacher_iat_ses": "iatses", "waves": "waves",
}
#: text columns exported as integer codes (identifiers used for clustering)
CODED_COLUMNS = ("student", "classroom", "school", "teacher")

MplusAnalysis = Literal["twolevel", "complex"]


def mplus_names(columns: Sequence[str]) -> dict[str, str]:
    """Unique Mplus names (letters, digits, ``_``; a letter first; at most 8 characters)."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for column in columns:
        base = MPLUS_NAMES.get(column) or re.sub(r"[^a-z0-9_]", "", column.lower())
        if not base or not base[0].isalpha():
            base = "v" + base
        name = base[:MAX_NAME]
        number = 1
        while name.lower() in taken:
            suffix = str(number)
            name = base[:MAX_NAME - len(suffix)] + suffix
            number += 1
        taken.add(name.lower())
        names[column] = name
    return names


@dataclass(frozen=True)
class MplusFiles:
    """The files :func:`write_mplus` wrote."""

    data: Path
    variables: Path
    codes: Path
    inputs: dict[str, Path]


def _wrap_text(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, width=MAX_LINE, initial_indent=indent,
                         subsequent_indent=indent + "  ", break_long_words=False,
                         break_on_hyphens=False)


def _wrap(keyword: str, words: Sequence[str]) -> list[str]:
    return _wrap_text(f"{keyword} = {' '.join(words)};")


def mplus_input(model: RegressionModel, *, names: Mapping[str, str], data_file: str,
                analysis: MplusAnalysis = "twolevel", missing: float = -999.0) -> str:
    """The Mplus input text of one study model (see the module docstring)."""
    check_option("analysis", analysis, ("twolevel", "complex"))
    outcome = names[model.outcome]
    predictors = [names[p] for p in model.predictors]
    cluster = names[model.cluster]
    flag = f"{missing:g}"
    kind = ("two-level random intercept per class" if analysis == "twolevel"
            else "regression with class-clustered standard errors")
    lines = ["TITLE:", *_wrap_text(f"classdyad study model {model.name}, {model.outcome} on "
                                   f"interaction rates and background, {kind}"),
             "DATA:", *textwrap.wrap(f'FILE = "{data_file}";', width=MAX_LINE,
                                     initial_indent="  "),
             "VARIABLE:", *_wrap("NAMES", list(names.values())),
             *_wrap("USEVARIABLES", [outcome, *predictors]),
             f"  MISSING = ALL ({flag});", f"  CLUSTER = {cluster};"]
    regression = _wrap_text(f"{outcome} ON {' '.join(predictors)};")
    if analysis == "twolevel":
        lines += _wrap("WITHIN", predictors)
        lines += ["ANALYSIS:", "  TYPE = TWOLEVEL;", "  ESTIMATOR = MLR;", "MODEL:",
                  "  %WITHIN%", *regression, "  %BETWEEN%", f"  {outcome};"]
    else:
        lines += ["ANALYSIS:", "  TYPE = COMPLEX;", "  ESTIMATOR = MLR;", "MODEL:",
                  *regression]
    lines += ["OUTPUT:", "  SAMPSTAT STANDARDIZED;"]
    return "\n".join(lines) + "\n"


def mplus_data(data: pd.DataFrame, *, missing: float = -999.0
               ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The numeric frame Mplus reads, the code table of coded identifiers, left-out columns."""
    out: dict[str, pd.Series] = {}
    codes: list[pd.DataFrame] = []
    left_out: list[str] = []
    for column in data.columns:
        series = data[column]
        kind = column_type(series)
        if kind == "boolean":
            out[column] = series.astype("boolean").astype("Float64").astype(float)
        elif kind in ("integer", "float"):
            out[column] = series.astype("Float64").astype(float)
        elif column in CODED_COLUMNS:
            levels = sorted(str(v) for v in series.dropna().unique())
            mapping = {level: i + 1 for i, level in enumerate(levels)}
            out[column] = series.map(lambda v, m=mapping: m.get(str(v)) if pd.notna(v)
                                     else np.nan).astype(float)
            codes.append(pd.DataFrame({"column": column, "code": list(mapping.values()),
                                       "value": list(mapping)}))
        else:
            left_out.append(column)
    frame = pd.DataFrame(out)
    values = frame.to_numpy(dtype=float)
    if np.any(values == missing):
        columns = [c for c in frame.columns if (frame[c] == missing).any()]
        raise DataError(f"the value {missing:g} occurs in {columns}, so it cannot flag missing "
                        "values; choose another missing flag")
    if not np.all(np.isfinite(values) | np.isnan(values)):
        raise DataError("the data hold infinite values, which Mplus cannot read; recode them")
    table = (pd.concat(codes, ignore_index=True) if codes
             else pd.DataFrame(columns=["column", "code", "value"]))
    return frame, table, left_out


def _format(value: float, flag: str) -> str:
    if math.isnan(value):
        return flag
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def write_mplus(data: pd.DataFrame, directory: str | Path, *, stem: str = "classdyad",
                models: Sequence[RegressionModel],
                analysis: MplusAnalysis = "twolevel", missing: float = -999.0,
                variable_labels: Mapping[str, str] | None = None) -> MplusFiles:
    """Write the data, the variable table and one Mplus input per study model.

    Parameters
    ----------
    data
        The analysis dataset (one row per student x wave, or per student).
    directory
        Folder for the files (created if needed).
    stem
        The files' common name: ``STEM.dat``, ``STEM_variables.csv``, ``STEM_MODEL.inp``.
    models
        The models to write (default: the study's four).
    analysis
        ``"twolevel"`` (TYPE = TWOLEVEL) or ``"complex"`` (TYPE = COMPLEX).
    missing
        The missing-value flag.
    variable_labels
        Column -> label for the variable table.
    """
    check_option("analysis", analysis, ("twolevel", "complex"))
    data = prepare(data)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    frame, codes, left_out = mplus_data(data, missing=missing)
    names = mplus_names(list(frame.columns))
    for model in models:
        absent = [c for c in (model.outcome, *model.predictors, model.cluster)
                  if c not in names]
        if absent:
            raise DataError(f"model {model.name}: the data lack column(s) {absent}; export the "
                            "analysis dataset")
    flag = f"{missing:g}"
    data_path = folder / f"{stem}.dat"
    temporary = partial_path(data_path)
    with temporary.open("w", encoding="ascii", newline="\n") as handle:
        for row in frame.itertuples(index=False):
            handle.write(" ".join(_format(v, flag) for v in row) + "\n")
    replace_atomically(temporary, data_path)
    labels = variable_labels or {}
    variables = pd.DataFrame({
        "mplus_name": [*names.values(), *[""] * len(left_out)],
        "column": [*names, *left_out],
        "label": [labels.get(c, "") for c in [*names, *left_out]],
        "coding": ["0 = no, 1 = yes" if column_type(data[c]) == "boolean"
                   else f"integer codes, see {stem}_codes.csv" if c in CODED_COLUMNS else ""
                   for c in names] + ["text, not in the .dat file"] * len(left_out)})
    variables_path = folder / f"{stem}_variables.csv"
    variables.to_csv(variables_path, index=False, lineterminator="\n")
    codes_path = folder / f"{stem}_codes.csv"
    codes.to_csv(codes_path, index=False, lineterminator="\n")
    inputs: dict[str, Path] = {}
    for model in models:
        text = mplus_input(model, names=names, data_file=data_path.name, analysis=analysis,
                           missing=missing)
        problems = check_mplus_input(text)
        if problems:
            raise DataError(f"the Mplus input for {model.name} breaks Mplus' rules: "
                            + "; ".join(problems))
        path = folder / f"{stem}_{model.name}.inp"
        path.write_text(text, encoding="ascii", newline="\n")
        inputs[model.name] = path
    return MplusFiles(data=data_path, variables=variables_path, codes=codes_path,
                      inputs=inputs)


def _statements(body: str) -> list[str]:
    return [s.strip() for s in body.split(";") if s.strip()]


def check_mplus_input(text: str) -> list[str]:
    """Check an Mplus input against the User's Guide's syntax rules; return the problems.

    Rules: lines of at most 90 characters; commands (``NAME:`` at the start of a line) from the
    documented set, each at most once, TITLE/DATA/VARIABLE first in that order; every option
    statement ends with a semicolon; variable names at most 8 characters, starting with a letter;
    every variable in USEVARIABLES, CLUSTER, WITHIN, BETWEEN and the MODEL is declared in NAMES.
    """
    problems: list[str] = []
    sections: dict[str, list[str]] = {}
    order: list[str] = []
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("!", 1)[0].rstrip()
        if len(raw) > MAX_LINE:
            problems.append(f"line {number} is longer than {MAX_LINE} characters")
        match = re.match(r"^\s*([A-Za-z]+)\s*:(.*)$", line)
        if match and match.group(1).upper() in COMMANDS:
            current = match.group(1).upper()
            if current in sections:
                problems.append(f"command {current} occurs twice")
            sections[current] = [match.group(2)]
            order.append(current)
        elif match and current != "TITLE":
            problems.append(f"line {number}: {match.group(1)!r} is not an Mplus command")
        elif current is None and line.strip():
            problems.append(f"line {number}: text before the first command")
        elif current is not None:
            sections[current].append(line)
    for required in ("DATA", "VARIABLE", "MODEL"):
        if required not in sections:
            problems.append(f"the {required} command is missing")
    head = [c for c in order if c in ("TITLE", "DATA", "VARIABLE")]
    if head != sorted(head, key=("TITLE", "DATA", "VARIABLE").index):
        problems.append("TITLE, DATA and VARIABLE must come first, in that order")
    statements: dict[str, list[str]] = {}
    for command, lines in sections.items():
        if command == "TITLE":
            continue
        body = "\n".join(re.sub(r"%[^%]*%", "", line) for line in lines)
        if body.strip() and not body.strip().endswith(";"):
            problems.append(f"the last statement of {command} does not end with a semicolon")
        statements[command] = _statements(body)
    declared: list[str] = []
    used: list[tuple[str, str]] = []
    for statement in statements.get("VARIABLE", []):
        key, _, value = statement.partition("=")
        key = key.strip().upper()
        words = value.split()
        if key == "NAMES":
            declared = [w.lower() for w in words]
            for word in words:
                if len(word) > MAX_NAME or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", word):
                    problems.append(f"variable name {word!r} is not a valid Mplus name "
                                    f"(a letter first, at most {MAX_NAME} characters)")
        elif key in ("USEVARIABLES", "CLUSTER", "WITHIN", "BETWEEN"):
            used += [(key, w) for w in words]
    for statement in statements.get("MODEL", []):
        words = re.split(r"\s+", statement.replace("(", " ").replace(")", " "))
        used += [("MODEL", w) for w in words
                 if w and w.upper() not in ("ON", "WITH", "BY") and not w[0].isdigit()
                 and not w.startswith("[") and not w.startswith("*")]
    if "NAMES" not in " ".join(statements.get("VARIABLE", [])).upper():
        problems.append("VARIABLE has no NAMES statement")
    for where, word in used:
        if word.lower() not in declared:
            problems.append(f"{where} uses {word!r}, which NAMES does not declare")
    return problems


__all__ = ["MPLUS_NAMES", "MplusFiles", "check_mplus_input", "mplus_data", "mplus_input",
           "mplus_names", "write_mplus"]
