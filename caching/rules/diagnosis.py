"""Why a call read, wrote or skipped the cache, in one sentence: the cause, the place and the fix.

The emulator words its own record of each call with `diagnose`, and the cache doctor words what it inferred from a
recording with the same function, so one miss reads the same offline and live.
"""

from __future__ import annotations

import re
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import limits
from .cache import LOOKBACK_BLOCKS, prefix_digests
from .catalog import ModelInfo
from .outcomes import Kind, Miss, duration
from .places import SYSTEM, TOOLS
from .places import own_place as own_place  # its home is places; verdict.py (issue 25's) imports it from here
from .prompt import Prompt
from .severity import Severity

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?|\b\d{1,2}:\d{2}(?::\d{2})?\b|\b\d{10,13}\b")
REQUEST_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
DYNAMIC = ((TIMESTAMP, "a timestamp"), (REQUEST_ID, "a request id"))
REMEMBERED = 16  # earlier requests kept per model and account to find what changed
CALLERS = 256  # model and account pairs remembered; the least recently seen is forgotten first
SMALL_EDIT_CHARS = 64  # an edit this short (or a tenth of the block) leaves a block recognisably "the same block"


@dataclass(frozen=True)
class Diagnosis:
    """The kind of outcome and one line naming the cause, the place and the fix."""

    kind: Kind
    message: str

    @property
    def severity(self) -> Severity:
        """A rejected request, or one whose every checkpoint is below the minimum, can never read: an error. A read
        is worth knowing; every other miss costs a write."""
        if self.kind in (Kind.REJECTED, Kind.BELOW_MINIMUM):
            return Severity.ERROR
        return Severity.INFO if self.kind == Kind.HIT else Severity.WARNING


@dataclass(frozen=True)
class Dynamic:
    """A value in a block's text that changes from call to call: what it is, and where it starts."""

    value: str
    looks_like: str
    start: int

    @property
    def words(self) -> str:
        """The one wording lint, diff and the doctor use for it."""
        return f"{self.value!r} looks like {self.looks_like}; move it after the checkpoint"


def dynamic_text(text: str, start: int = 0, end: int | None = None) -> Dynamic | None:
    """The first timestamp or request id in `text` that overlaps characters start..end (the whole text by default):
    the one detector behind lint's finding and the doctor's "prefix changed" words."""
    end = len(text) if end is None else end
    for pattern, looks_like in DYNAMIC:
        for match in pattern.finditer(text):
            if match.start() <= max(start, end - 1) and match.end() > start:
                return Dynamic(match.group(), looks_like, match.start())
    return None


def below_minimum(have: int, model: ModelInfo) -> str:
    """A prefix too short to be cached, in the words lint, diff and the doctor share (the count is an estimate)."""
    return f"prefix below minimum: ~{have:,} < {model.min_tokens:,} tokens for {model.short}"


def diagnose(
    prompt: Prompt, model: ModelInfo, read: int, write: int, miss: Miss | None, changed: Callable[[], str]
) -> Diagnosis:
    """Word one call: `read` and `write` are the tokens reported, `miss` the engine's explanation of what it could
    not read, `changed` says what changed since the nearest earlier request (asked only for a new prefix)."""
    if not prompt.checkpoints:
        return Diagnosis(Kind.NO_CACHE_POINT, "no cachePoint in the request: add one after the stable prefix")
    if read:
        message = f"read {read:,} cached tokens" + (f", wrote {write:,} more" if write else "")
        return Diagnosis(Kind.HIT, message + (f"; but {miss_words(miss, write)}" if miss else ""))
    if not write:
        have, need = prompt.tokens_before(prompt.checkpoints[-1].position), model.min_tokens
        if have < need:
            message = f"{below_minimum(have, model)}; add about {need - have:,}"
        else:  # the prefix looks big enough, yet nothing was cached: the real minimum must be higher
            message = (
                f"prefix below minimum: nothing was cached although the prefix is about {have:,} tokens, so "
                f"Bedrock's minimum for {model.short} is above the {need:,} assumed here; add more"
            )
        return Diagnosis(Kind.BELOW_MINIMUM, f"{message} tokens or move the checkpoint later")
    if miss is not None:
        return Diagnosis(miss.kind, miss_words(miss, write))
    return Diagnosis(Kind.NEW_PREFIX, changed())


def string_system_note(body: dict[str, Any], diagnosis: Diagnosis) -> Diagnosis:
    """An InvokeModel call that read nothing while its system prompt is a plain string: say that it cannot be cached."""
    if diagnosis.kind == Kind.HIT or not isinstance(body.get("system"), str):
        return diagnosis
    return Diagnosis(
        diagnosis.kind,
        f"{diagnosis.message}; the system prompt is a plain string, which cannot carry cache_control: send it as a "
        "list of text blocks",
    )


def miss_words(miss: Miss, write: int) -> str:
    """An expired entry, one beyond the lookback, or another account's entry, with the fix."""
    if miss.kind == Kind.EXPIRED:
        advice = "consider ttl 1h" if miss.ttl == "5m" else "call again within the hour"
        return f"{duration(miss.idle)} since the last hit: the {miss.ttl} entry expired; {advice}"
    if miss.kind == Kind.UNEXPLAINED:
        return (
            f"no cause in the request: a live entry held this prefix, but the call was sent where it is not (the "
            f"uncertainty setting's miss rate, as cross-region routing can); {write:,} tokens written again"
        )
    if miss.kind == Kind.BEYOND_LOOKBACK:
        return (
            f"the previous cached prefix is {miss.distance} blocks before this checkpoint, beyond the "
            f"{LOOKBACK_BLOCKS}-block lookback; add a checkpoint"
        )
    return (
        f"other account: this prefix is cached for another AWS account, and accounts never share entries; "
        f"{write:,} tokens written for this one"
    )


def _text(request: dict[str, Any], prompt: Prompt, index: int) -> str:
    """The text of block `index` to compare, at most COMPARED_CHARACTERS of it (a block that is no text: its bytes
    as the prompt holds them), so a huge block costs no more to compare than a long one."""
    block = prompt.blocks[index].place.block_in(request)
    if not isinstance(block, dict):
        return ""
    text = block.get("text")
    if isinstance(text, str):
        return text[: limits.COMPARED_CHARACTERS]
    return prompt.blocks[index].data[: limits.COMPARED_CHARACTERS].decode("utf-8", "replace")


def _small_edit(old: str, new: str) -> bool:
    """True when `new` is `old` with one short stretch changed (a timestamp, an id, a word)."""
    start, tail = _common_ends(old, new)
    longer = max(len(old), len(new))
    return longer - start - tail <= max(SMALL_EDIT_CHARS, longer // 10)


Earlier = tuple[Prompt, dict[str, Any]]  # a remembered request: its prompt and the request itself


class History:
    """The last few requests per model and account, to say what changed when a prefix is new: at most `size` per
    caller, CALLERS callers, and HISTORY_BYTES of memory in all, about (`Prompt.held`; the least recently seen callers'
    oldest go first)."""

    def __init__(self, size: int = REMEMBERED, budget: int | None = None) -> None:
        self.size = size
        self.budget = limits.HISTORY_BYTES if budget is None else budget
        self._seen: OrderedDict[tuple[str, str], deque[tuple[Earlier, int]]] = OrderedDict()
        self.bytes = 0

    def remember(
        self, model_id: str, account: str, prompt: Prompt, digests: list[str], request: dict[str, Any]
    ) -> None:
        key = (model_id, account)
        kept = self._seen.setdefault(key, deque())
        size = prompt.held
        kept.append(((prompt, request), size))
        self.bytes += size
        self._seen.move_to_end(key)
        if len(kept) > self.size:
            self.bytes -= kept.popleft()[1]
        if len(self._seen) > CALLERS:
            self.bytes -= sum(size for _, size in self._seen.popitem(last=False)[1])
        while self.bytes > self.budget and self._seen:
            oldest_key, oldest = next(iter(self._seen.items()))
            self.bytes -= oldest.popleft()[1]
            if not oldest:
                del self._seen[oldest_key]

    def state(self) -> tuple[Any, ...]:
        """The requests remembered, per caller in the order they are forgotten, each by the digest of its whole
        prompt (its variant and every block), its token counts and its size: what `what_changed` compares."""
        return tuple(
            (key, tuple((prefix_digests(prompt)[-1], prompt.cumulative, size)
                        for (prompt, _), size in kept))
            for key, kept in self._seen.items()
        )  # fmt: skip

    def earlier(self, model_id: str, account: str) -> tuple[Earlier, ...]:
        """The requests remembered for a caller, oldest first: a copy, to compare with outside a lock."""
        return tuple(each for each, _ in self._seen.get((model_id, account), ()))

    def what_changed(
        self, model_id: str, account: str, prompt: Prompt, digests: list[str], request: dict[str, Any], write: int
    ) -> str:
        """`what_changed` against this caller's remembered requests."""
        return what_changed(self.earlier(model_id, account), prompt, request, write)


def what_changed(earlier: tuple[Earlier, ...], prompt: Prompt, request: dict[str, Any], write: int) -> str:
    """Compare with the nearest earlier request: the one sharing the most leading blocks and then the most of
    the first block that differs (the latest on a tie)."""
    nearest: tuple[int, int, Prompt, dict[str, Any]] | None = None
    for before, before_request in reversed(earlier):
        shared = _shared_blocks(prompt, before)
        alike = _alike(before, before_request, prompt, request, shared)
        if nearest is None or (shared, alike) > nearest[:2]:
            nearest = (shared, alike, before, before_request)
    first = f"first request like this: {write:,} tokens written for the next one to read"
    if nearest is None:
        return first
    shared, _, before, before_request = nearest
    if before.variant != prompt.variant and shared:
        changed = " and ".join(prompt.variant.differences(before.variant))
        like = "same content as an earlier request" if shared >= len(prompt.blocks) else "like an earlier request"
        return f"{like}, but {changed}, and that keys the cache: keep it the same between calls"
    if shared >= min(len(before.blocks), len(prompt.blocks)):
        if shared < len(before.blocks):
            return (
                "an earlier request holds this whole prompt, but no entry of it ends at or within "
                f"{LOOKBACK_BLOCKS} blocks before this request's checkpoints: {write:,} tokens written"
            )
        return f"the conversation moved on: {write:,} tokens written for the next call to read"
    old, new = _text(before_request, before, shared), _text(request, prompt, shared)
    place = prompt.blocks[shared].place
    edited = before.blocks[shared].place == place and _small_edit(old, new)
    if TOOLS in (place.section, before.blocks[shared].place.section):
        return "tool definitions changed: every cached level was invalidated" if shared or edited else first
    if not edited and (shared == 0 or place.section == SYSTEM):
        return first  # another prompt altogether, not a change to this one
    named = own_place(request, place, prompt.variant.api).words
    if old == new and len(old) >= limits.COMPARED_CHARACTERS:  # the same as far as compared: the change is further in
        return (
            f"prefix changed in {named} after its first {limits.COMPARED_CHARACTERS:,} characters (no more are "
            f"compared, {limits.named('COMPARED_CHARACTERS')}): keep what changes after the last cachePoint"
        )
    at, tail = _common_ends(old, new)
    where = f"prefix changed in {named} at character {at}"
    found = dynamic_text(new, at, len(new) - tail)
    if found is not None:
        return f"{where}: {found.words}"
    return f"{where}: keep what changes after the last cachePoint"


def _alike(before: Prompt, before_request: dict[str, Any], prompt: Prompt, request: dict[str, Any], index: int) -> int:
    """Characters the two prompts' blocks at `index` share at their start and end (-1: not the same kind of block)."""
    if index >= min(len(before.blocks), len(prompt.blocks)) or before.blocks[index].place != prompt.blocks[index].place:
        return -1
    old, new = _text(before_request, before, index), _text(request, prompt, index)
    start, tail = _common_ends(old, new)
    return start + tail


def _common_ends(old: str, new: str) -> tuple[int, int]:
    """The lengths of the common start and of the common end after it."""
    start = _longest(min(len(old), len(new)), lambda n: old[:n] == new[:n])
    room = min(len(old), len(new)) - start
    tail = _longest(room, lambda n: old[len(old) - n :] == new[len(new) - n :])
    return start, tail


def _longest(most: int, same: Callable[[int], bool]) -> int:
    """The largest n <= most with same(n), for a `same` that holds up to some n and fails after it. A binary search
    over slice comparisons: texts run to tens of thousands of characters, and a loop over them in Python is slow."""
    if same(most):
        return most
    low, high = 0, most  # same(low) holds, same(high) does not
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if same(middle) else (low, middle)
    return low


def _shared_blocks(prompt: Prompt, other: Prompt) -> int:
    """How many leading blocks two prompts share, byte for byte."""
    shared = 0
    for mine, theirs in zip(prompt.blocks, other.blocks, strict=False):
        if mine.data != theirs.data:
            break
        shared += 1
    return shared
