"""What the grammar accepts at a point of a flow: keywords, values and names, read from Lark."""

from __future__ import annotations

import copy
from functools import cache
from typing import TYPE_CHECKING

from attrs import frozen

from flowlang.syntax.parser import grammar_path
from flowlang.syntax.problems import ProblemError, Run

if TYPE_CHECKING:
    from lark import Lark, Token
    from lark.parsers.lalr_interactive_parser import InteractiveParser

    from flowlang.syntax.lexer import FlowLexer


@cache
def _parser() -> tuple[Lark, FlowLexer]:
    # A parser of its own, without the tree builder: completion feeds it tokens one by one and
    # must not build nodes or share the state of the checker's parser.
    from lark import Lark

    from flowlang.syntax.lexer import FlowLexer

    lark = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer=FlowLexer,
        maybe_placeholders=False,
        cache=True,
    )
    return lark, FlowLexer(lark.lexer_conf)


def keywords() -> dict[str, str]:
    """Every keyword of the language (as written) and the name of its terminal (`SAY`)."""
    return dict(_parser()[1].keywords)


@frozen
class Expected:
    """What may come next: `keywords` (as written), `values` (terminal names such as STRING,
    NAME, DURATION) and the tokens already on the line, before the point."""

    keywords: frozenset[str]
    values: frozenset[str]
    line_tokens: tuple[Token, ...]

    @property
    def previous(self) -> Token | None:
        return self.line_tokens[-1] if self.line_tokens else None


def expected(text: str) -> Expected | None:
    """What the grammar accepts after `text`, the start of a piece of flow that ends at the
    point (a word being typed left out). None when `text` itself does not parse."""
    from lark.exceptions import LarkError

    from flowlang.syntax.indenter import DEDENT, NL, FlowIndenter

    lark, lexer = _parser()
    names = {terminal: word for word, terminal in lexer.keywords.items()}
    try:
        tokens = list(lexer.lex(text))
    except ProblemError:
        return None
    indenter = FlowIndenter()
    # One character more than there is, so that the indentation of a last, empty line is read
    # as the start of a line (an _INDENT or _DEDENTs) rather than as the end of the file.
    indenter.run = Run(fragment=True, text_length=len(text) + 1)
    interactive = lark.parse_interactive("")
    line_tokens: list[Token] = []
    try:
        for token in indenter.process(iter(tokens)):
            if token.type == DEDENT and (token.start_pos or 0) > len(text):
                break  # the end of the text is not the end of the blocks
            interactive.feed_token(token)
            line_tokens = [] if token.type == NL else [*line_tokens, token]
        accepted: set[str] = interactive.accepts()  # type: ignore[no-untyped-call]
    except (LarkError, ProblemError):
        return None
    if "NAME" in accepted:
        # Where a name may stand, the grammar's `name` rule accepts every contextual keyword
        # too. A keyword is only offered where the parser reads on differently after it than
        # after a name (`voice` at the top of a file starts a setting, not a step).
        as_name = _after(interactive, "NAME")
        accepted = {t for t in accepted if t not in names or _after(interactive, t) != as_name}
    line_tokens = [t for t in line_tokens if t.type not in ("_INDENT", "_DEDENT")]
    return Expected(
        keywords=frozenset(names[t] for t in accepted if t in names),
        values=frozenset(t for t in accepted if t not in names),
        line_tokens=tuple(line_tokens),
    )


def _after(interactive: InteractiveParser, terminal: str) -> frozenset[str]:
    """The terminals the parser has an action for once `terminal` is fed."""
    from lark import Token

    cursor = copy.copy(interactive)
    cursor.feed_token(Token(terminal, ""))
    state = cursor.parser_state
    return frozenset(state.parse_conf.parse_table.states[state.position])


def line_tokens(text: str) -> list[Token]:
    """The tokens of one line of flow text (none when it cannot be read)."""
    try:
        return [t for t in _parser()[1].lex(text) if t.type != "_NL"]
    except ProblemError:
        return []
