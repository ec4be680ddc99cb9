"""Decoding a string literal: escapes, `{{`/`}}` braces and `{path}` interpolations with spans."""

from __future__ import annotations

import difflib
import re

from flowlang.source import Span
from flowlang.syntax.nodes import SPOKEN_FORMATS, Interp, Str
from flowlang.syntax.problems import Problem

ESCAPES = {'"': '"', "\\": "\\", "n": "\n"}
_PATH = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")
# `{order as digits}`: a path, the word `as`, a format name (checked against SPOKEN_FORMATS).
_FORMATTED = re.compile(r"([^\W\d]\w*(?:\.[^\W\d]\w*)*) +as +(\w+)")
_SPECIAL = re.compile(r"[\\{}]")


def decode(raw: str, line: int, column: int, problems: list[Problem]) -> Str:
    """The Str for literal `raw` (with its quotes) standing at `line`:`column`.

    Problems (a bad escape, an unclosed `{`, a `{...}` that is not a variable path) are added
    to `problems`; the string is still returned, as close as possible to what was meant.
    """
    span = Span(line, column, line, column + len(raw))
    body = raw[1:-1]
    if _SPECIAL.search(body) is None:
        return Str((body,) if body else (), span=span)
    first = column + 1  # the column of body[0]
    parts: list[str | Interp] = []
    text: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        char = body[i]
        if char == "\\":
            escaped = body[i + 1] if i + 1 < n else ""
            if escaped in ESCAPES and escaped:
                text.append(ESCAPES[escaped])
            else:
                problems.append(_bad_escape(escaped, line, first + i))
                text.append(escaped)
            i += 2
        elif char == "{" and body.startswith("{{", i):
            text.append("{")
            i += 2
        elif char == "}" and body.startswith("}}", i):
            text.append("}")
            i += 2
        elif char == "{":
            close = body.find("}", i + 1)
            if close < 0:
                problems.append(_unclosed_brace(line, first + i))
                text.append(body[i:])
                break
            inner = body[i + 1 : close]
            path = inner.strip(" ")
            lead = len(inner) - len(inner.lstrip(" "))
            start = first + i + 1 + lead
            formatted = _FORMATTED.fullmatch(path)
            spoken: str | None = None
            if formatted is not None:
                spoken = formatted.group(2)
                if spoken not in SPOKEN_FORMATS:
                    at = start + formatted.start(2)
                    problems.append(_unknown_format(spoken, line, at))
                    spoken = None
                path = formatted.group(1)
            if _PATH.fullmatch(path) is None:
                problems.append(_bad_interpolation(inner, line, first + i, close - i + 1))
                text.append(body[i : close + 1])
            else:
                if text:
                    parts.append("".join(text))
                    text = []
                parts.append(
                    Interp(
                        tuple(path.split(".")),
                        spoken,
                        span=Span(line, start, line, start + len(path)),
                    )
                )
            i = close + 1
        else:
            text.append(char)
            i += 1
    if text:
        parts.append("".join(text))
    return Str(tuple(parts), span=span)


def _bad_escape(escaped: str, line: int, column: int) -> Problem:
    return Problem(
        "FL014",
        f"`\\{escaped}` is not an escape flowlang knows",
        Span(line, column, line, column + 2),
        "unknown escape",
        'inside a string write `\\"` for a quote, `\\\\` for a backslash or `\\n` for a new line',
    )


def _unclosed_brace(line: int, column: int) -> Problem:
    return Problem(
        "FL015",
        "this `{` is not closed",
        Span.point(line, column),
        "opened here",
        "put a variable name in braces, like `{account}`; to write a brace itself, type `{{`",
    )


def _bad_interpolation(inner: str, line: int, column: int, width: int) -> Problem:
    what = "empty braces `{}`" if not inner.strip() else f"`{{{inner}}}`"
    return Problem(
        "FL015",
        f"{what} is not a variable name",
        Span(line, column, line, column + width),
        "not a variable",
        "braces in a string hold a variable, like `{account}` or `{booking.name}`; "
        "to write a brace itself, type `{{` or `}}`",
    )


def _unknown_format(word: str, line: int, column: int) -> Problem:
    known = ", ".join(f"`{f}`" for f in SPOKEN_FORMATS)
    close = difflib.get_close_matches(word, SPOKEN_FORMATS, n=1)
    hint = f"did you mean `{close[0]}`? " if close else ""
    return Problem(
        "FL061",
        f"`{word}` is not a way of saying a value",
        Span(line, column, line, column + len(word)),
        "unknown format",
        f"{hint}after `as` write one of {known}, like `{{order as digits}}`",
    )
