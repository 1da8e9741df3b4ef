"""Fixtures of the report tests: a small study, its analysis plan, and reports written from it.

``results_all_hypotheses`` adds rows in the layout of the mediation (H3), negativity-bias (H4)
and implicit-attitude (H5) estimates to the plan's results, with values drawn from a fixed seed,
so that every kind of section, table and figure is exercised whatever the plan estimates today.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from classdyad.report import StudyReport, study_report
from classdyad.simulate import SimulatedStudy
from classdyad.study import build_analysis_dataset
from classdyad.study.plan import StudyPlanResult, study_plan


@pytest.fixture(scope="session")
def report_dataset(small_study: SimulatedStudy):
    return build_analysis_dataset(small_study.tables)


@pytest.fixture(scope="session")
def plan_result(report_dataset) -> StudyPlanResult:
    """The analysis plan run on the small study."""
    return study_plan(report_dataset, rng=1, n_draws=2_000)


@pytest.fixture(scope="session")
def plan_results(plan_result: StudyPlanResult) -> dict[str, Any]:
    """The analysis plan's results, as results.json holds them."""
    return json.loads(plan_result.to_json())


@pytest.fixture(scope="session")
def plan_report(small_study: SimulatedStudy, report_dataset, plan_result: StudyPlanResult,
                tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The report of the plan's result object, and the results.json written from it."""
    folder = tmp_path_factory.mktemp("plan_report")
    path = study_report(small_study.tables, plan_result, dataset=report_dataset).save(
        folder / "report.html")
    plan_result.to_json(str(folder / "results.json"))
    return path, json.loads((folder / "results.json").read_text(encoding="utf-8"))


def _row(rng: np.random.Generator, hypothesis: str, outcome: str, effect: str, contrast: str,
         level: str | None, model: str) -> dict[str, Any]:
    estimate = float(rng.normal(0.0, 0.2))
    se = float(rng.uniform(0.02, 0.08))
    p = float(2 * stats.norm.sf(abs(estimate / se)))
    return {"hypothesis": hypothesis, "outcome": outcome, "effect": effect,
            "contrast": contrast, "level": level, "estimate": estimate, "std_error": se,
            "ci_low": estimate - 1.96 * se, "ci_high": estimate + 1.96 * se, "p_value": p,
            "p_fdr": min(1.0, 3 * p), "standardized": estimate / 0.6, "ratio": None,
            "ratio_ci_low": None, "ratio_ci_high": None, "n": 170, "model": model}


@pytest.fixture(scope="session")
def results_all_hypotheses(plan_results: dict[str, Any]) -> dict[str, Any]:
    results = copy.deepcopy(plan_results)
    rng = np.random.default_rng(11)
    rows = [r for r in results["estimates"] if r["hypothesis"] in ("H1", "H2")]
    for exposure in ("low_ses", "non_western"):
        for outcome in ("teacher_closeness", "teacher_conflict"):
            for level in ("within", "between"):
                model = f"H3/{exposure}/{outcome}/{level}"
                results["models"][model] = f"mediation {exposure} -> interactions -> {outcome}"
                for effect in ("a:negative_rate", "a:positive_rate", "b:negative_rate",
                               "b:positive_rate", "indirect:negative_rate",
                               "indirect:positive_rate", "indirect_total", "direct", "total"):
                    rows.append(_row(rng, "H3", outcome, effect, exposure, level, model))
                share = _row(rng, "H3", outcome, "proportion_mediated", exposure, level, model)
                share.update(std_error=None, p_value=None, p_fdr=None, standardized=None)
                rows.append(share)
    for outcome in ("teacher_closeness", "teacher_conflict", "student_closeness",
                    "student_conflict"):
        model = f"H4/{outcome}"
        results["models"][model] = f"{outcome} ~ negative_rate + positive_rate [gaussian]"
        for effect in ("b_negative", "b_positive", "negativity_difference"):
            rows.append(_row(rng, "H4", outcome, effect, "", None, model))
    model = "H5/negative"
    results["models"][model] = "negative ~ low_ses * iat_ses + non_western * iat_ethnicity"
    for effect, contrast in (("iat_ethnicity:non_western", "non_western"),
                             ("iat_ses:low_ses", "low_ses"),
                             ("index_moderated_mediation", "non_western")):
        rows.append(_row(rng, "H5", "teacher_closeness", effect, contrast, None, model))
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    results["estimates"] = rows
    return results


@pytest.fixture(scope="session")
def written_reports(small_study: SimulatedStudy, report_dataset, results_all_hypotheses,
                    tmp_path_factory: pytest.TempPathFactory
                    ) -> dict[str, tuple[Path, StudyReport, dict[str, Any]]]:
    """The English and Dutch reports (all hypotheses), saved with results.json beside them."""
    written = {}
    for language in ("en", "nl"):
        folder = tmp_path_factory.mktemp(f"report_{language}")
        results_path = folder / "results.json"
        results_path.write_text(json.dumps(results_all_hypotheses), encoding="utf-8")
        report = study_report(small_study.tables, results_path, language=language,
                              dataset=report_dataset)
        written[language] = (report.save(folder / "report.html"), report,
                             json.loads(results_path.read_text(encoding="utf-8")))
    return written
