"""Every example runs offline with no AWS credentials, and prints the numbers its lesson is about."""

from __future__ import annotations

import itertools
import re

import pytest

from caching import Emulator, ManualClock, Settings, UsageTracker, build_team, connect, prompt
from caching.rules import CallOutcome, Kind, block_tokens, text_tokens
from caching.settings import parser

from ..helpers import (
    EXAMPLES,
    ROOT,
    TOOL_PROMPT,
    as_scripts_in_a_terminal,
    assistant,
    call_rows,
    example,
    example_calls,
    example_output,
    fits,
    message_tokens,
    number,
    render_with,
    turn_rows,
    user,
)

pytestmark = pytest.mark.xdist_group("printed")  # the examples run once, in the process that prints them


def output(name: str) -> str:
    return example_output(name)


def test_every_example_is_a_short_lesson_with_its_run_command() -> None:
    paths = sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))
    assert [p.name[:2] for p in paths] == ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10"]
    for path in paths:
        text = path.read_text()
        assert len(text.splitlines()) <= 80, path.name
        assert f"Run:  .venv/bin/python examples/{path.name}" in "\n".join(text.splitlines()[:5]), path.name


def test_the_doctor_a_lesson_or_its_help_points_to_is_the_one_in_the_venv() -> None:
    """`make run` installs the package into .venv only: a bare `python -m caching doctor` fails for a newcomer with
    "No module named caching", so every pointer to the doctor names the venv's command."""
    sources = [*sorted(EXAMPLES.glob("[0-9][0-9]_*.py")), EXAMPLES.parent / "main.py"]
    helps = [(path.name, path.read_text()) for path in sources]
    helps.append(("--help", parser("", ttl=True, approach=True).format_help()))
    pointers = [(name, m.group(1)) for name, text in helps for m in re.finditer(r"(\S*)caching doctor", text)]
    assert ("08_cache_doctor.py", ".venv/bin/") in pointers and ("--help", "`.venv/bin/") in pointers
    assert all(before.endswith(".venv/bin/") for _, before in pointers), pointers


def test_01_hash_basics() -> None:
    text = output("01")
    hashes = re.findall(r"'You are a great developer\.?'[\s│]+(\w{16})\b", text)
    assert hashes[0] == hashes[1] != hashes[2]
    keys = re.findall(r"time in (system prompt|user message)[\s│]+at 10:4\d[\s│]+(\w{16})\b", text)
    assert [layout for layout, _ in keys] == ["system prompt", "user message"] * 2
    assert keys[0][1] != keys[2][1]  # a timestamp before the checkpoint: a new key every minute
    assert keys[1][1] == keys[3][1]  # the same timestamp after it: the key does not change


def test_02_write_then_read() -> None:
    system = text_tokens(prompt("research_assistant"))
    calls = example_calls("02")
    assert [(c.usage.cacheReadInputTokens, c.usage.cacheWriteInputTokens) for c in calls] == [(0, system), (system, 0)]
    assert [r[7].split(":")[0] for r in call_rows(output("02"))] == ["WRITE", "READ"]  # the table shows the same


def test_03_two_prompts_and_two_accounts() -> None:
    a, b = (text_tokens(prompt(name)) for name in ("research_assistant", "code_assistant"))
    calls = example_calls("03")
    assert [(c.agent, c.usage.cacheReadInputTokens, c.usage.cacheWriteInputTokens) for c in calls] == [
        ("prompt A", 0, a),
        ("prompt B", 0, b),
        ("prompt A", a, 0),
        ("prompt B", b, 0),
        ("prompt A", a, 0),
        ("prompt A, account 2", 0, a),  # the same prompt, another account: written again
    ]
    assert call_rows(output("03"))[-1][7].startswith("WRITE: other account")  # and the table says why


def test_04_multi_turn_per_turn_not_running_totals() -> None:
    text = output("04")
    explicit_text, combined_text = text.split("combined: four turns")
    explicit, combined = turn_rows(explicit_text), turn_rows(combined_text)
    assert len(explicit) == len(combined) == 4
    system = explicit[0][3]
    assert [row[2] for row in explicit] == [0, system, system, system]  # reads the system prompt every turn...
    assert explicit[1][4] < explicit[2][4] < explicit[3][4]  # ...and pays full price for the growing history
    assert [row[4] for row in combined] == [0, 0, 0, 0]  # combined: nothing left uncached
    for before, after in itertools.pairwise(combined):
        assert after[2] == before[2] + before[3]  # each turn reads what the turns before it wrote


def test_05_agent_loop_counts_the_sub_agent() -> None:
    text = output("05")
    rows = call_rows(text)
    assert [r[1] for r in rows] == ["orchestrator", "research_assistant", "orchestrator"]
    assert rows[2][2] == rows[0][3]  # the orchestrator's second call reads what its first wrote
    assert "The orchestrator's own metrics cover 2 of 3 calls; counting only them would miss $" in text.replace(
        "\n", " "
    )


def test_06_compare_approaches() -> None:
    text = output("06")
    costs = dict(re.findall(r"^ (none|explicit|automatic|combined) +((?:\$\S+ +){5})(?:saves|same|costs)", text, re.M))
    assert len(costs) == 4 and costs["automatic"] == costs["combined"]
    turn_1 = {name: number(row.split()[0].lstrip("$").replace(".", "")) for name, row in costs.items()}
    assert all(turn_1[name] < turn_1["none"] for name in ("explicit", "automatic", "combined"))
    assert "savings against no caching (already on turn 1" in example("06").__doc__  # as the lesson says
    assert re.search(r"^ none +none *$", text, re.M)
    tools = re.search(
        r"Combined differs from automatic only by tools\[2\] with ([\d,]+) tokens before it", " ".join(text.split())
    )
    team = Emulator(clock=ManualClock())
    build_team(connect(Settings(), emulator=team).model, UsageTracker()).ask("What is Python?")
    specs = team.records[0].request["toolConfig"]["tools"]
    assert tools is not None and number(tools[1]) == TOOL_PROMPT + sum(
        block_tokens(t) for t in specs if "toolSpec" in t
    )
    assert re.search(r"none\s+█{40} \$\d\.\d{6}  same cost", text)


def test_07_ttl() -> None:
    text = output("07")
    calls = example_calls("07")
    assert [(c.agent, c.outcome) for c in calls] == [
        ("ttl 5m", CallOutcome.WRITE),
        ("ttl 1h", CallOutcome.WRITE),
        ("ttl 5m", CallOutcome.WRITE),
        ("ttl 1h", CallOutcome.READ),
    ]
    assert calls[2].at - calls[0].at == 360  # six minutes later: past 5m, within 1h
    assert "WRITE: 6m00s since the last hit: the 5m entry expired; consider ttl 1h" in " ".join(text.split())


def test_08_cache_doctor() -> None:
    diagnosed = example("08").diagnose(connect(Settings()))
    calls: dict[str, list[tuple[Kind, int, int, str]]] = {}
    for call, said in diagnosed:
        usage = call.usage
        calls.setdefault(call.agent, []).append(
            (said.kind, usage.cacheReadInputTokens, usage.cacheWriteInputTokens, said.message)
        )
    write_then_read = [Kind.NEW_PREFIX, Kind.HIT]
    assert {case: [kind for kind, *_ in made] for case, made in calls.items()} == {
        "timestamp": [Kind.NEW_PREFIX, Kind.NEW_PREFIX],
        "timestamp fixed": write_then_read,
        "too short": [Kind.BELOW_MINIMUM] * 2,
        "too short fixed": write_then_read,
        "fan-out": write_then_read,  # it reads, but only the system prompt
        "fan-out fixed": write_then_read,
    }
    for case in ("timestamp fixed", "too short fixed", "fan-out fixed", "timestamp", "fan-out"):
        assert calls[case][0][1:3] == (0, calls[case][0][2]) and calls[case][0][2] > 0, case  # call 1 writes
        assert calls[case][0][3].startswith("first request like this"), case
    for case in ("timestamp fixed", "too short fixed", "fan-out fixed"):  # call 2 reads all that call 1 wrote
        assert calls[case][1][1] == calls[case][0][2], case
    assert [made[1:3] for made in calls["too short"]] == [(0, 0), (0, 0)]
    assert calls["timestamp"][1][1] == 0
    assert "'2026-11-29 10:42' looks like a timestamp; move it after the checkpoint" in calls["timestamp"][1][3]
    assert "below minimum" in calls["too short"][0][3]
    assert "beyond the 21-block lookback; add a checkpoint" in calls["fan-out"][1][3]
    # The fix reads the pasted history and the question too: thousands of tokens more than the system prompt alone.
    history = [user("My order history:", prompt("research_assistant")), assistant("Read.")]
    more = sum(map(message_tokens, [*history, user("Where are orders 0 to 11?")]))
    orchestrator = prompt("orchestrator")  # each case's system prompt starts with its name, to keep them apart
    more += text_tokens(f"[fan-out fixed]\n{orchestrator}") - text_tokens(f"[fan-out]\n{orchestrator}")
    assert calls["fan-out fixed"][1][1] - calls["fan-out"][1][1] == more > 2_000


def test_examples_run_as_scripts_offline() -> None:
    """Each example's __main__ block exits 0 with COLUMNS=80 as an ordinary terminal sets it: each fits, with no cell
    cut short."""
    terminal = as_scripts_in_a_terminal()
    assert (terminal.returncode, terminal.stderr) == (0, "")
    paths = sorted(str(path.relative_to(ROOT)) for path in EXAMPLES.glob("[0-9][0-9]_*.py"))
    assert [(path, terminal.ran[path][0]) for path in paths] == [(path, "0") for path in paths]
    for path in paths:
        text = terminal.ran[path][1]
        assert text.startswith(("Offline:", "No model calls here", "No calls to Bedrock here")), text[:200]
        fits(text, 80)


def test_an_unknown_model_is_one_clear_error() -> None:
    text = render_with(lambda console: example("02").main(["--model", "acme.x"], console), expect=2)
    assert all(len(line) <= 100 for line in text.splitlines())  # wrapped to the console, words whole
    assert " ".join(text.split()) + "\n" == (
        "Error: The offline emulator does not know model 'acme.x': use one of anthropic.claude-sonnet-4-6, "
        "anthropic.claude-sonnet-4-5-20250929-v1:0, anthropic.claude-opus-4-6-v1, "
        "anthropic.claude-opus-4-5-20251101-v1:0, anthropic.claude-haiku-4-5-20251001-v1:0, "
        "anthropic.claude-3-7-sonnet-20250219-v1:0, anthropic.claude-3-5-haiku-20241022-v1:0, with an optional "
        "inference-profile prefix where the model has one (global., us., eu., apac., jp., au.).\n"
    )


def test_09_invoke_model() -> None:
    text = " ".join(output("09").split())
    rows = re.search(r"blocks, 1st (\S+) (\S+) 0 blocks, 2nd \1 0 \2 plain string (\S+) 0 0", text)
    assert rows is not None  # writes, then reads the same tokens; the plain string caches nothing
    assert number(rows[3]) == number(rows[1]) + number(rows[2])  # the whole prompt is plain input
    assert "the system prompt is a plain string, which cannot carry cache_control" in text
    assert "same content as an earlier request, but it went through another API" in text


def test_10_makes_no_bedrock_calls_so_live_needs_no_credentials_and_says_so() -> None:
    """Its logs come from its own emulator: with --live and no credentials it used to stop at "No AWS credentials
    found", and with them it printed a banner saying its calls were billed; now --live changes nothing."""
    lesson = example("10")
    offline = render_with(lambda console: lesson.main([], console), width=80)
    live = render_with(lambda console: lesson.main(["--live"], console), width=80)  # the suite has no credentials
    assert live == offline
    assert " ".join(offline.split("8 calls audited")[0].split()) == (
        "No calls to Bedrock here, offline or live: this lesson's own emulator writes the logs it audits."
    )


def test_10_audit_logs() -> None:
    text = " ".join(output("10").split())
    # Four calls with the time in the system prompt, the fix, two reads, then a pause past the 5m TTL.
    assert "8 calls audited; 2 read the cache (hit rate 25%, calls that read the cache / all calls)." in text
    assert re.search(
        r"new prefix 5 prefix changed in system block 0 at character 29: <16 characters> looks like a timestamp", text
    )
    assert "expired 1 7m00s since the last hit: the 5m entry expired; consider ttl 1h" in text
    paid = re.search(r"Spend (\$[\d.]+);", text)
    assert paid is not None and f"as sent {paid[1]} same cost" in text  # replaying what was sent costs what was paid
