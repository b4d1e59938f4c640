"""Headless Chromium driven over its DevTools pipe: open a page, and say what it rendered, logged and requested.

Run:  .venv/bin/python scripts/browser.py PAGE [--screenshot PNG]   (what PAGE, a file or URL, shows and does)

Used by the page tests (tests/lab/test_pages.py) and scripts/screenshots.py. No library: Chromium's
`--remote-debugging-pipe` speaks the DevTools protocol as NUL-separated JSON on file descriptors 3 (commands in) and
4 (answers and events out), so the browser's stdin and stdout are moved there and nothing listens on a port.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BINARIES = ("chromium", "chromium-browser", "google-chrome")
DEADLINE = 60.0  # seconds for any one answer from the browser (its first start on a loaded machine took over 20)
WIDTH = 900  # CSS pixels: the window the pages are laid out in

# What the page shows, read in the page after it loaded: each section, heading, table and chart with its size.
SHOWN = """JSON.stringify({
  title: document.title,
  parts: Array.from(document.querySelectorAll("section, h2, table, svg")).map(e => {
    const box = e.getBoundingClientRect();
    return {tag: e.tagName.toLowerCase(), id: e.id, text: e.tagName === "H2" ? e.textContent : "",
            width: box.width, height: box.height, shapes: e.querySelectorAll("rect, polyline").length,
            rows: e.querySelectorAll("tbody tr").length};
  }),
})"""


def chromium() -> str | None:
    """The path of a Chromium (or Chrome) binary on PATH, or None."""
    return next((path for name in BINARIES if (path := shutil.which(name))), None)


@dataclass
class Visit:
    """What one page did: what it showed (SHOWN's answer), what it requested besides itself, and its errors."""

    shown: dict[str, Any]
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    screenshot: bytes = b""


class BrowserError(RuntimeError):
    """The browser did not start or did not answer in time."""


class Browser:
    """One headless Chromium; `visit(url)` opens a page in a fresh tab. Use it as a context manager."""

    def __init__(self, binary: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="caching-chromium-")
        flags = [
            "--headless",
            "--no-sandbox",  # the sandbox cannot start as root (CI) nor in most containers; the pages are our own
            "--remote-debugging-pipe",
            f"--user-data-dir={self.profile}",
            "--no-first-run",
            "--disable-gpu",
            "--disable-background-networking",  # the browser's own traffic would only add noise and time
            "--disable-component-update",
            "--disable-extensions",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: a page's request is seen, never sent out
            "about:blank",
        ]
        # sh moves the pipes to fds 3 and 4, where --remote-debugging-pipe expects them.
        self.process = subprocess.Popen(
            ["sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', binary, *flags],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.buffer = b""
        self.events: list[dict[str, Any]] = []
        self.next_id = 0

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):  # it may close the pipe before it answers
            self.send("Browser.close")
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send one command and wait for its answer; events that come meanwhile are kept in `events`."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\0")
        self.process.stdin.flush()
        while True:
            answer = self._read()
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise BrowserError(f"{method} failed: {answer['error'].get('message')}")
                return dict(answer.get("result", {}))
            self.events.append(answer)

    def wait_for(self, method: str, session: str) -> None:
        """Wait until the page in `session` sends the event `method`."""
        seen = lambda event: event.get("method") == method and event.get("sessionId") == session  # noqa: E731
        while not any(seen(event) for event in self.events):
            self.events.append(self._read())

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        fd, end = self.process.stdout.fileno(), time.monotonic() + DEADLINE
        while b"\0" not in self.buffer:
            left = end - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise BrowserError(f"Chromium did not answer within {DEADLINE:.0f} s.")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                raise BrowserError("Chromium closed its DevTools pipe (did it start? try running it by hand).")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return dict(json.loads(message))

    def visit(self, url: str, screenshot: bool = False) -> Visit:
        """Open `url` in a new tab, wait for it to load, and report what it showed, requested and logged."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride", _metrics(800), session)
        self.send("Page.navigate", {"url": url}, session)
        self.wait_for("Page.loadEventFired", session)
        shown = self.send("Runtime.evaluate", {"expression": SHOWN, "returnByValue": True}, session)
        visit = Visit(json.loads(shown["result"]["value"]))
        if screenshot:  # the whole page: the window made as tall as the content
            height = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]["height"]
            self.send("Emulation.setDeviceMetricsOverride", _metrics(int(height) + 1), session)

            picture = self.send("Page.captureScreenshot", {"format": "png"}, session)
            visit.screenshot = base64.b64decode(picture["data"])
        self.send("Target.closeTarget", {"targetId": target})
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent" and params["request"]["url"] != url:
                visit.requests.append(params["request"]["url"])
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                said = details.get("exception", {}).get("description") or details.get("text")
                visit.errors.append(str(said).splitlines()[0])  # the message, not its stack
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                visit.errors.append(" ".join(str(arg.get("value", "")) for arg in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                visit.errors.append(str(params["entry"].get("text", "")))
        return visit


def _metrics(height: int) -> dict[str, Any]:
    return {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Open a page in headless Chromium: what it shows, requests, logs.")
    parser.add_argument("page", metavar="PAGE", help="an HTML file or a URL")
    parser.add_argument("--screenshot", metavar="PNG", help="also write the whole page as a PNG here")
    args = parser.parse_args(argv)
    binary = chromium()
    if binary is None:
        print("No Chromium on PATH: install it (apt-get install chromium) and run this again.")
        return 2
    url = args.page if "://" in args.page else Path(args.page).resolve().as_uri()
    with Browser(binary) as browser:
        visit = browser.visit(url, screenshot=args.screenshot is not None)
    print(json.dumps({"shown": visit.shown, "requests": visit.requests, "errors": visit.errors}, indent=2))
    if args.screenshot:
        Path(args.screenshot).write_bytes(visit.screenshot)
    return 1 if visit.requests or visit.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
