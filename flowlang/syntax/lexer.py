"""The tokenizer: one regular expression from the grammar's own terminals, one match a token."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lark import Token
from lark.lexer import Lexer, PatternStr

from flowlang.syntax.explain import unexpected_character
from flowlang.syntax.problems import ProblemError


class FlowLexer(Lexer):
    """A Lark custom lexer (interface 0: `lex(text)`), used as `Lark(..., lexer=FlowLexer)`.

    Lark's basic lexer makes a separate match for every run of spaces and looks keywords up
    through a second regex; on call-flow text that is a third of the parse time. This lexer
    reads the same terminals from grammar/flowlang.lark (so the grammar stays the one
    reference), skips spaces inside the token's match, and finds keywords with a dict. A
    character no token can start with raises a ProblemError in plain words.
    """

    def __init__(self, lexer_conf: Any) -> None:
        terminals = list(lexer_conf.terminals)
        by_name = {t.name: t for t in terminals}
        name_pattern = re.compile(by_name["NAME"].pattern.to_regexp())
        self.keywords: dict[str, str] = {}
        alternatives = []
        ignored = [by_name[name].pattern.to_regexp() for name in lexer_conf.ignore]
        ordered = sorted(
            terminals,
            key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
        )
        for terminal in ordered:
            if terminal.name in lexer_conf.ignore:
                continue
            pattern = terminal.pattern
            if isinstance(pattern, PatternStr) and name_pattern.fullmatch(pattern.value):
                self.keywords[pattern.value] = terminal.name
                continue
            alternatives.append(f"(?P<{terminal.name}>{pattern.to_regexp()})")
        skip = "(?:" + "|".join(ignored) + ")*" if ignored else ""
        self.scanner = re.compile(skip + "(?:" + "|".join(alternatives) + ")")
        self.skip = re.compile(skip)

    def lex(self, text: str) -> Iterator[Token]:  # type: ignore[override]
        scanner = self.scanner.match
        keywords = self.keywords
        line = 1
        line_start = 0
        pos = 0
        end = len(text)
        while pos < end:
            match = scanner(text, pos)
            if match is None:
                spaces = self.skip.match(text, pos)
                at = spaces.end() if spaces is not None else pos
                if at >= end:
                    return
                problem = unexpected_character(text, at, line, at - line_start + 1)
                raise ProblemError(problem)
            kind = match.lastgroup
            assert kind is not None
            value = match.group(kind)
            start = match.start(kind)
            pos = match.end()
            column = start - line_start + 1
            if kind == "NAME":
                kind = keywords.get(value, "NAME")
            elif kind == "_NL":
                breaks = value.count("\n")
                if breaks:
                    end_line = line + breaks
                    last_break = start + value.rfind("\n")
                    end_column = pos - last_break
                    yield _token(kind, value, start, line, column, end_line, end_column, pos)
                    line = end_line
                    line_start = last_break + 1
                    continue
            yield _token(kind, value, start, line, column, line, column + len(value), pos)


_new_str = str.__new__


def _token(
    kind: str,
    value: str,
    start: int,
    line: int,
    column: int,
    end_line: int,
    end_column: int,
    end: int,
) -> Token:
    # What Token(...) does, without its checks for old-style keyword arguments: a quarter of
    # the time, and tokens are made by the hundred thousand. Every slot of Token is set.
    token: Token = _new_str(Token, value)
    token.type = kind
    token.value = value
    token.start_pos = start
    token.line = line
    token.column = column
    token.end_line = end_line
    token.end_column = end_column
    token.end_pos = end
    return token
