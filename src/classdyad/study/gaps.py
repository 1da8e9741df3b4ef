"""Group gaps in relationship quality and in interactions (the study's first two questions).

Relationship gaps: for each relationship outcome, a linear mixed model
``outcome ~ group terms + covariates + (1 | school/classroom) + (1 | student)`` on the student x
wave rows (random intercepts for classes, schools where identifiable, and students measured
repeatedly). Interaction gaps: for positive and negative interactions, a Poisson mixed model of
the counts with ``log(hours present)`` as offset and random intercepts for classes and students
(the student intercept absorbs over-dispersion). Two contrasts, as in the seed study: low SES and
non-western background together (all students), and Turkish/Moroccan versus Dutch background
(students of those two backgrounds only).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from classdyad.errors import ClassdyadWarning, DataError
from classdyad.mixed import glmm, lmm

RELATIONSHIP_OUTCOMES = ("teacher_closeness", "teacher_conflict", "student_closeness",
                         "student_conflict")
INTERACTION_COUNTS = ("negative", "positive")
#: contrast id -> (group terms, rows used)
CONTRASTS = {
    "ses_ethnicity": ("low_ses", "non_western"),
    "turkish_moroccan_vs_dutch": ("low_ses", "turkish_moroccan"),
}
COVARIATES = ("boy", "grade", "wave")
#: contrast -> the migration backgrounds of the rows it uses (absent: every row)
CONTRAST_BACKGROUNDS = {"turkish_moroccan_vs_dutch": ("dutch", "turkish", "moroccan")}


@dataclass(frozen=True)
class ModelFit:
    """One fitted model of the plan: what was fitted, on how many rows, and what it said."""

    hypothesis: str
    outcome: str
    contrast: str
    formula: str
    family: str
    n_obs: int
    fixed_effects: pd.DataFrame
    variance_components: pd.DataFrame
    notes: tuple[str, ...]


def contrast_mask(data: pd.DataFrame, contrast: str) -> np.ndarray | None:
    """Which rows a contrast uses, or ``None`` when it uses them all."""
    if contrast in CONTRAST_BACKGROUNDS:
        keep = data["migration_background"].isin(CONTRAST_BACKGROUNDS[contrast])
        return keep.fillna(False).to_numpy(dtype=bool)
    return None


def contrast_rows(data: pd.DataFrame, contrast: str) -> pd.DataFrame:
    """The rows a contrast uses (Turkish/Moroccan vs Dutch: those two backgrounds only)."""
    keep = contrast_mask(data, contrast)
    return data if keep is None else data[keep]


def repeated_students(data: pd.DataFrame) -> bool:
    """Whether a student has several rows (waves): the models then take a student intercept.
    (``data.groupby("student").size().max() > 1``, by hashing, without the group sizes.)"""
    return bool(data["student"].dropna().duplicated().any())


def covariate_terms(data: pd.DataFrame) -> list[str]:
    """Covariate terms that vary in the data (a constant grade or a single wave is left out)."""
    terms = []
    for name in COVARIATES:
        if name not in data.columns or data[name].nunique(dropna=True) < 2:
            continue
        terms.append(f"C({name})" if name in ("grade", "wave") else name)
    return terms


def _check_columns(data: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise DataError(f"the analysis dataset lacks column(s) {', '.join(missing)}; build it "
                        "with classdyad.study.build_analysis_dataset")


def _group_terms(data: pd.DataFrame, terms: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Group terms with both values present; the others are reported, not fitted."""
    usable, notes = [], []
    for term in terms:
        values = data[term].dropna().astype(bool)
        if values.nunique() < 2:
            notes.append(f"{term}: every student is in the same group, so its gap cannot be "
                         "estimated; it was left out of the model")
        else:
            usable.append(term)
    return usable, notes


def _as_numeric(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    out = data.copy()
    for column in columns:
        if column in out.columns and (out[column].dtype == bool
                                      or str(out[column].dtype) == "boolean"):
            out[column] = out[column].astype("float64")
    return out


class FitNote(str):
    """A note kept from a warning raised while fitting: its message, with the warning's class
    as ``category`` (e.g. :class:`~classdyad.errors.SingularFitWarning`)."""

    category: type[Warning]

    def __new__(cls, message: str, category: type[Warning]) -> FitNote:
        note = super().__new__(cls, message)
        note.category = category
        return note

    def __reduce__(self):
        return (FitNote, (str(self), self.category))


def fit_quietly(fit, *args, **kwargs):
    """Fit, turning classdyad warnings into notes (:class:`FitNote`) kept with the result."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ClassdyadWarning)
        result = fit(*args, **kwargs)
    notes = tuple(FitNote(str(w.message), w.category) for w in caught
                  if issubclass(w.category, ClassdyadWarning))
    return result, notes


def relationship_gap_formula(data: pd.DataFrame, *, outcome: str,
                             contrast: str = "ses_ethnicity") -> tuple[str, tuple[str, ...]]:
    """The formula of the relationship-gap model, and notes on group terms left out.

    The fixed part holds the contrast's group terms that vary in the rows used and the covariates
    that vary; the random part a class intercept within schools (when there are several schools)
    and a student intercept (when students have several waves).
    """
    _check_columns(data, [outcome, *CONTRASTS[contrast], "school", "classroom", "student"])
    rows = contrast_rows(data, contrast)
    terms, notes = _group_terms(rows, CONTRASTS[contrast])
    rows = rows.dropna(subset=[outcome])
    if rows[outcome].std() == 0 or len(rows) < 10:
        raise DataError(f"{outcome} has no variance (or fewer than 10 answers) in the rows of "
                        f"contrast {contrast}; check the questionnaire data")
    fixed = " + ".join([*terms, *covariate_terms(rows)]) or "1"
    random = "(1 | school/classroom)" if rows["school"].nunique() > 1 else "(1 | classroom)"
    if repeated_students(rows):
        random += " + (1 | student)"
    return f"{outcome} ~ {fixed} + {random}", tuple(notes)


def relationship_gap(data: pd.DataFrame, *, outcome: str, contrast: str = "ses_ethnicity"
                     ) -> ModelFit:
    """Fit the relationship-gap model of one outcome and contrast (see the module docstring)."""
    formula, notes = relationship_gap_formula(data, outcome=outcome, contrast=contrast)
    rows = contrast_rows(data, contrast).dropna(subset=[outcome])
    result, fit_notes = fit_quietly(lmm, formula,
                                    _as_numeric(rows, [*CONTRASTS[contrast], "boy"]))
    return ModelFit("relationship_gap", outcome, contrast, formula, "gaussian", result.n_obs,
                    result.fixed_effects, result.variance_components, notes + fit_notes)


def interaction_gap(data: pd.DataFrame, *, valence: str, contrast: str = "ses_ethnicity"
                    ) -> ModelFit:
    """Fit the Poisson mixed model of one valence's counts with log(hours present) as offset."""
    _check_columns(data, [valence, "hours_present", *CONTRASTS[contrast], "classroom",
                          "student"])
    rows = contrast_rows(data, contrast)
    observed = rows["hours_present"] > 0
    if not observed.any():
        raise DataError("no student was observed for any time; interaction rates need observed "
                        "lessons (hours_present > 0)")
    rows = rows[observed].assign(log_hours=np.log(rows.loc[observed, "hours_present"]))
    if rows[valence].sum() == 0:
        raise DataError(f"no {valence} interactions were coded in the rows of contrast "
                        f"{contrast}; a count model of them is undefined")
    terms, notes = _group_terms(rows, CONTRASTS[contrast])
    covariates = covariate_terms(rows)
    fixed = " + ".join([*terms, *covariates]) or "1"
    random = "(1 | classroom)"
    if repeated_students(rows):
        random += " + (1 | student)"
    formula = f"{valence} ~ {fixed} + {random}"
    result, fit_notes = fit_quietly(glmm, formula, _as_numeric(rows, [*terms, "boy"]),
                                     family="poisson", offset="log_hours")
    return ModelFit("interaction_gap", valence, contrast,
                    formula.replace(" + (1", " + offset(log(hours_present)) + (1", 1),
                    "poisson", result.n_obs, result.fixed_effects,
                    result.variance_components, tuple(notes) + fit_notes)
