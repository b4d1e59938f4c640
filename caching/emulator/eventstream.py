"""AWS event-stream framing, the binary format of ConverseStream responses.

Each message: total length and headers length (4 bytes each, big-endian), a CRC32 of those 8 bytes, the headers,
the JSON payload, and a CRC32 of everything before it. Headers here are all strings (type 7).
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

STRING_HEADER = 7


def encode_headers(headers: dict[str, str]) -> bytes:
    out = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", STRING_HEADER, len(raw_value)) + raw_value
    return out


def encode_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One framed event-stream message."""
    raw_headers = encode_headers(headers)
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + raw_headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def encode_event(event_type: str, payload: dict[str, Any]) -> bytes:
    """A ConverseStream event such as messageStart or metadata."""
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return encode_message(headers, json.dumps(payload, separators=(",", ":")).encode())
