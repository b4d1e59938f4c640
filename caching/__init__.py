"""Prompt caching with Strands Agents on AWS Bedrock: approaches, exact usage, pricing and reports.

Everything runs offline on `caching.emulator` by default; pass a real boto3 session to go live.
"""

from .approaches import APPROACHES, ApproachSetup, setup
from .cachepoints import cache_point, cached_system_prompt, cached_tools, validate_layout
from .emulator import DEFAULT_MODEL_ID, Emulator, ManualClock, offline_session
from .errors import CachingError, LayoutError, PricingError, UsageError
from .layout import LayoutPoint, request_layout
from .pricing import Cost, Prices, cost_of, prices_for
from .reasons import EmulatorReasons, describe
from .reports import calls_table, comparison_chart, session_line, session_summary, turn_line, turns_table
from .team import Team, build_team, prompt
from .tracking import CallUsage, Turn, UsageTracker
from .usage import Usage

__all__ = [
    "APPROACHES",
    "DEFAULT_MODEL_ID",
    "ApproachSetup",
    "CachingError",
    "CallUsage",
    "Cost",
    "Emulator",
    "EmulatorReasons",
    "LayoutError",
    "LayoutPoint",
    "ManualClock",
    "Prices",
    "PricingError",
    "Team",
    "Turn",
    "Usage",
    "UsageError",
    "UsageTracker",
    "build_team",
    "cache_point",
    "cached_system_prompt",
    "cached_tools",
    "calls_table",
    "comparison_chart",
    "cost_of",
    "describe",
    "offline_session",
    "prices_for",
    "prompt",
    "request_layout",
    "session_line",
    "session_summary",
    "setup",
    "turn_line",
    "turns_table",
    "validate_layout",
]
