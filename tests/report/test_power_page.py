"""The power analysis page: one SVG panel per hypothesis, the target line, the tables."""

from __future__ import annotations

import pandas as pd

from classdyad.report.power_page import power_curves_svg, power_page
from classdyad.simulate import design_grid
from classdyad.simulate.power_results import (
    PowerResult,
    replicate_frames,
    smallest_designs,
    summarize_replicates,
)


def _result() -> PowerResult:
    designs, _ = design_grid(classes=[20, 40, 60], students_per_class=[20])
    records = []
    for design, share in enumerate((0.3, 0.7, 0.95)):
        for replicate in range(20):
            p = 0.01 if replicate < share * 20 else 0.5
            records.append({
                "design": design, "replicate": replicate, "seconds": 1.0,
                "models": [{"model": "H2/negative/ses_ethnicity", "hypothesis": "H2",
                            "status": "ok", "error": None, "singular": False,
                            "nonconverged": False, "seconds": 1.0}],
                "estimates": [{"hypothesis": "H2", "model": "H2/negative/ses_ethnicity",
                               "outcome": "negative", "effect": "low_ses",
                               "contrast": "ses_ethnicity", "level": None, "estimate": 0.3,
                               "std_error": 0.1, "p_value": p, "p_fdr": p}]})
    table = summarize_replicates(records, designs, alpha=0.05, adjustment="none")
    fits, estimates = replicate_frames(records)
    return PowerResult(table, designs, smallest_designs(table, 0.8), estimates, fits,
                       {"target": 0.8, "hypotheses": ["H2"], "alpha": 0.05, "seed": 1},
                       "negative: 0.65/h <rate>")


def test_page_has_a_panel_per_hypothesis_and_the_smallest_design() -> None:
    result = _result()
    page = power_page(result)
    assert page.count("role=\"img\"") == 1  # one panel (its legend has a swatch)
    assert "stroke-dasharray=\"5 4\"" in page  # the target line
    assert "&lt;rate&gt;" in page  # the implied model is escaped
    smallest = result.smallest.iloc[0]
    assert bool(smallest["reached"]) and smallest["classes"] == 60
    assert list(result.table["power"]) == [0.3, 0.7, 0.95]


def test_an_empty_table_draws_nothing() -> None:
    svg, legend = power_curves_svg(pd.DataFrame(columns=["classes"]), target=0.8, title="x")
    assert svg == "" and legend == []
