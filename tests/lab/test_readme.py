"""The README's program output is what the programs print now."""

from __future__ import annotations

import pytest

from ..helpers import ROOT, printed, update_readme

pytestmark = pytest.mark.xdist_group("printed")  # reads the same runs as the example tests


def test_readme_output_blocks_are_current() -> None:
    readme = (ROOT / "README.md").read_text()
    assert update_readme.BLOCK.search(readme), "README.md has no generated output blocks"
    assert update_readme.updated(readme, printed) == readme, (
        "README.md is out of date: run .venv/bin/python scripts/update_readme.py"
    )
