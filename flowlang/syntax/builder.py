"""The Lark transformer that builds typed, spanned `nodes` straight from the LALR parse."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, TypeVar

from attrs import frozen
from lark import Token, Transformer

from flowlang.days import days_in_month
from flowlang.source import Span
from flowlang.syntax import nodes as n
from flowlang.syntax.indenter import LAYOUT
from flowlang.syntax.problems import Problem, Run
from flowlang.syntax.strings import decode

# Longer numbers are not meant as numbers; Python also refuses to read them as int by default.
_N = TypeVar("_N", bound=n.Node)

# Expressions inside expressions (FL041): see MAX_NESTING in indenter.py for why there is a limit.
MAX_EXPRESSION_DEPTH = 100
_MAX_DIGITS = 1000
# The roles `ai_assistant_add_messages` takes for a message.
MESSAGE_ROLES = ("system", "user", "assistant", "developer", "tool")


def token_span(token: Token) -> Span:
    line = token.line or 1
    column = token.column or 1
    end_line = token.end_line or line
    end_column = token.end_column or column + len(token)
    return Span(line, column, end_line, end_column)


def _span_of(item: Any) -> Span | None:
    if isinstance(item, Token):
        return token_span(item)
    if isinstance(item, n.Node):
        return item.span
    if isinstance(item, (_Labeled, _Else, Input)):
        return item.span
    if isinstance(item, tuple) and item:
        return _span_of(item[-1])
    return None


def _start_of(item: Any) -> tuple[int, int]:
    if isinstance(item, Token):
        return item.line or 1, item.column or 1
    span = _span_of(item)
    return (span.line, span.column) if span is not None else (1, 1)


def _cover(children: Sequence[Any]) -> Span:
    """The span from the first child to the last one that is not layout (line breaks, indents).

    Built straight from the two ends: this runs once per node, so it makes one Span, not three.
    """
    line, column = _start_of(children[0])
    for item in reversed(children):
        if isinstance(item, Token):
            if item.type in LAYOUT:
                continue
            return Span(line, column, item.end_line or line, item.end_column or column + 1)
        last = _span_of(item)
        if last is not None:
            return Span(line, column, last.end_line, last.end_column)
    return Span(line, column, line, column + 1)


@frozen
class _Labeled:
    """A block line that is only a labelled string (`greeting`, `instructions`), before placing."""

    kind: str
    value: n.Str
    span: Span


@frozen
class Input:
    """An `input NAME` line, before it is gathered into the Flow."""

    name: n.Name
    span: Span


@frozen
class _Else:
    """An `else:` arm, before it is attached to its `if`."""

    body: tuple[Any, ...]
    span: Span


@frozen
class _Option:
    """A header option as written: its keyword token and its value tokens."""

    keyword: Token
    values: tuple[Token, ...]

    @property
    def span(self) -> Span:
        return _cover([self.keyword, *self.values])


class FlowBuilder(Transformer[Token, n.Flow]):
    """Called by the LALR parser on every reduction; problems go to `run`, never raised."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)
        self.run = Run()

    # -- leaves ---------------------------------------------------------------------------------

    def _str(self, token: Token) -> n.Str:
        return decode(str(token), token.line or 1, token.column or 1, self.run.problems)

    def _int(self, token: Token) -> n.Int:
        text = str(token)
        if len(text) > _MAX_DIGITS:
            self._problem(
                "FL006",
                "this number is far too long",
                token_span(token),
                "too long",
                "write a number with fewer digits",
            )
            return n.Int(0, span=token_span(token))
        return n.Int(int(text), span=token_span(token))

    def _duration(self, token: Token) -> n.Duration:
        text = str(token)
        unit = "ms" if text.endswith("ms") else text[-1]
        digits = text[: -len(unit)]
        amount = self._int(Token("INT", digits)).value
        return n.Duration(amount, unit, span=token_span(token))

    def _name(self, token: Token) -> n.Name:
        return n.Name(str(token), span=token_span(token))

    def _value(self, token: Token) -> Any:
        kind = token.type
        if kind == "STRING":
            return self._str(token)
        if kind == "INT":
            return self._int(token)
        if kind == "DURATION":
            return self._duration(token)
        if kind == "NONE":
            return n.NoKey(span=_span_of(token))
        return self._name(token)

    def _problem(
        self,
        code: str,
        message: str,
        span: Span | None,
        label: str = "",
        help: str | None = None,
        first: Span | None = None,
    ) -> None:
        self.run.problems.append(Problem(code, message, span, label, help, first))

    def _options(self, tokens: Sequence[Token], owner: str) -> dict[str, _Option]:
        """Header options by keyword; a keyword written twice is a problem (the first one wins)."""
        found: dict[str, _Option] = {}
        keyword: Token | None = None
        values: list[Token] = []

        def close() -> None:
            if keyword is None:
                return
            option = _Option(keyword, tuple(values))
            name = str(keyword)
            if name in found:
                first = found[name].span
                self._problem(
                    "FL013",
                    f"`{name}` is written twice on this `{owner}`",
                    option.span,
                    "second time",
                    f"keep only one `{name}`",
                    first,
                )
            else:
                found[name] = option

        for token in tokens:
            if token.type in LAYOUT or token.type == "COLON":
                continue
            if token.type in ("STRING", "INT", "DURATION", "NAME", "DOTDOT"):
                values.append(token)
                continue
            if token.type == "NONE" and keyword is not None and str(keyword) == "terminator":
                values.append(token)
                continue
            close()
            keyword = token
            values = []
        close()
        return found

    def _option_value(self, options: dict[str, _Option], name: str) -> Any:
        option = options.get(name)
        if option is None or not option.values:
            return None
        return self._value(option.values[0])

    def _body(self, children: Sequence[Any]) -> tuple[Any, ...]:
        """A handler's statements: the block after `:`, or the one statement on the same line."""
        for item in children:
            if isinstance(item, tuple):
                return item
        for item in reversed(children):
            if isinstance(item, n.Node):
                return (item,)
        return ()

    # -- file -----------------------------------------------------------------------------------

    def start(self, children: list[Any]) -> n.Flow:
        if self.run.items is not None:
            # A piece parsed on its own (flowlang/syntax/incremental.py): its top-level items
            # are kept as they are, and the whole file is assembled once all pieces are read.
            self.run.items.extend(children)
            return n.Flow(comments=tuple(self.run.comments))
        return self.assemble(children)

    def assemble(self, children: Sequence[Any]) -> n.Flow:
        """The Flow of a file's top-level items, in the order written: a setting, `input`,
        `languages`, `hours` or `on hangup` written twice is a problem (the first one wins)."""
        settings: list[n.Setting] = []
        steps: list[n.Step] = []
        inputs: list[n.Name] = []
        on_hangup: n.On | None = None
        includes: list[n.Include] = []
        languages: n.Languages | None = None
        hours: list[n.Hours] = []
        for item in children:
            if isinstance(item, n.Hours):
                earlier_hours = next((h for h in hours if h.name == item.name), None)
                if earlier_hours is not None:
                    self._twice(f"hours {item.name.value}", "in this file", item, earlier_hours)
                else:
                    hours.append(item)
            elif isinstance(item, Input):
                earlier_input = next((i for i in inputs if i.value == item.name.value), None)
                if earlier_input is not None:
                    self._twice(f"input {item.name.value}", "in this file", item, earlier_input)
                else:
                    inputs.append(item.name)
            elif isinstance(item, n.Include):
                includes.append(item)
            elif isinstance(item, n.Languages):
                if languages is not None:
                    self._twice("languages", "in this file", item, languages)
                else:
                    languages = item
            elif isinstance(item, n.Setting):
                earlier = next((s for s in settings if s.name == item.name), None)
                if earlier is not None:
                    self._twice(item.name, "in this file", item, earlier)
                else:
                    settings.append(item)
            elif isinstance(item, n.Step):
                steps.append(item)
            elif isinstance(item, n.On):
                if on_hangup is not None:
                    self._twice("on hangup", "in this file", item, on_hangup)
                else:
                    on_hangup = item
        # A file of opening hours (or of includes) is a part of other flows: it needs no steps
        # of its own. Whether the flow put together has a step to start at is FL105's question.
        if not steps and not hours and not includes and not self.run.fragment:
            self._problem(
                "FL012",
                "this file has no steps",
                None,
                help="a flow needs at least one step: a name followed by `:` and indented "
                'lines, for example\n    main:\n        say "Hello."\n        hangup',
            )
        line, column = self.run.eof
        return n.Flow(
            settings,
            steps,
            on_hangup,
            includes,
            languages,
            hours,
            inputs,
            comments=tuple(self.run.comments),
            span=Span(1, 1, line, column),
        )

    def _twice(self, what: str, where: str, item: Any, earlier: Any) -> None:
        span = _span_of(item) or Span(1, 1, 1, 1)
        first = _span_of(earlier) or span
        self._problem(
            "FL013",
            f"`{what}` is written twice {where}",
            span,
            "second time",
            f"keep only one `{what}`",
            first,
        )

    def languages(self, children: list[Any]) -> n.Languages:
        spoken = [c for c in children if isinstance(c, n.Spoken)]
        return n.Languages(spoken, span=_cover(children))

    def spoken(self, children: list[Any]) -> n.Spoken:
        voice = self._str(children[2]) if len(children) == 3 else None
        return n.Spoken(self._str(children[0]), voice, span=_cover(children))

    def include(self, children: list[Any]) -> n.Include:
        return n.Include(self._str(children[1]), span=_cover(children))

    def setting(self, children: list[Any]) -> n.Setting:
        # `outbound from "NUMBER"` is the one setting of two words.
        return n.Setting(str(children[0]), self._str(children[-1]), span=_cover(children))

    def input_decl(self, children: list[Any]) -> Input:
        return Input(self._name(children[1]), _cover(children))

    def detect(self, children: list[Any]) -> n.Detect:
        handlers = [c for c in children if isinstance(c, n.On)]
        return n.Detect(self._handlers(handlers, "detect machine"), span=_cover(children))

    def detect_on(self, children: list[Any]) -> n.On:
        return n.On(str(children[1]), (), self._body(children), span=_cover(children))

    def wait_beep(self, children: list[Any]) -> n.WaitBeep:
        return n.WaitBeep(span=_cover(children))

    def try_again(self, children: list[Any]) -> n.TryAgain:
        return n.TryAgain(span=_cover(children))

    # -- opening hours --------------------------------------------------------------------------

    def hours(self, children: list[Any]) -> n.Hours:
        lines = [c for c in children if isinstance(c, (n.DayHours, n.Closed))]
        return n.Hours(self._name(children[1]), lines, span=_cover(children))

    def hours_line(self, children: list[Any]) -> n.DayHours | n.Closed:
        tokens = [c for c in children if isinstance(c, Token) and c.type != "COMMA"]
        if tokens[0].type == "CLOSED":
            dates: list[n.Date] = []
            rest = iter(tokens[1:])
            for token in rest:
                if token.type == "DATE":
                    dates.append(self._date(token))
                else:  # a month's name, then the day: `dec 25`
                    dates.append(self._yearly(token, next(rest)))
            return n.Closed(dates, span=_cover(children))
        days = [self._days(t) for t in tokens if t.type in ("NAME", "DAY_RANGE")]
        ranges = [self._clock_range(t) for t in tokens if t.type == "CLOCK_RANGE"]
        return n.DayHours(days, ranges, span=_cover(children))

    def _days(self, token: Token) -> n.Days:
        text = str(token)
        first, _, last = text.partition("-")
        column = token.column or 1
        self._day_word(first, token.line or 1, column, alone=not last)
        if last:
            self._day_word(last, token.line or 1, column + len(first) + 1, alone=False)
        return n.Days(first, last or None, span=token_span(token))

    def _day_word(self, word: str, line: int, column: int, alone: bool) -> None:
        if word in n.DAY_NAMES or (alone and word == "daily"):
            return
        known = n.DAY_NAMES + (("daily",) if alone else ())
        lowered = word.lower()[:3]
        guess = lowered if lowered in n.DAY_NAMES else None
        if guess is None:
            close = difflib.get_close_matches(word.lower(), known, n=1, cutoff=0.5)
            guess = close[0] if close else None
        hint = f"did you mean `{guess}`? " if guess else ""
        self._problem(
            "FL062",
            f"`{word}` is not a day",
            Span(line, column, line, column + len(word)),
            "not a day",
            f"{hint}write days as `mon` `tue` `wed` `thu` `fri` `sat` `sun`, a range like "
            "`mon-fri`, a list like `sat, sun`, or `daily`",
        )

    def _clock_range(self, token: Token) -> n.ClockRange:
        text = str(token)
        start, _, end = text.partition("-")
        line, column = token.line or 1, token.column or 1
        self._clock(start, line, column)
        self._clock(end, line, column + len(start) + 1)
        return n.ClockRange(start, end, span=token_span(token))

    def _clock(self, text: str, line: int, column: int) -> None:
        hour, minute = (int(part) for part in text.split(":"))
        if minute < 60 and (hour < 24 or (hour == 24 and minute == 0)):
            return
        self._problem(
            "FL063",
            f"`{text}` is not a time of day",
            Span(line, column, line, column + len(text)),
            "not a time",
            "write times on the 24-hour clock, from `0:00` to `24:00` (the end of the day), "
            "with minutes from `00` to `59`, like `9:00-17:30`",
        )

    def _date(self, token: Token) -> n.Date:
        text = str(token)
        year, month, day = (int(part) for part in text.split("-"))
        if not (1 <= month <= 12 and 1 <= day <= days_in_month(year, month)):
            self._problem(
                "FL064",
                f"`{text}` is not a date in the calendar",
                token_span(token),
                "no such day",
                "write dates as YEAR-MONTH-DAY, like `2026-12-25`",
            )
        return n.Date(text, span=token_span(token))

    def _yearly(self, month: Token, day: Token) -> n.Date:
        written, number = str(month), int(str(day))
        span = Span(month.line or 1, month.column or 1, day.end_line or 1, day.end_column or 1)
        short = n.MONTH_NAMES.get(written)
        if short is None and written.lower() in n.MONTH_NAMES:
            # `Dec 25`: a month, written as in a sentence.
            lower = n.MONTH_NAMES[written.lower()]
            self._problem(
                "FL064",
                "months are written in lowercase",
                token_span(month),
                f"write `{lower}`",
                f"write `{lower} {number}` (the months are `jan` `feb` ... `dec`)",
            )
            return n.Date(f"{lower} {number}", span=span)
        if short is None:
            close = difflib.get_close_matches(written.lower(), list(n.MONTH_NAMES), n=1)
            hint = f"did you mean `{n.MONTH_NAMES[close[0]]} {number}`? " if close else ""
            self._problem(
                "FL064",
                f"`{written}` is not a month",
                token_span(month),
                "not a month",
                f"{hint}write a day of every year as the month's first three letters and the "
                "day, like `dec 25`, or a single date as `2026-12-25`",
            )
            return n.Date(f"{written} {number}", span=span)
        month_number = n.MONTHS.index(short) + 1
        if not 1 <= number <= days_in_month(2024, month_number):  # a leap year: feb 29 exists
            self._problem(
                "FL064",
                f"`{short} {number}` is not a day of the year",
                span,
                "no such day",
                f"{short} has at most {days_in_month(2024, month_number)} days",
            )
        return n.Date(f"{short} {number}", span=span)

    def open_test(self, children: list[Any]) -> n.OpenTest:
        return n.OpenTest(self._name(children[1]), span=_cover(children))

    def name(self, children: list[Any]) -> Token:
        # A contextual keyword used as a name is a NAME to every rule above this one.
        token: Token = children[0]
        return token if token.type == "NAME" else token.update(type="NAME")

    def step(self, children: list[Any]) -> n.Step:
        return n.Step(self._name(children[0]), children[1], span=_cover(children))

    def block(self, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def on_hangup(self, children: list[Any]) -> n.On:
        return n.On("hangup", (), self._body(children), span=_cover(children))

    # -- simple statements ----------------------------------------------------------------------

    def answer(self, children: list[Any]) -> n.Answer:
        return n.Answer(span=token_span(children[0]))

    def hangup(self, children: list[Any]) -> n.Hangup:
        return n.Hangup(span=token_span(children[0]))

    def say(self, children: list[Any]) -> n.Say:
        if len(children) == 2:  # the common `say "text"`, without options
            keyword, text = children
            span = Span(keyword.line, keyword.column, text.end_line, text.end_column)
            return n.Say(self._str(text), span=span)
        options = self._options(children[2:], "say")
        return n.Say(
            self._str(children[1]),
            voice=self._option_value(options, "voice"),
            language=self._option_value(options, "language"),
            ssml="ssml" in options,
            span=_cover(children),
        )

    def play(self, children: list[Any]) -> n.Play:
        return n.Play(self._str(children[-1]), media=len(children) == 3, span=_cover(children))

    def transfer(self, children: list[Any]) -> n.Transfer:
        header, handlers = self._split_block(children)
        options = self._options(header[2:], "transfer")
        return n.Transfer(
            self._str(children[1]),
            from_=self._option_value(options, "from"),
            timeout=self._option_value(options, "timeout"),
            handlers=self._handlers(handlers, "transfer"),
            span=_cover(children),
        )

    transfer_block = transfer

    def transfer_on(self, children: list[Any]) -> n.On:
        return n.On(str(children[1]), (), self._body(children), span=_cover(children))

    record_on = transfer_on
    queue_on = transfer_on

    def sms(self, children: list[Any]) -> n.Sms:
        options = self._options(children[3:], "sms")
        return n.Sms(
            self._str(children[1]),
            self._str(children[2]),
            from_=self._option_value(options, "from"),
            span=_cover(children),
        )

    def record(self, children: list[Any]) -> n.Record:
        header, items = self._split_block(children)
        options = self._options(header[1:], "record")
        return n.Record(
            into=self._option_value(options, "into"),
            max=self._option_value(options, "max"),
            silence=self._option_value(options, "silence"),
            beep="beep" in options,
            end_key=self._option_value(options, "end_key"),
            handlers=self._handlers(items, "record"),
            span=_cover(children),
        )

    record_block = record

    def queue(self, children: list[Any]) -> n.Queue:
        header, items = self._split_block(children)
        options = self._options(header[2:], "queue")
        music: n.Play | None = None
        for item in items:
            if isinstance(item, n.Play):
                if music is not None:
                    self._twice("play", "in this queue", item, music)
                else:
                    music = item
        return n.Queue(
            self._str(children[1]),
            max_wait=self._option_value(options, "max_wait"),
            music=music,
            handlers=self._handlers(items, "queue"),
            span=_cover(children),
        )

    queue_block = queue

    def _split_block(self, children: list[Any]) -> tuple[list[Any], list[Any]]:
        """A statement that may have a block: its header tokens, and the items of its block."""
        for i, c in enumerate(children):
            if isinstance(c, Token) and c.type == "COLON":
                return children[:i], [x for x in children[i + 1 :] if not isinstance(x, Token)]
        return children, []

    def _handlers(self, items: list[Any], owner: str) -> tuple[n.On, ...]:
        """The `on` handlers of a block; a handler written twice is a problem (the first wins)."""
        kept: dict[str, n.On] = {}
        for item in items:
            if not isinstance(item, n.On):
                continue
            if item.event in kept:
                self._twice(f"on {item.event}", f"in this {owner}", item, kept[item.event])
            else:
                kept[item.event] = item
        return tuple(kept.values())

    def goto(self, children: list[Any]) -> n.Goto:
        return n.Goto(self._name(children[1]), span=_cover(children))

    def call_stmt(self, children: list[Any]) -> n.Call:
        return n.Call(self._name(children[1]), span=_cover(children))

    def return_stmt(self, children: list[Any]) -> n.Return:
        return n.Return(span=token_span(children[0]))

    def set_stmt(self, children: list[Any]) -> n.Set:
        return n.Set(self._name(children[1]), children[3], span=_cover(children))

    def log(self, children: list[Any]) -> n.Log:
        return n.Log(self._str(children[1]), span=_cover(children))

    # -- branches -------------------------------------------------------------------------------

    def if_stmt(self, children: list[Any]) -> n.If:
        elifs = [c for c in children if isinstance(c, n.Elif)]
        else_ = next((c.body for c in children if isinstance(c, _Else)), None)
        return n.If(children[1], children[3], elifs, else_, span=_cover(children))

    def elif_clause(self, children: list[Any]) -> n.Elif:
        return n.Elif(children[1], children[3], span=_cover(children))

    def else_clause(self, children: list[Any]) -> _Else:
        return _Else(children[2], _cover(children))

    # -- gather ---------------------------------------------------------------------------------

    def _split_header(self, children: list[Any]) -> tuple[list[Token], list[Any]]:
        colon = next(
            (i for i, c in enumerate(children) if isinstance(c, Token) and c.type == "COLON"),
            len(children),  # a statement on one line (`assistant id "A"`): no items
        )
        items = [c for c in children[colon + 1 :] if not isinstance(c, Token)]
        return children[1:colon], items

    def gather(self, children: list[Any]) -> n.Gather:
        header, items = self._split_header(children)
        options = self._options(header, "gather")
        digits: n.Int | n.DigitRange | None = None
        if "digits" in options:
            values = options["digits"].values
            low = self._int(values[0])
            if len(values) == 3:
                high = self._int(values[2])
                digits = n.DigitRange(low, high, span=_cover(values))
            else:
                digits = low
        prompt: list[n.Say | n.Play] = []
        reprompts: dict[str | None, n.Reprompt] = {}
        handlers: list[n.On] = []
        for item in items:
            if isinstance(item, (n.Say, n.Play)):
                prompt.append(item)
            elif isinstance(item, n.Reprompt):
                self._add_reprompt(reprompts, item)
            elif isinstance(item, n.On):
                handlers.append(item)
        get = self._option_value
        return n.Gather(
            digits=digits,
            timeout=get(options, "timeout"),
            inter_digit_timeout=get(options, "inter_digit_timeout"),
            initial_timeout=get(options, "initial_timeout"),
            terminator=get(options, "terminator"),
            valid=get(options, "valid"),
            tries=get(options, "tries"),
            into=get(options, "into"),
            voice=get(options, "voice"),
            language=get(options, "language"),
            prompt=prompt,
            reprompt=reprompts.get(None),
            handlers=handlers,
            reprompt_invalid=reprompts.get("invalid"),
            reprompt_timeout=reprompts.get("timeout"),
            span=_cover(children),
        )

    def _add_reprompt(self, found: dict[str | None, n.Reprompt], item: n.Reprompt) -> None:
        """Keep `item` unless its kind is already there, or it mixes a plain reprompt with outcome
        ones: a plain reprompt serves both outcomes, so with an outcome reprompt one is dead."""
        word = "reprompt" if item.outcome is None else f"reprompt {item.outcome}"
        if item.outcome in found:
            self._twice(word, "in this gather", item, found[item.outcome])
            return
        other = next((r for k, r in found.items() if (k is None) != (item.outcome is None)), None)
        if other is not None:
            self._problem(
                "FL060",
                "a plain `reprompt` and `reprompt invalid`/`reprompt timeout` cannot be mixed",
                item.span,
                "mixed with the other kind",
                "write one plain `reprompt` said after any failed try, or `reprompt invalid` and "
                "`reprompt timeout` for different words after a wrong entry and after silence",
                other.span,
            )
            return
        found[item.outcome] = item

    def reprompt(self, children: list[Any]) -> n.Reprompt:
        outcome = str(children[1]) if len(children) == 3 else None
        return n.Reprompt(self._str(children[-1]), outcome, span=_cover(children))

    def gather_on(self, children: list[Any]) -> n.On:
        event = str(children[1])
        values = [self._str(c) for c in children[2:] if isinstance(c, Token) and c.type == "STRING"]
        return n.On(event, values, self._body(children), span=_cover(children))

    # -- ai_gather ------------------------------------------------------------------------------

    def ai_gather(self, children: list[Any]) -> n.AiGather:
        header, items = self._split_header(children)
        options = self._options(header, "ai_gather")
        greeting: _Labeled | None = None
        fields: list[n.Field] = []
        handlers: list[n.On] = []
        for item in items:
            if isinstance(item, _Labeled):
                if greeting is not None:
                    self._twice("greeting", "in this ai_gather", item, greeting)
                else:
                    greeting = item
            elif isinstance(item, n.Field):
                fields.append(item)
            elif isinstance(item, n.On):
                handlers.append(item)
        get = self._option_value
        return n.AiGather(
            into=get(options, "into"),
            voice=get(options, "voice"),
            language=get(options, "language"),
            timeout=get(options, "timeout"),
            greeting=greeting.value if greeting is not None else None,
            fields=fields,
            handlers=handlers,
            span=_cover(children),
        )

    def greeting(self, children: list[Any]) -> _Labeled:
        return _Labeled("greeting", self._str(children[1]), _cover(children))

    def field(self, children: list[Any]) -> n.Field:
        return n.Field(
            self._name(children[1]),
            self._name(children[2]),
            self._str(children[3]),
            optional=len(children) == 5,
            span=_cover(children),
        )

    def ai_gather_on(self, children: list[Any]) -> n.On:
        if isinstance(children[0], n.On):
            return children[0]
        return n.On(str(children[1]), (), self._body(children), span=_cover(children))

    def key_on(self, children: list[Any]) -> n.On:
        return n.On("key", [self._str(children[2])], self._body(children), span=_cover(children))

    # -- assistant ------------------------------------------------------------------------------

    def assistant(self, children: list[Any]) -> n.Assistant:
        header, items = self._split_header(children)
        options = self._options(header, "assistant")
        labeled: dict[str, _Labeled] = {}
        messages: list[n.Message] = []
        handlers: list[n.On] = []
        for item in items:
            if isinstance(item, _Labeled):
                if item.kind in labeled:
                    self._twice(item.kind, "in this assistant", item, labeled[item.kind])
                else:
                    labeled[item.kind] = item
            elif isinstance(item, n.Message):
                messages.append(item)
            elif isinstance(item, n.On):
                handlers.append(item)
        instructions = labeled.get("instructions")
        greeting = labeled.get("greeting")
        voice = self._option_value(options, "voice")
        in_block = labeled.get("voice")
        if in_block is not None and "voice" in options:
            self._problem(
                "FL013",
                "`voice` is written twice on this `assistant`",
                in_block.span,
                "second time",
                "keep only one `voice`: in the `assistant` line or in its block",
                options["voice"].span,
            )
        elif in_block is not None:
            voice = in_block.value
        return n.Assistant(
            id=self._option_value(options, "id"),
            voice=voice,
            instructions=instructions.value if instructions is not None else None,
            greeting=greeting.value if greeting is not None else None,
            messages=messages,
            handlers=handlers,
            voice_in_block="voice" not in options and in_block is not None,
            span=_cover(children),
        )

    # `assistant id "A"` alone: the stored assistant as it is (also a one-line handler's).
    assistant_line = assistant

    def assistant_voice(self, children: list[Any]) -> _Labeled:
        return _Labeled("voice", self._str(children[1]), _cover(children))

    def instructions(self, children: list[Any]) -> _Labeled:
        return _Labeled("instructions", self._str(children[1]), _cover(children))

    def message(self, children: list[Any]) -> n.Message:
        role = self._name(children[1])
        if role.value not in MESSAGE_ROLES:
            roles = ", ".join(f"`{r}`" for r in MESSAGE_ROLES)
            self._problem(
                "FL006",
                f"`{role.value}` is not a message role",
                role.span,
                "unknown role",
                f"write who says it: one of {roles}, like `message system \"...\"`",
            )
        texts = [self._str(c) for c in children[2:]]
        if role.value == "tool" and len(texts) == 1:
            self._problem(
                "FL030",
                "`message tool` needs the id of the tool call it answers",
                texts[0].span,
                "the result, but no tool call id",
                'Telnyx requires it: write `message tool "call_123" "the result"`',
            )
        elif role.value != "tool" and len(texts) == 2:
            self._problem(
                "FL031",
                f"`message {role.value}` takes one text; only `message tool` names a tool call",
                texts[1].span,
                "a second text",
                f'write `message {role.value} "..."` with one text',
            )
        if len(texts) == 2:
            return n.Message(role, texts[1], texts[0], span=_cover(children))
        return n.Message(role, texts[0], span=_cover(children))

    # -- fetch ----------------------------------------------------------------------------------

    def fetch(self, children: list[Any]) -> n.Fetch:
        return self._fetch(children[1], children[2:], [], children)

    def fetch_block(self, children: list[Any]) -> n.Fetch:
        header, items = self._split_header(children)
        return self._fetch(header[0], header[1:], items, children)

    def _fetch(
        self, url: Token, header: Sequence[Token], items: list[Any], children: list[Any]
    ) -> n.Fetch:
        options = self._options(header, "fetch")
        handlers: list[n.On] = []
        for item in items:
            if isinstance(item, n.On):
                if handlers:
                    self._twice("on error", "in this fetch", item, handlers[0])
                else:
                    handlers.append(item)
        get = self._option_value
        return n.Fetch(
            self._str(url),
            method=get(options, "method"),
            into=get(options, "into"),
            timeout=get(options, "timeout"),
            headers=[i for i in items if isinstance(i, n.Header)],
            sends=[i for i in items if isinstance(i, n.SendField)],
            handlers=handlers,
            span=_cover(children),
        )

    def header(self, children: list[Any]) -> n.Header:
        return n.Header(
            self._str(children[1]),
            self._str(children[-1]),
            secret=len(children) == 4,
            span=_cover(children),
        )

    def send(self, children: list[Any]) -> n.SendField:
        return n.SendField(self._name(children[1]), children[3], span=_cover(children))

    def fetch_on(self, children: list[Any]) -> n.On:
        return n.On("error", (), self._body(children), span=_cover(children))

    # -- expressions ----------------------------------------------------------------------------

    def _nested(self, node: _N, *inner: object) -> _N:
        """`node`, its depth noted; an expression (a condition, a sum) deeper than
        MAX_EXPRESSION_DEPTH is a problem (every tool walks expressions recursively, and
        Python's stack is about 1,000 deep)."""
        depths = self.run.depths
        depth = 1 + max((depths.get(id(i), 1) for i in inner), default=0)
        depths[id(node)] = depth
        if depth == MAX_EXPRESSION_DEPTH + 1:
            if isinstance(node, n.BinOp) and node.op in ("+", "-"):
                fix = ("split it: `set` part of the sum to a variable first (`set subtotal = "
                       "a + b`, then `set total = subtotal + c`)")
            else:
                fix = ("split it: `set` parts of it to variables first, or use `in [...]` "
                       "instead of a long chain of `or`")
            self._problem(
                "FL041",
                f"this expression is nested more than {MAX_EXPRESSION_DEPTH} levels deep",
                node.span,
                "too deep",
                fix,
            )
        return node

    def _fold(self, op: str, children: list[Any]) -> Any:
        result = children[0]
        for right in children[1:]:
            result = self._nested(
                n.BinOp(op, result, right, span=_cover([result, right])), result, right
            )
        return result

    def expr(self, children: list[Any]) -> Any:
        return self._fold("or", children)

    def and_expr(self, children: list[Any]) -> Any:
        return self._fold("and", children)

    def not_expr(self, children: list[Any]) -> n.Not:
        return self._nested(n.Not(children[1], span=_cover(children)), children[1])

    def comparison(self, children: list[Any]) -> n.BinOp:
        node = n.BinOp(str(children[1]), children[0], children[2], span=_cover(children))
        return self._nested(node, children[0], children[2])

    def sum(self, children: list[Any]) -> Any:
        result = children[0]
        for op, right in zip(children[1::2], children[2::2], strict=True):
            node = n.BinOp(str(op), result, right, span=_cover([result, right]))
            result = self._nested(node, result, right)
        return result

    def in_list(self, children: list[Any]) -> n.BinOp:
        node = n.BinOp("in", children[0], children[1], span=_cover(children))
        return self._nested(node, children[0], children[1])

    def string(self, children: list[Any]) -> n.Str:
        return self._str(children[0])

    def integer(self, children: list[Any]) -> n.Int:
        return self._int(children[0])

    def boolean(self, children: list[Any]) -> n.Bool:
        return n.Bool(str(children[0]) == "true", span=token_span(children[0]))

    def var(self, children: list[Any]) -> n.Var:
        path = [str(c) for c in children if c.type != "DOT"]
        return n.Var(path, span=_cover(children))

    def list_expr(self, children: list[Any]) -> n.ListExpr:
        items = [c for c in children if not isinstance(c, Token)]
        return self._nested(n.ListExpr(items, span=_cover(children)), *items)
