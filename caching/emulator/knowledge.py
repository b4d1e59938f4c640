"""The offline model's small local knowledge: a few topics it can explain, and code it can write."""

from __future__ import annotations

# Each topic: the words that select it, and an answer of realistic length.
TOPICS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("cache", "caching", "cachepoint", "prompt caching"),
        "Prompt caching lets Bedrock reuse the processed state of a prompt prefix it has seen recently. You mark "
        "the end of a stable prefix with a cachePoint; the first request writes that prefix to the cache at 1.25 "
        "times the input price (2 times for a 1h entry), and later requests that send the same bytes read it back "
        "at a tenth of the input price. The prefix is read in the order tools, system, messages, so anything that "
        "changes early, like a timestamp in the system prompt, makes every later prefix new. A prefix below the "
        "model's minimum is silently not cached, entries live five minutes after their last use unless you ask "
        "for an hour, and caches are never shared between AWS accounts.",
    ),
    (
        ("python",),
        "Python is a general-purpose programming language known for readable syntax and a very large standard "
        "library. It is dynamically typed and garbage collected, runs on an interpreter (CPython is the reference "
        "one), and supports procedural, object-oriented and functional styles. It is widely used for automation, "
        "web back ends, data analysis and machine learning, largely because of its ecosystem: packages such as "
        "boto3 for AWS, pandas for tables and pytest for testing install with pip into a virtual environment. "
        "Its main trade-off is speed: pure Python is slower than compiled languages, so heavy numeric work is "
        "usually delegated to libraries written in C.",
    ),
    (
        ("bedrock", "aws", "amazon"),
        "Amazon Bedrock is AWS's managed service for foundation models. You call models such as Claude through "
        "one runtime API, Converse or ConverseStream, with IAM credentials instead of a separate vendor key. "
        "Inference profiles choose where a request may run: a global profile routes across regions and is the "
        "cheapest, a geographic one such as us. keeps traffic in that geography at a small premium, and an "
        "in-region id stays put. Bedrock reports usage on every response, including the tokens read from and "
        "written to the prompt cache, so cost can be measured call by call.",
    ),
    (
        ("strands", "agent", "agents"),
        "Strands Agents is an open-source Python SDK for building agents: a model, a system prompt and a set of "
        "tools, run in a loop where the model may call tools and see their results before answering. An agent can "
        "itself be a tool of another agent, which is how an orchestrator delegates to specialists. With Bedrock, "
        "a CacheConfig on the model makes Strands place cache points for you: at the end of the system prompt and "
        "in the last user message, so each turn reads the history the previous turn wrote.",
    ),
    (
        ("recursion", "recursive"),
        "Recursion is when a function solves a problem by calling itself on a smaller piece of the same problem, "
        "until it reaches a base case it can answer directly. Computing a factorial, walking a tree or splitting "
        "a list in merge sort are classic examples. Every recursive solution needs a base case that stops it and "
        "a step that makes progress toward it; without them the calls never end and the program runs out of stack.",
    ),
    (
        ("http", "api", "rest"),
        "HTTP is the request and response protocol of the web. A client sends a method (GET to read, POST to "
        "create, PUT or PATCH to change, DELETE to remove), a path, headers and an optional body; the server "
        "answers with a status code, headers and a body. A REST API organises resources behind such paths and "
        "uses the status codes to say what happened: 200 for success, 400 for a bad request, 403 for a request "
        "that is not allowed, 429 when the client is sending too fast.",
    ),
)

GENERAL = (
    "This answer comes from a small offline knowledge set, not from Claude, so it stays general. The question "
    "touches on {subject}. A real model would explain the idea, give an example and point out common pitfalls; "
    "here the point is that the request and its usage look exactly as they would on Bedrock, so the cache "
    "behaviour you see is the real rule at work."
)

CODE_TEMPLATES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("javascript", "node", "js"), "javascript", 'function main() {\n  console.log("Hello, world!");\n}\n\nmain();'),
    (("bash", "shell"), "bash", '#!/usr/bin/env bash\nset -euo pipefail\necho "Hello, world!"'),
    (
        ("factorial", "recursion", "recursive"),
        "python",
        'def factorial(n: int) -> int:\n    """n! computed recursively."""\n    if n < 0:\n'
        '        raise ValueError("n must be at least 0")\n    return 1 if n < 2 else n * factorial(n - 1)\n\n\n'
        "print(factorial(5))  # 120",
    ),
    (
        ("hello",),
        "python",
        'def main() -> None:\n    print("Hello, world!")\n\n\nif __name__ == "__main__":\n    main()',
    ),
)

DEFAULT_CODE = (
    "python",
    'def solve(values: list[int]) -> int:\n    """A starting point: sum the values; replace with the real logic."""\n'
    "    return sum(values)\n\n\nprint(solve([1, 2, 3]))",
)
