"""Pricing with genai-prices: the blog's self-consistent rows to the micro-dollar, regional profiles 10% higher."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from caching import Cost, Usage, cost_of, prices_for
from caching.errors import PricingError

GLOBAL = "global.anthropic.claude-sonnet-4-6"
US = "us.anthropic.claude-sonnet-4-6"

# The seven rows of the blog's table whose input cost agrees with their own tokens (shared/reference/seed-claims.md).
BLOG_ROWS = [
    ("explicit 1", 0, 2_509, 325, "0.010384"),
    ("explicit 2", 2_509, 0, 2_098, "0.007047"),
    ("explicit 3", 2_509, 0, 3_871, "0.012366"),
    ("explicit 4", 2_509, 0, 5_644, "0.017685"),
    ("automatic 1", 0, 0, 2_834, "0.008502"),
    ("combined 1", 0, 2_509, 325, "0.010384"),
    ("combined 2", 2_509, 2_098, 0, "0.008620"),
]


@pytest.mark.parametrize(("row", "read", "write", "regular", "blog"), BLOG_ROWS)
def test_blog_rows_to_the_micro_dollar(row: str, read: int, write: int, regular: int, blog: str) -> None:
    usage = Usage(inputTokens=regular, cacheReadInputTokens=read, cacheWriteInputTokens=write)
    assert round(cost_of(usage, GLOBAL).input, 6) == Decimal(blog)


def test_reference_check_value() -> None:
    cost = cost_of(Usage(inputTokens=325, cacheWriteInputTokens=2_509), GLOBAL)
    assert cost.input == Decimal("0.01038375")
    assert round(cost.input_savings, 3) == -0.221  # the write premium: worse than no caching on turn 1


def test_us_profile_costs_ten_percent_more() -> None:
    g, us = prices_for(GLOBAL), prices_for(US)
    assert (g.input, g.output, g.write_5m, g.write_1h, g.read) == tuple(
        Decimal(x) for x in ("3.00", "15.00", "3.75", "6.00", "0.30")
    )
    assert (us.input, us.output, us.write_5m, us.write_1h, us.read) == tuple(
        Decimal(x) for x in ("3.300", "16.500", "4.125", "6.600", "0.330")
    )
    usage = Usage(inputTokens=325, cacheWriteInputTokens=2_509, cacheReadInputTokens=1_000, outputTokens=200)
    assert cost_of(usage, US).total == cost_of(usage, GLOBAL).total * Decimal("1.1")


def test_cost_split_and_savings() -> None:
    usage = Usage(
        inputTokens=100,
        outputTokens=50,
        cacheReadInputTokens=2_000,
        cacheWriteInputTokens=300,
        cacheDetails=(("1h", 200), ("5m", 100)),
    )
    cost = cost_of(usage, GLOBAL)
    assert cost == Cost(
        regular=Decimal("0.0003"),
        write_5m=Decimal("0.000375"),
        write_1h=Decimal("0.0012"),
        read=Decimal("0.0006"),
        output=Decimal("0.00075"),
        uncached_input=Decimal("0.0072"),
    )
    assert cost.input == Decimal("0.002475")
    assert cost.input_savings == pytest.approx(1 - 0.002475 / 0.0072)
    assert cost.total_savings == pytest.approx(1 - (0.002475 + 0.00075) / (0.0072 + 0.00075))


def test_writes_without_cache_details_take_the_requested_ttl() -> None:
    usage = Usage(cacheWriteInputTokens=1_000)
    assert cost_of(usage, GLOBAL, "1h").write_1h == Decimal("0.006")
    assert cost_of(usage, GLOBAL, "5m").write_5m == Decimal("0.00375")


def test_unknown_model_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(PricingError) as caught:
        prices_for("acme.model-x")
    assert str(caught.value) == (
        "No price is known for model 'acme.model-x': genai-prices has no AWS price for it; add it to a JSON prices "
        "file and set CACHING_PRICES_FILE (see .env.example)."
    )


def test_prices_file_prices_an_unknown_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps({"acme.model-x": {"input": 2, "output": 8, "write_5m": 2.5, "write_1h": 4, "read": 0.2}})
    )
    monkeypatch.setenv("CACHING_PRICES_FILE", str(path))
    assert cost_of(Usage(inputTokens=1_000_000, cacheReadInputTokens=1_000_000), "acme.model-x").input == Decimal("2.2")
    path.write_text("{broken")
    with pytest.raises(PricingError, match=r"^Cannot read the prices file .*: fix it or unset CACHING_PRICES_FILE\.$"):
        prices_for("acme.model-x")


@pytest.mark.parametrize(
    ("model_id", "input_price", "weights"),
    [
        (GLOBAL, Decimal("3"), (0.1, 1.25, 2.0)),
        ("global.anthropic.claude-sonnet-5-5", Decimal("2"), (0.05, 1.25, 2.0)),  # reads at 0.05x of input
        ("global.anthropic.claude-fable-5-2", Decimal("8"), (0.025, 1.25, 2.0)),  # reads at 0.025x of input
    ],
)
def test_read_and_write_multipliers_come_from_the_models_price_row(
    model_id: str, input_price: Decimal, weights: tuple[float, float, float]
) -> None:
    prices = prices_for(model_id)
    assert (prices.input, prices.weights) == (input_price, weights)
    # A million tokens read cost the row's read price: 0.05 x $2 = $0.10 for Sonnet 5.5, never 0.1x of input.
    read = cost_of(Usage(cacheReadInputTokens=1_000_000), model_id).read
    assert read == input_price * Decimal(str(weights[0]))


def test_a_prices_file_row_sets_the_multipliers_of_a_known_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "prices.json"
    row = {"input": 3, "output": 15, "write_5m": 3.75, "write_1h": 6, "read": 0.075}  # reads at 0.025x
    path.write_text(json.dumps({GLOBAL: row}))
    monkeypatch.setenv("CACHING_PRICES_FILE", str(path))
    assert prices_for(GLOBAL).weights == (0.025, 1.25, 2.0)
    assert cost_of(Usage(cacheReadInputTokens=2_000_000), GLOBAL).read == Decimal("0.15")  # 2 x $0.075


def test_a_prices_file_changed_during_a_run_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The file is read once per version, not once per call: a row edited in place, or a file replaced by another,
    # prices the next call at the new price ($2, then $4.25, then $6 per million input tokens). The edit changes the
    # file's size, so the test does not depend on how finely the file system times two writes a moment apart.
    path = tmp_path / "prices.json"
    monkeypatch.setenv("CACHING_PRICES_FILE", str(path))
    million = Usage(inputTokens=1_000_000)
    for price in (Decimal(2), Decimal("4.25")):
        path.write_text(
            json.dumps(
                {"acme.model-x": {"input": float(price), "output": 8, "write_5m": 2.5, "write_1h": 4, "read": 0.2}}
            )
        )
        assert [cost_of(million, "acme.model-x").input for _ in range(3)] == [price] * 3
    replacement = tmp_path / "new.json"
    replacement.write_text(
        json.dumps({"acme.model-x": {"input": 6, "output": 8, "write_5m": 2.5, "write_1h": 4, "read": 0.2}})
    )
    replacement.replace(path)
    assert cost_of(million, "acme.model-x").input == Decimal(6)
