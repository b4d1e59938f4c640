"""Prompt caching with Strands Agents on AWS Bedrock: approaches, exact usage, pricing, reports and the doctor.

Everything runs offline on `caching.emulator` by default; `connect(settings)` with `--live` goes to real Bedrock.
Names load on first use, so `import caching.rules` or `caching.planner` does not pull in Strands or boto3.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module that defines it
_HOMES = {
    "APPROACHES": "strands.approaches",
    "ApproachSetup": "strands.approaches",
    "setup": "strands.approaches",
    "Backend": "backend",
    "connect": "backend",
    "cache_point": "strands.cachepoints",
    "cached_system_prompt": "strands.cachepoints",
    "validate_layout": "strands.cachepoints",
    "Doctor": "check.doctor",
    "Emulator": "emulator",
    "CachingError": "errors",
    "LayoutError": "errors",
    "PricingError": "errors",
    "UsageError": "errors",
    "LayoutPoint": "check.layout",
    "request_layout": "check.layout",
    "Cost": "pricing",
    "cost_of": "pricing",
    "prices_for": "pricing",
    "CallRecorder": "strands.recorder",
    "Call": "call",
    "read_recording": "check.recording",
    "Diagnosis": "rules",
    "ManualClock": "rules",
    "cache_keys": "rules",
    "Settings": "settings",
    "Team": "lab.team",
    "build_team": "lab.team",
    "prompt": "lab.team",
    "RollingCheckpoints": "strands.strategies",
    "CallUsage": "strands.tracking",
    "Turn": "strands.tracking",
    "UsageTracker": "strands.tracking",
    "Usage": "usage",
}

__all__ = [
    "APPROACHES",
    "ApproachSetup",
    "Backend",
    "CachingError",
    "Call",
    "CallRecorder",
    "CallUsage",
    "Cost",
    "Diagnosis",
    "Doctor",
    "Emulator",
    "ManualClock",
    "RollingCheckpoints",
    "Settings",
    "Turn",
    "Usage",
    "UsageTracker",
    "build_team",
    "cache_keys",
    "cache_point",
    "cached_system_prompt",
    "connect",
    "cost_of",
    "prices_for",
    "prompt",
    "read_recording",
    "request_layout",
    "setup",
    "validate_layout",
]


if TYPE_CHECKING:
    from .backend import Backend, connect
    from .call import Call
    from .check.doctor import Doctor
    from .check.layout import request_layout
    from .check.recording import read_recording
    from .emulator import Emulator
    from .errors import CachingError
    from .lab.team import build_team, prompt
    from .pricing import Cost, cost_of, prices_for
    from .rules import Diagnosis, ManualClock, cache_keys
    from .settings import Settings
    from .strands.approaches import APPROACHES, ApproachSetup, setup
    from .strands.cachepoints import cache_point, cached_system_prompt, validate_layout
    from .strands.recorder import CallRecorder
    from .strands.strategies import RollingCheckpoints
    from .strands.tracking import CallUsage, Turn, UsageTracker
    from .usage import Usage


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'caching' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
