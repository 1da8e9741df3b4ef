"""Every package's ``__all__`` is honest: each listed name exists, and nothing is listed twice."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["classdyad", "classdyad.errors", "classdyad.model", "classdyad.store",
            "classdyad.io", "classdyad.coding", "classdyad.measures", "classdyad.analysis",
            "classdyad.simulate", "classdyad.cli"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist_and_are_unique(name: str) -> None:
    module = importlib.import_module(name)
    listed = list(getattr(module, "__all__", []))
    assert len(listed) == len(set(listed)), "a name is listed twice"
    missing = [item for item in listed if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ lists names it does not have: {missing}"
