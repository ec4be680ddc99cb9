"""Finding and reading the `.flow` files named on the command line."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from flowlang.source import Source


class UsageError(Exception):
    """A command-line mistake or unreadable input: printed as one line, exit status 2."""


def collect_files(paths: Iterable[str], suffix: str = ".flow") -> list[Path]:
    """The files named, with folders searched (recursively, sorted) for `*{suffix}` files."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob(f"*{suffix}") if p.is_file()))
        elif path.exists():
            found.append(path)
        else:
            raise UsageError(f"{raw}: no such file or folder")
    return found


def read_source(path: Path | str, wanted: str = "give the path of a .flow file") -> Source:
    """The file's text as a Source named by its path; UsageError when it cannot be read as UTF-8
    (`wanted` says what to give instead of a pipe or device)."""
    try:
        # Opening a named pipe (or a device) would wait for a writer forever: refuse it first.
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{path}: a folder, not a file; {wanted}")
        if not stat.S_ISREG(mode):
            raise UsageError(f"{path}: not a regular file (a pipe, socket or device); {wanted}")
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    return Source(str(path), text.removeprefix("\ufeff"))
