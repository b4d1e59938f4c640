"""The loopback server against the in-process emulator: per-call latency, and memory over many requests.

Run:  .venv/bin/python benchmarks/loopback.py            (about a minute)
Targets (issue 10): a call over loopback takes at most 3x as long as in process (the same boto3 client code, the
same engine), and the server's memory after 20,000 requests is within 50 MB of its memory after 1,000.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import boto3

from caching.emulator import Emulator, running_server
from caching.lab.terminal import HelpFormatter

MODEL = "global.anthropic.claude-sonnet-4-6"
SYSTEM = [{"text": "Answer from the policy below. " * 300}, {"cachePoint": {"type": "default"}}]  # ~2,200 tokens
AUTH = "AWS4-HMAC-SHA256 Credential=AKIABENCH/20261130/us-east-1/bedrock/aws4_request, Signature=x"


def timed_calls(client: object, count: int) -> float:
    """Median milliseconds of one Converse call."""
    times = []
    for n in range(count):
        started = time.perf_counter()
        client.converse(  # type: ignore[attr-defined]
            modelId=MODEL, system=SYSTEM, messages=[{"role": "user", "content": [{"text": f"Question {n}?"}]}]
        )
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def latency() -> None:
    session = boto3.Session(aws_access_key_id="AKIABENCH", aws_secret_access_key="x", region_name="us-east-1")
    in_process = timed_calls(Emulator().session().client("bedrock-runtime"), 300)
    with running_server(Emulator()) as server:
        over_loopback = timed_calls(session.client("bedrock-runtime", endpoint_url=server.url), 300)
    ratio = over_loopback / in_process
    print(
        f"latency: in process {in_process:.2f} ms, over loopback {over_loopback:.2f} ms a call: {ratio:.2f}x (target <= 3x)"
    )


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def memory() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "caching.emulator", "serve", "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        server.stdout.readline()  # the server says it is listening
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        readings = {}
        for n in range(1, 20_001):
            body = {"system": SYSTEM, "messages": [{"role": "user", "content": [{"text": f"Question {n}?" * 20}]}]}
            connection.request("POST", f"/model/{MODEL}/converse", json.dumps(body), {"Authorization": AUTH})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
            if n in (1_000, 20_000):
                readings[n] = rss_mb(server.pid)
        growth = readings[20_000] - readings[1_000]
        print(
            f"memory: {readings[1_000]:.1f} MB after 1,000 requests, {readings[20_000]:.1f} MB after 20,000: "
            f"{growth:+.1f} MB (target within 50 MB)"
        )
    finally:
        server.terminate()
        server.wait(10)


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter).parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores")
    latency()
    memory()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
