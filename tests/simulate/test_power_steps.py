"""The power analysis's lean mediation steps give the plan's numbers.

On several replicate studies (and one whose data send a step back to the plan's own checks), the
estimates, standard errors and p values of every H3 effect, the notes' warning classes and the
generator's state after the steps equal those of :func:`classdyad.study.plan.plan_steps`; where
the outcomes are observed on the same rows, one exposure's steps share their a-path fits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError
from classdyad.mixed import LinearMixedModelResult, lmm
from classdyad.simulate import ReplicaDesign, draw_analysis_dataset
from classdyad.simulate.power_steps import power_steps
from classdyad.study.plan import plan_steps

DESIGN = ReplicaDesign(schools=5, classes=10, students=200)
KEYS = ["model", "effect", "level"]
VALUES = ["estimate", "std_error", "p_value"]


def _run(make, dataset: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, list, float]:
    rng = np.random.default_rng(seed)
    rows, notes = [], []
    for step in make(dataset, hypotheses=("H3", "H4"), rng=rng, n_draws=2000):
        try:
            _formula, step_notes, step_rows, _sentences = step.fit()
        except DataError as error:
            notes.append((step.model_id, type(error).__name__))
            continue
        rows.extend(step_rows)
        notes.append((step.model_id, sorted(n.category.__name__ for n in step_notes)))
    return pd.DataFrame(rows), notes, float(rng.random())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lean_mediation_equals_the_plan(seed: int) -> None:
    dataset = draw_analysis_dataset(DESIGN, rng=seed, iat=False)
    _check_equal(dataset, seed)


def test_steps_with_the_same_rows_share_the_a_path_fits(monkeypatch) -> None:
    dataset = draw_analysis_dataset(DESIGN, rng=5, iat=False)
    outcomes = ["teacher_closeness", "teacher_conflict", "student_closeness",
                "student_conflict"]
    dataset[outcomes] = dataset[outcomes].fillna(dataset[outcomes].mean())
    _check_equal(dataset, 5)
    responses: list[str] = []

    def counting_lmm(formula: str, data: pd.DataFrame, **options):
        responses.append(formula.split("~")[0].strip())
        return lmm(formula, data, **options)

    refit_with = LinearMixedModelResult.refit_with

    def counting_refit_with(fit, formula: str, response, fixed):
        responses.append(formula.split("~")[0].strip())
        return refit_with(fit, formula, response, fixed)

    monkeypatch.setattr("classdyad.simulate.power_steps.lmm", counting_lmm)
    monkeypatch.setattr(LinearMixedModelResult, "refit_with", counting_refit_with)
    steps = [s for s in power_steps(dataset, hypotheses=("H3",), rng=np.random.default_rng(5),
                                    n_draws=100) if s.hypothesis == "H3"]
    for step in steps:
        step.fit()
    exposures = {step.model_id.split("/")[1] for step in steps}
    # one a-path design per exposure (the second mediator by refit), one outcome model per step
    assert responses.count("M0") == len(exposures) < len(steps)
    assert responses.count("Y") == len(steps) and "M1" not in responses


def _check_equal(dataset: pd.DataFrame, seed: int) -> None:
    plan, plan_notes, plan_next = _run(plan_steps, dataset, 10 + seed)
    lean, lean_notes, lean_next = _run(power_steps, dataset, 10 + seed)
    assert len(plan) == len(lean) and (plan["hypothesis"] == "H3").sum() > 100
    merged = plan[KEYS + VALUES].merge(lean[KEYS + VALUES], on=KEYS, suffixes=("", "_lean"))
    assert len(merged) == len(plan)
    for column in VALUES:
        np.testing.assert_allclose(merged[f"{column}_lean"], merged[column], rtol=1e-9,
                                   atol=1e-14)
    assert plan_notes == lean_notes
    assert plan_next == lean_next  # the same Monte Carlo draws were taken


def test_data_the_lean_path_does_not_take_go_to_the_plans_step() -> None:
    dataset = draw_analysis_dataset(DESIGN, rng=4, iat=False)
    # Turkish/Moroccan students make up whole classes: that gap has no within-class part
    codes = dataset["classroom"].factorize()[0]
    contrast = dataset["migration_background"].isin(["dutch", "turkish", "moroccan"])
    dataset.loc[contrast, "migration_background"] = np.where(codes[contrast] % 2, "turkish",
                                                             "dutch")
    dataset["turkish_moroccan"] = dataset["migration_background"] == "turkish"
    plan, plan_notes, plan_next = _run(plan_steps, dataset, 5)
    lean, lean_notes, lean_next = _run(power_steps, dataset, 5)
    assert plan_notes == lean_notes and plan_next == lean_next
    assert any(note == "DataError" for _model, note in plan_notes)
    pd.testing.assert_frame_equal(plan[KEYS + VALUES], lean[KEYS + VALUES])
