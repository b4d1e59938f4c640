"""Prompt caching with Strands Agents on AWS Bedrock: approaches, exact usage, pricing, reports and the doctor.

Everything runs offline on `caching.emulator` by default; `connect(settings)` with `--live` goes to real Bedrock.
Names load on first use, so `import caching.rules` or `caching.planner` does not pull in Strands or boto3.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> the module that defines it
_HOMES = {
    "APPROACHES": "approaches",
    "ApproachSetup": "approaches",
    "setup": "approaches",
    "Backend": "backend",
    "connect": "backend",
    "cache_point": "cachepoints",
    "cached_system_prompt": "cachepoints",
    "validate_layout": "cachepoints",
    "Doctor": "doctor",
    "Emulator": "emulator",
    "CachingError": "errors",
    "LayoutError": "errors",
    "PricingError": "errors",
    "UsageError": "errors",
    "LayoutPoint": "layout",
    "request_layout": "layout",
    "Cost": "pricing",
    "cost_of": "pricing",
    "prices_for": "pricing",
    "CallRecorder": "recorder",
    "ObservedCall": "recorder",
    "read_recording": "recording",
    "Diagnosis": "rules",
    "ManualClock": "rules",
    "cache_keys": "rules",
    "Settings": "settings",
    "Team": "team",
    "build_team": "team",
    "prompt": "team",
    "RollingCheckpoints": "strategies",
    "CallUsage": "tracking",
    "Turn": "tracking",
    "UsageTracker": "tracking",
    "Usage": "usage",
}

__all__ = [
    "APPROACHES",
    "ApproachSetup",
    "Backend",
    "CachingError",
    "CallRecorder",
    "CallUsage",
    "Cost",
    "Diagnosis",
    "Doctor",
    "Emulator",
    "ManualClock",
    "ObservedCall",
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
    from .approaches import APPROACHES, ApproachSetup, setup
    from .backend import Backend, connect
    from .cachepoints import cache_point, cached_system_prompt, validate_layout
    from .doctor import Doctor
    from .emulator import Emulator
    from .errors import CachingError
    from .layout import request_layout
    from .pricing import Cost, cost_of, prices_for
    from .recorder import CallRecorder, ObservedCall
    from .recording import read_recording
    from .rules import Diagnosis, ManualClock, cache_keys
    from .settings import Settings
    from .strategies import RollingCheckpoints
    from .team import build_team, prompt
    from .tracking import CallUsage, Turn, UsageTracker
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
