"""Every script, benchmark and docs program answers --help with what it does, and does none of its work."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .helpers import ROOT

# All in one interpreter, so the suite pays for one start-up: each prints its help, then says how it exited.
HELP = """
import contextlib, io, runpy, sys
for path in sys.argv[1:]:
    sys.argv, out = [path, "--help"], io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(path, run_name="__main__")
            code = "returned"
        except SystemExit as stop:
            code = stop.code
    lines = out.getvalue().splitlines() or [""]
    print(path, code, max(map(len, lines)), lines[0])
"""


def programs() -> list[str]:
    """Every file a user runs with python: scripts, benchmarks, and the docs' programs (a docs test_*.py is run by
    pytest, which has its own --help)."""
    docs = [p for p in ROOT.glob("docs/*.py") if not p.name.startswith("test_")]
    found = (*ROOT.glob("scripts/*.py"), *ROOT.glob("benchmarks/*.py"), *docs)
    return sorted(str(p.relative_to(ROOT)) for p in found)


def test_the_docs_programs_are_among_them() -> None:
    assert "docs/traces.py" in programs() and "docs/test_agent_caching.py" not in programs()


def test_every_script_and_benchmark_answers_help_without_working() -> None:
    paths = programs()
    result = subprocess.run(
        [sys.executable, "-c", HELP, *paths],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert (result.returncode, result.stderr) == (0, "")
    said = [line.split(" ", 3) for line in result.stdout.splitlines()]
    assert [(path, code, usage) for path, code, _, usage in said] == [
        (path, "0", f"usage: {path.split('/')[1]} [-h]" + _rest(path)) for path in paths
    ]
    assert all(int(widest) <= 80 for _, _, widest, _ in said), said  # the help fits an 80-column terminal


def _rest(path: str) -> str:
    """The rest of each usage line: the flags the program takes."""
    return {
        "benchmarks/audit_scale.py": " [--full] [--records N] [--jobs N] [--profile N]",
        "benchmarks/load.py": " [--clients CLIENTS] [--seconds SECONDS] [--json]",
        "benchmarks/plan_scale.py": " [--quick] [--ratio-at CALLS]",
        "benchmarks/tracker.py": " [--calls CALLS]",
        "scripts/browser.py": " [--screenshot PNG] PAGE",
        "scripts/client_table.py": " [--install]",
        "scripts/update_readme.py": " [--check]",
    }.get(path, "")


def test_the_load_benchmark_runs_and_reports_each_figure() -> None:
    """A tiny run (3 clients, half a second) proves it works; benchmarks/load.py's own runs are quoted in docs/how-fast.md."""
    import json

    result = subprocess.run(
        [sys.executable, "benchmarks/load.py", "--clients", "3", "--seconds", "0.5", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    (run,) = json.loads(result.stdout)
    assert (run["clients"], run["errors"]) == (3, 0)
    assert run["requests"] > 3 and run["requests_per_second"] > 0
    assert 0 < run["p50_ms"] <= run["p99_ms"]
    assert 0.5 < run["read_share"] < 1  # every turn after a conversation's first reads its history
    assert run["rss_before_mb"] > 0 and run["rss_after_mb"] > 0


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--profile", "0"], "argument --profile: must be a number from 1 to 10,000,000, got '0'"),
        (["--profile", "x"], "argument --profile: must be a number from 1 to 10,000,000, got 'x'"),
        (["--profile", "1" + "0" * 30], "argument --profile: must be a number from 1 to 10,000,000, got '1" + "0" * 30),
    ],
)
def test_a_benchmarks_count_out_of_range_is_one_line(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A count a benchmark cannot use (none, negative, not a number, or more than it could ever make) is refused
    before any work, in one line."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import audit_scale
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    with pytest.raises(SystemExit) as stopped:
        audit_scale.main(argv)
    assert stopped.value.code == 2
    assert said in capsys.readouterr().err
