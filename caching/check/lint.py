"""`caching lint` and `caching diff`: check a request before it costs anything, and say why one request would
miss what another cached. Both take the call value the doctor takes (a saved request is a call not yet sent) and
stand on the rules engine; token counts are the offline estimate.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from .. import limits
from ..call import Call
from ..errors import CachingError
from ..files import read_limited
from ..rules import API, DEFAULT_MODEL_ID, Catalog, Diagnosis, Kind, ModelInfo, RequestRejected, linearize
from ..rules.compare import Comparison, Sent, compare
from ..rules.lint_rules import STRING_SYSTEM, UNKNOWN_MODEL, UNVERIFIED_TTL
from ..rules.messages import converse_form
from ..rules.prompt import Prompt, check_layout
from ..rules.severity import Severity
from ..rules.shape import depth
from ..rules.ttl import TTL
from ..rules.verdict import Finding, findings, model_findings, rejected

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO


def load(path: str, model_id: str | None = None) -> Call:
    """A Converse request or an InvokeModel (Messages) body from a JSON file, as a call not yet sent; `model_id`
    overrides its modelId (a call with neither has the model id "", checked with the default model's rules)."""
    try:
        data = read_limited(path, "a JSON request", limits.LARGEST_REQUEST, limits.named("LARGEST_REQUEST"))
    except OSError as exc:
        raise CachingError(f"Cannot read {path!r} ({exc.strerror}): pass a JSON file holding a request.") from None
    try:
        body = json.loads(data)
    except RecursionError:
        body = None
    except ValueError as exc:
        raise CachingError(
            f"{path!r} is not a JSON request ({str(exc)[:80]}): save the request body as JSON."
        ) from None
    if body is None or depth(body, limits.DEEPEST) > limits.DEEPEST:
        raise CachingError(
            f"{path!r} nests lists and objects over {limits.DEEPEST} levels deep, more than a request "
            f"({limits.named('DEEPEST')})."
        )
    if not isinstance(body, dict):
        raise CachingError(f"{path!r} holds {type(body).__name__}, not a request object: save the request body.")
    chosen = model_id or str(body.get("modelId") or "")
    return Call(agent=path, at=0.0, model_id=chosen, request=body, api=API.of_body(body))


class _Read(NamedTuple):
    """A call as lint and diff read it: its request in Converse's shape, the model's rules, and why Bedrock would
    refuse the body outright, if it would."""

    request: dict[str, Any]
    model: ModelInfo
    rejected: RequestRejected | None


def _read(call: Call) -> _Read:
    # An application inference profile ARN hides the model: such a call is checked with the default model's rules.
    model = Catalog().find_or_default(call.model_id)
    body = call.request or {}
    try:
        request = converse_form(body) if call.api == API.INVOKE else {k: v for k, v in body.items() if k != "modelId"}
    except RequestRejected as exc:
        return _Read({}, model, exc)
    return _Read(request, model, None)


def lint(call: Call) -> list[Finding]:
    """Everything in a call's request that would make caching fail, cost more, or stop working, each under its rule
    (`rules.lint_rules`; `rules.verdict` says what each level means)."""
    read = _read(call)
    found = model_findings(call.model_id, Catalog())
    if call.api == API.INVOKE and isinstance((call.request or {}).get("system"), str):
        message = (
            "the system prompt is a plain string, which cannot carry cache_control: send it as a list of text blocks"
        )
        found.append(Finding.of(STRING_SYSTEM, "system", message))
    if read.rejected is not None:
        return [*found, rejected(read.rejected, read.request, call.api)]
    try:
        check_layout(read.request, read.model)
        prompt = linearize(read.request, read.model, call.api)
    except RequestRejected as exc:
        return [*found, rejected(exc, read.request, call.api)]
    return _unverified_ttl(found, prompt) + findings(prompt, read.request, read.model)


def _unverified_ttl(found: list[Finding], prompt: Prompt) -> list[Finding]:
    """An unknown model with a 1h checkpoint: its 1h support is what cannot be checked, so that is what is said."""
    if not any(point.ttl == TTL.ONE_HOUR for point in prompt.checkpoints):
        return found
    return [
        Finding.of(
            UNVERIFIED_TTL,
            f.place,
            f"{f.message.split(' is not a model')[0]} is not a model this project knows, so whether it offers a 1h "
            "TTL cannot be checked; pass --model with the model it is",
        )
        if f.rule == UNKNOWN_MODEL
        else f
        for f in found
    ]


def as_github(found: list[Finding], path: str) -> str:
    """GitHub Actions workflow commands: one annotation a finding."""
    return "\n".join(f"::{f.level.github} file={path},title=caching {f.code} at {f.place}::{f.message}" for f in found)


def diff(before: Call, after: Call) -> Comparison:
    """What `after` reads of what `before` cached, run through the rules engine, and why it misses the rest."""
    sent = []
    for call in (before, after):
        read = _read(call)
        if read.rejected is not None:
            return _refused(read.rejected)
        sent.append(Sent(read.request, call.request or {}, call.api, read.model, call.model_id or DEFAULT_MODEL_ID))
    try:
        return compare(*sent)
    except RequestRejected as exc:
        return _refused(exc)


def _refused(exc: RequestRejected) -> Comparison:
    refused = Diagnosis(Kind.REJECTED, exc.advice)
    return Comparison(False, 0, "", refused, f"Bedrock would reject one of them: {exc.advice}")
