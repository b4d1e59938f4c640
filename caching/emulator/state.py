"""Bedrock's side of the emulator: accounts, the prompt cache, recent requests and the record of each call.

The state and its rules, as plain Python: a request in Converse's shape goes in, the reply content and the `Usage`
come out, and a `CallRecord` is kept. No HTTP, no JSON wire shapes, no boto3: those are the wire's (`responses`,
`service`, `session`, `server`), which the public `Emulator` puts around this.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..rules import (
    API,
    LOOKBACK_BLOCKS,
    Catalog,
    History,
    ModelInfo,
    PromptCache,
    RequestRejected,
    block_tokens,
    diagnose,
    linearize,
    prefix_digests,
    string_system_note,
    system_clock,
)
from ..rules.usage import Usage
from .records import CallRecord
from .replies import reply

Replies = Callable[[dict[str, Any]], tuple[list[dict[str, Any]], str]]


@dataclass(frozen=True)
class Answer:
    """What one call answered: the reply's content blocks (Converse's shape), its stop reason, and the usage."""

    content: list[dict[str, Any]]
    stop_reason: str
    usage: Usage


class BedrockState:
    """The accounts' caches and what they remember, behind every way in (see `Emulator` for the arguments)."""

    def __init__(
        self,
        clock: Callable[[], float] = system_clock,
        catalog: Catalog | None = None,
        lookback: int = LOOKBACK_BLOCKS,
        replies: Replies = reply,
        keep_records: int = 1_000,
        accounts: Mapping[str, str] | None = None,
        prefill_seconds: float = 0.0,
    ) -> None:
        self.clock = clock
        self.replies = replies
        self.catalog = catalog or Catalog()
        self.cache = PromptCache(clock, lookback)
        self.history = History()  # recent requests per model and account: what changed, when a prefix is new
        self.records: list[CallRecord] = []
        self.keep_records = keep_records
        self.accounts = dict(accounts or {})
        self.prefill_seconds = prefill_seconds
        self._numbers = itertools.count(1)
        self.throttled = 0  # the next N Converse/ConverseStream requests get a ThrottlingException
        self._lock = threading.Lock()

    def account_for(self, credential: str) -> str:
        """The account whose cache a credential uses."""
        return self.accounts.get(credential, credential)

    def throttle(self, count: int) -> None:
        """Answer the next `count` model calls with ThrottlingException, to exercise retry paths."""
        with self._lock:
            self.throttled = count

    def take_throttle(self) -> bool:
        """True (and one fewer left) while throttled requests remain."""
        with self._lock:
            if self.throttled <= 0:
                return False
            self.throttled -= 1
            return True

    def model(self, model_id: str) -> ModelInfo:
        """The catalog's model for an id; RequestRejected (Bedrock's words) for an unknown one."""
        model = self.catalog.find(model_id)
        if model is None:
            raise RequestRejected("The provided model identifier is invalid.")
        return model

    def answer(
        self, model_id: str, request: dict[str, Any], sent: dict[str, Any], account: str, operation: str, api: API
    ) -> Answer:
        """Run one request (in Converse's shape; `sent` is the body as sent) through the rules and the offline model,
        and keep its record. Raises RequestRejected for what Bedrock would refuse."""
        model = self.model(model_id)
        prompt = linearize(request, model, api)
        content, stop_reason = self.replies(request)
        output_tokens = sum(block_tokens(block) for block in content)
        with self._lock:
            digests = prefix_digests(prompt)
            result = self.cache.apply(prompt, model, model_id, account, digests, pending=True)
            written = result.write_tokens
            diagnosis = diagnose(
                prompt,
                model,
                result.read_tokens,
                written,
                result.miss,
                lambda: self.history.what_changed(model_id, account, prompt, digests, request, written),
            )
            self.history.remember(model_id, account, prompt, digests, request)
            if api is API.INVOKE:
                diagnosis = string_system_note(sent, diagnosis)
            usage = Usage.of(
                regular=result.input_tokens,
                output=output_tokens,
                read=result.read_tokens,
                write_5m=result.write_5m_tokens,
                write_1h=result.write_1h_tokens,
            )
            self.records.append(
                CallRecord(
                    agent=account,
                    at=self.clock(),
                    model_id=model_id,
                    request=sent,
                    usage=usage,
                    api=API(api),
                    number=next(self._numbers),
                    operation=operation,
                    account=account,
                    checkpoints=result.checkpoints,
                    read_position=result.read_position,
                    total_tokens=prompt.total_tokens,
                    diagnosis=diagnosis,
                )
            )
            if len(self.records) > self.keep_records:
                del self.records[: len(self.records) - self.keep_records]
        if self.prefill_seconds:  # the model reads the prompt; its first token, and so its entries, come after
            time.sleep(self.prefill_seconds)
        with self._lock:
            self.cache.release(result.written)
        return Answer(content, stop_reason, usage)

    def count(self, model_id: str, request: dict[str, Any], api: API = API.CONVERSE) -> int:
        """The prompt tokens of a request in Converse's shape, by the same estimate the answers use (CountTokens)."""
        return linearize(request, self.model(model_id), api).total_tokens
