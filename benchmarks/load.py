"""The loopback server under load: many clients at once, each a multi-turn conversation with cache points.

Run:  .venv/bin/python benchmarks/load.py                 (64 then 200 clients, 10 s each)
      .venv/bin/python benchmarks/load.py --clients 8 --seconds 2 --json

The server is `python -m caching.emulator serve`, started as its own process so its resident memory (VmRSS in
/proc/<pid>/status) is its own. Each client is a thread with one keep-alive HTTP connection and its own access key
id (its own account): it sends Converse calls of one conversation, each turn the whole history so far with a
cachePoint after the system prompt and after the last message, starting a new conversation after 8 turns. It
reports requests a second, p50 and p99 latency, errors (any answer but a 200, or a dropped connection), and the
server's memory before and after. The clients share this process and its cores with the server: on a small machine
the figures measure both.
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
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from caching.commands.flags import between
from caching.lab.terminal import HelpFormatter

MODEL = "global.anthropic.claude-sonnet-4-6"
SYSTEM = [{"text": "Answer from the policy below. " * 300}, {"cachePoint": {"type": "default"}}]  # ~2,200 tokens
CP = {"cachePoint": {"type": "default"}}
TURNS = 8  # turns of one conversation before a client starts the next


@dataclass
class Result:
    clients: int
    seconds: float
    requests: int
    errors: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    read_share: float  # of the input tokens, the share read from the cache
    rss_before_mb: float
    rss_after_mb: float


def rss_mb(pid: int) -> float:
    """The resident memory of a process, in MB (Linux)."""
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def client(port: int, name: str, stop: float, times: list[float], counts: dict[str, int]) -> None:
    """One client: conversations of TURNS turns until `stop` (a perf_counter reading)."""
    auth = (
        f"AWS4-HMAC-SHA256 Credential={name}/20261130/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=0"
    )
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conversation, messages = 0, list[dict[str, Any]]()
    while time.perf_counter() < stop:
        if len(messages) >= 2 * TURNS:
            conversation, messages = conversation + 1, []
        question = {"text": f"{name}, conversation {conversation}, question {len(messages) // 2 + 1}?"}
        sent = [*messages, {"role": "user", "content": [question, CP]}]
        body = json.dumps({"system": SYSTEM, "messages": sent})
        started = time.perf_counter()
        try:
            connection.request("POST", f"/model/{MODEL}/converse", body, {"Authorization": auth})
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            counts["errors"] += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        times.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            counts["errors"] += 1
            continue
        reply = json.loads(answer)
        usage = reply["usage"]
        counts["read"] += usage["cacheReadInputTokens"]
        counts["input"] += usage["inputTokens"] + usage["cacheReadInputTokens"] + usage["cacheWriteInputTokens"]
        # The history keeps the text only: the cachePoint moves to the newest message, as Strands' rolling one does.
        messages = [*messages, {"role": "user", "content": [question]}, reply["output"]["message"]]
    connection.close()


def load(port: int, pid: int, clients: int, seconds: float) -> Result:
    """`clients` threads for `seconds` against the server on `port` (process `pid`)."""
    before = rss_mb(pid)
    times: list[list[float]] = [[] for _ in range(clients)]
    counts = [{"errors": 0, "read": 0, "input": 0} for _ in range(clients)]
    started = time.perf_counter()
    stop = started + seconds
    threads = [
        threading.Thread(target=client, args=(port, f"AKIALOAD{clients:03d}X{n:04d}", stop, times[n], counts[n]))
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    every = sorted(t for per_client in times for t in per_client)
    total = {key: sum(c[key] for c in counts) for key in counts[0]}
    cuts = statistics.quantiles(every, n=100) if len(every) >= 2 else [every[0] if every else 0.0] * 99
    return Result(
        clients=clients,
        seconds=round(elapsed, 2),
        requests=len(every),
        errors=total["errors"],
        requests_per_second=round(len(every) / elapsed, 1),
        p50_ms=round(cuts[49], 2),
        p99_ms=round(cuts[98], 2),
        read_share=round(total["read"] / total["input"], 3) if total["input"] else 0.0,
        rss_before_mb=round(before, 1),
        rss_after_mb=round(rss_mb(pid), 1),
    )


def serve() -> tuple[subprocess.Popen[str], int]:
    """The emulator's server as a process of its own, on a free loopback port, once it is listening."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen(
        [sys.executable, "-m", "caching.emulator", "serve", "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    server.stdout.readline()  # the server says it is listening
    return server, port


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument(
        "--clients", type=between(1, 1_000), action="append", help="concurrent clients (repeatable; 64 and 200)"
    )
    parser.add_argument(
        "--seconds", type=between(0.1, 3_600, float), default=10.0, help="how long each load runs (default 10)"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    server, port = serve()
    with server:  # its stdout pipe is closed on the way out too
        try:
            results = [load(port, server.pid, clients, args.seconds) for clients in args.clients or [64, 200]]
        finally:
            server.terminate()
            server.wait(10)
    if args.json:
        print(json.dumps([asdict(result) for result in results], indent=2))
        return 0
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; clients and server on this machine")
    for r in results:
        print(
            f"{r.clients} clients, {r.seconds:.0f} s: {r.requests:,} requests ({r.requests_per_second:,.0f}/s), "
            f"{r.errors} errors\n  latency p50 {r.p50_ms:.1f} ms, p99 {r.p99_ms:.1f} ms; {r.read_share:.0%} of "
            f"input read from the cache\n  server memory {r.rss_before_mb:.1f} MB before, {r.rss_after_mb:.1f} MB after"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
