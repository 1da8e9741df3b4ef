"""Power runs: seeds independent of batching, resumable runs, failures beside the power,
effects from YAML and from a pilot, nulls, and the --mc-se stopping rule."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError, OptionError
from classdyad.simulate import (
    ReplicaDesign,
    ReplicaTruth,
    design_grid,
    draw_analysis_dataset,
    measurement,
    null_truth,
    power,
    truth_from_mapping,
    truth_from_pilot,
    truth_from_yaml,
)
from classdyad.simulate.power_effects import scored_iat_null_mean
from classdyad.simulate.power_replicates import ReplicateTask, run_replicates
from classdyad.simulate.power_results import summarize_replicates

SMALL = ReplicaDesign(schools=4, classes=8, students=160)


def _run(**options):
    settings = {"hypotheses": ["H4"], "design": SMALL, "replicates": 3, "seed": 7,
                "scheduler": "serial"}
    settings.update(options)
    return power(**settings)


def test_replicates_do_not_depend_on_batching_or_order() -> None:
    truth = ReplicaTruth()
    task = ReplicateTask(0, SMALL, (("H4", truth),), 5, 1000, "fast")
    together = run_replicates(task, [0, 1, 2])
    apart = run_replicates(task, [2]) + run_replicates(task, [0]) + run_replicates(task, [1])
    key = {r["replicate"]: r["estimates"] for r in apart}
    for record in together:
        assert record["estimates"] == key[record["replicate"]]
    assert together[0]["estimates"] != together[1]["estimates"]


def test_a_killed_run_continues_where_it_stopped(tmp_path) -> None:
    fresh = _run(replicates=4)
    folder = tmp_path / "run"
    _run(replicates=2, out=folder)
    lines = (folder / "replicates.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    # a run killed while writing leaves half a line
    (folder / "replicates.jsonl").write_text(lines[0] + "\n" + lines[1][:40],
                                             encoding="utf-8")
    continued = _run(replicates=4, out=folder)
    pd.testing.assert_frame_equal(continued.table, fresh.table)
    lines = (folder / "replicates.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines[1] == lines[1][:40]  # the cut line stays as it was; the next ones are whole
    records = [json.loads(line) for line in lines[2:]]
    assert sorted(r["replicate"] for r in records) == [1, 2, 3]  # 0 was kept


def test_other_arguments_in_the_same_folder_are_refused(tmp_path) -> None:
    _run(replicates=1, out=tmp_path)
    with pytest.raises(DataError, match="other arguments"):
        _run(replicates=1, out=tmp_path, seed=8)


def test_failed_fits_are_counted_beside_the_power() -> None:
    designs, _ = design_grid(SMALL)
    estimate = {"hypothesis": "H1", "model": "H1/x/ses_ethnicity", "outcome": "x",
                "effect": "low_ses", "contrast": "ses_ethnicity", "level": None,
                "estimate": 0.1, "std_error": 0.1}
    ok = {"model": "H1/x/ses_ethnicity", "hypothesis": "H1", "status": "ok", "error": None,
          "singular": True, "nonconverged": False, "seconds": 0.1}
    failed = {**ok, "status": "failed", "error": "EstimationError", "singular": False}
    records = [
        {"design": 0, "replicate": 0, "models": [ok], "seconds": 1,
         "estimates": [{**estimate, "p_value": 0.01, "p_fdr": 0.01}]},
        {"design": 0, "replicate": 1, "models": [ok], "seconds": 1,
         "estimates": [{**estimate, "p_value": 0.20, "p_fdr": 0.20}]},
        {"design": 0, "replicate": 2, "models": [failed], "seconds": 1, "estimates": []},
    ]
    row = summarize_replicates(records, designs, alpha=0.05, adjustment="none").iloc[0]
    assert row["power"] == 0.5  # one of the two fits, not one of three replicates
    assert (row["n_replicates"], row["n_fitted"], row["n_failed"]) == (3, 2, 1)
    assert row["n_singular"] == 2 and row["n_nonconverged"] == 0
    assert row["mc_se"] == pytest.approx(math.sqrt(0.25 / 2))
    assert row["ci_low"] < 0.5 < row["ci_high"]


def test_result_holds_one_record_per_hypothesis_estimate_and_design() -> None:
    result = _run(hypotheses=["H4"], classes=[6, 8], students_per_class=[15], replicates=2)
    table = result.table
    assert len(table) == 2 * table["estimate"].nunique()
    assert not table.duplicated(["hypothesis", "estimate", "classes"]).any()
    for record in result.records():
        for field in ("hypothesis", "effect", "classes", "power", "mc_se", "n_replicates",
                      "n_failed", "ci_low", "ci_high", "n_singular", "n_nonconverged"):
            assert field in record
    assert set(result.smallest.columns) >= {"hypothesis", "effect", "reached", "best_power"}
    assert "Power analysis" in result._repr_html_()


def test_mc_se_goes_on_until_the_standard_error_is_small_enough() -> None:
    result = _run(replicates=2, mc_se=0.2, max_replicates=12)
    table = result.table
    assert ((table["mc_se"] <= 0.2) | (table["n_replicates"] == 12)).all()
    assert table["n_replicates"].max() > 2


def test_options_are_checked() -> None:
    with pytest.raises(OptionError, match="'none', 'fdr'"):
        _run(adjustment="bonferroni")
    with pytest.raises(DataError, match="H1, H2"):
        _run(hypotheses=["H9"])
    with pytest.raises(DataError, match="tcp://"):
        _run(scheduler="somewhere")


def test_null_truth_zeroes_what_each_hypothesis_tests() -> None:
    truth = ReplicaTruth()
    h2 = null_truth(truth, "H2")
    assert all(m.log_rate_ratio["low_ses"] == 0 for m in h2.rates.values())
    assert h2.rates["negative"].log_rate_ratio["boy"] == truth.rates["negative"].log_rate_ratio[
        "boy"]
    h1 = null_truth(truth, "H1")
    assert h1.outcomes["teacher_closeness"].coefficients["non_western"] == 0
    assert h1.outcomes["teacher_closeness"].per_negative_per_hour == \
        truth.outcomes["teacher_closeness"].per_negative_per_hour
    h5 = null_truth(truth, "H5")
    assert set(h5.iat_mean.values()) == {scored_iat_null_mean(truth)}
    assert truth.iat_mean["ethnicity"] > 0
    assert h5.outcomes["teacher_closeness"].coefficients["iat_ses:low_ses"] == 0
    assert h5.rates == truth.rates
    h4 = null_truth(truth, "H4")
    for name, model in h4.outcomes.items():
        assert model.equal_standardized_weights
        assert model.per_positive_per_hour == truth.outcomes[name].per_positive_per_hour
        assert model.coefficients["boy"] == truth.outcomes[name].coefficients["boy"]
        assert all(model.coefficients[t] == 0 for t in ("low_ses", "non_western",
                                                        "turkish_moroccan", "other_non_western"))
    assert h4.rates == truth.rates


def test_equal_standardized_weights_use_the_drawn_rates_sds() -> None:
    """Under H4's null the slope on negative interactions weighs as much as the positive one
    after standardizing by the SDs of the rows where both rates are observed."""
    positive = np.array([1.0, 3.0, np.nan, 2.0, 6.0])
    negative = np.array([0.5, 0.0, 4.0, 1.5, np.nan])
    weight = -0.04 * measurement._rate_sd_ratio(positive, negative)
    expected = -0.04 * np.std([1, 3, 2], ddof=1) / np.std([0.5, 0, 1.5], ddof=1)
    assert weight == pytest.approx(expected, rel=1e-14)


def test_h4_null_draws_outcomes_with_equal_standardized_weights() -> None:
    """Without noise, the drawn outcome is exactly ``b (z_positive - z_negative)`` plus
    constants on the rows where both rates are observed, in every sample."""
    quiet = {name: dataclasses.replace(model, class_sd=0.0, student_sd=0.0, residual_sd=0.0)
             for name, model in null_truth(ReplicaTruth(), "H4").outcomes.items()}
    truth = dataclasses.replace(ReplicaTruth(), outcomes=quiet)
    rng = np.random.default_rng(3)
    n, n_classes = 60, 4
    positive = rng.gamma(3.0, 0.5, size=n)
    negative = rng.gamma(1.0, 0.4, size=n)
    positive[5], negative[9] = np.nan, np.nan
    rows = {"student_id": np.arange(1, n + 1), "classroom_id": np.arange(n) % n_classes + 1,
            "positive_rate": positive, "negative_rate": negative,
            "iat_ethnicity": np.zeros(n), "iat_ses": np.zeros(n)}
    students = (np.array(["dutch"] * n, dtype=object), np.zeros(n, dtype=bool),
                np.zeros(n, dtype=bool))
    effects = ({v: np.zeros(n_classes + 1) for v in ("positive", "negative", "neutral")},
               {v: np.zeros(n + 1) for v in ("positive", "negative", "neutral")})
    values = measurement.draw_outcome_values(truth, rows, students, n_classes, effects, rng)
    both = ~(np.isnan(positive) | np.isnan(negative))
    z_positive = (positive[both] - positive[both].mean()) / positive[both].std(ddof=1)
    z_negative = (negative[both] - negative[both].mean()) / negative[both].std(ddof=1)
    for name in ("teacher_closeness", "teacher_conflict"):
        model = truth.outcomes[name]
        scale = model.per_positive_per_hour * positive[both].std(ddof=1)
        centred = values[name][both] - values[name][both].mean()
        np.testing.assert_allclose(centred, scale * (z_positive - z_negative), atol=1e-12)


def test_h5_null_centres_the_scored_d_scores_at_zero() -> None:
    """The D algorithm's fast-trial rules make scored D average about +0.02 when the true
    effects are centred at zero; the null's centre brings the scored mean to zero (checked on
    a draw with another seed: its MC SE is about 0.0025)."""
    truth = ReplicaTruth()
    centre = scored_iat_null_mean(truth)
    assert -0.05 < centre < -0.01
    teachers = np.arange(1, 20_001)
    block = np.repeat(np.arange(1, 8), measurement.IAT_BLOCK_TRIALS)
    design = ReplicaDesign(iat_missing_rate=0.0)

    def scored_mean(mean: float) -> float:
        drawn = measurement.draw_iat_arrays(
            design, dataclasses.replace(truth, iat_mean=dict.fromkeys(truth.iat_mean, mean)),
            teachers, np.random.default_rng(77))
        return float(np.nanmean(measurement.d2_scores(block, drawn.latency_ms,
                                                      drawn.compatible_first)))

    assert scored_mean(0.0) > 0.012
    assert abs(scored_mean(centre)) < 0.008


def test_effects_from_a_mapping_and_a_yaml_file(tmp_path) -> None:
    path = tmp_path / "effects.yaml"
    path.write_text("rates:\n  negative:\n    rate_ratio: {low_ses: 1.2}\n"
                    "outcomes:\n  teacher_closeness:\n    per_negative_per_hour: -0.2\n",
                    encoding="utf-8")
    truth = truth_from_yaml(path)
    assert truth.rates["negative"].rate_ratio("low_ses") == pytest.approx(1.2)
    assert truth.outcomes["teacher_closeness"].per_negative_per_hour == -0.2
    assert truth.rates["positive"] == ReplicaTruth().rates["positive"]
    with pytest.raises(DataError, match="known fields are"):
        truth_from_mapping({"rates": {"negative": {"rate_per_minute": 1}}})
    with pytest.raises(DataError, match="known keys are"):
        truth_from_mapping({"rates": {"sarcastic": {}}})


def test_effects_estimated_from_a_pilot_recover_the_truth() -> None:
    truth = ReplicaTruth()
    pilot = draw_analysis_dataset(ReplicaDesign(), truth, rng=3, iat=False)
    estimated = truth_from_pilot(pilot)
    negative = estimated.rates["negative"]
    assert negative.log_rate_ratio["boy"] == pytest.approx(
        truth.rates["negative"].log_rate_ratio["boy"], abs=0.15)
    assert negative.rate_per_hour == pytest.approx(truth.rates["negative"].rate_per_hour,
                                                   rel=0.25)
    closeness = estimated.outcomes["teacher_closeness"]
    assert closeness.per_negative_per_hour == pytest.approx(
        truth.outcomes["teacher_closeness"].per_negative_per_hour, abs=0.05)
    assert sum(estimated.origin_shares.values()) == pytest.approx(1.0)
    assert np.isfinite(closeness.residual_sd)
