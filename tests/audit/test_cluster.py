"""The audit on a real Dask cluster: `dask scheduler` and two `dask worker` processes on loopback, started as a team
would start them, with none of the audit's settings (the run's one cluster, in tests/audit/conftest.py). The workers
read an S3 server (moto, on loopback) with the endpoint and credentials the command sends them, and the report is the
one-process report; a damaged object and a slow one are each one line, on the cluster as in one process."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from caching.__main__ import main as cli
from caching.audit import s3client

from ..helpers import render_with
from .conftest import SLOW, SLOW_SECONDS, free_port

pytestmark = pytest.mark.xdist_group("dask")
S3_TREE = Path(__file__).parents[1] / "fixtures" / "invocation-logs" / "s3"
READ_SECONDS = SLOW_SECONDS / 3  # the S3 read deadline here: the slow object answers after three times that


def test_a_cluster_a_team_runs_gives_the_one_process_report(
    dask_scheduler: str, s3_server: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(s3client, "READ_SECONDS", READ_SECONDS)  # sent to the workers with the endpoint
    s3_server.create_bucket(Bucket="logs")
    for file in sorted(p for p in S3_TREE.rglob("*") if p.is_file()):
        data = file.read_bytes()
        key = "bedrock/" + str(file.relative_to(S3_TREE))
        if "converse" in file.name and "data" not in file.parts:
            data, key = gzip.compress(data), key + ".gz"
        s3_server.put_object(Bucket="logs", Key=key, Body=data)
    folder = "bedrock/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/11/30/10"
    s3_server.put_object(Bucket="logs", Key=f"{folder}/broken.json.gz", Body=b"\x1f\x8bnot gzip")
    s3_server.put_object(
        Bucket="logs",
        Key=f"{folder}/{SLOW}",
        Body=(S3_TREE / next(S3_TREE.rglob("*_converse.json")).relative_to(S3_TREE)).read_bytes(),
    )

    def report(*mode: str) -> str:
        return render_with(lambda c: cli(["audit", "s3://logs/bedrock", "--json", *mode], c), width=300)

    alone = report()
    assert report("--scheduler", dask_scheduler) == alone
    skipped = json.loads(alone)["skipped_records"]
    assert skipped == [
        f"s3://logs/{folder}/broken.json.gz: cannot be read past line 0 (Unknown compression method); "
        "skipped the rest.",
        f"s3://logs/{folder}/{SLOW}: S3 sent nothing for {READ_SECONDS:g} s (the read deadline); skipped it.",
    ]
    local = json.loads(render_with(lambda c: cli(["audit", str(S3_TREE), "--json"], c), width=300))
    assert json.loads(alone)["total"] == local["total"]  # every other object was read, its bodies apart too


@pytest.mark.parametrize("address", ["closed", "nonsense"])
def test_a_scheduler_that_cannot_be_reached_is_one_sentence(address: str) -> None:
    """Nothing listens on a free port; a word with no port is no address. Neither leaves a Dask client behind to
    complain at exit."""
    address = f"tcp://127.0.0.1:{free_port()}" if address == "closed" else address
    said = "[Errno 111] Connection refused" if address != "nonsense" else "missing port number in address 'nonsense'"
    text = render_with(lambda c: cli(["audit", str(S3_TREE), "--scheduler", address], c), width=300, expect=2)
    assert text == (
        f"Error: Cannot reach the Dask scheduler at {address!r} ({said}): start one with `dask scheduler` and give "
        "the address it prints (tcp://host:8786), or drop --scheduler.\n"
    )
