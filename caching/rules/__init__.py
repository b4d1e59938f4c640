"""Bedrock's prompt-caching rules as plain Python: no HTTP, no boto3, no Strands.

How a request becomes a prompt (`linearize`), where its checkpoints read and write (`PromptCache`), the lookback,
TTLs, minimums and rejections, and the words for each outcome (`diagnose`). The emulator, the cache doctor, the
traffic planner and the log audit all stand on this one implementation (the audit linearizes a stream of calls with
`memo.Linearizer`, which resumes `linearize` where a conversation's earlier request left off).
"""

from .api import API
from .cache import LOOKBACK_BLOCKS, CacheResult, Entry, PromptCache, cache_keys, prefix_digests
from .catalog import DEFAULT_MODEL_ID, MODELS, Catalog, ModelInfo
from .clock import ManualClock, system_clock
from .diagnosis import Diagnosis, History, diagnose, string_system_note
from .outcomes import Action, CallOutcome, CheckpointOutcome, Kind, Miss
from .places import Place
from .prompt import (
    MAX_CHECKPOINTS,
    Block,
    Checkpoint,
    Prompt,
    RequestRejected,
    check_layout,
    linearize,
)
from .severity import Severity
from .tokens import block_tokens, text_tokens
from .ttl import TTL, TTL_SECONDS, TTLS
from .usage import Usage
from .variant import Variant

__all__ = [
    "API",
    "DEFAULT_MODEL_ID",
    "LOOKBACK_BLOCKS",
    "MAX_CHECKPOINTS",
    "MODELS",
    "TTL",
    "TTLS",
    "TTL_SECONDS",
    "Action",
    "Block",
    "CacheResult",
    "CallOutcome",
    "Catalog",
    "Checkpoint",
    "CheckpointOutcome",
    "Diagnosis",
    "Entry",
    "History",
    "Kind",
    "ManualClock",
    "Miss",
    "ModelInfo",
    "Place",
    "Prompt",
    "PromptCache",
    "RequestRejected",
    "Severity",
    "Usage",
    "Variant",
    "block_tokens",
    "cache_keys",
    "check_layout",
    "diagnose",
    "linearize",
    "prefix_digests",
    "string_system_note",
    "system_clock",
    "text_tokens",
]
