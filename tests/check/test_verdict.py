"""One verdict: a variant says what differs, severities follow one rule, and lint, diff and the doctor name the same
cause in the same words, at places named in the request's own terms."""

from __future__ import annotations

from typing import Any

import pytest

from caching.call import Call
from caching.check.doctor import Doctor
from caching.emulator import Emulator, ManualClock
from caching.rules import API, Diagnosis, Kind, linearize
from caching.rules.prompt import DEFAULT_VARIANT
from caching.rules.severity import Severity
from caching.rules.variant import ToolChoice, Variant

from ..helpers import CP, SONNET, user
from .test_lint import GUIDE, codes, diff

THINKING = {"additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}}}


@pytest.mark.parametrize(
    ("request_body", "api", "variant"),
    [
        ({}, API.CONVERSE, Variant()),
        ({}, API.INVOKE, Variant(api=API.INVOKE)),
        (THINKING, API.CONVERSE, Variant(thinking="enabled:1024")),
        ({"additionalModelRequestFields": {"output_config": {"effort": "low"}}}, API.CONVERSE, Variant(effort="low")),
        (
            {"toolConfig": {"tools": [], "toolChoice": {"any": {}}}},
            API.CONVERSE,
            Variant(tool_choice=ToolChoice.FORCED),
        ),
        ({"toolConfig": {"tools": [], "toolChoice": {"auto": {}}}}, API.CONVERSE, Variant()),
    ],
)
def test_a_variant_is_built_once_from_the_request(request_body: dict[str, Any], api: API, variant: Variant) -> None:
    assert Variant.of(request_body, api) == variant


def test_a_variant_says_what_differs() -> None:
    assert Variant().differences(Variant()) == ()
    assert Variant(api=API.INVOKE, effort="low").differences(Variant()) == (
        "it went through another API (Converse and InvokeModel build different prompts)",
        "its effort setting differs",
    )
    assert Variant(thinking="enabled:1024", tool_choice=ToolChoice.FORCED).differences(Variant()) == (
        "its thinking settings differ",
        "its tool choice differs (auto or none vs any or a named tool)",
    )


def test_a_prompt_holds_its_variant_and_a_different_one_shares_no_entry() -> None:
    from caching.rules import Catalog, prefix_digests

    model = Catalog().find(SONNET)
    assert model is not None
    request = {"system": [{"text": GUIDE}, CP], "messages": [user("Hi")]}
    plain, thinking = linearize(request, model), linearize({**request, **THINKING}, model)
    assert plain.variant == DEFAULT_VARIANT and thinking.variant == Variant(thinking="enabled:1024")
    assert prefix_digests(plain)[1] != prefix_digests(thinking)[1]


@pytest.mark.parametrize(
    ("kind", "severity"),
    [
        (Kind.REJECTED, Severity.ERROR),
        (Kind.BELOW_MINIMUM, Severity.ERROR),
        (Kind.HIT, Severity.INFO),
        (Kind.NEW_PREFIX, Severity.WARNING),
        (Kind.EXPIRED, Severity.WARNING),
        (Kind.BEYOND_LOOKBACK, Severity.WARNING),
        (Kind.NO_CACHE_POINT, Severity.WARNING),
    ],
)
def test_a_diagnosis_has_the_severity_of_its_kind(kind: Kind, severity: Severity) -> None:
    assert Diagnosis(kind, "").severity == severity


def test_a_timestamp_is_an_error_only_before_the_first_point_that_caches(tmp_path: Any) -> None:
    stamped = "Now: 2026-11-30 09:15."
    before = {"modelId": SONNET, "system": [{"text": stamped + GUIDE}, CP], "messages": [user("Hi", CP)]}
    after = {"modelId": SONNET, "system": [{"text": GUIDE}, CP], "messages": [user(stamped, CP)]}
    dated = {"modelId": SONNET, "system": [{"text": "Today is 2026-11-30. " + GUIDE}, CP], "messages": [user("Hi")]}
    assert codes(tmp_path, before, expect=1) == [("error", "dynamic-text", "system[0]")]
    assert codes(tmp_path, after, expect=0) == [("warning", "dynamic-text", "messages[0].content[0]")]
    assert codes(tmp_path, dated, expect=0) == [("warning", "dynamic-text", "system[0]")]


def test_lint_and_diff_name_a_timestamp_in_the_same_words(tmp_path: Any) -> None:
    first = {"modelId": SONNET, "system": [{"text": "09:15 " + GUIDE}, CP], "messages": [user("Hi")]}
    second = {"modelId": SONNET, "system": [{"text": "09:16 " + GUIDE}, CP], "messages": [user("Hi")]}
    words = "'09:16' looks like a timestamp; move it after the checkpoint"
    assert diff(tmp_path, first, second, expect=1) == (
        f"misses everything the first cached: prefix changed in system block 0 at character 4: {words}"
    )
    from .test_lint import lint

    assert f"error: dynamic-text: system[0]: {words} (every call writes a new entry and none can read)" in lint(
        tmp_path, second, expect=1
    )


def test_the_doctor_names_a_place_in_an_invoke_model_body_as_written() -> None:
    def body(minute: int) -> dict[str, Any]:
        return {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 100,
            "system": [
                {"type": "text", "text": "Be kind.", "cache_control": {"type": "ephemeral"}},
                {
                    "type": "text",
                    "text": f"Now: 2026-11-30 09:{minute}. {GUIDE}",
                    "cache_control": {"type": "ephemeral"},
                },
            ],
            "messages": [{"role": "user", "content": "Hi"}],
        }

    clock = ManualClock(1_000.0)
    emulator, doctor = Emulator(clock=clock), Doctor()
    for minute in (15, 16):
        _, usage = emulator.invoke(SONNET, body(minute), "AKIAVERDICT000000001")
        said = doctor.observe(Call("app", clock(), SONNET, body(minute), usage=usage, api=API.INVOKE))
        assert said == emulator.records[-1].diagnosis
    # The body's system[1]; its Converse form has the cachePoint of system[0] at [1], and this block at [2].
    assert said.message == (
        "prefix changed in system block 1 at character 20: '2026-11-30 09:16' looks like a timestamp; move it after "
        "the checkpoint"
    )
