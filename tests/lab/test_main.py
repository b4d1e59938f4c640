"""main.py: a scripted chat transcript, the live path over loopback, and one clear line for each failure."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from caching import Emulator, ManualClock, Settings, UsageTracker, build_team, connect
from caching.emulator import Catalog, running_server
from caching.lab import saving, usd

from ..helpers import SONNET, call_rows, render_with

ROOT = Path(__file__).parents[2]
GOLDEN = Path(__file__).parents[1] / "golden" / "main_transcript.txt"
LINES = "What is Python?\nWrite hello world in Python\nquit\n"

sys.path.insert(0, str(ROOT))
import main as chat  # noqa: E402


def transcript(argv: list[str], lines: str = LINES, expect: int = 0) -> str:
    return render_with(lambda console: chat.main(argv, console, io.StringIO(lines)), expect=expect)


def test_three_lines_whole_transcript_and_totals() -> None:
    text = transcript([])
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()

    # The totals it prints are those of the same two turns run directly on the library.
    emu = Emulator(clock=ManualClock())
    tracker = UsageTracker()
    team = build_team(connect(Settings(), emulator=emu).model, tracker)
    team.ask_all(["What is Python?", "Write hello world in Python"])
    cost = tracker.lifetime_cost
    saved = usd(cost.uncached_input - cost.input)
    totals = (
        f"Session: 2 turns, 6 calls, cost {usd(cost.total)}; input {saving(cost.input_savings, 'no caching', saved)}"
    )
    assert text.count(totals) == 1  # after the last turn; the summary on quit does not print it again
    for turn in tracker.turns:
        assert f"cost {usd(turn.cost.total)} (uncached {usd(turn.cost.uncached_input + turn.cost.output)})" in text
    assert len(call_rows(text)) == 6
    assert text.endswith("Bye.\n")


def test_piped_without_a_terminal_exits_zero() -> None:
    env = {"PATH": "/usr/bin:/bin", "CACHING_ENV_FILE": os.devnull, "HOME": "/nonexistent", "COLUMNS": "100"}
    result = subprocess.run(
        [sys.executable, "main.py"],
        input=LINES,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == GOLDEN.read_text()


@pytest.mark.parametrize("lines", ["", "   \n\nexit\n", "What is Python?\n"])
def test_end_of_input_or_exit_ends_cleanly(lines: str) -> None:
    text = transcript([], lines)
    assert text.endswith("Bye.\n")
    assert ("Session summary" in text) == ("Python" in lines)


def test_bad_flags_get_one_error_wrapped_to_the_width() -> None:
    """A bad setting could not run: exit 2, one "Error:" sentence, wrapped at the console's 100 columns."""
    assert transcript(["--ttl", "2h"], expect=2) == (
        "Error: The cache TTL must be 5m or 1h, got '2h': pass --ttl 5m or --ttl 1h.\n"
    )
    assert transcript(["--approach", "auto"], expect=2) == (
        "Error: Unknown caching approach 'auto': pass --approach with one of none, explicit, automatic,\n"
        "combined, rolling, shape.\n"
    )


def live_env(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("CACHING_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIALOOPBACKTEST0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "loopback-secret")


def test_live_path_over_loopback_matches_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    served = Emulator(clock=ManualClock())
    with running_server(served) as server:
        live_env(monkeypatch, server.url)
        text = transcript(["--live"])
    flat = " ".join(text.split())
    assert flat.startswith(f"Live: calls go to {server.url} as {SONNET}. ")  # a local endpoint: no claim of billing
    offline = GOLDEN.read_text()
    live_rows, offline_rows = call_rows(text), call_rows(offline)
    # Same tokens and costs; live adds the measured time to first token before the cache column.
    assert [r[:7] for r in live_rows] == [r[:7] for r in offline_rows]
    assert all(r[7].endswith(" ms") for r in live_rows)
    assert {r.account for r in served.records} == {"AKIALOOPBACKTEST0001"}
    assert "1st token" in text
    # Live, the why column is the cache doctor's inference from the recorded requests and usage.
    first, third = live_rows[0], live_rows[2]
    assert f"WRITE: first request like this: {first[3]} tokens written for the next one to read" in flat
    assert third[2] == first[3]  # the orchestrator's second call reads what its first wrote
    assert f"READ+WRITE: read {third[2]} cached tokens, wrote {third[3]} more" in flat


def test_live_throttling_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    served = Emulator(clock=ManualClock())
    served.throttle(1)
    with running_server(served) as server:
        live_env(monkeypatch, server.url)
        text = transcript(["--live"], "What is Python?\nquit\n")
    assert served.throttled == 0
    assert [r[2:7] for r in call_rows(text)] == [r[2:7] for r in call_rows(GOLDEN.read_text())[:3]]


def test_live_model_not_offered_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    without_sonnet = Catalog(tuple(m for m in Catalog().models if m.short != "claude-sonnet-4-6"))
    with running_server(Emulator(catalog=without_sonnet)) as server:
        live_env(monkeypatch, server.url)
        text = transcript(["--live"], "What is Python?\nquit\n")
    assert (
        f"Error: Model id '{SONNET}' is not offered in us-east-1: check --model and --region (try the global. profile)."
        in " ".join(text.split())
    )
    assert text.endswith("Bye.\n")


def test_live_without_credentials_is_one_line() -> None:
    text = transcript(["--live"], expect=2)
    assert " ".join(text.split()) == (
        "Error: No AWS credentials found: run `aws configure` (or set AWS_PROFILE), or use the offline emulator: "
        "drop --live (with make: `make run` instead of `make live`)."
    )
    assert len(text.splitlines()) == 2  # wrapped to the terminal, no more


@pytest.mark.parametrize("width", [60, 66, 72, 79, 80, 81, 88, 100])
def test_a_command_in_a_message_is_never_split_across_lines(width: int) -> None:
    """At 80 columns the line broke inside `make live`; a command in backticks is kept whole to be copied."""
    text = render_with(lambda console: chat.main(["--live"], console, io.StringIO("")), width=width, expect=2)
    lines = text.splitlines()
    for command in ("`aws configure`", "`make run`", "`make live`"):
        assert sum(command in line for line in lines) == 1, (width, command, lines)
    assert all(len(line) <= width for line in lines)


def test_the_banner_says_where_calls_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline, the emulator; live, real Bedrock (billed) or the endpoint named in CACHING_ENDPOINT_URL (not
    claimed to be billed: it may be an emulator or a proxy)."""
    from caching import Settings, connect

    assert connect(Settings()).banner.startswith("Offline: calls go to the local Bedrock emulator")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIALOOPBACKTEST0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "loopback-secret")
    bedrock = connect(Settings(backend="live", region="eu-west-1")).banner
    assert bedrock == f"Live: calls go to Bedrock in eu-west-1 as {SONNET}; they are billed to your AWS account."
    local = connect(Settings(backend="live", endpoint_url="http://127.0.0.1:9")).banner
    assert local == f"Live: calls go to http://127.0.0.1:9 as {SONNET}."


def test_the_help_prints_each_command_whole_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands in main.py's help are copied into a shell: none is folded into the prose around it."""
    from caching.lab.cli import parser

    monkeypatch.setenv("COLUMNS", "80")
    lines = parser(chat.__doc__ or "", approach=True, ttl=True).format_help().splitlines()
    assert "  make run" in lines
    assert "  .venv/bin/python main.py --live [--model ID] [--region R]" in lines
    assert "  printf 'What is Python?\\nquit\\n' | .venv/bin/python main.py" in lines
    assert max(map(len, lines)) <= 80
