"""lme4-style formulas: parsing, expansion of / and ||, and the design built on data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classdyad.errors import DataWarning, FormulaError
from classdyad.mixed._formula import RandomTermSpec, build_design, parse_formula


def _frame(n: int = 60, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "y": rng.normal(size=n),
        "x": rng.normal(size=n),
        "m": rng.uniform(1, 5, size=n),
        "sex": rng.choice(["girl", "boy"], size=n),
        "school": np.repeat(["s1", "s2", "s3"], n // 3),
        "classroom": np.tile(["a", "b"], n // 2),
        "coder": rng.choice(["c1", "c2", "c3", "c4"], size=n),
    })


def test_parse_expands_nested_and_uncorrelated_terms():
    parsed = parse_formula("y ~ x + (1 + x || g) + (1 | school/classroom) + offset(np.log(m))")
    assert parsed.response == "y"
    assert parsed.fixed == "x"
    assert parsed.offsets == ("np.log(m)",)
    assert parsed.random == (
        RandomTermSpec("1", "g", ("g",)),
        RandomTermSpec("0 + x", "g", ("g",)),
        RandomTermSpec("1", "school", ("school",)),
        RandomTermSpec("1", "school:classroom", ("school", "classroom")),
    )


def test_parse_keeps_parentheses_of_the_fixed_part():
    parsed = parse_formula("y ~ np.log(x + 1) + (a + b):c + (0 + x | g)")
    assert parsed.fixed == "np.log(x + 1) + (a + b):c"
    assert parsed.random == (RandomTermSpec("0 + x", "g", ("g",)),)


def test_parse_uncorrelated_without_intercept_and_empty_fixed_part():
    parsed = parse_formula("y ~ (0 + x + z || g)")
    assert parsed.fixed == "1"
    assert [t.effects for t in parsed.random] == ["0 + x", "0 + z"]


@pytest.mark.parametrize("formula", ["y + x", "y ~ x ~ z", " ~ x + (1|g)", "y ~ x + (1 | a+b)"])
def test_parse_rejects_malformed_formulas(formula):
    with pytest.raises(FormulaError):
        parse_formula(formula)


def test_build_design_nested_crossed_and_slopes():
    data = _frame()
    design = build_design("y ~ x + C(sex) + (1 | school/classroom) + (0 + x | coder)", data)
    assert design.fixed_names == ("(Intercept)", "x", "C(sex)[T.girl]")
    names = [t.name for t in design.random_terms]
    assert names == ["school", "school:classroom", "coder"]
    assert [t.n_levels for t in design.random_terms] == [3, 6, 4]
    assert list(design.random_terms[1].levels[:2]) == ["s1:a", "s1:b"]
    z = design.random_design_matrix().toarray()
    assert z.shape == (60, 3 + 6 + 4)
    # each row: one school, one class, and the coder column holds x
    np.testing.assert_allclose(z[:, :9].sum(axis=1), 2.0)
    np.testing.assert_allclose(z[:, 9:].sum(axis=1), data["x"])


def test_random_slope_columns_are_level_major():
    data = _frame()
    design = build_design("y ~ x + (1 + x | school)", data)
    term = design.random_terms[0]
    assert term.effect_names == ("(Intercept)", "x")
    z = design.random_design_matrix().toarray()
    first = data["school"] == "s1"
    np.testing.assert_allclose(z[first.to_numpy(), 0], 1.0)
    np.testing.assert_allclose(z[first.to_numpy(), 1], data.loc[first, "x"])


def test_reference_level_factor_and_transformations():
    data = _frame()
    design = build_design("y ~ sex + np.log(m) + factor(school) + x:m + (1 | coder)", data,
                          reference={"sex": "girl"})
    assert design.fixed_names == (
        "(Intercept)", "sex[T.boy]", "np.log(m)", "factor(school)[T.s2]", "factor(school)[T.s3]",
        "x:m",
    )
    np.testing.assert_allclose(design.fixed[:, 2], np.log(data["m"]))
    np.testing.assert_allclose(design.fixed[:, 5], data["x"] * data["m"])
    np.testing.assert_allclose(design.fixed[:, 1], (data["sex"] == "boy").astype(float))


def test_rows_with_missing_values_are_dropped():
    data = _frame()
    data.loc[[3, 10], "x"] = np.nan
    data.loc[20, "coder"] = None
    design = build_design("y ~ x + (1 | coder)", data)
    assert design.n_obs == 57
    assert design.n_dropped == 3
    assert 3 not in design.rows and 20 not in design.rows


def test_collinear_columns_are_dropped_with_a_warning_naming_them():
    data = _frame()
    data["x2"] = 2.0 * data["x"]
    with pytest.warns(DataWarning, match="x2"):
        design = build_design("y ~ x + x2 + (1 | coder)", data)
    assert design.fixed_names == ("(Intercept)", "x")
    assert design.dropped_columns == ("x2",)


def test_a_factor_with_one_observation_per_level_is_an_error():
    data = _frame()
    data["row"] = np.arange(len(data))
    with pytest.raises(FormulaError, match="levels"):
        build_design("y ~ x + (1 | row)", data)


def test_unknown_grouping_column_and_non_finite_values():
    data = _frame()
    with pytest.raises(FormulaError, match="not in the data"):
        build_design("y ~ x + (1 | teacher)", data)
    data["z"] = -1.0
    with pytest.raises(FormulaError, match="non-finite"):
        build_design("y ~ np.log(z) + (1 | coder)", data)
    with pytest.raises(FormulaError, match="no random-effects term"):
        build_design("y ~ x", data)


def test_new_data_matrices_mark_unseen_levels():
    data = _frame()
    design = build_design("y ~ x + offset(np.log(m)) + (1 + x | coder)", data)
    new = pd.DataFrame({"x": [0.5, 1.0], "m": [1.0, np.e], "coder": ["c2", "c9"]})
    np.testing.assert_allclose(design.fixed_matrix(new), [[1.0, 0.5], [1.0, 1.0]])
    np.testing.assert_allclose(design.offset_vector(new), [0.0, 1.0])
    (codes, matrix), = design.random_matrices(new)
    assert codes.tolist() == [1, -1]
    np.testing.assert_allclose(matrix, [[1.0, 0.5], [1.0, 1.0]])


def test_simple_terms_built_directly_equal_formulaic():
    from formulaic import model_matrix
    from formulaic.transforms.contrasts import C

    data = _frame()
    data["wave"] = np.tile([3, 1, 2], 20)
    design = build_design("y ~ x + factor(wave) + C(coder) + (1 + x | school)", data)
    assert design.fixed_spec is None  # built without formulaic
    reference = model_matrix("x + factor(wave) + C(coder)", data, context={"factor": C, "C": C})
    assert design.fixed_names == ("(Intercept)", *list(reference.columns)[1:])
    np.testing.assert_array_equal(design.fixed, np.asarray(reference, dtype=float))
    new = data.iloc[[4, 0]]
    np.testing.assert_array_equal(design.fixed_matrix(new), design.fixed[[4, 0]])


_GROUPING_COLUMNS = {
    "integers, unsorted": np.random.default_rng(1).integers(-5, 40, 200),
    "integers, sorted": np.sort(np.random.default_rng(2).integers(0, 40, 200)),
    "integers, wide range": np.random.default_rng(3).integers(-10**12, 10**12, 30)[
        np.random.default_rng(3).integers(0, 30, 200)],
    "unsigned integers": np.random.default_rng(4).integers(0, 40, 200).astype(np.uint16),
    "text, unsorted": np.random.default_rng(5).choice(["b", "a", "é", "Z", "aa", "c10", "c2"], 200),
    "text, sorted": np.sort(np.random.default_rng(6).choice(["b", "a", "é", "Z", "aa"], 200)),
    "text, runs out of order": np.array(["b"] * 3 + ["a"] * 4 + ["c"] * 2 + ["a"] * 2),
    "codes of one length, sorted": np.sort(np.random.default_rng(9).choice(
        [f"P{i:06d}" for i in range(60)], 200)),
    "codes of one length, runs out of order": np.repeat(np.random.default_rng(10).permutation(
        [f"C{i:03d}" for i in range(40)]), 5),
    "codes of 12 characters": np.random.default_rng(11).choice(
        [f"ABCDEFGH{i:04d}" for i in range(40)] + ["ABCDEFGI0000", "ÄBCDEFGH000"], 200),
    "floats": np.random.default_rng(7).integers(0, 5, 200).astype(float),
}


@pytest.mark.parametrize(("kind", "dtype"), [
    (kind, dtype) for kind, values in sorted(_GROUPING_COLUMNS.items())
    for dtype in ([None, object, "string[python]", "string[pyarrow]"]
                  if values.dtype.kind == "U" else [None])
])
def test_grouping_codes_and_levels_are_those_of_a_sorted_factorisation(kind, dtype):
    values = _GROUPING_COLUMNS[kind]
    if dtype is not None:
        values = pd.array(values, dtype=dtype)
    n = len(values)
    rng = np.random.default_rng(8)
    data = pd.DataFrame({"y": rng.normal(size=n), "g": values,
                         "h": rng.integers(0, 3, size=n)})
    design = build_design("y ~ 1 + (1 | g/h)", data)
    codes, uniques = pd.factorize(data["g"], sort=True)
    assert np.array_equal(design.random_terms[0].codes, codes)
    assert list(design.random_terms[0].levels) == [str(v) for v in uniques.tolist()]
    pairs = sorted({(c, h) for c, h in zip(codes.tolist(), data["h"].tolist(), strict=True)})
    expected = [pairs.index((c, h)) for c, h in zip(codes.tolist(), data["h"], strict=True)]
    assert np.array_equal(design.random_terms[1].codes, expected)
    assert list(design.random_terms[1].levels) == [f"{uniques[c]}:{h}" for c, h in pairs]
