"""What to offer at the cursor: what the grammar accepts there, with the flow's own names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from attrs import frozen

from flowlang.analysis import BUILTIN_VARIABLES
from flowlang.lint import telnyx_data
from flowlang.lsp.document import Document
from flowlang.lsp.grammar import Expected, expected
from flowlang.lsp.hover import place
from flowlang.lsp.names import HOURS, STEP, VARIABLE, NameIndex
from flowlang.runtime.events import RECORDING_FIELDS, LocalTime
from flowlang.syntax import nodes
from flowlang.syntax.explain import PHRASES

if TYPE_CHECKING:
    from lark import Token

KEYWORD = "keyword"
STEP_NAME = "step"
VARIABLE_NAME = "variable"
HOURS_NAME = "hours"
FIELD = "field"
VALUE = "value"

# The keywords whose NAME names a step (the grammar only says "a NAME").
STEP_KEYWORDS = frozenset({"GOTO", "CALL"})
# Terminals that only stand inside an expression: where the grammar accepts one, a name is a
# variable and words such as `and` may repeat on the line.
_EXPRESSION = frozenset({"LPAR", "RPAR", "COMPARE"})
_PARTIAL_WORD = re.compile(r"\w*$")
_OPEN_STRING = re.compile(r'"(?:[^"\\]|\\.)*$')
_DOUBLED_BRACE = re.compile(r"\{\{|\}\}")
# A `{` left open at the end of the text so far, and the name begun after it.
_OPEN_VALUE = re.compile(r"\{(\w*)$")
# A field begun after a value's name: `{booking.na`, `if now.we`.
_FIELD = re.compile(r"(?<![\w.])([^\W\d]\w*)\.(\w*)$")


@frozen
class Suggestion:
    """One completion: `label` is shown, `insert` replaces the line from 1-based `start`
    (where the word being typed begins) to the cursor."""

    label: str
    kind: str
    insert: str
    start: int
    detail: str = ""


def suggestions(
    document: Document,
    line: int,
    column: int,
    named: Document | None,
    others: Sequence[Document] = (),
) -> list[Suggestion]:
    """What may be written at 1-based `line`:`column` of `document`. `named` is the last
    version of the document that parsed (the one being typed may not): its steps and
    variables are offered, and those of `others`, the other files of the same flow."""
    before = document.line(line)[: column - 1]
    if _in_comment(before):
        return []
    opened = _OPEN_STRING.search(before)
    in_text = opened is not None and before.count('"') % 2 == 1
    field = _FIELD.search(before)
    if field is not None and (not in_text or "{" in before[: field.start()]):
        # `{booking.` in text, `booking.` in a condition: the fields the value is known to have.
        fields = _fields(field.group(1), named, others)
        if fields or in_text:
            start = column - len(field.group(2))
            return [Suggestion(f, FIELD, f, start, detail) for f, detail in fields]
    if in_text:
        assert opened is not None
        # In text, `{` starts a value: the variables (`{{` is a brace itself).
        brace = _OPEN_VALUE.search(_DOUBLED_BRACE.sub("", opened.group()))
        if brace is not None:
            return _text_values(named, others, column - len(brace.group(1)))
        return _string_values(document, line, opened.start(), column)
    start = column - len(_PARTIAL_WORD.search(before).group())  # type: ignore[union-attr]
    found = _expected_at(document, line, start)
    if found is None:
        return []
    out: list[Suggestion] = []
    in_expression = bool(found.values & _EXPRESSION)
    written = {t.value for t in _after_colon(found)}
    for word in sorted(found.keywords):
        if word in written and not in_expression:
            continue  # an option is written once
        phrase = PHRASES.get(word, word)
        out.append(Suggestion(phrase, KEYWORD, phrase, start))
    previous = found.previous
    if "NAME" in found.values and named is not None and named.index is not None:
        indexed = _indexed(named, others)
        if previous is not None and previous.type == "OPEN":
            for name in _defined(indexed, HOURS):
                out.append(Suggestion(name, HOURS_NAME, name, start, "hours"))
        elif previous is not None and previous.type in STEP_KEYWORDS:
            seen: set[str] = set()
            for where, index in indexed:
                lines = index.step_lines()
                for step in index.names(STEP):
                    if step not in seen:
                        seen.add(step)
                        detail = f"step at {place(named, where, lines[step])}"
                        out.append(Suggestion(step, STEP_NAME, step, start, detail))
        elif in_expression:
            builtin = sorted(BUILTIN_VARIABLES - {"digits"})
            for variable in [*_defined(indexed, VARIABLE), *builtin]:
                out.append(Suggestion(variable, VARIABLE_NAME, variable, start, "variable"))
    if "STRING" in found.values and previous is not None:
        for value, detail in _values_for(document, line, previous.type):
            out.append(Suggestion(value, VALUE, f'"{value}"', start, detail))
    return out


def _fields(
    name: str, named: Document | None, others: Sequence[Document]
) -> list[tuple[str, str]]:
    """The fields a value called `name` is known to have, with what each is: `now`'s, an
    ai_gather's (its `field` lines) or a recording's. A backend's answer is only known on the
    call: none."""
    if name == "now":
        return [(f, "the time of the call") for f in LocalTime.FIELDS]
    found: dict[str, str] = {}
    for document in (named, *others):
        if document is None or document.flow is None:
            continue
        for node in nodes.walk(document.flow):
            if isinstance(node, nodes.AiGather) and node.into is not None:
                if node.into.value == name:
                    for f in node.fields:
                        found.setdefault(f.name.value, f"{f.type.value} field of the ai_gather")
            elif isinstance(node, nodes.Record) and node.into is not None:
                if node.into.value == name:
                    for field, what in RECORDING_FIELDS.items():
                        found.setdefault(field, what)
    return list(found.items())


def _text_values(
    named: Document | None, others: Sequence[Document], start: int
) -> list[Suggestion]:
    """Inside `{` in text: the variables of the flow, then those the call sets."""
    indexed = _indexed(named, others)
    return [
        Suggestion(variable, VARIABLE_NAME, variable, start, "variable")
        for variable in [*_defined(indexed, VARIABLE), *sorted(BUILTIN_VARIABLES)]
    ]


def _indexed(
    named: Document | None, others: Sequence[Document]
) -> list[tuple[Document, NameIndex]]:
    """The documents of the flow that parsed, each with its names."""
    return [(d, d.index) for d in (named, *others) if d is not None and d.index is not None]


def _defined(indexed: Sequence[tuple[Document, NameIndex]], kind: str) -> list[str]:
    """The names of `kind` the documents define, each once, in order."""
    return list(dict.fromkeys(name for _, index in indexed for name in index.names(kind)))


def _in_comment(before: str) -> bool:
    """Whether a line that reads `before` up to the cursor has a comment begun: a `#` outside
    a string."""
    in_string = False
    escaped = False
    for char in before:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "#":
            return True
    return False


def _after_colon(found: Expected) -> list[Token]:
    """The tokens of the line's last statement (a one-line handler holds one after its `:`)."""
    tokens = list(found.line_tokens)
    colons = [i for i, t in enumerate(tokens) if t.type == "COLON"]
    return tokens[colons[-1] + 1 :] if colons else tokens


def _expected_at(document: Document, line: int, column: int) -> Expected | None:
    """What the grammar accepts at `line`:`column`, read from the top-level piece holding it
    (so that a mistake elsewhere in the file does not stop completion here)."""
    first = document.piece_start(line)
    lines = [document.line(n) for n in range(first, line)]
    text = "\n".join([*lines, document.line(line)[: column - 1]])
    return expected(text)


def _values_for(document: Document, line: int, keyword: str) -> list[tuple[str, str]]:
    """The Telnyx values a string after `keyword` may take: voices or languages."""
    if keyword == "VOICE":
        return [(v, "voice") for v in telnyx_data.VOICES]
    if keyword != "LANGUAGE":
        return []
    if "ai_gather" in (document.head(line), document.owner(line)):
        return [(code, "speech recognition language") for code in telnyx_data.RECOGNITION_LANGUAGES]
    return [(code, "speech language") for code in telnyx_data.SPEAK_LANGUAGES]


def _string_values(document: Document, line: int, quote: int, column: int) -> list[Suggestion]:
    """Inside a string being typed: the voices or languages that fit there."""
    found = _expected_at(document, line, quote + 1)
    if found is None or "STRING" not in found.values or found.previous is None:
        return []
    after = document.line(line)[column - 1 : column]
    close = "" if after == '"' else '"'
    return [
        Suggestion(value, VALUE, value + close, quote + 2, detail)
        for value, detail in _values_for(document, line, found.previous.type)
    ]
