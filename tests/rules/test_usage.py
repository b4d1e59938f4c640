"""Usage records from Bedrock usage dicts: missing keys count 0, bad values get one clear line."""

from __future__ import annotations

from typing import Any

import pytest

from caching import Usage
from caching.errors import UsageError
from caching.rules import API
from caching.rules.messages import converse_usage


def test_from_bedrock_keeps_bedrock_names_and_fills_missing_keys() -> None:
    usage = Usage.from_bedrock(
        {"inputTokens": 10, "cacheReadInputTokens": 2_000, "cacheDetails": [{"ttl": "5m", "inputTokens": 5}]}
    )
    assert usage == Usage(inputTokens=10, cacheReadInputTokens=2_000, cacheDetails=(("5m", 5),))
    assert (usage.prompt_tokens, usage.totalTokens) == (2_010, 2_010)
    assert Usage.from_bedrock({}) == Usage()


def test_sum_adds_every_field_and_merges_details() -> None:
    a = Usage(1, 2, 3, 4, (("5m", 4),))
    b = Usage(10, 20, 30, 40, (("1h", 40),))
    assert a + b == Usage(11, 22, 33, 44, (("1h", 40), ("5m", 4)))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"inputTokens": -5},
            "inputTokens cannot be negative, got -5: pass the usage dict Bedrock returned.",
        ),
        (
            {"outputTokens": "12"},
            "outputTokens must be a whole number of tokens, got '12': pass the usage dict Bedrock returned.",
        ),
        (
            {"cacheReadInputTokens": 1.5},
            "cacheReadInputTokens must be a whole number of tokens, got 1.5: pass the usage dict Bedrock returned.",
        ),
        (
            {"cacheWriteInputTokens": True},
            "cacheWriteInputTokens must be a whole number of tokens, got True: pass the usage dict Bedrock returned.",
        ),
        (None, "A usage record must be a dict of token counts, got None: pass response['usage']."),
        ("lots", "A usage record must be a dict of token counts, got 'lots': pass response['usage']."),
        (
            {"cacheDetails": [{"ttl": "10m", "inputTokens": 1}]},
            "cacheDetails entries need ttl '5m' or '1h', got {'ttl': '10m', 'inputTokens': 1}.",
        ),
    ],
)
def test_bad_usage_gets_one_line(raw: Any, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        Usage.from_bedrock(raw)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_of_splits_the_writes_by_ttl_one_hour_first() -> None:
    usage = Usage.of(regular=7, output=20, read=2_000, write_5m=300, write_1h=4_000)
    assert usage == Usage(7, 20, 2_000, 4_300, (("1h", 4_000), ("5m", 300)))
    assert Usage.of(regular=7, write_5m=300) == Usage(7, 0, 0, 300, (("5m", 300),))


def test_to_bedrock_writes_converse_usage_and_reads_back_the_same() -> None:
    usage = Usage.of(regular=7, output=20, read=2_000, write_5m=300, write_1h=4_000)
    assert usage.to_bedrock() == {
        "inputTokens": 7,
        "outputTokens": 20,
        "totalTokens": 7 + 20 + 2_000 + 4_300,
        "cacheReadInputTokens": 2_000,
        "cacheWriteInputTokens": 4_300,
        "cacheDetails": [{"ttl": "1h", "inputTokens": 4_000}, {"ttl": "5m", "inputTokens": 300}],
    }
    assert Usage.from_bedrock(usage.to_bedrock()) == usage


def test_to_bedrock_writes_invoke_model_usage_with_anthropic_names() -> None:
    usage = Usage.of(regular=7, output=20, read=2_000, write_5m=300, write_1h=4_000)
    assert usage.to_bedrock(API.INVOKE) == {
        "input_tokens": 7,
        "cache_creation_input_tokens": 4_300,
        "cache_read_input_tokens": 2_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 300, "ephemeral_1h_input_tokens": 4_000},
        "output_tokens": 20,
    }
    assert Usage.from_bedrock(converse_usage(usage.to_bedrock(API.INVOKE))) == usage


def test_a_count_no_call_can_hold_is_refused_in_one_sentence() -> None:
    """A damaged record's count (10^400 tokens) once reached the doctor's float arithmetic and overflowed."""
    import pytest

    from caching.errors import UsageError
    from caching.rules.usage import Usage

    with pytest.raises(UsageError) as caught:
        Usage.from_bedrock({"inputTokens": 10**400})
    assert str(caught.value) == (
        "inputTokens is a number of 401 digits, more than one call can hold (CACHING_LIMIT_MOST_TOKENS_IN_A_CALL): "
        "pass the usage dict Bedrock returned."
    )
    assert Usage.from_bedrock({"inputTokens": 1_000_000_000}).inputTokens == 1_000_000_000  # the bound itself is kept
