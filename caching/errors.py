"""The library's errors: each message is one sentence that names the bad value and says what to do."""


class CachingError(ValueError):
    """Base class for a user's mistake the library explains in one sentence."""


class UsageError(CachingError):
    """A usage dict that is not what Bedrock returns."""


class LayoutError(CachingError):
    """A request layout Bedrock would reject."""


class PricingError(CachingError):
    """A model with no known price, or a broken prices file."""
