"""What a user can type, pipe, point at or send: each gets one line, never a traceback (issue 10's reproducers)."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from caching import limits
from caching.__main__ import main as cli
from caching.emulator import Catalog, Emulator, ManualClock, running_server

from .check.test_doctor import GUIDE, Lab
from .helpers import CP, SONNET, TERMINAL_CHAT, as_scripts_in_a_terminal, example, render_with, text_of, user
from .lab.test_main import ROOT, chat, live_env

HAIKU_35 = "us.anthropic.claude-3-5-haiku-20241022-v1:0"


WIDE = 400  # an error is wrapped to the console's width (tests/test_cli.py): this wide, each is one line


def chat_with(argv: list[str], lines: str = "quit\n", expect: int = 0) -> str:
    return render_with(lambda console: chat.main(argv, console, io.StringIO(lines)), width=WIDE, expect=expect)


def one_line(text: str) -> str:
    """The one error in `text` (rendered at WIDE columns), which must be the only one and no traceback."""
    assert "Traceback" not in text
    errors = [line for line in text.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, text
    return errors[0]


# --- recordings ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["/nonexistent/dir/x.jsonl", "/tmp"])
def test_record_to_a_path_that_cannot_be_written_is_one_line(where: str) -> None:
    for text in (
        chat_with(["--record", where], expect=2),
        render_with(lambda c: example("02").main(["--record", where], c), width=WIDE, expect=2),
    ):
        assert one_line(text).startswith(f"Error: Cannot write the recording '{where}' (")


def test_recordings_are_private_and_hold_no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "calls.jsonl"
    with running_server(Emulator(clock=ManualClock())) as server:
        url = server.url.replace("http://", "http://alice:hunter2@")
        live_env(monkeypatch, url)
        text = chat_with(["--live", "--record", str(path)], "What is Python?\nquit\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "hunter2" not in path.read_text() and "hunter2" not in text
    assert "http://***@127.0.0.1" in " ".join(text.split())

    with running_server(Emulator()) as server:
        url = server.url.replace("http://", "http://alice:hunter2@")
    live_env(monkeypatch, url)  # the server is gone now: the connection fails
    text = chat_with(["--live", "--record", str(path)], "What is Python?\nWhat else?\n", expect=2)
    assert "hunter2" not in path.read_text() and "hunter2" not in text
    assert one_line(text).startswith("Error: Cannot reach the endpoint http://***@127.0.0.1:")
    assert "CACHING_ENDPOINT_URL" in one_line(text) and "--region" not in one_line(text)
    assert "Session summary" not in text  # the failed turn left no all-zero row behind


# --- the chat and its settings ------------------------------------------------------------------------------------


def test_bytes_that_are_not_utf8_on_stdin_in_the_c_locale() -> None:
    env = {"PATH": "/usr/bin:/bin", "CACHING_ENV_FILE": os.devnull, "HOME": "/nonexistent", "LC_ALL": "C"}
    result = subprocess.run(
        [sys.executable, "main.py"], input=b"\xff\xfe x\nquit\n", capture_output=True, cwd=ROOT, env=env, timeout=120
    )
    assert (result.returncode, result.stderr) == (0, b"")
    assert "you> \ufffd\ufffd x" in result.stdout.decode()


@pytest.mark.xdist_group("printed")  # the chat's run as a script in a terminal is shared with the 80-column tests
def test_bytes_that_are_not_utf8_on_stdin_in_a_utf8_locale() -> None:
    terminal = as_scripts_in_a_terminal()  # LC_ALL=C.UTF-8, fed TERMINAL_CHAT's bytes
    assert TERMINAL_CHAT[1].startswith(b"\xff\xfe x\n")
    assert (terminal.returncode, terminal.stderr, terminal.ran["main.py"][0]) == (0, "", "0")
    assert "you> \ufffd\ufffd x" in terminal.ran["main.py"][1]


@pytest.mark.parametrize(
    ("env", "argv", "message"),
    [
        ({"CACHING_ENDPOINT_URL": "not a url"}, [], "Error: CACHING_ENDPOINT_URL must be an http:// or https:// URL"),
        (
            {"CACHING_ENDPOINT_URL": "ftp://host/x"},
            [],
            "Error: CACHING_ENDPOINT_URL must be an http:// or https:// URL",
        ),
        (
            {"CACHING_ENDPOINT_URL": "http://host:99999"},
            [],
            "Error: CACHING_ENDPOINT_URL must be an http:// or https:// URL",
        ),
        ({}, ["--region", "bad region"], "Error: 'bad region' is not an AWS region name: pass --region like us-east-1"),
        ({}, ["--model", HAIKU_35, "--ttl", "1h"], "Error: Claude 3.5 Haiku has no 1h cache TTL: pass --ttl 5m"),
    ],
)
def test_bad_settings_are_one_line(
    env: dict[str, str], argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert one_line(chat_with(argv, expect=2)).startswith(message)


def test_a_profile_that_does_not_exist_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nonexistent")
    assert one_line(chat_with(["--live"], expect=2)) == (
        "Error: The AWS profile 'nonexistent' is not configured: check ~/.aws/config, or set AWS_PROFILE to one that is."
    )


# --- the emulator's command line ---------------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "-1", "\uff18\uff10"])
def test_serve_on_an_impossible_port_is_one_line(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    """In process (`python -m caching.emulator serve` runs this same main: tests/emulator/test_emulator_server.py)."""
    from caching.commands import main

    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", port], prog="python -m caching.emulator")
    error = " ".join(capsys.readouterr().err.split())  # one sentence, wrapped to the terminal
    assert stopped.value.code == 2 and "Traceback" not in error
    assert "must be a port number from 0 to 65535" in error


# --- the planner --------------------------------------------------------------------------------------------------


def plan(*argv: str, expect: int = 0) -> str:
    width = WIDE if expect else 100  # a failed plan: its error on one line
    return render_with(lambda console: cli(["plan", *argv], console), width=width, expect=expect)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"users = 2\n\xff\xfe\n", "is not UTF-8 text (byte 10): save it as UTF-8 TOML."),
        (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nests too deeply"),
        (b'pause_between_turns = "exp:' + b"9" * 400 + b's"\n', "pause_between_turns must be"),
        (b"pause_between_turns = inf\n", "pause_between_turns must be between 0 and 30 days"),
        (b"users = 1000000000000\n", "users must be a whole number from 1 to 1,000,000; got 1000000000000."),
        (b"calls_per_turn = 1000000000000\n", "calls_per_turn must be a whole number from 1 to 1,000;"),
        (
            b"users = 1000000\nsessions_per_user = 100\n",
            "the planner simulates at most 20,000,000 (CACHING_LIMIT_MOST_SIMULATED_CALLS)",
        ),
        (b"users = " + b"9" * 5000 + b"\n", "holds a number too long to read: counts are at most 19 digits."),
        (
            b"#" * (1024 * 1024 + 1),
            "is over 1,048,576 bytes, the limit for a workload (CACHING_LIMIT_LARGEST_WORKLOAD): pass a smaller file.",
        ),
    ],
)
def test_bad_workload_files_are_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "w.toml"
    path.write_bytes(content)
    assert message in one_line(plan(str(path), expect=2))


@pytest.mark.parametrize("argv", [["--users", "²"], ["--users", "1e12"], ["--users", "9" * 5000], ["--users", "-3"]])
def test_bad_workload_flags_are_one_line(argv: list[str]) -> None:
    # in the words the user typed (--users), not the workload file's (users = ...)
    assert one_line(plan("blog-chat", *argv, expect=2)).startswith("Error: --users must be a whole number from 1")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--users", "0"], "Error: --users must be a whole number from 1 to 1,000,000; got 0."),
        (["--calls-per-turn", "1001"], "Error: --calls-per-turn must be a whole number from 1 to 1,000; got 1001."),
        (["--pause-between-turns", "soon"], "Error: --pause-between-turns must be a duration like '30s', "),
        (["--arrivals-over", "31d"], "Error: --arrivals-over must be a duration like '30s', "),
        (["--model", "acme.x"], "Error: --model 'acme.x' is not in the catalog: use one of "),
        (
            ["--users", "1000000", "--sessions-per-user", "100"],
            "Error: The workload makes 800,000,000 model calls; the planner simulates at most 20,000,000 "
            "(CACHING_LIMIT_MOST_SIMULATED_CALLS): lower --users, --sessions-per-user, --turns-per-session or "
            "--calls-per-turn.",
        ),
    ],
)
def test_a_bad_flag_is_named_as_the_flag(argv: list[str], message: str) -> None:
    assert one_line(plan("blog-chat", *argv, expect=2)).startswith(message)


def test_a_bad_file_field_is_named_as_the_file_key(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text("users = 1000000\nsessions_per_user = 100\n")
    assert one_line(plan(str(path), expect=2)).endswith(
        "lower users, sessions_per_user, turns_per_session or calls_per_turn."
    )
    path.write_text(f"model = '{HAIKU_35}'\nttls = ['1h']\n")
    assert (
        one_line(plan(str(path), expect=2)) == "Error: Claude 3.5 Haiku has no 1h cache TTL: plan with ttls = ['5m']."
    )


@pytest.mark.parametrize("jobs", ["0", "-1", "x"])
def test_jobs_must_be_at_least_one(jobs: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli(["plan", "blog-chat", "--jobs", jobs])
    said = " ".join(capsys.readouterr().err.split())  # one sentence, wrapped to the terminal
    assert stopped.value.code == 2 and "must be a whole number from 1 to 9999" in said


def test_a_model_without_1h_is_planned_with_5m_only() -> None:
    text = plan("blog-chat", "--model", HAIKU_35)
    assert not re.search(r"^ ?\w+ +1h ", text, re.M) and re.search(r"^ ?combined +5m ", text, re.M)
    assert "1h beats 5m" not in text and "5m stays cheaper" not in text
    assert one_line(plan("blog-chat", "--model", HAIKU_35, "--ttl", "1h", expect=2)) == (
        "Error: Claude 3.5 Haiku has no 1h cache TTL: plan with --ttl 5m."
    )


def test_none_has_no_ttl_and_one_turn_has_no_pause_sweep() -> None:
    text = plan("blog-chat", "--approach", "none", "--turns-per-session", "1", "--calls-per-turn", "1")
    assert "Cheapest here: none at $" in text
    assert "none 5m" not in text and "none 1h" not in text and "between turns" not in text


# --- the doctor ---------------------------------------------------------------------------------------------------


def recorded(lab: Lab) -> list[dict[str, Any]]:
    return [json.loads(call.to_json()) for call in lab.recorder.calls]


def bad_records(good: dict[str, Any]) -> list[tuple[Any, str]]:
    """(a damaged copy of a good record, the reason the doctor gives for skipping it)."""

    def with_request(**changes: Any) -> dict[str, Any]:
        return {**good, "request": {**good["request"], **changes}}

    text_block = good["request"]["messages"][0]
    return [
        (with_request(messages="hi"), "request.messages is not a list"),
        (with_request(messages=[{"role": "user", "content": 5}]), "request.messages[0].content is not a list"),
        (with_request(system=5), "request.system is not a list"),
        (with_request(toolConfig="tools"), "request.toolConfig is not an object with a tools list"),
        (
            with_request(messages=[{"role": "user", "content": [{"text": 5}]}]),
            "request.messages[0].content[0].text is not text",
        ),
        (
            with_request(messages=[text_block, {"role": "assistant", "content": [{"toolUse": "x"}]}]),
            "content[0].toolUse is not an object",
        ),
        (with_request(messages=[{"role": "user", "content": [{"text": "\ud800"}]}]), "holds a lone surrogate"),
        ({**good, "usage": {"inputTokens": "abc"}}, "usage: inputTokens must be a whole number of tokens, got 'abc'"),
        ({**good, "usage": {"inputTokens": -5}}, "usage: inputTokens cannot be negative, got -5"),
        ({**good, "usage": {"inputTokens": 1.5}}, "usage: inputTokens must be a whole number of tokens, got 1.5"),
        ({**good, "usage": {"cacheDetails": [{"ttl": "2h"}]}}, "usage: cacheDetails entries need ttl '5m' or '1h'"),
        ({**good, "usage": None, "error": None}, "the call has neither usage nor error"),
    ]


def test_each_badly_typed_line_is_skipped_and_named_and_the_rest_reported(tmp_path: Path) -> None:
    lab = Lab()
    for _ in range(2):
        lab.send(system=[{"text": GUIDE}, CP], messages=[user("Hi")])
    first, second = recorded(lab)
    bad = bad_records(first)
    lines = [json.dumps(first), *(json.dumps(record) for record, _ in bad)]
    lines += ['{"agent": "a", "at": 1' + "0" * 5000 + ', "model_id": "m", "request": {}, "usage": {}}']
    lines += ['{"a": ' + "[" * 3000 + "]" * 3000 + "}", json.dumps(second)]
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join(lines) + "\n")
    text = render_with(lambda console: cli(["doctor", str(path)], console), width=200)
    for number, (_, reason) in enumerate(bad, start=2):
        assert f"{path}: line {number}: " in text and reason in text, reason
    assert f"{path}: line {len(bad) + 2}: not usable JSON" in text
    assert f"{path}: line {len(bad) + 3}: not usable JSON" in text or f"line {len(bad) + 3}: not valid JSON" in text
    assert "2 calls in" in text and "HIT: read 2,100 cached tokens" in text


def test_a_file_with_no_usable_call_fails(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text("[1]\n\n")
    text = render_with(lambda console: cli(["doctor", str(path)], console), width=WIDE, expect=2)
    assert one_line(text) == f"Error: {str(path)!r} holds no usable call: record one with --record FILE.jsonl."


def test_an_endless_line_is_read_in_bounded_memory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(limits, "LONGEST_LINE", 100_000)
    path = tmp_path / "endless.jsonl"
    path.write_bytes(b"x" * 300_000)
    text = render_with(lambda console: cli(["doctor", str(path)], console), width=WIDE, expect=2)
    assert (
        f"{path}: line 1: longer than 100,000 characters (CACHING_LIMIT_LONGEST_LINE), so this is not a recording; stopped reading."
        in text
    )


def test_one_client_with_several_prompts_still_finds_the_timestamp() -> None:
    lab = Lab()  # one boto3 client, one label: the nearest earlier prefix is found across every call
    lab.send(system=[{"text": "Now: 2026-11-29 10:41. " + GUIDE}, CP], messages=[user("Hi")])
    lab.send(system=[{"text": text_of(2_300, "othr")}, CP], messages=[user("Hi")])
    _, message, _ = lab.send(system=[{"text": "Now: 2026-11-29 10:42. " + GUIDE}, CP], messages=[user("Hi")])
    assert message == (
        "prefix changed in system block 0 at character 20: '2026-11-29 10:42' looks like a timestamp; move it after "
        "the checkpoint"
    )


def test_the_catalog_without_sonnet_is_still_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    without = Catalog(tuple(m for m in Catalog().models if m.short != "claude-sonnet-4-6"))
    with running_server(Emulator(catalog=without)) as server:
        live_env(monkeypatch, server.url)
        text = chat_with(["--live"], "What is Python?\nquit\n")
    assert one_line(text).startswith(f"Error: Model id '{SONNET}' is not offered in us-east-1")


# --- issue 19: nesting, special files, sizes, full disks ----------------------------------------------------------


def test_a_line_nested_too_deeply_is_skipped_and_named_and_the_rest_read(tmp_path: Path) -> None:
    from caching.limits import DEEPEST

    lab = Lab()
    lab.send(system=[{"text": GUIDE}, CP], messages=[user("Hi")])
    lab.send(system=[{"text": GUIDE}, CP], messages=[user("Hi")])
    good = recorded(lab)
    nested: Any = "x"
    for _ in range(450):  # deep enough to break a recursive walk (issue 19), far past DEEPEST
        nested = [nested]
    deep = {**good[0], "request": {**good[0]["request"], "extra": nested}}
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in [good[0], deep, good[1]]) + "\n")
    skipped = f"{path}: line 2: nests lists and objects over {DEEPEST} levels deep, more than a call (CACHING_LIMIT_DEEPEST); skipped it."
    doctor = render_with(lambda console: cli(["doctor", str(path)], console), width=WIDE)
    assert skipped in doctor.splitlines() and "2 calls in" in doctor
    audit = render_with(lambda console: cli(["audit", str(path)], console), width=WIDE)
    assert "calls.jsonl:2: nests lists and objects over 100 levels deep" in audit and "2 calls audited" in audit


def test_a_request_nested_too_deeply_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(json.dumps({"messages": [user("hi")], "extra": json.loads("[" * 200 + "]" * 200)}))
    text = render_with(lambda console: cli(["lint", str(path)], console), width=WIDE, expect=2)
    assert (
        one_line(text)
        == f"Error: {str(path)!r} nests lists and objects over 100 levels deep, more than a request (CACHING_LIMIT_DEEPEST)."
    )


COMMANDS_ON_A_FILE = [
    (["doctor"], "a JSONL recording"),
    (["audit"], "invocation logs"),
    (["lint"], "a JSON request"),
    (["diff", "--model", SONNET], "a JSON request"),
    (["plan"], "a workload"),
]


SPECIAL_FILES = [("fifo", "a FIFO (named pipe)"), ("folder.toml", "a folder")]


@pytest.mark.parametrize(
    ("special", "kind", "argv", "holds"),
    [  # a folder of logs is what the audit reads: not a case here
        (*special, *command)
        for special in SPECIAL_FILES
        for command in COMMANDS_ON_A_FILE
        if not (command[0] == ["audit"] and special[0].startswith("folder"))
    ],
)
def test_anything_but_a_regular_file_is_refused_in_one_line(
    tmp_path: Path, special: str, kind: str, argv: list[str], holds: str
) -> None:
    """A FIFO once hung these commands forever."""
    path = str(tmp_path / (special + (".toml" if argv == ["plan"] and special == "fifo" else "")))
    os.mkfifo(path) if special == "fifo" else os.mkdir(path)
    args = [*argv, path, path] if argv[0] == "diff" else [*argv, path]
    text = render_with(lambda console: cli(args, console), width=WIDE, expect=2)
    assert one_line(text) == f"Error: {path!r} is {kind}, not a regular file: pass a file holding {holds}."


@pytest.mark.parametrize("command", ["doctor", "lint"])
def test_dev_zero_is_refused_before_a_byte_is_read(command: str) -> None:
    text = render_with(lambda console: cli([command, "/dev/zero"], console), width=WIDE, expect=2)
    holds = "a JSONL recording" if command == "doctor" else "a JSON request"
    assert (
        one_line(text) == f"Error: '/dev/zero' is a character device, not a regular file: pass a file holding {holds}."
    )


def test_a_request_file_over_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "LARGEST_REQUEST", 1_000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"messages": [user("x" * 2_000)]}))
    for argv in (["lint", str(path)], ["diff", str(path), str(path)]):
        text = render_with(lambda console, argv=argv: cli(argv, console), width=WIDE, expect=2)
        assert one_line(text) == (
            f"Error: {str(path)!r} is over 1,000 bytes, the limit for a JSON request (CACHING_LIMIT_LARGEST_REQUEST): "
            "pass a smaller file."
        )


FULL_DISK = (
    "Error: Cannot write the recording '/dev/full' (No space left on device): free some space, or pass --record a "
    "file on another disk."
)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("name", [f"{n:02d}" for n in range(2, 10)])  # 01 and 10 make no recorded call
def test_a_full_disk_while_recording_is_one_line_in_every_example(name: str) -> None:
    out = render_with(lambda console: example(name).main(["--record", "/dev/full"], console), width=WIDE, expect=2)
    assert out.splitlines()[-1] == FULL_DISK


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_a_full_disk_while_recording_is_one_line_in_the_chat() -> None:
    out = chat_with(["--record", "/dev/full"], "hello\nquit\n", expect=2)
    assert FULL_DISK in out.splitlines()
