"""Run a plan: every approach and TTL of a workload, on both cores when it is big, with a progress bar."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import queue
from concurrent.futures import ProcessPoolExecutor
from queue import Queue

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .fast import simulate_fast
from .report import plan_json, plan_report
from .simulate import PlanResult, Tally, oracle
from .sweep import one_hour_break_even
from .workload import Workload

PARALLEL_FROM_CALLS = 200_000  # below this, starting worker processes costs more than it saves
ORACLE = "oracle"


def runs(workload: Workload) -> list[tuple[str, str]]:
    """(approach, ttl) pairs to simulate; 'none' and 'shape' once: one writes nothing, the other picks its TTLs."""
    return [
        (a, t) for a in workload.approaches for t in (workload.ttls[:1] if a in ("none", "shape") else workload.ttls)
    ]


_progress: Queue[int] | None = None  # in a worker process: where it reports the calls it has simulated


def _start_worker(progress: Queue[int]) -> None:
    global _progress
    _progress = progress


def _job(args: tuple[Workload, str, str]) -> PlanResult | Tally:
    workload, approach, ttl = args
    report = _progress.put if _progress is not None else None
    return oracle(workload, report) if approach == ORACLE else simulate_fast(workload, approach, ttl, report)


def run_plan(workload: Workload, console: Console, jobs: int | None = None) -> list[PlanResult]:
    """Simulate every run of the workload, and the oracle once; big workloads use a process per core."""
    pairs = [(ORACLE, ""), *runs(workload)]
    jobs = jobs or os.cpu_count() or 1
    columns = (TextColumn("Simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("calls"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("plan", total=workload.calls * len(pairs))
        if jobs > 1 and workload.calls * len(pairs) >= PARALLEL_FROM_CALLS:
            with multiprocessing.Manager() as manager:
                done: Queue[int] = manager.Queue()
                with ProcessPoolExecutor(min(jobs, len(pairs)), initializer=_start_worker, initargs=(done,)) as pool:
                    futures = [pool.submit(_job, (workload, a, t)) for a, t in pairs]
                    while not all(future.done() for future in futures):
                        with contextlib.suppress(queue.Empty):
                            progress.advance(task, done.get(timeout=0.2))
                    outcomes: list[PlanResult | Tally] = [future.result() for future in futures]
        else:
            step = lambda n: progress.advance(task, n)  # noqa: E731
            outcomes = [oracle(workload, step), *(simulate_fast(workload, a, t, step) for a, t in pairs[1:])]
    best, *results = outcomes
    assert isinstance(best, Tally)
    plans = [result for result in results if isinstance(result, PlanResult)]
    for result in plans:
        result.oracle = best
    return plans


def plan(workload: Workload, console: Console, jobs: int | None = None, as_json: bool = False) -> int:
    """Print the plan for a workload: the table, the chart and the break-even points (or all of it as JSON)."""
    results = run_plan(workload, console, jobs)
    caching = [a for a in workload.approaches if a != "none"]
    break_even = None
    if caching and {"5m", "1h"} <= set(workload.ttls) and workload.turns_per_session > 1:
        approach = "combined" if "combined" in caching else caching[0]
        break_even = (approach, one_hour_break_even(workload, approach))
    if as_json:
        console.print(
            json.dumps(plan_json(results, break_even), indent=2), markup=False, highlight=False, soft_wrap=True
        )
    else:
        console.print(plan_report(results, break_even))
    return 0
