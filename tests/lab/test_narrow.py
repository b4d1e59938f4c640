"""Every table and report reads well at 80 columns and uses the room at 120: no line longer than the terminal, no
cell cut short (rich marks a cut with an ellipsis), and no word split across lines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from caching import Call, CallUsage, Usage
from caching.__main__ import main as cli
from caching.lab.reports import calls_table, doctor_table
from caching.planner import BUILTIN
from caching.rules import Diagnosis, Kind

from ..check.test_doctor import GUIDE, Lab
from ..helpers import (
    CP,
    SONNET,
    TERMINAL_CHAT,
    TERMINAL_PLAN,
    as_scripts_in_a_terminal,
    call_rows,
    example_output,
    fits,
    render_with,
    user,
)
from .test_main import chat

WIDTHS = [80, 120]
LONG_REASON = (
    "prefix changed in system block 0 at character 29: '2026-11-29 10:42' looks like a timestamp; move it after "
    "the checkpoint"
)


def whole(text: str) -> str:
    """The text with every run of whitespace made one space: a wrapped sentence reads whole again."""
    return " ".join(text.split())


def render(renderable: object, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(renderable)
    return str(console.file.getvalue())  # type: ignore[attr-defined]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("first_token", [False, True])
def test_calls_table_keeps_numbers_and_words_whole(width: int, first_token: bool) -> None:
    usage = Usage(inputTokens=12, outputTokens=345, cacheReadInputTokens=123_456, cacheWriteInputTokens=7_890)
    calls = [
        CallUsage(
            agent="research_assistant",
            at=0.0,
            model_id=SONNET,
            request=None,
            usage=usage,
            number=n,
            turn=12,
            diagnosis=Diagnosis(Kind.EXPIRED, LONG_REASON),
            first_token_ms=1_234,
        )
        for n in (1, 10)
    ]
    text = render(calls_table(calls, first_token=first_token), width)
    fits(text, width)
    flat = whole(text)
    assert flat.count(f"READ+WRITE: {LONG_REASON}") == 2
    assert flat.count("123,456") == 2 and flat.count("research_assistant") == 2
    if first_token:
        assert flat.count("1,234 ms") == 2


@pytest.mark.parametrize("width", WIDTHS)
def test_doctor_table_keeps_words_whole_and_renders_no_markup(width: int) -> None:
    call = Call("[link=file:///etc/passwd]app[/link]\x1b[31m", 0.0, SONNET, {}, Usage(cacheReadInputTokens=5))
    text = render(doctor_table([(call, Diagnosis(Kind.NEW_PREFIX, LONG_REASON))]), width)
    fits(text, width)
    assert f"NEW PREFIX: {LONG_REASON}" in whole(text)
    assert "[link=file:///etc/passwd]app[/link]\\x1b[31m" in text and "\x1b" not in text


@pytest.mark.xdist_group("printed")  # the examples' runs at 80 columns are shared with the example tests
@pytest.mark.parametrize("name", ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"])
def test_every_example_fits(name: str) -> None:
    fits(example_output(name), 80)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_chat_fits(width: int) -> None:
    lines = "What is Python?\nExplain recursion and write a factorial function\nquit\n"
    text = render_with(lambda console: chat.main([], console, io.StringIO(lines)), width=width)
    fits(text, width)
    third = call_rows(text)[2]
    assert f"READ+WRITE: read {third[2]} cached tokens, wrote {third[3]} more" in whole(text)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("workload", list(BUILTIN))
def test_every_builtin_plan_fits(workload: str, width: int) -> None:
    args = ["plan", workload, "--users", "20"] if workload == "200-users" else ["plan", workload]
    text = render_with(lambda console: cli(args, console), width=width)
    fits(text, width)
    for ttl in ("5m", "1h"):
        assert f" combined   {ttl} " in text  # the 5m and 1h rows can be told apart


@pytest.mark.parametrize("width", WIDTHS)
def test_the_doctor_command_fits(width: int, tmp_path: Path) -> None:
    lab = Lab()
    for stamp in ("Now: 2026-11-29 10:41. ", "Now: 2026-11-29 10:42. "):
        lab.send(system=[{"text": stamp + GUIDE}, CP], messages=[user("Hi")])
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(call.to_json() + "\n" for call in lab.recorder.calls))
    text = render_with(lambda console: cli(["doctor", str(path)], console), width=width)
    fits(text, width)
    assert "'2026-11-29 10:42' looks like a timestamp; move it after the checkpoint" in whole(text)


@pytest.mark.xdist_group("printed")  # reads the run of the scripts that the example tests read
def test_an_80_column_terminal_is_honoured_end_to_end() -> None:
    """COLUMNS=80 in the environment, as a terminal sets it: the chat piped and a plan (every example runs as a
    script with COLUMNS=80 in the same run, tests/lab/test_examples.py)."""
    terminal = as_scripts_in_a_terminal()
    assert (terminal.returncode, terminal.stderr) == (0, "")
    assert TERMINAL_CHAT[1].endswith(b"What is Python?\nquit\n")  # a model call: its table is what must fit
    for command in ("main.py", TERMINAL_PLAN):
        code, text = terminal.ran[command]
        assert code == "0", command
        fits(text, 80)
    assert "What is Python?" in terminal.ran["main.py"][1] and "Turn 2: model calls" in terminal.ran["main.py"][1]


def test_an_answers_code_lines_are_printed_whole_and_its_prose_wrapped() -> None:
    """At 40 columns the prose of an answer wraps at spaces, each line of its fenced code stays one line (to copy
    and run), and a control character in it is shown escaped, never sent to the terminal."""
    from caching.lab.terminal import show_answer

    code = '    return "".join(reversed(text))  # the characters of text, last first'
    text = f"Here is one way to reverse a string in Python.\n```python\ndef reverse(text):\n{code}\n```\nDone.\x1b[2J"
    printed = [line.rstrip() for line in render_with(lambda c: show_answer(c, text) or 0, width=40).splitlines()]
    assert printed[:2] == ["assistant> Here is one way to reverse a", "string in Python."]
    assert printed[2:6] == ["```python", "def reverse(text):", code, "```"]
    assert printed[6:] == ["Done.\\x1b[2J"]
