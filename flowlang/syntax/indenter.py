"""The post-lexer that turns indentation into block tokens, with positions a person can act on."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from lark import Token
from lark.indenter import Indenter

from flowlang.source import Span
from flowlang.syntax.nodes import Comment
from flowlang.syntax.problems import Problem, ProblemError, Run

NL = "_NL"
INDENT = "_INDENT"
DEDENT = "_DEDENT"
LAYOUT = frozenset({NL, INDENT, DEDENT})

_COMMENT = re.compile(r"#[^\n]*")
# Blocks inside blocks: every tool walks them recursively, and Python's stack is about 1,000
# frames deep. No call flow comes near this; a generated one gets a clear error.
MAX_NESTING = 100


class FlowIndenter(Indenter):
    """Lark's Indenter, reworked so every token it adds, and every error, has a position.

    Lark's own version positions INDENT/DEDENT at the end of the previous line and raises a
    DedentError without a line; here they stand at the start of the line they describe.
    It also collects comments out of the line-break tokens.
    """

    NL_type = NL
    OPEN_PAREN_types: list[str] = []
    CLOSE_PAREN_types: list[str] = []
    INDENT_type = INDENT
    DEDENT_type = DEDENT
    tab_len = 1

    def __init__(self) -> None:
        super().__init__()
        self.run = Run()

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        self.indent_level = [0]
        self.paren_level = 0
        return self._flow_process(stream)

    def _flow_process(self, stream: Iterator[Token]) -> Iterator[Token]:
        stream = iter(stream)
        first = next(stream, None)
        if first is None:
            return
        if first.type != NL and first.column != 1:
            line = first.line or 1
            raise ProblemError(
                Problem(
                    "FL017",
                    "the first line of the file is indented",
                    Span(line, 1, line, first.column or 2),
                    "unexpected indentation",
                    "start the first line at the very left; only the lines inside a block "
                    "are indented",
                )
            )
        stream = itertools.chain((first,), stream)
        levels = self.indent_level
        for token in stream:
            if token.type != NL:
                yield token
                continue
            text = token.value
            # Most lines keep the indentation of the line before: no block opens or closes.
            if (
                len(text) - text.rfind("\n") - 1 == levels[-1]
                and "#" not in text
                and "\t" not in text
                and (token.end_pos or 0) < self.run.text_length
            ):
                yield token
            else:
                yield from self._newline(token)
        line, column = self.run.eof
        while len(self.indent_level) > 1:
            self.indent_level.pop()
            yield Token(DEDENT, "", self.run.text_length, line, column, line, column + 1)

    def _newline(self, token: Token) -> Iterator[Token]:
        text = str(token)
        if "#" in text:
            self._collect_comments(token)
        yield token
        if "\n" not in text:
            return
        indent_str = text.rsplit("\n", 1)[1]
        end_pos = token.end_pos if token.end_pos is not None else 0
        if end_pos >= self.run.text_length:
            return
        line = token.end_line if token.end_line is not None else 1
        if "\t" in indent_str:
            column = indent_str.index("\t") + 1
            raise ProblemError(
                Problem(
                    "FL008",
                    "a tab is used for indentation",
                    Span.point(line, column),
                    "tab",
                    "indent with spaces only (for example 4 spaces per level); "
                    "many editors can turn tabs into spaces for you",
                )
            )
        indent = len(indent_str)
        start = end_pos - indent
        if indent > self.indent_level[-1]:
            if len(self.indent_level) > MAX_NESTING:
                raise ProblemError(
                    Problem(
                        "FL040",
                        f"blocks are nested more than {MAX_NESTING} levels deep here",
                        Span(line, 1, line, indent + 1),
                        "too deep",
                        "move the inner part into a step of its own and `goto` it",
                    )
                )
            self.indent_level.append(indent)
            yield Token(INDENT, indent_str, start, line, 1, line, indent + 1, end_pos)
            return
        levels = tuple(self.indent_level)
        while indent < self.indent_level[-1]:
            self.indent_level.pop()
            yield Token(DEDENT, indent_str, end_pos, line, indent + 1, line, indent + 2, end_pos)
        if indent != self.indent_level[-1]:
            raise ProblemError(_bad_dedent(line, indent, levels))

    def _collect_comments(self, token: Token) -> None:
        text = str(token)
        line = token.line if token.line is not None else 1
        column = token.column if token.column is not None else 1
        for match in _COMMENT.finditer(text):
            before = text.count("\n", 0, match.start())
            if before:
                col = match.start() - text.rfind("\n", 0, match.start())
            else:
                col = column + match.start()
            body = match.group().rstrip("\r")
            row = line + before
            self.run.comments.append(Comment(body, span=Span(row, col, row, col + len(body))))


def _bad_dedent(line: int, indent: int, levels: tuple[int, ...]) -> Problem:
    shown = [f"{level}" for level in levels]
    choices = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
    return Problem(
        "FL007",
        "this line's indentation does not line up with the lines above it",
        Span(line, 1, line, max(2, indent + 1)),
        f"{indent} spaces",
        f"indent it like the block it belongs to: {choices} spaces",
    )
