"""The text of a hover: a keyword's reference entry, a rule's documentation, a step, a variable."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from flowlang.lint.registry import find_rule
from flowlang.lsp.document import Document
from flowlang.lsp.grammar import keywords
from flowlang.lsp.names import HOURS, STEP, Occurrence
from flowlang.lsp.reference import keyword_doc, syntax_error
from flowlang.source import Span

# How many lines of a step a hover shows.
STEP_LINES = 6


def covers(span: Span | None, line: int, column: int) -> bool:
    """Whether 1-based `line`:`column` is in `span` or just after it (a cursor at a word's end)."""
    if span is None:
        return False
    after_start = (line, column) >= (span.line, span.column)
    return after_start and (line, column) <= (span.end_line, span.end_column)


def hover_text(
    document: Document,
    line: int,
    column: int,
    others: Callable[[], Sequence[Document]] = tuple,
) -> str | None:
    """Markdown about what stands at 1-based `line`:`column`, None when there is nothing.
    `others` gives the other files of the flow (those it includes, those including it): a step
    or variable may be defined there."""
    parts: list[str] = []
    for d in document.diagnostics:
        if not covers(d.span, line, column):
            continue
        rule = find_rule(d.code)
        if rule is not None:
            parts.append(f"**{rule.code}** `{rule.name}`: {rule.description}")
        elif (section := syntax_error(d.code)) is not None:
            parts.append(section.summary_of_error())
    index = document.index
    occurrence = index.at(line, column) if index is not None else None
    if occurrence is not None:
        parts.append(_name_text(document, occurrence, others))
    else:
        word = _keyword_at(document, line, column)
        if word is not None:
            doc = keyword_doc(*word)
            if doc is not None:
                parts.append(doc)
    return "\n\n---\n\n".join(parts) if parts else None


def _keyword_at(document: Document, line: int, column: int) -> tuple[str, str | None] | None:
    """The keyword at the point and the keyword heading its statement (for a handler line,
    `on`, the keyword of the block the handler belongs to)."""
    known = keywords()
    head: str | None = None
    for token in document.tokens(line):
        if token.type == "COLON":
            head = None
            continue
        if head is None:
            # A handler line belongs to the block above it; a top-level `on hangup:` is its own.
            owner = document.owner(line) if token.value == "on" else None
            head = owner or token.value
        start = token.column or 0
        if start <= column <= start + len(token.value) and token.value in known:
            return token.value, head
    return None


def _name_text(
    document: Document, occurrence: Occurrence, others: Callable[[], Sequence[Document]]
) -> str:
    """A step's first lines, or the lines that set a variable, in whichever file of the flow
    defines it (as go to definition finds it)."""
    found = [(document, d) for d in _definitions(document, occurrence)]
    if not found or occurrence.kind != STEP:
        found += [(other, d) for other in others() for d in _definitions(other, occurrence)]
    if occurrence.kind == STEP:
        if not found:
            return f"step `{occurrence.name}`: no step of this flow has that name"
        where, definition = found[0]
        first = definition.span.line
        shown = [where.line(n) for n in range(first, first + STEP_LINES)]
        end = definition.owner.span.end_line if definition.owner.span else first
        shown = shown[: max(1, end - first + 1)]
        body = "\n".join(shown).rstrip()
        return f"step `{occurrence.name}` ({place(document, where, first)})\n\n```flow\n{body}\n```"
    if occurrence.kind == HOURS:
        if not found:
            return f"opening hours `{occurrence.name}`: no `hours {occurrence.name}:` in this flow"
        where, definition = found[0]
        return (f"opening hours `{occurrence.name}` "
                f"({place(document, where, definition.span.line)})")
    if not found:
        return f"variable `{occurrence.name}`: not set anywhere in this flow"
    lines = "\n".join(
        f"- {place(document, where, d.span.line)}: `{where.line(d.span.line).strip()}`"
        for where, d in found
    )
    return f"variable `{occurrence.name}`, set at:\n\n{lines}"


def _definitions(document: Document, occurrence: Occurrence) -> list[Occurrence]:
    index = document.index
    return [] if index is None else index.definitions(occurrence.kind, occurrence.name)


def place(document: Document, where: Document, line: int) -> str:
    """"line N", with the file when it is another one than `document` (relative to it)."""
    if where is document:
        return f"line {line}"
    name = where.source.name
    if os.path.isabs(name) and os.path.isabs(document.source.name):
        name = os.path.relpath(name, os.path.dirname(document.source.name))
    return f"{name}, line {line}"
