"""`call STEP` and `return` (LANGUAGE.md 15): where the run goes, what its stored state holds."""

from __future__ import annotations

import json

from flowlang.runtime.events import Event
from flowlang.runtime.state import CALL_DEPTH
from tests.runtime.calls import Call

HEAD = 'voice "Telnyx.KokoroTTS.af"\n\n'

PIN = HEAD + """main:
    answer
    call ask_pin
    say "Thank you, {pin}."
    call ask_pin
    say "Twice."
    hangup

ask_pin:
    gather digits 4 into pin:
        say "Please enter your PIN."
        on digits: return
        on invalid: goto sorry
        on timeout: goto sorry
    say "Not reached."

sorry:
    say "Sorry."
"""


def spoken(call: Call) -> list[str]:
    return [
        c.body["payload"]
        for c in call.commands
        if c.action in ("speak", "gather_using_speak")
    ]


def test_return_continues_after_the_call() -> None:
    call = Call.of(PIN)
    call.start()
    call.settle()
    call.press("1234")
    assert call.last.step == "main"
    call.settle()
    call.press("9876")
    call.settle()
    assert spoken(call) == [
        "Please enter your PIN.",
        "Thank you, 1234.",
        "Please enter your PIN.",
        "Twice.",
    ]
    assert call.last.end is not None and call.last.end.reason == "hangup"


def test_a_goto_inside_a_called_step_stays_inside_the_call() -> None:
    # `sorry` is reached by goto from the called step; its end returns to main.
    call = Call.of(PIN)
    call.start()
    call.settle()
    for _ in range(3):
        call.event("call.gather.ended", status="timeout", digits="")
    assert call.last.step == "sorry"
    call.settle()
    assert spoken(call)[-3:] == ["Sorry.", "Thank you, .", "Please enter your PIN."]
    assert [step for step, _ in call.state["calls"]] == ["main"]


def test_the_called_step_is_the_current_step_and_is_covered() -> None:
    call = Call.of(PIN)
    call.start()
    call.settle()
    assert call.last.step == "ask_pin"
    assert "step:ask_pin" in call.reached


NESTED = HEAD + """main:
    answer
    call outer
    say "Back in main."

outer:
    say "Outer starts."
    call inner
    say "Outer ends."

inner:
    say "Inner."
    if true:
        return
    say "Never."
"""


def test_calls_nest_and_each_return_goes_back_one_level() -> None:
    call = Call.of(NESTED)
    call.start()
    call.settle()
    assert spoken(call) == ["Outer starts.", "Inner.", "Outer ends.", "Back in main."]
    assert call.last.end is not None and call.last.end.reason == "completed"


def test_the_state_in_a_call_survives_json_and_another_interpreter() -> None:
    call = Call.of(NESTED)
    call.start()
    call.complete()  # answer
    call.complete()  # "Outer starts."
    assert call.last.waiting == "speak" and call.last.step == "inner"
    stored = json.loads(json.dumps(call.state))
    assert [step for step, _ in stored["calls"]] == ["main", "outer"]
    elsewhere = Call.of(NESTED)
    event = Event(
        "call.speak.ended",
        {"call_control_id": call.info.call_control_id, "client_state": call.client_state()},
    )
    here = call.interpreter.handle(call.state, event)
    there = elsewhere.interpreter.handle(stored, event)
    assert [c.body for c in here.commands] == [c.body for c in there.commands]
    assert here.state == there.state
    assert [c.body["payload"] for c in there.commands] == ["Outer ends."]


def test_a_state_written_before_calls_existed_still_resumes() -> None:
    call = Call.of(NESTED)
    call.start()
    old = dict(call.state)
    assert old.pop("calls") == []
    event = Event(
        "call.answered",
        {"call_control_id": call.info.call_control_id, "client_state": call.client_state()},
    )
    out = call.interpreter.handle(old, event)
    assert out.end is None and out.step == "outer"


def test_a_call_nested_too_deep_is_a_runtime_error_that_hangs_up() -> None:
    text = HEAD + """main:
    answer
    call again

again:
    say "Round {digits}."
    call again
"""
    call = Call.unchecked(text)
    call.start()
    call.settle()
    end = call.last.end
    assert end is not None and end.reason == "error"
    assert str(CALL_DEPTH) in end.message and "call again" in end.message
    assert end.line == 9
    assert call.commands[-1].action == "hangup"
    assert spoken(call).count("Round .") == CALL_DEPTH


def test_a_return_with_no_call_ends_the_flow() -> None:
    call = Call.unchecked(HEAD + "main:\n    answer\n    return\n    say \"Never.\"\n")
    call.start()
    call.settle()
    assert call.last.end is not None and call.last.end.reason == "completed"
    assert spoken(call) == []


def test_the_caller_hanging_up_inside_a_call_runs_on_hangup_and_clears_the_calls() -> None:
    call = Call.of(PIN + "\non hangup:\n    log \"gone in {digits}\"\n")
    call.start()
    call.settle()
    call.event("call.hangup", hangup_cause="normal_clearing")
    assert call.last.end is not None and call.last.end.reason == "hangup"
    assert call.logs[-1] == "gone in "
    assert call.state["calls"] == []
