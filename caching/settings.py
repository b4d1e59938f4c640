"""Settings in one place: `.env`, then environment variables, then command-line flags (which win).

Every key is listed in .env.example. Offline is the default; `--live` or CACHING_BACKEND=live goes to real Bedrock.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from dotenv import dotenv_values

from .errors import CachingError, redact
from .rules import DEFAULT_MODEL_ID, TTLS
from .rules.approaches import DEFAULT as DEFAULT_APPROACH
from .rules.approaches import NAMES as EVERY_APPROACH

BACKENDS = ("offline", "live")
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]{1,2}")
ENV_FILE_VARIABLE = "CACHING_ENV_FILE"
PRICES_FILE_VARIABLE = "CACHING_PRICES_FILE"
S3_ENDPOINT_VARIABLE = "CACHING_S3_ENDPOINT_URL"


class SettingsError(CachingError):
    """A setting with a value the project cannot use."""


@dataclass(frozen=True)
class Settings:
    backend: str = "offline"
    model_id: str = DEFAULT_MODEL_ID
    region: str = "us-east-1"
    ttl: str = "5m"
    approach: str = DEFAULT_APPROACH
    endpoint_url: str | None = None
    record: str | None = None
    prices_file: str | None = None
    second_profile: str | None = None

    @property
    def live(self) -> bool:
        return self.backend == "live"


def parser(
    description: str, *, approach: bool = False, ttl: bool = False, second_account: bool = False
) -> argparse.ArgumentParser:
    """The shared flags: --live, --model, --region, --record; --ttl, --approach and --second-profile where the
    program uses them."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--live", action="store_true", default=None, help="call real Bedrock (default: offline emulator)")
    p.add_argument("--model", help=f"Bedrock model id (default {DEFAULT_MODEL_ID})")
    p.add_argument("--region", help="AWS region for live calls (default us-east-1)")
    p.add_argument(
        "--record",
        metavar="FILE.jsonl",
        help="record every model call, for `.venv/bin/caching doctor FILE.jsonl`",
    )
    if ttl:
        p.add_argument("--ttl", help="cache entry lifetime: 5m (default) or 1h")
    if approach:
        p.add_argument("--approach", help=f"caching approach: {', '.join(EVERY_APPROACH)} (default {DEFAULT_APPROACH})")
    if second_account:
        p.add_argument("--second-profile", help="live only: an AWS profile of a second account")
    return p


def environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings' sources merged: the .env file (CACHING_ENV_FILE names another), overridden by the environment."""
    environ = os.environ if environ is None else environ
    env_file = environ.get(ENV_FILE_VARIABLE, ".env")
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if os.path.isfile(env_file) else {}
    values.update(environ)
    return values


def setting(key: str, environ: Mapping[str, str] | None = None) -> str | None:
    """One setting from the environment, else .env (empty counts as unset); cheap enough to ask on every call.

    The environment is asked every time; a .env file is read once per process, by the path it was named with (a
    change to it is seen by the next run, as with every other setting): the audit prices each call, and a stat of
    .env per price was most of that price's cost.
    """
    environ = os.environ if environ is None else environ
    found = environ.get(key)
    if found:
        return found
    return _dotenv(environ.get(ENV_FILE_VARIABLE, ".env")).get(key) or None


@lru_cache(maxsize=8)
def _dotenv(path: str) -> dict[str, str | None]:
    """A .env file's values (none when there is no such file), read once per process."""
    return dotenv_values(path) if os.path.isfile(path) else {}


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """Merge .env, the environment and parsed flags into validated Settings."""
    values = environment(environ)

    def pick(flag: str, key: str, default: str | None) -> str | None:
        given = getattr(args, flag, None)
        return str(given) if given is not None else values.get(key) or default

    backend = "live" if getattr(args, "live", None) else (values.get("CACHING_BACKEND") or "offline").lower()
    settings = Settings(
        backend=backend,
        model_id=pick("model", "CACHING_MODEL", DEFAULT_MODEL_ID) or DEFAULT_MODEL_ID,
        region=pick("region", "CACHING_REGION", values.get("AWS_REGION") or "us-east-1") or "us-east-1",
        ttl=pick("ttl", "CACHING_TTL", "5m") or "5m",
        approach=pick("approach", "CACHING_APPROACH", DEFAULT_APPROACH) or DEFAULT_APPROACH,
        endpoint_url=values.get("CACHING_ENDPOINT_URL") or None,
        record=pick("record", "CACHING_RECORD", None),
        prices_file=values.get(PRICES_FILE_VARIABLE) or None,
        second_profile=pick("second_profile", "CACHING_SECOND_PROFILE", None),
    )
    if settings.backend not in BACKENDS:
        raise SettingsError(f"CACHING_BACKEND must be 'offline' or 'live', got {settings.backend!r}: fix it in .env.")
    if settings.ttl not in TTLS:
        raise SettingsError(f"The cache TTL must be 5m or 1h, got {settings.ttl!r}: pass --ttl 5m or --ttl 1h.")
    if not REGION.fullmatch(settings.region):
        raise SettingsError(
            f"{settings.region[:60]!r} is not an AWS region name: pass --region like us-east-1 or eu-west-1."
        )
    if settings.endpoint_url is not None:
        check_endpoint(settings.endpoint_url)
    if settings.approach not in EVERY_APPROACH:
        raise SettingsError(
            f"Unknown caching approach {settings.approach!r}: pass --approach with one of {', '.join(EVERY_APPROACH)}."
        )
    return settings


def check_endpoint(url: str, variable: str = "CACHING_ENDPOINT_URL") -> None:
    """An endpoint (the setting `variable`) must be an http(s) URL with a host (and a valid port, if any)."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
        raise SettingsError(
            f"{variable} must be an http:// or https:// URL with a host, like http://127.0.0.1:8765; "
            f"got {redact(url)[:80]!r}."
        )
