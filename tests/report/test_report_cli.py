"""``classdyad report``: from a stored study and its results.json to the report's files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classdyad.cli.app import main


@pytest.fixture(scope="module")
def stored_study(copy_small_study, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_small_study(tmp_path_factory.mktemp("report_cli") / "study.sqlite")


def test_report_from_results_json_prints_its_path(stored_study: Path, plan_results, tmp_path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps(plan_results), encoding="utf-8")
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(stored_study), "--results", str(results), "--out", str(out),
                 "--lang", "nl"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out)
    page = out.read_text(encoding="utf-8")
    assert '<html lang="nl">' in page
    assert (out.parent / "figures" / "h1_forest.svg").exists()
    assert (out.parent / "tables" / "table1_sample.tex").exists()


def test_report_with_a_missing_results_file_says_what_to_do(
        stored_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(stored_study), "--results", str(tmp_path / "absent.json"),
                 "--out", str(tmp_path / "report.html")]) == 2
    assert "classdyad analyze" in capsys.readouterr().err


def test_report_with_an_unknown_language_lists_the_allowed_ones(
        stored_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(stored_study), "--lang", "de",
                 "--out", str(tmp_path / "report.html")]) == 2
    assert "'en', 'nl'" in capsys.readouterr().err


def test_report_without_results_runs_the_plan(stored_study: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert main(["report", str(stored_study), "--out", str(out), "--seed", "2"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out)
    page = out.read_text(encoding="utf-8")
    assert 'id="hypothesis-h1"' in page and 'data-key="estimates/0/estimate"' in page
