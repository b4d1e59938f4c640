"""In process: a real boto3 Session whose bedrock-runtime requests this emulator answers.

botocore still validates each request against the service model, serializes and signs it, and parses the answer
(event-stream bytes for ConverseStream) with its own parsers. The emulator only takes the place of the network,
through botocore's `before-send` event. Nothing is patched.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from urllib3 import HTTPResponse

if TYPE_CHECKING:
    from .emulator import Emulator

OFFLINE_SECRET = "offline-emulator-secret"  # signing needs a secret; the emulator never checks it


def offline_session(
    emulator: Emulator | None = None, *, access_key_id: str | None = None, region: str = "us-east-1"
) -> boto3.Session:
    """A boto3 Session answered by `emulator` (a new one if None); `access_key_id` names the caller's credential
    (its own account unless the emulator's `accounts` maps it to a shared one)."""
    from .emulator import DEFAULT_ACCESS_KEY, Emulator

    emulator = emulator or Emulator()
    session = boto3.Session(
        aws_access_key_id=access_key_id or DEFAULT_ACCESS_KEY,
        aws_secret_access_key=OFFLINE_SECRET,
        region_name=region,
    )

    def answer(request: Any, **_: Any) -> AWSResponse:
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        headers = {
            name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()
        }
        http = emulator.handle(request.method, urlsplit(request.url).path, headers, body or b"")
        raw = HTTPResponse(body=io.BytesIO(http.body), headers=http.headers, status=http.status, preload_content=False)
        return AWSResponse(request.url, http.status, raw.headers, raw)

    session.events.register("before-send.bedrock-runtime", answer)
    return session
