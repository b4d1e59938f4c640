"""What a call cost, split by kind of token, priced by genai-prices (offline, provider "aws").

A model is priced as the id it was called with: the `us.` profile of Sonnet 4.6 costs 10% more than `global.`.
A model genai-prices lacks can be priced from a JSON file named by CACHING_PRICES_FILE (in .env or the environment):
{"my-model-id": {"input": 3.0, "output": 15.0, "write_5m": 3.75, "write_1h": 6.0, "read": 0.3}}  (USD per 1M tokens)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from genai_prices import Usage as PriceUsage
from genai_prices import calc_price

from .errors import PricingError
from .rules.usage import Usage
from .settings import PRICES_FILE_VARIABLE, setting

PRICE_KEYS = ("input", "output", "write_5m", "write_1h", "read")
MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Prices:
    """USD per million tokens for one model id."""

    model_id: str
    input: Decimal
    output: Decimal
    write_5m: Decimal
    write_1h: Decimal
    read: Decimal

    @property
    def weights(self) -> tuple[float, float, float]:
        """What a read, a 5m write and a 1h write cost per token, in units of one input token (the oracle's
        currency: its choices depend on these ratios only)."""
        return float(self.read / self.input), float(self.write_5m / self.input), float(self.write_1h / self.input)


@dataclass(frozen=True)
class Cost:
    """USD of one call or a sum of calls, by kind of token, with what the same tokens cost without caching."""

    regular: Decimal = Decimal(0)
    write_5m: Decimal = Decimal(0)
    write_1h: Decimal = Decimal(0)
    read: Decimal = Decimal(0)
    output: Decimal = Decimal(0)
    uncached_input: Decimal = Decimal(0)

    @property
    def input(self) -> Decimal:
        return self.regular + self.write_5m + self.write_1h + self.read

    @property
    def total(self) -> Decimal:
        return self.input + self.output

    @property
    def input_savings(self) -> float:
        """1 - input cost / uncached input cost; negative while the write premium is not yet repaid."""
        return 0.0 if not self.uncached_input else float(1 - self.input / self.uncached_input)

    @property
    def total_savings(self) -> float:
        """Savings on the whole bill, output included (output is never cached, so this is smaller)."""
        baseline = self.uncached_input + self.output
        return 0.0 if not baseline else float(1 - self.total / baseline)

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.regular + other.regular,
            self.write_5m + other.write_5m,
            self.write_1h + other.write_1h,
            self.read + other.read,
            self.output + other.output,
            self.uncached_input + other.uncached_input,
        )


def _from_file(model_id: str, path: str | None) -> Prices | None:
    """The prices file's row for `model_id`, read again only when the file changes (is replaced, or its time or size
    changes): the audit prices every call, and reading the file each time cost more than the rest of the pricing."""
    if not path:
        return None
    try:
        found = os.stat(path)
        stamp: tuple[int, int, int] | None = (found.st_ino, found.st_mtime_ns, found.st_size)
    except OSError:
        stamp = None  # reading it says why
    return _file_row(model_id, path, stamp)


@lru_cache(maxsize=64)
def _file_row(model_id: str, path: str, stamp: tuple[int, int, int] | None) -> Prices | None:
    """The row itself, once per model and version of the file (`stamp`: None when it cannot be read, which reading
    it again words)."""
    try:
        table = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PricingError(
            f"Cannot read the prices file {path!r} ({exc}): fix it or unset {PRICES_FILE_VARIABLE}."
        ) from None
    entry = table.get(model_id) if isinstance(table, dict) else None
    if entry is None:
        return None
    try:
        return Prices(model_id, *(Decimal(str(entry[key])) for key in PRICE_KEYS))
    except (KeyError, TypeError, ArithmeticError):
        raise PricingError(
            f"The prices file {path!r} entry for {model_id!r} needs numbers for {', '.join(PRICE_KEYS)} (USD per 1M tokens)."
        ) from None


@lru_cache(maxsize=64)
def _from_genai_prices(model_id: str) -> Prices | None:
    try:
        price = calc_price(PriceUsage(input_tokens=1_000_000), model_ref=model_id, provider_id="aws").model_price
    except LookupError:
        return None

    def per_million(**tokens: int) -> Decimal:
        return Decimal(price.calc_price(PriceUsage(**tokens))["total_price"])

    return Prices(
        model_id,
        input=per_million(input_tokens=1_000_000),
        output=per_million(output_tokens=1_000_000),
        write_5m=per_million(input_tokens=1_000_000, cache_write_tokens=1_000_000),
        write_1h=per_million(input_tokens=1_000_000, cache_write_tokens=1_000_000, cache_write_1h_tokens=1_000_000),
        read=per_million(input_tokens=1_000_000, cache_read_tokens=1_000_000),
    )


def prices_for(model_id: str, prices_file: str | None = None) -> Prices:
    """The prices of `model_id`: the prices file first (`prices_file`, else the CACHING_PRICES_FILE setting), then
    genai-prices; a clear error when neither knows it."""
    prices = _from_file(model_id, prices_file or setting(PRICES_FILE_VARIABLE)) or _from_genai_prices(model_id)
    if prices is None:
        raise PricingError(
            f"No price is known for model {model_id!r}: genai-prices has no AWS price for it; add it to a JSON prices "
            f"file and set {PRICES_FILE_VARIABLE} (see .env.example)."
        )
    return prices


def cost_of(usage: Usage, model_id: str, requested_ttl: str = "5m") -> Cost:
    """The cost of one call's usage; writes are split 5m/1h from cacheDetails, else by the requested TTL."""
    p = prices_for(model_id)
    write_1h = usage.written("1h", requested_ttl)
    write_5m = usage.cacheWriteInputTokens - write_1h
    return Cost(
        regular=usage.inputTokens * p.input / MILLION,
        write_5m=write_5m * p.write_5m / MILLION,
        write_1h=write_1h * p.write_1h / MILLION,
        read=usage.cacheReadInputTokens * p.read / MILLION,
        output=usage.outputTokens * p.output / MILLION,
        uncached_input=usage.prompt_tokens * p.input / MILLION,
    )
