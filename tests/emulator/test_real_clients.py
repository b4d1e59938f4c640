"""The real-client table of docs/emulator.md (issue 22): scripts/client_table.py makes it; the clients this suite
depends on (boto3, Strands) run here, and their rows must be the page's."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from .. import helpers

client_table = importlib.import_module("client_table")  # scripts/ is on the path once tests.helpers is imported

PAGE = (helpers.ROOT / "docs" / "emulator.md").read_text()
TESTED = ("boto3 Converse / ConverseStream", "boto3 InvokeModel (+ stream)", "Strands BedrockModel")


def page_rows() -> list[client_table.Row]:
    block = re.search(r"<!-- clients: .*? -->\n(.*?)<!-- /clients -->", PAGE, re.S)
    assert block is not None
    lines = block.group(1).splitlines()[2:]  # after the header and its rule
    return [client_table.Row(*(cell.strip() for cell in line.strip("|").split("|"))) for line in lines]


def test_the_clients_this_suite_depends_on_write_read_stream_and_see_errors() -> None:
    clients = tuple(c for c in client_table.CLIENTS if c.name in TESTED)
    produced = client_table.rows(clients)
    assert [(r.client, r.write_then_read, r.streaming, r.errors) for r in produced] == [
        (name, "yes", "yes", "yes") for name in TESTED
    ]
    assert [r for r in page_rows() if r.client in TESTED] == produced  # versions too: the pinned ones


def test_the_page_has_one_row_per_client_in_the_scripts_order() -> None:
    assert [r.client for r in page_rows()] == [c.name for c in client_table.CLIENTS]


def test_a_client_that_is_not_installed_says_so() -> None:
    absent = client_table.Client(
        "nothing", "no-such-distribution-here", client_table.boto3_converse, None, client_table.boto3_converse_rejected
    )
    assert client_table.rows((absent,)) == [client_table.Row("nothing", "-", "not installed", "-", "-")]


def test_the_script_prints_the_table_as_markdown() -> None:
    table = client_table.markdown([client_table.Row("c", "1.0", "yes", "-", "yes")])
    assert (
        table
        == "| client | version | write then read | streaming | errors |\n|---|---|---|---|---|\n| c | 1.0 | yes | - | yes |"
    )
    assert Path(client_table.__file__).name == "client_table.py"
