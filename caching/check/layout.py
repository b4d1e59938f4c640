"""Where the cache points of a request sit, as actually sent, and how many tokens come before each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import LayoutError
from ..rules import Catalog, Place, RequestRejected, linearize


@dataclass(frozen=True)
class LayoutPoint:
    """One cachePoint: its place, its ttl, and the tokens before it (an offline estimate)."""

    place: Place
    ttl: str
    tokens_before: int

    @property
    def where(self) -> str:
        """The place as Bedrock spells it: "system[1]", "messages[2].content[1]"."""
        return str(self.place)


def request_layout(request: dict[str, Any]) -> list[LayoutPoint]:
    """The cache points of a Converse request in tools -> system -> messages order."""
    catalog = Catalog()
    model = catalog.find_or_default(str(request.get("modelId", "")))
    try:
        prompt = linearize(request, model)
    except RequestRejected as exc:
        raise LayoutError(str(exc)) from None
    return [LayoutPoint(p.place, p.ttl, prompt.tokens_before(p.position)) for p in prompt.checkpoints]
