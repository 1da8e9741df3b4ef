"""Small-cell suppression: no cell under the minimum is shown, and none comes back from totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis.small_cells import suppress_small_cells
from classdyad.errors import DataError


def _table(counts: list[int], margin: str = "A") -> pd.DataFrame:
    return pd.DataFrame({"classroom": margin, "group": "g", "level": [f"l{i}" for i in
                                                                     range(len(counts))],
                         "n": counts, "rate": np.linspace(0.5, 1.5, len(counts))})


def _suppress(counts: list[int]) -> pd.DataFrame:
    return suppress_small_cells(_table(counts), margin=["classroom", "group"], values=["rate"])


def _possible_values(out: pd.DataFrame) -> list[set[int]]:
    """Every value each hidden cell can take, given the margin's total and the shown cells
    (cells whose count is hidden behind a share bound count as unknown too)."""
    hidden = out.index[out["suppressed"].notna()].tolist()
    shown_sum = int(out.loc[out["n"].notna(), "n"].sum())
    unknown = len(out) - int(out["n"].notna().sum())
    remaining = int(out["total"].iloc[0]) - shown_sum
    if unknown == 1:
        return [{remaining} for _ in hidden]
    # several unknown cells: any split of the remaining students over them is possible
    return [set(range(remaining + 1)) for _ in hidden]


@pytest.mark.parametrize("counts", [[3, 20], [20, 3], [0, 12, 13], [2, 2, 30], [4, 6, 7, 9],
                                    [0, 0, 10, 10], [1, 3], [12, 13], [5, 5, 5], [0, 25]])
def test_no_small_cell_is_shown_and_none_is_recoverable(counts: list[int]) -> None:
    out = _suppress(counts)
    shown = out["n"].dropna()
    assert (shown >= 5).all()
    assert out.loc[out["suppressed"].notna(), "rate"].isna().all()
    assert (out["total"] == sum(counts)).all()
    hidden = out["suppressed"].notna()
    assert hidden.sum() != 1
    for values in _possible_values(out):
        assert len(values) > 1, f"a hidden cell of {counts} can be worked out: {values}"


def test_random_tables_never_show_or_give_away_a_small_cell() -> None:
    rng = np.random.default_rng(5)
    for _ in range(100):
        counts = rng.integers(0, 14, size=int(rng.integers(2, 5))).tolist()
        out = _suppress(counts)
        assert (out["n"].dropna() >= 5).all()
        hidden = out[out["suppressed"].notna()]
        if len(hidden) and len(hidden) < len(out):
            assert len(hidden) >= 2
            assert sum(c for c, s in zip(counts, out["suppressed"], strict=True)
                       if s is not None) >= 5
        for values in _possible_values(out):
            assert len(values) > 1


def test_a_margin_below_the_minimum_hides_everything() -> None:
    out = _suppress([1, 3])
    assert out["n"].isna().all()
    assert set(out["suppressed"]) == {"primary"}


def test_nothing_is_hidden_when_every_cell_is_large_enough() -> None:
    out = _suppress([12, 13])
    assert out["suppressed"].isna().all()
    assert out["n"].tolist() == [12, 13]
    assert out["share"].tolist() == pytest.approx([12 / 25, 13 / 25])


def test_extreme_shares_are_shown_as_a_bound() -> None:
    out = _suppress([120, 5])
    assert out.loc[0, "share_bound"] == "> 95 %"
    assert pd.isna(out.loc[0, "share"]) and pd.isna(out.loc[0, "n"])
    assert out["suppressed"].isna().all()


def test_hidden_cells_holding_too_few_students_together_take_a_third_along() -> None:
    out = _suppress([97, 2, 1])
    assert out["suppressed"].tolist() == ["complementary", "primary", "primary"]
    out = _suppress([0, 0, 10, 10])
    assert out["suppressed"].tolist() == ["primary", "primary", "complementary", None]


def test_complementary_cell_is_the_smallest_shown_one() -> None:
    out = _suppress([3, 9, 20])
    assert out["suppressed"].tolist() == ["primary", "complementary", None]


def test_margins_are_suppressed_separately() -> None:
    table = pd.concat([_table([3, 20], "A"), _table([12, 13], "B")], ignore_index=True)
    out = suppress_small_cells(table, margin=["classroom", "group"], values=["rate"])
    assert out.loc[out["classroom"] == "A", "suppressed"].notna().all()
    assert out.loc[out["classroom"] == "B", "suppressed"].isna().all()


def test_bad_arguments_say_what_to_use() -> None:
    with pytest.raises(DataError, match="no column"):
        suppress_small_cells(_table([5, 5]), margin=["school"])
    with pytest.raises(DataError, match="at least 1"):
        suppress_small_cells(_table([5, 5]), margin=["classroom"], min_cell=0)
