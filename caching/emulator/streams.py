"""The streaming answers, as the event-stream events Bedrock sends for them.

ConverseStream: messageStart, a contentBlockStart/Delta/Stop per block, messageStop, then metadata with the usage.
InvokeModelWithResponseStream: one `chunk` event per Anthropic Messages stream event (its JSON, base64-encoded in
`bytes`): message_start (with the input side of the usage), content_block_start/delta/stop, message_delta (the
stop reason and the output tokens), and message_stop carrying `amazon-bedrock-invocationMetrics`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ..rules.usage import Usage
from .eventstream import encode_event
from .responses import METRICS, invocation_metrics

TEXT_CHUNK = 80  # characters per streamed text delta


def converse_stream_bytes(response: dict[str, Any]) -> bytes:
    """A Converse response replayed as the ConverseStream events Bedrock sends."""
    message = response["output"]["message"]
    out = encode_event("messageStart", {"role": message["role"]})
    for index, block in enumerate(message["content"]):
        if "toolUse" in block:
            use = block["toolUse"]
            start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
            out += encode_event("contentBlockStart", {"start": start, "contentBlockIndex": index})
            delta = {"toolUse": {"input": json.dumps(use["input"])}}
            out += encode_event("contentBlockDelta", {"delta": delta, "contentBlockIndex": index})
        else:
            text = block["text"]
            for chunk in (text[i : i + TEXT_CHUNK] for i in range(0, len(text), TEXT_CHUNK)):
                out += encode_event("contentBlockDelta", {"delta": {"text": chunk}, "contentBlockIndex": index})
        out += encode_event("contentBlockStop", {"contentBlockIndex": index})
    out += encode_event("messageStop", {"stopReason": response["stopReason"]})
    out += encode_event("metadata", {"usage": response["usage"], "metrics": response["metrics"]})
    return out


def _chunk(event: dict[str, Any]) -> bytes:
    payload = base64.b64encode(json.dumps(event, separators=(",", ":")).encode()).decode()
    return encode_event("chunk", {"bytes": payload})


def invoke_stream_bytes(response: dict[str, Any], usage: Usage, latency_ms: int) -> bytes:
    """An InvokeModel (Messages) response replayed as the chunks of InvokeModelWithResponseStream."""
    usage_in = {key: value for key, value in response["usage"].items() if key != "output_tokens"}
    start = {key: value for key, value in response.items() if key not in ("content", "usage")}
    out = _chunk(
        {"type": "message_start", "message": {**start, "content": [], "usage": {**usage_in, "output_tokens": 1}}}
    )
    for index, block in enumerate(response["content"]):
        if block["type"] == "tool_use":
            opened = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            out += _chunk({"type": "content_block_start", "index": index, "content_block": opened})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            out += _chunk({"type": "content_block_delta", "index": index, "delta": delta})
        else:
            out += _chunk(
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
            )
            text = block["text"]
            for piece in (text[i : i + TEXT_CHUNK] for i in range(0, len(text), TEXT_CHUNK)):
                out += _chunk(
                    {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}}
                )
        out += _chunk({"type": "content_block_stop", "index": index})
    stop = {"stop_reason": response["stop_reason"], "stop_sequence": None}
    out += _chunk({"type": "message_delta", "delta": stop, "usage": {"output_tokens": usage.outputTokens}})
    out += _chunk({"type": "message_stop", METRICS: invocation_metrics(usage, latency_ms)})
    return out
