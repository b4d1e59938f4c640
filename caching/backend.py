"""The one seam to the network: an offline emulator by default, real Bedrock with --live.

Everything that calls Bedrock gets its boto3 session (and the BedrockModel client settings) from `connect`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from .emulator import MODELS, Catalog, Emulator
from .emulator.clock import system_clock
from .pricing import prices_for
from .reasons import DoctorReasons, EmulatorReasons
from .recorder import CallRecorder
from .settings import Settings, SettingsError
from .tracking import UsageTracker


@dataclass
class Backend:
    """Where model calls go: `client` holds the BedrockModel keyword settings (boto_session, endpoint_url)."""

    settings: Settings
    emulator: Emulator | None
    client: dict[str, Any] = field(default_factory=dict)
    recorder: CallRecorder | None = None

    @property
    def live(self) -> bool:
        return self.settings.live

    @property
    def banner(self) -> str:
        """One line saying where calls go."""
        if not self.live:
            return "Offline: calls go to the local Bedrock emulator (no AWS needed); add --live for real Bedrock."
        where = self.settings.endpoint_url or f"Bedrock in {self.settings.region}"
        return f"Live: calls go to {where} as {self.settings.model_id}; they are billed to your AWS account."

    def tracker(self) -> UsageTracker:
        """A UsageTracker whose reason column comes from the emulator's records offline, from the doctor live."""
        if self.emulator is not None:
            return UsageTracker(explain=EmulatorReasons(self.emulator))
        return UsageTracker(explain=DoctorReasons(self.recorder) if self.recorder else None)

    def bedrock_client(self) -> Any:
        """A plain boto3 bedrock-runtime client on this backend, for code that calls Converse directly."""
        return self.client["boto_session"].client("bedrock-runtime", endpoint_url=self.client.get("endpoint_url"))

    def session(self, access_key_id: str | None = None, profile: str | None = None) -> boto3.Session:
        """Another session on this backend: offline a second account by key id, live a named AWS profile."""
        if self.emulator is not None:
            return self.emulator.session(access_key_id or "AKIAOFFLINEEXAMPLE02", self.settings.region)
        return live_session(self.settings, profile)


def live_session(settings: Settings, profile: str | None = None) -> boto3.Session:
    """A boto3 session from the default credential chain, or a clear error when there are no credentials."""
    try:
        session = boto3.Session(region_name=settings.region, profile_name=profile)
    except Exception as exc:  # botocore raises ProfileNotFound for an unknown profile
        raise SettingsError(f"AWS profile {profile!r} is not configured ({exc}): check ~/.aws/config.") from None
    if session.get_credentials() is None:
        raise SettingsError(
            "No AWS credentials found: run `aws configure` (or set AWS_PROFILE), or drop --live to use the offline emulator."
        )
    return session


def connect(settings: Settings, clock: Callable[[], float] = system_clock) -> Backend:
    """The backend for `settings`: a fresh offline emulator, or a live session.

    Fails early, with one clear line, on a model the emulator does not know (offline) or that cannot be priced.
    """
    if not settings.live and Catalog().find(settings.model_id) is None:
        known = ", ".join(model.base_id for model in MODELS)
        raise SettingsError(
            f"The offline emulator does not know model {settings.model_id!r}: use one of {known}, with an optional "
            "global., us. or eu. prefix."
        )
    prices_for(settings.model_id)
    emulator = None if settings.live else Emulator(clock=clock)
    session = live_session(settings) if emulator is None else emulator.session(region=settings.region)
    client: dict[str, Any] = {"boto_session": session}
    if settings.live and settings.endpoint_url:
        client["endpoint_url"] = settings.endpoint_url
    # Live, the doctor needs every request as sent; offline, recording is only on request (--record).
    recorder = None
    if settings.live or settings.record:
        recorder = CallRecorder(settings.record, clock=time.time if emulator is None else clock).attach(session)
    return Backend(settings, emulator, client, recorder)
