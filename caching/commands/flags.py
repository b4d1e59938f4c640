"""Flag values: each turns a flag's text into a value, or says in one sentence what is wrong with it."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable


def positive(text: str) -> int:
    """A whole number of at least 1, for --jobs."""
    if not re.fullmatch(r"[0-9]{1,4}", text) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 9999, got {text!r}")
    return int(text)


def rate(text: str) -> float:
    """A share from 0 to 1, for --min-hit-rate (0.8 or 80%)."""
    try:
        value = float(text.removesuffix("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1 (or a percentage), got {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"must be from 0 to 1 (or 0% to 100%), got {text!r}")
    return value


def port(text: str) -> int:
    """A TCP port number: 0 (pick a free one) to 65535."""
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text[:20]!r}")
    return int(text)


def seconds(text: str) -> float:
    """A number of seconds, 0 or more and at most a day, for --expiry-window."""
    try:
        value = float(text.removesuffix("s"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds such as 120, got {text[:20]!r}") from None
    if not 0 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"must be from 0 to 86400 seconds, got {text[:20]!r}")
    return value


def between(low: float, high: float, kind: Callable[[str], float] = int) -> Callable[[str], float]:
    """A number of `kind` from `low` to `high` (the benchmarks' counts), or one sentence saying so."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a number from {low:,} to {high:,}, got {text!r}")
        return value

    return parse
