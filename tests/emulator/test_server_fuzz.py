"""The loopback server under strange input: every request gets a 200 or an AWS-style 4xx, the server keeps
answering, a stalled client is dropped, a burst of connections is queued, and it stops at once."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caching.emulator import Emulator, EmulatorServer, running_server
from caching.emulator import server as server_module

from ..helpers import SONNET, user

AUTH = "AWS4-HMAC-SHA256 Credential=AKIAFUZZ/20261129/us-east-1/bedrock/aws4_request, Signature=x"
GOOD = json.dumps({"messages": [user("hi")]}).encode()


@pytest.fixture(scope="module")
def served() -> Iterator[EmulatorServer]:
    with running_server(Emulator()) as server:
        yield server


def exchange(server: EmulatorServer, raw: bytes) -> http.client.HTTPResponse:
    """Send raw bytes and read one HTTP answer."""
    sock = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10)
    sock.sendall(raw)
    response = http.client.HTTPResponse(sock, method=raw.split(b" ", 1)[0].decode("latin-1"))
    response.begin()
    response.body = response.read()  # type: ignore[attr-defined]
    sock.close()
    return response


def request(method: str, path: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {"Authorization": AUTH}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def assert_aws_answer(response: http.client.HTTPResponse, method: str) -> None:
    assert response.status == 200 or 400 <= response.status < 500, response.status
    if response.status >= 400:
        assert response.getheader("x-amzn-ErrorType", "").endswith(":http://internal.amazon.com/coral/")
        if method != "HEAD":
            assert isinstance(json.loads(response.body)["message"], str)  # type: ignore[attr-defined]


def still_answers(server: EmulatorServer) -> None:
    response = exchange(server, request("POST", f"/model/{SONNET}/converse", GOOD))
    assert response.status == 200 and json.loads(response.body)["usage"]["inputTokens"] > 0  # type: ignore[attr-defined]


PATHS = st.one_of(
    st.sampled_from([f"/model/{SONNET}/converse", f"/model/{SONNET}/converse-stream", f"/model/{SONNET}/count-tokens"]),
    st.builds(
        lambda model, op: f"/model/{model}/{op}", st.text("abc.-:%/", max_size=20), st.sampled_from(["converse", "x"])
    ),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40).map(lambda p: "/" + p),
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSONISH.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries({"messages": JSONISH, "system": JSONISH}).map(lambda value: json.dumps(value).encode()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "BREW"]),
    path=PATHS,
    body=BODIES,
)
def test_any_request_gets_a_200_or_an_aws_error(served: EmulatorServer, method: str, path: str, body: bytes) -> None:
    assert_aws_answer(exchange(served, request(method, path, body)), method)


@pytest.mark.parametrize(
    "raw",
    [
        request(
            "POST", f"/model/{SONNET}/converse", b'{"messages": [{"role": "user", "content": [{"text": "\\ud800"}]}]}'
        ),
        request("POST", f"/model/{SONNET}/converse", b'{"messages": ' + b"[" * 1000 + b"]" * 1000 + b"}"),
        request("POST", f"/model/{SONNET}/converse", b'{"messages": ' + b"9" * 5000 + b"}"),
        request("POST", f"/model/{SONNET}/converse", GOOD, headers={}),  # no signature
        request("DELETE", f"/model/{SONNET}/converse", b""),
        request("BREW", "/coffee", b""),
        b"GARBAGE\r\n\r\n",
        b"POST /model/x/converse HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        b"POST /model/x/converse HTTP/1.1\r\nContent-Length: \xd9\xa5\r\n\r\n",
    ],
)
def test_the_inputs_that_once_broke_it(served: EmulatorServer, raw: bytes) -> None:
    assert_aws_answer(exchange(served, raw), raw.split(b" ", 1)[0].decode("latin-1"))
    still_answers(served)


def test_a_stalled_client_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module._Handler, "timeout", 0.3)
    with running_server(Emulator()) as server:
        silent = [socket.create_connection(("127.0.0.1", server.server_address[1])) for _ in range(20)]
        short = socket.create_connection(("127.0.0.1", server.server_address[1]))
        short.sendall(request("POST", f"/model/{SONNET}/converse", GOOD)[:-10])  # less than it announced
        still_answers(server)
        time.sleep(0.6)
        for sock in [*silent, short]:
            sock.settimeout(2)
            assert sock.recv(1) == b""  # the server closed it
            sock.close()
        still_answers(server)


def test_a_burst_of_connections_is_queued_and_answered() -> None:
    with running_server(Emulator()) as server, ThreadPoolExecutor(50) as pool:
        raw = request("POST", f"/model/{SONNET}/converse", GOOD)
        statuses = list(pool.map(lambda _: exchange(server, raw).status, range(50)))
    assert statuses == [200] * 50


def test_it_stops_at_once() -> None:
    with running_server(Emulator()) as server:
        still_answers(server)
        started = time.perf_counter()
    assert time.perf_counter() - started < 0.3
