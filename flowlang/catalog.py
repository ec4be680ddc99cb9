"""Translation catalogs: a flow's spoken texts in another language, `"text" = "translation"`.

A flow that declares `languages:` keeps its texts in its first language; the texts in each other
language live beside it, in `NAME.LANGUAGE.texts` (`clinic.es-US.texts` for `clinic.flow`):

    # Spanish texts of clinic.flow
    "Thank you for calling." = "Gracias por llamar."
    "Your PIN is {pin}." = "Su PIN es {pin}."

A translator edits only the right side; `flowlang check` compares the catalog with the flow (a
text with no translation, a translation of a text the flow no longer has, a `{value}` that is
not in both) and `flowlang fmt` writes it in the flow's order.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from attrs import frozen

from flowlang.diagnostics import Diagnostic, Severity
from flowlang.source import Source, Span
from flowlang.syntax import nodes
from flowlang.syntax.explain import CURLY_DOUBLE, CURLY_QUOTES_MESSAGE, straight_quotes
from flowlang.syntax.fmt import render_str
from flowlang.syntax.problems import Problem
from flowlang.syntax.strings import decode

__all__ = ["Catalog", "Entry", "catalog_name", "format_catalog", "parse_catalog", "spoken_texts"]

_STRING = r'"(?:[^"\\\n]|\\[^\n])*"'
_LINE = re.compile(rf"^[ \t]*({_STRING})[ \t]*=[ \t]*({_STRING})[ \t]*(#.*)?$")


@frozen
class Entry:
    """One line of a catalog: the flow's `text` and its `translation`, with where they stand."""

    text: nodes.Str
    translation: nodes.Str
    span: Span
    comments: tuple[str, ...] = ()


@frozen
class Catalog:
    """A parsed catalog of `language`: its entries by text, and the lines it could not read."""

    language: str
    source: Source
    entries: tuple[Entry, ...]
    problems: tuple[Diagnostic, ...]
    trailing: tuple[str, ...] = ()
    header: tuple[str, ...] = ()

    def get(self, text: str) -> Entry | None:
        return next((e for e in self.entries if e.text.text == text), None)


def catalog_name(flow_name: str, language: str) -> str:
    """Where the `language` texts of the flow file `flow_name` are: beside it."""
    folder, file = os.path.split(flow_name)
    stem = file[: -len(".flow")] if file.endswith(".flow") else file
    return os.path.join(folder, f"{stem}.{language}.texts")


def parse_catalog(source: Source, language: str) -> Catalog:
    """Read a catalog; a line that is not a comment, blank, or `"text" = "translation"` is an
    error (FL082) pointing at it, and the rest is still read."""
    entries: list[Entry] = []
    problems: list[Diagnostic] = []
    pending: list[str] = []
    header: list[str] = []
    for number, line in enumerate(source.lines, start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            if stripped:
                pending.append(stripped)
            continue
        match = _LINE.match(line)
        curly = next((at for at, char in enumerate(line) if char in CURLY_DOUBLE), None)
        if match is None and curly is not None:
            # A translator's word processor typed “ ” for `"`.
            problems.append(
                Diagnostic(
                    "FL082",
                    Severity.ERROR,
                    CURLY_QUOTES_MESSAGE,
                    source.name,
                    Span.point(number, curly + 1),
                    label="curly quote",
                    help=f"type straight quotes: `{straight_quotes(line, curly)}`",
                )
            )
            continue
        if match is None:
            problems.append(
                Diagnostic(
                    "FL082",
                    Severity.ERROR,
                    "this line of a translation catalog is not `\"text\" = \"translation\"`",
                    source.name,
                    Span(number, len(line) - len(line.lstrip()) + 1, number, len(line) + 1),
                    label="cannot read this",
                    help='write the text of the flow in double quotes, then `=`, then its '
                    'translation in double quotes: "Goodbye." = "Adiós."',
                )
            )
            continue
        found: list[Problem] = []
        text = decode(match.group(1), number, match.start(1) + 1, found)
        translation = decode(match.group(2), number, match.start(2) + 1, found)
        for p in found:
            problems.append(
                Diagnostic("FL082", Severity.ERROR, p.message, source.name, p.span, p.label, p.help)
            )
        if not entries and not header:
            # The comments above the first entry describe the whole file: they stay on top.
            header, pending = pending, []
        entries.append(
            Entry(text, translation, Span(number, 1, number, len(line) + 1), tuple(pending))
        )
        pending = []
    return Catalog(
        language, source, tuple(entries), tuple(problems), tuple(pending), tuple(header)
    )


def spoken_texts(flow: nodes.Flow) -> Iterator[nodes.Str]:
    """Every text the flow speaks to the caller, in source order: `say` lines (prompts too),
    reprompts and AI greetings. These are the texts a catalog translates; a `say` that names
    its own language (`say "Para español, oprima 2." language "es-US"`) is said as written."""
    for node in nodes.walk(flow):
        if isinstance(node, nodes.Say):
            if node.language is None:
                yield node.text
        elif isinstance(node, nodes.Reprompt):
            yield node.text
        elif isinstance(node, nodes.AiGather | nodes.Assistant) and node.greeting is not None:
            yield node.greeting


def format_catalog(catalog: Catalog, flow: nodes.Flow | None = None) -> str:
    """The catalog in its canonical layout: one `"text" = "translation"` a line, comments kept
    above their entry (those above the first entry stay on top); in the order the flow says
    the texts (others after, as written)."""
    order: dict[str, int] = {}
    if flow is not None:
        for text in spoken_texts(flow):
            order.setdefault(text.text, len(order))
    ranked = sorted(
        enumerate(catalog.entries), key=lambda ie: (order.get(ie[1].text.text, len(order)), ie[0])
    )
    lines: list[str] = list(catalog.header)
    for _, entry in ranked:
        lines += entry.comments
        lines.append(f"{render_str(entry.text)} = {render_str(entry.translation)}")
    lines += catalog.trailing
    return "\n".join(lines) + "\n"
