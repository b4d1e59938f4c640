"""What keys the cache besides a prompt's bytes: the API, thinking, effort and the tool-choice group.

Each was measured live as a miss when it alone changed between two otherwise identical requests, so two prompts of a
different `Variant` never share an entry. A variant is a value built once from the request; `differences` says, in
words, which of these settings two variants disagree on.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from .api import API
from .word import Word


class ToolChoice(Word):
    """The tool-choice group: auto, none and no choice build one prompt; any and a named tool build another."""

    AUTO = "auto"
    FORCED = "forced"


@dataclass(frozen=True)
class Variant:
    """The settings that key the cache besides the bytes: `thinking` is "off" or the type and budget
    ("enabled:1024"), `effort` is output_config.effort (absent means high)."""

    api: API = API.CONVERSE
    thinking: str = "off"
    effort: str = "high"
    tool_choice: ToolChoice = ToolChoice.AUTO

    @classmethod
    def of(cls, request: dict[str, Any], api: str = API.CONVERSE) -> Variant:
        """The variant of a Converse request (or of one converted from an InvokeModel body, with `api` invoke)."""
        extra = _mapping(request.get("additionalModelRequestFields"))
        thinking = _mapping(extra.get("thinking"))
        mode = thinking.get("type", "disabled")
        effort = _mapping(extra.get("output_config")).get("effort", "high")
        choice = _mapping(request.get("toolConfig")).get("toolChoice")
        forced = isinstance(choice, dict) and ("any" in choice or "tool" in choice)
        return cls(
            api=API(api),
            thinking="off" if mode == "disabled" else f"{mode}:{thinking.get('budget_tokens', '')}",
            effort=str(effort),
            tool_choice=ToolChoice.FORCED if forced else ToolChoice.AUTO,
        )

    @property
    def key(self) -> bytes:
        """The bytes a prefix's digest starts from: one key per variant."""
        return f"{self.api}|thinking={self.thinking}|effort={self.effort}|tools={self.tool_choice}".encode()

    def differences(self, other: Variant) -> tuple[str, ...]:
        """What differs from `other`, one phrase per setting, in a fixed order (empty when nothing does)."""
        return tuple(WORDS[f.name] for f in fields(self) if getattr(self, f.name) != getattr(other, f.name))


WORDS = {
    "api": "it went through another API (Converse and InvokeModel build different prompts)",
    "thinking": "its thinking settings differ",
    "effort": "its effort setting differs",
    "tool_choice": "its tool choice differs (auto or none vs any or a named tool)",
}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
