"""Turning the parser's "unexpected token" into a plain-words problem with a hint to fix it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Set

from lark import Token

from flowlang.source import Span
from flowlang.syntax.hours_help import hours_line_problem
from flowlang.syntax.problems import Problem

# Every keyword of the language (the quoted words of grammar/flowlang.lark).
KEYWORDS = frozenset(
    """include languages voice language answer hangup say ssml play media transfer from timeout
    goto call return set log
    if elif else gather digits inter_digit_timeout initial_timeout terminator valid tries into
    reprompt on invalid ai_gather field optional greeting key assistant id instructions message
    none not and or in true false sms_from sms record max silence beep end_key saved error queue
    max_wait no_answer busy failed fetch method header secret send outbound input detect
    machine human not_sure wait for try again timezone hours closed open""".split()
)

# The keywords that can never be a name: the words that start a statement, `on`, `digits` (the
# built-in variable) and the words of expressions. Every other keyword is contextual: the
# grammar's `name` rule lists it, so it names steps, variables and fields too. A new keyword
# goes in KEYWORDS and either here (and in docs/language.md, "Reserved words") or in `name`;
# tests/test_parser.py checks that each is exactly one of the two.
RESERVED = frozenset(
    """answer hangup say play transfer goto call return set log if elif else gather ai_gather
    assistant fetch on digits not and or in true false languages sms record queue outbound input
    detect""".split()
)
CONTEXTUAL = KEYWORDS - RESERVED

STATEMENTS = (
    "answer", "hangup", "say", "play", "transfer", "goto", "call", "return", "set", "log", "if",
    "gather", "ai_gather", "assistant", "fetch", "sms", "record", "queue", "detect", "wait", "try",
)  # fmt: skip
_STATEMENT_TYPES = frozenset(s.upper() for s in STATEMENTS)
# Statements of several words, by their first, whose first word is never written alone: what a
# message (or an editor's completion) shows of them.
PHRASES = {"try": "try again", "wait": "wait for beep", "detect": "detect machine"}

# The header options each block or statement takes, for "did you mean" and "the options are".
OPTIONS = {
    "gather": (
        "digits", "timeout", "inter_digit_timeout", "initial_timeout", "terminator", "valid",
        "tries", "into", "voice", "language",
    ),
    "ai_gather": ("into", "voice", "language", "timeout"),
    "assistant": ("id", "voice"),
    "say": ("voice", "language", "ssml"),
    "transfer": ("from", "timeout"),
    "sms": ("from",),
    "record": ("into", "max", "silence", "beep", "end_key"),
    "queue": ("max_wait",),
    "fetch": ("method", "into", "timeout"),
}  # fmt: skip

# What each block takes after `on`.
HANDLERS = {
    frozenset({"DIGITS", "INVALID", "TIMEOUT"}): ("gather", "on digits, on invalid, on timeout"),
    frozenset({"VALID", "INVALID", "KEY"}): ("ai_gather", "on valid, on invalid, on key"),
    frozenset({"KEY"}): ("assistant", "on key"),
    frozenset({"ERROR"}): ("fetch", "on error"),
    frozenset({"HANGUP"}): ("the top level of the file", "on hangup"),
    frozenset({"SAVED", "ERROR"}): ("record", "on saved, on error"),
    frozenset({"NO_ANSWER", "BUSY", "FAILED"}): ("transfer", "on no_answer, on busy, on failed"),
    frozenset({"TIMEOUT"}): ("queue", "on timeout"),
    frozenset({"HUMAN", "MACHINE", "NOT_SURE"}): (
        "detect machine", "on human, on machine, on not_sure",
    ),
}

_VALUES = {
    "STRING": "a string in double quotes",
    "DURATION": "a duration like 8s",
    "INT": "a whole number like 3",
    "NAME": "a name",
    "CLOCK_RANGE": "a time range like `9:00-17:30` (no spaces)",
    "DATE": "a date like `2026-12-25`",
    "DAY_RANGE": "days like `mon-fri`",
}
_PUNCTUATION = {
    "COLON": "`:`",
    "COMMA": "`,`",
    "DOT": "`.`",
    "DOTDOT": "`..`",
    "EQUAL": "`=`",
    "COMPARE": "a comparison like `==`",
    "ADDOP": "`+` or `-`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "LSQB": "`[`",
    "RSQB": "`]`",
    "_NL": "the end of the line",
    "_INDENT": "an indented line",
    "_DEDENT": "a line indented less",
    "$END": "the end of the file",
}
_EXPRESSION_START = frozenset({"STRING", "INT", "TRUE", "FALSE", "NAME", "DIGITS", "LPAR", "NOT"})
_VALUE_TYPES = frozenset(_VALUES)
# What the name after a keyword names.
_NAME_AFTER = {
    "GOTO": "the name of a step",
    "SET": "a variable name",
    "INTO": "a variable name",
    "FIELD": "a field name",
}


def describe_expected(accepts: Set[str]) -> str:
    """`accepts` (terminal names) in plain words: "`:` or a duration like 8s"."""
    names = set(accepts)
    if "NAME" in names:
        # The contextual keywords are accepted here only as names.
        names -= {word.upper() for word in CONTEXTUAL}
    words: list[str] = []
    if _STATEMENT_TYPES <= names:
        names -= _STATEMENT_TYPES
        words.append("a statement (like `say`, `gather` or `goto`)")
    if _EXPRESSION_START <= names:
        names -= _EXPRESSION_START
        words.append("a value (a string, a number, `true`, `false` or a variable)")
    for name in sorted(names, key=_order):
        if name in _VALUES:
            words.append(_VALUES[name])
        elif name in _PUNCTUATION:
            words.append(_PUNCTUATION[name])
        elif name.lower() in KEYWORDS:
            words.append(f"`{name.lower()}`")
    return _one_of(words)


def _order(name: str) -> tuple[int, str]:
    if name in _VALUES:
        return (0, name)
    if name.lower() in KEYWORDS:
        return (1, name)
    return (2, name)


def _one_of(words: list[str]) -> str:
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def describe_found(token: Token) -> str:
    """The token as a person would name it: "the word `gahter`", "the number `5`"."""
    kind = token.type
    value = str(token)
    if kind == "NAME":
        return f"the word `{value}`"
    if kind == "STRING":
        return f"the string {value}"
    if kind == "INT":
        return f"the number `{value}`"
    if kind == "DURATION":
        return f"the duration `{value}`"
    if kind in _LAYOUT_FOUND:
        return _LAYOUT_FOUND[kind]
    return f"`{value}`"


# Layout tokens as found (rather than as expected): they are places, not text.
_LAYOUT_FOUND = {
    "_NL": "the end of the line",
    "_INDENT": "an indented line",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
}


def _did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _span(token: Token) -> Span:
    line = token.line or 1
    column = token.column or 1
    end_column = token.end_column if token.end_line == line and token.end_column else column + 1
    return Span(line, column, line, max(end_column, column + 1))


def _after(token: Token) -> Span:
    line = token.end_line or token.line or 1
    column = token.end_column or (token.column or 1) + len(token)
    return Span.point(line, column)


class Context:
    """What the parser had read when it stopped: the token it refused, the real token before
    it, the first token of their lines, what it would have accepted, and the text."""

    def __init__(
        self,
        token: Token,
        accepts: Set[str],
        previous: Token | None,
        head: Token | None,
        previous_head: Token | None,
        text: str,
    ) -> None:
        self.token = token
        self.accepts = accepts
        self.previous = previous
        self.head = head
        self.previous_head = previous_head
        self.text = text


def surroundings(
    tokens: Iterable[Token], refused: Token
) -> tuple[Token | None, Token | None, Token | None]:
    """For the token the parser refused: the real token before it, the first token of the
    refused token's line (or of that earlier token's line, when the refused one is layout),
    and the first token of the earlier token's line. `tokens` is the text lexed again: this
    is only needed once a parse has failed, so the parse itself keeps no history."""
    position = refused.start_pos or 0
    previous: Token | None = None
    previous_head: Token | None = None
    head: Token | None = None
    for token in tokens:
        if (token.start_pos or 0) >= position:
            break
        if token.type == "_NL":
            head = None
            continue
        if head is None:
            head = token
        previous, previous_head = token, head
    if refused.type in _LAYOUT_FOUND:
        return previous, previous_head, previous_head
    if previous is not None and (previous.end_line or 0) < (refused.line or 0):
        return previous, refused, previous_head
    return previous, head if head is not None else refused, previous_head


def unexpected_token(ctx: Context) -> Problem:
    """The problem for a token the grammar does not allow where it stands."""
    for rule in _RULES:
        problem = rule(ctx)
        if problem is not None:
            return problem
    return _generic(ctx)


def _unexpected_indent(ctx: Context) -> Problem | None:
    if ctx.token.type != "_INDENT":
        return None
    line = ctx.token.line or 1
    return Problem(
        "FL017",
        "this line is indented, but the line above does not open a block",
        Span(line, 1, line, max(2, len(ctx.token) + 1)),
        "unexpected indentation",
        "start this line at the same place as the line above; or, if the line above "
        "should open a block, end it with `:`",
    )


def _empty_block(ctx: Context) -> Problem | None:
    if "_INDENT" not in ctx.accepts or ctx.previous is None:
        return None
    header = ctx.previous_head if ctx.previous_head is not None else ctx.previous
    span = _span(header).cover(_span(ctx.previous))
    if header.type == "ON":
        message = "this handler is empty"
        fix = "write one statement after the `:` on the same line, or indented lines under it"
    else:
        what = f"step `{header}`" if header.type == "NAME" else f"the `{header}` block"
        message = f"{what} is empty"
        fix = "add at least one line under it, indented further than the line with the `:`"
    return Problem("FL011", message, span, "nothing under this", fix)


def _missing_colon(ctx: Context) -> Problem | None:
    if "COLON" not in ctx.accepts or ctx.token.type not in ("_NL", "$END", "_DEDENT"):
        return None
    if ctx.previous is None:
        return None
    if ctx.head is not None and ctx.head.type == "NAME" and ctx.head is ctx.previous:
        message = f"the step name `{ctx.head}` must be followed by `:`"
        fix = f"write `{ctx.head}:` and put the step's lines under it, indented"
    else:
        message = "this line opens a block, so it must end with `:`"
        fix = "add `:` at the end of the line"
    return Problem("FL002", message, _after(ctx.previous), "expected `:` here", fix)


def _elif_without_if(ctx: Context) -> Problem | None:
    if ctx.token.type not in ("ELIF", "ELSE"):
        return None
    word = str(ctx.token)
    return Problem(
        "FL010",
        f"`{word}` without an `if` right before it",
        _span(ctx.token),
        f"no `if` for this `{word}`",
        f"put `{word}` directly after the lines of an `if` block, starting at the same "
        "place as the `if`",
    )


def _misplaced_handler(ctx: Context) -> Problem | None:
    token = ctx.token
    if token.type == "ON" and "ON" not in ctx.accepts:
        return Problem(
            "FL009",
            "an `on` handler cannot stand here",
            _span(token),
            "not inside a block that has handlers",
            "`on` handlers belong inside the block of a `gather`, `ai_gather`, `assistant`, "
            "`transfer`, `record`, `queue`, `fetch` or `detect machine` (indented under its "
            "line, which ends with `:`), or at the top of the file as `on hangup:`",
        )
    if ctx.previous is None or ctx.previous.type != "ON":
        return None
    for events, (block, allowed) in HANDLERS.items():
        if set(ctx.accepts) == events:
            if str(token).lower() not in KEYWORDS or token.type == "NAME":
                guess = _did_you_mean(str(token), [e.lower() for e in events])
                fix = f"did you mean `{guess}`? " if token.type == "NAME" and guess else ""
                return Problem(
                    "FL009",
                    "`on` needs the event it handles",
                    _span(token),
                    "expected an event here",
                    f"{fix}{_block_name(block)} takes: {allowed}",
                )
            return Problem(
                "FL009",
                f"`on {token}` does not belong in {_block_name(block)}",
                _span(ctx.previous).cover(_span(token)),
                "not allowed here",
                f"{_block_name(block)} takes: {allowed}",
            )
    return None


# Words people write for "the caller pressed": `on digit "1":`, `on press 1:`, `press "2":`.
_KEY_WORDS = frozenset({"digit", "press", "pressed", "presses", "keys", "dtmf", "key", "button"})
# The rest of such a line: the key, quoted or not, and what follows the `:`.
_KEY_HANDLER = re.compile(r'(?:on\s+)?\w+\s+"?([0-9*#]+)"?\s*(?::\s*(.*))?$')


def _key_handler(ctx: Context) -> Problem | None:
    # In a gather, `on digit "1":`, `on press 1:` or `press "2":` for `on digits "1":`.
    token = ctx.token
    if token.type != "NAME" or str(token).lower() not in _KEY_WORDS:
        return None
    after_on = ctx.previous is not None and ctx.previous.type == "ON"
    if after_on and set(ctx.accepts) != {"DIGITS", "INVALID", "TIMEOUT"}:
        return None
    if not after_on and not {"ON", "REPROMPT"} <= set(ctx.accepts):
        return None
    written, at = _line_at(ctx.text, token.start_pos or 0)
    start = ctx.previous.start_pos if after_on and ctx.previous is not None else token.start_pos
    begin = at - ((token.start_pos or 0) - (start or 0))
    match = _KEY_HANDLER.match(written[begin:].rstrip())
    key = match.group(1) if match else "1"
    rest = match.group(2) if match and match.group(2) else ""
    fixed = f'on digits "{key}":' + (f" {rest.strip()}" if rest.strip() else "")
    span = _span(token) if not after_on or ctx.previous is None else _span(ctx.previous)
    return Problem(
        "FL009",
        "a key the caller presses is handled with `on digits`",
        span.cover(_span(token)),
        "write `on digits`",
        f"did you mean `{fixed}`?",
    )


def _block_name(block: str) -> str:
    if block.startswith("the "):
        return block
    article = "an" if block[0] in "aeiou" else "a"
    return f"{article} `{block}` block"


def _option_owner(ctx: Context) -> str | None:
    if ctx.head is None:
        return None
    owner = str(ctx.head)
    if owner not in OPTIONS:
        return None
    options = {o.upper() for o in OPTIONS[owner]}
    return owner if options & set(ctx.accepts) else None


def _unknown_word(ctx: Context) -> Problem | None:
    token = ctx.token
    if token.type != "NAME":
        return None
    word = str(token)
    owner = _option_owner(ctx)
    if owner is not None and ctx.previous is not None and ctx.previous.type not in _OPTION_TYPES:
        options = OPTIONS[owner]
        guess = _did_you_mean(word, options)
        listed = ", ".join(f"`{o}`" for o in options)
        fix = f"did you mean `{guess}`? " if guess else ""
        return Problem(
            "FL005",
            f"`{word}` is not an option of `{owner}`",
            _span(token),
            "unknown option",
            f"{fix}the options of `{owner}` are {listed}",
        )
    if _STATEMENT_TYPES <= set(ctx.accepts):
        guess = _did_you_mean(word, STATEMENTS)
        fix = f"did you mean `{PHRASES.get(guess, guess)}`? " if guess else ""
        listed = ", ".join(f"`{PHRASES.get(s, s)}`" for s in STATEMENTS)
        return Problem(
            "FL004",
            f"`{word}` is not a statement flowlang knows",
            _span(token),
            "unknown word",
            f"{fix}a line in a step starts with one of {listed}",
        )
    keywords = sorted(a.lower() for a in ctx.accepts if a.lower() in KEYWORDS)
    if keywords and "NAME" not in ctx.accepts:
        guess = _did_you_mean(word, keywords)
        fix = f"did you mean `{guess}`? " if guess else ""
        return Problem(
            "FL004",
            f"`{word}` is not a word flowlang expects here",
            _span(token),
            "unknown word",
            f"{fix}expected {describe_expected(ctx.accepts)}",
        )
    return None


_OPTION_TYPES = frozenset(o.upper() for options in OPTIONS.values() for o in options)

# What a line at the left margin can be (grammar/flowlang.lark, `start`, `setting`).
SETTING_WORDS = ("voice", "language", "timezone", "sms_from", "outbound")
TOP_LEVEL = (
    "the settings are `voice`, `language`, `timezone`, `sms_from` and `outbound from`; "
    "the other lines at the left margin are `include \"FILE\"`, `input NAME`, `languages:`, "
    "`hours NAME:`, `on hangup:` and steps (a name followed by `:`)"
)
SCENARIO_ADVICE = (
    "this looks like a scenario file (tests of a flow), not a flow: run it with "
    "`flowlang test FILE.scenarios`"
)


def _unknown_setting(ctx: Context) -> Problem | None:
    # A word at the start of a top-level line that is not followed by `:`: a setting that
    # flowlang does not have, or an option written on a line of its own.
    previous = ctx.previous
    if (
        previous is None
        or previous.type not in ("NAME", *(word.upper() for word in CONTEXTUAL))
        or previous is not ctx.head
        or previous.column != 1
        or ctx.token.type not in ("STRING", "INT", "DURATION")
        or set(ctx.accepts) != {"COLON"}
    ):
        return None
    word = str(previous)
    if word in _HEAD_LINES:
        return _head_line_after_steps(ctx, previous)
    if word == "scenario":
        advice = SCENARIO_ADVICE
    elif previous.type != "NAME":
        advice = (
            f"{TOP_LEVEL}; options like `{word}` go on the line of the statement they belong to"
        )
    else:
        guess = _did_you_mean(word, SETTING_WORDS)
        fix = f"did you mean `{guess}`? " if guess else ""
        advice = f"{fix}{TOP_LEVEL}"
    return Problem(
        "FL004",
        f"`{word}` is not a setting flowlang knows",
        _span(previous),
        "unknown setting",
        advice,
    )


def _reserved_word(ctx: Context) -> Problem | None:
    token = ctx.token
    word = str(token)
    if word not in RESERVED or "NAME" not in ctx.accepts:
        return None
    rest = ctx.text[token.end_pos or 0 :].lstrip(" ")
    at_top = "ON" in ctx.accepts and "$END" in ctx.accepts
    if at_top and word.upper() in _STATEMENT_TYPES and not rest.startswith(":"):
        return Problem(
            "FL017",
            f"`{word}` must be inside a step",
            _span(token),
            "not in a step",
            "indent this line under a step name, for example under `main:`",
        )
    if at_top and token.column == 1 and word in _HEAD_LINES and not rest.startswith(":"):
        return _head_line_after_steps(ctx, token)
    if at_top and token.column == 1 and not rest.startswith(":"):
        return Problem(
            "FL004",
            f"`{word}` is not a setting flowlang knows",
            _span(token),
            "unknown setting",
            f"{TOP_LEVEL}; options like `{word}` go on the line of the statement they belong to",
        )
    return Problem(
        "FL019",
        f"`{word}` is a reserved word, so it cannot be used as a name",
        _span(token),
        "reserved word",
        f"choose another name, for example `{word}_1` or `my_{word}`",
    )


def _head_line_after_steps(ctx: Context, token: Token) -> Problem:
    # `include` and `input` stand with the settings, above the first step.
    word = str(token)
    written, _ = _line_at(ctx.text, token.start_pos or 0)
    return Problem(
        "FL021",
        f"`{word}` lines go at the top of the file, before the first step",
        _span(token),
        f"`{word}` after the steps",
        f"move `{written.split('#')[0].strip()}` above the first step",
    )


# The words after which a phone number stands.
_NUMBER_OWNERS = frozenset({"transfer", "sms", "from", "sms_from"})


def _unquoted_number(ctx: Context) -> Problem | None:
    # `transfer 312-555-0100`: a phone number without quotes. Quoting only the token the parser
    # refused (`"312"`) would not do: the whole number is shown as Telnyx dials it, in quotes,
    # `+` and the country code first (10 digits are taken for the US or Canada; for another
    # length, only an example can be shown).
    owner = str(ctx.previous) if ctx.previous is not None else ""
    if owner not in _NUMBER_OWNERS or "STRING" not in ctx.accepts:
        return None
    written, at = _line_at(ctx.text, ctx.token.start_pos or 0)
    match = re.match(r"\+?\(?\d[\d ().-]*\d", written[at:])
    if match is None:
        return None
    digits = re.sub(r"\D", "", match.group())
    if len(digits) < 7:
        return None
    if match.group().startswith("+"):
        number = f"+{digits}"
    elif len(digits) == 10:
        number = f"+1{digits}"
    elif len(digits) == 11 and digits.startswith("1"):
        number = f"+{digits}"
    else:
        number = ""
    fixed = written[:at] + f'"{number}"' + written[at + len(match.group()) :]
    line, column = ctx.token.line or 1, ctx.token.column or 1
    return Problem(
        "FL006",
        f"`{owner}` needs the phone number in double quotes",
        Span(line, column, line, column + len(match.group())),
        "not in quotes",
        "write it in double quotes, with `+` and the country code first"
        + (f": `{fixed.split('#')[0].strip()}`" if number else f', like `{owner} "+13125550100"`'),
    )


def _wrong_value(ctx: Context) -> Problem | None:
    accepts = set(ctx.accepts)
    token = ctx.token
    if not accepts or not accepts <= _VALUE_TYPES or ctx.previous is None:
        return None
    owner = str(ctx.previous)
    wanted = describe_expected(accepts)
    if accepts == {"NAME"}:
        wanted = _NAME_AFTER.get(ctx.previous.type, wanted)
    if token.type == "INT" and "DURATION" in accepts:
        return Problem(
            "FL006",
            f"`{owner}` needs a duration, and `{token}` has no unit",
            _span(token),
            "no unit",
            f"a duration needs a unit, like 5s: write `{owner} {token}s` "
            "(units: ms for milliseconds, s for seconds, m for minutes)",
        )
    if token.type == "STRING" and accepts == {"INT"}:
        inner = str(token)[1:-1]
        example = inner if inner.isdigit() else "3"
        return Problem(
            "FL006",
            f"`{owner}` needs a whole number, not a string",
            _span(token),
            "a string, not a number",
            f"write the number without quotes, like `{owner} {example}`",
        )
    if token.type in ("INT", "DURATION") and accepts == {"STRING"}:
        return Problem(
            "FL006",
            f"`{owner}` needs a string in double quotes",
            _span(token),
            "not in quotes",
            f'put it in double quotes: `{owner} "{token}"`',
        )
    return Problem(
        "FL006",
        f"`{owner}` needs {wanted}, not {describe_found(token)}",
        _span(token),
        f"expected {wanted}",
        f"write {wanted} after `{owner}`",
    )


def _keys_in_quotes(ctx: Context) -> Problem | None:
    token = ctx.token
    if (
        token.type == "INT"
        and "STRING" in ctx.accepts
        and ctx.previous is not None
        and ctx.previous.type in ("DIGITS", "KEY", "COMMA")
    ):
        return Problem(
            "FL006",
            "keys are written in double quotes",
            _span(token),
            "not in quotes",
            f'write `"{token}"`, with the quotes',
        )
    return None


def _expressions(ctx: Context) -> Problem | None:
    token = ctx.token
    previous = ctx.previous
    if previous is not None and previous.type in ("IF", "ELIF") and token.type == "COLON":
        return Problem(
            "FL001",
            f"`{previous}` needs a condition before the `:`",
            _span(token),
            "condition missing",
            f'write what to check, like `{previous} digits == "1":`',
        )
    if previous is not None and previous.type == "IN" and set(ctx.accepts) == {"LSQB"}:
        return Problem(
            "FL001",
            "`in` needs a list in square brackets",
            _span(token),
            "expected a list here",
            'write the values to look for in square brackets, like `in ["1", "2"]`',
        )
    if (
        token.type == "LPAR"
        and previous is not None
        and previous.type in ("NAME", "DIGITS")
        and "LPAR" not in ctx.accepts
    ):
        return Problem(
            "FL001",
            f"`{previous}(...)` looks like a function call, and flows cannot call functions",
            _span(token),
            "no calls",
            "a condition only compares values: variables, text, numbers, `true`, `false`; "
            "a flow is data, not code",
        )
    if token.type == "LSQB" and "LSQB" not in ctx.accepts:
        return Problem(
            "FL001",
            "a list in square brackets can only come after `in`",
            _span(token),
            "a list cannot stand here",
            'use a list to check for several values, like `if digits in ["1", "2"]:`',
        )
    return None


def _missing_comma(ctx: Context) -> Problem | None:
    previous = ctx.previous
    if previous is None or previous.type != "STRING" or ctx.token.type != "STRING":
        return None
    if "COMMA" not in ctx.accepts:
        return None
    return Problem(
        "FL001",
        "two strings in a row need a comma between them",
        _span(ctx.token),
        "comma missing before this",
        f"write {previous}, {ctx.token}",
    )


def _end_of_file(ctx: Context) -> Problem | None:
    token = ctx.token
    at_end = token.type == "$END" or (
        token.type in ("_NL", "_DEDENT") and not ctx.text[token.end_pos or 0 :].strip()
    )
    if not at_end:
        return None
    where = _after(ctx.previous) if ctx.previous is not None else Span.point(1, 1)
    return Problem(
        "FL016",
        "the file ends too early",
        where,
        f"expected {describe_expected(ctx.accepts)}",
        f"finish this line: it needs {describe_expected(ctx.accepts)}",
    )


def _generic(ctx: Context) -> Problem:
    token = ctx.token
    wanted = describe_expected(ctx.accepts)
    if token.type in ("_NL", "_DEDENT", "$END") and ctx.previous is not None:
        span = _after(ctx.previous)
        message = "this line ends too early"
    else:
        span = _span(token)
        message = f"{describe_found(token)} is not expected here"
    fix = f"here flowlang expects {wanted}"
    corrected = _corrected_line(ctx)
    if corrected is not None:
        reason, fixed = corrected
        fix = f"{reason}: `{fixed}`"
    return Problem("FL001", message, span, f"expected {wanted}", fix)


# The words that start a line a block holds, by the word of its header line: for "end the line
# with `:` and put ... on the next line".
_BLOCK_LINES = {
    **{word: (*STATEMENTS, "on") for word in ("if", "elif", "else")},
    "gather": ("say", "play", "reprompt", "on"),
    "queue": ("play", "on"),
    **{
        word: ("on",)
        for word in ("transfer", "record", "fetch", "ai_gather", "assistant", "detect")
    },
}


def _corrected_line(ctx: Context) -> tuple[str, str] | None:
    """Why, and the line of the refused token with the likeliest one-place fix: a `:` or `=`
    put in, `or` between keys made a comma, a `.` after a string moved into it, `()` taken
    away."""
    token, previous, accepts = ctx.token, ctx.previous, set(ctx.accepts)
    if token.type in _LAYOUT_FOUND or previous is None or previous.line != token.line:
        return None
    written, at = _line_at(ctx.text, token.start_pos or 0)
    before_at = at - ((token.start_pos or 0) - (previous.end_pos or 0))
    before, rest = written[:before_at], written[at:]
    after = written[at + len(token) :]
    if token.type == "DOT" and previous.type == "STRING" and "_NL" in accepts:
        # `say "Hello".`: the full stop belongs inside the quotes.
        return "the full stop goes inside the quotes", (before[:-1] + '."' + after).strip()
    if token.type == "LPAR" and "_NL" in accepts and re.match(r"[^)]*\)\s*(#.*)?$", after):
        # `hangup()`: statements are not called like functions.
        return "write the statement without `()`", before.strip()
    if token.type in ("OR", "AND") and "COMMA" in accepts:
        # `on digits "1" or "2":`: keys are listed with commas.
        what = "the keys" if re.match(r"\s*on\s+digits\b", written) else "them"
        return f"list {what} with commas", (before + "," + after).strip()
    if "COLON" in accepts and token.type != "COLON":
        first = written.split(maxsplit=1)[0] if written.strip() else ""
        if first == "on":
            space = "" if rest.startswith(" ") else " "
            return f"add `:` before {describe_found(token)}", (before + ":" + space + rest).strip()
        # Only an `on` handler may have its one statement after the `:` on the same line
        # (`if x: say "x"` is FL023): the line of a block it can hold goes under it.
        if str(token) in _BLOCK_LINES.get(first, ()):
            return (
                f"end the line with `:` and put `{rest.strip()}` on the next line, indented "
                "under it", before.strip() + ":",
            )
    if accepts == {"EQUAL"}:
        space = "" if rest.startswith(" ") else " "
        return "a variable is set with `=`", (before + " =" + space + rest).strip()
    return None


def _comparison(ctx: Context) -> Problem | None:
    token = ctx.token
    if token.type == "EQUAL" and "COMPARE" in ctx.accepts:
        pos = token.end_pos or 0
        if ctx.text[pos : pos + 1] in ("<", ">"):
            # `=>` or `=<`: the two signs the other way round.
            meant = ctx.text[pos] + "="
            written, at = _line_at(ctx.text, token.start_pos or 0)
            fixed = (written[:at] + meant + written[at + 2 :]).strip()
            return Problem(
                "FL020",
                f"did you mean `{meant}`?",
                Span(token.line or 1, token.column or 1, token.line or 1, (token.column or 1) + 2),
                f"write `{meant}`",
                f"`{meant}` is written with `=` second: `{fixed}`",
            )
        return Problem(
            "FL020",
            "`=` sets a variable; to compare two values write `==`",
            _span(token),
            "use `==` here",
            'write `==` to check whether two values are equal, like `if digits == "1":`',
        )
    if token.type in ("COMPARE", "IN") and token.type not in ctx.accepts:
        return Problem(
            "FL020",
            "only one comparison can be made at a time",
            _span(token),
            "a second comparison",
            "join comparisons with `and` or `or`, like `a == b and b == c`",
        )
    return None


def _setting_after_steps(ctx: Context) -> Problem | None:
    # After the first step, `voice` at the start of a line can only be a step's name, so the
    # parser stops at the string that follows it. `outbound` is reserved: the parser stops at it.
    word = ctx.previous
    outbound = ctx.token.type == "OUTBOUND" and "ON" in ctx.accepts and "$END" in ctx.accepts
    if outbound:
        word = ctx.token
    elif word is None or word.type not in _SETTING_TYPES or word is not ctx.head:
        return None
    elif ctx.token.type == "COLON" or set(ctx.accepts) != {"COLON"}:
        return None
    if word.column != 1:
        return None
    written, _ = _line_at(ctx.text, word.start_pos or 0)
    return Problem(
        "FL021",
        "settings go at the top of the file, before the first step",
        _span(word),
        "a setting after the steps",
        f"move `{written.split('#')[0].strip()}` above the first step",
    )


_SETTING_TYPES = frozenset({"VOICE", "LANGUAGE", "TIMEZONE", "SMS_FROM"})
# Lines that stand with the settings at the top of a file, though they are not settings.
_HEAD_LINES = frozenset({"include", "input"})


# The lines each kind of block takes, recognised by what the parser would accept there.
_BLOCK_ITEMS = (
    ("gather", frozenset({"SAY", "PLAY", "REPROMPT", "ON"}), "its prompt (`say` or `play` lines), "
     "`reprompt` and `on` handlers"),
    ("ai_gather", frozenset({"GREETING", "FIELD", "ON"}), "`greeting`, `field` lines and `on` "
     "handlers"),
    ("assistant", frozenset({"INSTRUCTIONS", "GREETING", "MESSAGE", "ON"}), "`instructions`, "
     "`greeting`, `voice`, `message` lines and `on` handlers"),
)  # fmt: skip


# The lines that only some blocks take, and which blocks those are.
_ITEM_HOMES = {
    "REPROMPT": "a `gather` block",
    "GREETING": "an `ai_gather` or `assistant` block",
    "FIELD": "an `ai_gather` block",
    "INSTRUCTIONS": "an `assistant` block",
    "MESSAGE": "an `assistant` block",
}


def _item_out_of_place(ctx: Context) -> Problem | None:
    token = ctx.token
    if ctx.previous is not None and ctx.previous is ctx.head and set(ctx.accepts) == {"COLON"}:
        # At the top of the file the word was read as a step's name, and what follows is not `:`.
        token = ctx.previous
    home = _ITEM_HOMES.get(token.type)
    if home is None or token.type in ctx.accepts or ctx.head is not token:
        return None
    return Problem(
        "FL022",
        f"`{token}` lines belong in {home}",
        _span(token),
        "not allowed here",
        f"move this line into {home}, indented under its first line",
    )


def _line_not_in_block(ctx: Context) -> Problem | None:
    token = ctx.token
    if token.type not in _STATEMENT_TYPES:
        return None
    for block, items, described in _BLOCK_ITEMS:
        if items <= set(ctx.accepts):
            return Problem(
                "FL022",
                f"`{token}` cannot stand directly in {_block_name(block)}",
                _span(token),
                "not allowed here",
                f"{_block_name(block)} holds {described}; put `{token}` inside a handler, "
                f"like `on ...: {token} ...`, or after the block, indented like the `{block}`",
            )
    return None


def _text_after_colon(ctx: Context) -> Problem | None:
    previous = ctx.previous
    if previous is None or previous.type != "COLON" or set(ctx.accepts) != {"_NL"}:
        return None
    return Problem(
        "FL023",
        "the lines of a block go under it, not after its `:`",
        _span(ctx.token),
        "move this to the next line",
        "start a new line after the `:` and indent it; only `on` handlers may have one "
        "statement on the same line",
    )


def _message_role(ctx: Context) -> Problem | None:
    if ctx.previous is None or ctx.previous.type != "MESSAGE" or ctx.token.type != "STRING":
        return None
    return Problem(
        "FL006",
        "`message` needs a role before its text",
        _span(ctx.token),
        "no role before the text",
        f"write who the message is from, like `message system {ctx.token}`",
    )


def _sms_one_string(ctx: Context) -> Problem | None:
    # `sms "Thanks for calling!"`: the number to send it to is missing.
    previous = ctx.previous
    if previous is None or previous.type != "STRING" or set(ctx.accepts) != {"STRING"}:
        return None
    written, at = _line_at(ctx.text, previous.start_pos or 0)
    sms = re.search(r"\bsms\s*$", written[:at])
    if sms is None:
        return None
    rest = written[at:].strip()
    line = previous.line or 1
    return Problem(
        "FL006",
        "`sms` needs the number and the message",
        Span(line, sms.start() + 1, line, previous.end_column or sms.start() + 4),
        "the number is missing",
        f'write the number to send to first: `sms "{{caller}}" {rest}`',
    )


def _indented_step(ctx: Context) -> Problem | None:
    # `    sales:` under the lines of the step above: a new step, indented by mistake.
    token = ctx.token
    if token.type != "NAME" or ctx.head is not token or not _STATEMENT_TYPES <= set(ctx.accepts):
        return None
    written, at = _line_at(ctx.text, token.start_pos or 0)
    if not re.fullmatch(r"\s*:\s*(#.*)?", written[at + len(token) :]) or at == 0:
        return None
    if _did_you_mean(str(token), STATEMENTS) is not None:
        return None  # `gahter:`: a statement misspelled, explained as such
    line = token.line or 1
    return Problem(
        "FL017",
        "a step name starts at the left edge",
        Span(line, 1, line, at + 1),
        "spaces before the step name",
        f"remove the spaces before `{token}:`",
    )


def _else_with_condition(ctx: Context) -> Problem | None:
    # `else caller == "+1...":`: a condition after `else` is an `elif`.
    previous = ctx.previous
    if previous is None or previous.type != "ELSE" or set(ctx.accepts) != {"COLON"}:
        return None
    if ctx.token.type in _LAYOUT_FOUND or ctx.token.type == "IF":
        return None
    written, at = _line_at(ctx.text, previous.start_pos or 0)
    fixed = ("elif" + written[at + len("else") :]).split("#")[0].strip()
    return Problem(
        "FL010",
        "`else` takes no condition",
        _span(previous).cover(_span(ctx.token)),
        "write `elif` for another condition",
        f"to test another condition use `{fixed}`",
    )


def _on_else(ctx: Context) -> Problem | None:
    # `on else:` in a gather, for any other key.
    previous = ctx.previous
    if previous is None or previous.type != "ON" or ctx.token.type != "ELSE":
        return None
    if "INVALID" not in ctx.accepts:
        return None
    block = "a gather" if "DIGITS" in ctx.accepts else "an ai_gather"
    written, at = _line_at(ctx.text, previous.start_pos or 0)
    rest = written[(ctx.token.end_pos or 0) - (previous.start_pos or 0) + at :]
    return Problem(
        "FL009",
        f"{block} takes `on invalid:` for any other key",
        _span(previous).cover(_span(ctx.token)),
        "write `on invalid`",
        f"write `on invalid{rest.rstrip()}`",
    )


def _covering(first: Span, last: Span) -> Span:
    return Span(first.line, first.column, last.end_line, last.end_column)


def _else_if(ctx: Context) -> Problem | None:
    previous = ctx.previous
    if previous is None or previous.type != "ELSE" or ctx.token.type != "IF":
        return None
    return Problem(
        "FL001",
        "`else if` is written `elif` in a flow",
        _covering(_span(previous), _span(ctx.token)),
        "write `elif`",
        "replace `else if` with `elif`, like `elif digits == \"2\":`",
    )


def _field_type(ctx: Context) -> Problem | None:
    previous = ctx.previous
    if (
        previous is None
        or previous.type != "NAME"
        or ctx.head is None
        or ctx.head.type != "FIELD"
        or set(ctx.accepts) != {"NAME"}
    ):
        return None
    return Problem(
        "FL006",
        f"the field `{previous}` needs a type after its name",
        _after(previous),
        "type missing here",
        f"write one of string, integer, number or boolean, like `field {previous} string ...`",
    )


def _digits_with_dash(ctx: Context) -> Problem | None:
    # `gather digits 1-3:` reads `-` as subtraction, which a header option cannot take.
    token = ctx.token
    if token.type != "ADDOP" or str(token) != "-" or ctx.previous is None:
        return None
    line_start = ctx.text.rfind("\n", 0, token.start_pos or 0) + 1
    written = _DIGITS_WITH_DASH.search(ctx.text[line_start : (token.start_pos or 0) + 1])
    if written is None:
        return None
    high = re.match(r" *([0-9]+)", ctx.text[(token.end_pos or 0) :])
    low_high = f"{written.group(1)}..{high.group(1) if high else 'N'}"
    return Problem(
        "FL018",
        "a range of key counts is written with `..`, not `-`",
        _span(token),
        "write `..` here",
        f"write `digits {low_high}` (the fewest keys, two dots, the most keys)",
    )


NAME_CODE = "FL024"


def _bad_name(message: str, span: Span, name: str, line: str) -> Problem:
    """A name written wrongly: `name` written right, `line` the line with it. The label names
    the name, so that parser.py can report the same name written wrongly once."""
    return Problem(
        NAME_CODE,
        message,
        span,
        f"write `{name}`",
        f"write `{line}`, and `{name}` wherever the name is used",
    )


def _digit_last(written: str) -> str:
    """`2nd_menu` as a name: `menu_2` (the number moved to the end)."""
    match = re.match(r"([0-9]+)(?:st|nd|rd|th)?_*(.*)", written)
    assert match is not None
    number, rest = match.groups()
    return f"{rest}_{number}" if rest else f"step_{number}"


# The words after which a name stands: `goto NAME`, `call NAME`, `set NAME`, `into NAME`.
_NAME_BEFORE = re.compile(r"(?:^|\s)(?:goto|call|set|into|open)\s+$")
# The words after which a step's name stands, at the start of a line or after a handler's `:`.
_JUMP_BEFORE = re.compile(r"(?:^\s*|:\s*)(?:goto|call)\s+$")


def _names_something(text: str, start: int, end: int) -> bool:
    """Whether the word at text[start:end] stands where a name does: after `goto` and the
    like, or at the left margin followed by `:` (a step)."""
    written, at = _line_at(text, start)
    after = written[at + end - start :].lstrip(" ")
    if at == 0:
        return after.startswith(":")
    return _NAME_BEFORE.search(written[:at]) is not None


def _name_in_pieces(ctx: Context) -> Problem | None:
    # `goto sales menu`, `sales-menu:`: a name written as words, with a space or a dash. The
    # second word may be one flowlang knows (`opening hours:`), and the jump may follow a
    # handler's `:` (`on digits "1": goto opening hours`).
    previous, token = ctx.previous, ctx.token
    if previous is None or previous.type != "NAME":
        return None
    if token.type not in ("NAME", "ADDOP") and not re.fullmatch(r"[^\W\d]\w*", str(token)):
        return None
    written, at = _line_at(ctx.text, previous.start_pos or 0)
    head = ctx.head
    step = head is previous and previous.column == 1 and set(ctx.accepts) == {"COLON"}
    jump = "_NL" in ctx.accepts and _JUMP_BEFORE.search(written[:at]) is not None
    if not (step or jump):
        return None
    words = re.match(r"[^\W\d]\w*(?:(?: +|-)\w+)+", written[at:])
    if words is None:
        return None
    after = written[at + words.end() :].strip()
    if step and not after.startswith(":") or jump and after and not after.startswith("#"):
        return None
    fixed = re.sub(r" +|-", "_", words.group())
    line = previous.line or 1
    column = previous.column or 1
    return _bad_name(
        "a name has no spaces or dashes: use `_` between its words",
        Span(line, column, line, column + words.end()),
        fixed,
        (written[:at] + fixed + written[at + words.end() :]).split("#")[0].strip(),
    )


def _ellipsis(ctx: Context) -> Problem | None:
    # `...` copied from an example that leaves lines out (the tutorials do).
    token = ctx.token
    if token.type != "DOTDOT":
        return None
    written, at = _line_at(ctx.text, token.start_pos or 0)
    if written.split("#")[0].strip() not in ("..", "..."):
        return None
    line = token.line or 1
    return Problem(
        "FL001",
        "`...` stands for lines that an example leaves out",
        Span(line, at + 1, line, len(written.rstrip()) + 1),
        "lines left out",
        "write the lines that belong here instead (the example before it shows them), "
        "or delete this line",
    )


def _hours_line(ctx: Context) -> Problem | None:
    # A line of an `hours` block written the way a shop door shows it: `Mon-Fri 9 - 17`. In
    # such a block a whole number is only taken after a month's name (`closed dec 25`).
    if not {"CLOCK_RANGE", "DATE", "DAY_RANGE", "INT"} & set(ctx.accepts):
        return None
    at = ctx.token if ctx.token.type not in _LAYOUT_FOUND else ctx.previous
    if at is None:
        return None
    return hours_line_problem(ctx.text, at.start_pos or 0)


_RULES = (
    _ellipsis,
    _unquoted_number,
    _hours_line,
    _name_in_pieces,
    _digits_with_dash,
    _unexpected_indent,
    _setting_after_steps,
    _comparison,
    _text_after_colon,
    _message_role,
    _sms_one_string,
    _else_with_condition,
    _on_else,
    _indented_step,
    _else_if,
    _field_type,
    _line_not_in_block,
    _item_out_of_place,
    _empty_block,
    _key_handler,
    _missing_colon,
    _elif_without_if,
    _misplaced_handler,
    _unknown_setting,
    _unknown_word,
    _reserved_word,
    _keys_in_quotes,
    _expressions,
    _missing_comma,
    _wrong_value,
    _end_of_file,
)


_NUMBER_WITH_LETTERS = re.compile(r"[0-9]+\w+")
# A duration with its unit spelled another way: `1h`, `2hours`, `30sec`, `5min`.
_UNIT_WORDS = re.compile(r"([0-9]+)(h|hrs?|hours?|secs?|seconds?|mins?|minutes?)", re.I)


# `digits 1-3` where `digits 1..3` is meant (the text up to and including the `-`).
_DIGITS_WITH_DASH = re.compile(r"\bdigits\s+([0-9]+)\s*-$")


# Quotation marks that word processors and mail programs type instead of `"`.
CURLY_DOUBLE = "\u201c\u201d\u201e\u201f\u2033"
CURLY_SINGLE = "\u2018\u2019\u201a\u201b"
CURLY_QUOTES_MESSAGE = "these are curly \u201csmart\u201d quotes (from Word or email)"


def straight_quotes(line: str, pos: int) -> str:
    """`line` with the curly quotes that stand for `"` typed straight: every curly double
    quote, and a curly single quote at `pos` with the last one after it on the line (the
    apostrophes inside a string stay as they are)."""
    fixed = "".join('"' if char in CURLY_DOUBLE else char for char in line)
    if pos < len(line) and line[pos] in CURLY_SINGLE:
        closing = max(line.rfind(char) for char in CURLY_SINGLE)
        fixed = fixed[:pos] + '"' + fixed[pos + 1 :]
        if closing > pos:
            fixed = fixed[:closing] + '"' + fixed[closing + 1 :]
    return fixed.strip()


def _line_at(text: str, pos: int) -> tuple[str, int]:
    """The line holding `pos`, and where `pos` is in it."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return text[start : len(text) if end < 0 else end].rstrip("\r"), pos - start


# One `"name": value` pair of a JSON object written after `send`.
_JSON_PAIR = re.compile(r'\s*"?([^\W\d]\w*)"?\s*:\s*("(?:[^"\\]|\\.)*"|[^,}]+?)\s*(?:,|}|$)')


def _send_object(written: str, line: int, column: int) -> Problem:
    """`send {"number": caller}`: the fields of a body are sent one `send` line each."""
    fields = [f"send {name} = {value}" for name, value in _JSON_PAIR.findall(written[1:])]
    fixed = "`, then `".join(fields) if fields else "send number = caller"
    return Problem(
        "FL018",
        "`send` takes one field of the body, not an object in `{}`",
        Span(line, column, line, column + max(1, len(written.rstrip()))),
        "one field per line",
        f"write one field per line: `{fixed}`",
    )


def unexpected_character(text: str, pos: int, line: int, column: int) -> Problem:
    """The problem for a character no token can start with (an unclosed string, a tab, ...)."""
    char = text[pos] if pos < len(text) else ""
    hours = hours_line_problem(text, pos)
    if hours is not None:
        return hours
    if char == '"':
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        width = len(text[pos:end].rstrip("\r"))
        written, at = _line_at(text, pos)
        if any(quote in written[at:] for quote in CURLY_DOUBLE):
            # `say "Hello.”`: the string was closed with a curly quote.
            return Problem(
                "FL003",
                "this string is closed with a curly \u201csmart\u201d quote (from Word or email)",
                Span(line, column, line, column + max(1, width)),
                "the string starts here",
                f"type straight quotes: `{straight_quotes(written, at)}`",
            )
        return Problem(
            "FL003",
            "this string is not closed",
            Span(line, column, line, column + max(1, width)),
            "the string starts here",
            'end the text with `"` on the same line; to put a quote inside a string, write `\\"`',
        )
    if char in CURLY_DOUBLE or char in CURLY_SINGLE:
        written, at = _line_at(text, pos)
        return Problem(
            "FL018",
            CURLY_QUOTES_MESSAGE,
            Span.point(line, column),
            "curly quote",
            f"type straight quotes: `{straight_quotes(written, at)}`",
        )
    if char == "\t":
        return Problem(
            "FL008",
            "a tab is used here",
            Span.point(line, column),
            "tab",
            "use spaces instead of tabs; many editors can turn tabs into spaces for you",
        )
    number = _NUMBER_WITH_LETTERS.match(text, pos)
    if char.isdigit() and number is not None and _names_something(text, pos, number.end()):
        written, at = _line_at(text, pos)
        name = _digit_last(number.group())
        fixed = written[:at] + name + written[at + len(number.group()) :]
        return _bad_name(
            "names cannot start with a digit",
            Span(line, column, line, column + len(number.group())),
            name,
            fixed.split("#")[0].strip(),
        )
    unit = _UNIT_WORDS.fullmatch(number.group()) if number is not None else None
    if char.isdigit() and number is not None and unit is not None:
        amount, word = int(unit.group(1)), unit.group(2).lower()
        in_hours = word.startswith("h")
        right = f"{amount * 60}m" if in_hours else f"{amount}{'m' if word.startswith('m') else 's'}"
        written, at = _line_at(text, pos)
        fixed = (written[:at] + right + written[at + len(number.group()) :]).strip()
        return Problem(
            "FL006",
            "hours are not a unit; count them in minutes" if in_hours else
            f"`{number.group()}` is written `{right}`",
            Span(line, column, line, column + len(number.group())),
            f"write `{right}`",
            f"write `{right}`: `{fixed}` (units: ms, s and m)",
        )
    if char.isdigit() and number is not None:
        return Problem(
            "FL006",
            f"`{number.group()}` is neither a number nor a duration",
            Span(line, column, line, column + len(number.group())),
            "not a number",
            "write a whole number like 3, or a duration like 500ms, 8s or 2m",
        )
    if char == "\u00a0":
        return Problem(
            "FL018",
            "a non-breaking space is used here",
            Span.point(line, column),
            "special space",
            "replace it with a normal space (it often comes from copying text from a web page)",
        )
    shown = f"`{char}`" if char.isprintable() else f"the character {char!r}"
    line_start = text.rfind("\n", 0, pos) + 1
    written_range = _DIGITS_WITH_DASH.search(text[line_start : pos + 1])
    if char == "-" and written_range is not None:
        high = re.match(r" *([0-9]+)", text[pos + 1 :])
        low_high = f"{written_range.group(1)}..{high.group(1) if high else 'N'}"
        return Problem(
            "FL018",
            "a range of key counts is written with `..`, not `-`",
            Span.point(line, column),
            "write `..` here",
            f"write `digits {low_high}` (the fewest keys, two dots, the most keys)",
        )
    if char == "{":
        written, at = _line_at(text, pos)
        if re.match(r"\s*send\s*$", written[:at]):
            return _send_object(written[at:], line, column)
    if text.startswith("//", pos):
        written, at = _line_at(text, pos)
        comment = written[at:].lstrip("/").strip()
        return Problem(
            "FL018",
            "comments start with `#`, not `//`",
            Span(line, column, line, column + 2),
            "not a comment",
            f"write `# {comment}`" if comment else "write `#` instead of `//`",
        )
    if char in "*/%":
        return Problem(
            "FL018",
            f"{shown} cannot be used here: flows only add and subtract whole numbers",
            Span.point(line, column),
            "unexpected character",
            "count with `+` and `-` (`set left = left - 1`); compare and combine values with "
            "`==`, `!=`, `<`, `>`, `and`, `or` and `not`",
        )
    return Problem(
        "FL018",
        f"{shown} cannot be used here",
        Span.point(line, column),
        "unexpected character",
        'text belongs in double quotes, like say "Hello!"; a `#` starts a comment',
    )
