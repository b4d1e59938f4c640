"""An offline Bedrock Runtime that applies Bedrock's prompt-caching rules (`caching.rules`).

In process: `BedrockModel(boto_session=offline_session())`. Over loopback: `python -m caching.emulator serve`.
"""

from ..rules import DEFAULT_MODEL_ID, MODELS, Catalog, ManualClock, ModelInfo, RequestRejected
from .emulator import DEFAULT_ACCESS_KEY, SECOND_ACCESS_KEY, Emulator
from .records import CallRecord
from .replies import MARK
from .server import EmulatorServer, running_server
from .session import offline_session

__all__ = [
    "DEFAULT_ACCESS_KEY",
    "DEFAULT_MODEL_ID",
    "MARK",
    "MODELS",
    "SECOND_ACCESS_KEY",
    "CallRecord",
    "Catalog",
    "Emulator",
    "EmulatorServer",
    "ManualClock",
    "ModelInfo",
    "RequestRejected",
    "offline_session",
    "running_server",
]
