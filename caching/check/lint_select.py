"""Which lint rules report: `--select` / `--ignore CODE,...`, or `select` / `ignore` lists in the
`[tool.caching.lint]` table of the pyproject.toml in the current folder (a flag replaces the table's key of the same
name). A code that names no rule is one sentence and exit 2, never silently ignored."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import limits
from ..errors import CachingError
from ..files import read_limited
from ..rules.lint_rules import RULES
from ..rules.verdict import Finding

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TABLE = "[tool.caching.lint]"


@dataclass(frozen=True)
class Selection:
    """The rules that report: `select` (None: every rule) less `ignore`."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()

    def keeps(self, finding: Finding) -> bool:
        return (self.select is None or finding.code in self.select) and finding.code not in self.ignore


def codes(value: Any, where: str) -> frozenset[str]:
    """The rule codes in a list (a flag's value split at its commas, or a TOML list), each checked against the
    catalogue."""
    if not isinstance(value, list):
        raise CachingError(f'{where} is {type(value).__name__}, not a list of rule codes: write ["dynamic-text"].')
    found = set()
    for item in value:
        code = item.strip() if isinstance(item, str) else item
        if code == "":
            continue
        if not isinstance(code, str) or code not in RULES:
            raise CachingError(
                f"{where} names {str(code)[:60]!r}, which is no lint rule: `caching lint --rules` lists the codes."
            )
        found.add(code)
    return frozenset(found)


def table(folder: Path) -> dict[str, Any]:
    """The [tool.caching.lint] table of `folder`/pyproject.toml ({} when there is no file or no table)."""
    path = folder / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = read_limited(path, "a pyproject.toml", limits.LARGEST_CONFIG, limits.named("LARGEST_CONFIG"))
        parsed = tomllib.loads(data.decode("utf-8"))
    except OSError as exc:
        raise CachingError(f"Cannot read {str(path)!r} ({exc.strerror}): fix its permissions or remove it.") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        reason = str(exc)[:80] if not isinstance(exc, RecursionError) else "nested too deep"
        raise CachingError(f"{str(path)!r} is not valid TOML ({reason}): fix it to use {TABLE}.") from None
    found: Any = parsed
    for key in ("tool", "caching", "lint"):
        found = found.get(key, {}) if isinstance(found, dict) else {}
    if not isinstance(found, dict):
        raise CachingError(f"{TABLE} in {str(path)!r} is not a table: write select = [...] under it.")
    extra = sorted(set(found) - {"select", "ignore"})
    if extra:
        raise CachingError(f"{TABLE} in {str(path)!r} has {extra[0][:40]!r}: only select and ignore are read.")
    return found


def selection(select: str | None, ignore: str | None, folder: Path | None = None) -> Selection:
    """The flags' codes over the pyproject table's (read from `folder`, the current folder by default)."""
    config = table(Path() if folder is None else folder)
    chosen = codes(select.split(","), "--select") if select is not None else None
    if chosen is None and "select" in config:
        chosen = codes(config["select"], f"{TABLE} select")
    ignored = (
        codes(ignore.split(","), "--ignore")
        if ignore is not None
        else codes(config.get("ignore", []), f"{TABLE} ignore")
    )
    return Selection(chosen, ignored)
