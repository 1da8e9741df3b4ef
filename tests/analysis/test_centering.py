"""center(): cluster means and group-mean centring (within/between decomposition)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.analysis import center
from classdyad.analysis.centering import cluster_means
from classdyad.errors import DataError, DataWarning, OptionError
from classdyad.mixed import lmm


@pytest.fixture()
def data() -> pd.DataFrame:
    return pd.DataFrame({
        "classroom": ["a", "a", "a", "b", "b", "c"],
        "school": ["s", "s", "s", "s", "s", "t"],
        "x": [1.0, 2.0, np.nan, 4.0, 8.0, 5.0],
        "z": [1, 1, 1, 0, 0, 1],
    })


def test_cluster_means_and_within_deviations(data):
    out = center(data, "x", by="classroom")
    # R: ave(x, classroom, FUN = function(v) mean(v, na.rm = TRUE))
    np.testing.assert_allclose(out["x_between"], [1.5, 1.5, 1.5, 6.0, 6.0, 5.0])
    np.testing.assert_allclose(out["x_within"], [-0.5, 0.5, np.nan, -2.0, 2.0, 0.0])
    assert list(data.columns) == ["classroom", "school", "x", "z"]  # input left as it was


def test_grand_mean_centred_between_part_and_several_columns(data):
    out = center(data, ["x", "z"], by=["school", "classroom"], between="centered",
                 suffixes=("_w", "_b"))
    grand = np.nanmean(data["x"])
    np.testing.assert_allclose(out["x_b"], np.array([1.5, 1.5, 1.5, 6.0, 6.0, 5.0]) - grand)
    np.testing.assert_allclose(out["x_w"], [-0.5, 0.5, np.nan, -2.0, 2.0, 0.0])
    np.testing.assert_allclose(out["z_b"], np.array([1, 1, 1, 0, 0, 1]) - 4 / 6)


def test_rows_without_cluster_get_missing_values_with_a_warning(data):
    data.loc[5, "classroom"] = None
    with pytest.warns(DataWarning, match="1 row"):
        out = center(data, "x", by="classroom")
    assert np.isnan(out.loc[5, "x_between"]) and np.isnan(out.loc[5, "x_within"])


def test_bad_input_is_reported(data):
    with pytest.raises(OptionError, match="between"):
        center(data, "x", by="classroom", between="grand")
    with pytest.raises(DataError, match="teacher"):
        center(data, "x", by="teacher")
    with pytest.raises(DataError, match="numeric"):
        center(data, "classroom", by="school")


def test_within_and_between_effects_are_recovered_in_a_mixed_model():
    rng = np.random.default_rng(11)
    classes, size = 80, 25
    classroom = np.repeat(np.arange(classes), size)
    class_mean = rng.normal(0, 1, classes)
    x = class_mean[classroom] + rng.normal(0, 1, classes * size)
    # within effect 0.3, between effect 0.8 (contextual effect 0.5)
    y = (0.3 * (x - class_mean[classroom]) + 0.8 * class_mean[classroom]
         + rng.normal(0, 0.5, classes)[classroom] + rng.normal(0, 1, classes * size))
    frame = center(pd.DataFrame({"y": y, "x": x, "classroom": classroom}), "x", by="classroom")
    fit = lmm("y ~ x_within + x_between + (1 | classroom)", frame)
    estimates = fit.fixed_effects.set_index("term")["estimate"]
    assert abs(estimates["x_within"] - 0.3) < 0.06
    assert abs(estimates["x_between"] - 0.8) < 0.2


def test_cluster_means_match_pandas_and_ignore_how_clusters_are_numbered():
    rng = np.random.default_rng(11)
    codes = rng.integers(0, 9, size=400)
    values = rng.normal(3.0, 2.0, size=400)
    means = cluster_means(values, codes)
    expected = pd.Series(values).groupby(codes).mean().to_numpy()
    np.testing.assert_allclose(means, expected, rtol=1e-14)
    relabel = rng.permutation(9)
    np.testing.assert_array_equal(cluster_means(values, relabel[codes])[relabel], means)
    assert np.isnan(cluster_means(values[codes < 8], codes[codes < 8], 9)[8])
