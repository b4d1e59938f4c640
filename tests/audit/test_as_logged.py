"""The audit's "as sent" figures come from the logged counts: exact to the token and to the micro-dollar, checked
against a log written here by hand and worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

from caching.audit import audit, read
from caching.pricing import cost_of
from caching.rules import Usage, block_tokens

from ..helpers import CP, SONNET, assistant, message_tokens, text_of, user
from .test_as_sent_exact import record

GUIDE, OTHER = text_of(3_000), text_of(3_000, "word")


def test_the_as_sent_figures_are_the_logged_counts_to_the_token_and_the_micro_dollar(tmp_path: Path) -> None:
    q1, a1, q2 = user("Where is my order?"), assistant("It shipped."), user("When does it arrive?")
    first, follow = [user("Where is my order?", CP)], [q1, a1, user("When does it arrive?", CP)]
    system, one_hour = [{"text": GUIDE}, CP], [{"text": OTHER}, {"cachePoint": {"type": "default", "ttl": "1h"}}]
    guide, question = block_tokens({"text": GUIDE}), message_tokens(q1)
    later = message_tokens(a1) + message_tokens(q2)
    lines = [
        record(0, system, first, 0, 0, {"5m": guide + question}),  # writes the guide and the question
        record(60, system, follow, 0, guide + question, {"5m": later}),  # reads all that, writes reply and question
        record(1_000, system, follow, 0, 0, {"5m": guide + question + later}),  # 15 minutes on: all written again
        record(1_010, one_hour, first, 0, 0, {"1h": block_tokens({"text": OTHER}) + question}),  # a 1h entry, unread
    ]
    (tmp_path / "calls.json").write_text("\n".join(lines) + "\n")
    result = audit(read([str(tmp_path)]))
    paid = [Usage.from_bedrock(json.loads(line)["output"]["outputBodyJson"]["usage"]) for line in lines]
    as_sent = result.what_if["as sent"]
    assert (as_sent.calls, as_sent.hits) == (4, 1)
    assert as_sent.tokens == {SONNET: sum(paid[1:], paid[0])}
    assert as_sent.cost == result.replayed.cost == cost_of(sum(paid[1:], paid[0]), SONNET)
    # Never read: the second call's reply and question (expired before the third call), everything the third call
    # wrote, and the 1h entry; the first call's write was read whole by the second.
    never_5m = [later, guide + question + later]
    never_1h = block_tokens({"text": OTHER}) + question
    assert as_sent.wasted_tokens == sum(never_5m) + never_1h
    expected = sum(cost_of(Usage.of(write_5m=tokens), SONNET).input for tokens in never_5m)
    expected += cost_of(Usage.of(write_1h=never_1h), SONNET).input
    assert as_sent.wasted == expected
