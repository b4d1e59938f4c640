"""One miss, one sentence: the emulator's record of a call (offline) and the doctor's inference from a recording
(live) come from the same rules engine and the same wording, so they read the same for every cause."""

from __future__ import annotations

from typing import Any

import pytest

from caching import Emulator, ManualClock, Settings, UsageTracker, build_team, connect
from caching.emulator import running_server
from caching.rules import Kind
from caching.strands.tracking import DoctorReasons, EmulatorReasons

from ..helpers import CP, SONNET, cp, text_of, user
from .test_doctor import GUIDE, Lab

TOOLS = {"tools": [{"toolSpec": {"name": "lookup", "description": "Find an order.", "inputSchema": {"json": {}}}}]}
OTHER_TOOLS = {"tools": [{"toolSpec": {"name": "lookup", "description": "Find orders.", "inputSchema": {"json": {}}}}]}


def wide(count: int) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text_of(10, "head")}, *({"text": f"r {i}"} for i in range(count)), CP]}


# Each cause: the calls that lead to it (pause in seconds before a call, request), the last one being diagnosed.
CAUSES: dict[Kind, list[tuple[float, dict[str, Any]]]] = {
    Kind.NEW_PREFIX: [(0, {"system": [{"text": "Now: 2026-11-29 10:41. " + GUIDE}, CP], "messages": [user("Hi")]}),
                      (5, {"system": [{"text": "Now: 2026-11-29 10:42. " + GUIDE}, CP], "messages": [user("Hi")]})],
    Kind.HIT: [(0, {"system": [{"text": GUIDE}, CP], "messages": [user("Hi")]}),
               (5, {"system": [{"text": GUIDE}, CP], "messages": [user("Hi", cp())]})],
    Kind.BELOW_MINIMUM: [(0, {"system": [{"text": text_of(1_500)}, CP], "messages": [user("Hi")]})],
    Kind.EXPIRED: [(0, {"system": [{"text": GUIDE}, CP], "messages": [user("Hi")]}),
                   (400, {"system": [{"text": GUIDE}, CP], "messages": [user("Hi")]})],
    Kind.BEYOND_LOOKBACK: [(0, {"system": [{"text": GUIDE}], "messages": [user(text_of(10, "head"), cp())]}),
                           (5, {"system": [{"text": GUIDE}], "messages": [wide(25)]})],
    Kind.NO_CACHE_POINT: [(0, {"system": [{"text": GUIDE}], "messages": [user("Hi")]})],
}  # fmt: skip


@pytest.mark.parametrize("kind", list(CAUSES))
def test_each_cause_reads_the_same_offline_and_live(kind: Kind) -> None:
    lab = Lab()
    for pause, request in CAUSES[kind]:
        lab.clock.advance(pause)
        lab.client.converse(modelId=SONNET, **request)
        offline = lab.emulator.records[-1].diagnosis
        live = lab.doctor.observe(lab.recorder.calls[-1])
        assert offline == live
    assert live.kind == kind


def test_tool_change_and_a_later_miss_behind_a_hit_read_the_same() -> None:
    lab = Lab()
    steps = [
        (0, {"toolConfig": TOOLS, "system": [{"text": GUIDE}, CP], "messages": [user("Hi")]}),
        (5, {"toolConfig": OTHER_TOOLS, "system": [{"text": GUIDE}, cp("1h")], "messages": [user("Hi", cp())]}),
        (400, {"toolConfig": OTHER_TOOLS, "system": [{"text": GUIDE}, cp("1h")], "messages": [user("Hi", cp())]}),
    ]
    said = []
    for pause, request in steps:
        lab.clock.advance(pause)
        lab.client.converse(modelId=SONNET, **request)
        offline, live = lab.emulator.records[-1].diagnosis, lab.doctor.observe(lab.recorder.calls[-1])
        assert offline == live
        said.append(live.message)
    assert said[1] == "tool definitions changed: every cached level was invalidated"
    assert said[2].startswith("read ") and "; but 6m" in said[2] and "the 5m entry expired" in said[2]


def test_the_chat_why_column_is_the_same_offline_and_over_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    questions = ["What is Python?", "Write hello world in Python"]
    offline_tracker = UsageTracker(explain=EmulatorReasons(emulator := Emulator(clock=ManualClock())))
    build_team(connect(Settings(), emulator=emulator).model, offline_tracker).ask_all(questions)

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIALOOPBACKTEST0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "loopback-secret")
    with running_server(Emulator(clock=ManualClock())) as server:
        backend = connect(Settings(backend="live", endpoint_url=server.url))
        live_tracker = UsageTracker(explain=DoctorReasons(backend.recorder))
        build_team(backend.model, live_tracker).ask_all(questions)
    reasons = [call.reason for call in offline_tracker.calls]
    assert reasons == [call.reason for call in live_tracker.calls]
    assert len(reasons) == 6 and all(reasons)
