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
from flowlang.nodes import Flow
from flowlang.program import Program
from flowlang.runtime.events import CallInfo, Event
from flowlang.runtime.interpreter import Interpreter
from flowlang.runtime.outcome import Outcome
from flowlang.source import Source
from tests.openapi import validate_command
from tests.strategies import flows

CALL = CallInfo("v3:property-call", "+15550001111", "+15550002222")
KEYS = "0123456789*#"
MAX_STATE_BYTES = 2048

SETTINGS = settings(
    max_examples=60,
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
    if data.draw(st.booleans()):
        return Event("call.dtmf.received", {**base, "digit": data.draw(st.sampled_from(KEYS))})
    return Event("call.conversation.ended", base)


def latest_client_state(outcome: Outcome, previous: str | None) -> str | None:
    return outcome.commands[-1].body["client_state"] if outcome.commands else previous


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
    "no.such.event",
]
STATUSES = [
    "valid", "invalid", "timeout", "call_hangup", "cancelled", "completed", "failed", "", None, 7,
]


def foreign_state(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


@st.composite
def random_events(draw: st.DrawFn, sent: list[str]) -> Event:
    kinds = ["none", "junk", "other app", "wrong type", "bool"]
    if sent:
        kinds += ["latest", "latest", "latest", "earlier"]
    kind = draw(st.sampled_from(kinds))
    payload: dict[str, Any] = {}
    if kind == "latest":
        payload["client_state"] = sent[-1]
    elif kind == "earlier":
        payload["client_state"] = draw(st.sampled_from(sent))
    elif kind == "junk":
        payload["client_state"] = draw(st.text(max_size=8))
    elif kind == "other app":
        payload["client_state"] = foreign_state(draw(st.sampled_from(['{"a":1}', "[1]", "hi"])))
    elif kind == "wrong type":
        payload["client_state"] = draw(st.integers())
    elif kind == "bool":
        payload["client_state"] = foreign_state('{"flowlang": true}')
    if draw(st.booleans()):
        payload["status"] = draw(st.sampled_from(STATUSES))
    if draw(st.booleans()):
        payload["digits"] = draw(st.one_of(st.text(st.sampled_from(KEYS), max_size=4), st.none()))
    if draw(st.booleans()):
        payload["digit"] = draw(st.one_of(st.sampled_from(KEYS), st.integers()))
    if draw(st.booleans()):
        payload["result"] = draw(st.one_of(st.none(), st.integers(), st.dictionaries(
            st.sampled_from("ab"), st.one_of(st.integers(), st.text(max_size=3)), max_size=2)))
    payload["call_control_id"] = draw(
        st.sampled_from([CALL.call_control_id, CALL.call_control_id, "v3:another-call"])
    )
    return Event(draw(st.sampled_from(EVENT_TYPES)), payload)


@SETTINGS
@given(flow=flows(runnable=True), data=st.data())
def test_random_events_never_break_the_run(flow: Flow, data: st.DataObject) -> None:
    interpreter = Interpreter(program_of(flow))
    outcome = interpreter.start(CALL)
    sent: list[str] = []
    ended = False
    for _ in range(30):
        for command in outcome.commands:
            validate_command(command.action, command.body)
            sent.append(command.body["client_state"])
        json.dumps(outcome.state)
        ended = ended or outcome.end is not None
        event = data.draw(random_events(sent))
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
