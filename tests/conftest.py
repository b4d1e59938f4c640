"""Every test runs offline: no AWS credentials, and no connection to anything but loopback."""

from __future__ import annotations

import gc
import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from _pytest.nodeid import NodeId

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise ConnectionRefusedError(f"Tests must not reach the network: blocked a connection to {address!r}.")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def offline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Clear AWS_* variables, point the config files nowhere, and block non-loopback sockets.

    Tests marked `live` are the exception: they run only with CACHING_LIVE_TESTS=1 and real AWS credentials.
    """
    if request.node.get_closest_marker("live"):
        import boto3

        if os.environ.get("CACHING_LIVE_TESTS") != "1" or boto3.Session().get_credentials() is None:
            pytest.skip("live test: set CACHING_LIVE_TESTS=1 with AWS credentials that can call Bedrock")
        yield
        return
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("CACHING_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("CACHING_ENV_FILE", os.devnull)  # a developer's .env must not change what tests see
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    yield


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep `--dist loadgroup`'s groups: tests marked `xdist_group(name)` run in one worker, so what they share
    (one Dask cluster, one browser, one run of each example) is built once.

    xdist tells its scheduler a test's group by appending "@name" to the test's id on the worker, but it writes the
    id field pytest 9.2 no longer reads, so every group was silently spread over both workers and each shared thing
    built twice (pytest-dev/pytest-xdist#1386). This writes the field pytest reads; once xdist does, it is a no-op.
    """
    if not getattr(config.option, "loadgroup", False):  # set on xdist's workers under --dist loadgroup
        return
    from .helpers import GROUPS_KEPT

    GROUPS_KEPT[0] = True  # the helpers that share a run check that each test reading it is in the run's group
    for item in items:
        marks = item.iter_markers("xdist_group")
        groups = sorted({str(mark.args[0] if mark.args else mark.kwargs.get("name", "default")) for mark in marks})
        suffix = "@" + "_".join(groups)
        if groups and not item.nodeid.endswith(suffix):
            item._id = NodeId.parse(item.nodeid + suffix)  # type: ignore[attr-defined]


def pytest_collection_finish(session: pytest.Session) -> None:
    """What is alive once the tests are collected (the package, Strands, boto3, the test modules) lives to the end:
    frozen, it is no longer walked by every full garbage collection the tests cause (about 5% of their CPU). Garbage
    made by a test is collected as before."""
    gc.collect()
    gc.freeze()
