"""Every answer carries `x-amzn-RequestId`, as Bedrock's do (issue 22): boto3 puts it in ResponseMetadata, and the
invocation log records the same id, so logs and traces join on it."""

from __future__ import annotations

import http.client
import json
import re
import socket
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from caching.emulator import Emulator, ManualClock, running_server

from ..helpers import CP, SONNET, text_of, user

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
CONVERSE = {"system": [{"text": text_of(2_100)}, CP], "messages": [user("Hi")]}
BODY = json.dumps(
    {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}
)


def calls(client: Any) -> dict[str, dict[str, Any]]:
    """Each operation's ResponseMetadata, streams read to the end."""
    converse_stream = client.converse_stream(modelId=SONNET, **CONVERSE)
    list(converse_stream["stream"])
    invoke_stream = client.invoke_model_with_response_stream(modelId=SONNET, body=BODY)
    list(invoke_stream["body"])
    counted = {"converse": {"messages": [user("Hi")]}}
    return {
        "Converse": client.converse(modelId=SONNET, **CONVERSE)["ResponseMetadata"],
        "ConverseStream": converse_stream["ResponseMetadata"],
        "InvokeModel": client.invoke_model(modelId=SONNET, body=BODY)["ResponseMetadata"],
        "InvokeModelWithResponseStream": invoke_stream["ResponseMetadata"],
        "CountTokens": client.count_tokens(modelId=SONNET, input=counted)["ResponseMetadata"],
    }


@pytest.mark.parametrize("way", ["in process", "over loopback"])
def test_every_operation_and_its_log_record_carry_one_request_id(way: str, tmp_path: Path) -> None:
    emulator = Emulator(clock=ManualClock(), invocation_log=str(tmp_path))
    if way == "in process":
        metadata = calls(emulator.session().client("bedrock-runtime"))
    else:
        session = boto3.Session(aws_access_key_id="AKIAIDS", aws_secret_access_key="x", region_name="us-east-1")
        with running_server(emulator) as server:
            metadata = calls(session.client("bedrock-runtime", endpoint_url=server.url))
    ids = {operation: meta["RequestId"] for operation, meta in metadata.items()}
    assert all(UUID.fullmatch(value) for value in ids.values()), ids
    assert len(set(ids.values())) == 5  # one id per request
    assert all(meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"] for meta in metadata.values())
    lines = [json.loads(line) for path in tmp_path.rglob("*.json") for line in path.read_text().splitlines()]
    logged = {record["operation"]: record["requestId"] for record in lines}
    assert logged == {name: ids[name] for name in ids if name != "CountTokens"}  # CountTokens is not logged


def test_an_error_carries_a_request_id_too() -> None:
    client = Emulator(clock=ManualClock()).session().client("bedrock-runtime")
    with pytest.raises(ClientError) as caught:
        client.converse(modelId="anthropic.no-such-model", messages=[user("Hi")])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert UUID.fullmatch(caught.value.response["ResponseMetadata"]["RequestId"])


@pytest.mark.parametrize(
    "raw",
    [
        b"\r\n\r\n",  # an empty request line: the server's own error
        b"POST /model/x/converse HTTP/1.1\r\nContent-Length: ten\r\n\r\n",  # a Content-Length that is no number
        b"GET /nowhere HTTP/1.1\r\nContent-Length: 0\r\n\r\n",  # no such operation
    ],
)
def test_the_servers_own_errors_carry_a_request_id(raw: bytes) -> None:
    with (
        running_server(Emulator(clock=ManualClock())) as server,
        socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as sock,
    ):
        sock.sendall(raw)
        response = http.client.HTTPResponse(sock, method="POST")
        response.begin()
        status, request_id = response.status, response.getheader("x-amzn-RequestId")
    assert 400 <= status < 500 and request_id is not None and UUID.fullmatch(request_id)
