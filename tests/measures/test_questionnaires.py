"""Instrument definitions and questionnaire scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from classdyad.errors import DataError, NotFoundError, OptionError, ValidationError
from classdyad.measures import (
    Instrument,
    list_instruments,
    load_instrument,
    questionnaire_reliability,
    score_questionnaire,
)

SMALL = {
    "id": "small",
    "name": "Small test scale",
    "version": "1",
    "informant": "teacher",
    "scale": {"min": 1, "max": 5},
    "subscales": {"closeness": "Closeness", "conflict": "Conflict"},
    "items": [
        {"id": "c1", "subscale": "closeness"},
        {"id": "c2", "subscale": "closeness", "reverse": True},
        {"id": "c3", "subscale": "closeness"},
        {"id": "c4", "subscale": "closeness"},
        {"id": "c5", "subscale": "closeness"},
        {"id": "k1", "subscale": "conflict"},
        {"id": "k2", "subscale": "conflict"},
    ],
}


@pytest.fixture
def small() -> Instrument:
    return Instrument.model_validate(SMALL)


# --- shipped instruments ----------------------------------------------------------------------


def test_shipped_instruments_have_the_published_structure():
    assert list_instruments() == ["sparts", "strs_short_form"]
    strs = load_instrument("strs_short_form")
    assert strs.informant == "teacher" and (strs.scale.min, strs.scale.max) == (1, 5)
    assert len(strs.items) == 15
    assert [len(strs.subscale_items(s)) for s in ("closeness", "conflict")] == [7, 8]
    sparts = load_instrument("sparts")
    assert sparts.informant == "student" and (sparts.scale.min, sparts.scale.max) == (1, 5)
    assert len(sparts.items) == 25
    sizes = [
        len(sparts.subscale_items(s)) for s in ("closeness", "conflict", "negative_expectations")
    ]
    assert sizes == [8, 10, 7]
    for instrument in (strs, sparts):
        assert instrument.min_answered == 0.8
        assert all("enter your licensed wording" in item.label for item in instrument.items)


def test_load_from_path_and_errors(tmp_path: Path, small: Instrument):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    assert load_instrument(path) == small
    assert load_instrument(str(path)).item_ids == ("c1", "c2", "c3", "c4", "c5", "k1", "k2")
    with pytest.raises(NotFoundError, match="strs_short_form"):
        load_instrument("strs")
    broken = dict(SMALL, items=[*SMALL["items"], {"id": "x1", "subscale": "warmth"}])
    path.write_text(yaml.safe_dump(broken))
    with pytest.raises(DataError, match="warmth"):
        load_instrument(path)
    path.write_text(yaml.safe_dump(dict(SMALL, informant="parent")))
    with pytest.raises(DataError, match="informant"):
        load_instrument(path)
    with pytest.raises(NotFoundError, match="subscale"):
        small.subscale_items("dependency")
    assert small.to_frame().shape == (7, 4)


# --- scoring ----------------------------------------------------------------------------------


def _wide(rows: list[list[float]], instrument: Instrument) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(instrument.item_ids), dtype=float)
    frame.insert(0, "dyad", [f"d{i}" for i in range(len(rows))])
    frame.insert(1, "wave", 1)
    return frame


def test_reverse_keying_means_and_minimum_answered_rule(small: Instrument):
    nan = np.nan
    responses = _wide(
        [
            [5, 1, 5, 5, 5, 2, 3],  # c2 reversed: 1 -> 5; closeness 5.0; conflict 2.5
            [4, 2, 3, nan, 4, 1, nan],  # 4 of 5 closeness answered (80 %): (4+4+3+4)/4 = 3.75
            [4, nan, nan, 3, 4, nan, nan],  # 3 of 5 (60 %): NaN; conflict 0 of 2: NaN
        ],
        small,
    )
    result = score_questionnaire(responses, small)
    scores = result.scores
    assert list(scores.columns) == [
        "dyad", "wave", "closeness", "closeness_n_answered", "conflict", "conflict_n_answered",
    ]  # fmt: skip
    np.testing.assert_allclose(scores["closeness"], [5.0, 3.75, nan])
    np.testing.assert_allclose(scores["conflict"], [2.5, nan, nan])
    assert list(scores["closeness_n_answered"]) == [5, 4, 3]
    assert list(scores["conflict_n_answered"]) == [2, 1, 0]
    assert result.keyed_items.loc[0, "c2"] == 5
    # a looser rule scores the third respondent
    looser = score_questionnaire(responses, small, min_answered=0.5).scores
    assert looser.loc[2, "closeness"] == pytest.approx(11 / 3)
    assert looser.loc[1, "conflict"] == 1.0


def test_long_layout_gives_the_same_scores(small: Instrument):
    responses = _wide([[5, 1, 5, 5, 5, 2, 3], [4, 2, 3, np.nan, 4, 1, np.nan]], small)
    long = responses.melt(id_vars=["dyad", "wave"], var_name="item", value_name="value")
    long = long.dropna().sample(frac=1.0, random_state=3)
    wide_scores = score_questionnaire(responses, small).scores
    long_scores = score_questionnaire(long, small, layout="long").scores
    merged = wide_scores.merge(long_scores, on=["dyad", "wave"], suffixes=("", "_long"))
    np.testing.assert_allclose(merged["closeness"], merged["closeness_long"])
    np.testing.assert_allclose(merged["conflict"], merged["conflict_long"])


def test_every_bad_cell_is_listed(small: Instrument):
    responses = _wide([[5, 1, 5, 5, 5, 2, 3]] * 4, small).astype({"c1": object, "k2": object})
    responses.loc[0, "c1"] = "often"
    responses.loc[1, "c3"] = 6
    responses.loc[2, "k1"] = 2.5
    responses.loc[3, "k2"] = ""  # empty string: a missing answer, not an error
    responses.loc[3, "c5"] = 0
    with pytest.raises(ValidationError) as caught:
        score_questionnaire(responses, small, source="teachers.csv")
    problems = caught.value.problems
    assert [(p.row, p.column, p.value) for p in problems] == [
        (1, "c1", "often"), (2, "c3", 6.0), (3, "k1", 2.5), (4, "c5", 0.0),
    ]  # fmt: skip
    message = str(caught.value)
    assert "teachers.csv, row 1, column c1: 'often'" in message
    assert "whole numbers 1 to 5" in message


def test_many_bad_cells_are_all_in_the_message(small: Instrument):
    responses = _wide([[9] * 7] * 5, small)
    with pytest.raises(ValidationError) as caught:
        score_questionnaire(responses, small)
    assert len(caught.value.problems) == 35
    assert str(caught.value).count("not an answer") == 35


def test_structural_errors(small: Instrument):
    responses = _wide([[5, 1, 5, 5, 5, 2, 3]], small).drop(columns=["k2"])
    with pytest.raises(ValidationError, match="column k2"):
        score_questionnaire(responses, small)
    long = pd.DataFrame({"dyad": ["a", "a", "a"], "item": ["c1", "c1", "zz"], "value": [1, 2, 3]})
    with pytest.raises(ValidationError) as caught:
        score_questionnaire(long, small, layout="long")
    assert [p.row for p in caught.value.problems] == [2, 3]
    with pytest.raises(OptionError, match="layout"):
        score_questionnaire(long, small, layout="tall")
    with pytest.raises(DataError, match="min_answered"):
        score_questionnaire(_wide([[1] * 7], small), small, min_answered=0)


def test_reliability_per_subscale():
    instrument = load_instrument("strs_short_form")
    rng = np.random.default_rng(12)
    latent = rng.normal(size=(200, 2))
    rows = []
    for closeness, conflict in latent:
        c = np.clip(np.round(3 + closeness + rng.normal(0, 0.7, 7)), 1, 5)
        k = np.clip(np.round(3 + conflict + rng.normal(0, 0.7, 8)), 1, 5)
        rows.append([*c, *k])
    scores = score_questionnaire(_wide(rows, instrument), instrument)
    table = questionnaire_reliability(scores)
    assert list(table["subscale"]) == ["closeness", "conflict"]
    assert (table["alpha"] > 0.8).all() and (table["omega_total"] > 0.8).all()
    assert (table["alpha_ci_lower"] < table["alpha"]).all()


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    answers=st.lists(
        st.lists(st.one_of(st.none(), st.integers(1, 5)), min_size=7, max_size=7),
        min_size=1,
        max_size=6,
    )
)
def test_scores_stay_on_the_scale_and_follow_keying(answers):
    instrument = Instrument.model_validate(SMALL)
    values = [[np.nan if a is None else a for a in row] for row in answers]
    responses = _wide(values, instrument)
    scores = score_questionnaire(responses, instrument).scores
    for subscale in ("closeness", "conflict"):
        finite = scores[subscale].dropna()
        assert ((finite >= 1) & (finite <= 5)).all()
    # reversing the answer to c2 and removing its reverse flag leaves every score unchanged
    unkeyed = SMALL | {
        "id": "small_unkeyed",
        "items": [dict(i, reverse=False) for i in SMALL["items"]],
    }
    flipped = responses.assign(c2=6 - responses["c2"])
    same = score_questionnaire(flipped, Instrument.model_validate(unkeyed)).scores
    pd.testing.assert_frame_equal(same, scores)
