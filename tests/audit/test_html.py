"""`caching audit --html FILE`: one self-contained page built from the audit's result, logged text escaped, prompt
text hidden unless --show-text, and the timeline per hour or per day by the span of the logs. (tests/lab/
test_pages.py opens it in a real browser.)"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from caching.__main__ import main as cli
from caching.audit.audit import SETTINGS, Audit, Group
from caching.audit.html import HOURLY_SPAN, MOST_BARS, audit_html, periods

from ..helpers import SONNET, render_with

IDENTITY = "arn:aws:iam::111122223333:role/<b>bot</b>"
GUIDE = "You are the support agent of ExampleCorp. " * 150  # over Sonnet's 1,024-token minimum


def record(at: str, system: str) -> dict[str, Any]:
    """A Converse call that wrote 2,500 tokens: 6 regular in, 100 out."""
    usage = {"inputTokens": 6, "outputTokens": 100, "cacheReadInputTokens": 0, "cacheWriteInputTokens": 2_500}
    return {
        "schemaType": "ModelInvocationLog",
        "timestamp": at,
        "accountId": "111122223333",
        "identity": {"arn": IDENTITY},
        "region": "us-east-1",
        "requestId": at,
        "operation": "Converse",
        "modelId": SONNET,
        "input": {
            "inputBodyJson": {
                "system": [{"text": system}, {"cachePoint": {"type": "default"}}],
                "messages": [{"role": "user", "content": [{"text": "Where is my order?"}]}],
            },
            "inputTokenCount": 6,
            "cacheReadInputTokenCount": 0,
            "cacheWriteInputTokenCount": 2_500,
        },
        "output": {"outputBodyJson": {"usage": usage, "stopReason": "end_turn"}, "outputTokenCount": 100},
    }


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    """Two calls 2.5 hours apart whose system prompts differ in a stamped <script> tag, and one damaged line."""
    lines = [
        json.dumps(record("2026-11-30T09:00:00Z", f"<script>Time 09:00</script>{GUIDE}")),
        json.dumps(record("2026-11-30T11:30:00Z", f"<script>Time 11:30</script>{GUIDE}")),
        "{not json <i>",
    ]
    path = tmp_path / "logs.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def page_of(logs: Path, *flags: str) -> str:
    page = logs.parent / "audit.html"
    out = render_with(lambda console: cli(["audit", str(logs), "--html", str(page), *flags], console), width=400)
    assert f"Wrote the audit as a page to {page}" in out
    return page.read_text(encoding="utf-8")


def test_the_page_is_self_contained_and_escapes_every_logged_text(logs: Path) -> None:
    text = page_of(logs)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "://" not in text and "<script" not in text and "<link" not in text and "<img" not in text
    assert "default-src 'none'" in text  # the browser refuses the page any request of its own
    assert "<b>" not in text and "role/&lt;b&gt;bot&lt;/b&gt;" in text and "<i>" not in text
    sections = ["summary", "over-time", "by-model", "by-identity", "waste", "causes", "what-if", "skipped"]
    assert [part.split('"')[0] for part in text.split('<section id="')[1:]] == sections
    # Each call: 6 x $3 + 2,500 x $3.75 + 100 x $15 per million tokens = $0.010893; both: $0.021786.
    assert "<dt>spend</dt><dd>$0.021786</dd>" in text
    assert "<dt>calls audited</dt><dd>2</dd>" in text and "<dt>hit rate</dt><dd>0.0%" in text
    assert text.count('<tr class="') == len(SETTINGS) + 1  # the what-if: every setting, then the oracle
    # Two hours with calls and the empty one between: three bars, hourly (the logs span 2.5 hours).
    assert "<h2>Hit rate and spend per hour (UTC)</h2>" in text
    assert [tip.split("</title>")[0] for tip in text.split("<title>")[2:]] == [
        "2026-11-30 09:00: 1 call, hit rate 0%, $0.010893",
        "2026-11-30 10:00: no calls",
        "2026-11-30 11:00: 1 call, hit rate 0%, $0.010893",
    ]
    assert "logs.jsonl:3: not valid JSON; skipped it." in text


def test_prompt_text_is_hidden_unless_show_text_and_then_escaped(logs: Path) -> None:
    def causes(page: str) -> str:
        return page.split('<section id="causes">')[1].split("</section>")[0]

    hidden = page_of(logs)
    example = (
        "prefix changed in system block 0 at character 13: {} looks like a timestamp; move it after the checkpoint"
    )
    assert f'<td class="example">{example.format("&lt;5 characters&gt;")}</td>' in causes(hidden)
    assert "11:30" not in hidden and "Prompt text is hidden; --show-text quotes it." in hidden
    shown = page_of(logs, "--show-text")
    assert f'<td class="example">{example.format("&#x27;11:30&#x27;")}</td>' in causes(shown)
    assert "Prompt text is quoted (--show-text)." in shown


def test_the_timeline_is_per_hour_up_to_its_span_then_per_day() -> None:
    empty = Audit().result()
    one = Group(calls=1)
    short = replace(empty, by_hour={"2026-11-30 09:00": one, "2026-12-02 09:00": one})  # 48 hours: hourly
    unit, rows = periods(short)
    assert HOURLY_SPAN == 48 and unit == "hour" and len(rows) == 49
    assert [key for key, group in rows if group.calls] == ["2026-11-30 09:00", "2026-12-02 09:00"]
    days = {"2026-11-30": one, "2026-12-02": one}
    longer = replace(empty, by_hour={"2026-11-30 09:00": one, "2026-12-02 10:00": one}, by_day=days)
    unit, rows = periods(longer)
    assert unit == "day" and [key for key, _ in rows] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    # Past MOST_BARS periods, only those with calls are drawn.
    far = replace(
        longer,
        by_hour={"2026-01-01 00:00": one, "2027-12-31 00:00": one},
        by_day={"2026-01-01": one, "2027-12-31": one},
    )
    assert MOST_BARS < 730 and periods(far) == ("day", [("2026-01-01", one), ("2027-12-31", one)])
    assert periods(empty) == ("day", []) and "No call was audited." in audit_html(empty)


def test_a_page_that_cannot_be_written_is_one_line(logs: Path) -> None:
    target = logs.parent / "missing" / "audit.html"
    out = render_with(lambda console: cli(["audit", str(logs), "--html", str(target)], console), width=400, expect=2)
    assert out.splitlines()[-1] == (
        f"Error: Cannot write the HTML audit to {str(target)!r} (No such file or directory): check the folder "
        "exists and is writable."
    )
