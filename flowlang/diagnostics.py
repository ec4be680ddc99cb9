"""Diagnostics as plain data, and the text renderer shared by syntax errors and lint findings."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from attrs import field, frozen

from flowlang.source import Source, Span


def _strings(items: Iterable[str]) -> tuple[str, ...]:
    # A plain `converter=tuple` leaves mypy an unbound type variable in __init__, so no
    # caller could pass notes and type-check.
    return tuple(items)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@frozen
class Diagnostic:
    """One finding about a flow.

    `code` is stable (`FL001` for syntax, `FL1xx`.. for lint rules), `message` names the problem,
    `label` is the short text under the carets, `help` tells the fix. `file` is the source's
    name; `span` is None only for findings about a whole file.
    """

    code: str
    severity: Severity
    message: str
    file: str
    span: Span | None
    label: str = ""
    help: str | None = None
    notes: tuple[str, ...] = field(default=(), converter=_strings)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        span = self.span or Span(0, 0, 0, 0)
        return (self.file, span.line, span.column, self.code)


def _display(line: str) -> str:
    # Tabs are a syntax error in flows, but the line is still shown: expand them to one space so
    # the caret lines up with what the terminal prints.
    return line.replace("\t", " ")


# The longest source line shown whole; a longer one is cut to a window of WINDOW characters
# around the span, marked with `…` at each cut end (a 2-million-character line printed 4 MB).
LONGEST_SHOWN = 160
WINDOW = 120
BEFORE = 40


def _window(shown: str, start: int, end: int) -> tuple[str, int, int]:
    """The part of line `shown` to print for the span of 0-based columns `start`..`end`
    (exclusive), and the span's columns within that part."""
    if len(shown) <= LONGEST_SHOWN:
        return shown, start, end
    first = max(0, min(start - BEFORE, len(shown) - WINDOW))
    last = min(len(shown), first + WINDOW)
    part = shown[first:last]
    offset = first
    if first > 0:
        part, offset = "…" + part, first - 1
    if last < len(shown):
        part += "…"
    low = start - offset
    high = min(end - offset, len(part) - (1 if last < len(shown) else 0))
    return part, low, max(high, low + 1)


def render_text(diagnostic: Diagnostic, source: Source | None) -> str:
    """Render like rustc/ruff: header, `-->` location, the source line, carets, help."""
    head = f"{diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"
    if source is not None and diagnostic.file != source.name:
        # A finding in a file the flow includes: show that file's line.
        source = source.named(diagnostic.file)
    span = diagnostic.span
    if span is None:
        lines = [head, f" --> {diagnostic.file}"]
        lines += [f" = help: {diagnostic.help}"] if diagnostic.help else []
        lines += [f" = note: {note}" for note in diagnostic.notes]
        return "\n".join(lines) + "\n"
    number = str(span.line)
    pad = " " * len(number)
    lines = [head, f"{pad}--> {diagnostic.file}:{span.line}:{span.column}"]
    text = source.line(span.line) if source is not None else ""
    if text or source is not None:
        shown = _display(text)
        end = span.end_column if span.end_line == span.line else len(shown) + 1
        shown, low, high = _window(shown, span.column - 1, max(end - 1, span.column))
        carets = " " * low + "^" * max(1, high - low)
        label = f" {diagnostic.label}" if diagnostic.label else ""
        source_line = f"{number} | {shown}".rstrip()
        lines += [f"{pad} |", source_line, f"{pad} | {carets}{label}", f"{pad} |"]
    if diagnostic.help:
        lines.append(f"{pad} = help: {diagnostic.help}")
    lines += [f"{pad} = note: {note}" for note in diagnostic.notes]
    return "\n".join(lines) + "\n"
