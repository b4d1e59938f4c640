"""Why a call read, wrote or skipped the cache, in one line, from the emulator's record of it."""

from __future__ import annotations

import threading
from typing import Any

from .doctor import Diagnosis, Doctor
from .emulator import CallRecord, Emulator
from .emulator.records import BELOW_MINIMUM, NEW_PREFIX
from .recorder import CallRecorder, ObservedCall


def section_of(where: str) -> str:
    """A checkpoint's place, short: "system[1]" -> "system", "messages[2].content[1]" -> "messages[2]"."""
    return where.split(".")[0] if where.startswith("messages") else where.split("[")[0]


def describe(record: CallRecord) -> str:
    """One line: where the read hit, what was written, and the reason for each miss or skip."""
    points = record.checkpoints
    if not points:
        return "no cachePoint in the request"
    parts: list[str] = []
    reader = next((p for p in points if p.action in ("read", "read+write")), None)
    if reader is not None:
        distance = reader.read_distance
        parts.append(f"hit {distance} blocks back" if distance else f"hit at {section_of(reader.where)}")
    writes = [p for p in points if p.action in ("write", "read+write")]
    if writes:
        miss = writes[0].miss if reader is None else ""
        if miss and writes[0].detail and miss != NEW_PREFIX:
            miss = f"{miss} ({writes[0].detail})"
        parts.append(f"{miss + ', ' if miss else ''}wrote to {section_of(writes[-1].where)}")
    for point in points:
        if point.reason == BELOW_MINIMUM:
            parts.append(f"{section_of(point.where)} below minimum ({point.prefix_tokens:,} < {point.minimum:,})")
    return "; ".join(parts)


class EmulatorReasons:
    """The `explain` function of a UsageTracker, offline: matches each call to the emulator's record of it."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._claimed: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, agent: str, usage: dict[str, Any]) -> str:
        with self._lock:
            for record in reversed(self.emulator.records):
                if record.number not in self._claimed and record.usage == usage:
                    self._claimed.add(record.number)
                    return describe(record)
        return ""


class DoctorReasons:
    """The `explain` function of a UsageTracker, live: the cache doctor's diagnosis of each recorded call."""

    def __init__(self, recorder: CallRecorder, doctor: Doctor | None = None) -> None:
        self.recorder = recorder
        self.doctor = doctor or Doctor()
        self._seen = 0
        self._diagnosed: list[tuple[ObservedCall, Diagnosis]] = []
        self._lock = threading.Lock()

    def __call__(self, agent: str, usage: dict[str, Any]) -> str:
        with self._lock:
            for call in self.recorder.calls[self._seen :]:  # the doctor reads calls once each, in order
                self._diagnosed.append((call, self.doctor.observe(call)))
            self._seen = len(self.recorder.calls)
            for index in range(len(self._diagnosed) - 1, -1, -1):
                call, diagnosis = self._diagnosed[index]
                if call.agent == agent and call.usage == usage:
                    del self._diagnosed[index]
                    return diagnosis.message
        return ""
