"""Outcome reprompts (LANGUAGE.md 13): different words after a wrong entry than after silence."""

from __future__ import annotations

import pytest

from flowlang.errors import FlowSyntaxError
from flowlang.source import Source
from flowlang.syntax.parser import parse_source
from tests.runtime.calls import Call, without_correlation

HEAD = 'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\nmain:\n    answer\n'


def menu(reprompts: str, prompt: str = '        say "Press 1."\n') -> Call:
    call = Call.of(
        HEAD + "    gather tries 4:\n" + prompt + reprompts + '        on digits "1": log "one"\n'
    )
    call.start()
    call.settle()
    assert call.last.waiting == "gather"
    return call


BOTH = (
    '        reprompt invalid "That is not an option."\n'
    '        reprompt timeout "Are you there?"\n'
)


def payloads(call: Call, outcomes: list[str]) -> list[str]:
    said = []
    for outcome in outcomes:
        entry = "9" if outcome == "invalid" else ""
        out = call.press(entry, outcome)
        said.append(out.commands[-1].body["payload"])
    return said


def test_each_outcome_gets_its_own_reprompt_before_the_next_try() -> None:
    call = menu(BOTH)
    assert payloads(call, ["invalid", "timeout", "invalid"]) == [
        "That is not an option. Press 1.",
        "Are you there? Press 1.",
        "That is not an option. Press 1.",
    ]


def test_a_valid_entry_that_matches_nothing_counts_as_invalid() -> None:
    call = menu(BOTH)
    out = call.press("5", "valid")
    assert out.commands[-1].body["payload"] == "That is not an option. Press 1."


def test_an_outcome_without_its_reprompt_says_only_the_prompt() -> None:
    call = menu('        reprompt timeout "Are you there?"\n')
    assert payloads(call, ["invalid", "timeout"]) == ["Press 1.", "Are you there? Press 1."]


def test_a_plain_reprompt_serves_both_outcomes() -> None:
    call = menu('        reprompt "Once more."\n')
    assert payloads(call, ["invalid", "timeout"]) == ["Once more. Press 1.", "Once more. Press 1."]


def test_without_a_say_prompt_the_outcome_reprompt_is_spoken_first() -> None:
    call = menu(BOTH, prompt='        play "https://example.com/menu.mp3"\n')
    out = call.press("", "timeout")
    assert [c.action for c in out.commands] == ["speak"]
    assert without_correlation(out.commands[0].body)["payload"] == "Are you there?"
    out = call.complete()
    assert [c.action for c in out.commands] == ["gather_using_audio"]
    out = call.press("7", "invalid")
    assert out.commands[-1].body["payload"] == "That is not an option."


def test_a_state_stored_mid_reprompt_resumes_with_the_same_outcome() -> None:
    # The reprompt's speak is a wait of its own: the stored state must remember the outcome.
    call = menu(BOTH, prompt="")
    call.press("", "timeout")
    assert call.last.state["wait"]["after"] == "timeout"


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ('        reprompt "A."\n        reprompt invalid "B."\n', "FL060"),
        ('        reprompt timeout "A."\n        reprompt "B."\n', "FL060"),
        ('        reprompt invalid "A."\n        reprompt invalid "B."\n', "FL013"),
    ],
    ids=["plain-then-outcome", "outcome-then-plain", "same-outcome-twice"],
)
def test_mixing_kinds_or_repeating_one_is_a_syntax_error(lines: str, code: str) -> None:
    text = HEAD + "    gather:\n" + lines + '        on digits "1": log "one"\n'
    with pytest.raises(FlowSyntaxError) as error:
        parse_source(Source("menu.flow", text))
    assert [d.code for d in error.value.diagnostics] == [code]
