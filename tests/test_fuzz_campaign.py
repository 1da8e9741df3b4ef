"""The fuzz campaign over every importer and model entry point (bench/fuzz_campaign.py).

The default suite runs a quick profile (a few dozen cases per entry point); ``-m slow`` runs the
long one, 10,000 cases. Either way: no traceback, no partial write, no silent failure.
"""

from __future__ import annotations

import pytest
from bench.fuzz_campaign import run_campaign


def _check(cases: int, seed: int) -> None:
    result = run_campaign(cases, seed=seed)
    frame = result.to_frame().set_index("entry point")
    details = "\n".join(f"{entry} #{case}: {detail}" for entry, case, detail in result.failures)
    assert frame.loc["all", ["traceback", "partial_write", "silent_failure"]].sum() == 0, details
    assert frame.loc["all", "cases"] == 8 * cases
    # the mutations exercise both ways out of every entry point
    assert (frame.drop(index="all")[["refused", "accepted"]] > 0).all().all(), frame


def test_quick_fuzz_profile() -> None:
    _check(25, seed=1)


@pytest.mark.slow
def test_long_fuzz_profile() -> None:
    _check(1250, seed=2026)
