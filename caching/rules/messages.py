"""InvokeModel with an Anthropic Messages body, as the rules see it.

A Messages body (`anthropic_version`, `system` as a string or blocks, `messages`, `tools`, `cache_control` on
blocks) is turned into the Converse shape the linearizer reads: a block's `cache_control` becomes a cachePoint after
it (with its ttl), a `cache_control` inside a tool_result's content becomes a cachePoint after that tool_result
(measured live: it does create a checkpoint), and a system prompt given as a plain string carries none (it cannot).
A null `cache_control` is no checkpoint, as in Anthropic's API; any other value but {"type": "ephemeral"} is refused.
The prompt is keyed as InvokeModel's, so it never shares an entry with the same content sent through Converse.
"""

from __future__ import annotations

from typing import Any

from .lint_rules import INVALID_CHECKPOINT
from .places import POINT
from .prompt import RequestRejected


def _point(control: Any, where: str) -> dict[str, Any]:
    if not isinstance(control, dict) or control.get("type") != "ephemeral":
        advice = f'{where}.cache_control must be {{"type": "ephemeral"}} with an optional ttl'
        raise RequestRejected(advice + ".", advice, INVALID_CHECKPOINT)
    ttl = control.get("ttl")
    return {POINT: {"type": "default", **({"ttl": ttl} if ttl is not None else {})}}


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    """A message's or system's content (a string or a list of blocks) as Converse blocks with cachePoints."""
    if isinstance(content, str):
        return [{"text": content}]
    if not isinstance(content, list):
        raise RequestRejected(f"{where} must be a string or a list of content blocks.")
    out: list[dict[str, Any]] = []
    for i, block in enumerate(content):
        here = f"{where}[{i}]"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise RequestRejected(f"{here} must be a content block with a type.")
        out.append(_block(block, here))
        inner = block.get("content") if block["type"] == "tool_result" else None
        controls = [block.get("cache_control")]
        controls += [b.get("cache_control") for b in inner if isinstance(b, dict)] if isinstance(inner, list) else []
        control = next((c for c in controls if c is not None), None)
        if control is not None:
            out.append(_point(control, here))
    return out


def _block(block: dict[str, Any], where: str) -> dict[str, Any]:
    kind = block["type"]
    if kind == "text":
        return {"text": block.get("text")}
    if kind == "image":
        source = block.get("source") or {}
        media = str(source.get("media_type", "image/png")) if isinstance(source, dict) else "image/png"
        data = source.get("data", "") if isinstance(source, dict) else ""
        return {"image": {"format": media.split("/")[-1], "source": {"bytes": data}}}
    if kind == "document":
        source = block.get("source") or {}
        media = str(source.get("media_type", "application/pdf")) if isinstance(source, dict) else ""
        return {"document": {"format": "pdf" if media.endswith("pdf") else "txt", "name": "doc", "source": source}}
    if kind == "tool_use":
        return {"toolUse": {"toolUseId": block.get("id"), "name": block.get("name"), "input": block.get("input")}}
    if kind == "tool_result":
        inner = block.get("content", "")
        parts = [b for b in _blocks(inner, f"{where}.content") if POINT not in b]
        return {"toolResult": {"toolUseId": block.get("tool_use_id"), "content": parts}}
    if kind in ("thinking", "redacted_thinking"):
        return {"reasoningContent": {"reasoningText": {"text": str(block.get("thinking", ""))}}}
    raise RequestRejected(f"{where} has an unknown content block type {kind!r}.")


def converse_form(body: dict[str, Any]) -> dict[str, Any]:
    """The Converse request that builds the same prompt as this Messages body (see the module docstring)."""
    if not isinstance(body, dict):
        raise RequestRejected("The InvokeModel body must be a JSON object.")
    if not isinstance(body.get("anthropic_version"), str):
        raise RequestRejected('The InvokeModel body needs anthropic_version (for example "bedrock-2023-05-31").')
    request: dict[str, Any] = {}
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise RequestRejected("tools must be a list.")
        specs: list[dict[str, Any]] = []
        for i, tool in enumerate(tools):
            if not isinstance(tool, dict):
                raise RequestRejected(f"tools[{i}] must be an object.")
            spec = {"name": tool.get("name"), "inputSchema": {"json": tool.get("input_schema", {})}}
            if "description" in tool:
                spec["description"] = tool["description"]
            specs.append({"toolSpec": spec})
            if tool.get("cache_control") is not None:
                specs.append(_point(tool["cache_control"], f"tools[{i}]"))
        choice = body.get("tool_choice") or {}
        kind = choice.get("type", "auto") if isinstance(choice, dict) else "auto"
        request["toolConfig"] = {
            "tools": specs,
            "toolChoice": {"any": {}}
            if kind == "any"
            else {"tool": {"name": choice.get("name")}}
            if kind == "tool"
            else {"auto": {}},
        }
    system = body.get("system")
    if system is not None:
        request["system"] = _blocks(system, "system")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise RequestRejected("messages must be a non-empty list.")
    request["messages"] = [
        {"role": m.get("role"), "content": _blocks(m.get("content"), f"messages[{i}].content")}
        if isinstance(m, dict)
        else m
        for i, m in enumerate(messages)
    ]
    extra = {key: body[key] for key in ("thinking", "output_config") if key in body}
    if extra:
        request["additionalModelRequestFields"] = extra
    config = {"maxTokens": body.get("max_tokens"), "temperature": body.get("temperature"), "topP": body.get("top_p")}
    request["inferenceConfig"] = {key: value for key, value in config.items() if value is not None}
    if "max_tokens" not in body:
        raise RequestRejected("The InvokeModel body needs max_tokens.")
    return request


def converse_usage(usage: dict[str, Any]) -> dict[str, Any]:
    """InvokeModel usage (Anthropic's names) under Converse's names, as the rest of the library reads usage."""
    found = usage.get("cache_creation")
    creation: dict[str, Any] = found if isinstance(found, dict) else {}
    details = [
        {"ttl": ttl, "inputTokens": creation.get(f"ephemeral_{ttl}_input_tokens")}
        for ttl in ("1h", "5m")
        if creation.get(f"ephemeral_{ttl}_input_tokens")
    ]
    return {
        "inputTokens": usage.get("input_tokens"),
        "outputTokens": usage.get("output_tokens"),
        "cacheReadInputTokens": usage.get("cache_read_input_tokens"),
        "cacheWriteInputTokens": usage.get("cache_creation_input_tokens"),
        "cacheDetails": details,
    }


def anthropic_content(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Converse reply blocks as Messages content blocks."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if "toolUse" in block:
            use = block["toolUse"]
            out.append({"type": "tool_use", "id": use["toolUseId"], "name": use["name"], "input": use["input"]})
        else:
            out.append({"type": "text", "text": block.get("text", "")})
    return out
