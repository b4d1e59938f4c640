"""One account's cache stays its own, and a failed request changes nothing (issue 19, items 1 and 2)."""

from __future__ import annotations

import hashlib
import http.client
import json
from pathlib import Path
from typing import Any

import pytest

from caching.emulator import Emulator, ManualClock, running_server
from caching.emulator.state import Account, AccountKind

from ..helpers import CP, SONNET, text_of, usage_of, user

API_KEY = "bedrock-api-key-of-team-a"
DIGEST = hashlib.sha256(API_KEY.encode()).hexdigest()[:16]  # what the emulator knows of the key
BODY = {"system": [{"text": text_of(2_100)}, CP], "messages": [user("Hi")]}  # 2,100 tokens to the checkpoint


def sigv4(key_id: str, region: str = "us-east-1") -> dict[str, str]:
    scope = f"{key_id}/20261130/{region}/bedrock/aws4_request"
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"}


def converse_raw(emulator: Emulator, headers: dict[str, str], body: dict[str, Any] = BODY) -> tuple[int, int]:
    """(read, written) of one Converse call sent as raw HTTP."""
    answer = emulator.handle("POST", f"/model/{SONNET}/converse", headers, json.dumps(body).encode())
    assert answer.status == 200, answer.body
    return usage_of(json.loads(answer.body))[:2]


@pytest.mark.parametrize("spelled", [f"bearer:{DIGEST}", DIGEST, f"api-key:{DIGEST}"])
def test_an_api_key_and_a_key_id_that_spells_its_digest_never_share(spelled: str) -> None:
    emulator = Emulator(clock=ManualClock())
    bearer = {"Authorization": f"Bearer {API_KEY}"}
    assert converse_raw(emulator, bearer) == (0, 2_100)
    assert converse_raw(emulator, sigv4(spelled)) == (0, 2_100)  # its own account: it writes, reads nothing
    assert converse_raw(emulator, bearer) == (2_100, 0)  # each reads only its own entry
    assert converse_raw(emulator, sigv4(spelled)) == (2_100, 0)
    assert [record.account for record in emulator.records] == [f"bearer/{DIGEST}", spelled] * 2


def test_the_accounts_map_names_api_keys_by_kind() -> None:
    # "bearer:<digest>" in the map is the API key; a key id spelling it is not mapped with it
    emulator = Emulator(clock=ManualClock(), accounts={f"bearer:{DIGEST}": "team-a", "AKIATEAMA": "team-a"})
    assert emulator.account_for(Account(DIGEST, AccountKind.API_KEY)) == Account("team-a")
    assert emulator.account_for(f"bearer:{DIGEST}") == Account(f"bearer:{DIGEST}")  # an access key id: its own
    assert converse_raw(emulator, {"Authorization": f"Bearer {API_KEY}"}) == (0, 2_100)
    assert converse_raw(emulator, sigv4("AKIATEAMA")) == (2_100, 0)  # mapped to the same account: shared
    assert converse_raw(emulator, sigv4(f"bearer:{DIGEST}")) == (0, 2_100)


def test_through_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = Emulator(clock=ManualClock())
    signed = emulator.session(f"bearer:{DIGEST}").client("bedrock-runtime")
    # botocore sends a Bedrock API key in AWS_BEARER_TOKEN_BEDROCK as a bearer token, whatever keys a client has
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", API_KEY)
    bearer = emulator.session(None).client("bedrock-runtime")
    assert usage_of(bearer.converse(modelId=SONNET, **BODY))[:2] == (0, 2_100)
    monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK")  # SigV4, with the key id that spells the API key's digest
    assert usage_of(signed.converse(modelId=SONNET, **BODY))[:2] == (0, 2_100)
    assert usage_of(signed.converse(modelId=SONNET, **BODY))[:2] == (2_100, 0)
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", API_KEY)
    assert usage_of(bearer.converse(modelId=SONNET, **BODY))[:2] == (2_100, 0)
    assert [r.account for r in emulator.records] == [
        f"bearer/{DIGEST}",
        f"bearer:{DIGEST}",
        f"bearer:{DIGEST}",
        f"bearer/{DIGEST}",
    ]


def post(url: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    """One raw HTTP POST on the loopback server: (status, the JSON answer)."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", path, body, {**headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_over_raw_http_on_the_loopback_server() -> None:
    emulator = Emulator(clock=ManualClock())
    path, body = f"/model/{SONNET}/converse", json.dumps(BODY).encode()
    with running_server(emulator) as server:
        sent = [
            post(server.url, path, headers, body)
            for headers in ({"Authorization": f"Bearer {API_KEY}"}, sigv4(f"bearer:{DIGEST}"))
            for _ in range(2)
        ]
    assert [(status, usage_of(answer)[:2]) for status, answer in sent] == [
        (200, (0, 2_100)),
        (200, (2_100, 0)),
        (200, (0, 2_100)),  # the key id that spells the API key's digest: another account
        (200, (2_100, 0)),
    ]


# --- a failed request changes nothing ------------------------------------------------------------------------------

INVOKE_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 100,
    "system": [{"type": "text", "text": text_of(2_100), "cache_control": {"type": "ephemeral"}}],
    "messages": [{"role": "user", "content": "Hi"}],
}


def test_a_request_that_fails_while_its_answer_is_built_leaves_no_entry_record_or_history() -> None:
    # The first reply is a toolUse without its id: the cache is written, then InvokeModel's body cannot be built.
    replies = [([{"toolUse": {"name": "lookup", "input": {}}}], "tool_use"), ([{"text": "Hello"}], "end_turn")]
    emulator = Emulator(clock=ManualClock(), replies=lambda request: replies.pop(0))
    path, body = f"/model/{SONNET}/invoke", json.dumps(INVOKE_BODY).encode()
    failed = emulator.handle("POST", path, sigv4("AKIAFAILS"), body)
    assert (failed.status, json.loads(failed.body)) == (
        400,
        {"message": "The request is malformed (KeyError: 'toolUseId')."},
    )
    assert (emulator.records, len(emulator.cache)) == ([], 0)
    answered = emulator.handle("POST", path, sigv4("AKIAFAILS"), body)
    usage = json.loads(answered.body)["usage"]
    assert (usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]) == (0, 2_100)  # it writes again
    assert [record.number for record in emulator.records] == [1]
    assert emulator.records[0].diagnosis is not None
    assert emulator.records[0].diagnosis.message == (  # the history holds no trace of the failed request
        "first request like this: 2,100 tokens written for the next one to read"
    )


def test_a_read_by_a_failed_request_does_not_refresh_its_entry(tmp_path: Any) -> None:
    clock = ManualClock()
    emulator = Emulator(clock=clock, invocation_log=str(tmp_path / "logs"))
    assert usage_of(emulator.converse(SONNET, BODY, "AKIAREFRESH"))[:2] == (0, 2_100)  # expires at 300 s
    clock.advance(200)
    (tmp_path / "logs" / "AWSLogs").rename(tmp_path / "kept")
    (tmp_path / "logs" / "AWSLogs").write_text("")  # the log cannot be written: the read fails at its very end
    with pytest.raises(OSError):
        emulator.converse(SONNET, BODY, "AKIAREFRESH")
    (tmp_path / "logs" / "AWSLogs").unlink()
    clock.advance(150)  # 350 s: past the first expiry, within the refresh the failed read would have given
    assert usage_of(emulator.converse(SONNET, BODY, "AKIAREFRESH"))[:2] == (0, 2_100)
    assert [record.number for record in emulator.records] == [1, 2]
    logged = sorted((tmp_path / "logs" / "AWSLogs").rglob("*.json"))
    assert [len(path.read_text().splitlines()) for path in logged] == [1]  # the last call's; the first's was moved


# --- the signed region -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "shown"),
    [
        ("..", '".."'),
        ("us-east-1%2F..", '"us-east-1%2F.."'),
        ("US-EAST-1", '"US-EAST-1"'),
        ("a" * 300, '"' + "a" * 40 + '..."'),  # once dropped the connection: too long for a folder's name
    ],
)
def test_a_region_not_shaped_like_aws_s_is_refused_and_nothing_is_logged(
    region: str, shown: str, tmp_path: Any
) -> None:
    emulator = Emulator(clock=ManualClock(), invocation_log=str(tmp_path / "logs"))
    with running_server(emulator) as server:
        status, answer = post(server.url, f"/model/{SONNET}/converse", sigv4("AKIAREGION", region), b"{}")
    assert (status, answer) == (
        403,
        {
            "message": f"Credential should be scoped to a valid region, not {shown}: sign for a region such as us-east-1."
        },
    )
    assert [path.relative_to(tmp_path) for path in tmp_path.rglob("*")] == [Path("logs")]
    assert emulator.records == []


@pytest.mark.parametrize("region", ["us-east-1", "us-gov-west-1", "eu-central-2", "ap-southeast-4", "eusc-de-east-1"])
def test_aws_regions_are_logged_in_their_folder(region: str, tmp_path: Any) -> None:
    emulator = Emulator(clock=ManualClock(), invocation_log=str(tmp_path))
    answer = emulator.handle(
        "POST", f"/model/{SONNET}/converse", sigv4("123456789012", region), json.dumps(BODY).encode()
    )
    assert answer.status == 200
    hour = tmp_path / "AWSLogs/123456789012/BedrockModelInvocationLogs" / region / "2026/11/30/00"
    assert [path.relative_to(tmp_path) for path in tmp_path.rglob("*.json")] == [
        (hour / "emulator.json").relative_to(tmp_path)
    ]


def test_the_log_path_stays_in_its_folder_whatever_the_python_api_is_given(tmp_path: Any) -> None:
    emulator = Emulator(clock=ManualClock(), invocation_log=str(tmp_path / "logs"))
    with pytest.raises(ValueError, match=r"^'\.\.' is not an AWS region name \(such as us-east-1\)\.$"):
        emulator.converse(SONNET, BODY, "../../..", region="..")
    assert [path.relative_to(tmp_path) for path in tmp_path.rglob("*")] == [Path("logs")]
    assert (emulator.records, len(emulator.cache)) == ([], 0)


def test_an_entry_a_failed_request_wrote_over_comes_back(tmp_path: Path) -> None:
    from caching.rules import Kind

    clock = ManualClock()
    emulator = Emulator(clock=clock, invocation_log=str(tmp_path / "logs"))
    emulator.converse(SONNET, BODY, "AKIAEXPIRED")
    clock.advance(301)  # the 5m entry has expired: the next call misses, and the diagnosis says why
    (tmp_path / "logs" / "AWSLogs").rename(tmp_path / "kept")
    (tmp_path / "logs" / "AWSLogs").write_text("")
    with pytest.raises(OSError):  # its write replaced the expired entry, then its log could not be written
        emulator.converse(SONNET, BODY, "AKIAEXPIRED")
    (tmp_path / "logs" / "AWSLogs").unlink()
    assert usage_of(emulator.converse(SONNET, BODY, "AKIAEXPIRED"))[:2] == (0, 2_100)
    assert emulator.records[-1].diagnosis is not None and emulator.records[-1].diagnosis.kind == Kind.EXPIRED
