"""Applies exclusions.py: excluded tests are deselected (and counted in the
summary), tests that need a newer Python are skipped with the reason."""

import sys

import pytest

from exclusions import EXCLUDED, NEEDS_PYTHON


def _entry(table, nodeid):
    nodeid = nodeid.split("tests/peers/", 1)[-1]  # relative to this folder
    function = nodeid.split("[", 1)[0]  # a parametrized test's entry covers all its parameters
    for key, value in table.items():
        if key in (nodeid, function) or (key.endswith("::") and nodeid.startswith(key)):
            return value
    return None


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        (dropped if _entry(EXCLUDED, item.nodeid) else kept).append(item)
        needs = _entry(NEEDS_PYTHON, item.nodeid)
        if needs and sys.version_info < needs[0]:
            item.add_marker(pytest.mark.skip(reason=f"needs Python {needs[0][0]}.{needs[0][1]}: {needs[1]}"))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
