"""A workload: who talks to the model, how much, and how long they pause; from flags, a TOML file or a built-in."""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from enum import Enum
from pathlib import Path
from typing import Any

from .. import limits
from ..errors import CachingError
from ..files import read_limited
from ..rules import DEFAULT_MODEL_ID, TTLS, Catalog
from ..rules.approaches import NAMES as EVERY_APPROACH

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DURATION = re.compile(r"^\s*(\d{1,9}(?:\.\d{1,9})?)\s*(s|m|h)\s*$", re.ASCII)
UNITS = {"s": 1, "m": 60, "h": 3600}
MOST_SAMPLED = 1_000  # lengths in a measured sample: an audit writes at most 100 (its quantiles)
LONGEST_PAUSE = 30 * 24 * 3600.0  # thirty days: any longer and every entry has long expired anyway
DURATION_HELP = (
    "a duration like '30s', '5m' or '1h', a range 'MIN..MAX' (uniform), 'exp:MEAN' (exponential), "
    "or in TOML {uniform = [MIN, MAX]}, {exponential = MEAN} or {sample = [S, ...]} (drawn from, as measured)"
)


class WorkloadError(CachingError):
    """A workload field with a value the planner cannot use."""


# The flags whose names are not the field's: each takes one item of the field's list, and may be repeated.
ONE_ITEM_FLAGS = {"approaches": "--approach", "ttls": "--ttl"}


def flag(name: str) -> str:
    """The `caching plan` flag that sets a workload field: --users for users, --ttl for ttls."""
    return ONE_ITEM_FLAGS.get(name, f"--{name.replace('_', '-')}")


class Spelling(Enum):
    """Whose words a message about a field uses: the flags the user typed, or a workload file's keys, so that the
    fix it names is one the user can make where they made the mistake."""

    FILE = "file"
    FLAGS = "flags"

    def of(self, field: str) -> str:
        """The field as the user wrote it: `users` in a file, `--users` on the command line."""
        return flag(field) if self is Spelling.FLAGS else field

    def setting(self, field: str, value: str) -> str:
        """How to set a list field to one value: `--ttl 5m`, or `ttls = ['5m']` in a file."""
        return f"{flag(field)} {value}" if self is Spelling.FLAGS else f"{field} = {[value]!r}"


def seconds(value: Any, name: str) -> float:
    """'90s', '5m', '1h' or a number of seconds, from 0 up to thirty days."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value) if abs(value) < 1e300 else float("inf")
    else:
        match = DURATION.match(value) if isinstance(value, str) else None
        if match is None:
            raise WorkloadError(f"{name} must be {DURATION_HELP}; got {_short(value)}.")
        number = float(match[1]) * UNITS[match[2]]
    if not 0 <= number <= LONGEST_PAUSE:
        raise WorkloadError(f"{name} must be between 0 and 30 days ({LONGEST_PAUSE:,.0f} s); got {_short(value)}.")
    return number


def _short(value: Any) -> str:
    """A value for an error message, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:40]}... ({len(text):,} characters)"


@dataclass(frozen=True)
class Distribution:
    """A length of time (a pause, a latency): fixed, uniform between two bounds, exponential with a mean, or drawn
    from a sample of measured lengths, such as the pauses an audit found in real logs (seconds)."""

    kind: str = "fixed"
    low: float = 0.0
    high: float = 0.0
    sample: tuple[float, ...] = ()

    @classmethod
    def parse(cls, value: Any, name: str) -> Distribution:
        if isinstance(value, dict) and len(value) == 1:
            ((kind, spec),) = value.items()
            if kind == "uniform" and isinstance(spec, list) and len(spec) == 2:
                low, high = seconds(spec[0], name), seconds(spec[1], name)
                if low <= high:
                    return cls("uniform", low, high)
            if kind == "exponential":
                return cls("exponential", seconds(spec, name))
            if kind == "sample" and isinstance(spec, list) and 0 < len(spec) <= MOST_SAMPLED:
                values = tuple(seconds(each, name) for each in spec)
                return cls("sample", min(values), max(values), values)
            raise WorkloadError(f"{name} must be {DURATION_HELP}; got {_short(value)}.")
        if isinstance(value, str) and ".." in value:
            return cls.parse({"uniform": value.split("..", 1)}, name)
        if isinstance(value, str) and value.startswith("exp:"):
            return cls.parse({"exponential": value[4:]}, name)
        try:
            return cls("fixed", seconds(value, name))
        except WorkloadError as exc:
            if "between 0 and 30 days" in str(exc):
                raise
            raise WorkloadError(f"{name} must be {DURATION_HELP}; got {_short(value)}.") from None

    def draw(self, rng: random.Random) -> float:
        if self.kind == "sample":
            return rng.choice(self.sample)
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high)
        if self.kind == "exponential":
            return rng.expovariate(1 / self.low) if self.low else 0.0
        return self.low

    def __str__(self) -> str:
        def show(s: float) -> str:
            return f"{s / 3600:g}h" if s >= 3600 and s % 3600 == 0 else f"{s / 60:g}m" if s >= 60 else f"{s:g}s"

        if self.kind == "uniform":
            return f"{show(self.low)}-{show(self.high)}"
        if self.kind == "sample":
            return f"{show(self.low)}-{show(self.high)} (measured)"
        return f"~{show(self.low)} (exp)" if self.kind == "exponential" else show(self.low)


@dataclass(frozen=True)
class Workload:
    """Traffic to plan for. Token sizes are per block, as the emulator counts them (message framing excluded)."""

    name: str = "custom"
    model: str = DEFAULT_MODEL_ID
    system_tokens: int = 2_500
    tool_tokens: int = 300
    users: int = 1
    sessions_per_user: int = 1
    turns_per_session: int = 4
    calls_per_turn: int = 2
    parallel_tool_calls: int = 1  # tool calls in each tool-calling reply, and results in the message after it
    user_message_tokens: int = 50
    tool_result_tokens: int = 400
    reply_tokens: int = 200
    pause_between_turns: Distribution = field(default_factory=lambda: Distribution("fixed", 30.0))
    pause_between_sessions: Distribution = field(default_factory=lambda: Distribution("fixed", 3600.0))
    model_latency: Distribution = field(default_factory=Distribution)  # request to reply; none by default
    tool_latency: Distribution = field(default_factory=Distribution)  # a tool step's run (parallel calls at once)
    arrivals_over: float = 3600.0
    approaches: tuple[str, ...] = EVERY_APPROACH
    ttls: tuple[str, ...] = ("5m", "1h")
    seed: int = 1

    @property
    def calls(self) -> int:
        return self.users * self.sessions_per_user * self.turns_per_session * self.calls_per_turn

    def changed(self, values: Mapping[str, Any], spelling: Spelling = Spelling.FILE) -> Workload:
        """A copy with some fields set from raw values (strings, numbers, lists), each checked; a message names a
        field as the values were given (`spelling`)."""
        converted = {name: convert(name, value, spelling) for name, value in values.items()}
        return check(replace(self, **converted), spelling)


DURATIONS = ("pause_between_turns", "pause_between_sessions", "model_latency", "tool_latency")  # distributions

# What each field means, for `caching plan --help` (durations take DURATION_HELP's forms).
FIELD_HELP = {
    "model": "Bedrock model id or inference profile",
    "system_tokens": "tokens of the system prompt",
    "tool_tokens": "tokens of the tool definitions (0: no tools)",
    "users": "users sharing the prompt (one account)",
    "sessions_per_user": "sessions each user has, one after another",
    "turns_per_session": "user messages in a session",
    "calls_per_turn": "model calls in a turn: all but the last ask for tools",
    "parallel_tool_calls": "tool calls in each tool-asking reply",
    "user_message_tokens": "tokens of each user message",
    "tool_result_tokens": "tokens of each tool result",
    "reply_tokens": "tokens of each model reply (and of each tool call)",
    "pause_between_turns": "from a turn's last reply to the next message: '30s', '1m..15m', 'exp:2m'",
    "pause_between_sessions": "from a session's last reply to the next session",
    "model_latency": "from a request to its reply (default 0s)",
    "tool_latency": "a tool step's run, parallel calls at once (default 0s)",
    "arrivals_over": "users arrive at random within this time",
    "seed": "random seed: the same seed gives the same traffic",
}

# Each count's smallest and largest allowed value.
COUNTS = {
    "system_tokens": (0, 10_000_000),
    "tool_tokens": (0, 10_000_000),
    "users": (1, 1_000_000),
    "sessions_per_user": (1, 100_000),
    "turns_per_session": (1, 100_000),
    "calls_per_turn": (1, 1_000),
    "parallel_tool_calls": (1, 100),
    "user_message_tokens": (1, 10_000_000),
    "tool_result_tokens": (1, 10_000_000),
    "reply_tokens": (1, 10_000_000),
    "seed": (0, 2**63 - 1),
}


def convert(name: str, value: Any, spelling: Spelling = Spelling.FILE) -> Any:
    """One field's raw value as the Workload holds it, or a WorkloadError naming the field (as `spelling` spells it)
    and what is allowed."""
    allowed = [f.name for f in fields(Workload)]
    if name not in allowed:
        raise WorkloadError(f"Unknown workload field {name!r}: allowed fields are {', '.join(allowed)}.")
    said = spelling.of(name)
    if name in COUNTS:
        low, high = COUNTS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise WorkloadError(f"{said} must be a whole number from {low:,} to {high:,}; got {_short(value)}.")
        return value
    if name in DURATIONS:
        return Distribution.parse(value, said)
    if name == "arrivals_over":
        return seconds(value, said)
    if name in ONE_ITEM_FLAGS:
        choices = EVERY_APPROACH if name == "approaches" else TTLS
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or any(item not in choices for item in items):
            raise WorkloadError(f"{said} must be a list drawn from {', '.join(choices)}; got {_short(value)}.")
        return tuple(items)
    if not isinstance(value, str) or not value:
        raise WorkloadError(f"{said} must be a non-empty string; got {_short(value)}.")
    return value


def check(workload: Workload, spelling: Spelling = Spelling.FILE) -> Workload:
    """The workload itself, once the fields that depend on each other agree; TTLs the model lacks are dropped."""
    model = Catalog().find(workload.model)
    if model is None:
        known = ", ".join(m.base_id for m in Catalog().models)
        raise WorkloadError(
            f"{spelling.of('model')} {_short(workload.model)} is not in the catalog: use one of {known} (optionally global./us./eu.)."
        )
    if workload.calls > limits.MOST_SIMULATED_CALLS:
        counts = [spelling.of(name) for name in ("users", "sessions_per_user", "turns_per_session", "calls_per_turn")]
        raise WorkloadError(
            f"The workload makes {workload.calls:,} model calls; the planner simulates at most "
            f"{limits.MOST_SIMULATED_CALLS:,} ({limits.named('MOST_SIMULATED_CALLS')}): lower "
            f"{', '.join(counts[:-1])} or {counts[-1]}."
        )
    if not model.supports_1h and "1h" in workload.ttls:
        offered = tuple(ttl for ttl in workload.ttls if ttl != "1h")
        if not offered:
            raise WorkloadError(f"{model.name} has no 1h cache TTL: plan with {spelling.setting('ttls', '5m')}.")
        workload = replace(workload, ttls=offered)
    return workload


def load_workload(path: str | Path) -> Workload:
    """A workload from a TOML file of field = value lines (see README)."""
    try:
        data = read_limited(path, "a workload", limits.LARGEST_WORKLOAD, limits.named("LARGEST_WORKLOAD"))
    except OSError as exc:
        raise WorkloadError(f"Cannot read workload file {str(path)!r} ({exc.strerror}): check the path.") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise WorkloadError(
            f"Workload file {str(path)!r} is not UTF-8 text (byte {exc.start}): save it as UTF-8 TOML."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkloadError(f"Workload file {str(path)!r} is not valid TOML ({exc}).") from None
    except RecursionError:
        raise WorkloadError(
            f"Workload file {str(path)!r} nests too deeply: a workload is flat field = value lines."
        ) from None
    except ValueError:  # tomllib turns every integer into an int, and Python refuses one over 4,300 digits
        raise WorkloadError(
            f"Workload file {str(path)!r} holds a number too long to read: counts are at most 19 digits."
        ) from None
    return Workload(name=Path(path).stem).changed(raw)


BUILTIN: dict[str, Workload] = {
    # The blog's demo: one user, a ~2,500-token orchestrator prompt, two tools, four turns of tool use.
    "blog-chat": Workload(
        name="blog-chat",
        system_tokens=2_500,
        tool_tokens=300,
        turns_per_session=4,
        calls_per_turn=2,
        user_message_tokens=40,
        tool_result_tokens=350,
        reply_tokens=180,
    ),
    # A long, tool-heavy coding session: four model calls a turn, growing to ~100k tokens by turn 30, short pauses.
    "coding-session": Workload(
        name="coding-session",
        system_tokens=4_000,
        tool_tokens=1_500,
        turns_per_session=30,
        calls_per_turn=4,
        user_message_tokens=120,
        tool_result_tokens=600,
        reply_tokens=300,
        pause_between_turns=Distribution("uniform", 10.0, 120.0),
    ),
    # Many users sharing one prompt, pausing 1 to 15 minutes between turns.
    "200-users": Workload(
        name="200-users",
        users=200,
        sessions_per_user=5,
        turns_per_session=6,
        calls_per_turn=2,
        pause_between_turns=Distribution("uniform", 60.0, 900.0),
        pause_between_sessions=Distribution("uniform", 3_600.0, 4 * 3_600.0),
        arrivals_over=3_600.0,
    ),
    # An agent that fans out: every step asks for 16 tools at once (Strands issue 3348: 32 blocks a step, more than
    # the lookback reaches from the previous checkpoint).
    "fan-out": Workload(
        name="fan-out",
        system_tokens=3_000,
        tool_tokens=1_200,
        turns_per_session=8,
        calls_per_turn=3,
        parallel_tool_calls=16,
        user_message_tokens=80,
        tool_result_tokens=250,
        reply_tokens=60,
        pause_between_turns=Distribution("uniform", 20.0, 120.0),
    ),
}
