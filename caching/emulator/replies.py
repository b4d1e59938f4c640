"""The offline model: deterministic replies, so agents run end to end without Claude.

It is not a language model. It routes by keywords (documented below), calls the tools it is offered, and answers
from tool results or from a small local knowledge set. Every reply is marked as coming from the offline emulator.
Same request, same reply.

Routing of the last user question, when tools are offered:
- code words (write, code, function, script, implement, program, snippet, debug, fix, hello world) -> the tool whose
  name or description mentions "code";
- explanation words (what, why, how, explain, describe, compare, difference, tell, overview) -> the tool whose name
  or description mentions "research" (or "explain", "search", "knowledge");
- both kinds of words -> both tools, in one reply. No match -> an answer without tools.
After tool results arrive, it answers from them. Without tools, it answers in the kind the question asks for
(`kind_of`): a greeting or thanks, a list, code (a template for the task, or a skeleton that says it is one), or an
explanation from its few topics.

Any reply, this model's or a test's, is then held to the request's maxTokens (`bounded`): past it, the reply stops
where the limit falls, with stop reason max_tokens and exactly that many output tokens, as Bedrock answers.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Any

from ..rules.tokens import block_tokens, canonical_json, text_within
from .knowledge import (
    CODE_TEMPLATES,
    DEFAULT_CODE,
    GENERAL,
    GENERAL_POINTS,
    GREETING,
    POINTS,
    PYTHON_TASKS,
    THANKS,
    TOPICS,
)

MARK = "[offline emulator]"
MAX_TOKENS = "max_tokens"  # the stop reason of a reply cut off at maxTokens (both APIs spell it so)
CODE_WORDS = ("write", "code", "function", "script", "implement", "program", "snippet", "debug", "fix", "hello world")
EXPLAIN_WORDS = ("what", "why", "how", "explain", "describe", "compare", "difference", "tell", "overview")
CODE_TOOL_WORDS = ("code",)
CODE_VERBS = ("write", "implement", "create", "code", "build", "generate", "fix", "debug", "refactor")
LIST_VERBS = ("list", "name", "enumerate", "suggest")
LIST_PHRASES = re.compile(
    r"\b(what are (some|the)|give me (some|a few|\d+)|top \d+|examples of|ideas for|ways to|steps to|tips for|"
    r"best practices|make a list)\b"
)
GREETING_WORDS = frozenset(
    [
        "hi",
        "hello",
        "hey",
        "hiya",
        "good",
        "morning",
        "afternoon",
        "evening",
        "there",
        "thanks",
        "thank",
        "you",
        "cheers",
        "so",
        "much",
        "a",
        "lot",
        "all",
    ]
)
SKELETON_SKIPS = frozenset(
    [
        "write",
        "implement",
        "create",
        "code",
        "build",
        "generate",
        "fix",
        "debug",
        "refactor",
        "can",
        "could",
        "you",
        "please",
        "me",
        "a",
        "an",
        "the",
        "that",
        "which",
        "to",
        "for",
        "of",
        "in",
        "on",
        "with",
        "and",
        "function",
        "script",
        "program",
        "snippet",
        "python",
        "some",
        "small",
        "simple",
    ]
)
QUESTION_CHARACTERS = 2_000  # of the question, read to tell its kind: a pasted document says nothing more
EXPLAIN_TOOL_WORDS = ("research", "explain", "search", "knowledge")


def _has_word(text: str, words: tuple[str, ...]) -> bool:
    return _pattern(words).search(text) is not None


@functools.cache
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """One compiled search for any of the words, whole: the offline model asks it of every request."""
    return re.compile("|".join(rf"\b{re.escape(word)}\b" for word in words))


def _last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message["role"] == "user":
            texts = [block["text"] for block in message["content"] if "text" in block]
            if texts:
                return " ".join(texts)
    return ""


def _pending_tool_results(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(tool name, result text) for the tool results after the last user question, in order."""
    names: dict[str, str] = {}
    results: list[tuple[str, str]] = []
    for message in messages:
        for block in message["content"]:
            if "toolUse" in block:
                names[block["toolUse"]["toolUseId"]] = block["toolUse"]["name"]
            elif "toolResult" in block:
                result = block["toolResult"]
                parts = [p["text"] if "text" in p else canonical_json(p.get("json")) for p in result.get("content", [])]
                results.append((names.get(result["toolUseId"], "tool"), "\n".join(parts)))
            elif "text" in block and message["role"] == "user":
                results = []
    return results


def _pick_tool(tools: list[dict[str, Any]], words: tuple[str, ...]) -> dict[str, Any] | None:
    for field in ("name", "description"):
        for tool in tools:
            if any(word in tool.get(field, "").lower() for word in words):
                return tool
    return None


def _tool_input(spec: dict[str, Any], question: str) -> dict[str, Any]:
    schema = spec.get("inputSchema", {}).get("json", {})
    properties: dict[str, Any] = schema.get("properties", {})
    required = schema.get("required", [])
    strings = [name for name, prop in properties.items() if prop.get("type") == "string"]
    chosen = [name for name in required if name in strings] or strings[:1]
    values: dict[str, Any] = dict.fromkeys(chosen, question)
    for name in required:
        if name not in values:
            kind = properties.get(name, {}).get("type")
            values[name] = {"integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}.get(kind, question)
    return values


def kind_of(question: str) -> str:
    """What a question asks for: "greeting", "thanks", "list", "code" or "explanation" (the default). The first
    words decide before the rest: "Explain how to write a parser" asks for an explanation, not code."""
    lowered = question[:QUESTION_CHARACTERS].lower()
    words = re.findall(r"[a-z']+", lowered)
    if words and len(words) <= 5 and all(word in GREETING_WORDS for word in words):
        return "thanks" if {"thanks", "thank", "cheers"} & set(words) else "greeting"
    if LIST_PHRASES.search(lowered) or (words and words[0] in LIST_VERBS):
        return "list"
    if words and words[0] in EXPLAIN_WORDS:
        return "explanation"
    if (words and words[0] in CODE_VERBS) or _has_word(lowered, CODE_WORDS):
        return "code"
    return "explanation"


def knowledge_answer(question: str) -> str:
    """An answer from the local knowledge set, of the kind the question asks for (see `kind_of`)."""
    kind, lowered = kind_of(question), question[:QUESTION_CHARACTERS].lower()
    subject = question.strip().rstrip("?.!") or "nothing in particular"
    if kind == "greeting":
        return f"{MARK} {GREETING}"
    if kind == "thanks":
        return f"{MARK} {THANKS}"
    if kind == "code":
        language, code = _code_for(lowered, question)
        fence = f"```{language}\n{code}\n```"
        return f"{MARK} Here is a short {language} example for: {question}\n\n{fence}\n\nAdapt the names to your case."
    topic = next((words for words, _ in TOPICS if _has_word(lowered, words)), None)
    if kind == "list":
        points = POINTS.get(topic[0], GENERAL_POINTS) if topic else GENERAL_POINTS
        bullets = "\n".join(f"- {point}" for point in points)
        return f"{MARK} Here are a few:\n\n{bullets}"
    if topic is not None:
        return f"{MARK} {dict(TOPICS)[topic]}"
    return f"{MARK} {GENERAL.format(subject=repr(subject))}"


def _code_for(lowered: str, question: str) -> tuple[str, str]:
    """(language, code) for a request for code: another language's template when one is named, else a Python task
    the knowledge set has, else a named skeleton that says it is one."""
    for words, language, code in CODE_TEMPLATES:
        if language != "python" and _has_word(lowered, words):
            return language, code
    for words, code in PYTHON_TASKS:
        if _has_word(lowered, words):
            return "python", code
    for words, language, code in CODE_TEMPLATES:
        if _has_word(lowered, words):
            return language, code
    named = [w for w in re.findall(r"[a-z]+", lowered) if w not in SKELETON_SKIPS][:3] or ["solve"]
    task = " ".join(question.split())[:70].replace('"', "'")
    return "python", DEFAULT_CODE.format(name="_".join(named), task=task)


def reply(request: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The assistant content blocks and the stop reason for a Converse request."""
    messages: list[dict[str, Any]] = request["messages"]
    tools = [t["toolSpec"] for t in request.get("toolConfig", {}).get("tools", []) if "toolSpec" in t]
    question = _last_user_text(messages)

    results = _pending_tool_results(messages)
    if results:
        body = "\n\n".join(f"From {name}:\n{text.strip()[:1500]}" for name, text in results)
        return [{"text": f"{MARK} Here is what I found for: {question}\n\n{body}"}], "end_turn"

    # Each tool gets the part of the question meant for it: "Explain X and write Y" -> "Explain X", "write Y".
    clauses = [c.strip() for c in re.split(r"\band\b|[.;?!]", question) if c.strip()] or [question]
    briefs: dict[str, str] = {}
    for words, tool_words in ((EXPLAIN_WORDS, EXPLAIN_TOOL_WORDS), (CODE_WORDS, CODE_TOOL_WORDS)):
        tool = _pick_tool(tools, tool_words) if _has_word(question.lower(), words) else None
        if tool is not None:
            mine = [c for c in clauses if _has_word(c.lower(), words)]
            briefs.setdefault(tool["name"], question if len(mine) == len(clauses) else " and ".join(mine))
    calls = list(briefs)
    if not calls:
        return [{"text": knowledge_answer(question)}], "end_turn"

    seed = canonical_json(messages)
    blocks: list[dict[str, Any]] = [{"text": f"{MARK} I will ask {' and '.join(calls)}."}]
    for index, name in enumerate(calls):
        spec = next(t for t in tools if t["name"] == name)
        digest = hashlib.sha256(f"{seed}|{index}|{name}".encode()).hexdigest()[:24]
        blocks.append(
            {"toolUse": {"toolUseId": f"tooluse_{digest}", "name": name, "input": _tool_input(spec, briefs[name])}}
        )
    return blocks, "tool_use"


def max_tokens(request: dict[str, Any]) -> int | None:
    """The request's bound on the reply (inferenceConfig.maxTokens; InvokeModel's max_tokens in Converse's form)."""
    config = request.get("inferenceConfig")
    limit = config.get("maxTokens") if isinstance(config, dict) else None
    return limit if isinstance(limit, int) and not isinstance(limit, bool) else None


def bounded(
    content: list[dict[str, Any]], stop_reason: str, limit: int | None
) -> tuple[list[dict[str, Any]], str, int]:
    """A reply held to `limit` output tokens: (content, stop reason, output tokens). One that fits is as it was;
    one that does not stops where the limit falls: a text block is cut there, a tool call that does not fit whole
    is left out (the model was stopped part-way through it), and the output tokens are the limit."""
    costs = [block_tokens(block) for block in content]
    if limit is None or sum(costs) <= limit:
        return content, stop_reason, sum(costs)
    kept: list[dict[str, Any]] = []
    left = limit
    for block, cost in zip(content, costs, strict=True):
        if cost > left:
            text = text_within(block["text"], left) if "text" in block else ""
            kept += [{"text": text}] if text else []
            break
        kept.append(block)
        left -= cost
    return kept, MAX_TOKENS, limit
