"""What the audit tests share: a real S3 server on loopback (moto), and one local Dask cluster for the whole run
(starting one costs about a second; tests that use it are marked `xdist_group("dask")` so they share it)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import boto3
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def s3_server(monkeypatch: pytest.MonkeyPatch) -> Any:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    yield use_s3(server, monkeypatch)
    server.stop()


def use_s3(server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point the audit (and boto3) at a running moto server; its S3 client."""
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMOTO")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("CACHING_S3_ENDPOINT_URL", url)
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1")


@pytest.fixture(scope="session")
def dask_scheduler() -> Iterator[str]:
    """The address of a local Dask cluster of two single-threaded worker processes, for `--scheduler`."""
    from caching.audit.parallel import local_cluster

    with local_cluster(2) as cluster:
        yield str(cluster.scheduler_address)
