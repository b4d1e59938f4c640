"""The audit's bounds (issue 19, items 12 and 13): each reached one is named, and the rest of the input is audited."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from caching import limits
from caching.audit import audit
from caching.audit.sources import read, s3

from ..helpers import render_with
from .test_audit import FIXTURES, audit_json, cli, tokens

CONVERSE = (
    FIXTURES
    / "s3/AWSLogs/111122223333/BedrockModelInvocationLogs/us-east-1/2026/11/30/09/20261130T090000000Z_converse.json"
)
RECORDS = CONVERSE.read_text().splitlines(keepends=True)  # a write, then a read: (2, 1, 12, 2_500, 2_500, 200)


@pytest.mark.xdist_group("dask")
@pytest.mark.parametrize("on_dask", [False, True])
def test_skipped_records_past_the_limit_are_counted_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, on_dask: bool, request: pytest.FixtureRequest
) -> None:
    """On Dask too: the workers (which keep the default limit) count and word theirs, and the words of the first
    MOST_SKIPPED_LISTED in input order are kept where the command runs."""
    monkeypatch.setattr(limits, "MOST_SKIPPED_LISTED", 30)
    logs = tmp_path / "logs.json"
    logs.write_text(RECORDS[0] + "{damaged\n" * 100 + RECORDS[1])
    mode = ["--scheduler", request.getfixturevalue("dask_scheduler")] if on_dask else []
    report = audit_json(str(logs), *mode)
    assert tokens(report) == (2, 1, 12, 2_500, 2_500, 200)  # both records, around the damaged lines
    assert report["skipped_records"] == [f"{logs}:{line}: not valid JSON; skipped it." for line in range(2, 32)]
    assert report["skipped_records_not_listed"] == 70
    text = render_with(lambda console: cli(["audit", str(logs), *mode], console), width=300)
    assert (
        "... and 80 more skipped records (70 of them past the first 30 kept in words, "
        "CACHING_LIMIT_MOST_SKIPPED_LISTED)." in text
    )


@pytest.mark.parametrize(("junk", "shown"), [("\n", "blank"), ("junk, no record\n", "damaged")])
def test_a_long_run_of_lines_without_a_record_ends_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, junk: str, shown: str
) -> None:
    monkeypatch.setattr(limits, "MOST_LINES_WITHOUT_A_RECORD", 50)
    logs = tmp_path / "logs.json"
    logs.write_text(RECORDS[0] + junk * 49 + RECORDS[1] + junk * 60 + RECORDS[1])  # lines 1, 2-50, 51, 52-111, 112
    report = audit_json(str(logs))
    assert tokens(report) == (2, 1, 12, 2_500, 2_500, 200)  # 49 in a row is under the limit; 50 ends the file
    named = (
        f"{logs}: lines 52 to 101 hold no record (CACHING_LIMIT_MOST_LINES_WITHOUT_A_RECORD); skipped the rest of it."
    )
    assert report["skipped_records"][-1] == named
    damaged = [problem for problem in report["skipped_records"] if "not valid JSON" in problem]
    assert len(damaged) == (99 if shown == "damaged" else 0)  # each damaged line is named; a blank one is not


def test_a_json_document_over_its_limit_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "LARGEST_DOCUMENT", 1_000)
    logs = tmp_path / "events.json"
    events = [{"message": record.strip()} for record in RECORDS]
    logs.write_text(json.dumps({"events": events}, indent=2))  # one document over many lines
    assert len(logs.read_text()) > 1_000
    result = audit(read([str(logs)]))
    assert result.total.calls == 0
    assert result.problems == [
        f"{logs}: a JSON document over 1,000 characters (CACHING_LIMIT_LARGEST_DOCUMENT); skipped it."
    ]


class FakeS3:
    """Just enough of boto3's S3 client for `sources.s3`: one page of objects, each body a stream."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects

    def get_paginator(self, name: str) -> Any:
        keys = [{"Key": key} for key in self.objects]
        return type("Pages", (), {"paginate": lambda _, **__: [{"Contents": keys}]})()

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[Key])}


def test_an_s3_object_over_its_limit_is_audited_to_there_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = "".join(RECORDS).encode()
    monkeypatch.setattr(limits, "LARGEST_OBJECT", len(RECORDS[0].encode()) + 100)  # inside the second record
    items = list(s3("s3://logs/x", FakeS3({"x/a.json": whole, "x/b.json": RECORDS[1].encode()})))
    calls = [item for item in items if not isinstance(item, Exception) and hasattr(item, "usage")]
    problems = [str(item) for item in items if not hasattr(item, "usage")]
    assert len(calls) == 2  # the first record of a.json, and b.json's under its limit
    assert problems == [
        f"s3://logs/x/a.json: larger than {len(RECORDS[0].encode()) + 100:,} bytes (CACHING_LIMIT_LARGEST_OBJECT); "
        "audited the records before that point and skipped the rest."
    ]


def test_a_gzipped_s3_object_cut_at_its_limit_is_named_not_damaged(monkeypatch: pytest.MonkeyPatch) -> None:
    many = gzip.compress("".join(RECORDS * 200).encode(), compresslevel=1)
    monkeypatch.setattr(limits, "LARGEST_OBJECT", len(many) // 2)
    items = list(s3("s3://logs/x", FakeS3({"x/a.json.gz": many})))
    problems = [str(item) for item in items if not hasattr(item, "usage")]
    assert problems == [
        f"s3://logs/x/a.json.gz: larger than {len(many) // 2:,} bytes (CACHING_LIMIT_LARGEST_OBJECT); "
        "audited the records before that point and skipped the rest."
    ]
    assert 0 < len(items) - 1 < 400
