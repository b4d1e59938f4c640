"""The offline Bedrock: the state (`state.BedrockState`) with its wire around it, one engine behind the in-process
session and the loopback server."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from ..rules import API, LOOKBACK_BLOCKS, TTL, Catalog, CheckpointOutcome, Diagnosis, system_clock
from ..rules.messages import converse_form
from ..rules.uncertainty import EXACT, Uncertainty
from ..rules.usage import Usage
from .invocation_log import InvocationLog
from .replies import reply
from .responses import converse_response, invoke_logged_chunks, invoke_response, latency_ms
from .service import HttpAnswer, counted_request, handle
from .session import DEFAULT_ACCESS_KEY, answered_session
from .state import Account, BedrockState, Replies, Transaction

FIXED_EPOCH = 1_795_996_800.0  # 2026-11-30 00:00 UTC


@dataclass(frozen=True)
class Snapshot:
    """Everything an answered request leaves behind, as plain values to compare (a failed request must leave it
    equal): the cache's entries (`PromptCache.entries`), each record kept (its number, operation, account, the call
    as a recording line, what each checkpoint did, the diagnosis) and each invocation log file's bytes."""

    entries: dict[tuple[str, str, str], tuple[TTL, float, bool]]
    records: tuple[tuple[int, str, str, str, tuple[CheckpointOutcome, ...], Diagnosis | None], ...]
    logged: dict[str, bytes]


class Emulator(BedrockState):
    """An offline Bedrock Runtime answering Converse, ConverseStream, InvokeModel (with Anthropic Messages bodies),
    InvokeModelWithResponseStream and CountTokens with Bedrock's caching rules.

    Args:
        clock: seconds now; pass a `ManualClock` to jump past a TTL without sleeping.
        catalog: the models known, with their minimums and 1h support.
        lookback: how many block boundaries before a checkpoint a read may look (Bedrock: about 20).
        replies: request -> (content blocks, stop reason); the offline model by default. A test can script its own.
        keep_records: how many of the latest records `records` keeps (memory stays bounded on a long-running server).
        accounts: credential -> account, for credentials that share one AWS account's cache (an access key id, or
            "bearer:" and the digest of an API key, or an `Account`). Unlisted, each credential is its own account: a
            rotated temporary key looks like a new account, as it does to anyone who cannot see IAM. An API key and
            an access key id are accounts of different kinds, and never share unless this map says so.
        prefill_seconds: real seconds a request takes before its response begins. Entries it writes become readable
            only then, so identical requests sent at the same moment each write (0: requests never overlap).
        invocation_log: a folder to write model invocation logs to, as Bedrock delivers them to S3.
        epoch: the wall-clock time (seconds) at which `clock` read 0, for the logs' timestamps; by default the
            system clock's (and 2026-11-30 00:00 UTC for any other clock, so the logs' times in tests are the same every
            run; their request ids are random, as Bedrock's are).
        uncertainty: Bedrock less tidy than its documented rules (an expiry window, causeless misses; see
            rules/uncertainty.py), deterministic by its seed; the exact rules by default.
    """

    def __init__(
        self,
        clock: Callable[[], float] = system_clock,
        catalog: Catalog | None = None,
        lookback: int = LOOKBACK_BLOCKS,
        replies: Replies = reply,
        keep_records: int = 1_000,
        accounts: Mapping[str | Account, str | Account] | None = None,
        prefill_seconds: float = 0.0,
        invocation_log: str | None = None,
        epoch: float | None = None,
        uncertainty: Uncertainty = EXACT,
    ) -> None:
        super().__init__(clock, catalog, lookback, replies, keep_records, accounts, prefill_seconds, uncertainty)
        self.log = InvocationLog(invocation_log) if invocation_log else None
        if epoch is None:
            epoch = time.time() - time.monotonic() if clock is system_clock else FIXED_EPOCH
        self.epoch = epoch

    def converse(
        self,
        model_id: str,
        request: dict[str, Any],
        account: Account | str,
        operation: str = "Converse",
        region: str = "us-east-1",
        transaction: Transaction | None = None,
    ) -> dict[str, Any]:
        """Answer one Converse request body (`account`: an Account, or an AWS account's name); raises
        RequestRejected for what Bedrock would refuse. Within `transaction`, what it changes is kept only if the
        transaction succeeds; without one, once the response is built."""
        if transaction is None:
            with self.transaction() as transaction:
                return self.converse(model_id, request, account, operation, region, transaction)
        account = account if isinstance(account, Account) else Account(account)
        started = time.perf_counter()
        answer = self.answer(model_id, request, request, account, operation, API.CONVERSE, transaction)
        response = converse_response(answer, latency_ms(started))
        if self.log is not None:  # ConverseStream too is logged as the assembled response
            self._log_on_success(transaction, account, region, operation, model_id, request, response, answer.usage)
        return response

    def invoke(
        self,
        model_id: str,
        body: dict[str, Any],
        account: Account | str,
        operation: str = "InvokeModel",
        region: str = "us-east-1",
        transaction: Transaction | None = None,
    ) -> tuple[dict[str, Any], Usage]:
        """Answer one InvokeModel request with an Anthropic Messages body: (the Messages response, its usage).
        Raises RequestRejected for what Bedrock would refuse; `transaction` as for `converse`."""
        if transaction is None:
            with self.transaction() as transaction:
                return self.invoke(model_id, body, account, operation, region, transaction)
        account = account if isinstance(account, Account) else Account(account)
        started = time.perf_counter()
        answer = self.answer(model_id, converse_form(body), body, account, operation, API.INVOKE, transaction)
        response = invoke_response(answer, model_id, body)
        if self.log is not None:  # a stream is logged as its chunks, the last with the invocation metrics
            stream = operation == "InvokeModelWithResponseStream"
            logged = invoke_logged_chunks(response, answer.usage, latency_ms(started)) if stream else response
            self._log_on_success(transaction, account, region, operation, model_id, body, logged, answer.usage)
        return response, answer.usage

    def _log_on_success(
        self,
        transaction: Transaction,
        account: Account,
        region: str,
        operation: str,
        model_id: str,
        request: Any,
        response: Any,
        usage: Usage,
    ) -> None:
        """Write the call's invocation log record once its whole answer is built (a failed call leaves none)."""
        assert self.log is not None
        transaction.on_success.append(
            functools.partial(
                self.log.write,
                at=self.epoch + self.clock(),
                account=str(account),
                region=region,
                operation=operation,
                request_id=transaction.request_id,
                model_id=model_id,
                request=request,
                response=response,
                usage=usage,
            )
        )

    def count_tokens(self, model_id: str, counted: Any) -> int:
        """What CountTokens answers for its `input` ({"converse": request} or {"invokeModel": {"body": "..."}}): the
        prompt's tokens, by the same estimate Converse and InvokeModel use."""
        self.model(model_id)  # an unknown model is refused before the input is read
        request, api = counted_request(counted)
        return self.count(model_id, request, api)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> HttpAnswer:
        """Answer a raw HTTP request (used by both the in-process session and the loopback server)."""
        return handle(self, method, path, headers, body)

    def snapshot(self) -> Snapshot:
        """What the requests so far have left behind (read only; see `Snapshot`)."""
        with self._lock:
            entries, records = self.cache.entries(), list(self.records)
        return Snapshot(
            entries,
            tuple((r.number, r.operation, r.account, r.to_json(), r.checkpoints, r.diagnosis) for r in records),
            self.log.files() if self.log is not None else {},
        )

    def session(self, access_key_id: str | None = DEFAULT_ACCESS_KEY, region: str = "us-east-1") -> boto3.Session:
        """A boto3 Session whose bedrock-runtime clients this emulator answers; the key id names the account (None:
        botocore's own credentials, e.g. a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK, its own kind of account)."""
        return answered_session(self, access_key_id, region)


def offline_session(
    emulator: Emulator | None = None, *, access_key_id: str | None = None, region: str = "us-east-1"
) -> boto3.Session:
    """A boto3 Session answered by `emulator` (a new one if None); `access_key_id` names the caller's credential
    (its own account unless the emulator's `accounts` maps it to a shared one)."""
    return (emulator or Emulator()).session(access_key_id or DEFAULT_ACCESS_KEY, region)
