"""The as-sent figures come from the logged counts alone, even when they disagree with the offline estimate of each
prefix (a real tokenizer counts more than chars/4, and a request's tail after its last cache point is not cached):
spend, hits, writes never read and their cost, checked against a log written here and worked out by hand."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from caching.__main__ import main as cli
from caching.audit import audit, read, render
from caching.audit.audit import AS_SENT
from caching.audit.logs import when
from caching.audit.report import as_json
from caching.pricing import prices_for

from ..helpers import CP, SONNET, assistant, render_with, text_of, user

GUIDE, OTHER = text_of(3_000), text_of(2_400, "word")
CP_1H: dict[str, Any] = {"cachePoint": {"type": "default", "ttl": "1h"}}
MILLION = Decimal(1_000_000)


def record(at: int, system: list[Any], messages: list[Any], regular: int, read: int, written: dict[str, int]) -> str:
    """One Converse record as Bedrock logs it, `at` seconds after 2026-11-30T10:00Z, with the counts chosen here."""
    usage = {
        "inputTokens": regular,
        "outputTokens": 50,
        "cacheReadInputTokens": read,
        "cacheWriteInputTokens": sum(written.values()),
        "cacheDetails": [{"ttl": ttl, "inputTokens": tokens} for ttl, tokens in written.items()],
    }
    return json.dumps(
        {
            "schemaType": "ModelInvocationLog",
            "timestamp": f"2026-11-30T{10 + at // 3600:02d}:{at % 3600 // 60:02d}:{at % 60:02d}Z",
            "accountId": "111122223333",
            "region": "us-east-1",
            "operation": "Converse",
            "modelId": SONNET,
            "identity": {"arn": "arn:aws:iam::111122223333:role/app"},
            "input": {"inputBodyJson": {"system": system, "messages": messages}},
            "output": {"outputBodyJson": {"usage": usage}},
        }
    )


Q1, A1 = user("Where is my order?"), assistant("It shipped on Monday.")
SYSTEM, SYSTEM_1H = [{"text": GUIDE}, CP], [{"text": OTHER}, CP_1H]
# (seconds, system, messages, regular, read, written by TTL). The counts are what a real tokenizer might report:
# about 10% above the offline estimate for the prose, more for the short questions (so the estimate, scaled to a
# call's total, puts its cache point tens of tokens away from where the logged write ended).
CALLS = [
    # 1. writes the guide, 3,310 tokens; the question after it is regular input.
    (0, SYSTEM, [Q1], 60, 0, {"5m": 3_310}),
    # 2. two minutes on: reads the whole guide (its entry now lives until 420 s).
    (120, SYSTEM, [user("Can I change the address?")], 15, 3_310, {}),
    # 3. reads the guide again (now lives until 700 s) and writes the conversation, 140 tokens no one reads.
    (400, SYSTEM, [Q1, A1, user("When will it arrive?", CP)], 0, 3_310, {"5m": 140}),
    # 4. all expired at 700 s: writes guide and conversation anew, 3,460 tokens in two entries.
    (1_000, SYSTEM, [Q1, A1, user("Is it insured?", CP)], 0, 0, {"5m": 3_460}),
    # 5. reads the guide entry call 4 wrote (3,310 of its 3,460 tokens): 150 of call 4's tokens are never read.
    (1_100, SYSTEM, [user("Do you ship abroad?")], 40, 3_310, {}),
    # 6. a 1h write, 2,620 tokens at two 1h points: another prompt, the question cached too.
    (1_200, SYSTEM_1H, [user("Where is my order?", CP_1H)], 0, 0, {"1h": 2_620}),
    # 7. 30 minutes on (a 5m entry would be gone): reads the 1h system entry, 2,500 tokens; 120 are never read.
    (3_000, SYSTEM_1H, [user("Thanks!")], 30, 2_500, {}),
    # 8. the guide written again after a long pause, and never read: the log ends.
    (3_100, SYSTEM, [user("Hello again.")], 60, 0, {"5m": 3_310}),
]
LINES = [record(*call) for call in CALLS]
NEVER_READ_5M, NEVER_READ_1H = 140 + 150 + 3_310, 120


def hand_cost(regular: int, read: int, written: dict[str, int]) -> Decimal:
    """One call's USD from the price list: tokens of each kind times their price per million."""
    p = prices_for(SONNET)
    cached = read * p.read + written.get("5m", 0) * p.write_5m + written.get("1h", 0) * p.write_1h
    return (regular * p.input + cached + 50 * p.output) / MILLION


def audited(tmp_path: Path, lines: list[str]) -> Any:
    (tmp_path / "calls.json").write_text("\n".join(lines) + "\n")
    return audit(read([str(tmp_path)]))


def test_the_as_sent_spend_and_hits_are_the_logged_counts(tmp_path: Path) -> None:
    result = audited(tmp_path, LINES)
    as_sent = result.what_if[AS_SENT]
    paid = sum(hand_cost(*call[3:]) for call in CALLS)
    assert (as_sent.calls, as_sent.hits) == (8, 4)
    assert as_sent.cost.total == result.replayed.cost.total == result.total.cost.total == paid
    assert as_sent.unexplained == 0


def test_writes_never_read_are_exact_to_the_token_and_the_micro_dollar(tmp_path: Path) -> None:
    as_sent = audited(tmp_path, LINES).what_if[AS_SENT]
    p = prices_for(SONNET)
    assert as_sent.wasted_tokens == NEVER_READ_5M + NEVER_READ_1H == 3_720
    assert as_sent.wasted == (NEVER_READ_5M * p.write_5m + NEVER_READ_1H * p.write_1h) / MILLION
    report = as_json(audited(tmp_path, LINES))
    assert report["wasted_writes"] == {"tokens": 3_720, "spend": format(as_sent.wasted.normalize(), "f")}


def test_a_read_no_logged_write_explains_is_said_once(tmp_path: Path) -> None:
    # The guide is read before anyone wrote it (written before the logs begin), then read for more than was written.
    lines = [
        record(0, SYSTEM, [Q1], 12, 3_310, {}),
        record(60, SYSTEM, [Q1, A1, user("And the box?", CP)], 0, 3_310, {"5m": 140}),
        record(120, SYSTEM, [Q1, A1, user("And the box?", CP)], 0, 3_500, {}),
    ]
    result = audited(tmp_path, lines)
    as_sent = result.what_if[AS_SENT]
    where = f"{tmp_path / 'calls.json'}:1"
    assert (as_sent.unexplained, as_sent.first_unexplained) == (2, (when("2026-11-30T10:00:00Z"), where))
    paid = hand_cost(12, 3_310, {}) + hand_cost(0, 3_310, {"5m": 140}) + hand_cost(0, 3_500, {})
    assert as_sent.cost.total == paid and as_sent.wasted_tokens == 0  # the 140 written were read (and more)
    text = render_with(lambda console: console.print(render(result)) or 0, width=300)
    assert text.count("2 calls read cached tokens that no earlier logged call had written") == 1
    assert as_json(result)["unexplained_reads"] == {"calls": 2, "first": where}


@pytest.mark.xdist_group("dask")
def test_parts_audited_apart_agree_on_the_reads_no_write_explains(tmp_path: Path, dask_scheduler: str) -> None:
    # Two accounts (audited apart on a Dask cluster); the second account's first read comes earlier.
    lines = [record(600, SYSTEM, [Q1], 12, 3_310, {}), record(0, SYSTEM, [Q1], 12, 3_310, {}).replace("1111", "4444")]
    (tmp_path / "calls.json").write_text("\n".join(lines) + "\n")

    def report(*mode: str) -> Any:
        return json.loads(render_with(lambda c: cli(["audit", str(tmp_path), "--json", *mode], c), width=300))

    assert report("--scheduler", dask_scheduler)["unexplained_reads"] == report()["unexplained_reads"]
    assert report()["unexplained_reads"] == {"calls": 2, "first": f"{tmp_path / 'calls.json'}:2"}
