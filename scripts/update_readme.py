"""Regenerate the program output shown in README.md and docs/*.md, so no page drifts from the code.

Run:  .venv/bin/python scripts/update_readme.py        (offline; rewrites the pages in place)
      .venv/bin/python scripts/update_readme.py --check  (exit 1 if a page is out of date)

Each block between `<!-- output: PROGRAM [ARGS] [| head -N or | tail -N] -->` and `<!-- /output -->` is replaced by what PROGRAM
prints offline at 80 columns (an ordinary terminal) (its first or last N lines with `| head -N` or `| tail -N`).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- output: (?P<spec>.+?) -->\n)(?P<body>.*?)(<!-- /output -->)", re.S)
CHAT_INPUT = "What is Python?\nWrite hello world in Python\nquit\n"


def run(argv: list[str], console: Console, stdin: str | None = None) -> int:
    """Run `argv` (a path and its arguments, or `-m module ...`) in this process, printing to `console`; its exit
    code. `stdin` is what the chat reads (the README's two questions unless given)."""
    path, *args = argv
    if path == "-m":  # python -m caching ...
        module, args = importlib.import_module(f"{args[0]}.__main__"), args[1:]
        return int(module.main(args, console))
    module_spec = importlib.util.spec_from_file_location(Path(path).stem, ROOT / path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if path == "main.py":  # the chat reads its questions from a stream
        return int(module.main(args, console, io.StringIO(CHAT_INPUT if stdin is None else stdin)))
    return int(module.main(args, console))


def program_output(command: str) -> str:
    """Everything `command` (a path and its arguments, or `-m module ...`) prints offline at 80 columns."""
    console = Console(file=io.StringIO(), width=80, color_system=None)
    code = run(command.split(), console)
    if code != 0:
        raise SystemExit(f"{command} exited with {code}; fix it before updating the pages.")
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines())


def run_program(spec: str, output: Callable[[str], str] = program_output) -> str:
    """A block's text: the program's output, or its first N lines with `| head -N`, or its last with `| tail -N`."""
    command, _, cut = spec.partition("|")
    lines = output(command.strip()).split("\n")
    if cut.strip().startswith("head -"):
        lines = [*lines[: int(cut.strip().removeprefix("head -"))], "..."]
    elif cut.strip().startswith("tail -"):
        lines = ["...", *lines[-int(cut.strip().removeprefix("tail -")) :]]
    return "\n".join(lines)


def pages() -> list[Path]:
    """Every page that may hold output blocks: README.md, then docs/*.md."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def updated(readme: str, output: Callable[[str], str] = program_output) -> str:
    """The README with every output block replaced by what its program prints now (`output` runs one)."""

    def replace(match: re.Match[str]) -> str:
        return f"{match.group(1)}```text\n{run_program(match.group('spec'), output)}\n```\n{match.group(4)}"

    return BLOCK.sub(replace, readme)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from caching.lab.terminal import HelpFormatter

    flags = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    flags.add_argument("--check", action="store_true", help="exit 1 if a page is out of date; change nothing")
    check = flags.parse_args(argv).check
    os.chdir(ROOT)  # block specs name files relative to the repository, wherever this runs from
    stale, blocks = [], 0
    for page in pages():
        current = page.read_text()
        fresh = updated(current)
        blocks += len(BLOCK.findall(fresh))
        if fresh != current:
            stale.append(page.relative_to(ROOT))
            if not check:
                page.write_text(fresh)
    if check:
        if stale:
            print(f"Out of date: {', '.join(map(str, stale))}: run .venv/bin/python scripts/update_readme.py")
            return 1
        return 0
    print(f"Updated {len(stale)} of {len(pages())} pages ({blocks} output blocks in all).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
