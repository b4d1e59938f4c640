"""Caching checks for your own test suite: assert that an agent still reads its cached prefix, offline and free.

With the package installed, pytest has a `bedrock_emulator` fixture (see pytest_plugin.py). Point your agent at
it, run a conversation, then assert on what the emulator recorded (or, live, on what a CallRecorder saw):

    def test_turn_two_reads_the_prompt(bedrock_emulator):
        agent = make_agent(boto_session=bedrock_emulator.session())
        agent("Hi"); agent("And then?")
        assert_reads(bedrock_emulator, at_least=2_000)

A failing check names the call to look at first (the first that cached nothing, else the first that failed), then
lists every call with the cache doctor's diagnosis, so the test output says what to fix.
"""

from __future__ import annotations

import textwrap
from typing import Any, NamedTuple

from ..call import Call
from ..emulator import CallRecord, Emulator
from ..rules import CallOutcome, Diagnosis
from .doctor import Doctor

__all__ = ["assert_hit_rate", "assert_reads", "assert_writes_at_most", "records_of"]

WIDTH = 72  # pytest prints a failure's message after "E       ": 8 + 72 = 80 columns


class Checked(NamedTuple):
    """One call as the checks report it: its number, the call, what it went through, and its diagnosis."""

    number: int
    call: Call
    label: str
    diagnosis: Diagnosis


def records_of(source: Any) -> list[Checked]:
    """The calls to check, each with its diagnosis: from the `bedrock_emulator` fixture or an Emulator (the
    emulator's own diagnosis), or from any calls in the order they were made, like a CallRecorder's or a recording
    read with `read_recording` (the cache doctor's diagnosis, the same words)."""
    __tracebackhide__ = True
    if hasattr(source, "emulator"):
        source = source.emulator
    if isinstance(source, Emulator):
        source = source.records
    elif hasattr(source, "calls"):  # a CallRecorder
        source = source.calls
    calls = list(source)
    if not all(isinstance(call, Call) for call in calls):
        raise TypeError(
            f"Expected the bedrock_emulator fixture, an Emulator, a CallRecorder or calls, got {type(source).__name__}."
        )
    doctor, checked = Doctor(), []
    for number, call in enumerate(calls, 1):
        if isinstance(call, CallRecord) and call.diagnosis is not None:
            checked.append(Checked(call.number, call, call.operation, call.diagnosis))
        else:
            label = call.api.operation
            checked.append(Checked(number, call, label, doctor.observe(call)))
    return checked


def _said(record: Checked) -> str:
    return f"{record.diagnosis.kind.upper()}: {record.diagnosis.message}"


def _line(record: Checked, failed: bool) -> str:
    usage = record.call.usage
    return (
        f"{'*' if failed else ' '} call {record.number} ({record.label}, {record.call.model_id}): "
        f"read {usage.cacheReadInputTokens:,}, wrote {usage.cacheWriteInputTokens:,}, "
        f"{usage.inputTokens:,} uncached: {_said(record)}"
    )


def _cause(records: list[Checked], first: Checked) -> str:
    """The call to look at first: a call up to the first failure that cached nothing at all (below the minimum, no
    cachePoint: the later calls had nothing to read), else the first failure itself."""
    upto = records[: records.index(first) + 1]
    cause = next((r for r in upto if r.call.outcome == CallOutcome.NONE), first)
    what = "cached nothing" if cause.call.outcome == CallOutcome.NONE else "missed"
    return f"Cause: call {cause.number} {what}: {_said(cause)}"


def _explain(records: list[Checked], failed: list[Checked], why: str, first: Checked | None = None) -> str:
    """The finding, its cause (traced back from `first`, the first failed call by default), and every call with its
    diagnosis (the failed ones marked *), each wrapped to fit 80 columns after pytest's "E       " prefix."""
    lines = [f"{why} (marked *).", _cause(records, first or failed[0]), *(_line(r, r in failed) for r in records)]
    wrapped = [textwrap.wrap(line, WIDTH, subsequent_indent="    ", break_on_hyphens=False) for line in lines]
    wrapped[0] = textwrap.wrap(lines[0], WIDTH - len("AssertionError: "), subsequent_indent="    ")  # pytest's prefix
    return "\n".join(part for parts in wrapped for part in parts)


def assert_reads(source: Any, at_least: int = 1, skip: int = 1) -> None:
    """Every call after the first `skip` reads at least `at_least` tokens from the cache."""
    __tracebackhide__ = True  # pytest shows the caller's line and this message, not this function's source
    records = records_of(source)
    if len(records) <= skip:
        raise AssertionError(
            f"Only {len(records)} model call(s) were recorded: nothing after the first {skip} to check."
        )
    missed = [r for r in records[skip:] if r.call.usage.cacheReadInputTokens < at_least]
    if missed:
        short = "read nothing from the cache" if at_least == 1 else f"read fewer than {at_least:,} cached tokens"
        after = "after the first" if skip == 1 else f"after the first {skip}"
        why = f"{len(missed)} of {len(records) - skip} calls {after} {short}"
        raise AssertionError(_explain(records, missed, why))


def assert_hit_rate(source: Any, at_least: float) -> None:
    """The share of calls that read from the cache is at least `at_least` (0 to 1)."""
    __tracebackhide__ = True
    records = records_of(source)
    if not records:
        raise AssertionError("No model call was recorded: nothing to check.")
    missed = [r for r in records if r.call.usage.cacheReadInputTokens == 0]
    hits = len(records) - len(missed)
    rate = hits / len(records)
    if rate < at_least:
        why = f"Hit rate {rate:.0%} ({hits} of {len(records)} calls) is below {at_least:.0%}"
        later = [r for r in missed if r is not records[0]]  # a first call can only write: look past it
        raise AssertionError(_explain(records, missed, why, later[0] if later else None))


def assert_writes_at_most(source: Any, tokens: int) -> None:
    """No call writes more than `tokens` tokens to the cache (a rewrite of the whole history shows up here)."""
    __tracebackhide__ = True
    records = records_of(source)
    heavy = [r for r in records if r.call.usage.cacheWriteInputTokens > tokens]
    if heavy:
        raise AssertionError(_explain(records, heavy, f"{len(heavy)} call(s) wrote more than {tokens:,} tokens"))
