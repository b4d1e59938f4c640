"""Where a logged call's token counts come from: the metadata Bedrock writes beside the bodies first, the logged
response second, a stream's `amazon-bedrock-invocationMetrics` third; and the records whose sources disagree.

The logged response is read in either shape for either stream: an assembled response (Converse; ConverseStream, as
Bedrock logs it; InvokeModel's Messages body) or a list of stream events (ConverseStream's metadata event; the
Messages stream's message_start and message_delta). Usage is under Converse's names or Anthropic's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..rules.messages import converse_usage
from ..rules.usage import COUNTS
from ..words import plural

# Where each count sits outside the body: (side, name) in the record's metadata; the name alone in the invocation
# metrics of a stream's last chunk.
METADATA = {
    "inputTokens": ("input", "inputTokenCount"),
    "outputTokens": ("output", "outputTokenCount"),
    "cacheReadInputTokens": ("input", "cacheReadInputTokenCount"),
    "cacheWriteInputTokens": ("input", "cacheWriteInputTokenCount"),
}
METRICS = "amazon-bedrock-invocationMetrics"
CACHE_COUNTS = {"cacheReadInputTokens": "tokens read", "cacheWriteInputTokens": "tokens written"}
SOURCES = ("the metadata", "the body", "the invocation metrics")  # the order each count is taken in
WRITTEN = "cacheWriteInputTokens"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _present(usage: dict[str, Any]) -> dict[str, Any]:
    """The counts a usage dict states (Converse's names), leaving out those it does not."""
    return {name: usage[name] for name in (*COUNTS, "cacheDetails") if usage.get(name) is not None}


def _usage(found: Any) -> dict[str, Any]:
    """A usage dict under Converse's names, whichever names it was logged under (Converse's or Anthropic's)."""
    if not isinstance(found, dict):
        return {}
    return _present(found if any(name in found for name in COUNTS) else converse_usage(found))


def _body_usage(body: Any) -> dict[str, Any]:
    """The usage in a logged response: an assembled response (Converse, ConverseStream as Bedrock logs it,
    InvokeModel) or a stream's events (ConverseStream's metadata event; Anthropic's message_start and
    message_delta, the later count of output tokens winning)."""
    if isinstance(body, dict):
        return _usage(body.get("usage"))
    if not isinstance(body, list):
        return {}
    anthropic: dict[str, Any] = {}
    for event in body:
        if not isinstance(event, dict):
            continue
        if isinstance(event.get("metadata"), dict) and isinstance(event["metadata"].get("usage"), dict):
            return _usage(event["metadata"]["usage"])
        for found in (_dict(event.get("message")).get("usage"), event.get("usage")):
            if isinstance(found, dict):
                anthropic.update(found)
    return _usage(anthropic) if anthropic else {}


def _metrics(body: Any) -> dict[str, Any]:
    """The counts in `amazon-bedrock-invocationMetrics`, which the last chunk of an InvokeModelWithResponseStream
    carries (looked for from the last event back, and on an assembled response too)."""
    for event in reversed(body) if isinstance(body, list) else [body]:
        metrics = _dict(event).get(METRICS)
        if isinstance(metrics, dict):
            return {name: metrics[key] for name, (_, key) in METADATA.items() if metrics.get(key) is not None}
    return {}


def _metadata(record: dict[str, Any]) -> dict[str, Any]:
    """The counts Bedrock writes beside the bodies (present even when content logging is off, in recent records)."""
    sides = {"input": _dict(record.get("input")), "output": _dict(record.get("output"))}
    return {name: sides[side][key] for name, (side, key) in METADATA.items() if sides[side].get(key) is not None}


@dataclass(frozen=True)
class Counts:
    """A call's usage under Converse's names, each count from the first source that states it; `disagreement`
    says where the sources that state a cache count give different ones ("" when they agree)."""

    usage: dict[str, Any]
    disagreement: str = ""


def counts_of(record: dict[str, Any]) -> Counts:
    """The call's token counts: the metadata first, the logged response second, the invocation metrics third."""
    body = _dict(record.get("output")).get("outputBodyJson")
    sources = (_metadata(record), _body_usage(body), _metrics(body))
    metadata, logged, metrics = sources
    usage = {**metrics, **logged, **metadata}  # each count from the first source that states it
    if "cacheDetails" in usage and logged.get(WRITTEN) != usage.get(WRITTEN):
        del usage["cacheDetails"]  # the TTL split is only in the body, and holds only for the body's own count
    for name, words in CACHE_COUNTS.items():
        stated = [(source, found[name]) for source, found in zip(SOURCES, sources, strict=True) if name in found]
        if any(value != stated[0][1] for _, value in stated[1:]):
            said = ", ".join(f"{source} {_said(value)}" for source, value in stated)
            return Counts(usage, f"{words}: {said}")
    return Counts(usage)


def _said(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else repr(value)


@dataclass
class Disagreeing:
    """Records whose sources of a cache count disagree: how many, and the first (told once, not per record)."""

    records: int = 0
    first: str = ""
    first_at: tuple[int, int] = (0, 0)  # where the first is in the input, when it is audited in parts (Audit.position)

    def add(self, told: str, at: tuple[int, int] = (0, 0)) -> None:
        self.records += 1
        if not self.first:
            self.first, self.first_at = told, at

    def absorb(self, other: Disagreeing) -> None:
        """Add the records of other accounts and models: the first is the earlier in the input, as one audit of
        them all would name it (not the least in words: "a.json:153" given after "z.json:1")."""
        self.records += other.records
        if other.first and (not self.first or other.first_at < self.first_at):
            self.first, self.first_at = other.first, other.first_at

    def told(self) -> list[str]:
        """The one line that names them, if any."""
        if not self.records:
            return []
        return [
            f"{plural(self.records, 'record')} whose cache counts disagree between the metadata, the body and the "
            f"invocation metrics: counted as the first of those says (the first record, {self.first})."
        ]
