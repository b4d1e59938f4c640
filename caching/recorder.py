"""Watch the Converse requests a boto3 session really sends, through botocore's event system (nothing patched)."""

from __future__ import annotations

import copy
import threading
from typing import Any

import boto3

OPERATIONS = ("Converse", "ConverseStream")


class RequestLog:
    """Keeps a copy of every Converse/ConverseStream request made by clients of the sessions it is attached to."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def attach(self, session: boto3.Session) -> RequestLog:
        """Observe `session`; attach before its bedrock-runtime clients are created."""
        session.events.register("before-parameter-build.bedrock-runtime", self._seen)
        return self

    def _seen(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name in OPERATIONS:
            with self._lock:
                self.requests.append(copy.deepcopy(params))
