"""`caching lint` and `caching diff`: check a saved request before it costs anything, and say why one request would
miss what another cached. Both stand on the rules engine; token counts are the offline estimate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CachingError
from ..rules import API, DEFAULT_MODEL_ID, Catalog, Diagnosis, Kind, ModelInfo, RequestRejected, linearize
from ..rules.compare import Comparison, Sent, compare
from ..rules.messages import converse_form
from ..rules.prompt import check_layout
from ..rules.severity import Severity
from ..rules.verdict import Finding, findings, rejected

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


@dataclass(frozen=True)
class Saved:
    """A saved request: its Converse form, the API it was sent through, the model, and the body as written."""

    request: dict[str, Any]
    api: API
    model: ModelInfo
    model_id: str
    body: dict[str, Any]
    rejected: RequestRejected | None = None  # why Bedrock would refuse the body outright, if it would


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
    api = API.of_body(body)
    try:
        request = converse_form(body) if api == API.INVOKE else {k: v for k, v in body.items() if k != "modelId"}
    except RequestRejected as exc:
        return Saved({}, api, model, chosen, body, exc)
    return Saved(request, api, model, chosen, body)


def lint(saved: Saved) -> list[Finding]:
    """Everything in a saved request that would make caching fail, cost more, or stop working (see
    `rules.verdict` for what each level means)."""
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
    if saved.api == API.INVOKE and isinstance(saved.body.get("system"), str):
        found.append(
            Finding(
                WARNING,
                "string-system",
                "system",
                "the system prompt is a plain string, which cannot carry cache_control: send it as a list of text blocks",
            )
        )
    if saved.rejected is not None:
        return [*found, rejected(saved.rejected)]
    try:
        check_layout(saved.request, saved.model)
        prompt = linearize(saved.request, saved.model, saved.api)
    except RequestRejected as exc:
        return [*found, rejected(exc)]
    return found + findings(prompt, saved.request, saved.model)


def as_github(found: list[Finding], path: str) -> str:
    """GitHub Actions workflow commands: one annotation a finding."""
    return "\n".join(f"::{f.level.github} file={path},title=caching {f.code} at {f.place}::{f.message}" for f in found)


def diff(before: Saved, after: Saved) -> Comparison:
    """What `after` reads of what `before` cached, run through the rules engine, and why it misses the rest."""
    for saved in (before, after):
        if saved.rejected is not None:
            return _refused(saved.rejected)
    try:
        return compare(_sent(before), _sent(after))
    except RequestRejected as exc:
        return _refused(exc)


def _sent(saved: Saved) -> Sent:
    return Sent(saved.request, saved.body, saved.api, saved.model, saved.model_id)


def _refused(exc: RequestRejected) -> Comparison:
    refused = Diagnosis(Kind.REJECTED, exc.advice)
    return Comparison(False, 0, "", refused, f"Bedrock would reject one of them: {exc.advice}")
