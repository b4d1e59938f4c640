"""A request's shape: the wrong types botocore refuses to send and Bedrock refuses to read, found before anything
counts a token.

One check for every surface: the linearizer refuses a request that has one (`RequestRejected`, so lint, diff and the
emulator answer a sentence), and the doctor skips a recorded call that holds one (no Bedrock client sent it). Each
problem is a short clause naming the place ("messages[0].content[1].text is not text").
"""

from __future__ import annotations

from typing import Any

# The members of a content block that must have a given type, wherever the block sits.
MEMBERS: dict[str, type] = {
    "text": str,
    "toolUse": dict,
    "toolResult": dict,
    "toolSpec": dict,
    "cachePoint": dict,
    "image": dict,
    "document": dict,
    "video": dict,
    "audio": dict,
    "reasoningContent": dict,
}
# The members inside a block's member that must be text.
NAMES = (("toolUse", ("name", "toolUseId")), ("toolSpec", ("name",)), ("toolResult", ("toolUseId",)))


def sections_problem(request: dict[str, Any]) -> str | None:
    """Whether the tools and system lists are lists (the messages are the conversation check's, in `prompt`)."""
    tool_config = request.get("toolConfig", {})
    if not isinstance(tool_config, dict) or not isinstance(tool_config.get("tools", []), list):
        return "toolConfig is not an object with a tools list"
    if not isinstance(request.get("system", []), list):
        return "system is not a list"
    return None


def request_problem(request: dict[str, Any]) -> str | None:
    """The first wrong type anywhere in a Converse request body, or None."""
    messages = request.get("messages")
    if not isinstance(messages, list):
        return "messages is not a list"
    for m, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            return f"messages[{m}] is not a message with a role"
        if not isinstance(message.get("content"), list):
            return f"messages[{m}].content is not a list"
        problem = blocks_problem(message["content"], f"messages[{m}].content")
        if problem:
            return problem
    problem = sections_problem(request)
    if problem:
        return problem
    tools = (request.get("toolConfig") or {}).get("tools", [])
    return blocks_problem(request.get("system", []), "system") or blocks_problem(tools, "toolConfig.tools")


def blocks_problem(blocks: list[Any], where: str) -> str | None:
    """The first problem among a list's blocks, named by its place."""
    return next((p for i, block in enumerate(blocks) if (p := block_problem(block, f"{where}[{i}]"))), None)


def block_problem(block: Any, where: str) -> str | None:
    """What is the wrong type in one content block (a tool result's parts included), or None."""
    if not isinstance(block, dict):
        return f"{where} is not an object"
    if len(block) == 1 and type(block.get("text")) is str:  # most blocks, and nothing below can find fault with it
        return None
    for member, kind in MEMBERS.items():
        if member in block and not isinstance(block[member], kind):
            return f"{where}.{member} is not {'text' if kind is str else 'an object'}"
    for member, names in NAMES:
        if member in block and any(not isinstance(block[member].get(name), str) for name in names):
            return f"{where}.{member} needs {' and '.join(names)} as text"
    if "toolResult" in block:
        parts = block["toolResult"].get("content", [])
        if not isinstance(parts, list):
            return f"{where}.toolResult.content is not a list"
        problem = blocks_problem(parts, f"{where}.toolResult.content")
        if problem:
            return problem
    if "toolSpec" in block:
        spec = block["toolSpec"]
        if not isinstance(spec.get("description", ""), str):
            return f"{where}.toolSpec.description is not text"
        schema = spec.get("inputSchema", {})
        if not isinstance(schema, dict):
            return f"{where}.toolSpec.inputSchema is not an object"
    reasoning = block.get("reasoningContent", {}).get("reasoningText", {})
    if not isinstance(reasoning, dict) or not isinstance(reasoning.get("text", ""), str):
        return f"{where}.reasoningContent.reasoningText is not an object with text"
    return None


def depth(value: Any, limit: int) -> int:
    """How deeply `value` nests lists and objects (a scalar is 0), counted without recursion and only up to
    `limit` + 1, so a hostile value costs no more than a reasonable one."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        items = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if items is not None:
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            stack.extend((inner, level + 1) for inner in items)
    return deepest
