"""The public API is the list below (as httpx pins its exports), and the examples use nothing else."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import caching

ROOT = Path(__file__).parent.parent

PUBLIC = [
    "APPROACHES",
    "ApproachSetup",
    "Backend",
    "CachingError",
    "Call",
    "CallRecorder",
    "CallUsage",
    "Cost",
    "Diagnosis",
    "Doctor",
    "Emulator",
    "ManualClock",
    "RollingCheckpoints",
    "Settings",
    "Turn",
    "Usage",
    "UsageTracker",
    "build_team",
    "cache_keys",
    "cache_point",
    "cached_system_prompt",
    "connect",
    "cost_of",
    "prices_for",
    "prompt",
    "read_recording",
    "request_layout",
    "setup",
    "validate_layout",
]


def test_all_is_exactly_the_public_api() -> None:
    assert caching.__all__ == PUBLIC
    assert all(getattr(caching, name) is not None for name in PUBLIC)
    assert set(PUBLIC) <= set(dir(caching))


def test_examples_and_main_import_only_public_modules() -> None:
    allowed = {"caching", "caching.lab.cli", "caching.lab.reports", "caching.emulator", "caching.audit"}
    for path in [*sorted((ROOT / "examples").glob("*.py")), ROOT / "main.py"]:
        imports = set(re.findall(r"^from (caching[\w.]*) import", path.read_text(), re.M))
        assert "caching" in imports and imports <= allowed, (path.name, imports)


def test_the_rules_and_the_planner_load_neither_strands_nor_boto3() -> None:
    """Nor does the planner's runner; the audit (which reads S3 through boto3) does not load Strands. Neither needs
    them, and loading Strands costs every command a third of a second."""
    for module, banned in [
        ("caching.rules", "'strands', 'boto3', 'botocore'"),
        ("caching.planner", "'strands', 'boto3', 'botocore'"),
        ("caching.planner.run", "'strands', 'boto3', 'botocore'"),
        ("caching.audit.parallel", "'strands'"),
    ]:
        code = f"import sys, {module}; print(sorted({{m.split('.')[0] for m in sys.modules}} & {{{banned}}}))"
        loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        assert loaded.stdout.strip() == "[]", (module, loaded.stdout, loaded.stderr)
