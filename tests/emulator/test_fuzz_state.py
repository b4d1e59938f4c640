"""Generated requests against the emulator's state (issue 19): a request that fails changes nothing, and a sequence of
calls from every kind of credential never reads an entry another credential wrote.

Each request goes over a real socket to the loopback server, as raw HTTP: Converse, ConverseStream and InvokeModel
bodies, valid or mutated (cache points and cache_control in odd places, wrong types, deep nesting, huge numbers,
odd unicode, invalid UTF-8), some sent with a bad Content-Length or cut short. Every answer must be a 200 or an
AWS-shaped 4xx; after each failed one the emulator's snapshot (entries, records, invocation log) is what it was
before; and a twin emulator sent only the requests that succeeded ends in the same state. About a second each here;
PROPERTY_EXAMPLES=2000 runs a longer search.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import http.client
import json
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caching.emulator import Emulator, EmulatorServer, ManualClock, running_server
from caching.emulator.replies import reply
from caching.emulator.state import Account

from ..helpers import SONNET, cp, property_examples, text_of, user
from .test_isolation import sigv4

EXAMPLES = property_examples(40)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
TOKENS = 2_100  # each prompt's tokens up to its checkpoint: over Sonnet 4.6's minimum, so a first call writes them
PROMPTS = [text_of(TOKENS, word) for word in ("rule", "note", "fact")]
ODD_TEXT = '\x00\ufeff\u202e\u0301\U0001f600\u00b2\u0665\ud7ff\ufffd\n\t"\\ab'  # NUL, BOM, RTL, combining, emoji
ROUTES = {
    "converse": f"/model/{SONNET}/converse",
    "converse-stream": f"/model/{SONNET}/converse-stream",
    "invoke": f"/model/{SONNET}/invoke",
}


@pytest.fixture(scope="module")
def served() -> Iterator[EmulatorServer]:
    """One loopback server for the module; each example gives it a fresh emulator."""
    with running_server(Emulator(clock=ManualClock())) as server:
        yield server


def exchange(server: EmulatorServer, raw: bytes, half_close: bool = False) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes (then close our side, if asked) and read the one answer: (status, headers, body). A dropped
    connection raises (http.client.RemoteDisconnected), and fails the test."""
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as sock:
        sock.sendall(raw)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock, method="POST")
        response.begin()
        return response.status, dict(response.getheaders()), response.read()


def assert_aws_shaped(status: int, headers: dict[str, str], body: bytes) -> None:
    """A 200, or a 4xx with AWS's error type header and a JSON message: never a 5xx; each with a request id."""
    assert status == 200 or 400 <= status < 500, status
    assert len(headers["x-amzn-RequestId"]) == 36, headers
    if status != 200:
        assert headers["x-amzn-ErrorType"].endswith("Exception:http://internal.amazon.com/coral/"), headers
        assert isinstance(json.loads(body)["message"], str)


# --- the requests ------------------------------------------------------------------------------------------------


class Raw:
    """A piece of the body written as these bytes, not as JSON would write a value (numbers and nesting JSON's
    writer refuses, lone surrogates, invalid UTF-8)."""

    def __init__(self, data: bytes) -> None:
        self.data = data


def encode(body: Any) -> bytes:
    """The body as JSON bytes, each Raw piece spliced in as it is."""
    pieces: list[bytes] = []

    def placeholder(value: Any) -> str:
        if not isinstance(value, Raw):
            raise TypeError(type(value).__name__)
        pieces.append(value.data)
        return f"@@raw-{len(pieces) - 1}@@"

    text = json.dumps(body, default=placeholder).encode()
    for number, data in enumerate(pieces):
        text = text.replace(f'"@@raw-{number}@@"'.encode(), data)
    return text


def converse_body(prompt: int, turns: int, ttl: str | None) -> dict[str, Any]:
    """A conversation: the prompt's system text and a checkpoint, then `turns` user turns (answered between)."""
    messages: list[dict[str, Any]] = []
    for turn in range(turns):
        if messages:
            messages.append({"role": "assistant", "content": [{"text": f"Answer {turn}."}]})
        messages.append(user(f"Question {turn}?"))
    return {"system": [{"text": PROMPTS[prompt]}, cp(ttl)], "messages": messages}


def invoke_body(prompt: int, turns: int, ttl: str | None) -> dict[str, Any]:
    """The same conversation as an InvokeModel (Anthropic Messages) body, with cache_control on the system text."""
    control = {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}
    messages: list[dict[str, Any]] = []
    for turn in range(turns):
        if messages:
            messages.append({"role": "assistant", "content": [{"type": "text", "text": f"Answer {turn}."}]})
        messages.append({"role": "user", "content": f"Question {turn}?"})
    return {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "system": [{"type": "text", "text": PROMPTS[prompt], "cache_control": control}],
        "messages": messages,
    }


DEPTHS = st.sampled_from([3, 40, 200, 600, 990, 1_200, 3_000])
RAW = st.one_of(
    st.integers(20, 6_000).map(lambda digits: Raw(b"9" * digits)),  # Python refuses an int over 4,300 digits
    st.sampled_from([b"1e999", b"-1e400", b"NaN", b"-Infinity", b"1" + b"0" * 400 + b".5"]).map(Raw),
    DEPTHS.map(lambda n: Raw(b"[" * n + b"]" * n)),
    DEPTHS.map(lambda n: Raw(b'{"a":' * n + b"1" + b"}" * n)),
    DEPTHS.map(lambda n: Raw(b'{"text":' * n + b'"x"' + b"}" * n)),
    st.sampled_from([b'"\\ud800"', b'"a\\udfffb"', b'"\xff\xfe"', b'"a\x00b"', b'"\xc3"', b"\xed\xa0\x80"]).map(Raw),
)
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(ODD_TEXT, max_size=12),
    st.sampled_from(
        [
            [],
            {},
            cp(),
            cp("1h"),
            {"cachePoint": None},
            {"cachePoint": {"type": "default", "ttl": "2h"}},
            {"type": "ephemeral"},
            {"type": "ephemeral", "ttl": 3600},
            {"cache_control": {"type": "ephemeral"}},
            {"text": "x", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "text", "text": ""},
            {"role": "user", "content": []},
            {"toolUse": {"toolUseId": "t", "name": "x", "input": {}}},
            {"toolResult": {"toolUseId": "t", "content": [cp()]}},
        ]
    ),
    RAW,
)
KEYS = st.sampled_from(["cachePoint", "cache_control", "ttl", "type", "text", "content", "role", "system", "tools", ""])


def slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in a body: each object's fields and each list's items (a key of None: append)."""
    found: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        found.append((value, None))
        for key, inner in value.items():
            found += [(value, key), *slots(inner)]
    elif isinstance(value, list):
        found.append((value, None))
        for index, inner in enumerate(value):
            found += [(value, index), *slots(inner)]
    return found


@st.composite
def mutated(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with one to three changes: a field or item replaced, added or removed."""
    body = copy.deepcopy(body)
    for _ in range(draw(st.integers(1, 3))):
        container, key = draw(st.sampled_from(slots(body)))
        action = draw(st.sampled_from(["set", "add", "drop"]))
        if action == "drop" and key is not None:
            del container[key]
        elif key is not None and action == "set":
            container[key] = copy.deepcopy(draw(ODD))  # a copy: the next change may edit inside it
        elif isinstance(container, dict):
            container[draw(KEYS)] = copy.deepcopy(draw(ODD))
        else:
            container.insert(draw(st.integers(0, len(container))), copy.deepcopy(draw(ODD)))
    return body


@dataclass(frozen=True)
class Step:
    """One request: who sends it, where, its bytes, how it is framed, how far the clock moves before it, and any
    trouble the emulator meets late, after the cache was written: its invocation log cannot be written ("log"), or
    the offline model's reply is a toolUse without its id, which InvokeModel's answer cannot carry ("reply")."""

    headers: dict[str, str]
    route: str
    body: bytes
    framing: str  # "whole", "cut" (less than the Content-Length says, then a half-close), "bad-length"
    advance: float
    trouble: str = ""

    def raw(self) -> bytes:
        length = {"whole": str(len(self.body)), "cut": str(len(self.body) + 7)}.get(self.framing, "\u00b2")
        head = [f"POST {ROUTES[self.route]} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}"]
        head += ["Connection: close", *(f"{name}: {value}" for name, value in self.headers.items())]
        return "\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + self.body


API_KEY = "ABSKbedrock-api-key-of-team-a"
DIGEST = hashlib.sha256(API_KEY.encode()).hexdigest()[:16]
CREDENTIALS = [  # (how it signs, the account it must be): every kind, and key ids that spell another kind's name
    (sigv4("AKIAONE"), "AKIAONE"),
    (sigv4("AKIATWO", "eu-west-1"), "AKIATWO"),
    (sigv4("123456789012"), "123456789012"),
    (sigv4(f"bearer:{DIGEST}"), f"bearer:{DIGEST}"),
    (sigv4(DIGEST), DIGEST),
    (sigv4(f"api-key:{DIGEST}"), f"api-key:{DIGEST}"),  # spells the cache's own key of the API key's account
    ({"Authorization": f"Bearer {API_KEY}"}, f"bearer/{DIGEST}"),
    ({"authorization": "Bearer AKIAONE"}, str(Account.of_api_key("AKIAONE"))),  # an API key that spells a key id
    ({"Authorization": f"Bearer bearer:{DIGEST}"}, str(Account.of_api_key(f"bearer:{DIGEST}"))),
]


@st.composite
def steps(draw: st.DrawFn) -> Step:
    route = draw(st.sampled_from(list(ROUTES)))
    build = invoke_body if route == "invoke" else converse_body
    body = build(draw(st.integers(0, 2)), draw(st.integers(1, 3)), draw(st.sampled_from([None, "5m", "1h"])))
    if draw(st.booleans()):
        body = draw(mutated(body))
    encoded = encode(body)
    if draw(st.integers(0, 9)) == 0:  # now and then, damage the bytes themselves
        cut = draw(st.integers(0, len(encoded)))
        encoded = encoded[:cut] + draw(st.sampled_from([b"", b"\xff", b"\x00", b"}", b"\xed\xa0\x80"]))
    return Step(
        headers=draw(st.sampled_from(CREDENTIALS))[0],
        route=route,
        body=encoded,
        framing=draw(st.sampled_from(["whole"] * 8 + ["cut", "bad-length"])),
        advance=draw(st.sampled_from([0, 0, 0, 30, 299, 301, 3_600])),
        trouble=draw(st.sampled_from([""] * 8 + ["log", "reply"])),
    )


BROKEN_REPLY = ([{"toolUse": {"name": "lookup", "input": {}}}], "tool_use")


@contextlib.contextmanager
def trouble(step: Step, logs: Path, replies: list[bool]) -> Iterator[None]:
    """Meet the step's trouble while it is answered: a file where the log's folder goes, or the broken reply."""
    folder, kept = logs / "AWSLogs", logs / "kept"
    if step.trouble == "log" and folder.exists():
        folder.rename(kept)
    if step.trouble == "log":
        folder.write_text("")
    replies[0] = step.trouble == "reply"
    try:
        yield
    finally:
        replies[0] = False
        if step.trouble == "log":
            folder.unlink()
            if kept.exists():
                kept.rename(folder)


# --- a failed request changes nothing ------------------------------------------------------------------------------


@FUZZ
@given(sequence=st.lists(steps(), min_size=1, max_size=6))
def test_a_failed_request_changes_nothing(served: EmulatorServer, sequence: list[Step]) -> None:
    with tempfile.TemporaryDirectory() as logs, tempfile.TemporaryDirectory() as twin_logs:
        clock, twin_clock, broken = ManualClock(), ManualClock(), [False]
        replies = lambda request: BROKEN_REPLY if broken[0] else reply(request)  # noqa: E731
        served.emulator = emulator = Emulator(clock=clock, invocation_log=logs, replies=replies)
        twin = Emulator(clock=twin_clock, invocation_log=twin_logs, replies=replies)  # sent only what succeeded
        succeeded = 0
        for step in sequence:
            clock.advance(step.advance)
            twin_clock.advance(step.advance)
            before = emulator.snapshot()
            with trouble(step, Path(logs), broken):
                status, headers, body = exchange(served, step.raw(), half_close=step.framing == "cut")
                if status == 200:  # the twin meets the same reply
                    assert twin.handle("POST", ROUTES[step.route], step.headers, step.body).status == 200
            if step.trouble == "log" and step.framing == "whole" and status >= 500:
                assert headers["x-amzn-ErrorType"].startswith("InternalServerException:"), headers
            else:
                assert_aws_shaped(status, headers, body)
            if status == 200:
                succeeded += 1
            else:
                assert emulator.snapshot() == before  # no entry written or refreshed, no record, no log line
        after, twins = emulator.snapshot(), twin.snapshot()
        assert (after.entries, after.records) == (twins.entries, twins.records)  # the same history, too
        assert len(after.records) == succeeded
        assert sum(text.count(b"\n") for text in after.logged.values()) == succeeded


# --- one account's cache stays its own ------------------------------------------------------------------------------


@FUZZ
@given(
    calls=st.lists(
        st.tuples(
            st.integers(0, len(CREDENTIALS) - 1),
            st.sampled_from(["converse", "invoke"]),
            st.integers(0, 2),
            st.sampled_from([0, 0, 0, 120, 301]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_no_credential_reads_what_another_wrote(
    served: EmulatorServer, calls: list[tuple[int, str, int, float]]
) -> None:
    """Each call writes its prompt's 2,100 tokens, unless the same credential sent the same prompt through the same
    API within the last five minutes: then it reads them (and refreshes the entry). Nothing else ever reads."""
    clock = ManualClock()
    served.emulator = emulator = Emulator(clock=clock)
    expires: dict[tuple[int, str, int], float] = {}
    for who, api, prompt, advance in calls:
        clock.advance(advance)
        body = (invoke_body if api == "invoke" else converse_body)(prompt, 1, None)
        step = Step(CREDENTIALS[who][0], api, json.dumps(body).encode(), "whole", 0)
        status, _, answer = exchange(served, step.raw())
        assert status == 200, answer
        usage = json.loads(answer)["usage"]
        if api == "invoke":
            got = usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]
        else:
            got = usage["cacheReadInputTokens"], usage["cacheWriteInputTokens"]
        live = expires.get((who, api, prompt), 0.0) > clock()
        assert got == ((TOKENS, 0) if live else (0, TOKENS))
        expires[who, api, prompt] = clock() + 300
    assert [record.account for record in emulator.records] == [CREDENTIALS[who][1] for who, *_ in calls]


# --- a full disk under the invocation log -------------------------------------------------------------------------


def test_a_full_disk_under_the_invocation_log_is_a_500_and_leaves_no_half_line(tmp_path: Path) -> None:
    resource = pytest.importorskip("resource")  # a file-size limit (ulimit -f) stands in for a full disk
    emulator = Emulator(clock=ManualClock(), invocation_log=str(tmp_path))
    path, body = ROUTES["converse"], json.dumps(converse_body(0, 1, None)).encode()
    assert emulator.handle("POST", path, sigv4("AKIAFULL"), body).status == 200
    (logged,) = tmp_path.rglob("*.json")
    size = logged.stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, hard))  # room for 100 bytes of the next ~8 KB line
    try:
        before = emulator.snapshot()
        full = emulator.handle("POST", path, sigv4("AKIAFULL"), body)
        after = emulator.snapshot()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert (full.status, full.headers["x-amzn-ErrorType"], json.loads(full.body)) == (
        500,
        "InternalServerException:http://internal.amazon.com/coral/",
        {
            "message": "The emulator could not write its invocation log (File too large), so the request was not "
            "answered: free some space, or serve with another --invocation-log folder."
        },
    )
    assert after == before  # the entry it read keeps its expiry; the 100 bytes it wrote were taken back
    assert logged.stat().st_size == size
    assert emulator.handle("POST", path, sigv4("AKIAFULL"), body).status == 200  # room again: it reads and logs
    assert [json.loads(line)["input"]["cacheReadInputTokenCount"] for line in logged.read_text().splitlines()] == [
        0,
        TOKENS,
    ]
