"""The JSON answers: an `Answer` of the state written as Converse's response or as InvokeModel's Messages response,
and each as the invocation log records a stream (its events)."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from ..rules import API
from ..rules.messages import anthropic_content
from ..rules.tokens import canonical_json
from .state import Answer


def latency_ms(started: float) -> int:
    """Whole milliseconds since `started` (a `time.perf_counter()` reading), at least 1."""
    return max(1, round((time.perf_counter() - started) * 1000))


def converse_response(answer: Answer, latency: int) -> dict[str, Any]:
    """The body of a Converse response."""
    return {
        "output": {"message": {"role": "assistant", "content": answer.content}},
        "stopReason": answer.stop_reason,
        "usage": answer.usage.to_bedrock(),
        "metrics": {"latencyMs": latency},
    }


def converse_logged_events(response: dict[str, Any]) -> list[dict[str, Any]]:
    """A ConverseStream answer as the invocation log records it: its events, without the content deltas."""
    return [
        {"messageStart": {"role": "assistant"}},
        {"messageStop": {"stopReason": response["stopReason"]}},
        {"metadata": {"usage": response["usage"], "metrics": response["metrics"]}},
    ]


def invoke_response(answer: Answer, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The Anthropic Messages body of an InvokeModel response; its id is a digest of the request, as stable."""
    digest = hashlib.sha256(canonical_json(body).encode("utf-8", "replace")).hexdigest()[:24]
    return {
        "id": f"msg_bdrk_{digest}",
        "type": "message",
        "role": "assistant",
        "model": model_id.split(".", 1)[-1] if model_id.count(".") > 1 else model_id,
        "content": anthropic_content(answer.content),
        "stop_reason": answer.stop_reason,
        "stop_sequence": None,
        "usage": answer.usage.to_bedrock(API.INVOKE),
    }


def invoke_logged_events(response: dict[str, Any]) -> list[dict[str, Any]]:
    """An InvokeModelWithResponseStream answer as the invocation log records it: start, delta and stop."""
    start = {**{k: v for k, v in response.items() if k != "content"}, "content": []}
    return [
        {"type": "message_start", "message": start},
        {
            "type": "message_delta",
            "delta": {"stop_reason": response["stop_reason"]},
            "usage": {"output_tokens": response["usage"]["output_tokens"]},
        },
        {"type": "message_stop"},
    ]
