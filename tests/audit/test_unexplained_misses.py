"""Misses the logs cannot explain (issue 24, item 1): a call that could read by the rules (an entry the logs wrote
holds the same prefix, inside its TTL) and read less. Differential: an emulator that misses with no cause at a
seeded rate writes the logs, and the audit counts exactly the misses the emulator made."""

from __future__ import annotations

from pathlib import Path

from caching.emulator import Emulator, ManualClock
from caching.rules import Kind
from caching.rules.uncertainty import Uncertainty

from ..helpers import CP, SONNET, render_with, text_of, user
from .test_audit import audit_json, cli

GUIDE = text_of(2_500)


def logged_session(folder: Path, miss_rate: float) -> Emulator:
    """Three accounts, each a conversation of six turns a minute apart, then one turn after the 5m TTL."""
    clock = ManualClock()
    emulator = Emulator(clock=clock, invocation_log=str(folder), uncertainty=Uncertainty(miss_rate=miss_rate, seed=7))
    for key in ("AKIATEAMA000000001", "AKIATEAMB000000002", "AKIATEAMC000000003"):
        client = emulator.session(key).client("bedrock-runtime")
        history: list[dict[str, object]] = []
        for turn in range(7):
            history.append(user(f"Question {turn} from {key}", CP))
            response = client.converse(modelId=SONNET, system=[{"text": f"[{key}] {GUIDE}"}, CP], messages=history)
            history[-1] = user(f"Question {turn} from {key}")  # the cache point moves on to the next question
            history.append(response["output"]["message"])
            clock.advance(60 if turn < 5 else 400)
    return emulator


def test_the_audit_counts_the_misses_the_emulator_made(tmp_path: Path) -> None:
    emulator = logged_session(tmp_path / "logs", miss_rate=0.3)
    kinds = [record.diagnosis.kind for record in emulator.records if record.diagnosis]
    made, read = kinds.count(Kind.UNEXPLAINED), kinds.count(Kind.HIT)
    assert made > 0 and read > 0  # the seed gives some of each
    report = audit_json(str(tmp_path / "logs"))
    misses = report["unexplained_misses"]
    assert (misses["calls"], misses["could_read"]) == (made, made + read)
    assert sum(cell["calls"] for cell in misses["by"]) == made
    assert {cell["model"] for cell in misses["by"]} == {SONNET} and {c["region"] for c in misses["by"]} == {"us-east-1"}
    assert all(example["read"] == 0 and example["could_read"] > 2_500 for example in misses["examples"])
    page = tmp_path / "audit.html"
    render_with(lambda console: cli(["audit", str(tmp_path / "logs"), "--html", str(page)], console), width=100)
    html = page.read_text()
    assert '<section id="unexplained">' in html and f"{made:,} of the {made + read:,} calls that the logs say" in html


def test_exact_rules_leave_no_unexplained_miss(tmp_path: Path) -> None:
    emulator = logged_session(tmp_path / "logs", miss_rate=0.0)
    hits = sum(record.diagnosis.kind == Kind.HIT for record in emulator.records if record.diagnosis)
    report = audit_json(str(tmp_path / "logs"))
    assert report["unexplained_misses"] | {"by": [], "examples": []} == {
        "calls": 0,
        "could_read": hits,
        "rate": 0.0,
        "by": [],
        "examples": [],
    }
    text = " ".join(render_with(lambda console: cli(["audit", str(tmp_path / "logs")], console), width=100).split())
    assert f"Unexplained misses: 0 of the {hits} calls that the logs say could read" in text and "none here." in text


def test_the_what_if_column_has_one_precision() -> None:
    """examples/logs paid under $1 and would pay over $1 uncached: one column, one precision (issue 21)."""
    text = render_with(lambda console: cli(["audit", "examples/logs"], console), width=100)
    rows = [line.split() for line in text.splitlines() if line.split()[:1] in (["none"], ["oracle"], ["as"])]
    cells = [cell for row in rows for cell in row if cell.startswith("$")]
    assert len(cells) == 3 and len({len(cell.partition(".")[2]) for cell in cells}) == 1, cells
