"""The pytest plugin: installing this package gives every test suite a `bedrock_emulator` fixture.

    def test_my_agent_caches(bedrock_emulator):
        model = BedrockModel(boto_session=bedrock_emulator.session(), model_id=..., cache_config=...)
        ...
        bedrock_emulator.clock.advance(360)    # a six-minute pause, instantly

`bedrock_emulator.endpoint_url` serves the same emulator on loopback (started on first use) for code that only
takes a URL. Nothing leaves the machine and no AWS credentials are needed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from ..emulator import CallRecord, Emulator, EmulatorServer, ManualClock, running_server
from ..rules import DEFAULT_MODEL_ID

__all__ = ["BedrockEmulator", "bedrock_emulator"]


class BedrockEmulator:
    """The offline Bedrock of one test: an Emulator on a clock that moves only when told."""

    def __init__(self) -> None:
        self.clock = ManualClock(1_000.0)
        self.emulator = Emulator(clock=self.clock)
        self.model_id = DEFAULT_MODEL_ID
        self._stack = contextlib.ExitStack()
        self._server: EmulatorServer | None = None

    def session(self, access_key_id: str | None = None, region: str = "us-east-1") -> Any:
        """A boto3 Session this emulator answers (for BedrockModel(boto_session=...) or session.client(...))."""
        return self.emulator.session(access_key_id or "AKIATESTSUITE0001", region)

    def client(self) -> Any:
        """A boto3 bedrock-runtime client this emulator answers."""
        return self.session().client("bedrock-runtime")

    @property
    def endpoint_url(self) -> str:
        """http://127.0.0.1:PORT, serving this emulator for the rest of the test (any key id signs the requests)."""
        if self._server is None:
            self._server = self._stack.enter_context(running_server(self.emulator))
        return self._server.url

    @property
    def records(self) -> list[CallRecord]:
        """Every call answered so far: its usage, each checkpoint's outcome, and the doctor's diagnosis."""
        return self.emulator.records

    def close(self) -> None:
        self._stack.close()


@pytest.fixture
def bedrock_emulator() -> Iterator[BedrockEmulator]:
    """An offline Bedrock (Converse, ConverseStream, InvokeModel, CountTokens) with Bedrock's caching rules."""
    emulated = BedrockEmulator()
    try:
        yield emulated
    finally:
        emulated.close()
