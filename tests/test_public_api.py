"""The public API is what caching/__init__.py lists, and the examples use nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import caching

ROOT = Path(__file__).parent.parent


def test_all_is_exactly_what_is_exported() -> None:
    assert len(caching.__all__) == len(set(caching.__all__))
    assert all(hasattr(caching, name) for name in caching.__all__)
    public = {
        name
        for name in vars(caching)
        if not name.startswith("_") and not isinstance(getattr(caching, name), type(caching))
    }
    assert public == set(caching.__all__)


def test_examples_and_main_import_only_the_public_api() -> None:
    for path in [*sorted((ROOT / "examples").glob("*.py")), ROOT / "main.py"]:
        imports = re.findall(r"^from (caching[\w.]*) import", path.read_text(), re.M)
        assert imports == ["caching"], (path.name, imports)
