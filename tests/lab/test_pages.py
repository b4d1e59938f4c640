"""The HTML pages (`caching plan --html`, `caching audit --html`) opened in a real browser, headless Chromium: every
section is rendered with its tables and charts, nothing is logged as an error, and no request leaves the page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from caching.__main__ import main as cli
from caching.audit.audit import SETTINGS

from ..helpers import ROOT, render_with

# isort: split
import browser  # in scripts/, which helpers puts on the path

BINARY = browser.chromium()
pytestmark = [
    pytest.mark.skipif(
        BINARY is None, reason="no Chromium on PATH: apt-get install chromium (.ci/run installs it when it can)"
    ),
    pytest.mark.xdist_group("chromium"),  # one browser serves every page
]
LOGS = ROOT / "tests" / "fixtures" / "invocation-logs"
BROKEN = """<!DOCTYPE html><html><head><title>broken</title></head><body><h2>a heading</h2>
<img src="http://127.0.0.1:9/missing.png"><script>throw new Error("boom")</script>
<script>console.error("said so")</script></body></html>"""


@pytest.fixture(scope="module")
def visits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, browser.Visit]]:
    """The three pages, each visited once in one browser: the plan's, the audit's, and one built to break."""
    folder = tmp_path_factory.mktemp("pages")
    workload = folder / "small.toml"
    workload.write_text("users = 3\nturns_per_session = 3\n", encoding="utf-8")
    pages = {name: folder / f"{name}.html" for name in ("plan", "audit", "broken")}
    render_with(lambda console: cli(["plan", str(workload), "--html", str(pages["plan"])], console))
    render_with(lambda console: cli(["audit", str(LOGS), "--html", str(pages["audit"])], console))
    pages["broken"].write_text(BROKEN, encoding="utf-8")
    assert BINARY is not None
    with browser.Browser(BINARY) as chromium:
        yield {name: chromium.visit(path.as_uri(), screenshot=name == "audit") for name, path in pages.items()}


def shown(visit: browser.Visit, tag: str) -> list[dict[str, object]]:
    return [part for part in visit.shown["parts"] if part["tag"] == tag]


def test_the_audit_page_renders_every_section_without_errors_or_requests(visits: dict[str, browser.Visit]) -> None:
    page = visits["audit"]
    assert (page.requests, page.errors, page.shown["title"]) == ([], [], "Cache audit")
    sections = shown(page, "section")
    assert [s["id"] for s in sections] == [
        "summary", "over-time", "by-model", "by-identity", "waste", "causes", "unexplained", "what-if", "skipped"
    ]  # fmt: skip
    assert all(s["width"] > 0 and s["height"] > 0 for s in sections)
    headings = [str(h["text"]) for h in shown(page, "h2")]
    assert headings[1] == "Hit rate and spend per hour (UTC)"  # the fixture logs span minutes of one hour
    (chart,) = shown(page, "svg")
    # One bar for the one hour, the legend's two keys, the hit-rate line.
    assert (chart["width"], chart["shapes"]) == (760, 4)
    rows = [t["rows"] for t in shown(page, "table")]
    assert rows == [1, 1, 1, len(SETTINGS) + 1]  # one model, one identity, one miss cause, every setting and the oracle
    assert page.screenshot.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(page.screenshot[16:20], "big") == browser.WIDTH


def test_the_plan_page_renders_every_chart_without_errors_or_requests(visits: dict[str, browser.Visit]) -> None:
    page = visits["plan"]
    assert (page.requests, page.errors, page.shown["title"]) == ([], [], "Cache plan: small")
    assert [h["text"] for h in shown(page, "h2")] == [
        "Cost by approach and TTL",
        "Cumulative cost over simulated time",
        "5m against 1h: combined at each fixed pause between turns",
    ]
    charts, tables = shown(page, "svg"), shown(page, "table")
    assert len(charts) == 3 and len(tables) == 1 and tables[0]["rows"] == len(SETTINGS) - 1
    assert all(part["width"] > 0 and part["height"] > 0 for part in charts + tables)
    assert all(chart["shapes"] > 0 for chart in charts)


def test_a_page_that_requests_or_fails_is_caught(visits: dict[str, browser.Visit]) -> None:
    page = visits["broken"]
    assert page.requests == ["http://127.0.0.1:9/missing.png"]
    # The failed load and the script's errors race each other: their order is the browser's, not the page's.
    failed = [error for error in page.errors if error.startswith("Failed to load resource")]
    assert len(failed) == 1 and sorted(set(page.errors) - set(failed)) == ["Error: boom", "said so"]
    assert len(page.errors) == 3
