"""Every script and benchmark answers --help with what it does, and does none of its work."""

from __future__ import annotations

import subprocess
import sys

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
    print(path, code, out.getvalue().splitlines()[0] if out.getvalue() else "")
"""


def test_every_script_and_benchmark_answers_help_without_working() -> None:
    paths = sorted(str(p.relative_to(ROOT)) for p in (*ROOT.glob("scripts/*.py"), *ROOT.glob("benchmarks/*.py")))
    result = subprocess.run(
        [sys.executable, "-c", HELP, *paths], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [f"{path} 0 usage: {path.split('/')[1]} [-h]" + _rest(path) for path in paths]


def _rest(path: str) -> str:
    """The rest of each usage line: the flags the program takes."""
    return {
        "benchmarks/audit_scale.py": " [--full]",
        "benchmarks/plan_scale.py": " [--quick] [--ratio-at CALLS]",
        "scripts/browser.py": " [--screenshot PNG] PAGE",
        "scripts/update_readme.py": " [--check]",
    }.get(path, "")
