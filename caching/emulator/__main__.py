"""`python -m caching.emulator serve --port 8765`: the same as `caching serve` (kept for the README and scripts)."""

import sys

from ..commands import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], prog="python -m caching.emulator"))
