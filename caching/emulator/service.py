"""Bedrock Runtime over HTTP: routes, request bodies, responses and errors, shared by both ways in.

The in-process session and the loopback server both hand raw HTTP (method, path, headers, body) to `handle`, so the
same bytes come back either way. Converse and InvokeModel answer JSON; ConverseStream and InvokeModelWithResponseStream
answer event-stream bytes; every answer, errors included, carries an `x-amzn-RequestId` (the invocation log
records the same id); errors answer status 400/403/404/429 (500 when the emulator's own invocation log cannot be
written) with `x-amzn-ErrorType`, which botocore turns into a real `ClientError`. `handle` asks a `Runtime` (the
`Emulator`) for the answers, so this module needs no emulator.
"""

from __future__ import annotations

import base64
import json
import re
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote

from .. import limits
from ..rules import API, RequestRejected
from ..rules.messages import converse_form
from ..rules.shape import depth
from ..rules.usage import Usage
from .responses import latency_ms
from .state import DEFAULT_REGION, REGION, Account, Transaction, new_request_id
from .streams import converse_stream_bytes, invoke_stream_bytes

ROUTE = re.compile(
    r"^/model/(?P<model>[^/]+)/(?P<op>converse|converse-stream|count-tokens|invoke|invoke-with-response-stream)$"
)
OPERATIONS = {
    "converse": "Converse",
    "converse-stream": "ConverseStream",
    "count-tokens": "CountTokens",
    "invoke": "InvokeModel",
    "invoke-with-response-stream": "InvokeModelWithResponseStream",
}
EVENT_STREAM = {"Content-Type": "application/vnd.amazon.eventstream"}
REQUEST_ID = "x-amzn-RequestId"
CREDENTIAL = re.compile(r"Credential=(?P<key>[^/,\s]+)/[^/]*/(?P<region>[^/,\s]+)/")


class Runtime(Protocol):
    """What `handle` asks of the emulator behind it."""

    def account_for(self, credential: Account) -> Account: ...

    def transaction(self, request_id: str | None = None) -> AbstractContextManager[Transaction]: ...

    def take_throttle(self) -> bool: ...

    def count_tokens(self, model_id: str, counted: Any) -> int: ...

    def converse(
        self,
        model_id: str,
        request: dict[str, Any],
        account: Account,
        operation: str,
        region: str,
        transaction: Transaction,
    ) -> dict[str, Any]: ...

    def invoke(
        self,
        model_id: str,
        body: dict[str, Any],
        account: Account,
        operation: str,
        region: str,
        transaction: Transaction,
    ) -> tuple[dict[str, Any], Usage]: ...


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, code: str, message: str) -> HttpAnswer:
    """An AWS JSON error response."""
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/"}
    return HttpAnswer(status, json.dumps({"message": message}).encode(), headers)


def with_request_id(answer: HttpAnswer, request_id: str | None = None) -> HttpAnswer:
    """`answer` carrying `x-amzn-RequestId` (its own if it has one, else `request_id`, else a new one), as every
    Bedrock answer does: boto3 reads it into ResponseMetadata["RequestId"]."""
    if REQUEST_ID in answer.headers:
        return answer
    return HttpAnswer(answer.status, answer.body, {**answer.headers, REQUEST_ID: request_id or new_request_id()})


def too_large(size: int) -> HttpAnswer:
    return error(
        400,
        "ValidationException",
        f"The request body is {size:,} bytes; the limit is {limits.LARGEST_REQUEST:,} ({limits.named('LARGEST_REQUEST')}).",
    )


def credential_of(headers: dict[str, str]) -> tuple[Account, str] | None:
    """Who sent the request, and the region it was signed for: the access key id of a SigV4 Authorization header,
    or a Bedrock API key (an account of its own kind, known by a digest; the key itself is never kept)."""
    auth = next((value for name, value in headers.items() if name.lower() == "authorization"), "")
    if match := CREDENTIAL.search(auth):
        return Account(match.group("key")), match.group("region")
    if auth.lower().startswith("bearer ") and len(auth) > 7:
        return Account.of_api_key(auth[7:].strip()), DEFAULT_REGION
    return None


def counted_request(counted: Any) -> tuple[dict[str, Any], API]:
    """The request a CountTokens `input` holds ({"converse": request} or {"invokeModel": {"body": "..."}}), in
    Converse's shape, and the API it was written for."""
    counted = counted if isinstance(counted, dict) else {}
    if isinstance(counted.get("converse"), dict):
        return counted["converse"], API.CONVERSE
    invoke = counted.get("invokeModel")
    if isinstance(invoke, dict) and isinstance(invoke.get("body"), str):  # a blob: base64 in the JSON
        return converse_form(json.loads(base64.b64decode(invoke["body"]))), API.INVOKE
    raise RequestRejected("CountTokens needs input.converse or input.invokeModel.body with the request to count.")


def handle(emulator: Runtime, method: str, path: str, headers: dict[str, str], body: bytes) -> HttpAnswer:
    """Answer one HTTP request the way Bedrock Runtime would, with a request id of its own."""
    request_id = new_request_id()
    return with_request_id(_handle(emulator, method, path, headers, body, request_id), request_id)


def _handle(
    emulator: Runtime, method: str, path: str, headers: dict[str, str], body: bytes, request_id: str
) -> HttpAnswer:
    route = ROUTE.match(path.split("?")[0])
    if method != "POST" or route is None:
        shown = path if len(path) <= 100 else path[:100] + "..."
        return error(404, "UnknownOperationException", f"No Bedrock Runtime operation at {method} {shown!r}.")
    signed = credential_of(headers)
    if signed is None:
        return error(
            403, "AccessDeniedException", "Missing Authentication Token: sign the request (any key id works offline)."
        )
    credential, region = signed
    if not REGION.fullmatch(region):  # it names a folder of the invocation logs: only AWS's shape of name
        shown = json.dumps(region[:40] + ("..." if len(region) > 40 else ""))
        return error(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not {shown}: sign for a region such as us-east-1.",
        )
    if len(body) > limits.LARGEST_REQUEST:
        return too_large(len(body))
    try:
        request = json.loads(body or b"{}")
    except (ValueError, RecursionError) as exc:  # bad JSON or UTF-8, a number too long, nesting too deep
        return error(400, "ValidationException", f"The request body is not valid JSON: {str(exc)[:200]}.")
    if not isinstance(request, dict):
        return error(400, "ValidationException", "The request body must be a JSON object.")
    if depth(request, limits.DEEPEST) > limits.DEEPEST:  # no real request comes near; a deep one costs every walk
        return error(
            400,
            "ValidationException",
            f"The request nests lists and objects over {limits.DEEPEST} levels deep ({limits.named('DEEPEST')}).",
        )

    model_id, operation = unquote(route.group("model")), OPERATIONS[route.group("op")]
    account = emulator.account_for(credential)
    if operation != "CountTokens" and emulator.take_throttle():
        return error(429, "ThrottlingException", "Too many requests, please wait before trying again.")
    try:
        with emulator.transaction(
            request_id
        ) as transaction:  # nothing the request did is kept unless its answer is built
            return _answer(emulator, transaction, operation, model_id, request, account, region)
    except RequestRejected as exc:
        return error(400, "ValidationException", str(exc))
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        return error(400, "ValidationException", f"The request is malformed ({type(exc).__name__}: {str(exc)[:200]}).")
    except OSError as exc:  # its invocation log could not be written (a full disk): the request is taken back
        return error(
            500,
            "InternalServerException",
            f"The emulator could not write its invocation log ({exc.strerror or type(exc).__name__}), so the request "
            "was not answered: free some space, or serve with another --invocation-log folder.",
        )


def _answer(
    emulator: Runtime,
    transaction: Transaction,
    operation: str,
    model_id: str,
    request: dict[str, Any],
    account: Account,
    region: str,
) -> HttpAnswer:
    if operation == "CountTokens":
        payload = {"inputTokens": emulator.count_tokens(model_id, request.get("input"))}
        return HttpAnswer(200, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    if operation.startswith("InvokeModel"):
        started = time.perf_counter()
        response, usage = emulator.invoke(model_id, request, account, operation, region, transaction)
        latency = latency_ms(started)
        if operation == "InvokeModel":
            headers = {
                "Content-Type": "application/json",
                "X-Amzn-Bedrock-Input-Token-Count": str(usage.inputTokens),
                "X-Amzn-Bedrock-Output-Token-Count": str(usage.outputTokens),
                "X-Amzn-Bedrock-Cache-Read-Input-Token-Count": str(usage.cacheReadInputTokens),
                "X-Amzn-Bedrock-Cache-Write-Input-Token-Count": str(usage.cacheWriteInputTokens),
                "X-Amzn-Bedrock-Invocation-Latency": str(latency),
            }
            return HttpAnswer(200, json.dumps(response).encode(), headers)
        return HttpAnswer(200, invoke_stream_bytes(response, usage, latency), EVENT_STREAM)
    response = emulator.converse(model_id, request, account, operation, region, transaction)
    if operation == "Converse":
        return HttpAnswer(200, json.dumps(response).encode(), {"Content-Type": "application/json"})
    return HttpAnswer(200, converse_stream_bytes(response), EVENT_STREAM)
