"""A planner workload from the logs (issue 24, item 2): `caching audit LOGS --workload FILE` measures the traffic's
shape, and `caching plan FILE` prices it within 5% of what the audit measured, for the setup the logs used."""

from __future__ import annotations

import json
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from caching.emulator import Emulator, ManualClock
from caching.pricing import cost_of
from caching.rules.usage import Usage

from ..helpers import CP, SONNET, number, render_with, text_of
from ..planner.test_planner import REPLY, RESULT, SYSTEM, USER, scripted
from .test_audit import cli

PAUSES = (20.0, 90.0, 200.0, 420.0)  # between a user's turns, in a random order each: one in four past the 5m TTL
TOOLS = [{"toolSpec": {"name": "lookup", "description": "Look something up.", "inputSchema": {"json": {}}}}]


def combined(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The messages with one cache point at the end of the last (user) message, as Strands' auto caching sends."""
    last = messages[-1]
    return [*messages[:-1], {**last, "content": [*last["content"], CP]}]


def logged_traffic(folder: Path, users: int = 60, turns: int = 5) -> None:
    """`users` conversations of one application (one account), cached as Strands' combined setup caches them (the
    system prompt, and the last user message), two calls a turn (one tool step), logged as Bedrock logs them."""
    clock = ManualClock()
    emulator = Emulator(clock=clock, replies=scripted(2), invocation_log=str(folder))
    order = random.Random(7)
    events: list[tuple[float, int]] = [(order.uniform(0, 600), u) for u in range(users)]  # arrivals over 10 minutes
    histories: dict[int, list[dict[str, Any]]] = {u: [] for u in range(users)}
    pauses = {u: order.sample(PAUSES, len(PAUSES)) for u in range(users)}
    system = [{"text": text_of(SYSTEM)}, CP]
    while events:
        events.sort()
        at, u = events.pop(0)
        clock.advance(at - clock())
        history = histories[u]
        history.append({"role": "user", "content": [{"text": text_of(USER, f"u{u}q{len(history)}")}]})
        for _ in range(2):  # a tool step, then the answer
            reply = emulator.converse(
                SONNET, {"system": system, "toolConfig": {"tools": TOOLS}, "messages": combined(history)}, "AKIAAPP"
            )
            message = reply["output"]["message"]
            history.append(message)
            if reply["stopReason"] == "tool_use":
                use = message["content"][0]["toolUse"]
                result = {"toolUseId": use["toolUseId"], "content": [{"text": text_of(RESULT - 4)}]}
                history.append({"role": "user", "content": [{"toolResult": result}]})
        turn = sum(1 for m in history if m["role"] == "user" and "text" in m["content"][0])
        if turn < turns:
            events.append((clock() + pauses[u][turn - 1], u))


def test_a_plan_of_the_measured_workload_costs_what_the_audit_measured(tmp_path: Path) -> None:
    logs, workload = tmp_path / "logs", tmp_path / "measured.toml"
    logged_traffic(logs)
    # One audit: its report, whose token counts priced at the model's prices are what it measured, and the workload.
    said = " ".join(render_with(lambda c: cli(["audit", str(logs), "--workload", str(workload)], c), width=300).split())
    counted = re.search(r"Tokens: ([\d,]+) regular, ([\d,]+) read, ([\d,]+) written, ([\d,]+) output\.", said)
    assert counted is not None, said
    regular, read, written, output = (number(count) for count in counted.groups())
    usage = Usage(inputTokens=regular, outputTokens=output, cacheReadInputTokens=read, cacheWriteInputTokens=written)
    measured = cost_of(usage, SONNET, "5m").total  # every write is 5m here
    assert f" Spend ${measured:.2f}; " in said  # the audit's own sum, to the cent
    assert f"Wrote a workload of 60 conversations to {workload}: plan it with `caching plan {workload}`." in said
    fields = workload.read_text()
    for line in ("users = 60", "turns_per_session = 5", "calls_per_turn = 2", f"system_tokens = {SYSTEM}"):
        assert f"\n{line}\n" in fields
    for line in (f"user_message_tokens = {USER}", f"tool_result_tokens = {RESULT}", f"reply_tokens = {REPLY}"):
        assert f"\n{line}\n" in fields
    assert "pause_between_turns = { sample = [20, " in fields  # the measured pauses, not their mean
    plan = json.loads(
        render_with(
            lambda c: cli(["plan", str(workload), "--approach", "combined", "--ttl", "5m", "--json"], c), width=300
        )
    )
    planned = Decimal(plan["results"][0]["total_cost"])
    assert abs(planned - measured) / measured < Decimal("0.05"), (planned, measured)
    # The mean pause (182.5 s) is under the TTL, so a plan from it never sees the quarter of the pauses that are past
    # it: the distribution, not its mean, is what prices the traffic.
    mean = sum(PAUSES) / len(PAUSES)
    flat = json.loads(
        render_with(
            lambda c: cli(
                [
                    *("plan", str(workload), "--approach", "combined", "--ttl", "5m", "--json"),
                    *("--pause-between-turns", f"{mean}s"),
                ],
                c,
            ),
            width=300,
        )
    )
    assert abs(Decimal(flat["results"][0]["total_cost"]) - measured) / measured > Decimal("0.05")


def test_the_loop_page_s_workload_and_miss_rate_are_what_the_audit_of_its_logs_says(tmp_path: Path) -> None:
    """docs/loop.md plans examples/workloads/from-logs.toml with the miss rate the audit of examples/logs suggests:
    both must still be what the audit says."""
    root = Path(__file__).parents[2]
    regenerated = tmp_path / "from-logs.toml"
    said = render_with(lambda c: cli(["audit", "examples/logs", "--workload", str(regenerated)], c), width=300)
    committed = (root / "examples" / "workloads" / "from-logs.toml").read_text()
    assert regenerated.read_text() == committed
    suggested = " ".join(said.split()).split("--range --miss-rate ")[1].split(".\n")[0].rstrip(".").split()[0]
    assert f"--range --miss-rate {suggested.rstrip('.')} |" in (root / "docs" / "loop.md").read_text()
