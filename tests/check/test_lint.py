"""`caching lint` finds each problem in a request that has it and nothing in a clean one; `caching diff` says why one
request would miss what another cached."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from caching.__main__ import main as cli
from caching.rules import block_tokens

from ..helpers import CP, SONNET, TOOL_PROMPT, cp, message_tokens, render_with, text_of, user

GUIDE = text_of(3_000)
CLEAN = {"modelId": SONNET, "system": [{"text": GUIDE}, CP], "messages": [user("Where is my order?", cp())]}
ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"


def saved(tmp_path: Path, request: Any, name: str = "request.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(request))
    return str(path)


def lint(tmp_path: Path, request: Any, *flags: str, expect: int = 0) -> str:
    return render_with(
        lambda console: cli(["lint", saved(tmp_path, request), *flags], console), width=300, expect=expect
    )


def codes(tmp_path: Path, request: Any, expect: int) -> list[tuple[str, str, str]]:
    found = json.loads(lint(tmp_path, request, "--json", expect=expect))
    return [(f["level"], f["code"], f["place"]) for f in found]


def test_several_files_at_once(tmp_path: Path) -> None:
    good, bad = (
        saved(tmp_path, CLEAN, "good.json"),
        saved(tmp_path, {**CLEAN, "system": [{"text": "x"}, CP]}, "bad.json"),
    )
    text = render_with(lambda console: cli(["lint", good, bad, "--json"], console), width=300, expect=1)
    assert [(f["file"], f["code"]) for f in json.loads(text)] == [(bad, "below-minimum")] * 2  # both checkpoints


def test_a_clean_request_has_no_finding(tmp_path: Path) -> None:
    assert codes(tmp_path, CLEAN, expect=0) == []
    assert lint(tmp_path, CLEAN).endswith("0 errors, 0 warnings (token counts are estimates).\n")


@pytest.mark.parametrize(
    ("request_body", "expect", "finding"),
    [
        (
            {**CLEAN, "system": [{"text": "Today is 2026-11-30 09:15. " + GUIDE}, CP]},
            1,
            ("error", "dynamic-text", "system[0]"),
        ),
        (
            {**CLEAN, "system": [{"text": "Request 3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f. " + GUIDE}, CP]},
            1,
            ("error", "dynamic-text", "system[0]"),
        ),
        (
            {**CLEAN, "system": [{"text": text_of(1_500)}, CP], "messages": [user("Hi")]},
            1,
            ("error", "below-minimum", "system[1]"),
        ),
        (
            {**CLEAN, "system": [{"text": text_of(2_300)}, CP], "messages": [user("Hi")]},
            0,
            ("warning", "near-minimum", "system[1]"),
        ),
        (
            {**CLEAN, "system": [{"text": GUIDE}, CP, CP, CP, CP], "messages": [user("Hi", cp())]},
            1,
            ("error", "too-many-checkpoints", "messages[0].content[1]"),
        ),
        (
            {**CLEAN, "system": [{"text": GUIDE}, cp("5m")], "messages": [user("Hi", cp("1h"))]},
            1,
            ("error", "ttl-order", "messages[0].content[1]"),
        ),
        ({**CLEAN, "system": [CP, {"text": GUIDE}]}, 1, ("error", "orphan-checkpoint", "system[0]")),
        (
            {**CLEAN, "messages": [{"role": "user", "content": [*({"text": f"part {i}"} for i in range(25)), CP]}]},
            0,
            ("warning", "beyond-lookback", "messages[0].content[25]"),
        ),
        ({**CLEAN, "modelId": ARN}, 0, ("warning", "auto-off", "modelId")),
        (
            {
                "anthropic_version": "bedrock-2023-05-31",
                "max_tokens": 100,
                "system": GUIDE,
                "messages": [{"role": "user", "content": "Hi"}],
            },
            0,
            ("warning", "string-system", "system"),
        ),
    ],
)
def test_each_problem_is_found(
    tmp_path: Path, request_body: dict[str, Any], expect: int, finding: tuple[str, str, str]
) -> None:
    assert finding in codes(tmp_path, request_body, expect=expect)


def test_github_annotations_and_could_not_run(tmp_path: Path) -> None:
    bad = {**CLEAN, "system": [{"text": text_of(1_500)}, CP]}
    path = saved(tmp_path, bad)
    text = render_with(lambda console: cli(["lint", path, "--github"], console), width=400, expect=1)
    assert text.startswith(
        f"::error file={path},title=caching below-minimum at system[1]::prefix below minimum: ~1,500 < 2,048 tokens "
        "for claude-sonnet-4-6; add about 548 tokens or move the checkpoint later\n"
    )
    assert render_with(lambda console: cli(["lint", str(tmp_path / "none.json")], console), expect=2).startswith(
        "Error: Cannot read"
    )
    assert render_with(lambda console: cli(["lint", saved(tmp_path, [1])], console), expect=2).startswith("Error: ")


def diff(tmp_path: Path, first: dict[str, Any], second: dict[str, Any], expect: int) -> str:
    a, b = saved(tmp_path, first, "a.json"), saved(tmp_path, second, "b.json")
    text = render_with(lambda console: cli(["diff", a, b], console), width=300, expect=expect)
    return " ".join(text.split()).split(": ", 1)[1]  # a long line may wrap: read it whole


def test_diff_names_what_changed(tmp_path: Path) -> None:
    later = {
        **CLEAN,
        "messages": [
            user("Where is my order?"),
            {"role": "assistant", "content": [{"text": "On its way."}]},
            user("When?", cp()),
        ],
    }
    assert (
        diff(tmp_path, CLEAN, later, expect=0)
        == "the second request reads all the first cached: ~3,008 tokens up to messages[0].content[1]"
    )
    stamped = {**CLEAN, "system": [{"text": "Today is 2026-11-30 09:16. " + GUIDE}, CP]}
    earlier = {**CLEAN, "system": [{"text": "Today is 2026-11-30 09:15. " + GUIDE}, CP]}
    assert diff(tmp_path, earlier, stamped, expect=1) == (
        "misses everything the first cached: prefix changed in system block 0 at character 24: '2026-11-30 09:16' "
        "looks like a timestamp; move it after the checkpoint"
    )
    other_question = {**CLEAN, "messages": [user("Is it shipped?", cp())]}
    assert diff(tmp_path, CLEAN, other_question, expect=1).startswith(
        "reads ~3,000 tokens up to system[1], then misses: "
    )


def test_an_invoke_model_body_bedrock_refuses_is_an_error_and_apis_never_share(tmp_path: Path) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 10,
        "system": [{"type": "text", "text": "hi", "cache_control": {"type": "bogus"}}],
        "messages": [{"role": "user", "content": "x"}],
    }
    assert codes(tmp_path, body, expect=1) == [
        ("info", "no-model", "modelId"),
        ("error", "invalid-checkpoint", "request"),
    ]
    good = {**body, "system": [{"type": "text", "text": GUIDE, "cache_control": {"type": "ephemeral"}}]}
    assert diff(tmp_path, good, CLEAN, expect=1) == (
        "misses everything the first cached: like an earlier request, but it went through another API (Converse and "
        "InvokeModel build different prompts), and that keys the cache: keep it the same between calls"
    )


TOOL = {"toolSpec": {"name": "lookup", "description": "Find an order.", "inputSchema": {"json": {}}}}
# The lab's default (combined) setup: Strands puts a cachePoint after the tools, the system prompt and the last turn.
DEFAULT_SETUP = {
    "modelId": SONNET,
    "toolConfig": {"tools": [TOOL, CP]},
    "system": [{"text": GUIDE}, CP],
    "messages": [user("Where is my order?", cp())],
}
TOOLS_TOKENS = TOOL_PROMPT + block_tokens(TOOL)  # the tool-use system prompt is counted with the first tool


def test_a_point_below_the_minimum_before_one_that_caches_is_information(tmp_path: Path) -> None:
    assert codes(tmp_path, DEFAULT_SETUP, expect=0) == [("info", "below-minimum", "tools[1]")]
    assert (
        lint(tmp_path, DEFAULT_SETUP)
        .splitlines()[0]
        .endswith(
            f": info: below-minimum: tools[1]: prefix below minimum: ~{TOOLS_TOKENS:,} < 2,048 tokens for claude-sonnet-4-6: this point "
            "caches nothing and costs nothing; system[1] caches"
        )
    )


def test_diff_claims_no_read_where_nothing_is_cached(tmp_path: Path) -> None:
    short = {**DEFAULT_SETUP, "system": [{"text": "Be brief."}, CP]}
    have = TOOLS_TOKENS + block_tokens({"text": "Be brief."}) + message_tokens(user("Where is my order?"))
    assert diff(tmp_path, DEFAULT_SETUP, short, expect=1) == (
        f"misses everything the first cached: prefix below minimum: ~{have:,} < 2,048 tokens for claude-sonnet-4-6; "
        f"add about {2_048 - have:,} tokens or move the checkpoint later"
    )
    other = {**DEFAULT_SETUP, "system": [{"text": text_of(2_500, "tone")}, CP]}
    written = TOOLS_TOKENS + 2_500 + message_tokens(user("Where is my order?"))
    assert diff(tmp_path, DEFAULT_SETUP, other, expect=1) == (
        f"misses everything the first cached: first request like this: {written:,} tokens written for the next one "
        "to read"
    )


def test_invoke_model_places_are_named_in_the_body(tmp_path: Path) -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 100,
        "system": [
            {"type": "text", "text": text_of(1_500), "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "Today is 2026-11-30 09:15."},
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Hi"},
                    {"type": "text", "text": text_of(1_000), "cache_control": {"type": "ephemeral"}},
                ],
            }
        ],
    }
    assert codes(tmp_path, body, expect=1) == [
        ("info", "no-model", "modelId"),
        ("error", "dynamic-text", "system[1]"),
        ("info", "below-minimum", "system[0]"),
        ("warning", "near-minimum", "messages[0].content[1]"),
    ]


STAMPED_THINKING = {
    **CLEAN,
    "system": [{"text": "Now: 2026-11-30 09:15. " + GUIDE}, CP],
    "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}},
}
BOTH = [("error", "dynamic-text", "system[0]"), ("info", "cache-key-setting", "request")]


def test_rules_lists_the_catalogue_at_80_columns_and_as_json() -> None:
    from caching.rules.lint_rules import RULES

    listed = json.loads(render_with(lambda console: cli(["lint", "--rules", "--json"], console), width=300))
    assert [rule["code"] for rule in listed] == list(RULES)
    assert listed[0] == {
        "code": "no-model",
        "levels": ["info"],
        "summary": RULES["no-model"].summary,
        "why": RULES["no-model"].why,
        "source": RULES["no-model"].source,
        "fix": RULES["no-model"].fix,
    }
    text = render_with(lambda console: cli(["lint", "--rules"], console), width=80)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    assert text.startswith(f"{len(RULES)} lint rules (docs/lint-rules.md explains each)")
    assert [line.split()[0] for line in text.splitlines()[4:] if line.startswith(" ") and line[1] != " "] == list(RULES)


@pytest.mark.parametrize(
    ("flags", "expect", "found"),
    [
        ((), 1, BOTH),
        (("--ignore", "dynamic-text"), 0, BOTH[1:]),
        (("--select", "dynamic-text"), 1, BOTH[:1]),
        (("--select", " dynamic-text, cache-key-setting "), 1, BOTH),
        (("--select", "dynamic-text,cache-key-setting", "--ignore", "dynamic-text"), 0, BOTH[1:]),
    ],
)
def test_select_and_ignore_choose_the_rules_and_the_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...], expect: int, found: list[Any]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert [
        (f["level"], f["code"], f["place"])
        for f in json.loads(lint(tmp_path, STAMPED_THINKING, "--json", *flags, expect=expect))
    ] == found


def test_the_pyproject_table_selects_and_a_flag_replaces_its_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.caching.lint]\nignore = ["dynamic-text"]\n'
    )
    assert codes(tmp_path, STAMPED_THINKING, expect=0) == BOTH[1:]
    found = json.loads(lint(tmp_path, STAMPED_THINKING, "--json", "--ignore", "cache-key-setting", expect=1))
    assert [f["code"] for f in found] == ["dynamic-text"]
    (tmp_path / "pyproject.toml").write_text('[tool.caching.lint]\nselect = ["cache-key-setting"]\n')
    assert codes(tmp_path, STAMPED_THINKING, expect=0) == BOTH[1:]


@pytest.mark.parametrize(
    ("flags", "pyproject", "said"),
    [
        (
            ("--select", "dynamic-text,no-such-rule"),
            None,
            "--select names 'no-such-rule', which is no lint rule: `caching lint --rules` lists the codes.",
        ),
        (
            ("--ignore", "Dynamic-Text"),
            None,
            "--ignore names 'Dynamic-Text', which is no lint rule: `caching lint --rules` lists the codes.",
        ),
        (
            (),
            '[tool.caching.lint]\nignore = ["timestamp"]\n',
            "[tool.caching.lint] ignore names 'timestamp', which is no lint rule: `caching lint --rules` lists the "
            "codes.",
        ),
        (
            (),
            '[tool.caching.lint]\nselect = "dynamic-text"\n',
            '[tool.caching.lint] select is str, not a list of rule codes: write ["dynamic-text"].',
        ),
        (
            (),
            '[tool.caching.lint]\nexclude = ["x"]\n',
            "[tool.caching.lint] in 'pyproject.toml' has 'exclude': only select and ignore are read.",
        ),
        (
            (),
            "[tool.caching.lint]\nignore = [{a = 1}]\n",
            "[tool.caching.lint] ignore names \"{'a': 1}\", which is no lint rule: `caching lint --rules` lists the codes.",
        ),
        ((), "[tool.caching.lint\n", "'pyproject.toml' is not valid TOML (Expected ']' at the end of a table "),
    ],
)
def test_a_code_that_names_no_rule_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: tuple[str, ...], pyproject: str | None, said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    path = saved(tmp_path, CLEAN)
    text = render_with(lambda console: cli(["lint", path, *flags], console), width=300, expect=2)
    assert text.startswith(f"Error: {said}") and text.count("\n") == 1, text


def test_lint_with_no_file_says_what_to_pass() -> None:
    text = render_with(lambda console: cli(["lint"], console), width=300, expect=2)
    assert text == "Error: Name at least one REQUEST.json to check, or pass --rules to list the rules.\n"


def test_every_output_carries_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = saved(tmp_path, STAMPED_THINKING)
    github = render_with(lambda console: cli(["lint", path, "--github"], console), width=300, expect=1).splitlines()
    assert [line.split("::")[1] for line in github] == [
        f"error file={path},title=caching dynamic-text at system[0]",
        f"notice file={path},title=caching cache-key-setting at request",
    ]
    text = lint(tmp_path, STAMPED_THINKING, expect=1).splitlines()
    assert [line.split(": ")[1:4] for line in text[:2]] == [
        ["error", "dynamic-text", "system[0]"],
        ["info", "cache-key-setting", "request"],
    ]
