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
