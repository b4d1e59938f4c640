"""The JSON answers: an `Answer` of the state written as Converse's response or as InvokeModel's Messages response,
and InvokeModelWithResponseStream's chunks as the invocation log records them."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from ..rules import API
from ..rules.messages import anthropic_content
from ..rules.tokens import canonical_json
from ..rules.usage import Usage
from .state import Answer

METRICS = "amazon-bedrock-invocationMetrics"


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


def invocation_metrics(usage: Usage, latency: int) -> dict[str, int]:
    """`amazon-bedrock-invocationMetrics`, which the last chunk of an InvokeModelWithResponseStream carries."""
    return {
        "inputTokenCount": usage.inputTokens,
        "outputTokenCount": usage.outputTokens,
        "invocationLatency": latency,
        "firstByteLatency": latency,
        "cacheReadInputTokenCount": usage.cacheReadInputTokens,
        "cacheWriteInputTokenCount": usage.cacheWriteInputTokens,
    }


def invoke_logged_chunks(response: dict[str, Any], usage: Usage, latency: int) -> list[dict[str, Any]]:
    """An InvokeModelWithResponseStream answer as the invocation log records it: its chunks (here without the
    content deltas), the last carrying the invocation metrics. (A ConverseStream answer is logged as the assembled
    response, the same body as Converse's.)"""
    start = {**{k: v for k, v in response.items() if k != "content"}, "content": []}
    return [
        {"type": "message_start", "message": start},
        {
            "type": "message_delta",
            "delta": {"stop_reason": response["stop_reason"]},
            "usage": {"output_tokens": response["usage"]["output_tokens"]},
        },
        {"type": "message_stop", METRICS: invocation_metrics(usage, latency)},
    ]
