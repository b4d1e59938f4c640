"""Cache points: builders for the places Bedrock accepts them, and a check of a whole request before it is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import LayoutError
from ..rules import TTL, Catalog, RequestRejected, check_layout

if TYPE_CHECKING:
    from strands.types.content import SystemContentBlock


def cache_point(ttl: TTL | str | None = None) -> dict[str, Any]:
    """A `{"cachePoint": ...}` block; ttl None means Bedrock's default (5m)."""
    point = {"type": "default"}
    if ttl is not None:
        point["ttl"] = TTL.parse(ttl, "pass ttl='5m' or ttl='1h'").value
    return {"cachePoint": point}


def cached_system_prompt(text: str, ttl: TTL | str | None = None) -> list[SystemContentBlock]:
    """A system prompt followed by a cachePoint: everything before it (tools, then this text) is cacheable."""
    if not text.strip():
        raise LayoutError("The system prompt is empty: there is nothing to cache before the cachePoint.")
    return [{"text": text}, {"cachePoint": cache_point(ttl)["cachePoint"]}]


def validate_layout(request: dict[str, Any]) -> list[tuple[str, TTL]]:
    """Check a Converse request's cache points before sending: count, ttl values, 1h support, TTL order.

    Returns (where, ttl) for each cachePoint; raises LayoutError with Bedrock's reason.
    """
    model = Catalog().find(str(request.get("modelId", "")))
    try:
        return [(str(point.place), point.ttl) for point in check_layout(request, model)]
    except RequestRejected as exc:
        raise LayoutError(str(exc)) from None
