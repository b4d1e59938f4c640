"""One model call, however it was seen: recorded by a client, read from an invocation log, answered by the
emulator, or tracked through Strands' hooks. The doctor, the audit and the test assertions all take this value;
each source adds what only it knows by extending it (`CallRecord`, `LoggedCall`, `CallUsage`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .rules.api import API
from .rules.outcomes import CallOutcome
from .rules.usage import Usage


@dataclass(frozen=True)
class Call:
    """One model call: who sent it, when (seconds since the epoch), the model id, the request as sent (None when the
    source did not keep it), the usage that came back (all zero when the call failed), the error, and its API."""

    agent: str
    at: float
    model_id: str
    request: dict[str, Any] | None
    usage: Usage = field(default_factory=Usage)
    error: str | None = None
    api: API = API.CONVERSE

    @property
    def outcome(self) -> CallOutcome:
        """READ, WRITE, READ+WRITE or NONE, from the usage (NONE for a failed call)."""
        return CallOutcome.of(self.usage.cacheReadInputTokens, self.usage.cacheWriteInputTokens)

    def to_json(self) -> str:
        """The call as one line of a recording (`caching doctor calls.jsonl` reads it back)."""
        usage = None if self.error is not None else self.usage.to_bedrock()  # Bedrock returns no usage with an error
        line = {
            "agent": self.agent,
            "at": self.at,
            "model_id": self.model_id,
            "request": self.request,
            "usage": usage,
            "error": self.error,
            "api": str(self.api),
        }
        return json.dumps(line, separators=(",", ":"))
