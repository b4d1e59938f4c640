"""A recording is private, never follows a link, and two recorders on one file keep every call (issue 19, item 5)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from caching import CallRecorder, Emulator
from caching.check.recording import read_recording
from caching.emulator import ManualClock
from caching.errors import RecordingError

from ..helpers import SONNET, user


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_recording_is_private(tmp_path: Path) -> None:
    CallRecorder(tmp_path / "calls.jsonl")
    assert mode(tmp_path / "calls.jsonl") == 0o600


def test_an_existing_readable_file_is_emptied_and_made_private(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text('{"an": "old line"}\n')
    path.chmod(0o644)
    CallRecorder(path)
    assert (mode(path), path.read_text()) == (0o600, "")


def test_a_symbolic_link_is_refused_and_what_it_points_at_is_untouched(tmp_path: Path) -> None:
    target, link = tmp_path / "notes.txt", tmp_path / "calls.jsonl"
    target.write_text("precious\n")
    target.chmod(0o644)
    link.symlink_to(target)
    message = (
        f"The recording {str(link)!r} is a symbolic link, and a recording never follows one: pass --record the path "
        "of a regular file."
    )
    with pytest.raises(RecordingError) as refused:
        CallRecorder(link)
    assert str(refused.value) == message
    assert (target.read_text(), mode(target)) == ("precious\n", 0o644)


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "calls.jsonl"
    os.mkfifo(fifo)  # with no reader: opening it to write would otherwise wait forever
    with pytest.raises(RecordingError) as refused:
        CallRecorder(fifo)
    assert str(refused.value) == (
        f"Cannot write the recording {str(fifo)!r} (No such device or address): pass --record a file path in a "
        "folder that exists."
    )


def test_two_recorders_on_one_file_keep_every_call_as_a_whole_line(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    emulator = Emulator(clock=ManualClock())
    first = emulator.session("AKIAFIRST").client("bedrock-runtime")
    second = emulator.session("AKIASECOND").client("bedrock-runtime")
    CallRecorder(path).attach(first, "first")
    for number in range(20):  # the first recorder's calls before the second recorder opens the file
        first.converse(modelId=SONNET, messages=[user(f"early {number}")])
    CallRecorder(path).attach(second, "second")  # another recorder of the same file: it must not empty it

    start = threading.Barrier(2)

    def send(client: object, name: str) -> None:
        start.wait()
        for number in range(60):
            client.converse(modelId=SONNET, messages=[user(f"{name} {number} " + "x" * 5_000)])  # type: ignore[attr-defined]

    threads = [threading.Thread(target=send, args=pair) for pair in ((first, "first"), (second, "second"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    calls, problems = read_recording(path)
    assert problems == []
    assert (sum(c.agent == "first" for c in calls), sum(c.agent == "second" for c in calls)) == (80, 60)
    texts = [c.request["messages"][0]["content"][0]["text"].split(" ")[:2] for c in calls]
    assert sorted(" ".join(t) for t in texts if t[0] == "second") == sorted(f"second {n}" for n in range(60))


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_a_device_is_written_as_it_is() -> None:
    before = mode(Path("/dev/null"))
    CallRecorder("/dev/null").close()
    assert mode(Path("/dev/null")) == before  # never made private: it is everyone's
