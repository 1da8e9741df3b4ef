"""The study plan: one call, a tidy table with FDR-adjusted p values, sentences and JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError
from classdyad.simulate import ReplicaTruth
from classdyad.study import build_analysis_dataset
from classdyad.study.gaps import interaction_gap, relationship_gap
from classdyad.study.plan import TABLE_COLUMNS, study_plan


def test_the_plan_covers_every_outcome_and_contrast(plan) -> None:
    table = plan.estimates
    assert list(table.columns) == TABLE_COLUMNS
    h1 = table[table["hypothesis"] == "H1"]
    assert set(h1["outcome"]) == {"teacher_closeness", "teacher_conflict", "student_closeness",
                                  "student_conflict"}
    assert set(h1["effect"]) == {"low_ses", "non_western", "turkish_moroccan"}
    h2 = table[table["hypothesis"] == "H2"]
    assert set(h2["outcome"]) == {"negative", "positive"}
    assert (h2["ratio"] > 0).all()
    tested = table.dropna(subset=["p_value"])
    assert (tested["p_fdr"] >= tested["p_value"] - 1e-15).all()
    model_based = table[table["hypothesis"].isin(["H1", "H2"])]  # Wald intervals
    assert (model_based["ci_low"] <= model_based["estimate"]).all()
    assert (model_based["estimate"] <= model_based["ci_high"]).all()
    assert (table["ci_low"] <= table["ci_high"]).all()


def test_mediation_negativity_bias_and_implicit_attitudes_are_in_the_table(plan) -> None:
    table = plan.estimates
    h3 = table[table["hypothesis"] == "H3"]
    assert set(h3["contrast"]) == {"low_ses", "non_western", "turkish_moroccan"}
    assert {"a:negative_rate", "b:negative_rate", "indirect:negative_rate", "indirect_total",
            "direct", "total", "proportion_mediated"} <= set(h3["effect"])
    assert set(h3["level"]) == {"within", "between"}
    bias = table[table["effect"] == "negativity_difference"].set_index("outcome")
    assert len(bias) == 4
    # the replica's teachers weigh negative interactions more; students' own reports do not
    # depend on interactions at all
    assert (bias.loc[["teacher_closeness", "teacher_conflict"], "ci_low"] > 0).all()
    student = bias.loc[["student_closeness", "student_conflict"]]
    assert ((student["ci_low"] < 0) & (student["ci_high"] > 0)).all()
    h5 = table[table["hypothesis"] == "H5"]
    assert {"iat_ethnicity:non_western", "iat_ses:low_ses", "iat_ethnicity", "iat_ses",
            "mean_d", "index_moderated_mediation"} <= set(h5["effect"])
    means = h5[h5["effect"] == "mean_d"].set_index("outcome")
    assert set(means.index) == {"teacher_iat_ethnicity", "teacher_iat_ses"}
    assert (means["n"] > 50).all() and (means["ci_low"] < means["estimate"]).all()
    assert any("mediation" in sentence for sentence in plan.findings)
    assert len(plan.key_table()) < len(table)


def test_count_gaps_cover_the_true_rate_ratios(plan) -> None:
    truth = ReplicaTruth().rates["negative"]
    row = plan.estimates.query("hypothesis == 'H2' and outcome == 'negative' and "
                               "effect == 'low_ses' and contrast == 'ses_ethnicity'").iloc[0]
    assert row["ratio_ci_low"] < truth.rate_ratio("low_ses") < row["ratio_ci_high"]
    row = plan.estimates.query("hypothesis == 'H2' and outcome == 'negative' and "
                               "effect == 'turkish_moroccan'").iloc[0]
    assert row["ratio_ci_low"] < truth.rate_ratio("turkish_moroccan") < row["ratio_ci_high"]


def test_every_finding_states_an_estimate_and_interval(plan) -> None:
    assert len(plan.findings) >= 12
    for sentence in plan.findings:
        assert "95% CI" in sentence


def test_results_are_json_with_formulas_and_versions(plan) -> None:
    record = json.loads(plan.to_json())
    assert len(record["estimates"]) == len(plan.estimates)
    first = record["estimates"][0]
    assert first["estimate"] == plan.estimates["estimate"].iloc[0]  # full precision
    assert any("(1 | school/classroom)" in formula for formula in record["models"].values())
    assert {"python", "numpy", "statsmodels", "classdyad"} <= set(record["software"])
    assert "Study plan" in plan._repr_html_()


def test_a_missing_column_is_named(replica_dataset) -> None:
    with pytest.raises(DataError, match=r"lacks column.*teacher_closeness"):
        relationship_gap(replica_dataset.drop(columns="teacher_closeness"),
                         outcome="teacher_closeness")


def test_an_outcome_without_variance_is_an_error(replica_dataset) -> None:
    with pytest.raises(DataError, match="teacher_conflict has no variance"):
        relationship_gap(replica_dataset.assign(teacher_conflict=2.0),
                         outcome="teacher_conflict")


def test_a_group_with_no_members_is_left_out_with_a_note(replica_dataset) -> None:
    fit = relationship_gap(replica_dataset.assign(low_ses=False), outcome="teacher_closeness")
    assert "low_ses" not in set(fit.fixed_effects["term"])
    assert any("low_ses" in note and "same group" in note for note in fit.notes)


def test_counts_without_any_event_are_an_error(replica_dataset) -> None:
    with pytest.raises(DataError, match="no negative interactions"):
        interaction_gap(replica_dataset.assign(negative=0), valence="negative")


def test_an_empty_dataset_is_an_error() -> None:
    with pytest.raises(DataError, match="empty"):
        study_plan(pd.DataFrame(columns=["student_id"]))


def test_the_plan_is_reproducible(small_study) -> None:
    data = build_analysis_dataset(small_study.tables)
    first = study_plan(data, rng=5, n_draws=500).estimates
    second = study_plan(data, rng=5, n_draws=500).estimates
    pd.testing.assert_frame_equal(first, second)
    assert np.isfinite(first["estimate"]).all()
    assert not math.isnan(first["n"].iloc[0])
