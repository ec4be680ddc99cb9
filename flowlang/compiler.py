"""Compile a checked syntax tree into a runnable `Program`: defaults applied, options inferred."""

from __future__ import annotations

import json
from collections.abc import Sequence

from flowlang.diagnostics import Diagnostic, Severity
from flowlang.errors import FlowCompileError
from flowlang.lint.telnyx_data import RECOGNITION_LANGUAGES
from flowlang.program import (
    DEFAULT_FETCH_TIMEOUT_MS,
    MAX_FETCH_TIMEOUT_MS,
    AiGatherOp,
    AnswerOp,
    Arm,
    AssistantOp,
    Block,
    Branch,
    CallOp,
    DetectOp,
    FetchOp,
    GatherOp,
    GotoOp,
    Handler,
    HangupOp,
    IfOp,
    Key,
    LogOp,
    Op,
    OpeningHours,
    Outbound,
    PlayOp,
    Program,
    QueueOp,
    RecordOp,
    ReturnOp,
    SayOp,
    SetOp,
    SmsOp,
    StepInfo,
    TransferOp,
    TryAgainOp,
    WaitBeepOp,
)
from flowlang.source import Source
from flowlang.syntax import nodes

__all__ = ["build_program", "compile_flow", "compile_source"]

# The order LANGUAGE.md 3 lists inferred valid keys in.
KEY_ORDER = "0123456789*#"
DEFAULT_TRIES = 3
# How long a call waits in a queue without `max_wait`: a queue nobody answers must still end.
DEFAULT_MAX_WAIT_SECS = 1800



def compile_source(source: Source) -> Program:
    """Parse and compile `source` with the files it includes (`source.included`, else read from
    disk); raises FlowSyntaxError or FlowCompileError with diagnostics."""
    from flowlang.includes import merge, needs_merge
    from flowlang.syntax.parser import parse_source

    flow = parse_source(source)
    if needs_merge(flow):
        merged = merge(source, flow)
        if merged.diagnostics:
            raise FlowCompileError(merged.diagnostics, merged.source)
        flow, source = merged.flow, merged.source
    return compile_flow(flow, source)


def compile_flow(flow: nodes.Flow, source: Source) -> Program:
    """Compile `flow` (parsed from `source`); raises FlowCompileError when the flow has errors."""
    errors = [d for d in _lint(flow, source) if d.is_error]
    if errors:
        raise FlowCompileError(errors, source)
    return build_program(flow, source)


def build_program(flow: nodes.Flow, source: Source) -> Program:
    """Compile `flow` without running the linter first (for callers that checked it already, and
    for tests that run flows the linter would warn about). Still refuses a `goto` to no step."""
    return _Compiler(flow, source).program()


def _lint(flow: nodes.Flow, source: Source) -> list[Diagnostic]:
    # Imported here: the linter and its analysis are needed to compile, never to run a program.
    from flowlang.lint import lint

    return list(lint(flow, source))


def _unknown_step(goto: nodes.Goto | nodes.Call, source: Source) -> Diagnostic:
    word = "goto" if isinstance(goto, nodes.Goto) else "call"
    return Diagnostic(
        "FL101",
        Severity.ERROR,
        f"`{word}` target `{goto.target.value}` is not a step in this flow",
        source.name,
        goto.target.span,
        label="unknown step",
        help="use the name of a step defined in this file",
    )


def _assistant_without_id(a: nodes.Assistant, source: Source) -> Diagnostic:
    return Diagnostic(
        "FL410",
        Severity.ERROR,
        "`assistant` needs the id of a stored Telnyx AI assistant",
        source.name,
        a.keyword_span,
        label="no `id`",
        help=nodes.ASSISTANT_ID_HINT,
    )


def _line(node: nodes.Node | None) -> int:
    return node.span.line if node is not None and node.span is not None else 0


class _Compiler:
    """One compilation: numbers blocks as it meets them and collects coverage points."""

    def __init__(self, flow: nodes.Flow, source: Source) -> None:
        self.flow = flow
        self.source = source
        self.voice = flow.setting("voice")
        self.language = flow.setting("language")
        self.blocks: list[Block | None] = []
        self.points: list[tuple[int, int, str]] = []
        self.step_blocks: dict[str, int] = {}
        self.problems: list[Diagnostic] = []
        # The gathers whose handlers are being compiled, innermost last: the line of each whose
        # `on digits` handler it is (what a `try again` there refers to), 0 for its others.
        self.retrying: list[int] = []
        # The languages the flow speaks with their voices; the first is its own.
        self.languages = tuple(
            (s.language.text, s.voice or self.voice, _transcription_language(s.language))
            for s in flow.speaks
        )
        if self.languages and self.language is None:
            self.language = flow.speaks[0].language

    def program(self) -> Program:
        # Step blocks are numbered first so a `goto` can refer to a step defined further down.
        steps = []
        for step in self.flow.steps:
            if step.name.value not in self.step_blocks:
                self.step_blocks[step.name.value] = self._reserve()
                steps.append(step)
        infos = []
        for step in steps:
            number = self.step_blocks[step.name.value]
            self._point(_line(step), f"step:{step.name.value}")
            self.blocks[number] = Block(self._ops(step.body))
            infos.append(StepInfo(step.name.value, number, _line(step)))
        on_hangup = self._handler(self.flow.on_hangup) if self.flow.on_hangup else None
        if self.problems:
            raise FlowCompileError(self.problems)
        blocks = tuple(b for b in self.blocks if b is not None)
        return Program(
            source=self.source,
            digest=self.source.fingerprint,
            steps=tuple(infos),
            blocks=blocks,
            on_hangup=on_hangup,
            points=tuple(p for _, _, p in sorted(self.points)),
            outbound=self._outbound(),
            languages=self.languages,
            translations=self._translations(),
            timezone=_timezone(self.flow),
            hours=tuple(_opening_hours(h) for h in self.flow.hours),
        )

    def _translations(self) -> tuple[tuple[str, tuple[tuple[str, nodes.Str], ...]], ...]:
        from flowlang.catalog import catalog_name, parse_catalog

        out = []
        for language, _, _ in self.languages[1:]:
            part = self.source.named(catalog_name(self.source.name, language))
            if part is None:
                continue
            catalog = parse_catalog(part, language)
            out.append((language, tuple((e.text.text, e.translation) for e in catalog.entries)))
        return tuple(out)

    def _outbound(self) -> Outbound | None:
        number = self.flow.setting("outbound")
        if number is None:
            return None
        # Telnyx sends `call.machine.greeting.ended` for a greeting that ends in silence too
        # only with `greeting_end`; `detect` gives the human/machine result alone.
        kinds = {type(n) for s in self.flow.steps for n in nodes.walk(s)}
        detection = None
        if nodes.WaitBeep in kinds:
            detection = "greeting_end"
        elif nodes.Detect in kinds:
            detection = "detect"
        inputs = tuple(i.value for i in self.flow.inputs)
        return Outbound(number.text, inputs, detection)

    def _reserve(self) -> int:
        self.blocks.append(None)
        return len(self.blocks) - 1

    def _point(self, line: int, point: str) -> None:
        self.points.append((line, len(self.points), point))

    def _spoken_points(self, line: int) -> None:
        # A text the caller hears is covered once per language the flow speaks besides its own.
        for language, _, _ in self.languages[1:]:
            self._point(line, f"{language}:{line}")

    def _block(self, body: Sequence[nodes.Stmt]) -> int:
        number = self._reserve()
        self.blocks[number] = Block(self._ops(body))
        return number

    def _handler(self, on: nodes.On) -> Handler:
        line = _line(on)
        self._point(line, f"on:{line}")
        return Handler(self._block(on.body), f"on:{line}", line)

    def _ops(self, body: Sequence[nodes.Stmt]) -> tuple[Op, ...]:
        return tuple(self._op(stmt) for stmt in body)

    def _op(self, stmt: nodes.Stmt) -> Op:
        line = _line(stmt)
        if isinstance(stmt, nodes.Answer):
            return AnswerOp(line)
        if isinstance(stmt, nodes.Hangup):
            return HangupOp(line)
        if isinstance(stmt, nodes.Say):
            if stmt.language is None:
                self._spoken_points(line)
            return SayOp(
                line,
                stmt.text,
                stmt.voice or self.voice,
                stmt.language or self.language,
                stmt.ssml,
                fixed=stmt.language is not None,
            )
        if isinstance(stmt, nodes.Play):
            return PlayOp(line, stmt.source, stmt.media)
        if isinstance(stmt, nodes.Transfer):
            return self._transfer(stmt)
        if isinstance(stmt, nodes.Sms):
            sender = stmt.from_ or self.flow.setting("sms_from")
            return SmsOp(line, stmt.to, stmt.text, sender, self.language)
        if isinstance(stmt, nodes.Record):
            return self._record(stmt)
        if isinstance(stmt, nodes.Queue):
            return self._queue(stmt)
        if isinstance(stmt, nodes.Detect):
            found = self._events(stmt.handlers)
            return DetectOp(
                line, found.get("human"), found.get("machine"), found.get("not_sure")
            )
        if isinstance(stmt, nodes.WaitBeep):
            return WaitBeepOp(line)
        if isinstance(stmt, nodes.TryAgain):
            return TryAgainOp(line, self.retrying[-1] if self.retrying else 0)
        if isinstance(stmt, nodes.Goto):
            target = stmt.target.value
            if target not in self.step_blocks:
                self.problems.append(_unknown_step(stmt, self.source))
                return GotoOp(line, target, 0)
            return GotoOp(line, target, self.step_blocks[target])
        if isinstance(stmt, nodes.Call):
            target = stmt.target.value
            if target not in self.step_blocks:
                self.problems.append(_unknown_step(stmt, self.source))
                return CallOp(line, target, 0)
            return CallOp(line, target, self.step_blocks[target])
        if isinstance(stmt, nodes.Return):
            return ReturnOp(line)
        if isinstance(stmt, nodes.Set):
            return SetOp(line, stmt.name.value, stmt.value)
        if isinstance(stmt, nodes.Log):
            return LogOp(line, stmt.text)
        if isinstance(stmt, nodes.If):
            return self._if(stmt)
        if isinstance(stmt, nodes.Gather):
            return self._gather(stmt)
        if isinstance(stmt, nodes.AiGather):
            return self._ai_gather(stmt)
        if isinstance(stmt, nodes.Fetch):
            return self._fetch(stmt)
        if isinstance(stmt, nodes.Assistant):
            return self._assistant(stmt)
        raise TypeError(f"flowlang cannot compile a {type(stmt).__name__} statement")

    def _events(self, handlers: Sequence[nodes.On]) -> dict[str, Handler]:
        found: dict[str, Handler] = {}
        for on in handlers:
            if on.event not in found:
                found[on.event] = self._handler(on)
        return found

    def _transfer(self, stmt: nodes.Transfer) -> TransferOp:
        handlers = self._events(stmt.handlers)
        return TransferOp(
            _line(stmt),
            stmt.to,
            stmt.from_,
            _seconds(stmt.timeout),
            on_no_answer=handlers.get("no_answer"),
            on_busy=handlers.get("busy"),
            on_failed=handlers.get("failed"),
            waits=bool(stmt.handlers),
        )

    def _record(self, stmt: nodes.Record) -> RecordOp:
        handlers = self._events(stmt.handlers)
        return RecordOp(
            _line(stmt),
            into=stmt.into.value if stmt.into is not None else None,
            max_secs=_seconds(stmt.max),
            silence_secs=_seconds(stmt.silence),
            beep=stmt.beep,
            end_key=stmt.end_key.text if stmt.end_key is not None else None,
            on_saved=handlers.get("saved"),
            on_error=handlers.get("error"),
        )

    def _queue(self, stmt: nodes.Queue) -> QueueOp:
        handlers = self._events(stmt.handlers)
        music = stmt.music
        return QueueOp(
            _line(stmt),
            stmt.name,
            _seconds(stmt.max_wait) or DEFAULT_MAX_WAIT_SECS,
            music.source if music is not None else None,
            music.media if music is not None else False,
            handlers.get("timeout"),
        )

    def _fetch(self, f: nodes.Fetch) -> FetchOp:
        timeout = f.timeout.millis if f.timeout is not None else DEFAULT_FETCH_TIMEOUT_MS
        on_error = f.on_error
        return FetchOp(
            line=_line(f),
            url=f.url,
            method=f.method.text.upper() if f.method is not None else "GET",
            into=f.into.value if f.into is not None else None,
            timeout_ms=min(timeout, MAX_FETCH_TIMEOUT_MS),
            headers=tuple((h.name.text, h.value, h.secret) for h in f.headers),
            sends=tuple((s.name.value, s.value) for s in f.sends),
            on_error=self._handler(on_error) if on_error is not None else None,
        )

    def _if(self, stmt: nodes.If) -> IfOp:
        line = _line(stmt)
        self._point(line, f"if:{line}")
        arms = [Arm(stmt.cond, Handler(self._block(stmt.body), f"if:{line}", line))]
        for elif_ in stmt.elifs:
            el = _line(elif_)
            self._point(el, f"elif:{el}")
            arms.append(Arm(elif_.cond, Handler(self._block(elif_.body), f"elif:{el}", el)))
        if stmt.else_ is not None:
            el = self._else_line(stmt)
            self._point(el, f"else:{el}")
            arms.append(Arm(None, Handler(self._block(stmt.else_), f"else:{el}", el)))
        return IfOp(line, tuple(arms))

    def _else_line(self, stmt: nodes.If) -> int:
        # The tree keeps no node for the `else:` keyword itself, so its line is found in the text:
        # the nearest line at or above the first statement of the else body that opens with `else`.
        first = stmt.else_[0] if stmt.else_ else None
        start = _line(first)
        floor = max([_line(stmt), *(_line(e) for e in stmt.elifs)])
        for number in range(start, floor, -1):
            text = self.source.line(number).lstrip()
            if text.startswith("else") and text[4:].lstrip().startswith(":"):
                return number
        return start

    def _gather(self, g: nodes.Gather) -> GatherOp:
        says = [p for p in g.prompt if isinstance(p, nodes.Say)]
        plays = [p for p in g.prompt if isinstance(p, nodes.Play)]
        if says:
            action = "gather_using_speak"
            self._spoken_points(_line(g))
        elif plays:
            action = "gather_using_audio"
        else:
            action = "gather"
        branches: list[Branch] = []
        catch_all = on_invalid = on_timeout = None
        for on in g.handlers:
            self.retrying.append(_line(g) if on.event == "digits" else 0)
            if on.event == "digits" and on.values:
                branches.append(Branch(on.values, self._handler(on)))
            elif on.event == "digits" and catch_all is None:
                catch_all = self._handler(on)
            elif on.event == "invalid" and on_invalid is None:
                on_invalid = self._handler(on)
            elif on.event == "timeout" and on_timeout is None:
                on_timeout = self._handler(on)
            self.retrying.pop()
        low, high = _digit_bounds(g.digits)
        valid = g.valid.text if g.valid is not None else None
        literals = [v.text for b in branches for v in b.values if not v.interpolations]
        inferable = catch_all is None and branches and len(literals) == sum(
            len(b.values) for b in branches
        )
        if inferable:
            if low is None:
                low, high = min(map(len, literals)), max(map(len, literals))
            if valid is None:
                used = set("".join(literals))
                valid = "".join(k for k in KEY_ORDER if k in used)
        # `terminator none` is sent as "": Telnyx then ends the entry on no key (NOTES.md).
        terminator = None
        if isinstance(g.terminator, nodes.NoKey):
            terminator = ""
        elif g.terminator is not None:
            terminator = g.terminator.text
        options: list[tuple[str, int | str]] = []
        if low is not None and high is not None:
            options += [("minimum_digits", low), ("maximum_digits", high)]
        if g.timeout is not None:
            options.append(("timeout_millis", g.timeout.millis))
        if g.inter_digit_timeout is not None:
            options.append(("inter_digit_timeout_millis", g.inter_digit_timeout.millis))
        if g.initial_timeout is not None and action == "gather":
            options.append(("initial_timeout_millis", g.initial_timeout.millis))
        if terminator is not None:
            options.append(("terminating_digit", terminator))
        if valid:
            options.append(("valid_digits", valid))
        if action != "gather":
            options.append(("maximum_tries", 1))
        first_say = says[0] if says else None
        voice = g.voice or (first_say.voice if first_say else None) or self.voice
        language = g.language or (first_say.language if first_say else None) or self.language
        return GatherOp(
            line=_line(g),
            action=action,
            options=tuple(options),
            prompt=tuple(s.text for s in says),
            ssml=any(s.ssml for s in says),
            voice=voice,
            language=language,
            audio=plays[0].source if plays else None,
            media=plays[0].media if plays else False,
            reprompt=g.reprompt.text if g.reprompt is not None else None,
            tries=g.tries.value if g.tries is not None else DEFAULT_TRIES,
            terminator=terminator,
            into=g.into.value if g.into is not None else None,
            branches=tuple(branches),
            catch_all=catch_all,
            on_invalid=on_invalid,
            on_timeout=on_timeout,
            reprompt_invalid=g.reprompt_invalid.text if g.reprompt_invalid is not None else None,
            reprompt_timeout=g.reprompt_timeout.text if g.reprompt_timeout is not None else None,
        )

    def _keys(self, handlers: Sequence[nodes.On]) -> tuple[Key, ...]:
        return tuple(
            Key(on.values[0].text, self._handler(on))
            for on in handlers
            if on.event == "key" and on.values
        )

    def _ai_gather(self, a: nodes.AiGather) -> AiGatherOp:
        if a.greeting is not None:
            self._spoken_points(_line(a))
        properties = {
            f.name.value: {"type": f.type.value, "description": f.description.text}
            for f in a.fields
        }
        required = [f.name.value for f in a.fields if not f.optional]
        schema = {"type": "object", "properties": properties, "required": required}
        on_valid = on_invalid = None
        for on in a.handlers:
            if on.event == "valid" and on_valid is None:
                on_valid = self._handler(on)
            elif on.event == "invalid" and on_invalid is None:
                on_invalid = self._handler(on)
        return AiGatherOp(
            line=_line(a),
            parameters=json.dumps(schema, ensure_ascii=False, separators=(",", ":")),
            greeting=a.greeting,
            voice=a.voice or self.voice,
            language=_transcription_language(a.language or self.language),
            timeout_ms=a.timeout.millis if a.timeout is not None else None,
            into=a.into.value if a.into is not None else None,
            on_valid=on_valid,
            on_invalid=on_invalid,
            keys=self._keys(a.handlers),
            descriptions=tuple(
                (f.name.value, f.description) for f in a.fields if f.description.interpolations
            ),
        )

    def _assistant(self, a: nodes.Assistant) -> AssistantOp:
        if a.id is None:
            self.problems.append(_assistant_without_id(a, self.source))
        # The file's `voice` is not sent: it would override the stored assistant's own voice on
        # every call; only the block's `voice` is a deliberate per-call override.
        return AssistantOp(
            line=_line(a),
            id=a.id if a.id is not None else nodes.Str(()),
            instructions=a.instructions,
            voice=a.voice,
            greeting=a.greeting,
            messages=tuple((m.role.value, m.text, m.tool_call_id) for m in a.messages),
            keys=self._keys(a.handlers),
        )


def _seconds(duration: nodes.Duration | None) -> int | None:
    """A duration in whole seconds, rounded up (Telnyx takes seconds), None when not written."""
    if duration is None:
        return None
    return max(1, -(-duration.millis // 1000))


def _digit_bounds(digits: nodes.Int | nodes.DigitRange | None) -> tuple[int | None, int | None]:
    if isinstance(digits, nodes.Int):
        return digits.value, digits.value
    if isinstance(digits, nodes.DigitRange):
        return digits.low.value, digits.high.value
    return None, None


# Speak languages whose primary subtag Google names otherwise.
TRANSCRIPTION_ALIASES = {"arb": "ar", "cmn": "zh", "nb": "no", "nn": "no", "he": "iw"}


def _transcription_language(language: nodes.Str | None) -> str | None:
    # gather_using_ai's `language` is a speech-recognition language named by its primary subtag
    # (`en`, `de`), unlike speak's `en-US`: a region written by habit is dropped so Telnyx takes it.
    # A language with no recognition name there (Welsh) is left out: Telnyx would refuse the
    # whole command, and without it Telnyx uses its default.
    if language is None:
        return None
    primary = language.text.split("-")[0].lower()
    primary = TRANSCRIPTION_ALIASES.get(primary, primary)
    return primary if primary in RECOGNITION_LANGUAGES else None


def _timezone(flow: nodes.Flow) -> str:
    written = flow.setting("timezone")
    return written.text if written is not None else "UTC"


def _closed_day(date: nodes.Date) -> str:
    """`2026-12-25` as written; a day of every year (`dec 25`) as its `MM-DD`."""
    return date.month_day if date.every_year else date.value


def _opening_hours(hours: nodes.Hours) -> OpeningHours:
    week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
    closed: set[str] = set()
    for line in hours.lines:
        if isinstance(line, nodes.Closed):
            closed.update(_closed_day(d) for d in line.dates)
            continue
        ranges = [r.minutes for r in line.ranges]
        for days in line.days:
            for day in days.weekdays:
                week[day].extend(ranges)
    return OpeningHours(
        hours.name.value,
        tuple(tuple(sorted(day)) for day in week),
        frozenset(closed),
    )
