"""The one seam to the network: an offline emulator by default, real Bedrock with --live.

Everything that calls Bedrock gets its model or client from a `Backend` made by `connect`; every client it hands out
has the call recorder attached, offline and live, so the doctor can read any run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from .emulator import MODELS, SECOND_ACCESS_KEY, Catalog, Emulator
from .errors import redact
from .live import NO_CREDENTIALS
from .pricing import prices_for
from .rules import system_clock
from .rules.catalog import PROFILES_4
from .settings import Settings, SettingsError
from .strands.recorder import CallRecorder
from .strands.tracking import DoctorReasons, EmulatorReasons, UsageTracker

if TYPE_CHECKING:
    from strands.models import BedrockModel

    from .strands.approaches import ApproachSetup


@dataclass
class Backend:
    """Where model calls go: a boto3 session on the emulator or on AWS, with a recorder on every client."""

    settings: Settings
    emulator: Emulator | None
    session: boto3.Session
    recorder: CallRecorder

    @property
    def live(self) -> bool:
        return self.settings.live

    @property
    def banner(self) -> str:
        """One line saying where calls go."""
        if not self.live:
            return "Offline: calls go to the local Bedrock emulator (no AWS needed); add --live for real Bedrock."
        if self.settings.endpoint_url:  # a local emulator or a proxy: whoever answers there decides what it costs
            return f"Live: calls go to {redact(self.settings.endpoint_url)} as {self.settings.model_id}."
        where = f"Bedrock in {self.settings.region}"
        return f"Live: calls go to {where} as {self.settings.model_id}; they are billed to your AWS account."

    @property
    def _endpoint(self) -> str | None:
        return self.settings.endpoint_url if self.live else None

    def tracker(self) -> UsageTracker:
        """A UsageTracker whose reason column comes from the emulator's records offline, from the doctor live."""
        if self.emulator is not None:
            return UsageTracker(explain=EmulatorReasons(self.emulator), estimated=True)
        return UsageTracker(explain=DoctorReasons(self.recorder))

    def model(self, approach: ApproachSetup) -> BedrockModel:
        """A Strands BedrockModel for `approach` (from `setup`) on this backend, with the recorder attached."""
        model = approach.model(self.settings.model_id, boto_session=self.session, endpoint_url=self._endpoint)
        self.recorder.attach(model.client)
        return model

    def client(self, label: str | None = None) -> Any:
        """A plain boto3 bedrock-runtime client on this backend, for code that calls Converse directly; `label`
        names its calls in the recording."""
        client = self.session.client("bedrock-runtime", endpoint_url=self._endpoint)
        self.recorder.attach(client, label)
        return client

    def second_account(self) -> Backend:
        """The same backend as seen from another AWS account: offline a second key id on the same emulator, live
        the profile named by --second-profile."""
        if self.emulator is not None:
            session = self.emulator.session(SECOND_ACCESS_KEY, self.settings.region)
        elif self.settings.second_profile:
            session = live_session(self.settings, self.settings.second_profile)
        else:
            raise SettingsError(
                "No second AWS account is set: pass --second-profile NAME (a profile of another account)."
            )
        return Backend(self.settings, self.emulator, session, self.recorder)


def live_session(settings: Settings, profile: str | None = None) -> boto3.Session:
    """A boto3 session from the default credential chain, or a clear error when there are no credentials."""
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.Session(region_name=settings.region, profile_name=profile)
    except ProfileNotFound as exc:
        name = exc.kwargs.get("profile") or profile
        raise SettingsError(
            f"The AWS profile {name!r} is not configured: check ~/.aws/config, or set AWS_PROFILE to one that is."
        ) from None
    if session.get_credentials() is None:
        raise SettingsError(NO_CREDENTIALS)
    return session


def connect(settings: Settings, clock: Callable[[], float] = system_clock, emulator: Emulator | None = None) -> Backend:
    """The backend for `settings`: a fresh offline emulator (or the one given), or a live session.

    Fails early, with one clear line, on a model the emulator does not know (offline) or that cannot be priced.
    """
    model = Catalog().find(settings.model_id)
    if not settings.live and model is None:
        known = ", ".join(m.base_id for m in MODELS)
        prefixes = sorted({prefix for m in MODELS for prefix in m.profiles if prefix}, key=PROFILES_4.index)
        raise SettingsError(
            f"The offline emulator does not know model {settings.model_id!r}: use one of {known}, with an optional "
            f"inference-profile prefix where the model has one ({', '.join(prefixes)})."
        )
    if model is not None and settings.ttl == "1h" and not model.supports_1h:
        raise SettingsError(f"{model.name} has no 1h cache TTL: pass --ttl 5m, or a --model that offers 1h.")
    prices_for(settings.model_id, settings.prices_file)
    if settings.live:
        session, emulator = live_session(settings), None
    else:
        emulator = emulator or Emulator(clock=clock)
        session = emulator.session(region=settings.region)
        clock = emulator.clock
    recorder = CallRecorder(settings.record, clock=time.time if settings.live else clock)
    return Backend(settings, emulator, session, recorder)
