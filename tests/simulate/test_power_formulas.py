"""Exact binomial intervals and noncentral-t power against R (binom.test, pt).

Reference: tests/simulate/data/power_reference.R (R version recorded in the JSON); tolerance
1e-8 relative (both are quantiles of standard distributions).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classdyad.errors import DataError
from classdyad.simulate.power_formulas import noncentral_t_power, two_level_power
from classdyad.simulate.power_results import clopper_pearson

REFERENCE = json.loads((Path(__file__).parent / "data" / "power_reference.json")
                       .read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", REFERENCE["clopper_pearson"],
                         ids=lambda c: f"{c['successes']}of{c['trials']}")
def test_clopper_pearson_equals_binom_test(case: dict) -> None:
    low, high = clopper_pearson(case["successes"], case["trials"])
    assert low == pytest.approx(case["low"], rel=1e-8, abs=1e-12)
    assert high == pytest.approx(case["high"], rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("case", REFERENCE["noncentral_t_power"],
                         ids=lambda c: f"ncp{c['noncentrality']}df{c['df']}")
def test_noncentral_t_power_equals_r(case: dict) -> None:
    value = noncentral_t_power(case["noncentrality"], case["df"], alpha=case["alpha"])
    assert value == pytest.approx(case["power"], rel=1e-8)


def test_no_effect_gives_alpha_and_power_grows_with_classes() -> None:
    assert two_level_power(classes=20, students_per_class=10, effect=0.0, class_sd=0.3,
                           residual_sd=1.0) == pytest.approx(0.05)
    powers = [two_level_power(classes=j, students_per_class=10, effect=0.5, class_sd=0.3,
                              residual_sd=1.0) for j in (10, 20, 40)]
    assert powers == sorted(powers) and powers[-1] > 0.8


def test_clopper_pearson_without_trials_is_undefined() -> None:
    low, high = clopper_pearson(0, 0)
    assert low != low and high != high  # NaN


def test_bad_arguments_say_what_to_give() -> None:
    with pytest.raises(DataError, match="at least 4 classes"):
        two_level_power(classes=2, students_per_class=5, effect=1, class_sd=1, residual_sd=1)
