"""How the audit reaches S3: the endpoint, region and credentials resolved once where the command runs, and a boto3
client built from them wherever an object is read (in this process, or on a Dask worker that has none of the
settings), with a deadline so a slow object is skipped and named rather than waited on."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..errors import CachingError, redact
from ..settings import S3_ENDPOINT_VARIABLE, check_endpoint, setting

READ_SECONDS = 60.0  # the S3 read deadline: an object that sends nothing for this long is skipped (and named)
CONNECT_SECONDS = 10.0
ATTEMPTS = 2  # tries of each S3 request, botocore's retry of a timeout included


@dataclass(frozen=True)
class S3Access:
    """What a boto3 S3 client needs, as plain values a Dask worker can be sent. The secret never shows in a repr."""

    endpoint: str | None = None
    region: str | None = None
    key_id: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    read_seconds: float = READ_SECONDS

    @classmethod
    def here(cls, credentials: bool = False) -> S3Access:
        """The settings of this process; with `credentials`, the ones boto3 finds here too (for workers elsewhere,
        so they read with the caller's permissions)."""
        endpoint = setting(S3_ENDPOINT_VARIABLE)
        if endpoint:  # botocore's own refusal would print the URL, password and all
            check_endpoint(endpoint, S3_ENDPOINT_VARIABLE)
        if not credentials:
            return cls(endpoint, read_seconds=READ_SECONDS)
        import boto3

        session = boto3.Session()
        found = session.get_credentials()
        frozen = found.get_frozen_credentials() if found is not None else None
        if frozen is None:  # the workers use their own (an instance role, say)
            return cls(endpoint, session.region_name, read_seconds=READ_SECONDS)
        return cls(endpoint, session.region_name, frozen.access_key, frozen.secret_key, frozen.token, READ_SECONDS)

    def client(self) -> Any:
        """A boto3 S3 client (one per process for the same access: building one takes some milliseconds)."""
        return _client(self)


@lru_cache(maxsize=8)
def _client(access: S3Access) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_SECONDS,
        read_timeout=access.read_seconds,
        retries={"total_max_attempts": ATTEMPTS, "mode": "standard"},
    )
    try:
        return boto3.client(
            "s3",
            endpoint_url=access.endpoint,
            region_name=access.region,
            aws_access_key_id=access.key_id,
            aws_secret_access_key=access.secret,
            aws_session_token=access.token,
            config=config,
        )
    except ValueError:  # a host botocore will not take ("bad host")
        raise CachingError(
            f"{S3_ENDPOINT_VARIABLE} is not a URL botocore accepts, got {redact(access.endpoint or '')[:80]!r}: "
            "use one like http://127.0.0.1:9000."
        ) from None
