"""Prompt caching with Strands Agents on AWS Bedrock: approaches, exact usage, pricing and reports.

Everything runs offline on `caching.emulator` by default; pass a real boto3 session to go live.
"""

from .approaches import APPROACHES, ApproachSetup, setup
from .backend import Backend, connect
from .cachepoints import cache_point, cached_system_prompt, cached_tools, validate_layout
from .cli import console_for, run
from .doctor import Diagnosis, Doctor
from .emulator import DEFAULT_ACCESS_KEY, DEFAULT_MODEL_ID, Emulator, ManualClock, cache_keys, offline_session
from .errors import CachingError, LayoutError, PricingError, UsageError
from .layout import LayoutPoint, request_layout
from .live import explain_error
from .pricing import Cost, Prices, cost_of, prices_for
from .reasons import DoctorReasons, EmulatorReasons, describe
from .recorder import CallRecorder, ObservedCall, read_recording
from .reports import (
    bar_chart,
    calls_table,
    comparison_chart,
    doctor_table,
    pct,
    session_line,
    session_summary,
    turn_line,
    turns_table,
    usd,
)
from .settings import Settings, SettingsError, load, parser, resolve
from .team import Team, build_team, prompt
from .tracking import CallUsage, Turn, UsageTracker
from .usage import Usage

__all__ = [
    "APPROACHES",
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_MODEL_ID",
    "ApproachSetup",
    "Backend",
    "CachingError",
    "CallRecorder",
    "CallUsage",
    "Cost",
    "Diagnosis",
    "Doctor",
    "DoctorReasons",
    "Emulator",
    "EmulatorReasons",
    "LayoutError",
    "LayoutPoint",
    "ManualClock",
    "ObservedCall",
    "Prices",
    "PricingError",
    "Settings",
    "SettingsError",
    "Team",
    "Turn",
    "Usage",
    "UsageError",
    "UsageTracker",
    "bar_chart",
    "build_team",
    "cache_keys",
    "cache_point",
    "cached_system_prompt",
    "cached_tools",
    "calls_table",
    "comparison_chart",
    "connect",
    "console_for",
    "cost_of",
    "describe",
    "doctor_table",
    "explain_error",
    "load",
    "offline_session",
    "parser",
    "pct",
    "prices_for",
    "prompt",
    "read_recording",
    "request_layout",
    "resolve",
    "run",
    "session_line",
    "session_summary",
    "setup",
    "turn_line",
    "turns_table",
    "usd",
    "validate_layout",
]
