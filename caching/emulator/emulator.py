"""The offline Bedrock: one engine behind the in-process session and the loopback server."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..rules import (
    API,
    LOOKBACK_BLOCKS,
    Catalog,
    History,
    PromptCache,
    RequestRejected,
    block_tokens,
    diagnose,
    linearize,
    prefix_digests,
    string_system_note,
    system_clock,
)
from ..rules.messages import anthropic_content, anthropic_usage, converse_form
from ..rules.tokens import canonical_json
from ..usage import Usage
from .invocation_log import InvocationLog
from .records import CallRecord
from .replies import reply
from .service import HttpAnswer, handle

if TYPE_CHECKING:
    import boto3

FIXED_EPOCH = 1_795_996_800.0  # 2026-11-30 00:00 UTC
DEFAULT_ACCESS_KEY = "AKIAOFFLINEEXAMPLE01"
SECOND_ACCESS_KEY = "AKIAOFFLINEEXAMPLE02"  # another account, for lessons on isolation


class Emulator:
    """An offline Bedrock Runtime answering Converse, ConverseStream, InvokeModel (with Anthropic Messages bodies),
    InvokeModelWithResponseStream and CountTokens with Bedrock's caching rules.

    Args:
        clock: seconds now; pass a `ManualClock` to jump past a TTL without sleeping.
        catalog: the models known, with their minimums and 1h support.
        lookback: how many block boundaries before a checkpoint a read may look (Bedrock: about 20).
        replies: request -> (content blocks, stop reason); the offline model by default. A test can script its own.
        keep_records: how many of the latest records `records` keeps (memory stays bounded on a long-running server).
        accounts: credential -> account, for credentials that share one AWS account's cache (an access key id, or
            "bearer:" and the digest of an API key as `credential_of` names it). Unlisted, each credential is its own
            account: a rotated temporary key looks like a new account, as it does to anyone who cannot see IAM.
        prefill_seconds: real seconds a request takes before its response begins. Entries it writes become readable
            only then, so identical requests sent at the same moment each write (0: requests never overlap).
        invocation_log: a folder to write model invocation logs to, as Bedrock delivers them to S3.
        epoch: the wall-clock time (seconds) at which `clock` read 0, for the logs' timestamps; by default the
            system clock's (and 2026-11-30 00:00 UTC for any other clock, so logs of tests are the same every run).
    """

    def __init__(
        self,
        clock: Callable[[], float] = system_clock,
        catalog: Catalog | None = None,
        lookback: int = LOOKBACK_BLOCKS,
        replies: Callable[[dict[str, Any]], tuple[list[dict[str, Any]], str]] = reply,
        keep_records: int = 1_000,
        accounts: Mapping[str, str] | None = None,
        prefill_seconds: float = 0.0,
        invocation_log: str | None = None,
        epoch: float | None = None,
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
        self.log = InvocationLog(invocation_log) if invocation_log else None
        if epoch is None:
            epoch = time.time() - time.monotonic() if clock is system_clock else FIXED_EPOCH
        self.epoch = epoch
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

    def converse(
        self,
        model_id: str,
        request: dict[str, Any],
        account: str,
        operation: str = "Converse",
        region: str = "us-east-1",
    ) -> dict[str, Any]:
        """Answer one Converse request body; raises RequestRejected for what Bedrock would refuse."""
        started = time.perf_counter()
        content, stop_reason, usage = self._answer(model_id, request, request, account, operation, "converse")
        response = {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop_reason,
            "usage": usage,
            "metrics": {"latencyMs": max(1, round((time.perf_counter() - started) * 1000))},
        }
        if self.log is not None:
            logged: Any = response
            if operation == "ConverseStream":  # a stream is logged as its events
                logged = [
                    {"messageStart": {"role": "assistant"}},
                    {"messageStop": {"stopReason": stop_reason}},
                    {"metadata": {"usage": usage, "metrics": response["metrics"]}},
                ]
            self._write_log(account, region, operation, model_id, request, logged, usage)
        return response

    def _write_log(
        self, account: str, region: str, operation: str, model_id: str, request: Any, response: Any, usage: Any
    ) -> None:
        assert self.log is not None
        self.log.write(
            at=self.epoch + self.clock(),
            account=account,
            region=region,
            operation=operation,
            model_id=model_id,
            request=request,
            response=response,
            usage=usage,
        )

    def invoke(
        self,
        model_id: str,
        body: dict[str, Any],
        account: str,
        operation: str = "InvokeModel",
        region: str = "us-east-1",
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Answer one InvokeModel request with an Anthropic Messages body: (the Messages response, the usage under
        Converse's names). Raises RequestRejected for what Bedrock would refuse."""
        request = converse_form(body)
        content, stop_reason, usage = self._answer(model_id, request, body, account, operation, "invoke")
        digest = hashlib.sha256(canonical_json(body).encode("utf-8", "replace")).hexdigest()[:24]
        response = {
            "id": f"msg_bdrk_{digest}",
            "type": "message",
            "role": "assistant",
            "model": model_id.split(".", 1)[-1] if model_id.count(".") > 1 else model_id,
            "content": anthropic_content(content),
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": anthropic_usage(usage),
        }
        if self.log is not None:
            logged: Any = response
            if operation == "InvokeModelWithResponseStream":
                start = {**{k: v for k, v in response.items() if k != "content"}, "content": []}
                logged = [
                    {"type": "message_start", "message": start},
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": stop_reason},
                        "usage": {"output_tokens": usage["outputTokens"]},
                    },
                    {"type": "message_stop"},
                ]
            self._write_log(account, region, operation, model_id, body, logged, usage)
        return response, usage

    def _answer(
        self,
        model_id: str,
        request: dict[str, Any],
        sent: dict[str, Any],
        account: str,
        operation: str,
        api: str,
    ) -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
        """Run one request (in Converse's shape; `sent` is the body as sent) through the rules and the offline model:
        (reply content, stop reason, usage)."""
        model = self.catalog.find(model_id)
        if model is None:
            raise RequestRejected("The provided model identifier is invalid.")
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
            if api == "invoke":
                diagnosis = string_system_note(sent, diagnosis)
            details = [
                {"ttl": ttl, "inputTokens": tokens}
                for ttl, tokens in (("1h", result.write_1h_tokens), ("5m", result.write_5m_tokens))
                if tokens
            ]
            usage: dict[str, Any] = {
                "inputTokens": result.input_tokens,
                "outputTokens": output_tokens,
                "totalTokens": result.input_tokens + result.read_tokens + result.write_tokens + output_tokens,
                "cacheReadInputTokens": result.read_tokens,
                "cacheWriteInputTokens": result.write_tokens,
                "cacheDetails": details,
            }
            self.records.append(
                CallRecord(
                    agent=account,
                    at=self.clock(),
                    model_id=model_id,
                    request=sent,
                    usage=Usage.from_bedrock(usage),
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
        return content, stop_reason, usage

    def count_tokens(self, model_id: str, counted: Any) -> int:
        """What CountTokens answers for its `input` ({"converse": request} or {"invokeModel": {"body": "..."}}): the
        prompt's tokens, by the same estimate Converse and InvokeModel use."""
        model = self.catalog.find(model_id)
        if model is None:
            raise RequestRejected("The provided model identifier is invalid.")
        counted = counted if isinstance(counted, dict) else {}
        if isinstance(counted.get("converse"), dict):
            return linearize(counted["converse"], model).total_tokens
        invoke = counted.get("invokeModel")
        if isinstance(invoke, dict) and isinstance(invoke.get("body"), str):  # a blob: base64 in the JSON
            return linearize(converse_form(json.loads(base64.b64decode(invoke["body"]))), model, "invoke").total_tokens
        raise RequestRejected("CountTokens needs input.converse or input.invokeModel.body with the request to count.")

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> HttpAnswer:
        """Answer a raw HTTP request (used by both the in-process session and the loopback server)."""
        return handle(self, method, path, headers, body)

    def session(self, access_key_id: str = DEFAULT_ACCESS_KEY, region: str = "us-east-1") -> boto3.Session:
        """A boto3 Session whose bedrock-runtime clients this emulator answers; the key id names the account."""
        from .session import offline_session

        return offline_session(self, access_key_id=access_key_id, region=region)
