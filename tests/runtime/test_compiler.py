"""The compiler: refuses flows with errors, resolves steps, applies defaults, builds AI schemas."""

from __future__ import annotations

import hashlib
import json

import attrs
import pytest

from flowlang.compiler import build_program, compile_flow, compile_source
from flowlang.errors import FlowCompileError, FlowSyntaxError
from flowlang.program import AiGatherOp, GatherOp, GotoOp, SayOp
from flowlang.source import Source
from flowlang.syntax.parser import parse_source

GOOD = 'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\nmain:\n    answer\n    say "Hi"\n'


def test_digest_is_the_sha256_of_the_source_text_and_source_is_kept() -> None:
    source = Source("a.flow", GOOD)
    program = compile_source(source)
    assert program.digest == hashlib.sha256(GOOD.encode()).hexdigest()
    assert program.source is source


def test_program_is_immutable() -> None:
    program = compile_source(Source("a.flow", GOOD))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        program.digest = "x"  # type: ignore[misc]


def test_lint_errors_refuse_with_their_diagnostics() -> None:
    source = Source("bad.flow", GOOD + "    goto nowhere\n")
    with pytest.raises(FlowCompileError) as info:
        compile_source(source)
    assert info.value.diagnostics
    assert all(d.is_error for d in info.value.diagnostics)
    assert any("nowhere" in d.message for d in info.value.diagnostics)


def test_syntax_errors_come_from_the_parser() -> None:
    with pytest.raises(FlowSyntaxError):
        compile_source(Source("bad.flow", "main\n    answer\n"))


def test_build_program_still_refuses_an_unknown_goto() -> None:
    source = Source("bad.flow", GOOD + "    goto nowhere\n")
    with pytest.raises(FlowCompileError) as info:
        build_program(parse_source(source), source)
    assert info.value.diagnostics[0].span is not None
    assert info.value.diagnostics[0].span.line == 7


def test_compile_flow_accepts_a_parsed_tree() -> None:
    source = Source("a.flow", GOOD + "    goto second\nsecond:\n    hangup\n")
    program = compile_flow(parse_source(source), source)
    assert [s.name for s in program.steps] == ["main", "second"]
    assert program.entry.name == "main"
    goto = program.blocks[program.entry.block].ops[-1]
    assert isinstance(goto, GotoOp)
    assert goto.block == program.step("second").block  # type: ignore[union-attr]


def test_settings_are_applied_to_say_but_not_over_its_own() -> None:
    text = GOOD + '    say "Hallo" voice "AWS.Polly.Marlene" language "de-DE"\n'
    program = compile_source(Source("a.flow", text))
    ops = program.blocks[program.entry.block].ops
    plain, own = ops[1], ops[2]
    assert isinstance(plain, SayOp) and isinstance(own, SayOp)
    assert (plain.voice.text, plain.language.text) == ("Telnyx.KokoroTTS.af", "en-US")  # type: ignore[union-attr]
    assert (own.voice.text, own.language.text) == ("AWS.Polly.Marlene", "de-DE")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("branches", "expected"),
    [
        ('"1"', {"minimum_digits": 1, "maximum_digits": 1, "valid_digits": "1"}),
        ('"*", "10"', {"minimum_digits": 1, "maximum_digits": 2, "valid_digits": "01*"}),
        ('"*9", "123"', {"minimum_digits": 2, "maximum_digits": 3, "valid_digits": "1239*"}),
    ],
    ids=["one-key", "keys-in-order", "star-before-pound"],
)
def test_gather_inference(branches: str, expected: dict[str, object]) -> None:
    text = GOOD + f'    gather:\n        on digits {branches}: log "x"\n'
    program = compile_source(Source("a.flow", text))
    gather = program.blocks[program.entry.block].ops[-1]
    assert isinstance(gather, GatherOp)
    assert dict(gather.options) == expected
    assert gather.action == "gather"
    assert gather.tries == 3


def test_ai_gather_schema_is_canonical_json() -> None:
    text = GOOD + (
        "    ai_gather into b:\n"
        '        field name string "Name"\n'
        '        field size number "Size" optional\n'
        '        field ok boolean "OK"\n'
    )
    program = compile_source(Source("a.flow", text))
    op = program.blocks[program.entry.block].ops[-1]
    assert isinstance(op, AiGatherOp)
    assert json.loads(op.parameters) == {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "Name"},
            "size": {"type": "number", "description": "Size"},
            "ok": {"type": "boolean", "description": "OK"},
        },
        "required": ["name", "ok"],
    }


def test_coverage_points_are_in_source_order_with_flow_lines() -> None:
    text = GOOD + (
        "    gather:\n"                      # 7
        '        on digits "1": goto b\n'    # 8
        '        on digits "2":\n'           # 9
        "            if caller == \"x\":\n"  # 10
        '                log "x"\n'
        '            elif caller == "y":\n'  # 12
        '                log "y"\n'
        "            else:\n"                # 14
        '                log "z"\n'
        "        on invalid: hangup\n"       # 16
        "b:\n"                               # 17
        "    hangup\n"
        "\n"
        "on hangup:\n"                       # 20
        '    log "bye"\n'
    )
    program = compile_source(Source("a.flow", text))
    assert program.coverage_points() == (
        "step:main", "on:8", "on:9", "if:10", "elif:12", "else:14", "on:16", "step:b", "on:20",
    )
