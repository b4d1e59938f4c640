"""Why a call read, wrote or skipped the cache, in one line, from the emulator's record of it."""

from __future__ import annotations

import threading
from typing import Any

from .emulator import CallRecord, Emulator
from .emulator.records import BELOW_MINIMUM, NEW_PREFIX


def describe(record: CallRecord) -> str:
    """One line: what was read and written where, and the reason for each miss or skip."""
    points = record.checkpoints
    if not points:
        return "no cachePoint in the request"
    parts: list[str] = []
    reader = next((p for p in points if p.action in ("read", "read+write")), None)
    if reader is not None:
        back = f", found {reader.read_distance} blocks back" if reader.read_distance else ""
        parts.append(f"read to {record.usage['cacheReadInputTokens']:,} tokens{back}")
    writes = [p for p in points if p.action in ("write", "read+write")]
    if writes:
        miss = writes[0].miss if reader is None else ""
        cause = f"{miss}" + (f" ({writes[0].detail})" if writes[0].detail and miss != NEW_PREFIX else "")
        parts.append((f"{cause}: " if cause else "") + f"wrote to {writes[-1].where}")
    for point in points:
        if point.reason == BELOW_MINIMUM:
            parts.append(f"{point.where} below minimum ({point.detail})")
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
