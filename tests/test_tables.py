"""caching/tables.py: code the lab prints is folded only where it stays valid Python, never re-wrapped."""

from __future__ import annotations

import ast

import pytest

from caching.__main__ import main as cli
from caching.tables import Code, fold

from .helpers import render_with

CODE = [
    'Agent(..., system_prompt=cached_system_prompt(text, "1h"), hooks=[RollingCheckpoints(approach="shape")])',
    'Agent(model=m, system_prompt="You are concise, and kind (always).", hooks=[], callback_handler=None)',
    "BedrockModel(..., cache_config=CacheConfig(strategy='auto', ttl='1h', tools_ttl=True))",
]


@pytest.mark.parametrize("code", CODE)
@pytest.mark.parametrize("width", [12, 30, 52, 79, 200])
def test_folded_code_is_the_same_python(code: str, width: int) -> None:
    lines = fold(code, width)
    assert ast.dump(ast.parse("\n".join(lines), mode="eval")) == ast.dump(ast.parse(code, mode="eval"))
    # each line fits, unless it is one piece with nothing to fold at (it is then printed whole, never cut)
    assert all(len(line) <= width or fold(line.strip(), 1) == [line.strip()] for line in lines)
    assert " ".join(line.strip() for line in lines) == code  # folded only at spaces, none lost


def test_fold_breaks_after_commas_inside_brackets_and_between_the_words_after() -> None:
    recipe = "Agent(..., system_prompt=cached_system_prompt(text), hooks=[RollingCheckpoints()]) and no CacheConfig."
    assert fold(recipe, 60) == [
        "Agent(..., system_prompt=cached_system_prompt(text),",
        "    hooks=[RollingCheckpoints()]) and no CacheConfig.",
    ]
    assert fold(recipe, 200) == [recipe]
    assert fold('f("a b, c d")', 5) == ['f("a b, c d")']  # nothing to fold at outside the string


def test_code_renders_each_folded_line_whole() -> None:
    text = render_with(lambda console: console.print(Code('f(first_argument, "a string, with spaces")')) or 0, width=30)
    assert text == '  f(first_argument,\n      "a string, with spaces")\n'


def test_the_plans_strands_recipe_copies_as_python_at_80_columns() -> None:
    """fan-out's cheapest setup is rolling 5m (tests/planner): its recipe, 102 characters, folds after a comma."""
    text = render_with(lambda console: cli(["plan", "fan-out"], console), width=80)
    lines = text.splitlines()
    at = lines.index("allow. With Strands:")
    assert lines[at + 1 : at + 3] == [
        "  Agent(..., system_prompt=cached_system_prompt(text),",
        "      hooks=[RollingCheckpoints()]) and no CacheConfig.",
    ]
