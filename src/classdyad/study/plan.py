"""The study's analysis plan in one call: every hypothesis, one tidy table, one sentence each.

:func:`study_plan` runs, on the analysis dataset (:func:`build_analysis_dataset`):

* H1 relationship gaps: the four relationship outcomes by low SES and non-western background,
  and by Turkish/Moroccan versus Dutch background (:mod:`classdyad.study.gaps`);
* H2 interaction gaps: positive and negative interaction counts (per hour observed) by the same
  groups;
* H3 mediation of the background gaps by positive and negative interactions
  (:func:`classdyad.analysis.mediation`), each gap adjusted, as in H1, for the other group term
  of its contrast (low SES for the ethnic gaps, non-western background for the SES gap);
* H4 negativity bias: whether negative interactions weigh more than positive ones
  (:func:`classdyad.analysis.negativity_bias`);
* H5 implicit attitudes: teachers' mean IAT D scores (one-sample t tests against 0), whether
  the IAT scores relate to negative interactions (their main effect) and moderate the
  background -> negative interaction paths, and the index of moderated mediation
  (:func:`classdyad.analysis.cross_level_moderation`,
  :func:`classdyad.analysis.moderated_mediation`). The moderated paths carry a random slope of
  the background group per class (Heisig & Schaeffer 2019): the gap in negative interactions
  varies between classes (on the rate scale it grows with the class's rate), and without that
  slope the test of a teacher-level moderator takes the students, not the classes, as its
  units and rejects too often (the IAT x low-SES interaction: 12.5 % at alpha 0.05 in 120 null
  simulations of 16 classes; with the slope, 4-7 % for every H5 test, within Monte Carlo
  error of 5 %).

The table has one row per estimate with its standard error, 95 % interval, p value, the
Benjamini-Hochberg false-discovery-rate adjusted p value over the whole plan, a standardized
estimate and n. Numbers are kept at full precision; the sentences round for reading.

References
----------
Heisig, J. P. & Schaeffer, M. (2019). Why you should always include a random slope for the
lower-level variable involved in a cross-level interaction. *European Sociological Review*,
35(2), 258-279.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import math
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.stats
from statsmodels.stats.multitest import multipletests

from classdyad.errors import DataError
from classdyad.study import gaps

TABLE_COLUMNS = ["hypothesis", "outcome", "effect", "contrast", "level", "estimate", "std_error",
                 "ci_low", "ci_high", "p_value", "p_fdr", "standardized", "ratio",
                 "ratio_ci_low", "ratio_ci_high", "n", "model"]

EFFECT_LABELS = {
    "low_ses": "low-SES students (compared with other students)",
    "non_western": "students with a non-western background (compared with Dutch and western "
                   "students)",
    "turkish_moroccan": "Turkish and Moroccan students (compared with Dutch students)",
}
OUTCOME_LABELS = {
    "teacher_closeness": "teacher-reported closeness",
    "teacher_conflict": "teacher-reported conflict",
    "student_closeness": "student-reported closeness",
    "student_conflict": "student-reported conflict",
    "negative": "negative interactions",
    "positive": "positive interactions",
}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class StudyPlanResult:
    """Everything :func:`study_plan` estimated.

    Attributes
    ----------
    estimates
        One row per estimate (columns :data:`TABLE_COLUMNS`).
    findings
        One plain-language sentence per key finding, stating the estimate and its interval.
    models
        Every model fitted: id -> formula (and family).
    notes
        Warnings raised while fitting (singular fits, dropped terms), by model; parts of the
        plan that the data cannot support are noted under keys without a ``/`` (see
        :attr:`skipped`).
    software
        Versions of Python and the packages used.
    n_students, n_rows
        Students and student x wave rows in the dataset.
    """

    estimates: pd.DataFrame
    findings: tuple[str, ...]
    models: dict[str, str]
    notes: dict[str, tuple[str, ...]]
    software: dict[str, str]
    n_students: int
    n_rows: int
    details: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The table of estimates (a copy)."""
        return self.estimates.copy()

    @property
    def skipped(self) -> tuple[str, ...]:
        """What the plan did not estimate because the data cannot support it, one line each."""
        return tuple(line for key, lines in self.notes.items() if "/" not in key
                     for line in lines)

    def key_table(self) -> pd.DataFrame:
        """The rows a reader looks at first.

        Group gaps (the contrast's own group term), the total within-class indirect effects,
        the negativity-bias differences and the implicit-attitude moderation tests.
        """
        table = self.estimates
        gap = table["hypothesis"].isin(["H1", "H2"]) & ~(
            (table["contrast"] == "turkish_moroccan_vs_dutch") & (table["effect"] == "low_ses"))
        indirect = (table["hypothesis"] == "H3") & (table["effect"] == "indirect_total") & (
            table["level"] == "within")
        bias = table["effect"] == "negativity_difference"
        moderation = table["hypothesis"] == "H5"
        return table[gap | indirect | bias | moderation].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-ready values (full precision; NaN as null)."""
        records = self.estimates.astype(object).where(self.estimates.notna(), None)
        return {
            "n_students": self.n_students,
            "n_rows": self.n_rows,
            "estimates": records.to_dict("records"),
            "findings": list(self.findings),
            "models": self.models,
            "notes": {k: list(v) for k, v in self.notes.items()},
            "software": self.software,
        }

    def to_json(self, path: str | None = None) -> str:
        """The result as JSON text (written to ``path`` when given)."""
        text = json.dumps(self.to_dict(), indent=2, default=_json_default, allow_nan=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        return text

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{sentence}</li>" for sentence in self.findings)
        return (f"<p><b>Study plan</b>: {self.n_students} students, {self.n_rows} student x "
                f"wave rows, {len(self.models)} models</p><ul>{items}</ul>"
                + self.key_table().to_html(index=False))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def software_versions() -> dict[str, str]:
    """Versions of Python and of the packages the plan uses."""
    versions = {"python": platform.python_version()}
    for package in ("classdyad", "numpy", "scipy", "pandas", "statsmodels", "formulaic"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _gap_rows(fit: gaps.ModelFit, data: pd.DataFrame, model_id: str) -> list[dict[str, Any]]:
    rows = []
    fixed = fit.fixed_effects.set_index("term")
    sd = float(gaps.contrast_rows(data, fit.contrast)[fit.outcome].std())
    for term in gaps.CONTRASTS[fit.contrast]:
        if term not in fixed.index:
            continue
        row = fixed.loc[term]
        record = {
            "hypothesis": "H1" if fit.hypothesis == "relationship_gap" else "H2",
            "outcome": fit.outcome, "effect": term, "contrast": fit.contrast,
            "estimate": float(row["estimate"]), "std_error": float(row["std_error"]),
            "ci_low": float(row["ci_low"]), "ci_high": float(row["ci_high"]),
            "p_value": float(row["p_value"]), "n": fit.n_obs, "model": model_id,
        }
        if fit.family == "poisson":
            record.update(ratio=math.exp(record["estimate"]),
                          ratio_ci_low=math.exp(record["ci_low"]),
                          ratio_ci_high=math.exp(record["ci_high"]))
        else:
            record["standardized"] = record["estimate"] / sd if sd > 0 else math.nan
        rows.append(record)
    return rows


def _p_text(p: float) -> str:
    return "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".")


def gap_sentence(row: pd.Series) -> str:
    """A sentence stating one gap estimate with its 95 % interval."""
    who = EFFECT_LABELS.get(row["effect"], row["effect"])
    what = OUTCOME_LABELS.get(row["outcome"], row["outcome"])
    if row["hypothesis"] == "H2":
        return (f"{who[0].upper()}{who[1:]} received {row['ratio']:.2f} times as many {what} "
                f"per hour (95% CI {row['ratio_ci_low']:.2f} to {row['ratio_ci_high']:.2f}; "
                f"{_p_text(row['p_value'])}).")
    direction = "higher" if row["estimate"] > 0 else "lower"
    return (f"For {who}, {what} was {abs(row['estimate']):.2f} scale points {direction} "
            f"(b = {row['estimate']:.2f}, 95% CI {row['ci_low']:.2f} to {row['ci_high']:.2f}; "
            f"{_p_text(row['p_value'])}).")


HYPOTHESES = ("H1", "H2", "H3", "H4", "H5")

#: a fitted step's model description, notes, table rows and key-finding sentences
StepOutput = tuple[str, tuple[str, ...], list[dict[str, Any]], tuple[str, ...]]


@dataclass(frozen=True)
class PlanStep:
    """One model of the plan, ready to fit.

    Attributes
    ----------
    hypothesis
        ``"H1"`` to ``"H5"``.
    model_id
        The model's id in :attr:`StudyPlanResult.models` (e.g. ``"H3/low_ses/teacher_closeness"``).
    description
        What :func:`study_plan` reports to its progress callback before fitting it.
    fit
        Fits the model: returns its description, notes, table rows (columns of
        :data:`TABLE_COLUMNS`, without ``p_fdr``) and key-finding sentences. ``None`` for a model
        the data cannot support (``skipped`` says why).
    skipped
        Notes on a model left out.
    """

    hypothesis: str
    model_id: str
    description: str
    fit: Callable[[], StepOutput] | None
    skipped: tuple[str, ...] = ()


def plan_steps(dataset: pd.DataFrame, *, hypotheses: tuple[str, ...] = HYPOTHESES,
               rng: np.random.Generator, n_draws: int = 20_000) -> list[PlanStep]:
    """The plan's models, in the order :func:`study_plan` fits them.

    Each hypothesis is tested by exactly these steps; a power analysis
    (:func:`classdyad.simulate.power`) fits the steps of the hypotheses it is asked about. The
    Monte Carlo intervals draw from ``rng`` when a step is fitted.
    """
    unknown = sorted(set(hypotheses) - set(HYPOTHESES))
    if unknown:
        raise DataError(f"unknown hypothesis {unknown}; choose from {', '.join(HYPOTHESES)}")
    steps: list[PlanStep] = []
    for contrast in gaps.CONTRASTS:
        for outcome in gaps.RELATIONSHIP_OUTCOMES:
            if "H1" not in hypotheses:
                break
            if outcome not in dataset.columns or dataset[outcome].notna().sum() < 10:
                steps.append(PlanStep("H1", f"H1 {outcome}", f"H1 {outcome} ({contrast})", None,
                                      (f"{outcome}: too few answers to model",)))
                continue
            steps.append(_gap_step(dataset, "H1", outcome, contrast))
        for valence in gaps.INTERACTION_COUNTS:
            if "H2" in hypotheses:
                steps.append(_gap_step(dataset, "H2", valence, contrast))
    steps.extend(_later_steps(dataset, hypotheses, rng, n_draws))
    return steps


def _gap_step(dataset: pd.DataFrame, hypothesis: str, outcome: str, contrast: str) -> PlanStep:
    model_id = f"{hypothesis}/{outcome}/{contrast}"

    def fit() -> StepOutput:
        if hypothesis == "H1":
            result = gaps.relationship_gap(dataset, outcome=outcome, contrast=contrast)
        else:
            result = gaps.interaction_gap(dataset, valence=outcome, contrast=contrast)
        return (f"{result.formula} [{result.family}]", result.notes,
                _gap_rows(result, dataset, model_id), ())

    description = (f"H1 {outcome} ({contrast})" if hypothesis == "H1"
                   else f"H2 {outcome} interactions ({contrast})")
    return PlanStep(hypothesis, model_id, description, fit)


def study_plan(dataset: pd.DataFrame, *, rng: int | np.random.Generator | None = None,
               n_draws: int = 20_000, progress: Progress | None = None) -> StudyPlanResult:
    """Run the study's whole analysis plan on an analysis dataset.

    Parameters
    ----------
    dataset
        The analysis dataset (:func:`classdyad.study.build_analysis_dataset`).
    rng
        Seed or generator for the Monte Carlo intervals.
    n_draws
        Monte Carlo draws per interval.
    progress
        Called with a short description before each model.

    Returns
    -------
    StudyPlanResult
    """
    if dataset.empty:
        raise DataError("the analysis dataset is empty; build it from a study with students, "
                        "lessons and questionnaires")
    generator = np.random.default_rng(rng)
    step = progress or (lambda _text: None)
    rows: list[dict[str, Any]] = []
    models: dict[str, str] = {}
    notes: dict[str, tuple[str, ...]] = {}
    later_findings: list[str] = []
    for planned in plan_steps(dataset, rng=generator, n_draws=n_draws):
        if planned.fit is None:
            notes[planned.model_id] = planned.skipped
            continue
        step(planned.description)
        formula, model_notes, model_rows, sentences = planned.fit()
        models[planned.model_id] = formula
        if model_notes:
            notes[planned.model_id] = model_notes
        rows.extend(model_rows)
        later_findings.extend(sentences)

    table = estimates_table(rows)
    findings = tuple(gap_sentence(row) for _, row in table.iterrows()
                     if row["hypothesis"] in ("H1", "H2")
                     and row["contrast"] == "ses_ethnicity") + tuple(later_findings)
    return StudyPlanResult(
        estimates=table, findings=findings, models=models, notes=notes,
        software=software_versions(), n_students=int(dataset["student_id"].nunique()),
        n_rows=len(dataset))


def estimates_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The plan's table from step rows, with Benjamini-Hochberg adjusted p values over them."""
    table = pd.DataFrame(rows).reindex(columns=TABLE_COLUMNS)
    tested = table["p_value"].notna()
    table["p_fdr"] = np.nan
    if tested.any():
        table.loc[tested, "p_fdr"] = multipletests(table.loc[tested, "p_value"],
                                                   method="fdr_bh")[1]
    return table


MEDIATORS = ("positive_rate", "negative_rate")
#: exposure -> contrast whose rows it uses
EXPOSURES = {"low_ses": "ses_ethnicity", "non_western": "ses_ethnicity",
             "turkish_moroccan": "turkish_moroccan_vs_dutch"}
#: exposure -> the teacher's IAT that may moderate its paths
MODERATORS = {"non_western": "teacher_iat_ethnicity", "low_ses": "teacher_iat_ses"}

Rows = list[dict[str, Any]]


def _row(hypothesis: str, outcome: str, effect: str, contrast: str, level: str,
         source: pd.Series, n: int, model: str, standardized: float = math.nan) -> dict:
    return {"hypothesis": hypothesis, "outcome": outcome, "effect": effect,
            "contrast": contrast, "level": level, "estimate": float(source["estimate"]),
            "std_error": float(source["std_error"]) if pd.notna(source["std_error"])
            else math.nan,
            "ci_low": float(source["ci_low"]), "ci_high": float(source["ci_high"]),
            "p_value": float(source["p_value"]) if pd.notna(source["p_value"]) else math.nan,
            "standardized": standardized, "n": n, "model": model}


def _mean_row(scores: pd.Series, moderator: str, model: str) -> dict[str, Any]:
    """Teachers' mean IAT D score with a one-sample t test against 0 (R ``t.test``)."""
    test = scipy.stats.ttest_1samp(scores.to_numpy(dtype=float), 0.0)
    interval = test.confidence_interval(0.95)
    n = len(scores)
    source = pd.Series({"estimate": float(scores.mean()),
                        "std_error": float(scores.std(ddof=1) / math.sqrt(n)),
                        "ci_low": float(interval.low), "ci_high": float(interval.high),
                        "p_value": float(test.pvalue)})
    return _row("H5", moderator, "mean_d", "", "", source, n, model,
                standardized=float(scores.mean() / scores.std(ddof=1)))


def _mediation_rows(result: Any, outcome: str, exposure: str, n: int, model: str) -> Rows:
    rows = []
    for _, r in result.to_frame().iterrows():
        mediator = r["mediator"]
        name = {"total_indirect": "indirect_total"}.get(r["effect"], r["effect"])
        effect = f"{name}:{mediator}" if isinstance(mediator, str) else name
        rows.append(_row("H3", outcome, effect, exposure, r["component"], r, n, model))
    return rows


def _later_steps(dataset: pd.DataFrame, hypotheses: tuple[str, ...],
                 rng: np.random.Generator, n_draws: int) -> list[PlanStep]:
    """H3 mediation, H4 negativity bias and H5 implicit attitudes, as plan steps."""
    from classdyad.analysis.mediation import mediation
    from classdyad.analysis.moderation import cross_level_moderation, moderated_mediation
    from classdyad.analysis.negativity_bias import negativity_bias

    steps: list[PlanStep] = []
    covariates = ["boy"] if dataset["boy"].nunique() > 1 else []
    repeated = "student" if gaps.repeated_students(dataset) else None
    outcomes = [o for o in gaps.RELATIONSHIP_OUTCOMES
                if o in dataset.columns and dataset[o].notna().sum() >= 10]

    def mediation_step(rows_of: Callable[[], pd.DataFrame], exposure: str, contrast: str,
                       outcome: str, others: list[str]) -> PlanStep:
        model = f"H3/{exposure}/{outcome}"

        def fit() -> StepOutput:
            rows = rows_of()
            result, notes = gaps.fit_quietly(
                mediation, data=rows, exposure=exposure, mediators=list(MEDIATORS),
                outcome=outcome, cluster="classroom", covariates=[*covariates, *others],
                repeated=repeated, n_draws=n_draws, rng=rng)
            used = int(rows[outcome].notna().sum())
            sentences = (result.conclusion["within"],) if contrast == "ses_ethnicity" and \
                outcome.startswith("teacher") else ()
            return ("1-1-1 mediation, within/between classes: " + "; ".join(result.formulas()),
                    notes, _mediation_rows(result, outcome, exposure, used, model), sentences)

        return PlanStep("H3", model, f"H3 mediation {exposure} -> {outcome}", fit)

    def bias_step(outcome: str) -> PlanStep:
        model = f"H4/{outcome}"

        def fit() -> StepOutput:
            data = dataset.dropna(subset=list(MEDIATORS))
            result, notes = gaps.fit_quietly(
                negativity_bias, data=data, outcome=outcome, positive="positive_rate",
                negative="negative_rate", cluster="classroom", covariates=covariates,
                repeated=repeated)
            rows = []
            for _, r in result.to_frame().iterrows():
                effect = {"difference": "negativity_difference"}.get(r["effect"], r["effect"])
                rows.append(_row("H4", outcome, effect, "", "", r, result.n_obs, model,
                                 standardized=float(r["estimate"])))
            return ("negativity bias, standardized rates: " + result.model.formula, notes,
                    rows, (result.conclusion,))

        return PlanStep("H4", model, f"H4 negativity bias in {outcome}", fit)

    def mean_step(scores: pd.Series, moderator: str) -> PlanStep:
        model = f"H5/{moderator}/mean"

        def fit() -> StepOutput:
            return (f"one-sample t test of teachers' mean {moderator} against 0", (),
                    [_mean_row(scores, moderator, model)], ())

        return PlanStep("H5", model, f"H5 teachers' mean {moderator}", fit)

    def moderation_step(data: pd.DataFrame, exposure: str, moderator: str) -> PlanStep:
        model = f"H5/{moderator}/{exposure}"

        def fit() -> StepOutput:
            result, notes = gaps.fit_quietly(
                cross_level_moderation, data=data, exposure=exposure, moderator=moderator,
                outcome="negative_rate", cluster="classroom", covariates=covariates,
                repeated=repeated, random_slope=True)
            effects = result.to_frame().set_index("effect")
            iat = moderator.removeprefix("teacher_")
            rows = [_row("H5", "negative_rate", f"{iat}:{exposure}", exposure, "",
                         effects.loc["interaction"], result.n_obs, model),
                    _row("H5", "negative_rate", iat, exposure, "", effects.loc["moderator"],
                         result.n_obs, model)]
            return (f"cross-level moderation of {exposure} -> negative_rate by {moderator}",
                    notes, rows, (result.conclusion,))

        return PlanStep("H5", model, f"H5 {moderator} x {exposure} on negative interactions",
                        fit)

    def index_step(data: pd.DataFrame, exposure: str, moderator: str) -> PlanStep:
        model = f"H5/{moderator}/{exposure}/index"

        def fit() -> StepOutput:
            result, notes = gaps.fit_quietly(
                moderated_mediation, data=data, exposure=exposure, moderator=moderator,
                mediators=["negative_rate"], outcome="teacher_closeness", cluster="classroom",
                covariates=covariates, repeated=repeated, random_slope=True, n_draws=n_draws,
                rng=rng)
            index = result.to_frame().query("effect == 'index'").iloc[0]
            rows = [_row("H5", "teacher_closeness", "index_moderated_mediation", exposure, "",
                         index, int(data["teacher_closeness"].notna().sum()), model)]
            return (f"moderated mediation {exposure} -> negative_rate -> teacher_closeness "
                    f"by {moderator}", notes, rows, tuple(result.summary().splitlines()[-1:]))

        return PlanStep("H5", model, f"H5 index of moderated mediation ({moderator})", fit)

    if "H3" in hypotheses:
        mediated = np.logical_and.reduce([dataset[m].notna().to_numpy() for m in MEDIATORS])
        for exposure, contrast in EXPOSURES.items():
            # the contrast's rows with both mediators observed
            used = gaps.contrast_mask(dataset, contrast)
            keep = mediated if used is None else mediated & used
            # the gap mediated is the gap of H1: adjusted for the contrast's other group term
            others = [t for t in gaps.CONTRASTS[contrast] if t != exposure
                      and dataset[t][keep].dropna().nunique() > 1]
            if dataset[exposure][keep].nunique() < 2:
                continue
            # the rows' frame, made when a step of the exposure is first fitted (a power
            # analysis may compute the steps otherwise)
            rows = functools.cache(
                lambda keep=keep, exposure=exposure, others=others: dataset[keep].assign(
                    **{t: dataset[t][keep].astype("float64") for t in (exposure, *others)}))
            steps.extend(mediation_step(rows, exposure, contrast, outcome, others)
                         for outcome in outcomes)
    if "H4" in hypotheses:
        steps.extend(bias_step(outcome) for outcome in outcomes)
    if "H5" in hypotheses:
        for exposure, moderator in MODERATORS.items():
            if moderator not in dataset.columns or dataset[moderator].notna().sum() < 10:
                steps.append(PlanStep("H5", f"H5 {moderator}", f"H5 {moderator}", None, (
                    f"{moderator}: fewer than 10 rows with the teacher's IAT score; the "
                    f"moderation of the {exposure} paths by implicit attitudes (H5) is not "
                    "estimated",)))
                continue
            scores = dataset.drop_duplicates("teacher")[moderator].dropna()
            if len(scores) >= 3 and scores.std() > 0:
                steps.append(mean_step(scores, moderator))
            data = dataset.dropna(subset=list(MEDIATORS)).assign(
                **{exposure: dataset[exposure].astype("float64")})
            steps.append(moderation_step(data, exposure, moderator))
            steps.append(index_step(data, exposure, moderator))
    return steps
