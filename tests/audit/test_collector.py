"""The collector of garbage in cycles is paused while the audit runs, resumed after it (by the last of audits that
overlap, as tasks of a Dask worker may), and still run in full every COLLECT_EVERY records."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator

import pytest

from caching.audit import collector
from caching.audit.audit import Audit
from caching.check.recording import Problem


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()


def test_paused_inside_and_resumed_by_the_last_of_overlapping_audits() -> None:
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first() -> None:
        with collector.fewer_collections():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with collector.fewer_collections():
            second_in.set()
            first_out.wait(5)
            seen.append(gc.isenabled())  # the first audit is done, this one is not: still paused

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_a_collector_off_before_stays_off() -> None:
    gc.disable()
    with collector.fewer_collections():
        assert not gc.isenabled()
    assert not gc.isenabled()


class _Node:
    """An object that refers to itself: garbage in a cycle once dropped, freed only by the collector."""

    def __init__(self) -> None:
        self.me = self


def test_garbage_in_cycles_is_collected_every_so_many_records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "COLLECT_EVERY", 3)
    monkeypatch.setattr(collector, "_records", 0)
    audit = Audit()
    with collector.fewer_collections():
        node = _Node()
        alive = weakref.ref(node)
        del node
        for _ in range(2):
            audit.add(Problem("not a record"))
        assert alive() is not None  # paused: nothing collects it yet
        audit.add(Problem("not a record"))
        assert alive() is None  # the third record: a full collection
    assert audit.skipped == 3
