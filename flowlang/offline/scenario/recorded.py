"""A recorded call written as a scenario: its caller's behaviour, and what they heard, as a test."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flowlang.clock import UnknownZone, zone
from flowlang.offline.conversation import Line, conversation
from flowlang.offline.phone import (
    AiResult,
    CallerAction,
    ConversationEnds,
    Dequeued,
    Detected,
    FetchAnswer,
    Greeting,
    HangUp,
    KeyDuringAi,
    LegResult,
    Press,
    Recorded,
    RecordingLost,
    Silence,
)
from flowlang.offline.replay import RecordedCall, ReplayError, caller_actions
from flowlang.offline.scenario.run import run_scenario
from flowlang.offline.scenario.syntax import parse_scenarios
from flowlang.offline.simulator import InputError, simulate
from flowlang.program import Program
from flowlang.source import Source

_LEG_WORDS = {"answered": "answered", "no_answer": "no_answer", "busy": "busy", "failed": "fails"}


def quoted(text: str) -> str:
    """`text` as a scenario string, in double quotes."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def step_text(action: CallerAction) -> str:
    """The scenario step for `action` (the inverse of the scenario parser's reading)."""
    if isinstance(action, Press):
        return f"press {quoted(action.keys)}"
    if isinstance(action, Silence):
        return "silence"
    if isinstance(action, HangUp):
        return "hang up"
    if isinstance(action, AiResult):
        return f"ai {'returns' if action.valid else 'fails'} {_json(action.result)}"
    if isinstance(action, KeyDuringAi):
        return f"press key {quoted(action.key)}"
    if isinstance(action, Recorded):
        return f"recording saved {action.seconds}" if action.saved else "recording fails"
    if isinstance(action, RecordingLost):
        return "recording never arrives"
    if isinstance(action, LegResult):
        return f"transfer {_LEG_WORDS[action.result]}"
    if isinstance(action, Dequeued):
        return "agent answers" if action.reason == "bridged" else "queue times out"
    if isinstance(action, Detected):
        return f"detected {action.result}"
    if isinstance(action, Greeting):
        return "greeting beeps" if action.beep else "greeting ends"
    if isinstance(action, FetchAnswer):
        if action.result is None:
            return "backend fails"
        return f"backend returns {_json(action.result)}"
    assert isinstance(action, ConversationEnds)
    return "conversation ends"


def expectation(line: Line) -> str | None:
    """The `expect` that checks `line` of a call, or None for a line not worth checking (steps
    and logs are the flow's inner workings; the end is checked once, at the end)."""
    if line.kind == "ask" and line.text.startswith("ask with"):
        return f"expect play {quoted(line.value)}"
    if line.kind in ("say", "ask", "ai", "assistant") and line.value.strip():
        return f"expect say {quoted(line.value)}"
    if line.kind == "play" and line.value:
        return f"expect play {quoted(line.value)}"
    if line.kind == "transfer":
        return f"expect transfer {quoted(line.value)}"
    if line.kind in ("sms", "queue") and line.value:
        return f"expect {line.kind} {quoted(line.value)}"
    if line.kind == "record":
        return "expect record"
    if line.kind == "end":
        return f"expect end {line.value}"
    return None


def _moment(when: datetime | None, timezone: str) -> str | None:
    if when is None:
        return None
    try:
        local = when.astimezone(zone(timezone))
    except UnknownZone:
        local = when
    return local.isoformat(timespec="minutes")


def scenario_text(
    call: RecordedCall, program: Program | None = None, name: str | None = None
) -> str:
    """The scenario of `call` (named `name`, else after the call): who called when, what the
    caller did, and after each action what they would hear from `program` (default: the
    recorded version), checked against it (ReplayError if `flowlang test` would not pass it)."""
    program = program or call.program
    actions = caller_actions(call)
    summary = call.history.summary
    start = _moment(call.start.when, program.timezone)
    title = name or f"recorded call {summary.call_control_id} from {summary.caller}" + (
        f" at {start}" if start else ""
    )
    out = [f"scenario {quoted(title)}:"]
    if start:
        out.append(f"    at {quoted(start)}")
    out.append(f"    from {quoted(call.call.caller)}")
    out.append(f"    to {quoted(call.call.called)}")
    for key, value in (call.inputs or {}).items():
        out.append(f"    with {key} {quoted(str(value))}")
    try:
        transcript = simulate(program, actions, call.call.caller, call.call.called,
                              at=call.start.when, values=call.inputs)
    except InputError as exc:
        raise ReplayError(
            f"the caller's recorded behaviour does not fit this flow, so no scenario can replay"
            f" it: {exc}"
        ) from None
    lines = conversation(transcript, program)
    turn = 0
    for line in lines:
        while turn < line.turn:
            out.append(f"    {step_text(actions[turn])}")
            turn += 1
        expect = expectation(line)
        if expect is not None:
            out.append(f"    {expect}")
    text = "\n".join(out) + "\n"
    scenario = parse_scenarios(Source("recorded.scenarios", text)).scenarios[0]
    result = run_scenario(program, scenario)
    if not result.passed:
        raise ReplayError(
            f"the scenario written for this call does not pass on the flow: {result.problem}"
        )
    return text
