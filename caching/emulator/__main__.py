"""`python -m caching.emulator serve --port 8765`: the offline Bedrock on loopback for any client."""

from __future__ import annotations

import argparse
import sys

from ..errors import CachingError
from .emulator import Emulator
from .server import EmulatorServer


def port(text: str) -> int:
    """A TCP port number: 0 (pick a free one) to 65535."""
    if not text.isascii() or not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, got {text[:20]!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m caching.emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="answer Bedrock Runtime requests on 127.0.0.1")
    serve.add_argument("--port", type=port, default=8765, help="TCP port on 127.0.0.1 (default 8765, 0 picks one)")
    serve.add_argument("--verbose", action="store_true", help="log each request")
    serve.add_argument(
        "--invocation-log", metavar="DIR", help="write model invocation logs here, as Bedrock does to S3"
    )
    args = parser.parse_args(argv)

    try:
        server = EmulatorServer(Emulator(invocation_log=args.invocation_log), args.port, quiet=not args.verbose)
    except OSError as exc:
        print(f"Cannot listen on 127.0.0.1:{args.port} ({exc.strerror}): choose another --port.", file=sys.stderr)
        return 1
    except CachingError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(f"Offline Bedrock emulator on {server.url} (loopback only). Ctrl-C stops it.")
    print(f'  boto3: boto3.client("bedrock-runtime", endpoint_url="{server.url}")')
    print(f'  Strands: BedrockModel(endpoint_url="{server.url}", model_id=...)')
    print("  Any access key id works; it names the account whose cache you use.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
