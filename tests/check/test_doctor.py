"""The cache doctor: each cause produced on the emulator, and the inference (requests and usage only) agrees."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from caching.check.doctor import Doctor
from caching.emulator import Emulator, ManualClock
from caching.rules import Kind
from caching.strands.recorder import CallRecorder

from ..helpers import CP, SONNET, cp, kind_of, text_of, user

GUIDE = text_of(2_100)


class Lab:
    """A raw boto3 client on the emulator, with a recorder attached and a doctor reading the recording."""

    def __init__(self) -> None:
        self.clock = ManualClock(1_000.0)
        self.emulator = Emulator(clock=self.clock)
        self.client = self.emulator.session().client("bedrock-runtime")
        self.recorder = CallRecorder(clock=self.clock).attach(self.client, "app")
        self.doctor = Doctor()

    def send(self, **request: Any) -> tuple[str, str, str]:
        """(inferred kind, inferred message, the emulator's kind) for one call."""
        before = len(self.emulator.records)
        try:
            self.client.converse(modelId=SONNET, **request)
            truth = kind_of(self.emulator.records[-1])
        except ClientError:
            truth = Kind.REJECTED
            assert len(self.emulator.records) == before
        diagnosis = self.doctor.observe(self.recorder.calls[-1])
        return diagnosis.kind, diagnosis.message, truth


def test_first_write_then_hit() -> None:
    lab = Lab()
    assert lab.send(system=[{"text": GUIDE}, CP], messages=[user("Hi")]) == (
        Kind.NEW_PREFIX,
        "first request like this: 2,100 tokens written for the next one to read",
        Kind.NEW_PREFIX,
    )
    assert lab.send(system=[{"text": GUIDE}, CP], messages=[user("Hello")]) == (
        Kind.HIT,
        "read 2,100 cached tokens",
        Kind.HIT,
    )


def test_prefix_below_minimum() -> None:
    lab = Lab()
    assert lab.send(system=[{"text": text_of(1_980)}, CP], messages=[user("Hi")]) == (
        Kind.BELOW_MINIMUM,
        "prefix below minimum: ~1,980 < 2,048 tokens for claude-sonnet-4-6; add about 68 tokens or move the "
        "checkpoint later",
        Kind.BELOW_MINIMUM,
    )


def test_timestamp_in_the_system_prompt() -> None:
    lab = Lab()
    lab.send(system=[{"text": "Now: 2026-11-29 10:41. " + GUIDE}, CP], messages=[user("Hi")])
    assert lab.send(system=[{"text": "Now: 2026-11-29 10:42. " + GUIDE}, CP], messages=[user("Hi")]) == (
        Kind.NEW_PREFIX,
        "prefix changed in system block 0 at character 20: '2026-11-29 10:42' looks like a timestamp; move it after "
        "the checkpoint",
        Kind.NEW_PREFIX,
    )


def test_wide_tool_fan_out_beyond_the_lookback() -> None:
    lab = Lab()
    head = user(text_of(10, "head"), cp())
    lab.send(system=[{"text": GUIDE}], messages=[head])
    wide = {"role": "user", "content": [head["content"][0], *({"text": f"result {i}"} for i in range(25)), CP]}
    assert lab.send(system=[{"text": GUIDE}], messages=[wide]) == (
        Kind.BEYOND_LOOKBACK,
        "the previous cached prefix is 25 blocks before this checkpoint, beyond the 21-block lookback; add a checkpoint",
        Kind.BEYOND_LOOKBACK,
    )


def test_ttl_expired_during_a_pause() -> None:
    lab = Lab()
    lab.send(system=[{"text": GUIDE}, CP], messages=[user("Hi")])
    lab.clock.advance(372)
    assert lab.send(system=[{"text": GUIDE}, CP], messages=[user("Hi")]) == (
        Kind.EXPIRED,
        "6m12s since the last hit: the 5m entry expired; consider ttl 1h",
        Kind.EXPIRED,
    )


def test_tool_definitions_changed() -> None:
    lab = Lab()

    def tools(description: str) -> dict[str, Any]:
        schema = {"json": {"type": "object"}}
        return {"tools": [{"toolSpec": {"name": "lookup", "description": description, "inputSchema": schema}}]}

    lab.send(toolConfig=tools("Find an order."), system=[{"text": GUIDE}, CP], messages=[user("Hi")])
    assert lab.send(toolConfig=tools("Find an order by id."), system=[{"text": GUIDE}, CP], messages=[user("Hi")]) == (
        Kind.NEW_PREFIX,
        "tool definitions changed: every cached level was invalidated",
        Kind.NEW_PREFIX,
    )


@pytest.mark.parametrize(
    ("system", "message"),
    [
        (
            [{"text": "a"}, CP, {"text": "b"}, CP, {"text": "c"}, CP, {"text": "d"}, CP, {"text": "e"}, CP],
            "5 checkpoints: Bedrock allows 4; remove 1",
        ),
        (
            [{"text": "a"}, cp("5m"), {"text": "b"}, cp("1h")],
            "TTL 5m before 1h is rejected: system[3] comes after system[1]; put the 1h checkpoints first",
        ),
    ],
)
def test_rejected_layouts_are_named_before_sending(system: list[dict[str, Any]], message: str) -> None:
    lab = Lab()
    assert lab.doctor.check({"system": system, "messages": [user("Hi")]}, SONNET) is not None
    assert lab.send(system=system, messages=[user("Hi")]) == (Kind.REJECTED, message, Kind.REJECTED)
    assert lab.recorder.calls[-1].error is not None


def run_doctor(path: str) -> str:
    from caching.__main__ import main as cli

    from ..helpers import render_with

    return render_with(lambda console: cli(["doctor", path], console))


def test_recording_from_main_and_the_doctor_command(tmp_path: Any) -> None:
    import io

    from ..helpers import render_with
    from ..lab.test_main import chat

    path = tmp_path / "calls.jsonl"
    lines = "What is Python?\nquit\n"
    render_with(lambda console: chat.main(["--record", str(path)], console, io.StringIO(lines)))
    recorded = path.read_text().splitlines()
    assert len(recorded) == 3
    assert all(
        "AKIA" not in line and "Credential" not in line and "offline-emulator-secret" not in line for line in recorded
    )
    text = run_doctor(str(path))
    assert [line.split()[:2] for line in text.splitlines() if line.strip()[:1].isdigit()][1:4] == [
        ["1", "orchestrator"],
        ["2", "research_assistant"],
        ["3", "orchestrator"],
    ]
    first, _, third = (json.loads(line)["usage"] for line in recorded)
    assert third["cacheReadInputTokens"] == first["cacheWriteInputTokens"]  # the orchestrator reads what it wrote
    read, wrote = third["cacheReadInputTokens"], third["cacheWriteInputTokens"]
    assert f"HIT: read {read:,} cached tokens, wrote {wrote:,} more" in " ".join(text.split())


def test_damaged_recording_names_the_line_and_reads_the_rest(tmp_path: Any) -> None:
    lab = Lab()
    lab.send(system=[{"text": GUIDE}, CP], messages=[user("Hi")])
    lab.send(system=[{"text": GUIDE}, CP], messages=[user("Hi")])
    good = [call.to_json() for call in lab.recorder.calls]
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join([good[0], good[1][:40], '{"agent": 3}', "[1]", good[1]]) + "\n")
    text = run_doctor(str(path))
    said = " ".join(text.split())  # each line wrapped to the terminal
    assert said.startswith(
        f"{path}: line 2: not valid JSON near column 39 (Unterminated string starting at); skipped it. "
        f"{path}: line 3: missing or wrong agent, at, model_id, request (a call needs agent, at, model_id, request, "
        f"usage or error); skipped it. {path}: line 4: expected a JSON object, got list; skipped it."
    )
    assert "2 calls in" in text and "HIT: read 2,100 cached tokens" in text


def test_a_missing_recording_could_not_run(tmp_path: Any) -> None:
    from caching.__main__ import main as cli

    from ..helpers import render_with

    missing = tmp_path / "none.jsonl"
    text = render_with(lambda console: cli(["doctor", str(missing)], console), expect=2)
    assert " ".join(text.split()) == (
        f"Error: Cannot read '{missing}' (No such file or directory): record one with --record FILE.jsonl."
    )


def test_live_counts_that_differ_from_the_estimate() -> None:
    from caching import Call, Usage

    request = {"system": [{"text": GUIDE}, CP], "messages": [user("Hi")]}
    doctor = Doctor()
    # Live, token counts come from Bedrock: the offline estimate of each prefix is scaled to the reported total.
    short = doctor.observe(Call("app", 0.0, SONNET, request, Usage(inputTokens=1_900)))
    assert (short.kind, short.message) == (
        Kind.BELOW_MINIMUM,
        "prefix below minimum: ~1,896 < 2,048 tokens for claude-sonnet-4-6; add about 152 tokens or move the "
        "checkpoint later",
    )
    odd = doctor.observe(Call("app", 0.0, SONNET, request, Usage(inputTokens=2_500)))
    assert (odd.kind, odd.message) == (
        Kind.BELOW_MINIMUM,
        "prefix below minimum: nothing was cached although the prefix is about 2,495 tokens, so Bedrock's minimum "
        "for claude-sonnet-4-6 is above the 2,048 assumed here; add more tokens or move the checkpoint later",
    )
    first = doctor.observe(Call("app", 1.0, SONNET, request, Usage(inputTokens=5, cacheWriteInputTokens=2_300)))
    again = doctor.observe(Call("app", 2.0, SONNET, request, Usage(inputTokens=5, cacheReadInputTokens=2_300)))
    assert (first.kind, again.kind, again.message) == (Kind.NEW_PREFIX, Kind.HIT, "read 2,300 cached tokens")


def test_a_file_that_is_no_recording_is_one_line_not_a_line_per_line(tmp_path: Any) -> None:
    from caching.__main__ import main as cli

    from ..helpers import render_with

    notes = tmp_path / "README.md"
    notes.write_text("# A page\n\n" + "".join(f"Some prose, line {n}.\n" for n in range(1_000)))
    text = render_with(lambda console: cli(["doctor", str(notes)], console), width=300, expect=2)
    assert text == (
        f"Error: {str(notes)!r} is not a recording: its first 10 lines with text are not JSON. Record one with "
        "--record FILE.jsonl.\n"
    )


def test_past_twenty_skipped_lines_the_rest_are_counted(tmp_path: Any) -> None:
    lab = Lab()
    lab.send(system=[{"text": GUIDE}, CP], messages=[user("Hi")])
    path = tmp_path / "calls.jsonl"
    path.write_text(lab.recorder.calls[0].to_json() + "\n" + "{damaged\n" * 25)
    lines = " ".join(run_doctor(str(path)).split())  # each line wrapped to the terminal
    assert lines.startswith(
        " ".join(
            f"{path}: line {n}: not valid JSON near column 2 (Expecting property name enclosed in double quotes); skipped it."
            for n in range(2, 22)
        )
    )
    assert "... and 5 more skipped lines (--json lists them)." in lines
