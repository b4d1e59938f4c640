"""`linearize` for a stream of logged calls: a conversation resends its whole history on every call, so walking
each request from the start costs time that grows with the conversation. `Linearizer` remembers recent requests and
walks only the messages a request does not share with an earlier one; the result is the same as `linearize`'s.

Two requests share a message when the parsed JSON values are equal (so 1 and 1.0, or true and 1, count as the same:
a difference no client makes between two calls of one conversation).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, NamedTuple

from .. import limits
from .api import API
from .cache import prefix_digests
from .catalog import ModelInfo
from .prompt import Prompt, Resume, blocks_before, linearize
from .tokens import canonical_json
from .variant import Variant

PER_OPENING = 4  # requests remembered per first message (conversations that open alike)


class _Seen(NamedTuple):
    request: dict[str, Any]
    prompt: Prompt
    digests: list[str]
    size: int


class Linearizer:
    """Call it like `linearize`; it also returns the prompt's prefix digests (`prefix_digests`)."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = limits.REMEMBERED_BYTES if budget is None else budget
        self._seen: OrderedDict[tuple[str, Variant, str], list[_Seen]] = OrderedDict()
        self._size = 0

    def __call__(self, request: dict[str, Any], model: ModelInfo, api: API = API.CONVERSE) -> tuple[Prompt, list[str]]:
        key = self._key(request, model, api)
        earlier = self._nearest(request, self._seen.get(key, [])) if key else None
        if earlier is None:
            prompt = linearize(request, model, api)
            digests = prefix_digests(prompt)
        else:
            seen, kept = earlier
            prompt = linearize(request, model, api, Resume(seen.prompt, kept))
            digests = prefix_digests(prompt, seen.digests[: blocks_before(seen.prompt, kept) + 1])
        if key:
            self._remember(key, _Seen(request, prompt, digests, prompt.held))
        return prompt, digests

    @staticmethod
    def _key(request: dict[str, Any], model: ModelInfo, api: str) -> tuple[str, Variant, str] | None:
        """Where earlier requests of the same conversation are kept: the model, the variant and the first block."""
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
            return None  # linearize will say what is wrong
        content = messages[0].get("content")
        first = content[0] if isinstance(content, list) and content and isinstance(content[0], dict) else {}
        opening = first.get("text")
        try:
            return (
                model.base_id,
                Variant.of(request, api),
                opening if isinstance(opening, str) else canonical_json(first),
            )
        except (TypeError, ValueError):
            return None

    @staticmethod
    def _nearest(request: dict[str, Any], candidates: list[_Seen]) -> tuple[_Seen, int] | None:
        """The remembered request sharing the most leading messages with this one (same tools and system)."""
        best: tuple[_Seen, int] | None = None
        messages = request["messages"]
        for seen in candidates:
            if seen.request.get("toolConfig") != request.get("toolConfig"):
                continue
            if seen.request.get("system") != request.get("system"):
                continue
            kept = _shared(messages, seen.request["messages"])
            if kept and (best is None or kept > best[1]):
                best = seen, kept
            if kept and kept >= len(seen.request["messages"]) - 1:
                break  # the request goes on from this one: good enough, stop looking
        return best

    def _remember(self, key: tuple[str, Variant, str], seen: _Seen) -> None:
        kept = self._seen.pop(key, [])
        kept.insert(0, seen)
        self._size += seen.size
        while len(kept) > PER_OPENING:
            self._size -= kept.pop().size
        self._seen[key] = kept
        while self._size > self.budget and self._seen:
            _, forgotten = self._seen.popitem(last=False)
            self._size -= sum(each.size for each in forgotten)


def _shared(new: list[Any], old: list[Any]) -> int:
    """How many leading messages two lists share. The usual answer, all of `old` but its last (where the cache point
    moved from), is tried first; else, as sharing is monotone (a shared prefix's prefixes are shared), a binary
    search on whole-slice comparisons finds it."""
    high = min(len(new), len(old))
    if high and new[: high - 1] == old[: high - 1]:
        return high if new[high - 1] == old[high - 1] else high - 1
    low, high = 0, high - 2  # at most high - 2 are shared
    while low < high:
        middle = (low + high + 1) // 2
        if new[:middle] == old[:middle]:
            low = middle
        else:
            high = middle - 1
    return low
