"""The base of the rules' small vocabularies (Kind, Action, TTL, API): str enums that print as Bedrock spells them."""

from __future__ import annotations

from enum import Enum


class Word(str, Enum):
    """An enum whose members print as their value (a str mixin alone prints "Kind.HIT" on some Pythons)."""

    def __str__(self) -> str:
        return str(self.value)
