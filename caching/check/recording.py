"""Reading a recording back: each JSONL line checked before the doctor sees it.

A line that is not a call as the recorder writes it (damaged JSON, a field of the wrong type, a request whose shape
no Bedrock client could send, a usage Bedrock would never return) is skipped with its number and the reason; the
rest is still read. Lines are read with a length limit, so any file, however large or strange, costs bounded memory.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..call import Call
from ..errors import CachingError
from ..rules import RequestRejected
from ..rules.api import API
from ..rules.messages import converse_form
from ..rules.tokens import canonical_json
from ..rules.usage import Usage

LONGEST_LINE = 20_000_000  # characters; a recorded call is far smaller
FIELDS: dict[str, tuple[type, ...]] = {
    "agent": (str,),
    "at": (int, float),
    "model_id": (str,),
    "request": (dict,),
    "usage": (dict, type(None)),
    "error": (str, type(None)),
}
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


class Problem(str):
    """One line about a skipped record: which line and why."""


def iter_recording(path: str | Path) -> Iterator[Call | Problem]:
    """Each call of a JSONL recording in order, or a Problem for a line that was skipped."""
    with Path(path).open(encoding="utf-8", errors="replace") as lines:
        number = 0
        while True:
            line = lines.readline(LONGEST_LINE + 1)
            if not line:
                return
            number += 1
            if len(line) > LONGEST_LINE:
                yield Problem(
                    f"line {number}: longer than {LONGEST_LINE:,} characters, so this is not a recording; "
                    "stopped reading."
                )
                return
            if line.strip():
                yield parse(line, number)


def parse(line: str, number: int) -> Call | Problem:
    """One recorded call, or why the line is skipped."""
    try:
        data = json.loads(line.strip())
    except json.JSONDecodeError as exc:
        return Problem(f"line {number}: not valid JSON near column {exc.colno} ({exc.msg}); skipped it.")
    except (ValueError, RecursionError) as exc:
        return Problem(f"line {number}: not usable JSON ({str(exc)[:80]}); skipped it.")
    if not isinstance(data, dict):
        return Problem(f"line {number}: expected a JSON object, got {type(data).__name__}; skipped it.")
    wrong = [
        name
        for name, kinds in FIELDS.items()
        if not isinstance(data.get(name), kinds) or isinstance(data.get(name), bool)
    ]
    if wrong:
        return Problem(
            f"line {number}: missing or wrong {', '.join(wrong)} (a call needs agent, at, model_id, request, "
            "usage or error); skipped it."
        )
    api = data.get("api", API.CONVERSE)
    if api not in tuple(API):
        return Problem(f"line {number}: api must be 'converse' or 'invoke', got {str(api)[:40]!r}; skipped it.")
    problem = _problem(data)
    if problem:
        return Problem(f"line {number}: {problem}; skipped it.")
    usage = Usage.from_bedrock(data["usage"] or {})
    return Call(data["agent"], float(data["at"]), data["model_id"], data["request"], usage, data["error"], API(api))


def _problem(data: dict[str, Any]) -> str | None:
    """Why this record cannot be a call the recorder wrote, or None."""
    try:
        if not math.isfinite(float(data["at"])):
            return "at is not a finite time"
    except OverflowError:
        return "at is too large to be a time"
    if data["usage"] is None and data["error"] is None:
        return "the call has neither usage nor error"
    if data["usage"] is not None:
        try:
            Usage.from_bedrock(data["usage"])
        except CachingError as exc:
            return f"usage: {exc}"
    try:
        canonical_json(data)
    except (ValueError, RecursionError, UnicodeEncodeError):
        return "the record nests too deeply or holds numbers JSON cannot carry"
    if _surrogate(data):
        return "the record holds a lone surrogate, not text"
    if data.get("api") == API.INVOKE:
        try:  # a Messages body botocore never checks: one Bedrock refuses is a call to diagnose, not a damaged line
            return _request_problem(converse_form(data["request"]))
        except RequestRejected:
            return None
    return _request_problem(data["request"])


def _surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_surrogate(k) or _surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_surrogate(v) for v in value)
    return False


def _request_problem(request: dict[str, Any]) -> str | None:
    """A Converse request body's shape: what botocore would refuse to send."""
    messages = request.get("messages")
    if not isinstance(messages, list):
        return "request.messages is not a list"
    for m, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            return f"request.messages[{m}] is not a message with a role"
        if not isinstance(message.get("content"), list):
            return f"request.messages[{m}].content is not a list"
        problem = _blocks_problem(message["content"], f"request.messages[{m}].content")
        if problem:
            return problem
    system = request.get("system", [])
    if not isinstance(system, list):
        return "request.system is not a list"
    tool_config = request.get("toolConfig", {})
    tools = tool_config.get("tools", []) if isinstance(tool_config, dict) else None
    if not isinstance(tools, list):
        return "request.toolConfig is not an object with a tools list"
    return _blocks_problem(system, "request.system") or _blocks_problem(tools, "request.toolConfig.tools")


def _blocks_problem(blocks: list[Any], where: str) -> str | None:
    """The first problem among a list's blocks, named by its place."""
    return next((p for i, block in enumerate(blocks) if (p := _block_problem(block, f"{where}[{i}]"))), None)


def _block_problem(block: Any, where: str) -> str | None:
    if not isinstance(block, dict):
        return f"{where} is not an object"
    for member, kind in MEMBERS.items():
        if member in block and not isinstance(block[member], kind):
            return f"{where}.{member} is not {'text' if kind is str else 'an object'}"
    for member, names in (("toolUse", ("name", "toolUseId")), ("toolSpec", ("name",)), ("toolResult", ("toolUseId",))):
        if member in block and any(not isinstance(block[member].get(name), str) for name in names):
            return f"{where}.{member} needs {' and '.join(names)} as text"
    if "toolResult" in block:
        parts = block["toolResult"].get("content", [])
        if not isinstance(parts, list):
            return f"{where}.toolResult.content is not a list"
        problem = _blocks_problem(parts, f"{where}.toolResult.content")
        if problem:
            return problem
    if "toolSpec" in block and not isinstance(block["toolSpec"].get("description", ""), str):
        return f"{where}.toolSpec.description is not text"
    reasoning = block.get("reasoningContent", {}).get("reasoningText", {})
    if not isinstance(reasoning, dict) or not isinstance(reasoning.get("text", ""), str):
        return f"{where}.reasoningContent.reasoningText is not an object with text"
    return None


def read_recording(path: str | Path) -> tuple[list[Call], list[str]]:
    """The calls in a JSONL recording, and one line for each damaged record (which is skipped, not fatal)."""
    calls: list[Call] = []
    problems: list[str] = []
    for item in iter_recording(path):
        if isinstance(item, Problem):
            problems.append(str(item))
        else:
            calls.append(item)
    return calls, problems
