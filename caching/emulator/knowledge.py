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
    (
        ("decorator", "decorators"),
        "A Python decorator is a function that takes a function and returns a new one, usually wrapping the "
        "original with behaviour before or after each call: logging, timing, caching results, checking "
        "permissions. Writing @name above a def is shorthand for func = name(func). Use functools.wraps inside "
        "the wrapper so the decorated function keeps its name and docstring, and remember that a decorator that "
        "takes arguments is a function returning the decorator itself.",
    ),
    (
        ("git", "commit", "branch"),
        "Git records a project's history as a chain of commits, each a snapshot of the files with a message and "
        "a pointer to its parent. A branch is a movable name for one line of commits, so work can go on in "
        "parallel and be merged back; a merge joins two lines, a rebase replays one on top of the other. The "
        "everyday loop is edit, git add to stage what belongs together, git commit with a message that says why, "
        "and git push to share it.",
    ),
    (
        ("docker", "container", "containers"),
        "Docker packages an application with everything it needs to run (its runtime, libraries and files) into "
        "an image, and runs that image as an isolated process called a container. A Dockerfile lists the steps "
        "that build the image, layer by layer, and unchanged layers are reused, so order the steps from the least "
        "to the most often changed. Containers start in about a second and behave the same on a laptop and in "
        "production, which is why they are the usual unit of deployment on ECS, EKS and Kubernetes.",
    ),
    (
        ("sql", "database", "databases"),
        "SQL is the language of relational databases: data lives in tables of rows and columns, and a query says "
        "what you want rather than how to find it. SELECT reads rows, WHERE filters them, JOIN combines tables "
        "on matching keys, GROUP BY aggregates, and INSERT, UPDATE and DELETE change data inside transactions "
        "that either complete or leave nothing behind. Indexes make lookups fast at the cost of slower writes.",
    ),
    (
        ("test", "tests", "testing", "pytest"),
        "Automated tests are small programs that run your code and check its results, so a change that breaks "
        "something is caught before it ships. In Python, pytest finds functions named test_* and reports every "
        "failing assert with the values involved; fixtures supply what a test needs, such as a temporary folder "
        "or a client. Good tests are fast, independent of each other and of the network, and assert exact "
        "values a reader can check by hand.",
    ),
)

# Short points per topic, for questions that ask for a list; the first word of each topic selects them.
POINTS: dict[str, tuple[str, ...]] = {
    "cache": (
        "Put what never changes first: tools, then the system prompt, then the conversation.",
        "Mark the end of the stable prefix with a cachePoint; the model's minimum prefix size applies.",
        "Keep timestamps and request ids after the last cachePoint, or every call writes a new prefix.",
        "Use a 1h TTL when calls are more than five minutes apart, 5m otherwise.",
        "Measure: every response reports the tokens read from and written to the cache.",
    ),
    "python": (
        "boto3, for AWS.",
        "pandas, for tables of data.",
        "requests or httpx, for HTTP.",
        "pytest, for tests.",
        "pydantic, for validated data models.",
    ),
    "bedrock": (
        "One runtime API (Converse) for many models.",
        "IAM credentials and policies instead of vendor keys.",
        "Inference profiles that route across regions.",
        "Usage, cache reads and writes reported on every call.",
        "Invocation logs to S3 or CloudWatch for auditing.",
    ),
    "strands": (
        "A model, a system prompt and tools are an agent.",
        "The agent loop calls tools until the model answers.",
        "An agent can be a tool of another agent.",
        "CacheConfig places cache points on Bedrock for you.",
    ),
}

GREETING = (
    "Hello! I am the offline stand-in for Claude in this lab. Ask me to explain something (what is prompt "
    "caching?) or to write some code (write hello world in Python), and watch what each model call reads from "
    "and writes to the cache."
)
THANKS = "You are welcome. Ask another question whenever you like; each turn shows what it read from the cache."

GENERAL_POINTS = (
    "Start from what the question is for: the outcome you need decides what matters.",
    "Find the two or three options people usually compare, and what each costs.",
    "Try the simplest one on a small example before committing to it.",
    "Write down what you learned so the next decision is quicker.",
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

PYTHON_TASKS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("reverse",),
        'def reverse(text: str) -> str:\n    """The characters of `text` in reverse order."""\n    return text[::-1]\n\n\n'
        'print(reverse("caching"))  # gnihcac',
    ),
    (
        ("palindrome",),
        'def is_palindrome(text: str) -> bool:\n    """True when `text` reads the same backwards, ignoring case and spaces."""\n'
        "    letters = [c.lower() for c in text if c.isalnum()]\n    return letters == letters[::-1]\n\n\n"
        'print(is_palindrome("Never odd or even"))  # True',
    ),
    (
        ("prime", "primes"),
        'def is_prime(n: int) -> bool:\n    """True when n has no divisor but 1 and itself."""\n    if n < 2:\n'
        "        return False\n    return all(n % d for d in range(2, int(n**0.5) + 1))\n\n\n"
        "print([n for n in range(20) if is_prime(n)])  # [2, 3, 5, 7, 11, 13, 17, 19]",
    ),
    (
        ("fibonacci",),
        'def fibonacci(count: int) -> list[int]:\n    """The first `count` Fibonacci numbers."""\n    numbers = [0, 1]\n'
        "    while len(numbers) < count:\n        numbers.append(numbers[-1] + numbers[-2])\n"
        "    return numbers[:count]\n\n\nprint(fibonacci(10))  # [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]",
    ),
    (
        ("sort", "sorted", "sorting"),
        'people = [("Ana", 31), ("Bo", 25), ("Cy", 40)]\n\n# sorted() returns a new list; key says what to compare\n'
        "by_age = sorted(people, key=lambda person: person[1])\nprint(by_age)  # [('Bo', 25), ('Ana', 31), ('Cy', 40)]",
    ),
    (
        ("fizzbuzz",),
        'for n in range(1, 16):\n    print("Fizz" * (n % 3 == 0) + "Buzz" * (n % 5 == 0) or n)',
    ),
    (
        ("file", "files", "csv"),
        "import csv\nfrom pathlib import Path\n\n\ndef rows(path: Path) -> list[dict[str, str]]:\n"
        '    """Every row of a CSV file with a header line, as a dict."""\n    with path.open(newline="") as f:\n'
        "        return list(csv.DictReader(f))",
    ),
    (
        ("json",),
        'import json\n\nrecord = {"model": "claude", "tokens": 2100}\ntext = json.dumps(record)  # to a string\n'
        "assert json.loads(text) == record  # and back",
    ),
    (
        ("bedrock", "converse", "boto3"),
        'import boto3\n\nclient = boto3.client("bedrock-runtime", region_name="us-east-1")\n'
        "response = client.converse(\n"
        '    modelId="global.anthropic.claude-sonnet-4-6",\n'
        '    system=[{"text": "You are concise."}, {"cachePoint": {"type": "default"}}],\n'
        '    messages=[{"role": "user", "content": [{"text": "Hello"}]}],\n)\n'
        'print(response["usage"])  # cacheReadInputTokens, cacheWriteInputTokens, ...',
    ),
)

DEFAULT_CODE = (
    'def {name}() -> None:\n    """{task}"""\n'
    '    raise NotImplementedError("the offline emulator knows no code for this; a real model would write it")'
)
