"""Every limit is named in one place, documented, changeable, and named by the message that reports it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from caching import limits

ROOT = Path(__file__).parents[1]
# Bounds on what is remembered to go faster or to word a miss: reaching one forgets the oldest and changes no count.
FORGETTING = {"REMEMBERED_BYTES", "HISTORY_BYTES", "RECORD_BYTES"}


def test_the_page_lists_every_limit_with_its_default() -> None:
    page = (ROOT / "docs" / "limits.md").read_text()
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", page, re.M)
    expected = [
        (
            limit.name,
            f"{limit.default:,} {limit.unit}" if isinstance(limit.default, int) else f"{limit.default:g} {limit.unit}",
        )
        for limit in limits.LIMITS.values()
    ]
    assert rows == expected


def test_every_limit_that_stops_or_skips_something_is_named_where_it_is_reached() -> None:
    source = "".join(path.read_text() for path in (ROOT / "caching").rglob("*.py") if path.name != "limits.py")
    named = set(re.findall(r"""named\(["']([A-Z_]+)["']\)""", source))
    assert named == set(limits.LIMITS) - FORGETTING


def test_a_variable_changes_a_limit_and_a_bad_one_is_one_line() -> None:
    env = {
        **os.environ,
        "CACHING_LIMIT_LONGEST_LINE": "1_000",
        "CACHING_LIMIT_DEEPEST": "deep",
        "CACHING_LIMIT_REQUEST_SECONDS": "2.5",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from caching import limits; print(limits.LONGEST_LINE, limits.DEEPEST, limits.REQUEST_SECONDS)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == "1000 100 2.5\n"
    assert done.stderr == "CACHING_LIMIT_DEEPEST='deep' is not a positive number; using the default, 100.\n"
