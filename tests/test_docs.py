"""The docs are tested: every page parses with every fence closed, every relative link and #anchor resolves, every
generated output block is what its program prints now, and every command of the project in a ```bash block runs
offline and exits as the page says.

A ```bash block is not run when the HTML comment right before it says why (`<!-- not run: needs AWS credentials -->`);
`<!-- exits 1 -->` there, or `# exit 1` after a command, gives the exit code expected (0 otherwise).
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.console import Console

from .commands.test_cli import documented
from .helpers import ROOT, printed, update_readme

PAGES = update_readme.pages()
MARKDOWN = MarkdownIt("commonmark").enable("table")  # CommonMark, plus the tables GitHub renders
NOT_RUN = re.compile(r"<!-- not run: (?P<why>\S.*?) -->")
EXITS = re.compile(r"<!-- exits (?P<code>\d+) -->")
CLI_PAGE = ROOT / "docs" / "cli.md"  # its commands need the files tests/commands/test_cli.py makes, and it runs them


def name(page: Path) -> str:
    return str(page.relative_to(ROOT) if page.is_relative_to(ROOT) else page)


def tokens(page: Path) -> list[Token]:
    return MARKDOWN.parse(page.read_text())


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but - and _ dropped, each space a hyphen."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every #anchor of `page`: one per heading, the second of a name `-1`, the third `-2`, as GitHub numbers them."""
    found: set[str] = set()
    parsed = tokens(page)
    for index, token in enumerate(parsed):
        if token.type == "heading_open":
            inline = parsed[index + 1].children or []
            base = slug("".join(child.content for child in inline if child.type in ("text", "code_inline")))
            anchor, repeat = base, 0
            while anchor in found:
                repeat += 1
                anchor = f"{base}-{repeat}"
            found.add(anchor)
    return found


def links(page: Path) -> list[str]:
    """The target of every link and image on `page`."""
    targets = []
    for token in tokens(page):
        for child in token.children or []:
            target = child.attrs.get("href") or child.attrs.get("src")
            if child.type in ("link_open", "image") and isinstance(target, str):
                targets.append(target)
    return targets


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_fence_is_closed_and_names_its_language(page: Path) -> None:
    lines = page.read_text().split("\n")
    for token in tokens(page):
        assert token.type != "code_block", f"{name(page)}:{token.map}: an indented code block; fence it"
        if token.type == "fence":
            assert token.map is not None
            first, end = token.map
            closing = lines[end - 1].strip()
            closed = (
                end - first >= 2 and closing == token.markup[0] * len(closing) and len(closing) >= len(token.markup)
            )
            assert closed, f"{name(page)}:{first + 1}: this fence is never closed"
            assert token.info.strip(), f"{name(page)}:{first + 1}: a fence without a language (text, bash, python...)"
            inner = [line for line in token.content.split("\n") if line.lstrip().startswith(token.markup)]
            assert not inner, f"{name(page)}:{first + 1}: {inner[0]!r} inside this fence: text after a closing fence"


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    for target in links(page):
        if re.match(r"[a-z]+:", target):  # https:, mailto:: not followed, the tests stay offline
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if path:
            assert file.is_relative_to(ROOT) and file.exists(), (
                f"{name(page)}: {target}: no such file in the repository"
            )
        if anchor:
            assert file.suffix == ".md", f"{name(page)}: {target}: an anchor into a page that is not Markdown"
            assert anchor in anchors(file), f"{name(page)}: {target}: no such heading (has {sorted(anchors(file))})"


def test_github_anchors_are_made_as_github_makes_them(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# The chat: `main.py`\n## 01: the key\n## Going live\n## Going live\n## What's *new*, v2.0?\n")
    assert anchors(page) == {"the-chat-mainpy", "01-the-key", "going-live", "going-live-1", "whats-new-v20"}


def test_an_unclosed_fence_and_a_broken_link_are_caught(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Page\n\n```text\nout\n``` trailing text\n\n[there](missing.md)\n")
    with pytest.raises(AssertionError, match="never closed"):
        test_every_fence_is_closed_and_names_its_language(page)
    page.write_text("# Page\n\n```bash\nls\n``` and more\n\n```text\nout\n```\n")  # closes, but late
    with pytest.raises(AssertionError, match="text after a closing fence"):
        test_every_fence_is_closed_and_names_its_language(page)
    page.write_text("# Page\n\n[there](#nowhere)\n")
    with pytest.raises(AssertionError, match="no such heading"):
        test_every_relative_link_and_anchor_resolves(page)


@pytest.mark.xdist_group("printed")  # reads the same runs as the example tests
def test_every_output_block_is_what_its_program_prints_now() -> None:
    stale = [name(page) for page in PAGES if update_readme.updated(page.read_text(), printed) != page.read_text()]
    assert stale == [], f"out of date: {stale}: run .venv/bin/python scripts/update_readme.py"
    assert any(update_readme.BLOCK.search(page.read_text()) for page in PAGES)


# The commands of the project in ```bash blocks.


@dataclass(frozen=True)
class Command:
    """One line of a ```bash block that calls the project: where it is, its words, its input and its exit code."""

    page: Path
    line: int
    argv: tuple[str, ...]  # for this process: ("-m", "caching", ...), or a script's path and its arguments
    stdin: str | None
    exits: int
    env: tuple[tuple[str, str], ...] = ()  # `NAME=value caching ...` sets NAME for the command

    def __str__(self) -> str:
        return f"{name(self.page)}:{self.line}"


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    commands: tuple[Command, ...]
    not_run: str | None  # why, when the page says the block is not run

    def __str__(self) -> str:
        return f"{name(self.page)}:{self.line}"


def project_argv(words: list[str]) -> tuple[str, ...] | None:
    """`words` as this process runs them, if they call the project (`make` included); else None."""
    if words[0] == "|":  # piped from something this test cannot run
        return tuple(words) if project_argv(words[1:]) else None
    program = Path(words[0]).name
    if program == "caching":
        return ("-m", "caching", *words[1:])
    if program in ("python", "python3") and len(words) > 1:
        if words[1] == "-m" and len(words) > 2 and words[2].split(".")[0] == "caching":
            return ("-m", *words[2:])
        if words[1] == "main.py" or words[1].startswith("examples/"):
            return tuple(words[1:])
    if program == "make":
        return tuple(words)
    return None


def commands_of(page: Path, first: int, body: str, exits: int) -> tuple[Command, ...]:
    """Each line of a block's `body` that calls the project; `printf '...' | python main.py` feeds the chat."""
    found = []
    for offset, text in enumerate(body.splitlines(), start=first + 2):
        code = re.search(r"#\s*exit (\d+)", text)
        try:
            words = shlex.split(text, comments=True)
        except ValueError:  # not shell at all (a fence left open swallows prose): the fence test says so
            continue
        if not words:
            continue
        stdin = None
        if "|" in words:
            feed, words = words[: words.index("|")], words[words.index("|") + 1 :]
            if feed[0] != "printf" or len(feed) != 2:
                words = ["|", *words]  # run() refuses it, naming the line
            else:
                stdin = feed[1].encode().decode("unicode_escape")
        env = []
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
            env.append(tuple(words.pop(0).split("=", 1)))
        argv = project_argv(words) if words else None
        if argv is not None:
            found.append(Command(page, offset, argv, stdin, int(code[1]) if code else exits, tuple(env)))
    return tuple(found)


def blocks() -> list[Block]:
    """Every ```bash block of every page that calls the project."""
    found = []
    for page in PAGES:
        lines = page.read_text().split("\n")
        for token in tokens(page):
            if token.type != "fence" or token.info.strip() != "bash" or token.map is None:
                continue
            first = token.map[0]
            before = next((line for line in reversed(lines[:first]) if line.strip()), "")
            not_run, exits = NOT_RUN.fullmatch(before.strip()), EXITS.fullmatch(before.strip())
            commands = commands_of(page, first, token.content, int(exits["code"]) if exits else 0)
            if commands:
                found.append(Block(page, first + 1, commands, not_run["why"] if not_run else None))
    return found


BLOCKS = blocks()
SHOWN = {  # the commands whose output a page shows: `printed` runs each once in a test process
    match["spec"].partition("|")[0].strip()
    for page in PAGES
    for match in update_readme.BLOCK.finditer(page.read_text())
}
RUN = [block for block in BLOCKS if block.not_run is None and block.page != CLI_PAGE]


def test_the_pages_have_commands_to_run_and_each_not_run_says_why() -> None:
    assert len(RUN) >= 5
    for block in BLOCKS:
        if any(command.argv[0] == "make" for command in block.commands):
            assert block.not_run, f"{block}: `make` in the docs is marked not run (the docs test is part of make test)"


def test_the_command_reference_is_run_by_its_own_test() -> None:
    """docs/cli.md's commands need files made for them: tests/commands/test_cli.py runs every one of them."""
    run_there = [("-m", "caching", *argv) for argv, _ in documented()]
    here = [command.argv for block in BLOCKS if block.page == CLI_PAGE for command in block.commands]
    assert here == run_there


def run(command: Command) -> tuple[int, str]:
    """The command's exit code and what it printed at 80 columns. A command a page also shows the output of reuses
    this test process's run of it (`printed`), as the output blocks do; any other runs here, in this process."""
    assert command.argv[0] != "make", f"{command}: mark a block with `make` not run"
    assert command.argv[0] != "|", f"{command}: only `printf '...' |` can feed a command here; mark the block not run"
    if command.stdin in (None, update_readme.CHAT_INPUT) and " ".join(command.argv) in SHOWN:
        return 0, printed(" ".join(command.argv))
    console = Console(file=io.StringIO(), width=80, color_system=None)
    with contextlib.redirect_stdout(io.StringIO()) as stdout:  # argparse prints --help there, then exits
        try:
            code = update_readme.run(list(command.argv), console, command.stdin)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
    return code, str(console.file.getvalue()) + stdout.getvalue()  # type: ignore[attr-defined]


@pytest.mark.xdist_group("printed")  # the examples' runs are shared with the example tests and the output blocks
@pytest.mark.parametrize("block", RUN, ids=str)
def test_every_command_on_a_page_runs_offline_and_exits_as_it_says(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in ("examples", "tests"):  # the paths the pages name, relative to the repository
        (tmp_path / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(tmp_path)  # what a command writes (calls.jsonl, plan.html) lands here
    for command in block.commands:
        for variable, value in command.env:
            monkeypatch.setenv(variable, value)
        code, text = run(command)
        assert code == command.exits, f"{command}: exited {code}, the page says {command.exits}\n{text}"
        assert "Traceback" not in text, f"{command}:\n{text}"
