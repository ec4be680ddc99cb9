"""Hypothesis strategies that build random, grammatically valid `nodes.Flow` trees.

Every tree drawn here is one the grammar accepts, so `parse(format_flow(tree)) == tree` must hold
for all of them. Other test suites reuse these (for example "the interpreter never crashes"):

    from tests.strategies import flows
    @given(flows())
    def test_something(flow): ...

`flows(runnable=True)` draws flows that also pass the linter's main checks: a file voice, a known
language, `goto` only to existing steps, variables read only after the first step set them.
"""

from __future__ import annotations

import datetime
import functools
import string

import attrs
from hypothesis import strategies as st

from flowlang.syntax.nodes import (
    DAY_NAMES,
    MONTHS,
    SPOKEN_FORMATS,
    AiGather,
    Answer,
    Assistant,
    BinOp,
    Bool,
    Call,
    ClockRange,
    Closed,
    Date,
    DayHours,
    Days,
    Detect,
    DigitRange,
    Duration,
    Elif,
    Expr,
    Fetch,
    Field,
    Flow,
    Gather,
    Goto,
    Hangup,
    Header,
    Hours,
    If,
    Include,
    Int,
    Interp,
    Languages,
    ListExpr,
    Log,
    Message,
    Name,
    NoKey,
    Not,
    On,
    OpenTest,
    Play,
    Queue,
    Record,
    Reprompt,
    Return,
    Say,
    SendField,
    Set,
    Setting,
    Sms,
    Spoken,
    Step,
    Stmt,
    Str,
    Transfer,
    TryAgain,
    Var,
    WaitBeep,
)

# Every word the grammar reserves, and a few more that read like keywords: identifiers avoid them.
KEYWORDS = frozenset(
    """
    answer hangup say play gather ai_gather assistant transfer goto set if elif else log
    sms record queue outbound input detect on digits true false fetch and or not in string integer
    number boolean system user developer tool
    """.split()
)
# Keywords that are only options or lines inside a block: they can name steps and variables too,
# so identifiers are often one of them.
CONTEXTUAL = (
    "media", "invalid", "timeout", "valid", "key", "voice", "language", "ssml", "from",
    "inter_digit_timeout", "initial_timeout", "terminator", "tries", "into", "reprompt",
    "greeting", "field", "optional", "instructions", "message", "id", "method", "header",
    "secret", "send", "error", "timezone", "hours", "closed", "open", "sms_from", "max",
    "silence", "beep", "end_key", "saved", "max_wait", "no_answer", "busy", "failed", "machine",
    "human", "not_sure", "for", "wait",
)  # fmt: skip

BUILTIN_VARIABLES = ("caller", "called")
LANGUAGES = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES")
VOICES = ("Telnyx.KokoroTTS.af", "AWS.Polly.Joanna-Neural")
FIELD_TYPES = ("string", "integer", "number", "boolean")
KEYS = "0123456789*#"

identifiers = st.one_of(
    st.sampled_from(CONTEXTUAL),
    st.tuples(
        st.sampled_from(string.ascii_lowercase),
        st.text(string.ascii_lowercase + string.digits + "_éß", max_size=7),
    )
    .map("".join)
    .filter(lambda word: word not in KEYWORDS),
)

# Text inside strings: printable characters, the ones that need escaping (in a flow, or in the
# Mermaid and DOT drawings: `|<>&` and the backtick), braces, non-ASCII letters and an emoji.
# Newline is the only control character (it is written back as `\n`).
_text_chars = st.sampled_from(
    list(string.ascii_letters + string.digits + " .,!?'-:;*#()[]|<>&`")
    + ['"', "\\", "{", "}", "\n", "é", "ü", "日", "\N{TELEPHONE RECEIVER}"]
)
texts = st.text(_text_chars, min_size=1, max_size=12)
# Variable paths; `digits` is a keyword that is also the built-in variable of the last entry.
paths = st.one_of(
    st.lists(identifiers, min_size=1, max_size=3).map(tuple),
    st.lists(identifiers, max_size=1).map(lambda rest: ("digits", *rest)),
)


def _normalise(parts: list[str | Interp]) -> tuple[str | Interp, ...]:
    """Text parts merged and empty ones dropped: the shape the parser produces."""
    out: list[str | Interp] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + part
                continue
        out.append(part)
    return tuple(out)


def strings(
    interpolate: bool = True,
    variables: st.SearchStrategy[tuple[str, ...]] = paths,
    formats: tuple[str, ...] = SPOKEN_FORMATS,
) -> st.SearchStrategy[Str]:
    """String literals: escapes, literal braces and (when `interpolate`) `{path}` parts, some
    with a spoken format (`{path as digits}`) from `formats`."""
    part: st.SearchStrategy[str | Interp] = texts
    if interpolate:
        spoken = st.none() | st.sampled_from(formats) if formats else st.none()
        part = st.one_of(texts, st.builds(Interp, variables, spoken))
    return st.lists(part, max_size=4).map(lambda parts: Str(_normalise(parts)))


plain_strings = strings(interpolate=False)
keys_strings = st.text(st.sampled_from(KEYS), min_size=1, max_size=4).map(lambda t: Str((t,)))
# Branch values a runnable flow's gathers can match: no `#`, the default terminator (FL301).
_unterminated_keys = st.text(st.sampled_from(KEYS.replace("#", "")), min_size=1, max_size=4).map(
    lambda t: Str((t,))
)
durations = st.builds(Duration, st.integers(0, 900), st.sampled_from(["ms", "s", "m"]))
small_ints = st.integers(0, 20).map(Int)


def expressions(
    variables: st.SearchStrategy[tuple[str, ...]] = paths,
    hours: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[Expr]:
    """Expressions of every operator, nested to any depth (parentheses make any tree writable),
    with `open NAME` tests of `hours` names (any identifier when None)."""
    atoms: st.SearchStrategy[Expr] = st.one_of(
        strings(variables=variables),
        st.integers(0, 10_000).map(Int),
        st.booleans().map(Bool),
        variables.map(Var),
        (hours if hours is not None else identifiers).map(lambda name: OpenTest(Name(name))),
    )
    lists = st.lists(st.one_of(plain_strings, small_ints), min_size=1, max_size=3).map(ListExpr)

    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return st.one_of(
            inner.map(Not),
            st.builds(BinOp, st.sampled_from(["and", "or"]), inner, inner),
            st.builds(BinOp, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), inner, inner),
            st.builds(BinOp, st.just("in"), inner, lists),
            st.builds(BinOp, st.sampled_from(["+", "-"]), inner, inner),
        )

    return st.recursive(atoms, extend, max_leaves=8)


class _Vocabulary:
    """What a flow's statements may refer to: step names for `goto`, variable paths to read."""

    def __init__(
        self,
        steps: st.SearchStrategy[str],
        variables: st.SearchStrategy[tuple[str, ...]],
        formats: tuple[str, ...] = SPOKEN_FORMATS,
        hours: st.SearchStrategy[str] | None = None,
    ):
        self.steps = steps
        self.variables = variables
        self.exprs = expressions(variables, hours)
        self.strs = strings(variables=variables, formats=formats)


def _simple(v: _Vocabulary) -> st.SearchStrategy[Stmt]:
    return st.one_of(
        st.just(Answer()),
        st.just(Hangup()),
        st.builds(
            Say,
            v.strs,
            voice=st.none() | plain_strings,
            language=st.none() | plain_strings,
            ssml=st.booleans(),
        ),
        st.builds(Play, v.strs, media=st.booleans()),
        st.builds(Transfer, v.strs, from_=st.none() | v.strs, timeout=st.none() | durations),
        v.steps.map(lambda name: Goto(Name(name))),
        v.steps.map(lambda name: Call(Name(name))),
        st.just(Return()),
        st.builds(Set, identifiers.map(Name), v.exprs),
        st.builds(Log, v.strs),
        st.builds(Sms, v.strs, v.strs, from_=st.none() | v.strs),
        _record(st.just(())),
        st.just(WaitBeep()),
        st.builds(Queue, v.strs, max_wait=st.none() | durations),
        _fetch_line(v),
        # The one-line assistant, also a one-line handler's (`on digits "1": assistant id "A"`).
        st.builds(Assistant, id=st.none() | plain_strings, voice=st.none() | plain_strings),
    )


def _fetch_line(v: _Vocabulary) -> st.SearchStrategy[Fetch]:
    return st.builds(
        Fetch,
        v.strs,
        method=st.none() | plain_strings,
        into=st.none() | identifiers.map(Name),
        timeout=st.none() | durations,
    )


def _fetch(v: _Vocabulary, body: st.SearchStrategy[tuple[Stmt, ...]]) -> st.SearchStrategy[Stmt]:
    header = st.builds(Header, v.strs, v.strs, secret=st.booleans())
    send = st.builds(SendField, identifiers.map(Name), v.exprs)
    on_error = st.builds(On, st.just("error"), st.just(()), body)
    fetch = st.builds(
        Fetch,
        v.strs,
        method=st.none() | plain_strings,
        into=st.none() | identifiers.map(Name),
        timeout=st.none() | durations,
        headers=st.lists(header, max_size=2).map(tuple),
        sends=st.lists(send, max_size=2).map(tuple),
        handlers=st.lists(on_error, max_size=1).map(tuple),
    )
    # A block may not be empty: one that drew nothing gets an `on error:` handler.
    return st.tuples(fetch, on_error).map(
        lambda pair: pair[0] if pair[0].is_block else attrs.evolve(pair[0], handlers=(pair[1],))
    )


def _record(handlers: st.SearchStrategy[tuple[On, ...]]) -> st.SearchStrategy[Stmt]:
    return st.builds(
        Record,
        into=st.none() | identifiers.map(Name),
        max=st.none() | durations,
        silence=st.none() | durations,
        beep=st.booleans(),
        end_key=st.none() | keys_strings,
        handlers=handlers,
    )


def _events(
    events: tuple[str, ...], body: st.SearchStrategy[tuple[Stmt, ...]]
) -> st.SearchStrategy[tuple[On, ...]]:
    """At least one handler, each of `events` at most once, in the order given."""
    chosen = st.lists(st.sampled_from(events), min_size=1, unique=True).map(
        lambda names: [e for e in events if e in names]
    )
    return chosen.flatmap(
        lambda names: st.tuples(*(st.builds(On, st.just(e), st.just(()), body) for e in names))
    )


def _blocks_of_section_14(
    v: _Vocabulary, body: st.SearchStrategy[tuple[Stmt, ...]], quiet: st.SearchStrategy[Stmt]
) -> st.SearchStrategy[Stmt]:
    """`transfer`, `record` and `queue` with blocks (a record's handlers hold quiet statements)."""
    transfer = st.builds(
        Transfer,
        v.strs,
        from_=st.none() | v.strs,
        timeout=st.none() | durations,
        handlers=_events(("no_answer", "busy", "failed"), body),
    )
    record = _record(_events(("saved", "error"), _body(quiet)))
    music = st.builds(Play, v.strs, media=st.booleans())
    queue = st.builds(
        Queue,
        v.strs,
        max_wait=st.none() | durations,
        music=music,
        handlers=st.lists(st.builds(On, st.just("timeout"), st.just(()), body), max_size=1).map(
            tuple
        ),
    )
    detect = st.builds(Detect, _events(("human", "machine", "not_sure"), body))
    return st.one_of(transfer, record, queue, detect)


def _say_prompt(v: _Vocabulary) -> st.SearchStrategy[Say]:
    return st.builds(
        Say, v.strs, voice=st.none() | plain_strings, language=st.none() | plain_strings
    )


def _body(stmt: st.SearchStrategy[Stmt]) -> st.SearchStrategy[tuple[Stmt, ...]]:
    return st.lists(stmt, min_size=1, max_size=3).map(tuple)


def _gather(v: _Vocabulary, body: st.SearchStrategy[tuple[Stmt, ...]]) -> st.SearchStrategy[Stmt]:
    prompt = st.one_of(
        st.lists(_say_prompt(v), max_size=2).map(tuple),
        st.builds(Play, v.strs, media=st.booleans()).map(lambda p: (p,)),
    )
    # An `on digits` handler may end by refusing its entry (`try again`).
    digits_body = st.tuples(body, st.booleans()).map(
        lambda pair: (*pair[0], TryAgain()) if pair[1] else pair[0]
    )
    branch = st.builds(
        On, st.just("digits"), st.lists(keys_strings, min_size=1, max_size=3).map(tuple),
        digits_body,
    )
    handlers = st.tuples(
        st.lists(branch, max_size=3),
        st.lists(st.builds(On, st.just("digits"), st.just(()), digits_body), max_size=1),
        st.lists(st.builds(On, st.just("invalid"), st.just(()), body), max_size=1),
        st.lists(st.builds(On, st.just("timeout"), st.just(()), body), max_size=1),
    ).map(lambda groups: tuple(h for group in groups for h in group))
    digits = st.none() | small_ints | st.builds(DigitRange, small_ints, small_ints)
    gather = st.builds(
        Gather,
        digits=digits,
        timeout=st.none() | durations,
        inter_digit_timeout=st.none() | durations,
        initial_timeout=st.none() | durations,
        terminator=st.none() | keys_strings | st.just(NoKey()),
        valid=st.none() | keys_strings,
        tries=st.none() | small_ints,
        into=st.none() | identifiers.map(Name),
        voice=st.none() | plain_strings,
        language=st.none() | plain_strings,
        prompt=prompt,
        handlers=handlers,
    )
    # A plain reprompt, or any of the two outcome reprompts (never both kinds: FL060).
    reprompts = st.one_of(
        st.builds(dict, reprompt=st.none() | v.strs.map(Reprompt)),
        st.builds(
            dict,
            reprompt_invalid=st.none() | v.strs.map(lambda s: Reprompt(s, "invalid")),
            reprompt_timeout=st.none() | v.strs.map(lambda s: Reprompt(s, "timeout")),
        ),
    )
    gather = st.tuples(gather, reprompts).map(lambda pair: attrs.evolve(pair[0], **pair[1]))
    # A block may not be empty: a gather that drew nothing gets an `on timeout:` handler (mapped,
    # not filtered, so that no example is thrown away).
    fallback = st.builds(On, st.just("timeout"), st.just(()), body)
    return st.tuples(gather, fallback).map(
        lambda pair: (
            pair[0]
            if pair[0].prompt or pair[0].reprompts or pair[0].handlers
            else attrs.evolve(pair[0], handlers=(pair[1],))
        )
    )


def _key_handler(body: st.SearchStrategy[tuple[Stmt, ...]]) -> st.SearchStrategy[On]:
    key = st.sampled_from(KEYS).map(lambda k: (Str((k,)),))
    return st.builds(On, st.just("key"), key, body)


def _ai_gather(
    v: _Vocabulary, body: st.SearchStrategy[tuple[Stmt, ...]]
) -> st.SearchStrategy[Stmt]:
    field_ = st.builds(
        Field,
        identifiers.map(Name),
        st.sampled_from(FIELD_TYPES).map(Name),
        v.strs,
        optional=st.booleans(),
    )
    handlers = st.tuples(
        st.lists(st.builds(On, st.just("valid"), st.just(()), body), max_size=1),
        st.lists(st.builds(On, st.just("invalid"), st.just(()), body), max_size=1),
        st.lists(_key_handler(body), max_size=2),
    ).map(lambda groups: tuple(h for group in groups for h in group))
    ai = st.builds(
        AiGather,
        into=st.none() | identifiers.map(Name),
        voice=st.none() | plain_strings,
        language=st.none() | plain_strings,
        timeout=st.none() | durations,
        greeting=st.none() | v.strs,
        fields=st.lists(field_, max_size=3, unique_by=lambda f: f.name.value).map(tuple),
        handlers=handlers,
    )
    return st.tuples(ai, v.strs).map(
        lambda pair: (
            pair[0]
            if pair[0].greeting or pair[0].fields or pair[0].handlers
            else attrs.evolve(pair[0], greeting=pair[1])
        )
    )


def _assistant(
    v: _Vocabulary, body: st.SearchStrategy[tuple[Stmt, ...]]
) -> st.SearchStrategy[Stmt]:
    roles = st.sampled_from(["system", "user", "assistant", "developer"])
    message = st.builds(Message, roles.map(Name), v.strs) | st.builds(
        Message, st.just(Name("tool")), v.strs, v.strs
    )
    # With nothing in its block, an assistant is written on one line (`assistant id "A"`).
    return st.builds(
        Assistant,
        id=st.none() | plain_strings,
        voice=st.none() | plain_strings,
        instructions=st.none() | v.strs,
        greeting=st.none() | v.strs,
        messages=st.lists(message, max_size=2).map(tuple),
        handlers=st.lists(_key_handler(body), max_size=2).map(tuple),
    )


def _if(v: _Vocabulary, body: st.SearchStrategy[tuple[Stmt, ...]]) -> st.SearchStrategy[Stmt]:
    return st.builds(
        If,
        v.exprs,
        body,
        elifs=st.lists(st.builds(Elif, v.exprs, body), max_size=2).map(tuple),
        else_=st.none() | body,
    )


def _statements(v: _Vocabulary, depth: int) -> st.SearchStrategy[Stmt]:
    simple = _simple(v)
    if depth == 0:
        return simple
    body = _body(_statements(v, depth - 1))
    return st.one_of(
        simple,
        simple,
        _if(v, body),
        _gather(v, body),
        _ai_gather(v, body),
        _assistant(v, body),
        _blocks_of_section_14(v, body, _quiet_statements(v)),
        _fetch(v, body),
    )


def statements(depth: int = 2) -> st.SearchStrategy[Stmt]:
    """Any statement, blocks nested up to `depth` levels."""
    return _statements(_Vocabulary(identifiers, paths), depth)


# Step names and variables of runnable flows come from fixed pools, so that their strategies are
# built once (building strategies for every example would dominate the tests' time).
STEP_POOL = ("main", "menu", "sales", "support")
ASSIGNED_VARIABLES = ("account", "choice")


@functools.cache
def _syntactic_vocabulary() -> _Vocabulary:
    return _Vocabulary(identifiers, paths)


@functools.cache
def _syntactic_statements() -> st.SearchStrategy[Stmt]:
    return _statements(_syntactic_vocabulary(), 2)


@functools.cache
def _runnable_vocabulary(steps: int) -> _Vocabulary:
    # `goto` never targets the entry step: going back there would answer the call twice.
    readable = [(name,) for name in (*BUILTIN_VARIABLES, *ASSIGNED_VARIABLES)]
    # Only the formats every language has: a runnable flow may speak German (FL820).
    return _Vocabulary(
        st.sampled_from(STEP_POOL[1:steps]),
        st.sampled_from(readable),
        ("digits", "phone"),
        st.just(OFFICE.name.value),
    )


@functools.cache
def _runnable_statements_for(steps: int) -> st.SearchStrategy[Stmt]:
    return _runnable_statements(_runnable_vocabulary(steps), 2)


# Opening hours: day words, ranges, lists; clocks as written (`9:00`, `09:00`, `24:00`).
_clocks = st.tuples(st.integers(0, 24), st.integers(0, 59), st.booleans()).map(
    lambda t: f"{t[0]:02d}:{t[1]:02d}" if t[2] else f"{t[0]}:{t[1]:02d}"
).filter(lambda text: not text.startswith("24") or text.endswith(":00"))
_day_items = st.one_of(
    st.sampled_from([*DAY_NAMES, "daily"]).map(Days),
    st.builds(Days, st.sampled_from(DAY_NAMES), st.sampled_from(DAY_NAMES)),
)
_day_hours = st.builds(
    DayHours,
    st.lists(_day_items, min_size=1, max_size=3).map(tuple),
    st.lists(st.builds(ClockRange, _clocks, _clocks), min_size=1, max_size=3).map(tuple),
)
_closed = st.builds(
    Closed,
    st.lists(
        st.dates(datetime.date(1000, 1, 1)).map(lambda d: Date(d.isoformat()))
        # A day of every year: `dec 25` (the year 2000 had a 29 February).
        | st.dates(datetime.date(2000, 1, 1), datetime.date(2000, 12, 31)).map(
            lambda d: Date(f"{MONTHS[d.month - 1]} {d.day}")
        ),
        min_size=1,
        max_size=3,
    ).map(tuple),
)
opening_hours = st.builds(
    Hours,
    identifiers.map(Name),
    st.lists(st.one_of(_day_hours, _closed), min_size=1, max_size=4).map(tuple),
)
TIMEZONES = ("America/Chicago", "Europe/London", "Asia/Kolkata", "UTC")
# The hours every runnable flow has, so that its conditions can ask `open office`.
OFFICE = Hours(
    Name("office"),
    (
        DayHours(
            (Days("mon", "fri"),), (ClockRange("9:00", "12:00"), ClockRange("13:00", "17:00"))
        ),
        Closed((Date("2026-12-25"),)),
    ),
)


@st.composite
def flows(draw: st.DrawFn, runnable: bool = False, max_steps: int = 4) -> Flow:
    """A whole flow: settings, 1..`max_steps` uniquely named steps, maybe a top-level `on hangup:`.

    With `runnable`, the flow also passes the linter: the file names a voice and a known
    language; the entry step `main` first answers and sets ASSIGNED_VARIABLES (the only variables
    read besides the built-ins); `goto` names one of the other steps (from STEP_POOL), each of
    which starts by saying something, so no loop runs without waiting for the caller.
    """
    includes: tuple[Include, ...] = ()
    languages: Languages | None = None
    inputs: tuple[Name, ...] = ()
    if runnable:
        count = draw(st.integers(2, max(2, min(max_steps, len(STEP_POOL)))))
        names = list(STEP_POOL[:count])
        vocabulary = _runnable_vocabulary(count)
        statement = _runnable_statements_for(count)
        settings = (
            Setting("voice", Str((draw(st.sampled_from(VOICES)),))),
            Setting("language", Str((draw(st.sampled_from(LANGUAGES)),))),
            Setting("timezone", Str((draw(st.sampled_from(TIMEZONES)),))),
        )
        hours: tuple[Hours, ...] = (OFFICE,)
        prologue = (Answer(), *(Set(Name(name), Str(("x",))) for name in ASSIGNED_VARIABLES))
    else:
        names = draw(st.lists(identifiers, min_size=1, max_size=max_steps, unique=True))
        vocabulary = _syntactic_vocabulary()
        statement = _syntactic_statements()
        voice = draw(st.none() | plain_strings)
        language = draw(st.none() | plain_strings)
        timezone = draw(st.none() | plain_strings)
        settings = tuple(
            Setting(name, value)
            for name, value in (("voice", voice), ("language", language), ("timezone", timezone))
            if value is not None
        )
        hours = tuple(
            draw(st.lists(opening_hours, max_size=2, unique_by=lambda h: h.name.value))
        )
        if draw(st.booleans()):
            # A flow that calls out, with the values it is started with.
            settings += (Setting("outbound", Str(("+13125550199",))),)
            inputs = tuple(Name(n) for n in draw(st.lists(identifiers, max_size=2, unique=True)))
        prologue = ()
        paths = st.lists(plain_strings.map(lambda s: Include(s)), max_size=2)
        includes = tuple(draw(paths))
        spoken = st.builds(Spoken, plain_strings, voice=st.none() | plain_strings)
        listed = draw(st.lists(spoken, max_size=3))
        languages = Languages(tuple(listed)) if listed else None
    steps = []
    for index, name in enumerate(names):
        body = draw(_body(statement))
        if index == 0:
            body = prologue + body
        elif runnable:
            body = (Say(Str((f"This is {name}.",))), *body)
        steps.append(Step(Name(name), body))
    on_hangup = None
    if draw(st.booleans()):
        on_hangup = On("hangup", (), draw(_body(_quiet_statements(vocabulary))))
    return Flow(settings, tuple(steps), on_hangup, includes, languages, hours, inputs)


@functools.cache
def _quiet_statements(v: _Vocabulary) -> st.SearchStrategy[Stmt]:
    """Statements that do not touch the call, for the top-level `on hangup:` and a recording's
    handlers."""
    return st.one_of(
        st.builds(Set, identifiers.map(Name), v.exprs),
        st.builds(Log, v.strs),
        st.builds(Sms, st.just(Str(("+13125550100",))), v.strs),
    )


def _runnable_statements(v: _Vocabulary, depth: int) -> st.SearchStrategy[Stmt]:
    """Statements without per-statement voice or language overrides (the file's settings apply)
    and with AI blocks that name what they need (fields, an assistant's id and instructions)."""
    # Nothing Telnyx speaks is empty (FL110); the entry step's `answer` is the only one (FL114).
    spoken = v.strs.filter(lambda text: bool(text.interpolations or text.text.strip()))
    simple = st.one_of(
        st.just(Hangup()),
        st.builds(Say, spoken),
        st.builds(Play, st.just(Str(("https://example.com/a.mp3",)))),
        st.builds(Transfer, st.just(Str(("+13125550001",)))),
        v.steps.map(lambda name: Goto(Name(name))),
        v.steps.map(lambda name: Call(Name(name))),
        st.builds(Set, identifiers.map(Name), v.exprs),
        st.builds(Log, v.strs),
    )
    if depth == 0:
        return simple
    body = _body(_runnable_statements(v, depth - 1))
    branch = st.builds(
        On, st.just("digits"), st.lists(_unterminated_keys, min_size=1, max_size=2).map(tuple), body
    )
    gather = st.builds(
        Gather,
        terminator=st.none() | st.just(NoKey()),
        tries=st.none() | st.integers(1, 3).map(Int),
        prompt=st.lists(st.builds(Say, spoken), max_size=2).map(tuple),
        handlers=st.lists(branch, min_size=1, max_size=3).map(tuple),
    )
    field_ = st.builds(Field, identifiers.map(Name), st.sampled_from(FIELD_TYPES).map(Name), v.strs)
    ai = st.builds(
        AiGather,
        into=identifiers.map(Name),
        greeting=spoken,
        fields=st.lists(field_, min_size=1, max_size=2, unique_by=lambda f: f.name.value).map(
            tuple
        ),
        handlers=st.lists(st.builds(On, st.just("valid"), st.just(()), body), max_size=1).map(
            tuple
        ),
    )
    tool = st.builds(Message, st.just(Name("tool")), spoken, spoken)
    assistant = st.builds(
        Assistant,
        id=plain_strings.filter(lambda text: bool(text.text.strip())),
        instructions=spoken,
        greeting=st.none() | spoken,
        messages=st.lists(tool, max_size=1).map(tuple),
    )
    number = st.just(Str(("+13125550001",)))
    transfer = st.builds(
        Transfer,
        number,
        timeout=st.just(Duration(20, "s")),
        handlers=_events(("no_answer", "busy", "failed"), body),
    )
    quiet = _body(_quiet_statements(v))
    record = st.builds(
        Record,
        into=st.none() | identifiers.map(Name),
        beep=st.booleans(),
        end_key=st.none() | st.just(Str(("#",))),
        handlers=_events(("saved", "error"), quiet),
    )
    queue = st.builds(
        Queue,
        st.just(Str(("support",))),
        max_wait=st.just(Duration(5, "m")),
        music=st.none() | st.just(Play(Str(("https://example.com/hold.mp3",)))),
        handlers=st.lists(st.builds(On, st.just("timeout"), st.just(()), body), max_size=1).map(
            tuple
        ),
    )
    fetch = st.builds(
        Fetch,
        st.just(Str(("https://api.example.com/orders/", Interp(("account",))))),
        into=st.none() | identifiers.map(Name),
        handlers=st.lists(st.builds(On, st.just("error"), st.just(()), body), max_size=1).map(
            tuple
        ),
    )
    return st.one_of(simple, simple, _if(v, body), gather, ai, assistant, fetch,
                     transfer, record, queue)


__all__ = [
    "CONTEXTUAL",
    "KEYWORDS",
    "durations",
    "expressions",
    "flows",
    "identifiers",
    "statements",
    "strings",
]
