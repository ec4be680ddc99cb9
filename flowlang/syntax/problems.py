"""Syntax problems found while parsing, before they become diagnostics with a file name."""

from __future__ import annotations

from typing import Any

from attrs import define, field, frozen

from flowlang.source import Span
from flowlang.syntax.nodes import Comment


@frozen
class Problem:
    """One syntax error: a stable `code` (FL0xx), what is wrong, where, and how to fix it.

    `first` is where the same thing was first written, for "written twice" problems: kept as a
    span (not as text) so it moves with `span` when a piece of a file is parsed on its own.
    """

    code: str
    message: str
    span: Span | None
    label: str = ""
    help: str | None = None
    first: Span | None = None

    def moved(self, lines: int) -> Problem:
        """The same problem, `lines` further down the file."""
        return Problem(
            self.code,
            self.message,
            _down(self.span, lines),
            self.label,
            self.help,
            _down(self.first, lines),
        )


def _down(span: Span | None, lines: int) -> Span | None:
    return None if span is None else span.down(lines)


class ProblemError(Exception):
    """Stops a parse at a problem it cannot read past (raised by the post-lexer)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@define
class Run:
    """What one parse collects on the side: problems it can read past, and the comments.

    `fragment` is set when re-parsing one piece of a broken file, so whole-file checks
    (such as "the file has no steps") are left out. `text_length` and `eof` say where the
    text ends, for the tokens the post-lexer adds there.
    """

    problems: list[Problem] = field(factory=list)
    comments: list[Comment] = field(factory=list)
    fragment: bool = False
    text_length: int = 0
    eof: tuple[int, int] = (1, 1)
    # How deeply each condition built so far nests (by id), for FL041.
    depths: dict[int, int] = field(factory=dict)
    # When a list, the parse keeps the file's top-level items here and builds no Flow: the
    # incremental parser assembles the items of several pieces into one.
    items: list[Any] | None = None
