"""The loopback server under strange input: every request gets a 200 or an AWS-style 4xx, the server keeps
answering, a stalled client is dropped, a burst of connections is queued, and it stops at once."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caching import limits
from caching.emulator import Emulator, EmulatorServer, running_server

from ..helpers import SONNET, property_examples, user

AUTH = "AWS4-HMAC-SHA256 Credential=AKIAFUZZ/20261129/us-east-1/bedrock/aws4_request, Signature=x"
GOOD = json.dumps({"messages": [user("hi")]}).encode()
EXAMPLES = property_examples(60)  # a second or two here; raise it for a longer fuzz


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


@settings(
    max_examples=property_examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
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
    monkeypatch.setattr(limits, "IDLE_SECONDS", 0.3)
    with running_server(Emulator()) as server:
        silent = [socket.create_connection(("127.0.0.1", server.server_address[1])) for _ in range(20)]
        short = socket.create_connection(("127.0.0.1", server.server_address[1]))
        short.sendall(request("POST", f"/model/{SONNET}/converse", GOOD)[:-10])  # less than it announced
        still_answers(server)
        time.sleep(0.6)
        for sock in silent:
            sock.settimeout(2)
            assert sock.recv(1) == b""  # the server closed it
            sock.close()
        short.settimeout(2)
        response = http.client.HTTPResponse(short)
        response.begin()  # a request stalled part-way through its body is told why before it is closed
        assert (response.status, json.loads(response.read())["message"]) == (
            400,
            "Nothing more of the request arrived for 0.3 s (CACHING_LIMIT_IDLE_SECONDS): send it in one go.",
        )
        short.close()
        still_answers(server)


def test_a_client_that_trickles_its_request_is_answered_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """A byte every 0.05 s never trips the idle limit (0.3 s); the request deadline (0.5 s) ends it with one AWS
    error, and the server keeps answering others meanwhile (issue 19, item 16)."""
    monkeypatch.setattr(limits, "IDLE_SECONDS", 0.3)
    monkeypatch.setattr(limits, "REQUEST_SECONDS", 0.5)
    with running_server(Emulator()) as server:
        slow = socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5)
        raw = request("POST", f"/model/{SONNET}/converse", GOOD)
        sent = 0
        with contextlib.suppress(OSError):  # the server may close its side while bytes are still coming
            for byte in raw[:40]:  # well under the whole request: it cannot have arrived when the deadline passes
                slow.sendall(bytes([byte]))
                sent += 1
                time.sleep(0.05)
        response = http.client.HTTPResponse(slow)
        response.begin()
        body = json.loads(response.read())
        assert (response.status, response.getheader("x-amzn-ErrorType", "").split(":")[0], body["message"]) == (
            400,
            "RequestTimeout",
            "The request did not arrive within 0.5 s (CACHING_LIMIT_REQUEST_SECONDS): send it in one go.",
        )
        assert sent > 0.5 / 0.05 - 3  # it was still sending when the deadline passed, not dropped as idle
        slow.close()
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


def answer_to(server: EmulatorServer, raw: bytes, half_close: bool = False) -> tuple[int, str, str]:
    """Send raw bytes (then close our side, if asked) and read the answer: (status, error type, message)."""
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as sock:
        sock.sendall(raw)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock, method=raw.split(b" ", 1)[0].decode("latin-1"))
        response.begin()  # raises RemoteDisconnected when the server drops the connection instead of answering
        body = response.read()
    kind = response.getheader("x-amzn-ErrorType", "").partition(":")[0]
    return response.status, kind, json.loads(body)["message"] if kind and body else ""


def with_length(length: bytes, body: bytes = GOOD) -> bytes:
    head = f"POST /model/{SONNET}/converse HTTP/1.1\r\nAuthorization: {AUTH}\r\nContent-Length: ".encode()
    return head + length + b"\r\nConnection: close\r\n\r\n" + body


@pytest.mark.parametrize(
    ("length", "message"),
    [
        ("\u00b2".encode("latin-1"), "The Content-Length '\u00b2' is not a byte count: send one."),
        ("\u0665".encode(), "The Content-Length '\u00d9\u00a5' is not a byte count: send one."),  # Arabic-Indic five
        (
            b"1" * 4_301,
            "The Content-Length has 4,301 digits; the limit is 20,971,520 bytes (CACHING_LIMIT_LARGEST_REQUEST).",
        ),
        (b"", "The Content-Length '' is not a byte count: send one."),
    ],
)
def test_a_content_length_that_is_not_ascii_digits_is_answered(
    served: EmulatorServer, length: bytes, message: str
) -> None:
    assert answer_to(served, with_length(length)) == (400, "ValidationException", message)
    still_answers(served)


def test_a_body_cut_short_by_a_half_close_is_an_error_not_a_200(served: EmulatorServer) -> None:
    raw = with_length(str(len(GOOD) + 10).encode())  # a whole JSON body, but 10 bytes less than announced
    assert answer_to(served, raw, half_close=True) == (
        400,
        "ValidationException",
        f"The request body ended after {len(GOOD)} of the {len(GOOD) + 10} bytes its Content-Length said.",
    )
    still_answers(served)


def invoke_body(control: object) -> bytes:
    block = {"type": "text", "text": "hi", "cache_control": control}
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": [block]}],
    }
    return json.dumps(body).encode()


@pytest.mark.parametrize("control", [False, [], {}, {"type": "persistent"}])
def test_a_cache_control_that_is_not_ephemeral_is_a_validation_error(served: EmulatorServer, control: object) -> None:
    raw = request("POST", f"/model/{SONNET}/invoke", invoke_body(control))
    assert answer_to(served, raw) == (
        400,
        "ValidationException",
        'messages[0].content[0].cache_control must be {"type": "ephemeral"} with an optional ttl.',
    )


def test_a_null_cache_control_is_no_checkpoint(served: EmulatorServer) -> None:
    response = exchange(served, request("POST", f"/model/{SONNET}/invoke", invoke_body(None)))
    assert response.status == 200
    assert response.getheader("X-Amzn-Bedrock-Cache-Write-Input-Token-Count") == "0"


HEADER_NAMES = st.sampled_from(["Content-Length", "Authorization", "Transfer-Encoding", "Expect", "Host", "X-Odd"])
HEADER_VALUES = st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=30),
    st.integers(-5, 10**30).map(str),
    st.just(AUTH),
)
LINES = st.one_of(
    st.sampled_from([f"POST /model/{SONNET}/converse HTTP/1.1", f"POST /model/{SONNET}/invoke HTTP/1.0"]),
    st.builds(
        "{} {} {}".format,
        st.sampled_from(["POST", "GET", "HEAD", "X"]),
        PATHS,
        st.sampled_from(["HTTP/1.1", "HTTP/9", "x"]),
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=60),
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    line=LINES,
    headers=st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=5),
    body=BODIES,
)
def test_raw_http_is_always_answered_with_a_200_or_an_aws_4xx(
    served: EmulatorServer, line: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    """Whatever the request line, headers and body (cut short of its Content-Length or not), sent whole and
    followed by a half-close: an answer, never a dropped connection. (A client that stalls without closing is
    dropped after a timeout: `test_a_stalled_client_is_dropped`.)"""
    head = "\r\n".join([line, "Connection: close", *(f"{name}: {value}" for name, value in headers)])
    status, kind, message = answer_to(served, head.encode("latin-1") + b"\r\n\r\n" + body, half_close=True)
    has_body = not line.startswith("HEAD ")
    assert status == 200 or (400 <= status < 500 and kind.endswith("Exception") and (message or not has_body))
