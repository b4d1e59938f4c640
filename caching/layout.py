"""Where the cache points of a request sit, as actually sent, and how many tokens come before each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .emulator.catalog import DEFAULT_MODEL_ID, Catalog
from .emulator.prompt import RequestRejected, linearize
from .errors import LayoutError


@dataclass(frozen=True)
class LayoutPoint:
    """One cachePoint: its place (e.g. "system[1]"), its ttl, and the tokens before it (an offline estimate)."""

    where: str
    ttl: str
    tokens_before: int


def request_layout(request: dict[str, Any]) -> list[LayoutPoint]:
    """The cache points of a Converse request in tools -> system -> messages order."""
    catalog = Catalog()
    model = catalog.find(str(request.get("modelId", ""))) or catalog.find(DEFAULT_MODEL_ID)
    assert model is not None
    try:
        prompt = linearize(request, model)
    except RequestRejected as exc:
        raise LayoutError(str(exc)) from None
    return [LayoutPoint(p.where, p.ttl, prompt.tokens_before(p.position)) for p in prompt.checkpoints]
