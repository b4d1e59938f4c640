"""Model invocation logs, written by the emulator as Bedrock writes them to S3, so the whole audit loop runs offline.

Records go under `DIR/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/<yyyy>/<mm>/<dd>/<hh>/`, one JSON record
a line. A credential that is not a 12-digit account id is given one (a digest of it), and an IAM user named after it.
InvokeModel calls are logged under their inference-profile ARN, Converse calls under the id that was sent. The
output body is the response as Bedrock logs it: for ConverseStream the assembled response (one object with `output`,
`stopReason`, `metrics` and `usage`), for InvokeModelWithResponseStream the chunks, the last carrying
`amazon-bedrock-invocationMetrics`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import CachingError
from ..rules.usage import Usage
from .state import REGION


def account_number(account: str) -> str:
    """A 12-digit AWS account id for an emulator account (itself, when it already is one)."""
    if account.isdigit() and len(account) == 12:
        return account
    return str(int(hashlib.sha256(account.encode()).hexdigest(), 16))[-12:].rjust(12, "1")


class InvocationLog:
    """Appends one record per answered call under `folder`, as S3 delivery lays them out."""

    def __init__(self, folder: str | Path, run: str = "emulator") -> None:
        self.folder = Path(folder)
        self.run = run
        self._lock = threading.Lock()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CachingError(
                f"Cannot write invocation logs to {str(folder)!r} ({exc.strerror}): pick a folder you can write."
            ) from None

    def write(
        self,
        *,
        at: float,
        account: str,
        region: str,
        operation: str,
        request_id: str,
        model_id: str,
        request: dict[str, Any],
        response: Any,
        usage: Usage,
    ) -> None:
        """Append the record of one answered call (`request_id`: the id its answer carried; `response` as logged: the
        response body, ConverseStream's assembled like Converse's, or InvokeModelWithResponseStream's chunks)."""
        moment = datetime.fromtimestamp(at, timezone.utc)
        number = account_number(account)
        logged_id = (
            f"arn:aws:bedrock:{region}:{number}:inference-profile/{model_id}"
            if operation.startswith("Invoke")
            else model_id
        )
        record = {
            "schemaType": "ModelInvocationLog",
            "schemaVersion": "1.0",
            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
            "accountId": number,
            "identity": {"arn": f"arn:aws:iam::{number}:user/{account}"},
            "region": region,
            "requestId": request_id,  # the x-amzn-RequestId its answer carried
            "operation": operation,
            "modelId": logged_id,
            "input": {
                "inputContentType": "application/json",
                "inputBodyJson": request,
                "inputTokenCount": usage.inputTokens,
                "cacheReadInputTokenCount": usage.cacheReadInputTokens,
                "cacheWriteInputTokenCount": usage.cacheWriteInputTokens,
            },
            "output": {
                "outputContentType": "application/json",
                "outputBodyJson": response,
                "outputTokenCount": usage.outputTokens,
            },
        }
        if not REGION.fullmatch(region):  # a folder's name: ".." or "a/b" would leave BedrockModelInvocationLogs/
            raise ValueError(f"{region[:40]!r} is not an AWS region name (such as us-east-1).")
        hour = self.folder / "AWSLogs" / number / "BedrockModelInvocationLogs" / region / moment.strftime("%Y/%m/%d/%H")
        with self._lock:
            hour.mkdir(parents=True, exist_ok=True)
            with (hour / f"{self.run}.json").open("ab", buffering=0) as out:
                end = out.seek(0, 2)
                line = memoryview(json.dumps(record, separators=(",", ":")).encode() + b"\n")
                try:
                    while line:
                        line = line[out.write(line) or 0 :]
                except OSError:  # a full disk: take back the part of the line that was written, then say so
                    out.truncate(end)
                    raise

    def files(self) -> dict[str, bytes]:
        """The bytes of each log file written so far, by its path under the folder (to compare before and after)."""
        with self._lock:
            return {str(path.relative_to(self.folder)): path.read_bytes() for path in self.folder.rglob("*.json")}
