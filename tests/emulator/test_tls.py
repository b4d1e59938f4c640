"""`serve --tls`: HTTPS with a certificate made for localhost, so Bedrock API keys work (issue 22). botocore sends a
bearer token only over HTTPS; here the real boto3 client does, with AWS_BEARER_TOKEN_BEDROCK and AWS_CA_BUNDLE set as
`caching serve --tls` says, and its key is an account of its own."""

from __future__ import annotations

import hashlib
import http.client
import itertools
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import SSLError

from caching.emulator import Emulator, EmulatorServer, ManualClock, running_server
from caching.emulator.tls import localhost_tls

from ..helpers import CP, SONNET, as_in_a_terminal, render_with, text_of, user
from .test_emulator_server import free_port

TOKEN = "bedrock-api-key-offline-example"
REQUEST = {"system": [{"text": text_of(2_100)}, CP], "messages": [user("Hi")]}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Emulator, EmulatorServer, Path]]:
    emulator = Emulator(clock=ManualClock())
    tls = localhost_tls(tmp_path / "ca.pem")
    with running_server(emulator, tls=tls) as server:
        yield emulator, server, tls.ca_file


def test_boto3_with_a_bedrock_api_key_writes_then_reads_over_https(
    served: tuple[Emulator, EmulatorServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator, server, ca_file = served
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", TOKEN)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca_file))
    client = boto3.Session(region_name="us-east-1").client("bedrock-runtime", endpoint_url=server.url)
    first, second = (client.converse(modelId=SONNET, **REQUEST)["usage"] for _ in range(2))
    assert (first["cacheWriteInputTokens"], first["cacheReadInputTokens"]) == (2_100, 0)
    assert (second["cacheWriteInputTokens"], second["cacheReadInputTokens"]) == (0, 2_100)
    own = "bearer/" + hashlib.sha256(TOKEN.encode()).hexdigest()[:16]  # the key's account: its digest, never the key
    assert [record.account for record in emulator.records] == [own, own]


def test_an_access_key_id_over_https_is_another_account(served: tuple[Emulator, EmulatorServer, Path]) -> None:
    emulator, server, ca_file = served
    session = boto3.Session(aws_access_key_id="AKIATLS", aws_secret_access_key="x", region_name="us-east-1")
    client = session.client("bedrock-runtime", endpoint_url=server.url, verify=str(ca_file))
    assert client.converse(modelId=SONNET, **REQUEST)["usage"]["cacheWriteInputTokens"] == 2_100
    assert emulator.records[-1].account == "AKIATLS"


def test_a_client_that_does_not_trust_the_ca_is_refused(
    served: tuple[Emulator, EmulatorServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, server, _ = served
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", TOKEN)
    once = Config(retries={"total_max_attempts": 1})  # botocore would try again after a pause, and fail alike
    client = boto3.Session(region_name="us-east-1").client("bedrock-runtime", endpoint_url=server.url, config=once)
    with pytest.raises(SSLError):
        client.converse(modelId=SONNET, **REQUEST)


def test_plain_http_to_the_https_port_is_dropped_and_the_server_goes_on(
    served: tuple[Emulator, EmulatorServer, Path],
) -> None:
    _, server, ca_file = served
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=10) as sock:
        sock.sendall(b"POST /model/x/converse HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        assert not sock.recv(100).startswith(b"HTTP")  # closed unanswered: it cannot be answered in plain HTTP
    context = ssl.create_default_context(cafile=str(ca_file))
    connection = http.client.HTTPSConnection("localhost", server.server_address[1], context=context, timeout=10)
    connection.request("GET", "/nowhere")
    response = connection.getresponse()
    assert (response.status, json.loads(response.read())["message"]) == (
        404,
        "No Bedrock Runtime operation at GET '/nowhere'.",
    )
    connection.close()


def test_serve_tls_prints_how_to_trust_it_and_answers_over_https(tmp_path: Path) -> None:
    """In an 80-column terminal the notes wrap, indented; the lines meant to be copied stay whole, however long."""
    port, ca_file = free_port(), tmp_path / "emulator-ca.pem"
    command = [sys.executable, "-m", "caching", "serve", "--tls", "--port", str(port), "--ca-file", str(ca_file)]
    command += ["--expiry-window", "120", "--miss-rate", "0.05", "--seed", "3"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_in_a_terminal,
        env={**os.environ, "COLUMNS": "80"},
    )
    deadline = threading.Timer(60, process.kill)  # a banner that never ends in "Ctrl-C stops it." fails, not hangs
    deadline.start()
    try:
        assert process.stdout is not None
        printed = list(itertools.takewhile(lambda line: line not in ("Ctrl-C stops it.\n", ""), process.stdout))
        session = boto3.Session(aws_access_key_id="AKIACLI", aws_secret_access_key="x", region_name="us-east-1")
        client = session.client("bedrock-runtime", endpoint_url=f"https://127.0.0.1:{port}", verify=str(ca_file))
        assert client.converse(modelId=SONNET, **REQUEST)["usage"]["cacheWriteInputTokens"] == 2_100
    finally:
        deadline.cancel()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    url = f"https://127.0.0.1:{port}"
    assert [line.rstrip("\n") for line in printed] == [
        f"Offline Bedrock emulator on {url} (loopback only).",
        f'  boto3: boto3.client("bedrock-runtime", endpoint_url="{url}", verify="{ca_file}")',
        f'  Strands: BedrockModel(endpoint_url="{url}", model_id=...)',
        "  Any access key id works; it names the account whose cache you use.",
        "  Less tidy than the documented rules: entries live up to 120 s past their TTL,",
        "  5.0% of calls miss with no cause (seed 3).",
        f"  Trust its certificate: export AWS_CA_BUNDLE={ca_file}",
        "  A Bedrock API key (AWS_BEARER_TOKEN_BEDROCK) works too, and names an account",
        "  of its own.",
    ]
    assert (process.returncode, out.strip().splitlines()[-1], err) == (0, "Stopped.", "")


def test_strands_with_a_bedrock_api_key_reaches_it_over_https(
    served: tuple[Emulator, EmulatorServer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from strands import Agent
    from strands.models import BedrockModel

    emulator, server, ca_file = served
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", TOKEN)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca_file))
    model = BedrockModel(endpoint_url=server.url, model_id=SONNET, region_name="us-east-1")
    Agent(model=model, system_prompt="You help.", callback_handler=None)("Hello")
    assert [record.account for record in emulator.records] == [
        "bearer/" + hashlib.sha256(TOKEN.encode()).hexdigest()[:16]
    ]


def test_a_ca_file_that_cannot_be_written_is_one_sentence(tmp_path: Path) -> None:
    from caching.commands import main

    where = tmp_path / "missing" / "ca.pem"
    text = render_with(lambda console: main(["serve", "--tls", "--ca-file", str(where)], console), width=200, expect=2)
    assert text == (
        f"Error: Cannot write the emulator's CA certificate to '{where}' (No such file or directory): choose another "
        "--ca-file.\n"
    )
