"""What the audit tests share: a real S3 server on loopback (moto), and one Dask cluster for the whole run (starting
either costs about a second; tests that use them are marked `xdist_group("dask")` so they share them)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SLOW = "slow.json"  # a GET of a key ending in this is answered after SLOW_SECONDS
SLOW_SECONDS = 0.6


@pytest.fixture(scope="session")
def moto() -> Iterator[Any]:
    """Moto's S3 server on loopback, one for the run (starting one costs about a second): each test uses a bucket of
    its own. A GET of a key ending in SLOW is answered after SLOW_SECONDS, for the read deadline's test."""
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, ThreadedMotoServer, create_backend_app
    from werkzeug.serving import make_server

    class Slow(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = DomainDispatcherApplication(create_backend_app)

            def slow(environ: dict[str, Any], start_response: Any) -> Any:
                if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"].endswith(SLOW):
                    time.sleep(SLOW_SECONDS)
                return app(environ, start_response)

            self._server = make_server(self._ip_address, self._port, slow, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    server = Slow(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_server(moto: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The run's S3 server, with the audit and boto3 pointed at it: its S3 client."""
    return use_s3(moto, monkeypatch)


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
def dask_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a Dask cluster for `--scheduler`, started as a team would start one: `dask scheduler` and two
    single-threaded `dask worker`s on loopback, without AWS credentials, S3 endpoint, home or any of the audit's
    settings (what a worker needs, the command sends it). One for the run; stopped however the run ends."""
    home = tmp_path_factory.mktemp("dask-home")
    dask = Path(sys.executable).with_name("dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    bare = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "CACHING_"))}
    env = bare | {"HOME": str(home), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": home}
    processes = [
        subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet)
    ]
    try:
        for _ in range(2):
            worker = [dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1", "--no-nanny"]
            processes.append(subprocess.Popen(worker, **quiet))
        from distributed import Client

        with Client(address, timeout=20, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=20)
        yield address
    finally:
        for process in reversed(processes):  # the workers first, so none waits for a scheduler that has gone
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def kept_cluster() -> Iterator[Any]:
    """One local cluster of two workers, started as `--jobs 2` starts one (its workers forked from a server that has
    Dask loaded, which is faster), for the run."""
    import dask

    from caching.audit import parallel

    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        started = parallel.local_cluster(2)
    yield started
    started.close()


@pytest.fixture
def jobs_2(kept_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--jobs 2` audits on the run's cluster instead of starting one (a second or two each): for the tests that
    compare its report with one process's, not those of a worker that dies or of Ctrl-C, which start their own."""
    from caching.audit import parallel

    class Kept:
        def __enter__(self) -> Any:
            return kept_cluster

        def __exit__(self, *_: object) -> None:
            return None  # kept for the next test

    monkeypatch.setattr(parallel, "local_cluster", lambda workers: Kept())
