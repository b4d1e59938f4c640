"""The caching figures on each model call's span, printed by OpenTelemetry's console exporter, offline.

Run:  .venv/bin/python docs/traces.py
"""

import argparse
import textwrap

from strands import Agent
from strands.telemetry import StrandsTelemetry

from caching import Settings, connect, setup
from caching.lab.terminal import HelpFormatter

argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter).parse_args()  # --help, before any work


def caching_figures(span):
    """A chat span's caching.* attributes, one a line; other spans print nothing (drop formatter= to see all)."""
    if span.name != "chat":
        return ""
    lines = [f"{key} = {value}" for key, value in span.attributes.items() if key.startswith("caching.")]
    return "\n".join(textwrap.fill(line, 80, subsequent_indent="    ") for line in lines) + "\n\n"


StrandsTelemetry().setup_console_exporter(formatter=caching_figures)  # without a set-up, nothing is exported

backend = connect(Settings())  # offline: the emulator answers
approach = setup("explicit", "Answer questions about our refund policy. " * 250)
agent = Agent(
    model=backend.model(approach),
    system_prompt=approach.system_prompt,
    hooks=[backend.tracker()],  # given at construction: the tracker puts its figures on the chat spans
    callback_handler=None,
)
agent("Can I return a gift?")
agent("And without a receipt?")
