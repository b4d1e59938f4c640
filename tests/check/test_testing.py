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

from caching import CallRecorder
from caching.check.testing import assert_hit_rate, assert_reads, assert_writes_at_most

from ..helpers import CP, SONNET, assistant, message_tokens, text_of, user

pytest_plugins = ["pytester"]  # pytest's own fixture for running pytest on a generated test file

ROOT = Path(__file__).parents[2]
SAMPLE = ROOT / "docs" / "test_agent_caching.py"


def test_the_doc_shows_the_sample_file_as_it_is() -> None:
    doc = (ROOT / "docs" / "testing-your-agent.md").read_text()
    shown = re.search(r"<!-- sample: docs/test_agent_caching.py -->\n```python\n(.*?)```\n<!-- /sample -->", doc, re.S)
    assert shown is not None and shown[1] == SAMPLE.read_text()


def broken_sample() -> str:
    """The sample with a fresh request id in its system prompt each call; its first hex digit always changes, so the
    diagnosis names character 8 (a random uuid4 shares its first digit with the previous one once in 16 runs)."""
    broken = SAMPLE.read_text().replace(
        "    return SYSTEM_PROMPT\n",
        "    import uuid\n\n"
        '    system_prompt.calls = getattr(system_prompt, "calls", 0) + 1\n'
        '    return f"Request {uuid.UUID(int=system_prompt.calls << 124)}.\\n" + SYSTEM_PROMPT\n',
    )
    assert broken != SAMPLE.read_text()
    return broken


@pytest.fixture(scope="module")
def users_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh folder holding only the sample file and its broken copy, run once for the two tests below
    (a fresh Python with Strands costs seconds): the fixture comes from the installed package's plugin. The
    fixture is function-scoped, so the two files share no emulator."""
    folder = tmp_path_factory.mktemp("users-suite")
    (folder / "tests").mkdir()
    (folder / "tests" / "test_agent_caching.py").write_text(SAMPLE.read_text())
    (folder / "tests" / "test_broken_agent_caching.py").write_text(broken_sample())
    env = {"PATH": os.environ["PATH"], "HOME": str(folder), "CACHING_ENV_FILE": os.devnull}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider", "tests"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def outcomes(result: subprocess.CompletedProcess[str], file: str) -> list[str]:
    """The outcome of each test in `file`, sorted, from the run's short summary (-rA): ["FAILED", "PASSED", ...]."""
    return sorted(line.split()[0] for line in result.stdout.splitlines() if f" tests/{file}::" in line)


SUITE = pytest.mark.xdist_group("users-suite")  # both tests read the one run


@SUITE
def test_a_users_suite_passes_on_a_well_cached_agent(users_run: subprocess.CompletedProcess[str]) -> None:
    assert outcomes(users_run, "test_agent_caching.py") == ["PASSED", "PASSED"], users_run.stdout + users_run.stderr
    # Nothing else in the run failed, erred or warned: the one failure is the broken copy's (the next test).
    assert users_run.returncode == 1
    assert users_run.stdout.splitlines()[-1].startswith("1 failed, 3 passed in "), users_run.stdout


@SUITE
def test_a_users_suite_fails_with_the_diagnosis_when_a_request_id_creeps_in(
    users_run: subprocess.CompletedProcess[str],
) -> None:
    assert outcomes(users_run, "test_broken_agent_caching.py") == ["FAILED", "PASSED"], users_run.stdout
    message = failure(users_run.stdout.splitlines())
    assert message[0] == "Hit rate 0% (0 of 3 calls) is below 60% (marked *)."
    assert re.fullmatch(  # call 1 could only write: the cause is the next call, which found the prefix changed
        r"Cause: call 2 missed: NEW PREFIX: prefix changed in system block 0 at character 8: '[0-9a-f-]{36}' looks "
        r"like a request id.*",
        message[1],
    )


def unwrapped(message: str) -> list[str]:
    """A check's failure message with each wrapped line joined again (its continuations are indented 4 spaces),
    after checking it fits 80 columns behind pytest's "E       " (and "AssertionError: " on its first line)."""
    lines: list[str] = []
    for number, line in enumerate(message.splitlines()):
        assert len(line) <= 72 - (len("AssertionError: ") if number == 0 else 0), line
        if line.startswith("    "):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def failure(output: list[str]) -> list[str]:
    """The message of the one failure in pytest's output (its "E" lines), unwrapped, checked to fit 80 columns."""
    shown = [line for line in output if line.startswith("E       ")]
    assert all(len(line) <= 80 for line in shown)
    return unwrapped("\n".join(line[8:] for line in shown).removeprefix("AssertionError: "))


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
    question = message_tokens(user("Hi"))  # the prompt is the system text, its checkpoint, then the question
    expired = "EXPIRED: 5m01s since the last hit: the 5m entry expired; consider ttl 1h"
    each = f"(Converse, {SONNET}): read {{}}, wrote {{}}, {question:,} uncached: {{}}"
    assert unwrapped(str(caught.value)) == [
        "1 of 2 calls after the first read fewer than 2,100 cached tokens (marked *).",
        f"Cause: call 3 missed: {expired}",
        "  call 1 "
        + each.format(0, "2,100", "NEW PREFIX: first request like this: 2,100 tokens written for the next one to read"),
        "  call 2 " + each.format("2,100", 0, "HIT: read 2,100 cached tokens"),
        "* call 3 " + each.format(0, "2,100", expired),
    ]
    with pytest.raises(AssertionError, match=r"^2 call\(s\) wrote more than 2,000 tokens \(marked \*\)"):
        assert_writes_at_most(bedrock_emulator, 2_000)  # calls 1 and 3


def test_the_checks_take_calls_a_recorder_saw_and_say_what_the_emulator_says(bedrock_emulator: Any) -> None:
    """Live, a suite has no emulator's records: the checks read a CallRecorder's calls with the cache doctor."""
    client = bedrock_emulator.client()
    recorder = CallRecorder(clock=bedrock_emulator.clock).attach(client)
    for pause in (0, 60, 301):
        bedrock_emulator.clock.advance(pause)
        client.converse(modelId=SONNET, system=[{"text": text_of(2_100)}, CP], messages=[user("Hi")])
    said = []
    for source in (bedrock_emulator, recorder, recorder.calls):
        with pytest.raises(AssertionError) as caught:
            assert_reads(source, at_least=2_100)
        said.append(unwrapped(str(caught.value)))
    assert said[1] == said[2] == said[0]
    assert (
        said[0][1] == "Cause: call 3 missed: EXPIRED: 5m01s since the last hit: the 5m entry expired; consider ttl 1h"
    )


def test_the_fixture_serves_on_loopback_for_code_that_takes_a_url(bedrock_emulator: Any) -> None:
    session = boto3.Session(aws_access_key_id="AKIAURL", aws_secret_access_key="x", region_name="us-east-1")
    client = session.client("bedrock-runtime", endpoint_url=bedrock_emulator.endpoint_url)
    for _ in range(2):
        client.converse(modelId=SONNET, system=[{"text": text_of(2_100)}, CP], messages=[user("Hi")])
    assert [r.usage.cacheReadInputTokens for r in bedrock_emulator.records] == [0, 2_100]


# A conversation whose system prompt has no cachePoint and whose last user message has one (as Strands' automatic
# caching places it): call 1's prefix is just under Sonnet 4.6's 2,048-token minimum, so it caches nothing; call 2's
# longer prefix is over it and writes, so it is a miss that only call 1 explains.
BELOW_MINIMUM = """
from caching.check.testing import assert_reads

CP = {{"cachePoint": {{"type": "default"}}}}
SYSTEM = {system!r}


def test_turn_two_reads(bedrock_emulator):
    client, messages = bedrock_emulator.client(), []
    for question in ("Hi", "And then?"):
        messages = [{{**m, "content": [b for b in m["content"] if "cachePoint" not in b]}} for m in messages]
        messages.append({{"role": "user", "content": [{{"text": question}}, CP]}})
        client.converse(modelId={model!r}, system=[{{"text": SYSTEM}}], messages=messages)
        messages.append({{"role": "assistant", "content": [{{"text": "Fine."}}]}})
    assert_reads(bedrock_emulator)
"""


def test_a_failed_check_names_the_first_call_as_the_cause_and_lists_every_call(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=BELOW_MINIMUM.format(model=SONNET, system=text_of(2_040)))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    first = 2_040 + message_tokens(user("Hi"))  # the prefix call 1's checkpoint closes
    second = first + message_tokens(assistant("Fine.")) + message_tokens(user("And then?"))
    below = f"prefix below minimum: ~{first:,} < 2,048 tokens for claude-sonnet-4-6; add about {2_048 - first} tokens"
    assert failure(result.outlines) == [
        "1 of 1 calls after the first read nothing from the cache (marked *).",
        f"Cause: call 1 cached nothing: BELOW MINIMUM: {below} or move the checkpoint later",
        f"  call 1 (Converse, {SONNET}): read 0, wrote 0, {first:,} uncached: BELOW MINIMUM: {below} or move the "
        "checkpoint later",
        f"* call 2 (Converse, {SONNET}): read 0, wrote {second:,}, 0 uncached: NEW PREFIX: the conversation moved "
        f"on: {second:,} tokens written for the next call to read",
    ]


def test_a_failed_check_hides_its_own_frames(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_agent=BELOW_MINIMUM.format(model=SONNET, system=text_of(2_040)))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    shown = result.stdout.str()
    assert "assert_reads(bedrock_emulator)" in shown  # the user's line is shown ...
    assert "testing.py" not in shown and "raise AssertionError" not in shown  # ... the plugin's source is not
