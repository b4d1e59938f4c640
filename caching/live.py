"""What to tell a user when a live call fails: one line that says what to do."""

from __future__ import annotations

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError
from strands.types.exceptions import ModelThrottledException

from .errors import redact
from .settings import Settings

# What to do without credentials, in the terms of both ways in: the flag, and make's targets.
NO_CREDENTIALS = (
    "No AWS credentials found: run `aws configure` (or set AWS_PROFILE), or use the offline emulator: drop --live "
    "(with make: `make run` instead of `make live`)."
)


def is_fatal(exc: BaseException) -> bool:
    """True for a failure that every later call would meet too: no connection, no credentials, no access."""
    if isinstance(exc, (EndpointConnectionError, NoCredentialsError, NoRegionError)):
        return True
    code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
    return code in ("AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException")


def explain_error(exc: BaseException, settings: Settings) -> str | None:
    """One sentence for a known failure of a Bedrock call, or None when it is not one we can explain."""
    model, region = settings.model_id, settings.region
    if isinstance(exc, NoCredentialsError):
        return NO_CREDENTIALS
    if isinstance(exc, NoRegionError):
        return "No AWS region is set: pass --region (for example us-east-1) or set CACHING_REGION in .env."
    if isinstance(exc, EndpointConnectionError):
        url = redact(str(exc.kwargs.get("endpoint_url")))
        if settings.endpoint_url:
            return f"Cannot reach the endpoint {url}: check that it is running, or fix CACHING_ENDPOINT_URL."
        return f"Cannot reach Bedrock at {url}: check --region {region!r} and your network."
    if isinstance(exc, ModelThrottledException):
        return (
            f"Bedrock is still throttling {model} after retries with backoff: wait a minute and try again, "
            "or ask for a higher quota in Service Quotas."
        )
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        if code == "AccessDeniedException":
            return (
                f"Your AWS identity has no access to {model} in {region}: enable the model under Bedrock > Model "
                "access and allow bedrock:InvokeModelWithResponseStream, or pick another --model/--region."
            )
        if code in ("UnrecognizedClientException", "ExpiredTokenException", "InvalidSignatureException"):
            return f"AWS rejected your credentials ({code}): refresh them (for example `aws sso login`) and try again."
        if code == "ValidationException" and "model identifier is invalid" in message:
            return (
                f"Model id {model!r} is not offered in {region}: check --model and --region (try the global. profile)."
            )
        if code in ("ThrottlingException", "ServiceQuotaExceededException"):
            return f"Bedrock is throttling {model} ({code}): wait a minute and try again, or ask for a higher quota."
        if code == "ResourceNotFoundException":
            return f"Bedrock does not know {model} in {region}: check --model and --region."
        return f"Bedrock refused the request ({code}: {message}): check --model {model!r} and --region {region!r}."
    return None
