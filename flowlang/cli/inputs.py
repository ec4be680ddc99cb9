"""Finding and reading the `.flow` files named on the command line."""

from __future__ import annotations

import argparse
import errno
import os
from collections.abc import Iterable
from pathlib import Path

from flowlang.source import BOM, NotAFile, Source, not_found, not_utf8, read_regular


class UsageError(Exception):
    """A command-line mistake or unreadable input: printed as one line, exit status 2."""


def whole_number(text: str) -> int:
    """An option's whole number (argparse `type`), with a message a person can act on."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number: write digits only, such as 8000"
        ) from None


def number(text: str) -> float:
    """An option's number, whole or not (argparse `type`)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number: write one such as 30 or 0.5"
        ) from None


STANDARD_INPUT = (
    "-: reading a flow from standard input is not supported here; give a file path "
    "(only `flowlang fmt -` reads standard input)"
)
LINK_LOOP = "a symbolic link that points back to itself (directly or through other links)"


def path_problem(raw: str | Path, missing: bool = True) -> str | None:
    """Why `raw` cannot be opened, said the same way by every command (None: it can be tried):
    `-` (standard input), a symbolic link loop, or (with `missing`) a path that is not there."""
    if str(raw) == "-":
        return STANDARD_INPUT
    try:
        os.stat(raw)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{raw}: {LINK_LOOP}; point it at a real file or folder"
        if missing and exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return not_found(str(raw))
    return None


def collect_files(paths: Iterable[str], suffix: str = ".flow") -> list[Path]:
    """The files named, with folders searched (recursively, sorted) for `*{suffix}` files."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        problem = path_problem(raw)
        if problem is not None:
            raise UsageError(problem)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob(f"*{suffix}") if p.is_file()))
        else:
            found.append(path)
    return found


def read_source(path: Path | str, wanted: str = "give the path of a .flow file") -> Source:
    """The file's text as a Source named by its path; UsageError when it cannot be read as UTF-8
    (`wanted` says what to give instead of a folder, a pipe or a device)."""
    return Source(str(path), read_text(path, wanted).removeprefix(BOM))


def read_text(path: Path | str, wanted: str = "give the path of a .flow file") -> str:
    """The file's text as written (its line breaks and byte order mark as they are);
    UsageError as for `read_source`."""
    problem = path_problem(path, missing=False)
    if problem is not None:
        raise UsageError(problem)
    try:
        data = read_regular(str(path))
    except NotAFile as exc:
        if exc.folder:
            raise UsageError(f"{path}: a folder, not a file; {wanted}") from None
        raise UsageError(
            f"{path}: not a regular file (a pipe, socket or device); {wanted}"
        ) from None
    except FileNotFoundError:
        raise UsageError(not_found(str(path))) from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(not_utf8(str(path), data, exc)) from None
    return text
