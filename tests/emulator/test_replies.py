"""The offline model answers in the kind a question asks for (issue 21): deterministic, and costed like any reply."""

from __future__ import annotations

import pytest

from caching.emulator import Emulator, ManualClock
from caching.emulator.replies import kind_of, knowledge_answer
from caching.rules import block_tokens

from ..helpers import SONNET, user


@pytest.mark.parametrize(
    ("question", "kind", "holds"),
    [
        ("Hello!", "greeting", "Hello! I am the offline stand-in for Claude"),
        ("thanks a lot", "thanks", "You are welcome."),
        ("What is Python?", "explanation", "Python is a general-purpose programming language"),
        # The first words decide: an explanation about writing code is still an explanation.
        ("Explain how to write a decorator", "explanation", "A Python decorator is a function"),
        ("What are some good Python libraries?", "list", "- boto3, for AWS."),
        ("List the best practices for prompt caching", "list", "- Mark the end of the stable prefix"),
        ("Write a function to reverse a string", "code", "return text[::-1]"),
        ("Can you write a prime checker?", "code", "def is_prime(n: int) -> bool:"),
        ("Write hello world in JavaScript", "code", "```javascript\nfunction main() {"),
        ("Write hello world in Python", "code", 'print("Hello, world!")'),
        # No template: a skeleton named after the task, which says it is one (no unrelated template).
        ("Write a function that counts vowels", "code", 'def counts_vowels() -> None:\n    """Write a function that'),
        ("How does git branching work?", "explanation", "Git records a project's history"),
    ],
)
def test_each_question_gets_an_answer_of_its_kind(question: str, kind: str, holds: str) -> None:
    assert kind_of(question) == kind
    answer = knowledge_answer(question)
    assert answer.startswith("[offline emulator] ") and holds in answer
    assert knowledge_answer(question) == answer  # same question, same answer


def test_an_answer_is_costed_by_its_own_tokens() -> None:
    emulator = Emulator(clock=ManualClock())
    response = emulator.converse(SONNET, {"messages": [user("Write a function to reverse a string")]}, "AKIAONE")
    content = response["output"]["message"]["content"]
    assert "text[::-1]" in content[0]["text"]
    assert response["usage"]["outputTokens"] == sum(block_tokens(block) for block in content)
