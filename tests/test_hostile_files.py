"""Hostile files through the CLI (issue 19): recordings, invocation logs (gzipped too), saved requests and workloads
with damaged lines, deep nesting, wrong types, huge numbers, NULs, invalid UTF-8, very long lines, or no content at
all, and paths that are folders, FIFOs, devices or links.

Every run happens in process under a deadline, and must end with a documented exit code (0, 1, 2), never a
traceback or a hang; every line it prints is escaped (no control character reaches the terminal) and a skipped line
or an error is one sentence; and the good lines of a file with bad ones are all still counted. A few seconds here;
PROPERTY_EXAMPLES=500 runs a longer search.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import json
import os
import re
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from caching.__main__ import main
from caching.call import Call
from caching.emulator import Emulator, ManualClock
from caching.rules.usage import Usage

from .emulator.test_fuzz_state import Raw, converse_body, encode, invoke_body, mutated
from .helpers import SONNET, property_examples

EXAMPLES = property_examples(12)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
DEADLINE_SECONDS = 20  # per run: far more than any of these takes, far less than a hang
CODES = (0, 1, 2)  # docs/cli.md: done, a finding, could not run
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # what must never reach a terminal unescaped


class Hung(Exception):
    """A run went past DEADLINE_SECONDS."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise Hung in the block once `seconds` have passed (a blocking open or read is interrupted too)."""

    def expired(signum: int, frame: Any) -> None:
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run(*argv: str) -> tuple[int, str]:
    """One command in process, 1,000 columns wide so each message is one line: (exit code, what it printed). A
    traceback fails the test as the exception it is; so does a hang."""
    console = Console(file=io.StringIO(), width=1_000, color_system=None)
    with deadline(DEADLINE_SECONDS):
        code = main(list(argv), console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert code in CODES, (code, text)
    assert not CONTROL.search(text), text  # user text is escaped before it is printed
    errors = [line for line in text.splitlines() if line.startswith("Error: ")]
    assert len(errors) == (code == 2 and argv[0] != "lint") or argv[0] == "lint", text  # lint names each bad file
    problems = [line for line in text.splitlines() if "--json" not in argv and ("skipped" in line or "stopped" in line)]
    for line in errors + problems:
        assert line.rstrip().endswith("."), line  # a whole sentence, on one line
    return code, text


# --- what good files hold -----------------------------------------------------------------------------------------


@functools.cache
def good_lines() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Three calls of one conversation, as recording lines (the doctor's) and as the emulator's invocation log lines
    (the audit's)."""
    with tempfile.TemporaryDirectory() as folder:
        emulator = Emulator(clock=ManualClock(), invocation_log=folder)
        recorded = []
        for turns in (1, 2, 3):
            body = converse_body(0, turns, None)
            usage = Usage.from_bedrock(emulator.converse(SONNET, body, "AKIAGOOD")["usage"])
            recorded.append(Call("app", 0.0, SONNET, body, usage).to_json())
        logged = [line for path in sorted(Path(folder).rglob("*.json")) for line in path.read_text().splitlines()]
    return tuple(recorded), tuple(logged)


def calls_counted(path: Path, command: str) -> int:
    """How many calls the doctor or the audit read from `path` (0 when it could not run)."""
    code, text = run(command, str(path), "--json")
    if code == 2:
        return 0
    answer = json.loads(text[text.index("{") :])
    return len(answer["calls"]) if command == "doctor" else int(answer["total"]["calls"])


# --- hostile lines ------------------------------------------------------------------------------------------------

DEPTHS = st.sampled_from([5, 101, 450, 980, 1_200, 50_000])


def hostile_lines(good: tuple[str, ...]) -> st.SearchStrategy[bytes]:
    """Lines no reader can take for a call (so a file's count of good lines is exact), each without a line break."""
    wrong_values = {  # values no reader takes for each field a call needs
        "agent": [None, 5, [], True],
        "at": [None, "0", [], True],
        "model_id": [None, 5, [], True],
        "request": [None, 5, [], True, "x"],
        "timestamp": [None, [], True, "yesterday"],
        "operation": [None, 5, "Chat"],
        "modelId": [None, 5, []],
    }

    def wrong(line: str, field: str, value: Any) -> bytes:
        record = json.loads(line)
        return encode({**record, field: value}) if field in record else b"{}"

    return st.one_of(
        st.builds(
            lambda line, cut: line.encode()[: max(0, len(line) - 2 - cut)], st.sampled_from(good), st.integers(0, 9_000)
        ),
        st.builds(
            lambda line, field, index: wrong(line, field, wrong_values[field][index % len(wrong_values[field])]),
            st.sampled_from(good),
            st.sampled_from(list(wrong_values)),
            st.integers(0, 4),
        ),
        st.builds(
            lambda line, n: wrong(line, "at" if "agent" in line else "timestamp", Raw(b"9" * n)),
            st.sampled_from(good),
            st.integers(4_301, 20_000),
        ),
        st.builds(
            lambda line: wrong(line, "at" if "agent" in line else "timestamp", Raw(b"1e999")), st.sampled_from(good)
        ),
        DEPTHS.map(lambda n: b"[" * n + b"]" * n),
        DEPTHS.map(lambda n: b'{"agent":' * n + b"1" + b"}" * n),
        st.builds(
            lambda line, n: wrong(line, "agent" if "agent" in line else "modelId", Raw(b"[" * n + b"]" * n)),
            st.sampled_from(good),
            DEPTHS,
        ),
        st.sampled_from([b"\x00", b"\xff", b"\xed\xa0\x80", b"\x1b[31m", b"\xef\xbb\xbf"]).flatmap(
            lambda junk: st.sampled_from(good).map(lambda line: junk + line.encode())
        ),
        st.integers(1, 100_000).map(lambda n: b"\x00" * n),
        st.integers(1, 2_000_000).map(lambda n: b'{"text": "' + b"y" * n + b'"}'),
        st.sampled_from([b"", b"   ", b"\t", b"null", b"[]", b"42", b'"text"', b"{}", b"NaN", b"{", b"}", b"\x85"]),
    ).map(lambda line: line.replace(b"\n", b" ").replace(b"\r", b" "))


@st.composite
def jsonl(draw: st.DrawFn, good: tuple[str, ...]) -> tuple[bytes, int]:
    """A file of good and hostile lines, the first one good: (its bytes, how many good lines). CRLF now and then."""
    more = draw(st.lists(st.one_of(st.sampled_from(good).map(str.encode), hostile_lines(good)), max_size=6))
    lines = [good[0].encode(), *more]
    ending = draw(st.sampled_from([b"\n", b"\n", b"\r\n"]))
    last = draw(st.sampled_from([ending, b""]))  # a last line without its line break is still read
    counted = sum(line.decode("utf-8", "replace") in good for line in lines)
    return ending.join(lines) + last, counted


@FUZZ
@given(file=jsonl(good_lines()[0]))
def test_a_recording_s_good_lines_are_all_counted_by_the_doctor_and_the_audit(
    tmp_path: Path, file: tuple[bytes, int]
) -> None:
    data, good = file
    path = tmp_path / "calls.jsonl"
    path.write_bytes(data)
    assert calls_counted(path, "doctor") == good
    assert calls_counted(path, "audit") == good
    run("doctor", str(path))
    run("audit", str(path))


@FUZZ
@given(file=jsonl(good_lines()[1]), zipped=st.booleans())
def test_an_invocation_log_s_good_lines_are_all_counted(tmp_path: Path, file: tuple[bytes, int], zipped: bool) -> None:
    data, good = file
    path = tmp_path / ("log.json.gz" if zipped else "log.json")
    path.write_bytes(gzip.compress(data) if zipped else data)
    assert calls_counted(path, "audit") == good
    run("audit", str(path))


@FUZZ
@given(good=st.sampled_from(good_lines()[0] + good_lines()[1]), cut=st.floats(0, 1), data=st.data())
def test_any_change_to_a_line_or_a_damaged_gzip_is_never_a_traceback(
    tmp_path: Path, good: str, cut: float, data: st.DataObject
) -> None:
    """Wrong types, odd unicode, huge numbers and nesting anywhere in a record: read or skipped, never a crash."""
    line = encode(data.draw(mutated(json.loads(good))))
    recording = tmp_path / "calls.jsonl"
    recording.write_bytes(line + b"\n" + good.encode() + b"\n")
    for command in ("doctor", "audit") if good in good_lines()[0] else ("audit",):  # the doctor reads recordings
        code, _ = run(command, str(recording))
        assert code == 0  # the good line at least
    zipped = gzip.compress(good.encode() + b"\n" + line + b"\n")
    damaged = tmp_path / "log.json.gz"
    damaged.write_bytes(zipped[: max(10, int(len(zipped) * cut))])
    run("audit", str(damaged))


# --- saved requests: lint and diff ----------------------------------------------------------------------------------

SHORT = {
    "system": [{"text": "Be brief."}, {"cachePoint": {"type": "default"}}],
    "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
}


@FUZZ
@given(
    body=st.one_of(
        st.builds(converse_body, st.integers(0, 2), st.integers(1, 3), st.sampled_from([None, "1h"])),
        st.builds(invoke_body, st.integers(0, 2), st.integers(1, 3), st.sampled_from([None, "1h"])),
    ).flatmap(mutated),
    damage=st.sampled_from([b"", b"\xff", b"\x00", b"\xed\xa0\x80", b"]"]),
)
def test_a_hostile_request_is_one_line_and_the_other_files_are_still_linted(
    tmp_path: Path, body: dict[str, Any], damage: bytes
) -> None:
    hostile, short = tmp_path / "hostile.json", tmp_path / "short.json"
    hostile.write_bytes(encode(body) + damage)
    short.write_text(json.dumps(SHORT))  # below the minimum: one error-level finding, whatever else happens
    code, text = run("lint", str(short), str(hostile), str(short))
    assert text.count(f"{short}: error: below-minimum: system[1]: ") == 2
    assert code in (1, 2)
    for first, second in ((hostile, short), (short, hostile), (hostile, hostile)):
        run("diff", str(first), str(second))


# --- workloads: plan ----------------------------------------------------------------------------------------------

COUNT_FIELDS = ["users", "turns_per_session", "calls_per_turn", "system_tokens", "parallel_tool_calls", "seed"]
DURATION_FIELDS = ["pause_between_turns", "model_latency", "arrivals_over"]
TOML_VALUES = [
    "0",
    "-1",
    "2",
    "1.5",
    "true",
    '"3"',
    "[1]",
    "{a = 1}",
    "inf",
    "nan",
    "1979-05-27",
    "0x7fffffffffffffff",
    "9" * 5_000,
    "1e999",
    '"1m..15m"',
    '"exp:2m"',
    '"1h..1m"',
    '"exp:-1"',
    '"9' + "9" * 400 + 's"',
    '"\\u0000"',
    "{uniform = [1, 2]}",
    "{exponential = -5}",
    '"\\ud800"',
    "[" * 600 + "]" * 600,
    '""',
]


@FUZZ
@given(
    lines=st.lists(
        st.one_of(
            st.builds("{} = {}".format, st.sampled_from(COUNT_FIELDS + DURATION_FIELDS), st.sampled_from(TOML_VALUES)),
            st.sampled_from(
                [
                    "users = 1",
                    "name = 'x'",
                    "approaches = ['none']",
                    "ttls = []",
                    "[table]",
                    "users = 1\nusers = 2",
                    "= 1",
                    "x = 1",
                ]
            ),
            st.binary(max_size=40),
        ),
        max_size=5,
    )
)
def test_a_hostile_workload_is_planned_or_refused_in_one_line(tmp_path: Path, lines: list[Any]) -> None:
    path = tmp_path / "workload.toml"
    path.write_bytes(b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines))
    code, text = run("plan", str(path), "--jobs", "1", "--turns-per-session", "2")
    assert code in (0, 2), text


# --- paths that are not files of the right kind --------------------------------------------------------------------


def special(tmp_path: Path, kind: str) -> Path:
    """A path of the given kind under `tmp_path` (empty and folders named like the file each command wants)."""
    path = tmp_path / f"{kind}.toml"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "newlines":
        path.write_bytes(b"\n" * 10_000)
    elif kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "dangling link":
        path.symlink_to(tmp_path / "nowhere")
    elif kind == "link to a fifo":
        os.mkfifo(tmp_path / "pipe")
        path.symlink_to(tmp_path / "pipe")
    elif kind == "link loop":
        path.symlink_to(path)
    elif kind == "folder of trouble":  # what the audit reads whole: a FIFO, a loop, a link out, a good log
        path.mkdir()
        os.mkfifo(path / "pipe.json")
        (path / "loop").symlink_to(path)
        (path / "out.json").symlink_to("/dev/zero")
        (path / "good.json").write_text(good_lines()[1][0] + "\n")
    return path


KINDS = ["empty", "newlines", "folder", "fifo", "dangling link", "link to a fifo", "link loop", "folder of trouble"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", ["doctor", "audit", "lint", "diff", "plan"])
def test_special_paths_are_refused_in_one_line_and_never_hang(tmp_path: Path, kind: str, command: str) -> None:
    path = str(special(tmp_path, kind))
    argv = {"diff": [path, path], "plan": [path, "--jobs", "1"]}.get(command, [path])
    code, text = run(command, *argv)
    if command == "audit" and kind == "folder of trouble":
        assert (code, json.loads(run("audit", path, "--json")[1])["total"]["calls"]) == (0, 1)
    elif command == "audit" and kind == "folder":
        assert code == 2 and text.endswith(
            "Error: No model invocation log record was found: point at the S3 prefix or files of your logs.\n"
        )
    elif command == "plan" and kind in ("empty", "newlines"):
        assert code == 0, text  # a workload of no lines is the default workload
    else:
        assert code == 2, text


def test_a_recording_line_too_deep_to_write_back_is_skipped_by_the_audit() -> None:
    """The audit once read a recording line nested ~980 deep, then crashed writing it back to JSON (RecursionError):
    within Python's reach to read, beyond it to write."""
    from caching import limits
    from caching.audit.logs import parse

    nested: list[Any] = []
    for _ in range(5_000):
        nested = [nested]
    record = {**json.loads(good_lines()[0][0]), "request": {"messages": nested}}
    assert parse(record, "calls.jsonl:2") == (
        f"calls.jsonl:2: nests lists and objects over {limits.DEEPEST} levels deep, more than a call "
        f"({limits.named('DEEPEST')}); skipped it."
    )


def test_a_recording_line_without_usage_or_error_reads_them_as_none(tmp_path: Path) -> None:
    """The doctor and the audit once crashed (KeyError) on a line that left either field out."""
    request = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    lines = [
        {"agent": "a", "at": 0, "model_id": SONNET, "request": request, "error": "ThrottlingException"},
        {"agent": "a", "at": 1, "model_id": SONNET, "request": request, "usage": {"inputTokens": 5, "outputTokens": 1}},
        {"agent": "a", "at": 2, "model_id": SONNET, "request": request},
    ]
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert run("doctor", str(path), "--json")[0] == 0
    answer = json.loads(run("doctor", str(path), "--json")[1])
    assert [(call["error"], call["read"]) for call in answer["calls"]] == [("ThrottlingException", None), (None, 0)]
    assert answer["skipped"] == [f"{path}: line 3: the call has neither usage nor error; skipped it."]
    assert calls_counted(path, "audit") == 1  # the failed call is counted apart, as failed
