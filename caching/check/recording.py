"""Reading a recording back: each JSONL line checked before the doctor sees it.

A line that is not a call as the recorder writes it (damaged JSON, a field of the wrong type, a request whose shape
no Bedrock client could send, a usage Bedrock would never return) is skipped with its number and the reason; the
rest is still read. Lines are read with a length limit, so any file, however large or strange, costs bounded memory.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import limits
from ..call import Call
from ..errors import CachingError
from ..files import open_regular
from ..rules import RequestRejected
from ..rules.api import API
from ..rules.messages import converse_form
from ..rules.shape import depth, request_problem
from ..rules.tokens import canonical_json
from ..rules.usage import Usage

FIELDS: dict[str, tuple[type, ...]] = {
    "agent": (str,),
    "at": (int, float),
    "model_id": (str,),
    "request": (dict,),
    "usage": (dict, type(None)),
    "error": (str, type(None)),
}


class Problem(str):
    """One line about a skipped record: which line and why."""


class NotJson(Problem):
    """A skipped line that is no JSON at all (the doctor counts them to tell a file that is no recording)."""


def iter_recording(path: str | Path) -> Iterator[Call | Problem]:
    """Each call of a JSONL recording in order, or a Problem for a line that was skipped."""
    with io.TextIOWrapper(open_regular(path, "a JSONL recording"), encoding="utf-8", errors="replace") as lines:
        number = 0
        while True:
            line = lines.readline(limits.LONGEST_LINE + 1)
            if not line:
                return
            number += 1
            if len(line) > limits.LONGEST_LINE:
                yield Problem(
                    f"line {number}: longer than {limits.LONGEST_LINE:,} characters "
                    f"({limits.named('LONGEST_LINE')}), so this is not a recording; stopped reading."
                )
                return
            if line.strip():
                yield parse(line, number)


def parse(line: str, number: int) -> Call | Problem:
    """One recorded call, or why the line is skipped."""
    try:
        data = json.loads(line.strip())
    except json.JSONDecodeError as exc:
        return NotJson(f"line {number}: not valid JSON near column {exc.colno} ({exc.msg}); skipped it.")
    except (ValueError, RecursionError) as exc:
        return Problem(f"line {number}: not usable JSON ({str(exc)[:80]}); skipped it.")
    return call_of(data, number)


def call_of(data: Any, number: int) -> Call | Problem:
    """The call a recording line holds once read as JSON (`data`), or why the line is skipped."""
    if not isinstance(data, dict):
        return Problem(f"line {number}: expected a JSON object, got {type(data).__name__}; skipped it.")
    if depth(data, limits.DEEPEST) > limits.DEEPEST:
        return Problem(
            f"line {number}: nests lists and objects over {limits.DEEPEST} levels deep, more than a call "
            f"({limits.named('DEEPEST')}); skipped it."
        )
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
    data = {**data, "usage": data.get("usage"), "error": data.get("error")}  # absent, as checked above: None
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
        text = canonical_json(data)
    except (ValueError, RecursionError):
        return "the record holds numbers JSON cannot carry"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "the record holds a lone surrogate, not text"
    if data.get("api") == API.INVOKE:
        try:  # a Messages body botocore never checks: one Bedrock refuses is a call to diagnose, not a damaged line
            request = converse_form(data["request"])
        except RequestRejected:
            return None
    else:
        request = data["request"]
    problem = request_problem(request)  # what botocore would refuse to send
    return f"request.{problem}" if problem else None


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
