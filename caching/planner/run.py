"""Run a plan: every approach and TTL of a workload, on both cores when it is big, with a progress bar."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .report import plan_report
from .simulate import PlanResult, Tally, oracle, simulate
from .sweep import one_hour_break_even
from .workload import Workload

PARALLEL_FROM_CALLS = 200_000  # below this, starting worker processes costs more than it saves
ORACLE = "oracle"


def runs(workload: Workload) -> list[tuple[str, str]]:
    """(approach, ttl) pairs to simulate; 'none' once, since it writes nothing and its TTL does not matter."""
    return [(a, t) for a in workload.approaches for t in (workload.ttls[:1] if a == "none" else workload.ttls)]


def _job(args: tuple[Workload, str, str]) -> PlanResult | Tally:
    workload, approach, ttl = args
    return oracle(workload) if approach == ORACLE else simulate(workload, approach, ttl)


def run_plan(workload: Workload, console: Console, jobs: int | None = None) -> list[PlanResult]:
    """Simulate every run of the workload, and the oracle once; big workloads use a process per core."""
    pairs = [(ORACLE, ""), *runs(workload)]
    jobs = jobs or os.cpu_count() or 1
    columns = (TextColumn("Simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("calls"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("plan", total=workload.calls * len(pairs))
        if jobs > 1 and workload.calls * len(pairs) >= PARALLEL_FROM_CALLS:
            outcomes: list[PlanResult | Tally] = []
            with ProcessPoolExecutor(max_workers=min(jobs, len(pairs))) as pool:
                for outcome in pool.map(_job, [(workload, a, t) for a, t in pairs]):
                    progress.advance(task, workload.calls)
                    outcomes.append(outcome)
        else:
            step = lambda n: progress.advance(task, n)  # noqa: E731
            outcomes = [oracle(workload, step), *(simulate(workload, a, t, step) for a, t in pairs[1:])]
    best, *results = outcomes
    assert isinstance(best, Tally)
    plans = [result for result in results if isinstance(result, PlanResult)]
    for result in plans:
        result.oracle = best
    return plans


def plan(workload: Workload, console: Console, jobs: int | None = None) -> int:
    """Print the plan for a workload: the table, the chart and the break-even points."""
    results = run_plan(workload, console, jobs)
    caching = [a for a in workload.approaches if a != "none"]
    break_even = None
    if caching and {"5m", "1h"} <= set(workload.ttls):
        approach = "combined" if "combined" in caching else caching[0]
        break_even = (approach, one_hour_break_even(workload, approach)[0])
    console.print(plan_report(results, break_even))
    return 0
