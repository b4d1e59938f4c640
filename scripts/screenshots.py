"""Regenerate the screenshots in docs/: the audit's page (`caching audit --html`) on the fixture logs.

Run:  .venv/bin/python scripts/screenshots.py      (needs Chromium: apt-get install chromium)

The page is built from tests/fixtures/invocation-logs exactly as the command builds it, opened in headless Chromium
(scripts/browser.py) and captured whole. Pixels differ between machines (fonts), so no test compares them; the page
tests check what the page renders.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = "tests/fixtures/invocation-logs"  # relative, so the page names its files as a user would see them
SHOTS = {"audit-page.png": LOGS}


def main(argv: list[str]) -> int:
    argparse.ArgumentParser(description="Regenerate the screenshots in docs/ (needs Chromium).").parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from browser import Browser, chromium

    from caching import audit_logs
    from caching.audit.html import audit_html

    binary = chromium()
    if binary is None:
        print("No Chromium on PATH: install it (apt-get install chromium) and run this again.")
        return 2
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as folder, Browser(binary) as browser:
        for name, logs in SHOTS.items():
            page = Path(folder) / "page.html"
            page.write_text(audit_html(audit_logs([logs])), encoding="utf-8")
            visit = browser.visit(page.as_uri(), screenshot=True)
            if visit.errors or visit.requests:
                print(f"The page for {name} logged {visit.errors} and requested {visit.requests}: fix it first.")
                return 1
            (ROOT / "docs" / name).write_bytes(visit.screenshot)
            print(f"Wrote docs/{name} ({len(visit.screenshot):,} bytes).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
