"""`caching lint` finds each problem in a request that has it and nothing in a clean one; `caching diff` says why one
request would miss what another cached."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from caching.__main__ import main as cli

from .helpers import CP, SONNET, cp, render_with, text_of, user

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
            ("error", "rejected", "request"),
        ),
        (
            {**CLEAN, "system": [{"text": GUIDE}, cp("5m")], "messages": [user("Hi", cp("1h"))]},
            1,
            ("error", "rejected", "request"),
        ),
        ({**CLEAN, "system": [CP, {"text": GUIDE}]}, 1, ("error", "rejected", "request")),
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
    assert text.startswith(f"::error file={path},title=caching below-minimum at system[1]::~1,500 tokens before it")
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
    assert ("error", "rejected", "request") in codes(tmp_path, body, expect=1)
    good = {**body, "system": [{"type": "text", "text": GUIDE, "cache_control": {"type": "ephemeral"}}]}
    assert diff(tmp_path, good, CLEAN, expect=1).startswith("one goes through Converse, the other through InvokeModel")
