"""Source text of a `.flow` file and the spans that point into it."""

from __future__ import annotations

from functools import cached_property

from attrs import field, frozen


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

    def cover(self, other: Span) -> Span:
        """The smallest span that contains both `self` and `other`."""
        start = min((self.line, self.column), (other.line, other.column))
        end = max((self.end_line, self.end_column), (other.end_line, other.end_column))
        return Span(start[0], start[1], end[0], end[1])


@frozen
class Source:
    """A named piece of `.flow` text; `name` is the path shown in diagnostics."""

    name: str
    text: str = field(repr=False)

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
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return ""
