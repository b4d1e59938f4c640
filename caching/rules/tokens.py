"""The emulator's token estimate: one deterministic rule for every kind of block.

Claude's tokenizer is not public, so offline counts are an ESTIMATE, calibrated to what was measured live:
- English prose: Bedrock counted about 11% more tokens than characters / 4 (Oct 2026, CacheCanary), so prose counts
  ceil(characters x 1.11 / 4).
- Code and JSON (tool schemas, tool inputs, text dense with brackets and operators): "higher still" was measured, with
  no figure published; the emulator takes 25% above characters / 4, a stand-in until one is.
- With tools, Anthropic adds a tool-use system prompt whose size it publishes per model and tool choice (see the
  catalog); it is counted with the first tool.
- An image: width x height / 750 after Anthropic's resizing (long edge at most 1,568 px), read from its PNG, GIF or
  JPEG header; another media block counts a flat 1,000.
The same bytes always give the same count, and CountTokens and Converse agree.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

PROSE = (111, 400)  # tokens per character, as a fraction: 1.11 / 4
CODE = (125, 400)  # 1.25 / 4
CODE_CHARACTERS = frozenset("{}[]()<>;=_/\\|`$#*&^%~")
CODE_PATTERN = re.compile("|".join(map(re.escape, sorted(CODE_CHARACTERS))))
MESSAGE_FRAMING_TOKENS = 3  # role marker and turn separators, charged to each message's first block
TOOL_FRAMING_TOKENS = 4  # wrapper of a tool definition, a tool call or a tool result
MEDIA_TOKENS = 1_000  # a document, video or audio block, or an image whose size cannot be read
IMAGE_LONG_EDGE = 1_568  # Anthropic resizes larger images to this long edge before counting
IMAGE_PIXELS_PER_TOKEN = 750


def looks_like_code(text: str) -> bool:
    """Code or data rather than prose: brackets and operators make up at least 5% of it."""
    return CODE_PATTERN.subn("", text)[1] >= max(3, len(text) // 20)  # subn counts them in one pass


@lru_cache(maxsize=128)  # a conversation resends the same texts every call
def text_tokens(text: str, code: bool | None = None) -> int:
    """Tokens in a piece of text: prose at 1.11 x characters / 4, code at 1.25 x (decided by `looks_like_code`)."""
    per, chars = CODE if (looks_like_code(text) if code is None else code) else PROSE
    return -(-len(text) * per // chars)


def text_within(text: str, tokens: int) -> str:
    """The longest start of `text` that counts at most `tokens`, at the rate of the whole text (prose or code): what
    a model stopped after `tokens` output tokens had written of it."""
    per, chars = CODE if looks_like_code(text) else PROSE
    return text[: max(0, tokens) * chars // per]


def canonical_json(value: Any) -> str:
    """One spelling of a JSON value: sorted keys, no spaces. Used for hashing and for counting."""
    if type(value) is dict and len(value) == 1 and type(value.get("text")) is str:  # most blocks: the same, faster
        return '{"text":' + encode_basestring(value["text"]) + "}"
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF or JPEG header, or None."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data[:2] == b"\xff\xd8":  # JPEG: walk the segments to the first start-of-frame marker
        at = 2
        while at + 9 < len(data) and data[at] == 0xFF:
            marker, length = data[at + 1], struct.unpack(">H", data[at + 2 : at + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[at + 5 : at + 9])
                return width, height
            at += 2 + length
    return None


def image_tokens(image: Any) -> int:
    """Anthropic's formula, width x height / 750, after resizing the long edge to at most 1,568 px."""
    source = image.get("source", {}) if isinstance(image, dict) else {}
    raw = source.get("bytes", b"") if isinstance(source, dict) else b""
    try:
        data = raw if isinstance(raw, bytes) else base64.b64decode(str(raw)[:1_000] + "===")[:600]
    except (binascii.Error, ValueError):
        data = b""
    size = image_size(data)
    if size is None or min(size) <= 0:
        return MEDIA_TOKENS
    scale = min(1.0, IMAGE_LONG_EDGE / max(size))
    return max(1, math.ceil(round(size[0] * scale) * round(size[1] * scale) / IMAGE_PIXELS_PER_TOKEN))


def block_tokens(block: dict[str, Any]) -> int:
    """Tokens of one tool spec, system block or message content block (framing excluded)."""
    if "text" in block:
        return text_tokens(block["text"])
    if "toolSpec" in block:
        spec = block["toolSpec"]
        schema = spec.get("inputSchema", {}).get("json", {})
        return (
            TOOL_FRAMING_TOKENS
            + text_tokens(spec.get("name", ""), code=True)
            + text_tokens(spec.get("description", ""))
            + text_tokens(canonical_json(schema), code=True)
        )
    if "toolUse" in block:
        use = block["toolUse"]
        return (
            TOOL_FRAMING_TOKENS
            + text_tokens(use.get("name", ""), code=True)
            + text_tokens(canonical_json(use.get("input")), code=True)
        )
    if "toolResult" in block:
        return TOOL_FRAMING_TOKENS + sum(block_tokens(part) for part in block["toolResult"].get("content", []))
    if "json" in block:
        return text_tokens(canonical_json(block["json"]), code=True)
    if "image" in block:
        return image_tokens(block["image"])
    if any(kind in block for kind in ("document", "video", "audio")):
        return MEDIA_TOKENS
    if "reasoningContent" in block:
        return text_tokens(block["reasoningContent"].get("reasoningText", {}).get("text", ""))
    return text_tokens(canonical_json(block), code=True)
