"""Parsing a text again after an edit: only the top-level pieces that changed are read again."""

from __future__ import annotations

from typing import Any

from attrs import frozen

from flowlang.source import Source
from flowlang.syntax import nodes
from flowlang.syntax.builder import Input
from flowlang.syntax.parser import assemble, parse_piece, parse_source, piece_starts
from flowlang.syntax.problems import Problem

_HEADER = (nodes.Setting, nodes.Include, nodes.Languages, Input)


@frozen
class Piece:
    """One top-level piece of a file (a step, an `hours` block, `on hangup` or a setting, with
    the comments and blank lines after it), parsed on its own: its `items`, the `problems` the
    parse read past and its `comments`, all placed at its `start` line (0-based) in the file."""

    text: str
    start: int
    items: tuple[Any, ...]
    problems: tuple[Problem, ...]
    comments: tuple[nodes.Comment, ...]

    def moved(self, start: int) -> Piece:
        """The same piece, standing at line `start` of the file instead."""
        lines = start - self.start
        return Piece(
            self.text,
            start,
            tuple(moved(item, lines) for item in self.items),
            tuple(p.moved(lines) for p in self.problems),
            tuple(moved(c, lines) for c in self.comments),
        )


class IncrementalParser:
    """Parses the successive versions of one file, as an editor sends them.

    A `.flow` file is a list of top-level pieces: settings, then steps, `hours` blocks and
    `on hangup`, each starting at the left margin. Each piece is parsed on its own and kept;
    the next version parses only the pieces whose text changed, and moves the others to
    their new lines. The flow (or the FlowSyntaxError) is the one `parse_source` gives for
    the whole text (tests/syntax/test_incremental.py holds them equal): when a piece does not
    parse on its own, or the pieces are not in an order the grammar allows (a setting after a
    step), the whole text is parsed as usual.
    """

    def __init__(self) -> None:
        # The pieces of the last version, by text: only those are kept, so memory stays flat.
        self.pieces: dict[str, Piece] = {}
        # How many pieces the last parse read (the others were reused or moved).
        self.parsed = 0
        # The top-level items the last parse moved, by the identity of the new item: the old
        # one (what was found about it still holds, but for its place).
        self.moved: dict[int, Any] = {}

    def parse(self, source: Source) -> nodes.Flow:
        """Parse `source`, the file's new version; raises FlowSyntaxError as `parse_source`."""
        lines = source.text.split("\n")
        starts = piece_starts(lines)
        kept: dict[str, Piece] = {}
        pieces: list[Piece] = []
        self.parsed = 0
        self.moved = {}
        whole = False
        for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
            text = "\n".join(lines[start:end])
            piece = kept.get(text) or self.pieces.get(text)
            if piece is None:
                self.parsed += 1
                read = parse_piece(text, start)
                if read is None:
                    whole = True
                    continue
                items, problems, comments = read
                piece = Piece(text, start, tuple(items), tuple(problems), comments)
            elif piece.start != start:
                old = piece
                piece = piece.moved(start)
                self.moved.update(zip(map(id, piece.items), old.items, strict=True))
            kept[text] = piece
            pieces.append(piece)
        self.pieces = kept
        if whole or not _in_order(pieces):

            def known(text: str, start: int) -> list[Problem] | None:
                piece = kept.get(text)
                return list(piece.problems) if piece is not None and piece.start == start else None

            return parse_source(source, known)
        return assemble(source, [(list(p.items), list(p.problems), p.comments) for p in pieces])


def _in_order(pieces: list[Piece]) -> bool:
    """Whether the items of `pieces`, one after the other, are a file the grammar reads:
    includes and settings first, then steps, `hours` and `on hangup`."""
    blocks = False
    for piece in pieces:
        for item in piece.items:
            header = isinstance(item, _HEADER)
            if header and blocks:
                return False
            blocks = blocks or not header
    return True


def moved(value: Any, lines: int) -> Any:
    """`value` (a node, a tuple of them, an `input` line) placed `lines` further down."""
    if isinstance(value, Input):
        return Input(nodes.moved(value.name, lines), value.span.down(lines))
    if type(value) is tuple:
        return tuple([moved(item, lines) for item in value])
    return nodes.moved(value, lines)
