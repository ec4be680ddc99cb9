"""The exceptions flowlang raises: every one carries positioned diagnostics, never a raw trace."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flowlang.diagnostics import Diagnostic

if TYPE_CHECKING:
    from flowlang.source import Source


class FlowError(Exception):
    """Base of every error flowlang reports to a person; `diagnostics` say what and where.
    `source`, when known, is the text they are placed in, with the files the flow includes and
    its translation catalogs (to show the line of a finding in one of those)."""

    def __init__(self, diagnostics: Iterable[Diagnostic], source: Source | None = None) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        self.source = source
        first = self.diagnostics[0].message if self.diagnostics else "flow error"
        super().__init__(first)


class FlowSyntaxError(FlowError):
    """The text is not a valid `.flow` file (raised by the parser, with every error it found)."""


class FlowCompileError(FlowError):
    """The flow parses but has lint errors, so it cannot be compiled to a runnable program."""
