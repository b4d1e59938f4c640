"""The models the rules know: each one's caching minimum and whether it offers a 1h TTL, where each figure comes
from and when it was checked, and, where sources disagree, the other value and why the emulator follows the one it
does. Prices (and so the read and write multipliers) are not here: they come from each model id's price row
(`caching.pricing`), since newer models read at 0.05x or 0.025x of input rather than 0.1x."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

# Inference-profile prefixes AWS offers for the Claude 4 family (cross-region and global); "" is the in-region id.
PROFILES_4 = ("", "global.", "us.", "eu.", "apac.", "jp.", "au.")
# When each row was last checked against the project's reference (shared/reference/bedrock-prompt-caching.md, which
# names the public source of each figure).
CHECKED = datetime.date(2026, 12, 1)
# 1h TTL: generally available on Bedrock since 2026-01-26 for Sonnet 4.5, Haiku 4.5, Opus 4.5 and later models.
HOUR_TTL_SOURCE = "1h TTL: AWS, generally available since 2026-01-26 for Sonnet 4.5, Haiku 4.5, Opus 4.5 and later"


@dataclass(frozen=True)
class ModelInfo:
    """One Claude model as Bedrock exposes it for prompt caching, and where each figure comes from.

    `source` names where the minimum and the 1h support come from, `checked` the day the row was last checked
    against them. Where sources disagree on the minimum, `other_min_tokens` is the value the emulator does not
    follow and `follows` says which source it follows and why; `minimum_range` gives both, lowest first, so a check
    can warn about a prefix that caches by one source and not by the other.
    """

    name: str
    base_id: str
    short: str
    min_tokens: int
    supports_1h: bool
    profiles: tuple[str, ...] = PROFILES_4
    source: str = ""
    checked: datetime.date = CHECKED
    other_min_tokens: int | None = None
    follows: str = ""
    context_tokens: int = 200_000  # the context window: a longer prompt is rejected
    # Anthropic's tool-use system prompt, added when a request has tools: (auto or none, any or tool) choice, from
    # its "tool use pricing and tokens" page.
    tool_prompt_tokens: tuple[int, int] = (346, 313)

    def ids(self) -> tuple[str, ...]:
        """Every model id this model answers to: in-region and each inference profile."""
        return tuple(prefix + self.base_id for prefix in self.profiles)

    @property
    def minimum_range(self) -> tuple[int, int]:
        """The lowest and the highest minimum the sources give (the same number twice when they agree)."""
        other = self.min_tokens if self.other_min_tokens is None else self.other_min_tokens
        return min(self.min_tokens, other), max(self.min_tokens, other)


MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        "Claude Sonnet 4.6",
        "anthropic.claude-sonnet-4-6",
        "claude-sonnet-4-6",
        2048,
        True,
        source="minimum: Anthropic's prompt-caching docs, and measured on Bedrock (no cache at 2,038 tokens, cached "
        f"at 2,067; litellm-docs PR 49); {HOUR_TTL_SOURCE}",
        other_min_tokens=1024,
        follows="Anthropic's docs and the live measurement, over the AWS prompt-caching table's 1,024: a prefix of "
        "2,038 tokens was measured not to cache",
    ),
    ModelInfo(
        "Claude Sonnet 4.5",
        "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "claude-sonnet-4-5",
        1024,
        True,
        source=f"minimum: AWS prompt-caching page and Anthropic's docs; {HOUR_TTL_SOURCE}",
        other_min_tokens=4096,
        follows="the current AWS page and Anthropic's docs, which agree, over an older AWS page version's 4,096",
    ),
    ModelInfo(
        "Claude Opus 4.6",
        "anthropic.claude-opus-4-6-v1",
        "claude-opus-4-6",
        4096,
        True,
        source=f"minimum: AWS prompt-caching page and Anthropic's docs (they agree); {HOUR_TTL_SOURCE}",
    ),
    ModelInfo(
        "Claude Opus 4.5",
        "anthropic.claude-opus-4-5-20251101-v1:0",
        "claude-opus-4-5",
        4096,
        True,
        source=f"minimum: AWS prompt-caching page and Anthropic's docs (they agree); {HOUR_TTL_SOURCE}",
    ),
    ModelInfo(
        "Claude Haiku 4.5",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "claude-haiku-4-5",
        4096,
        True,
        source=f"minimum: AWS prompt-caching page and Anthropic's docs (they agree); {HOUR_TTL_SOURCE}",
    ),
    ModelInfo(
        "Claude 3.7 Sonnet",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "claude-3-7-sonnet",
        1024,
        False,
        ("", "us.", "eu.", "apac."),
        source="minimum: AWS prompt-caching page; no 1h TTL (AWS and Anthropic list 1h for 4.5 models and later)",
    ),
    ModelInfo(
        "Claude 3.5 Haiku",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "claude-3-5-haiku",
        2048,
        False,
        ("", "us."),
        source="minimum: AWS prompt-caching page (a legacy model); no 1h TTL (AWS and Anthropic list 1h for 4.5 "
        "models and later)",
        tool_prompt_tokens=(264, 340),
    ),
)

DEFAULT_MODEL_ID = "global.anthropic.claude-sonnet-4-6"

# Older Claude models Bedrock serves without prompt caching: the supported-models table of AWS's prompt-caching page
# does not list them, so a cachePoint sent to one caches nothing.
LEGACY_IDS = (
    "anthropic.claude-instant-v1",
    "anthropic.claude-v2",
    "anthropic.claude-v2:1",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "anthropic.claude-3-sonnet-20240229-v1:0",
    "anthropic.claude-3-opus-20240229-v1:0",
    "anthropic.claude-3-5-sonnet-20240620-v1:0",
    "anthropic.claude-3-5-sonnet-20241022-v2:0",
)


def is_legacy(model_id: str) -> bool:
    """Whether `model_id` (in-region or behind an inference-profile prefix) is a Claude model that does not cache."""
    return model_id[model_id.find("anthropic.") :] in LEGACY_IDS if "anthropic." in model_id else False


class Catalog:
    """Looks models up by any of their ids; minimums and 1h support can be overridden per model."""

    def __init__(self, models: tuple[ModelInfo, ...] = MODELS) -> None:
        self.models = models
        self._by_id = {model_id: model for model in models for model_id in model.ids()}

    def find(self, model_id: str) -> ModelInfo | None:
        """The model behind `model_id`, or None when the emulator does not know it."""
        return self._by_id.get(model_id)

    def find_or_default(self, model_id: str) -> ModelInfo:
        """The model behind `model_id`, or the default model when the id hides it (an application inference
        profile ARN) or is unknown: its rules are the ones to check a request against."""
        found = self.find(model_id) or self.find(DEFAULT_MODEL_ID)
        assert found is not None  # the default model is in every catalog this project builds
        return found

    def override(self, base_id: str, *, min_tokens: int | None = None, supports_1h: bool | None = None) -> Catalog:
        """A copy of this catalog with one model's minimum or 1h support changed."""
        if not any(model.base_id == base_id for model in self.models):
            known = ", ".join(model.base_id for model in self.models)
            raise ValueError(f"Unknown model {base_id!r}: choose one of {known}.")
        changed = []
        for model in self.models:
            if model.base_id == base_id:
                model = replace(
                    model,
                    min_tokens=model.min_tokens if min_tokens is None else min_tokens,
                    supports_1h=model.supports_1h if supports_1h is None else supports_1h,
                )
            changed.append(model)
        return Catalog(tuple(changed))
