"""The audit's three hit rates, each named: calls that read / all calls (the one it leads with), read / (read +
written) tokens (AWS's "cache efficiency"), and read / all input tokens; in the text report and in --json."""

from __future__ import annotations

import json
from pathlib import Path

from caching.__main__ import main as cli
from caching.audit import audit, read
from caching.audit.html import audit_html

from ..helpers import render_with
from .test_as_sent_exact import Q1, SYSTEM, record

# (seconds, regular, read, written): two calls of four read (50%); 6,000 read of 10,000 cached tokens (60%);
# 6,000 read of 13,200 input tokens (45.45...%).
CALLS = [(0, 100, 0, 3_000), (60, 100, 3_000, 0), (120, 1_000, 3_000, 1_000), (180, 2_000, 0, 0)]


def log(tmp_path: Path) -> str:
    lines = [
        record(at, SYSTEM, [Q1], regular, read, {"5m": written} if written else {})
        for at, regular, read, written in CALLS
    ]
    (tmp_path / "calls.json").write_text("\n".join(lines) + "\n")
    return str(tmp_path)


def test_json_gives_every_rate_by_name_and_says_which_leads(tmp_path: Path) -> None:
    report = json.loads(render_with(lambda console: cli(["audit", log(tmp_path), "--json"], console), width=300))
    assert report["hit_rate_definitions"] == {
        "lead": "calls",
        "definitions": {
            "calls": "calls that read the cache / all calls",
            "cache_efficiency": "read / (read + written) tokens, as AWS's guidance defines it",
            "input_read": "read / all input tokens (regular + read + written)",
        },
    }
    rates = {"calls": 2 / 4, "cache_efficiency": 6_000 / 10_000, "input_read": round(6_000 / 13_200, 6)}
    assert report["total"]["hit_rates"] == rates
    assert report["total"]["hit_rate"] == rates["calls"]  # the lead, where it always was
    assert report["by_model"]["global.anthropic.claude-sonnet-4-6"]["hit_rates"] == rates
    assert report["what_if"]["as sent"]["hit_rate"] == 0.5
    assert [row["estimated"] for row in report["what_if"].values()] == [False] + [True] * (len(report["what_if"]) - 1)


def test_the_text_names_the_lead_definition_and_gives_all_three(tmp_path: Path) -> None:
    text = render_with(lambda console: cli(["audit", log(tmp_path)], console), width=80)
    assert "2 read the cache (hit rate 50%, calls that read the cache / all calls)" in " ".join(text.split())
    rows = [
        line.split()
        for line in text.splitlines()
        if line.strip().startswith(("calls that read ", "cache eff", "input read"))
    ]
    assert [row[:4] for row in rows] == [
        ["calls", "that", "read", "50%"],
        ["cache", "efficiency", "60%", "read"],
        ["input", "read", "45%", "read"],
    ]


def test_the_page_gives_all_three_with_their_definitions(tmp_path: Path) -> None:
    page = audit_html(audit(read([log(tmp_path)])))
    assert "<dt>hit rate</dt><dd>50.0% (calls that read the cache / all calls)</dd>" in page
    assert "<dt>cache efficiency</dt><dd>60.0% (read / (read + written) tokens, as AWS&#x27;s guidance" in page
    assert "<dt>input read</dt><dd>45.5% (read / all input tokens (regular + read + written))</dd>" in page
