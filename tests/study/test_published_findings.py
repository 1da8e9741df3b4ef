"""The published claims as data, the check of a plan's results against them, and the replica.

The default replica (seed 20260101, the demo's) is drawn from a truth that tells the published
story, so every claim agrees on its analysis plan; the rules themselves are checked on small
hand-made tables.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from classdyad.errors import DataError, OptionError
from classdyad.study.plan import _mean_row
from classdyad.study.published_findings import (
    PUBLISHED_CLAIMS,
    ClaimCheck,
    PublishedClaim,
    classify,
    compare_with_published,
)

GOLDEN = Path(__file__).parent / "golden"


def _table(rows: list[dict]) -> pd.DataFrame:
    base = {"contrast": "", "level": "", "ci_low": -1.0, "ci_high": 1.0, "p_value": 0.5}
    return pd.DataFrame([{**base, **row} for row in rows])


CLAIM = PublishedClaim("example", "ses", "An example.", "Een voorbeeld.", (
    ClaimCheck("H1", "teacher_closeness", "low_ses", "ses_ethnicity", "significant_negative"),
    ClaimCheck("H1", "student_closeness", "low_ses", "ses_ethnicity", "not_significant")))


def test_every_claim_has_an_id_wording_in_both_languages_and_checks() -> None:
    ids = [claim.id for claim in PUBLISHED_CLAIMS]
    assert len(ids) == len(set(ids)) >= 15
    for claim in PUBLISHED_CLAIMS:
        assert claim.english.endswith(".") and claim.dutch.endswith(".")
        assert claim.text("nl") == claim.dutch and claim.text("en") == claim.english
        assert claim.checks
        for check in claim.checks:
            assert (check.level == "within") == (check.hypothesis == "H3")


@pytest.mark.parametrize(("estimate", "p_fdr", "found"), [
    (0.3, 0.01, "significant_positive"), (-0.3, 0.049, "significant_negative"),
    (-0.3, 0.05, "not_significant"), (0.1, 0.8, "not_significant"),
    (0.1, math.nan, "not_estimated")])
def test_an_estimate_is_classified_by_its_fdr_adjusted_p_and_sign(estimate, p_fdr, found):
    assert classify(estimate, p_fdr) == found


def test_a_claim_agrees_only_when_every_check_does() -> None:
    table = _table([
        {"hypothesis": "H1", "outcome": "teacher_closeness", "effect": "low_ses",
         "contrast": "ses_ethnicity", "estimate": -0.2, "p_fdr": 0.001},
        {"hypothesis": "H1", "outcome": "student_closeness", "effect": "low_ses",
         "contrast": "ses_ethnicity", "estimate": 0.01, "p_fdr": 0.7}])
    result = compare_with_published(table, claims=[CLAIM])
    assert result.all_agree and result.n_agreeing == 1
    assert list(result.checks["row"]) == [0, 1]
    table.loc[1, "p_fdr"] = 0.01
    result = compare_with_published(table, claims=[CLAIM])
    assert not result.all_agree
    assert list(result.checks["found"]) == ["significant_negative", "significant_positive"]
    assert result.claims.loc[0, "agreeing_checks"] == 1


def test_a_missing_estimate_does_not_agree() -> None:
    table = _table([{"hypothesis": "H1", "outcome": "teacher_closeness", "effect": "low_ses",
                     "contrast": "ses_ethnicity", "estimate": -0.2, "p_fdr": 0.001}])
    checks = compare_with_published(table, claims=[CLAIM]).checks
    assert checks.loc[1, "found"] == "not_estimated" and not checks.loc[1, "agrees"]
    assert pd.isna(checks.loc[1, "row"])


def test_results_json_its_mapping_and_the_table_give_the_same_comparison(tmp_path) -> None:
    table = _table([{"hypothesis": "H1", "outcome": "teacher_closeness", "effect": "low_ses",
                     "contrast": "ses_ethnicity", "level": None, "estimate": -0.2,
                     "p_fdr": 0.001}])
    mapping = {"estimates": table.to_dict("records")}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(mapping), encoding="utf-8")
    frames = [compare_with_published(source, claims=[CLAIM]).checks
              for source in (table, mapping, path, str(path))]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(frame, frames[0])


def test_wrong_inputs_say_what_to_pass() -> None:
    with pytest.raises(DataError, match="StudyPlanResult"):
        compare_with_published(42)
    with pytest.raises(DataError, match="lacks column"):
        compare_with_published(pd.DataFrame({"estimate": [1.0]}))
    with pytest.raises(DataError, match="alpha"):
        compare_with_published(pd.DataFrame(), alpha=5.0)
    with pytest.raises(OptionError, match="not_significant"):
        ClaimCheck("H1", "x", "y", "", "nonsignificant")  # type: ignore[arg-type]


def test_teachers_mean_iat_matches_r_t_test() -> None:
    # tolerance 1e-10 relative: both are closed-form t statistics
    golden = json.loads((GOLDEN / "teacher_iat_mean.json").read_text(encoding="utf-8"))
    scores = pd.Series(golden["d_scores"])
    row = _mean_row(scores, "teacher_iat_ethnicity", "H5/teacher_iat_ethnicity/mean")
    for ours, theirs in (("estimate", "estimate"), ("std_error", "std_error"),
                         ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("p_value", "p_value"),
                         ("standardized", "cohen_d")):
        assert row[ours] == pytest.approx(golden[theirs], rel=1e-10), ours
    assert row["n"] == golden["n"] and row["effect"] == "mean_d"


def test_every_check_names_exactly_one_row_of_the_plan(plan) -> None:
    keys = plan.estimates[["hypothesis", "outcome", "effect", "contrast", "level"]].fillna("")
    counts = keys.value_counts()
    for claim in PUBLISHED_CLAIMS:
        for check in claim.checks:
            assert counts.get(check.key, 0) == 1, (claim.id, check.key)


def test_the_default_replica_reproduces_every_published_claim(plan) -> None:
    comparison = compare_with_published(plan)
    disagreeing = comparison.checks[~comparison.checks["agrees"]]
    assert disagreeing.empty, disagreeing[["claim", "effect", "estimate", "p_fdr", "found"]]
    assert comparison.all_agree
    assert "claims agree" in comparison._repr_html_()
