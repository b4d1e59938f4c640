"""Caching checks for your own test suite: assert that an agent still reads its cached prefix, offline and free.

With the package installed, pytest has a `bedrock_emulator` fixture (see pytest_plugin.py). Point your agent at
it, run a conversation, then assert on what the emulator recorded:

    def test_turn_two_reads_the_prompt(bedrock_emulator):
        agent = make_agent(boto_session=bedrock_emulator.session())
        agent("Hi"); agent("And then?")
        assert_reads(bedrock_emulator, at_least=2_000)

A failing check lists every call that missed, with the cache doctor's diagnosis, so the test output says what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..emulator import CallRecord, Emulator

__all__ = ["assert_hit_rate", "assert_reads", "assert_writes_at_most", "records_of"]


def records_of(source: Any) -> list[CallRecord]:
    """The calls to check: from the `bedrock_emulator` fixture, an Emulator, or a list of records."""
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


def _explain(records: Iterable[CallRecord], why: str) -> str:
    lines = [why]
    for record in records:
        usage = record.usage
        said = record.diagnosis.message if record.diagnosis else "no diagnosis"
        kind = record.diagnosis.kind.upper() if record.diagnosis else "?"
        lines.append(
            f"  call {record.number} ({record.operation}, {record.model_id}): read {usage['cacheReadInputTokens']:,}, "
            f"wrote {usage['cacheWriteInputTokens']:,}, {usage['inputTokens']:,} uncached: {kind}: {said}"
        )
    return "\n".join(lines)


def assert_reads(source: Any, at_least: int = 1, skip: int = 1) -> None:
    """Every call after the first `skip` reads at least `at_least` tokens from the cache."""
    records = records_of(source)
    if len(records) <= skip:
        raise AssertionError(
            f"Only {len(records)} model call(s) were recorded: nothing after the first {skip} to check."
        )
    missed = [r for r in records[skip:] if r.usage["cacheReadInputTokens"] < at_least]
    if missed:
        raise AssertionError(
            _explain(
                missed, f"{len(missed)} of {len(records) - skip} calls read fewer than {at_least:,} cached tokens:"
            )
        )


def assert_hit_rate(source: Any, at_least: float) -> None:
    """The share of calls that read from the cache is at least `at_least` (0 to 1)."""
    records = records_of(source)
    if not records:
        raise AssertionError("No model call was recorded: nothing to check.")
    hits = [r for r in records if r.usage["cacheReadInputTokens"] > 0]
    rate = len(hits) / len(records)
    if rate < at_least:
        missed = [r for r in records if r.usage["cacheReadInputTokens"] == 0]
        raise AssertionError(
            _explain(
                missed,
                f"Hit rate {rate:.0%} ({len(hits)} of {len(records)} calls) is below {at_least:.0%}; the misses:",
            )
        )


def assert_writes_at_most(source: Any, tokens: int) -> None:
    """No call writes more than `tokens` tokens to the cache (a rewrite of the whole history shows up here)."""
    heavy = [r for r in records_of(source) if r.usage["cacheWriteInputTokens"] > tokens]
    if heavy:
        raise AssertionError(_explain(heavy, f"{len(heavy)} call(s) wrote more than {tokens:,} tokens:"))
