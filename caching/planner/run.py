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
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text

from ..errors import CachingError
from ..files import write_page
from ..rules.approaches import DEFAULT as DEFAULT_APPROACH
from ..rules.approaches import approach as find_approach
from ..tables import plain
from .fast import simulate_runs
from .html import plan_html
from .report import plan_json, plan_report, range_json, range_report, sweep_chart, sweep_json
from .simulate import PlanResult, Tally, oracle
from .sweep import BreakEven, one_hour_break_even, sweep
from .uncertain import Scenario, cost_range
from .workload import Workload

PARALLEL_FROM_CALLS = 200_000  # below this, starting worker processes costs more than it saves
ORACLE_RUNS = 4  # the oracle takes about as long as this many runs (benchmarks/plan_scale.py)


def runs(workload: Workload) -> list[tuple[str, str]]:
    """(approach, ttl) pairs to simulate; an approach that picks its own TTLs (or places no points) once."""
    return [(name, ttl) for name in workload.approaches for ttl in find_approach(name).ttls(workload.ttls)]


_progress: Queue[int] | None = None  # in a worker process: where it reports the calls it has simulated


def _start_worker(progress: Queue[int]) -> None:
    global _progress
    _progress = progress


def _job(args: tuple[Workload, list[tuple[str, str]], bool, bool]) -> tuple[Tally | None, list[PlanResult]]:
    workload, pairs, with_oracle, timeline = args
    report = _progress.put if _progress is not None else None
    return (oracle(workload, report) if with_oracle else None), simulate_runs(workload, pairs, report, timeline)


def shares(pairs: list[tuple[str, str]], jobs: int) -> list[list[tuple[str, str]]]:
    """The runs split among `jobs` processes, the first of which also computes the oracle (which takes about as long
    as ORACLE_RUNS runs), so that each process has about as much to do."""
    parts: list[list[tuple[str, str]]] = [[] for _ in range(jobs)]
    loads = [ORACLE_RUNS] + [0] * (jobs - 1)
    for pair in pairs:
        lightest = loads.index(min(loads))
        parts[lightest].append(pair)
        loads[lightest] += 1
    return parts


class RunsColumn(ProgressColumn):
    """Runs done of all runs, each a pass over the workload's calls: the bar moves call by call (smooth on a big
    workload), but a user counts the runs they asked for, so it shows runs, not the calls of every run added up."""

    def __init__(self, runs: int, calls: int) -> None:
        super().__init__()
        self.runs, self.calls = runs, calls

    def render(self, task: Task) -> Text:
        done = min(int(task.completed) // self.calls, self.runs)
        return Text(f"{done}/{self.runs} runs of {self.calls:,} calls")


def run_plan(workload: Workload, console: Console, jobs: int | None = None, timeline: bool = False) -> list[PlanResult]:
    """Simulate every run of the workload, and the oracle once; big workloads use a process per core, each taking a
    share of the runs (simulated in one pass over the traffic), the first also the oracle."""
    pairs = runs(workload)
    jobs = jobs or os.cpu_count() or 1
    # every (approach, TTL) pair is a run, and so is the oracle (the best possible cost): each simulates every call
    count = len(pairs) + 1
    columns = (TextColumn("Simulating"), BarColumn(20), RunsColumn(count, workload.calls), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("plan", total=workload.calls * count)
        if jobs > 1 and workload.calls * count >= PARALLEL_FROM_CALLS:
            parts = shares(pairs, jobs)
            with multiprocessing.Manager() as manager:
                done: Queue[int] = manager.Queue()
                with ProcessPoolExecutor(len(parts), initializer=_start_worker, initargs=(done,)) as pool:
                    futures = [pool.submit(_job, (workload, part, i == 0, timeline)) for i, part in enumerate(parts)]
                    while not all(future.done() for future in futures):
                        with contextlib.suppress(queue.Empty):
                            progress.advance(task, done.get(timeout=0.2))
                    outcomes = [future.result() for future in futures]
            best = outcomes[0][0]
            by_pair = {(r.approach, r.ttl): r for _, results in outcomes for r in results}
            results = [by_pair[pair] for pair in pairs]
        else:
            step = lambda n: progress.advance(task, n)  # noqa: E731
            best, results = oracle(workload, step), simulate_runs(workload, pairs, step, timeline)
    assert isinstance(best, Tally)
    for result in results:
        result.oracle = best
    return results


def plan(
    workload: Workload,
    console: Console,
    jobs: int | None = None,
    as_json: bool = False,
    over: str | None = None,
    html: str | None = None,
    spread: list[Scenario] | None = None,
) -> int:
    """Print the plan for a workload: the table, the chart and the break-even points (or all of it as JSON); or, with
    `over` ("pauses" or "users"), a sweep of the cost at each pause length or number of users. With `html`, also
    write the plan as a page to that file. With `spread`, also each run's cost under those scenarios (a range)."""
    # The sweep and the break-even set 5m against 1h: only an approach that takes the asked TTL can tell them apart.
    caching = [a for a in workload.approaches if not find_approach(a).picks_own_ttl]
    approach = DEFAULT_APPROACH if DEFAULT_APPROACH in caching else caching[0] if caching else "none"
    if over is not None and html is not None:
        raise CachingError(
            "--sweep prints a chart instead of the plan, and --html writes the plan: run them one at a time."
        )
    if over is not None:
        with console.status(f"Sweeping {over}...") if console.is_terminal else contextlib.nullcontext():
            result = sweep(workload, approach, over)
        if as_json:
            console.print(json.dumps(sweep_json(result), indent=2), markup=False, highlight=False, soft_wrap=True)
        else:
            console.print(sweep_chart(result, console.width))
        return 0
    results = run_plan(workload, console, jobs, timeline=html is not None)
    both_ttls = caching and {"5m", "1h"} <= set(workload.ttls) and workload.turns_per_session > 1
    # The page charts the whole pause sweep, and the break-even is read from it; else the search stops at it.
    pauses = sweep(workload, approach, "pauses") if html is not None and both_ttls else None
    break_even: BreakEven | None = None
    if both_ttls:
        break_even = pauses.break_even() if pauses is not None else one_hour_break_even(workload, approach)
    found = None
    if spread is not None:
        with (
            console.status("Running the plan under a less tidy Bedrock...")
            if console.is_terminal
            else contextlib.nullcontext()
        ):
            found = cost_range(workload, results, spread)
    if as_json:
        out = plan_json(results, break_even) | ({"range": range_json(found)} if found is not None else {})
        console.print(json.dumps(out, indent=2), markup=False, highlight=False, soft_wrap=True)
    else:
        console.print(plan_report(results, break_even))
        if found is not None:
            console.print(range_report(found))
    if html is not None:
        page = plan_html(results, pauses)
        write_page(html, page, "plan")
        if not as_json:
            console.print(plain(f"Wrote the plan as a page to {html} ({len(page.encode()):,} bytes)."))
    return 0
