"""One call value: a recording line reads back as the Call written, any source's call goes to the doctor as it is,
and the module stays below Strands and boto3."""

from __future__ import annotations

import subprocess
import sys

from caching import Call, Doctor, Emulator, ManualClock, Usage
from caching.check.recording import parse
from caching.rules import API

from .helpers import CP, SONNET, text_of, user


def test_a_recorded_call_reads_back_as_written() -> None:
    usage = Usage(5, 7, 2_100, 40, (("1h", 40),))
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": [user("Hi")]}
    for call in (
        Call("app", 12.5, SONNET, body, usage, api=API.INVOKE),
        Call("app", 13.0, SONNET, {"messages": [user("Hi")]}, error="ThrottlingException"),
    ):
        assert parse(call.to_json(), 1) == call


def test_the_doctor_takes_the_emulators_records_as_they_are() -> None:
    emulator = Emulator(clock=ManualClock(1_000.0))
    client = emulator.session().client("bedrock-runtime")
    for question in ("Hi", "Hi again"):
        client.converse(modelId=SONNET, system=[{"text": text_of(2_100)}, CP], messages=[user(question)])
    doctor = Doctor()
    assert [doctor.observe(record) for record in emulator.records] == [r.diagnosis for r in emulator.records]


def test_the_call_and_the_doctor_load_neither_strands_nor_boto3() -> None:
    loaded = "import sys, caching.call, caching.check.doctor; print(sorted({'strands', 'boto3'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", loaded], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"
