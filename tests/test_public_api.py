"""The public API is the lists below (as httpx pins its exports), and the examples use nothing else."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import caching
import caching.lab

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
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_MODEL_ID",
    "Diagnosis",
    "Doctor",
    "Emulator",
    "LayoutError",
    "LayoutPoint",
    "ManualClock",
    "PricingError",
    "RollingCheckpoints",
    "Settings",
    "Turn",
    "Usage",
    "UsageError",
    "UsageTracker",
    "audit_logs",
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

LAB = [
    "audit_report",
    "bar_chart",
    "below_minimum",
    "calls_table",
    "comparison_chart",
    "console_for",
    "doctor_table",
    "explain_error",
    "is_fatal",
    "lesson",
    "load",
    "parser",
    "plural",
    "run",
    "saving",
    "say_error",
    "session_line",
    "session_summary",
    "show_answer",
    "table",
    "tokens",
    "turn_line",
    "turns_table",
    "usd",
]


@pytest.mark.parametrize(("package", "names"), [(caching, PUBLIC), (caching.lab, LAB)])
def test_all_is_exactly_the_public_api(package: ModuleType, names: list[str]) -> None:
    """One list: every name in `__all__` resolves, `dir()` shows the same, and nothing else is exported."""
    assert package.__all__ == names
    assert all(getattr(package, name) is not None for name in names)
    assert dir(package) == names


def test_a_name_not_in_the_list_is_not_there() -> None:
    with pytest.raises(AttributeError):
        caching.Sneaky  # type: ignore[attr-defined]  # noqa: B018


def test_examples_and_main_import_only_the_public_package() -> None:
    """Examples are lessons a reader copies: `caching` for the library, `caching.lab` for the demo helpers."""
    for path in [*sorted((ROOT / "examples").glob("*.py")), ROOT / "main.py"]:
        imports = set(re.findall(r"^\s*(?:from|import) (caching[\w.]*)", path.read_text(), re.M))
        assert "caching" in imports and imports <= {"caching", "caching.lab"}, (path.name, imports)


def test_the_rules_and_the_planner_load_neither_strands_nor_boto3() -> None:
    """Nor does the planner's runner; the audit (which reads S3 through boto3) does not load Strands. Neither needs
    them, and loading Strands costs every command a third of a second.

    One fresh Python imports the modules in turn and says what is loaded after each: what a module loads alone is
    part of what is loaded once it and those before it are, so nothing banned after it means nothing banned when it
    is imported alone, and the first module that loads a banned one is named."""
    checks = [
        ("caching", ["strands", "boto3", "botocore"]),
        ("caching.lab", ["strands", "boto3", "botocore"]),
        ("caching.rules", ["strands", "boto3", "botocore"]),
        ("caching.planner", ["strands", "boto3", "botocore"]),
        ("caching.planner.run", ["strands", "boto3", "botocore"]),
        ("caching.audit.parallel", ["strands"]),  # after the others: it may load boto3
    ]
    code = (
        "import importlib, sys\n"
        f"for module, banned in {checks!r}:\n"
        "    importlib.import_module(module)\n"
        "    print(module, sorted({m.split('.')[0] for m in sys.modules} & set(banned)))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.splitlines() == [f"{module} []" for module, _ in checks], loaded.stderr
