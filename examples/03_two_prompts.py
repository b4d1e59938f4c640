"""03 · Different prompts are different entries; the same prompt from another AWS account is too.

Run:  .venv/bin/python examples/03_two_prompts.py      (offline; --live needs --second-profile for part 2)
Look for: prompts A, B, A, B, A give WRITE, WRITE, READ, READ, READ: two independent entries. Then prompt A sent
from a second account WRITES again: caches are isolated per account, even for identical bytes.
"""

from __future__ import annotations

import sys

from rich.console import Console
from strands import Agent

from caching import Settings, calls_table, connect, console_for, parser, prompt, resolve, run, setup


def main(argv: list[str] | None = None, console: Console | None = None) -> int:
    out = console_for(console)
    flags = parser(__doc__ or "")
    flags.add_argument("--second-profile", help="live only: an AWS profile of a second account")
    args = flags.parse_args(argv)

    def body(settings: Settings) -> int:
        backend = connect(settings)
        out.print(backend.banner)
        tracker = backend.tracker()
        prompts = {
            "A": setup("explicit", prompt("research_assistant")),
            "B": setup("explicit", prompt("code_assistant")),
        }

        def ask(name: str, label: str, client: dict) -> None:
            model = prompts[name].model(settings.model_id, **client)
            system = prompts[name].system_prompt
            Agent(name=label, model=model, system_prompt=system, hooks=[tracker], callback_handler=None)(
                "Where to start?"
            )

        for name in "ABABA":
            ask(name, f"prompt {name}", backend.client)
        out.print(calls_table(tracker.calls, "One account: prompts A, B, A, B, A"))

        if settings.live and not args.second_profile:
            out.print("Skipped part 2: pass --second-profile NAME (a profile of another AWS account) to see isolation.")
            return 0
        second = backend.session("AKIAOFFLINEEXAMPLE02", args.second_profile)
        ask("A", "prompt A, account 2", {**backend.client, "boto_session": second})
        out.print(calls_table(tracker.calls[-1:], "A second account sends prompt A"))
        out.print(
            "Same bytes, different account: a miss. Anyone else's cache never serves you, and yours never serves them."
        )
        return 0

    return run(body, out, lambda: resolve(args))


if __name__ == "__main__":
    sys.exit(main())
