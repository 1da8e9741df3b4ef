"""The error hierarchy: every error is a ClassdyadError and the builtin users expect."""

from __future__ import annotations

import pytest

from classdyad import errors
from classdyad.errors import (
    ClassdyadError,
    DataError,
    OptionError,
    Problem,
    ValidationError,
    check_option,
)


@pytest.mark.parametrize(("error", "builtin"), [
    (errors.DataError, ValueError), (errors.ValidationError, ValueError),
    (errors.ClassificationError, ValueError), (errors.IntegrityError, ValueError),
    (errors.FormulaError, ValueError), (errors.OptionError, ValueError),
    (errors.NotFoundError, LookupError), (errors.StoreError, RuntimeError),
    (errors.EstimationError, RuntimeError),
])
def test_every_error_is_a_classdyad_error_and_a_builtin(error, builtin) -> None:
    assert issubclass(error, ClassdyadError) and issubclass(error, builtin)


@pytest.mark.parametrize("warning", [errors.DataWarning, errors.ConvergenceWarning,
                                     errors.SingularFitWarning,
                                     errors.UndefinedStatisticWarning])
def test_every_warning_is_a_classdyad_warning(warning) -> None:
    assert issubclass(warning, errors.ClassdyadWarning)
    assert issubclass(warning, UserWarning)


def test_check_option_lists_the_allowed_values_and_matches_exactly() -> None:
    assert check_option("family", "poisson", ["poisson", "binomial"]) == "poisson"
    with pytest.raises(OptionError, match="family='pois' is not allowed; use one of "
                                          "'poisson', 'binomial'"):
        check_option("family", "pois", ["poisson", "binomial"])


def test_a_validation_error_names_file_row_column_value_and_remedy() -> None:
    problems = [Problem("not a known country; use an ISO 3166 code", source="roster.csv",
                        row=12, column="birth_country", value="Marokko?")] * 25
    error = ValidationError(problems, what="roster.csv")
    text = str(error)
    assert text.startswith("roster.csv: 25 problems found; nothing was written.")
    assert ("roster.csv, row 12, column birth_country: 'Marokko?': not a known country; use an "
            "ISO 3166 code") in text
    assert "and 5 more" in text and len(error.problems) == 25
    assert isinstance(error, DataError)


def test_the_module_lists_exactly_its_public_names() -> None:
    public = {name for name in vars(errors) if not name.startswith("_")
              and (isinstance(getattr(errors, name), type) or callable(getattr(errors, name)))
              and getattr(getattr(errors, name), "__module__", "") == errors.__name__}
    assert public == set(errors.__all__)
