"""The one command line: every command in docs/cli.md runs with the exit code the page gives, every --help fits 80
columns, an error is printed once and wrapped, and `caching doctor --json` says what each call did."""

from __future__ import annotations

import io
import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from caching import CallRecorder, Emulator
from caching.commands import COMMANDS, main, parser
from caching.commands.plan import PLAN_FLAGS
from caching.rules import DEFAULT_MODEL_ID

from ..emulator.test_emulator_server import free_port, post
from ..helpers import CP, SONNET, as_in_a_terminal, render_with, text_of, user

ROOT = Path(__file__).parents[2]
DOC = (ROOT / "docs" / "cli.md").read_text()
EXAMPLE = re.compile(r"^(caching .+?)\s+# exit (\d+)", re.M)
GUIDE = text_of(3_000)  # well above Sonnet 4.6's 2,048-token minimum, so no example is near it


def documented() -> list[tuple[list[str], int]]:
    """Each `caching ...  # exit N` line of the page's examples: (its arguments, its exit code)."""
    return [(shlex.split(line)[1:], int(code)) for line, code in EXAMPLE.findall(DOC)]


def request(system: str, question: str) -> dict[str, Any]:
    return {"modelId": SONNET, "system": [{"text": system}, CP], "messages": [user(question)]}


def the_docs_files(folder: Path) -> None:
    """The files the page's examples name (it says what each holds)."""
    for name, body in {
        "request.json": request(GUIDE, "Where is my order?"),
        "next.json": request(GUIDE, "And my refund?"),
        "stamped.json": request("Now: 2026-11-30 09:00. " + GUIDE, "Where is my order?"),
        "five-points.json": {"modelId": SONNET, "system": [b for n in range(5) for b in ({"text": f"{n} " * 9}, CP)]},
    }.items():
        (folder / name).write_text(json.dumps(body))
    recorder = CallRecorder(folder / "calls.jsonl")
    client = Emulator().session().client("bedrock-runtime")
    recorder.attach(client, "app")
    for minute in ("09:00", "09:01"):
        client.converse(**request(f"Now: 2026-11-30 {minute}. {GUIDE}", "Where is my order?"))
    shutil.copytree(Path(__file__).parents[1] / "fixtures" / "invocation-logs", folder / "logs")


def test_the_page_documents_every_command_and_every_flag() -> None:
    sections = dict(re.findall(r"^## caching (\w+)\n(.*?)(?=^## |\Z)", DOC, re.M | re.S))
    assert list(sections) == [command.name for command in COMMANDS]
    for command in COMMANDS:
        sub = parser("caching")._subparsers._group_actions[0].choices[command.name]  # type: ignore[union-attr]
        flags = [f for action in sub._actions for f in action.option_strings if f.startswith("--")]
        fields = {f"--{name.replace('_', '-')}" for name in PLAN_FLAGS} if command.name == "plan" else set()
        for flag in set(flags) - fields - {"--help"}:
            assert f"`{flag}" in sections[command.name], (command.name, flag)
        assert any(argv[0] == command.name for argv, _ in documented()), command.name


@pytest.mark.parametrize(("argv", "code"), [case for case in documented() if case[0][0] != "serve"])
def test_every_example_on_the_page_exits_as_it_says(
    argv: list[str], code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    the_docs_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    text = render_with(lambda console: main(argv, console), width=80, expect=code)
    assert "Traceback" not in text
    assert text.count("Error: ") == (code == 2)  # could not run: said once; a finding is no error


def in_the_background() -> None:
    """For a child process (`preexec_fn`): as a shell starts a job with `&`, which ignores Ctrl-C in it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("started", [as_in_a_terminal, in_the_background])
def test_serve_as_the_page_runs_it_answers_and_stops_on_ctrl_c(started: Any) -> None:
    """Ctrl-C stops it, also when a shell started it in the background (found by the newcomer pass: it ran on)."""
    (argv,) = [argv for argv, _ in documented() if argv[0] == "serve"]
    port = free_port()
    argv = [str(port) if argv[i - 1] == "--port" else arg for i, arg in enumerate(argv)]
    process = subprocess.Popen(
        [sys.executable, "-m", "caching", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=started,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().startswith("Offline Bedrock emulator on")
        assert post(f"http://127.0.0.1:{port}", f"/model/{SONNET}/converse", json.dumps(request("hi", "hi")).encode())[
            0
        ]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert (process.returncode, out.strip().splitlines()[-1], err) == (0, "Stopped.", "")


@pytest.mark.parametrize(("flag", "value"), [("--ttl", "2h"), ("--approach", "cached")])
def test_a_plan_flag_out_of_its_choices_is_refused_in_the_flags_terms(
    flag: str, value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It said "ttls must be a list drawn from 5m, 1h; got ['2h']": the workload file's field, to someone who typed
    --ttl 2h. argparse's refusal, 136 columns for --approach, wraps to the terminal like every other message."""
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as stopped:
        main(["plan", "blog-chat", flag, value], Console(file=io.StringIO()), prog="caching")
    error = capsys.readouterr().err
    assert stopped.value.code == 2 and max(len(line) for line in error.splitlines()) <= 80
    said = " ".join(error.split())
    assert f"caching plan: error: argument {flag}: invalid choice: '{value}'" in said
    assert "must be a list" not in said and "Traceback" not in said


def test_doctor_json_says_what_each_call_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    the_docs_files(tmp_path)
    recorded = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    monkeypatch.chdir(tmp_path)
    answer = json.loads(render_with(lambda console: main(["doctor", "calls.jsonl", "--json"], console), width=80))
    assert answer["recording"] == "calls.jsonl" and answer["skipped"] == []
    calls = answer["calls"]
    assert [(c["call"], c["agent"], c["model_id"], c["error"]) for c in calls] == [
        (1, "app", SONNET, None),
        (2, "app", SONNET, None),
    ]
    # Tokens as recorded: both calls write their prefix, neither reads (the time at the top changed it).
    assert [(c["read"], c["write"]) for c in calls] == [
        (r["usage"]["cacheReadInputTokens"], r["usage"]["cacheWriteInputTokens"]) for r in recorded
    ]
    assert [c["read"] for c in calls] == [0, 0] and all(c["write"] > 3_000 for c in calls)
    assert [c["kind"] for c in calls] == ["new prefix", "new prefix"]
    assert "'2026-11-30 09:01' looks like a timestamp" in calls[1]["message"]


def test_an_error_is_printed_once_and_wrapped_to_the_width() -> None:
    text = render_with(lambda console: main(["plan", "no-such-workload"], console), width=80, expect=2)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert " ".join(text.split()) == (
        "Error: Unknown workload 'no-such-workload': use a built-in (blog-chat, coding-session, 200-users, fan-out) "
        "or a .toml file."
    )


def test_an_error_with_markup_or_control_characters_is_shown_as_typed() -> None:
    text = render_with(lambda console: main(["plan", "[bold]x\x1b[31m"], console), width=200, expect=2)
    assert text == (
        "Error: Unknown workload '[bold]x\\x1b[31m': use a built-in (blog-chat, coding-session, 200-users, fan-out) "
        "or a .toml file.\n"
    )


def test_ctrl_c_in_any_command_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("caching.planner.run.plan", interrupted)
    assert render_with(lambda console: main(["plan"], console), expect=130) == "Interrupted.\n"


def helps() -> list[tuple[str, list[str]]]:
    """(what, argv) for each --help: the CLI's, each command's, each example's and the chat's."""
    cli = [("caching", ["--help"])] + [(f"caching {c.name}", [c.name, "--help"]) for c in COMMANDS]
    programs = [(path.name, ["--help"]) for path in sorted((ROOT / "examples").glob("[0-9][0-9]_*.py"))]
    return [*cli, *programs, ("main.py", ["--help"])]


@pytest.mark.parametrize(("what", "argv"), helps())
def test_every_help_fits_80_columns(
    what: str, argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # as a terminal of 80 columns sets it; argparse wraps to it
    if what.startswith("caching"):
        run = lambda: main(argv)  # noqa: E731
    else:
        from ..helpers import example
        from ..lab.test_main import chat

        program = chat if what == "main.py" else example(what[:2])
        run = lambda: program.main(argv)  # noqa: E731
    with pytest.raises(SystemExit) as done:
        run()
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert [line for line in text.splitlines() if len(line) > 80] == []
    if not what.startswith("caching"):  # the shared flags: the default model id is never split at its hyphens
        assert f"(default {DEFAULT_MODEL_ID})" in " ".join(text.split())


def test_serve_takes_the_uncertainty_setting_from_its_flags() -> None:
    import argparse

    from caching.commands.serve import serve_flags, uncertainty_of
    from caching.rules.uncertainty import EXACT, Uncertainty

    parser = argparse.ArgumentParser()
    serve_flags(parser)
    assert uncertainty_of(parser.parse_args([])) == Uncertainty(seed=1) and Uncertainty(seed=1).exact
    flags = parser.parse_args(["--expiry-window", "120", "--miss-rate", "4%", "--seed", "7"])
    assert uncertainty_of(flags) == Uncertainty(120.0, 0.04, 7) != EXACT
