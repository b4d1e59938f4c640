"""One Bedrock model invocation log record, read into a call the rules can replay.

Bedrock writes a JSON record per call (schemaType "ModelInvocationLog"): `timestamp`, `accountId`, `region`,
`requestId`, `operation`, `modelId`, `identity.arn`, `input` (`inputBodyJson`, `inputTokenCount`,
`cacheReadInputTokenCount`, `cacheWriteInputTokenCount`, or `inputBodyS3Path` when the body was over 100 KB),
`output` (`outputBodyJson`: the response, or the list of stream events; `outputTokenCount`) and `errorCode` when the
call failed. Usage is read from the logged response in either field style (Converse `cacheReadInputTokens`,
Anthropic `cache_read_input_tokens`, or the stream's `amazon-bedrock-invocationMetrics`), else from the input counts.
Converse calls are logged under the id that was sent, InvokeModel calls under an inference-profile ARN: both are
counted as the same model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from ..call import Call
from ..check.recording import Problem
from ..check.recording import parse as parse_recorded
from ..errors import UsageError
from ..rules.api import API
from ..rules.messages import converse_usage
from ..rules.usage import Usage

ARN_MODEL = re.compile(r"^arn:aws[\w-]*:bedrock:[\w-]*:\d*:(?:inference-profile|foundation-model)/(?P<id>.+)$")
INVOKE = ("InvokeModel", "InvokeModelWithResponseStream")
MIN_TIME, MAX_TIME = -62_135_596_800.0, 253_402_300_799.0  # 0001-01-01 and 9999-12-31T23:59:59, UTC
OPERATIONS = ("Converse", "ConverseStream", *INVOKE)


@dataclass(frozen=True, kw_only=True)
class LoggedCall(Call):
    """One logged model call (its `agent` is the caller's identity ARN; its request is None when the body could not
    be read), with where the log says it ran: the account, region and operation, and the file and line, or S3
    object, it was read from."""

    account: str
    region: str
    operation: str
    where: str = ""

    @property
    def day(self) -> str:
        return _day(int(self.at // 86_400))


@lru_cache(maxsize=64)
def _day(number: int) -> str:
    """The UTC date of day `number` since the epoch (formatting a date is slow, and calls come day by day)."""
    return datetime.fromtimestamp(number * 86_400, timezone.utc).strftime("%Y-%m-%d")


def model_of(model_id: str) -> str:
    """The model id with an inference-profile or foundation-model ARN reduced to the id inside it."""
    match = ARN_MODEL.match(model_id)
    return match["id"] if match else model_id


def when(value: Any) -> float | None:
    """Seconds since the epoch from an RFC 3339 timestamp (or a number of seconds or milliseconds)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) / 1000 if value > 1e11 else float(value)
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def _when_in_range(value: Any) -> float | None:
    """`when`, and None for a time no calendar date has (infinite, or past the year 9999)."""
    seconds = when(value)
    return seconds if seconds is not None and MIN_TIME <= seconds <= MAX_TIME else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def usage_of(record: dict[str, Any], operation: str) -> dict[str, Any]:
    """The call's usage under Converse's names, from the logged response if it has one, else the input counts."""
    output = _dict(record.get("output"))
    body = output.get("outputBodyJson")
    if operation == "Converse" and isinstance(body, dict) and isinstance(body.get("usage"), dict):
        return dict(body["usage"])
    if operation == "InvokeModel" and isinstance(body, dict) and isinstance(body.get("usage"), dict):
        return converse_usage(body["usage"])
    if isinstance(body, list):  # a stream: the events as sent
        anthropic: dict[str, Any] = {}
        for event in body:
            if not isinstance(event, dict):
                continue
            if isinstance(event.get("metadata"), dict) and isinstance(event["metadata"].get("usage"), dict):
                return dict(event["metadata"]["usage"])
            message = _dict(event.get("message"))
            for found in (message.get("usage"), event.get("usage")):
                if isinstance(found, dict):
                    anthropic.update(found)
        if anthropic:
            return converse_usage(anthropic)
    logged = _dict(record.get("input"))
    return {
        "inputTokens": _count(logged.get("inputTokenCount")),
        "outputTokens": _count(output.get("outputTokenCount")),
        "cacheReadInputTokens": _count(logged.get("cacheReadInputTokenCount")),
        "cacheWriteInputTokens": _count(logged.get("cacheWriteInputTokenCount")),
    }


def parse(record: Any, where: str, fetch: Callable[[str], Any] | None = None) -> LoggedCall | Problem:
    """A log record (or a line of this project's --record files) as a LoggedCall, or why it is skipped.

    `fetch(s3_path)` reads a body Bedrock stored apart (over 100 KB); without it such a call counts as unparsed.
    """
    if not isinstance(record, dict):
        return Problem(f"{where}: expected a JSON object, got {type(record).__name__}; skipped it.")
    if "agent" in record and "request" in record and "model_id" in record:
        return _recorded(record, where)
    operation = record.get("operation")
    model_id, at = record.get("modelId"), _when_in_range(record.get("timestamp"))
    if operation not in OPERATIONS or not isinstance(model_id, str) or "timestamp" not in record:
        return Problem(
            f"{where}: not a model invocation log record of Converse or InvokeModel (needs operation, modelId and "
            "timestamp); skipped it."
        )
    if at is None:
        shown = repr(record["timestamp"])
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        return Problem(f"{where}: the timestamp {shown} is not a time like 2026-11-30T09:00:00Z; skipped it.")
    logged = _dict(record.get("input"))
    request = logged.get("inputBodyJson")
    if request is None and isinstance(logged.get("inputBodyS3Path"), str) and fetch is not None:
        request = fetch(logged["inputBodyS3Path"])
    identity = _dict(record.get("identity"))
    error = record.get("errorCode")
    try:
        usage = Usage.from_bedrock(usage_of(record, operation))
    except UsageError as exc:
        return Problem(f"{where}: {str(exc).rstrip('.')}; skipped it.")
    return LoggedCall(
        agent=str(identity.get("arn", "unknown")),
        at=at,
        model_id=model_of(model_id),
        request=request if isinstance(request, dict) else None,
        usage=usage,
        error=str(error) if error else None,
        api=API.INVOKE if operation in INVOKE else API.CONVERSE,
        account=str(record.get("accountId", "")),
        region=str(record.get("region", "")),
        operation=operation,
        where=where,
    )


def _recorded(record: dict[str, Any], where: str) -> LoggedCall | Problem:
    """A line of a --record file, read as a log record of the same call."""
    call = parse_recorded(json.dumps(record), 0)  # checked exactly as the doctor checks a recording
    if isinstance(call, Problem):
        return Problem(f"{where}: {str(call).removeprefix('line 0: ')}")
    return LoggedCall(
        agent=call.agent,
        at=call.at,
        model_id=model_of(call.model_id),
        request=call.request,
        usage=call.usage,
        error=call.error,
        api=call.api,
        account="recorded",
        region="",
        operation="InvokeModel" if call.api == API.INVOKE else "Converse",
        where=where,
    )
