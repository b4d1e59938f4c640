"""Opening a file a user points at (a regular file only, and never more of it than a named limit), and writing the
HTML page a command was asked for.

A FIFO would block the command forever and /dev/zero would fill memory, so anything that is not a regular file is
refused in one sentence before a byte is read. The check is made on the opened file (opened without blocking), so a
path swapped between a check and the open cannot slip through.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import CachingError

KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


class FileError(CachingError):
    """A path that is not a regular file, or a file over the limit for what it should hold."""


def open_regular(path: str | os.PathLike[str], holds: str) -> BinaryIO:
    """`path` opened for reading in binary, or a FileError when it is not a regular file (`holds` says what it
    should be, for the message: "a JSON request"). OSError (no such file, no permission) is the caller's to word."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO opened this way does not wait
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = KINDS.get(stat.S_IFMT(mode), "not a regular file")
            raise FileError(f"{str(path)!r} is {kind}, not a regular file: pass a file holding {holds}.")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: str | os.PathLike[str], holds: str, limit: int, variable: str) -> bytes:
    """The whole of a regular file of at most `limit` bytes; a larger one is a FileError naming the limit and the
    variable that sets it (read no further than the limit, so it costs no more memory than a file just under it)."""
    with open_regular(path, holds) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise FileError(
            f"{str(path)!r} is over {limit:,} bytes, the limit for {holds} ({variable}): pass a smaller file."
        )
    return data


def write_page(path: str, page: str, what: str) -> None:
    """Write `page` to `path`, or say in one sentence why it could not be written."""
    try:
        Path(path).write_text(page, encoding="utf-8")
    except OSError as exc:
        raise CachingError(
            f"Cannot write the HTML {what} to {path!r} ({exc.strerror}): check the folder exists and is writable."
        ) from None
