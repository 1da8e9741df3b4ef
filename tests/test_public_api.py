"""Every package's ``__all__`` is honest: each listed name exists, and nothing is listed twice."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["classdyad", "classdyad.errors", "classdyad.model", "classdyad.store",
            "classdyad.io", "classdyad.coding", "classdyad.measures", "classdyad.mixed",
            "classdyad.analysis", "classdyad.study",
            "classdyad.simulate", "classdyad.report", "classdyad.services", "classdyad.web",
            "classdyad.cli"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist_and_are_unique(name: str) -> None:
    module = importlib.import_module(name)
    listed = list(getattr(module, "__all__", []))
    assert len(listed) == len(set(listed)), "a name is listed twice"
    missing = [item for item in listed if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ lists names it does not have: {missing}"


MOVED_MODULES = {
    "classdyad.analysis.linear_mixed": "classdyad.mixed",
    "classdyad.analysis.generalized_mixed": "classdyad.mixed",
    "classdyad.analysis.dataset": "classdyad.study.dataset",
    "classdyad.analysis.study_plan": "classdyad.study.plan",
    "classdyad.io.study_models": "classdyad.study.models",
}


@pytest.mark.parametrize(("old", "new"), MOVED_MODULES.items())
def test_old_module_paths_still_work_with_a_deprecation_warning(old: str, new: str) -> None:
    import sys

    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)


@pytest.mark.parametrize("name", ["lmm", "glmm", "build_analysis_dataset", "rate_ratio"])
def test_moved_names_of_the_analysis_package_warn(name: str) -> None:
    analysis = importlib.import_module("classdyad.analysis")
    with pytest.warns(DeprecationWarning, match="has moved"):
        moved = getattr(analysis, name)
    assert moved is getattr(importlib.import_module(analysis.MOVED[name]), name)
