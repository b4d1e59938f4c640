"""`caching audit` never prints the password inside CACHING_S3_ENDPOINT_URL (issue 19, item 3)."""

from __future__ import annotations

import socket

import pytest

from caching.__main__ import main as cli

from ..helpers import render_with


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends: nothing listens there


@pytest.fixture
def offline_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOFFLINE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "offline")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # a refused connection is not retried


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_an_unreachable_endpoint_is_named_without_its_password(
    json_flag: list[str], offline_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    monkeypatch.setenv("CACHING_S3_ENDPOINT_URL", f"http://user:SECRET@127.0.0.1:{port}")
    printed = render_with(lambda console: cli(["audit", *json_flag, "s3://bucket/prefix"], console), 300, expect=2)
    assert printed == (
        "Error: Cannot reach S3 for 's3://bucket/prefix' (Could not connect to the endpoint URL: "
        f'"http://***@127.0.0.1:{port}/bucket?list-type=2&prefix=prefix&encoding-type=url"): '
        "check your network and credentials.\n"
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "ftp://user:SECRET@host/",
            "CACHING_S3_ENDPOINT_URL must be an http:// or https:// URL with a host, like http://127.0.0.1:8765; "
            "got 'ftp://***@host/'.",
        ),
        (
            "http://user:SECRET@[::1",
            "CACHING_S3_ENDPOINT_URL must be an http:// or https:// URL with a host, like http://127.0.0.1:8765; "
            "got 'http://***@[::1'.",
        ),
        (  # once a traceback, botocore's ValueError quoting the whole URL
            "http://user:SECRET@bad host/",
            "CACHING_S3_ENDPOINT_URL is not a URL botocore accepts, got 'http://***@bad host/': use one like "
            "http://127.0.0.1:9000.",
        ),
    ],
)
def test_an_endpoint_that_is_not_a_url_is_refused_without_its_password(
    url: str, message: str, offline_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CACHING_S3_ENDPOINT_URL", url)
    printed = render_with(lambda console: cli(["audit", "s3://bucket/prefix"], console), 300, expect=2)
    assert printed == f"Error: {message}\n"
