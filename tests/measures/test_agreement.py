"""coder_agreement: every statistic agrees with the single-purpose functions it summarises."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError, OptionError, UndefinedStatisticWarning, ValidationError
from classdyad.measures import (
    NO_EVENT,
    VALENCE_ORDER,
    coder_agreement,
    cohen_kappa,
    intraclass_correlation,
    kappa_from_table,
    krippendorff_alpha,
    time_unit_kappa,
)

VALENCES = np.array(["positive", "negative", "neutral"], dtype=object)


def double_coded(seed: int = 5, lessons: int = 6, per_lesson: int = 60):
    """Two coders' events: B misses 10 %, adds a few, jitters times, confuses some codes."""
    rng = np.random.default_rng(seed)
    n = lessons * per_lesson
    lesson = np.repeat(np.arange(1, lessons + 1), per_lesson)
    time = rng.uniform(0, 600, n).round(2)
    valence = VALENCES[rng.choice(3, n, p=[0.3, 0.2, 0.5])]
    kind = rng.choice(np.array(["student", "group", "class"], dtype=object), n, p=[0.8, 0.1, 0.1])
    student = lesson * 100 + rng.integers(0, 8, n)
    subtype = np.where(valence == "neutral", "instruction", "feedback").astype(object)

    def frame(rows, times, val, students, prefix):
        return pd.DataFrame({
            "lesson_id": lesson[rows], "time": times,
            "student_id": pd.array(np.where(kind[rows] == "student", students, 0),
                                   dtype="Int64"),
            "target_kind": kind[rows], "valence": val, "subtype": subtype[rows],
            "coder": prefix, "event_id": [f"{prefix}{i}" for i in range(len(rows))],
        }).assign(student_id=lambda d: d["student_id"].mask(d["target_kind"] != "student"))

    a = frame(np.arange(n), time, valence, student, "anna")
    kept = np.flatnonzero(rng.random(n) > 0.1)
    val_b = valence[kept].copy()
    flip = rng.random(len(kept)) < 0.15
    val_b[flip] = VALENCES[rng.integers(0, 3, flip.sum())]
    student_b = student[kept].copy()
    moved = rng.random(len(kept)) < 0.1
    student_b[moved] = lesson[kept][moved] * 100 + rng.integers(0, 8, moved.sum())
    b = frame(kept, np.clip(time[kept] + rng.normal(0, 0.5, len(kept)), 0, None).round(2), val_b,
              student_b, "bram")
    extra = frame(np.arange(0, n, 17), rng.uniform(0, 600, len(range(0, n, 17))).round(2),
                  valence[::17], student[::17], "bram")
    extra["event_id"] = [f"extra{i}" for i in range(len(extra))]
    return a, pd.concat([b, extra], ignore_index=True)


@pytest.fixture(scope="module")
def result():
    a, b = double_coded()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        return coder_agreement(a, b, window=2.0)


def _estimate(result, aspect, statistic, lesson="all"):
    table = result.to_frame()
    row = table[(table["lesson_id"].astype(str) == str(lesson)) & (table["aspect"] == aspect)
                & (table["statistic"] == statistic)]
    assert len(row) == 1, (aspect, statistic, lesson)
    return row.iloc[0]


def _units(result, lesson=None):
    units = result.matching.units
    return units if lesson is None else units[units["lesson_id"] == lesson]


@pytest.mark.parametrize("aspect", ["valence", "target", "subtype"])
@pytest.mark.parametrize("lesson", ["all", 1, 4])
def test_kappas_equal_kappa_from_the_confusion_matrix(result, aspect, lesson):
    chosen = None if lesson == "all" else lesson
    for no_event, statistic in ((False, "kappa"), (True, "kappa_with_no_event")):
        table = result.confusion_matrix(aspect, lesson_id=chosen, no_event=no_event)
        expected = kappa_from_table(table)
        row = _estimate(result, aspect, statistic, lesson)
        # tolerance: 1e-10 absolute (sparse and dense evaluation of the same formula)
        assert row["estimate"] == pytest.approx(expected.kappa, abs=1e-10)
        assert row["se"] == pytest.approx(expected.se, abs=1e-10)
        assert row["ci_lower"] == pytest.approx(expected.ci_lower, abs=1e-10)
        assert row["n"] == expected.n
        suffix = "_with_no_event" if no_event else ""
        percent = _estimate(result, aspect, f"percent_agreement{suffix}", lesson)["estimate"]
        assert percent == pytest.approx(expected.percent_agreement, abs=1e-10)


def test_no_event_category_holds_the_unmatched_events(result):
    table = result.confusion_matrix("valence")
    assert table.index[-1] == NO_EVENT and table.columns[-1] == NO_EVENT
    counts = result.matching.to_frame().iloc[-1]
    assert table.loc[NO_EVENT].sum() == counts["n_only_b"]
    assert table[NO_EVENT].sum() == counts["n_only_a"]
    assert table.loc[NO_EVENT, NO_EVENT] == 0
    assert list(table.index[:3]) == list(VALENCE_ORDER)


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_weighted_kappa_on_valence(result, weights):
    pairs = result.matching.pairs
    expected = cohen_kappa(pairs, rater_a="valence_a", rater_b="valence_b", weights=weights,
                           categories=list(VALENCE_ORDER))
    row = _estimate(result, "valence", f"kappa_{weights}")
    assert row["estimate"] == pytest.approx(expected.kappa, abs=1e-10)
    assert row["se"] == pytest.approx(expected.se, abs=1e-10)


@pytest.mark.parametrize(("aspect", "level"), [("valence", "nominal"), ("target", "nominal"),
                                               ("valence", "ordinal")])
def test_alpha_treats_unmatched_events_as_missing_values(result, aspect, level):
    units = _units(result).reset_index(drop=True)
    long = pd.concat([
        pd.DataFrame({"unit": units.index, "coder": "a", "value": units[f"{aspect}_a"]}),
        pd.DataFrame({"unit": units.index, "coder": "b", "value": units[f"{aspect}_b"]}),
    ])
    categories = list(VALENCE_ORDER) if level == "ordinal" else None
    expected = krippendorff_alpha(long, unit="unit", coder="coder", value="value", level=level,
                                  categories=categories)
    row = _estimate(result, aspect, f"alpha_{level}")
    assert row["estimate"] == pytest.approx(expected.alpha, abs=1e-10)


@pytest.mark.parametrize("aspect", ["valence", "target"])
def test_time_unit_kappa_equals_the_standalone_function(result, aspect):
    a, b = double_coded()
    expected = time_unit_kappa(a, b, aspect=aspect).to_frame().set_index("lesson_id")
    for lesson in ("all", 2):
        row = _estimate(result, aspect, "time_unit_kappa", lesson)
        assert row["estimate"] == pytest.approx(expected.loc[lesson, "kappa"], abs=1e-12)
        assert row["n"] == expected.loc[lesson, "n_slices"]


@pytest.mark.parametrize("kind", ["all", "negative"])
@pytest.mark.parametrize("lesson", ["all", 3])
def test_icc_of_student_counts_equals_intraclass_correlation(result, kind, lesson):
    units = _units(result, None if lesson == "all" else lesson)
    counts = []
    for side in ("a", "b"):
        chosen = units[units[f"target_kind_{side}"] == "student"]
        if kind != "all":
            chosen = chosen[chosen[f"valence_{side}"] == kind]
        counts.append(chosen.groupby(f"student_id_{side}").size().rename(side))
    students = sorted(set(units["student_id_a"].dropna()) | set(units["student_id_b"].dropna()))
    wide = pd.concat(counts, axis=1).reindex(students).fillna(0)
    long = wide.reset_index(names="student").melt(id_vars="student", var_name="coder",
                                                  value_name="count")
    expected = intraclass_correlation(long, target="student", rater="coder",
                                      rating="count").to_frame().set_index("form")
    for form in ("ICC1", "ICC2", "ICC3k"):
        row = _estimate(result, f"student_count_{kind}", form, lesson)
        assert row["estimate"] == pytest.approx(expected.loc[form, "icc"], abs=1e-10)
        assert row["ci_upper"] == pytest.approx(expected.loc[form, "ci_upper"], abs=1e-10)
        assert row["n"] == len(students)


def test_summary_and_display(result):
    summary = result.summary()
    assert "lesson_id" not in summary.columns
    assert {"valence", "target", "subtype", "student_count_all"} <= set(summary["aspect"])
    html = result._repr_html_()
    assert "Coder agreement" in html and "anna" in html and "bram" in html
    kappa = result.kappa("valence")
    assert kappa.kappa == pytest.approx(_estimate(result, "valence", "kappa")["estimate"])


def test_agreement_is_high_for_identical_coding():
    a, _ = double_coded(lessons=2)
    b = a.assign(event_id=lambda d: "copy" + d["event_id"], coder="bram")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        summary = coder_agreement(a, b).summary().set_index(["aspect", "statistic"])["estimate"]
    for aspect in ("valence", "target"):
        for statistic in ("kappa", "kappa_with_no_event", "alpha_nominal", "time_unit_kappa"):
            assert summary[(aspect, statistic)] == pytest.approx(1.0)
    assert summary[("student_count_all", "ICC2")] == pytest.approx(1.0)


def test_undefined_statistics_give_one_warning_and_nan():
    a, b = double_coded(lessons=1, per_lesson=20)
    a["valence"] = "neutral"
    b["valence"] = "neutral"
    with pytest.warns(UndefinedStatisticWarning, match="undefined and were returned as nan"):
        result = coder_agreement(a, b)
    assert np.isnan(_estimate(result, "valence", "kappa")["estimate"])
    assert _estimate(result, "valence", "percent_agreement")["estimate"] == 100.0


def test_bad_input_is_reported_clearly():
    a, b = double_coded(lessons=1, per_lesson=10)
    with pytest.raises(DataError, match="coder_b has no events"):
        coder_agreement(a, b.iloc[:0])
    with pytest.raises(DataError, match="coder_a lacks the column"):
        coder_agreement(a.drop(columns=["valence"]), b)
    bad = b.copy()
    bad.loc[0, "time"] = -1.0
    bad.loc[1, "valence"] = "friendly"
    with pytest.raises(ValidationError) as raised:
        coder_agreement(a, bad)
    assert "negative" in str(raised.value) and "'friendly'" in str(raised.value)
    with pytest.raises(DataError, match="time_unit"):
        coder_agreement(a, b, time_unit=-1)
    with pytest.raises(DataError, match="confidence"):
        coder_agreement(a, b, confidence=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        result = coder_agreement(a, b)
    with pytest.raises(OptionError):
        result.confusion_matrix("teacher")
    with pytest.raises(DataError, match="not among the compared lessons"):
        result.confusion_matrix("valence", lesson_id=99)


def test_subtype_is_compared_only_when_recorded():
    a, b = double_coded(lessons=1, per_lesson=30)
    a, b = a.drop(columns="subtype"), b.drop(columns="subtype")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedStatisticWarning)
        result = coder_agreement(a, b)
    assert "subtype" not in set(result.to_frame()["aspect"])
