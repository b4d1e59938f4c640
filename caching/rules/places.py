"""A place in a Converse request: a tool spec, a system block, or one content block of a message.

Built once by the linearizer and passed around as a value, so no module has to parse "messages[2].content[1]" back.
`own_place` names a place in the terms of the request as it was sent (an InvokeModel body has no cachePoint blocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .api import API

TOOLS, SYSTEM, MESSAGES = "tools", "system", "messages"
POINT = "cachePoint"


@dataclass(frozen=True, order=True)
class Place:
    """Where a block sits: `section` is tools, system or messages; `message` is set for messages only. A place is a
    value: `tool`, `system` and `content` hand out one object per place instead of building it again each call."""

    section: str
    index: int
    message: int | None = None

    @classmethod
    @lru_cache(maxsize=8192)
    def tool(cls, index: int) -> Place:
        return cls(TOOLS, index)

    @classmethod
    @lru_cache(maxsize=8192)
    def system(cls, index: int) -> Place:
        return cls(SYSTEM, index)

    @classmethod
    @lru_cache(maxsize=8192)
    def content(cls, message: int, index: int) -> Place:
        return cls(MESSAGES, index, message)

    def __str__(self) -> str:
        """Bedrock's spelling in error messages: tools[0], system[1], messages[2].content[1]."""
        if self.message is None:
            return f"{self.section}[{self.index}]"
        return f"{self.section}[{self.message}].content[{self.index}]"

    @property
    def list_name(self) -> str:
        """The list the block is in: tools, system, or messages[2]."""
        return self.section if self.message is None else f"{self.section}[{self.message}]"

    @property
    def words(self) -> str:
        """The place for a sentence: tool 0, system block 1, message 2 block 1."""
        if self.section == TOOLS:
            return f"tool {self.index}"
        if self.section == SYSTEM:
            return f"system block {self.index}"
        return f"message {self.message} block {self.index}"

    def moved(self, index: int) -> Place:
        """The place at `index` in the same list."""
        if self.section == TOOLS:
            return Place.tool(index)
        return Place.system(index) if self.section == SYSTEM else Place.content(self.message or 0, index)

    def items_in(self, request: dict[str, Any]) -> list[Any]:
        """The list this place's block is in, in `request` (empty when the request has no such list)."""
        try:
            if self.section == TOOLS:
                found = request["toolConfig"]["tools"]
            elif self.section == SYSTEM:
                found = request["system"]
            else:
                found = request["messages"][self.message]["content"]
        except (KeyError, IndexError, TypeError):
            return []
        return found if isinstance(found, list) else []

    def block_in(self, request: dict[str, Any]) -> Any:
        """The block at this place in `request`, or None when the request has no such block."""
        try:
            if self.section == TOOLS:
                return request["toolConfig"]["tools"][self.index]
            if self.section == SYSTEM:
                return request["system"][self.index]
            return request["messages"][self.message]["content"][self.index]
        except (KeyError, IndexError, TypeError):
            return None


def body_place(request: dict[str, Any], place: Place) -> Place:
    """The place in the InvokeModel body that became `place` in its Converse form (`request`): the body has no
    cachePoint blocks, so a cachePoint is named by the block whose cache_control it came from."""
    items = place.items_in(request)
    index = place.index - 1 if _is_point(items, place.index) else place.index
    index -= sum(1 for i in range(min(index, len(items))) if _is_point(items, i))
    return place.moved(index)


def _is_point(items: list[Any], index: int) -> bool:
    return 0 <= index < len(items) and isinstance(items[index], dict) and POINT in items[index]


def own_place(request: dict[str, Any], place: Place, api: str) -> Place:
    """`place` of a request's Converse form, named in the request's own terms (an InvokeModel body has no
    cachePoint blocks)."""
    return body_place(request, place) if api == API.INVOKE else place
