"""`caching serve`: the offline Bedrock emulator on loopback, for any client (boto3, Strands, the AWS CLI)."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from ..errors import DONE, CachingError
from ..lab.terminal import say
from ..rules.uncertainty import Uncertainty
from .flags import port, positive, rate, seconds

CA_FILE = Path(tempfile.gettempdir()) / "caching-emulator-ca.pem"


def serve_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=port, default=8765, help="TCP port on 127.0.0.1 (default 8765, 0 picks one)")
    parser.add_argument("--verbose", action="store_true", help="log each request")
    parser.add_argument(
        "--invocation-log", metavar="DIR", help="write model invocation logs here, as Bedrock does to S3"
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate made for localhost on start (Bedrock API keys need HTTPS)",
    )
    parser.add_argument(
        "--ca-file",
        metavar="FILE",
        default=str(CA_FILE),
        help=f"with --tls, write the certificate's CA here for clients to trust (default {CA_FILE})",
    )
    parser.add_argument(
        "--expiry-window",
        metavar="SECONDS",
        type=seconds,
        default=0.0,
        help="a less tidy Bedrock: entries live up to this long past their TTL (120 was measured; default 0)",
    )
    parser.add_argument(
        "--miss-rate",
        metavar="RATE",
        type=rate,
        default=0.0,
        help="a less tidy Bedrock: this share of the calls that could read miss with no cause (default 0)",
    )
    parser.add_argument("--seed", type=positive, default=1, help="the draws of --expiry-window and --miss-rate")


def uncertainty_of(args: argparse.Namespace) -> Uncertainty:
    """How much less tidy than its rules the served Bedrock is (the exact rules unless a flag says otherwise)."""
    return Uncertainty(args.expiry_window, args.miss_rate, args.seed)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """Ctrl-C stops the server even when a shell started it in the background (which ignores SIGINT in the jobs it
    starts), and so does SIGTERM (`kill`): both end it as Ctrl-C does, with "Stopped."."""
    if threading.current_thread() is not threading.main_thread():  # signals reach only the main thread
        yield
        return

    def stop(number: int, frame: object) -> None:
        raise KeyboardInterrupt

    before = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


def serve(args: argparse.Namespace, console: Console) -> int:
    """Answer until Ctrl-C, which is how it is meant to stop: 0; 2 when the port cannot be used."""
    from ..emulator import Emulator, EmulatorServer
    from ..emulator.tls import localhost_tls

    tls = localhost_tls(args.ca_file) if args.tls else None
    uncertainty = uncertainty_of(args)
    try:
        server = EmulatorServer(
            Emulator(invocation_log=args.invocation_log, uncertainty=uncertainty),
            args.port,
            quiet=not args.verbose,
            tls=tls,
        )
    except OSError as exc:
        raise CachingError(f"Cannot listen on 127.0.0.1:{args.port} ({exc.strerror}): choose another --port.") from None
    trust = "" if tls is None else f', verify="{tls.ca_file}"'

    def whole(line: str) -> None:
        """A line meant to be copied: printed whole, never wrapped (the notes around it wrap to the terminal)."""
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    try:
        say(console, f"Offline Bedrock emulator on {server.url} (loopback only).")
        whole(f'  boto3: boto3.client("bedrock-runtime", endpoint_url="{server.url}"{trust})')
        whole(f'  Strands: BedrockModel(endpoint_url="{server.url}", model_id=...)')
        say(console, "Any access key id works; it names the account whose cache you use.", indent="  ")
        if not uncertainty.exact:
            rules = f"Less tidy than the documented rules: {uncertainty.words()} (seed {args.seed})."
            say(console, rules, indent="  ")
        if tls is not None:
            whole(f"  Trust its certificate: export AWS_CA_BUNDLE={shlex.quote(str(tls.ca_file))}")
            say(
                console,
                "A Bedrock API key (AWS_BEARER_TOKEN_BEDROCK) works too, and names an account of its own.",
                indent="  ",
            )
        say(console, "Ctrl-C stops it.")
        console.file.flush()
        with stop_signals():
            server.serve_forever()
    except KeyboardInterrupt:
        console.print("\nStopped.", markup=False, highlight=False)
    finally:
        server.server_close()
    return DONE
