"""Exports of the analysis dataset: SPSS, Stata, Excel, CSV and Parquet, with exact round trips."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from classdyad.errors import DataError
from classdyad.io import (
    read_csv,
    read_excel,
    read_parquet,
    read_spss,
    read_stata,
    write_csv,
    write_excel,
    write_parquet,
    write_spss,
    write_stata,
)
from classdyad.simulate import SimulatedStudy
from classdyad.study import DATASET_COLUMNS, aggregate_by_student, build_analysis_dataset

CATEGORICAL = ("gender", "migration_background", "migration_generation", "origin_2022")


@pytest.fixture(scope="module")
def dataset(small_study: SimulatedStudy) -> pd.DataFrame:
    """The analysis dataset with some missing values of each kind."""
    data = build_analysis_dataset(small_study.tables)
    data.loc[[2, 40], "teacher_closeness"] = np.nan
    data.loc[5, "migration_background"] = None
    data["low_ses"] = data["low_ses"].astype("boolean")
    data.loc[7, "low_ses"] = pd.NA
    return data


def _normalized(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as object with None for missing (pandas' str dtype and object compare)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column].dtype):
            out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


FORMATS: dict[str, tuple[Callable, Callable, dict]] = {
    "sav": (write_spss, read_spss, {"value_label_columns": CATEGORICAL}),
    "dta": (write_stata, read_stata, {"value_label_columns": CATEGORICAL}),
    "xlsx": (write_excel, read_excel, {}),
    "csv": (write_csv, read_csv, {}),
    "parquet": (write_parquet, read_parquet, {}),
}


@pytest.mark.parametrize("suffix", list(FORMATS))
def test_export_then_import_reproduces_the_dataset(dataset: pd.DataFrame, tmp_path: Path,
                                                   suffix: str) -> None:
    write, read, options = FORMATS[suffix]
    path = write(dataset, tmp_path / f"dataset.{suffix}", variable_labels=DATASET_COLUMNS,
                 **options)
    back = read(path)
    # exact: same columns, values bit for bit, booleans/integers/floats/text kept apart; Excel
    # (openpyxl) stores numbers with 16 significant digits, a relative error of at most 1e-15
    if suffix == "xlsx":
        pd.testing.assert_frame_equal(_normalized(back), _normalized(dataset),
                                      check_exact=False, rtol=1e-15, atol=0.0)
    else:
        pd.testing.assert_frame_equal(_normalized(back), _normalized(dataset), check_exact=True)
    assert not list(tmp_path.glob("*.partial*"))


def test_student_level_dataset_round_trips(small_study: SimulatedStudy, tmp_path: Path) -> None:
    data = aggregate_by_student(build_analysis_dataset(small_study.tables))
    for suffix, (write, read, options) in FORMATS.items():
        back = read(write(data, tmp_path / f"students.{suffix}", **options))
        pd.testing.assert_frame_equal(_normalized(back), _normalized(data),
                                      check_exact=suffix != "xlsx", rtol=1e-15, atol=0.0)


def test_spss_file_has_variable_and_value_labels(dataset: pd.DataFrame, tmp_path: Path) -> None:
    path = write_spss(dataset, tmp_path / "d.sav", variable_labels=DATASET_COLUMNS,
                      value_label_columns=CATEGORICAL)
    raw, meta = pyreadstat.read_sav(str(path))
    labels = meta.column_names_to_labels
    assert labels["teacher_closeness"] == DATASET_COLUMNS["teacher_closeness"]
    assert meta.variable_value_labels["boy"] == {0.0: "no", 1.0: "yes"}
    assert set(meta.variable_value_labels["gender"].values()) == {"boy", "girl"}
    assert raw["gender"].dtype.kind == "f"  # numeric codes, as SPSS users expect
    assert meta.original_variable_types["grade"] == "F8.0"


def test_stata_file_has_labels(dataset: pd.DataFrame, tmp_path: Path) -> None:
    path = write_stata(dataset, tmp_path / "d.dta", variable_labels=DATASET_COLUMNS,
                       value_label_columns=CATEGORICAL)
    with pd.io.stata.StataReader(path) as reader:
        reader.read()
        labels = reader.variable_labels()
        value_labels = reader.value_labels()
    assert labels["student_negative_expectations"] == DATASET_COLUMNS[
        "student_negative_expectations"][:80]
    assert {0: "no", 1: "yes"} in [dict(v) for v in value_labels.values()]


def test_labels_travel_with_csv_excel_and_parquet(dataset: pd.DataFrame,
                                                  tmp_path: Path) -> None:
    write_csv(dataset, tmp_path / "d.csv", variable_labels=DATASET_COLUMNS)
    book = pd.read_csv(tmp_path / "d.codebook.csv")
    assert book.set_index("column").loc["low_ses", "label"] == DATASET_COLUMNS["low_ses"]
    assert book.set_index("column").loc["low_ses", "type"] == "boolean"
    write_excel(dataset, tmp_path / "d.xlsx", variable_labels=DATASET_COLUMNS)
    sheet = pd.read_excel(tmp_path / "d.xlsx", sheet_name="codebook")
    assert sheet["label"].iloc[0] == DATASET_COLUMNS["student_id"]
    back = read_parquet(write_parquet(dataset, tmp_path / "d.parquet",
                                      variable_labels=DATASET_COLUMNS))
    assert back.attrs["variable_labels"]["wave"] == DATASET_COLUMNS["wave"]


def test_invalid_names_are_refused(tmp_path: Path) -> None:
    data = pd.DataFrame({"1st": [1.0], "x" * 40: [2.0]})
    with pytest.raises(DataError, match="SPSS variable names"):
        write_spss(data, tmp_path / "x.sav")
    with pytest.raises(DataError, match="Stata names"):
        write_stata(data, tmp_path / "x.dta")
