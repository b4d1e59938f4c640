"""The cache doctor: why a call read, wrote or skipped the cache, and what to change.

It works only from what any client can see, live or offline: each request as sent, the usage that came back, and
when the call was made (see recorder.py). It keeps, per model, the prefixes earlier calls must have cached and when
each was last used, and per agent the previous request, to find what changed. Token counts of a prefix are the
offline estimate, scaled so the whole prompt matches the usage Bedrock reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .emulator.cache import LOOKBACK_BLOCKS, prefix_digests
from .emulator.catalog import DEFAULT_MODEL_ID, Catalog
from .emulator.prompt import TTL_SECONDS, Prompt, RequestRejected, check_layout, linearize
from .emulator.records import BELOW_MINIMUM, BEYOND_LOOKBACK, EXPIRED, NEW_PREFIX, CallRecord
from .recorder import ObservedCall
from .usage import Usage

HIT = "hit"
REJECTED = "rejected"
NO_CACHE_POINT = "no cachePoint"
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?|\b\d{1,2}:\d{2}(?::\d{2})?\b|\b\d{10,13}\b")
REQUEST_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Diagnosis:
    """The kind of outcome (the emulator's vocabulary: hit, below minimum, expired, beyond the lookback, new prefix,
    rejected, no cachePoint) and one line naming the cause, the place and the fix."""

    kind: str
    message: str


@dataclass
class _Entry:
    ttl: str
    last_used: float


def duration(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}m{whole % 60:02d}s"


def place(where: str) -> str:
    """Human words for a block's place: "system[0]" -> "system block 0"."""
    match = re.fullmatch(r"(tools|system)\[(\d+)\]", where)
    if match:
        return f"{'tool' if match[1] == 'tools' else 'system block'} {match[2]}"
    match = re.fullmatch(r"messages\[(\d+)\]\.content\[(\d+)\]", where)
    return f"message {match[1]} block {match[2]}" if match else where


def kind_of(record: CallRecord) -> str:
    """The kind of outcome the emulator recorded for a call: the truth the doctor's inference is checked against."""
    if record.usage["cacheReadInputTokens"]:
        return HIT
    if not record.checkpoints:
        return NO_CACHE_POINT
    if not record.usage["cacheWriteInputTokens"]:
        return BELOW_MINIMUM
    misses = {point.miss for point in record.checkpoints}
    return next((kind for kind in (EXPIRED, BEYOND_LOOKBACK) if kind in misses), NEW_PREFIX)


class Doctor:
    """Explains calls one at a time, in the order they were made (`observe`), from requests and usage alone."""

    def __init__(self, catalog: Catalog | None = None, lookback: int = LOOKBACK_BLOCKS) -> None:
        self.catalog = catalog or Catalog()
        self.lookback = lookback
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._previous: dict[str, tuple[Prompt, dict[str, Any]]] = {}

    def check(self, request: dict[str, Any], model_id: str) -> Diagnosis | None:
        """What Bedrock would reject in this request, before it is sent; None when the layout is fine."""
        try:
            check_layout(request, self.catalog.find(model_id))
        except RequestRejected as exc:
            return Diagnosis(REJECTED, exc.advice)
        return None

    def observe(self, call: ObservedCall) -> Diagnosis:
        """Diagnose one call, then remember what it cached."""
        rejected = self.check(call.request, call.model_id)
        if rejected is not None:
            return rejected
        if call.error is not None:
            return Diagnosis(REJECTED, f"Bedrock rejected the request: {call.error}")
        model = self.catalog.find(call.model_id) or self.catalog.find(DEFAULT_MODEL_ID)
        assert model is not None
        try:
            prompt = linearize(call.request, model)
        except RequestRejected as exc:
            return Diagnosis(REJECTED, exc.advice)
        usage = Usage.from_bedrock(call.usage or {})
        scale = usage.prompt_tokens / prompt.total_tokens if usage.prompt_tokens and prompt.total_tokens else 1.0
        digests = prefix_digests(prompt)
        key = call.model_id

        def tokens(position: int) -> int:
            return round(prompt.tokens_before(position) * scale)

        def entry(position: int) -> _Entry | None:
            return self._entries.get((key, digests[position]))

        def live(position: int) -> bool:
            found = entry(position)
            return found is not None and found.last_used + TTL_SECONDS[found.ttl] > call.at

        read, write = usage.cacheReadInputTokens, usage.cacheWriteInputTokens
        positions = range(1, len(prompt.blocks) + 1)
        read_at = min(positions, key=lambda p: (abs(tokens(p) - read), not live(p))) if read else 0

        if not prompt.checkpoints:
            diagnosis = Diagnosis(NO_CACHE_POINT, "no cachePoint in the request: add one after the stable prefix")
        elif read:
            message = f"read {read:,} cached tokens" + (f", wrote {write:,} more" if write else "")
            later = [p for p in prompt.checkpoints if p.position > read_at]
            missed = self._missed_entry(call, later, entry, live, after=read_at) if later else None
            diagnosis = Diagnosis(HIT, message + (f"; but {missed.message}" if missed else ""))
        elif not write:
            have, need = tokens(prompt.checkpoints[-1].position), model.min_tokens
            if have < need:
                message = (
                    f"prefix below minimum: {have:,} < {need:,} tokens for {model.short}; add about {need - have:,}"
                )
            else:  # the prefix looks big enough, yet nothing was cached: the real minimum must be higher
                message = (
                    f"prefix below minimum: nothing was cached although the prefix is about {have:,} tokens, so "
                    f"Bedrock's minimum for {model.short} is above the {need:,} assumed here; add more"
                )
            diagnosis = Diagnosis(BELOW_MINIMUM, f"{message} tokens or move the checkpoint later")
        else:
            diagnosis = self._miss(call, prompt, entry, live, write)

        slack = 0 if scale == 1.0 else 2  # live counts are scaled estimates: allow a token or two of rounding
        self._remember(call, prompt, digests, read_at, read + write, tokens, live, model.min_tokens, slack)
        return diagnosis

    def _miss(self, call: ObservedCall, prompt: Prompt, entry: Any, live: Any, write: int) -> Diagnosis:
        """Nothing was read but something was written: an expired entry, one beyond the lookback, or a new prefix."""
        missed = self._missed_entry(call, list(prompt.checkpoints), entry, live)
        return missed or Diagnosis(NEW_PREFIX, self._what_changed(call, prompt, write))

    def _missed_entry(
        self, call: ObservedCall, points: list[Any], entry: Any, live: Any, after: int = 0
    ) -> Diagnosis | None:
        """A cached prefix longer than `after` blocks that these checkpoints could not read: expired within their
        lookback, or live beyond it."""
        for point in points:
            for position in range(point.position, max(after, point.position - self.lookback - 1), -1):
                found = entry(position) if position else None
                if found is not None and not live(position):
                    idle = call.at - found.last_used
                    advice = "consider ttl 1h" if found.ttl == "5m" else "call again within the hour"
                    return Diagnosis(
                        EXPIRED, f"{duration(idle)} since the last hit: the {found.ttl} entry expired; {advice}"
                    )
        for point in reversed(points):
            cached = next((p for p in range(point.position - self.lookback - 1, after, -1) if live(p)), None)
            if cached is not None:
                return Diagnosis(
                    BEYOND_LOOKBACK,
                    f"the previous cached prefix is {point.position - cached} blocks before this checkpoint, beyond "
                    f"the {self.lookback}-block lookback; add a checkpoint",
                )
        return None

    def _what_changed(self, call: ObservedCall, prompt: Prompt, write: int) -> str:
        previous = self._previous.get(call.agent)
        if previous is None:
            return f"first request like this: {write:,} tokens written for the next one to read"
        before, before_request = previous
        index = next(
            (i for i, (a, b) in enumerate(zip(before.blocks, prompt.blocks, strict=False)) if a.data != b.data), None
        )
        if index is None:
            return f"the conversation moved on: {write:,} tokens written for the next call to read"
        where = prompt.blocks[index].where
        if where.startswith("tools"):
            return "tool definitions changed: every cached level was invalidated"
        old, new = _text_at(before_request, where), _text_at(call.request, where)
        at = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), min(len(old), len(new)))
        for pattern, looks_like in ((TIMESTAMP, "a timestamp"), (REQUEST_ID, "a request id")):
            for match in pattern.finditer(new):
                if match.start() <= at < match.end():
                    return (
                        f"prefix changed in {place(where)} at character {at}: {match.group()!r} looks like "
                        f"{looks_like}; move it after the checkpoint"
                    )
        return f"prefix changed in {place(where)} at character {at}: keep what changes after the last cachePoint"

    def _remember(
        self,
        call: ObservedCall,
        prompt: Prompt,
        digests: list[str],
        read_at: int,
        cached: int,
        tokens: Any,
        live: Any,
        minimum: int,
        slack: int,
    ) -> None:
        """Refresh what was read and add what was written, as Bedrock's rules say the call did."""
        for position in {read_at, *(p.position for p in prompt.checkpoints if p.position <= read_at)} - {0}:
            if live(position):
                self._entries[(call.model_id, digests[position])].last_used = call.at
        for point in prompt.checkpoints:
            # Written: past the read, within the tokens the usage says were cached, and at least the minimum.
            written = point.position > read_at and tokens(point.position) <= cached + slack
            if written and tokens(point.position) >= minimum:
                self._entries[(call.model_id, digests[point.position])] = _Entry(point.ttl, call.at)
        self._previous[call.agent] = (prompt, call.request)


def _text_at(request: dict[str, Any], where: str) -> str:
    """The text of the block at `where` ("system[0]", "messages[2].content[1]"), or its JSON."""
    match = re.fullmatch(r"(tools|system)\[(\d+)\]|messages\[(\d+)\]\.content\[(\d+)\]", where)
    if match is None:
        return ""
    if match[1] == "system":
        block = request.get("system", [])[int(match[2])]
    elif match[1] == "tools":
        block = request.get("toolConfig", {}).get("tools", [])[int(match[2])]
    else:
        block = request["messages"][int(match[3])]["content"][int(match[4])]
    return str(block.get("text", block))
