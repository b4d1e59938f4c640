"""The catalogue of lint rules and its page: docs/lint-rules.md has one section per rule, in the catalogue's order and
words, and each section's example request fires exactly its rule while the fixed request fires none. Linted in
process, as `caching lint` lints a saved file."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

import pytest

from caching.call import Call
from caching.check.lint import lint
from caching.rules import API
from caching.rules.lint_rules import RULES

from ..helpers import ROOT, text_of

PAGE = ROOT / "docs" / "lint-rules.md"
SECTION = re.compile(r"^## (?P<code>\S+)\n(?P<body>.*?)(?=^## |\Z)", re.M | re.S)
EXAMPLE = re.compile(r"<!-- lint (?P<kind>example|fixed)(?P<flags>[^>]*?) -->\n```json\n(?P<json>.*?)\n```", re.S)
PLACEHOLDER = re.compile(r'"<(?P<tokens>[\d,]+) tokens of [^"<>]*>"')


@dataclass(frozen=True)
class Example:
    """One request of the page: the rule its section explains, and whether it is the example or the fixed one."""

    code: str
    kind: str
    body: dict[str, Any]
    model: str | None  # the --model its marker names

    @property
    def api(self) -> API:
        return API.of_body(self.body)

    @property
    def model_id(self) -> str:
        return self.model or str(self.body.get("modelId") or "")

    def call(self) -> Call:
        """The request as `caching lint` reads it from a file (`check.lint.load`)."""
        return Call(agent=f"{self.code} {self.kind}", at=0.0, model_id=self.model_id, request=self.body, api=self.api)


def sections() -> dict[str, str]:
    return {found["code"]: found["body"] for found in SECTION.finditer(PAGE.read_text())}


def expand(text: str) -> str:
    """A placeholder such as "<3,000 tokens of instructions>" as prose of exactly that many tokens (estimated)."""
    return PLACEHOLDER.sub(lambda m: json.dumps(text_of(int(m["tokens"].replace(",", "")))), text)


def examples() -> list[Example]:
    """Every example and fixed request of the page, in its order."""
    found = []
    for code, body in sections().items():
        for example in EXAMPLE.finditer(body):
            flags = shlex.split(example["flags"])
            model = flags[flags.index("--model") + 1] if "--model" in flags else None
            found.append(Example(code, example["kind"], json.loads(expand(example["json"])), model))
    return found


EXAMPLES = examples()


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_page_explains_every_rule_in_the_catalogue_order_and_words() -> None:
    found = sections()
    assert list(found) == list(RULES)
    for code, rule in RULES.items():
        body = words(found[code])
        assert f"Level: {rule.level_words}. What it finds: {rule.summary}." in body, code
        for said in (rule.summary, rule.why, rule.source, rule.fix):
            assert said in body, (code, said)
        assert [(e.code, e.kind) for e in EXAMPLES if e.code == code] == [(code, "example"), (code, "fixed")]


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.kind == "example"], ids=lambda e: e.code)
def test_each_example_fires_exactly_its_rule(example: Example) -> None:
    found = lint(example.call())
    assert {f.code for f in found} == {example.code}, found
    assert all(f.level in RULES[example.code].levels for f in found)


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.kind == "fixed"], ids=lambda e: e.code)
def test_each_fixed_request_is_clean(example: Example) -> None:
    assert lint(example.call()) == []


EXAMPLE_OF = {e.code: e for e in EXAMPLES if e.kind == "example"}
LOOKBACK = "more than the 21-block lookback"


@pytest.mark.parametrize(
    ("code", "place", "message"),
    [
        (
            # one tool, one system block and messages[0] come before the turn; 11 toolUse and 11 toolResult blocks in it
            "wide-fan-out",
            "messages[2].content[11]",
            f"the last turn added 22 blocks after messages[0], {LOOKBACK}: the previous call's entry is out of reach; "
            "add a cachePoint among them or fan out fewer tools per turn",
        ),
        (
            "beyond-lookback",
            "messages[0].content[22]",
            f"22 blocks since the checkpoint at system[1]: {LOOKBACK}, so a request that ends here cannot find that "
            "entry; add a checkpoint in between",
        ),
        (
            "duplicate-checkpoint",
            "system[2]",
            "right after the cachePoint at system[1]: it caches nothing more and uses one of the four; remove it",
        ),
        (
            "nested-checkpoint",
            "messages[2].content[0].toolResult.content[1]",
            "a cachePoint inside a toolResult: boto3 refuses to send it; put it after messages[2].content[0], in the "
            "message's content",
        ),
        (
            "fixed-checkpoint",
            "messages[0].content[1]",
            "the last message cachePoint stays before messages[2], the last user message: later turns are not "
            "cached; move it to the end of the last user message",
        ),
        (
            "no-message-checkpoint",
            "request",
            "3 messages and no cachePoint among them: every turn pays full price for the history; add one at the end "
            "of messages[2]",
        ),
        (
            "mixed-ttl",
            "messages[0].content[1]",
            "1h at system[1], then 5m from messages[0].content[1]: a 1h write costs 2x input, a 5m one 1.25x; "
            "`caching plan` shows which pays for your traffic",
        ),
        (
            "orphan-checkpoint",
            "system[0]",
            "Bedrock would reject this request: the cachePoint at system[0] has no block before it in its own list; "
            "move it after one",
        ),
        (
            "ttl-unsupported",
            "system[1]",
            "Bedrock would reject this request: claude-3-7-sonnet offers no 1h TTL (the cachePoint at system[1]); "
            "use ttl 5m",
        ),
        (
            "legacy-model",
            "modelId",
            "'anthropic.claude-3-haiku-20240307-v1:0' offers no prompt caching on Bedrock: nothing is ever cached; "
            "move to a model that caches",
        ),
        (
            "cache-key-setting",
            "request",
            "thinking is enabled, which keys the cache: calls of this agent without that (structured output forces a "
            "tool and drops thinking) share no entry with this one; keep it the same on every call",
        ),
    ],
)
def test_a_finding_names_its_place_and_says_the_fix(code: str, place: str, message: str) -> None:
    (found,) = lint(EXAMPLE_OF[code].call())
    assert (found.code, found.place, found.message) == (code, place, message)


def test_a_forced_tool_choice_with_thinking_is_one_finding() -> None:
    body = {
        **EXAMPLE_OF["cache-key-setting"].body,
        "toolConfig": {"tools": EXAMPLE_OF["nested-checkpoint"].body["toolConfig"]["tools"], "toolChoice": {"any": {}}},
    }
    found = lint(Call("forced", 0.0, EXAMPLE_OF["cache-key-setting"].model_id, body))
    assert [(f.code, f.message.split(", which")[0]) for f in found] == [
        ("cache-key-setting", "thinking is enabled and the tool choice is forced")
    ]
