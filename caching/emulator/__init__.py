"""An offline Bedrock Runtime that applies Bedrock's prompt-caching rules.

In process: `BedrockModel(boto_session=offline_session())`. Over loopback: `python -m caching.emulator serve`.
"""

from .cache import LOOKBACK_BLOCKS, cache_keys
from .catalog import DEFAULT_MODEL_ID, MODELS, Catalog, ModelInfo
from .clock import ManualClock
from .emulator import DEFAULT_ACCESS_KEY, Emulator
from .prompt import MAX_CHECKPOINTS, RequestRejected, linearize
from .records import CallRecord, CheckpointOutcome
from .replies import MARK
from .server import EmulatorServer, running_server
from .session import offline_session
from .tokens import block_tokens, text_tokens

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_MODEL_ID",
    "LOOKBACK_BLOCKS",
    "MARK",
    "MAX_CHECKPOINTS",
    "MODELS",
    "CallRecord",
    "Catalog",
    "CheckpointOutcome",
    "Emulator",
    "EmulatorServer",
    "ManualClock",
    "ModelInfo",
    "RequestRejected",
    "block_tokens",
    "cache_keys",
    "linearize",
    "offline_session",
    "running_server",
    "text_tokens",
]
