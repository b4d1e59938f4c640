"""How fast the traffic planner simulates, and that its cost grows linearly with traffic.

Run:  .venv/bin/python benchmarks/plan_scale.py            (10k, 100k and 1M calls; about half a minute)
      .venv/bin/python benchmarks/plan_scale.py --quick    (10k and 100k)
      .venv/bin/python benchmarks/plan_scale.py --ratio-at 1000000   (and the ratio at 1M calls: about five minutes)
Target (issue 6): 1,000,000 simulated calls in under 60 s on this project's 2-core machines. One simulation of an
approach and TTL runs on one core while the oracle (the best possible cost) runs on the other, as `plan` does.
Then the planner's fast core against the general simulation on the rules engine (issue 14), as a ratio in one run,
at 100k calls unless --ratio-at says otherwise.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

from caching.commands.flags import between
from caching.lab.terminal import HelpFormatter
from caching.planner import BUILTIN, PlanResult, Tally, Workload, oracle, simulate, simulate_fast, simulate_runs
from caching.planner.run import runs

# 200-users traffic scaled by the number of users: 60 calls per user (5 sessions x 6 turns x 2 calls).
BASE = BUILTIN["200-users"]


def timed(job: tuple[str, Workload]) -> tuple[float, PlanResult | Tally]:
    kind, workload = job
    started = time.perf_counter()
    outcome = oracle(workload) if kind == "oracle" else simulate_fast(workload, "combined", "5m")
    return time.perf_counter() - started, outcome


def main(argv: list[str]) -> int:
    flags = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    flags.add_argument("--quick", action="store_true", help="10k and 100k calls only")
    flags.add_argument(
        "--ratio-at", type=between(1, 10_000_000), default=100_000, metavar="CALLS", help="calls for the ratio"
    )
    args = flags.parse_args(argv)
    sizes = (10_000, 100_000) if args.quick else (10_000, 100_000, 1_000_000)
    per_user = BASE.sessions_per_user * BASE.turns_per_session * BASE.calls_per_turn
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; workload {BASE.name} scaled by users; combined 5m")
    print(f"{'calls':>10} {'wall s':>7} {'calls/s':>9} {'sim s':>6} {'oracle s':>8} {'cost':>12} {'per 1k calls':>13}")
    with ProcessPoolExecutor(max_workers=2) as pool:
        for calls in sizes:
            workload = replace(BASE, users=calls // per_user)
            started = time.perf_counter()
            (sim_s, result), (oracle_s, _) = pool.map(timed, [("simulate", workload), ("oracle", workload)])
            wall = time.perf_counter() - started
            assert isinstance(result, PlanResult)
            n, cost = result.tally.calls, result.cost.total
            print(
                f"{n:>10,} {wall:>7.1f} {n / wall:>9,.0f} {sim_s:>6.1f} {oracle_s:>8.1f} ${cost:>11,.2f} ${cost / n * 1000:>12.4f}"
            )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kilobytes on Linux
    print(f"peak memory of a worker process: {peak:,.0f} MB")
    ratio(replace(BASE, users=max(1, args.ratio_at // per_user)))
    return 0


def ratio(workload: Workload) -> None:
    """The plan on the fast core against the plan on the general simulation (the rules engine, one run after another),
    timed one after the other in this process: every approach and TTL, then the whole plan with the oracle."""
    pairs = runs(workload)
    started = time.perf_counter()
    references = [simulate(workload, approach, ttl) for approach, ttl in pairs]
    general = time.perf_counter() - started
    started = time.perf_counter()
    results = simulate_runs(workload, pairs)
    fast = time.perf_counter() - started
    assert [r.tally for r in results] == [r.tally for r in references]
    started = time.perf_counter()
    oracle(workload)
    best = time.perf_counter() - started
    print(
        f"{workload.calls:,} calls, {len(pairs)} runs: general {general:.1f} s, fast {fast:.1f} s (one pass), "
        f"{general / fast:.1f}x;\nthe whole plan with the oracle ({best:.1f} s): {general + best:.1f} s against "
        f"{fast + best:.1f} s, {(general + best) / (fast + best):.1f}x"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
