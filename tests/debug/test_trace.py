"""The interpreter's optional trace: where the run was before each statement, at no other cost."""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from flowlang.compiler import build_program
from flowlang.runtime.events import CallInfo, Event
from flowlang.runtime.interpreter import Interpreter
from flowlang.runtime.state import client_state
from flowlang.runtime.trace import TracePoint
from flowlang.source import Source
from flowlang.syntax.nodes import Flow
from flowlang.syntax.parser import parse
from tests.runtime.test_properties import (
    SETTINGS,
    caller_event,
    comparable,
    latest_client_state,
    program_of,
)
from tests.sim.helpers import VOICE, flow, program
from tests.strategies import flows

CALL = CallInfo("v3:trace-call", "+15550001111", "+15550002222")

CALLS = VOICE + flow(
    """\
    main:
        answer
        set n = 1
        call greet
        set n = 3
        hangup

    greet:
        set n = 2
        say "Hello {n}."
        return
    """
)


def test_without_trace_an_outcome_has_none() -> None:
    outcome = Interpreter(program(CALLS)).start(CALL)
    assert outcome.trace == ()


def test_the_trace_lists_each_statement_run_with_its_line_and_step() -> None:
    outcome = Interpreter(program(CALLS), trace=True).start(CALL)
    assert [(p.line, p.step) for p in outcome.trace] == [(3, "main")]
    assert outcome.waiting == "answer"
    resumed = Interpreter(program(CALLS), trace=True).handle(outcome.state, answered())
    assert [(p.line, p.step) for p in resumed.trace] == [
        (4, "main"), (5, "main"), (10, "greet"), (11, "greet"),
    ]
    assert resumed.waiting == "speak"


def answered() -> Event:
    return Event("call.answered", {"call_control_id": CALL.call_control_id,
                                   "client_state": client_state(1)})


def after_answer() -> tuple[TracePoint, ...]:
    interpreter = Interpreter(program(CALLS), trace=True)
    return interpreter.handle(interpreter.start(CALL).state, answered()).trace


def test_each_point_keeps_the_variables_of_its_moment() -> None:
    assert [p.vars.get("n") for p in after_answer()] == [None, 1, 1, 2]


def test_a_point_inside_a_call_names_the_call_and_its_line() -> None:
    assert [p.calls for p in after_answer()] == [(), (), (("main", 5),), (("main", 5),)]


def test_a_point_counts_the_commands_sent_before_it() -> None:
    text = VOICE + 'main:\n    answer\n    say "Hi."\n'
    started = Interpreter(program(text), trace=True).start(CALL)
    assert [(p.line, p.sent) for p in started.trace] == [(3, 0)]
    resumed = Interpreter(program(text), trace=True).handle(started.state, answered())
    assert [(p.line, p.sent) for p in resumed.trace] == [(4, 0)]
    assert [c.action for c in resumed.commands] == ["speak"]


def test_after_the_caller_hung_up_only_what_runs_is_traced() -> None:
    text = VOICE + flow(
        """\
        main:
            answer
            say "Hi."

        on hangup:
            say "Never heard."
            log "gone"
        """
    )
    # `check` refuses a `say` there; built without it, the run still skips it.
    compiled = build_program(parse(text, "test.flow"), Source("test.flow", text))
    interpreter = Interpreter(compiled, trace=True)
    started = interpreter.start(CALL)
    gone = interpreter.handle(started.state, Event("call.hangup", {
        "call_control_id": CALL.call_control_id, "hangup_cause": "normal_clearing"}))
    assert [p.line for p in gone.trace] == [8]


@SETTINGS
@given(flow=flows(runnable=True), data=st.data())
def test_tracing_changes_nothing_but_the_trace(flow: Flow, data: st.DataObject) -> None:
    compiled = program_of(flow)
    lines = {op.line for block in compiled.blocks for op in block.ops}
    plain, traced = Interpreter(compiled), Interpreter(compiled, trace=True)
    a, b = plain.start(CALL), traced.start(CALL)
    state = latest_client_state(a, None)
    for _ in range(20):
        assert comparable(attrs.evolve(b, trace=())) == comparable(a)
        assert {p.line for p in b.trace} <= lines
        if a.end is not None:
            break
        event = caller_event(data, a, state)
        a, b = plain.handle(a.state, event), traced.handle(b.state, event)
        state = latest_client_state(a, state)
