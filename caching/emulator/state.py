"""Bedrock's side of the emulator: accounts, the prompt cache, recent requests and the record of each call.

The state and its rules, as plain Python: a request in Converse's shape goes in, the reply content and the `Usage`
come out, and a `CallRecord` is kept. No HTTP, no JSON wire shapes, no boto3: those are the wire's (`responses`,
`service`, `session`, `server`), which the public `Emulator` puts around this.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from .. import limits
from ..rules import (
    API,
    LOOKBACK_BLOCKS,
    CacheResult,
    Catalog,
    History,
    ModelInfo,
    Prompt,
    PromptCache,
    RequestRejected,
    diagnose,
    linearize,
    prefix_digests,
    string_system_note,
    system_clock,
)
from ..rules.diagnosis import what_changed
from ..rules.uncertainty import EXACT, Uncertainty
from ..rules.usage import Usage
from .records import CallRecord
from .replies import bounded, max_tokens, reply

Replies = Callable[[dict[str, Any]], tuple[list[dict[str, Any]], str]]

# AWS's region names: two to four letters, one to three words, a number (us-east-1, us-gov-west-1, eusc-de-east-1).
# A region names a folder of the invocation logs, so nothing else is taken for one.
REGION = re.compile(r"[a-z]{2,4}(?:-[a-z]{1,16}){1,3}-[0-9]{1,2}")
DEFAULT_REGION = "us-east-1"  # a bearer token carries no region


def new_request_id() -> str:
    """A request id as Bedrock spells one (a random UUID): every answer's `x-amzn-RequestId`, and its log record's."""
    return str(uuid.uuid4())


class AccountKind(Enum):
    """How a caller reached an account. Accounts of different kinds never share a cache, whatever their names."""

    AWS = "aws"  # named by a SigV4 access key id, or by the emulator's `accounts` map
    API_KEY = "api-key"  # a Bedrock API key (a bearer token), known only by a digest of it


@dataclass(frozen=True)
class Account:
    """Whose cache a request uses: a name and its kind. An API key is named by the first 16 hex digits of its
    SHA-256; an access key id that spells the same digest is still another account, of another kind."""

    name: str
    kind: AccountKind = AccountKind.AWS

    @classmethod
    def of_api_key(cls, key: str) -> Account:
        """The account of a Bedrock API key (the key itself is never kept)."""
        return cls(hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:16], AccountKind.API_KEY)

    @classmethod
    def named(cls, spelled: str | Account) -> Account:
        """An account as the `accounts` map spells a credential: "bearer:" and a digest for an API key, else an
        access key id (or an Account as it is)."""
        if isinstance(spelled, Account):
            return spelled
        if spelled.startswith("bearer:"):
            return cls(spelled.removeprefix("bearer:"), AccountKind.API_KEY)
        return cls(spelled)

    @property
    def key(self) -> str:
        """The cache's key for this account: its kind, then its name (no kind's word holds a colon, so two accounts
        of different kinds never have one key)."""
        return f"{self.kind.value}:{self.name}"

    def __str__(self) -> str:
        """The account for people (and the IAM user of its invocation logs): its name, or "bearer/" and an API
        key's digest (a SigV4 key id cannot hold a "/", so none spells it)."""
        return self.name if self.kind is AccountKind.AWS else f"bearer/{self.name}"


@dataclass(frozen=True)
class Answer:
    """What one call answered: the reply's content blocks (Converse's shape), its stop reason, and the usage."""

    content: list[dict[str, Any]]
    stop_reason: str
    usage: Usage


@dataclass
class Transaction:
    """What one request changes, held until its whole answer is built: the cache's writes and refreshes (pending),
    its records, what the history should remember, and what must be written once it succeeds (its invocation log).
    `BedrockState.transaction` keeps it all when the request succeeds and takes it back when it fails. Its
    `request_id` is the one the answer carries and the invocation log records."""

    request_id: str = field(default_factory=new_request_id)
    results: list[CacheResult] = field(default_factory=list)
    records: list[CallRecord] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # each record's prompt bytes, to bound what is kept
    remembered: list[tuple[str, str, Prompt, list[str], dict[str, Any]]] = field(default_factory=list)
    on_success: list[Callable[[], None]] = field(default_factory=list)


class BedrockState:
    """The accounts' caches and what they remember, behind every way in (see `Emulator` for the arguments)."""

    def __init__(
        self,
        clock: Callable[[], float] = system_clock,
        catalog: Catalog | None = None,
        lookback: int = LOOKBACK_BLOCKS,
        replies: Replies = reply,
        keep_records: int = 1_000,
        accounts: Mapping[str | Account, str | Account] | None = None,
        prefill_seconds: float = 0.0,
        uncertainty: Uncertainty = EXACT,
    ) -> None:
        self.clock = clock
        self.replies = replies
        self.catalog = catalog or Catalog()
        self.cache = PromptCache(clock, lookback, uncertainty=uncertainty)
        self.history = History()  # recent requests per model and account: what changed, when a prefix is new
        self.records: list[CallRecord] = []  # the latest, at most keep_records of them and RECORD_BYTES of prompt
        self.keep_records = keep_records
        self._sizes: list[int] = []  # each record's prompt bytes
        self._kept_bytes = 0
        self.accounts = {Account.named(k): Account.named(v) for k, v in (accounts or {}).items()}
        self.prefill_seconds = prefill_seconds
        self._numbers = itertools.count(1)
        self.throttled = 0  # the next N Converse/ConverseStream requests get a ThrottlingException
        self._lock = threading.Lock()

    def account_for(self, credential: str | Account) -> Account:
        """The account whose cache a credential uses (a string: an access key id)."""
        own = credential if isinstance(credential, Account) else Account(credential)
        return self.accounts.get(own, own)

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

    @contextlib.contextmanager
    def transaction(self, request_id: str | None = None) -> Iterator[Transaction]:
        """One request's changes (`request_id`: the id its answer carries; a new one if None): kept if the block
        (building and encoding the whole answer) and what it left to do on success (writing the log) complete; taken
        back, and the error raised again, if anything in it fails."""
        held = Transaction(request_id or new_request_id())
        try:
            yield held
            for finish in held.on_success:
                finish()
        except BaseException:
            with self._lock:
                for result in reversed(held.results):
                    self.cache.revert(result)
            raise
        with self._lock:
            for result in held.results:
                self.cache.release(result.written)
            for remembered in held.remembered:
                self.history.remember(*remembered)
            self.records.extend(replace(record, number=next(self._numbers)) for record in held.records)
            self._sizes.extend(held.sizes)
            self._kept_bytes += sum(held.sizes)
            dropped = max(0, len(self.records) - self.keep_records)
            freed = sum(self._sizes[:dropped])
            while self._kept_bytes - freed > limits.RECORD_BYTES and dropped < len(self.records) - 1:
                freed += self._sizes[dropped]  # the oldest go first; the newest record is always kept
                dropped += 1
            self._kept_bytes -= freed
            del self.records[:dropped], self._sizes[:dropped]

    def answer(
        self,
        model_id: str,
        request: dict[str, Any],
        sent: dict[str, Any],
        account: Account,
        operation: str,
        api: API,
        transaction: Transaction,
    ) -> Answer:
        """Run one request (in Converse's shape; `sent` is the body as sent) through the rules and the offline model.
        What it does to the cache, its record and the history are held in `transaction` until the answer is built.
        Raises RequestRejected for what Bedrock would refuse."""
        model = self.model(model_id)
        prompt = linearize(request, model, api)
        content, stop_reason, output_tokens = bounded(*self.replies(request), max_tokens(request))
        key = account.key
        with self._lock:
            digests = prefix_digests(prompt)
            result = self.cache.apply(prompt, model, model_id, key, digests, pending=True)
            transaction.results.append(result)  # from here on a failure takes these writes back
            earlier = self.history.earlier(model_id, key)
        # Worded outside the lock: comparing with earlier requests can take a while, and it must not hold up others.
        written = result.write_tokens
        diagnosis = diagnose(
            prompt,
            model,
            result.read_tokens,
            written,
            result.miss,
            lambda: what_changed(earlier, prompt, request, written),
        )
        transaction.remembered.append((model_id, key, prompt, digests, request))
        if api is API.INVOKE:
            diagnosis = string_system_note(sent, diagnosis)
        usage = Usage.of(
            regular=result.input_tokens,
            output=output_tokens,
            read=result.read_tokens,
            write_5m=result.write_5m_tokens,
            write_1h=result.write_1h_tokens,
        )
        transaction.sizes.append(prompt.size)
        transaction.records.append(
            CallRecord(
                agent=str(account),
                at=self.clock(),
                model_id=model_id,
                request=sent,
                usage=usage,
                api=API(api),
                number=0,  # numbered when the request succeeds
                operation=operation,
                account=str(account),
                checkpoints=result.checkpoints,
                read_position=result.read_position,
                total_tokens=prompt.total_tokens,
                diagnosis=diagnosis,
            )
        )
        if self.prefill_seconds:  # the model reads the prompt; its first token, and so its entries, come after
            time.sleep(self.prefill_seconds)
        return Answer(content, stop_reason, usage)

    def count(self, model_id: str, request: dict[str, Any], api: API = API.CONVERSE) -> int:
        """The prompt tokens of a request in Converse's shape, by the same estimate the answers use (CountTokens)."""
        return linearize(request, self.model(model_id), api).total_tokens
