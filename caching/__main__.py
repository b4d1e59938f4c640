"""`python -m caching ...`: the one command line (`caching/commands/`; docs/cli.md lists the commands)."""

import sys

from .commands import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
