"""One Bedrock model invocation log record, read into a call the rules can replay.

Bedrock writes a JSON record per call (schemaType "ModelInvocationLog"): `timestamp`, `accountId`, `region`,
`requestId`, `operation`, `modelId`, `identity.arn`, `input` (`inputBodyJson`, or `inputBodyS3Path` when the body
was over 100 KB; `inputTokenCount`, `cacheReadInputTokenCount`, `cacheWriteInputTokenCount`), `output`
(`outputBodyJson` or `outputBodyS3Path`, `outputTokenCount`) and `errorCode` when the call failed. The output body is
the response: for ConverseStream too, Bedrock logs the assembled response, not its events; for
InvokeModelWithResponseStream, the streamed chunks, the last carrying `amazon-bedrock-invocationMetrics`. Either
shape is read for either stream. Each count is taken from the metadata first (older and some streaming records lack
the cache counts), the body second, the invocation metrics third (`counts.py`). Converse calls are logged under the id that was sent, InvokeModel calls under an inference-profile ARN: both are
counted as the same model.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from ..call import Call
from ..check.recording import Problem, call_of
from ..errors import UsageError
from ..rules.api import API
from ..rules.usage import Usage
from ..words import rough_duration
from .counts import counts_of

ARN_MODEL = re.compile(r"^arn:aws[\w-]*:bedrock:[\w-]*:\d*:(?:inference-profile|foundation-model)/(?P<id>.+)$")
IAM = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(?P<account>\d*):(?P<resource>.+)$")
MIN_TIME, MAX_TIME = -62_135_596_800.0, 253_402_300_799.0  # 0001-01-01 and 9999-12-31T23:59:59, UTC
OPERATIONS = ("Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream")


@dataclass(frozen=True, kw_only=True)
class LoggedCall(Call):
    """One logged model call (its `agent` is the caller's identity ARN; its request is None when the body could not
    be read), with where the log says it ran: the account, region and operation, and the file and line, or S3
    object, it was read from."""

    account: str
    region: str
    operation: str
    where: str = ""
    disagreement: str = ""  # how the sources of its cache counts differ, when they do (see `counts_of`)

    @property
    def day(self) -> str:
        return _day(int(self.at // 86_400))


@lru_cache(maxsize=64)
def _day(number: int) -> str:
    """The UTC date of day `number` since the epoch (formatting a date is slow, and calls come day by day)."""
    return datetime.fromtimestamp(number * 86_400, timezone.utc).strftime("%Y-%m-%d")


def _minute(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%d %H:%M")


def model_of(model_id: str) -> str:
    """The model id with an inference-profile or foundation-model ARN reduced to the id inside it."""
    match = ARN_MODEL.match(model_id)
    return match["id"] if match else model_id


def identity_names(identities: Iterable[str]) -> dict[str, str]:
    """A short name for each identity, unique among them: an IAM ARN as its resource (`role/app-1`), with its
    account where two accounts have that name (`role/app-1 (account 111122223333)`), else the whole ARN."""
    arns = {identity: IAM.match(identity) for identity in identities}
    short = {identity: match["resource"] if match else identity for identity, match in arns.items()}
    taken = Counter(short.values())
    names = {
        identity: f"{short[identity]} (account {match['account']})"
        if match and taken[short[identity]] > 1
        else short[identity]
        for identity, match in arns.items()
    }
    taken = Counter(names.values())  # the same name and account twice (in another partition): the whole ARN
    return {identity: name if taken[name] == 1 else identity for identity, name in names.items()}


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


def when_in_range(value: Any) -> float | None:
    """`when`, and None for a time no calendar date has (infinite, or past the year 9999)."""
    seconds = when(value)
    return seconds if seconds is not None and MIN_TIME <= seconds <= MAX_TIME else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass
class Window:
    """Calls left out by a time window: how many, and the first and last of their times."""

    calls: int = 0
    first: float = MAX_TIME
    last: float = MIN_TIME

    def add(self, at: float) -> None:
        self.calls += 1
        self.first, self.last = min(self.first, at), max(self.last, at)

    def absorb(self, other: Window) -> None:
        self.calls += other.calls
        self.first, self.last = min(self.first, other.first), max(self.last, other.last)

    def span(self) -> str:
        """When they were made: "from <first> to <last> UTC", or "at <time> UTC" ("" when there are none)."""
        if not self.calls:
            return ""
        first, last = (_minute(at) for at in (self.first, self.last))
        return f"at {first} UTC" if first == last else f"from {first} to {last} UTC"


# A call is logged when it ends, and timed when it starts: a long generation is logged after calls that started up
# to a minute or so after it. Later than that, the replays (which take calls in the order logged) may let it read an
# entry written after it started.
OUT_OF_ORDER_SECONDS = 60.0


@dataclass
class OutOfOrder:
    """Calls logged after a call of the same account and model that started more than OUT_OF_ORDER_SECONDS later:
    how many, by how much at most, and the first (told once, not per call)."""

    calls: int = 0
    largest: float = 0.0
    first: str = ""
    latest: dict[tuple[str, str], float] = field(default_factory=dict)  # per account and model id

    def add(self, call: LoggedCall) -> None:
        key = (call.account, call.model_id)
        latest = self.latest.get(key, call.at)
        if latest - call.at > OUT_OF_ORDER_SECONDS:
            self.calls += 1
            self.largest = max(self.largest, latest - call.at)
            self.first = min(filter(None, (self.first, call.where)), default="")  # the same whatever the order
        self.latest[key] = max(latest, call.at)

    def saw(self, call: LoggedCall) -> None:
        """A call not counted (a window's warm-up, see windows.py): only the latest time of its account and model."""
        key = (call.account, call.model_id)
        self.latest[key] = max(self.latest.get(key, call.at), call.at)

    def absorb(self, other: OutOfOrder) -> None:
        """Add the calls of other accounts and models."""
        self.calls += other.calls
        self.largest = max(self.largest, other.largest)
        self.first = min(filter(None, (self.first, other.first)), default="")
        self.latest |= other.latest

    def told(self) -> list[str]:
        """The one line that names them, if any."""
        if not self.calls:
            return []
        return [
            f"{self.calls:,} {'call was' if self.calls == 1 else 'calls were'} logged up to {rough_duration(self.largest)} "
            f"after calls that started later (the first, {self.first}): the replays take calls in the order "
            "logged, so these may have read entries written after they began; give the logs in time order."
        ]


def parse(record: Any, where: str, fetch: Callable[[str], Any] | None = None) -> LoggedCall | Problem:
    """A log record (or a line of this project's --record files) as a LoggedCall, or why it is skipped.

    `fetch(s3_path)` reads a body Bedrock stored apart (over 100 KB); without it such a call counts as unparsed.
    """
    if not isinstance(record, dict):
        return Problem(f"{where}: expected a JSON object, got {type(record).__name__}; skipped it.")
    if "agent" in record and "request" in record and "model_id" in record:
        return _recorded(record, where)
    operation = record.get("operation")
    model_id, at = record.get("modelId"), when_in_range(record.get("timestamp"))
    if operation not in OPERATIONS or not isinstance(model_id, str) or "timestamp" not in record:
        return Problem(
            f"{where}: not a model invocation log record of Converse or InvokeModel (needs operation, modelId and "
            "timestamp); skipped it."
        )
    if at is None:
        shown = repr(record["timestamp"])
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        return Problem(f"{where}: the timestamp {shown} is not a time like 2026-11-30T09:00:00Z; skipped it.")
    record = _with_bodies(record, fetch)
    request = _dict(record.get("input")).get("inputBodyJson")
    identity = _dict(record.get("identity"))
    error = record.get("errorCode")
    counts = counts_of(record)
    try:
        usage = Usage.from_bedrock(counts.usage)
    except UsageError as exc:
        return Problem(f"{where}: {str(exc).rstrip('.')}; skipped it.")
    return LoggedCall(
        agent=str(identity.get("arn", "unknown")),
        at=at,
        model_id=model_of(model_id),
        request=request if isinstance(request, dict) else None,
        usage=usage,
        error=str(error) if error else None,
        api=API.of_operation(operation),
        account=str(record.get("accountId", "")),
        region=str(record.get("region", "")),
        operation=operation,
        where=where,
        disagreement=counts.disagreement,
    )


def _with_bodies(record: dict[str, Any], fetch: Callable[[str], Any] | None) -> dict[str, Any]:
    """The record with each body Bedrock stored apart (`inputBodyS3Path`, `outputBodyS3Path`) read in its place,
    when `fetch` can read it; the record itself is left as it was."""
    if fetch is None:
        return record
    for side, body in (("input", "inputBodyJson"), ("output", "outputBodyJson")):
        logged = _dict(record.get(side))
        path = logged.get(f"{side}BodyS3Path")
        if logged.get(body) is None and isinstance(path, str):
            record = {**record, side: {**logged, body: fetch(path)}}
    return record


def _recorded(record: dict[str, Any], where: str) -> LoggedCall | Problem:
    """A line of a --record file, read as a log record of the same call."""
    call = call_of(record, 0)  # checked exactly as the doctor checks a recording (never written back to JSON:
    # a record nested 980 deep is read, but writing it again would go deeper than Python's recursion limit)
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
        operation=call.api.operation,
        where=where,
    )
