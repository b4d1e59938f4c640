"""The real-client table of docs/emulator.md: each Bedrock client against the offline emulator over loopback.

Run:  .venv/bin/python scripts/client_table.py            (the clients installed here; the others say so)
      .venv/bin/python scripts/client_table.py --install  (a scratch venv with every client from the package index;
                                                            takes minutes, and reaches the index)

For each client: its version; whether a request sent twice writes the cache and then reads what it wrote (judged
by the emulator's own record of each call); the same for its streaming call; and whether a request Bedrock rejects
(five checkpoints) reaches it as an error carrying Bedrock's message. Prints the table as Markdown.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from caching.emulator import Emulator, running_server
from caching.lab.terminal import HelpFormatter

ROOT = Path(__file__).resolve().parent.parent
MODEL = "global.anthropic.claude-sonnet-4-6"
REGION = "us-east-1"
SECRET = "offline-secret"  # signing needs one; the emulator never checks it
REJECTED = "A maximum of 4 blocks with"  # the start of Bedrock's message for five checkpoints, in either API's words
CP = {"cachePoint": {"type": "default"}}
EPHEMERAL = {"type": "ephemeral"}
# The packages --install puts in its scratch venv, beside the project's own requirements.
INDEX_PACKAGES = ("anthropic[bedrock]", "langchain-aws", "pydantic-ai-slim[bedrock]", "litellm", "awscli")


def system(word: str) -> str:
    """A system prompt well above Sonnet 4.6's 2,048-token minimum (about 3,100 tokens), one per probe and mode."""
    return f"You follow the {word} house rules. " * 400


@dataclass(frozen=True)
class Target:
    """Where a probe sends its requests: the server's URL and the access key id that names its account."""

    url: str
    key: str

    def boto3_session(self) -> Any:
        return _session(self.key)

    def boto3_client(self) -> Any:
        return _client(self)


@functools.cache
def _session(key: str) -> Any:
    """One boto3 session per key, all reading botocore's service models once (parsing them is most of a client's
    start-up)."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    core.register_component("data_loader", _loader())
    return boto3.Session(botocore_session=core, aws_access_key_id=key, aws_secret_access_key=SECRET, region_name=REGION)


@functools.cache
def _loader() -> Any:
    import botocore.loaders

    return botocore.loaders.create_loader()


@functools.cache
def _client(target: Target) -> Any:
    return target.boto3_session().client("bedrock-runtime", endpoint_url=target.url)


Call = Callable[[Target, str], object]  # sends one request with this system prompt


@dataclass(frozen=True)
class Client:
    """One client: its name, the distribution its version is read from, how it sends a request (and a streaming
    one, when it has one), and how it sends one Bedrock rejects."""

    name: str
    distribution: str
    once: Call
    stream: Call | None
    rejected: Callable[[Target], object]
    available: Callable[[], bool] | None = None  # installed? (by default: its distribution is)


# --- each client -----------------------------------------------------------------------------------------------


def _converse_request(text: str, points: int = 1) -> dict[str, Any]:
    return {
        "modelId": MODEL,
        "system": [{"text": text}, *[CP] * points]
        if points == 1
        else [b for _ in range(points) for b in ({"text": text}, CP)],
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
    }


def _invoke_body(text: str, blocks: int = 1) -> str:
    system_blocks = [{"type": "text", "text": text, "cache_control": EPHEMERAL} for _ in range(blocks)]
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 200, "system": system_blocks}
    return json.dumps({**body, "messages": [{"role": "user", "content": "Hi"}]})


def boto3_converse(target: Target, text: str) -> object:
    return target.boto3_client().converse(**_converse_request(text))


def boto3_converse_stream(target: Target, text: str) -> object:
    return list(target.boto3_client().converse_stream(**_converse_request(text))["stream"])


def boto3_converse_rejected(target: Target) -> object:
    return target.boto3_client().converse(**_converse_request("x", points=5))


def boto3_invoke(target: Target, text: str) -> object:
    return target.boto3_client().invoke_model(modelId=MODEL, body=_invoke_body(text))["body"].read()


def boto3_invoke_stream(target: Target, text: str) -> object:
    answer = target.boto3_client().invoke_model_with_response_stream(modelId=MODEL, body=_invoke_body(text))
    return list(answer["body"])


def boto3_invoke_rejected(target: Target) -> object:
    return target.boto3_client().invoke_model(modelId=MODEL, body=_invoke_body("x", blocks=5))


def _aws_cli(target: Target, request: dict[str, Any]) -> object:
    aws = shutil.which("aws")
    assert aws is not None
    env = {**os.environ, "AWS_ACCESS_KEY_ID": target.key, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": REGION}
    done = subprocess.run(
        [aws, "bedrock-runtime", "converse", "--endpoint-url", target.url, "--cli-input-json", json.dumps(request)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return done.stdout


def aws_cli(target: Target, text: str) -> object:
    return _aws_cli(target, _converse_request(text))


def aws_cli_rejected(target: Target) -> object:
    return _aws_cli(target, _converse_request("x", points=5))


def _strands(target: Target, blocks: list[dict[str, Any]], streaming: bool) -> object:
    from strands import Agent
    from strands.models import BedrockModel

    session = target.boto3_session()
    model = BedrockModel(boto_session=session, endpoint_url=target.url, model_id=MODEL, streaming=streaming)
    return Agent(model=model, system_prompt=blocks, callback_handler=None)("Hi")  # type: ignore[arg-type]


def strands(target: Target, text: str) -> object:
    return _strands(target, [{"text": text}, CP], streaming=False)


def strands_stream(target: Target, text: str) -> object:
    return _strands(target, [{"text": text}, CP], streaming=True)


def strands_rejected(target: Target) -> object:
    return _strands(target, [b for _ in range(5) for b in ({"text": "x"}, CP)], streaming=False)


def _anthropic(target: Target, blocks: int, text: str, streaming: bool) -> object:
    from anthropic import AnthropicBedrock

    client = AnthropicBedrock(
        aws_access_key=target.key, aws_secret_key=SECRET, aws_region=REGION, base_url=target.url, max_retries=0
    )
    request: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 200,
        "system": [{"type": "text", "text": text, "cache_control": EPHEMERAL} for _ in range(blocks)],
        "messages": [{"role": "user", "content": "Hi"}],
    }
    if streaming:
        with client.messages.stream(**request) as stream:
            return stream.get_final_message()
    return client.messages.create(**request)


def anthropic(target: Target, text: str) -> object:
    return _anthropic(target, 1, text, streaming=False)


def anthropic_stream(target: Target, text: str) -> object:
    return _anthropic(target, 1, text, streaming=True)


def anthropic_rejected(target: Target) -> object:
    return _anthropic(target, 5, "x", streaming=False)


def _langchain(target: Target, converse: bool, blocks: list[dict[str, Any]], streaming: bool) -> object:
    from langchain_aws import ChatBedrock, ChatBedrockConverse
    from langchain_core.messages import HumanMessage, SystemMessage

    keys = {"aws_access_key_id": target.key, "aws_secret_access_key": SECRET, "region_name": REGION}
    model: Any = (
        ChatBedrockConverse(model=MODEL, endpoint_url=target.url, **keys)
        if converse
        else ChatBedrock(model_id=MODEL, endpoint_url=target.url, provider="anthropic", **keys)
    )
    messages = [SystemMessage(content=blocks), HumanMessage(content="Hi")]  # type: ignore[arg-type]
    return list(model.stream(messages)) if streaming else model.invoke(messages)


def _lc_blocks(converse: bool, text: str, count: int = 1) -> list[dict[str, Any]]:
    if converse:
        return [b for _ in range(count) for b in ({"type": "text", "text": text}, CP)]
    return [{"type": "text", "text": text, "cache_control": EPHEMERAL} for _ in range(count)]


def langchain_converse(target: Target, text: str) -> object:
    return _langchain(target, True, _lc_blocks(True, text), streaming=False)


def langchain_converse_stream(target: Target, text: str) -> object:
    return _langchain(target, True, _lc_blocks(True, text), streaming=True)


def langchain_converse_rejected(target: Target) -> object:
    return _langchain(target, True, _lc_blocks(True, "x", 5), streaming=False)


def langchain_invoke(target: Target, text: str) -> object:
    return _langchain(target, False, _lc_blocks(False, text), streaming=False)


def langchain_invoke_stream(target: Target, text: str) -> object:
    return _langchain(target, False, _lc_blocks(False, text), streaming=True)


def langchain_invoke_rejected(target: Target) -> object:
    return _langchain(target, False, _lc_blocks(False, "x", 5), streaming=False)


def _litellm(target: Target, blocks: int, text: str, streaming: bool) -> object:
    import litellm

    answer = litellm.completion(
        model=f"bedrock/converse/{MODEL}",
        messages=[
            {
                "role": "system",
                "content": [{"type": "text", "text": text, "cache_control": EPHEMERAL} for _ in range(blocks)],
            },
            {"role": "user", "content": "Hi"},
        ],
        aws_bedrock_runtime_endpoint=target.url,
        aws_access_key_id=target.key,
        aws_secret_access_key=SECRET,
        aws_region_name=REGION,
        stream=streaming,
        num_retries=0,
    )
    return list(answer) if streaming else answer  # type: ignore[arg-type]


def litellm_(target: Target, text: str) -> object:
    return _litellm(target, 1, text, streaming=False)


def litellm_stream(target: Target, text: str) -> object:
    return _litellm(target, 1, text, streaming=True)


def litellm_rejected(target: Target) -> object:
    return _litellm(target, 5, "x", streaming=False)


def _pydantic_ai(target: Target, text: str, streaming: bool) -> object:
    import asyncio

    from pydantic_ai import Agent
    from pydantic_ai.models.bedrock import BedrockConverseModel, BedrockModelSettings
    from pydantic_ai.providers.bedrock import BedrockProvider

    model = BedrockConverseModel(MODEL, provider=BedrockProvider(bedrock_client=target.boto3_client()))
    settings = BedrockModelSettings(bedrock_cache_instructions=True)  # a cachePoint after the instructions
    agent = Agent(model, instructions=text, model_settings=settings)
    if not streaming:
        return agent.run_sync("Hi")

    async def streamed() -> object:
        async with agent.run_stream("Hi") as run:
            return await run.get_output()

    return asyncio.run(streamed())


def pydantic_ai(target: Target, text: str) -> object:
    return _pydantic_ai(target, text, streaming=False)


def pydantic_ai_stream(target: Target, text: str) -> object:
    return _pydantic_ai(target, text, streaming=True)


def pydantic_ai_rejected(target: Target) -> object:
    # pydantic-ai places its own checkpoints (at most one per kind), so five come from a raw Converse call through
    # the same boto3 client it was given: what reaches it is what reaches boto3.
    return boto3_converse_rejected(target)


CLIENTS: tuple[Client, ...] = (
    Client("boto3 Converse / ConverseStream", "boto3", boto3_converse, boto3_converse_stream, boto3_converse_rejected),
    Client("boto3 InvokeModel (+ stream)", "boto3", boto3_invoke, boto3_invoke_stream, boto3_invoke_rejected),
    Client("Strands BedrockModel", "strands-agents", strands, strands_stream, strands_rejected),
    Client("AWS CLI converse", "awscli", aws_cli, None, aws_cli_rejected, lambda: shutil.which("aws") is not None),
    Client("Anthropic AnthropicBedrock", "anthropic", anthropic, anthropic_stream, anthropic_rejected),
    Client(
        "LangChain ChatBedrockConverse",
        "langchain-aws",
        langchain_converse,
        langchain_converse_stream,
        langchain_converse_rejected,
    ),
    Client(
        "LangChain ChatBedrock", "langchain-aws", langchain_invoke, langchain_invoke_stream, langchain_invoke_rejected
    ),
    Client(
        "pydantic-ai BedrockConverseModel", "pydantic-ai-slim", pydantic_ai, pydantic_ai_stream, pydantic_ai_rejected
    ),
    Client("litellm completion (converse)", "litellm", litellm_, litellm_stream, litellm_rejected),
)


# --- the harness -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the table: each cell as the docs show it."""

    client: str
    version: str
    write_then_read: str
    streaming: str
    errors: str


def version_of(client: Client) -> str | None:
    """The installed version of the client's distribution, or None when it is not installed."""
    try:
        found = importlib.metadata.version(client.distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    if client.available is not None and not client.available():
        return None
    return found


def _writes_then_reads(emulator: Emulator, target: Target, call: Call, text: str) -> str:
    """ "yes" when the same request sent twice wrote, then read what it wrote (the emulator's records say); else
    what happened."""
    try:
        call(target, text)
        call(target, text)
    except Exception as exc:  # any client's failure is a finding for the table (its type is shown)
        return f"fails: {type(exc).__name__}"
    mine = [r for r in emulator.records if r.account == target.key][-2:]
    if len(mine) < 2:
        return "no request arrived"
    first, second = mine[0].usage, mine[1].usage
    if first.cacheWriteInputTokens and second.cacheReadInputTokens == first.cacheWriteInputTokens:
        return "yes"
    return f"no (wrote {first.cacheWriteInputTokens:,}, read {second.cacheReadInputTokens:,})"


def _rejected(target: Target, client: Client) -> str:
    """ "yes" when a request Bedrock rejects reaches the client as an error with Bedrock's message."""
    try:
        client.rejected(target)
    except Exception as exc:  # any client's failure is a finding for the table (its type is shown)
        return "yes" if REJECTED in str(exc) else f"an error without the message ({type(exc).__name__})"
    return "no error"


def probe(client: Client, url: str, emulator: Emulator, key: str) -> Row:
    """One client's row: each check against the emulator at `url`, as the account `key`."""
    version = version_of(client)
    if version is None:
        return Row(client.name, "-", "not installed", "-", "-")
    target = Target(url, key)
    streamed = "-" if client.stream is None else _writes_then_reads(emulator, target, client.stream, system("streamed"))
    return Row(
        client.name,
        version,
        _writes_then_reads(emulator, target, client.once, system("plain")),
        streamed,
        _rejected(target, client),
    )


def rows(clients: tuple[Client, ...] = CLIENTS) -> list[Row]:
    """Every client's row, against one emulator on loopback (each client its own account)."""
    emulator = Emulator()
    with running_server(emulator) as server, _quiet():
        return [probe(client, server.url, emulator, f"AKIACLIENT{n:02d}") for n, client in enumerate(clients)]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No credentials, retries or proxies from this shell: each request goes once, to loopback, signed by its
    probe's own key."""
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("AWS_") or n.lower().endswith("_proxy")]:
        del os.environ[name]
    os.environ.update(
        {
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # litellm would fetch its price list from the web on import
        }
    )
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def markdown(table: list[Row]) -> str:
    """The rows as the Markdown table docs/emulator.md shows."""
    lines = ["| client | version | write then read | streaming | errors |", "|---|---|---|---|---|"]
    lines += [f"| {r.client} | {r.version} | {r.write_then_read} | {r.streaming} | {r.errors} |" for r in table]
    return "\n".join(lines)


def install_and_run() -> int:
    """Build a scratch venv with the project and every client from the index, and run this script there."""
    with tempfile.TemporaryDirectory(prefix="caching-clients-") as folder:
        python = Path(folder) / "bin" / "python"
        subprocess.run([sys.executable, "-m", "venv", folder], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(ROOT / "requirements.txt"), *INDEX_PACKAGES], check=True)
        subprocess.run([*pip, "--no-deps", str(ROOT)], check=True)
        env = {**os.environ, "PATH": f"{Path(folder) / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        return subprocess.run([str(python), __file__], env=env, check=False).returncode


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    parser.add_argument("--install", action="store_true", help="every client from the index, in a scratch venv")
    args = parser.parse_args(argv)
    if args.install:
        return install_and_run()
    print(markdown(rows()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
