"""One open `.flow` document as the server sees it: its text, its check and its names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from typing import TYPE_CHECKING

from flowlang.lsp.names import NameIndex
from flowlang.source import BOM, Source

if TYPE_CHECKING:
    from lark import Token

    from flowlang.lint.incremental import CheckCache

_HEAD = re.compile(r"[ ]*(\w+)")


class Document:
    """The text of a document at one version, checked with `check` (the one `flowlang check`
    runs; with the `cache` of the document's earlier versions, only what changed is checked
    again); the name index is built when a feature first asks for it."""

    def __init__(
        self,
        source: Source,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        cache: CheckCache | None = None,
    ) -> None:
        from flowlang.lint import check

        # Checked as `check` reads a file: without the byte order mark an editor keeps first.
        self.bom = source.text.startswith(BOM)
        if self.bom:
            source = Source(source.name, source.text.removeprefix(BOM))
        self.source = source
        self.flow, found = check(source, select=select, ignore=ignore, cache=cache)
        # A finding in a file this one includes is that file's, not this document's.
        self.diagnostics = [d for d in found if d.file == source.name]

    @cached_property
    def index(self) -> NameIndex | None:
        return None if self.flow is None else NameIndex.build(self.flow)

    @property
    def lines(self) -> list[str]:
        return self.source.lines

    def line(self, number: int) -> str:
        return self.source.line(number)

    def tokens(self, number: int) -> list[Token]:
        """The tokens of 1-based line `number` (none when the line cannot be read)."""
        from flowlang.lsp.grammar import line_tokens

        return line_tokens(self.line(number))

    def head(self, number: int) -> str | None:
        """The first word of line `number`: the keyword (or step name) that starts it."""
        match = _HEAD.match(self.line(number))
        return match.group(1) if match else None

    def owner(self, number: int) -> str | None:
        """The first word of the nearest line above `number` that is indented less: the
        header of the block that line `number` belongs to (None at the top level)."""
        text = self.line(number)
        indent = len(text) - len(text.lstrip(" "))
        for above in range(number - 1, 0, -1):
            line = self.line(above)
            stripped = line.lstrip(" ")
            if not stripped or stripped.startswith("#"):
                continue
            if len(line) - len(stripped) < indent:
                return self.head(above)
        return None

    def piece_start(self, number: int) -> int:
        """The line where the top-level piece (a step, a setting) holding line `number` starts."""
        for above in range(number, 0, -1):
            line = self.line(above)
            if line[:1] not in ("", " ", "\t", "#"):
                return above
        return 1
