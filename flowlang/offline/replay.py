"""A real call's recorded run, read back from the store, and replayed offline on its flow version.

`load_call(url, call_id)` reads what the server kept of a call (flowlang.serve.history) and
compiles the flow version it ran from the store's copy; `replay(call)` feeds its events to the
interpreter again and compares each step's commands with the recorded ones (a determinism check:
the interpreter is pure, so any difference is a bug, named by the event where the runs part).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from attrs import frozen

from flowlang.clock import parse_instant
from flowlang.offline.phone import (
    DEFAULT_RECORDING_SECS,
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
    Phone,
    Press,
    Recorded,
    RecordingLost,
    Silence,
)
from flowlang.offline.simulator import Heard, Simulation, Transcript
from flowlang.program import Program
from flowlang.runtime.commands import Command, FetchRequest
from flowlang.runtime.events import FETCH_ENDED, WAIT_EXPIRED, CallInfo, Event
from flowlang.runtime.outcome import Outcome
from flowlang.serve.history import (
    CallHistory,
    CallQuery,
    Entry,
    as_object,
    commands_json,
    local_time_from,
)


class ReplayError(Exception):
    """The call cannot be loaded or replayed; the message says why and what to do."""


@frozen
class RecordedStep:
    """One event the server applied to the call, and what the run did with it.

    `event` is as the interpreter was handed it (its `at` on the flow's clock, its payload's
    fields the interpreter reads); `leg` is True for an event of the new leg a transfer rang;
    `instant` the moment the flow's clock read (ISO text: Telnyx's `occurred_at`, else the
    arrival); `applied` the server's clock when it was applied (epoch seconds). `commands`,
    `fetch` and `end` (an END_REASONS word or None) are what the step did. `ignored`: the run
    did not wait for this event, which changed nothing (the server records it all the same)."""

    event: Event
    leg: bool
    instant: str | None
    applied: float
    commands: tuple[Command, ...]
    fetch: FetchRequest | None
    end: str | None
    ignored: bool = False

    @property
    def when(self) -> datetime | None:
        """`instant` as an aware datetime (None when not known)."""
        return parse_instant(self.instant)


@frozen
class RecordedCall:
    """A call as the store kept it, ready to replay.

    `program` is the flow version it ran (compiled from the store's copy, included files and
    catalogs as they were); `call` its CallInfo (numbers masked when the server ran with
    --redact; `at` when it started, on the flow's clock); `inputs` the values a placed call
    started with (`placed` True: `Interpreter.start(call, inputs)`); `start` the event that
    started it and what the start did; `events` every later event the server received, in
    order, and `steps` those that moved the run on (the ones it ignored left out).
    `history` is the store's raw record (the call's summary and its outbox rows)."""

    program: Program
    call: CallInfo
    inputs: dict[str, Any] | None
    placed: bool
    start: RecordedStep
    events: tuple[RecordedStep, ...]
    history: CallHistory

    @property
    def call_control_id(self) -> str:
        return self.call.call_control_id

    @property
    def steps(self) -> tuple[RecordedStep, ...]:
        return tuple(s for s in self.events if not s.ignored)

    def ignored(self) -> list[tuple[int, RecordedStep]]:
        """The events the run ignored, each with the number of `steps` applied before it."""
        found, applied = [], 0
        for step in self.events:
            if step.ignored:
                found.append((applied, step))
            else:
                applied += 1
        return found


def _step(entry: Entry, call_control_id: str) -> RecordedStep:
    data = entry.data
    raw = as_object(data.get("event"))
    # The call's own id is not kept on its own events (only on a transfer's new leg).
    payload = {"call_control_id": call_control_id, **as_object(raw.get("payload"))}
    event = Event(str(raw.get("type", "")), payload, raw.get("id"), local_time_from(data.get("at")))
    end = data.get("end")
    return RecordedStep(
        event,
        bool(raw.get("leg")),
        data.get("time"),
        entry.applied,
        entry.commands,
        entry.fetch,
        str(end) if end is not None else None,
        data.get("ignored") is True,
    )


# The payload fields worth showing beside an event's type, in this order.
SHOWN_FIELDS = ("status", "digits", "digit", "result", "reason", "hangup_cause")


def describe(step: RecordedStep) -> str:
    """A recorded event in a few words: its type, and the fields that say how it went."""
    event = step.event
    payload = event.payload if isinstance(event.payload, dict) else {}
    fields = [
        f"{name} {json.dumps(payload[name], ensure_ascii=False)}"
        for name in SHOWN_FIELDS
        if payload.get(name) not in (None, "")
    ]
    leg = " (the transferred-to number)" if step.leg else ""
    return f"{event.type}{leg}" + (f": {', '.join(fields)}" if fields else "")


def recorded_call(history: CallHistory, program: Program) -> RecordedCall:
    """The RecordedCall of `history`, run by `program` (the version named by its digest)."""
    first = history.entries[0]
    start = as_object(first.data.get("start"))
    steps = [_step(e, history.summary.call_control_id) for e in history.entries]
    info = CallInfo(
        history.summary.call_control_id,
        str(start.get("caller") or ""),
        str(start.get("called") or ""),
        at=steps[0].event.at,
    )
    inputs = start.get("inputs")
    return RecordedCall(
        program,
        info,
        inputs if isinstance(inputs, dict) else None,
        bool(start.get("placed")),
        steps[0],
        tuple(steps[1:]),
        history,
    )


async def read_call(store: Any, call_id: str) -> RecordedCall:
    """The call `call_id` (or the one call whose id starts with it) from an open store."""
    from flowlang.compiler import compile_source
    from flowlang.errors import FlowError
    from flowlang.source import Source

    if not call_id.strip():
        raise ReplayError("no call id given: give one (`flowlang calls` lists them)")
    history = await store.history(call_id)
    if history is None:
        found = await store.recent_calls(CallQuery(prefix=call_id, limit=2))
        if len(found) > 1:
            raise ReplayError(
                f"more than one call starts with {call_id!r}: give more of the id"
                " (`flowlang calls` lists them)"
            )
        if found:
            history = await store.history(found[0].call_control_id)
    if history is None:
        raise ReplayError(
            f"no call {call_id!r} in this store: `flowlang calls` lists the calls it keeps"
            " (finished calls are kept for `flowlang serve --retention`, 1h by default)"
        )
    digest = history.summary.digest
    saved = await store.load_flow(digest)
    if saved is None:
        raise ReplayError(f"the flow version {digest[:12]} this call ran is not in the store")
    try:
        program = compile_source(Source.from_stored(saved[0], saved[1]))
    except FlowError as exc:
        raise ReplayError(
            f"the stored flow version {digest[:12]} does not compile: {exc}"
        ) from None
    return recorded_call(history, program)


def load_call(url: str, call_id: str) -> RecordedCall:
    """The call `call_id` (or a unique prefix of it) from the store at `url`, with its flow
    version compiled; ReplayError (or StoreError) saying what is wrong."""
    from flowlang.serve.store import open_store

    async def go() -> RecordedCall:
        store = open_store(url, read_only=True)
        try:
            return await read_call(store, call_id)
        finally:
            await store.close()

    return asyncio.run(go())


# ---------------------------------------------------------------------------------------------
# Replay: the same events through the same version must give the same commands


@frozen
class Mismatch:
    """Where a replay parts from the recording: the `index`-th step (0 the start), the recorded
    and replayed commands (JSON data), backend request and end."""

    index: int
    step: RecordedStep
    recorded: dict[str, Any]
    replayed: dict[str, Any]


@frozen
class Replayed:
    """The result of `replay`: how many steps were compared and the first mismatch, if any."""

    steps: int
    mismatch: Mismatch | None

    @property
    def ok(self) -> bool:
        return self.mismatch is None


def _what(commands: tuple[Command, ...], fetch: FetchRequest | None, end: str | None
          ) -> dict[str, Any]:
    return {
        "commands": commands_json(commands),
        "fetch": fetch.to_row() if fetch is not None else None,
        "end": end,
    }


def _ignored() -> dict[str, Any]:
    return {"commands": [], "fetch": None, "end": None, "ignored": True}


def _recorded(step: RecordedStep) -> dict[str, Any]:
    return _ignored() if step.ignored else _what(step.commands, step.fetch, step.end)


def _did(outcome: Outcome) -> dict[str, Any]:
    end = outcome.end.reason if outcome.end is not None else None
    if outcome.ignored:
        return _ignored()
    # A run that ended makes no backend request (the server queues none).
    return _what(outcome.commands, outcome.fetch if end is None else None, end)


def replay(call: RecordedCall) -> Replayed:
    """Run the recorded events through the recorded version and compare every step; an event
    the run ignored must be ignored again (and the run goes on from where it was)."""
    from flowlang.runtime.interpreter import Interpreter

    interpreter = Interpreter(call.program)
    outcome = (
        interpreter.start(call.call, call.inputs or {})
        if call.placed
        else interpreter.start(call.call)
    )
    all_steps = (call.start, *call.events)
    for index, step in enumerate(all_steps):
        now = outcome if not index else interpreter.handle(outcome.state, step.event)
        recorded = _recorded(step)
        replayed = _did(now)
        if replayed != recorded:
            return Replayed(index + 1, Mismatch(index, step, recorded, replayed))
        if not now.ignored:
            outcome = now
    return Replayed(len(all_steps), None)


# ---------------------------------------------------------------------------------------------
# What the caller (and Telnyx, and the backend) did: the events as simulator actions

# A new leg's hangup_cause -> what the transfer's number did (the interpreter's reading).
_LEG_RESULTS = {"timeout": "no_answer", "no_answer": "no_answer", "originator_cancel": "no_answer",
                "user_busy": "busy"}


def action_of(step: RecordedStep) -> CallerAction | None:
    """What the caller (or Telnyx, or the backend) did that `step`'s event reports, as the
    simulator's action; None for an event the phone model makes by itself (a speech ended, a
    call answered) or that only follows another action (a gather ended by the hangup)."""
    kind, payload = step.event.type, step.event.payload
    status = payload.get("status")
    if step.leg:
        if kind == "call.answered":
            return LegResult("answered")
        if kind == "call.hangup":
            return LegResult(_LEG_RESULTS.get(str(payload.get("hangup_cause")), "failed"))
        return None
    if kind == "call.bridged":
        return LegResult("answered")
    if kind == "call.gather.ended":
        if status == "timeout":
            return Silence()
        if status in ("valid", "invalid"):
            digits = str(payload.get("digits") or "")
            return Press(digits or "#")
        return None
    if kind == "call.hangup":
        return HangUp()
    if kind == "call.dtmf.received":
        digit = payload.get("digit")
        return KeyDuringAi(digit) if isinstance(digit, str) and len(digit) == 1 else None
    if kind == "call.ai_gather.ended":
        result = payload.get("result")
        return AiResult(result if isinstance(result, dict) else {}, status == "valid")
    if kind == "call.conversation.ended":
        return ConversationEnds()
    if kind == "call.recording.saved":
        return Recorded(True, _seconds(payload))
    if kind == "call.recording.error":
        return Recorded(False)
    if kind == WAIT_EXPIRED:
        return RecordingLost()
    if kind == "call.dequeued":
        reason = payload.get("reason")
        if reason == "bridged":
            return Dequeued("bridged")
        return None if reason == "hangup" else Dequeued("timeout")
    if kind == "call.machine.detection.ended":
        return Detected(str(payload.get("result") or "not_sure"))
    if kind == "call.machine.greeting.ended":
        return Greeting(payload.get("result") == "beep_detected")
    if kind == FETCH_ENDED:
        result = payload.get("result")
        ok = status == "ok" and isinstance(result, dict)
        return FetchAnswer(result if ok and isinstance(result, dict) else None)
    return None


def _seconds(payload: dict[str, Any]) -> int:
    started = parse_instant(payload.get("recording_started_at"))
    ended = parse_instant(payload.get("recording_ended_at"))
    if started is None or ended is None:
        return DEFAULT_RECORDING_SECS
    return max(0, round((ended - started).total_seconds()))


def caller_actions(call: RecordedCall) -> list[CallerAction]:
    """The caller's behaviour on the call (and the answers of Telnyx and the backend), in order,
    as the simulator takes it: what `--flow` plays against another version."""
    return [a for a in map(action_of, call.steps) if a is not None]


class _Quiet(Phone):
    """A phone that makes no webhooks: the recorded ones are fed instead."""

    def send(self, command: Command) -> list[dict[str, Any]]:
        return []

    def answer_of(self, command: Command) -> dict[str, Any]:
        # Telnyx's answers that reached the run (a conversation's id) are recorded steps too.
        return {"result": "ok"}


@frozen
class Retraced:
    """A recorded call told in the simulator's words: its `transcript`, and for each recorded
    step (the start first) how many transcript entries there were once it was applied."""

    transcript: Transcript
    marks: tuple[int, ...]


def retrace(call: RecordedCall) -> Retraced:
    """The recorded call replayed as a transcript (what `flowlang calls show` prints): each
    step's outcome recorded after what the caller did to cause it."""
    from flowlang.runtime.interpreter import Interpreter

    interpreter = Interpreter(call.program)
    sim = Simulation(interpreter, call.call, _Quiet(call.call))
    outcome = (
        interpreter.start(call.call, call.inputs or {})
        if call.placed
        else interpreter.start(call.call)
    )
    sim.take(outcome)
    marks = [len(sim.entries)]
    for step in call.steps:
        outcome = interpreter.handle(sim.state, step.event)
        action = action_of(step)
        heard = None
        if action is not None:
            result = digits = None
            if step.event.type == "call.gather.ended":
                result = step.event.payload.get("status")
                digits = step.event.payload.get("digits")
            heard = Heard(action, sim.inputs_used + 1, sim.waiting, result, digits)
        sim.take(outcome, heard)
        marks.append(len(sim.entries))
    return Retraced(sim.transcript(), tuple(marks))
