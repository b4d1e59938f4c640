"""The traffic planner: what caching will cost for a workload, per approach and TTL, simulated on the cache rules."""

from .fast import simulate_fast, simulate_runs
from .simulate import PlanResult, Tally, oracle, simulate
from .workload import BUILTIN, Distribution, Workload, WorkloadError, load_workload

__all__ = [
    "BUILTIN",
    "Distribution",
    "PlanResult",
    "Tally",
    "Workload",
    "WorkloadError",
    "load_workload",
    "oracle",
    "simulate",
    "simulate_fast",
    "simulate_runs",
]
