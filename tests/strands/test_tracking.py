"""Per-call and per-turn usage of an orchestrator and its sub-agents, over three turns, offline."""

from __future__ import annotations

from caching import Emulator, ManualClock, Settings, UsageTracker, build_team, connect
from caching.strands.tracking import EmulatorReasons

QUESTIONS = ["What is Python?", "Write hello world in Python", "Explain recursion and write a factorial function"]


def test_three_turns_every_call_and_turn_including_sub_agents() -> None:
    emu = Emulator(clock=ManualClock())
    tracker = UsageTracker(explain=EmulatorReasons(emu))
    team = build_team(connect(Settings(), emulator=emu).model, tracker)
    for question in QUESTIONS:
        team.ask(question)

    # Who called the model, in order, per turn: the specialists' own calls are part of the turn.
    assert [[(c.agent, c.number) for c in t.calls] for t in tracker.turns] == [
        [("orchestrator", 1), ("research_assistant", 2), ("orchestrator", 3)],
        [("orchestrator", 1), ("code_assistant", 2), ("orchestrator", 3)],
        [("orchestrator", 1), ("research_assistant", 2), ("code_assistant", 3), ("orchestrator", 4)],
    ]
    assert [t.prompt for t in tracker.turns] == QUESTIONS

    # Every call's usage is exactly what the emulator reported for that request.
    assert [c.usage for c in tracker.calls] == [r.usage for r in emu.records]

    # And it follows the rules for the combined approach: each agent's call reads what its previous call wrote (its
    # whole prompt, up to the cachePoint at the end of the last user message) and writes only what was added since.
    last_prefix: dict[str, int] = {}
    for call, record in zip(tracker.calls, emu.records, strict=True):
        before = last_prefix.get(call.agent, 0)
        assert (call.usage.cacheReadInputTokens, call.usage.cacheWriteInputTokens, call.usage.inputTokens) == (
            before,
            record.total_tokens - before,
            0,
        )
        last_prefix[call.agent] = record.total_tokens

    # A turn is the sum of its calls; the lifetime is the sum of the turns.
    for turn in tracker.turns:
        assert turn.usage == sum((c.usage for c in turn.calls[1:]), turn.calls[0].usage)
    assert tracker.lifetime == tracker.turns[0].usage + tracker.turns[1].usage + tracker.turns[2].usage
    assert tracker.lifetime_cost.total == sum(t.cost.total for t in tracker.turns)

    # Cross-check against each agent's own Strands lifetime total: together they equal ours, and the orchestrator's
    # alone (what the blog printed) misses the specialists' calls.
    strands_total = 0
    for agent in (team.orchestrator, team.research, team.code):
        accumulated = agent.event_loop_metrics.accumulated_usage
        strands_total += accumulated["cacheReadInputTokens"] + accumulated["cacheWriteInputTokens"]
        strands_total += accumulated["inputTokens"]
    assert strands_total == tracker.lifetime.prompt_tokens
    orchestrator_only = team.orchestrator.event_loop_metrics.accumulated_usage
    assert orchestrator_only["cacheWriteInputTokens"] < tracker.lifetime.cacheWriteInputTokens

    # The reason column comes from the emulator's record of each call, in the doctor's words.
    first, _, third = tracker.turns[0].calls
    assert first.reason == (
        f"first request like this: {first.usage.cacheWriteInputTokens:,} tokens written for the next one to read"
    )
    assert third.reason == (
        f"read {first.usage.cacheWriteInputTokens:,} cached tokens, wrote {third.usage.cacheWriteInputTokens:,} more"
    )
