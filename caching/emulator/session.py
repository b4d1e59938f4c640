"""In process: a real boto3 Session whose bedrock-runtime requests an emulator answers.

botocore still validates each request against the service model, serializes and signs it, and parses the answer
(event-stream bytes for ConverseStream) with its own parsers. The emulator only takes the place of the network,
through botocore's `before-send` event. Nothing is patched.
"""

from __future__ import annotations

import functools
import io
from typing import Any, Protocol
from urllib.parse import urlsplit

import boto3
import botocore.loaders
import botocore.session
from botocore.awsrequest import AWSResponse
from urllib3 import HTTPResponse

from .service import HttpAnswer

DEFAULT_ACCESS_KEY = "AKIAOFFLINEEXAMPLE01"
SECOND_ACCESS_KEY = "AKIAOFFLINEEXAMPLE02"  # another account, for lessons on isolation
OFFLINE_SECRET = "offline-emulator-secret"  # signing needs a secret; the emulator never checks it


class Answers(Protocol):
    """Anything that answers raw HTTP the way Bedrock Runtime would (the `Emulator`)."""

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> HttpAnswer: ...


@functools.cache
def _service_models() -> botocore.loaders.Loader:
    """One loader of botocore's service models for every offline session: each session would otherwise read and parse
    the same JSON files again (a fifth of a short example's time)."""
    return botocore.loaders.create_loader()


def answered_session(answers: Answers, access_key_id: str, region: str) -> boto3.Session:
    """A boto3 Session whose bedrock-runtime requests `answers` handles; `access_key_id` signs them."""
    core = botocore.session.get_session()
    core.register_component("data_loader", _service_models())
    session = boto3.Session(
        botocore_session=core,
        aws_access_key_id=access_key_id,
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
        http = answers.handle(request.method, urlsplit(request.url).path, headers, body or b"")
        raw = HTTPResponse(body=io.BytesIO(http.body), headers=http.headers, status=http.status, preload_content=False)
        return AWSResponse(request.url, http.status, raw.headers, raw)

    session.events.register("before-send.bedrock-runtime", answer)
    return session
