"""An offline Bedrock Runtime that applies Bedrock's prompt-caching rules (`caching.rules`).

In process: `BedrockModel(boto_session=offline_session())`. Over loopback: `python -m caching.emulator serve`.

Split as moto splits a service: the state and its rules (`state`: accounts, caches, recent requests, records; the
offline model in `replies`) know nothing of HTTP, JSON or boto3; the wire around them writes the JSON answers
(`responses`) and event streams (`streams`, `eventstream`), routes HTTP and words its errors (`service`), and plugs
into boto3 in process (`session`) or over loopback (`server`, HTTPS with `tls`). `Emulator` is the state with its wire.
"""

from ..rules import DEFAULT_MODEL_ID, MODELS, Catalog, ManualClock, ModelInfo, RequestRejected
from .emulator import Emulator, offline_session
from .records import CallRecord
from .replies import MARK
from .server import EmulatorServer, running_server
from .session import DEFAULT_ACCESS_KEY, SECOND_ACCESS_KEY

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
