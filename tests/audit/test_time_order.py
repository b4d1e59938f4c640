"""The audit reads logs in time order, whatever order their paths list in: AWS files each region's logs under its own
folder (and a month under its own), so listing order is region by region, and a call read after later calls would
find cache entries that did not exist yet. Files where AWS puts them go by their hour and name; others keep the
order given; the listing is bounded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from caching import limits
from caching.__main__ import main as cli
from caching.audit.sources import LogFile, log_files

from ..helpers import render_with

CONVERSE = next((Path(__file__).parents[1] / "fixtures" / "invocation-logs" / "s3").rglob("*_converse.json"))
LOGS = "AWSLogs/111122223333/BedrockModelInvocationLogs"


def audit_json(*args: str) -> dict[str, Any]:
    return json.loads(render_with(lambda console: cli(["audit", *args, "--json"], console), width=300))


def two_regions(root: Path, early: str, late: str) -> Path:
    """The fixture's two calls (09:00 writes a 2,500-token system prompt for 5m, 09:01 reads it) in region `late`,
    and the same two calls an hour earlier (08:00, 08:01) in region `early`."""
    text = CONVERSE.read_text()
    for region, hour, calls in ((late, "09", text), (early, "08", text.replace("T09:0", "T08:0"))):
        folder = root / LOGS / region / "2026/11/30" / hour
        folder.mkdir(parents=True)
        (folder / f"20261130T{hour}0000000Z_converse.json").write_text(calls.replace('"us-east-1"', f'"{region}"'))
    return root


def test_regions_listed_out_of_time_order_are_read_in_time_order(tmp_path: Path) -> None:
    """us-east-1 lists before us-west-2, but its calls are an hour later. In time order each 5m setup reads twice
    (08:01 and 09:01); the 5m entry of 08:01 has expired at 09:00, which writes again. Read in listing order, 08:00
    would have found the entry 09:00 wrote and read it: three reads. Naming the regions the other way round changes
    nothing."""
    listed_late_first = audit_json(str(two_regions(tmp_path / "a", early="us-west-2", late="us-east-1")))
    assert {name: setup["hits"] for name, setup in listed_late_first["what_if"].items() if "5m" in name} == {
        "explicit 5m": 0,  # places no point: the fixture's prompt is too short for the messages alone
        "automatic 5m": 2,
        "combined 5m": 2,
        "rolling 5m": 2,
    }
    listed_early_first = audit_json(str(two_regions(tmp_path / "b", early="ap-south-1", late="us-east-1")))
    assert listed_late_first["what_if"] == listed_early_first["what_if"]


def test_paths_given_out_of_time_order_are_read_in_time_order(tmp_path: Path) -> None:
    """Two downloads, each in AWS's layout, given latest first: read as if given earliest first."""
    logs = two_regions(tmp_path / "logs", early="us-east-1", late="us-east-1")  # hours 08 and 09 of one region
    for hour in ("08", "09"):
        (tmp_path / hour / LOGS / "us-east-1/2026/11/30").mkdir(parents=True)
        shutil.move(logs / LOGS / "us-east-1/2026/11/30" / hour, tmp_path / hour / LOGS / "us-east-1/2026/11/30")
    latest_first = audit_json(str(tmp_path / "09"), str(tmp_path / "08"))
    assert latest_first["what_if"]["automatic 5m"]["hits"] == 2
    assert latest_first == audit_json(str(tmp_path / "08"), str(tmp_path / "09"))


def test_files_where_aws_puts_them_go_by_hour_then_name_and_others_first_in_the_order_given(tmp_path: Path) -> None:
    for name in (
        f"a/{LOGS}/us-west-2/2026/11/30/09/20261130T091500000Z_b.json.gz",
        f"a/{LOGS}/us-east-1/2026/11/30/10/20261130T100000000Z_a.json.gz",
        f"a/{LOGS}/us-east-1/2026/11/30/09/20261130T093000000Z_c.json.gz",
        f"b/{LOGS}/eu-west-1/2026/11/29/23/20261129T235900000Z_d.json.gz",
        "z/plain.jsonl",
        "c/records.jsonl",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    found = log_files([str(tmp_path / "z"), str(tmp_path / "a"), str(tmp_path / "c"), str(tmp_path / "b")])
    assert [Path(each.name).name for each in found if isinstance(each, LogFile)] == [
        "plain.jsonl",  # not where AWS puts logs: first, in the order given
        "records.jsonl",
        "20261129T235900000Z_d.json.gz",  # then by hour and name, across regions and paths
        "20261130T091500000Z_b.json.gz",
        "20261130T093000000Z_c.json.gz",
        "20261130T100000000Z_a.json.gz",
    ]


def test_the_listing_is_bounded_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for number in range(4):
        (tmp_path / f"{number}.jsonl").write_text("")
    monkeypatch.setattr(limits, "MOST_LOG_FILES", 3)
    found = log_files([str(tmp_path)])
    assert [Path(each.name).name for each in found if isinstance(each, LogFile)] == ["0.jsonl", "1.jsonl", "2.jsonl"]
    assert [str(each) for each in found if not isinstance(each, LogFile)] == [
        f"{tmp_path}: more than 3 log files and objects (CACHING_LIMIT_MOST_LOG_FILES); audited those listed first, "
        "skipped the rest."
    ]


def test_s3_objects_of_two_regions_are_read_in_time_order(s3_server: Any, tmp_path: Path) -> None:
    """The same two regions as objects in a bucket (S3 lists us-east-1's, an hour later, first)."""
    tree = two_regions(tmp_path, early="us-west-2", late="us-east-1")
    s3_server.create_bucket(Bucket="order")
    for file in (p for p in tree.rglob("*") if p.is_file()):
        s3_server.put_object(Bucket="order", Key=f"logs/{file.relative_to(tree)}", Body=file.read_bytes())
    assert audit_json("s3://order/logs")["what_if"] == audit_json(str(tree))["what_if"]


RECORD = (
    '{"timestamp":"2026-11-30T%s","accountId":"%s","operation":"Converse","modelId":"us.anthropic.claude-sonnet-4-6",'
    '"output":{"outputBodyJson":{"usage":{"inputTokens":10,"outputTokens":1}}}}'
)


def test_calls_logged_well_after_later_ones_are_counted_and_named_once(tmp_path: Path) -> None:
    """A call is logged when it ends: 30 s behind the latest call of its account and model is the usual order of a
    log, 3.5 min is not (the replays would let it read what was written after it began). Another account's call an
    hour earlier is no disorder: it shares no cache with the first account's."""
    times = [("09:00:00Z", "111122223333"), ("09:05:00Z", "111122223333"), ("09:04:30Z", "111122223333"),
             ("09:01:30Z", "111122223333"), ("08:00:00Z", "444455556666"), ("09:02:00Z", "111122223333")]  # fmt: skip
    (tmp_path / "calls.json").write_text("\n".join(RECORD % pair for pair in times) + "\n")
    report = audit_json(str(tmp_path / "calls.json"))
    where = f"{tmp_path / 'calls.json'}"
    assert report["out_of_order"] == {"calls": 2, "largest_seconds": 210.0, "first": f"{where}:4"}
    assert report["skipped_records"] == [
        f"2 calls were logged up to 4 min after calls that started later (the first, {where}:4): the replays take "
        "calls in the order logged, so these may have read entries written after they began; give the logs in time "
        "order."
    ]
    assert report["skipped_records_not_listed"] == 0
