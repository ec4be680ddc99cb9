"""Properties of the interpreter over random flows and random callers (hypothesis).

(a) a state that went through JSON, handed to a fresh interpreter of a freshly compiled program,
    resumes exactly as the untouched state does, at every suspension point;
(b) no sequence of events, however wrong, makes the interpreter raise, emit a body Telnyx would
    refuse, or change anything when it ignores an event; an ended run ignores everything.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowlang.compiler import build_program
from flowlang.program import Program
from flowlang.runtime.events import CallInfo, Event
from flowlang.runtime.interpreter import Interpreter
from flowlang.runtime.outcome import Outcome
from flowlang.runtime.state import leg_client_state
from flowlang.source import Source
from flowlang.syntax.nodes import Flow
from tests.openapi import validate_command
from tests.strategies import flows

CALL = CallInfo("v3:property-call", "+15550001111", "+15550002222")
KEYS = "0123456789*#"
MAX_STATE_BYTES = 2048

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def program_of(flow: Flow) -> Program:
    # The tree stands for its own source: the digest only has to be the same for the same flow.
    return build_program(flow, Source("random.flow", repr(flow)))


def caller_event(data: st.DataObject, outcome: Outcome, client_state: str | None) -> Event:
    """What a plausible caller and Telnyx do next, given what the run waits for."""
    base: dict[str, Any] = {"call_control_id": CALL.call_control_id}
    if client_state is not None:
        base["client_state"] = client_state
    if data.draw(st.integers(0, 19)) == 0:
        return Event("call.hangup", {**base, "hangup_cause": "normal_clearing"})
    waiting = outcome.waiting
    if waiting == "answer":
        return Event("call.answered", base)
    if waiting == "speak":
        return Event("call.speak.ended", {**base, "status": "completed"})
    if waiting == "playback":
        return Event("call.playback.ended", {**base, "status": "completed"})
    if waiting == "gather":
        status = data.draw(st.sampled_from(["valid", "valid", "invalid", "timeout", "call_hangup"]))
        digits = data.draw(st.text(st.sampled_from(KEYS), max_size=3))
        return Event("call.gather.ended", {**base, "status": status, "digits": digits})
    if waiting == "ai_gather":
        choice = data.draw(st.sampled_from(["valid", "invalid", "key", "partial"]))
        if choice == "key":
            return Event("call.dtmf.received", {**base, "digit": data.draw(st.sampled_from(KEYS))})
        if choice == "partial":
            return Event("call.ai_gather.partial_results", {**base, "partial_results": {"a": 1}})
        result = data.draw(st.dictionaries(st.sampled_from("abc"), st.integers(0, 9), max_size=2))
        return Event("call.ai_gather.ended", {**base, "status": choice, "result": result})
    if waiting == "record":
        choice = data.draw(st.sampled_from(["saved", "saved", "error", "key"]))
        if choice == "key":
            return Event("call.dtmf.received", {**base, "digit": data.draw(st.sampled_from(KEYS))})
        if choice == "error":
            return Event("call.recording.error", {**base, "reason": "Internal server error"})
        urls = {"mp3": "https://r.example/a.mp3"}
        return Event("call.recording.saved", {**base, "recording_urls": urls,
                                              "recording_started_at": "2026-01-01T12:00:00Z",
                                              "recording_ended_at": "2026-01-01T12:00:09Z"})
    if waiting == "transfer":
        seq = outcome.state["seq"]
        leg = {"call_control_id": "v3:new-leg",
               "client_state": leg_client_state(CALL.call_control_id, seq)}
        cause = data.draw(st.sampled_from(["answered", "timeout", "user_busy", "call_rejected"]))
        if cause == "answered":
            return Event("call.answered", leg)
        return Event("call.hangup", {**leg, "hangup_cause": cause})
    if waiting == "queue":
        reason = data.draw(st.sampled_from(["bridged", "timeout", "leave", "hangup"]))
        return Event("call.dequeued", {**base, "reason": reason})
    if data.draw(st.booleans()):
        return Event("call.dtmf.received", {**base, "digit": data.draw(st.sampled_from(KEYS))})
    return Event("call.conversation.ended", base)


def latest_client_state(outcome: Outcome, previous: str | None) -> str | None:
    calls = [c for c in outcome.commands if not c.is_message]
    return calls[-1].body["client_state"] if calls else previous


def comparable(outcome: Outcome) -> tuple[Any, ...]:
    return (
        [c.to_json() for c in outcome.commands],
        outcome.end,
        outcome.ignored,
        outcome.waiting,
        outcome.step,
        outcome.logs,
        outcome.reached,
        json.dumps(outcome.state, sort_keys=True),
    )


@SETTINGS
@given(flow=flows(runnable=True), data=st.data())
def test_state_survives_json_and_a_fresh_process(flow: Flow, data: st.DataObject) -> None:
    here = Interpreter(program_of(flow))
    elsewhere = Interpreter(program_of(flow))
    a = here.start(CALL)
    b = elsewhere.start(CALL)
    assert comparable(a) == comparable(b)
    client_state = latest_client_state(a, None)
    for _ in range(25):
        if a.end is not None:
            break
        assert len(json.dumps(a.state)) < MAX_STATE_BYTES
        event = caller_event(data, a, client_state)
        stored = json.loads(json.dumps(a.state))
        a = here.handle(a.state, event)
        b = elsewhere.handle(stored, event)
        assert comparable(a) == comparable(b)
        client_state = latest_client_state(a, client_state)


EVENT_TYPES = [
    "call.answered",
    "call.hangup",
    "call.speak.started",
    "call.speak.ended",
    "call.playback.started",
    "call.playback.ended",
    "call.gather.ended",
    "call.dtmf.received",
    "call.ai_gather.ended",
    "call.ai_gather.partial_results",
    "call.ai_gather.message_history_updated",
    "call.conversation.ended",
    "call.bridged",
    "call.recording.saved",
    "call.recording.error",
    "call.dequeued",
    "call.answered",
    "no.such.event",
    # What a driver feeds back itself: a fetch's answer, a wait run out, a conversation's id.
    "flowlang.fetch.ended",
    "flowlang.wait.expired",
    "flowlang.conversation.started",
]
STATUSES = [
    "valid", "invalid", "timeout", "call_hangup", "cancelled", "completed", "failed", "", None, 7,
]


def foreign_state(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


CLIENT_STATES = ["latest", "latest", "latest", "earlier", "none", "junk", "other app",
                 "wrong type", "bool", "leg"]

# One event's recipe, drawn from a strategy built once (building strategies per draw is slow):
# the client_state is chosen by kind and resolved against the commands sent so far.
event_recipes = st.fixed_dictionaries(
    {
        "type": st.sampled_from(EVENT_TYPES + ["expected"] * len(EVENT_TYPES)),
        "client_state": st.sampled_from(CLIENT_STATES),
        "pick": st.integers(0, 10_000),
        "junk": st.text(max_size=8),
        "call_control_id": st.sampled_from([CALL.call_control_id] * 2 + ["v3:another-call"]),
    },
    optional={
        "status": st.sampled_from(STATUSES),
        "digits": st.one_of(st.text(st.sampled_from(KEYS), max_size=4), st.none()),
        "digit": st.one_of(st.sampled_from(KEYS), st.integers()),
        "reason": st.sampled_from(["bridged", "timeout", "leave", "hangup", "bridging-in-process",
                                   7, None]),
        "hangup_cause": st.sampled_from(["timeout", "user_busy", "call_rejected", "no_answer",
                                         None, 3]),
        "recording_urls": st.one_of(st.none(), st.just({"mp3": "https://r.example/a.mp3"}),
                                    st.integers()),
        "recording_started_at": st.sampled_from(["2026-01-01T12:00:00Z", "bad", None]),
        "recording_ended_at": st.sampled_from(["2026-01-01T12:00:42.5Z", "", None]),
        "conversation_id": st.sampled_from(["conv-1", "conv-2", "", None, 5]),
        "result": st.one_of(
            st.none(),
            st.integers(),
            st.dictionaries(st.sampled_from("ab"), st.one_of(st.integers(), st.text(max_size=3)),
                            max_size=2),
        ),
    },
)


# The event that would resume each kind of wait, so random runs also get deep into a flow.
EXPECTED = {
    "answer": ["call.answered"],
    "speak": ["call.speak.ended"],
    "playback": ["call.playback.ended"],
    "gather": ["call.gather.ended"],
    "ai_gather": ["call.ai_gather.ended", "call.dtmf.received", "call.ai_gather.partial_results"],
    "assistant": ["call.conversation.ended", "call.dtmf.received",
                  "flowlang.conversation.started"],
    "record": ["call.recording.saved", "call.recording.error", "call.dtmf.received",
               "call.hangup", "flowlang.wait.expired"],
    "transfer": ["call.answered", "call.hangup", "call.bridged"],
    "queue": ["call.dequeued"],
}


def event_from(recipe: dict[str, Any], sent: list[str], waiting: str | None) -> Event:
    if recipe["type"] == "expected":
        choices = EXPECTED.get(waiting or "", ["call.hangup"])
        recipe["type"] = choices[recipe["pick"] % len(choices)]
    kind = recipe.pop("client_state")
    pick = recipe.pop("pick")
    junk = recipe.pop("junk")
    payload: dict[str, Any] = dict(recipe)
    del payload["type"]
    if sent and kind == "latest":
        payload["client_state"] = sent[-1]
    elif sent and kind == "earlier":
        payload["client_state"] = sent[pick % len(sent)]
    elif kind == "junk":
        payload["client_state"] = junk
    elif kind == "other app":
        payload["client_state"] = foreign_state('{"a":1}')
    elif kind == "wrong type":
        payload["client_state"] = pick
    elif kind == "bool":
        payload["client_state"] = foreign_state('{"flowlang": true}')
    elif kind == "leg":
        # The new leg of a transfer: its own call id, and the state naming the original call.
        payload["client_state"] = leg_client_state(CALL.call_control_id, len(sent))
        payload["call_control_id"] = "v3:the-new-leg"
    return Event(recipe["type"], payload)


# Small hand-written flows that wait on every kind of thing, for many cheap random event runs.
HEAD = 'voice "Telnyx.KokoroTTS.af"\nlanguage "en-US"\n\nmain:\n    answer\n'
FIXED = {
    "menu": HEAD + (
        "    gather tries 2 into d:\n"
        '        play "https://example.com/m.mp3"\n'
        '        reprompt "Again {digits}."\n'
        '        on digits "1", "22": goto ai\n'
        '        on digits: say "You pressed {digits}."\n'
        '        on invalid: say "No."\n'
        '        on timeout: goto menu2\n'
        '    say "Bye."\n'
        "menu2:\n"
        "    gather:\n"
        '        say "Press 1."\n'
        '        on digits "1": goto ai\n'
        "ai:\n"
        "    ai_gather into b:\n"
        '        field n integer "N"\n'
        '        on valid:\n'
        '            if b.n > 3:\n'
        '                say "Big {b.n}."\n'
        '        on key "0": goto helper\n'
        "helper:\n"
        '    assistant id "assistant-1":\n'
        '        instructions "Help."\n'
        '        message system "caller is {caller}"\n'
        '        on key "*": transfer "+13125550001"\n'
        '    play media "bye"\n'
        '\non hangup:\n    log "gone"\n'
    ),
    "section14": HEAD + (
        '    record into m max 1m end_key "#":\n'
        '        on saved: sms "+13125550100" "New message {m.url} ({m.duration}s)"\n'
        '        on error: log "failed"\n'
        '    transfer "+13125550001" timeout 20s:\n'
        '        on no_answer: say "Nobody answered."\n'
        '        on busy: goto queued\n'
        '    say "Still here."\n'
        "queued:\n"
        '    queue "support" max_wait 5m:\n'
        '        play "https://example.com/hold.mp3"\n'
        '        on timeout: say "Sorry."\n'
        '    record\n'
        '\non hangup:\n    sms "+13125550100" "Caller {caller} left"\n'
    ),
}
_compiled: dict[str, Program] = {}


def fixed_program(name: str) -> Program:
    if name not in _compiled:
        from flowlang.compiler import compile_source

        _compiled[name] = compile_source(Source(f"{name}.flow", FIXED[name]))
    return _compiled[name]


def check_random_events(interpreter: Interpreter, data: st.DataObject, count: int) -> None:
    outcome = interpreter.start(CALL)
    sent: list[str] = []
    ended = False
    for _ in range(count):
        for command in outcome.commands:
            validate_command(command.action, command.body)
            if not command.is_message:
                sent.append(command.body["client_state"])
        json.dumps(outcome.state)
        ended = ended or outcome.end is not None
        event = event_from(data.draw(event_recipes), sent, outcome.waiting)
        before = json.dumps(outcome.state, sort_keys=True)
        nxt = interpreter.handle(outcome.state, event)
        assert json.dumps(outcome.state, sort_keys=True) == before, "handle mutated its input"
        if ended:
            assert nxt.ignored
        if nxt.ignored:
            assert nxt.commands == ()
            assert json.dumps(nxt.state, sort_keys=True) == before
            continue
        outcome = nxt


@SETTINGS
@given(flow=flows(runnable=True), data=st.data())
def test_random_events_never_break_random_flows(flow: Flow, data: st.DataObject) -> None:
    check_random_events(Interpreter(program_of(flow)), data, 20)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(FIXED)), data=st.data())
def test_random_events_never_break_a_flow_with_every_wait(name: str, data: st.DataObject) -> None:
    check_random_events(Interpreter(fixed_program(name)), data, 40)
