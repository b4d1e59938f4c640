"""Where invocation logs come from: files and folders, or S3 (through boto3), in each shape AWS delivers them.

- S3, as model invocation logging writes it: objects under `<prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/`,
  gzipped or not, one JSON record a line.
- CloudWatch Logs exported to S3 or a file: each line a timestamp, a space, then the record.
- `aws logs filter-log-events` output: one JSON document whose `events` each carry a record as `message`.
- This project's own `--record` files.
Files and objects are read in time order (see `log_files`), each line by line, within the limits of `caching.limits`
(a line's length, an object's size, a run of lines with no record), so memory and time stay bounded whatever the
input; each limit reached is reported.
"""

from __future__ import annotations

import functools
import gzip
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .. import limits
from ..check.recording import Problem
from ..errors import CachingError
from ..files import FileError, open_regular
from .logs import LoggedCall, parse

Item = LoggedCall | Problem
BODIES_APART = ('"inputBodyS3Path"', '"outputBodyS3Path"')  # a record with a body Bedrock stored as its own object
# The object Bedrock writes into the log prefix when logging to S3 is set up, to check that it may write there
# (empty; it stays after logging is switched off): not a log.
PERMISSION_CHECK = "amazon-bedrock-logs-permission-check"


class SourceError(CachingError):
    """A path or S3 location that cannot be read at all."""


class Capped(io.RawIOBase):
    """The first `limit` bytes of a stream (an S3 object's body), read as they are needed; `cut` says whether
    there was more."""

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream, self.left, self.cut = stream, limit, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            self.cut = self.cut or bool(self.stream.read(1))
            return 0
        data = self.stream.read(min(len(buffer), self.left))
        buffer[: len(data)] = data
        self.left -= len(data)
        return len(data)


def _lines(stream: IO[bytes], name: str) -> Iterator[tuple[str, str | Problem]]:
    """(where, text) for each line of a stream that may hold a record, gunzipped when it starts with gzip's magic
    bytes. Blank lines are passed over; a run of MOST_LINES_WITHOUT_A_RECORD lines with no record ends the file."""
    raw = getattr(stream, "raw", None)
    head = stream.peek(2)[:2] if hasattr(stream, "peek") else b""
    if head == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
    longest, most_empty = limits.LONGEST_LINE, limits.MOST_LINES_WITHOUT_A_RECORD
    with io.TextIOWrapper(stream, encoding="utf-8", errors="replace") as text:
        number = empty = 0
        while True:
            try:
                line = text.readline(longest + 1)
            except (OSError, EOFError) as exc:  # a damaged gzip stream, or one cut at LARGEST_OBJECT
                if not (isinstance(raw, Capped) and raw.cut):
                    yield name, Problem(f"{name}: cannot be read past line {number} ({exc}); skipped the rest.")
                return
            if not line:
                return
            number += 1
            if len(line) > longest:
                problem = Problem(
                    f"{name}: line {number} is longer than {longest:,} characters ({limits.named('LONGEST_LINE')}); "
                    "stopped."
                )
                yield f"{name}:{number}", problem
                return
            if isinstance(raw, Capped) and raw.cut and not line.endswith("\n"):
                return  # the piece of a line the limit cut off: the object is named as cut instead
            if "{" in line:
                empty = 0
                yield f"{name}:{number}", line
                continue
            if line.strip():
                yield f"{name}:{number}", line  # no record, but named as a damaged line
            empty += 1
            if empty >= most_empty:
                yield (
                    name,
                    Problem(
                        f"{name}: lines {number - empty + 1:,} to {number:,} hold no record "
                        f"({limits.named('MOST_LINES_WITHOUT_A_RECORD')}); skipped the rest of it."
                    ),
                )
                return


@dataclass(frozen=True)
class Line:
    """A record's line, read but not yet decoded: with --jobs, the process that audits the record decodes it."""

    where: str
    text: str


def records(
    stream: IO[bytes], name: str, fetch: Callable[[str], Any] | None = None, defer: bool = False
) -> Iterator[Item | Line]:
    """Every call in one file or object, whichever of the shapes above it has. With `defer`, a line holding one
    record is handed on as a `Line` (unless its body must be fetched from S3, which is done here)."""
    lines = _lines(stream, name)
    head = list(itertools.islice(lines, 2))  # enough to tell one JSON document over many lines from JSON lines
    if _opens_document(head):
        yield from _document(_joined(itertools.chain(head, lines), name), name, fetch)
        return
    for where, line in itertools.chain(head, lines):
        if isinstance(line, Problem):
            yield line
            continue
        text = _record_text(line)
        if defer and not any(marker in text for marker in BODIES_APART):
            yield Line(where, text)
        else:
            yield from decode(Line(where, text), fetch)


def _joined(lines: Iterator[tuple[str, str | Problem]], name: str) -> str | Problem:
    """The lines of one JSON document as one text, or the Problem that ends it (too long, or unreadable). The lines
    are joined a thousand at a time: kept apart, millions of short lines would take several times their text."""
    chunks: list[str] = []
    pieces: list[str] = []
    size = 0
    for _, piece in lines:
        if isinstance(piece, Problem):
            return piece
        size += len(piece)
        if size > limits.LARGEST_DOCUMENT:
            return Problem(
                f"{name}: a JSON document over {limits.LARGEST_DOCUMENT:,} characters "
                f"({limits.named('LARGEST_DOCUMENT')}); skipped it."
            )
        pieces.append(piece)
        if len(pieces) == 1_000:
            chunks.append("".join(pieces))
            pieces.clear()
    return "".join([*chunks, *pieces])


def _record_text(line: str) -> str:
    """A line without its surrounding blanks and, in a CloudWatch export ("<timestamp> <record>"), the timestamp."""
    text = line.strip()
    return text[text.index(" {") + 1 :] if not text.startswith("{") and " {" in text else text


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _opens_document(head: list[tuple[str, str | Problem]]) -> bool:
    """A first line that opens a JSON object without being one, and a second line that is no record either (or
    none): a document over many lines. A damaged first line followed by records is only a damaged line."""
    texts = [_record_text(piece) for _, piece in head if isinstance(piece, str)]
    if len(texts) != len(head) or not texts or not texts[0].startswith("{") or _parses(texts[0]):
        return False
    return len(texts) == 1 or not _parses(texts[1])


def decode(line: Line, fetch: Callable[[str], Any] | None = None) -> Iterator[Item]:
    """The calls in one line: a record, or `aws logs filter-log-events` output on one line."""
    try:
        data = json.loads(line.text)
    except (ValueError, RecursionError):
        yield Problem(f"{line.where}: not valid JSON; skipped it.")
        return
    if isinstance(data, dict) and isinstance(data.get("events"), list):
        yield from _events(data["events"], line.where.rpartition(":")[0], fetch)
    else:
        yield parse(data, line.where, fetch)


def _document(text: str | Problem, name: str, fetch: Callable[[str], Any] | None) -> Iterator[Item]:
    if isinstance(text, Problem):
        yield text
        return
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        yield Problem(f"{name}: not valid JSON ({str(exc)[:60]}); skipped it.")
        return
    if isinstance(data, dict) and isinstance(data.get("events"), list):
        yield from _events(data["events"], name, fetch)
    elif isinstance(data, list):
        for index, record in enumerate(data):
            yield parse(record, f"{name}[{index}]", fetch)
    else:
        yield parse(data, name, fetch)


def _events(events: list[Any], name: str, fetch: Callable[[str], Any] | None) -> Iterator[Item]:
    for index, event in enumerate(events):
        message = event.get("message") if isinstance(event, dict) else None
        try:
            record = json.loads(message) if isinstance(message, str) else None
        except (ValueError, RecursionError):
            record = None
        if record is None:
            yield Problem(f"{name}: event {index} has no JSON message; skipped it.")
        else:
            yield parse(record, f"{name}: event {index}", fetch)


def _body(raw: bytes) -> Any:
    """A body stored apart, from its bytes (gzipped or not); None when it is not JSON or over LARGEST_BODY."""
    try:
        if raw[:2] == b"\x1f\x8b":  # read no more than the limit, however far it would expand
            raw = gzip.GzipFile(fileobj=io.BytesIO(raw)).read(limits.LARGEST_BODY + 1)
        return json.loads(raw) if len(raw) <= limits.LARGEST_BODY else None
    except (ValueError, OSError, EOFError, RecursionError):
        return None  # counted as unparsed, never guessed


def _not_a_log(name: str) -> Problem | None:
    """Why an object or file is no log at all, for the one kind Bedrock itself puts among the logs."""
    if name.rpartition("/")[2].startswith(PERMISSION_CHECK):
        return Problem(
            f"{name}: Bedrock's permission check, written when logging to this prefix was set up; not a log, skipped."
        )
    return None


def _local_fetch(file: Path, root: Path) -> Callable[[str], Any]:
    """Reads a body stored apart from a downloaded copy of the log tree: where the S3 key puts it under the folder
    that holds `AWSLogs/`, or in the `data/` folder beside its record. Nothing outside `root` is read."""
    top = root.resolve()

    def fetch(path: str) -> Any:
        key = path.removeprefix("s3://").partition("/")[2]
        candidates = [file.parent / "data" / key.rpartition("/data/")[2]] if "/data/" in key else []
        if "AWSLogs/" in key and "AWSLogs" in file.parts:
            base = Path(*file.parts[: file.parts.index("AWSLogs")])
            candidates.insert(0, base / key[key.index("AWSLogs/") :])
        for candidate in candidates:
            try:
                found = candidate.resolve()
                if found.is_relative_to(top) and found.is_file():
                    with open_regular(found, "a logged body") as stream:
                        return _body(stream.read(limits.LARGEST_BODY + 1))
            except (OSError, ValueError, FileError):
                continue
        return None

    return fetch


# Where AWS puts a log object: .../BedrockModelInvocationLogs/<region>/<yyyy>/<mm>/<dd>/<hh>/<file>, the file named
# after the time it was written (20261130T090000000Z_...).
HOURLY = re.compile(r"/BedrockModelInvocationLogs/[^/]+/(\d{4}/\d{2}/\d{2}/\d{2})/([^/]+)$")


@dataclass(frozen=True)
class LogFile:
    """One log file or S3 object (`name`: a path, or s3://bucket/key) and, for a file, the folder it was found under
    (bodies stored apart are looked for there, never outside it)."""

    name: str
    root: str = ""
    given: int = 0  # which of the paths the audit was given it comes from

    @property
    def s3(self) -> tuple[str, str] | None:
        """The bucket and key of an S3 object; None for a file."""
        if not self.name.startswith("s3://"):
            return None
        bucket, _, key = self.name.removeprefix("s3://").partition("/")
        return bucket, key


def log_files(paths: list[str], s3_client: Callable[[], Any] | None = None) -> list[LogFile | Problem]:
    """Every log file and S3 object under `paths`, in time order: the replays and the doctor follow the cache through
    time, and a call read after a later one would find entries that did not exist yet. Files where AWS puts them
    (see HOURLY) go by their hour and name, whatever their region, account or path; other files come first, in the
    order given (a folder's in name order). At most MOST_LOG_FILES are listed."""
    found: list[tuple[tuple[Any, ...], LogFile | Problem]] = []
    for index, path in enumerate(paths):
        if path.startswith("s3://"):
            if s3_client is None:
                raise SourceError("No S3 client is available to read s3:// paths.")
            listed = _s3_listing(path, s3_client(), index)
        else:
            listed = _local_listing(Path(path), index)
        for name, item in listed:
            if len(found) == limits.MOST_LOG_FILES:
                item = Problem(
                    f"{path}: more than {limits.MOST_LOG_FILES:,} log files and objects "
                    f"({limits.named('MOST_LOG_FILES')}); audited those listed first, skipped the rest."
                )
                found.append(((2, index), item))  # after every file audited
                break
            hourly = HOURLY.search(name)
            found.append(((1, *hourly.groups(), name) if hourly else (0, index, name), item))
    found.sort(key=lambda pair: pair[0])
    return [item for _, item in found]


def _local_listing(path: Path, given: int) -> Iterator[tuple[str, LogFile | Problem]]:
    """A file, or every file under a folder (bodies stored apart, in data/ folders, are read only when a record
    points at them)."""
    if not path.exists():
        raise SourceError(f"Cannot read {str(path)!r}: no such file or folder; check the path.")
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and "data" not in p.relative_to(path).parts[:-1])
    else:
        files = [path]
    root = str(path if path.is_dir() else path.parent)
    for file in files:
        yield file.as_posix(), _not_a_log(str(file)) or LogFile(str(file), root, given)


def _s3_listing(url: str, client: Any, given: int) -> Iterator[tuple[str, LogFile | Problem]]:
    """Every object under s3://bucket/prefix (bodies stored apart are left for `fetch`)."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not bucket:
        raise SourceError(f"{url!r} names no bucket: use s3://bucket/prefix.")
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"]
                if "/data/" in key:  # bodies stored apart: read through `fetch` when a record points at them
                    continue
                name = f"s3://{bucket}/{key}"
                yield name, _not_a_log(name) or LogFile(name, given=given)
    except ClientError as exc:
        code = exc.response["Error"].get("Code", "")
        raise SourceError(f"Cannot list {url!r} ({code}): check the bucket name and your permissions.") from None
    except BotoCoreError as exc:
        raise SourceError(f"Cannot reach S3 for {url!r} ({exc}): check your network and credentials.") from None


LOGS = "invocation logs"  # what a local file should hold, for the sentence that refuses a FIFO or a device


def refuse_special(log: LogFile) -> None:
    """The FileError that reading a local file raises when it is not a regular file (a FIFO, a device); nothing
    else is read, and a file that cannot be opened is left for the read to name."""
    with suppress(OSError), open_regular(log.name, LOGS):
        pass


def local_file(log: LogFile, defer: bool = False) -> Iterator[Item | Line]:
    """Every call in one local log file."""
    file = Path(log.name)
    try:
        with open_regular(file, LOGS) as stream:  # a FIFO or a device is refused, not waited on
            yield from records(stream, log.name, _local_fetch(file, Path(log.root)), defer)
    except OSError as exc:
        yield Problem(f"{log.name}: cannot be read ({exc.strerror}); skipped it.")


def s3_object(bucket: str, key: str, client: Any, defer: bool = False) -> Iterator[Item | Line]:
    """Every call in one S3 object, through a boto3 S3 client (here or on a Dask worker); large bodies are fetched
    from S3 too. An object that cannot be read, or sends nothing before the client's read deadline, is a Problem."""
    from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

    def fetch(path: str) -> Any:
        where, _, name = path.removeprefix("s3://").partition("/")
        try:
            return _body(client.get_object(Bucket=where, Key=name)["Body"].read(limits.LARGEST_BODY + 1))
        except (BotoCoreError, ClientError, ValueError, OSError):
            return None  # counted as unparsed, never guessed

    name, started = f"s3://{bucket}/{key}", False
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        started = True
        yield from _object(body, name, fetch, defer)
    except ClientError as exc:
        yield Problem(f"{name}: cannot be read ({exc.response['Error'].get('Code')}); skipped it.")
    except (ReadTimeoutError, ConnectTimeoutError):
        deadline, rest = client.meta.config.read_timeout, "the rest" if started else "it"
        yield Problem(f"{name}: S3 sent nothing for {deadline:g} s (the read deadline); skipped {rest}.")
    except BotoCoreError as exc:
        yield Problem(f"{name}: cannot be read ({exc}); skipped {'the rest' if started else 'it'}.")


def s3(url: str, client: Any, defer: bool = False) -> Iterator[Item | Line]:
    """Every object under s3://bucket/prefix, in time order, through a boto3 S3 client; large bodies are fetched from
    S3 too."""
    return read([url], lambda: client, defer)


def _object(body: Any, name: str, fetch: Callable[[str], Any], defer: bool) -> Iterator[Item | Line]:
    """The calls of one S3 object, read as a stream up to LARGEST_OBJECT bytes; a larger one is named."""
    capped = Capped(body, limits.LARGEST_OBJECT)
    yield from records(io.BufferedReader(capped), name, fetch, defer)
    if capped.cut:
        yield Problem(
            f"{name}: larger than {limits.LARGEST_OBJECT:,} bytes ({limits.named('LARGEST_OBJECT')}); audited the "
            "records before that point and skipped the rest."
        )


def read(paths: list[str], s3_client: Callable[[], Any] | None = None, defer: bool = False) -> Iterator[Item | Line]:
    """Every call in every path (files, folders, s3:// locations), file by file in time order (see `log_files`); with
    `defer`, most as `Line`s for the process that audits them to decode."""
    shared = functools.cache(s3_client) if s3_client else None  # one client lists and reads
    for found in log_files(paths, shared):
        if isinstance(found, Problem):
            yield found
        elif found.s3 is None:
            yield from local_file(found, defer)
        elif shared is not None:  # always: log_files lists no S3 object without a client
            yield from s3_object(*found.s3, shared(), defer)
