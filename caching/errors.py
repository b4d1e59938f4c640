"""The library's errors: each message is one sentence that names the bad value and says what to do."""

import re

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")


def redact(text: str) -> str:
    """`text` with any credentials inside a URL (http://user:secret@host) replaced by ***."""
    return _USERINFO.sub(r"\1***@", text)


class CachingError(ValueError):
    """Base class for a user's mistake the library explains in one sentence."""


class UsageError(CachingError):
    """A usage dict that is not what Bedrock returns."""


class LayoutError(CachingError):
    """A request layout Bedrock would reject."""


class PricingError(CachingError):
    """A model with no known price, or a broken prices file."""


class RecordingError(CachingError):
    """A recording that cannot be written or read."""
