"""IAT scoring: golden values from an independent R implementation, hand-worked examples,
properties and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classdyad.errors import DataError, OptionError, UndefinedStatisticWarning, ValidationError
from classdyad.measures import (
    iat_split_half,
    read_iat_trials,
    score_brief_iat,
    score_iat,
    score_single_category_iat,
)

DATA = Path(__file__).parents[1] / "data"
GOLDEN = json.loads((Path(__file__).parent / "golden" / "iat_d_scores.json").read_text())
VARIANTS = ["D1", "D2", "D3", "D4", "D5", "D6"]

CHOCOLATE_BLOCKS = {
    "practice_MappingA": "practice_compatible",
    "practice_MappingB": "practice_incompatible",
    "test_MappingA": "test_compatible",
    "test_MappingB": "test_incompatible",
}
CHOCOLATE_COLUMNS = {"correct": "correct"}
GENDER_MATH_COLUMNS = {
    "participant": "SESSION_ID",
    "block": ["BLOCK_NAME_S", "isCongruentFirst"],
    "trial": "TRIAL_NUMBER",
    "latency": "TRIAL_LATENCY",
    "error": "TRIAL_ERROR",
}


def _gender_math_blocks() -> dict:
    """Roles depend on the counterbalanced order: congruent (Math/Male) first or second."""
    blocks: dict = {}
    for first in (0, 1):
        early, late = ("compatible", "incompatible") if first else ("incompatible", "compatible")
        blocks |= {
            ("BLOCK2", first): f"practice_{early}",
            ("BLOCK3", first): f"test_{early}",
            ("BLOCK5", first): f"practice_{late}",
            ("BLOCK6", first): f"test_{late}",
        }
        blocks |= {(name, first): "ignore" for name in ("BLOCK0", "BLOCK1", "BLOCK4")}
    return blocks


@pytest.fixture(scope="module")
def chocolate() -> pd.DataFrame:
    return pd.read_csv(DATA / "iat_chocolate_implicitMeasures_trials.csv")


@pytest.fixture(scope="module")
def gender_math() -> pd.DataFrame:
    return pd.read_csv(DATA / "iat_gender_math_IATpkg_trials.csv")


def _data_set(name, chocolate, gender_math):
    if name == "chocolate":
        return chocolate, CHOCOLATE_BLOCKS, CHOCOLATE_COLUMNS
    return gender_math, _gender_math_blocks(), GENDER_MATH_COLUMNS


# --- golden: independent R implementation of Greenwald et al. (2003), Table 4 -----------------


@pytest.mark.parametrize("name", ["chocolate", "gender_math"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_d_scores_match_r_reference(name, variant, chocolate, gender_math):
    trials, blocks, columns = _data_set(name, chocolate, gender_math)
    scores = score_iat(trials, blocks=blocks, columns=columns, variant=variant).scores
    reference = pd.DataFrame(GOLDEN[name]["scores"][variant])
    merged = scores.merge(reference, on="participant", suffixes=("", "_r"), validate="1:1")
    assert len(merged) == len(scores) == len(reference)
    # tolerance: 1e-10 absolute (same arithmetic in double precision)
    np.testing.assert_allclose(merged["d"], merged["d_r"].astype(float), atol=1e-10)
    np.testing.assert_allclose(merged["d_practice"], merged["d_practice_r"], atol=1e-10)
    np.testing.assert_allclose(merged["d_test"], merged["d_test_r"], atol=1e-10)
    np.testing.assert_allclose(merged["fast_share"], merged["fast_share_r"], atol=1e-12)
    assert (merged["n_used"] == merged["n_used_r"]).all()
    assert (merged["n_errors"] == merged["n_errors_r"]).all()
    assert (merged["excluded"] == merged["excluded_r"]).all()


def test_gender_math_flags_the_fast_responder(gender_math):
    scores = score_iat(
        gender_math, blocks=_gender_math_blocks(), columns=GENDER_MATH_COLUMNS
    ).scores
    flagged = scores[scores["excluded"]]
    assert list(flagged["participant"]) == [604660]
    assert np.isnan(flagged["d"]).all()
    assert "faster than 300 ms" in flagged["exclusion_reason"].iloc[0]
    assert scores.loc[~scores["excluded"], "exclusion_reason"].isna().all()


@pytest.mark.parametrize("name", ["chocolate", "gender_math"])
def test_split_half_matches_r_reference(name, chocolate, gender_math):
    trials, blocks, columns = _data_set(name, chocolate, gender_math)
    for reference in GOLDEN[name]["split_half"]:
        result = iat_split_half(
            trials,
            blocks=blocks,
            columns=columns,
            variant=reference["variant"],
            split=reference["split"],
        )
        # tolerance: 1e-10 absolute
        assert result.correlation == pytest.approx(reference["correlation"], abs=1e-10)
        assert result.reliability == pytest.approx(reference["reliability"], abs=1e-10)
        assert result.n_participants == reference["n_participants"]


# --- hand-worked examples ---------------------------------------------------------------------


def _trials(blocks: dict[str, list[tuple[float, int]]], participant="p1") -> pd.DataFrame:
    rows = []
    for block, trials in blocks.items():
        for number, (latency, error) in enumerate(trials, start=1):
            rows.append((participant, block, number, latency, error))
    return pd.DataFrame(rows, columns=["participant", "block", "trial", "latency", "error"])


# one participant; (latency ms, error flag)
HAND = _trials(
    {
        "practice_compatible": [(500, 0), (600, 0), (700, 0), (800, 1)],
        "practice_incompatible": [(800, 0), (900, 0), (1000, 0), (12000, 0)],
        "test_compatible": [(450, 0), (550, 0), (350, 0), (650, 0)],
        "test_incompatible": [(700, 0), (900, 1), (1100, 0), (800, 0)],
    }
)


def test_hand_worked_d_scores():
    """Greenwald et al. (2003) by hand (calculator arithmetic).

    Step 1 removes the 12,000 ms trial; no trial is under 300 ms (fast share 0).
    Practice pair, all 7 trials 500 600 700 800 | 800 900 1000: SD = 171.82494.
    Test pair, all 8 trials 450 550 350 650 | 700 900 1100 800: SD = 244.58420.
    D1: practice (900 - 650) / 171.82494 = 1.4549692, test (875 - 500) / 244.58420 = 1.5332144;
        D1 = 1.4940918.
    D2: the 350 ms trial goes: test compatible mean 550, test SD (7 trials) = 219.30627,
        test (875 - 550) / 219.30627 = 1.4819458; D2 = (1.4549692 + 1.4819458) / 2 = 1.4684575.
    D4: error 800 -> mean correct 600 + 600 = 1200, practice compatible mean 750:
        (900 - 750) / 171.82494 = 0.8729815; error 900 -> 866.667 + 600 = 1466.667, test
        incompatible mean 1016.667: (1016.667 - 500) / 244.58420 = 2.1124287; D4 = 1.4927051.
    D3: SD of correct 500 600 700 = 100: error -> 600 + 200 = 800 (mean 650 as in D1);
        SD of correct 700 1100 800 = 208.16660: error -> 866.667 + 416.333 = 1283.0, mean
        970.75: (970.75 - 500) / 244.58420 = 1.9246949; D3 = 1.6898321.
    D6: D4's practice quotient with D2's test pair: error -> 1466.667, (1016.667 - 550) /
        219.30627 = 2.1279222; D6 = 1.5004519. D5: likewise from D3 and D2.
    """
    expected = {"D1": 1.4940918, "D2": 1.4684575, "D3": 1.6898321, "D4": 1.4927051}
    expected["D6"] = 1.5004519
    for variant, value in expected.items():
        row = score_iat(HAND, variant=variant).scores.iloc[0]
        assert row["d"] == pytest.approx(value, abs=1e-7)  # tolerance: 7 decimals by hand
    d1 = score_iat(HAND, variant="D1").scores.iloc[0]
    assert d1["d_practice"] == pytest.approx(1.4549692, abs=1e-7)
    assert d1["d_test"] == pytest.approx(1.5332144, abs=1e-7)
    assert (d1["n_trials"], d1["n_removed_slow"], d1["n_removed_fast"]) == (16, 1, 0)
    assert (d1["n_used"], d1["n_errors"], d1["fast_share"]) == (15, 2, 0.0)
    d2 = score_iat(HAND, variant="D2").scores.iloc[0]
    assert (d2["n_removed_fast"], d2["n_used"]) == (1, 14)
    d5 = score_iat(HAND, variant="D5").scores.iloc[0]
    # D5 = (1.4549692 + (970.75 - 550) / 219.30627) / 2
    assert d5["d"] == pytest.approx((1.4549692 + 420.75 / 219.30627) / 2, abs=1e-7)


def test_corrected_latency_used_for_built_in_correction():
    trials = HAND.assign(corrected=np.where(HAND["error"] == 1, HAND["latency"] + 100, np.nan))
    plain = score_iat(HAND, variant="D1").scores.iloc[0]
    corrected = score_iat(
        trials, columns={"corrected_latency": "corrected"}, variant="D1"
    ).scores.iloc[0]
    assert corrected["d"] != pytest.approx(plain["d"])
    shifted = HAND.assign(
        latency=np.where(HAND["error"] == 1, HAND["latency"] + 100, HAND["latency"])
    )
    assert corrected["d"] == pytest.approx(score_iat(shifted, variant="D1").scores["d"].iloc[0])


def test_fast_responder_is_excluded_with_reason():
    fast = _trials(
        {
            "test_compatible": [(250, 0), (500, 0), (600, 0), (700, 0), (650, 0)],
            "test_incompatible": [(800, 0), (900, 0), (700, 0), (750, 0), (850, 0)],
        }
    )
    row = score_iat(fast, variant="D2").scores.iloc[0]
    assert row["fast_share"] == pytest.approx(0.1)  # exactly 10 % is not more than 10 %
    assert not row["excluded"]
    faster = fast.copy()
    faster.loc[1, "latency"] = 200
    row = score_iat(faster, variant="D2").scores.iloc[0]
    assert row["excluded"] and np.isnan(row["d"])
    assert row["exclusion_reason"] == "more than 10% of trials faster than 300 ms (20.0%)"


def test_hand_worked_single_category_iat():
    """Karpinski & Steinman (2006) by hand.

    Compatible: 300 ms (< 350) and 1600 ms (non-response) removed; correct 500 700 600 500,
    mean 575, error -> 575 + 400 = 975; block mean (500 + 975 + 700 + 600 + 500) / 5 = 655.
    Incompatible: correct 800 900 700 800 900, mean 820, error -> 1220; block mean 886.667.
    SD of the 9 correct latencies = 153.65907; D = 231.667 / 153.65907 = 1.5076667.
    Errors 2 of 11 (18 %): kept.
    """
    trials = _trials(
        {
            "practice_compatible": [(5000, 0), (100, 1)],
            "test_compatible": [(500, 0), (600, 1), (700, 0), (300, 0), (1600, 0), (600, 0),
                                (500, 0)],
            "test_incompatible": [(800, 0), (900, 0), (1000, 1), (700, 0), (800, 0), (900, 0)],
        }
    )  # fmt: skip
    trials = pd.concat(
        [trials, trials.assign(participant="p2", error=np.where(trials["latency"] > 850, 1, 0))]
    )
    scores = score_single_category_iat(trials).scores.set_index("participant")
    assert scores.loc["p1", "d"] == pytest.approx(1.5076667, abs=1e-7)
    assert (scores.loc["p1", "n_trials"], scores.loc["p1", "n_used"]) == (13, 11)
    assert scores.loc["p1", "n_removed_slow"] == 1 and scores.loc["p1", "n_removed_fast"] == 1
    assert scores.loc["p2", "excluded"] and np.isnan(scores.loc["p2", "d"])
    assert scores.loc["p2", "exclusion_reason"].startswith("more than 20% errors")


def test_hand_worked_brief_iat():
    """Sriram & Greenwald (2009) brief IAT, scored as Nosek et al. (2014) recommend, by hand.

    The first 4 trials of each block are dropped (the fast ones included, so nobody is excluded);
    12,000 ms is removed; 350 -> 400 and 2500 -> 2000. Compatible 400 2000 600 (mean 1000),
    incompatible 900 1000 800 700 (mean 850; the error keeps its latency); SD of the 7 = 517.77914;
    D = -150 / 517.77914 = -0.2896988.
    """
    trials = _trials(
        {
            "test_compatible": [(100, 0)] * 4 + [(350, 0), (2500, 0), (600, 0), (12000, 0)],
            "test_incompatible": [(1000, 0)] * 4 + [(900, 0), (1000, 1), (800, 0), (700, 0)],
        }
    )
    row = score_brief_iat(trials).scores.iloc[0]
    assert row["d"] == pytest.approx(-0.2896988, abs=1e-7)
    assert (row["n_removed_warmup"], row["n_removed_slow"], row["n_used"]) == (8, 1, 7)
    assert not row["excluded"]


# --- properties -------------------------------------------------------------------------------

_SWAP = {
    "practice_compatible": "practice_incompatible",
    "practice_incompatible": "practice_compatible",
    "test_compatible": "test_incompatible",
    "test_incompatible": "test_compatible",
}


@st.composite
def _iat_data(draw):
    rows = []
    for participant in range(draw(st.integers(1, 3))):
        for role in _SWAP:
            n = draw(st.integers(3, 6))
            for number in range(n):
                latency = draw(st.integers(400, 3000))
                error = int(number > 0 and draw(st.booleans()))  # first trial of a block correct
                rows.append((participant, role, number, latency, error))
    return pd.DataFrame(rows, columns=["participant", "block", "trial", "latency", "error"])


@settings(max_examples=25, deadline=None)
@given(trials=_iat_data(), variant=st.sampled_from(VARIANTS))
def test_swapping_compatible_and_incompatible_negates_d(trials, variant):
    original = score_iat(trials, variant=variant).scores["d"].to_numpy()
    swapped_trials = trials.assign(block=trials["block"].map(_SWAP))
    swapped = score_iat(swapped_trials, variant=variant).scores["d"].to_numpy()
    np.testing.assert_allclose(swapped, -original, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(trials=_iat_data())
def test_swapping_negates_brief_and_single_category_d(trials):
    swapped_trials = trials.assign(block=trials["block"].map(_SWAP))
    for scorer in (score_brief_iat, score_single_category_iat):
        kwargs = {"warmup_trials": 0} if scorer is score_brief_iat else {}
        original = scorer(trials, **kwargs).scores["d"].to_numpy()
        swapped = scorer(swapped_trials, **kwargs).scores["d"].to_numpy()
        np.testing.assert_allclose(swapped, -original, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(trials=_iat_data(), shift=st.integers(1, 500))
def test_d4_is_unchanged_when_every_latency_shifts(trials, shift):
    """D compares blocks on the respondent's own spread: a constant delay changes nothing
    (as long as no trial crosses a cut-off; all latencies stay in 400-3500 ms)."""
    base = score_iat(trials, variant="D4").scores["d"].to_numpy()
    later = score_iat(trials.assign(latency=trials["latency"] + shift), variant="D4")
    np.testing.assert_allclose(later.scores["d"].to_numpy(), base, atol=1e-9)


# --- bad input --------------------------------------------------------------------------------


def test_unknown_block_lists_rows():
    trials = HAND.copy()
    trials.loc[[2, 5], "block"] = "block_9"
    with pytest.raises(ValidationError) as caught:
        score_iat(trials)
    rows = [p.row for p in caught.value.problems]
    assert rows == [3, 6]
    assert "row 3, column block: 'block_9': unknown block" in str(caught.value)


def test_negative_and_non_numeric_latencies_list_rows():
    trials = HAND.astype({"latency": object})
    trials.loc[0, "latency"] = -5
    trials.loc[4, "latency"] = "fast"
    trials.loc[7, "latency"] = None
    with pytest.raises(ValidationError) as caught:
        score_iat(trials)
    problems = caught.value.problems
    assert [p.row for p in problems] == [1, 5, 8]
    assert "negative" in problems[0].message
    assert problems[1].value == "fast"


def test_bad_error_flag_and_mappings():
    trials = HAND.copy()
    trials.loc[3, "error"] = 2
    with pytest.raises(ValidationError, match="row 4, column error"):
        score_iat(trials)
    with pytest.raises(OptionError, match="variant"):
        score_iat(HAND, variant="D7")
    with pytest.raises(OptionError, match="practice_compatible"):
        score_iat(HAND, blocks={"practice_compatible": "practice"})
    with pytest.raises(OptionError, match="incompatible"):
        only_compatible = {role: "ignore" for role in _SWAP} | {
            "test_compatible": "test_compatible"
        }
        score_iat(HAND, blocks=only_compatible)
    with pytest.raises(DataError, match="lack columns"):
        read_iat_trials(HAND, columns={"latency": "reaction_time"})


def test_split_half_undefined_with_one_participant_warns():
    with pytest.warns(UndefinedStatisticWarning):
        result = iat_split_half(HAND)
    assert np.isnan(result.reliability)


# --- inclusive SD before or after the error replacement (tests/measures/golden/iat_inclusive_sd.R)
INCLUSIVE = json.loads((Path(__file__).parent / "golden" / "iat_inclusive_sd.json").read_text())


def _compare_pairs(result, reference, *, at_least):
    """d_practice and d_test against a reference; returns how many participants were compared."""
    ours = result.to_frame().set_index("participant")
    theirs = pd.DataFrame(reference).set_index("participant")
    theirs.index = theirs.index.astype(ours.index.dtype)
    joined = ours[["d_practice", "d_test"]].join(
        theirs[["d_practice", "d_test"]].add_suffix("_r"), how="inner")
    both = joined.dropna()
    assert len(both) >= at_least
    # tolerance: 1e-10 absolute (the same arithmetic in double precision)
    np.testing.assert_allclose(both["d_practice"], both["d_practice_r"], rtol=0, atol=1e-10)
    np.testing.assert_allclose(both["d_test"], both["d_test_r"], rtol=0, atol=1e-10)
    return len(both)


@pytest.mark.parametrize("variant", VARIANTS)
def test_inclusive_sd_after_matches_implicit_measures(variant, chocolate):
    result = score_iat(chocolate, blocks=CHOCOLATE_BLOCKS, columns=CHOCOLATE_COLUMNS,
                       variant=variant, inclusive_sd="after")
    reference = INCLUSIVE["implicit_measures"][variant]
    n = _compare_pairs(result, reference, at_least=160)
    assert n == len(reference["participant"])
    assert result.inclusive_sd == "after"


@pytest.mark.parametrize("variant", ["D1", "D2", "D4", "D6"])
def test_inclusive_sd_after_matches_iat_package(variant, gender_math):
    result = score_iat(gender_math, blocks=_gender_math_blocks(), columns=GENDER_MATH_COLUMNS,
                       variant=variant, inclusive_sd="after")
    _compare_pairs(result, INCLUSIVE["iat_package"][variant], at_least=85)


@pytest.mark.parametrize("name", ["chocolate", "gender_math"])
@pytest.mark.parametrize("variant", ["D3", "D4", "D5", "D6"])
@pytest.mark.parametrize("when", ["before", "after"])
def test_inclusive_sd_before_and_after_match_the_r_formula(name, variant, when, chocolate,
                                                          gender_math):
    trials, blocks, columns = _data_set(name, chocolate, gender_math)
    result = score_iat(trials, blocks=blocks, columns=columns, variant=variant,
                       inclusive_sd=when)
    _compare_pairs(result, INCLUSIVE["by_hand"][name][variant][when], at_least=85)


def test_inclusive_sd_default_is_before_and_changes_only_replacement_variants(chocolate):
    kwargs = {"blocks": CHOCOLATE_BLOCKS, "columns": CHOCOLATE_COLUMNS}
    for variant in ("D2", "D4"):
        default = score_iat(chocolate, variant=variant, **kwargs).to_frame()
        before = score_iat(chocolate, variant=variant, inclusive_sd="before", **kwargs).to_frame()
        after = score_iat(chocolate, variant=variant, inclusive_sd="after", **kwargs).to_frame()
        pd.testing.assert_frame_equal(default, before)
        same = np.allclose(before["d_test"], after["d_test"], equal_nan=True)
        assert same is (variant == "D2")
    with pytest.raises(OptionError, match="'before', 'after'"):
        score_iat(chocolate, inclusive_sd="pooled", **kwargs)
    split = iat_split_half(chocolate, variant="D4", inclusive_sd="after", **kwargs)
    assert split.inclusive_sd == "after" and np.isfinite(split.reliability)
