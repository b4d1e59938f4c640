"""The loopback server: bad bodies get a 400, never a crash; concurrent requests are safe; Ctrl-C stops it."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from caching.emulator import Emulator, ManualClock, running_server

from ..helpers import CP, SONNET, as_in_a_terminal, text_of, user

AUTH = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIATEST/20261129/us-east-1/bedrock/aws4_request, Signature=x"}


def post(url: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", path, body=body, headers={**AUTH, **(headers or {})})
    response = connection.getresponse()
    status, data = response.status, json.loads(response.read() or b"{}")
    error_type = response.getheader("x-amzn-ErrorType", "").split(":")[0]
    connection.close()
    return status, {"type": error_type, **data}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", (400, "ValidationException", "The request body is not valid JSON: ")),
        (b"[1, 2]", (400, "ValidationException", "The request body must be a JSON object.")),
        (b'{"messages": "hi"}', (400, "ValidationException", "The messages field must be a non-empty list")),
        (b'{"messages": [{"role": "user", "content": [7]}]}', (400, "ValidationException", "The content block at")),
        (b"\xff\xfe", (400, "ValidationException", "The request body is not valid JSON: ")),
    ],
)
def test_malformed_bodies_get_a_validation_error(body: bytes, expected: tuple[int, str, str]) -> None:
    with running_server(Emulator()) as server:
        status, answer = post(server.url, f"/model/{SONNET}/converse", body)
        assert (status, answer["type"]) == expected[:2]
        assert answer["message"].startswith(expected[2])
        # The server is still answering.
        ok, _ = post(server.url, f"/model/{SONNET}/converse", json.dumps({"messages": [user("hi")]}).encode())
        assert ok == 200


def test_oversized_body_is_refused_without_reading_it() -> None:
    with running_server(Emulator()) as server:
        status, answer = post(server.url, f"/model/{SONNET}/converse", b"{}", {"Content-Length": str(50 * 1024 * 1024)})
    assert (status, answer["type"]) == (400, "ValidationException")
    assert (
        answer["message"]
        == "The request body is 52,428,800 bytes; the limit is 20,971,520 (CACHING_LIMIT_LARGEST_REQUEST)."
    )


def test_unsigned_and_unknown_requests() -> None:
    with running_server(Emulator()) as server:
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("POST", f"/model/{SONNET}/converse", body=b"{}")
        response = connection.getresponse()
        assert (response.status, response.getheader("x-amzn-ErrorType", "").split(":")[0]) == (
            403,
            "AccessDeniedException",
        )
        response.read()
        connection.close()
        status, answer = post(server.url, "/model/x/embed", b"{}")
        assert (status, answer["type"]) == (404, "UnknownOperationException")


def test_concurrent_requests_are_safe() -> None:
    emu = Emulator(clock=ManualClock())
    with running_server(emu) as server:
        session = boto3.Session(aws_access_key_id="AKIATEST", aws_secret_access_key="x", region_name="us-east-1")
        client = session.client("bedrock-runtime", endpoint_url=server.url)
        system = [{"text": text_of(2_100)}, CP]

        def call(i: int) -> int:
            response = client.converse(modelId=SONNET, system=system, messages=[user(f"question {i}")])
            return int(response["usage"]["cacheReadInputTokens"])

        client.converse(modelId=SONNET, system=system, messages=[user("warm up")])
        with ThreadPoolExecutor(max_workers=8) as pool:
            reads = list(pool.map(call, range(40)))
    assert reads == [2_100] * 40
    assert [r.number for r in emu.records] == list(range(1, 42))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_command_answers_and_stops_on_ctrl_c() -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    process = subprocess.Popen(
        [sys.executable, "-m", "caching.emulator", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=as_in_a_terminal,
    )
    try:
        banner = process.stdout.readline() if process.stdout else ""
        assert banner == f"Offline Bedrock emulator on http://127.0.0.1:{port} (loopback only). Ctrl-C stops it.\n"
        status, _ = post(
            f"http://127.0.0.1:{port}", f"/model/{SONNET}/converse", json.dumps({"messages": [user("hi")]}).encode()
        )
        assert status == 200
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert out.strip().endswith("Stopped.")
    assert err == ""


def test_network_outside_loopback_is_blocked() -> None:
    with socket.socket() as s, pytest.raises(ConnectionRefusedError, match="Tests must not reach the network"):
        s.connect(("192.0.2.1", 443))
