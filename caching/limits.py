"""Every bound on what the project reads, keeps or waits for, in one place: each a name, a default and what it
bounds. A message that reports one names its environment variable (`CACHING_LIMIT_<NAME>`), which changes it for
that run. docs/limits.md lists them all (a test keeps the page and this module the same).

Read once, when the program starts: a limit's variable that is not a positive number is reported on standard error
and the default is kept.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import textwrap
from dataclasses import dataclass
from typing import overload

PREFIX = "CACHING_LIMIT_"


@dataclass(frozen=True)
class Limit:
    """One bound: its name, its default, the unit it counts in, what it bounds and what happens when it is reached."""

    name: str
    default: int | float
    unit: str
    bounds: str
    reached: str

    @property
    def variable(self) -> str:
        """The environment variable that changes it."""
        return PREFIX + self.name


LIMITS: dict[str, Limit] = {}


def _number(text: str) -> int | float | None:
    """A positive number written as 20000000, 20_000_000 or 2.5 (for seconds); None for anything else."""
    try:
        value: int | float = int(text)
    except ValueError:
        try:
            value = float(text)
        except ValueError:
            return None
    return value if 0 < value < math.inf else None


@overload
def _limit(name: str, default: int, unit: str, bounds: str, reached: str) -> int: ...
@overload
def _limit(name: str, default: float, unit: str, bounds: str, reached: str) -> float: ...
def _limit(name: str, default: int | float, unit: str, bounds: str, reached: str) -> int | float:
    """Register a limit and give its value for this run (the default unless its variable says otherwise)."""
    limit = Limit(name, default, unit, bounds, reached)
    LIMITS[name] = limit
    text = os.environ.get(limit.variable, "").strip()
    value = _number(text) if text else default
    if value is None:
        shown = text if len(text) <= 30 else f"{text[:30]}..."
        said = f"{limit.variable}={shown!r} is not a positive number; using the default, {default:,}."
        width = shutil.get_terminal_size().columns
        print(textwrap.fill(said, width, break_long_words=False, break_on_hyphens=False), file=sys.stderr)
        value = default
    return value if isinstance(default, float) else int(value)


def named(name: str) -> str:
    """How a message names a limit it reached: its variable, so the user knows what to set."""
    return LIMITS[name].variable


MIB = 1024 * 1024

# What a file or an S3 object may hold
LONGEST_LINE = _limit(
    "LONGEST_LINE",
    20_000_000,
    "characters",
    "one line of a recording or an invocation log (a recorded call is far smaller)",
    "the file is not read past that line, and the line is named",
)
DEEPEST = _limit(
    "DEEPEST",
    100,
    "levels",
    "nested lists and objects in a request, a recorded call or a log record (a real one nests about 10)",
    "the request is refused with a 400, or the line is skipped and named",
)
LARGEST_REQUEST = _limit(
    "LARGEST_REQUEST",
    20 * MIB,
    "bytes",
    "a request body the emulator takes, and a saved request that lint and diff read (Bedrock's own limit)",
    "a 400 from the emulator; one line and exit 2 from lint and diff",
)
LARGEST_WORKLOAD = _limit(
    "LARGEST_WORKLOAD",
    1 * MIB,
    "bytes",
    "a planner workload file (a workload is a few dozen short lines)",
    "one line and exit 2",
)
LARGEST_CONFIG = _limit(
    "LARGEST_CONFIG",
    1 * MIB,
    "bytes",
    "the pyproject.toml `caching lint` reads its [tool.caching.lint] table from",
    "one line and exit 2",
)
MOST_SIMULATED_CALLS = _limit(
    "MOST_SIMULATED_CALLS",
    20_000_000,
    "calls",
    "the model calls one planner workload makes (about seven minutes of simulation on two cores)",
    "one line and exit 2",
)
LARGEST_OBJECT = _limit(
    "LARGEST_OBJECT",
    512 * MIB,
    "bytes",
    "what the audit reads of one S3 object (an hour of a busy account's logs is far smaller)",
    "the records up to there are audited and the object is named in the skipped records",
)
MOST_LOG_FILES = _limit(
    "MOST_LOG_FILES",
    200_000,
    "files",
    "log files and S3 objects the audit lists (to read them in time order) under the paths it is given",
    "the first ones listed are audited and the rest named as skipped",
)
LARGEST_BODY = _limit(
    "LARGEST_BODY",
    20_000_000,
    "bytes",
    "a request or response body Bedrock stored as its own S3 object",
    "the record is audited without that body, and named",
)
LARGEST_DOCUMENT = _limit(
    "LARGEST_DOCUMENT",
    256 * MIB,
    "characters",
    "a log that is one JSON document over many lines (`aws logs filter-log-events` output)",
    "the file is skipped and named",
)
MOST_LINES_WITHOUT_A_RECORD = _limit(
    "MOST_LINES_WITHOUT_A_RECORD",
    1_000_000,
    "lines",
    "lines in a row that hold no record (blank or damaged) in one log file or object",
    "the rest of that file is skipped and named",
)
MOST_TOKENS_IN_A_CALL = _limit(
    "MOST_TOKENS_IN_A_CALL",
    1_000_000_000,
    "tokens",
    "a token count in one call's usage (the largest context window is a few million tokens)",
    "the usage is refused: its record or line is skipped and named",
)
MOST_SKIPPED_LISTED = _limit(
    "MOST_SKIPPED_LISTED",
    1_000,
    "records",
    "skipped records the audit keeps words for (the rest are counted)",
    "the report lists the first ones and counts the others",
)

# What the emulator and the doctor keep
REMEMBERED_BYTES = _limit(
    "REMEMBERED_BYTES",
    192_000_000,
    "bytes",
    "memory (about) of the recent requests kept to linearize the next ones faster (the least recently used go first)",
    "the oldest are forgotten; only speed changes",
)
HISTORY_BYTES = _limit(
    "HISTORY_BYTES",
    64_000_000,
    "bytes",
    "memory (about) of the earlier requests the emulator and the doctor keep to say what changed",
    "the oldest are forgotten; a miss may then be worded as a first request",
)
RECORD_BYTES = _limit(
    "RECORD_BYTES",
    128_000_000,
    "bytes",
    "request bytes of the call records the emulator keeps (also at most 1,000 records)",
    "the oldest records are dropped",
)
COMPARED_CHARACTERS = _limit(
    "COMPARED_CHARACTERS",
    1_000_000,
    "characters",
    "a block's text compared with an earlier request's to find where a prefix changed",
    "the miss is worded without the character it changed at",
)

# How long the loopback server waits
IDLE_SECONDS = _limit(
    "IDLE_SECONDS",
    10.0,
    "seconds",
    "a client that sends nothing (or stops sending) on a connection",
    "the connection is closed",
)
REQUEST_SECONDS = _limit(
    "REQUEST_SECONDS",
    60.0,
    "seconds",
    "the time a request may take to arrive, however slowly its bytes come",
    "a 400 RequestTimeout, and the connection is closed",
)
