"""How a run meets the outside world: hangups at every wait, events that are not for it, the
statement guard, runtime errors, and the state it keeps between events."""

from __future__ import annotations

import json

import pytest

from flowlang.runtime.events import Event
from flowlang.runtime.interpreter import STATEMENT_LIMIT
from tests.runtime.calls import CALL_ID, Call

HEAD = 'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\nmain:\n    answer\n'

ON_HANGUP = '\non hangup:\n    set gone = true\n    log "caller left"\n'

# A flow that waits on each kind of thing, in order, and where it stands after `settle`.
EVERY_WAIT = HEAD + (
    '    set step_name = "main"\n'
    '    say "Hello."\n'
    '    play "https://example.com/a.mp3"\n'
    "    gather tries 2:\n"
    '        play "https://example.com/menu.mp3"\n'
    '        reprompt "Again."\n'
    '        on digits "1": log "one"\n'
    "    ai_gather into b:\n"
    '        field a string "A"\n'
    '    assistant id "assistant-1":\n        instructions "Help."\n'
) + ON_HANGUP


def advance_to(call: Call, waiting: str) -> None:
    """Drive the call until it waits for `waiting` (a reprompt speak counts as `reprompt`)."""
    call.start()
    steps = {
        "answer": lambda: call.complete(),
        "speak": lambda: call.complete(),
        "playback": lambda: call.complete(),
        "gather": lambda: call.press("", "timeout"),
        "ai_gather": lambda: call.event("call.ai_gather.ended", status="valid", result={}),
    }
    seen_gather = False
    while True:
        now = call.last.waiting
        if now == "speak" and seen_gather and waiting == "reprompt":
            return
        if now == waiting and not (waiting == "speak" and seen_gather):
            return
        seen_gather = seen_gather or now == "gather"
        steps[now]()


WAITS = ["answer", "speak", "playback", "gather", "reprompt", "ai_gather", "assistant"]


@pytest.mark.parametrize("waiting", WAITS, ids=WAITS)
def test_caller_hangup_at_every_wait_ends_the_run_and_runs_on_hangup(waiting: str) -> None:
    call = Call.of(EVERY_WAIT)
    advance_to(call, waiting)
    out = call.event("call.hangup", hangup_cause="normal_clearing")
    assert out.end is not None and out.end.reason == "hangup"
    assert out.commands == ()
    assert out.waiting is None
    assert [line.text for line in out.logs] == ["caller left"]
    assert out.state["vars"]["gone"] is True
    assert any(p.startswith("on:") for p in out.reached)
    assert call.event("call.hangup").ignored
    assert call.event("call.gather.ended", status="valid", digits="1").ignored


@pytest.mark.parametrize(
    ("waiting", "event"),
    [("speak", "call.speak.ended"), ("playback", "call.playback.ended")],
    ids=["speak", "playback"],
)
def test_a_command_ended_by_hangup_ends_the_run(waiting: str, event: str) -> None:
    call = Call.of(EVERY_WAIT)
    advance_to(call, waiting)
    out = call.event(event, status="call_hangup")
    assert out.end is not None and out.end.reason == "hangup"
    assert [line.text for line in out.logs] == ["caller left"]


def test_hangup_without_on_hangup_just_ends() -> None:
    call = Call.of(HEAD + '    say "Hi"\n')
    call.start()
    out = call.event("call.hangup", client_state=None)
    assert out.end is not None and out.end.reason == "hangup"
    assert out.logs == ()


def test_the_flows_own_hangup_does_not_run_on_hangup() -> None:
    call = Call.of(HEAD + "    hangup\n" + '\non hangup:\n    log "x"\n')
    call.start()
    out = call.complete()
    assert out.end is not None and out.end.reason == "hangup"
    assert out.logs == ()


IGNORED = [
    ("wrong type", "call.playback.ended", {"status": "completed"}),
    ("speak started", "call.speak.started", {}),
    ("unknown type", "call.recording.saved", {}),
    ("no client_state", "call.speak.ended", {"client_state": None}),
    ("garbage client_state", "call.speak.ended", {"client_state": "%%%"}),
    ("another app's client_state", "call.speak.ended", {"client_state": "eyJhIjoxfQ=="}),
    ("another call", "call.speak.ended", {"call_control_id": "v3:someone-else"}),
    ("another call's hangup", "call.hangup", {"call_control_id": "v3:someone-else"}),
]


@pytest.mark.parametrize(
    ("type_", "payload"), [c[1:] for c in IGNORED], ids=[c[0] for c in IGNORED]
)
def test_events_not_for_this_wait_are_ignored(type_: str, payload: dict) -> None:
    call = Call.of(HEAD + '    say "Hi"\n    say "Bye"\n')
    call.start()
    call.complete()
    before = json.dumps(call.state, sort_keys=True)
    out = call.event(type_, **payload)
    assert out.ignored
    assert out.commands == ()
    assert json.dumps(out.state, sort_keys=True) == before
    assert out.waiting == "speak"


def test_a_stale_event_from_an_earlier_command_is_ignored() -> None:
    call = Call.of(HEAD + '    say "Hi"\n    say "Bye"\n')
    call.start()
    answered = call.commands[0].body["client_state"]
    call.complete()
    call.complete()
    assert call.event("call.speak.ended", status="completed", client_state=answered).ignored
    assert call.event("call.answered", client_state=answered).ignored


def test_a_state_from_another_program_is_refused() -> None:
    a = Call.of(HEAD + '    say "Hi"\n')
    b = Call.of(HEAD + '    say "Hello"\n')
    a.start()
    out = b.interpreter.handle(a.state, Event("call.answered", {"client_state": "x"}))
    assert out.ignored
    assert out.commands == ()
    assert out.logs[0].level == "warning"
    assert "different version of the flow" in out.logs[0].text


@pytest.mark.parametrize(
    "state",
    [{}, {"v": 1}, {"v": 1, "frames": "x", "vars": {}}, {"v": 99}],
    ids=["empty", "no-frames", "bad-frames", "future-version"],
)
def test_a_damaged_state_is_refused_not_raised(state: dict) -> None:
    call = Call.of(HEAD + '    say "Hi"\n')
    out = call.interpreter.handle(state, Event("call.answered", {}))
    assert out.ignored
    assert out.logs and out.logs[0].level == "warning"


def test_a_state_with_the_right_digest_but_missing_parts_is_refused() -> None:
    call = Call.of(HEAD + '    say "Hi"\n')
    call.start()
    damaged = dict(call.state, call={}, step=None)
    out = call.interpreter.handle(damaged, Event("call.answered", {}))
    assert out.ignored
    assert out.logs[0].level == "warning"


def test_a_state_pointing_nowhere_ends_in_an_error_not_a_crash() -> None:
    call = Call.of(HEAD + '    say "Hi"\n')
    call.start()
    lost = dict(call.state, frames=[[999, 0]])
    out = call.interpreter.handle(lost, Event("call.answered", {
        "client_state": call.commands[-1].body["client_state"]}))
    assert out.end is not None and out.end.reason == "error"
    assert [c.action for c in out.commands] == ["hangup"]


def test_statement_guard_stops_a_loop_and_hangs_up() -> None:
    # The loop has a way out the linter cannot rule out, so only the guard can stop it.
    call = Call.of(
        HEAD + '    say "Hi"\n    goto spin\nspin:\n    if caller == "nobody":\n        hangup\n'
        "    goto spin\n"
    )
    call.start()
    call.complete()
    out = call.complete()
    assert [c.action for c in out.commands] == ["hangup"]
    assert out.end is not None and out.end.reason == "error"
    assert f"{STATEMENT_LIMIT:,} statements" in (out.end.message or "")
    assert out.end.line in (9, 10, 11)


def test_statement_guard_allows_long_runs_that_wait() -> None:
    # 600 gather tries on one call: each try suspends, so the guard never trips.
    call = Call.of(HEAD + "    goto ask\nask:\n    gather tries 1:\n"
                   '        on digits "1": log "x"\n    goto ask\n')
    call.start()
    call.settle()
    for _ in range(600):
        out = call.press("", "timeout")
        assert out.end is None and out.waiting == "gather"
    assert len(json.dumps(out.state)) < 2048


def test_a_comparison_of_text_with_a_number_is_false_and_the_call_goes_on() -> None:
    call = Call.of(
        HEAD + '    say "Hi"\n    set word = "abc"\n    if word < 3:\n        log "x"\n'
        '    else:\n        log "not smaller"\n'
    )
    call.start()
    call.complete()
    out = call.complete()
    assert [line.text for line in out.logs] == ["not smaller"]
    assert out.end is not None and out.end.reason == "completed"


def test_runtime_error_hangs_up_and_reports_the_line() -> None:
    # The one error a flow the linter accepts can still meet: a loop that never waits.
    call = Call.of(
        HEAD + '    say "Hi"\n    goto spin\nspin:\n    if caller == "nobody":\n'
        '        say "never"\n    goto spin\n'
    )
    call.start()
    call.complete()
    out = call.complete()
    assert [c.action for c in out.commands] == ["hangup"]
    assert out.end is not None and out.end.reason == "error"
    assert out.end.line == 11
    assert "1,000 statements" in (out.end.message or "")


def test_coverage_points_and_reached() -> None:
    call = Call.of(
        HEAD + "    gather tries 1:\n"
        '        on digits "1": goto two\n'
        '        on timeout: log "t"\n'
        "two:\n"
        '    if caller == "+15550001111":\n        log "me"\n    else:\n        log "other"\n'
        + '\non hangup:\n    log "bye"\n'
    )
    assert call.program.coverage_points() == (
        "step:main", "on:7", "on:8", "step:two", "if:10", "else:12", "on:15",
    )
    call.start()
    call.settle()
    call.press("1")
    assert call.reached == ["step:main", "on:7", "step:two", "if:10"]
    assert call.last.end is not None and call.last.end.reason == "completed"


def test_suspended_state_is_plain_json_and_small() -> None:
    call = Call.of(EVERY_WAIT)
    call.start()
    assert json.loads(json.dumps(call.state)) == call.state
    assert call.state["call"]["id"] == CALL_ID
    assert call.state["program"] == call.program.digest


def test_counting_down_and_comparing_text_of_digits() -> None:
    call = Call.of(
        HEAD + '    set left = "3"\n    set left = left - 1\n    set more = left + "0040"\n'
        '    if left >= 2 and more > 41 and not (left < "x"):\n        log "{left} {more}"\n'
    )
    call.start()
    out = call.complete()
    assert [line.text for line in out.logs] == ["2 42"]


def test_adding_text_that_is_not_a_number_counts_it_as_zero_with_a_warning() -> None:
    call = Call.of(HEAD + '    set total = "abc" + 2\n    log "{total}"\n')
    call.start()
    out = call.complete()
    assert [(line.level, line.text) for line in out.logs] == [
        ("warning", "'abc' is not a whole number, so it counted as 0"),
        ("info", "2"),
    ]
