"""`make test` keeps each xdist group in one worker (the hook in tests/conftest.py), so what a group's tests share is
built once: if this fails, every shared cluster, browser and example run is built once per worker again."""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("groups")
def test_a_grouped_test_carries_its_group_to_the_scheduler(request: pytest.FixtureRequest) -> None:
    nodeid = request.node.nodeid
    if getattr(request.config.option, "loadgroup", False):  # an xdist worker under --dist loadgroup
        assert nodeid == "tests/test_groups.py::test_a_grouped_test_carries_its_group_to_the_scheduler@groups"
    else:  # one process: ids stay as pytest makes them
        assert nodeid == "tests/test_groups.py::test_a_grouped_test_carries_its_group_to_the_scheduler"
