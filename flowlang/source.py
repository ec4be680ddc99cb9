"""Source text of a `.flow` file (with the files it includes) and the spans that point into it."""

from __future__ import annotations

import difflib
import errno
import hashlib
import json
import os
import re
import stat
from functools import cached_property

from attrs import field, frozen

# The lines of the Nth included file are numbered from N * LINE_BLOCK in the merged flow, so one
# line number says both which file and which line (see flowlang/includes.py).
LINE_BLOCK = 1_000_000

# The byte order mark some editors (Notepad) put first in a file: not part of the flow's text.
BOM = "\ufeff"

# A stored flow with includes is this JSON object; no `.flow` text can start with `{`.
_BUNDLE = "flowlang-bundle"


# A carriage return not followed by "\n": a line break written on a classic Mac, or pasted.
_LONE_CR = re.compile(r"\r(?!\n)")
# Any line break: Windows ("\r\n"), old Mac ("\r") or Unix ("\n").
LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _one_line_break(text: str) -> str:
    r"""`text` with each lone "\r" made "\n" ("\r\n" stays): an editor (LSP) and Python end a
    line there, so the parser does too, and a line number means the same line to both."""
    return _LONE_CR.sub("\n", text) if "\r" in text else text


def written_like(text: str, original: str) -> str:
    r"""`text` (the formatter's: "\n" line breaks, no byte order mark) written as `original`
    is: with Windows line breaks ("\r\n") when its first line break is one, and with the byte
    order mark it starts with, if any. Editors show neither, and git would see every line
    change: `flowlang fmt` and the editor's "format document" keep both. An old Mac's lone
    "\r" becomes "\n" (no editor of today writes one)."""
    first = LINE_BREAK.search(original)
    if first is not None and first.group() == "\r\n":
        text = text.replace("\n", "\r\n")
    return BOM + text if original.startswith(BOM) else text


@frozen(order=True)
class Span:
    """A region of a source file: 1-based lines and columns, `end_column` exclusive.

    A span on one line from column 5 to 9 covers the four characters at columns 5, 6, 7, 8.
    """

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, line: int, column: int, width: int = 1) -> Span:
        """A span of `width` characters starting at `line`:`column`."""
        return cls(line, column, line, column + width)

    def down(self, lines: int) -> Span:
        """The same columns, `lines` further down the file (up when negative)."""
        return Span(self.line + lines, self.column, self.end_line + lines, self.end_column)

    def cover(self, other: Span) -> Span:
        """The smallest span that contains both `self` and `other`."""
        start = min((self.line, self.column), (other.line, other.column))
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return Span(start[0], start[1], end[0], end[1])


@frozen
class Source:
    """A named piece of `.flow` text; `name` is the path shown in diagnostics.

    `included` holds the files a flow includes, once they are read (flowlang/includes.py): the
    Nth of them is where lines N * LINE_BLOCK + 1... of the merged flow come from. `catalogs`
    holds its translation catalogs (flowlang/catalog.py) that exist.
    """

    name: str
    text: str = field(repr=False, converter=_one_line_break)
    included: tuple[Source, ...] = field(default=(), repr=False)
    catalogs: tuple[Source, ...] = field(default=(), repr=False)

    def locate(self, line: int) -> tuple[Source, int]:
        """The file a line number of the merged flow is in, and the line in that file."""
        block, local = divmod(line, LINE_BLOCK)
        parts = (*self.included, *self.catalogs)
        if 1 <= block <= len(parts):
            return parts[block - 1], local
        return self, line

    def offset_of(self, name: str) -> int:
        """What to add to a line of the included file or catalog `name` to number it in the
        merged flow (0 for this file itself)."""
        for number, part in enumerate((*self.included, *self.catalogs), start=1):
            if part.name == name:
                return number * LINE_BLOCK
        return 0

    def named(self, name: str) -> Source | None:
        """This source or the included one called `name`, None when there is none."""
        if name == self.name:
            return self
        return next((s for s in (*self.included, *self.catalogs) if s.name == name), None)

    @cached_property
    def fingerprint(self) -> str:
        """The sha256 of the text, and of every included file's name and text."""
        digest = hashlib.sha256(self.text.encode("utf-8"))
        if not self.included and not self.catalogs:
            return digest.hexdigest()
        for part in (*self.included, *self.catalogs):
            digest.update(b"\0" + part.name.encode("utf-8") + b"\0" + part.text.encode("utf-8"))
        return digest.hexdigest()

    def stored(self) -> str:
        """The text to store for this version: the text itself, or with includes a bundle of
        every file, so the version can be rebuilt whatever happens to the files later."""
        if not self.included and not self.catalogs:
            return self.text
        files = [[self.name, self.text], *([s.name, s.text] for s in self.included)]
        catalogs = [[s.name, s.text] for s in self.catalogs]
        return json.dumps({_BUNDLE: 1, "files": files, "catalogs": catalogs}, ensure_ascii=False)

    @classmethod
    def from_stored(cls, name: str, text: str) -> Source:
        """The Source `stored()` wrote (its included files come from the bundle, not disk)."""
        if text.startswith("{"):
            try:
                data = json.loads(text)
                files = [(str(n), str(t)) for n, t in data["files"]]
                catalogs = [(str(n), str(t)) for n, t in data.get("catalogs", [])]
            except (ValueError, KeyError, TypeError, AttributeError):
                return cls(name, text)
            parts = tuple(cls(n, t) for n, t in files[1:])
            return cls(files[0][0], files[0][1], parts, tuple(cls(n, t) for n, t in catalogs))
        return cls(name, text)

    @cached_property
    def lines(self) -> list[str]:
        # Only "\n" (or "\r\n") ends a line, as in the parser's line numbers; splitlines()
        # would also break at form feeds or Unicode line separators inside strings and
        # comments, and show the wrong line under a diagnostic.
        lines = self.text.split("\n")
        if lines[-1] == "":
            lines.pop()
        return [line.removesuffix("\r") for line in lines]

    def line(self, number: int) -> str:
        """The text of 1-based line `number`, without its line break ("" past the end)."""
        if number > LINE_BLOCK and (self.included or self.catalogs):
            part, local = self.locate(number)
            return part.line(local) if part is not self else ""
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return ""

    def utf16(self, span: Span) -> Span:
        """`span` with its columns counted in UTF-16 code units, as GitHub (and JavaScript)
        counts them: a character outside the Basic Multilingual Plane, such as most emoji,
        is two. Columns past the end of a line stay one each."""
        return Span(
            span.line,
            _utf16_column(self.line(span.line), span.column),
            span.end_line,
            _utf16_column(self.line(span.end_line), span.end_column),
        )


def _utf16_column(text: str, column: int) -> int:
    before = text[: column - 1]
    # "surrogatepass": a lone surrogate (not valid UTF-8, but possible in a str) is one unit.
    return column + len(before.encode("utf-16-le", "surrogatepass")) // 2 - len(before)


def not_utf8(name: str, data: bytes, exc: UnicodeDecodeError) -> str:
    """Why `data` (the file `name`) cannot be read, where: `NAME: not UTF-8 text (line L,
    column C); save the file as UTF-8`, the place counted as an editor shows it."""
    start = data.rfind(b"\n", 0, exc.start) + 1
    line = data.count(b"\n", 0, exc.start) + 1
    column = len(data[start : exc.start].decode("utf-8", "replace")) + 1
    return f"{name}: not UTF-8 text (line {line}, column {column}); save the file as UTF-8"


def not_found(name: str) -> str:
    """Why the path `name` cannot be opened when nothing is there, with the file probably
    meant beside it: `bakery` for `bakery.flow`, `Bakery.flow` for `bakery.flow`."""
    folder = os.path.dirname(name)
    near = near_file(name)
    if near is None:
        return f"{name}: no such file or folder"
    return f"{name}: no such file or folder; did you mean {os.path.join(folder, near)}?"


def near_file(name: str) -> str | None:
    """The name of the file beside the missing path `name` that was probably meant: `bakery.flow`
    for `bakery`, `Bakery.flow` for `bakery.flow`, `common.flow` for `comon.flow`."""
    folder, base = os.path.split(name)
    try:
        there = os.listdir(folder or ".")
    except OSError:
        return None
    close = [n for n in there if n in (f"{base}.flow", f"{base}.scenarios")]
    close = close or [n for n in there if n.lower() == base.lower()]
    close = close or difflib.get_close_matches(base, there, n=1, cutoff=0.8)
    return close[0] if close else None


class NotAFile(OSError):
    """A path that names a folder, a pipe, a socket or a device, not a file: reading it would
    fail, wait for ever (a named pipe) or never end (`/dev/zero`). `folder` tells a folder."""

    def __init__(self, name: str, folder: bool) -> None:
        if folder:
            super().__init__(errno.EISDIR, os.strerror(errno.EISDIR), name)
        else:
            super().__init__(f"{name} is not a regular file")
        self.folder = folder


def read_regular(name: str) -> bytes:
    """The bytes of the file `name`; NotAFile, refused before a byte is read, for anything but
    a regular file (opened without waiting, so a named pipe with no writer cannot hold the
    open), else the OSError of the reading."""
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:  # where a folder cannot even be opened (Windows)
        raise NotAFile(name, folder=True) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotAFile(name, folder=stat.S_ISDIR(mode))
    with open(fd, "rb") as f:
        return f.read()
