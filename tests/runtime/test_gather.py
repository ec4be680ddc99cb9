"""`gather` (LANGUAGE.md 3): command per prompt, option fields, inference, tries, every outcome."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.runtime.calls import Call, without_correlation

HEAD = 'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\nmain:\n    answer\n'
VOICE = "Telnyx.KokoroTTS.af"

MENU = HEAD + (
    "    gather tries 3 timeout 8s:\n"
    '        say "For sales press 1."\n'
    '        say "For support press 2."\n'
    '        reprompt "Sorry, I didn\'t catch that."\n'
    '        on digits "1": log "sales"\n'
    '        on digits "2", "22":\n'
    '            log "support"\n'
    '            goto support\n'
    '        on invalid: log "invalid handler"\n'
    '        on timeout: log "timeout handler"\n'
    '    log "after"\n'
    "support:\n"
    '    log "in support"\n'
)


def gather_call(text: str = MENU, checked: bool = True) -> Call:
    call = Call.of(text) if checked else Call.unchecked(text)
    call.start()
    call.settle()
    assert call.last.waiting == "gather"
    return call


def body(call: Call) -> dict[str, Any]:
    return without_correlation(call.last.commands[-1].body)


def test_say_prompt_sends_gather_using_speak_with_inferred_options() -> None:
    call = gather_call()
    assert call.last.commands[-1].action == "gather_using_speak"
    assert body(call) == {
        "payload": "For sales press 1. For support press 2.",
        "voice": VOICE,
        "language": "en-US",
        "minimum_digits": 1,
        "maximum_digits": 2,
        "timeout_millis": 8000,
        "valid_digits": "12",
        "maximum_tries": 1,
    }


OPTION_CASES = [
    (
        "plain gather keeps initial_timeout",
        "    gather digits 4..6 timeout 5s inter_digit_timeout 2s initial_timeout 3s "
        'terminator "#" valid "0123456789" tries 1:\n        on digits: log "x"\n',
        "gather",
        {"minimum_digits": 4, "maximum_digits": 6, "timeout_millis": 5000,
         "inter_digit_timeout_millis": 2000, "initial_timeout_millis": 3000,
         "terminating_digit": "#", "valid_digits": "0123456789"},
    ),
    (
        "play prompt",
        '    gather:\n        play "https://example.com/menu.mp3"\n'
        '        on digits "9", "*0": log "x"\n',
        "gather_using_audio",
        {"audio_url": "https://example.com/menu.mp3", "minimum_digits": 1, "maximum_digits": 2,
         "valid_digits": "09*", "maximum_tries": 1},
    ),
    (
        "play media prompt",
        '    gather:\n        play media "menu"\n        on digits "*": log "x"\n',
        "gather_using_audio",
        {"media_name": "menu", "minimum_digits": 1, "maximum_digits": 1, "valid_digits": "*",
         "maximum_tries": 1},
    ),
    (
        "catch-all turns inference off",
        '    gather:\n        on digits "1": log "1"\n        on digits: log "any"\n',
        "gather",
        {},
    ),
    (
        "interpolated branch turns inference off",
        '    set pin = "1234"\n    gather:\n        on digits "{pin}": log "ok"\n',
        "gather",
        {},
    ),
    (
        "written options win over inference",
        '    gather digits 3 valid "789":\n        on digits "789": log "x"\n',
        "gather",
        {"minimum_digits": 3, "maximum_digits": 3, "valid_digits": "789"},
    ),
    (
        "gather voice and language for the prompt",
        '    gather voice "AWS.Polly.Marlene" language "de-DE":\n        say "Eins."\n'
        '        on digits "1": log "x"\n',
        "gather_using_speak",
        {"payload": "Eins.", "voice": "AWS.Polly.Marlene", "language": "de-DE",
         "minimum_digits": 1, "maximum_digits": 1, "valid_digits": "1", "maximum_tries": 1},
    ),
]


@pytest.mark.parametrize(
    ("text", "action", "expected"), [c[1:] for c in OPTION_CASES], ids=[c[0] for c in OPTION_CASES]
)
def test_option_fields(text: str, action: str, expected: dict[str, Any]) -> None:
    call = gather_call(HEAD + text)
    assert call.last.commands[-1].action == action
    assert body(call) == expected


def test_initial_timeout_is_only_sent_on_plain_gather() -> None:
    # The linter refuses this flow; the compiler still never sends a field Telnyx does not take.
    call = gather_call(
        HEAD + '    gather digits 6 initial_timeout 3s:\n        say "Enter it."\n'
        '        on digits: log "x"\n',
        checked=False,
    )
    assert call.last.commands[-1].action == "gather_using_speak"
    assert body(call) == {
        "payload": "Enter it.", "voice": VOICE, "language": "en-US",
        "minimum_digits": 6, "maximum_digits": 6, "maximum_tries": 1,
    }


@pytest.mark.parametrize(
    ("entry", "log"),
    [("1", "sales"), ("22", "support")],
    ids=["first-branch", "second-value-of-a-branch"],
)
def test_valid_entry_runs_the_matching_branch(entry: str, log: str) -> None:
    call = gather_call()
    out = call.press(entry)
    assert [line.text for line in out.logs][0] == log
    assert call.state["vars"]["digits"] == entry


def test_branch_continues_after_the_gather_unless_it_jumped() -> None:
    call = gather_call()
    out = call.press("1")
    assert [line.text for line in out.logs] == ["sales", "after"]
    call = gather_call()
    out = call.press("2")
    assert [line.text for line in out.logs] == ["support", "in support"]
    assert out.step == "support"


def test_first_exact_match_wins_over_later_branches_and_catch_all() -> None:
    call = gather_call(
        HEAD + '    gather:\n        on digits "1": log "first"\n'
        '        on digits "1": log "second"\n        on digits: log "any"\n'
    )
    assert [line.text for line in call.press("1").logs] == ["first"]
    call = gather_call(
        HEAD + '    gather:\n        on digits "1": log "first"\n'
        '        on digits: log "any {digits}"\n'
    )
    assert [line.text for line in call.press("7").logs] == ["any 7"]


def reprompted_try(call: Call) -> Any:
    """The command of the next try, passing through the reprompt's speak when there is one."""
    if call.last.waiting == "speak":
        call.complete()
    return call.last.commands[-1]


@pytest.mark.parametrize(
    ("status", "digits", "handler"),
    [("timeout", "", "timeout handler"), ("invalid", "9", "invalid handler"),
     ("valid", "3", "invalid handler")],
    ids=["timeouts", "invalid-entries", "valid-but-unmatched"],
)
def test_tries_then_the_last_outcome_handler(status: str, digits: str, handler: str) -> None:
    call = gather_call()
    first = call.last.commands[-1]
    for _ in range(2):
        out = call.press(digits, status)
        assert [c.action for c in out.commands] == ["gather_using_speak"]
        assert out.commands[0].body["payload"] == (
            "Sorry, I didn't catch that. For sales press 1. For support press 2."
        )
        assert out.commands[0].body["client_state"] != first.body["client_state"]
    out = call.press(digits, status)
    assert [line.text for line in out.logs] == [handler, "after"]


def test_the_last_try_decides_between_invalid_and_timeout() -> None:
    call = gather_call()
    call.press("9", "invalid")
    call.press("", "timeout")
    assert [line.text for line in call.press("", "timeout").logs][0] == "timeout handler"
    call = gather_call()
    call.press("", "timeout")
    call.press("", "timeout")
    assert [line.text for line in call.press("5", "invalid").logs][0] == "invalid handler"


def test_a_later_try_can_still_succeed() -> None:
    call = gather_call()
    call.press("", "timeout")
    assert [line.text for line in call.press("1").logs] == ["sales", "after"]


def test_missing_handler_continues_after_the_gather() -> None:
    call = gather_call(
        HEAD + '    gather tries 1:\n        on digits "1": log "one"\n    log "after"\n'
    )
    assert [line.text for line in call.press("", "timeout").logs] == ["after"]


def test_tries_default_to_three() -> None:
    call = gather_call(HEAD + '    gather:\n        on digits "1": log "one"\n    log "after"\n')
    assert call.press("", "timeout").waiting == "gather"
    assert call.press("", "timeout").waiting == "gather"
    assert [line.text for line in call.press("", "timeout").logs] == ["after"]


@pytest.mark.parametrize(
    "prompt",
    ['        play "https://example.com/menu.mp3"\n', ""],
    ids=["play-prompt", "no-prompt"],
)
def test_reprompt_without_say_prompt_is_spoken_first_then_the_try(prompt: str) -> None:
    call = gather_call(
        HEAD + "    gather tries 2:\n" + prompt + '        reprompt "Once more."\n'
        '        on digits "1": log "one"\n'
    )
    first_action = call.last.commands[-1].action
    out = call.press("", "timeout")
    assert [c.action for c in out.commands] == ["speak"]
    assert without_correlation(out.commands[0].body) == {
        "payload": "Once more.", "voice": VOICE, "language": "en-US"
    }
    assert out.waiting == "speak"
    assert call.event("call.gather.ended", status="valid", digits="1").ignored
    out = call.complete()
    assert out.waiting == "gather"
    assert [c.action for c in out.commands] == [first_action]
    assert [line.text for line in call.press("1").logs] == ["one"]


def test_no_reprompt_on_the_first_try_and_none_without_reprompt() -> None:
    call = gather_call(HEAD + '    gather:\n        say "Menu."\n        on digits "1": log "x"\n')
    assert body(call)["payload"] == "Menu."
    call.press("", "timeout")
    assert body(call)["payload"] == "Menu."


def test_entry_goes_into_digits_and_into_without_the_terminator() -> None:
    call = gather_call(
        HEAD + '    gather digits 6 into account terminator "#":\n'
        '        on digits: log "{account}"\n'
    )
    out = call.press("123456#")
    assert [line.text for line in out.logs] == ["123456"]
    assert call.state["vars"]["account"] == "123456"
    assert call.state["vars"]["digits"] == "123456"


def test_timeout_leaves_digits_and_into_empty() -> None:
    call = gather_call(
        HEAD + '    gather tries 1 into pin:\n        on digits "1": log "x"\n'
        '        on timeout: log "[{pin}] [{digits}]"\n'
    )
    assert [line.text for line in call.press("1", "timeout").logs] == ["[] []"]


def test_caller_hangup_during_gather_ends_the_run() -> None:
    call = gather_call()
    out = call.press("", "call_hangup")
    assert out.end is not None and out.end.reason == "hangup"
    assert out.commands == ()


def test_cancelled_gather_counts_as_a_timed_out_try() -> None:
    call = gather_call(HEAD + '    gather tries 1:\n        on digits "1": log "x"\n'
                       '        on timeout: log "t"\n')
    assert [line.text for line in call.press("1", "cancelled").logs] == ["t"]


def test_stale_and_duplicate_gather_events_are_ignored() -> None:
    call = gather_call(MENU.replace('    log "after"\n', '    log "after"\n    say "Bye."\n'))
    stale = call.commands[-1].body["client_state"]
    call.press("", "timeout")
    current = call.commands[-1].body["client_state"]
    assert call.event("call.gather.ended", status="valid", digits="1", client_state=stale).ignored
    out = call.event("call.gather.ended", status="valid", digits="1", client_state=current)
    assert [line.text for line in out.logs] == ["sales", "after"]
    assert out.waiting == "speak"
    duplicate = call.event("call.gather.ended", status="valid", digits="1", client_state=current)
    assert duplicate.ignored
    assert duplicate.state == out.state
    assert duplicate.commands == ()


NO_TERMINATOR = HEAD + (
    "    gather terminator none:\n"
    '        say "Press pound one two for the operator, or one two pound for billing."\n'
    '        on digits "#12": log "operator"\n'
    '        on digits "12#": log "billing"\n'
    "        on invalid: hangup\n"
    "        on timeout: hangup\n"
)


def test_terminator_none_sends_an_empty_terminating_digit_and_hash_is_inferred_valid() -> None:
    call = gather_call(NO_TERMINATOR)
    sent = body(call)
    assert sent["terminating_digit"] == ""
    assert (sent["minimum_digits"], sent["maximum_digits"]) == (3, 3)
    assert sent["valid_digits"] == "12#"


@pytest.mark.parametrize(("entry", "said"), [("#12", "operator"), ("12#", "billing")])
def test_terminator_none_keeps_hash_in_the_entry(entry: str, said: str) -> None:
    call = gather_call(NO_TERMINATOR)
    out = call.event("call.gather.ended", digits=entry, status="valid")
    assert [line.text for line in out.logs] == [said]


# `try again` in an `on digits` handler: the entry is refused, and the try counts as invalid.
PIN = HEAD + (
    "    gather digits 4 into pin tries 3:\n"
    '        say "Enter your PIN."\n'
    '        reprompt invalid "That PIN is not right."\n'
    '        reprompt timeout "Are you there?"\n'
    "        on digits:\n"
    '            if pin != "4321":\n'
    '                say "Checking."\n'
    "                try again\n"
    '            log "right PIN"\n'
    '        on invalid: log "invalid handler"\n'
    '        on timeout: log "timeout handler"\n'
    '    log "after"\n'
)


def test_try_again_asks_again_with_the_invalid_reprompt_and_counts_the_try() -> None:
    call = gather_call(PIN)
    call.press("1111")
    call.settle()  # the handler's `say`, then `try again`
    assert call.last.waiting == "gather"
    assert body(call)["payload"] == "That PIN is not right. Enter your PIN."
    call.press("", status="timeout")
    assert body(call)["payload"] == "Are you there? Enter your PIN."
    call.press("4321")
    assert call.logs == ["right PIN", "after"]
    assert call.last.end is not None


def test_try_again_on_the_last_try_runs_on_invalid() -> None:
    call = gather_call(PIN)
    for entry in ("1111", "2222", "3333"):
        call.press(entry)
        call.settle()
    assert call.logs == ["invalid handler", "after"]
    gathers = [c for c in call.commands if c.action == "gather_using_speak"]
    assert len(gathers) == 3


def test_try_again_without_on_invalid_goes_on_after_the_gather() -> None:
    flow = PIN.replace('        on invalid: log "invalid handler"\n', "")
    call = gather_call(flow)
    for entry in ("1111", "2222", "3333"):
        call.press(entry)
        call.settle()
    assert call.logs == ["after"]


def test_the_try_count_survives_a_wait_inside_the_handler() -> None:
    # The state is stored between webhooks: the try the entry was taken on goes with it.
    call = gather_call(PIN.replace("tries 3", "tries 2"))
    call.press("1111")
    assert call.last.waiting == "speak"  # "Checking.", between the entry and `try again`
    assert call.state["tries"] == {"6": 1}
    call.settle()
    call.press("2222")
    call.settle()
    assert call.logs == ["invalid handler", "after"]


def test_try_again_refers_to_its_own_gather_when_gathers_nest() -> None:
    flow = HEAD + (
        "    gather digits 1 tries 2:\n"
        '        say "Press 1 to enter a code."\n'
        '        on digits "1":\n'
        "            gather digits 2 into code tries 2:\n"
        '                say "Enter the code."\n'
        '                on digits: log "code {code}"\n'
        '                on invalid: log "no code"\n'
        '            if code != "42":\n'
        "                try again\n"
        '            log "opened"\n'
        '        on invalid: log "outer invalid"\n'
    )
    call = gather_call(flow)
    call.press("1")
    call.press("17")
    assert call.logs == ["code 17"]
    assert call.last.waiting == "gather"
    assert "Press 1" in body(call)["payload"]  # the outer gather asks again: its try 2
    call.press("1")
    call.press("42")
    assert call.logs == ["code 17", "code 42", "opened"]


# A step that calls itself from a gather's handler runs the same gather again inside it.
RECURSIVE = HEAD + (
    "    call ask\n"
    "ask:\n"
    "    gather digits 1 tries 3:\n"
    '        say "Press 1 for more, 2 to go on."\n'
    '        reprompt invalid "No."\n'
    '        on digits "1":\n'
    "            call ask\n"
    "            try again\n"
    '        on digits "2": log "two"\n'
    '        on invalid: log "invalid handler"\n'
    "    return\n"
)


@given(st.integers(min_value=0, max_value=2))
def test_try_again_counts_the_tries_of_its_own_run_of_the_gather(wrong: int) -> None:
    # The inner run of the gather takes its entry on try `wrong + 1`; the outer run's entry
    # was taken on its try 1, so its `try again` asks its try 2, whatever the inner run used.
    call = gather_call(RECURSIVE)
    call.press("1")
    for _ in range(wrong):
        call.press("9")
    call.press("2")
    assert call.logs == ["two"]
    assert call.last.waiting == "gather"
    assert body(call)["payload"] == "No. Press 1 for more, 2 to go on."
    call.press("9")  # the outer run's try 3, its last
    assert call.last.waiting == "gather"
    call.press("9")
    assert call.logs == ["two", "invalid handler"]
