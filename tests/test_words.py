"""Number words shared by every screen."""

from __future__ import annotations

import pytest

from caching.words import rough_duration


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(61, "1 min"), (210, "4 min"), (7_199, "120 min"), (7_200, "2 h"), (11_000, "3 h"), (172_800, "2 days"),
     (10**11, "1,157,407 days")],
)  # fmt: skip
def test_a_rough_duration_takes_the_unit_that_reads_best(seconds: float, said: str) -> None:
    """Minutes below two hours, hours below two days, days beyond."""
    assert rough_duration(seconds) == said
