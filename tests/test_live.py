"""Against real Bedrock: skipped unless CACHING_LIVE_TESTS=1 and AWS credentials are present. Costs a few cents."""

from __future__ import annotations

import pytest

from .helpers import call_rows, example, render_with


@pytest.mark.live
def test_write_then_read_on_real_bedrock() -> None:
    rows = call_rows(render_with(lambda console: example("02").main(["--live"], console)))
    assert [r[7].split(":")[0] for r in rows][1] == "READ"  # the second identical call reads what the first wrote
    assert rows[1][2] != "0"
