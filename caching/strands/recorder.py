"""Record every Converse call a client makes (request, usage, time) through botocore's event system.

Attach to a Strands Agent, a boto3 bedrock-runtime client or a boto3 Session in one line; nothing is patched:

    recorder = CallRecorder("calls.jsonl")
    recorder.attach(agent)          # then: python -m caching doctor calls.jsonl

A recording holds requests and usage, never credentials (botocore adds those later, when it signs).
"""

from __future__ import annotations

import copy
import errno
import fcntl
import io
import json
import os
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from botocore.response import StreamingBody

from ..call import Call
from ..errors import RecordingError, redact
from ..rules.api import API
from ..rules.messages import converse_usage
from ..rules.usage import Usage

OPERATIONS = ("Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream")

# The name of the Strands agent whose model call is being sent. UsageTracker sets it before each model call;
# Strands sends from a worker thread that inherits this context, so the recorder can label each request.
calling_agent: ContextVar[str | None] = ContextVar("calling_agent", default=None)


class _StreamTap:
    """Passes a ConverseStream's events through unchanged and hands the metadata usage to `done`."""

    def __init__(self, stream: Any, done: Callable[[dict[str, Any]], None]) -> None:
        self._stream, self._done = stream, done

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for event in self._stream:
            if "metadata" in event:
                self._done(event["metadata"].get("usage", {}))
            yield event

    def close(self) -> None:
        self._stream.close()


class _InvokeStreamTap(_StreamTap):
    """Passes an InvokeModelWithResponseStream's chunks through unchanged and hands the usage (from message_start
    and message_delta, in Converse's names) to `done` at message_stop."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        usage: dict[str, Any] = {}
        for event in self._stream:
            data = _chunk_json(event)
            if data.get("type") == "message_start":
                usage.update(data.get("message", {}).get("usage", {}))
            elif data.get("type") == "message_delta":
                usage.update(data.get("usage", {}))
            elif data.get("type") == "message_stop":
                self._done(converse_usage(usage))
            yield event


def _chunk_json(event: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(event.get("chunk", {}).get("bytes", b"{}"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class CallRecorder:
    """Keeps each observed call in `calls`, and appends it to a JSONL file if given.

    The file starts empty unless another recorder is writing it (then both append: each call is one whole line,
    written in one append), is private to its owner (0600: requests can hold private text), and is never a symbolic
    link, a FIFO or a socket (a device such as /dev/null is written as it is). `close()` (or the end of the recorder) lets it go.
    """

    def __init__(self, path: str | Path | None = None, clock: Callable[[], float] = time.time) -> None:
        self.calls: list[Call] = []
        self.path = Path(path) if path else None
        self.clock = clock
        self._pending = threading.local()
        self._lock = threading.Lock()
        self._fd: int | None = None
        if self.path:
            self._fd = _open_recording(self.path)
            self._closer = weakref.finalize(self, os.close, self._fd)

    def close(self) -> None:
        """Stop writing the file (calls are still kept in `calls`)."""
        with self._lock:
            if self._fd is not None:
                self._closer()
                self._fd = None

    def attach(self, target: Any, label: str | None = None) -> CallRecorder:
        """Observe a Strands Agent (its model's client), a bedrock-runtime client, or a boto3 Session."""
        if hasattr(target, "model") and hasattr(target.model, "client"):
            return self.attach(target.model.client, label or str(getattr(target, "name", None) or "agent"))
        events = target.meta.events if hasattr(target, "meta") else target.events
        name = label or "client"
        events.register(
            "before-parameter-build.bedrock-runtime", lambda params, model, **_: self._start(name, params, model)
        )
        events.register("after-call.bedrock-runtime", self._after_call)
        events.register("after-call-error.bedrock-runtime", self._after_error)
        return self

    def _start(self, label: str, params: dict[str, Any], model: Any) -> None:
        if model.name not in OPERATIONS:
            return
        api = API.of_operation(model.name)
        if api == API.INVOKE:
            try:
                request = json.loads(params.get("body") or b"{}")
            except ValueError:
                return  # not a JSON body: not a Messages request this recorder understands
            if not isinstance(request, dict) or "anthropic_version" not in request:
                return
        else:
            request = {k: copy.deepcopy(v) for k, v in params.items() if k != "modelId"}
        agent = calling_agent.get() or label
        self._pending.call = (agent, self.clock(), str(params.get("modelId", "")), request, api)

    def _take(self) -> tuple[str, float, str, dict[str, Any], API] | None:
        pending = getattr(self._pending, "call", None)
        self._pending.call = None
        return pending

    @staticmethod
    def _call(
        pending: tuple[str, float, str, dict[str, Any], API], usage: dict[str, Any] | None = None, error: str = ""
    ) -> Call:
        agent, at, model_id, request, api = pending
        return Call(agent, at, model_id, request, Usage.from_bedrock(usage or {}), error or None, api)

    def _after_call(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        pending = self._take() if model.name in OPERATIONS else None
        if pending is None:
            return
        if "Error" in parsed:  # an error answer (status >= 300) still arrives here, before botocore raises it
            self._finish(self._call(pending, error=redact(str(parsed["Error"].get("Message", parsed["Error"])))))
        elif model.name == "Converse":
            self._finish(self._call(pending, usage=dict(parsed.get("usage", {}))))
        elif model.name == "ConverseStream":
            parsed["stream"] = _StreamTap(
                parsed["stream"], lambda usage: self._finish(self._call(pending, usage=usage))
            )
        elif model.name == "InvokeModel":  # read the body for its usage, then hand the caller an unread copy
            raw = parsed["body"].read()
            parsed["body"] = StreamingBody(io.BytesIO(raw), len(raw))
            try:
                answer = json.loads(raw)
            except ValueError:
                answer = {}
            usage = answer.get("usage", {}) if isinstance(answer, dict) else {}
            self._finish(self._call(pending, usage=converse_usage(usage if isinstance(usage, dict) else {})))
        else:
            parsed["body"] = _InvokeStreamTap(
                parsed["body"], lambda usage: self._finish(self._call(pending, usage=usage))
            )

    def _after_error(self, exception: BaseException, **_: Any) -> None:
        pending = self._take()  # a call that never got an answer (a connection error, for example)
        if pending is not None:
            self._finish(self._call(pending, error=redact(str(exception))))

    def _finish(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            if self._fd is not None:
                try:
                    _append_line(self._fd, (call.to_json() + "\n").encode("utf-8"))
                except OSError as exc:  # a full disk, or a file-size limit (ulimit -f)
                    raise RecordingError(
                        f"Cannot write the recording {str(self.path)!r} ({exc.strerror}): free some space, or pass "
                        "--record a file on another disk."
                    ) from None


def _open_recording(path: Path) -> int:
    """The recording's file, opened to append: created private, or made private, and emptied unless another
    recorder holds it. Raises RecordingError (one sentence) for a path that cannot be, or must not be, written."""
    try:
        # O_NOFOLLOW: a symbolic link would send the calls (and the truncation) to whatever it points at.
        # O_NONBLOCK: a FIFO with no reader refuses at once instead of hanging; the file is checked just below.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RecordingError(
                f"The recording {str(path)!r} is a symbolic link, and a recording never follows one: pass --record "
                "the path of a regular file."
            ) from None
        raise RecordingError(
            f"Cannot write the recording {str(path)!r} ({exc.strerror}): pass --record a file path in a folder that "
            "exists."
        ) from None
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISCHR(kind):  # a device such as /dev/null: written as it is, never made private or emptied
            os.set_blocking(fd, True)
            return fd
        if not stat.S_ISREG(kind):
            raise RecordingError(
                f"The recording {str(path)!r} is not a regular file: pass --record the path of a file."
            )
        os.set_blocking(fd, True)
        os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise, and it is about to hold prompts
        # Every recorder of a file holds a shared lock on it; one that can take it alone is the only one, and empties
        # it. A second recorder on the same file appends to the first one's calls instead of cutting them off.
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.ftruncate(fd, 0)
        except BlockingIOError:
            pass
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError as exc:  # a file of another user's cannot be made private, for one
        os.close(fd)
        raise RecordingError(
            f"Cannot make the recording {str(path)!r} private ({exc.strerror}): pass --record a file of your own."
        ) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _append_line(fd: int, line: bytes) -> None:
    """One whole line at the end of the file, in one write (O_APPEND), so recorders never interleave inside a line."""
    written = os.write(fd, line)
    while written < len(line):  # only when the disk fills or a signal interrupts: finish the line rather than cut it
        written += os.write(fd, line[written:])
