"""One webhook applied to one call: dedupe, load, step the interpreter, save, in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import attrs
from attrs import frozen

from flowlang.clock import local_time, parse_instant
from flowlang.program import Program
from flowlang.runtime.commands import Command
from flowlang.runtime.events import CallInfo, Event, LocalTime
from flowlang.runtime.outcome import End, LogLine, Outcome
from flowlang.serve import history
from flowlang.serve.backend import outgoing
from flowlang.serve.store.base import CallChange, OutboxItem, Outgoing, Store, StoredCall
from flowlang.serve.telnyx.webhooks import CALL_EVENT_TYPES, Webhook
from flowlang.serve.versions import FlowVersions

# What became of a webhook, as logged: a run was started or advanced, or the event changed
# nothing (and why).
RESULTS = (
    "started",
    "stepped",
    "ignored",
    "duplicate",
    "unknown_call",
    "unknown_event",
    "no_call",
    "call_over",
)


class Runs(Protocol):
    """The interpreter's interface, as the runner uses it."""

    def start(self, call: CallInfo, inputs: dict[str, Any] | None = None) -> Outcome: ...

    def handle(self, state: dict[str, Any], event: Event) -> Outcome: ...


def _interpreter(program: Program) -> Runs:
    from flowlang.runtime.interpreter import Interpreter

    runs: Runs = Interpreter(program)
    return runs


class _NeedFlow(Exception):
    """Raised inside a step to roll it back: the call's flow version must be loaded first."""

    def __init__(self, digest: str) -> None:
        super().__init__(digest)
        self.digest = digest


@frozen
class Handled:
    """What one webhook did: `result` (one of RESULTS), the call's change if any (its commands
    now wait in the outbox), and the flow's log lines from this step."""

    result: str
    call_control_id: str | None = None
    change: CallChange | None = None
    logs: tuple[LogLine, ...] = ()
    # The change's outbox rows, when the apply claimed them for this worker.
    claimed: tuple[OutboxItem, ...] = ()


class Runner:
    """Applies webhooks to the calls in a store, running each call on its own flow version.

    The step (the interpreter's work) runs inside the store's transaction, wherever the store
    runs it: on the store's thread for SQLite, on the event loop for PostgreSQL.
    """

    def __init__(
        self,
        store: Store,
        flows: FlowVersions,
        clock: Callable[[], float],
        interpreter: Callable[[Program], Runs] = _interpreter,
        redact: bool = False,
    ) -> None:
        self._store = store
        # Mask the call's numbers in its history (`flowlang serve --redact`).
        self._redact = redact
        self._flows = flows
        self._clock = clock
        self._make = interpreter
        self._runs: dict[str, Runs] = {}
        # Versions neither memory nor the store has: their calls end rather than wait.
        self._missing: set[str] = set()
        # (worker, lease): a webhook's new commands are claimed for this worker's sender in the
        # webhook's own transaction (create_app sets it).
        self.claim: tuple[str, float] | None = None

    def _runs_for(self, program: Program) -> Runs:
        runs = self._runs.get(program.digest)
        if runs is None:
            runs = self._runs[program.digest] = self._make(program)
        return runs

    def _at(self, hook: Webhook, program: Program) -> tuple[str, LocalTime]:
        """The moment of `hook` on the flow's clock: Telnyx's `occurred_at`, else the moment it
        arrived (a replayed event keeps its own time, so a run replays exactly); with that
        instant as written in the call's history."""
        instant = parse_instant(hook.occurred_at)
        if instant is None:
            instant = datetime.fromtimestamp(self._clock(), UTC)
            written = instant.isoformat().replace("+00:00", "Z")
        else:
            written = hook.occurred_at or ""
        return written, local_time(instant, program.timezone)

    def _numbers(self, *numbers: Any) -> tuple[str, ...] | None:
        if not self._redact:
            return None
        return tuple(n for n in numbers if isinstance(n, str))

    async def handle(self, hook: Webhook) -> Handled:
        """Apply `hook` in one store transaction; a repeated event id changes nothing."""
        call_id = hook.call_control_id
        if hook.event.type not in CALL_EVENT_TYPES:
            return Handled("unknown_event", call_id)
        if call_id is None:
            return Handled("no_call")
        return await self._apply(hook, call_id, self.claim, note=True)

    async def feed(self, call_control_id: str, event: Event) -> Handled:
        """Apply an event the server made itself (a fetch's answer) to a call, in one store
        transaction like a webhook; a repeated event id changes nothing. (One the run ignores
        is not written in the call's history: the server would feed it again and again.)"""
        return await self._apply(Webhook(event, call_control_id), call_control_id, None)

    async def _apply(
        self, hook: Webhook, call_id: str, claim: tuple[str, float] | None, note: bool = False
    ) -> Handled:
        verdict: list[Handled] = []

        def step(call: StoredCall | None) -> CallChange | None:
            verdict.clear()
            handled = self._step(hook, call_id, call, note)
            verdict.append(handled)
            return handled.change

        while True:
            try:
                applied = await self._store.apply(
                    call_id, hook.event.id, step, self._clock(), claim
                )
            except _NeedFlow as need:
                # The call runs a version this process has not seen (it started before a
                # restart, or on another worker): read it from the store, outside the
                # transaction, and apply the event again.
                if await self._flows.load(need.digest) is None:
                    self._missing.add(need.digest)
                continue
            break
        if applied.duplicate:
            return Handled("duplicate", call_id)
        if applied.claimed:
            return attrs.evolve(verdict[0], claimed=applied.claimed)
        return verdict[0]

    def _step(self, hook: Webhook, call_id: str, call: StoredCall | None, note: bool) -> Handled:
        """What `hook` does to the call; with `note`, an event the run ignores is written in
        the call's history all the same (marked `ignored`), so that it can be seen there."""
        if call is None:
            program = self._flows.current()
            placed = hook.dial is not None and hook.event.type == "call.answered"
            if placed and program.outbound is None:
                return Handled("unknown_call", call_id)
            if not hook.is_incoming_call and not placed:
                return Handled("unknown_call", call_id)
            instant, at = self._at(hook, program)
            info = CallInfo(call_id, hook.caller or "", hook.called or "", at=at)
            inputs = hook.dial[1] if hook.dial is not None else None
            runs = self._runs_for(program)
            outcome = _guarded(
                program.digest,
                lambda: runs.start(info, inputs) if placed else runs.start(info),
            )
            # With includes, every file's text is stored: the version stays what it was.
            source = (program.source.name, program.source.stored())
            record = history.record(
                hook.event, outcome, instant, at, start=info, inputs=inputs, placed=placed,
                numbers=self._numbers(info.caller, info.called),
            )
            change = _change(program.digest, outcome, source, record=record)
            return Handled("started", call_id, change, outcome.logs)
        if call.status != "active":
            return Handled("call_over", call_id)
        version = self._flows.get(call.digest)
        if version is None and call.digest not in self._missing:
            raise _NeedFlow(call.digest)
        known = call.state.get("call") if isinstance(call.state, dict) else None
        numbers = self._numbers(*(known.values() if isinstance(known, dict) else ()))
        if version is None:
            end = End("error", f"flow version {call.digest[:12]} is no longer available")
            outcome = _failsafe(call.state, call.digest, hook.event, end)
            record = history.record(hook.event, outcome, hook.occurred_at, None, leg=hook.leg,
                                    numbers=numbers)
            return Handled("stepped", call_id, _change(call.digest, outcome, record=record))
        found = version
        instant, at = self._at(hook, found)
        event = attrs.evolve(hook.event, at=at)
        outcome = _guarded(
            call.digest,
            lambda: self._runs_for(found).handle(call.state, event),
            call.state,
            event,
        )
        if outcome.ignored and not (note and history.worth_noting(event.type, outcome.waiting)):
            # The common case (a speech started, a key of a gather): nothing to write.
            return Handled("ignored", call_id, logs=outcome.logs)
        record = history.record(event, outcome, instant, at, leg=hook.leg, numbers=numbers)
        if outcome.ignored:
            record = {**record, "ignored": True}
            noted = CallChange(call.digest, call.state, call.status, history=record, noted=True)
            return Handled("ignored", call_id, noted, outcome.logs)
        gone = hook.event.type == "call.hangup" and not hook.leg
        change = _change(call.digest, outcome, gone=gone, record=record)
        if outcome.expires is not None and outcome.end is None:
            change = attrs.evolve(change, expires=self._clock() + outcome.expires)
        return Handled("stepped", call_id, change, outcome.logs)


def _hangup(digest: str, event: Event | None) -> tuple[Command, ...]:
    # A deterministic command_id, so a retried webhook that also fails sends the same hangup.
    seed = f"{digest}/{event.id if event else 'start'}/{event.type if event else ''}"
    command_id = "flowlang-failsafe-" + hashlib.sha256(seed.encode()).hexdigest()[:24]
    return (Command("hangup", {"command_id": command_id}),)


def _guarded(
    digest: str,
    run: Callable[[], Outcome],
    state: dict[str, Any] | None = None,
    event: Event | None = None,
) -> Outcome:
    # The interpreter promises never to raise. If it breaks that promise the caller must not be
    # left in silence: the run ends as an error and the call is hung up.
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - a broken promise becomes a logged, ended run
        message = f"internal error in the interpreter: {type(exc).__name__}: {exc}"
        return _failsafe(state or {}, digest, event, End("error", message))


def _failsafe(state: dict[str, Any], digest: str, event: Event | None, end: End) -> Outcome:
    return Outcome(state, _hangup(digest, event), end=end)


def _change(
    digest: str,
    outcome: Outcome,
    source: tuple[str, str] | None = None,
    gone: bool = False,
    record: dict[str, Any] | None = None,
) -> CallChange:
    end = outcome.end
    reason = None
    if end is not None:
        reason = end.reason if end.message is None else f"{end.reason}: {end.message}"
    commands: tuple[Command | Outgoing, ...] = (
        (*outcome.commands, outgoing(outcome.fetch))
        if outcome.fetch is not None and end is None
        else outcome.commands
    )
    return CallChange(
        digest=digest,
        state=outcome.state,
        status="active" if end is None else "ended",
        end_reason=reason,
        commands=commands,
        source=source,
        call_gone=gone,
        # What the step did is in its outbox rows, the next `queued` of the call's.
        history=None if record is None else {**record, "queued": len(commands)},
    )
