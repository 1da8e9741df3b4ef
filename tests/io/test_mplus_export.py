"""Mplus export: valid input syntax (User's Guide rules), names of 8 characters, the data file."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataError, OptionError
from classdyad.io import check_mplus_input, write_mplus
from classdyad.io.mplus import mplus_names
from classdyad.simulate import SimulatedStudy
from classdyad.study import (
    DATASET_COLUMNS,
    STUDY_MODELS,
    aggregate_by_student,
    build_analysis_dataset,
)


@pytest.fixture(scope="module")
def dataset(small_study: SimulatedStudy) -> pd.DataFrame:
    data = build_analysis_dataset(small_study.tables)
    data.loc[[1, 30], "teacher_closeness"] = np.nan
    return data


def _names(text: str) -> list[str]:
    body = text.split("NAMES =", 1)[1].split(";", 1)[0]
    return body.split()


@pytest.mark.parametrize("analysis", ["twolevel", "complex"])
def test_inputs_follow_the_mplus_syntax(dataset: pd.DataFrame, tmp_path: Path,
                                        analysis: str) -> None:
    files = write_mplus(dataset, tmp_path, models=STUDY_MODELS, analysis=analysis,
                        variable_labels=DATASET_COLUMNS)
    assert set(files.inputs) == {m.name for m in STUDY_MODELS}
    for path in files.inputs.values():
        text = path.read_text(encoding="ascii")
        assert check_mplus_input(text) == []
        assert max(len(line) for line in text.splitlines()) <= 90
        commands = [m.group(1) for m in re.finditer(r"^([A-Z]+):", text, flags=re.M)]
        assert commands == ["TITLE", "DATA", "VARIABLE", "ANALYSIS", "MODEL", "OUTPUT"]
        assert f"TYPE = {analysis.upper()};" in text
        assert "MISSING = ALL (-999);" in text and "CLUSTER = classid;" in text
        if analysis == "twolevel":
            assert "%WITHIN%" in text and "%BETWEEN%" in text
        names = _names(text)
        assert all(len(n) <= 8 and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", n) for n in names)
        assert len({n.lower() for n in names}) == len(names)
        assert f'FILE = "{files.data.name}";' in text


def test_data_file_matches_names_and_flags_missing(dataset: pd.DataFrame,
                                                   tmp_path: Path) -> None:
    files = write_mplus(dataset, tmp_path, models=STUDY_MODELS)
    names = _names(next(iter(files.inputs.values())).read_text(encoding="ascii"))
    rows = [line.split() for line in files.data.read_text(encoding="ascii").splitlines()]
    assert len(rows) == len(dataset)
    assert {len(r) for r in rows} == {len(names)}
    table = pd.DataFrame(rows, columns=names).astype(float)
    assert (table["tclose"] == -999).sum() == dataset["teacher_closeness"].isna().sum()
    kept = dataset["teacher_closeness"].notna().to_numpy()
    np.testing.assert_array_equal(table["tclose"].to_numpy()[kept],
                                  dataset["teacher_closeness"].to_numpy()[kept])
    np.testing.assert_array_equal(table["lowses"], dataset["low_ses"].astype(float))
    variables = pd.read_csv(files.variables)
    assert variables.set_index("column").loc["teacher_closeness", "mplus_name"] == "tclose"
    codes = pd.read_csv(files.codes)
    classes = codes[codes["column"] == "classroom"].set_index("code")["value"]
    decoded = classes.reindex(table["classid"].astype(int)).to_numpy()
    np.testing.assert_array_equal(decoded, dataset["classroom"].to_numpy())


def test_student_level_export(small_study: SimulatedStudy, tmp_path: Path) -> None:
    data = aggregate_by_student(build_analysis_dataset(small_study.tables))
    files = write_mplus(data, tmp_path, models=STUDY_MODELS, stem="students")
    assert all(check_mplus_input(p.read_text(encoding="ascii")) == []
               for p in files.inputs.values())


def test_the_checker_finds_broken_inputs() -> None:
    good = ("TITLE: t\nDATA: FILE = \"x.dat\";\nVARIABLE: NAMES = y x;\n  USEVARIABLES = y x;\n"
            "MODEL: y ON x;\n")
    assert check_mplus_input(good) == []
    assert any("longer than 90" in p for p in check_mplus_input(good + "! " + "x" * 95 + "\n"))
    assert any("semicolon" in p for p in check_mplus_input(good.replace("y ON x;", "y ON x")))
    assert any("not a valid Mplus name" in p
               for p in check_mplus_input(good.replace("y x;", "y longname9 x;", 1)))
    assert any("does not declare" in p
               for p in check_mplus_input(good.replace("y ON x;", "y ON z;")))
    assert any("missing" in p for p in check_mplus_input("TITLE: t\nDATA: FILE = a;\n"))


def test_names_are_short_and_unique() -> None:
    names = mplus_names(["teacher_closeness", "teacher_closeness_2", "teacher_closeness_3",
                         "9lives", "a-b"])
    assert all(len(n) <= 8 for n in names.values())
    assert len(set(names.values())) == 5 and names["9lives"].startswith("v")


def test_missing_flag_must_not_be_a_value(dataset: pd.DataFrame, tmp_path: Path) -> None:
    data = dataset.copy()
    data.loc[0, "negative"] = 7
    with pytest.raises(DataError, match="missing flag"):
        write_mplus(data, tmp_path, models=STUDY_MODELS, missing=7)
    with pytest.raises(OptionError):
        write_mplus(dataset, tmp_path, models=STUDY_MODELS, analysis="threelevel")  # type: ignore[arg-type]
