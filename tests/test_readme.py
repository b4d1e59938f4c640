"""The README's program output is what the programs print now."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import update_readme  # noqa: E402


def test_readme_output_blocks_are_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert update_readme.BLOCK.search(readme), "README.md has no generated output blocks"
    assert update_readme.updated(readme) == readme, (
        "README.md is out of date: run .venv/bin/python scripts/update_readme.py"
    )
