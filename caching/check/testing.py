"""Caching checks for your own test suite: assert that an agent still reads its cached prefix, offline and free.

With the package installed, pytest has a `bedrock_emulator` fixture (see pytest_plugin.py). Point your agent at
it, run a conversation, then assert on what the emulator recorded:

    def test_turn_two_reads_the_prompt(bedrock_emulator):
        agent = make_agent(boto_session=bedrock_emulator.session())
        agent("Hi"); agent("And then?")
        assert_reads(bedrock_emulator, at_least=2_000)

A failing check names the call to look at first (the first that cached nothing, else the first that failed), then
lists every call with the cache doctor's diagnosis, so the test output says what to fix.
"""

from __future__ import annotations

import textwrap
from typing import Any

from ..emulator import CallRecord, Emulator
from ..rules import CallOutcome

__all__ = ["assert_hit_rate", "assert_reads", "assert_writes_at_most", "records_of"]

WIDTH = 72  # pytest prints a failure's message after "E       ": 8 + 72 = 80 columns


def records_of(source: Any) -> list[CallRecord]:
    """The calls to check: from the `bedrock_emulator` fixture, an Emulator, or a list of records."""
    __tracebackhide__ = True
    if hasattr(source, "emulator"):
        source = source.emulator
    if isinstance(source, Emulator):
        return list(source.records)
    records = list(source)
    if not all(isinstance(record, CallRecord) for record in records):
        raise TypeError(
            f"Expected the bedrock_emulator fixture, an Emulator or CallRecords, got {type(source).__name__}."
        )
    return records


def _said(record: CallRecord) -> str:
    diagnosis = record.diagnosis
    return f"{diagnosis.kind.upper()}: {diagnosis.message}" if diagnosis else "?: no diagnosis"


def _line(record: CallRecord, failed: bool) -> str:
    usage = record.usage
    return (
        f"{'*' if failed else ' '} call {record.number} ({record.operation}, {record.model_id}): "
        f"read {usage.cacheReadInputTokens:,}, wrote {usage.cacheWriteInputTokens:,}, "
        f"{usage.inputTokens:,} uncached: {_said(record)}"
    )


def _cause(records: list[CallRecord], first: CallRecord) -> str:
    """The call to look at first: a call up to the first failure that cached nothing at all (below the minimum, no
    cachePoint: the later calls had nothing to read), else the first failure itself."""
    upto = records[: records.index(first) + 1]
    cause = next((r for r in upto if r.outcome == CallOutcome.NONE), first)
    what = "cached nothing" if cause.outcome == CallOutcome.NONE else "missed"
    return f"Cause: call {cause.number} {what}: {_said(cause)}"


def _explain(records: list[CallRecord], failed: list[CallRecord], why: str, first: CallRecord | None = None) -> str:
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
    missed = [r for r in records[skip:] if r.usage.cacheReadInputTokens < at_least]
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
    missed = [r for r in records if r.usage.cacheReadInputTokens == 0]
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
    heavy = [r for r in records if r.usage.cacheWriteInputTokens > tokens]
    if heavy:
        raise AssertionError(_explain(records, heavy, f"{len(heavy)} call(s) wrote more than {tokens:,} tokens"))
