"""`caching lint` and `caching diff`: check a saved request before it costs anything, and say why one request would
miss what another cached. Both stand on the rules engine; token counts are the offline estimate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CachingError
from ..rules import DEFAULT_MODEL_ID, LOOKBACK_BLOCKS, Catalog, History, ModelInfo, Prompt, RequestRejected, linearize
from ..rules.diagnosis import REQUEST_ID, TIMESTAMP
from ..rules.messages import converse_form
from ..rules.prompt import check_layout

ERROR, WARNING = "error", "warning"
NEAR_MINIMUM = 1.25  # within 25% above the minimum, an estimate may be on the wrong side of it live


@dataclass(frozen=True)
class Finding:
    """One problem in a request: how bad (error or warning), where, and what to do."""

    level: str
    code: str
    place: str
    message: str


@dataclass(frozen=True)
class Saved:
    """A saved request: its Converse form, the API it was sent through, the model, and the body as written."""

    request: dict[str, Any]
    api: str
    model: ModelInfo
    model_id: str
    body: dict[str, Any]
    rejected: str = ""  # why Bedrock would refuse the body outright, if it would


def load(path: str, model_id: str | None = None) -> Saved:
    """A Converse request or an InvokeModel (Messages) body from a JSON file; `model_id` overrides its modelId."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CachingError(f"Cannot read {path!r} ({exc.strerror}): pass a JSON file holding a request.") from None
    except RecursionError:
        raise CachingError(f"{path!r} nests JSON too deeply to be a request: save the request body as JSON.") from None
    except ValueError as exc:
        raise CachingError(
            f"{path!r} is not a JSON request ({str(exc)[:80]}): save the request body as JSON."
        ) from None
    if not isinstance(body, dict):
        raise CachingError(f"{path!r} holds {type(body).__name__}, not a request object: save the request body.")
    chosen = model_id or str(body.get("modelId") or DEFAULT_MODEL_ID)
    model = Catalog().find(chosen)
    if model is None:
        # An application inference profile ARN hides the model: lint with the default model's rules.
        model = Catalog().find(DEFAULT_MODEL_ID)
        assert model is not None
    api = "invoke" if "anthropic_version" in body else "converse"
    try:
        request = converse_form(body) if api == "invoke" else {k: v for k, v in body.items() if k != "modelId"}
    except RequestRejected as exc:
        return Saved({}, api, model, chosen, body, str(exc))
    return Saved(request, api, model, chosen, body)


def lint(saved: Saved) -> list[Finding]:
    """Everything in a saved request that would make caching fail, cost more, or stop working."""
    found: list[Finding] = []
    if "claude" not in saved.model_id and "anthropic" not in saved.model_id:
        found.append(
            Finding(
                WARNING,
                "auto-off",
                "modelId",
                f"Strands' automatic caching stays off for {saved.model_id[:80]!r} (it needs 'claude' or 'anthropic' "
                'in the id, which an application inference profile ARN hides): use CacheConfig(strategy="anthropic")',
            )
        )
    if saved.api == "invoke" and isinstance(saved.body.get("system"), str):
        found.append(
            Finding(
                WARNING,
                "string-system",
                "system",
                "the system prompt is a plain string, which cannot carry cache_control: send it as a list of text blocks",
            )
        )
    if saved.rejected:
        return [*found, Finding(ERROR, "rejected", "request", f"Bedrock would reject this request: {saved.rejected}")]
    try:
        check_layout(saved.request, saved.model)
        prompt = linearize(saved.request, saved.model, saved.api)
    except RequestRejected as exc:
        return [*found, Finding(ERROR, "rejected", "request", f"Bedrock would reject this request: {exc}")]
    if not prompt.checkpoints:
        found.append(Finding(WARNING, "no-checkpoint", "request", "no cachePoint: nothing in this request is cached"))
    return found + _dynamic_text(saved, prompt) + _sizes(saved.model, prompt) + _reach(prompt)


def _dynamic_text(saved: Saved, prompt: Prompt) -> list[Finding]:
    last = prompt.checkpoints[-1].position if prompt.checkpoints else 0
    found = []
    for block in prompt.blocks[:last]:
        item = block.place.block_in(saved.request)
        text = item.get("text") if isinstance(item, dict) else None
        for pattern, looks_like in ((TIMESTAMP, "a timestamp"), (REQUEST_ID, "a request id")):
            match = pattern.search(text) if isinstance(text, str) else None
            if match:
                found.append(
                    Finding(
                        ERROR,
                        "dynamic-text",
                        str(block.place),
                        f"{match.group()!r} looks like {looks_like} before a checkpoint: every request writes a new "
                        "entry; move it after the last cachePoint",
                    )
                )
    return found


def _sizes(model: ModelInfo, prompt: Prompt) -> list[Finding]:
    found = []
    for point in prompt.checkpoints:
        tokens = prompt.tokens_before(point.position)
        if tokens < model.min_tokens:
            message = f"~{tokens:,} tokens before it, below {model.name}'s minimum of {model.min_tokens:,}: nothing is cached here"
            found.append(Finding(ERROR, "below-minimum", str(point.place), message))
        elif tokens < model.min_tokens * NEAR_MINIMUM:
            message = (
                f"~{tokens:,} tokens before it, within 25% of {model.name}'s minimum of {model.min_tokens:,}: the count "
                "is an estimate, so live it may fall below; add some margin"
            )
            found.append(Finding(WARNING, "near-minimum", str(point.place), message))
    return found


def _reach(prompt: Prompt) -> list[Finding]:
    found = []
    for earlier, later in zip(prompt.checkpoints, prompt.checkpoints[1:], strict=False):
        gap = later.position - earlier.position
        if gap > LOOKBACK_BLOCKS:
            found.append(
                Finding(
                    WARNING,
                    "beyond-lookback",
                    str(later.place),
                    f"{gap} blocks since the checkpoint at {earlier.place}: more than the {LOOKBACK_BLOCKS}-block "
                    "lookback, so a request that ends here cannot find that entry; add a checkpoint in between",
                )
            )
    return found


def as_github(findings: list[Finding], path: str) -> str:
    """GitHub Actions workflow commands: one annotation a finding."""
    return "\n".join(f"::{f.level} file={path},title=caching {f.code} at {f.place}::{f.message}" for f in findings)


def diff(before: Saved, after: Saved) -> tuple[bool, str]:
    """Whether `after` would read everything `before` cached, and why not: (reads all, one sentence)."""
    if before.model_id != after.model_id:
        return False, f"the model differs ({before.model_id} vs {after.model_id}): entries are kept per model"
    if before.api != after.api:
        return (
            False,
            "one goes through Converse, the other through InvokeModel: they build different prompts and never share an entry",
        )
    if before.rejected or after.rejected:
        return False, f"Bedrock would reject one of them: {before.rejected or after.rejected}"
    try:
        old = linearize(before.request, before.model, before.api)
        new = linearize(after.request, after.model, after.api)
    except RequestRejected as exc:
        return False, f"Bedrock would reject one of them: {exc}"
    if not old.checkpoints:
        return False, "the first request has no cachePoint, so it cached nothing"
    shared = next(
        (i for i, (a, b) in enumerate(zip(old.blocks, new.blocks, strict=False)) if a.data != b.data),
        min(len(old.blocks), len(new.blocks)),
    )
    cached = [p for p in old.checkpoints if p.position <= shared] if old.variant == new.variant else []
    last = old.checkpoints[-1]
    if cached and cached[-1] == last:
        return (
            True,
            f"the second request reads all the first cached: ~{old.tokens_before(last.position):,} tokens up to {last.place}",
        )
    history = History()
    history.remember(before.model_id, "lint", old, [], before.request)
    why = history.what_changed(after.model_id, "lint", new, [], after.request, 0)
    if why.startswith("first request like this"):
        why = "the two requests share no prefix"
    elif why.startswith("the conversation moved on"):
        why = "the second request ends before the first one's later checkpoints"
    if cached:
        point = cached[-1]
        return False, f"reads ~{old.tokens_before(point.position):,} tokens up to {point.place}, then misses: {why}"
    return False, f"misses everything the first cached: {why}"
