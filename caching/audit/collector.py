"""Python's collector of garbage in cycles, paused while records are audited, and run in full once every
COLLECT_EVERY records instead.

The audit keeps a large heap that lives long (the requests the linearizer and the doctor remember, the live entries
of every replay) and almost never holds a cycle; each pass of the collector walks it again. Measured on one agent's
calls (`benchmarks/audit_scale.py --one-agent`), records 50,000 to 250,000: 18 to 21 s for each 50,000 with the
collector paused, 24 to 30 s with a collection every 100,000 new objects (as it ran before), and 20 to 26 s every
1,000,000; a full collection then found at most 20 objects in cycles. The full pass every COLLECT_EVERY records
(under two seconds on that heap) keeps any garbage a record could leave in cycles bounded.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

COLLECT_EVERY = 200_000  # records audited between two full collections while the collector is paused

_lock = threading.Lock()  # a Dask worker may run two tasks at once: the last to finish resumes the collector
_pausing = 0  # the audits running with the collector paused
_resume = False  # whether it ran before the first of them paused it
_records = 0  # records audited since the last full collection


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Pause the collector (see the module's words) while the block runs; `now_and_then` collects in full."""
    global _pausing, _resume
    with _lock:
        if _pausing == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _resume:
                gc.enable()


def now_and_then() -> None:
    """Told once a record: every COLLECT_EVERY records, while the collector is paused, a full collection."""
    global _records
    _records += 1
    if _records >= COLLECT_EVERY:
        _records = 0
        if not gc.isenabled():
            gc.collect()
