"""Reading `.flow` text into a `nodes.Flow`, or a FlowSyntaxError saying what is wrong and where."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from flowlang.diagnostics import Diagnostic, Severity
from flowlang.errors import FlowSyntaxError
from flowlang.source import Source, Span
from flowlang.syntax.explain import CONTEXTUAL, KEYWORDS
from flowlang.syntax.nodes import Comment, Flow
from flowlang.syntax.problems import Problem, ProblemError, Run

if TYPE_CHECKING:
    from lark import Lark, Token
    from lark.exceptions import UnexpectedToken

    from flowlang.syntax.builder import FlowBuilder
    from flowlang.syntax.indenter import FlowIndenter
    from flowlang.syntax.lexer import FlowLexer

__all__ = [
    "KEYWORDS",
    "assemble",
    "grammar_path",
    "parse",
    "parse_piece",
    "parse_source",
    "piece_starts",
]

# One Lark parser serves every parse; its post-lexer and transformer carry the state of the
# parse under way, so parses take turns.
_LOCK = threading.Lock()


def grammar_path() -> Path:
    """Where grammar/flowlang.lark is: inside the installed package, else in the source tree."""
    package = Path(__file__).resolve().parent.parent
    for folder in (package / "grammar", package.parent / "grammar"):
        candidate = folder / "flowlang.lark"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"flowlang's grammar file flowlang.lark is missing (looked in {package})"
    )


@cache
def _machinery() -> tuple[Lark, FlowIndenter, FlowBuilder, FlowLexer]:
    # Imported here so that commands which never parse do not pay for Lark at start-up.
    from lark import Lark

    from flowlang.syntax.builder import FlowBuilder
    from flowlang.syntax.indenter import FlowIndenter
    from flowlang.syntax.lexer import FlowLexer

    indenter = FlowIndenter()
    builder = FlowBuilder()
    lark = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer=FlowLexer,
        postlex=indenter,
        transformer=builder,
        maybe_placeholders=False,
        cache=True,
    )
    # A second lexer over the same terminals, to re-read the text when a parse fails.
    return lark, indenter, builder, FlowLexer(lark.lexer_conf)


def parse(text: str, name: str = "<string>") -> Flow:
    """Parse `text` (named `name` in messages); raises FlowSyntaxError with every error found."""
    return parse_source(Source(name, text))


# What a caller knows of a piece of the text: given its text and 0-based first line, the
# problems it has when parsed on its own, or None (not known, or it does not parse alone).
Known = Callable[[str, int], list[Problem] | None]


def parse_source(source: Source, known: Known | None = None) -> Flow:
    """Parse a Source; raises FlowSyntaxError listing each error, independent steps all checked.
    `known` saves parsing again the pieces the caller has parsed alone (`parse_piece`)."""
    with _LOCK:
        flow, problems = _parse_once(source.text, fragment=False)
        if flow is None:
            problems = _merge(problems, _recover(source.text, known))
    if problems:
        found = _once_per_name([_diagnostic(p, source.name) for p in _sorted(problems)])
        if source.name.endswith(".scenarios") and found:
            # `flowlang check menu.scenarios` by mistake: say which command reads this file.
            from flowlang.syntax.explain import SCENARIO_ADVICE

            first = found[0]
            advice = SCENARIO_ADVICE.replace("FILE.scenarios", source.name)
            written = first.help or ""
            if SCENARIO_ADVICE in written:
                first = attrs.evolve(first, help=written.replace(SCENARIO_ADVICE, advice))
            else:
                first = attrs.evolve(first, notes=(*first.notes, advice))
            # The rest of its lines are not flow lines either: one error says it all.
            found = [first]
        raise FlowSyntaxError(found)
    assert flow is not None
    return flow


def _once_per_name(found: list[Diagnostic]) -> list[Diagnostic]:
    """A name written wrongly (`2nd_menu`, `sales-menu`) where it is defined and where it is
    used is one mistake: reported once, at its first place, with notes for the others."""
    from flowlang.syntax.explain import NAME_CODE

    first: dict[tuple[str, str], int] = {}
    kept: list[Diagnostic] = []
    for diagnostic in found:
        key = (diagnostic.message, diagnostic.label or "")
        if diagnostic.code != NAME_CODE or diagnostic.span is None:
            kept.append(diagnostic)
        elif key not in first:
            first[key] = len(kept)
            kept.append(diagnostic)
        else:
            index = first[key]
            note = f"written the same way at line {diagnostic.span.line}"
            kept[index] = attrs.evolve(kept[index], notes=(*kept[index].notes, note))
    return kept


def piece_starts(lines: list[str]) -> list[int]:
    """Where the top-level pieces of a file (a setting, a step, `hours`, `on hangup`) start:
    0, and each 0-based line that starts at the left margin with neither a comment nor a
    blank. A piece runs to the next one, with the comments and blank lines after it."""
    return [0] + [
        i for i, line in enumerate(lines) if i and line[:1] not in ("", " ", "\t", "#", "\r")
    ]


Piece = tuple[list[Any], list[Problem], tuple[Comment, ...]]


def parse_piece(text: str, start: int) -> Piece | None:
    """One piece of a file, starting at 0-based line `start`, parsed on its own: its top-level
    items, the problems the parse read past and its comments, all placed at their lines in the
    file (None when the piece does not parse alone). `assemble` makes a flow of pieces."""
    items: list[Any] = []
    # Blank lines before the piece put its nodes at their lines, in the one parse.
    with _LOCK:
        flow, problems = _parse_once("\n" * start + text, fragment=True, items=items)
    if flow is None:
        return None
    return items, problems, flow.comments


def assemble(source: Source, pieces: list[Piece]) -> Flow:
    """The flow of `source` from the pieces of its text (`parse_piece`, in order), as
    `parse_source` reads it when their items stand in an order the grammar allows: includes
    and settings before steps, `hours` and `on hangup`. Raises FlowSyntaxError likewise."""
    padded = source.text if source.text.endswith("\n") else source.text + "\n"
    run = Run(
        problems=[p for _, problems, _ in pieces for p in problems],
        comments=[c for _, _, comments in pieces for c in comments],
        text_length=len(padded),
        eof=_end_position(padded),
    )
    with _LOCK:
        builder = _machinery()[2]
        builder.run = run
        flow = builder.assemble([item for items, _, _ in pieces for item in items])
    if run.problems:
        raise FlowSyntaxError(_diagnostic(p, source.name) for p in _sorted(run.problems))
    return flow


def _diagnostic(problem: Problem, file: str) -> Diagnostic:
    first = problem.first
    notes = [] if first is None else [f"first written at line {first.line}, column {first.column}"]
    return Diagnostic(
        problem.code,
        Severity.ERROR,
        problem.message,
        file,
        problem.span,
        problem.label,
        problem.help,
        notes,
    )


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.span or Span(0, 0, 0, 0), p.code))


def _end_position(text: str) -> tuple[int, int]:
    last_break = text.rfind("\n")
    return text.count("\n") + 1, len(text) - last_break


def _parse_once(
    text: str, fragment: bool, items: list[Any] | None = None
) -> tuple[Flow | None, list[Problem]]:
    """One parse of `text`: the Flow and the problems read past, or None and the fatal one last.
    With `items`, the top-level items are put there and the Flow holds only the comments."""
    from lark.exceptions import LarkError, UnexpectedToken

    lark, indenter, builder, lexer = _machinery()
    padded = text if text.endswith("\n") else text + "\n"
    run = Run(
        fragment=fragment, text_length=len(padded), eof=_end_position(padded), items=items
    )
    indenter.run = run
    builder.run = run
    try:
        flow = lark.parse(padded)
    except ProblemError as exc:
        return None, [*run.problems, exc.problem]
    except UnexpectedToken as exc:
        found = list(run.problems)
        return None, [*found, _explain_token(exc, lexer, padded)]
    except LarkError as exc:  # a safety net: the lexer and the post-lexer raise ProblemError
        problem = Problem("FL001", f"this text cannot be read as a flow ({exc})", None)
        return None, [*run.problems, problem]
    if not isinstance(flow, Flow):
        return None, [*run.problems, Problem("FL001", "this text cannot be read as a flow", None)]
    return flow, list(run.problems)


def _explain_token(exc: UnexpectedToken, lexer: FlowLexer, text: str) -> Problem:
    from flowlang.syntax.explain import Context, surroundings, unexpected_token

    token: Token = exc.token
    try:
        accepts = _as_keywords(exc, set(exc.accepts))
    except Exception:  # accepts replays the parser; if that fails, its cruder guess will do
        accepts = set(exc.expected)
    previous, head, previous_head = surroundings(_readable_tokens(lexer, text), token)
    return unexpected_token(Context(token, accepts, previous, head, previous_head, text))


def _as_keywords(exc: UnexpectedToken, accepts: set[str]) -> set[str]:
    """`accepts` without the contextual keywords that the parser takes here only as a name.

    Where a name may stand, every contextual keyword is accepted too (the grammar's `name`
    rule); the explanations should hear "a name". A keyword stays when the parser reads on
    differently after it than after a name: `voice` at the top of a file starts a setting.
    """
    if "NAME" not in accepts:
        return accepts
    from lark import Token

    def after(kind: str) -> frozenset[str]:
        cursor = copy.copy(exc.interactive_parser)
        cursor.feed_token(Token(kind, ""))
        # The terminals the parser's new state has an action for (what `choices()` returns).
        state = cursor.parser_state
        return frozenset(state.parse_conf.parse_table.states[state.position])

    as_name = after("NAME")
    return {
        kind
        for kind in accepts
        if kind.lower() not in CONTEXTUAL or after(kind) != as_name
    }


def _readable_tokens(lexer: FlowLexer, text: str) -> Iterator[Token]:
    # The parse stopped before any character the lexer cannot read, but the lexer may still
    # look one token further than the parser did.
    try:
        yield from lexer.lex(text)
    except ProblemError:
        return


def _recover(text: str, known: Known | None = None) -> list[Problem]:
    """Parse each top-level piece (a setting, a step, `on hangup`) on its own: their errors
    are independent, so one run can report them all."""
    lines = text.split("\n")
    starts = piece_starts(lines)
    problems: list[Problem] = []
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        piece = lines[start:end]
        already = None if known is None else known("\n".join(piece), start)
        if already is not None:
            problems.extend(already)
            continue
        flow, found = _parse_once("\n".join(piece), fragment=True)
        if flow is None:
            found = _merge(found, _recover_statements(piece))
        problems.extend(p.moved(start) if start else p for p in found)
    return problems


# Lines that continue the statement above them rather than starting one.
_CONTINUES = re.compile(r"(elif|else)\b")
# Top-level blocks whose lines are not statements: `hours office:`, `languages:`.
_NOT_STATEMENTS = re.compile(r"(hours\s+\w+|languages)\s*:")


def _recover_statements(piece: list[str]) -> list[Problem]:
    """Parse each statement of a broken step (with the lines indented under it) on its own, in
    a stand-in step, so that several mistakes in one step are reported together."""
    if _NOT_STATEMENTS.match(piece[0]):
        # Read as statements, every line of the block would be a mistake of its own.
        return []
    body: int | None = None
    starts: list[int] = []
    for number, line in enumerate(piece[1:], start=1):
        content = line.lstrip(" ")
        if not content.strip() or content.startswith("#"):
            continue
        indent = len(line) - len(content)
        if body is None:
            if indent == 0:
                return []
            body = indent
        if indent == body and not _CONTINUES.match(content):
            starts.append(number)
    if body is None or len(starts) < 2:
        return []
    problems: list[Problem] = []
    for start, end in zip(starts, [*starts[1:], len(piece)], strict=True):
        # A statement at the same indentation follows, as one did in the step (or would).
        group = ["_:", *piece[start:end], " " * body + "hangup"]
        _, found = _parse_once("\n".join(group), fragment=True)
        inside = [p for p in found if p.span is not None and 2 <= p.span.line <= end - start + 1]
        problems.extend(p.moved(start - 1) for p in inside)
    return problems


def _merge(preferred: list[Problem], others: list[Problem]) -> list[Problem]:
    """`preferred`, plus the problems of `others` that stand somewhere else. The preferred
    ones come from a parse that saw more of the file, so where both found something at the
    same place, theirs is worded from the better context."""
    seen = {(p.span.line, p.span.column) if p.span else None for p in preferred}
    extra = [p for p in others if ((p.span.line, p.span.column) if p.span else None) not in seen]
    return preferred + extra
