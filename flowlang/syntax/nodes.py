"""The typed syntax tree of a `.flow` file: frozen attrs classes, one per construct.

Every node carries a `span` (where it stands in the source). Spans are left out of equality,
so two trees compare equal when they have the same structure, wherever they were written;
that is what lets `parse(format(tree)) == tree` be tested. Nodes are built by the parser and
read by everything else; nothing mutates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import attrs
from attrs import field, frozen

from flowlang.source import Span


@frozen
class Node:
    """Base of every node. `span` is where the node stands; it does not take part in `==`."""

    span: Span | None = field(default=None, eq=False, kw_only=True, repr=False)

    def children(self) -> Iterator[Node]:
        """The nodes directly below this one, in source order of the fields."""
        for a in attrs.fields(type(self)):
            if a.name == "span":
                continue
            yield from _nodes_in(getattr(self, a.name))


def _tuple(items: Iterable[Any]) -> tuple[Any, ...]:
    # A plain `converter=tuple` leaves mypy with an unbound type variable in every node's
    # __init__, so no caller could type-check; this converter has a concrete signature.
    return tuple(items)


def _nodes_in(value: Any) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _nodes_in(item)


def walk(node: Node) -> Iterator[Node]:
    """Every node in the tree below `node` (itself included), depth first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(current.children())))


_new = object.__new__
_set = object.__setattr__
_FIELDS: dict[type[Node], tuple[str, ...]] = {}


def moved(value: Any, lines: int) -> Any:
    """`value` (a node, or a tuple of them) with every span `lines` further down the file."""
    if isinstance(value, Node):
        # A copy made slot by slot: the fields were checked when the node was first built,
        # and this is three times as fast as building it again.
        kind = type(value)
        names = _FIELDS.get(kind)
        if names is None:
            names = _FIELDS[kind] = tuple(a.name for a in attrs.fields(kind) if a.name != "span")
        new = _new(kind)
        for name in names:
            _set(new, name, moved(getattr(value, name), lines))
        span = value.span
        _set(new, "span", None if span is None else span.down(lines))
        return new
    if type(value) is tuple:
        return tuple([moved(item, lines) for item in value])
    return value


class Visitor:
    """Calls `visit_<ClassName>(node)` for a node; falls back to `generic_visit` (the children)."""

    def visit(self, node: Node) -> Any:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is None:
            return self.generic_visit(node)
        return method(node)

    def generic_visit(self, node: Node) -> Any:
        for child in node.children():
            self.visit(child)
        return None


# ---------------------------------------------------------------------------------------------
# Names and values


@frozen
class Name(Node):
    """An identifier as written: a step name, a `goto` target, a variable, a field name."""

    value: str


@frozen
class Interp(Node):
    """`{booking.name}` inside a string: the variable `path` whose value is spliced in.
    `{order as digits}` also names a spoken `format` (one of SPOKEN_FORMATS)."""

    path: tuple[str, ...] = field(converter=_tuple)
    format: str | None = None

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def written(self) -> str:
        """The braces' content as `fmt` writes it: `order` or `order as digits`."""
        return self.dotted if self.format is None else f"{self.dotted} as {self.format}"


# `{EXPR as FORMAT}`: how a value is read out (LANGUAGE.md 12).
SPOKEN_FORMATS = ("digits", "phone", "money", "date", "time")


@frozen
class Str(Node):
    """A string literal. `parts` are literal text (escapes already decoded, `{{` already `{`)
    and `Interp` nodes, in order. A string without interpolation has at most one text part."""

    parts: tuple[str | Interp, ...] = field(converter=_tuple)

    @property
    def text(self) -> str:
        """The literal text, each interpolation shown as `{path}` (a plain string: its value)."""
        return "".join(p if isinstance(p, str) else "{" + p.written + "}" for p in self.parts)

    @property
    def interpolations(self) -> tuple[Interp, ...]:
        return tuple(p for p in self.parts if isinstance(p, Interp))


@frozen
class Int(Node):
    """An integer literal: `3`."""

    value: int


@frozen
class Bool(Node):
    """`true` or `false`."""

    value: bool


UNIT_MILLIS = {"ms": 1, "s": 1000, "m": 60_000}


@frozen
class Duration(Node):
    """A duration: `amount` of `unit` (`ms`, `s` or `m`), so `8s` stays `8s` when formatted."""

    amount: int
    unit: str

    @property
    def millis(self) -> int:
        return self.amount * UNIT_MILLIS[self.unit]


@frozen
class DigitRange(Node):
    """`digits 4..6` on a gather: at least `low`, at most `high` keys (`digits 6` is 6..6)."""

    low: Int
    high: Int


@frozen
class Var(Node):
    """A variable read in an expression: `account`, or a dotted path `booking.name`."""

    path: tuple[str, ...] = field(converter=_tuple)

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@frozen
class ListExpr(Node):
    """A list literal, the right side of `in`: `["1", "2"]`."""

    items: tuple[Expr, ...] = field(converter=_tuple)


@frozen
class Not(Node):
    """`not operand`."""

    operand: Expr


@frozen
class OpenTest(Node):
    """`open office`: true when the call's current time falls in the `hours` called `name`."""

    name: Name


# Binary operators from loosest to tightest binding; comparisons and `in` do not chain,
# `+` and `-` group to the left.
BINARY_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "==": 4,
    "!=": 4,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "in": 4,
    "+": 5,
    "-": 5,
}
NOT_PRECEDENCE = 3


@frozen
class BinOp(Node):
    """`left op right`, `op` one of `or and == != < <= > >= in + -`. Parentheses leave no trace:
    `(a or b) and c` is `BinOp("and", BinOp("or", a, b), c)`."""

    op: str
    left: Expr
    right: Expr


Expr = Str | Int | Bool | Var | ListExpr | Not | BinOp | OpenTest


# ---------------------------------------------------------------------------------------------
# Statements


@frozen
class Answer(Node):
    """`answer`: answer the incoming call; waits for Telnyx's `call.answered`."""


@frozen
class Hangup(Node):
    """`hangup`: end the call and the flow."""


@frozen
class Say(Node):
    """`say "text" [voice "V"] [language "L"] [ssml]`: speak `text`, wait until speech ends.
    `voice`/`language` left out fall back to the file's settings; `ssml` sends the text as SSML."""

    text: Str
    voice: Str | None = None
    language: Str | None = None
    ssml: bool = False


@frozen
class Play(Node):
    """`play "URL"` (`media` false) or `play media "NAME"` (`media` true): play audio, wait."""

    source: Str
    media: bool = False


@frozen
class Transfer(Node):
    """`transfer "NUMBER" [from "NUMBER"] [timeout D]`: transfer the caller. Without `handlers`
    it ends the flow; with a block, `on no_answer` / `on busy` / `on failed` run when the new
    leg ends before it answers, and the flow goes on after the block."""

    to: Str
    from_: Str | None = None
    timeout: Duration | None = None
    handlers: tuple[On, ...] = field(default=(), converter=_tuple)


@frozen
class Detect(Node):
    """`detect machine:` with `on human` / `on machine` / `on not_sure` handlers: wait for the
    answering-machine detection of an outbound call, run the handler of its result, go on."""

    handlers: tuple[On, ...] = field(default=(), converter=_tuple)


@frozen
class WaitBeep(Node):
    """`wait for beep`: wait until an answering machine's greeting ends (with a beep or not)."""


@frozen
class TryAgain(Node):
    """`try again`, in a gather's `on digits` handler: the entry it took is refused, and the
    gather counts the try as invalid (it asks again, or runs `on invalid:` after its last)."""


@frozen
class Sms(Node):
    """`sms "TO" "TEXT" [from "NUMBER"]`: send a text message; does not wait."""

    to: Str
    text: Str
    from_: Str | None = None


@frozen
class Record(Node):
    """`record [into NAME] [max D] [silence D] [beep] [end_key "K"]`, one line or with
    `on saved` / `on error` handlers: record the caller until silence, `max`, the end key or
    a hangup, and wait for the recording."""

    into: Name | None = None
    max: Duration | None = None
    silence: Duration | None = None
    beep: bool = False
    end_key: Str | None = None
    handlers: tuple[On, ...] = field(default=(), converter=_tuple)


RECORD_OPTIONS = ("into", "max", "silence", "beep", "end_key")


@frozen
class Queue(Node):
    """`queue "NAME" [max_wait D]`, one line or a block with one optional `play` line (hold
    music, looped) and `on timeout`: wait in a Telnyx queue until an agent takes the call."""

    name: Str
    max_wait: Duration | None = None
    music: Play | None = None
    handlers: tuple[On, ...] = field(default=(), converter=_tuple)


@frozen
class Goto(Node):
    """`goto STEP`: continue at the step named `target`."""

    target: Name


@frozen
class Call(Node):
    """`call STEP`: run the step named `target`; at its `return` or its end, come back here."""

    target: Name


@frozen
class Return(Node):
    """`return`: leave the step that was `call`ed and continue after the `call`."""


@frozen
class Set(Node):
    """`set NAME = EXPR`: assign a variable."""

    name: Name
    value: Expr


@frozen
class Log(Node):
    """`log "text"`: write to the flow's log and the simulator's transcript."""

    text: Str


@frozen
class Elif(Node):
    """One `elif cond:` arm of an `If`."""

    cond: Expr
    body: tuple[Stmt, ...] = field(converter=_tuple)


@frozen
class If(Node):
    """`if cond:` body, then any `elif` arms, then an optional `else:` (`else_` None if absent)."""

    cond: Expr
    body: tuple[Stmt, ...] = field(converter=_tuple)
    elifs: tuple[Elif, ...] = field(default=(), converter=_tuple)
    else_: tuple[Stmt, ...] | None = None


# The `event` of an `On` handler, by block:
#   gather:    "digits" (values: the keys it matches; empty = any other entry), "invalid", "timeout"
#   ai_gather: "valid", "invalid", "key" (values: exactly one key)
#   assistant: "key"
#   fetch:     "error"
#   record:    "saved", "error"
#   transfer:  "no_answer", "busy", "failed"
#   queue:     "timeout"
#   detect:    "human", "machine", "not_sure"
#   top level: "hangup"
HANDLER_EVENTS = (
    "digits", "invalid", "timeout", "valid", "key", "error", "hangup", "saved", "no_answer",
    "busy", "failed", "human", "machine", "not_sure",
)  # fmt: skip


@frozen
class On(Node):
    """A handler: `on digits "1", "2": ...`, `on digits:`, `on invalid:`, `on timeout:`,
    `on valid:`, `on key "0":`, top-level `on hangup:`. Block and one-line forms give one node."""

    event: str
    values: tuple[Str, ...] = field(converter=_tuple)
    body: tuple[Stmt, ...] = field(converter=_tuple)


@frozen
class Reprompt(Node):
    """`reprompt "text"` in a gather: said before the prompt on the 2nd and later tries.
    `reprompt invalid "text"` / `reprompt timeout "text"` (`outcome` "invalid" or "timeout"):
    said only after a try of that outcome."""

    text: Str
    outcome: str | None = None


@frozen
class NoKey(Node):
    """`terminator none`: no key ends a gather's entry, so `#` is an ordinary key."""


@frozen
class Gather(Node):
    """`gather [options]:` with a prompt (`say` lines, or one `play`), an optional `reprompt`
    (or outcome reprompts `reprompt_invalid` / `reprompt_timeout`), and `on` handlers. Options
    left out are None. Each option is written at most once."""

    digits: Int | DigitRange | None = None
    timeout: Duration | None = None
    inter_digit_timeout: Duration | None = None
    initial_timeout: Duration | None = None
    terminator: Str | NoKey | None = None
    valid: Str | None = None
    tries: Int | None = None
    into: Name | None = None
    voice: Str | None = None
    language: Str | None = None
    prompt: tuple[Say | Play, ...] = field(default=(), converter=_tuple)
    reprompt: Reprompt | None = None
    handlers: tuple[On, ...] = field(default=(), converter=_tuple)
    reprompt_invalid: Reprompt | None = None
    reprompt_timeout: Reprompt | None = None

    @property
    def reprompts(self) -> tuple[Reprompt, ...]:
        """The reprompts written, plain first, then invalid, then timeout."""
        found = (self.reprompt, self.reprompt_invalid, self.reprompt_timeout)
        return tuple(r for r in found if r is not None)


# Header options of `gather`, in the formatter's canonical order.
GATHER_OPTIONS = (
    "digits",
    "timeout",
    "inter_digit_timeout",
    "initial_timeout",
    "terminator",
    "valid",
    "tries",
    "into",
    "voice",
    "language",
)


@frozen
class Field(Node):
    """`field NAME TYPE "description" [optional]` in an `ai_gather`. `type` is kept as written
    (a Name) so the linter can point at an unknown type; valid: string/integer/number/boolean."""

    name: Name
    type: Name
    description: Str
    optional: bool = False


@frozen
class AiGather(Node):
    """`ai_gather [into NAME] [voice "V"] [language "L"] [timeout D]:` with a `greeting`,
    `field` lines and `on valid` / `on invalid` / `on key` handlers."""

    into: Name | None = None
    voice: Str | None = None
    language: Str | None = None
    timeout: Duration | None = None
    greeting: Str | None = None
    fields: tuple[Field, ...] = field(default=(), converter=_tuple)
    handlers: tuple[On, ...] = field(default=(), converter=_tuple)


AI_GATHER_OPTIONS = ("into", "voice", "language", "timeout")


@frozen
class Message(Node):
    """`message ROLE "text"` in an `assistant` block (sent with `ai_assistant_add_messages`);
    `message tool "CALL_ID" "result"` also names the tool call it answers."""

    role: Name
    text: Str
    tool_call_id: Str | None = None


@frozen
class Assistant(Node):
    """`assistant [id "ID"] [voice "V"]:` with `instructions`, `greeting`, `voice`, `message`
    lines and `on key` handlers. Waits for `call.conversation.ended`, then the flow continues."""

    id: Str | None = None
    voice: Str | None = None
    instructions: Str | None = None
    greeting: Str | None = None
    messages: tuple[Message, ...] = field(default=(), converter=_tuple)
    handlers: tuple[On, ...] = field(default=(), converter=_tuple)
    # Whether `voice` was written as a line of the block rather than in the `assistant` line
    # (both mean the same; `flowlang fmt` keeps it where it was written).
    voice_in_block: bool = False

    @property
    def keyword_span(self) -> Span | None:
        """The `assistant` word that opens the block (where a missing header option belongs)."""
        if self.span is None:
            return None
        return Span.point(self.span.line, self.span.column, len("assistant"))


ASSISTANT_OPTIONS = ("id", "voice")

# Where a flow's author finds the id `assistant id` needs (FL410 and the compiler say it).
ASSISTANT_ID_HINT = (
    'start it with a stored assistant, `assistant id "assistant-..."`: its id is on the Telnyx '
    "portal's AI Assistants page, or in the answer of `GET /ai/assistants`"
)


@frozen
class Header(Node):
    """`header "Name" "value"` (`secret` False) or `header "Name" secret "ENV_NAME"` (`secret`
    True: `value` is the name of the environment variable that holds the value) in a `fetch`."""

    name: Str
    value: Str
    secret: bool = False


@frozen
class SendField(Node):
    """`send NAME = EXPR` in a `fetch`: one field of the JSON object a POST sends."""

    name: Name
    value: Expr


@frozen
class Fetch(Node):
    """`fetch "URL" [method "M"] [into NAME] [timeout D]`, one line or a block of `header` and
    `send` lines and an `on error:` handler. Asks a backend; the answer's JSON object goes into
    `into`. Options left out are None (GET, 5 s). It is written as a block when it has
    headers, `send` lines or a handler."""

    url: Str
    method: Str | None = None
    into: Name | None = None
    timeout: Duration | None = None
    headers: tuple[Header, ...] = field(default=(), converter=_tuple)
    sends: tuple[SendField, ...] = field(default=(), converter=_tuple)
    handlers: tuple[On, ...] = field(default=(), converter=_tuple)

    @property
    def on_error(self) -> On | None:
        return next((on for on in self.handlers if on.event == "error"), None)

    @property
    def is_block(self) -> bool:
        return bool(self.headers or self.sends or self.handlers)


FETCH_OPTIONS = ("method", "into", "timeout")


Stmt = (
    Answer
    | Hangup
    | Say
    | Play
    | Transfer
    | Goto
    | Call
    | Return
    | Set
    | Log
    | If
    | Gather
    | AiGather
    | Assistant
    | Sms
    | Record
    | Queue
    | Detect
    | WaitBeep
    | TryAgain
    | Fetch
)


# ---------------------------------------------------------------------------------------------
# The file


@frozen
class Setting(Node):
    """A file setting: `voice "..."`, `language "..."`, `timezone "..."`, `sms_from "..."` or
    `outbound from "..."` (`name` says which: `outbound` for the last)."""

    name: str
    value: Str


# Opening hours (`hours NAME:` blocks).

# The day words of an `hours` line, Monday first (the index is the weekday number).
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A `closed` day of every year names its month by its first three letters (`dec 25`); the whole
# name is read too, and written short by `fmt`.
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_LONG_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)  # fmt: skip
MONTH_NAMES = {**dict(zip(MONTHS, MONTHS, strict=True)),
               **dict(zip(_LONG_MONTHS, MONTHS, strict=True))}


@frozen
class Days(Node):
    """One item of the days of an `hours` line: a day `mon`, a range `mon-fri` (`last` set), or
    `daily`. Words are kept as written so `check` can point at a wrong one."""

    first: str
    last: str | None = None

    @property
    def written(self) -> str:
        return self.first if self.last is None else f"{self.first}-{self.last}"

    @property
    def weekdays(self) -> list[int]:
        """The days meant, 0 for Monday; `fri-mon` goes round the weekend (Friday, Saturday,
        Sunday, Monday). Empty when a word is not a day (a syntax error already)."""
        if self.first == "daily":
            return list(range(7))
        if self.first not in DAY_NAMES or (self.last is not None and self.last not in DAY_NAMES):
            return []
        first = DAY_NAMES.index(self.first)
        last = first if self.last is None else DAY_NAMES.index(self.last)
        return [(first + i) % 7 for i in range((last - first) % 7 + 1)]


@frozen
class ClockRange(Node):
    """`9:00-17:30` on an `hours` line: from `start` (included) to `end` (excluded), as written."""

    start: str
    end: str

    @property
    def written(self) -> str:
        return f"{self.start}-{self.end}"

    @property
    def minutes(self) -> tuple[int, int]:
        """`start` and `end` in minutes after midnight (`24:00` is 1440)."""
        return _clock_minutes(self.start), _clock_minutes(self.end)


def _clock_minutes(clock: str) -> int:
    hour, minute = clock.split(":")
    return int(hour) * 60 + int(minute)


@frozen
class DayHours(Node):
    """`mon-fri 9:00-12:00, 13:00-17:00`: the `days` and the `ranges` open on each of them."""

    days: tuple[Days, ...] = field(converter=_tuple)
    ranges: tuple[ClockRange, ...] = field(converter=_tuple)


@frozen
class Date(Node):
    """A date `2026-12-25`, or `dec 25` for that day every year: as written, with a month's
    name in its short form (checked by the builder to be a real date)."""

    value: str

    @property
    def every_year(self) -> bool:
        return not self.value[:1].isdigit()

    @property
    def month_day(self) -> str:
        """`MM-DD`: `12-25` for `dec 25` and for `2026-12-25` ("" for a month that is none)."""
        if not self.every_year:
            return self.value[5:]
        month, _, day = self.value.partition(" ")
        if month not in MONTHS or not day.isdigit():
            return ""
        return f"{MONTHS.index(month) + 1:02d}-{int(day):02d}"


@frozen
class Closed(Node):
    """`closed 2026-12-25, dec 25`: whole days the hours are closed, whatever the weekday (a
    date without a year: that day every year)."""

    dates: tuple[Date, ...] = field(converter=_tuple)


@frozen
class Hours(Node):
    """`hours NAME:` with lines of days and time ranges and `closed` dates; `open NAME` asks it."""

    name: Name
    lines: tuple[DayHours | Closed, ...] = field(converter=_tuple)


@frozen
class Include(Node):
    """`include "PATH"` at the top of a file: the steps of the file at PATH (relative to this
    file) belong to this flow too."""

    path: Str


@frozen
class Spoken(Node):
    """One line of `languages:`: a language the flow speaks, and the voice it speaks it with
    (None: the file's `voice`)."""

    language: Str
    voice: Str | None = None


@frozen
class Languages(Node):
    """`languages:` and its lines: the languages the flow speaks, its own (the one its texts
    are written in) first."""

    spoken: tuple[Spoken, ...] = field(converter=_tuple)


@frozen
class Step(Node):
    """`NAME:` and its block of statements. The first step is where a call starts."""

    name: Name
    body: tuple[Stmt, ...] = field(converter=_tuple)


@frozen
class Comment(Node):
    """A `# comment` as written (with the `#`). Kept for the formatter, not part of the tree's
    structure: `Flow.comments` lists them all, with spans, and is left out of equality."""

    text: str


@frozen
class Flow(Node):
    """A whole `.flow` file: settings, steps (the first is the entry), the optional top-level
    `on hangup:` handler, the files it `include`s, `hours` blocks (in the order written), and
    the `input` names an outbound call is started with."""

    settings: tuple[Setting, ...] = field(default=(), converter=_tuple)
    steps: tuple[Step, ...] = field(default=(), converter=_tuple)
    on_hangup: On | None = None
    includes: tuple[Include, ...] = field(default=(), converter=_tuple)
    languages: Languages | None = None
    hours: tuple[Hours, ...] = field(default=(), converter=_tuple)
    inputs: tuple[Name, ...] = field(default=(), converter=_tuple)
    comments: tuple[Comment, ...] = field(default=(), converter=_tuple, eq=False, repr=False)

    @property
    def speaks(self) -> tuple[Spoken, ...]:
        """The languages of `languages:`, its own first; none when the flow has no such block."""
        return self.languages.spoken if self.languages is not None else ()

    @property
    def outbound(self) -> bool:
        """Whether the flow runs calls it places (`outbound from "NUMBER"`), not calls it gets."""
        return self.setting("outbound") is not None

    def setting(self, name: str) -> Str | None:
        """The value of setting `name` (`voice`, `language`, `sms_from`), None when not set."""
        for s in self.settings:
            if s.name == name:
                return s.value
        return None

    def hours_named(self, name: str) -> Hours | None:
        """The first `hours` block called `name`, None when there is none."""
        for h in self.hours:
            if h.name.value == name:
                return h
        return None

    def step(self, name: str) -> Step | None:
        """The first step called `name`, None when there is none."""
        for s in self.steps:
            if s.name.value == name:
                return s
        return None
