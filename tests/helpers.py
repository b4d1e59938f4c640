"""Small builders shared by the tests: prompts of an exact token size, and raw Converse calls."""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from caching.call import Call
from caching.check.recording import read_recording
from caching.emulator import CallRecord
from caching.rules import Kind, block_tokens

SONNET = "global.anthropic.claude-sonnet-4-6"
CP: dict[str, Any] = {"cachePoint": {"type": "default"}}
FRAMING = 3  # tokens for each message's role framing, as the emulator counts them
TOOL_PROMPT = 346  # Anthropic's tool-use system prompt for Claude 4 models with auto tool choice (its pricing page)


ROOT = Path(__file__).parent.parent


def property_examples(in_make_test: int) -> int:
    """How many examples a Hypothesis property tries: few enough in `make test` to keep the suite near 30 s on two
    workers; PROPERTY_EXAMPLES=N (the same N for every property) runs a longer search."""
    return int(os.environ.get("PROPERTY_EXAMPLES", in_make_test))


EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(ROOT / "scripts"))
import update_readme  # noqa: E402


def example(name: str) -> ModuleType:
    """The example numbered `name` ("01" to "10"), loaded as a module."""
    path = next(EXAMPLES.glob(f"{name}_*.py"))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RECORDINGS = Path(tempfile.mkdtemp(prefix="caching-test-recordings-"))
atexit.register(shutil.rmtree, RECORDINGS, ignore_errors=True)


SHARED = "printed"  # the xdist group of every test that reads a run made once per process (printed, as scripts)
GROUPS_KEPT = [False]  # set by tests/conftest.py when each test's id carries its group to xdist (--dist loadgroup)


def _in_the_shared_group() -> None:
    """Under `--dist loadgroup` a run made once per process is made once per run only if every test that reads it is
    in group SHARED: a test outside it fails here, instead of silently making the run again in the other worker."""
    current = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    assert not GROUPS_KEPT[0] or current.endswith(f"@{SHARED}"), (
        f"{current} reads a run shared by the tests of xdist group {SHARED!r}: mark it "
        f"@pytest.mark.xdist_group({SHARED!r}), or the other worker makes the run again."
    )


@functools.cache
def _run(command: str) -> tuple[str, tuple[Call, ...]]:
    """What `command` prints at 80 columns, and the calls it made (recorded with --record, which prints nothing
    more), from one run."""
    if command.startswith("-m ") or "01_hash_basics" in command:  # the CLI has no --record; example 01 makes no
        return update_readme.program_output(command), ()  # call, and says so when asked to record
    recording = RECORDINGS / f"{len(list(RECORDINGS.iterdir()))}.jsonl"
    printed = update_readme.program_output(f"{command} --record {recording}")
    calls, problems = read_recording(recording) if recording.exists() else ([], [])
    assert problems == [], problems
    return printed, tuple(calls)


def printed(command: str) -> str:
    """What `command` (`examples/NN_x.py`, `main.py` or `-m caching ...`, with arguments) prints offline at 80
    columns, the README's width. Each program runs once per test process: the example tests, the 80-column checks
    and the README check read the same run (they share an xdist group, so one process serves them all)."""
    _in_the_shared_group()
    return _run(command)[0]


def example_calls(name: str) -> tuple[Call, ...]:
    """The model calls example `name` made in that same run, as its recording holds them: the data its tables show."""
    _in_the_shared_group()
    return _run(_example_path(name))[1]


def _example_path(name: str) -> str:
    return str(next(EXAMPLES.glob(f"{name}_*.py")).relative_to(ROOT))


def example_output(name: str) -> str:
    """What example `name` prints with no flags, at 80 columns (see `printed`)."""
    return printed(_example_path(name))


# Runs programs as a terminal runs them (`python examples/NN_x.py`, `python main.py`, `python -m caching ...`: each its
# __main__ block and exit code), all in one interpreter so the suite pays for one start-up; a line of NUL marks where
# each one ends. The chat runs first: it alone reads stdin.
SCRIPTS = """
import runpy, sys
for command in sys.argv[1:]:
    words = command.split()
    sys.argv = words[1:] if words[0] == "-m" else words  # run_module puts the module's path first
    try:
        if words[0] == "-m":
            runpy.run_module(words[1], run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(words[0], run_name="__main__")
        code = 0
    except SystemExit as stop:
        code = stop.code
    sys.stdout.flush()
    print(f"\\0{command} exited {code}", flush=True)
"""
TERMINAL_CHAT = ("main.py", b"\xff\xfe x\nWhat is Python?\nquit\n")  # bytes that are not UTF-8, then a question
TERMINAL_PLAN = "-m caching plan coding-session"


@dataclass(frozen=True)
class Terminal:
    """What one interpreter printed running programs as scripts in a terminal: per command, its exit code and
    output; and the interpreter's own exit code and stderr."""

    ran: dict[str, tuple[str, str]]
    returncode: int
    stderr: str


def as_scripts_in_a_terminal() -> Terminal:
    """The chat (fed TERMINAL_CHAT's bytes), TERMINAL_PLAN and every example, run as scripts from the repository
    with COLUMNS=80 and LC_ALL=C.UTF-8 as an ordinary terminal sets them, no credentials and an empty HOME. Once per
    test process: the tests that read it share xdist group SHARED."""
    _in_the_shared_group()
    return _as_scripts()


@functools.cache
def _as_scripts() -> Terminal:
    home = tempfile.mkdtemp(prefix="caching-test-home-")
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    env = {"PATH": "/usr/bin:/bin", "CACHING_ENV_FILE": os.devnull, "HOME": home, "COLUMNS": "80", "LC_ALL": "C.UTF-8"}
    examples = sorted(str(path.relative_to(ROOT)) for path in EXAMPLES.glob("[0-9][0-9]_*.py"))
    commands = [TERMINAL_CHAT[0], TERMINAL_PLAN, *examples]
    result = subprocess.run(
        [sys.executable, "-c", SCRIPTS, *commands], input=TERMINAL_CHAT[1], capture_output=True, cwd=ROOT, env=env,
        timeout=120, check=False,
    )  # fmt: skip
    parts = re.split(r"\0(.+) exited (\S+)\n", result.stdout.decode())
    assert parts[-1] == "", parts[-1][-500:]
    ran = {command: (code, text) for text, command, code in zip(parts[0::3], parts[1::3], parts[2::3], strict=False)}
    assert list(ran) == commands, list(ran)
    return Terminal(ran, result.returncode, result.stderr.decode())


def fits(text: str, width: int) -> None:
    """No line of `text` is wider than `width`, and no cell was cut short (rich marks a cut with an ellipsis)."""
    for number, line in enumerate(text.splitlines(), start=1):
        assert len(line) <= width, (number, line)
        assert "\u2026" not in line, (number, line)


def as_in_a_terminal() -> None:
    """For a child process (`preexec_fn`): Ctrl-C interrupts it, as in a terminal. A test run started in the
    background of a shell (`make test &`) ignores SIGINT, and a child would inherit that and never stop."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def text_of(tokens: int, word: str = "rule") -> str:
    """Prose the estimator counts as exactly `tokens` tokens (1.11 x characters / 4, rounded up)."""
    unit = (word + " " * 4)[:4]
    characters = tokens * 400 // 111
    return (unit * (characters // 4 + 1))[:characters]


def cp(ttl: str | None = None) -> dict[str, Any]:
    return {"cachePoint": {"type": "default", **({"ttl": ttl} if ttl else {})}}


def user(*blocks: Any) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": b} if isinstance(b, str) else b for b in blocks]}


def assistant(*blocks: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"text": b} if isinstance(b, str) else b for b in blocks]}


def message_tokens(message: dict[str, Any]) -> int:
    """A message's tokens by the emulator's documented rule: its blocks plus the role framing."""
    return FRAMING + sum(block_tokens(b) for b in message["content"] if "cachePoint" not in b)


def usage_of(response: dict[str, Any]) -> tuple[int, int, int]:
    """(read, write, input) from a Converse response."""
    u = response["usage"]
    return u["cacheReadInputTokens"], u["cacheWriteInputTokens"], u["inputTokens"]


def render_with(run: Any, width: int = 100, expect: int = 0) -> str:
    """Call `run(console)` with a plain 100-column console, check its exit code, and return what it printed."""
    import io

    from rich.console import Console

    console = Console(file=io.StringIO(), width=width, color_system=None)
    assert run(console) == expect, console.file.getvalue()  # type: ignore[attr-defined]
    return str(console.file.getvalue())  # type: ignore[attr-defined]


def call_rows(text: str) -> list[list[str]]:
    """Rows of every per-call table in `text`: [call, agent, read, write, regular, output, cost, (1st token,) cache:
    why (its first line)]. Reads both layouts: the why in a column of its own, or on the line under the row."""
    import re

    rows: list[list[str]] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        cells = re.split(r"\s{2,}", line.strip())
        if not (cells and re.fullmatch(r"\d+\.\d+", cells[0])):
            continue
        cells = [cell.removeprefix("~") for cell in cells]  # offline counts carry the estimate marker
        if len(cells) == 7 and index + 1 < len(lines):  # narrow: the why is the next line
            note = lines[index + 1].strip()
            timing = re.match(r"1st token (\S+ ms|-); ", note)
            if timing:
                cells.append(timing[1])
                note = note[timing.end() :]
            cells.append(note)
        rows.append(cells)
    return rows


def number(cell: str) -> int:
    return int(cell.replace(",", "").removeprefix("~"))


def turn_rows(text: str) -> list[list[int]]:
    """[turn, calls, read, write, regular, output] of every per-turn table row in `text`."""
    import re

    rows = []
    for line in text.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 8 and cells[0].isdigit() and cells[6].startswith("$"):
            rows.append([number(c) for c in cells[:6]])
    return rows


def kind_of(record: CallRecord) -> str:
    """The kind of outcome the emulator recorded for a call, from its usage and checkpoints: the truth the doctor's
    inference is checked against."""
    if record.usage.cacheReadInputTokens:
        return Kind.HIT
    if not record.checkpoints:
        return Kind.NO_CACHE_POINT
    if not record.usage.cacheWriteInputTokens:
        return Kind.BELOW_MINIMUM
    misses = {point.miss for point in record.checkpoints}
    return next((kind for kind in (Kind.EXPIRED, Kind.BEYOND_LOOKBACK) if kind in misses), Kind.NEW_PREFIX)
