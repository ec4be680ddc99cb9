"""The formatter's layout, checked on hand-built trees (no parser involved)."""

from __future__ import annotations

import pytest

from flowlang.syntax.fmt import format_flow, render_expr, render_str
from flowlang.syntax.nodes import (
    AiGather,
    Answer,
    Assistant,
    BinOp,
    Bool,
    Comment,
    DigitRange,
    Duration,
    Elif,
    Field,
    Flow,
    Gather,
    Goto,
    Hangup,
    If,
    Int,
    Interp,
    ListExpr,
    Log,
    Message,
    Name,
    Not,
    On,
    Play,
    Reprompt,
    Say,
    Set,
    Setting,
    Step,
    Str,
    Transfer,
    Var,
)


def s(text: str) -> Str:
    return Str((text,))


def v(path: str) -> Var:
    return Var(tuple(path.split(".")))


def flow(*body: object, settings: tuple[Setting, ...] = ()) -> Flow:
    return Flow(settings, (Step(Name("main"), body),))


def every_construct() -> Flow:
    menu = Gather(
        language=s("en-US"),
        voice=s("Telnyx.KokoroTTS.af"),
        into=Name("choice"),
        tries=Int(3),
        valid=s("123"),
        terminator=s("#"),
        initial_timeout=Duration(5, "s"),
        inter_digit_timeout=Duration(1500, "ms"),
        timeout=Duration(8, "s"),
        digits=DigitRange(Int(1), Int(2)),
        handlers=(
            On("digits", (s("1"), s("11")), (Transfer(s("+13125550001")),)),
            On("digits", (s("2"),), (Say(s("Support.")), Goto(Name("support")))),
            On("digits", (), (If(BinOp("==", v("digits"), s("9")), (Hangup(),)),)),
            On("invalid", (), (Log(s("bad entry")),)),
            On("timeout", (), (Hangup(),)),
        ),
        reprompt=Reprompt(s("Sorry, I didn't catch that.")),
        prompt=(Say(s("For sales press 1.")), Say(s("For support press 2."))),
    )
    booking = AiGather(
        timeout=Duration(20, "s"),
        language=s("en-US"),
        into=Name("booking"),
        greeting=s("Hi! I can book a table for you."),
        fields=(
            Field(Name("name"), Name("string"), s("The caller's full name")),
            Field(Name("notes"), Name("string"), s("Anything else"), optional=True),
        ),
        handlers=(
            On("valid", (), (Say(Str(("Thanks ", Interp(("booking", "name")), "."))),)),
            On("invalid", (), (Transfer(s("+13125550100"), s("+1555"), Duration(2, "m")),)),
            On("key", (s("0"),), (Goto(Name("main")),)),
        ),
    )
    helper = Assistant(
        voice=s("AWS.Polly.Joanna-Neural"),
        id=s("assistant-123"),
        greeting=s("Hi, this is Ava."),
        instructions=s("You are the Acme receptionist."),
        messages=(Message(Name("system"), Str(("Account ", Interp(("account",)), "."))),),
        handlers=(On("key", (s("0"),), (Say(s("Connecting you.")), Transfer(s("+1312")))),),
    )
    branch = If(
        BinOp("and", v("caller"), Not(BinOp("in", v("called"), ListExpr((s("1"), Int(2)))))),
        (Set(Name("vip"), Bool(True)),),
        (Elif(BinOp("<", v("count"), Int(3)), (Play(s("https://example.com/a.mp3")),)),),
        (Play(s("jingle"), media=True), Say(s("<speak>Hi</speak>"), None, s("de-DE"), True)),
    )
    return Flow(
        (Setting("language", s("en-US")), Setting("voice", s("Telnyx.KokoroTTS.af"))),
        (
            Step(Name("main"), (Answer(), branch, menu)),
            Step(Name("booking"), (booking, helper)),
            Step(Name("support"), (Say(s("Bye."), voice=s("V")), Hangup())),
        ),
        On("hangup", (), (Log(s("caller left")), Set(Name("done"), Bool(False)))),
    )


def test_every_construct_renders_in_the_canonical_layout(golden):
    golden("fmt/every_construct.flow", format_flow(every_construct()))


def test_settings_come_voice_first_then_language():
    settings = (Setting("language", s("en-US")), Setting("voice", s("V")))
    text = format_flow(flow(Hangup(), settings=settings))
    assert text.splitlines()[:3] == ['voice "V"', 'language "en-US"', ""]


def test_gather_options_follow_the_fixed_order_whatever_the_tree_order():
    on_timeout = On("timeout", (), (Hangup(),))
    gather = Gather(
        language=s("L"),
        digits=Int(4),
        tries=Int(2),
        timeout=Duration(3, "s"),
        handlers=(on_timeout,),
    )
    header = format_flow(flow(gather)).splitlines()[1]
    assert header == '    gather digits 4 timeout 3s tries 2 language "L":'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ((Goto(Name("sales")),), ['on digits "1": goto sales']),
        ((Say(s("Hi")), Hangup()), ['on digits "1":', '    say "Hi"', "    hangup"]),
        ((If(Bool(True), (Hangup(),)),), ['on digits "1":', "    if true:", "        hangup"]),
    ],
    ids=["one-simple-statement-one-line", "two-statements-block", "if-is-never-one-line"],
)
def test_handler_form_depends_on_its_body(body, expected):
    gather = Gather(handlers=(On("digits", (s("1"),), body),))
    lines = format_flow(flow(gather)).splitlines()
    assert [line[8:] for line in lines[2:]] == expected


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("plain",), '"plain"'),
        (('say "hi"',), r'"say \"hi\""'),
        (("back\\slash",), r'"back\\slash"'),
        (("two\nlines",), r'"two\nlines"'),
        (("{literal}",), '"{{literal}}"'),
        (("Hi ", Interp(("booking", "name")), "!"), '"Hi {booking.name}!"'),
        ((), '""'),
        (("# not a comment * 5s",), '"# not a comment * 5s"'),
    ],
    ids=["plain", "quote", "backslash", "newline", "braces", "interpolation", "empty", "hash"],
)
def test_strings_are_escaped(parts, expected):
    assert render_str(Str(parts)) == expected


a, b, c = v("a"), v("b"), v("c")


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (BinOp("or", BinOp("or", a, b), c), "a or b or c"),
        (BinOp("or", a, BinOp("or", b, c)), "a or (b or c)"),
        (BinOp("and", BinOp("or", a, b), c), "(a or b) and c"),
        (BinOp("or", BinOp("and", a, b), c), "a and b or c"),
        (BinOp("or", a, BinOp("and", b, c)), "a or b and c"),
        (Not(BinOp("and", a, b)), "not (a and b)"),
        (BinOp("and", Not(a), b), "not a and b"),
        (Not(BinOp("==", a, b)), "not a == b"),
        (BinOp("==", Not(a), b), "(not a) == b"),
        (BinOp("==", BinOp("<", a, b), c), "(a < b) == c"),
        (BinOp("==", a, BinOp("!=", b, c)), "a == (b != c)"),
        (BinOp("in", v("digits"), ListExpr((s("1"), s("2")))), 'digits in ["1", "2"]'),
        (Not(Not(v("x.y"))), "not not x.y"),
        (BinOp(">=", Int(3), Bool(False)), "3 >= false"),
    ],
    ids=[
        "or-left-chain",
        "or-right-nested",
        "or-inside-and",
        "and-inside-or-left",
        "and-inside-or-right",
        "not-of-and",
        "not-binds-tighter-than-and",
        "comparison-binds-tighter-than-not",
        "not-inside-comparison",
        "comparisons-do-not-chain-left",
        "comparisons-do-not-chain-right",
        "in-list",
        "double-not",
        "literals",
    ],
)
def test_expressions_get_the_minimum_parentheses(expr, expected):
    assert render_expr(expr) == expected


def test_steps_are_separated_by_one_blank_line_and_on_hangup_by_one_more():
    steps = (Step(Name("a"), (Goto(Name("b")),)), Step(Name("b"), (Hangup(),)))
    tree = Flow((), steps, On("hangup", (), (Log(s("x")),)))
    assert format_flow(tree) == 'a:\n    goto b\n\nb:\n    hangup\n\non hangup: log "x"\n'


def test_comments_without_positions_are_still_written_once():
    tree = Flow((), (Step(Name("main"), (Hangup(),)),), comments=(Comment("# kept"),))
    assert format_flow(tree).count("# kept") == 1


def test_a_blank_line_between_statements_is_kept_once() -> None:
    from flowlang.syntax.fmt import format_text

    text = (
        'voice "V"\n\nmain:\n    answer\n\n\n    # greet\n    say "hi"\n'
        '    if true:\n        log "a"\n\n        log "b"\n    hangup\n'
    )
    expected = (
        'voice "V"\n\nmain:\n    answer\n\n    # greet\n    say "hi"\n'
        '    if true:\n        log "a"\n\n        log "b"\n    hangup\n'
    )
    assert format_text(text) == expected
    assert format_text(expected) == expected


def test_statements_written_together_stay_together() -> None:
    from flowlang.syntax.fmt import format_text

    text = 'voice "V"\n\nmain:\n    answer\n    say "hi"\n    hangup\n'
    assert format_text(text) == text


def test_an_assistant_voice_stays_where_it_was_written() -> None:
    from flowlang.syntax.fmt import format_text

    in_block = (
        'main:\n    assistant id "a-1":\n        voice "V"  # the agent\'s voice\n'
        '        instructions "Help."\n'
    )
    in_line = 'main:\n    assistant id "a-1" voice "V":\n        instructions "Help."\n'
    assert format_text(in_block) == in_block
    assert format_text(in_line) == in_line
