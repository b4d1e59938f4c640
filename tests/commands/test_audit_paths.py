"""caching audit's text output keeps a long path whole on a line of its own, so it copies (found at 80 columns)."""

from __future__ import annotations

import shutil
from pathlib import Path

from caching.__main__ import main as cli

from ..helpers import ROOT, render_with

HOUR = "examples/logs/AWSLogs/361640229848/BedrockModelInvocationLogs/us-east-1/2026/11/30/03/emulator.json.gz"


def test_a_long_log_path_is_printed_whole(tmp_path: Path) -> None:
    folder = tmp_path / "invocation_logs_copied_from_the_production_account" / "for_the_newcomer_pass"
    folder.mkdir(parents=True)
    shutil.copy(ROOT / HOUR, folder / "hour.json.gz")
    broken = folder / "zz_one_record_that_is_not_json_at_all.jsonl"
    broken.write_text("not json\n")
    page = folder / "the_audit_as_one_page_for_the_newcomer_pass.html"
    assert len(str(broken)) > 80 and len(str(page)) > 80
    text = render_with(lambda console: cli(["audit", str(folder), "--html", str(page)], console), width=80)
    lines = text.splitlines()
    # each path whole on its own line (longer than the terminal, which folds it without a line break), never cut
    assert lines[lines.index(f"{broken}:1:") + 1] == "not valid JSON; skipped it."
    assert lines[-3:] == ["Wrote the audit as a page to", str(page), f"({page.stat().st_size:,} bytes)."]
    assert all(len(line) <= 80 for line in lines if str(tmp_path) not in line)
