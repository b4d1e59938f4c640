"""Settings: .env, then the environment, then flags; every key documented in .env.example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from caching.settings import Settings, SettingsError, parser, resolve

ROOT = Path(__file__).parent.parent


def settings(argv: list[str], env: dict[str, str]) -> Settings:
    return resolve(parser("test", approach=True, ttl=True).parse_args(argv), env)


def test_defaults_are_offline() -> None:
    assert settings([], {}) == Settings()


def test_env_file_then_environment_then_flags(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("CACHING_BACKEND=live\nCACHING_MODEL=us.anthropic.claude-sonnet-4-6\nCACHING_TTL=1h\n")
    env = {"CACHING_ENV_FILE": str(env_file), "CACHING_TTL": "5m", "AWS_REGION": "eu-west-1"}
    assert settings([], env) == Settings("live", "us.anthropic.claude-sonnet-4-6", "eu-west-1", "5m")
    assert settings(["--model", "global.anthropic.claude-sonnet-4-6", "--region", "us-west-2"], env) == Settings(
        "live", "global.anthropic.claude-sonnet-4-6", "us-west-2", "5m"
    )


def test_bad_backend_is_one_line() -> None:
    with pytest.raises(SettingsError) as caught:
        settings([], {"CACHING_BACKEND": "cloud"})
    assert str(caught.value) == "CACHING_BACKEND must be 'offline' or 'live', got 'cloud': fix it in .env."


def test_every_setting_read_is_in_env_example() -> None:
    read = set(re.findall(r'"(CACHING_[A-Z_]+)"', "".join(p.read_text() for p in (ROOT / "caching").rglob("*.py"))))
    documented = set(re.findall(r"^#?\s*(CACHING_[A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - {"CACHING_LIVE_TESTS", "CACHING_LIMIT_"} <= documented
    assert any(name.startswith("CACHING_LIMIT_") for name in documented)  # the limits' variables, by one example
    assert "AWS_SECRET_ACCESS_KEY=" not in (ROOT / ".env.example").read_text()


def test_prices_file_set_in_dot_env_prices_a_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from decimal import Decimal

    from caching import Usage, cost_of, prices_for

    prices = tmp_path / "prices.json"
    prices.write_text('{"acme.model-x": {"input": 2, "output": 8, "write_5m": 2.5, "write_1h": 4, "read": 0.2}}')
    env_file = tmp_path / ".env"
    env_file.write_text(f"CACHING_PRICES_FILE={prices}\n")
    monkeypatch.setenv("CACHING_ENV_FILE", str(env_file))
    assert settings([], {"CACHING_ENV_FILE": str(env_file)}).prices_file == str(prices)
    assert prices_for("acme.model-x").read == Decimal("0.2")
    assert cost_of(Usage(inputTokens=1_000_000), "acme.model-x").input == Decimal(2)


def test_a_dot_env_file_is_read_once_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `setting` is asked on every priced call: the file is read the first time (an edit is seen by the next run),
    # while the environment is asked every time and still wins.
    from caching.settings import setting

    env_file = tmp_path / ".env"
    env_file.write_text("CACHING_PRICES_FILE=first.json\n")
    monkeypatch.setenv("CACHING_ENV_FILE", str(env_file))
    monkeypatch.delenv("CACHING_PRICES_FILE", raising=False)
    assert setting("CACHING_PRICES_FILE") == "first.json"
    env_file.write_text("CACHING_PRICES_FILE=second.json\n")
    assert setting("CACHING_PRICES_FILE") == "first.json"
    monkeypatch.setenv("CACHING_PRICES_FILE", "from-the-environment.json")
    assert setting("CACHING_PRICES_FILE") == "from-the-environment.json"
