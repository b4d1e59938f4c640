"""The model catalog (issue 22): every row names its source and the day it was checked; where sources disagree on
the minimum, the row keeps both values and says which one the emulator follows and why. The expected rows are the
reference's table (shared/reference/bedrock-prompt-caching.md, "Minimum tokens per checkpoint"), copied by hand."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

from caching.rules import MODELS

# base id: (minimum followed, the other source's minimum or None, 1h TTL)
REFERENCE = {
    "anthropic.claude-sonnet-4-6": (2048, 1024, True),  # AWS page 1,024; Anthropic and a measurement 2,048
    "anthropic.claude-sonnet-4-5-20250929-v1:0": (1024, 4096, True),  # one AWS page version said 4,096
    "anthropic.claude-opus-4-6-v1": (4096, None, True),
    "anthropic.claude-opus-4-5-20251101-v1:0": (4096, None, True),
    "anthropic.claude-haiku-4-5-20251001-v1:0": (4096, None, True),
    "anthropic.claude-3-7-sonnet-20250219-v1:0": (1024, None, False),
    "anthropic.claude-3-5-haiku-20241022-v1:0": (2048, None, False),
}


def test_the_catalog_is_the_references_table() -> None:
    assert {m.base_id: (m.min_tokens, m.other_min_tokens, m.supports_1h) for m in MODELS} == REFERENCE


def test_every_row_names_its_source_and_when_it_was_checked() -> None:
    for model in MODELS:
        assert model.source.startswith("minimum: "), model.name
        assert ("AWS" in model.source or "Anthropic" in model.source) and "1h" in model.source, model.name
        assert datetime.date(2026, 11, 1) <= model.checked <= datetime.date(2026, 12, 31), model.name


def test_a_row_whose_sources_disagree_says_which_it_follows_and_why() -> None:
    for model in MODELS:
        assert bool(model.follows) == (model.other_min_tokens is not None), model.name
    sonnet = next(m for m in MODELS if m.short == "claude-sonnet-4-6")
    assert "measured" in sonnet.follows or "measurement" in sonnet.follows
    assert f"{sonnet.other_min_tokens:,}" in sonnet.follows  # it names the value it does not follow


def test_minimum_range_gives_both_sources_values_lowest_first() -> None:
    ranges = {m.short: m.minimum_range for m in MODELS}
    assert ranges["claude-sonnet-4-6"] == (1024, 2048)
    assert ranges["claude-sonnet-4-5"] == (1024, 4096)
    assert ranges["claude-opus-4-6"] == (4096, 4096)  # the sources agree


def test_the_rules_page_shows_the_catalog() -> None:
    page = (Path(__file__).parents[2] / "docs" / "rules.md").read_text()
    rows = re.findall(r"^\| (Claude [^|]+?) \| `([^`]+)`[^|]*\| ([\d,]+) \| (yes|no) \|", page, re.M)
    assert [(n, b, int(m.replace(",", "")), h == "yes") for n, b, m, h in rows] == [
        (m.name, m.base_id, m.min_tokens, m.supports_1h) for m in MODELS
    ]
