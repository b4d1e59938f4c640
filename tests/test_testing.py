"""Caching checks in a user's own test suite: the pytest plugin's fixture, the assertion helpers, and the sample file
in docs/ run exactly as a user would run them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from caching.check.testing import assert_hit_rate, assert_reads, assert_writes_at_most

from .helpers import CP, SONNET, text_of, user

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "docs" / "test_agent_caching.py"


def test_the_doc_shows_the_sample_file_as_it_is() -> None:
    doc = (ROOT / "docs" / "testing-your-agent.md").read_text()
    shown = re.search(r"<!-- sample: docs/test_agent_caching.py -->\n```python\n(.*?)```\n<!-- /sample -->", doc, re.S)
    assert shown is not None and shown[1] == SAMPLE.read_text()


def run_like_a_user(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh folder with only the test file: the fixture comes from the installed package's plugin."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_agent_caching.py").write_text(source)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "CACHING_ENV_FILE": os.devnull}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_users_suite_passes_on_a_well_cached_agent(tmp_path: Path) -> None:
    result = run_like_a_user(tmp_path, SAMPLE.read_text())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_a_users_suite_fails_with_the_diagnosis_when_a_request_id_creeps_in(tmp_path: Path) -> None:
    broken = SAMPLE.read_text().replace(
        "    return SYSTEM_PROMPT\n", '    import uuid\n\n    return f"Request {uuid.uuid4()}.\\n" + SYSTEM_PROMPT\n'
    )
    assert broken != SAMPLE.read_text()
    result = run_like_a_user(tmp_path, broken)
    assert result.returncode == 1
    assert "1 failed, 1 passed" in result.stdout
    assert "Hit rate 0% (0 of 3 calls) is below 60%; the misses:" in result.stdout
    assert re.search(
        r"prefix changed in system block 0 at character 8: '[0-9a-f-]{36}' looks like a request id", result.stdout
    )


def send(target: Any, pause: float = 0.0) -> None:
    client = target.client()
    if pause:
        target.clock.advance(pause)
    client.converse(modelId=SONNET, system=[{"text": text_of(2_100)}, CP], messages=[user("Hi")])


def test_the_fixture_the_clock_and_the_checks(bedrock_emulator: Any) -> None:
    send(bedrock_emulator)
    send(bedrock_emulator, pause=60)
    assert_reads(bedrock_emulator, at_least=2_100)
    assert_hit_rate(bedrock_emulator, at_least=0.5)
    assert_writes_at_most(bedrock_emulator, 2_100)
    send(bedrock_emulator, pause=301)  # past the 5m TTL
    with pytest.raises(AssertionError) as caught:
        assert_reads(bedrock_emulator, at_least=2_100)
    assert str(caught.value) == (
        "1 of 2 calls read fewer than 2,100 cached tokens:\n"
        "  call 3 (Converse, global.anthropic.claude-sonnet-4-6): read 0, wrote 2,100, 4 uncached: EXPIRED: 5m01s "
        "since the last hit: the 5m entry expired; consider ttl 1h"
    )
    with pytest.raises(AssertionError, match=r"^2 call\(s\) wrote more than 2,000 tokens:"):  # calls 1 and 3
        assert_writes_at_most(bedrock_emulator, 2_000)


def test_the_fixture_serves_on_loopback_for_code_that_takes_a_url(bedrock_emulator: Any) -> None:
    session = boto3.Session(aws_access_key_id="AKIAURL", aws_secret_access_key="x", region_name="us-east-1")
    client = session.client("bedrock-runtime", endpoint_url=bedrock_emulator.endpoint_url)
    for _ in range(2):
        client.converse(modelId=SONNET, system=[{"text": text_of(2_100)}, CP], messages=[user("Hi")])
    assert [r.usage["cacheReadInputTokens"] for r in bedrock_emulator.records] == [0, 2_100]
