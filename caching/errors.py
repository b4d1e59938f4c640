"""The library's errors: each message is one sentence that names the bad value and says what to do.

Raise a `CachingError` anywhere; the CLI and the example runner print it once (`caching.lab.terminal.say_error`)
and exit with its `exit_code`, one of the codes below: the same in every command, listed in docs/cli.md.
"""

import re

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


def redact(text: str) -> str:
    """`text` with any credentials inside a URL (http://user:secret@host) replaced by ***."""
    return _USERINFO.sub(r"\1***@", text)


DONE = 0  # the command did what was asked and found nothing wrong
FINDING = 1  # it ran, and found what the user asked it to fail on: a lint error, a miss, a threshold not met
CANNOT_RUN = 2  # it could not run: bad input, an unreadable file, an unknown name, a bad flag
INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


class CachingError(ValueError):
    """A user's mistake (or a failure they can fix) explained in one sentence; `exit_code` is what the CLI exits with."""

    exit_code = CANNOT_RUN

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(CachingError):
    """A usage dict that is not what Bedrock returns."""


class LayoutError(CachingError):
    """A request layout Bedrock would reject."""


class PricingError(CachingError):
    """A model with no known price, or a broken prices file."""


class RecordingError(CachingError):
    """A recording that cannot be written or read."""
