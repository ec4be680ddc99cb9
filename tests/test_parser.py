"""The parser builds the right trees: every construct of LANGUAGE.md, tricky tokens, spans."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowlang.errors import FlowSyntaxError
from flowlang.lint import check_source
from flowlang.source import Source, Span
from flowlang.syntax import nodes as n
from flowlang.syntax.explain import CONTEXTUAL, RESERVED
from flowlang.syntax.fmt import format_text
from flowlang.syntax.parser import KEYWORDS, grammar_path, parse
from tests.language_examples import SECTION_1, SECTION_4, SECTION_5

ROOT = Path(__file__).resolve().parent.parent


def flow(text: str) -> n.Flow:
    return parse(textwrap.dedent(text).lstrip("\n"))


def body(text: str) -> tuple[n.Node, ...]:
    """The statements of a one-step flow whose step body is `text`."""
    lines = textwrap.dedent(text).strip("\n").splitlines()
    return parse("main:\n" + "".join(f"    {line}\n" for line in lines)).steps[0].body


def stmt(text: str) -> n.Node:
    (only,) = body(text)
    return only


def s(text: str) -> n.Str:
    return n.Str((text,) if text else ())


def expr(text: str) -> n.Node:
    node = stmt(f"set x = {text}")
    assert isinstance(node, n.Set)
    return node.value


# ---------------------------------------------------------------------------------------------
# The examples of LANGUAGE.md


def test_section_1_example_tree() -> None:
    tree = flow(SECTION_1)
    assert tree.settings == (
        n.Setting("voice", s("Telnyx.KokoroTTS.af")),
        n.Setting("language", s("en-US")),
    )
    assert [step.name.value for step in tree.steps] == ["main", "menu", "support"]
    assert tree.steps[0].body == (
        n.Answer(),
        n.Say(s("Thanks for calling Acme.")),
        n.Goto(n.Name("menu")),
    )
    menu_gather = tree.steps[1].body[0]
    assert menu_gather == n.Gather(
        tries=n.Int(3),
        timeout=n.Duration(8, "s"),
        prompt=[n.Say(s("For sales press 1. For support press 2. To hear our hours press 3."))],
        reprompt=n.Reprompt(s("Sorry, I didn't catch that.")),
        handlers=[
            n.On("digits", [s("1")], [n.Transfer(s("+13125550001"))]),
            n.On("digits", [s("2")], [n.Goto(n.Name("support"))]),
            n.On(
                "digits",
                [s("3")],
                [n.Say(s("We are open nine to five, Monday to Friday.")), n.Goto(n.Name("menu"))],
            ),
            n.On("invalid", [], [n.Say(s("That is not an option."))]),
            n.On("timeout", [], [n.Say(s("We did not hear anything."))]),
        ],
    )
    assert tree.steps[1].body[1:] == (n.Say(s("Goodbye.")), n.Hangup())
    support_gather = tree.steps[2].body[0]
    assert support_gather == n.Gather(
        digits=n.Int(6),
        into=n.Name("account"),
        terminator=s("#"),
        prompt=[n.Say(s("Please enter your six digit account number, then press pound."))],
        handlers=[
            n.On(
                "digits",
                [],
                [
                    n.Say(
                        n.Str(
                            [
                                "Thank you. Connecting you to support for account ",
                                n.Interp(["account"]),
                                ".",
                            ]
                        )
                    ),
                    n.Transfer(s("+13125550002")),
                ],
            ),
            n.On("timeout", [], [n.Hangup()]),
        ],
    )
    assert tree.on_hangup is None
    assert [c.text for c in tree.comments] == ["# Acme main line"]


def test_section_3_gather_with_every_option_in_any_order() -> None:
    header = (
        'gather language "de-DE" valid "123#" into pin tries 2 voice "V" terminator "#" '
        "initial_timeout 3s inter_digit_timeout 500ms timeout 2m digits 4..6:"
    )
    node = stmt(
        header
        + """
            on digits: goto main
            say "Enter"
            reprompt "Again."
            say "your PIN."
            on invalid: hangup
            on timeout: hangup
        """
    )
    assert node == n.Gather(
        digits=n.DigitRange(n.Int(4), n.Int(6)),
        timeout=n.Duration(2, "m"),
        inter_digit_timeout=n.Duration(500, "ms"),
        initial_timeout=n.Duration(3, "s"),
        terminator=s("#"),
        valid=s("123#"),
        tries=n.Int(2),
        into=n.Name("pin"),
        voice=s("V"),
        language=s("de-DE"),
        prompt=[n.Say(s("Enter")), n.Say(s("your PIN."))],
        reprompt=n.Reprompt(s("Again.")),
        handlers=[
            n.On("digits", [], [n.Goto(n.Name("main"))]),
            n.On("invalid", [], [n.Hangup()]),
            n.On("timeout", [], [n.Hangup()]),
        ],
    )


def test_gather_with_several_keys_a_play_prompt_and_no_options() -> None:
    node = stmt(
        """
        gather:
            play media "menu_prompt"
            on digits "1", "2", "*":
                hangup
        """
    )
    assert node == n.Gather(
        prompt=[n.Play(s("menu_prompt"), media=True)],
        handlers=[n.On("digits", [s("1"), s("2"), s("*")], [n.Hangup()])],
    )


def test_gather_prompt_may_mix_say_and_play_for_the_linter_to_report() -> None:
    node = stmt(
        """
        gather:
            say "a"
            play "https://example.com/a.mp3"
        """
    )
    assert isinstance(node, n.Gather)
    assert node.prompt == (n.Say(s("a")), n.Play(s("https://example.com/a.mp3")))


def test_section_4_ai_gather_tree() -> None:
    assert stmt(SECTION_4) == n.AiGather(
        into=n.Name("booking"),
        voice=s("V"),
        language=s("en-US"),
        timeout=n.Duration(20, "s"),
        greeting=s("Hi! I can book a table for you."),
        fields=[
            n.Field(n.Name("name"), n.Name("string"), s("The caller's full name")),
            n.Field(n.Name("guests"), n.Name("integer"), s("How many people are coming")),
            n.Field(
                n.Name("notes"), n.Name("string"), s("Anything else we should know"), optional=True
            ),
        ],
        handlers=[
            n.On("valid", [], [n.Say(n.Str(["Thanks ", n.Interp(["booking", "name"]), "."]))]),
            n.On("invalid", [], [n.Transfer(s("+13125550100"))]),
            n.On("key", [s("0")], [n.Hangup()]),
        ],
    )


def test_an_assistant_on_one_line_has_no_block() -> None:
    assistant = stmt('assistant id "assistant-7" voice "AWS.Polly.Joanna-Neural"')
    assert isinstance(assistant, n.Assistant)
    assert assistant.id is not None and assistant.id.text == "assistant-7"
    assert assistant.voice is not None and not assistant.voice_in_block
    assert (assistant.instructions, assistant.greeting, assistant.messages, assistant.handlers) == (
        None, None, (), ()
    )
    text = 'main:\n    assistant id "assistant-7"\n    hangup\n'
    assert format_text(text) == text


def test_a_one_line_assistant_is_a_one_line_handler_too() -> None:
    # Like `on digits "1": transfer "..."`: the stored assistant as it is, on the handler's line.
    one_line = stmt('gather:\n    on digits "1": assistant id "assistant-7"')
    block = stmt('gather:\n    on digits "1":\n        assistant id "assistant-7"')
    assert one_line == block
    text = (
        "main:\n"
        "    gather:\n"
        '        on digits "1": assistant id "assistant-7" voice "AWS.Polly.Joanna-Neural"\n'
        '        on digits "2":\n'
        '            assistant id "assistant-7"\n'
        "            hangup\n"
    )
    assert format_text(text) == text
    written = 'main:\n    gather:\n        on digits "1":\n            assistant id "A"\n'
    assert format_text(written) == 'main:\n    gather:\n        on digits "1": assistant id "A"\n'


def test_section_5_assistant_tree() -> None:
    assert stmt(SECTION_5) == n.Assistant(
        id=s("assistant-123"),
        voice=s("V"),
        instructions=s("You are the Acme receptionist."),
        greeting=s("Hi, this is Ava from Acme."),
        messages=[
            n.Message(
                n.Name("system"), n.Str(["The caller's account is ", n.Interp(["account"]), "."])
            ),
            n.Message(n.Name("assistant"), s("I will help.")),
        ],
        handlers=[
            n.On(
                "key",
                [s("0")],
                [n.Say(s("Connecting you to a person.")), n.Transfer(s("+13125550003"))],
            )
        ],
    )


def test_examples_folder_parses() -> None:
    files = sorted((ROOT / "examples").glob("*.flow"))
    assert files, "the examples folder has no .flow files"
    for path in files:
        tree = parse(path.read_text(encoding="utf-8"), str(path))
        assert tree.steps, path


# ---------------------------------------------------------------------------------------------
# Statements, one at a time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("answer", n.Answer()),
        ("hangup", n.Hangup()),
        ('say "Hi"', n.Say(s("Hi"))),
        ('say "Hi" ssml language "en-GB" voice "V"', n.Say(s("Hi"), s("V"), s("en-GB"), True)),
        ('play "https://x/y.mp3"', n.Play(s("https://x/y.mp3"))),
        ('play media "hold"', n.Play(s("hold"), media=True)),
        ('transfer "+1"', n.Transfer(s("+1"))),
        ('transfer "+1" timeout 30s from "+2"', n.Transfer(s("+1"), s("+2"), n.Duration(30, "s"))),
        ("goto menu", n.Goto(n.Name("menu"))),
        ("set tries_left = 3", n.Set(n.Name("tries_left"), n.Int(3))),
        ('log "hello {caller}"', n.Log(n.Str(["hello ", n.Interp(["caller"])]))),
    ],
    ids=[
        "answer", "hangup", "say", "say-options", "play", "play-media", "transfer",
        "transfer-options", "goto", "set", "log",
    ],
)  # fmt: skip
def test_simple_statements(text: str, expected: n.Node) -> None:
    assert stmt(text) == expected


def test_if_elif_else() -> None:
    node = stmt(
        """
        if digits == "1":
            hangup
        elif digits in ["2", "3"]:
            goto b
        elif not done:
            goto c
        else:
            goto d
        """
    )
    assert node == n.If(
        n.BinOp("==", n.Var(["digits"]), s("1")),
        [n.Hangup()],
        [
            n.Elif(
                n.BinOp("in", n.Var(["digits"]), n.ListExpr([s("2"), s("3")])),
                [n.Goto(n.Name("b"))],
            ),
            n.Elif(n.Not(n.Var(["done"])), [n.Goto(n.Name("c"))]),
        ],
        (n.Goto(n.Name("d")),),
    )


def test_if_without_else_has_none() -> None:
    node = stmt("if x:\n    hangup")
    assert node == n.If(n.Var(["x"]), [n.Hangup()])
    assert isinstance(node, n.If) and node.else_ is None


def test_top_level_on_hangup_and_settings() -> None:
    tree = flow(
        """
        main:
            hangup
        on hangup:
            set left = true
            log "gone"
        """
    )
    assert tree.on_hangup == n.On(
        "hangup", [], [n.Set(n.Name("left"), n.Bool(True)), n.Log(s("gone"))]
    )


def test_one_line_handler_equals_block_handler() -> None:
    one_line = stmt('gather:\n    on digits "1": goto sales')
    block = stmt('gather:\n    on digits "1":\n        goto sales')
    assert one_line == block


# ---------------------------------------------------------------------------------------------
# Expressions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a or b and c", n.BinOp("or", n.Var(["a"]), n.BinOp("and", n.Var(["b"]), n.Var(["c"])))),
        ("a and b or c", n.BinOp("or", n.BinOp("and", n.Var(["a"]), n.Var(["b"])), n.Var(["c"]))),
        ("not a and b", n.BinOp("and", n.Not(n.Var(["a"])), n.Var(["b"]))),
        ("not a == b", n.Not(n.BinOp("==", n.Var(["a"]), n.Var(["b"])))),
        ("(a or b) and c", n.BinOp("and", n.BinOp("or", n.Var(["a"]), n.Var(["b"])), n.Var(["c"]))),
        ("a or b or c", n.BinOp("or", n.BinOp("or", n.Var(["a"]), n.Var(["b"])), n.Var(["c"]))),
        ("x.y.z != 3", n.BinOp("!=", n.Var(["x", "y", "z"]), n.Int(3))),
        ("n <= 2", n.BinOp("<=", n.Var(["n"]), n.Int(2))),
        ("n >= 2", n.BinOp(">=", n.Var(["n"]), n.Int(2))),
        ("n < 2", n.BinOp("<", n.Var(["n"]), n.Int(2))),
        ("n > 2", n.BinOp(">", n.Var(["n"]), n.Int(2))),
        ("digits in []", n.BinOp("in", n.Var(["digits"]), n.ListExpr([]))),
        ('x in ["1",]', n.BinOp("in", n.Var(["x"]), n.ListExpr([s("1")]))),
        ("false", n.Bool(False)),
        ('""', n.Str(())),
        ("not not x", n.Not(n.Not(n.Var(["x"])))),
    ],
    ids=[
        "or-looser-than-and", "and-then-or", "not-tighter-than-and", "not-looser-than-compare",
        "parentheses", "or-left-assoc", "dotted-path", "le", "ge", "lt", "gt", "empty-list",
        "trailing-comma", "false", "empty-string", "double-not",
    ],
)  # fmt: skip
def test_expressions(text: str, expected: n.Node) -> None:
    assert expr(text) == expected


def test_comparisons_do_not_chain() -> None:
    with pytest.raises(FlowSyntaxError):
        expr("a == b == c")


# ---------------------------------------------------------------------------------------------
# Tricky tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5s", n.Duration(5, "s")),
        ("500ms", n.Duration(500, "ms")),
        ("2m", n.Duration(2, "m")),
        ("0s", n.Duration(0, "s")),
    ],
    ids=["5s", "500ms", "2m", "0s"],
)
def test_duration_is_one_token(text: str, expected: n.Duration) -> None:
    node = stmt(f'transfer "+1" timeout {text}')
    assert isinstance(node, n.Transfer)
    assert node.timeout == expected
    assert node.timeout is not None and node.timeout.span is not None
    width = node.timeout.span.end_column - node.timeout.span.column
    assert width == len(text)


def test_quoted_key_is_a_string_and_star_and_hash_stay_inside_strings() -> None:
    node = stmt('gather valid "*#1":\n    on digits "1", "#", "*9": hangup  # not part of it')
    assert isinstance(node, n.Gather)
    assert node.valid == s("*#1")
    assert node.handlers[0].values == (s("1"), s("#"), s("*9"))


@pytest.mark.parametrize(
    ("option", "expected"),
    [("digits 4..6", n.DigitRange(n.Int(4), n.Int(6))), ("digits 4", n.Int(4))],
    ids=["range", "single"],
)
def test_digits_option(option: str, expected: n.Node) -> None:
    node = stmt(f'gather {option}:\n    say "x"')
    assert isinstance(node, n.Gather)
    assert node.digits == expected


@pytest.mark.parametrize(
    "name",
    [
        "timeouts",
        "saying",
        "gathering",
        "into_x",
        "digits2",
        "onward",
        "iff",
        "valid_pin",
        "_x",
        "é",
    ],
)
def test_words_that_start_like_keywords_are_names(name: str) -> None:
    assert stmt(f"goto {name}") == n.Goto(n.Name(name))


@pytest.mark.parametrize("word", sorted(RESERVED))
def test_reserved_words_are_not_names(word: str) -> None:
    with pytest.raises(FlowSyntaxError):
        stmt(f"set {word} = 1")


@pytest.mark.parametrize("word", sorted(CONTEXTUAL))
def test_contextual_keywords_name_steps_variables_and_fields(word: str) -> None:
    text = (
        f"{word}:\n"
        f"    set {word} = {word}.{word}\n"
        f"    if {word} == 1:\n"
        f"        goto {word}\n"
        f"    gather into {word}:\n"
        f'        say "x"\n'
        f"    ai_gather into {word}:\n"
        f'        field {word} text "x"\n'
    )
    step = flow(text).steps[0]
    name = n.Name(word)
    path = n.Var([word, word])
    set_, if_, gather, ai_gather = step.body
    assert step.name == name
    assert set_ == n.Set(name, path)
    assert if_ == n.If(n.BinOp("==", n.Var([word]), n.Int(1)), (n.Goto(name),))
    assert gather.into == name
    assert ai_gather.into == name
    assert ai_gather.fields[0].name == name


def test_a_contextual_keyword_keeps_its_meaning_where_an_option_stands() -> None:
    gather = stmt('gather into timeout timeout 5s:\n    say "x"')
    assert gather.into == n.Name("timeout")
    assert gather.timeout == n.Duration(5, "s")


def test_every_keyword_is_either_reserved_or_a_name() -> None:
    # The grammar's `name` rule lists the contextual keywords; a new keyword must be in one list.
    grammar = grammar_path().read_text(encoding="utf-8")
    code = "\n".join(line.split("//")[0] for line in grammar.splitlines())
    rule = code.split("!name:")[1].split("\n\n")[0]
    assert set(re.findall(r'"([a-z_]+)"', rule)) == CONTEXTUAL
    assert RESERVED | CONTEXTUAL == KEYWORDS
    assert not RESERVED & CONTEXTUAL


def test_digits_is_a_keyword_and_the_builtin_variable() -> None:
    assert expr("digits") == n.Var(["digits"])


@pytest.mark.parametrize(
    ("literal", "parts"),
    [
        (r'"a \"b\" c"', ['a "b" c']),
        (r'"back\\slash"', ["back\\slash"]),
        (r'"two\nlines"', ["two\nlines"]),
        ('"{{literal}} braces"', ["{literal} braces"]),
        ('"a }} b"', ["a } b"]),
        ('"{a}{b.c}"', [n.Interp(["a"]), n.Interp(["b", "c"])]),
        ('"x { name } y"', ["x ", n.Interp(["name"]), " y"]),
        ('"# not a comment"', ["# not a comment"]),
        ('"日本"', ["日本"]),
    ],
    ids=[
        "quote", "backslash", "newline", "double-brace", "closing-brace", "two-interps",
        "spaces-in-braces", "hash", "unicode",
    ],
)  # fmt: skip
def test_string_literals(literal: str, parts: list[object]) -> None:
    node = stmt(f"log {literal}")
    assert isinstance(node, n.Log)
    assert node.text == n.Str(parts)


# ---------------------------------------------------------------------------------------------
# Spans


def test_spans_of_goto_target_and_option_values() -> None:
    tree = parse(
        'main:\n    gather tries 3 timeout 8s into pin:\n        on digits "12": goto next\n'
    )
    gather = tree.steps[0].body[0]
    assert isinstance(gather, n.Gather)
    assert gather.tries is not None and gather.tries.span == Span(2, 18, 2, 19)
    assert gather.timeout is not None and gather.timeout.span == Span(2, 28, 2, 30)
    assert gather.into is not None and gather.into.span == Span(2, 36, 2, 39)
    handler = gather.handlers[0]
    assert handler.values[0].span == Span(3, 19, 3, 23)
    goto = handler.body[0]
    assert isinstance(goto, n.Goto)
    assert goto.target.span == Span(3, 30, 3, 34)
    assert goto.span == Span(3, 25, 3, 34)
    assert gather.span == Span(2, 5, 3, 34)
    assert tree.steps[0].name.span == Span(1, 1, 1, 5)


def test_interpolation_spans_point_inside_the_braces_even_after_escapes() -> None:
    tree = parse('main:\n    say "a \\"q\\" \\n {{x}} { booking.name } {b}"\n')
    say = tree.steps[0].body[0]
    assert isinstance(say, n.Say)
    first, second = say.text.interpolations
    source_line = '    say "a \\"q\\" \\n {{x}} { booking.name } {b}"'
    assert first.span == Span(2, source_line.index("booking") + 1, 2, source_line.index(" }") + 1)
    assert second.span == Span(2, source_line.index("{b}") + 2, 2, source_line.index("{b}") + 3)


def test_spans_of_field_names_types_and_variables() -> None:
    tree = parse(
        'main:\n    ai_gather:\n        field guests integer "How many"\n'
        "    if a.b == 1:\n        hangup\n"
    )
    ai, branch = tree.steps[0].body
    assert isinstance(ai, n.AiGather) and isinstance(branch, n.If)
    assert ai.fields[0].name.span == Span(3, 15, 3, 21)
    assert ai.fields[0].type.span == Span(3, 22, 3, 29)
    assert isinstance(branch.cond, n.BinOp)
    assert branch.cond.left.span == Span(4, 8, 4, 11)
    assert branch.cond.right.span == Span(4, 15, 4, 16)


def test_every_node_of_the_examples_has_a_span() -> None:
    for path in sorted((ROOT / "examples").glob("*.flow")):
        tree = parse(path.read_text(encoding="utf-8"), str(path))
        for node in n.walk(tree):
            assert node.span is not None, (path, node)
            assert (node.span.line, node.span.column) <= (node.span.end_line, node.span.end_column)


# ---------------------------------------------------------------------------------------------
# Layout: comments, blank lines, line endings


def test_comments_are_collected_with_spans() -> None:
    text = "# top\nmain:  # header\n    # inside\n        # odd indent\n    hangup # end\n# last"
    tree = parse(text)
    assert [(c.text, c.span) for c in tree.comments] == [
        ("# top", Span(1, 1, 1, 6)),
        ("# header", Span(2, 8, 2, 16)),
        ("# inside", Span(3, 5, 3, 13)),
        ("# odd indent", Span(4, 9, 4, 21)),
        ("# end", Span(5, 12, 5, 17)),
        ("# last", Span(6, 1, 6, 7)),
    ]
    assert tree.steps[0].body == (n.Hangup(),)


def test_blank_lines_with_odd_indentation_and_no_final_newline() -> None:
    text = "\n\nmain:\n\n      \n    answer\n  \n\n    hangup"
    assert parse(text).steps[0].body == (n.Answer(), n.Hangup())


def test_crlf_line_endings_give_the_same_tree_and_clean_comments() -> None:
    text = SECTION_1.lstrip("\n")
    crlf = parse(text.replace("\n", "\r\n"))
    assert crlf == parse(text)
    assert crlf.comments[0].text == "# Acme main line"


def test_grammar_file_is_found() -> None:
    path = grammar_path()
    assert path.name == "flowlang.lark"
    assert "start:" in path.read_text(encoding="utf-8")


def test_installed_layout_finds_the_grammar_inside_the_package(tmp_path: Path) -> None:
    # A wheel ships the grammar as flowlang/grammar/flowlang.lark (pyproject force-include);
    # a copy of the package laid out that way, away from the source tree, must find and use it.
    site = tmp_path / "site"
    shutil.copytree(
        ROOT / "flowlang", site / "flowlang", ignore=shutil.ignore_patterns("__pycache__")
    )
    (site / "flowlang" / "grammar").mkdir()
    shutil.copy(ROOT / "grammar" / "flowlang.lark", site / "flowlang" / "grammar")
    script = (
        "from flowlang.syntax.parser import grammar_path, parse\n"
        "print(grammar_path())\n"
        "print(len(parse('main:\\n    hangup\\n').steps))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.splitlines() == [
        str(site / "flowlang" / "grammar" / "flowlang.lark"),
        "1",
    ]


def test_keyword_list_matches_the_grammar() -> None:
    grammar = grammar_path().read_text(encoding="utf-8")
    code = "\n".join(line.split("//")[0] for line in grammar.splitlines())
    assert set(re.findall(r'"([a-z_]+)"', code)) == KEYWORDS


_TEXT = st.text(alphabet=st.sampled_from(list('ab "\\{}\n#*é')), min_size=1, max_size=6)
_PATH = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,4}", fullmatch=True), min_size=1, max_size=3)


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("{", "{{")
        .replace("}", "}}")
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(_TEXT, _PATH), max_size=5), st.integers(0, 8))
def test_strings_decode_and_interpolation_spans_point_at_their_path(
    pieces: list[str | list[str]], indent: int
) -> None:
    literal = "".join(_escape(p) if isinstance(p, str) else "{" + ".".join(p) + "}" for p in pieces)
    line = " " * (indent + 4) + f'log "{literal}"'
    tree = parse(f"main:\n{line}\n")
    log = tree.steps[0].body[0]
    assert isinstance(log, n.Log)
    expected: list[str | n.Interp] = []
    for piece in pieces:
        if isinstance(piece, list):
            expected.append(n.Interp(piece))
        elif expected and isinstance(expected[-1], str):
            expected[-1] += piece
        else:
            expected.append(piece)
    assert log.text == n.Str(expected)
    for interp in log.text.interpolations:
        assert interp.span is not None and interp.span.line == 2
        assert line[interp.span.column - 1 : interp.span.end_column - 1] == interp.dotted


SECTION_10 = """\
main:
    fetch "https://api.acme.com/orders/{order}" into status timeout 3s:
        header "Authorization" secret "ACME_TOKEN"
        on error:
            say "Sorry, I cannot look that up right now."
            goto menu
    say "Your order is {status.state}."

    fetch "https://api.acme.com/callbacks" method "POST" into booked:
        send number = caller
        send when = slot
"""


def test_language_section_10_fetch_reads_as_written() -> None:
    lookup, _, book = parse(SECTION_10).steps[0].body
    assert isinstance(lookup, n.Fetch) and isinstance(book, n.Fetch)
    assert lookup.url.interpolations[0].path == ("order",)
    assert lookup.into == n.Name("status") and lookup.timeout == n.Duration(3, "s")
    assert lookup.headers == (n.Header(n.Str(("Authorization",)), n.Str(("ACME_TOKEN",)), True),)
    assert lookup.on_error is not None and len(lookup.on_error.body) == 2
    assert book.method == n.Str(("POST",))
    assert [s.name.value for s in book.sends] == ["number", "when"]
    assert book.on_error is None


def test_fetch_on_one_line_and_counting_expressions() -> None:
    fetch, count = body('fetch "https://x.example/a" into a\nset left = left - 1 + 2')
    assert isinstance(fetch, n.Fetch) and not fetch.is_block
    assert isinstance(count, n.Set)
    assert count.value == n.BinOp(
        "+", n.BinOp("-", n.Var(("left",)), n.Int(1)), n.Int(2)
    )


def test_fetch_words_other_than_fetch_can_still_be_names() -> None:
    flow = parse(
        "header:\n    set method = 1\n    set secret = method + 1\n"
        "    fetch \"https://x.example\" into send\n"
    )
    assert flow.steps[0].name.value == "header"


def test_two_on_error_in_one_fetch_is_an_error() -> None:
    with pytest.raises(FlowSyntaxError, match="`on error` is written twice in this fetch"):
        body('fetch "https://x.example" into a:\n    on error: hangup\n    on error: hangup')


# A lone "\r" (a classic Mac line break, or one pasted) ends a line for an editor, as LSP says;
# the parser must count lines the same way, or a finding shows under the wrong line there.
_PIECES = st.sampled_from(["\r", "\n", "\r\n", "a", " ", "#", '"', "\u2028", "\x0c"])


@given(st.lists(_PIECES, max_size=40).map("".join))
def test_lines_are_counted_where_an_editor_counts_them(text: str) -> None:
    from flowlang.lsp.workspace import lsp_lines

    text += "x"  # the last line unended, for both
    source = Source("x.flow", text)
    assert [line.removesuffix("\r") for line in source.text.split("\n")] == [
        line.removesuffix("\n").removesuffix("\r") for line in lsp_lines(text)
    ]


def test_a_flow_with_classic_mac_line_breaks_checks_as_it_reads() -> None:
    flow = 'voice "Telnyx.KokoroTTS.af"\nmain:\n    answer\n    say "Hi"\n    goto nowhere\n'
    mac = flow.replace("\n", "\r")
    found = check_source(Source("mac.flow", mac))
    assert [(d.code, d.span) for d in found] == [
        (d.code, d.span) for d in check_source(Source("mac.flow", flow))
    ]
    assert [d.code for d in found] == ["FL101"]
