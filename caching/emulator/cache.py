"""The prompt cache: Bedrock's documented rules for when a request reads, writes or skips.

Rules (shared/reference/bedrock-prompt-caching.md):
- An entry's key is the exact bytes of the prefix up to a checkpoint, plus the model id, plus the account.
  Two accounts never share an entry, even for identical bytes.
- Read: at each checkpoint, look for an entry an earlier request wrote at that boundary or at up to 20 block
  boundaries before it (the lookback). The longest prefix found anywhere is read.
- Write: at every checkpoint after the read point whose cumulative prefix reaches the model's minimum.
  cacheWriteInputTokens = tokens from the read point to the last written checkpoint; inputTokens = the rest.
- Below the minimum nothing is written and nothing fails.
- TTL: 5m unless the checkpoint says 1h; a hit refreshes the entries it read; an expired entry is a miss.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from .catalog import DEFAULT_MODEL_ID, ModelInfo
from .prompt import TTL_SECONDS, Block, Prompt, linearize
from .records import BELOW_MINIMUM, BEYOND_LOOKBACK, COVERED, EXPIRED, NEW_PREFIX, OTHER_ACCOUNT, CheckpointOutcome

LOOKBACK_BLOCKS = 20


@dataclass
class Entry:
    ttl: str
    expires_at: float


class CacheResult(NamedTuple):
    """What one request did to the cache, in tokens, with the outcome of each checkpoint."""

    read_tokens: int
    write_tokens: int
    input_tokens: int
    write_1h_tokens: int
    write_5m_tokens: int
    read_position: int
    checkpoints: tuple[CheckpointOutcome, ...]


def next_digest(previous: str, block: Block) -> str:
    """The digest of a prefix one block longer than the prefix whose digest is `previous`."""
    return hashlib.sha256(previous.encode() + b"\x00" + block.data).hexdigest()


def prefix_digests(prompt: Prompt) -> list[str]:
    """digests[i] identifies the first i blocks: a hash chain, so each prefix costs one step."""
    digests = [hashlib.sha256(b"").hexdigest()]
    for block in prompt.blocks:
        digests.append(next_digest(digests[-1], block))
    return digests


def cache_keys(request: dict[str, Any], model_id: str, account: str) -> dict[str, str]:
    """The key of each checkpoint's prefix in a Converse request: {where: hex digest of account, model and bytes}."""
    from .catalog import Catalog

    model = Catalog().find(model_id)
    if model is None:
        raise ValueError(f"Unknown model id {model_id!r}: use one of the catalog's ids, e.g. {DEFAULT_MODEL_ID}.")
    prompt = linearize(request, model)
    digests = prefix_digests(prompt)
    return {
        p.where: hashlib.sha256(f"{account}|{model_id}|{digests[p.position]}".encode()).hexdigest()
        for p in prompt.checkpoints
    }


class PromptCache:
    """Entries per (model id, prefix digest) and account, with expiry on an injectable clock."""

    def __init__(self, clock: Callable[[], float], lookback: int = LOOKBACK_BLOCKS) -> None:
        self.clock = clock
        self.lookback = lookback
        self._entries: dict[tuple[str, str], dict[str, Entry]] = {}

    def __len__(self) -> int:
        now = self.clock()
        return sum(1 for by_account in self._entries.values() for e in by_account.values() if e.expires_at > now)

    def apply(
        self,
        prompt: Prompt,
        model: ModelInfo,
        model_id: str,
        account: str,
        digests: list[str] | None = None,
        explain: bool = True,
    ) -> CacheResult:
        """Read, write and refresh entries for one request; return the tokens of each kind.

        `digests` (from `prefix_digests`) may be passed in by a caller that extends prompts block by block.
        With `explain=False` (the traffic planner) the per-checkpoint outcomes and miss reasons are not built.
        """
        now = self.clock()
        digests = digests or prefix_digests(prompt)
        tokens_before = prompt.cumulative
        entries, points, lookback = self._entries, prompt.checkpoints, self.lookback

        def entry(position: int) -> Entry | None:
            by_account = entries.get((model_id, digests[position]))
            return by_account.get(account) if by_account else None

        # 1. Each checkpoint looks at its own boundary, then back over up to `lookback` earlier boundaries; the
        # longest prefix found is read. Later checkpoints look first: once one finds an entry, an earlier one cannot
        # find a longer prefix, because any boundary past that find and before the earlier checkpoint also lies in
        # the later checkpoint's window, which was searched from the top down.
        read_position = 0
        for point in reversed(points):
            for position in range(point.position, max(0, point.position - lookback - 1), -1):
                found = entry(position)
                if found is not None and found.expires_at > now:
                    read_position = position
                    break
            if read_position:
                break
        read_tokens = tokens_before[read_position]
        # The read is credited to the first checkpoint whose window holds it (its own boundary, or up to 20 back).
        reader = (
            next((i for i, p in enumerate(points) if p.position >= read_position >= p.position - lookback), None)
            if read_position
            else None
        )

        # 2. Why each other checkpoint missed, judged on the cache as it was before this request changed it.
        misses = (
            {
                i: self._why_missed(p.position, digests, account, model_id, now)
                for i, p in enumerate(points)
                if p.position > read_position and i != reader
            }
            if explain
            else {}
        )

        # 3. Refresh what was read: the entry itself and this request's own checkpoints inside it.
        if read_position:
            for position in {read_position, *(p.position for p in points if p.position <= read_position)}:
                refreshed = entry(position)
                if refreshed is not None and refreshed.expires_at > now:
                    refreshed.expires_at = now + TTL_SECONDS[refreshed.ttl]

        # 4. Write at every checkpoint past the read point that reaches the model's minimum.
        outcomes: list[CheckpointOutcome] = []
        last_write = {"1h": 0, "5m": 0}
        for index, point in enumerate(prompt.checkpoints):
            tokens = tokens_before[point.position]
            reads = index == reader
            action, reason, miss, detail = ("read" if reads else "skip"), ("" if reads else COVERED), "", ""
            if point.position > read_position:
                if explain and not reads:
                    miss, detail = misses[index]
                if tokens < model.min_tokens:
                    reason, detail = BELOW_MINIMUM, f"{tokens:,} < {model.min_tokens:,} tokens for {model.short}"
                else:
                    by_account = self._entries.setdefault((model_id, digests[point.position]), {})
                    by_account[account] = Entry(point.ttl, now + TTL_SECONDS[point.ttl])
                    last_write[point.ttl] = point.position
                    action, reason = ("read+write" if reads else "write"), ""
            if explain:
                outcomes.append(
                    CheckpointOutcome(
                        where=point.where,
                        position=point.position,
                        prefix_tokens=tokens,
                        ttl=point.ttl,
                        action=action,
                        reason=reason,
                        miss=miss,
                        read_distance=point.position - read_position if reads else -1,
                        detail=detail,
                        minimum=model.min_tokens,
                    )
                )

        # 5. Tokens: the 1h writes come first (TTLs never increase along the prompt), then the 5m ones.
        end_1h = max(last_write["1h"], read_position)
        end = max(end_1h, last_write["5m"])
        write_1h = tokens_before[end_1h] - read_tokens
        write_5m = tokens_before[end] - tokens_before[end_1h]
        return CacheResult(
            read_tokens=read_tokens,
            write_tokens=write_1h + write_5m,
            input_tokens=prompt.total_tokens - read_tokens - write_1h - write_5m,
            write_1h_tokens=write_1h,
            write_5m_tokens=write_5m,
            read_position=read_position,
            checkpoints=tuple(outcomes),
        )

    def forget(self, model_id: str, digests: list[str]) -> None:
        """Drop the entries of these prefixes (the traffic planner forgets a finished conversation)."""
        for digest in digests:
            self._entries.pop((model_id, digest), None)

    def _why_missed(
        self, position: int, digests: list[str], account: str, model_id: str, now: float
    ) -> tuple[str, str]:
        """Why no entry was read at this checkpoint: the nearest explanation, with details."""
        window = range(position, max(0, position - self.lookback - 1), -1)
        for p in window:
            entry = self._entries.get((model_id, digests[p]), {}).get(account)
            if entry is not None and entry.expires_at <= now:
                idle = round(now - entry.expires_at + TTL_SECONDS[entry.ttl])
                where = f", {position - p} blocks back" if p != position else ""
                return EXPIRED, f"{entry.ttl} entry last used {idle // 60}m{idle % 60:02d}s ago{where}"
        for p in range(position - self.lookback - 1, 0, -1):
            entry = self._entries.get((model_id, digests[p]), {}).get(account)
            if entry is not None and entry.expires_at > now:
                return BEYOND_LOOKBACK, f"cached prefix {position - p} blocks before this checkpoint"
        for p in window:
            others = self._entries.get((model_id, digests[p]), {})
            if any(who != account and e.expires_at > now for who, e in others.items()):
                return OTHER_ACCOUNT, ""
        return NEW_PREFIX, ""
